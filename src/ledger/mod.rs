//! Ledger: decide which records count, so that no run is lost and none is counted twice, then
//! attribute the counted runs to `(model, version)` and total them.
//!
//! Reconciliation works on records of one format that share a run id (records re-read from
//! carbon-gate's own JSON keep the format they were first read from, so a run seen both in its
//! original log and in an exported JSON is one run):
//! - several whole-run rows of one run (CodeCarbon `flush()` snapshots, a rewrite, the same file
//!   given twice, a run present in a rotated backup and in the new file): the rows are cumulative
//!   snapshots of the same run, so the one with the most energy (then emissions, then duration,
//!   then the last read) is counted and the others are marked superseded;
//! - parts of a run whose whole-run row is present (CodeCarbon per-task rows): already included
//!   in the run row, not counted again; when the run row's duration is shorter than its tasks'
//!   sum (CodeCarbon 3.x writes only the last task's duration there) the sum is used;
//! - parts without a whole-run row (tasks of a run that was not stopped; the components of an
//!   Impact Framework manifest): each distinct part counts once (its most complete row).
//!
//! Each judgement is reported as a warning with the places involved.

pub mod evidence;
pub mod reduce;

use std::collections::{BTreeMap, HashMap};

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Part, Phase, RunRecord};
use crate::units::{Duration, Energy, ExactSum, Intensity, Mass};
pub use evidence::ConflictRule;
use evidence::Figures;

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
    /// A part (task) whose run row (which includes it) was counted.
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

/// How the ledger treats rows of one run that are not snapshots of each other (the policy's
/// `conflicting-evidence`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// Refuse them (the default), or count the larger of each figure.
    pub conflicts: ConflictRule,
}

/// The error for two rows of one run that disagree on what does not change.
pub(crate) fn mismatch_error(
    run_id: &str,
    first: &Location,
    second: &Location,
    m: &evidence::Mismatch,
) -> Error {
    let run = crate::error::escape_text(run_id);
    let message = if m.field == "model" {
        format!(
            "conflicting attribution: run {run} is claimed by model `{}` ({first}) and by model `{}` ({second}); one run belongs to one model",
            crate::error::escape_text(&m.first),
            crate::error::escape_text(&m.second)
        )
    } else {
        format!(
            "conflicting evidence: rows {first} and {second} of run {run} disagree on what does not change during a run ({m}); they are not snapshots of one run"
        )
    };
    Error::input(Problem::new(second.clone(), message).with_help(
        "remove the row that is not this run's (check where each file came from), or give the other run its own id",
    ))
}

/// The error for two rows of one run whose figures are not ordered.
pub(crate) fn unordered_error(
    run_id: &str,
    first: &Location,
    second: &Location,
    u: &evidence::Unordered,
) -> Error {
    Error::input(Problem::new(
        second.clone(),
        format!(
            "conflicting evidence: rows {first} and {second} of run {} are not snapshots of one run: {u}; a later snapshot has every cumulative figure at least as large",
            crate::error::escape_text(run_id)
        ),
    ).with_help(
        "remove the row that is not this run's (check where each file came from), or let the policy count the larger of each figure: `conflicting-evidence: count-larger`",
    ))
}

/// The warning for rows counted at the larger of each figure.
pub(crate) fn counted_larger(
    run_id: &str,
    first: &Location,
    second: &Location,
    u: &evidence::Unordered,
) -> Warning {
    Warning::at(
        codes::CONFLICTING_EVIDENCE,
        second.clone(),
        format!(
            "rows {first} and {second} of run {} are not snapshots of one run ({u}); counted the larger of each figure (policy: `conflicting-evidence: count-larger`)",
            crate::error::escape_text(run_id)
        ),
    )
}

/// The latest snapshot among the rows `indices` of one run (or of one part of it): the row
/// whose every figure is the largest among them (ties go to the last read). When no row has the
/// largest of every figure, the rows conflict ([`evidence::Tracker`]): refused, or (with
/// `count-larger`) the last row read among the conflicting ones takes the larger of each figure.
fn latest(
    records: &mut [RunRecord],
    indices: &[usize],
    rules: Rules,
    warnings: &mut Vec<Warning>,
) -> Result<usize, Error> {
    let mut tracker = evidence::Tracker::new(Figures::of(&records[indices[0]]), indices[0]);
    for &i in &indices[1..] {
        tracker.add(Figures::of(&records[i]), i);
    }
    let Some((first, second, u)) = tracker.conflict() else {
        return Ok(tracker.at);
    };
    let (a, b) = (&records[first].source, &records[second].source);
    match rules.conflicts {
        ConflictRule::Refuse => Err(unordered_error(&records[second].run_id, a, b, u)),
        ConflictRule::CountLarger => {
            warnings.push(counted_larger(&records[second].run_id, a, b, u));
            let pick = tracker.at;
            tracker.largest.apply(&mut records[pick]);
            Ok(pick)
        }
    }
}

