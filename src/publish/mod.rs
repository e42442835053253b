//! Publishing the report where people look: a sticky comment on the pull request (GitHub) or merge
//! request (GitLab), the GitHub job summary, step outputs and annotations.
//!
//! The sticky comment is found by a hidden marker on its first line,
//! `<!-- carbon-gate: tag=<tag> run=<run>.<attempt> time=<RFC 3339> -->`, matched on the exact
//! tag and only on comments written by the same identity. The marker's run (or time) is the
//! out-of-order guard: an older run never overwrites a newer comment. Publishing failures never
//! change the verdict (unless `--require-comment`), and the token never appears in any output.

pub mod actions;
pub mod github;
pub mod gitlab;

use std::fmt;

/// How to treat an existing comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Edit the existing comment in place (quietest: followers are notified once).
    Update,
    /// Always post a new comment.
    New,
    /// Delete the previous comments, then post a new one.
    DeleteAndNew,
    /// Minimize (hide as outdated) the previous comments, then post a new one (GitHub only).
    HideAndNew,
    /// Do not comment (job summary, outputs and annotations are still written).
    Off,
}

/// When to comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOn {
    /// Every run.
    Always,
    /// Only when the comment would change (or, with none yet, when the verdict is not pass).
    Change,
    /// Only when the verdict is warn or fail (an existing comment is still kept up to date).
    Warn,
    /// Only when the verdict is fail (an existing comment is still kept up to date).
    Fail,
}

/// A comment or note as the forge returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id (GitHub), for minimizing.
    pub node_id: Option<String>,
    /// Author login.
    pub author: String,
    /// Body.
    pub body: String,
}

/// Why publishing failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishError {
    /// The token may not write here (403/404), typically a pull request from a fork.
    Forbidden(String),
    /// Retries exhausted or another service failure.
    Service(String),
    /// The environment lacks what is needed (repository, PR number, token).
    Missing(String),
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Forbidden(m) | PublishError::Service(m) | PublishError::Missing(m) => {
                f.write_str(m)
            }
        }
    }
}

/// The operations a forge offers on the comments of one pull/merge request.
#[allow(async_fn_in_trait)]
pub trait Forge {
    /// The login the token acts as, if the forge says.
    async fn identity(&self) -> Result<Option<String>, PublishError>;
    /// Every comment, all pages.
    async fn list(&self) -> Result<Vec<Note>, PublishError>;
    /// Post a new comment.
    async fn create(&self, body: &str) -> Result<u64, PublishError>;
    /// Replace a comment's body.
    async fn update(&self, note: &Note, body: &str) -> Result<(), PublishError>;
    /// Delete a comment.
    async fn delete(&self, note: &Note) -> Result<(), PublishError>;
    /// Hide a comment as outdated, if the forge can.
    async fn hide(&self, note: &Note) -> Result<(), PublishError>;
    /// Describe a planned call for `--dry-run`: `PATCH /repos/o/r/issues/comments/7`.
    fn describe(&self, action: &Action) -> String;
}

/// One change to the comments.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Post a new comment.
    Create,
    /// Edit this comment.
    Update(Note),
    /// Delete this comment.
    Delete(Note),
    /// Minimize this comment.
    Hide(Note),
}

/// Identity of this run in the marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStamp {
    /// Workflow run id (`GITHUB_RUN_ID`, `CI_PIPELINE_ID`).
    pub run: Option<u64>,
    /// Attempt (`GITHUB_RUN_ATTEMPT`).
    pub attempt: u64,
    /// When, RFC 3339 UTC.
    pub time: String,
}

/// A parsed marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Tag.
    pub tag: String,
    /// Run stamp.
    pub stamp: RunStamp,
}

/// Keep a tag to `[A-Za-z0-9._-]` so it cannot break the marker.
pub fn clean_tag(tag: &str) -> String {
    let t: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    if t.is_empty() {
        "default".to_owned()
    } else {
        t
    }
}

/// The marker line.
pub fn marker(tag: &str, stamp: &RunStamp) -> String {
    let run = match stamp.run {
        Some(r) => format!("{r}.{}", stamp.attempt),
        None => "-".to_owned(),
    };
    format!(
        "<!-- carbon-gate: tag={} run={run} time={} -->",
        clean_tag(tag),
        stamp.time
    )
}

