//! Publishing to GitHub, against a local fake of GitHub's REST API (there is no local GitHub).
//!
//! The fake follows GitHub's documented endpoints for issue comments: responses shaped like
//! GitHub's (full `user` objects), `Link` pagination, and injected faults (5xx, 429 with
//! `Retry-After`, secondary rate limits, fork 403, slow responses). Every request is checked:
//! method, path, query (`per_page`, `page`), headers (auth, accept, user agent) and JSON body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const TOKEN: &str = "ghs_SuperSecretToken_0123456789";
const BOT: &str = "github-actions[bot]";

#[derive(Clone, Debug)]
struct Comment {
    id: u64,
    author: String,
    body: String,
    minimized: bool,
}

/// A fault to serve instead of the normal answer, for the next request matching `method`.
#[derive(Clone, Debug)]
enum Fault {
    Status(u16),
    RetryAfter(u16, u64),
    SecondaryRateLimit,
    Slow(Duration),
}

#[derive(Default)]
struct State {
    comments: Vec<Comment>,
    next_id: u64,
    faults: Vec<(String, Fault)>,
    log: Vec<(String, String, Option<Value>)>,
    problems: Vec<String>,
    /// The token may read but not write (a fork's pull request).
    read_only: bool,
    /// GET /user answers 403 (an Actions installation token).
    installation_token: bool,
}

#[derive(Clone)]
struct FakeGitHub {
    state: Arc<Mutex<State>>,
    base: String,
}

fn user(login: &str) -> Value {
    json!({
        "login": login, "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/apps/{login}"),
        "followers_url": "", "following_url": "", "gists_url": "", "starred_url": "",
        "subscriptions_url": "", "organizations_url": "", "repos_url": "", "events_url": "",
        "received_events_url": "", "type": "Bot", "site_admin": false
    })
}

impl FakeGitHub {
    fn comment_json(&self, c: &Comment) -> Value {
        json!({
            "id": c.id,
            "node_id": format!("IC_node{}", c.id),
            "url": format!("{}/repos/o/r/issues/comments/{}", self.base, c.id),
            "html_url": format!("https://github.com/o/r/pull/7#issuecomment-{}", c.id),
            "issue_url": format!("{}/repos/o/r/issues/7", self.base),
            "body": c.body,
            "user": user(&c.author),
            "created_at": "2026-11-28T10:00:00Z",
            "updated_at": "2026-11-28T10:00:00Z",
            "author_association": "NONE",
            "performed_via_github_app": null
        })
    }
}