/// Every record of one run must agree with the first on what does not change during a run (the
/// model and version, hardware and place; the start, for whole-run rows).
fn check_identity(records: &[RunRecord], members: &[usize]) -> Result<(), Error> {
    let first = &records[members[0]];
    let id = evidence::identity(first);
    // The run's start: the first whole-run row's that says it.
    let whole_first = members
        .iter()
        .copied()
        .find(|&i| records[i].part.is_none() && evidence::start(&records[i]).is_some());
    let start = whole_first.and_then(|i| evidence::start(&records[i]));
    for &i in &members[1..] {
        let r = &records[i];
        if let Some(m) = evidence::mismatch(&id, &evidence::identity(r)) {
            return Err(mismatch_error(&r.run_id, &first.source, &r.source, &m));
        }
        if r.part.is_none()
            && let Some(w) = whole_first
            && w != i
        {
            let value = |d: Option<Duration>| d.map_or(0.0, |d| d.value());
            let longest = value(records[w].duration).max(value(r.duration));
            if let Some(m) = evidence::start_mismatch(start, evidence::start(r), longest) {
                return Err(mismatch_error(&r.run_id, &records[w].source, &r.source, &m));
            }
        }
    }
    Ok(())
}

/// The places of `indices`, the file named once when they share it: `a.csv:2, 3, 4`.
fn places(records: &[RunRecord], indices: &[usize]) -> String {
    let mut text = String::new();
    let mut last_file = None;
    for (n, &i) in indices.iter().enumerate() {
        let at = &records[i].source;
        if n > 0 {
            text.push_str(", ");
        }
        match (last_file, at.line) {
            (Some(f), Some(line)) if f == &at.file && at.path.is_none() => {
                text.push_str(&line.to_string());
            }
            _ => text.push_str(&at.to_string()),
        }
        last_file = Some(&at.file);
    }
    text
}

/// Decide which records count, with the default rules (conflicting evidence refused).
pub fn reconcile(records: Vec<RunRecord>) -> Result<Reconciled, Error> {
    reconcile_with(records, Rules::default())
}

