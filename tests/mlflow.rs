//! `promote` and `record` against a real MLflow tracking server (started by `.ci/test.sh`, URL in
//! `CARBON_GATE_MLFLOW_URI`). Each test registers its own models under a unique name, so tests
//! run in parallel on one server. Fault cases go through a proxy in front of the real server that
//! stops forwarding at a chosen request, as a server that dies mid-promotion would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod mlflow_api;

use mlflow_api::*;

use std::net::TcpListener;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

#[test]
fn within_budget_moves_the_alias_and_writes_the_verdict_tags() {
    let api = Api::new();
    let name = unique("ok");
    api.model(&name);
    let run = api.run(
        Some("tests/fixtures/codecarbon/v3.3.2/emissions.csv"),
        &[("accuracy", 0.91)],
    );
    let v = api.version(&name, &run, "1.0.0");
    let (code, stdout, stderr) = promote(&api.base, &name, &v, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(v.as_str()));
    let tags = api.tags(&name, &v);
    assert_eq!(tags["carbon_gate.verdict"], "pass");
    assert_eq!(tag_f64(&tags, "carbon_gate.co2e_kg"), V332_CO2E);
    assert_eq!(tag_f64(&tags, "carbon_gate.energy_kwh"), V332_ENERGY);
    assert_eq!(tags["carbon_gate.method"], "measured");
    assert_eq!(tags["carbon_gate.runs"], "3");
    assert_eq!(tags["carbon_gate.alias"], "champion");
    assert_eq!(tags["carbon_gate.baseline_version"], "none");
    let digest = carbon_gate::digest::files_digest(&[std::path::PathBuf::from(format!(
        "{POLICY}/budgets.yaml"
    ))])
    .unwrap();
    assert_eq!(tags["carbon_gate.policy_digest"], digest);
    // The report is the same report `check` writes: the model, its semver, the run's metrics.
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let m = &report["models"][0];
    assert_eq!(m["model"], name.as_str());
    assert_eq!(m["version"], "1.0.0");
    assert_eq!(m["metrics"]["accuracy"], 0.91);
    assert_eq!(common::num(&m["totals"]["co2e_kg"]), V332_CO2E);
    assert!(
        stderr.contains(&format!(
            "moved alias champion of `{name}` from unset to version {v}"
        )),
        "{stderr}"
    );
}

#[test]
fn over_budget_writes_the_tags_leaves_the_alias_and_exits_1() {
    let api = Api::new();
    let name = unique("over");
    api.model(&name);
    let first = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    assert_eq!(promote(&api.base, &name, &first, &[]).0, 0);
    let second = api.register(&name, "v2.8.4/emissions.csv", "1.1.0");
    let (code, _, stderr) = promote(&api.base, &name, &second, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        api.alias(&name, "champion").as_deref(),
        Some(first.as_str())
    );
    let tags = api.tags(&name, &second);
    assert_eq!(tags["carbon_gate.verdict"], "fail");
    assert_eq!(tag_f64(&tags, "carbon_gate.co2e_kg"), V284_CO2E);
    assert!(tags["carbon_gate.summary"].starts_with("FAIL"), "{tags:?}");
    assert!(
        stderr.contains(&format!(
            "alias champion of `{name}` not moved: it stays on version {first}"
        )),
        "{stderr}"
    );
    let last = stderr.lines().last().unwrap();
    assert!(last.starts_with("carbon-gate: FAIL"), "{last}");
}

#[test]
fn regression_is_measured_against_the_alias_holder() {
    let api = Api::new();
    let name = unique("reg");
    api.model(&name);
    let base = api.register(&name, "v3.3.2/emissions.csv", "2.0.0");
    assert_eq!(promote(&api.base, &name, &base, &[]).0, 0);
    // +136 % CO2e vs the holder: above the 10 % regression limit.
    let worse = api.register(&name, "v2.8.4/emissions.csv", "2.1.0");
    let (code, stdout, stderr) = promote(&api.base, &name, &worse, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let cand = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "candidate")
        .unwrap();
    let codes: Vec<&str> = cand["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"regression-exceeded"), "{codes:?}");
    assert_eq!(cand["baseline"]["version"], "2.0.0");
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(base.as_str()));
    assert_eq!(
        api.tags(&name, &worse)["carbon_gate.baseline_version"],
        base
    );
    // −47 %: passes, and the alias moves.
    let better = api.version(
        &name,
        &api.run(
            Some("tests/fixtures/codecarbon/flush-v3.3.2/emissions.csv"),
            &[],
        ),
        "2.2.0",
    );
    let (code, _, stderr) = promote(&api.base, &name, &better, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        api.alias(&name, "champion").as_deref(),
        Some(better.as_str())
    );
    assert_eq!(
        tag_f64(&api.tags(&name, &better), "carbon_gate.co2e_kg"),
        FLUSH_CO2E
    );
}

#[test]
fn dry_run_writes_nothing() {
    let api = Api::new();
    let name = unique("ok-dry");
    api.model(&name);
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &v, &["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("dry run: would set tag carbon_gate.verdict = pass"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "dry run: would move alias champion of `{name}` from unset to version {v}"
        )),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion"), None);
    assert!(
        !api.tags(&name, &v)
            .keys()
            .any(|k| k.starts_with("carbon_gate.")),
        "tags written in a dry run"
    );
}

