//! `carbon-gate ledger summary`: the ledger's runs totalled per key (model, team, phase or model
//! version) and calendar period (month, quarter, year), as a terminal table, JSON or CSV.
//!
//! Totals are exact sums ([`crate::units::exact_sum`], through the typed quantities) of the
//! stored figures, never rounded; the table rounds for display only, JSON and CSV keep every
//! digit.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::str::FromStr;

use comfy_table::{Cell, CellAlignment};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::periods::{Every, Period};
use crate::render::{self, Render, escape};
use crate::store::StoredRun;
use crate::units::{Energy, Mass, format_significant};

/// Version of the summary's JSON layout.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// The key of a run without a team.
pub const NO_TEAM: &str = "(no team)";
/// The key of a run without a phase.
pub const UNKNOWN_PHASE: &str = "(unknown)";
/// The version shown for a run without one.
pub const NO_VERSION: &str = "(none)";
/// The period of a run whose time is not an RFC 3339 instant (the store never writes one).
pub const UNDATED: &str = "(undated)";

/// What the rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    /// The model's name.
    Model,
    /// The team the policy's `teams:` assigns the model to (`(no team)` when none).
    Team,
    /// The life-cycle phase (`(unknown)` when the log gives none).
    Phase,
    /// The model and its version, `MODEL VERSION` (`MODEL (none)` when the log gives none).
    Version,
}

impl By {
    /// Every key, in the order the command line lists them.
    pub const ALL: [By; 4] = [By::Model, By::Team, By::Phase, By::Version];

    /// The name on the command line (`--by model`).
    pub fn name(self) -> &'static str {
        match self {
            By::Model => "model",
            By::Team => "team",
            By::Phase => "phase",
            By::Version => "version",
        }
    }

    /// The key of `run`.
    fn key(self, run: &StoredRun, team_of: &dyn Fn(&str) -> Option<String>) -> String {
        match self {
            By::Model => run.model.clone(),
            By::Team => team_of(&run.model).unwrap_or_else(|| NO_TEAM.to_owned()),
            By::Phase => run
                .phase
                .clone()
                .unwrap_or_else(|| UNKNOWN_PHASE.to_owned()),
            By::Version => format!(
                "{} {}",
                run.model,
                run.version.as_deref().unwrap_or(NO_VERSION)
            ),
        }
    }
}

impl std::fmt::Display for By {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for By {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        By::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown key `{s}`: expected model, team, phase or version"))
    }
}

/// The totals of one key in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SummaryRow {
    /// The model, team, phase or `MODEL VERSION` (see [`By`]).
    pub key: String,
    /// The period's label: `2027-01`, `2027-Q1` or `2027` (UTC; a run belongs to the period
    /// holding its time `at`).
    pub period: String,
    /// Runs counted (each once, by its stable key).
    pub runs: usize,
    /// Energy, kWh: the sum over the runs that report energy (`runs_without_energy` do not).
    pub energy_kwh: f64,
    /// Total CO2e, kg: operational (location-based) plus embodied.
    pub co2e_kg: f64,
    /// Operational CO2e, location-based (Scope 2), kg.
    pub operational_co2e_kg: f64,
    /// Embodied CO2e (Scope 3, category 1), kg.
    pub embodied_co2e_kg: f64,
    /// Market-based operational CO2e, kg, summed over the runs that have it (`null`: none has).
    pub market_co2e_kg: Option<f64>,
    /// Runs whose figures carbon-gate estimated (method other than `measured`).
    pub runs_estimated: usize,
    /// Runs with a market-based figure.
    pub runs_with_market: usize,
    /// Runs that report no energy figure.
    pub runs_without_energy: usize,
}

/// The summary: one row per key and period, sorted by period, then key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Layout version (1).
    pub schema_version: u32,
    /// The rows.
    pub rows: Vec<SummaryRow>,
}

/// An instant, from RFC 3339 or a date (`2027-01-01`, its midnight UTC).
fn instant(text: &str) -> Option<OffsetDateTime> {
    if let Some(t) = crate::timestamp::parse_rfc3339(text) {
        return Some(t);
    }
    crate::timestamp::parse_rfc3339(&format!("{}T00:00:00Z", text.trim()))
}

/// Whether `at` is at or after `from` (`later: false`) or before `to` (`later: true`). Instants
/// are compared as instants; text that is not one is compared as text (RFC 3339 UTC sorts so).
fn within(at: &str, bound: &str, before: bool) -> bool {
    let ordering = match (instant(at), instant(bound)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => at.cmp(bound),
    };
    if before {
        ordering.is_lt()
    } else {
        ordering.is_ge()
    }
}

/// Whether `run` lies in `[from, to)`.
pub(crate) fn in_range(run: &StoredRun, from: Option<&str>, to: Option<&str>) -> bool {
    from.is_none_or(|f| within(&run.at, f, false)) && to.is_none_or(|t| within(&run.at, t, true))
}

