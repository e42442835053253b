//! Registry failures a real MLflow server cannot be made to produce on demand: refused
//! credentials, 5xx bursts, an endless outage. A local fake answers as MLflow documents
//! (`{"error_code": …, "message": …}` bodies); the happy paths are in tests/mlflow.rs against the
//! real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "mlflow-VerySecretToken-42";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn promote(uri: &str, envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = common::bin();
    cmd.env_remove("MLFLOW_TRACKING_TOKEN")
        .env_remove("MLFLOW_TRACKING_USERNAME")
        .env_remove("MLFLOW_TRACKING_PASSWORD")
        .env("CARBON_GATE_RETRY_BASE_MS", "10")
        .env("CARBON_GATE_HTTP_TIMEOUT_MS", "2000")
        .args([
            "promote",
            "--tracking-uri",
            uri,
            "--model",
            "text-gen",
            "--version",
            "4",
            "--policy",
            "tests/fixtures/registry/policies",
        ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn refused_credentials_exit_3_and_the_token_is_never_printed() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .and(header("authorization", format!("Bearer {SECRET}").as_str()))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "error_code": "UNAUTHENTICATED",
                "message": format!("token {SECRET} is not valid")
            })))
            .expect(1)
            .mount(&server),
    );
    let (code, stderr) = promote(&server.uri(), &[("MLFLOW_TRACKING_TOKEN", SECRET)]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("refused GET /api/2.0/mlflow/model-versions/get (401) with the token in MLFLOW_TRACKING_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "token printed: {stderr}");
    rt.block_on(server.verify());
}

#[test]
fn basic_auth_is_sent_as_mlflow_clients_send_it() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    // "carbon:hunter22" in base64.
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .and(query_param("name", "text-gen"))
            .and(query_param("version", "4"))
            .and(header("authorization", "Basic Y2FyYm9uOmh1bnRlcjIy"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "error_code": "PERMISSION_DENIED",
                "message": "User carbon has no READ permission on text-gen"
            })))
            .expect(1)
            .mount(&server),
    );
    let (code, stderr) = promote(
        &server.uri(),
        &[
            ("MLFLOW_TRACKING_USERNAME", "carbon"),
            ("MLFLOW_TRACKING_PASSWORD", "hunter22"),
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("no READ permission on text-gen (PERMISSION_DENIED)"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter22"), "{stderr}");
    rt.block_on(server.verify());
}

#[test]
fn server_errors_are_retried_until_a_real_answer() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .respond_with(ResponseTemplate::new(503).set_body_string("upstream busy"))
            .up_to_n_times(2)
            .with_priority(1)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": "Model Version (name=text-gen, version=4) not found"
            })))
            .expect(1)
            .mount(&server)
            .await;
    });
    let (code, stderr) = promote(&server.uri(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("models:/text-gen/4 not found"), "{stderr}");
    rt.block_on(server.verify());
}

#[test]
fn an_outage_is_given_up_after_five_attempts() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
            .expect(5)
            .mount(&server),
    );
    let (code, stderr) = promote(&server.uri(), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("answered 502 after 5 attempts: bad gateway"),
        "{stderr}"
    );
    rt.block_on(server.verify());
}

#[test]
fn a_local_store_is_not_a_registry() {
    let (code, stderr) = promote("file:///tmp/mlruns", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not an http(s) URL"), "{stderr}");
}

/// A server's text is outside text: it reaches standard error escaped onto one line (no terminal
/// escape sequences, no line of its own that the runner could read as a workflow command), with
/// the token redacted — also when the answer is not MLflow's at all.
#[test]
fn server_error_text_is_escaped_and_redacted() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error_code": "INVALID_PARAMETER_VALUE",
                "message": format!("bad\n::error::pwned \u{1b}[31mred {SECRET}")
            })))
            .mount(&server),
    );
    let (code, stderr) = promote(&server.uri(), &[("MLFLOW_TRACKING_TOKEN", SECRET)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(r"bad\n::error::pwned \u{1b}[31mred ***"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains(SECRET),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");

    // An answer that is not MLflow's, echoing the token: it was quoted unredacted.
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/2.0/mlflow/model-versions/get"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(format!("<html>hello {SECRET}</html>")),
            )
            .mount(&server),
    );
    let (code, stderr) = promote(&server.uri(), &[("MLFLOW_TRACKING_TOKEN", SECRET)]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("<html>hello ***</html>"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
}