/// Decide which records count. Rows of one run that are not snapshots of each other are
/// refused (see [`evidence`]), or counted at the larger of each figure where `rules` say so.
pub fn reconcile_with(mut records: Vec<RunRecord>, rules: Rules) -> Result<Reconciled, Error> {
    let mut statuses = vec![Status::Counted; records.len()];
    let mut warnings = Vec::new();
    let groups = group_by_run(&records);
    for members in &groups {
        // The common case: a run read once, as a whole-run row. Counted, nothing to say.
        if let [only] = members.as_slice()
            && records[*only].part.is_none()
        {
            continue;
        }
        check_identity(&records, members.as_slice())?;
        let run_id = records[members.as_slice()[0]].run_id.clone();
        let run_id = &run_id;
        let (whole, parts): (Vec<usize>, Vec<usize>) =
            members.iter().partition(|&&i| records[i].part.is_none());
        let tasks: Vec<usize> = parts
            .iter()
            .copied()
            .filter(|&i| matches!(records[i].part, Some(Part::Task(_))))
            .collect();
        if !whole.is_empty() {
            let pick = latest(&mut records, &whole, rules, &mut warnings)?;
            let run_at = records[pick].source.clone();
            if whole.len() > 1 {
                for &i in whole.iter().filter(|&&i| i != pick) {
                    statuses[i] = Status::Superseded { by: run_at.clone() };
                }
                warnings.push(Warning::at(
                    codes::DUPLICATE_RUN,
                    run_at.clone(),
                    format!(
                        "run {} has {} rows ({}); they are cumulative snapshots of one run, so only the latest, here, is counted",
                        crate::error::escape_text(run_id),
                        whole.len(),
                        places(&records, &whole)
                    ),
                ));
            }
            if !parts.is_empty() {
                let distinct = distinct_parts(&mut records, &parts, rules, &mut warnings)?;
                for &i in &parts {
                    statuses[i] = Status::InRunRow {
                        run: run_at.clone(),
                    };
                }
                warnings.push(Warning::at(
                    codes::TASK_ROWS_IN_RUN,
                    run_at.clone(),
                    format!(
                        "{} task rows of run {} ({}) are already included in this run row; not counted again",
                        parts.len(),
                        crate::error::escape_text(run_id),
                        places(&records, &parts)
                    ),
                ));
                // The run row includes its tasks: it cannot hold less than their sum.
                let task_sum = sum_figures(&records, &distinct);
                let run_figures = Figures::of(&records[pick]);
                let (run_part, sum_part) = (
                    Figures {
                        duration: None,
                        components: None,
                        ..run_figures
                    },
                    Figures {
                        duration: None,
                        components: None,
                        ..task_sum
                    },
                );
                if let Some((figure, run_value, sum_value)) =
                    evidence::shortfall(&sum_part, &run_part)
                {
                    let described = format!(
                        "its {figure} is {} while its tasks ({}) add up to {}",
                        evidence::show(figure, run_value),
                        places(&records, &distinct),
                        evidence::show(figure, sum_value)
                    );
                    match rules.conflicts {
                        ConflictRule::Refuse => {
                            return Err(Error::input(Problem::new(
                                run_at.clone(),
                                format!(
                                    "conflicting evidence: the run row of run {} holds less than its task rows: {described}; a run row includes its tasks",
                                    crate::error::escape_text(run_id),
                                ),
                            ).with_help(
                                "remove the row that is not this run's, or let the policy count the larger of each figure: `conflicting-evidence: count-larger`",
                            )));
                        }
                        ConflictRule::CountLarger => {
                            warnings.push(Warning::at(
                                codes::CONFLICTING_EVIDENCE,
                                run_at.clone(),
                                format!(
                                    "the run row of run {} holds less than its task rows: {described}; counted the larger of each figure (policy: `conflicting-evidence: count-larger`)",
                                    crate::error::escape_text(run_id),
                                ),
                            ));
                            let merged = run_part.max(&sum_part);
                            let r = &mut records[pick];
                            r.energy = merged.energy.map(Energy::kwh);
                            r.emissions = Mass::kg(merged.emissions);
                        }
                    }
                }
                let task_time: Duration = distinct
                    .iter()
                    .filter(|&&i| matches!(records[i].part, Some(Part::Task(_))))
                    .filter_map(|&i| records[i].duration)
                    .sum();
                if !tasks.is_empty()
                    && let Some(run_time) = records[pick].duration
                    && task_time > run_time
                {
                    warnings.push(Warning::at(
                        codes::TASK_DURATION_CORRECTED,
                        run_at,
                        format!(
                            "run {}: duration {} s in the run row is shorter than its tasks' total {} s; used the tasks' total",
                            crate::error::escape_text(run_id),
                            run_time.value(),
                            task_time.value()
                        ),
                    ));
                    records[pick].duration = Some(task_time);
                }
            }
        } else {
            let keep = distinct_parts(&mut records, &parts, rules, &mut warnings)?;
            let mut superseded = Vec::new();
            for &i in &parts {
                if keep.contains(&i) {
                    continue;
                }
                let same = keep.iter().find(|&&k| records[k].part == records[i].part);
                if let Some(&k) = same {
                    statuses[i] = Status::Superseded {
                        by: records[k].source.clone(),
                    };
                    superseded.push(i);
                }
            }
            if !superseded.is_empty() {
                warnings.push(Warning::at(
                    codes::DUPLICATE_RUN,
                    records[superseded[0]].source.clone(),
                    format!(
                        "run {}: {} rows repeat a part already read ({}); only the latest row of each part is counted",
                        crate::error::escape_text(run_id),
                        superseded.len(),
                        places(&records, &superseded)
                    ),
                ));
            }
            if !tasks.is_empty() {
                warnings.push(Warning::at(
                    codes::TASK_ROWS_WITHOUT_RUN,
                    records[tasks[0]].source.clone(),
                    format!(
                        "run {} has task rows ({}) but no run row (was the tracker stopped?); counted its {} tasks as the run",
                        crate::error::escape_text(run_id),
                        places(&records, &tasks),
                        keep.iter().filter(|&&i| matches!(records[i].part, Some(Part::Task(_)))).count()
                    ),
                ));
            }
        }
    }
    Ok(Reconciled {
        records,
        statuses,
        warnings,
    })
}

/// The energy and CO2e of `indices` added up.
fn sum_figures(records: &[RunRecord], indices: &[usize]) -> Figures {
    let mut energy = ExactSum::default();
    let mut any_energy = false;
    let mut emissions = ExactSum::default();
    for &i in indices {
        if let Some(e) = records[i].energy {
            energy.add(e.value());
            any_energy = true;
        }
        emissions.add(records[i].emissions.value());
    }
    Figures {
        energy: any_energy.then(|| energy.value()),
        emissions: emissions.value(),
        duration: None,
        components: None,
    }
}

/// The indices of the records of each run (same format and run id), runs in order of first
/// appearance, records in read order. One hash of each run id; no per-run allocation for the
/// runs read once (the common case).
fn group_by_run(records: &[RunRecord]) -> Vec<Members> {
    let mut groups: Vec<Members> = Vec::new();
    let mut index: HashMap<(Format, &str), usize> = HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        match index.entry((r.format, r.run_id.as_str())) {
            std::collections::hash_map::Entry::Occupied(g) => groups[*g.get()].push(i),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(groups.len());
                groups.push(Members::One(i));
            }
        }
    }
    groups
}

