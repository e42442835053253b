//! carbon-gate: carbon budgets for ML models, enforced in CI.
//!
//! The pipeline runs in one direction: [`ingest`] reads logs into records, [`ledger`] decides
//! which count and totals them per model and version, [`policy`] parses and validates the budgets
//! and evaluates them, [`report`] is the model every [`render`]er reads, and [`exit`] maps the
//! verdict to the process status. [`run`] wires them for the command line; it never prints, it
//! returns what to print.

pub mod assessment;
pub mod bounded;
pub mod cli;
pub mod codes;
pub mod config;
pub mod diagnostic;
pub mod digest;
pub mod disclosure;
pub mod embodied;
pub mod error;
pub mod estimate;
pub mod exit;
pub mod http;
pub mod ingest;
pub mod intern;
pub mod ledger;
pub mod metrics;
pub mod mitigation;
pub mod names;
pub mod outfile;
pub mod policy;
pub mod predict;
pub mod provenance;
pub mod publish;
pub mod record;
pub mod reference;
pub mod registry;
pub mod render;
pub mod report;
pub mod run_key;
pub mod schedule;
pub mod timestamp;
pub mod tradeoff;
pub mod units;
pub mod yaml;

use std::io::IsTerminal;
use std::path::Path;

use cli::{
    CheckArgs, CheckFormat, Cli, ColorChoice, Command, IngestArgs, IngestFormat, PolicyCommand,
};
use error::{Error, display_path};
use exit::Exit;
use ledger::{Attribution, Reconciled};
use render::Render;
use report::{CheckReport, IngestReport, IngestRow, SCHEMA_VERSION, Verdict};