/// The totals of a set of runs, each figure an exact sum of typed quantities.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Sums {
    pub runs: usize,
    pub energy: Energy,
    pub runs_without_energy: usize,
    pub co2e: Mass,
    pub operational: Mass,
    pub embodied: Mass,
    pub market: Option<Mass>,
    pub runs_with_market: usize,
    pub energy_with_market: Energy,
    pub runs_estimated: usize,
}

/// Whether carbon-gate estimated the run's figures.
pub(crate) fn is_estimated(run: &StoredRun) -> bool {
    run.method != "measured"
}

impl Sums {
    /// The totals of `runs`.
    pub(crate) fn of(all: &[&StoredRun]) -> Sums {
        let with_market: Vec<&StoredRun> = all
            .iter()
            .copied()
            .filter(|r| r.market_co2e_kg.is_some())
            .collect();
        Sums {
            runs: all.len(),
            energy: all
                .iter()
                .filter_map(|r| r.energy_kwh.map(Energy::kwh))
                .sum(),
            runs_without_energy: all.iter().filter(|r| r.energy_kwh.is_none()).count(),
            co2e: all.iter().map(|r| Mass::kg(r.co2e_kg)).sum(),
            operational: all.iter().map(|r| Mass::kg(r.operational_co2e_kg)).sum(),
            embodied: all.iter().map(|r| Mass::kg(r.embodied_co2e_kg)).sum(),
            market: (!with_market.is_empty()).then(|| {
                with_market
                    .iter()
                    .filter_map(|r| r.market_co2e_kg.map(Mass::kg))
                    .sum()
            }),
            runs_with_market: with_market.len(),
            energy_with_market: with_market
                .iter()
                .filter_map(|r| r.energy_kwh.map(Energy::kwh))
                .sum(),
            runs_estimated: all.iter().filter(|r| is_estimated(r)).count(),
        }
    }
}

/// Total the runs whose time lies in `[from, to)` (either bound optional; RFC 3339 or a date,
/// UTC midnight) per key `by` and period `every`. `team_of` names a model's team (the policy's
/// `teams:`). Rows are sorted by period, then key.
pub fn summarize(
    runs: &[StoredRun],
    by: By,
    every: Every,
    from: Option<&str>,
    to: Option<&str>,
    team_of: &dyn Fn(&str) -> Option<String>,
) -> Summary {
    // (period start, period label, key) → runs; the start orders periods of any length.
    let mut groups: BTreeMap<(String, String, String), Vec<&StoredRun>> = BTreeMap::new();
    for run in runs.iter().filter(|r| in_range(r, from, to)) {
        let (start, label) = match Period::of(every, &run.at) {
            Some(p) => (p.start(), p.label()),
            None => (UNDATED.to_owned(), UNDATED.to_owned()),
        };
        groups
            .entry((start, label, by.key(run, team_of)))
            .or_default()
            .push(run);
    }
    let rows = groups
        .into_iter()
        .map(|((_, period, key), runs)| {
            let s = Sums::of(&runs);
            SummaryRow {
                key,
                period,
                runs: s.runs,
                energy_kwh: s.energy.value(),
                co2e_kg: s.co2e.value(),
                operational_co2e_kg: s.operational.value(),
                embodied_co2e_kg: s.embodied.value(),
                market_co2e_kg: s.market.map(Mass::value),
                runs_estimated: s.runs_estimated,
                runs_with_market: s.runs_with_market,
                runs_without_energy: s.runs_without_energy,
            }
        })
        .collect();
    Summary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        rows,
    }
}

/// A figure for the table: 4 significant digits, in the unit of its column's header.
fn shown(v: f64) -> String {
    format_significant(v, 4)
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

/// The summary as a terminal table (comfy-table, the project's style), figures rounded to 4
/// significant digits in the units of the headers, and a line of totals.
impl Render<Summary> for render::Table {
    fn render(&self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let mut t = self.new_table();
        let market = summary.rows.iter().any(|r| r.market_co2e_kg.is_some());
        let mut header = vec![
            Cell::new("Period"),
            Cell::new("Key"),
            right("Runs"),
            right("Estimated"),
            right("Energy (kWh)"),
            right("Operational (kg CO2e)"),
            right("Embodied (kg CO2e)"),
            right("CO2e (kg)"),
        ];
        if market {
            header.push(right("Market-based (kg CO2e)"));
        }
        t.set_header(header);
        for r in &summary.rows {
            let mut energy = shown(r.energy_kwh);
            if r.runs_without_energy > 0 {
                energy.push_str(&format!(" ({} without)", r.runs_without_energy));
            }
            let mut row = vec![
                Cell::new(escape::visible(&r.period)),
                Cell::new(escape::visible(&r.key)),
                right(r.runs),
                right(r.runs_estimated),
                right(energy),
                right(shown(r.operational_co2e_kg)),
                right(shown(r.embodied_co2e_kg)),
                right(shown(r.co2e_kg)),
            ];
            if market {
                row.push(right(match r.market_co2e_kg {
                    Some(v) if r.runs_with_market == r.runs => shown(v),
                    Some(v) => format!("{} ({} of {} runs)", shown(v), r.runs_with_market, r.runs),
                    None => "-".to_owned(),
                }));
            }
            t.add_row(row);
        }
        writeln!(out, "{t}")?;
        let runs: usize = summary.rows.iter().map(|r| r.runs).sum();
        let energy: Energy = summary.rows.iter().map(|r| Energy::kwh(r.energy_kwh)).sum();
        let co2e: Mass = summary.rows.iter().map(|r| Mass::kg(r.co2e_kg)).sum();
        writeln!(
            out,
            "Total: {runs} run{}, {energy} energy, {co2e} CO2e",
            if runs == 1 { "" } else { "s" }
        )
    }
}

/// The summary as JSON (`schema_version` and `rows`), raw figures, pretty, with a newline.
impl Render<Summary> for render::Json {
    fn render(&self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        writeln!(out)
    }
}

/// The CSV renderer of the summary: a header row, one line per row, every digit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Csv;

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 11] = [
    "period",
    "key",
    "runs",
    "energy_kwh",
    "co2e_kg",
    "operational_co2e_kg",
    "embodied_co2e_kg",
    "market_co2e_kg",
    "runs_estimated",
    "runs_with_market",
    "runs_without_energy",
];

