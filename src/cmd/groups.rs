//! Candidate groups (a candidate, its baseline and alternatives) from `carbon-gate.yaml` or from
//! the command line, and baselines taken from an earlier `check --format json` report.

use crate::error::{self, Error, display_path};
use crate::ledger::{self, Attribution};
use crate::{cli, config, diagnostic, ingest, metrics, policy, record};

use super::read::{metrics_for, read_entries, take_entry};

/// Whether text is a carbon-gate `check --format json` report (rather than an emissions log).
fn looks_like_report(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && t.contains("\"schema_version\"") && t.contains("\"models\"")
}

/// Whether a file is a carbon-gate `check --format json` report.
pub(crate) fn is_check_report(path: &std::path::Path) -> bool {
    path.is_file()
        && ingest::bounded::read_regular_text(path, ingest::bounded::MAX_DOCUMENT)
            .is_ok_and(|t| looks_like_report(&t))
}

/// A `check --format json` report given as a baseline, read once: the model versions it judged,
/// their totals and metrics, in the report's own types.
pub(crate) struct BaselineReport {
    path: std::path::PathBuf,
    models: Vec<ReportedModel>,
}

/// What a baseline needs of one model version of a check report (`ModelReport` as written).
#[derive(serde::Deserialize)]
struct ReportedModel {
    model: String,
    version: Option<String>,
    #[serde(default)]
    role: Option<crate::report::Role>,
    totals: ledger::Totals,
    #[serde(default)]
    metrics: metrics::Metrics,
}

impl BaselineReport {
    /// The report at `path`; `None` when the file is not a check report (an emissions log).
    pub(crate) fn open(path: &std::path::Path) -> Result<Option<BaselineReport>, Error> {
        if !path.is_file() {
            return Ok(None);
        }
        let Ok(text) = ingest::bounded::read_regular_text(path, ingest::bounded::MAX_DOCUMENT)
        else {
            return Ok(None);
        };
        if !looks_like_report(&text) {
            return Ok(None);
        }
        #[derive(serde::Deserialize)]
        struct Report {
            models: Vec<ReportedModel>,
        }
        let report: Report = serde_json::from_str(&text)
            .map_err(|e| bad_report(path, format!("not a carbon-gate check report: {e}")))?;
        Ok(Some(BaselineReport {
            path: path.to_owned(),
            models: report.models,
        }))
    }

    /// The baseline for `model` (at `version`, when given): the report's candidate of that name.
    fn baseline(
        &self,
        model: &str,
        version: Option<&semver::Version>,
    ) -> Result<policy::eval::ReportedBaseline, Error> {
        let wanted = version.map(ToString::to_string);
        let m = self
            .models
            .iter()
            .filter(|m| m.role.is_none_or(|r| r == crate::report::Role::Candidate))
            .find(|m| m.model == model && (wanted.is_none() || m.version == wanted))
            .ok_or_else(|| {
                let names: Vec<String> = self
                    .models
                    .iter()
                    .map(|m| format!("{} {}", m.model, m.version.as_deref().unwrap_or("-")))
                    .collect();
                bad_report(
                    &self.path,
                    format!(
                        "the report has no candidate {model}{}; it holds: {}",
                        wanted
                            .as_deref()
                            .map(|v| format!(" {v}"))
                            .unwrap_or_default(),
                        names.join(", ")
                    ),
                )
            })?;
        let (energy, co2e) = (m.totals.energy, m.totals.emissions);
        if !(co2e.value().is_finite() && energy.value().is_finite()) {
            return Err(bad_report(
                &self.path,
                "the report's totals are not finite numbers".to_owned(),
            ));
        }
        Ok(policy::eval::ReportedBaseline {
            model: m.model.clone(),
            version: m.version.clone(),
            source: display_path(&self.path),
            energy,
            co2e,
            metrics: m.metrics.clone(),
        })
    }
}

/// A baseline report that cannot serve, with what to pass instead.
fn bad_report(path: &std::path::Path, message: String) -> Error {
    Error::input(
        error::Problem::new(error::Location::file(path), message).with_help(
            "pass the JSON that `carbon-gate check --format json` wrote on the base branch",
        ),
    )
}

