//! Issue #18, items 1–6: `promote` fails closed. Against the real MLflow server (started by
//! `.ci/test.sh`); a fault proxy in front of it answers only what the server cannot be made to
//! answer itself (a gateway's 404 page, an error body under 200, a write swallowed on the way, a
//! listing that lies about a size).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod mlflow_api;

use mlflow_api::*;
use serde_json::{Value, json};

const STRICT: &str = "tests/fixtures/registry/strict";

/// A model whose alias holder is v3.3.2 (3.34 mg, promoted through carbon-gate) and a candidate
/// 136 % worse (v2.8.4, 7.91 mg): the regression rule (10 %) must block it.
fn regression_setup(api: &Api, prefix: &str) -> (String, String, String) {
    let name = unique(prefix);
    api.model(&name);
    let base = api.register(&name, "v3.3.2/emissions.csv", "2.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &base, &[]);
    assert_eq!(code, 0, "{stderr}");
    let worse = api.register(&name, "v2.8.4/emissions.csv", "2.1.0");
    (name, base, worse)
}

fn is_alias_lookup(head: &str) -> bool {
    head.starts_with("GET /api/2.0/mlflow/registered-models/alias")
}

#[test]
fn a_failed_alias_lookup_is_a_service_failure_not_an_unset_alias() {
    let api = Api::new();
    let faults: Vec<(&str, Vec<u8>)> = vec![
        (
            "a gateway's 404 page",
            answer(404, "text/html", b"<html><body>404 Not Found</body></html>"),
        ),
        (
            "400 of another kind",
            answer_json(
                400,
                &json!({"error_code": "BAD_REQUEST", "message": "Registered model alias champion not found."}),
            ),
        ),
        (
            "400 INVALID_PARAMETER_VALUE about something else",
            answer_json(
                400,
                &json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid value for parameter 'name'"}),
            ),
        ),
        (
            "500 every time",
            answer_json(
                500,
                &json!({"error_code": "INTERNAL_ERROR", "message": "db locked"}),
            ),
        ),
        (
            "200 naming another model",
            answer_json(
                200,
                &json!({"model_version": {"name": "someone-else", "version": "1"}}),
            ),
        ),
        (
            // The exact missing-alias answer, while the model lists the alias: the re-check wins.
            "the missing-alias answer for an alias that is set",
            answer_json(
                400,
                &json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias champion not found."}),
            ),
        ),
    ];
    for (what, fault) in faults {
        let (name, base, worse) = regression_setup(&api, "reg-lookup");
        let proxy = FaultProxy::start(
            &api.base,
            Box::new(move |head, _| is_alias_lookup(head).then(|| fault.clone())),
        );
        let (code, _, stderr) = promote(&proxy.uri, &name, &worse, &[]);
        assert_eq!(code, 3, "{what}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "could not tell where alias champion of `{name}` points"
            )),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("moved alias"), "{what}: {stderr}");
        assert_eq!(
            api.alias(&name, "champion").as_deref(),
            Some(base.as_str()),
            "{what}: the alias moved"
        );
        assert!(
            !api.tags(&name, &worse).contains_key("carbon_gate.verdict"),
            "{what}: tags written after a failed lookup"
        );
    }
}

#[test]
fn only_the_real_missing_alias_answer_means_unset() {
    // No proxy: MLflow's own answer for an alias never set, confirmed by the model's alias list.
    let api = Api::new();
    let name = unique("ok-unset");
    api.model(&name);
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &v, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "moved alias champion of `{name}` from unset to version {v}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_write_answered_200_with_an_error_body_is_a_failure() {
    let api = Api::new();
    for (path, what) in [
        ("POST /api/2.0/mlflow/registered-models/alias", "alias"),
        ("POST /api/2.0/mlflow/model-versions/set-tag", "tag"),
    ] {
        let name = unique("ok-errbody");
        api.model(&name);
        let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
        let body =
            json!({"error_code": "INTERNAL_ERROR", "message": "write failed: database is locked"});
        let proxy = FaultProxy::start(
            &api.base,
            Box::new(move |head, _| head.starts_with(path).then(|| answer_json(200, &body))),
        );
        let (code, _, stderr) = promote(&proxy.uri, &name, &v, &[]);
        assert_eq!(code, 3, "{what}: {stderr}");
        assert!(
            stderr
                .contains("with an error body: write failed: database is locked (INTERNAL_ERROR)"),
            "{what}: {stderr}"
        );
        assert!(stderr.contains("alias champion not moved"), "{stderr}");
        assert!(!stderr.contains("moved alias champion"), "{stderr}");
        assert_eq!(api.alias(&name, "champion"), None, "{what}");
    }
}

