//! `carbon-gate check`: read the logs, evaluate them against the policy, render, append to the
//! history ledger and publish.

use crate::cli::{self, CheckArgs};
use crate::error::Error;
use crate::exit::Exit;
use crate::report::{self, CheckReport, SCHEMA_VERSION, Verdict};
use crate::store::Target;
use crate::{config, outfile, policy, predict};

use super::at_ref::{config_at_ref, evidence_provenance, exists_at_ref, policy_at_ref};
use super::evaluate::{Evidence, evaluate};
use super::groups::{groups_from_cli, groups_from_config};
use super::ledger::Counted;
use super::output::{deliver, render_check};
use super::publish::publish_report;
use super::{Outcome, discover, no_policy, today};

/// The policy files to read: `--policy`, else the configuration's, else `policies`.
pub(crate) fn policy_paths(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
) -> Vec<std::path::PathBuf> {
    if !eval.policy.is_empty() {
        eval.policy.clone()
    } else if let Some(c) = cfg.filter(|c| !c.policy.is_empty()) {
        c.policy.clone()
    } else {
        vec!["policies".into()]
    }
}

/// `check --predict`: project the candidates' runs to their planned end, judge the projection.
fn predicted(
    args: &CheckArgs,
    has_config: bool,
    loaded: &policy::Loaded,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
    keep_runs: bool,
) -> Result<(CheckReport, Vec<Counted>), Error> {
    let plan = match (args.planned_epochs, args.planned_hours, args.planned_steps) {
        (Some(planned), None, None) => predict::Plan::Epochs {
            planned,
            done: args.epochs_done,
        },
        (None, Some(h), None) => predict::Plan::Hours(h),
        (None, None, Some(planned)) => predict::Plan::Steps {
            planned,
            done: args.steps_done.unwrap_or(0.0),
        },
        _ => {
            return Err(Error::Usage(
                "--predict needs one of --planned-epochs N, --planned-hours H or --planned-steps N --steps-done K".to_owned(),
            ));
        }
    };
    if has_config {
        return Err(Error::Usage(
            "--predict reads the partial logs given on the command line, not a configuration"
                .to_owned(),
        ));
    }
    let mut records = Vec::new();
    let mut read = read_groups(&args.eval, None, loaded, Some(&mut records), keep_runs)?;
    let mut projections = Vec::new();
    for g in &mut read.groups {
        let p = predict::project(&g.candidate.entry, &records, &plan)?;
        predict::apply(&mut g.candidate.entry, &p);
        projections.push(p);
    }
    let (mut report, counted) = judge(loaded, read, &args.eval, policy_ref, policy_changes)?;
    for m in &mut report.models {
        if projections.iter().any(|p| p.model == m.model) {
            for f in &mut m.findings {
                f.message = format!("projected: {}", f.message);
            }
        }
    }
    let (verdict, summary) = report::summarize(&report.models);
    report.verdict = verdict;
    report.summary = summary;
    report.predictions = projections;
    Ok((report, counted))
}

/// The candidate groups a check judges, with the files read and the warnings so far.
struct Read {
    groups: Vec<policy::eval::GroupInput>,
    inputs: Vec<crate::ingest::InputFile>,
    warnings: Vec<crate::diagnostic::Warning>,
}

/// Read the groups `eval` names: the configuration's when there is one, else the logs on the
/// command line (keeping their records in `records` when asked, for `--predict`).
fn read_groups(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
    loaded: &policy::Loaded,
    records: Option<&mut Vec<crate::record::RunRecord>>,
    keep_runs: bool,
) -> Result<Read, Error> {
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let rules = loaded.policy.ledger_rules();
    let groups = match cfg {
        Some(c) => {
            groups_from_config(c, rules, keep_runs, &eval.input, &mut inputs, &mut warnings)?
        }
        None => groups_from_cli(eval, rules, keep_runs, &mut inputs, &mut warnings, records)?,
    };
    Ok(Read {
        groups,
        inputs,
        warnings,
    })
}

/// Judge what was read against `loaded`; the counted runs the entries kept, taken out.
fn judge(
    loaded: &policy::Loaded,
    mut read: Read,
    eval: &cli::EvalArgs,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
) -> Result<(CheckReport, Vec<Counted>), Error> {
    let counted = super::ledger::take_runs(&mut read.groups);
    let report = evaluate(
        loaded,
        &read.groups,
        Evidence {
            inputs: read.inputs,
            warnings: read.warnings,
            policy_ref,
            policy_changes,
            whatif: eval.whatif,
        },
        eval.today.unwrap_or_else(today),
    )?;
    Ok((report, counted))
}

/// Read what `eval` names and evaluate it against `loaded`.
pub(crate) fn evaluate_args(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
    loaded: &policy::Loaded,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
) -> Result<CheckReport, Error> {
    evaluate_keeping(eval, cfg, loaded, policy_ref, policy_changes, false).map(|(r, _)| r)
}