/// The records of one run: most runs have one, so that case is not a `Vec`.
enum Members {
    One(usize),
    Many(Vec<usize>),
}

impl Members {
    fn push(&mut self, i: usize) {
        match self {
            Members::One(first) => *self = Members::Many(vec![*first, i]),
            Members::Many(v) => v.push(i),
        }
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            Members::One(i) => std::slice::from_ref(i),
            Members::Many(v) => v,
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, usize> {
        self.as_slice().iter()
    }
}

/// The latest row of each distinct part among `parts`, in read order (rows of one part are
/// snapshots of it, under the same rules as whole-run rows).
fn distinct_parts(
    records: &mut [RunRecord],
    parts: &[usize],
    rules: Rules,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<usize>, Error> {
    let mut by_part: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in parts {
        let key = match &records[i].part {
            Some(Part::Task(t)) => format!("task:{t}"),
            Some(Part::Component(c)) => format!("component:{c}"),
            None => String::new(),
        };
        by_part.entry(key).or_default().push(i);
    }
    let mut keep = Vec::with_capacity(by_part.len());
    for ix in by_part.values() {
        keep.push(latest(records, ix, rules, warnings)?);
    }
    keep.sort_unstable();
    Ok(keep)
}

/// CO2e by GHG Protocol scope, for the user's inventory (see `docs/methodology.md`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scopes {
    /// Electricity of own or controlled hardware, location-based: Scope 2.
    #[serde(rename = "scope2_location_kg")]
    pub scope2: Mass,
    /// Electricity of cloud services, location-based: Scope 3 category 1 (purchased services).
    #[serde(rename = "scope3_cat1_location_kg")]
    pub scope3_cat1: Mass,
    /// Embodied carbon as an SCI time-share allocation (not a GHG-inventory category 2 figure,
    /// which would book the whole capital good in its year of purchase).
    #[serde(rename = "embodied_sci_time_share_kg")]
    pub embodied: Mass,
}

/// Totals over counted records. Read back (a baseline's `check --format json` report) it needs
/// only `energy_kwh` and `co2e_kg`; what else is missing is zero.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Totals {
    /// Energy, kWh, over the records that report energy.
    #[serde(rename = "energy_kwh")]
    pub energy: Energy,
    /// Operational (location-based) CO2e, kg.
    #[serde(rename = "operational_co2e_kg", default)]
    pub operational: Mass,
    /// Embodied CO2e, kg, over the records that carry it.
    #[serde(rename = "embodied_co2e_kg", default)]
    pub embodied: Mass,
    /// Total CO2e, kg: operational + embodied.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// Market-based operational CO2e, kg, over the records with a contractual factor (`null`:
    /// none has one). Reported beside the location-based figure, never subtracted.
    #[serde(rename = "market_co2e_kg", default)]
    pub market: Option<Mass>,
    /// Lowest energy within the stated ranges of the estimates (measured records at their value).
    #[serde(rename = "energy_low_kwh", default)]
    pub energy_low: Energy,
    /// Highest energy within the stated ranges.
    #[serde(rename = "energy_high_kwh", default)]
    pub energy_high: Energy,
    /// Lowest total CO2e within the stated ranges.
    #[serde(rename = "co2e_low_kg", default)]
    pub emissions_low: Mass,
    /// Highest total CO2e within the stated ranges.
    #[serde(rename = "co2e_high_kg", default)]
    pub emissions_high: Mass,
    /// CO2e by scope.
    #[serde(default)]
    pub scopes: Scopes,
    /// Duration summed over the records that report one, seconds.
    #[serde(rename = "duration_s", default)]
    pub duration: Duration,
    /// Distinct runs counted.
    #[serde(default)]
    pub runs: usize,
    /// Runs with at least one counted record that has no energy figure (e.g. a model card).
    #[serde(default)]
    pub runs_without_energy: usize,
    /// Runs with at least one estimated record.
    #[serde(default)]
    pub estimated_runs: usize,
}

/// Total the counted records among `indices`.
pub fn totals(reconciled: &Reconciled, indices: impl IntoIterator<Item = usize>) -> Totals {
    let counted: Vec<&RunRecord> = indices
        .into_iter()
        .filter(|&i| reconciled.statuses[i] == Status::Counted)
        .map(|i| &reconciled.records[i])
        .collect();
    sum(&counted)
}

/// Total a set of counted records.
pub fn sum(counted: &[&RunRecord]) -> Totals {
    let mut acc = TotalsAcc::default();
    for r in counted {
        acc.add_record(r);
    }
    acc.finish()
}

