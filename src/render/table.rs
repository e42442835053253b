//! Terminal tables (comfy-table). Colour only when asked for (the CLI decides: a TTY and no
//! `NO_COLOR`); otherwise plain text, identical on every machine.

use std::io::{self, Write};

use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, presets};

use super::Render;
use crate::ledger::Status;
use crate::report::{CheckReport, IngestReport, LimitValues, Metric, Verdict};
use crate::units::{Energy, Mass};

/// The terminal table renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Table {
    /// Use colours and adapt to the terminal width.
    pub color: bool,
    /// Add how each total was computed (`--explain`).
    pub explain: bool,
}

/// Columns assumed when the terminal reports a width too small to lay a table out in (a
/// terminal without a size, e.g. some CI runners' pseudo-terminals, reports 0).
pub const FALLBACK_WIDTH: u16 = 100;

/// The width to lay tables out in when the detected one (`None`: not a terminal, no limit) is
/// unusable.
fn fallback_width(detected: Option<u16>) -> Option<u16> {
    detected.filter(|&w| w < 40).map(|_| FALLBACK_WIDTH)
}

impl Table {
    /// A table in the project's style: plain, or coloured and fitted to the terminal.
    pub(crate) fn new_table(&self) -> comfy_table::Table {
        let mut t = comfy_table::Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        if self.color {
            t.enforce_styling();
            t.set_content_arrangement(ContentArrangement::Dynamic);
            if let Some(width) = fallback_width(t.width()) {
                t.set_width(width);
            }
        } else {
            t.force_no_tty();
        }
        t
    }

    fn verdict_cell(&self, verdict: Verdict) -> Cell {
        let cell = Cell::new(verdict.word());
        if !self.color {
            return cell;
        }
        let color = match verdict {
            Verdict::Pass => Color::Green,
            Verdict::Warn => Color::Yellow,
            Verdict::Fail => Color::Red,
        };
        cell.fg(color).add_attribute(Attribute::Bold)
    }
}

