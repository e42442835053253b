//! The policy tamper guard: read the policy from a git ref (the pull request's base), not from the
//! working tree the pull request controls, and say what the change does to it.
//!
//! Files come through `git` (`git ls-tree`, `git show REF:PATH`) when it is available, else — in
//! the action's container, which has no git — through GitHub's contents API at that ref. The
//! verdict uses the policy at the ref; when the working tree's policy or configuration differs,
//! the report says so with the old and new limits, so reviewers see a pull request that loosens
//! its own budget.

use std::path::{Path, PathBuf};

use super::validate::{Budget, Policy};
use crate::error::{Error, Location, Problem};
use crate::git;

/// Where to read files at a ref from.
pub enum Source<'a> {
    /// The `git` command in the current repository.
    Git,
    /// GitHub's contents API (`GET /repos/{repo}/contents/{path}?ref=`).
    GitHub {
        /// API root.
        api_url: &'a str,
        /// `owner/name`.
        repo: &'a str,
        /// Token.
        token: &'a str,
    },
}

fn is_yaml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// The policy files under `path` at `reference`, as (path, text), via git.
fn via_git(path: &Path, reference: &str) -> Result<Vec<(String, String)>, String> {
    let reference = git::revision(reference)?;
    let spec = path.to_string_lossy().trim_end_matches('/').to_owned();
    let kind = git::text(&["cat-file", "-t", &format!("{reference}:{spec}")])
        .map_err(|e| format!("{spec} at {reference}: {e}"))?;
    let files: Vec<String> = if kind.trim() == "tree" {
        git::text(&["ls-tree", "--name-only", reference, &format!("{spec}/")])?
            .lines()
            .filter(|l| is_yaml(l))
            .map(str::to_owned)
            .collect()
    } else {
        vec![spec]
    };
    files
        .into_iter()
        .map(|f| {
            let bytes = git::show(reference, &f)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{f} at {reference} is not UTF-8 text"))?;
            Ok((f, text))
        })
        .collect()
}

/// The same through GitHub's contents API.
async fn via_github(
    api_url: &str,
    repo: &str,
    token: &str,
    path: &Path,
    reference: &str,
) -> Result<Vec<(String, String)>, String> {
    use base64::Engine as _;
    let client =
        crate::http::client(std::time::Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let get = |p: String| {
        let url = format!(
            "{}/repos/{repo}/contents/{}?ref={reference}",
            api_url.trim_end_matches('/'),
            p.trim_start_matches("./")
        );
        let request = client
            .get(url)
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json");
        async move {
            let resp = request
                .send()
                .await
                .map_err(|e| e.without_url().to_string())?;
            let status = resp.status().as_u16();
            let text = resp.text().await.map_err(|e| e.without_url().to_string())?;
            let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if status != 200 {
                return Err(format!(
                    "GitHub answered {status}: {}",
                    body.get("message").and_then(|m| m.as_str()).unwrap_or("")
                ));
            }
            Ok(body)
        }
    };
    let spec = path.to_string_lossy().trim_end_matches('/').to_owned();
    let first = get(spec.clone())
        .await
        .map_err(|e| format!("{spec} at {reference}: {e}"))?;
    let files: Vec<String> = match first.as_array() {
        Some(entries) => entries
            .iter()
            .filter(|e| e.get("type").and_then(|t| t.as_str()) == Some("file"))
            .filter_map(|e| e.get("path").and_then(|p| p.as_str()))
            .filter(|p| is_yaml(p))
            .map(str::to_owned)
            .collect(),
        None => vec![spec],
    };
    let mut out = Vec::new();
    for f in files {
        let v = get(f.clone()).await?;
        let encoded: String = v
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("{f}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{f}: not UTF-8"))?;
        out.push((f, text));
    }
    out.sort();
    Ok(out)
}

/// Read the policy files at `reference`; names are `REF:path`.
pub fn read(
    paths: &[PathBuf],
    reference: &str,
    source: &Source<'_>,
) -> Result<Vec<(PathBuf, String)>, Error> {
    let mut texts = Vec::new();
    for path in paths {
        let files = match source {
            Source::Git => via_git(path, reference),
            Source::GitHub {
                api_url,
                repo,
                token,
            } => crate::http::runtime()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(via_github(api_url, repo, token, path, reference))),
        }
        .map_err(|why| {
            Error::Policy(vec![
                Problem::new(
                    Location::file(path),
                    format!(
                        "cannot read the policy at {reference}: {}",
                        crate::http::redact(&why, match source {
                            Source::GitHub { token, .. } => token,
                            Source::Git => "",
                        })
                    ),
                )
                .with_help("the base commit must be available: check out with `fetch-depth: 0`, or give --policy-ref a ref that exists"),
            ])
        })?;
        for (f, text) in files {
            texts.push((PathBuf::from(format!("{reference}:{f}")), text));
        }
    }
    if texts.is_empty() {
        return Err(Error::Policy(vec![Problem::new(
            Location::file(paths.first().cloned().unwrap_or_default()),
            format!("no policy files (*.yaml, *.yml) at {reference}"),
        )]));
    }
    Ok(texts)
}