#[test]
fn a_write_swallowed_on_the_way_is_found_by_reading_back() {
    let api = Api::new();
    // The alias write answered `200 {}` without reaching the server.
    let name = unique("ok-swallow");
    api.model(&name);
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    let proxy = FaultProxy::start(
        &api.base,
        Box::new(|head, _| {
            head.starts_with("POST /api/2.0/mlflow/registered-models/alias")
                .then(|| answer_json(200, &json!({})))
        }),
    );
    let (code, _, stderr) = promote(&proxy.uri, &name, &v, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "MLflow accepted moving alias champion of `{name}` to version {v}, but the alias is unset: not promoted"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("moved alias champion of"), "{stderr}");
    assert_eq!(api.alias(&name, "champion"), None);

    // A tag write swallowed the same way.
    let name = unique("ok-swallow-tag");
    api.model(&name);
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
    let proxy = FaultProxy::start(
        &api.base,
        Box::new(|head, body| {
            (head.starts_with("POST /api/2.0/mlflow/model-versions/set-tag")
                && String::from_utf8_lossy(body).contains("carbon_gate.co2e_kg"))
            .then(|| answer_json(200, &json!({})))
        }),
    );
    let (code, _, stderr) = promote(&proxy.uri, &name, &v, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "MLflow accepted tag carbon_gate.co2e_kg on models:/{name}/{v}, but the version does not have it"
        )),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion"), None);
}

#[test]
fn impossible_run_metrics_are_refused() {
    let api = Api::new();
    for (key, value) in [
        ("carbon_gate.co2e_kg", json!(-1.0)),
        ("carbon_gate.co2e_kg", json!("NaN")),
        ("carbon_gate.co2e_kg", json!("Infinity")),
        ("carbon_gate.energy_kwh", json!(-5.0)),
        ("carbon_gate.duration_s", json!(1e300)),
    ] {
        let name = unique("ok-metric");
        api.model(&name);
        let run = api.run(None, &[]);
        if key != "carbon_gate.co2e_kg" {
            api.log_metric(&run, "carbon_gate.co2e_kg", json!(0.000_003));
        }
        api.log_metric(&run, key, value.clone());
        api.set_run_tag(&run, "carbon_gate.method", "measured");
        let v = api.version(&name, &run, "1.0.0");
        let (code, _, stderr) = promote(&api.base, &name, &v, &[]);
        assert_eq!(code, 2, "{key} = {value}: {stderr}");
        assert!(
            stderr.contains(&format!("runs:/{run}")) && stderr.contains("error:"),
            "{stderr}"
        );
        assert_eq!(api.alias(&name, "champion"), None, "{key} = {value}");
        assert!(!api.tags(&name, &v).contains_key("carbon_gate.verdict"));
    }
}

