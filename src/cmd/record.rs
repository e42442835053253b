//! `carbon-gate record`: total a run's emissions logs (its artifacts, or logs named on the
//! command line) and log the totals on the run as `carbon_gate.*` metrics and tags.

use super::{Outcome, tracking};
use crate::cli::RecordArgs;
use crate::error::Error;
use crate::exit::Exit;
use crate::record::{Method, RunRecord};
use crate::registry::mlflow::{self, Mlflow, Tag};
use crate::registry::{Evidence, PREFIX, cut, number, run_evidence, runtime};
use crate::{ingest, ledger};

/// `carbon-gate record`: total a run's evidence and log it on the run as metrics and tags.
pub(crate) fn record(
    args: &RecordArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, Error> {
    // A ledger URL that cannot be one is refused before the server is called (exit 2).
    let ledger = args
        .ledger
        .url
        .as_deref()
        .map(crate::store::Target::parse)
        .transpose()?;
    let client = tracking::client(&args.registry, env)?;
    let (mut outcome, counted) = runtime()?.block_on(record_with(args, &client))?;
    if let Some(target) = &ledger {
        if args.registry.dry_run {
            outcome.stderr.push(format!(
                "carbon-gate: dry run: would store {} counted runs in {}",
                counted.len(),
                target.display()
            ));
        } else {
            let policy = if args.policy.is_empty() {
                crate::policy::Policy::default()
            } else {
                crate::policy::load(&args.policy)?.policy
            };
            let (runs, written) = super::ledger::record_runs(target, &policy, counted)?;
            outcome.stderr.push(format!(
                "carbon-gate: stored {runs} runs in {}: {} new, {} grew, {} already there",
                target.display(),
                written.new,
                written.grew,
                written.same
            ));
        }
    }
    Ok(outcome)
}

async fn record_with(
    args: &RecordArgs,
    client: &Mlflow,
) -> Result<(Outcome, Vec<super::ledger::Counted>), Error> {
    let id = &args.run_id;
    let run = client.run(id).await.map_err(|e| match e {
        mlflow::RegistryError::NotFound(m) => {
            Error::Usage(format!("run {id} not found on the tracking server: {m}"))
        }
        other => other.into(),
    })?;
    let (paths, origin) = if args.input.logs.is_empty() {
        // Only logs: recording from the run's own carbon_gate.* metrics would copy them.
        match run_evidence(client, &run, &tracking::artifacts(&args.registry)).await? {
            Evidence::Artifacts { paths, .. } => (paths, "the run's artifacts"),
            _ => {
                return Err(Error::Usage(format!(
                    "run {id} has no emissions log among its artifacts (looked for {}): pass the logs on the command line",
                    args.registry.artifact_globs.join(", ")
                )));
            }
        }
    } else {
        (args.input.logs.clone(), "the command line")
    };
    let ingest::Ingested {
        records,
        warnings,
        files,
    } = ingest::ingest(&paths, &ingest::Options::from(&args.input))?;
    crate::record::check_plausible(&records)?;
    let reconciled = ledger::reconcile(records)?;
    let counted: Vec<usize> = (0..reconciled.records.len()).collect();
    let totals = ledger::totals(&reconciled, counted);
    let counted_records: Vec<&RunRecord> = reconciled
        .records
        .iter()
        .zip(&reconciled.statuses)
        .filter(|(_, s)| **s == ledger::Status::Counted)
        .map(|(r, _)| r)
        .collect();
    let method = counted_records
        .iter()
        .map(|r| r.method)
        .find(|m| *m != Method::Measured)
        .unwrap_or(Method::Measured);
    let method_name = serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut metrics = vec![
        (format!("{PREFIX}co2e_kg"), totals.emissions.value()),
        (format!("{PREFIX}energy_kwh"), totals.energy.value()),
        (
            format!("{PREFIX}operational_co2e_kg"),
            totals.operational.value(),
        ),
        (format!("{PREFIX}embodied_co2e_kg"), totals.embodied.value()),
        (format!("{PREFIX}duration_s"), totals.duration.value()),
    ];
    if let Some(m) = totals.market {
        metrics.push((format!("{PREFIX}market_co2e_kg"), m.value()));
    }
    let sources: Vec<String> = files
        .iter()
        .map(|f| {
            f.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let tags = vec![
        Tag {
            key: format!("{PREFIX}method"),
            value: method_name,
        },
        Tag {
            key: format!("{PREFIX}runs"),
            value: totals.runs.to_string(),
        },
        Tag {
            key: format!("{PREFIX}sources"),
            value: cut(sources.join(", ")),
        },
        Tag {
            key: format!("{PREFIX}tool_version"),
            value: env!("CARGO_PKG_VERSION").to_owned(),
        },
    ];
    let mut stderr = crate::diagnostic::warning_lines(warnings.iter().chain(&reconciled.warnings));
    let mut out = String::new();
    for (k, v) in &metrics {
        out.push_str(&format!("{k} = {}\n", number(*v)));
    }
    for t in &tags {
        out.push_str(&format!("{} = {}\n", t.key, t.value));
    }
    if args.registry.dry_run {
        stderr.push(format!(
            "carbon-gate: dry run: would log {} metrics and {} tags on run {id} (from {origin})",
            metrics.len(),
            tags.len()
        ));
    } else {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        client
            .log_batch(id, &metrics, &tags, i64::try_from(now_ms).unwrap_or(0))
            .await?;
        stderr.push(format!(
            "carbon-gate: logged {} metrics and {} tags on run {id} (from {origin}: {} files, {} runs)",
            metrics.len(),
            tags.len(),
            files.len(),
            totals.runs
        ));
    }
    let counted = counted_records
        .iter()
        .map(|r| super::ledger::Counted {
            model: r
                .model
                .as_deref()
                .and_then(|m| crate::names::normalize(m).ok())
                .unwrap_or_else(|| ledger::UNNAMED_MODEL.to_owned()),
            version: r.version.clone(),
            record: (*r).clone(),
        })
        .collect();
    Ok((
        Outcome {
            stdout: out.into_bytes(),
            stderr,
            exit: Exit::Pass,
        },
        counted,
    ))
}
