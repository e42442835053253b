//! GitHub: the Actions context, and the issue-comments REST API (plus the GraphQL
//! `minimizeComment` mutation) through octocrab, with bounded retries.
//!
//! Calls go through octocrab's raw verbs so that status codes and headers (`Link` pagination,
//! `Retry-After`) are seen: 5xx, 429 and secondary rate limits are retried with exponential
//! backoff (honouring `Retry-After`) under a total time cap; 403/404 on writing is reported as a
//! permission problem (typically a pull request from a fork, whose token is read-only).

use std::path::Path;
use std::time::{Duration, Instant};

use octocrab::Octocrab;
use serde::Deserialize;

use super::{Action, Forge, Note, PublishError, Retry, redact};

/// Where to comment, from the Actions environment and flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// `owner/name`.
    pub repo: String,
    /// Pull request number.
    pub pr: Option<u64>,
    /// Head commit.
    pub commit: Option<String>,
    /// Base commit of the pull request.
    pub base: Option<String>,
    /// REST API root (`GITHUB_API_URL`, for GitHub Enterprise Server).
    pub api_url: String,
    /// GraphQL endpoint.
    pub graphql_url: String,
    /// Workflow run id and attempt.
    pub run: Option<u64>,
    /// Run attempt.
    pub attempt: u64,
    /// Whether the event is a pull request from a fork.
    pub from_fork: bool,
}

#[derive(Deserialize)]
struct Event {
    pull_request: Option<EventPr>,
    number: Option<u64>,
}

#[derive(Deserialize)]
struct EventPr {
    number: u64,
    head: EventRef,
    base: EventRef,
}

#[derive(Deserialize)]
struct EventRef {
    sha: String,
    repo: Option<EventRepo>,
}

#[derive(Deserialize)]
struct EventRepo {
    full_name: String,
}

/// Most bytes of the event file (`GITHUB_EVENT_PATH`) read: GitHub caps webhook payloads at
/// 25 MB; a larger file (or a link to a device) is ignored as an unreadable event.
pub const MAX_EVENT_BYTES: u64 = 32 << 20;

/// The event file of this workflow run (`GITHUB_EVENT_PATH`), when it can be read (bounded) and
/// holds what is used of it.
fn read_event(env: &dyn Fn(&str) -> Option<String>) -> Option<Event> {
    env("GITHUB_EVENT_PATH")
        .filter(|p| Path::new(p).is_file())
        .and_then(|p| {
            crate::ingest::bounded::read_regular_text(Path::new(&p), MAX_EVENT_BYTES).ok()
        })
        .and_then(|t| serde_json::from_str::<Event>(&t).ok())
}

/// The pull request number of this workflow run's event (`pull_request.number`, else
/// `number`), when there is one.
pub fn event_pull_request(env: &dyn Fn(&str) -> Option<String>) -> Option<u64> {
    let event = read_event(env)?;
    event
        .pull_request
        .as_ref()
        .map(|p| p.number)
        .or(event.number)
}

