//! An estimate as a table ([`Table`]), JSON ([`Json`]) or the record `ingest` reads ([`Record`]),
//! and the units of the reference tables.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, presets};
use serde::Serialize;

use super::{Json, Render, Table};

use crate::ledger::Totals;
use crate::record::RunRecord;
use crate::report::EstimateReport;
use crate::report::SCHEMA_VERSION;
use crate::units::{Energy, Mass};

fn table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    t
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

/// The JSON of an estimate.
#[derive(Serialize)]
struct EstimateJson<'a> {
    schema_version: u32,
    record: &'a RunRecord,
    totals: Totals,
    formulas: &'a [String],
}

/// The record renderer: one NDJSON line, the record as `ingest` and `check` read it back.
#[derive(Debug, Default, Clone, Copy)]
pub struct Record;

impl Render<EstimateReport> for Record {
    fn render(&self, r: &EstimateReport, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, &r.estimate.record)?;
        writeln!(out)
    }
}

/// JSON with the record, totals and formulas.
impl Render<EstimateReport> for Json {
    fn render(&self, r: &EstimateReport, out: &mut dyn Write) -> io::Result<()> {
        let doc = EstimateJson {
            schema_version: SCHEMA_VERSION,
            record: &r.estimate.record,
            totals: r.totals,
            formulas: &r.estimate.steps,
        };
        super::json::write_json(&doc, out)
    }
}

/// A table of the figures (plain, whatever the colour setting); with `explain`, then the
/// assumptions and the formulas.
impl Render<EstimateReport> for Table {
    fn render(&self, r: &EstimateReport, out: &mut dyn Write) -> io::Result<()> {
        text(r, self.explain, out)
    }
}

fn text(report: &EstimateReport, explain: bool, out: &mut dyn Write) -> io::Result<()> {
    let (e, t) = (&report.estimate, &report.totals);
    let r = &e.record;
    let label = [r.model.as_deref(), r.version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    writeln!(
        out,
        "Estimate ({}){}",
        serde_json::to_value(r.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        if label.is_empty() {
            String::new()
        } else {
            format!(" of {label}")
        }
    )?;
    let mut figures = table();
    figures.set_header(vec![
        Cell::new("Quantity"),
        right("Central"),
        right("Low"),
        right("High"),
    ]);
    figures.add_row(vec![
        Cell::new("Energy"),
        right(t.energy),
        right(t.energy_low),
        right(t.energy_high),
    ]);
    figures.add_row(vec![
        Cell::new("Operational CO2e (location-based)"),
        right(t.operational),
        right("-"),
        right("-"),
    ]);
    figures.add_row(vec![
        Cell::new("Embodied CO2e (SCI time-share)"),
        right(t.embodied),
        right("-"),
        right("-"),
    ]);
    figures.add_row(vec![
        Cell::new("Total CO2e"),
        right(t.emissions),
        right(t.emissions_low),
        right(t.emissions_high),
    ]);
    if let Some(m) = t.market {
        figures.add_row(vec![
            Cell::new("Market-based operational CO2e"),
            right(m),
            right("-"),
            right("-"),
        ]);
    }
    let scope = if r.on_cloud() {
        "Scope 3 cat. 1 (cloud service)"
    } else {
        "Scope 2 (own or controlled hardware)"
    };
    writeln!(out, "{figures}")?;
    writeln!(
        out,
        "Operational CO2e is {scope}; embodied is an SCI time-share allocation of the hardware's manufacture."
    )?;
    if !explain {
        return writeln!(
            out,
            "(--explain lists every input with its source, and the formulas)"
        );
    }
    let mut assumptions = table();
    assumptions.set_header(vec!["Input", "Value", "Source"]);
    for a in &r.assumptions {
        assumptions.add_row(vec![&a.name, &a.value, &a.source]);
    }
    writeln!(out, "\nAssumptions:\n{assumptions}")?;
    writeln!(out, "\nFormulas:")?;
    for s in &e.steps {
        writeln!(out, "  {s}")?;
    }
    Ok(())
}

/// Shorthand for rendering masses and energies of the reference tables.
pub fn kg(v: f64) -> String {
    Mass::kg(v).to_string()
}

/// Energy rendering for tables.
pub fn kwh(v: f64) -> String {
    Energy::kwh(v).to_string()
}