/// Totals being added up: every figure an exact sum, so that the order of the records, and
/// whether they come one by one or as sums, does not change a bit of the result.
#[derive(Debug, Default)]
pub struct TotalsAcc {
    energy: ExactSum,
    operational: ExactSum,
    embodied: ExactSum,
    emissions: ExactSum,
    market: Option<ExactSum>,
    energy_low: ExactSum,
    energy_high: ExactSum,
    emissions_low: ExactSum,
    emissions_high: ExactSum,
    scope2: ExactSum,
    scope3_cat1: ExactSum,
    duration: ExactSum,
    /// Runs added as sums (distinct from each other and from the records' runs).
    runs: usize,
    /// The records' runs, and whether any of each run's records lacks energy or is an estimate.
    record_runs: HashMap<(Format, String), (bool, bool)>,
}

impl TotalsAcc {
    /// Add one counted record.
    pub fn add_record(&mut self, r: &RunRecord) {
        let key = (r.format, r.run_id.clone());
        let flags = self.record_runs.entry(key).or_default();
        flags.0 |= r.energy.is_none();
        flags.1 |= r.method.is_estimate();
        let energy = r.energy.unwrap_or(Energy::ZERO).value();
        let operational = r.operational().value();
        if let Some(e) = r.energy {
            self.energy.add(e.value());
        }
        self.operational.add(operational);
        if let Some(m) = r.embodied {
            self.embodied.add(m.value());
        }
        self.emissions.add(r.emissions.value());
        if let Some(m) = r.market {
            self.market.get_or_insert_default().add(m.value());
        }
        self.energy_low
            .add(r.band.map_or(energy, |b| b.energy_low_kwh.value()));
        self.energy_high
            .add(r.band.map_or(energy, |b| b.energy_high_kwh.value()));
        self.emissions_low
            .add(r.band.map_or(r.emissions, |b| b.co2e_low_kg).value());
        self.emissions_high
            .add(r.band.map_or(r.emissions, |b| b.co2e_high_kg).value());
        if r.on_cloud() {
            self.scope3_cat1.add(operational);
        } else {
            self.scope2.add(operational);
        }
        if let Some(d) = r.duration {
            self.duration.add(d.value());
        }
    }

    /// Add `runs` measured whole runs with energy, given as sums (no embodied part, no band, no
    /// market figure), on a cloud or not.
    pub fn add_measured(
        &mut self,
        energy: &ExactSum,
        emissions: &ExactSum,
        duration: &ExactSum,
        runs: usize,
        on_cloud: bool,
    ) {
        for sum in [
            &mut self.energy,
            &mut self.energy_low,
            &mut self.energy_high,
        ] {
            sum.merge(energy);
        }
        for sum in [
            &mut self.operational,
            &mut self.emissions,
            &mut self.emissions_low,
            &mut self.emissions_high,
            if on_cloud {
                &mut self.scope3_cat1
            } else {
                &mut self.scope2
            },
        ] {
            sum.merge(emissions);
        }
        self.duration.merge(duration);
        self.runs += runs;
    }

    /// The totals.
    pub fn finish(&self) -> Totals {
        let where_ =
            |flag: fn(&(bool, bool)) -> bool| self.record_runs.values().filter(|f| flag(f)).count();
        let embodied = Mass::kg(self.embodied.value());
        Totals {
            energy: Energy::kwh(self.energy.value()),
            operational: Mass::kg(self.operational.value()),
            embodied,
            emissions: Mass::kg(self.emissions.value()),
            market: self.market.as_ref().map(|m| Mass::kg(m.value())),
            energy_low: Energy::kwh(self.energy_low.value()),
            energy_high: Energy::kwh(self.energy_high.value()),
            emissions_low: Mass::kg(self.emissions_low.value()),
            emissions_high: Mass::kg(self.emissions_high.value()),
            scopes: Scopes {
                scope2: Mass::kg(self.scope2.value()),
                scope3_cat1: Mass::kg(self.scope3_cat1.value()),
                embodied,
            },
            duration: Duration::seconds(self.duration.value()),
            runs: self.runs + self.record_runs.len(),
            runs_without_energy: where_(|f| f.0),
            estimated_runs: where_(|f| f.1),
        }
    }
}

/// How records are attributed to a model and version.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// Every record belongs to this model (`--model`); otherwise the model the record names.
    pub model: Option<String>,
    /// Every record is of this version (`--model-version`); otherwise the version the record
    /// names, when it is semver.
    pub version: Option<Version>,
    /// Records that do not say their phase are of this phase (`--phase`).
    pub phase: Option<Phase>,
    /// How rows of one run are reconciled (the policy's `conflicting-evidence`).
    pub rules: Rules,
    /// Keep every counted run as a record in [`Entry::runs`] (for the organisation's ledger,
    /// `--ledger`): memory then grows with the runs' records, not only their slots.
    pub keep_runs: bool,
}

/// The name used for records that carry no model name.
pub const UNNAMED_MODEL: &str = "unnamed";

