//! Reading logs into ledger entries: what `check`, `report`, `ingest` and `promote` share.

use crate::error::{self, Error, display_path};
use crate::ledger::{self, Attribution, Reconciled};
use crate::{cli, diagnostic, ingest, metrics, record};

/// Read and reconcile logs.
pub(crate) fn read_logs(
    input: &cli::InputArgs,
) -> Result<(Reconciled, Vec<ingest::InputFile>, Vec<diagnostic::Warning>), Error> {
    let options = ingest::Options::from(input);
    let ingested = ingest::ingest(&input.logs, &options)?;
    let mut warnings = ingested.warnings;
    let reconciled = ledger::reconcile(ingested.records)?;
    warnings.extend(reconciled.warnings.iter().cloned());
    Ok((reconciled, ingested.files, warnings))
}

/// What one set of logs gives: ledger entries, the files read and the warnings.
pub(crate) struct Read {
    pub(crate) entries: Vec<ledger::Entry>,
    /// Every record read (superseded snapshots included), for `--predict`.
    pub(crate) records: Vec<record::RunRecord>,
    pub(crate) inputs: Vec<ingest::InputFile>,
    pub(crate) warnings: Vec<diagnostic::Warning>,
}

pub(crate) fn read_entries(
    logs: &[std::path::PathBuf],
    input: &cli::InputArgs,
    attribution: &Attribution,
    keep_records: bool,
) -> Result<Read, Error> {
    let options = ingest::Options::from(input);
    if !keep_records {
        // The records are folded into the ledger as they are read: memory grows with the
        // number of runs, not of rows.
        let mut reducer = ledger::reduce::Reducer::new(attribution.rules);
        if attribution.keep_runs {
            reducer = reducer.keeping_records_whole();
        }
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
pub(crate) fn metrics_for(
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
pub(crate) fn take_entry(entries: Vec<ledger::Entry>, model: &str) -> ledger::Entry {
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
        runs: Vec::new(),
    })
}