/// `warn 80 kg · fail 120 kg`, or `-` without limits.
pub(crate) fn limits_text(metric: Metric, limits: Option<LimitValues>) -> String {
    let show = |v: f64| match metric {
        Metric::Energy => Energy::kwh(v).to_string(),
        Metric::Accuracy => crate::units::format_significant(v, 4),
        Metric::Intensity => crate::units::Intensity::g_per_kwh(v).to_string(),
        Metric::Co2e | Metric::Co2ePerPoint | Metric::Co2ePer1kInferences => {
            Mass::kg(v).to_string()
        }
    };
    let Some(l) = limits else {
        return "-".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(w) = l.warn {
        parts.push(format!("warn {}", show(w)));
    }
    if let Some(f) = l.fail {
        parts.push(format!("fail {}", show(f)));
    }
    parts.join(" · ")
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

impl Render<CheckReport> for Table {
    fn render(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        if !report.policy_changes.is_empty() {
            writeln!(
                out,
                "This change edits the carbon policy; the verdict uses the policy at {}:",
                report.policy_ref.as_deref().unwrap_or("the base")
            )?;
            for c in &report.policy_changes {
                writeln!(out, "  {c}")?;
            }
            writeln!(out)?;
        }
        if !report.evidence_changes.is_empty() {
            writeln!(
                out,
                "This change edits the logs it is judged on (compared with {}):",
                report.policy_ref.as_deref().unwrap_or("the base")
            )?;
            for c in &report.evidence_changes {
                writeln!(out, "  {c}")?;
            }
            writeln!(out)?;
        }
        let mut t = self.new_table();
        let columns = super::check_columns(report);
        let mut header: Vec<Cell> = columns
            .iter()
            .map(|c| {
                if c.numeric {
                    right(c.header)
                } else {
                    Cell::new(c.header)
                }
            })
            .collect();
        header.push(Cell::new("Verdict"));
        t.set_header(header);
        for (i, m) in report.models.iter().enumerate() {
            let mut row: Vec<Cell> = columns
                .iter()
                .map(|c| {
                    if c.numeric {
                        right(&c.cells[i])
                    } else {
                        Cell::new(&c.cells[i])
                    }
                })
                .collect();
            row.push(self.verdict_cell(m.verdict));
            t.add_row(row);
        }
        writeln!(out, "{t}")?;
        let findings: Vec<_> = report
            .models
            .iter()
            .flat_map(|m| m.findings.iter().map(move |f| (m, f)))
            .collect();
        if !findings.is_empty() {
            writeln!(out, "\nFindings:")?;
            for (m, f) in findings {
                write!(
                    out,
                    "  {} {} [{}]: {}",
                    Verdict::from(f.severity).word(),
                    m.label(),
                    f.code,
                    f.message
                )?;
                match &f.source {
                    Some(src) => writeln!(out, " ({src})")?,
                    None => writeln!(out)?,
                }
            }
        }
        if !report.periods.is_empty() {
            writeln!(out, "\nBudgets over time (organisation ledger):")?;
            for l in &report.periods {
                writeln!(
                    out,
                    "  {} {} ({})",
                    l.verdict.word(),
                    crate::error::escape_text(&l.message),
                    l.location
                )?;
            }
            if let Some(n) = &report.ledger {
                writeln!(
                    out,
                    "  ledger {}: {} counted ({} new, {} grew, {} already stored)",
                    n.ledger,
                    if n.runs == 1 {
                        "1 run".to_owned()
                    } else {
                        format!("{} runs", n.runs)
                    },
                    n.new,
                    n.grew,
                    n.same
                )?;
            }
        }
        if !report.predictions.is_empty() {
            writeln!(out, "\nPredicted (the verdict judges these projections):")?;
            for p in &report.predictions {
                writeln!(out, "  {}: {}", p.model, p.sentence)?;
                writeln!(out, "    how: {}", p.method)?;
            }
        }
        if !report.whatif.is_empty() {
            writeln!(
                out,
                "\nWhere it would have emitted less (same energy × the region's intensity; avoided emissions, not subtracted):"
            )?;
            for w in &report.whatif {
                for s in &w.sentences {
                    writeln!(out, "  {}: {s}", w.model)?;
                }
                if w.options.is_empty() {
                    writeln!(
                        out,
                        "  {}: no cleaner {} region in the reference",
                        w.model, w.provider
                    )?;
                }
            }
        }
        if !report.warnings.is_empty() {
            writeln!(out, "\nWarnings:")?;
            for w in &report.warnings {
                writeln!(out, "  {w}")?;
            }
        }
        if self.explain {
            writeln!(out, "\nHow the totals were computed:")?;
            for line in super::explain_lines(report, usize::MAX) {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}

impl Render<IngestReport> for Table {
    fn render(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()> {
        let mut t = self.new_table();
        t.set_header(vec![
            Cell::new("Source"),
            Cell::new("Model"),
            Cell::new("Run"),
            Cell::new("Part"),
            right("Duration"),
            right("Energy"),
            right("CO2e"),
            Cell::new("Counted"),
        ]);
        for row in &report.records {
            let r = &row.record;
            let counted = match &row.counted {
                Status::Counted => "yes".to_owned(),
                Status::Superseded { by } => format!("no: superseded by {by}"),
                Status::InRunRow { run } => format!("no: in run row {run}"),
            };
            t.add_row(vec![
                Cell::new(&r.source),
                Cell::new(r.model.as_deref().unwrap_or("-")),
                Cell::new(short_id(&r.run_id)),
                Cell::new(super::part(r.part.as_ref())),
                right(super::opt(r.duration)),
                right(super::opt(r.energy)),
                right(r.emissions),
                Cell::new(counted),
            ]);
        }
        writeln!(out, "{t}")?;
        if report.by_format.len() > 1 {
            for f in &report.by_format {
                writeln!(
                    out,
                    "  {}: {}",
                    f.format.name(),
                    super::totals_sentence(&f.totals)
                )?;
            }
        }
        writeln!(out, "Total: {}", super::totals_sentence(&report.totals))?;
        if !report.warnings.is_empty() {
            writeln!(out, "\nWarnings:")?;
            for w in &report.warnings {
                writeln!(out, "  {w}")?;
            }
        }
        Ok(())
    }
}

/// The first 8 characters of a UUID-like id (the JSON keeps the whole id).
fn short_id(id: &str) -> String {
    if id.len() > 12 && id.is_char_boundary(8) {
        format!("{}…", &id[..8])
    } else {
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_without_a_size_gets_the_fallback_width() {
        assert_eq!(fallback_width(Some(0)), Some(FALLBACK_WIDTH));
        assert_eq!(fallback_width(Some(12)), Some(FALLBACK_WIDTH));
        assert_eq!(fallback_width(Some(80)), None);
        assert_eq!(fallback_width(None), None);
    }
}
