//! Ledger: decide which records count, so that no run is lost and none is counted twice, then
//! attribute the counted runs to `(model, version)` and total them.
//!
//! Reconciliation works on records of one format that share a run id:
//! - several whole-run rows of one run (CodeCarbon `flush()` snapshots, a rewrite, the same file
//!   given twice, a run present in a rotated backup and in the new file): the rows are cumulative
//!   snapshots of the same run, so the one with the most energy (then emissions, then duration,
//!   then the last read) is counted and the others are marked superseded;
//! - per-task rows of a run whose run row is present: already included in the run row, not
//!   counted again; when the run row's duration is shorter than its tasks' sum (CodeCarbon 3.x
//!   writes only the last task's duration there) the sum is used;
//! - per-task rows without a run row (the run was not stopped): the tasks are counted, each task
//!   name once (its most complete row), as that run.
//!
//! Each judgement is reported as a warning with the places involved.

use std::collections::{BTreeMap, HashMap};

use semver::Version;
use serde::Serialize;

use crate::codes;
use crate::diagnostic::Warning;
use crate::error::Location;
use crate::record::{Format, RunRecord};
use crate::units::{Duration, Energy, Mass};

/// Whether a record is counted, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// Counted in the totals.
    Counted,
    /// Another row of the same run is more complete and was counted instead.
    Superseded {
        /// The row counted instead.
        by: Location,
    },
    /// A task row whose run row (which includes it) was counted.
    InRunRow {
        /// The run row.
        run: Location,
    },
}

/// Records with their statuses, and the judgements made.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// The records, possibly with corrected durations.
    pub records: Vec<RunRecord>,
    /// One status per record, same order.
    pub statuses: Vec<Status>,
    /// Judgements made.
    pub warnings: Vec<Warning>,
}

/// Order of completeness between two snapshots of the same run.
fn more_complete(a: &RunRecord, b: &RunRecord) -> bool {
    (a.energy.value(), a.emissions.value(), a.duration.value())
        > (b.energy.value(), b.emissions.value(), b.duration.value())
}

/// Pick the most complete record among `indices`; ties go to the last read.
fn best(records: &[RunRecord], indices: &[usize]) -> usize {
    let mut pick = indices[0];
    for &i in &indices[1..] {
        if !more_complete(&records[pick], &records[i]) {
            pick = i;
        }
    }
    pick
}

fn lines(records: &[RunRecord], indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| records[i].source.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decide which records count.
pub fn reconcile(mut records: Vec<RunRecord>) -> Reconciled {
    let mut statuses = vec![Status::Counted; records.len()];
    let mut warnings = Vec::new();
    let mut groups: Vec<((Format, String), Vec<usize>)> = Vec::new();
    let mut index: HashMap<(Format, String), usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let key = (r.format, r.run_id.clone());
        match index.get(&key) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![i]));
            }
        }
    }
    for ((_, run_id), members) in &groups {
        let (whole, tasks): (Vec<usize>, Vec<usize>) =
            members.iter().partition(|&&i| records[i].task.is_none());
        if !whole.is_empty() {
            let pick = best(&records, &whole);
            if whole.len() > 1 {
                for &i in whole.iter().filter(|&&i| i != pick) {
                    statuses[i] = Status::Superseded {
                        by: records[pick].source.clone(),
                    };
                }
                warnings.push(Warning::at(
                    codes::DUPLICATE_RUN,
                    records[pick].source.clone(),
                    format!(
                        "run {run_id} has {} rows ({}); they are cumulative snapshots of one run, so only the most complete one, here, is counted",
                        whole.len(),
                        lines(&records, &whole)
                    ),
                ));
            }
            if !tasks.is_empty() {
                let run_at = records[pick].source.clone();
                for &i in &tasks {
                    statuses[i] = Status::InRunRow {
                        run: run_at.clone(),
                    };
                }
                warnings.push(Warning::at(
                    codes::TASK_ROWS_IN_RUN,
                    run_at.clone(),
                    format!(
                        "{} task rows of run {run_id} ({}) are already included in this run row; not counted again",
                        tasks.len(),
                        lines(&records, &tasks)
                    ),
                ));
                let task_time: Duration = distinct_tasks(&records, &tasks)
                    .iter()
                    .map(|&i| records[i].duration)
                    .sum();
                if task_time > records[pick].duration {
                    warnings.push(Warning::at(
                        codes::TASK_DURATION_CORRECTED,
                        run_at,
                        format!(
                            "run {run_id}: duration {} s in the run row is shorter than its tasks' total {} s; used the tasks' total",
                            records[pick].duration.value(),
                            task_time.value()
                        ),
                    ));
                    records[pick].duration = task_time;
                }
            }
        } else {
            let keep = distinct_tasks(&records, &tasks);
            for &i in &tasks {
                if !keep.contains(&i) {
                    let name = &records[i].task;
                    let by = keep
                        .iter()
                        .find(|&&k| &records[k].task == name)
                        .map(|&k| records[k].source.clone());
                    if let Some(by) = by {
                        statuses[i] = Status::Superseded { by };
                    }
                }
            }
            warnings.push(Warning::at(
                codes::TASK_ROWS_WITHOUT_RUN,
                records[tasks[0]].source.clone(),
                format!(
                    "run {run_id} has task rows ({}) but no run row (was the tracker stopped?); counted its {} tasks as the run",
                    lines(&records, &tasks),
                    keep.len()
                ),
            ));
        }
    }
    Reconciled {
        records,
        statuses,
        warnings,
    }
}

