//! Predicted-budget gate: project a run still in progress to its planned end, so a pipeline can
//! stop it after its first epochs when it is heading over budget.
//!
//! Progress comes from what the partial logs hold: carbontracker's standard log (energy of each
//! epoch: power × duration × PUE), CodeCarbon's cumulative `flush()` rows of one run (energy at
//! each snapshot), or a single record (its duration). The projection is linear in the chosen unit
//! (epochs, hours or steps): central = energy so far × planned ÷ done. The interval spans the
//! slowest and fastest rates seen between successive observations, applied to the remaining
//! part; with fewer than two observations it is ±20% of the remaining part (a stated assumption).
//! CO2e scales with energy (the run's own intensity so far).

use serde::Serialize;

use crate::error::Error;
use crate::ingest::carbontracker;
use crate::ledger::Entry;
use crate::record::{Format, RunRecord};
use crate::units::{Duration, Energy, Mass, format_significant};

/// What the run is planned to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plan {
    /// Planned epochs; `done` overrides the epochs counted in the logs.
    Epochs {
        /// Planned.
        planned: f64,
        /// Done, when the logs cannot tell.
        done: Option<f64>,
    },
    /// Planned wall-clock hours of tracked time.
    Hours(f64),
    /// Planned steps, and the steps done (the logs never say).
    Steps {
        /// Planned.
        planned: f64,
        /// Done.
        done: f64,
    },
}

/// Band used when fewer than two observations give no spread: ±20% of the remaining part.
pub const DEFAULT_SPREAD: f64 = 0.2;

/// One cumulative observation: (progress units, energy kWh).
type Point = (f64, f64);

/// A projection of one model's runs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Projection {
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// `epochs`, `hours` or `steps`.
    pub unit: &'static str,
    /// Units done.
    pub done: f64,
    /// Units planned.
    pub planned: f64,
    /// Energy so far, kWh.
    pub energy_done_kwh: f64,
    /// CO2e so far, kg.
    pub co2e_done_kg: f64,
    /// Projected energy at the planned end, kWh.
    pub energy_kwh: f64,
    /// Low end.
    pub energy_low_kwh: f64,
    /// High end.
    pub energy_high_kwh: f64,
    /// Projected CO2e, kg.
    pub co2e_kg: f64,
    /// Low end.
    pub co2e_low_kg: f64,
    /// High end.
    pub co2e_high_kg: f64,
    /// Observations the interval rests on.
    pub observations: usize,
    /// How done, the rates and the interval were obtained.
    pub method: String,
    /// The projection in one sentence ([`sentence`]), as the renderers show it (not in the JSON).
    #[serde(skip)]
    pub sentence: String,
}

/// Cumulative progress of one run, in `unit`.
fn series(record: &RunRecord, all: &[RunRecord], plan: &Plan) -> (Vec<Point>, String) {
    let hours = matches!(plan, Plan::Hours(_));
    if record.format == Format::Carbontracker
        && let Some(s) = carbontracker::epoch_series(&record.source.file)
    {
        let mut units = 0.0;
        let mut energy = 0.0;
        let mut points = Vec::new();
        for (secs, kwh) in &s.epochs {
            units += if hours { secs / 3600.0 } else { 1.0 };
            energy += kwh;
            points.push((units, energy));
        }
        return (
            points,
            format!(
                "{} epoch(s) in {} (power × duration × PUE {})",
                s.epochs.len(),
                crate::error::display_path(&s.path),
                format_significant(s.pue, 3)
            ),
        );
    }
    // CodeCarbon flush() snapshots: rows of the same run, cumulative.
    let mut snaps: Vec<(f64, f64)> = all
        .iter()
        .filter(|r| r.format == record.format && r.run_id == record.run_id && r.part.is_none())
        .filter_map(|r| Some((r.duration?.value(), r.energy?.value())))
        .collect();
    snaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    snaps.dedup();
    let n = snaps.len();
    let points = snaps
        .iter()
        .enumerate()
        .map(|(i, (secs, kwh))| {
            let units = if hours { secs / 3600.0 } else { (i + 1) as f64 };
            (units, *kwh)
        })
        .collect();
    let how = if hours {
        format!(
            "{n} cumulative row(s) of run {} (tracked time)",
            record.run_id
        )
    } else {
        format!(
            "{n} cumulative row(s) of run {}, one per epoch (flush() after each epoch)",
            record.run_id
        )
    };
    (points, how)
}

/// Rates between successive points (the first from zero).
fn rates(points: &[Point]) -> Vec<f64> {
    let mut prev = (0.0, 0.0);
    let mut out = Vec::new();
    for &(u, e) in points {
        let du = u - prev.0;
        if du > 0.0 {
            out.push((e - prev.1) / du);
        }
        prev = (u, e);
    }
    out
}

