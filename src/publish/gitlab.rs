//! GitLab: merge-request notes through the REST API v4 with reqwest, same marker and behaviours
//! (GitLab cannot minimize a note: `hide-and-new` deletes instead and says so).
//!
//! Context: `CI_API_V4_URL`, `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID`, `CI_PIPELINE_ID`; token from
//! `--gitlab-token` or `GITLAB_TOKEN` (a project or personal access token with `api` scope; the
//! CI job token cannot write notes).

use serde::Deserialize;

use super::{Action, Forge, Note, PublishError, Retry, redact};

/// Where to comment on GitLab.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// API root, e.g. `https://gitlab.com/api/v4`.
    pub api_url: String,
    /// Project id or URL-encoded path.
    pub project: String,
    /// Merge request IID.
    pub mr: u64,
    /// Pipeline id.
    pub run: Option<u64>,
}

/// Read the GitLab CI context.
pub fn context(
    env: &dyn Fn(&str) -> Option<String>,
    mr: Option<u64>,
) -> Result<Context, PublishError> {
    let api_url = env("CI_API_V4_URL").ok_or_else(|| {
        PublishError::Missing(
            "no GitLab API: CI_API_V4_URL is not set (run in GitLab CI)".to_owned(),
        )
    })?;
    let project = env("CI_PROJECT_ID").ok_or_else(|| {
        PublishError::Missing("no GitLab project: CI_PROJECT_ID is not set".to_owned())
    })?;
    let mr = mr
        .or_else(|| env("CI_MERGE_REQUEST_IID").and_then(|v| v.parse().ok()))
        .ok_or_else(|| {
            PublishError::Missing(
                "no merge request: CI_MERGE_REQUEST_IID is not set (run in a merge request pipeline, or pass --pr N)"
                    .to_owned(),
            )
        })?;
    Ok(Context {
        api_url: api_url.trim_end_matches('/').to_owned(),
        project,
        mr,
        run: env("CI_PIPELINE_ID").and_then(|v| v.parse().ok()),
    })
}

/// The notes of one merge request.
pub struct GitLab {
    http: reqwest::Client,
    ctx: Context,
    token: String,
    retry: Retry,
}

#[derive(Deserialize)]
struct ApiUser {
    username: String,
}

#[derive(Deserialize)]
struct ApiNote {
    id: u64,
    body: Option<String>,
    author: Option<ApiUser>,
    #[serde(default)]
    system: bool,
}

struct Reply {
    status: u16,
    next_page: Option<String>,
    body: String,
}

impl GitLab {
    /// A client for `ctx`, authenticated with `token`.
    pub fn new(ctx: Context, token: &str, retry: Retry) -> Result<GitLab, PublishError> {
        let http = crate::http::client(retry.timeout)
            .map_err(|e| PublishError::Service(format!("cannot build the GitLab client: {e}")))?;
        Ok(GitLab {
            http,
            ctx,
            token: token.to_owned(),
            retry,
        })
    }

    fn notes_url(&self) -> String {
        format!(
            "{}/projects/{}/merge_requests/{}/notes",
            self.ctx.api_url, self.ctx.project, self.ctx.mr
        )
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, PublishError> {
        let reply = crate::http::send(&self.retry, &self.token, || {
            let request = self
                .http
                .request(method.clone(), url)
                .header("PRIVATE-TOKEN", &self.token);
            match body {
                Some(b) => request.json(b),
                None => request,
            }
        })
        .await
        .map_err(|e| {
            PublishError::Service(format!(
                "GitLab {method} {} failed: {e}",
                url.split('?').next().unwrap_or(url)
            ))
        })?;
        Ok(Reply {
            status: reply.status,
            next_page: reply
                .header("x-next-page")
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned),
            body: redact(&String::from_utf8_lossy(&reply.body), &self.token),
        })
    }