fn describe_limits(b: &Budget) -> String {
    let mut parts = Vec::new();
    if let Some(t) = b.limits.co2e {
        parts.push(format!(
            "co2e{}{}",
            t.warn.map(|w| format!(" warn {w}")).unwrap_or_default(),
            t.fail.map(|f| format!(" fail {f}")).unwrap_or_default()
        ));
    }
    if let Some(t) = b.limits.energy {
        parts.push(format!(
            "energy{}{}",
            t.warn.map(|w| format!(" warn {w}")).unwrap_or_default(),
            t.fail.map(|f| format!(" fail {f}")).unwrap_or_default()
        ));
    }
    if let Some(t) = b.limits.intensity {
        parts.push(format!(
            "intensity{}{}",
            t.warn.map(|w| format!(" warn {w}")).unwrap_or_default(),
            t.fail.map(|f| format!(" fail {f}")).unwrap_or_default()
        ));
    }
    if let Some((regions, _)) = &b.preferred_regions {
        parts.push(format!("preferred regions {}", regions.join(", ")));
    }
    if let Some(r) = &b.rules.regression_co2e {
        parts.push(format!(
            "regression co2e{}{}",
            r.warn.map(|w| format!(" warn {w}")).unwrap_or_default(),
            r.fail.map(|f| format!(" fail {f}")).unwrap_or_default()
        ));
    }
    if let Some(a) = &b.rules.accuracy {
        parts.push(format!(
            "accuracy {}{}",
            a.metric,
            a.min.map(|m| format!(" min {m}")).unwrap_or_default()
        ));
    }
    parts.push(format!("embodied {:?}", b.embodied).to_lowercase());
    parts.join(", ")
}

fn key(b: &Budget) -> String {
    format!(
        "{}{}",
        b.model.as_str(),
        b.versions_text
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default()
    )
}

/// What the working tree's policy changes compared with the policy at the ref, one line each.
pub fn changes(base: &Policy, head: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    // The first budget of each key, looked up (not searched: policies of many budgets).
    let mut head_by_key = std::collections::HashMap::new();
    for h in &head.budgets {
        head_by_key.entry(key(h)).or_insert(h);
    }
    let base_keys: std::collections::HashSet<String> = base.budgets.iter().map(key).collect();
    for b in &base.budgets {
        match head_by_key.get(&key(b)) {
            None => out.push(format!(
                "budget `{}` removed (was: {})",
                key(b),
                describe_limits(b)
            )),
            Some(h) => {
                let (old, new) = (describe_limits(b), describe_limits(h));
                if old != new {
                    out.push(format!("budget `{}`: {old} → {new}", key(b)));
                }
            }
        }
    }
    for h in &head.budgets {
        if !base_keys.contains(&key(h)) {
            out.push(format!("budget `{}` added: {}", key(h), describe_limits(h)));
        }
    }
    let rules = |p: &Policy| -> Vec<String> {
        p.exceptions
            .iter()
            .map(|e| {
                format!(
                    "{} {} until {} by {}",
                    e.model.as_str(),
                    e.rule(),
                    e.expires,
                    e.approved_by
                )
            })
            .collect()
    };
    let (old, new) = (rules(base), rules(head));
    let (old_set, new_set): (
        std::collections::HashSet<&String>,
        std::collections::HashSet<&String>,
    ) = (old.iter().collect(), new.iter().collect());
    for e in new.iter().filter(|e| !old_set.contains(e)) {
        out.push(format!("exception added: {e}"));
    }
    for e in old.iter().filter(|e| !new_set.contains(e)) {
        out.push(format!("exception removed: {e}"));
    }
    over_time_changes(base, head, &mut out);
    out
}

/// What the change does to the teams, periods and trajectory (budgets over time).
fn over_time_changes(base: &Policy, head: &Policy, out: &mut Vec<String>) {
    use super::periods::{describe_period, describe_team, describe_trajectory};
    let described = |items: Vec<(String, String)>| -> std::collections::BTreeMap<String, String> {
        items.into_iter().collect()
    };
    let teams = |p: &Policy| {
        described(
            p.teams
                .iter()
                .map(|t| (t.name.clone(), describe_team(t)))
                .collect(),
        )
    };
    let periods = |p: &Policy| {
        described(
            p.periods
                .iter()
                .map(|x| (x.name.clone(), describe_period(x)))
                .collect(),
        )
    };
    for (what, old, new) in [
        ("team", teams(base), teams(head)),
        ("period", periods(base), periods(head)),
    ] {
        for (name, was) in &old {
            match new.get(name) {
                None => out.push(format!("{what} `{name}` removed (was: {was})")),
                Some(now) if now != was => out.push(format!("{what} `{name}`: {was} → {now}")),
                Some(_) => {}
            }
        }
        for (name, now) in new.iter().filter(|(n, _)| !old.contains_key(*n)) {
            out.push(format!("{what} `{name}` added: {now}"));
        }
    }
    match (
        base.trajectory.as_ref().map(describe_trajectory),
        head.trajectory.as_ref().map(describe_trajectory),
    ) {
        (Some(was), None) => out.push(format!("trajectory removed (was: {was})")),
        (None, Some(now)) => out.push(format!("trajectory added: {now}")),
        (Some(was), Some(now)) if was != now => out.push(format!("trajectory: {was} → {now}")),
        _ => {}
    }
}