#[test]
fn record_then_promote_from_the_run_metrics() {
    let api = Api::new();
    let name = unique("ok-rec");
    api.model(&name);
    let run = api.run(None, &[("accuracy", 0.9)]);
    let dl = tempfile::tempdir().unwrap();
    let out = common::bin()
        .args([
            "record",
            "--tracking-uri",
            &api.base,
            "--run-id",
            &run,
            "--download-dir",
            dl.path().to_str().unwrap(),
            "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics = api.run_metrics(&run);
    assert_eq!(metrics["carbon_gate.co2e_kg"], V332_CO2E);
    assert_eq!(metrics["carbon_gate.energy_kwh"], V332_ENERGY);
    let v = api.version(&name, &run, "1.0.0");
    let (code, stdout, stderr) = promote(&api.base, &name, &v, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("[registry-run-metrics]"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        common::num(&report["models"][0]["totals"]["co2e_kg"]),
        V332_CO2E
    );
    assert_eq!(report["models"][0]["metrics"]["accuracy"], 0.9);
    assert_eq!(
        tag_f64(&api.tags(&name, &v), "carbon_gate.co2e_kg"),
        V332_CO2E
    );
}

#[test]
fn no_evidence_fails_closed() {
    let api = Api::new();
    let name = unique("ok-empty");
    api.model(&name);
    let v = api.version(&name, &api.run(None, &[]), "1.0.0");
    let (code, stdout, stderr) = promote(&api.base, &name, &v, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("[registry-no-evidence]"), "{stderr}");
    assert!(stderr.contains("not moved: it stays unset"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = report["models"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["no-data-for-budget"]);
    assert_eq!(api.alias(&name, "champion"), None);
    assert_eq!(api.tags(&name, &v)["carbon_gate.verdict"], "fail");
}

#[test]
fn what_does_not_exist_is_bad_input() {
    let api = Api::new();
    let name = unique("ok-missing");
    let (code, _, stderr) = promote(&api.base, &name, "1", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("models:/{name}/1 not found")),
        "{stderr}"
    );
    api.model(&name);
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    let (status, _) = api.call(
        reqwest::Method::POST,
        "/api/2.0/mlflow/model-versions/set-tag",
        Some(json!({"name": name, "version": v, "key": "semver", "value": "one point oh"})),
    );
    assert_eq!(status, 200);
    let (code, _, stderr) = promote(&api.base, &name, &v, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("tag `semver` is `one point oh`, not a semantic version"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion"), None);
}

#[test]
fn unreachable_registry_exits_3() {
    // A port nothing listens on: bind, read the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = promote(&format!("http://127.0.0.1:{port}"), "m", "1", &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no answer after 5 attempts"), "{stderr}");
}

#[test]
fn server_dying_mid_promotion_exits_3_and_moves_nothing() {
    let api = Api::new();
    for cut_at in [
        "POST /api/2.0/mlflow/model-versions/set-tag",
        "POST /api/2.0/mlflow/registered-models/alias",
    ] {
        let name = unique("ok-dies");
        api.model(&name);
        let first = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
        assert_eq!(promote(&api.base, &name, &first, &[]).0, 0);
        let second = api.version(
            &name,
            &api.run(
                Some("tests/fixtures/codecarbon/flush-v3.3.2/emissions.csv"),
                &[],
            ),
            "1.1.0",
        );
        let proxy = DyingProxy::start(&api.base, cut_at);
        let (code, _, stderr) = promote(&proxy.uri, &name, &second, &[]);
        assert!(proxy.cut.load(Ordering::SeqCst), "the proxy never cut");
        assert!(proxy.forwarded.load(Ordering::SeqCst) > 3);
        assert_eq!(code, 3, "{cut_at}: {stderr}");
        assert!(stderr.contains("alias champion not moved"), "{stderr}");
        assert_eq!(
            api.alias(&name, "champion").as_deref(),
            Some(first.as_str()),
            "{cut_at}"
        );
    }
}

/// `record --ledger` and `promote --ledger` on the same run store its runs once: the promotion
/// sees them again under the same stable keys, and records itself as a check event.
#[test]
fn record_and_promote_store_the_runs_in_the_ledger_once() {
    let api = Api::new();
    let name = unique("ok-ledger");
    api.model(&name);
    let run = api.run(Some("tests/fixtures/codecarbon/v3.3.2/emissions.csv"), &[]);
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", db.path().join("ledger.db").display());
    let dl = tempfile::tempdir().unwrap();
    let (code, _, stderr) = common::outcome(common::bin().args([
        "record",
        "--tracking-uri",
        &api.base,
        "--run-id",
        &run,
        "--download-dir",
        dl.path().to_str().unwrap(),
        "--ledger",
        &url,
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("new, 0 grew, 0 already there"), "{stderr}");
    let totals = |url: &str| -> (u64, f64) {
        let (code, stdout, stderr) = common::outcome(common::bin().args([
            "ledger", "summary", "--ledger", url, "--every", "year", "--format", "json",
        ]));
        assert_eq!(code, 0, "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        let rows = v["rows"].as_array().unwrap();
        (
            rows.iter().map(|r| r["runs"].as_u64().unwrap()).sum(),
            rows.iter()
                .map(|r| common::num(&r["operational_co2e_kg"]))
                .sum(),
        )
    };
    let (runs, co2e) = totals(&url);
    assert!(runs > 0);
    assert!((co2e - V332_CO2E).abs() <= 1e-9 * V332_CO2E, "{co2e}");
    let v = api.version(&name, &run, "1.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &v, &["--ledger", &url]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        totals(&url),
        (runs, co2e),
        "the promotion's runs are the recorded ones"
    );
}