/// One counted record's part in a total: where it was read and what it added.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Contribution {
    /// File and line of the row.
    pub source: Location,
    /// The format it was read from.
    pub format: Format,
    /// Its run id.
    pub run_id: String,
    /// The task or component, for a part of a run.
    pub part: Option<Part>,
    /// Its phase, when known.
    pub phase: Option<Phase>,
    /// Energy added, kWh (`null`: the record has none).
    #[serde(rename = "energy_kwh")]
    pub energy: Option<Energy>,
    /// Emissions added, kg CO2e.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// Embodied part of it, when separated.
    #[serde(rename = "embodied_co2e_kg")]
    pub embodied: Option<Mass>,
    /// Duration added, s.
    #[serde(rename = "duration_s")]
    pub duration: Option<Duration>,
    /// Measured, or how it was estimated.
    pub method: crate::record::Method,
    /// How embodied carbon was added by the policy's `embodied:` rule, when it was.
    pub embodied_basis: Option<String>,
    /// How many runs it stands for: 1, or more for a roll-up of the runs of one file and
    /// profile (the runs of a model version beyond its [`reduce::LISTED_RUNS`] largest), whose
    /// rows run from `source` to `last_line`.
    #[serde(skip_serializing_if = "is_one")]
    pub runs: usize,
    /// The last row of a roll-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_line: Option<u64>,
    /// The highest operational intensity among the runs of a roll-up (for `limits.intensity`).
    #[serde(skip)]
    pub worst_intensity: Option<Intensity>,
    /// The hardware the row records (used to compute embodied carbon).
    #[serde(skip)]
    pub hardware: crate::record::Hardware,
    /// Where the run took place, as recorded (for the disclosure).
    #[serde(skip)]
    pub place: crate::record::Place,
    /// The PUE the source applied, when it says (for the disclosure).
    #[serde(skip)]
    pub pue: Option<f64>,
    /// The tool version that wrote the row, when known (for the disclosure).
    #[serde(skip)]
    pub tool_version: Option<String>,
    /// The inputs of an estimate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<crate::record::Assumption>,
}

impl Contribution {
    /// A measured whole run (or a roll-up of runs, once `runs`, `last_line` and
    /// `worst_intensity` are set) of `profile`: the one constructor of a contribution.
    pub fn new(
        source: Location,
        format: Format,
        run_id: String,
        phase: Option<Phase>,
        profile: &crate::record::Profile<'_>,
        amounts: crate::record::Amounts,
    ) -> Contribution {
        Contribution {
            source,
            format,
            run_id,
            part: None,
            phase,
            energy: amounts.energy,
            emissions: amounts.emissions,
            embodied: None,
            duration: amounts.duration,
            method: crate::record::Method::Measured,
            embodied_basis: None,
            runs: 1,
            last_line: None,
            worst_intensity: None,
            hardware: profile.hardware(),
            place: profile.place(),
            pue: profile.pue,
            tool_version: profile.tool_version().map(str::to_owned),
            assumptions: Vec::new(),
        }
    }

    /// A counted record's contribution.
    pub fn of(r: &RunRecord) -> Contribution {
        Contribution {
            part: r.part.clone(),
            embodied: r.embodied,
            method: r.method,
            assumptions: r.assumptions.clone(),
            ..Contribution::new(
                r.source.clone(),
                r.format,
                r.run_id.clone(),
                r.phase,
                &crate::record::Profile::of(r),
                crate::record::Amounts::of(r),
            )
        }
    }

    /// The counted rows `contributions` stand for: one each, and a roll-up as many as the runs
    /// it rolls up. (A run read as several parts — tasks without their run row, the components
    /// of a manifest — is several rows; [`Totals::runs`] counts distinct runs.)
    pub fn rows<'a>(contributions: impl IntoIterator<Item = &'a Contribution>) -> usize {
        contributions.into_iter().map(|c| c.runs).sum()
    }

    /// Which run it is, for a message: `run ID`, or for a roll-up `a run among N`.
    pub fn who(&self) -> String {
        if self.runs > 1 {
            format!("a run among {}", self.runs)
        } else {
            format!("run {}", self.run_id)
        }
    }

    /// Where it was read, for a message: `file:line`, or for a roll-up
    /// `file:first–last (N runs)`.
    pub fn cited(&self) -> String {
        match self.last_line {
            Some(last) if self.runs > 1 => {
                format!("{}–{last} ({} runs)", self.source, self.runs)
            }
            _ => self.source.to_string(),
        }
    }
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// One model version's share of the ledger.
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
    /// Metrics the counted records carry (later records win).
    pub metrics: crate::metrics::Metrics,
    /// Every counted run (or part of a run) as one record, in read order, when
    /// [`Attribution::keep_runs`] asked for them; empty otherwise.
    pub runs: Vec<RunRecord>,
}