/// [`evaluate_args`], keeping the counted runs when asked (for the organisation's ledger).
fn evaluate_keeping(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
    loaded: &policy::Loaded,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
    keep_runs: bool,
) -> Result<(CheckReport, Vec<Counted>), Error> {
    let read = read_groups(eval, cfg, loaded, None, keep_runs)?;
    judge(loaded, read, eval, policy_ref, policy_changes)
}

pub(crate) fn check(args: &CheckArgs) -> Result<Outcome, Error> {
    check_with_verdict(args).map(|(outcome, _)| outcome)
}

/// `check`, and the verdict it reached (the action maps it to its `fail-on` exit code).
pub(crate) fn check_with_verdict(args: &CheckArgs) -> Result<(Outcome, Verdict), Error> {
    // A configuration found (not named) is used exactly as a named one, at the base too.
    let (config_path, notes) = match &args.policy_ref {
        Some(reference) => discover::for_eval(&args.eval, &|p| exists_at_ref(args, p, reference)),
        None => discover::for_eval(&args.eval, &|_| false),
    };
    // With `--policy-ref`, the configuration comes from the base too: it says which logs are the
    // candidate, the baseline and the alternatives, and where the policy is.
    let (cfg, config_changes) = match (&config_path, &args.policy_ref) {
        (Some(path), Some(reference)) => {
            let (cfg, changes) = config_at_ref(args, path, reference)?;
            (Some(cfg), changes)
        }
        (Some(path), None) => (Some(config::load(path)?), Vec::new()),
        (None, _) => (None, Vec::new()),
    };
    let teach = no_policy::first_run(&args.eval, cfg.is_some(), args.policy_ref.is_some())?;
    let policy_paths = policy_paths(&args.eval, cfg.as_ref());
    let (loaded, mut policy_changes) = match &args.policy_ref {
        None if teach => (policy::Loaded::default(), Vec::new()),
        None => (policy::load(&policy_paths)?, Vec::new()),
        Some(reference) => policy_at_ref(args, &policy_paths, reference)?,
    };
    policy_changes.extend(config_changes);
    // A ledger URL that cannot be one is refused before anything is read (exit 2).
    let ledger = args.ledger.url.as_deref().map(Target::parse).transpose()?;
    let keep_runs = ledger
        .as_ref()
        .is_some_and(|t| !matches!(t, Target::History(_)));
    let evidence_rule = loaded.policy.evidence;
    let (mut report, counted) = if args.predict {
        predicted(
            args,
            cfg.is_some(),
            &loaded,
            args.policy_ref.clone(),
            policy_changes,
            keep_runs,
        )?
    } else {
        evaluate_keeping(
            &args.eval,
            cfg.as_ref(),
            &loaded,
            args.policy_ref.clone(),
            policy_changes,
            keep_runs,
        )?
    };
    if teach {
        no_policy::explain(&mut report);
    }
    evidence_provenance(args, cfg.as_ref(), evidence_rule, &mut report)?;
    match &ledger {
        Some(Target::History(path)) => {
            append_ledger(path, &report, args.commit.as_deref())?;
            super::ledger::without_ledger(&loaded.policy, &mut report);
        }
        Some(database) => super::ledger::record_check(
            database,
            &loaded.policy,
            counted,
            &mut report,
            args.commit.as_deref(),
            args.publish.pr,
            "check",
        )?,
        None => super::ledger::without_ledger(&loaded.policy, &mut report),
    }
    let (buffer, rendered) = render_check(&report, args.format, args.explain, &args.out)?;
    let mut stderr = notes;
    stderr.extend(rendered);
    let mut stdout = deliver(buffer, args.out.output.as_deref())?;
    let published = publish_report(
        &report,
        &args.publish,
        &super::set_var,
        &mut stdout,
        &mut stderr,
    )?;
    stderr.push(format!("carbon-gate: {}", report.summary));
    let exit = if report.verdict == Verdict::Fail {
        Exit::BudgetExceeded
    } else if !published && args.publish.require_comment {
        Exit::ServiceFailed
    } else {
        Exit::Pass
    };
    Ok((
        Outcome {
            stdout,
            stderr,
            exit,
        },
        report.verdict,
    ))
}

/// Append one JSON line per evaluated candidate and alternative to the history ledger.
fn append_ledger(
    path: &std::path::Path,
    report: &CheckReport,
    commit: Option<&str>,
) -> Result<(), Error> {
    let time = crate::timestamp::now_rfc3339();
    let mut lines = String::new();
    for m in report
        .models
        .iter()
        .filter(|m| m.role != report::Role::Baseline)
    {
        let line = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "time": time,
            "commit": commit,
            "model": m.model,
            "version": m.version,
            "role": m.role,
            "verdict": m.verdict,
            "totals": m.totals,
            "metrics": m.metrics,
            "findings": m.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    outfile::append(path, lines.as_bytes()).map_err(|source| Error::Output {
        path: path.to_owned(),
        source,
    })
}
