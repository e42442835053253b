//! The GitHub Action's entry point: its inputs made into a `check --github` command line.

use crate::error::Error;
use crate::exit::Exit;
use crate::report::Verdict;
use crate::{cli, ingest, publish};

use super::{Outcome, check};

/// The action's inputs (`INPUT_<NAME>`, as GitHub sets them for a Docker action) turned into a
/// `check --github` command line, run in-process. `fail-on` maps the verdict to the exit code:
/// `fail` (default) exits 1 on fail, `warn` on warn or fail, `never` only reports.
pub fn action_command(env: &dyn Fn(&str) -> Option<String>) -> Result<Outcome, Error> {
    use clap::Parser as _;
    let input = |name: &str| {
        env(&format!("INPUT_{}", name.to_ascii_uppercase()))
            .or_else(|| {
                env(&format!(
                    "INPUT_{}",
                    name.to_ascii_uppercase().replace('-', "_")
                ))
            })
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut argv: Vec<String> = vec!["carbon-gate".into(), "check".into(), "--github".into()];
    let list = |v: String| -> Vec<String> {
        v.split(['\n', ','])
            .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|s| !s.is_empty())
            .collect()
    };
    for (name, flag) in [
        ("config", "--config"),
        ("model", "--model"),
        ("model-version", "--model-version"),
        ("metrics", "--metrics"),
        ("baseline-version", "--baseline-version"),
        ("comment", "--comment-behavior"),
        ("tag", "--tag"),
        ("format", "--format"),
        ("ledger", "--ledger"),
        ("pr", "--pr"),
    ] {
        if let Some(v) = input(name) {
            argv.push(flag.into());
            argv.push(v);
        }
    }
    for p in input("policy").map(list).unwrap_or_default() {
        argv.push("--policy".into());
        argv.push(p);
    }
    for p in input("baseline").map(list).unwrap_or_default() {
        argv.push("--baseline".into());
        argv.push(p);
    }
    // The policy is read at the pull request's base unless told otherwise ("none" turns it off).
    let policy_ref = input("policy-ref").or_else(|| {
        env("GITHUB_EVENT_PATH")
            .and_then(|p| {
                ingest::bounded::read_regular_text(
                    std::path::Path::new(&p),
                    publish::github::MAX_EVENT_BYTES,
                )
                .ok()
            })
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| {
                v.pointer("/pull_request/base/sha")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            })
    });
    if let Some(r) = policy_ref.filter(|r| r != "none") {
        argv.push("--policy-ref".into());
        argv.push(r);
    }
    if let Some(t) = input("github-token") {
        argv.push("--github-token".into());
        argv.push(t);
    }
    argv.extend(input("logs").map(list).unwrap_or_default());
    let cli = match cli::Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            return Err(Error::Usage(format!(
                "the action's inputs do not make a valid command: {}",
                publish::redact(&e.to_string(), &input("github-token").unwrap_or_default())
            )));
        }
    };
    let cli::Command::Check(args) = cli.command else {
        return Err(Error::Usage(
            "the action's inputs make a command other than `check`".to_owned(),
        ));
    };
    // The verdict travels as a value: never read back from the text the check printed.
    let (mut outcome, verdict) = check::check_with_verdict(&args)?;
    let fail_on = input("fail-on").unwrap_or_else(|| "fail".to_owned());
    match fail_on.as_str() {
        "fail" => {}
        "warn" if outcome.exit == Exit::Pass && verdict == Verdict::Warn => {
            outcome.exit = Exit::BudgetExceeded;
        }
        "warn" => {}
        "never" if outcome.exit == Exit::BudgetExceeded => outcome.exit = Exit::Pass,
        "never" => {}
        other => {
            return Err(Error::Usage(format!(
                "input fail-on is \"{other}\": use fail, warn or never"
            )));
        }
    }
    Ok(outcome)
}