/// The most complete row of each task name among `tasks`, in read order.
fn distinct_tasks(records: &[RunRecord], tasks: &[usize]) -> Vec<usize> {
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in tasks {
        by_name
            .entry(records[i].task.as_deref().unwrap_or_default())
            .or_default()
            .push(i);
    }
    let mut keep: Vec<usize> = by_name.values().map(|ix| best(records, ix)).collect();
    keep.sort_unstable();
    keep
}

/// Totals over counted records.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Totals {
    /// Energy, kWh.
    #[serde(rename = "energy_kwh")]
    pub energy: Energy,
    /// Emissions, kg CO2e.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// Duration summed over runs, seconds.
    #[serde(rename = "duration_s")]
    pub duration: Duration,
    /// Distinct runs counted.
    pub runs: usize,
}

/// Total the counted records among `indices`.
pub fn totals(reconciled: &Reconciled, indices: impl IntoIterator<Item = usize>) -> Totals {
    let counted: Vec<&RunRecord> = indices
        .into_iter()
        .filter(|&i| reconciled.statuses[i] == Status::Counted)
        .map(|i| &reconciled.records[i])
        .collect();
    let runs: std::collections::HashSet<(Format, &str)> = counted
        .iter()
        .map(|r| (r.format, r.run_id.as_str()))
        .collect();
    Totals {
        energy: counted.iter().map(|r| r.energy).sum(),
        emissions: counted.iter().map(|r| r.emissions).sum(),
        duration: counted.iter().map(|r| r.duration).sum(),
        runs: runs.len(),
    }
}

/// How records are attributed to a model and version.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// Every record belongs to this model (`--model`); otherwise the record's project name.
    pub model: Option<String>,
    /// Every record is of this version (`--model-version`).
    pub version: Option<Version>,
}

/// The name used for records that carry no project name.
pub const UNNAMED_MODEL: &str = "unnamed";

/// One counted record's part in a total: where it was read and what it added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// File and line of the row.
    pub source: Location,
    /// The format it was read from.
    pub format: Format,
    /// Its run id.
    pub run_id: String,
    /// Its task, for a per-task row.
    pub task: Option<String>,
    /// Energy added, kWh.
    #[serde(rename = "energy_kwh")]
    pub energy: Energy,
    /// Emissions added, kg CO2e.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// Duration added, s.
    #[serde(rename = "duration_s")]
    pub duration: Duration,
}