/// Read the context from an environment (`std::env::var` in production, a map in tests).
pub fn context(
    env: &dyn Fn(&str) -> Option<String>,
    repo: Option<&str>,
    pr: Option<u64>,
    commit: Option<&str>,
) -> Result<Context, PublishError> {
    let event = read_event(env);
    let repo = repo
        .map(str::to_owned)
        .or_else(|| env("GITHUB_REPOSITORY"))
        .filter(|r| r.contains('/'))
        .ok_or_else(|| {
            PublishError::Missing(
                "no repository: outside GitHub Actions pass --repo OWNER/NAME (GITHUB_REPOSITORY is not set)"
                    .to_owned(),
            )
        })?;
    let event_pr = event.as_ref().and_then(|e| e.pull_request.as_ref());
    let pr = pr
        .or_else(|| event_pr.map(|p| p.number))
        .or_else(|| event.as_ref().and_then(|e| e.number));
    let from_fork = event_pr.is_some_and(|p| {
        p.head.repo.as_ref().map(|r| &r.full_name) != p.base.repo.as_ref().map(|r| &r.full_name)
    });
    let api_url = env("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_owned());
    let graphql_url = env("GITHUB_GRAPHQL_URL")
        .unwrap_or_else(|| format!("{}/graphql", api_url.trim_end_matches('/')));
    Ok(Context {
        repo,
        pr,
        commit: commit
            .map(str::to_owned)
            .or_else(|| event_pr.map(|p| p.head.sha.clone()))
            .or_else(|| env("GITHUB_SHA")),
        base: event_pr.map(|p| p.base.sha.clone()),
        api_url,
        graphql_url,
        run: env("GITHUB_RUN_ID").and_then(|r| r.parse().ok()),
        attempt: env("GITHUB_RUN_ATTEMPT")
            .and_then(|a| a.parse().ok())
            .unwrap_or(1),
        from_fork,
    })
}

/// The GitHub comments of one pull request.
pub struct GitHub {
    octo: Octocrab,
    repo: String,
    pr: u64,
    graphql_url: String,
    retry: Retry,
    token: String,
}

/// One response, read whole.
struct Reply {
    status: u16,
    link: Option<String>,
    body: String,
}

#[derive(Deserialize)]
struct ApiUser {
    login: String,
}

#[derive(Deserialize)]
struct ApiComment {
    id: u64,
    node_id: Option<String>,
    user: Option<ApiUser>,
    body: Option<String>,
}

/// The `next` URL of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

impl GitHub {
    /// A client for `ctx`'s pull request, authenticated with `token`.
    pub fn new(ctx: &Context, token: &str, retry: Retry) -> Result<GitHub, PublishError> {
        let pr = ctx.pr.ok_or_else(|| {
            PublishError::Missing(
                "no pull request: this event is not a pull request; pass --pr N, or --comment-behavior off"
                    .to_owned(),
            )
        })?;
        let octo = Octocrab::builder()
            .base_uri(ctx.api_url.as_str())
            .map_err(|e| PublishError::Missing(format!("bad GITHUB_API_URL: {e}")))?
            .personal_token(token.to_owned())
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(retry.timeout))
            .build()
            .map_err(|e| {
                PublishError::Service(redact(
                    &format!("cannot build the GitHub client: {e}"),
                    token,
                ))
            })?;
        Ok(GitHub {
            octo,
            repo: ctx.repo.clone(),
            pr,
            graphql_url: ctx.graphql_url.clone(),
            retry,
            token: token.to_owned(),
        })
    }

    /// Send with retries; returns the final reply (any status) or a service error.
    async fn send(
        &self,
        method: http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, PublishError> {
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            let result = match method {
                http::Method::GET => self.octo._get(uri).await,
                http::Method::POST => self.octo._post(uri, body).await,
                http::Method::PATCH => self.octo._patch(uri, body).await,
                _ => self.octo._delete(uri, body).await,
            };
            let (retryable, retry_after, reply) = match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let header = |name: &str| {
                        resp.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    let retry_after = header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let remaining_zero = header("x-ratelimit-remaining").as_deref() == Some("0");
                    let link = header("link");
                    let body = self.octo.body_to_string(resp).await.unwrap_or_default();
                    let secondary = status == 403
                        && (body.to_ascii_lowercase().contains("secondary rate limit")
                            || retry_after.is_some()
                            || remaining_zero);
                    let retryable = status >= 500 || status == 429 || secondary;
                    (retryable, retry_after, Some(Reply { status, link, body }))
                }
                Err(err) => {
                    let message = redact(&err.to_string(), &self.token);
                    (
                        true,
                        None,
                        Some(Reply {
                            status: 0,
                            link: None,
                            body: message,
                        }),
                    )
                }
            };
            let reply = reply.unwrap_or(Reply {
                status: 0,
                link: None,
                body: String::new(),
            });
            attempt += 1;
            if !retryable {
                return Ok(reply);
            }
            let wait = self.retry.delay(attempt - 1, retry_after);
            if attempt >= self.retry.attempts || start.elapsed() + wait > self.retry.cap {
                return Err(PublishError::Service(format!(
                    "GitHub {method} {} failed after {attempt} attempts: {}",
                    path_only(uri),
                    describe(&reply)
                )));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn check(&self, reply: Reply, what: &str) -> Result<Reply, PublishError> {
        match reply.status {
            200..=299 => Ok(reply),
            401 => Err(PublishError::Forbidden(format!(
                "GitHub refused the token (401) while trying to {what}"
            ))),
            403 | 404 => Err(PublishError::Forbidden(format!(
                "GitHub answered {} while trying to {what}: the token may not write to this pull request (a pull request from a fork gets a read-only token; see docs/github.md for the two-workflow recipe)",
                reply.status
            ))),
            _ => Err(PublishError::Service(format!(
                "GitHub answered {} while trying to {what}: {}",
                reply.status,
                describe(&reply)
            ))),
        }
    }
}

fn path_only(uri: &str) -> String {
    uri.split('?').next().unwrap_or(uri).to_owned()
}

fn describe(reply: &Reply) -> String {
    let message = serde_json::from_str::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| reply.body.chars().take(200).collect());
    if reply.status == 0 {
        format!("no response ({message})")
    } else {
        format!("{} {message}", reply.status)
    }
}

impl Forge for GitHub {
    async fn identity(&self) -> Result<Option<String>, PublishError> {
        let reply = self.send(http::Method::GET, "/user", None).await?;
        if reply.status == 200 {
            let user: ApiUser = serde_json::from_str(&reply.body)
                .map_err(|e| PublishError::Service(format!("GitHub /user: {e}")))?;
            return Ok(Some(user.login));
        }
        // An Actions installation token cannot read /user; it writes as github-actions[bot].
        Ok(Some("github-actions[bot]".to_owned()))
    }

    async fn list(&self) -> Result<Vec<Note>, PublishError> {
        let mut notes = Vec::new();
        let mut uri = Some(format!(
            "/repos/{}/issues/{}/comments?per_page=100&page=1",
            self.repo, self.pr
        ));
        let mut pages = 0;
        while let Some(u) = uri.take() {
            pages += 1;
            if pages > 100 {
                break; // 10,000 comments: enough.
            }
            let reply = self.send(http::Method::GET, &u, None).await?;
            let reply = self.check(reply, "list the pull request's comments")?;
            let comments: Vec<ApiComment> = serde_json::from_str(&reply.body)
                .map_err(|e| PublishError::Service(format!("GitHub comments: {e}")))?;
            notes.extend(comments.into_iter().map(|c| Note {
                id: c.id,
                node_id: c.node_id,
                author: c.user.map(|u| u.login).unwrap_or_default(),
                body: c.body.unwrap_or_default(),
            }));
            uri = reply.link.as_deref().and_then(next_link);
        }
        Ok(notes)
    }

    async fn create(&self, body: &str) -> Result<u64, PublishError> {
        let uri = format!("/repos/{}/issues/{}/comments", self.repo, self.pr);
        let reply = self
            .send(
                http::Method::POST,
                &uri,
                Some(&serde_json::json!({ "body": body })),
            )
            .await?;
        let reply = self.check(reply, "comment on the pull request")?;
        let c: ApiComment = serde_json::from_str(&reply.body)
            .map_err(|e| PublishError::Service(format!("GitHub new comment: {e}")))?;
        Ok(c.id)
    }

    async fn update(&self, note: &Note, body: &str) -> Result<(), PublishError> {
        let uri = format!("/repos/{}/issues/comments/{}", self.repo, note.id);
        let reply = self
            .send(
                http::Method::PATCH,
                &uri,
                Some(&serde_json::json!({ "body": body })),
            )
            .await?;
        self.check(reply, "edit the comment").map(|_| ())
    }

    async fn delete(&self, note: &Note) -> Result<(), PublishError> {
        let uri = format!("/repos/{}/issues/comments/{}", self.repo, note.id);
        let reply = self.send(http::Method::DELETE, &uri, None).await?;
        self.check(reply, "delete the old comment").map(|_| ())
    }

    async fn hide(&self, note: &Note) -> Result<(), PublishError> {
        let Some(node) = &note.node_id else {
            return Err(PublishError::Service(
                "the comment has no node id to minimize".to_owned(),
            ));
        };
        let query = serde_json::json!({
            "query": "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }",
            "variables": { "id": node },
        });
        let reply = self
            .send(http::Method::POST, &self.graphql_url, Some(&query))
            .await?;
        let reply = self.check(reply, "hide the old comment")?;
        let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
        if let Some(errors) = value.get("errors") {
            return Err(PublishError::Service(format!(
                "GitHub GraphQL minimizeComment: {errors}"
            )));
        }
        Ok(())
    }

    fn describe(&self, action: &Action) -> String {
        match action {
            Action::Create => format!("POST /repos/{}/issues/{}/comments", self.repo, self.pr),
            Action::Update(n) => format!("PATCH /repos/{}/issues/comments/{}", self.repo, n.id),
            Action::Delete(n) => format!("DELETE /repos/{}/issues/comments/{}", self.repo, n.id),
            Action::Hide(n) => format!(
                "POST graphql minimizeComment({}, OUTDATED)",
                n.node_id.as_deref().unwrap_or("?")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let link = "<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2")
        );
        assert_eq!(next_link("<x>; rel=\"prev\""), None);
    }

    #[test]
    fn context_from_an_event() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"number": 7, "pull_request": {"number": 7, "head": {"sha": "h", "repo": {"full_name": "fork/r"}}, "base": {"sha": "b", "repo": {"full_name": "o/r"}}}}"#,
        )
        .unwrap();
        let path = event.to_str().unwrap().to_owned();
        let env = move |k: &str| match k {
            "GITHUB_REPOSITORY" => Some("o/r".to_owned()),
            "GITHUB_EVENT_PATH" => Some(path.clone()),
            "GITHUB_RUN_ID" => Some("99".to_owned()),
            _ => None,
        };
        let ctx = context(&env, None, None, None).unwrap();
        assert_eq!(
            (ctx.repo.as_str(), ctx.pr, ctx.from_fork),
            ("o/r", Some(7), true)
        );
        assert_eq!(
            (ctx.commit.as_deref(), ctx.base.as_deref()),
            (Some("h"), Some("b"))
        );
        assert_eq!(ctx.api_url, "https://api.github.com");
        assert_eq!(ctx.run, Some(99));
        let none = |_: &str| None;
        let err = context(&none, None, None, None).unwrap_err();
        assert!(err.to_string().contains("pass --repo OWNER/NAME"));
    }
}
