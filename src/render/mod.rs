//! Renderers: one type per output format, all reading the same report model.
//!
//! Renderers write to a `Write` they are given and never print. They are the only place where
//! numbers are rounded (4 significant digits with an adapted unit in text; raw in JSON).

mod json;
mod markdown;
mod table;

use std::io::{self, Write};

pub use json::Json;
pub use markdown::Markdown;
pub use table::Table;

use crate::report::{CheckReport, IngestReport};
use crate::units::format_significant;

/// How each model's totals were computed, as plain lines: the counted rows with their file and
/// line and what each added, the sum, the source of the figures, and the budget that applied.
/// At most `limit` rows per model are listed.
pub fn explain_lines(report: &CheckReport, limit: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for m in &report.models {
        let t = &m.totals;
        lines.push(format!(
            "{}: {} run{} in {} counted row{}, summed exactly:",
            m.label(),
            t.runs,
            if t.runs == 1 { "" } else { "s" },
            m.contributions.len(),
            if m.contributions.len() == 1 { "" } else { "s" },
        ));
        for c in m.contributions.iter().take(limit) {
            let task = c
                .task
                .as_deref()
                .map(|t| format!(" task {t}"))
                .unwrap_or_default();
            lines.push(format!(
                "  {}  run {}{task}  {}  {}  {}",
                c.source, c.run_id, c.energy, c.emissions, c.duration
            ));
        }
        if m.contributions.len() > limit {
            lines.push(format!(
                "  … and {} more rows (all are listed in the JSON output)",
                m.contributions.len() - limit
            ));
        }
        lines.push(format!(
            "  = {} energy ({} kWh), {} CO2e ({} kg)",
            t.energy,
            format_significant(t.energy.value(), 6),
            t.emissions,
            format_significant(t.emissions.value(), 6)
        ));
        let mut formats: Vec<_> = m.contributions.iter().map(|c| c.format).collect();
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

/// An output format.
pub trait Render {
    /// Render a `check` report.
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()>;
    /// Render an `ingest` report.
    fn ingest(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()>;
}
