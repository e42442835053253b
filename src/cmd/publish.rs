//! `check --github` and `--gitlab`: the job summary, step outputs, annotations, the JSON report and
//! the pull-request comment.

use crate::error::{Error, display_path};
use crate::render::Render;
use crate::report::CheckReport;
use crate::{cli, http, publish, render};

use super::output::deliver;

/// Write the JSON report to `path` (through `deliver`, so it is whole or not at all).
fn write_json_report(report: &CheckReport, path: &std::path::Path) -> Result<(), Error> {
    let mut json = Vec::new();
    render::Json
        .render(report, &mut json)
        .map_err(|source| Error::Output {
            path: path.to_owned(),
            source,
        })?;
    deliver(json, Some(path)).map(|_| ())
}

/// Where the JSON report goes: `--report-json`, else (with `--github`)
/// `$RUNNER_TEMP/carbon-gate-report.json` when that directory exists; `None`: a fresh file in
/// the system's temporary directory (`write_fresh_json_report`), never the working directory,
/// which is the checkout a pull request controls.
fn report_json_target(
    args: &cli::PublishArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<std::path::PathBuf> {
    if let Some(p) = &args.report_json {
        return Some(p.clone());
    }
    if !args.github {
        return None;
    }
    env("RUNNER_TEMP")
        .map(std::path::PathBuf::from)
        .filter(|t| t.is_dir())
        .map(|t| t.join("carbon-gate-report.json"))
}

/// Write the JSON report to a new file with an unpredictable name in the system's temporary
/// directory (created exclusively, kept after the run) and return its path.
fn write_fresh_json_report(report: &CheckReport) -> Result<std::path::PathBuf, Error> {
    let dir = std::env::temp_dir();
    let fail = |source| Error::Output {
        path: dir.join("carbon-gate-report-*.json"),
        source,
    };
    let mut json = Vec::new();
    render::Json.render(report, &mut json).map_err(fail)?;
    use std::io::Write as _;
    let mut file = tempfile::Builder::new()
        .prefix("carbon-gate-report-")
        .suffix(".json")
        .tempfile_in(&dir)
        .map_err(fail)?;
    file.write_all(&json)
        .and_then(|()| file.as_file().sync_all())
        .map_err(fail)?;
    let (_, path) = file.keep().map_err(|e| fail(e.error))?;
    Ok(path)
}

/// Publish to GitHub (summary, outputs, annotations, comment) or GitLab (note). Returns whether
/// the comment was published (or did not need to be). Failures are reported on standard error
/// and never change the verdict.
pub(crate) fn publish_report(
    report: &CheckReport,
    args: &cli::PublishArgs,
    env: &dyn Fn(&str) -> Option<String>,
    stdout: &mut Vec<u8>,
    stderr: &mut Vec<String>,
) -> Result<bool, Error> {
    use publish::PublishError;
    if !args.github && !args.gitlab {
        return Ok(true);
    }
    let marker_room = 200;
    let mut body = Vec::new();
    let links = if args.github {
        // The pull request's head when the event names one, else `GITHUB_SHA`.
        let head = publish::github::context(env, args.repo.as_deref(), args.pr, None)
            .ok()
            .and_then(|c| c.commit);
        render::RunLinks::github(env, args.repo.as_deref(), head.as_deref())
    } else {
        render::RunLinks::gitlab(env)
    };
    render::Markdown {
        limit: render::GITHUB_COMMENT_LIMIT - marker_room,
        links,
    }
    .render(report, &mut body)
    .map_err(|source| Error::Output {
        path: "<comment>".into(),
        source,
    })?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let token = if args.github {
        args.github_token.clone()
    } else {
        args.gitlab_token.clone()
    };
    let secret = token.clone().unwrap_or_default();
    let say = |stderr: &mut Vec<String>, text: String| {
        stderr.push(publish::redact(&text, &secret));
    };
    if args.dry_run {
        // A dry run writes nothing at all: it says what it would write.
        let dry = |stderr: &mut Vec<String>, what: String| {
            say(stderr, format!("carbon-gate: dry run: would {what}"));
        };
        if args.github {
            match env("GITHUB_STEP_SUMMARY") {
                Some(p) => dry(stderr, format!("append the job summary to {p}")),
                None => dry(
                    stderr,
                    "skip the job summary (no GITHUB_STEP_SUMMARY)".to_owned(),
                ),
            }
        }
        if args.github || args.report_json.is_some() {
            let to = match report_json_target(args, env) {
                Some(p) => display_path(&p),
                None => format!("a new file in {}", display_path(&std::env::temp_dir())),
            };
            dry(stderr, format!("write the JSON report to {to}"));
        }
        if args.github {
            match env("GITHUB_OUTPUT") {
                Some(p) => dry(stderr, format!("write the step outputs to {p}")),
                None => dry(
                    stderr,
                    "skip the step outputs (no GITHUB_OUTPUT)".to_owned(),
                ),
            }
            for line in publish::actions::annotations(report) {
                dry(stderr, format!("print the annotation {line}"));
            }
        }
    } else if args.github {
        if let Some(path) = env("GITHUB_STEP_SUMMARY")
            && let Err(e) =
                publish::actions::append(std::path::Path::new(&path), &format!("{body}\n"))
        {
            say(
                stderr,
                format!("carbon-gate: warning: cannot write the job summary: {e}"),
            );
        }
        let json_path = match report_json_target(args, env) {
            Some(p) => {
                write_json_report(report, &p)?;
                p
            }
            None => {
                let p = write_fresh_json_report(report)?;
                say(
                    stderr,
                    format!("carbon-gate: the JSON report is {}", display_path(&p)),
                );
                p
            }
        };
        if let Some(path) = env("GITHUB_OUTPUT")
            && let Err(e) = publish::actions::append(
                std::path::Path::new(&path),
                &publish::actions::outputs(report, Some(&json_path)),
            )
        {
            say(
                stderr,
                format!("carbon-gate: warning: cannot write the step outputs: {e}"),
            );
        }
        for line in publish::actions::annotations(report) {
            stdout.extend_from_slice(line.as_bytes());
            stdout.push(b'\n');
        }
    } else if let Some(p) = &args.report_json {
        write_json_report(report, p)?;
    }
    if args.comment_behavior == publish::Behavior::Off {
        return Ok(true);
    }
    let now = crate::timestamp::now_rfc3339();
    let request = |run: Option<u64>, attempt: u64| publish::Request {
        body: body.clone(),
        tag: args.tag.clone(),
        stamp: publish::RunStamp {
            run,
            attempt,
            time: now.clone(),
        },
        behavior: args.comment_behavior,
        on: args.comment_on,
        verdict: report.verdict,
        skip_no_diff: args.skip_no_diff,
        dry_run: args.dry_run,
        author: args.comment_author.clone(),
    };
    let runtime = match crate::http::runtime() {
        Ok(r) => r,
        Err(e) => {
            say(
                stderr,
                format!("carbon-gate: warning: cannot start the HTTP runtime: {e}"),
            );
            return Ok(false);
        }
    };
    let retry = http::Retry::from_env(env);
    let result: Result<publish::Outcome, PublishError> = runtime.block_on(async {
        if args.dry_run {
            // No API call at all, not even the reads that would tell which calls apply.
            let calls = if args.github {
                let ctx = publish::github::context(env, args.repo.as_deref(), args.pr, None)?;
                let forge = publish::github::GitHub::new(&ctx, "", retry)?;
                publish::dry_run_plan(&forge, &request(ctx.run, ctx.attempt))
            } else {
                let ctx = publish::gitlab::context(env, args.pr)?;
                let run = ctx.run;
                let forge = publish::gitlab::GitLab::new(ctx, "", retry)?;
                publish::dry_run_plan(&forge, &request(run, 1))
            };
            return Ok(publish::Outcome {
                calls,
                skipped: None,
            });
        }
        let Some(token) = token.clone().filter(|t| !t.trim().is_empty()) else {
            return Err(PublishError::Missing(format!(
                "no token: set {} (or pass --{}-token)",
                if args.github {
                    "GITHUB_TOKEN"
                } else {
                    "GITLAB_TOKEN"
                },
                if args.github { "github" } else { "gitlab" }
            )));
        };
        if args.github {
            let ctx = publish::github::context(env, args.repo.as_deref(), args.pr, None)?;
            let forge = publish::github::GitHub::new(&ctx, &token, retry)?;
            publish::publish(&forge, &request(ctx.run, ctx.attempt)).await
        } else {
            let ctx = publish::gitlab::context(env, args.pr)?;
            let run = ctx.run;
            let forge = publish::gitlab::GitLab::new(ctx, &token, retry)?;
            publish::publish(&forge, &request(run, 1)).await
        }
    });
    match result {
        Ok(outcome) => {
            if args.dry_run {
                say(
                    stderr,
                    "carbon-gate: dry run: the comment body is:".to_owned(),
                );
                stderr.extend(body.lines().map(|l| format!("  | {l}")));
                if outcome.calls.is_empty() {
                    say(
                        stderr,
                        "carbon-gate: dry run: no call would change comments".to_owned(),
                    );
                }
                for call in &outcome.calls {
                    say(stderr, format!("carbon-gate: dry run: would {call}"));
                }
            } else {
                for call in &outcome.calls {
                    say(stderr, format!("carbon-gate: {call}"));
                }
            }
            if let Some(why) = outcome.skipped {
                say(stderr, format!("carbon-gate: comment not changed: {why}"));
            }
            Ok(true)
        }
        Err(e) => {
            say(
                stderr,
                format!("carbon-gate: warning: the comment was not published: {e}"),
            );
            if args.github {
                say(
                    stderr,
                    "carbon-gate: the job summary carries the report".to_owned(),
                );
            }
            Ok(false)
        }
    }
}