/// Parse the marker on a comment's first line.
pub fn parse_marker(body: &str) -> Option<Marker> {
    let first = body.lines().next()?.trim();
    let inner = first
        .strip_prefix("<!-- carbon-gate:")?
        .strip_suffix("-->")?;
    let mut tag = None;
    let mut run = None;
    let mut attempt = 1;
    let mut time = String::new();
    for token in inner.split_whitespace() {
        match token.split_once('=') {
            Some(("tag", v)) => tag = Some(v.to_owned()),
            Some(("run", v)) => {
                if let Some((r, a)) = v.split_once('.') {
                    run = r.parse().ok();
                    attempt = a.parse().unwrap_or(1);
                }
            }
            Some(("time", v)) => time = v.to_owned(),
            _ => {}
        }
    }
    Some(Marker {
        tag: tag?,
        stamp: RunStamp { run, attempt, time },
    })
}

/// Whether `existing` was written by a newer run than `ours`.
pub fn is_newer(existing: &RunStamp, ours: &RunStamp) -> bool {
    match (existing.run, ours.run) {
        (Some(e), Some(o)) => (e, existing.attempt) > (o, ours.attempt),
        _ => !existing.time.is_empty() && existing.time > ours.time,
    }
}

/// The body without its marker line, for "unchanged" comparisons.
fn content(body: &str) -> &str {
    match body.split_once('\n') {
        Some((first, rest)) if first.trim_start().starts_with("<!-- carbon-gate:") => rest,
        _ => body,
    }
}

/// What to publish and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The report body (Markdown, already within the size limit).
    pub body: String,
    /// Tag of the sticky comment.
    pub tag: String,
    /// This run.
    pub stamp: RunStamp,
    /// Behaviour.
    pub behavior: Behavior,
    /// When to comment.
    pub on: CommentOn,
    /// The report's verdict.
    pub verdict: crate::report::Verdict,
    /// Do not create the first comment when the report has nothing to say.
    pub skip_no_diff: bool,
    /// Plan only.
    pub dry_run: bool,
    /// Comments by this login count as ours (when the forge does not say who the token is).
    pub author: Option<String>,
}

/// What publishing did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The calls made or planned, described.
    pub calls: Vec<String>,
    /// Why nothing was written, when nothing was.
    pub skipped: Option<String>,
}

/// Decide and carry out the comment change.
pub async fn publish<F: Forge>(forge: &F, req: &Request) -> Result<Outcome, PublishError> {
    use crate::report::Verdict;
    let mut outcome = Outcome::default();
    if req.behavior == Behavior::Off {
        outcome.skipped = Some("commenting is off".to_owned());
        return Ok(outcome);
    }
    let me = match &req.author {
        Some(a) => Some(a.clone()),
        None => forge.identity().await?,
    };
    let tag = clean_tag(&req.tag);
    let all = forge.list().await?;
    let mut ours: Vec<Note> = all
        .into_iter()
        .filter(|n| me.as_deref().is_none_or(|m| n.author == m))
        .filter(|n| parse_marker(&n.body).is_some_and(|m| m.tag == tag))
        .collect();
    ours.sort_by_key(|n| n.id);
    let newest = ours.last().cloned();
    if let Some(n) = &newest
        && let Some(m) = parse_marker(&n.body)
        && is_newer(&m.stamp, &req.stamp)
    {
        outcome.skipped = Some(format!(
            "a newer run ({}) already wrote the comment; an older run does not overwrite it",
            m.stamp
                .run
                .map_or(m.stamp.time.clone(), |r| format!("run {r}"))
        ));
        return Ok(outcome);
    }
    let body = format!("{}\n{}", marker(&tag, &req.stamp), req.body);
    let unchanged = newest
        .as_ref()
        .is_some_and(|n| content(&n.body) == content(&body));
    let wanted = match req.on {
        CommentOn::Always => true,
        CommentOn::Change => !unchanged && (newest.is_some() || req.verdict != Verdict::Pass),
        CommentOn::Warn => req.verdict >= Verdict::Warn || newest.is_some(),
        CommentOn::Fail => req.verdict == Verdict::Fail || newest.is_some(),
    };
    if !wanted {
        outcome.skipped = Some(
            format!(
                "--comment-on {:?}: the verdict is {} and there is no comment to keep up to date",
                req.on,
                req.verdict.word().to_lowercase()
            )
            .to_lowercase(),
        );
        return Ok(outcome);
    }
    if newest.is_none() && req.skip_no_diff && req.verdict == Verdict::Pass {
        outcome.skipped = Some("--skip-no-diff: nothing to report and no comment yet".to_owned());
        return Ok(outcome);
    }
    let actions: Vec<Action> = match (req.behavior, &newest) {
        (Behavior::Update, Some(_)) if unchanged => {
            outcome.skipped = Some("the comment is already up to date".to_owned());
            Vec::new()
        }
        (Behavior::Update, Some(n)) => vec![Action::Update(n.clone())],
        (Behavior::Update, None) | (Behavior::New, _) => vec![Action::Create],
        (Behavior::DeleteAndNew, _) => ours
            .iter()
            .cloned()
            .map(Action::Delete)
            .chain([Action::Create])
            .collect(),
        (Behavior::HideAndNew, _) => ours
            .iter()
            .cloned()
            .map(Action::Hide)
            .chain([Action::Create])
            .collect(),
        (Behavior::Off, _) => Vec::new(),
    };
    for action in actions {
        outcome.calls.push(forge.describe(&action));
        if req.dry_run {
            continue;
        }
        match &action {
            Action::Create => {
                forge.create(&body).await?;
            }
            Action::Update(n) => forge.update(n, &body).await?,
            Action::Delete(n) => forge.delete(n).await?,
            Action::Hide(n) => forge.hide(n).await?,
        }
    }
    Ok(outcome)
}

