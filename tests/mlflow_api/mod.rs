//! The real MLflow server the registry tests run against (started by `.ci/test.sh`, URL in
//! `CARBON_GATE_MLFLOW_URI`): a small REST client to set it up and inspect it, `promote` run
//! against it, and proxies in front of it that fail the way a server or network can.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};

pub const POLICY: &str = "tests/fixtures/registry/policies";
/// Exact totals of the fixtures (math.fsum of their rows; see tests/fixtures/README.md).
pub const V332_CO2E: f64 = 3.343409678063297e-06;
pub const V332_ENERGY: f64 = 2.715088504865598e-05;
pub const V284_CO2E: f64 = 7.906565967507522e-06;
pub const FLUSH_CO2E: f64 = 1.7579371524264078e-06;

pub fn server() -> String {
    std::env::var("CARBON_GATE_MLFLOW_URI").unwrap_or_else(|_| {
        panic!(
            "these tests need a real MLflow server: run them with `bash .ci/test.sh` (it installs \
             and starts one on 127.0.0.1), or set CARBON_GATE_MLFLOW_URI to a server you started"
        )
    })
}

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A minimal MLflow REST client for setting up and inspecting the server.
pub struct Api {
    pub base: String,
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new() -> Api {
        Api {
            base: server(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            // No idle connections kept: the server closes an idle one after a few seconds, and a
            // request sent on it just then fails with "IncompleteMessage" (seen under load).
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        }
    }

    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
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

    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call(reqwest::Method::POST, path, Some(body));
        assert_eq!(status, 200, "POST {path}: {v}");
        v
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None)
    }

    /// A finished run with `artifact` (a fixture file) uploaded under `codecarbon/`, and metrics.
    pub fn run(&self, artifact: Option<&str>, metrics: &[(&str, f64)]) -> String {
        let v = self.post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": "0", "run_name": "train", "start_time": 0}),
        );
        let id = v["run"]["info"]["run_id"].as_str().unwrap().to_owned();
        if let Some(file) = artifact {
            self.upload(
                &id,
                "codecarbon/emissions.csv",
                &std::fs::read(file).unwrap(),
            );
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

    pub fn model(&self, name: &str) {
        self.post(
            "/api/2.0/mlflow/registered-models/create",
            json!({"name": name}),
        );
    }

    /// Register a version of `name` from `run`, tagged with its semver; returns the version.
    pub fn version(&self, name: &str, run: &str, semver: &str) -> String {
        let v = self.post(
            "/api/2.0/mlflow/model-versions/create",
            json!({"name": name, "source": format!("s3://models/{name}/{semver}"), "run_id": run,
                   "tags": [{"key": "semver", "value": semver}]}),
        );
        v["model_version"]["version"].as_str().unwrap().to_owned()
    }

    /// A version of `name` from a new run whose artifact is `fixture` (a CodeCarbon log).
    pub fn register(&self, name: &str, fixture: &str, semver: &str) -> String {
        let run = self.run(Some(&format!("tests/fixtures/codecarbon/{fixture}")), &[]);
        self.version(name, &run, semver)
    }

    pub fn alias(&self, name: &str, alias: &str) -> Option<String> {
        let (status, v) = self.get(&format!(
            "/api/2.0/mlflow/registered-models/alias?name={name}&alias={alias}"
        ));
        match status {
            200 => Some(v["model_version"]["version"].as_str().unwrap().to_owned()),
            400 | 404 => None,
            other => panic!("alias lookup answered {other}: {v}"),
        }
    }

    pub fn tags(&self, name: &str, version: &str) -> std::collections::BTreeMap<String, String> {
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

    pub fn run_metrics(&self, run: &str) -> std::collections::BTreeMap<String, f64> {
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
pub fn promote(uri: &str, model: &str, version: &str, extra: &[&str]) -> (i32, String, String) {
    promote_under(POLICY, uri, model, version, extra)
}

/// Run `promote` against `uri` under the policy `policy`; returns (exit code, stdout, stderr).
pub fn promote_under(
    policy: &str,
    uri: &str,
    model: &str,
    version: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let dl = tempfile::tempdir().unwrap();
    let mut cmd = crate::common::bin();
    cmd.env_remove("MLFLOW_TRACKING_TOKEN")
        .env("CARBON_GATE_RETRY_BASE_MS", "20")
        .env("CARBON_GATE_HTTP_TIMEOUT_MS", "5000")
        .args([
            "promote",
            "--tracking-uri",
            uri,
            "--model",
            model,
            "--registry-version",
            version,
            "--policy",
            policy,
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

pub fn tag_f64(tags: &std::collections::BTreeMap<String, String>, key: &str) -> f64 {
    tags.get(key)
        .unwrap_or_else(|| panic!("no tag {key}: {tags:?}"))
        .parse()
        .unwrap()
}

/// A forwarding proxy to the real server that, at the first request whose request line starts
/// with `cut_at`, stops: that request is dropped unanswered and the port is closed.
pub struct DyingProxy {
    pub uri: String,
    pub forwarded: Arc<AtomicUsize>,
    pub cut: Arc<AtomicBool>,
}

pub fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
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

/// Send one request to the real server (`host:port`) on a connection of its own, and return its
/// whole answer.
pub fn forward(upstream: &str, head: &str, body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&str> = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut up = TcpStream::connect(upstream).unwrap();
    up.write_all(format!("{}\r\n\r\n", lines.join("\r\n")).as_bytes())
        .unwrap();
    up.write_all(body).unwrap();
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).unwrap();
    answer
}

impl DyingProxy {
    pub fn start(upstream: &str, cut_at: &'static str) -> DyingProxy {
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
                client.write_all(&forward(&upstream, &head, &body)).unwrap();
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

impl Api {
    /// Upload `bytes` as artifact `rel` of an existing run (through the server's artifact proxy).
    pub fn upload(&self, run: &str, rel: &str, bytes: &[u8]) {
        let (status, v) = self.get(&format!("/api/2.0/mlflow/runs/get?run_id={run}"));
        assert_eq!(status, 200, "{v}");
        let root = v["run"]["info"]["artifact_uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let root = root.strip_prefix("mlflow-artifacts:/").unwrap().to_owned();
        let status = self.rt.block_on(async {
            self.http
                .put(format!(
                    "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{rel}",
                    self.base
                ))
                .body(bytes.to_vec())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(status, 200, "artifact upload");
    }

    /// Log a metric whose value is any JSON (MLflow takes "NaN" and "Infinity" as strings).
    pub fn log_metric(&self, run: &str, key: &str, value: Value) {
        self.post(
            "/api/2.0/mlflow/runs/log-metric",
            json!({"run_id": run, "key": key, "value": value, "timestamp": 1, "step": 1}),
        );
    }

    /// Set a tag on a run.
    pub fn set_run_tag(&self, run: &str, key: &str, value: &str) {
        self.post(
            "/api/2.0/mlflow/runs/set-tag",
            json!({"run_id": run, "key": key, "value": value}),
        );
    }

    /// Register a version of `name` from `run` without a semver tag; returns the version.
    pub fn version_untagged(&self, name: &str, run: &str) -> String {
        let v = self.post(
            "/api/2.0/mlflow/model-versions/create",
            json!({"name": name, "source": format!("s3://models/{name}/x"), "run_id": run}),
        );
        v["model_version"]["version"].as_str().unwrap().to_owned()
    }

    /// Delete a tag of a model version.
    pub fn delete_version_tag(&self, name: &str, version: &str, key: &str) {
        let (status, v) = self.call(
            reqwest::Method::DELETE,
            "/api/2.0/mlflow/model-versions/delete-tag",
            Some(json!({"name": name, "version": version, "key": key})),
        );
        assert_eq!(status, 200, "{v}");
    }
}

/// What a [`FaultProxy`] does with one request: `None` forwards it to the real server,
/// `Some(raw HTTP response)` answers it instead.
pub type Fault = Box<dyn Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// A forwarding proxy to the real server that answers the requests its rule picks itself, the
/// way a broken gateway, a lying proxy or a misconfigured server would.
pub struct FaultProxy {
    pub uri: String,
    /// Requests answered by the rule.
    pub faked: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub fn start(upstream: &str, rule: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let faked = Arc::new(AtomicUsize::new(0));
        let f = faked.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { continue };
                let Some((head, body)) = read_request(&mut client) else {
                    continue;
                };
                if let Some(answer) = rule(&head, &body) {
                    f.fetch_add(1, Ordering::SeqCst);
                    let _ = client.write_all(&answer);
                    continue;
                }
                let _ = client.write_all(&forward(&upstream, &head, &body));
            }
        });
        FaultProxy { uri, faked }
    }
}

/// A raw HTTP/1.1 response.
pub fn answer(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A raw HTTP/1.1 JSON response.
pub fn answer_json(status: u16, body: &Value) -> Vec<u8> {
    answer(status, "application/json", body.to_string().as_bytes())
}