/// Candidate groups from `carbon-gate.yaml`.
pub(crate) fn groups_from_config(
    cfg: &config::Config,
    rules: ledger::Rules,
    keep_runs: bool,
    input: &cli::InputArgs,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<diagnostic::Warning>,
) -> Result<Vec<policy::eval::GroupInput>, Error> {
    // Evidence named and then not read would be a gate judging less than it was shown.
    if !input.logs.is_empty() {
        let named: Vec<String> = input
            .logs
            .iter()
            .map(|p| crate::error::display_path(p))
            .collect();
        return Err(Error::Usage(format!(
            "the configuration lists the candidates and their logs, so the logs named on the command line ({}) would not be read: leave them out, or drop --config to check them",
            named.join(", ")
        )));
    }
    let mut subject = |source: &config::Source| -> Result<policy::eval::Subject, Error> {
        let attribution = Attribution {
            model: Some(source.model.clone()),
            version: source.version.clone(),
            phase: source.phase.or(input.phase),
            rules,
            keep_runs,
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
            }) => {
                let report = BaselineReport::open(path)?.ok_or_else(|| {
                    bad_report(
                        path,
                        "cannot read it as a carbon-gate check report".to_owned(),
                    )
                })?;
                Some(policy::eval::BaselineInput::Report(
                    report.baseline(model, version.as_ref())?,
                ))
            }
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

/// Where CodeCarbon writes its log by default: read by `check` and `report` when no log is named
/// outside CI, and by `init` when no log is named.
pub(crate) const DEFAULT_LOG: &str = "emissions.csv";

/// The logs named; else, outside CI (`CI` unset or empty), `emissions.csv` when it is a file in
/// the current directory (a first try: `carbon-gate check` where the training ran); else `None`.
fn logs_or_default(named: &[std::path::PathBuf]) -> Option<Vec<std::path::PathBuf>> {
    if !named.is_empty() {
        return Some(named.to_vec());
    }
    let is_file = std::fs::symlink_metadata(DEFAULT_LOG).is_ok_and(|m| m.is_file());
    (super::set_var("CI").is_none() && is_file).then(|| vec![DEFAULT_LOG.into()])
}

/// Candidate groups from the command line: each model in the logs is a candidate; the baseline
/// logs (or report) give each its baseline by model name.
pub(crate) fn groups_from_cli(
    args: &cli::EvalArgs,
    rules: ledger::Rules,
    keep_runs: bool,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<diagnostic::Warning>,
    records: Option<&mut Vec<record::RunRecord>>,
) -> Result<Vec<policy::eval::GroupInput>, Error> {
    let logs = match logs_or_default(&args.input.logs) {
        Some(logs) => logs,
        None => {
            return Err(Error::Usage(
                "give the emissions logs to check (files or directories), or --config carbon-gate.yaml"
                    .to_owned(),
            ));
        }
    };
    if args.input.logs.is_empty() {
        warnings.push(diagnostic::Warning::at(
            crate::codes::DEFAULT_LOG,
            crate::error::Location::file(DEFAULT_LOG),
            format!("no logs named: read {DEFAULT_LOG} here (where CodeCarbon writes by default); name the logs in CI, where this default does not apply"),
        ));
    }
    let read = read_entries(
        &logs,
        &args.input,
        &Attribution {
            model: args.model.clone(),
            version: args.model_version.clone(),
            phase: args.input.phase,
            rules,
            keep_runs,
        },
        records.is_some(),
    )?;
    inputs.extend(read.inputs);
    warnings.extend(read.warnings);
    if let Some(records) = records {
        records.extend(read.records);
    }
    let file_metrics = args.metrics.as_deref().map(metrics::load).transpose()?;
    let mut reports = Vec::new();
    let mut logs = Vec::new();
    for path in &args.baseline {
        match BaselineReport::open(path)? {
            Some(report) => reports.push(report),
            None => logs.push(path.clone()),
        }
    }
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
                keep_runs,
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
            Some(policy::eval::BaselineInput::Report(
                report.baseline(&entry.model, args.baseline_version.as_ref())?,
            ))
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
