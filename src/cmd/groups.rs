//! Candidate groups (a candidate, its baseline and alternatives) from `carbon-gate.yaml` or from
//! the command line, and baselines taken from an earlier `check --format json` report.

use crate::error::{self, Error, display_path};
use crate::ledger::{self, Attribution};
use crate::{cli, config, diagnostic, ingest, metrics, policy, record, units};

use super::read::{metrics_for, read_entries, take_entry};

/// Whether a file is a carbon-gate `check --format json` report.
pub(crate) fn is_check_report(path: &std::path::Path) -> bool {
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
pub(crate) fn groups_from_config(
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
pub(crate) fn groups_from_cli(
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