/// What `--dry-run` says it would do, without any call (not even the reads that decide which
/// of these apply): one line per step, each naming the API calls.
pub fn dry_run_plan<F: Forge>(forge: &F, req: &Request) -> Vec<String> {
    let tag = clean_tag(&req.tag);
    let ours = Note {
        id: 0,
        node_id: Some("<node id>".to_owned()),
        author: String::new(),
        body: String::new(),
    };
    // The id of a comment is known only after listing: show it as `<id>`.
    let on_ours = |action: Action| {
        let d = forge.describe(&action);
        match d.strip_suffix("/0") {
            Some(head) => format!("{head}/<id>"),
            None => d.replacen("/0 ", "/<id> ", 1),
        }
    };
    let create = forge.describe(&Action::Create);
    let mut plan = Vec::new();
    if req.behavior == Behavior::Off {
        return plan;
    }
    plan.push(format!(
        "{}list the comments of the pull request (GET), to find ours tagged `{tag}`",
        if req.author.is_none() {
            "ask who the token is (GET) and "
        } else {
            ""
        }
    ));
    let change = match req.behavior {
        Behavior::Update => format!(
            "{create} when there is no comment of ours yet, else {} (nothing when its body is unchanged)",
            on_ours(Action::Update(ours.clone()))
        ),
        Behavior::New => create,
        Behavior::DeleteAndNew => format!(
            "{} for each comment of ours, then {create}",
            on_ours(Action::Delete(ours.clone()))
        ),
        Behavior::HideAndNew => format!(
            "{} for each comment of ours, then {create}",
            on_ours(Action::Hide(ours.clone()))
        ),
        Behavior::Off => String::new(),
    };
    plan.push(format!(
        "{change}; only when --comment-on {} allows{} and no newer run wrote the comment",
        format!("{:?}", req.on).to_lowercase(),
        if req.skip_no_diff {
            " (and, with --skip-no-diff, not a first comment for a pass)"
        } else {
            ""
        }
    ));
    plan
}

pub use crate::http::{Retry, redact};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_match_exactly() {
        let stamp = RunStamp {
            run: Some(42),
            attempt: 2,
            time: "2026-11-28T10:00:00Z".into(),
        };
        let m = marker("prod", &stamp);
        assert_eq!(
            m,
            "<!-- carbon-gate: tag=prod run=42.2 time=2026-11-28T10:00:00Z -->"
        );
        let parsed = parse_marker(&format!("{m}\nbody")).unwrap();
        assert_eq!(parsed.tag, "prod");
        assert_eq!(parsed.stamp, stamp);
        let other = parse_marker(&marker("non-prod", &stamp)).unwrap();
        assert_ne!(other.tag, "prod");
        assert_eq!(parse_marker("<!-- infracost-comment -->"), None);
        assert_eq!(clean_tag("a b/c<d>"), "abcd");
    }

    #[test]
    fn older_runs_are_older() {
        let s = |run, attempt, time: &str| RunStamp {
            run,
            attempt,
            time: time.into(),
        };
        assert!(is_newer(&s(Some(10), 1, ""), &s(Some(9), 1, "")));
        assert!(is_newer(&s(Some(9), 2, ""), &s(Some(9), 1, "")));
        assert!(!is_newer(&s(Some(9), 1, ""), &s(Some(9), 1, "")));
        assert!(is_newer(
            &s(None, 1, "2026-11-28T10:00:01Z"),
            &s(None, 1, "2026-11-28T10:00:00Z")
        ));
    }
}