impl Entry {
    /// The distinct runs counted ([`Totals::runs`]): what "no run" and "runs" of a model
    /// version mean.
    pub fn runs(&self) -> usize {
        self.totals.runs
    }

    /// The counted rows ([`Contribution::rows`]): what per-row findings count against.
    pub fn counted_rows(&self) -> usize {
        Contribution::rows(&self.contributions)
    }
}

/// Records of one model version, before totalling.
pub struct Group {
    /// Model name.
    pub model: String,
    /// Model version, when known.
    pub version: Option<Version>,
    /// Indices of its records (counted or not), in read order.
    pub records: Vec<usize>,
}

/// A model name as the ledger keeps it (see [`crate::names`]): trimmed, NFC; an error naming
/// `at` for a name with a control or invisible character.
pub fn checked_name(raw: &str, at: &Location) -> Result<String, Error> {
    crate::names::normalize(raw).map_err(|bad| {
        Error::input(
            Problem::new(
                at.clone(),
                format!(
                    "model name `{}` cannot be used: {bad}; such names render like another model's and would split its total",
                    crate::error::escape_text(raw)
                ),
            )
            .with_help("write the model name without invisible or control characters"),
        )
    })
}

/// Warnings for model names of `entries` that look alike.
pub fn confusable_warnings(entries: &[Entry]) -> Vec<Warning> {
    crate::names::confusable(entries.iter().map(|e| e.model.as_str()))
        .into_iter()
        .map(|group| {
            let listed: Vec<String> = group
                .iter()
                .map(|n| {
                    let codes: Vec<String> = n
                        .chars()
                        .filter(|c| !c.is_ascii())
                        .map(|c| format!("U+{:04X}", u32::from(c)))
                        .collect();
                    if codes.is_empty() {
                        format!("`{n}`")
                    } else {
                        format!("`{n}` ({})", codes.join(" "))
                    }
                })
                .collect();
            Warning::general(
                codes::CONFUSABLE_NAMES,
                format!(
                    "model names {} look alike but are different models, each with its own budget and total; check that every run is attributed to the model you meant",
                    listed.join(", ")
                ),
            )
        })
        .collect()
}

/// Attribute records to models and versions (setting the phase of those that do not say it),
/// sorted by model then version. A model named by `attribution.model` always has a group.
/// Model names are normalized ([`checked_name`]); one that cannot be used is an error.
pub fn group(
    reconciled: &mut Reconciled,
    attribution: &Attribution,
) -> Result<(Vec<Group>, Vec<Warning>), Error> {
    let mut warnings = Vec::new();
    type Key = (String, Option<Version>);

    for r in &mut reconciled.records {
        if r.phase.is_none() {
            r.phase = attribution.phase;
        }
    }
    // Grouped under borrowed names first (one hash per record, no copy of the name), then
    // ordered: there are few models and versions, and many records.
    let mut grouped: HashMap<(&str, Option<Version>), Vec<usize>> = HashMap::new();
    for (i, r) in reconciled.records.iter().enumerate() {
        let model = attribution
            .model
            .as_deref()
            .or(r.model.as_deref())
            .unwrap_or(UNNAMED_MODEL);
        let version = match (&attribution.version, &r.version) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(text)) => match Version::parse(text.trim().trim_start_matches('v')) {
                Ok(v) => Some(v),
                Err(_) => {
                    warnings.push(Warning::at(
                        codes::VERSION_NOT_SEMVER,
                        r.source.clone(),
                        format!(
                            "model version \"{}\" is not semver; counted without a version (pass --model-version)",
                            crate::error::escape_text(text)
                        ),
                    ));
                    None
                }
            },
            (None, None) => None,
        };
        grouped.entry((model, version)).or_default().push(i);
    }
    let mut by_model: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for ((model, version), records) in grouped {
        let at = records.first().map_or_else(
            || Location::file("--model"),
            |&i| reconciled.records[i].source.clone(),
        );
        let name = checked_name(model, &at)?;
        // Names that differ only in spacing or composition are one model.
        by_model.entry((name, version)).or_default().extend(records);
    }
    for records in by_model.values_mut() {
        records.sort_unstable();
    }
    // A model named on the command line always has an entry (with no runs, it fails closed).
    if let Some(model) = &attribution.model
        && !by_model.keys().any(|(m, _)| m == model)
    {
        by_model
            .entry((model.clone(), attribution.version.clone()))
            .or_default();
    }
    let groups = by_model
        .into_iter()
        .map(|((model, version), records)| Group {
            model,
            version,
            records,
        })
        .collect();
    Ok((groups, warnings))
}