impl Render<Summary> for Csv {
    fn render(&self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_COLUMNS)?;
        for r in &summary.rows {
            // Keys are outside text (model and team names): never a formula. Numbers are
            // written in full (Rust's shortest round-trip form).
            w.write_record([
                escape::csv_cell(&r.period).into_owned(),
                escape::csv_cell(&r.key).into_owned(),
                r.runs.to_string(),
                r.energy_kwh.to_string(),
                r.co2e_kg.to_string(),
                r.operational_co2e_kg.to_string(),
                r.embodied_co2e_kg.to_string(),
                r.market_co2e_kg.map(|v| v.to_string()).unwrap_or_default(),
                r.runs_estimated.to_string(),
                r.runs_with_market.to_string(),
                r.runs_without_energy.to_string(),
            ])?;
        }
        w.flush()
    }
}

fn rendered(render: &dyn Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    // Writing to memory does not fail; serialization of plain numbers and text neither.
    if render(&mut out).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The summary as a plain terminal table ([`render::Table`] without colour).
pub fn to_table(summary: &Summary) -> String {
    rendered(&|out| render::Table::default().render(summary, out))
}

/// The summary as JSON.
pub fn to_json(summary: &Summary) -> String {
    rendered(&|out| render::Json.render(summary, out))
}

/// The summary as CSV ([`Csv`]).
pub fn to_csv(summary: &Summary) -> String {
    rendered(&|out| Csv.render(summary, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(key: &str, model: &str, at: &str, kg: f64) -> StoredRun {
        StoredRun {
            source: "e.csv:2".to_owned(),
            file_digest: "00".to_owned(),
            ..StoredRun::measured(key, model, at, kg, Some(kg * 2.0))
        }
    }

    #[test]
    fn by_names_round_trip() {
        for b in By::ALL {
            assert_eq!(b.name().parse::<By>(), Ok(b));
        }
        assert!("models".parse::<By>().is_err());
    }

    #[test]
    fn keys_for_missing_values() {
        let r = run("a", "m", "2027-01-01T00:00:00Z", 1.0);
        let none = |_: &str| None;
        assert_eq!(By::Team.key(&r, &none), NO_TEAM);
        assert_eq!(By::Phase.key(&r, &none), UNKNOWN_PHASE);
        assert_eq!(By::Version.key(&r, &none), "m (none)");
    }

    #[test]
    fn periods_sort_before_keys_and_bounds_are_half_open() {
        let runs = vec![
            run("a", "z", "2027-01-01T00:00:00Z", 1.0),
            run("b", "a", "2027-02-01T00:00:00Z", 2.0),
            run("c", "a", "2026-12-31T23:59:59Z", 4.0),
        ];
        let none = |_: &str| None;
        let s = summarize(&runs, By::Model, Every::Month, None, None, &none);
        let order: Vec<(&str, &str)> = s
            .rows
            .iter()
            .map(|r| (r.period.as_str(), r.key.as_str()))
            .collect();
        assert_eq!(
            order,
            [("2026-12", "a"), ("2027-01", "z"), ("2027-02", "a")]
        );
        let s = summarize(
            &runs,
            By::Model,
            Every::Year,
            Some("2027-01-01"),
            Some("2027-02-01T00:00:00Z"),
            &none,
        );
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.rows[0].key, "z");
    }

    #[test]
    fn csv_keys_are_not_formulas() {
        let runs = vec![run(
            "a",
            "=HYPERLINK(\"https://evil\")",
            "2027-01-01T00:00:00Z",
            1.0,
        )];
        let none = |_: &str| None;
        let csv = to_csv(&summarize(&runs, By::Model, Every::Year, None, None, &none));
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
    }
}
