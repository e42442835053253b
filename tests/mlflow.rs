//! `promote` and `record` against a real MLflow tracking server (started by `.ci/test.sh`, URL in
//! `CARBON_GATE_MLFLOW_URI`). Each test registers its own models under a unique name, so tests
//! run in parallel on one server. Fault cases go through a proxy in front of the real server that
//! stops forwarding at a chosen request, as a server that dies mid-promotion would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};

const POLICY: &str = "tests/fixtures/registry/policies";
/// Exact totals of the fixtures (math.fsum of their rows; see tests/fixtures/README.md).
const V332_CO2E: f64 = 3.343409678063297e-06;
const V332_ENERGY: f64 = 2.715088504865598e-05;
const V284_CO2E: f64 = 7.906565967507522e-06;
const FLUSH_CO2E: f64 = 1.7579371524264078e-06;

fn server() -> String {
    std::env::var("CARBON_GATE_MLFLOW_URI").unwrap_or_else(|_| {
        panic!(
            "these tests need a real MLflow server: run them with `bash .ci/test.sh` (it installs \
             and starts one on 127.0.0.1), or set CARBON_GATE_MLFLOW_URI to a server you started"
        )
    })
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A minimal MLflow REST client for setting up and inspecting the server.
struct Api {
    base: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Api {
    fn new() -> Api {
        Api {
            base: server(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = self.http.request(method, format!("{}{path}", self.base));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call(reqwest::Method::POST, path, Some(body));
        assert_eq!(status, 200, "POST {path}: {v}");
        v
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None)
    }

    /// A finished run with `artifact` (a fixture file) uploaded under `codecarbon/`, and metrics.
    fn run(&self, artifact: Option<&str>, metrics: &[(&str, f64)]) -> String {
        let v = self.post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": "0", "run_name": "train", "start_time": 0}),
        );
        let id = v["run"]["info"]["run_id"].as_str().unwrap().to_owned();
        let root = v["run"]["info"]["artifact_uri"]
            .as_str()
            .unwrap()
            .to_owned();
        if let Some(file) = artifact {
            let rel = root.strip_prefix("mlflow-artifacts:/").unwrap();
            let bytes = std::fs::read(file).unwrap();
            let status = self.rt.block_on(async {
                self.http
                    .put(format!(
                        "{}/api/2.0/mlflow-artifacts/artifacts/{rel}/codecarbon/emissions.csv",
                        self.base
                    ))
                    .body(bytes)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            assert_eq!(status, 200, "artifact upload");
        }
        for (k, val) in metrics {
            self.post(
                "/api/2.0/mlflow/runs/log-metric",
                json!({"run_id": id, "key": k, "value": val, "timestamp": 0}),
            );
        }
        self.post(
            "/api/2.0/mlflow/runs/update",
            json!({"run_id": id, "status": "FINISHED", "end_time": 1}),
        );
        id
    }

    fn model(&self, name: &str) {
        self.post(
            "/api/2.0/mlflow/registered-models/create",
            json!({"name": name}),
        );
    }

    /// Register a version of `name` from `run`, tagged with its semver; returns the version.
    fn version(&self, name: &str, run: &str, semver: &str) -> String {
        let v = self.post(
            "/api/2.0/mlflow/model-versions/create",
            json!({"name": name, "source": format!("s3://models/{name}/{semver}"), "run_id": run,
                   "tags": [{"key": "semver", "value": semver}]}),
        );
        v["model_version"]["version"].as_str().unwrap().to_owned()
    }

    /// A version of `name` from a new run whose artifact is `fixture` (a CodeCarbon log).
    fn register(&self, name: &str, fixture: &str, semver: &str) -> String {
        let run = self.run(Some(&format!("tests/fixtures/codecarbon/{fixture}")), &[]);
        self.version(name, &run, semver)
    }

    fn alias(&self, name: &str, alias: &str) -> Option<String> {
        let (status, v) = self.get(&format!(
            "/api/2.0/mlflow/registered-models/alias?name={name}&alias={alias}"
        ));
        match status {
            200 => Some(v["model_version"]["version"].as_str().unwrap().to_owned()),
            400 | 404 => None,
            other => panic!("alias lookup answered {other}: {v}"),
        }
    }

    fn tags(&self, name: &str, version: &str) -> std::collections::BTreeMap<String, String> {
        let (status, v) = self.get(&format!(
            "/api/2.0/mlflow/model-versions/get?name={name}&version={version}"
        ));
        assert_eq!(status, 200, "{v}");
        v["model_version"]["tags"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                (
                    t["key"].as_str().unwrap().to_owned(),
                    t["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn run_metrics(&self, run: &str) -> std::collections::BTreeMap<String, f64> {
        let (status, v) = self.get(&format!("/api/2.0/mlflow/runs/get?run_id={run}"));
        assert_eq!(status, 200, "{v}");
        v["run"]["data"]["metrics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| {
                (
                    m["key"].as_str().unwrap().to_owned(),
                    m["value"].as_f64().unwrap(),
                )
            })
            .collect()
    }
}

/// Run `promote` against `uri`; returns (exit code, stdout, stderr).
fn promote(uri: &str, model: &str, version: &str, extra: &[&str]) -> (i32, String, String) {
    let dl = tempfile::tempdir().unwrap();
    let mut cmd = common::bin();
    cmd.env_remove("MLFLOW_TRACKING_TOKEN")
        .env("CARBON_GATE_RETRY_BASE_MS", "20")
        .env("CARBON_GATE_HTTP_TIMEOUT_MS", "5000")
        .args([
            "promote",
            "--tracking-uri",
            uri,
            "--model",
            model,
            "--version",
            version,
            "--policy",
            POLICY,
            "--download-dir",
            dl.path().to_str().unwrap(),
        ])
        .args(extra);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tag_f64(tags: &std::collections::BTreeMap<String, String>, key: &str) -> f64 {
    tags.get(key)
        .unwrap_or_else(|| panic!("no tag {key}: {tags:?}"))
        .parse()
        .unwrap()
}

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

/// A forwarding proxy to the real server that, at the first request whose request line starts
/// with `cut_at`, stops: that request is dropped unanswered and the port is closed.
struct DyingProxy {
    uri: String,
    forwarded: Arc<AtomicUsize>,
    cut: Arc<AtomicBool>,
}

fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some((head, body))
}

impl DyingProxy {
    fn start(upstream: &str, cut_at: &'static str) -> DyingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let forwarded = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (f, c) = (forwarded.clone(), cut.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { continue };
                let Some((head, body)) = read_request(&mut client) else {
                    continue;
                };
                if head.starts_with(cut_at) {
                    c.store(true, Ordering::SeqCst);
                    drop(client);
                    return; // the listener goes with the thread: connections are refused
                }
                let mut lines: Vec<&str> = head
                    .trim_end()
                    .lines()
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .collect();
                lines.push("Connection: close");
                let mut up = TcpStream::connect(&upstream).unwrap();
                up.write_all(format!("{}\r\n\r\n", lines.join("\r\n")).as_bytes())
                    .unwrap();
                up.write_all(&body).unwrap();
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).unwrap();
                client.write_all(&answer).unwrap();
                f.fetch_add(1, Ordering::SeqCst);
            }
        });
        DyingProxy {
            uri,
            forwarded,
            cut,
        }
    }
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