/// One model's share of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Model name.
    pub model: String,
    /// Model version, when known.
    pub version: Option<Version>,
    /// Totals over its counted records.
    pub totals: Totals,
    /// The counted records that make the totals, in read order.
    pub contributions: Vec<Contribution>,
}

/// Attribute records to models and total them, sorted by model name. A model named by
/// `attribution.model` always has an entry, with zero runs when no record was read.
pub fn aggregate(reconciled: &Reconciled, attribution: &Attribution) -> Vec<Entry> {
    let mut by_model: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    if let Some(model) = &attribution.model {
        by_model.entry(model.clone()).or_default();
    }
    for (i, r) in reconciled.records.iter().enumerate() {
        let model = attribution
            .model
            .clone()
            .or_else(|| r.project.clone())
            .unwrap_or_else(|| UNNAMED_MODEL.to_owned());
        by_model.entry(model).or_default().push(i);
    }
    by_model
        .into_iter()
        .map(|(model, records)| Entry {
            totals: totals(reconciled, records.iter().copied()),
            contributions: records
                .iter()
                .filter(|&&i| reconciled.statuses[i] == Status::Counted)
                .map(|&i| {
                    let r = &reconciled.records[i];
                    Contribution {
                        source: r.source.clone(),
                        format: r.format,
                        run_id: r.run_id.clone(),
                        task: r.task.clone(),
                        energy: r.energy,
                        emissions: r.emissions,
                        duration: r.duration,
                    }
                })
                .collect(),
            model,
            version: attribution.version.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Place;

    fn rec(run: &str, task: Option<&str>, line: u64, kwh: f64, s: f64) -> RunRecord {
        RunRecord {
            source: Location::line("e.csv", line),
            format: Format::Codecarbon,
            layout: String::new(),
            tool_version: None,
            run_id: run.to_owned(),
            task: task.map(str::to_owned),
            project: Some("p".to_owned()),
            timestamp: None,
            duration: Duration::seconds(s),
            energy: Energy::kwh(kwh),
            emissions: Mass::kg(kwh / 10.0),
            components: None,
            place: Place::default(),
            pue: None,
        }
    }

    #[test]
    fn snapshots_of_one_run_count_once() {
        let r = reconcile(vec![
            rec("a", None, 2, 1.0, 10.0),
            rec("a", None, 3, 3.0, 30.0),
            rec("b", None, 4, 5.0, 50.0),
        ]);
        assert_eq!(
            r.statuses[0],
            Status::Superseded {
                by: Location::line("e.csv", 3)
            }
        );
        let t = totals(&r, 0..3);
        assert_eq!((t.energy, t.runs), (Energy::kwh(8.0), 2));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].code, codes::DUPLICATE_RUN);
    }

    #[test]
    fn task_rows_with_their_run_row_are_not_recounted() {
        let r = reconcile(vec![
            rec("a", Some("t1"), 2, 1.0, 5.0),
            rec("a", Some("t2"), 3, 2.0, 6.0),
            rec("a", None, 2, 3.0, 6.0),
        ]);
        let t = totals(&r, 0..3);
        assert_eq!((t.energy, t.runs), (Energy::kwh(3.0), 1));
        assert_eq!(t.duration, Duration::seconds(11.0));
        let codes: Vec<_> = r.warnings.iter().map(|w| w.code).collect();
        assert_eq!(
            codes,
            vec![codes::TASK_ROWS_IN_RUN, codes::TASK_DURATION_CORRECTED]
        );
    }

    #[test]
    fn task_rows_without_run_row_count_as_the_run() {
        let r = reconcile(vec![
            rec("a", Some("t1"), 2, 1.0, 5.0),
            rec("a", Some("t2"), 3, 2.0, 6.0),
        ]);
        let t = totals(&r, 0..2);
        assert_eq!((t.energy, t.runs), (Energy::kwh(3.0), 1));
    }

    #[test]
    fn named_model_without_records_has_an_empty_entry() {
        let r = reconcile(vec![]);
        let entries = aggregate(
            &r,
            &Attribution {
                model: Some("m".into()),
                version: None,
            },
        );
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].totals.runs, 0);
    }
}
