//! Publishing to GitLab merge-request notes, against a local fake of GitLab's REST API v4
//! (`/projects/:id/merge_requests/:iid/notes`, `X-Next-Page` pagination, `PRIVATE-TOKEN`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const TOKEN: &str = "glpat-VerySecretToken-42";
const ME: &str = "carbon-gate-bot";

#[derive(Default)]
struct State {
    notes: Vec<(u64, String, String)>,
    next_id: u64,
    faults: Vec<u16>,
    log: Vec<(String, String)>,
    problems: Vec<String>,
}

#[derive(Clone)]
struct FakeGitLab(Arc<Mutex<State>>);

fn note(id: u64, author: &str, body: &str) -> Value {
    json!({
        "id": id, "type": null, "body": body, "attachment": null,
        "author": {"id": 1, "username": author, "name": author, "state": "active",
                   "avatar_url": "", "web_url": format!("https://gitlab.example.com/{author}")},
        "created_at": "2026-11-28T10:00:00.000Z", "updated_at": "2026-11-28T10:00:00.000Z",
        "system": false, "noteable_id": 7, "noteable_type": "MergeRequest", "project_id": 5,
        "resolvable": false, "confidential": false, "internal": false, "noteable_iid": 3,
        "commands_changes": {}
    })
}

impl Respond for FakeGitLab {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.0.lock().unwrap();
        let method = req.method.to_string();
        let path = req.url.path().to_owned();
        st.log.push((method.clone(), path.clone()));
        if req
            .headers
            .get("private-token")
            .and_then(|v| v.to_str().ok())
            != Some(TOKEN)
        {
            st.problems
                .push(format!("{method} {path}: no PRIVATE-TOKEN"));
        }
        if let Some(status) = (!st.faults.is_empty()).then(|| st.faults.remove(0)) {
            return ResponseTemplate::new(status).set_body_json(json!({"message": "boom"}));
        }
        let body: Option<Value> = serde_json::from_slice(&req.body).ok();
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method.as_str(), segs.as_slice()) {
            ("GET", ["api", "v4", "user"]) => ResponseTemplate::new(200)
                .set_body_json(json!({"id": 1, "username": ME, "name": "bot", "state": "active"})),
            ("GET", ["api", "v4", "projects", "5", "merge_requests", "3", "notes"]) => {
                let page: usize = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "page")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1);
                let per = 100;
                let slice: Vec<Value> = st
                    .notes
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .map(|(id, a, b)| note(*id, a, b))
                    .collect();
                let more = st.notes.len() > page * per;
                ResponseTemplate::new(200)
                    .insert_header(
                        "x-next-page",
                        if more {
                            (page + 1).to_string()
                        } else {
                            String::new()
                        }
                        .as_str(),
                    )
                    .set_body_json(Value::Array(slice))
            }
            ("POST", ["api", "v4", "projects", "5", "merge_requests", "3", "notes"]) => {
                let text = body
                    .as_ref()
                    .and_then(|b| b.get("body"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                st.next_id += 1;
                let id = st.next_id;
                st.notes.push((id, ME.to_owned(), text.clone()));
                ResponseTemplate::new(201).set_body_json(note(id, ME, &text))
            }
            (
                "PUT",
                [
                    "api",
                    "v4",
                    "projects",
                    "5",
                    "merge_requests",
                    "3",
                    "notes",
                    id,
                ],
            ) => {
                let id: u64 = id.parse().unwrap_or(0);
                let text = body
                    .as_ref()
                    .and_then(|b| b.get("body"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if let Some(n) = st.notes.iter_mut().find(|n| n.0 == id) {
                    n.2 = text.clone();
                }
                ResponseTemplate::new(200).set_body_json(note(id, ME, &text))
            }
            (
                "DELETE",
                [
                    "api",
                    "v4",
                    "projects",
                    "5",
                    "merge_requests",
                    "3",
                    "notes",
                    id,
                ],
            ) => {
                let id: u64 = id.parse().unwrap_or(0);
                st.notes.retain(|n| n.0 != id);
                ResponseTemplate::new(204)
            }
            _ => {
                st.problems.push(format!("unexpected {method} {path}"));
                ResponseTemplate::new(404)
            }
        }
    }
}

async fn run(server: &MockServer, pipeline: u64, logs: &str) -> (i32, String) {
    let mut cmd = common::bin();
    cmd.env("CI_API_V4_URL", format!("{}/api/v4", server.uri()))
        .env("CI_PROJECT_ID", "5")
        .env("CI_MERGE_REQUEST_IID", "3")
        .env("CI_PIPELINE_ID", pipeline.to_string())
        .env("GITLAB_TOKEN", TOKEN)
        .env("CARBON_GATE_RETRY_BASE_MS", "20")
        .args([
            "check",
            "--policy",
            "policies/",
            "--model-version",
            "2.1.0",
            "--gitlab",
            logs,
        ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn one_note_per_tag_across_runs_with_pagination_and_retries() {
    let server = MockServer::start().await;
    let fake = FakeGitLab(Arc::new(Mutex::new(State {
        next_id: 1000,
        ..State::default()
    })));
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    {
        let mut st = fake.0.lock().unwrap();
        for i in 0..150 {
            st.notes.push((i, "reviewer".into(), format!("note {i}")));
        }
        st.faults = vec![500, 502];
    }
    let (code, stderr) = run(&server, 1, "examples/runs/").await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(&server, 2, "tests/fixtures/codecarbon/v2.8.4").await;
    assert_eq!(code, 0, "{stderr}");
    let st = fake.0.lock().unwrap();
    let ours: Vec<_> = st.notes.iter().filter(|n| n.1 == ME).collect();
    assert_eq!(ours.len(), 1, "{:?}", st.log);
    assert!(
        ours[0]
            .2
            .starts_with("<!-- carbon-gate: tag=default run=2.1"),
        "{}",
        &ours[0].2[..80]
    );
    let writes: Vec<_> = st
        .log
        .iter()
        .filter(|(m, _)| m != "GET")
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(writes, vec!["POST", "PUT"]);
    assert!(st.problems.is_empty(), "{:#?}", st.problems);
    assert!(!stderr.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_a_warning_not_a_verdict() {
    let server = MockServer::start().await;
    let fake = FakeGitLab(Arc::new(Mutex::new(State::default())));
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    fake.0.lock().unwrap().faults = vec![403];
    let (code, stderr) = run(&server, 1, "examples/runs/").await;
    assert_eq!(code, 0);
    // /user refused → unknown identity; listing refused → the note is not published.
    assert!(
        stderr.contains("the comment was not published") || stderr.contains("POST"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
}

/// Issue #18, item 7: `PRIVATE-TOKEN` is a custom header, which reqwest keeps on a redirect to
/// another host. A redirect off the GitLab server named is refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_follows_a_redirect_to_another_host() {
    let server = MockServer::start().await;
    let thief = MockServer::start().await;
    let fake = FakeGitLab(Arc::new(Mutex::new(State::default())));
    Mock::given(wiremock::matchers::path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/api/v4/user", thief.uri())),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": ME})))
        .mount(&thief)
        .await;
    let (code, stderr) = run(&server, 1, "examples/runs/").await;
    assert_eq!(code, 0, "{stderr}");
    let stolen = thief.received_requests().await.unwrap();
    assert!(
        stolen.is_empty(),
        "{:?}",
        stolen.iter().map(|r| r.headers.clone()).collect::<Vec<_>>()
    );
    assert!(!stderr.contains(TOKEN));
}