/// Attribute records to models and versions and total them, sorted by model then version.
/// A model named by `attribution.model` always has an entry, with zero runs when no record was
/// read. A version a record names that is not semver is reported and the record is counted
/// without a version.
pub fn aggregate(
    reconciled: &mut Reconciled,
    attribution: &Attribution,
) -> Result<(Vec<Entry>, Vec<Warning>), Error> {
    let (groups, mut warnings) = group(reconciled, attribution)?;
    let entries = groups
        .into_iter()
        .map(|g| {
            let counted: Vec<&RunRecord> = g
                .records
                .iter()
                .filter(|&&i| reconciled.statuses[i] == Status::Counted)
                .map(|&i| &reconciled.records[i])
                .collect();
            Entry {
                totals: sum(&counted),
                contributions: counted.iter().map(|r| Contribution::of(r)).collect(),
                metrics: counted.iter().flat_map(|r| r.metrics.clone()).collect(),
                runs: if attribution.keep_runs {
                    counted.iter().map(|&r| r.clone()).collect()
                } else {
                    Vec::new()
                },
                model: g.model,
                version: g.version,
            }
        })
        .collect::<Vec<Entry>>();
    warnings.extend(confusable_warnings(&entries));
    Ok((entries, warnings))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(run: &str, part: Option<Part>, line: u64, kwh: f64, s: f64) -> RunRecord {
        let mut r = RunRecord::new(
            Location::line("e.csv", line),
            Format::Codecarbon,
            run.to_owned(),
            Mass::kg(kwh / 10.0),
        );
        r.part = part;
        r.model = Some("p".to_owned());
        r.duration = Some(Duration::seconds(s));
        r.energy = Some(Energy::kwh(kwh));
        r
    }

    fn task(name: &str) -> Option<Part> {
        Some(Part::Task(name.to_owned()))
    }

    #[test]
    fn snapshots_of_one_run_count_once() {
        let r = reconcile(vec![
            rec("a", None, 2, 1.0, 10.0),
            rec("a", None, 3, 3.0, 30.0),
            rec("b", None, 4, 5.0, 50.0),
        ])
        .unwrap();
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
        assert!(
            r.warnings[0].message.contains("(e.csv:2, 3)"),
            "{}",
            r.warnings[0].message
        );
    }

    #[test]
    fn task_rows_with_their_run_row_are_not_recounted() {
        let r = reconcile(vec![
            rec("a", task("t1"), 2, 1.0, 5.0),
            rec("a", task("t2"), 3, 2.0, 6.0),
            rec("a", None, 2, 3.0, 6.0),
        ])
        .unwrap();
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
            rec("a", task("t1"), 2, 1.0, 5.0),
            rec("a", task("t2"), 3, 2.0, 6.0),
        ])
        .unwrap();
        let t = totals(&r, 0..2);
        assert_eq!((t.energy, t.runs), (Energy::kwh(3.0), 1));
    }

    #[test]
    fn components_add_up_without_warnings() {
        let c = |n: &str| Some(Part::Component(n.to_owned()));
        let r = reconcile(vec![
            rec("m", c("gpu"), 2, 1.0, 5.0),
            rec("m", c("cpu"), 3, 2.0, 6.0),
        ])
        .unwrap();
        let t = totals(&r, 0..2);
        assert_eq!((t.energy, t.runs), (Energy::kwh(3.0), 1));
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn records_without_energy_are_counted_and_flagged() {
        let mut card = rec("card", None, 1, 0.0, 0.0);
        card.energy = None;
        let r = reconcile(vec![card, rec("b", None, 2, 2.0, 1.0)]).unwrap();
        let t = totals(&r, 0..2);
        assert_eq!(
            (t.energy, t.runs, t.runs_without_energy),
            (Energy::kwh(2.0), 2, 1)
        );
    }

    #[test]
    fn named_model_without_records_has_an_empty_entry() {
        let mut r = reconcile(vec![]).unwrap();
        let (entries, _) = aggregate(
            &mut r,
            &Attribution {
                model: Some("m".into()),
                ..Attribution::default()
            },
        )
        .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].totals.runs, 0);
    }

    #[test]
    fn versions_from_records_split_the_ledger() {
        let mut a = rec("a", None, 1, 1.0, 1.0);
        a.version = Some("2.0.0".into());
        let mut b = rec("b", None, 2, 1.0, 1.0);
        b.version = Some("v2.1.0".into());
        let mut c = rec("c", None, 3, 1.0, 1.0);
        c.version = Some("latest".into());
        let mut r = reconcile(vec![a, b, c]).unwrap();
        let (entries, warnings) = aggregate(&mut r, &Attribution::default()).unwrap();
        let versions: Vec<_> = entries.iter().map(|e| e.version.clone()).collect();
        assert_eq!(
            versions,
            vec![
                None,
                Some(Version::new(2, 0, 0)),
                Some(Version::new(2, 1, 0))
            ]
        );
        assert_eq!(warnings[0].code, codes::VERSION_NOT_SEMVER);
    }
}