/// What a command produced: what goes to standard output, the lines for standard error, and the
/// exit status.
#[derive(Debug)]
pub struct Outcome {
    /// Bytes for standard output (empty when the report went to `--output`).
    pub stdout: Vec<u8>,
    /// Lines for standard error: warnings and the one-line verdict.
    pub stderr: Vec<String>,
    /// The exit status.
    pub exit: Exit,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Ingest(args) => ingest_command(&args),
        Command::Policy(PolicyCommand::Validate { paths }) => policy_validate(&paths),
        Command::Policy(PolicyCommand::Schema)
        | Command::Schema {
            which: cli::SchemaKind::Policy,
        } => Ok(Outcome {
            stdout: policy::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
        Command::Estimate(args) => estimate_command(&args),
        Command::Promote(args) => {
            registry::promote(&args, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        }
        Command::Record(args) => {
            registry::record(&args, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        }
        Command::Action => action_command(&|k| std::env::var(k).ok()),
        Command::Reference(cmd) => reference_command(&cmd),
        Command::Schema {
            which: cli::SchemaKind::Config,
        } => Ok(Outcome {
            stdout: config::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
        Command::Report(args) => report_command(&args),
        Command::Schedule(args) => {
            schedule::command(&args, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        }
        Command::Schema {
            which: cli::SchemaKind::Facts,
        } => Ok(Outcome {
            stdout: disclosure::facts::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
        Command::Schema {
            which: cli::SchemaKind::Disclosure,
        } => Ok(Outcome {
            stdout: disclosure::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
        Command::Schema {
            which: cli::SchemaKind::Record,
        } => Ok(Outcome {
            stdout: ingest::native::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
    }
}

fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Read and reconcile logs.
fn read_logs(
    input: &cli::InputArgs,
) -> Result<(Reconciled, Vec<ingest::InputFile>, Vec<diagnostic::Warning>), Error> {
    let options = ingest::Options {
        format: input.input_format,
        hf_units: input.hf_units,
    };
    let ingested = ingest::ingest(&input.logs, &options)?;
    let mut warnings = ingested.warnings;
    let reconciled = ledger::reconcile(ingested.records)?;
    warnings.extend(reconciled.warnings.iter().cloned());
    Ok((reconciled, ingested.files, warnings))
}

/// What one set of logs gives: ledger entries, the files read and the warnings.
struct Read {
    entries: Vec<ledger::Entry>,
    /// Every record read (superseded snapshots included), for `--predict`.
    records: Vec<record::RunRecord>,
    inputs: Vec<ingest::InputFile>,
    warnings: Vec<diagnostic::Warning>,
}

fn read_entries(
    logs: &[std::path::PathBuf],
    input: &cli::InputArgs,
    attribution: &Attribution,
    keep_records: bool,
) -> Result<Read, Error> {
    let options = ingest::Options {
        format: input.input_format,
        hf_units: input.hf_units,
    };
    if !keep_records {
        // The records are folded into the ledger as they are read: memory grows with the
        // number of runs, not of rows.
        let mut reducer = ledger::reduce::Reducer::new(attribution.rules);
        let (inputs, mut warnings) = ingest::ingest_into(logs, &options, &mut reducer)?;
        let (entries, more) = reducer.finish(attribution)?;
        warnings.extend(more);
        refuse_no_runs(logs, &entries)?;
        return Ok(Read {
            entries,
            records: Vec::new(),
            inputs,
            warnings,
        });
    }
    let ingested = ingest::ingest(logs, &options)?;
    let mut warnings = ingested.warnings;
    let mut reconciled = ledger::reconcile_with(ingested.records, attribution.rules)?;
    warnings.extend(reconciled.warnings.iter().cloned());
    let (entries, more) = ledger::aggregate(&mut reconciled, attribution)?;
    warnings.extend(more);
    refuse_no_runs(logs, &entries)?;
    Ok(Read {
        entries,
        records: reconciled.records,
        inputs: ingested.files,
        warnings,
    })
}

/// Logs that hold no run at all are no evidence: a gate must not pass on them (a CSV with only
/// its header, a log cut before its first row).
fn refuse_no_runs(logs: &[std::path::PathBuf], entries: &[ledger::Entry]) -> Result<(), Error> {
    if entries.iter().any(|e| e.totals.runs > 0) {
        return Ok(());
    }
    let named: Vec<String> = logs.iter().map(|p| display_path(p)).collect();
    let at = logs
        .first()
        .map_or_else(|| error::Location::file("<logs>"), error::Location::file);
    Err(Error::input(
        error::Problem::new(
            at,
            format!(
                "no runs found in {}: the logs hold no run to check (a header without rows, or a log cut before its first row)",
                named.join(", ")
            ),
        )
        .with_help(
            "point at the logs the training or inference job wrote after it ran; a gate does not pass on no evidence",
        ),
    ))
}

/// Metrics from a file (if any) over the metrics the entry's records carry.
fn metrics_for(
    file: Option<&std::path::Path>,
    entry: &ledger::Entry,
) -> Result<metrics::Metrics, Error> {
    let mut metrics = entry.metrics.clone();
    if let Some(path) = file {
        metrics.extend(metrics::load(path)?);
    }
    Ok(metrics)
}

/// The named model's entry among `entries` (the ledger always has one for a named model).
fn take_entry(entries: Vec<ledger::Entry>, model: &str) -> ledger::Entry {
    let mut found = None;
    for e in entries {
        if e.model == model {
            found = Some(e);
        }
    }
    found.unwrap_or(ledger::Entry {
        model: model.to_owned(),
        version: None,
        totals: ledger::Totals::default(),
        contributions: Vec::new(),
        metrics: metrics::Metrics::new(),
    })
}

/// Whether a file is a carbon-gate `check --format json` report.
fn is_check_report(path: &std::path::Path) -> bool {
    path.is_file()
        && ingest::bounded::read_regular_text(path, ingest::bounded::MAX_DOCUMENT).is_ok_and(|t| {
            let t = t.trim_start();
            t.starts_with('{') && t.contains("\"schema_version\"") && t.contains("\"models\"")
        })
}

/// A baseline taken from a `check --format json` report.
fn reported_baseline(
    path: &std::path::Path,
    model: &str,
    version: Option<&semver::Version>,
) -> Result<policy::eval::ReportedBaseline, Error> {
    #[derive(serde::Deserialize)]
    struct Report {
        models: Vec<Model>,
    }
    #[derive(serde::Deserialize)]
    struct Model {
        model: String,
        version: Option<String>,
        #[serde(default)]
        role: Option<String>,
        totals: Totals,
        #[serde(default)]
        metrics: metrics::Metrics,
    }
    #[derive(serde::Deserialize)]
    struct Totals {
        energy_kwh: f64,
        co2e_kg: f64,
    }
    let bad = |message: String| {
        Error::input(
            error::Problem::new(error::Location::file(path), message).with_help(
                "pass the JSON that `carbon-gate check --format json` wrote on the base branch",
            ),
        )
    };
    let text = ingest::bounded::read_named_text(path, ingest::bounded::MAX_DOCUMENT)
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a carbon-gate check report: {e}")))?;
    let wanted = version.map(ToString::to_string);
    let names: Vec<String> = report
        .models
        .iter()
        .map(|m| format!("{} {}", m.model, m.version.as_deref().unwrap_or("-")))
        .collect();
    let m = report
        .models
        .into_iter()
        .filter(|m| m.role.as_deref().is_none_or(|r| r == "candidate"))
        .find(|m| m.model == model && (wanted.is_none() || m.version == wanted))
        .ok_or_else(|| {
            bad(format!(
                "the report has no candidate {model}{}; it holds: {}",
                wanted
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                names.join(", ")
            ))
        })?;
    if !(m.totals.co2e_kg.is_finite() && m.totals.energy_kwh.is_finite()) {
        return Err(bad("the report's totals are not finite numbers".to_owned()));
    }
    Ok(policy::eval::ReportedBaseline {
        model: m.model,
        version: m.version,
        source: display_path(path),
        energy: units::Energy::kwh(m.totals.energy_kwh),
        co2e: units::Mass::kg(m.totals.co2e_kg),
        metrics: m.metrics,
    })
}

/// Candidate groups from `carbon-gate.yaml`.
fn groups_from_config(
    cfg: &config::Config,
    rules: ledger::Rules,
    input: &cli::InputArgs,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<diagnostic::Warning>,
) -> Result<Vec<policy::eval::GroupInput>, Error> {
    let mut subject = |source: &config::Source| -> Result<policy::eval::Subject, Error> {
        let attribution = Attribution {
            model: Some(source.model.clone()),
            version: source.version.clone(),
            phase: source.phase.or(input.phase),
            rules,
        };
        let read = read_entries(&source.logs, input, &attribution, false)?;
        inputs.extend(read.inputs);
        warnings.extend(read.warnings);
        let entry = take_entry(read.entries, &source.model);
        Ok(policy::eval::Subject {
            metrics: metrics_for(source.metrics.as_deref(), &entry)?,
            entry,
            kind: source.kind.clone(),
        })
    };
    let mut groups = Vec::new();
    for g in &cfg.groups {
        let candidate = subject(&g.candidate)?;
        let baseline = match &g.baseline {
            None => None,
            Some(config::Baseline::Logs(source)) => Some(policy::eval::BaselineInput::Logs(
                Box::new(subject(source)?),
            )),
            Some(config::Baseline::Report {
                path,
                model,
                version,
            }) => Some(policy::eval::BaselineInput::Report(reported_baseline(
                path,
                model,
                version.as_ref(),
            )?)),
        };
        let alternatives = g
            .alternatives
            .iter()
            .map(&mut subject)
            .collect::<Result<Vec<_>, _>>()?;
        groups.push(policy::eval::GroupInput {
            candidate,
            baseline,
            alternatives,
        });
    }
    Ok(groups)
}

/// Candidate groups from the command line: each model in the logs is a candidate; the baseline
/// logs (or report) give each its baseline by model name.
fn groups_from_cli(
    args: &cli::EvalArgs,
    rules: ledger::Rules,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<diagnostic::Warning>,
    records: Option<&mut Vec<record::RunRecord>>,
) -> Result<Vec<policy::eval::GroupInput>, Error> {
    if args.input.logs.is_empty() {
        return Err(Error::Usage(
            "give the emissions logs to check (files or directories), or --config carbon-gate.yaml"
                .to_owned(),
        ));
    }
    let read = read_entries(
        &args.input.logs,
        &args.input,
        &Attribution {
            model: args.model.clone(),
            version: args.model_version.clone(),
            phase: args.input.phase,
            rules,
        },
        records.is_some(),
    )?;
    inputs.extend(read.inputs);
    warnings.extend(read.warnings);
    if let Some(records) = records {
        records.extend(read.records);
    }
    let file_metrics = args.metrics.as_deref().map(metrics::load).transpose()?;
    let (reports, logs): (Vec<_>, Vec<_>) = args
        .baseline
        .iter()
        .cloned()
        .partition(|p| is_check_report(p));
    let mut baseline_entries = Vec::new();
    if !logs.is_empty() {
        let b = read_entries(
            &logs,
            &args.input,
            &Attribution {
                model: args.model.clone(),
                version: args.baseline_version.clone(),
                phase: args.input.phase,
                rules,
            },
            false,
        )?;
        inputs.extend(b.inputs);
        warnings.extend(b.warnings);
        baseline_entries = b.entries;
    }
    let baseline_metrics = args
        .baseline_metrics
        .as_deref()
        .map(metrics::load)
        .transpose()?;
    let merge = |entry: &ledger::Entry, file: &Option<metrics::Metrics>| {
        let mut m = entry.metrics.clone();
        if let Some(f) = file {
            m.extend(f.clone());
        }
        m
    };
    let mut groups = Vec::new();
    for entry in read.entries {
        let baseline = if let Some(b) = baseline_entries.iter().find(|b| b.model == entry.model) {
            Some(policy::eval::BaselineInput::Logs(Box::new(
                policy::eval::Subject {
                    entry: b.clone(),
                    metrics: merge(b, &baseline_metrics),
                    kind: None,
                },
            )))
        } else if let Some(report) = reports.first() {
            Some(policy::eval::BaselineInput::Report(reported_baseline(
                report,
                &entry.model,
                args.baseline_version.as_ref(),
            )?))
        } else {
            None
        };
        groups.push(policy::eval::GroupInput {
            candidate: policy::eval::Subject {
                metrics: merge(&entry, &file_metrics),
                entry,
                kind: None,
            },
            baseline,
            alternatives: Vec::new(),
        });
    }
    Ok(groups)
}

/// The policy at `reference` (through git, or GitHub's contents API where git cannot), and what
/// the working tree changes in it and in the configuration.
fn policy_at_ref(
    args: &CheckArgs,
    paths: &[std::path::PathBuf],
    reference: &str,
) -> Result<(policy::Loaded, Vec<String>), Error> {
    let at_ref = ref_source(args, reference);
    let source = at_ref.source();
    let texts = policy::at_ref::read(paths, reference, &source)?;
    let base = policy::from_texts(texts, Vec::new())?;
    let changes = match policy::load(paths) {
        Ok(head) => {
            let mut c = policy::at_ref::changes(&base.policy, &head.policy);
            if c.is_empty() {
                let same_text = head.policy.files.len() == base.policy.files.len()
                    && head.policy.files.iter().all(|f| {
                        let name = error::path_text(f);
                        git_show(reference, &name)
                            .is_none_or(|t| std::fs::read(f).is_ok_and(|w| w == t))
                    });
                if !same_text {
                    c.push("policy files edited (no limit changed)".to_owned());
                }
            }
            c
        }
        Err(e) => vec![format!("the working tree's policy does not validate: {e}")],
    };
    Ok((base, changes))
}

/// Which logs the change added or modified compared with `--policy-ref`: told in the report;
/// refused where the policy requires evidence from the base or from artifacts
/// (`evidence: base-or-artifact`), which cannot be told without a base ref.
fn evidence_provenance(
    args: &CheckArgs,
    cfg: Option<&config::Config>,
    rule: policy::model::EvidenceRule,
    report: &mut CheckReport,
) -> Result<(), Error> {
    let Some(reference) = &args.policy_ref else {
        if rule.refuses_changed_logs() {
            return Err(Error::Usage(format!(
                "the policy says `evidence: {}`: pass --policy-ref with the base of the change, so that logs the change edited can be told apart",
                rule.name()
            )));
        }
        return Ok(());
    };
    let mut logs: Vec<std::path::PathBuf> = args.eval.input.logs.clone();
    logs.extend(args.eval.baseline.iter().cloned());
    if let Some(cfg) = cfg {
        for g in &cfg.groups {
            logs.extend(g.candidate.logs.iter().cloned());
            if let Some(config::Baseline::Logs(b)) = &g.baseline {
                logs.extend(b.logs.iter().cloned());
            }
            for a in &g.alternatives {
                logs.extend(a.logs.iter().cloned());
            }
        }
    }
    let read: Vec<std::path::PathBuf> = report.inputs.iter().map(|i| i.path.clone()).collect();
    let changed = match provenance::changed_since(reference, &logs, &read) {
        Ok(c) => c,
        Err(why) if rule.refuses_changed_logs() => {
            return Err(Error::Usage(format!(
                "the policy says `evidence: {}`, but git cannot tell which logs the change edited since {reference}: {why}",
                rule.name()
            )));
        }
        Err(_) => return Ok(()),
    };
    if changed.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = changed.iter().map(ToString::to_string).collect();
    if rule.refuses_changed_logs() {
        return Err(Error::input(
            error::Problem::new(
                error::Location::file(&changed[0].path),
                format!(
                    "the policy requires evidence from the base or from artifacts (`evidence: {}`), but this change edits the logs it would be judged on: {}",
                    rule.name(),
                    listed.join("; ")
                ),
            )
            .with_help(
                "read the logs the training job uploaded as artifacts (or the registry's), not logs committed in the change",
            ),
        ));
    }
    report.warnings.push(diagnostic::Warning::general(
        codes::EVIDENCE_CHANGED,
        format!(
            "this change edits the logs it is judged on (compared with {reference}): {}",
            listed.join("; ")
        ),
    ));
    report.evidence_changes = listed;
    Ok(())
}

/// Where files at a git ref are read from: git, or GitHub's contents API where git has no such
/// ref and a token and repository are known.
struct RefSource {
    git_has_ref: bool,
    token: String,
    repo: String,
    api_url: String,
}

impl RefSource {
    fn source(&self) -> policy::at_ref::Source<'_> {
        if self.git_has_ref || self.token.is_empty() || self.repo.is_empty() {
            policy::at_ref::Source::Git
        } else {
            policy::at_ref::Source::GitHub {
                api_url: &self.api_url,
                repo: &self.repo,
                token: &self.token,
            }
        }
    }
}

fn ref_source(args: &CheckArgs, reference: &str) -> RefSource {
    let git_has_ref = std::process::Command::new("git")
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    RefSource {
        git_has_ref,
        token: args.publish.github_token.clone().unwrap_or_default(),
        repo: args
            .publish
            .repo
            .clone()
            .or_else(|| std::env::var("GITHUB_REPOSITORY").ok())
            .unwrap_or_default(),
        api_url: std::env::var("GITHUB_API_URL")
            .unwrap_or_else(|_| "https://api.github.com".to_owned()),
    }
}

/// `carbon-gate.yaml` at the base ref (`--policy-ref`), and what the change does to it. The
/// pull request's copy decides nothing: it could point the candidate at a decoy log, move the
/// real logs to the alternatives, or add a forged baseline. A configuration that does not exist
/// at the base is an error (fail closed).
fn config_at_ref(
    args: &CheckArgs,
    path: &Path,
    reference: &str,
) -> Result<(config::Config, Vec<String>), Error> {
    let at_ref = ref_source(args, reference);
    let source = at_ref.source();
    let texts = policy::at_ref::read(&[path.to_owned()], reference, &source).map_err(|e| {
        Error::Config(vec![
            error::Problem::new(
                error::Location::file(path),
                format!(
                    "cannot read the configuration at {reference}: {}",
                    e.to_string().lines().next().unwrap_or_default()
                ),
            )
            .with_help(
                "with --policy-ref the configuration that decides the verdict is the base's: commit carbon-gate.yaml to the base branch first (a new configuration takes effect once merged)",
            ),
        ])
    })?;
    let Some((_, text)) = texts.into_iter().next() else {
        return Err(Error::Config(vec![error::Problem::new(
            error::Location::file(path),
            format!("carbon-gate.yaml does not exist at {reference}"),
        )]));
    };
    let base = config::parse(path, &text)?;
    let mut changes = Vec::new();
    match std::fs::read_to_string(path) {
        Ok(head) if head == text => {}
        Ok(_) => changes.push(format!(
            "{} changed (the verdict used the configuration at {reference}: its candidates, baselines, alternatives and metrics)",
            display_path(path)
        )),
        Err(_) => changes.push(format!(
            "{} removed in the working tree (the verdict used the configuration at {reference})",
            display_path(path)
        )),
    }
    Ok((base, changes))
}

/// A file's bytes at a git ref, if git has them.
fn git_show(reference: &str, name: &str) -> Option<Vec<u8>> {
    std::process::Command::new("git")
        .args(["show", &format!("{reference}:{name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout)
}

/// Today, UTC.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The policy files to read: `--policy`, else the configuration's, else `policies`.
fn policy_paths(eval: &cli::EvalArgs, cfg: Option<&config::Config>) -> Vec<std::path::PathBuf> {
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
    loaded: &policy::Loaded,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
) -> Result<CheckReport, Error> {
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
    if args.eval.config.is_some() {
        return Err(Error::Usage(
            "--predict reads the partial logs given on the command line, not --config".to_owned(),
        ));
    }
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let mut records = Vec::new();
    let mut groups = groups_from_cli(
        &args.eval,
        loaded.policy.ledger_rules(),
        &mut inputs,
        &mut warnings,
        Some(&mut records),
    )?;
    let mut projections = Vec::new();
    for g in &mut groups {
        let p = predict::project(&g.candidate.entry, &records, &plan)?;
        predict::apply(&mut g.candidate.entry, &p);
        projections.push(p);
    }
    let mut report = evaluate(
        loaded,
        &groups,
        Evidence {
            inputs,
            warnings,
            policy_ref,
            policy_changes,
            whatif: args.eval.whatif,
        },
        args.eval.today.unwrap_or_else(today),
    )?;
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
    Ok(report)
}

/// Read what `eval` names and evaluate it against `loaded`.
fn evaluate_args(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
    loaded: &policy::Loaded,
    policy_ref: Option<String>,
    policy_changes: Vec<String>,
) -> Result<CheckReport, Error> {
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let groups = match cfg {
        Some(c) => groups_from_config(
            c,
            loaded.policy.ledger_rules(),
            &eval.input,
            &mut inputs,
            &mut warnings,
        )?,
        None => groups_from_cli(
            eval,
            loaded.policy.ledger_rules(),
            &mut inputs,
            &mut warnings,
            None,
        )?,
    };
    evaluate(
        loaded,
        &groups,
        Evidence {
            inputs,
            warnings,
            policy_ref,
            policy_changes,
            whatif: eval.whatif,
        },
        eval.today.unwrap_or_else(today),
    )
}

fn check(args: &CheckArgs) -> Result<Outcome, Error> {
    // With `--policy-ref`, the configuration comes from the base too: it says which logs are the
    // candidate, the baseline and the alternatives, and where the policy is.
    let (cfg, config_changes) = match (&args.eval.config, &args.policy_ref) {
        (Some(path), Some(reference)) => {
            let (cfg, changes) = config_at_ref(args, path, reference)?;
            (Some(cfg), changes)
        }
        (Some(path), None) => (Some(config::load(path)?), Vec::new()),
        (None, _) => (None, Vec::new()),
    };
    let policy_paths = policy_paths(&args.eval, cfg.as_ref());
    let (loaded, mut policy_changes) = match &args.policy_ref {
        None => (policy::load(&policy_paths)?, Vec::new()),
        Some(reference) => policy_at_ref(args, &policy_paths, reference)?,
    };
    policy_changes.extend(config_changes);
    let evidence_rule = loaded.policy.evidence;
    let report = if args.predict {
        predicted(args, &loaded, args.policy_ref.clone(), policy_changes)?
    } else {
        evaluate_args(
            &args.eval,
            cfg.as_ref(),
            &loaded,
            args.policy_ref.clone(),
            policy_changes,
        )?
    };
    let mut report = report;
    evidence_provenance(args, cfg.as_ref(), evidence_rule, &mut report)?;
    if let Some(path) = &args.ledger {
        append_ledger(path, &report, args.commit.as_deref())?;
    }
    let (buffer, mut stderr) = render_check(&report, args.format, args.explain, &args.out)?;
    let mut stdout = deliver(buffer, args.out.output.as_deref())?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let published = publish_report(&report, &args.publish, &env, &mut stdout, &mut stderr)?;
    stderr.push(format!("carbon-gate: {}", report.summary));
    let exit = if report.verdict == Verdict::Fail {
        Exit::BudgetExceeded
    } else if !published && args.publish.require_comment {
        Exit::ServiceFailed
    } else {
        Exit::Pass
    };
    Ok(Outcome {
        stdout,
        stderr,
        exit,
    })
}

/// What the report says about where its figures came from, besides the groups.
pub(crate) struct Evidence {
    /// Files read.
    pub inputs: Vec<ingest::InputFile>,
    /// Warnings so far (reading, policy).
    pub warnings: Vec<diagnostic::Warning>,
    /// `--policy-ref`, when the policy was read at a git ref.
    pub policy_ref: Option<String>,
    /// What the change does to the policy.
    pub policy_changes: Vec<String>,
    /// Compute the what-if for every candidate (not only those that did not pass).
    pub whatif: bool,
}

/// Evaluate candidate groups against a policy: the report every renderer reads. `check` and
/// `promote` both come here, so a verdict means the same wherever it was reached.
pub(crate) fn evaluate(
    loaded: &policy::Loaded,
    groups: &[policy::eval::GroupInput],
    evidence: Evidence,
    today: time::Date,
) -> Result<CheckReport, Error> {
    let Evidence {
        inputs,
        mut warnings,
        policy_ref,
        policy_changes,
        whatif: whatif_always,
    } = evidence;
    warnings.extend(loaded.warnings.clone());
    if !policy_changes.is_empty() {
        warnings.push(diagnostic::Warning::general(
            codes::POLICY_CHANGED,
            format!(
                "this change edits the carbon policy; the verdict used the policy at {}: {}",
                policy_ref.as_deref().unwrap_or_default(),
                policy_changes.join("; ")
            ),
        ));
    }
    let ctx = policy::eval::Context {
        policy: &loaded.policy,
        reference: reference::Reference::embedded()?,
        today,
    };
    let (models, exception_warnings) = policy::eval::evaluate_groups(&ctx, groups);
    warnings.extend(exception_warnings);
    let tradeoffs = group_tradeoffs(&models, &loaded.policy);
    let (verdict, summary) = report::summarize(&models);
    let mut whatif = Vec::new();
    for m in models.iter().filter(|m| m.role == report::Role::Candidate) {
        if !(whatif_always || m.verdict != Verdict::Pass) {
            continue;
        }
        let version = m
            .version
            .as_deref()
            .and_then(|v| semver::Version::parse(v).ok());
        let preferred = loaded
            .policy
            .budget_for(&m.model, version.as_ref())
            .and_then(|b| b.preferred_regions.as_ref())
            .map(|(list, _)| list.clone())
            .unwrap_or_default();
        whatif.extend(mitigation::what_if(m, ctx.reference, &preferred, 3));
    }
    Ok(CheckReport {
        schema_version: SCHEMA_VERSION,
        verdict,
        summary,
        policy_files: loaded
            .policy
            .files
            .iter()
            .map(|p| display_path(p))
            .collect(),
        policy_ref,
        policy_changes,
        evidence_changes: Vec::new(),
        models,
        tradeoffs,
        whatif,
        predictions: Vec::new(),
        warnings,
        inputs,
    })
}

/// Render a report in `format`; returns the bytes and the warning lines for standard error
/// (a table shows its warnings itself, unless it goes to a file).
pub(crate) fn render_check(
    report: &CheckReport,
    format: CheckFormat,
    explain: bool,
    out: &cli::OutputArgs,
) -> Result<(Vec<u8>, Vec<String>), Error> {
    let to_file = out.output.is_some();
    let mut buffer = Vec::new();
    let renderer: Box<dyn Render> = match format {
        CheckFormat::Table => Box::new(render::Table {
            color: use_color(out.color, to_file),
            explain,
        }),
        CheckFormat::Json => Box::new(render::Json),
        CheckFormat::Markdown => Box::new(render::Markdown::default()),
    };
    renderer
        .check(report, &mut buffer)
        .map_err(|source| Error::Output {
            path: "<report>".into(),
            source,
        })?;
    let mut stderr = Vec::new();
    if format != CheckFormat::Table || to_file {
        stderr.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    }
    Ok((buffer, stderr))
}

/// The command line as a user would retype it (program name without its path, arguments quoted
/// where a shell needs it).
fn command_line() -> String {
    let mut words = vec!["carbon-gate".to_owned()];
    // `args_os`: an argument that is not UTF-8 (a file name) is shown lossily, not a panic.
    for a in std::env::args_os().skip(1) {
        let a = a.to_string_lossy().into_owned();
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        words.push(if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        });
    }
    words.join(" ")
}

/// Files besides logs and policies that a check reads: metrics and baseline reports.
fn other_inputs(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
) -> Vec<(std::path::PathBuf, &'static str)> {
    let mut out = Vec::new();
    for p in eval.metrics.iter().chain(&eval.baseline_metrics) {
        out.push((p.clone(), "metrics"));
    }
    for p in eval.baseline.iter().filter(|p| is_check_report(p)) {
        out.push((p.clone(), "baseline report"));
    }
    if let Some(c) = cfg {
        for g in &c.groups {
            let mut sources = vec![&g.candidate];
            sources.extend(g.alternatives.iter());
            match &g.baseline {
                Some(config::Baseline::Logs(s)) => sources.push(s),
                Some(config::Baseline::Report { path, .. }) => {
                    out.push((path.clone(), "baseline report"));
                }
                None => {}
            }
            for s in sources {
                if let Some(m) = &s.metrics {
                    out.push((m.clone(), "metrics"));
                }
            }
        }
    }
    out
}

/// `carbon-gate report`: the Environmental Impact Disclosure, or a model card's CO2 block.
fn report_command(args: &cli::ReportArgs) -> Result<Outcome, Error> {
    let cfg = args.eval.config.as_deref().map(config::load).transpose()?;
    let paths = policy_paths(&args.eval, cfg.as_ref());
    let loaded = policy::load(&paths)?;
    let facts = args
        .facts
        .as_deref()
        .map(disclosure::facts::load)
        .transpose()?
        .unwrap_or_default();
    let report = evaluate_args(&args.eval, cfg.as_ref(), &loaded, None, Vec::new())?;
    let mut stderr: Vec<String> = report
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    if args.format == cli::ReportFormat::HfCard {
        let candidates: Vec<&report::ModelReport> = report
            .models
            .iter()
            .filter(|m| m.role == report::Role::Candidate)
            .collect();
        let [m] = candidates.as_slice() else {
            return Err(Error::Usage(format!(
                "a model card holds one model, the inputs hold {} candidates ({}): give the logs of one model, or --model NAME",
                candidates.len(),
                candidates
                    .iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let block = disclosure::hf_card::block(m);
        let text = match &args.card {
            Some(card) => {
                let old = disclosure::hf_card::read_card(card)?;
                let new = disclosure::hf_card::update(&old, &block).map_err(|r| {
                    let at = match r.line {
                        Some(line) => error::Location::line(card, line),
                        None => error::Location::file(card),
                    };
                    Error::input(error::Problem::new(at, r.message).with_help(r.help))
                })?;
                stderr.push(format!(
                    "carbon-gate: co2_eq_emissions of {} = {} g CO2e{}",
                    m.label(),
                    units::format_significant(block.emissions_g, 6),
                    if new == old { " (card unchanged)" } else { "" }
                ));
                new
            }
            None => disclosure::hf_card::lines(&block)
                .into_iter()
                .map(|l| l + "\n")
                .collect(),
        };
        let target = args.out.output.as_deref().or(args.card.as_deref());
        let stdout = deliver(text.into_bytes(), target)?;
        return Ok(Outcome {
            stdout,
            stderr,
            exit: Exit::Pass,
        });
    }
    let d = disclosure::build(
        &report,
        &facts,
        &disclosure::Sources {
            config: args.eval.config.as_deref(),
            facts_file: args.facts.as_deref(),
            policy_files: &loaded.policy.files,
            other_files: other_inputs(&args.eval, cfg.as_ref()),
            command: command_line(),
            date: args.eval.today.unwrap_or_else(today),
        },
    )?;
    let text = match args.format {
        cli::ReportFormat::Json => disclosure::render::json(&d),
        cli::ReportFormat::Html => disclosure::render::html_document(&d),
        _ => disclosure::render::markdown(&d),
    };
    let nulls = d
        .models
        .iter()
        .flat_map(|m| m.sections.iter())
        .flat_map(|s| s.fields.iter())
        .filter(|f| f.status == disclosure::Status::Null)
        .count();
    stderr.push(format!(
        "carbon-gate: disclosure of {} model version(s); gate verdict {}; {nulls} field(s) null with a reason",
        d.models.len(),
        report.verdict.word()
    ));
    let stdout = deliver(text.into_bytes(), args.out.output.as_deref())?;
    Ok(Outcome {
        stdout,
        stderr,
        exit: Exit::Pass,
    })
}

/// Write the JSON report to `path` (through `deliver`, so it is whole or not at all).
fn write_json_report(report: &CheckReport, path: &std::path::Path) -> Result<(), Error> {
    let mut json = Vec::new();
    render::Json
        .check(report, &mut json)
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
    render::Json.check(report, &mut json).map_err(fail)?;
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
fn publish_report(
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
    render::Markdown {
        limit: render::GITHUB_COMMENT_LIMIT - marker_room,
    }
    .check(report, &mut body)
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
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
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

fn ingest_command(args: &IngestArgs) -> Result<Outcome, Error> {
    let (mut reconciled, inputs, warnings) = read_logs(&args.input)?;
    if let Some(phase) = args.input.phase {
        for r in reconciled.records.iter_mut().filter(|r| r.phase.is_none()) {
            r.phase = Some(phase);
        }
    }
    let totals = ledger::totals(&reconciled, 0..reconciled.records.len());
    let mut formats: Vec<record::Format> = reconciled.records.iter().map(|r| r.format).collect();
    formats.sort();
    formats.dedup();
    let by_format = formats
        .into_iter()
        .map(|format| report::FormatTotals {
            format,
            totals: ledger::totals(
                &reconciled,
                (0..reconciled.records.len()).filter(|&i| reconciled.records[i].format == format),
            ),
        })
        .collect();
    let report = IngestReport {
        schema_version: SCHEMA_VERSION,
        records: reconciled
            .records
            .into_iter()
            .zip(reconciled.statuses)
            .map(|(record, counted)| IngestRow { record, counted })
            .collect(),
        totals,
        by_format,
        warnings,
        inputs,
    };
    let to_file = args.out.output.is_some();
    let renderer: Box<dyn Render> = match args.format {
        IngestFormat::Table => Box::new(render::Table {
            color: use_color(args.out.color, to_file),
            explain: false,
        }),
        IngestFormat::Json => Box::new(render::Json),
        IngestFormat::Markdown => Box::new(render::Markdown::default()),
    };
    let mut buffer = Vec::new();
    renderer
        .ingest(&report, &mut buffer)
        .map_err(|source| Error::Output {
            path: "<report>".into(),
            source,
        })?;
    let mut stderr = Vec::new();
    if args.format != IngestFormat::Table || to_file {
        stderr.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    }
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr,
        exit: Exit::Pass,
    })
}

fn policy_validate(paths: &[std::path::PathBuf]) -> Result<Outcome, Error> {
    let loaded = policy::load(paths)?;
    let mut stderr: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    let n = loaded.policy.budgets.len();
    stderr.push(format!(
        "carbon-gate: policy OK: {n} budget{} in {} file{}",
        if n == 1 { "" } else { "s" },
        loaded.policy.files.len(),
        if loaded.policy.files.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    Ok(Outcome {
        stdout: Vec::new(),
        stderr,
        exit: Exit::Pass,
    })
}

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
    let mut outcome = run(cli)?;
    let fail_on = input("fail-on").unwrap_or_else(|| "fail".to_owned());
    let verdict_of = |stderr: &[String]| {
        stderr
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("carbon-gate: "))
            .map(|l| l.split(':').next().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    match fail_on.as_str() {
        "fail" => {}
        "warn" if outcome.exit == Exit::Pass && verdict_of(&outcome.stderr) == "WARN" => {
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

fn estimate_command(args: &cli::EstimateArgs) -> Result<Outcome, Error> {
    let reference = reference::Reference::embedded()?;
    let input = estimate::Input {
        accelerator: args.accelerator.clone(),
        power: args.power,
        count: args.count,
        hours: args.hours.map(|h| units::Duration::seconds(h * 3600.0)),
        device_hours: args.device_hours,
        flops: args.flops,
        mfu: args.mfu,
        peak_tflops: args.peak_tflops,
        utilization: args.utilization,
        region: args.region.clone(),
        country: args.country.clone(),
        intensity: args.intensity,
        market_factor: args.market_factor,
        pue: args.pue,
        lifetime: args.lifetime,
        devices_per_server: args.devices_per_server,
        accelerator_embodied: args.accelerator_embodied,
        server_embodied: args.server_embodied,
        model: args.model.clone(),
        version: args.model_version.as_ref().map(ToString::to_string),
        phase: args.phase,
        run_id: args.run_id.clone(),
        overrides: if args.policy.is_empty() {
            embodied::Overrides::default()
        } else {
            policy::load(&args.policy)?.policy.overrides
        },
    };
    let estimate = estimate::estimate(&input, reference)?;
    let mut buffer = Vec::new();
    let written = match args.format {
        cli::EstimateFormat::Record => render::estimate::record(&estimate, &mut buffer),
        cli::EstimateFormat::Json => render::estimate::json(&estimate, &mut buffer),
        cli::EstimateFormat::Table => render::estimate::text(&estimate, args.explain, &mut buffer),
    };
    written.map_err(|source| Error::Output {
        path: "<report>".into(),
        source,
    })?;
    let t = render::estimate::totals(&estimate);
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr: vec![format!(
            "carbon-gate: estimate: {} energy, {} CO2e ({} operational + {} embodied); range {}–{}",
            t.energy, t.emissions, t.operational, t.embodied, t.emissions_low, t.emissions_high
        )],
        exit: Exit::Pass,
    })
}

fn reference_command(cmd: &cli::ReferenceCommand) -> Result<Outcome, Error> {
    use cli::{ReferenceCommand, ReferenceFormat, ReferenceTable};
    let reference = reference::Reference::embedded()?;
    let mut out = Vec::new();
    let json = |value: serde_json::Value, out: &mut Vec<u8>| {
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    };
    match cmd {
        ReferenceCommand::List { table, format } => {
            let names: Vec<&str> = match table {
                None => reference::TABLES.iter().map(|t| t.0).collect(),
                Some(t) => vec![match t {
                    ReferenceTable::Accelerators => "accelerators",
                    ReferenceTable::Cpus => "cpus",
                    ReferenceTable::Countries => "countries",
                    ReferenceTable::Subdivisions => "subdivisions",
                    ReferenceTable::Regions => "regions",
                    ReferenceTable::Pue => "pue",
                    ReferenceTable::Defaults => "defaults",
                }],
            };
            match format {
                ReferenceFormat::Json => {
                    let mut doc = serde_json::Map::new();
                    for name in names {
                        let value = match name {
                            "accelerators" => serde_json::to_value(&reference.accelerators),
                            "cpus" => serde_json::to_value(&reference.cpus),
                            "countries" => serde_json::to_value(&reference.countries),
                            "subdivisions" => serde_json::to_value(&reference.subdivisions),
                            "regions" => serde_json::to_value(&reference.regions),
                            "pue" => serde_json::to_value(&reference.pue),
                            _ => serde_json::to_value(&reference.defaults),
                        }
                        .unwrap_or_default();
                        doc.insert(name.to_owned(), value);
                    }
                    json(serde_json::Value::Object(doc), &mut out);
                }
                ReferenceFormat::Table => {
                    for (name, file, text) in
                        reference::TABLES.iter().filter(|t| names.contains(&t.0))
                    {
                        let (header, rows) = reference::raw_rows(text);
                        let mut t = comfy_table::Table::new();
                        t.load_style(comfy_table::presets::ASCII_MARKDOWN);
                        t.force_no_tty();
                        t.set_header(header);
                        for row in rows {
                            t.add_row(row);
                        }
                        out.extend_from_slice(
                            format!("{name} (src/reference/{file})\n{t}\n\n").as_bytes(),
                        );
                    }
                }
            }
        }
        ReferenceCommand::Show { name, format } => {
            let rows = reference::find_rows(name);
            if rows.is_empty() {
                let known = reference::known_names();
                let suggestions = reference::closest(name, known.iter().map(String::as_str));
                return Err(Error::input(
                    error::Problem::new(
                        error::Location::file("<command line>"),
                        format!("no reference row named \"{name}\""),
                    )
                    .with_help(format!("closest known: {}", suggestions.join(", "))),
                ));
            }
            match format {
                ReferenceFormat::Json => {
                    let values: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(table, header, row)| {
                            let mut m = serde_json::Map::new();
                            m.insert("table".into(), (*table).into());
                            for (k, v) in header.iter().zip(row) {
                                m.insert(k.clone(), v.clone().into());
                            }
                            serde_json::Value::Object(m)
                        })
                        .collect();
                    json(serde_json::Value::Array(values), &mut out);
                }
                ReferenceFormat::Table => {
                    for (table, header, row) in rows {
                        out.extend_from_slice(format!("[{table}]\n").as_bytes());
                        for (k, v) in header.iter().zip(&row) {
                            out.extend_from_slice(format!("  {k}: {v}\n").as_bytes());
                        }
                    }
                }
            }
        }
    }
    Ok(Outcome {
        stdout: out,
        stderr: Vec::new(),
        exit: Exit::Pass,
    })
}

/// The trade-off of each group that has more than its candidate, or metrics to compare.
fn group_tradeoffs(
    models: &[report::ModelReport],
    policy: &policy::Policy,
) -> Vec<tradeoff::TradeOff> {
    // The groups in order of first appearance, each with its members (a check may hold
    // thousands of models, each its own group: no search per model).
    let mut groups: Vec<Vec<&report::ModelReport>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for m in models {
        let at = *index.entry(m.group.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(m);
    }
    groups
        .into_iter()
        .filter_map(|members| {
            let candidate = members.iter().find(|m| m.role == report::Role::Candidate)?;
            if members.len() < 2 && candidate.metrics.is_empty() {
                return None;
            }
            let version = candidate
                .version
                .as_deref()
                .and_then(|v| semver::Version::parse(v).ok());
            let rule = policy
                .budget_for(&candidate.model, version.as_ref())
                .and_then(|b| b.rules.accuracy.as_ref());
            tradeoff::build(&members, rule)
        })
        .collect()
}

/// Append one JSON line per evaluated candidate and alternative to the history ledger.
fn append_ledger(
    path: &std::path::Path,
    report: &CheckReport,
    commit: Option<&str>,
) -> Result<(), Error> {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
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

/// Return the report for standard output, or write it whole to `path` and return nothing
/// (`outfile::replace`: an unpredictable temporary file in the same directory, renamed into
/// place; links at the target are replaced, devices and pipes written directly).
fn deliver(buffer: Vec<u8>, path: Option<&Path>) -> Result<Vec<u8>, Error> {
    let Some(path) = path else {
        // Standard output is the CI log: no line of it may start a workflow command
        // (error::defuse_commands). In JSON, `##[` can only be inside a string, where
        // `#\u0023[` is the same text and stays valid JSON.
        return Ok(match String::from_utf8(buffer) {
            Ok(text)
                if text.contains("##[")
                    && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() =>
            {
                text.replace("##[", "#\\u0023[").into_bytes()
            }
            Ok(text) => error::defuse_commands(&text).into_owned().into_bytes(),
            Err(e) => e.into_bytes(),
        });
    };
    outfile::replace(path, &buffer).map_err(|source| Error::Output {
        path: path.to_owned(),
        source,
    })?;
    Ok(Vec::new())
}
