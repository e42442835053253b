//! Renderers: one type per output format, all reading the same report model, behind one trait
//! ([`Render`]).
//!
//! Renderers write to a `Write` they are given and never print. They are the only place where
//! numbers are rounded (4 significant digits with an adapted unit in text; raw in JSON).

pub mod escape;
pub mod estimate;
pub(crate) mod json;
pub mod links;
pub(crate) mod markdown;
pub mod markup;
pub mod reference;
mod table;

use std::io::{self, Write};

pub use estimate::Record;
pub use json::Json;
pub use links::RunLinks;
pub use markdown::{GITHUB_COMMENT_LIMIT, Markdown};
pub use table::Table;

use crate::record::Part;
use crate::report::CheckReport;
use crate::units::format_significant;

/// One column of the check table: its header, whether it is numeric (right-aligned), and a cell
/// per model.
pub(crate) struct Column {
    pub header: &'static str,
    pub numeric: bool,
    pub cells: Vec<String>,
}

/// The columns of the check table, shared by the terminal table and the Markdown. Operational and
/// embodied columns appear when some model carries embodied carbon; range columns when some model
/// has estimated runs.
pub(crate) fn check_columns(report: &CheckReport) -> Vec<Column> {
    let models: Vec<&crate::report::ModelReport> = report.models.iter().collect();
    check_columns_for(&models)
}

/// The check-table columns for some of the models.
pub(crate) fn check_columns_for(models: &[&crate::report::ModelReport]) -> Vec<Column> {
    use crate::report::Metric;
    let col = |header, numeric, f: &dyn Fn(&crate::report::ModelReport) -> String| Column {
        header,
        numeric,
        cells: models.iter().map(|m| f(m)).collect(),
    };
    let embodied = models.iter().any(|m| m.totals.embodied.value() > 0.0);
    let ranged = models.iter().any(|m| m.totals.estimated_runs > 0);
    let mut cols = vec![
        col("Model", false, &|m| m.model.clone()),
        col("Version", false, &|m| {
            m.version.clone().unwrap_or_else(|| "-".to_owned())
        }),
        col("Runs", true, &|m| m.totals.runs.to_string()),
        col("Energy", true, &|m| m.totals.energy.to_string()),
    ];
    if ranged {
        cols.push(col("Energy range", true, &|m| {
            format!("{} – {}", m.totals.energy_low, m.totals.energy_high)
        }));
    }
    cols.push(col("Energy limit", false, &|m| {
        table::limits_text(Metric::Energy, m.limits.energy_kwh)
    }));
    if embodied {
        cols.push(col("Operational", true, &|m| {
            m.totals.operational.to_string()
        }));
        cols.push(col("Embodied", true, &|m| m.totals.embodied.to_string()));
    }
    cols.push(col("CO2e", true, &|m| m.totals.emissions.to_string()));
    if ranged {
        cols.push(col("CO2e range", true, &|m| {
            format!("{} – {}", m.totals.emissions_low, m.totals.emissions_high)
        }));
    }
    cols.push(col("CO2e limit", false, &|m| {
        table::limits_text(Metric::Co2e, m.limits.co2e_kg)
    }));
    cols
}

/// A value, or `-` when the source did not give one.
pub(crate) fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// One sentence of totals: `3 runs, 27.15 mWh energy, 3.343 mg CO2e (of which 1 mg embodied),
/// 4.52 s tracked`, saying when some runs report no energy.
pub(crate) fn totals_sentence(t: &crate::ledger::Totals) -> String {
    let mut text = format!(
        "{} run{}, {} energy",
        t.runs,
        if t.runs == 1 { "" } else { "s" },
        t.energy
    );
    if t.runs_without_energy > 0 {
        text.push_str(&format!(
            " ({} of {} runs report no energy)",
            t.runs_without_energy, t.runs
        ));
    }
    text.push_str(&format!(", {} CO2e", t.emissions));
    if t.embodied.value() > 0.0 {
        text.push_str(&format!(" (of which {} embodied)", t.embodied));
    }
    text.push_str(&format!(", {} tracked", t.duration));
    text
}

/// `task train`, `component gpu-node`, or `-`.
pub(crate) fn part(part: Option<&Part>) -> String {
    match part {
        Some(Part::Task(t)) => format!("task {t}"),
        Some(Part::Component(c)) => format!("component {c}"),
        None => "-".to_owned(),
    }
}