impl Respond for FakeGitHub {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        let method = req.method.to_string();
        let path = req.url.path().to_owned();
        let query: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let body: Option<Value> = serde_json::from_slice(&req.body).ok();
        st.log.push((method.clone(), path.clone(), body.clone()));
        // Headers every call must carry.
        let header = |k: &str| {
            req.headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        if header("authorization") != format!("Bearer {TOKEN}") {
            st.problems.push(format!(
                "{method} {path}: authorization header {:?}",
                header("authorization")
            ));
        }
        if header("user-agent").is_empty() {
            st.problems.push(format!("{method} {path}: no user-agent"));
        }
        if let Some(i) = st.faults.iter().position(|(m, _)| *m == method) {
            let (_, fault) = st.faults.remove(i);
            return match fault {
                Fault::Status(s) => ResponseTemplate::new(s)
                    .set_body_json(json!({"message": "Server Error", "documentation_url": "https://docs.github.com/rest"})),
                Fault::RetryAfter(s, secs) => ResponseTemplate::new(s)
                    .insert_header("retry-after", secs.to_string().as_str())
                    .set_body_json(json!({"message": "API rate limit exceeded"})),
                Fault::SecondaryRateLimit => ResponseTemplate::new(403).set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
                })),
                Fault::Slow(d) => ResponseTemplate::new(200).set_delay(d).set_body_json(json!([])),
            };
        }
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["user"]) => {
                if st.installation_token {
                    ResponseTemplate::new(403)
                        .set_body_json(json!({"message": "Resource not accessible by integration"}))
                } else {
                    ResponseTemplate::new(200).set_body_json(user(BOT))
                }
            }
            ("GET", ["repos", "o", "r", "issues", "7", "comments"])
            | ("GET", ["repositories", "1", "issues", "7", "comments"]) => {
                let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
                if get("per_page").as_deref() != Some("100") {
                    st.problems
                        .push(format!("list without per_page=100: {query:?}"));
                }
                let page: usize = get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let per = 100;
                let total = st.comments.len();
                let slice: Vec<Value> = st
                    .comments
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .map(|c| self.comment_json(c))
                    .collect();
                let mut resp = ResponseTemplate::new(200).set_body_json(Value::Array(slice));
                let last = total.div_ceil(per).max(1);
                if page < last {
                    resp = resp.insert_header(
                        "link",
                        format!(
                            "<{b}/repositories/1/issues/7/comments?per_page=100&page={n}>; rel=\"next\", <{b}/repositories/1/issues/7/comments?per_page=100&page={last}>; rel=\"last\"",
                            b = self.base,
                            n = page + 1
                        )
                        .as_str(),
                    );
                }
                resp
            }
            ("POST", ["repos", "o", "r", "issues", "7", "comments"]) => {
                if st.read_only {
                    return ResponseTemplate::new(403).set_body_json(
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                let Some(text) = body
                    .as_ref()
                    .and_then(|b| b.get("body"))
                    .and_then(Value::as_str)
                else {
                    st.problems.push("POST without a body string".to_owned());
                    return ResponseTemplate::new(422);
                };
                if text.chars().count() > 65_536 {
                    return ResponseTemplate::new(422).set_body_json(
                        json!({"message": "Body is too long (maximum is 65536 characters)"}),
                    );
                }
                st.next_id += 1;
                let c = Comment {
                    id: st.next_id,
                    author: BOT.to_owned(),
                    body: text.to_owned(),
                    minimized: false,
                };
                st.comments.push(c.clone());
                ResponseTemplate::new(201).set_body_json(self.comment_json(&c))
            }
            ("PATCH", ["repos", "o", "r", "issues", "comments", id]) => {
                if st.read_only {
                    return ResponseTemplate::new(403).set_body_json(
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                let id: u64 = id.parse().unwrap_or(0);
                let text = body
                    .as_ref()
                    .and_then(|b| b.get("body"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                match st.comments.iter_mut().find(|c| c.id == id) {
                    Some(c) => {
                        c.body = text;
                        let c = c.clone();
                        ResponseTemplate::new(200).set_body_json(self.comment_json(&c))
                    }
                    None => {
                        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
                    }
                }
            }
            ("DELETE", ["repos", "o", "r", "issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                st.comments.retain(|c| c.id != id);
                ResponseTemplate::new(204)
            }
            ("POST", ["graphql"]) => {
                let id = body
                    .as_ref()
                    .and_then(|b| b.pointer("/variables/id"))
                    .and_then(Value::as_str)
                    .and_then(|s| s.strip_prefix("IC_node"))
                    .and_then(|s| s.parse::<u64>().ok());
                let query = body
                    .as_ref()
                    .and_then(|b| b.get("query"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !query.contains("minimizeComment") || !query.contains("OUTDATED") {
                    st.problems.push(format!("graphql query: {query}"));
                }
                if let Some(c) = id.and_then(|id| st.comments.iter_mut().find(|c| c.id == id)) {
                    c.minimized = true;
                }
                ResponseTemplate::new(200).set_body_json(json!({"data": {"minimizeComment": {"minimizedComment": {"isMinimized": true}}}}))
            }
            _ => {
                st.problems.push(format!("unexpected {method} {path}"));
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
            }
        }
    }
}

struct Env {
    server: MockServer,
    fake: FakeGitHub,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new() -> Env {
        let server = MockServer::start().await;
        let fake = FakeGitHub {
            state: Arc::new(Mutex::new(State {
                next_id: 1000,
                ..State::default()
            })),
            base: server.uri(),
        };
        Mock::given(any())
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("event.json"),
            r#"{"number": 7, "pull_request": {"number": 7, "head": {"sha": "headsha", "repo": {"full_name": "o/r"}}, "base": {"sha": "basesha", "repo": {"full_name": "o/r"}}}}"#,
        )
        .unwrap();
        Env { server, fake, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run `check --github …` as run `run` of the workflow; returns (exit, stdout, stderr).
    async fn run(&self, run: u64, extra: &[&str], logs: &str) -> (i32, String, String) {
        let mut cmd = common::bin();
        cmd.env("GITHUB_API_URL", self.server.uri())
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_EVENT_PATH", self.path("event.json"))
            .env("GITHUB_RUN_ID", run.to_string())
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("GITHUB_OUTPUT", self.path("output.txt"))
            .env("RUNNER_TEMP", self.dir.path())
            .env("CARBON_GATE_RETRY_BASE_MS", "20")
            .env("CARBON_GATE_HTTP_TIMEOUT_MS", "1500")
            .args([
                "check",
                "--policy",
                "policies/",
                "--model-version",
                "2.1.0",
                "--github",
            ])
            .args(extra)
            .arg(logs);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn comments(&self) -> Vec<Comment> {
        self.fake.state.lock().unwrap().comments.clone()
    }

    fn writes(&self) -> Vec<(String, String)> {
        self.fake
            .state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(m, ..)| m != "GET")
            .map(|(m, p, _)| (m.clone(), p.clone()))
            .collect()
    }

    fn assert_clean(&self) {
        let st = self.fake.state.lock().unwrap();
        assert!(
            st.problems.is_empty(),
            "fake GitHub saw: {:#?}",
            st.problems
        );
    }

    fn seed(&self, author: &str, body: &str) {
        let mut st = self.fake.state.lock().unwrap();
        st.next_id += 1;
        let id = st.next_id;
        st.comments.push(Comment {
            id,
            author: author.to_owned(),
            body: body.to_owned(),
            minimized: false,
        });
    }
}

const EXAMPLE: &str = "examples/runs/";
const OTHER_LOGS: &str = "tests/fixtures/codecarbon/v2.8.4";

fn no_secret(texts: &[&str]) {
    for t in texts {
        assert!(!t.contains(TOKEN), "the token leaked:\n{t}");
        assert!(!t.contains("SuperSecret"), "part of the token leaked:\n{t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_leave_one_comment_edited_in_place() {
    let env = Env::new().await;
    let (code, stdout, stderr) = env.run(100, &[], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.comments().len(), 1);
    assert!(
        env.comments()[0]
            .body
            .starts_with("<!-- carbon-gate: tag=default run=100.1 time=")
    );
    // Same report again: nothing to change, no write.
    let (code, _, stderr2) = env.run(101, &[], EXAMPLE).await;
    assert_eq!(code, 0);
    assert!(
        stderr2.contains("comment not changed: the comment is already up to date"),
        "{stderr2}"
    );
    // A different report: the same comment is edited.
    let (code, _, stderr3) = env.run(102, &[], OTHER_LOGS).await;
    assert_eq!(code, 0, "{stderr3}");
    let comments = env.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains("run=102.1"));
    assert_eq!(
        env.writes(),
        vec![
            ("POST".to_owned(), "/repos/o/r/issues/7/comments".to_owned()),
            (
                "PATCH".to_owned(),
                format!("/repos/o/r/issues/comments/{}", comments[0].id)
            ),
        ]
    );
    env.assert_clean();
    no_secret(&[&stdout, &stderr, &stderr2, &stderr3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_finds_our_comment_among_hundreds() {
    let env = Env::new().await;
    for i in 0..230 {
        env.seed("someone", &format!("comment {i}"));
    }
    env.seed(
        BOT,
        "<!-- carbon-gate: tag=default run=50.1 time=2026-11-27T10:00:00Z -->\nold report",
    );
    for i in 0..20 {
        env.seed("someone", &format!("later {i}"));
    }
    let (code, _, stderr) = env.run(60, &[], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    let ours: Vec<_> = env
        .comments()
        .into_iter()
        .filter(|c| c.author == BOT)
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].body.contains("run=60.1"));
    let pages: Vec<String> = env
        .fake
        .state
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with("/comments"))
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    env.assert_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_match_exactly_and_only_our_comments_count() {
    let env = Env::new().await;
    env.seed(
        BOT,
        "<!-- carbon-gate: tag=non-prod run=1.1 time=2026-11-27T10:00:00Z -->\nnon-prod report",
    );
    env.seed(
        "other-bot",
        "<!-- carbon-gate: tag=prod run=1.1 time=2026-11-27T10:00:00Z -->\nimpostor",
    );
    let (code, _, stderr) = env.run(10, &["--tag", "prod"], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    let comments = env.comments();
    assert_eq!(comments.len(), 3);
    assert!(
        comments[0].body.ends_with("non-prod report"),
        "non-prod untouched"
    );
    assert!(
        comments[1].body.ends_with("impostor"),
        "another author's comment untouched"
    );
    assert!(
        comments[2]
            .body
            .starts_with("<!-- carbon-gate: tag=prod run=10.1")
    );
    env.assert_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_run_never_overwrites_a_newer_comment() {
    let env = Env::new().await;
    env.seed(
        BOT,
        "<!-- carbon-gate: tag=default run=200.1 time=2026-11-28T10:00:00Z -->\nnewer",
    );
    let (code, _, stderr) = env.run(150, &[], EXAMPLE).await;
    assert_eq!(code, 0);
    assert!(
        stderr.contains("a newer run (run 200) already wrote the comment"),
        "{stderr}"
    );
    assert!(env.writes().is_empty());
    assert_eq!(
        env.comments()[0].body,
        "<!-- carbon-gate: tag=default run=200.1 time=2026-11-28T10:00:00Z -->\nnewer"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_retried_and_never_flip_the_exit_code() {
    let env = Env::new().await;
    {
        let mut st = env.fake.state.lock().unwrap();
        st.faults = vec![
            ("GET".into(), Fault::Status(500)),
            ("GET".into(), Fault::Status(502)),
            ("GET".into(), Fault::RetryAfter(429, 1)),
            ("GET".into(), Fault::SecondaryRateLimit),
            ("POST".into(), Fault::Status(503)),
        ];
    }
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = env.run(300, &[], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.comments().len(), 1, "{stderr}");
    // Retry-After: 1 was honoured.
    assert!(started.elapsed() >= Duration::from_secs(1));
    env.assert_clean();
    no_secret(&[&stdout, &stderr]);
    // The gate's own failure stays exit 1 whatever the API does.
    let env = Env::new().await;
    {
        let mut st = env.fake.state.lock().unwrap();
        st.faults = (0..10)
            .map(|_| ("GET".to_owned(), Fault::Status(500)))
            .collect();
    }
    // text-gen in the CodeCarbon 1.2.0 fixture emitted 15.2 mg: over the example's 5 mg fail limit.
    let (code, stdout, stderr) = env.run(301, &[], "tests/fixtures/codecarbon/v1.2.0").await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the comment was not published: GitHub GET /user failed after 5 attempts"),
        "{stderr}"
    );
    no_secret(&[&stdout, &stderr]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_answer_times_out_and_is_retried() {
    let env = Env::new().await;
    env.fake.state.lock().unwrap().faults =
        vec![("GET".into(), Fault::Slow(Duration::from_secs(4)))];
    let (code, _, stderr) = env.run(400, &[], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.comments().len(), 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fork_pull_request_still_gets_the_verdict_and_the_summary() {
    let env = Env::new().await;
    {
        let mut st = env.fake.state.lock().unwrap();
        st.read_only = true;
        st.installation_token = true;
    }
    let (code, stdout, stderr) = env.run(500, &[], EXAMPLE).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("GitHub answered 403 while trying to comment on the pull request"),
        "{stderr}"
    );
    assert!(stderr.contains("two-workflow recipe"), "{stderr}");
    let summary = std::fs::read_to_string(env.path("summary.md")).unwrap();
    assert!(summary.starts_with("## ⚠️ carbon-gate: WARN"), "{summary}");
    let outputs = std::fs::read_to_string(env.path("output.txt")).unwrap();
    assert!(outputs.contains("verdict<<ghadelimiter_"), "{outputs}");
    // --require-comment turns the publishing failure into exit 3.
    let (code, ..) = env.run(501, &["--require-comment"], EXAMPLE).await;
    assert_eq!(code, 3);
    no_secret(&[&stdout, &stderr, &summary, &outputs]);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_and_new_and_hide_and_new() {
    let env = Env::new().await;
    env.seed(
        BOT,
        "<!-- carbon-gate: tag=default run=1.1 time=2026-11-27T10:00:00Z -->\nold",
    );
    let (code, _, stderr) = env
        .run(2, &["--comment-behavior", "delete-and-new"], EXAMPLE)
        .await;
    assert_eq!(code, 0, "{stderr}");
    let comments = env.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains("run=2.1"));
    let (code, _, stderr) = env
        .run(3, &["--comment-behavior", "hide-and-new"], EXAMPLE)
        .await;
    assert_eq!(code, 0, "{stderr}");
    let comments = env.comments();
    assert_eq!(comments.len(), 2);
    assert!(comments[0].minimized && !comments[1].minimized);
    env.assert_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing_and_says_what_it_would_do() {
    let env = Env::new().await;
    let (code, stdout, stderr) = env.run(9, &["--dry-run"], EXAMPLE).await;
    assert_eq!(code, 0);
    // Nothing at all: no API call (not even a read), no summary, outputs or JSON report.
    assert!(env.fake.state.lock().unwrap().log.is_empty(), "{stderr}");
    let written: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "event.json")
        .collect();
    assert!(written.is_empty(), "{written:?}");
    assert!(
        stderr.contains("dry run: would POST /repos/o/r/issues/7/comments when there is no comment of ours yet, else PATCH /repos/o/r/issues/comments/<id>"),
        "{stderr}"
    );
    assert!(stderr.contains("  | ## ⚠️ carbon-gate: WARN"), "{stderr}");
    for what in [
        "dry run: would append the job summary to ",
        "dry run: would write the step outputs to ",
        "dry run: would write the JSON report to ",
        "dry run: would print the annotation ::warning ",
    ] {
        assert!(stderr.contains(what), "{what}\n{stderr}");
    }
    // The annotations are not emitted: a dry run is not a run.
    assert!(!stdout.lines().any(|l| l.starts_with("::")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn comment_on_fail_skips_a_passing_report() {
    let env = Env::new().await;
    let (code, _, stderr) = env.run(9, &["--comment-on", "fail"], EXAMPLE).await;
    assert_eq!(code, 0);
    assert!(env.writes().is_empty(), "{stderr}");
    assert!(
        stderr.contains("comment not changed: --comment-on fail"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn summary_outputs_and_annotations() {
    let env = Env::new().await;
    let (code, stdout, _) = env.run(11, &["--comment-behavior", "off"], EXAMPLE).await;
    assert_eq!(code, 0);
    assert!(
        env.fake.state.lock().unwrap().log.is_empty(),
        "no API call with comments off"
    );
    let summary = std::fs::read_to_string(env.path("summary.md")).unwrap();
    insta::assert_snapshot!("github_job_summary", summary);
    let outputs = std::fs::read_to_string(env.path("output.txt")).unwrap();
    let normalized: String = outputs
        .lines()
        .map(|l| {
            let l = match l.find("ghadelimiter_") {
                Some(i) => format!("{}ghadelimiter_X", &l[..i]),
                None => l.to_owned(),
            };
            l.replace(&env.dir.path().display().to_string(), "$RUNNER_TEMP")
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("github_outputs", normalized);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("carbon-gate-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["verdict"], "warn");
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations,
        vec![
            "::warning file=policies/carbon-budgets.yaml,line=16,col=21,title=carbon-gate budget-warning (text-gen 2.1.0)::text-gen 2.1.0: CO2e 1.044 mg exceeds the warn limit of 1 mg (+4.44%25); fails above 5 mg"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_actions_a_clear_message_says_what_is_missing() {
    let out = tokio::task::spawn_blocking(|| {
        common::bin()
            .env_remove("GITHUB_REPOSITORY")
            .env_remove("GITHUB_EVENT_PATH")
            .env("GITHUB_TOKEN", TOKEN)
            .args(["check", "--github", EXAMPLE])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr.contains("no repository: outside GitHub Actions pass --repo OWNER/NAME"),
        "{stderr}"
    );
    no_secret(&[&stderr]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_report_is_cut_before_it_is_sent() {
    let env = Env::new().await;
    let runs: String = (0..3000)
        .map(|i| format!("{{\"run_id\": \"r{i}\", \"model\": \"model-{i:04}\", \"co2e_kg\": 1.5, \"energy_kwh\": 6}}\n"))
        .collect();
    let log = env.path("runs.ndjson");
    std::fs::write(&log, runs).unwrap();
    let (code, _, stderr) = env.run(700, &[], log.to_str().unwrap()).await;
    assert_eq!(code, 0, "{stderr}");
    let comments = env.comments();
    assert_eq!(comments.len(), 1, "{stderr}");
    assert!(comments[0].body.chars().count() <= 65_536);
    assert!(comments[0].body.contains("more lines (cut to GitHub's"));
    env.assert_clean();
}

/// The comment and job summary link the workflow run and the pull request's head commit, built
/// from the Actions environment; a part that is not what it claims to be leaves its link out.
#[test]
fn the_summary_links_the_run_and_the_commit_and_only_valid_ones() {
    let head = "0123456789abcdef0123456789abcdef01234567";
    let summary = |server: &str, repo: &str, run: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("event.json"),
            format!(
                r#"{{"number": 7, "pull_request": {{"number": 7, "head": {{"sha": "{head}", "repo": {{"full_name": "o/r"}}}}, "base": {{"sha": "basesha", "repo": {{"full_name": "o/r"}}}}}}}}"#
            ),
        )
        .unwrap();
        let out = common::bin()
            .env("GITHUB_SERVER_URL", server)
            .env("GITHUB_REPOSITORY", repo)
            .env("GITHUB_EVENT_PATH", dir.path().join("event.json"))
            .env("GITHUB_RUN_ID", run)
            .env("GITHUB_SHA", "fedcba9876543210fedcba9876543210fedcba98")
            .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"))
            .env("RUNNER_TEMP", dir.path())
            .env_remove("GITHUB_OUTPUT")
            .args([
                "check",
                "--policy",
                "policies/",
                "--model-version",
                "2.1.0",
                "--github",
                "--comment-behavior",
                "off",
                EXAMPLE,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        std::fs::read_to_string(dir.path().join("summary.md")).unwrap()
    };
    let md = summary("https://github.com", "octo-org/models", "987654321");
    // The pull request's head, not GITHUB_SHA (the merge commit of a pull_request event).
    assert!(
        md.contains(&format!(
            "<sub>for commit [`0123456789ab`](https://github.com/octo-org/models/commit/{head}) · [workflow run 987654321](https://github.com/octo-org/models/actions/runs/987654321) (its summary page has the job summary) · [methodology](https://github.com/carbon-gate/carbon-gate/blob/v{}/docs/methodology.md)</sub>",
            env!("CARGO_PKG_VERSION")
        )),
        "{md}"
    );
    // Not https, a repository that is not owner/name, a run id that is not digits: no link
    // from them (the methodology link stays).
    for (server, repo, run) in [
        ("http://github.com", "octo-org/models", "1"),
        ("https://github.com/x)[y", "octo-org/models", "1"),
        ("https://github.com", "octo-org/models](javascript:x)", "1"),
    ] {
        let md = summary(server, repo, run);
        assert!(!md.contains("/actions/runs/"), "{server} {repo}\n{md}");
        assert!(!md.contains("/commit/"), "{server} {repo}\n{md}");
        assert!(
            md.contains("[methodology](https://github.com/carbon-gate/"),
            "{md}"
        );
    }
    let md = summary(
        "https://github.com",
        "octo-org/models",
        "1 ](javascript:alert(1))",
    );
    assert!(!md.contains("/actions/runs/"), "{md}");
    assert!(!md.contains("javascript"), "{md}");
    assert!(md.contains(&format!("/commit/{head}")), "{md}");
}