#[test]
fn run_metrics_are_promoted_as_reported_not_measured() {
    let api = Api::new();
    let name = unique("ok-reported");
    api.model(&name);
    let run = api.run(None, &[("carbon_gate.co2e_kg", V332_CO2E)]);
    api.set_run_tag(&run, "carbon_gate.method", "measured");
    let v = api.version(&name, &run, "1.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &v, &[]);
    assert_eq!(code, 0, "{stderr}");
    let tags = api.tags(&name, &v);
    assert_eq!(tags["carbon_gate.method"], "reported");
    assert_eq!(tags["carbon_gate.evidence"], "metrics");
    assert!(tags["carbon_gate.evidence_digest"].starts_with("sha256:"));
}

#[test]
fn evidence_artifacts_refuses_run_metrics_and_command_line_logs() {
    let api = Api::new();
    let name = unique("strict-metrics");
    api.model(&name);
    let run = api.run(None, &[("carbon_gate.co2e_kg", V332_CO2E)]);
    let v = api.version(&name, &run, "1.0.0");
    let (code, _, stderr) = promote_under(STRICT, &api.base, &name, &v, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the policy says `evidence: artifacts`, but the run of"),
        "{stderr}"
    );
    let (code, _, stderr) = promote_under(
        STRICT,
        &api.base,
        &name,
        &v,
        &["tests/fixtures/codecarbon/v3.3.2/emissions.csv"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not on logs named on the command line"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion"), None);
    assert!(!api.tags(&name, &v).contains_key("carbon_gate.verdict"));
    // The same model with its log as an artifact is promoted, and the digest of that log is
    // recorded: the SHA-256 of `codecarbon/emissions.csv NUL <sha256 of the file> LF`.
    let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.1");
    let (code, _, stderr) = promote_under(STRICT, &api.base, &name, &v, &[]);
    assert_eq!(code, 0, "{stderr}");
    let tags = api.tags(&name, &v);
    assert_eq!(tags["carbon_gate.evidence"], "artifacts");
    let file = carbon_gate::digest::file_sha256(std::path::Path::new(
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
    ))
    .unwrap();
    let expected =
        carbon_gate::digest::sha256_hex(format!("codecarbon/emissions.csv\0{file}\n").as_bytes());
    assert_eq!(
        tags["carbon_gate.evidence_digest"],
        format!("sha256:{expected}")
    );
}

#[test]
fn an_artifact_added_to_the_baseline_run_does_not_move_the_baseline() {
    let api = Api::new();
    let (name, base, worse) = regression_setup(&api, "reg-inflate");
    // Inflate the holder's evidence after its promotion: a second log on its run (+7.9 mg)
    // makes the candidate look 30 % better than a baseline of 11.2 mg.
    let (status, mv) = api.get(&format!(
        "/api/2.0/mlflow/model-versions/get?name={name}&version={base}"
    ));
    assert_eq!(status, 200);
    let base_run = mv["model_version"]["run_id"].as_str().unwrap().to_owned();
    api.upload(
        &base_run,
        "codecarbon/later/emissions.csv",
        &std::fs::read("tests/fixtures/codecarbon/v2.8.4/emissions.csv").unwrap(),
    );
    let (code, stdout, stderr) = promote(&api.base, &name, &worse, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("[baseline-evidence-changed]"), "{stderr}");
    assert!(
        stderr.contains("its run's evidence is not what its promotion counted (artifacts sha256:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "judged against the figures it recorded ({V332_CO2E} kg CO2e"
        )),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let cand = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "candidate")
        .unwrap();
    assert!(
        cand["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "regression-exceeded"),
        "{cand}"
    );
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(base.as_str()));
}

#[test]
fn a_metric_inflated_on_the_baseline_run_does_not_move_the_baseline() {
    let api = Api::new();
    let name = unique("reg-metric");
    api.model(&name);
    let run = api.run(None, &[("carbon_gate.co2e_kg", V332_CO2E)]);
    let base = api.version(&name, &run, "2.0.0");
    assert_eq!(promote(&api.base, &name, &base, &[]).0, 0);
    api.log_metric(&run, "carbon_gate.co2e_kg", json!(1e9));
    let worse = api.register(&name, "v2.8.4/emissions.csv", "2.1.0");
    let (code, _, stderr) = promote(&api.base, &name, &worse, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("[baseline-evidence-changed]") && stderr.contains("(metrics sha256:"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(base.as_str()));
}

#[test]
fn a_changed_baseline_refuses_the_promotion_when_the_policy_says_so() {
    let api = Api::new();
    let name = unique("strict-inflate");
    api.model(&name);
    let base = api.register(&name, "v3.3.2/emissions.csv", "2.0.0");
    assert_eq!(promote_under(STRICT, &api.base, &name, &base, &[]).0, 0);
    let (_, mv) = api.get(&format!(
        "/api/2.0/mlflow/model-versions/get?name={name}&version={base}"
    ));
    let base_run = mv["model_version"]["run_id"].as_str().unwrap().to_owned();
    api.upload(
        &base_run,
        "codecarbon/later/emissions.csv",
        &std::fs::read("tests/fixtures/codecarbon/v2.8.4/emissions.csv").unwrap(),
    );
    let better = api.register(&name, "flush-v3.3.2/emissions.csv", "2.1.0");
    let (code, _, stderr) = promote_under(STRICT, &api.base, &name, &better, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the policy says `changed-baseline: refuse`"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(base.as_str()));
}

#[test]
fn a_baseline_without_a_recorded_digest_is_judged_on_its_recorded_figures() {
    let api = Api::new();
    let (name, base, worse) = regression_setup(&api, "reg-nodigest");
    // As an older carbon-gate left it: totals recorded, no digest.
    api.delete_version_tag(&name, &base, "carbon_gate.evidence_digest");
    let (code, _, stderr) = promote(&api.base, &name, &worse, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("[registry-baseline-tags]")
            && stderr.contains("its promotion recorded no evidence digest"),
        "{stderr}"
    );
}

#[test]
fn a_version_without_semver_does_not_escape_its_versioned_budget() {
    let api = Api::new();
    let name = unique("ver-untagged");
    api.model(&name);
    let run = api.run(Some("tests/fixtures/codecarbon/v3.3.2/emissions.csv"), &[]);
    let v = api.version_untagged(&name, &run);
    let (code, stdout, stderr) = promote_under(STRICT, &api.base, &name, &v, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = report["models"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["no-version"], "{stderr}");
    assert_eq!(api.alias(&name, "champion"), None);
    // Named, the version meets its own budget: 2.0.0 is over its 1 mg, 1.0.0 within the rest.
    let (code, _, stderr) =
        promote_under(STRICT, &api.base, &name, &v, &["--model-version", "2.0.0"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("exceeds the fail limit of 1 mg"),
        "{stderr}"
    );
    let (code, _, stderr) =
        promote_under(STRICT, &api.base, &name, &v, &["--model-version", "1.0.0"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(v.as_str()));
}

#[test]
fn an_artifact_over_the_cap_is_refused_before_download() {
    let api = Api::new();
    let name = unique("ok-big");
    api.model(&name);
    let run = api.run(None, &[]);
    api.upload(
        &run,
        "codecarbon/emissions.csv",
        &vec![b'x'; 2 * 1024 * 1024],
    );
    let v = api.version(&name, &run, "1.0.0");
    let (code, _, stderr) = promote(&api.base, &name, &v, &["--max-artifact-mib", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("artifact `codecarbon/emissions.csv` of run")
            && stderr.contains("is larger than the 1 MiB"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion"), None);
}

#[test]
fn a_download_that_is_not_the_artifact_is_a_service_failure() {
    let api = Api::new();
    let faults: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", answer(200, "application/octet-stream", b"")),
        (
            "error body under 200",
            answer_json(
                200,
                &json!({"error_code": "INTERNAL_ERROR", "message": "storage unavailable"}),
            ),
        ),
        (
            "shorter than listed",
            answer(200, "application/octet-stream", b"timestamp,project_name\n"),
        ),
    ];
    for (what, fault) in faults {
        let name = unique("ok-dl");
        api.model(&name);
        let v = api.register(&name, "v3.3.2/emissions.csv", "1.0.0");
        let proxy = FaultProxy::start(
            &api.base,
            Box::new(move |head, _| {
                head.starts_with("GET /api/2.0/mlflow-artifacts/artifacts/")
                    .then(|| fault.clone())
            }),
        );
        let (code, _, stderr) = promote(&proxy.uri, &name, &v, &[]);
        assert_eq!(code, 3, "{what}: {stderr}");
        assert!(
            stderr.contains("failed to send artifact `codecarbon/emissions.csv`"),
            "{what}: {stderr}"
        );
        assert_eq!(api.alias(&name, "champion"), None, "{what}");
    }
}

/// A holder that was never promoted through carbon-gate (no recorded figures) whose run is given
/// an impossible metric: its evidence cannot be read, so there is no baseline to fall back on.
/// The promotion used to go on without one (regression unchecked, alias moved); it stops now.
#[test]
fn an_unreadable_baseline_without_recorded_figures_stops_the_promotion() {
    let api = Api::new();
    let name = unique("reg-broken");
    api.model(&name);
    let run = api.run(None, &[("carbon_gate.co2e_kg", V332_CO2E)]);
    let base = api.version(&name, &run, "2.0.0");
    // Set by hand, not by `carbon-gate promote`: no carbon_gate.* tags on the holder.
    api.post(
        "/api/2.0/mlflow/registered-models/alias",
        json!({"name": name, "alias": "champion", "version": base}),
    );
    api.log_metric(&run, "carbon_gate.co2e_kg", json!(-1.0));
    let worse = api.register(&name, "v2.8.4/emissions.csv", "2.1.0");
    let (code, _, stderr) = promote(&api.base, &name, &worse, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("metric carbon_gate.co2e_kg is -1.0"),
        "{stderr}"
    );
    assert_eq!(api.alias(&name, "champion").as_deref(), Some(base.as_str()));
}