/// Project `entry` (the model's counted runs) to the plan. `records` are every record read,
/// superseded snapshots included.
pub fn project(entry: &Entry, records: &[RunRecord], plan: &Plan) -> Result<Projection, Error> {
    let counted: Vec<&RunRecord> = records
        .iter()
        .filter(|r| entry.contributions.iter().any(|c| c.source == r.source))
        .collect();
    if counted.is_empty() {
        return Err(Error::Usage(format!(
            "--predict: no run of {} in the logs to project",
            entry.model
        )));
    }
    // Runs in sequence: their series are concatenated.
    let mut points: Vec<Point> = Vec::new();
    let mut notes = Vec::new();
    for r in &counted {
        let (p, how) = series(r, records, plan);
        let (u0, e0) = points.last().copied().unwrap_or((0.0, 0.0));
        points.extend(p.into_iter().map(|(u, e)| (u0 + u, e0 + e)));
        notes.push(how);
    }
    let Some(&(logged_units, energy_done)) = points.last() else {
        return Err(Error::Usage(format!(
            "--predict: the logs of {} record no energy to project",
            entry.model
        )));
    };
    let (unit, planned, done, scale_points) = match *plan {
        Plan::Epochs { planned, done } => {
            let d = done.unwrap_or(logged_units);
            ("epochs", planned, d, d / logged_units)
        }
        Plan::Hours(h) => ("hours", h, logged_units, 1.0),
        Plan::Steps { planned, done } => ("steps", planned, done, done / logged_units),
    };
    if !(done > 0.0 && planned.is_finite()) {
        return Err(Error::Usage(
            "--predict: nothing done yet to project from".to_owned(),
        ));
    }
    if planned < done {
        return Err(Error::Usage(format!(
            "--predict: {} {unit} planned but {} already done",
            format_significant(planned, 6),
            format_significant(done, 6)
        )));
    }
    let rs: Vec<f64> = rates(&points)
        .into_iter()
        .map(|r| r / scale_points)
        .collect();
    let mean = energy_done / done;
    let remaining = planned - done;
    let central = energy_done + remaining * mean;
    let (low, high, spread_note) = if rs.len() >= 2 {
        let lo = rs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = rs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (
            energy_done + remaining * lo,
            energy_done + remaining * hi,
            format!(
                "interval: the slowest and fastest of {} observed rates applied to the remaining {} {unit}",
                rs.len(),
                format_significant(remaining, 4)
            ),
        )
    } else {
        (
            energy_done + remaining * mean * (1.0 - DEFAULT_SPREAD),
            energy_done + remaining * mean * (1.0 + DEFAULT_SPREAD),
            format!(
                "interval: ±{}% of the remaining part (one observation: no spread to measure; tool assumption)",
                DEFAULT_SPREAD * 100.0
            ),
        )
    };
    let co2e_done = entry.totals.emissions.value();
    let energy_logged = entry.totals.energy.value();
    // CO2e per kWh of the runs so far (embodied included, as it scales with time too).
    let per_kwh = if energy_logged > 0.0 {
        co2e_done / energy_logged
    } else {
        0.0
    };
    let co2e_so_far = energy_done * per_kwh;
    let mut projection = Projection {
        model: entry.model.clone(),
        version: entry.version.as_ref().map(ToString::to_string),
        unit,
        done,
        planned,
        energy_done_kwh: energy_done,
        co2e_done_kg: co2e_so_far,
        energy_kwh: central,
        energy_low_kwh: low,
        energy_high_kwh: high,
        co2e_kg: central * per_kwh,
        co2e_low_kg: low * per_kwh,
        co2e_high_kg: high * per_kwh,
        observations: rs.len(),
        method: format!(
            "{}; linear: {} so far × {} ÷ {} {unit}; {spread_note}; CO2e at the runs' own {} per kWh",
            notes.join("; "),
            Energy::kwh(energy_done),
            format_significant(planned, 6),
            format_significant(done, 6),
            Mass::kg(per_kwh)
        ),
        sentence: String::new(),
    };
    projection.sentence = sentence(&projection);
    Ok(projection)
}

/// Replace an entry's totals with the projection (central figures; the band becomes the
/// interval), so the policy judges where the run is heading.
pub fn apply(entry: &mut Entry, p: &Projection) {
    let t = &mut entry.totals;
    let f = if t.energy.value() > 0.0 {
        p.energy_kwh / t.energy.value()
    } else {
        1.0
    };
    t.energy = Energy::kwh(p.energy_kwh);
    t.operational = Mass::kg(t.operational.value() * f);
    t.embodied = Mass::kg(t.embodied.value() * f);
    t.emissions = Mass::kg(p.co2e_kg);
    t.market = t.market.map(|m| Mass::kg(m.value() * f));
    t.scopes.scope2 = Mass::kg(t.scopes.scope2.value() * f);
    t.scopes.scope3_cat1 = Mass::kg(t.scopes.scope3_cat1.value() * f);
    t.scopes.embodied = Mass::kg(t.scopes.embodied.value() * f);
    t.duration = Duration::seconds(t.duration.value() * f);
    t.energy_low = Energy::kwh(p.energy_low_kwh);
    t.energy_high = Energy::kwh(p.energy_high_kwh);
    t.emissions_low = Mass::kg(p.co2e_low_kg);
    t.emissions_high = Mass::kg(p.co2e_high_kg);
}

/// One line: "projected for 10 epochs after 2: energy …, CO2e … (low–high)".
pub fn sentence(p: &Projection) -> String {
    format!(
        "projected for {} {} after {} ({}% done): energy {} ({} – {}), CO2e {} ({} – {})",
        format_significant(p.planned, 6),
        p.unit,
        format_significant(p.done, 6),
        format_significant(p.done / p.planned * 100.0, 3),
        Energy::kwh(p.energy_kwh),
        Energy::kwh(p.energy_low_kwh),
        Energy::kwh(p.energy_high_kwh),
        Mass::kg(p.co2e_kg),
        Mass::kg(p.co2e_low_kg),
        Mass::kg(p.co2e_high_kg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_between_cumulative_points() {
        let r = rates(&[(1.0, 2.0), (2.0, 5.0), (4.0, 9.0)]);
        assert_eq!(r, vec![2.0, 3.0, 2.0]);
    }
}