    fn check(reply: Reply, what: &str) -> Result<Reply, PublishError> {
        match reply.status {
            200..=299 => Ok(reply),
            401 | 403 | 404 => Err(PublishError::Forbidden(format!(
                "GitLab answered {} while trying to {what}: the token may not write notes here (use a project access token with the `api` scope)",
                reply.status
            ))),
            _ => Err(PublishError::Service(format!(
                "GitLab answered {} while trying to {what}: {}",
                reply.status,
                reply.body.chars().take(200).collect::<String>()
            ))),
        }
    }
}

impl Forge for GitLab {
    async fn identity(&self) -> Result<Option<String>, PublishError> {
        let reply = self
            .send(
                reqwest::Method::GET,
                &format!("{}/user", self.ctx.api_url),
                None,
            )
            .await?;
        if reply.status != 200 {
            return Ok(None);
        }
        let user: ApiUser = serde_json::from_str(&reply.body)
            .map_err(|e| PublishError::Service(format!("GitLab /user: {e}")))?;
        Ok(Some(user.username))
    }

    async fn list(&self) -> Result<Vec<Note>, PublishError> {
        let mut notes = Vec::new();
        let mut page = Some("1".to_owned());
        let mut pages = 0;
        while let Some(p) = page.take() {
            pages += 1;
            if pages > 100 {
                break;
            }
            let url = format!(
                "{}?per_page=100&page={p}&sort=asc&order_by=created_at",
                self.notes_url()
            );
            let reply = self.send(reqwest::Method::GET, &url, None).await?;
            let reply = Self::check(reply, "list the merge request's notes")?;
            let batch: Vec<ApiNote> = serde_json::from_str(&reply.body)
                .map_err(|e| PublishError::Service(format!("GitLab notes: {e}")))?;
            notes.extend(batch.into_iter().filter(|n| !n.system).map(|n| Note {
                id: n.id,
                node_id: None,
                author: n.author.map(|a| a.username).unwrap_or_default(),
                body: n.body.unwrap_or_default(),
            }));
            page = reply.next_page;
        }
        Ok(notes)
    }

    async fn create(&self, body: &str) -> Result<u64, PublishError> {
        let reply = self
            .send(
                reqwest::Method::POST,
                &self.notes_url(),
                Some(&serde_json::json!({ "body": body })),
            )
            .await?;
        let reply = Self::check(reply, "add a note to the merge request")?;
        let note: ApiNote = serde_json::from_str(&reply.body)
            .map_err(|e| PublishError::Service(format!("GitLab new note: {e}")))?;
        Ok(note.id)
    }

    async fn update(&self, note: &Note, body: &str) -> Result<(), PublishError> {
        let url = format!("{}/{}", self.notes_url(), note.id);
        let reply = self
            .send(
                reqwest::Method::PUT,
                &url,
                Some(&serde_json::json!({ "body": body })),
            )
            .await?;
        Self::check(reply, "edit the note").map(|_| ())
    }

    async fn delete(&self, note: &Note) -> Result<(), PublishError> {
        let url = format!("{}/{}", self.notes_url(), note.id);
        let reply = self.send(reqwest::Method::DELETE, &url, None).await?;
        Self::check(reply, "delete the old note").map(|_| ())
    }

    async fn hide(&self, note: &Note) -> Result<(), PublishError> {
        // GitLab has no "minimize": the old note is deleted instead.
        self.delete(note).await
    }

    fn describe(&self, action: &Action) -> String {
        let base = format!(
            "/projects/{}/merge_requests/{}/notes",
            self.ctx.project, self.ctx.mr
        );
        match action {
            Action::Create => format!("POST {base}"),
            Action::Update(n) => format!("PUT {base}/{}", n.id),
            Action::Delete(n) => format!("DELETE {base}/{}", n.id),
            Action::Hide(n) => format!("DELETE {base}/{} (GitLab cannot hide a note)", n.id),
        }
    }
}