/// How each model's totals were computed, as plain lines: the counted rows with their file and
/// line and what each added, the sum, the source of the figures, and the budget that applied.
/// At most `limit` rows per model are listed. The assumptions of estimated runs are listed once
/// per model version (each distinct one once, whatever the number of runs), and a source already
/// quoted above is not quoted again.
pub fn explain_lines(report: &CheckReport, limit: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut quoted: Vec<&str> = Vec::new();
    let mut earlier: Vec<(String, Vec<&crate::record::Assumption>)> = Vec::new();
    for m in &report.models {
        let t = &m.totals;
        let rolled = m.contributions.iter().filter(|c| c.runs > 1).count();
        lines.push(if rolled == 0 {
            format!(
                "{}: {} run{} in {} counted row{}, summed exactly:",
                m.label(),
                t.runs,
                if t.runs == 1 { "" } else { "s" },
                m.contributions.len(),
                if m.contributions.len() == 1 { "" } else { "s" },
            )
        } else {
            let rolled_runs: usize = m
                .contributions
                .iter()
                .filter(|c| c.runs > 1)
                .map(|c| c.runs)
                .sum();
            format!(
                "{}: {} runs, summed exactly: {} listed one by one (the largest by CO2e), the other {} rolled up per file, project, place and hardware into {} line{}:",
                m.label(),
                t.runs,
                m.contributions.len() - rolled,
                rolled_runs,
                rolled,
                if rolled == 1 { "" } else { "s" },
            )
        });
        for c in m.contributions.iter().take(limit) {
            if c.runs > 1 {
                lines.push(format!(
                    "  {}–{}  {} runs (their most complete rows)  {}  {}  {}{}",
                    c.source,
                    c.last_line.map_or_else(String::new, |l| l.to_string()),
                    c.runs,
                    opt(c.energy),
                    c.emissions,
                    opt(c.duration),
                    c.embodied
                        .map(|e| format!(" (embodied {e})"))
                        .unwrap_or_default(),
                ));
                if let Some(basis) = &c.embodied_basis {
                    lines.push(format!("      embodied added by the policy: {basis}"));
                }
                continue;
            }
            let method = if c.method.is_estimate() {
                " (estimate)"
            } else {
                ""
            };
            let within = match &c.part {
                Some(p) => format!(" {}", part(Some(p))),
                None => String::new(),
            };
            let embodied = c
                .embodied
                .map(|e| format!(" (embodied {e})"))
                .unwrap_or_default();
            lines.push(format!(
                "  {}  run {}{within}{method}  {}  {}{embodied}  {}",
                c.source,
                c.run_id,
                opt(c.energy),
                c.emissions,
                opt(c.duration)
            ));
            if let Some(basis) = &c.embodied_basis {
                lines.push(format!("      embodied added by the policy: {basis}"));
            }
        }
        if m.contributions.len() > limit {
            lines.push(format!(
                "  … and {} more (all are listed in the JSON output)",
                m.contributions.len() - limit
            ));
        }
        let mut assumptions: Vec<&crate::record::Assumption> = Vec::new();
        for a in m.contributions.iter().flat_map(|c| &c.assumptions) {
            if !assumptions.contains(&a) {
                assumptions.push(a);
            }
        }
        if !assumptions.is_empty() {
            let estimated = m
                .contributions
                .iter()
                .filter(|c| !c.assumptions.is_empty())
                .count();
            let what = if estimated == 1 {
                "the estimate".to_owned()
            } else {
                format!("its {estimated} estimates")
            };
            // The first model version above that shares the most of them: only the others are listed.
            let like = earlier
                .iter()
                .rev()
                .map(
                    |(label, theirs): &(String, Vec<&crate::record::Assumption>)| {
                        let shared = assumptions.iter().filter(|a| theirs.contains(a)).count();
                        (shared, label.clone(), theirs.clone())
                    },
                )
                .filter(|(shared, ..)| *shared > 1)
                .max_by_key(|(shared, ..)| *shared);
            let own: Vec<&crate::record::Assumption> = match &like {
                Some((_, _, theirs)) => assumptions
                    .iter()
                    .copied()
                    .filter(|a| !theirs.contains(a))
                    .collect(),
                None => assumptions.clone(),
            };
            lines.push(match &like {
                Some((_, label, _)) if own.is_empty() => {
                    format!("  assumptions of {what}: the same as {label}'s")
                }
                Some((_, label, _)) => {
                    format!("  assumptions of {what}: the same as {label}'s, except:")
                }
                None => format!("  assumptions of {what}:"),
            });
            earlier.push((m.label(), assumptions.clone()));
            for a in own {
                // A short source (`command line`) is shorter than the pointer to it.
                if a.source.chars().count() > 40 && quoted.contains(&a.source.as_str()) {
                    lines.push(format!("      {}: {} [source as above]", a.name, a.value));
                } else {
                    quoted.push(&a.source);
                    lines.push(format!("      {}: {} [{}]", a.name, a.value, a.source));
                }
            }
        }
        lines.push(format!(
            "  = {} energy ({} kWh), {} CO2e ({} kg) = {} operational + {} embodied",
            t.energy,
            format_significant(t.energy.value(), 6),
            t.emissions,
            format_significant(t.emissions.value(), 6),
            t.operational,
            t.embodied
        ));
        if t.estimated_runs > 0 {
            lines.push(format!(
                "  band of the estimates: energy {} – {}, CO2e {} – {}",
                t.energy_low, t.energy_high, t.emissions_low, t.emissions_high
            ));
        }
        if t.runs_without_energy > 0 {
            lines.push(format!(
                "  ({} of {} runs report no energy: the energy total covers the others only)",
                t.runs_without_energy, t.runs
            ));
        }
        let mut formats: Vec<_> = m.contributions.iter().map(|c| c.format).collect();
        formats.sort();
        formats.dedup();
        for f in formats {
            lines.push(format!("  figures from {}", f.provenance()));
        }
        match &m.budget {
            Some(b) => lines.push(format!(
                "  budget {} at {}",
                b.name.as_deref().unwrap_or(&b.model),
                b.source
            )),
            None => lines.push("  no budget applies".to_owned()),
        }
    }
    lines
}

/// An output format, for each kind of document it can show: a `check` or `ingest` report
/// ([`Table`], [`Json`], [`Markdown`]), an estimate ([`Table`], [`Json`], [`Record`]), the
/// disclosure ([`Markdown`], [`Html`], [`Json`]; implemented in `disclosure::render`). Commands
/// choose the format and call [`Render::render`]; the format decides nothing about the content.
pub trait Render<D: ?Sized> {
    /// Render `doc` to `out`.
    fn render(&self, doc: &D, out: &mut dyn Write) -> io::Result<()>;
}

/// The HTML renderer: one self-contained file (the disclosure).
#[derive(Debug, Default, Clone, Copy)]
pub struct Html;
