//! Markdown: the body of the PR comment and job summary. GitHub-flavoured, no raw HTML beyond
//! `<details>`, text from inputs escaped so a model name cannot break the table.

use std::io::{self, Write};

use super::Render;
use crate::ledger::Status;
use crate::report::{CheckReport, IngestReport, Verdict};

/// The Markdown renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Markdown;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Fail => "❌",
    }
}

/// Escape text for a Markdown table cell or inline text.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside backticks cannot be escaped; drop backticks and newlines instead.
fn code(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if matches!(c, '`' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("`{clean}`")
}

impl Render for Markdown {
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "## {} carbon-gate: {}\n",
            icon(report.verdict),
            report.verdict.word()
        )?;
        writeln!(out, "**{}**\n", esc(&report.summary))?;
        let columns = super::check_columns(report);
        let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
        writeln!(out, "| {} | Verdict |", header.join(" | "))?;
        let rule: Vec<&str> = columns
            .iter()
            .map(|c| if c.numeric { "--:" } else { "---" })
            .collect();
        writeln!(out, "|{}|---|", rule.join("|"))?;
        for (i, m) in report.models.iter().enumerate() {
            let cells: Vec<String> = columns.iter().map(|c| esc(&c.cells[i])).collect();
            writeln!(
                out,
                "| {} | {} {} |",
                cells.join(" | "),
                icon(m.verdict),
                m.verdict.word().to_lowercase()
            )?;
        }
        let findings: Vec<_> = report
            .models
            .iter()
            .flat_map(|m| m.findings.iter().map(move |f| (m, f)))
            .collect();
        if !findings.is_empty() {
            writeln!(out, "\n### Findings\n")?;
            for (m, f) in findings {
                write!(
                    out,
                    "- {} **{}** {}: {}",
                    icon(f.severity.into()),
                    esc(&m.label()),
                    code(f.code),
                    esc(&f.message)
                )?;
                match &f.source {
                    Some(src) => writeln!(out, " — {}", code(&src.to_string()))?,
                    None => writeln!(out)?,
                }
            }
        }
        if !report.warnings.is_empty() {
            writeln!(
                out,
                "\n<details><summary>Input warnings ({})</summary>\n",
                report.warnings.len()
            )?;
            for w in &report.warnings {
                write!(out, "- {}", code(w.code))?;
                if let Some(at) = &w.location {
                    write!(out, " {}", code(&at.to_string()))?;
                }
                writeln!(out, ": {}", esc(&w.message))?;
            }
            writeln!(out, "\n</details>")?;
        }
        if report.models.iter().any(|m| !m.contributions.is_empty()) {
            writeln!(
                out,
                "\n<details><summary>How the totals were computed</summary>\n\n```text"
            )?;
            for line in super::explain_lines(report, 20) {
                // A fence inside the block would end it early.
                writeln!(out, "{}", line.replace("```", "'''"))?;
            }
            writeln!(out, "```\n\n</details>")?;
        }
        let files: Vec<String> = report
            .inputs
            .iter()
            .map(|i| code(&i.path.to_string_lossy()))
            .collect();
        let policies: Vec<String> = report.policy_files.iter().map(|p| code(p)).collect();
        writeln!(
            out,
            "\n<sub>carbon-gate {} · policy {} · logs {}</sub>",
            env!("CARGO_PKG_VERSION"),
            if policies.is_empty() {
                "-".to_owned()
            } else {
                policies.join(", ")
            },
            if files.is_empty() {
                "-".to_owned()
            } else {
                files.join(", ")
            },
        )
    }

    fn ingest(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "| Source | Model | Run | Part | Duration | Energy | CO2e | Counted |"
        )?;
        writeln!(out, "|---|---|---|---|--:|--:|--:|---|")?;
        for row in &report.records {
            let r = &row.record;
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                code(&r.source.to_string()),
                esc(r.model.as_deref().unwrap_or("-")),
                code(&r.run_id),
                esc(&super::part(r.part.as_ref())),
                super::opt(r.duration),
                super::opt(r.energy),
                r.emissions,
                if row.counted == Status::Counted {
                    "yes"
                } else {
                    "no"
                }
            )?;
        }
        if report.by_format.len() > 1 {
            writeln!(out)?;
            for f in &report.by_format {
                writeln!(
                    out,
                    "- {}: {}",
                    code(f.format.name()),
                    esc(&super::totals_sentence(&f.totals))
                )?;
            }
        }
        writeln!(
            out,
            "\n**Total:** {}",
            esc(&super::totals_sentence(&report.totals))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_table_breakers() {
        assert_eq!(esc("a|b*c"), "a\\|b\\*c");
        assert_eq!(code("x`y"), "`x y`");
    }
}
