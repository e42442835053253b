//! Markdown: the body of the PR comment and job summary (GitHub-flavoured).
//!
//! Layout: a headline verdict; per candidate group the trade-off table (baseline, candidate,
//! alternatives; Pareto ◆ and recommended ★ marks), the recommendation in one sentence and a
//! Mermaid chart of accuracy vs CO2e; a table for models outside any group; findings grouped as
//! blocking ❌, warnings ⚠️ and waived; one equivalence line; details folded in `<details>`.
//!
//! Every string that came from input (model names, versions, run ids, paths, messages) is escaped
//! so it cannot inject Markdown, HTML or `@mentions`: characters with meaning become numeric
//! character references. A body longer than GitHub's 65,536-character comment limit is cut at a
//! line boundary with "… and N more lines".

use std::io::{self, Write};

use super::Render;
use super::escape::{code_cell as code, markdown as esc};
use crate::ledger::Status;
use crate::report::{CheckReport, Finding, IngestReport, ModelReport, Role, Severity, Verdict};
use crate::tradeoff::TradeOff;
use crate::units::{Energy, Mass, format_significant};

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The Markdown renderer.
#[derive(Debug, Clone, Copy)]
pub struct Markdown {
    /// Longest body, in characters.
    pub limit: usize,
}

impl Default for Markdown {
    fn default() -> Self {
        Markdown {
            limit: GITHUB_COMMENT_LIMIT,
        }
    }
}

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Fail => "❌",
    }
}

/// A name safe inside a Mermaid chart: ASCII letters, digits, space, `. - _`; at most 40 chars.
fn mermaid_text(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_') {
                c
            } else {
                ' '
            }
        })
        .collect();
    let collapsed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = collapsed.chars().take(40).collect();
    let cut = cut.trim().to_owned();
    if cut.is_empty() {
        "unnamed".to_owned()
    } else {
        cut
    }
}

/// A Mermaid coordinate: `0`, `1` or `0.dddd` (Mermaid rejects `1.0`, `.5` and exponents).
fn coordinate(x: f64) -> String {
    let x = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let rounded = (x * 10_000.0).round() / 10_000.0;
    if rounded <= 0.0 {
        "0".to_owned()
    } else if rounded >= 1.0 {
        "1".to_owned()
    } else {
        let text = format!("{rounded:.4}");
        text.trim_end_matches('0').to_owned()
    }
}

fn mass(kg: f64) -> String {
    Mass::kg(kg).to_string()
}

fn signed_mass(kg: f64) -> String {
    if kg < 0.0 {
        format!("−{}", Mass::kg(-kg))
    } else {
        format!("+{}", Mass::kg(kg))
    }
}

fn signed_pct(p: f64) -> String {
    if p < 0.0 {
        format!("−{}%", format_significant(-p, 3))
    } else {
        format!("+{}%", format_significant(p, 3))
    }
}

fn role_name(role: Role, kind: Option<&str>) -> String {
    match (role, kind) {
        (Role::Baseline, _) => "baseline".to_owned(),
        (Role::Candidate, _) => "candidate".to_owned(),
        (Role::Alternative, Some(k)) => esc(k),
        (Role::Alternative, None) => "alternative".to_owned(),
    }
}

fn tradeoff_section(t: &TradeOff, out: &mut String) {
    let metric = t.metric.as_deref().unwrap_or("accuracy");
    out.push_str(&format!(
        "\n### {}: {} vs energy vs CO2e\n\n",
        esc(&t.group),
        esc(metric)
    ));
    out.push_str(&format!(
        "| | Model | {m} | Energy | CO2e (operational + embodied) | Δ CO2e vs baseline | CO2e per {m} point | Budget headroom | Verdict |\n",
        m = esc(metric)
    ));
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|---|\n");
    for row in &t.rows {
        let marks = format!(
            "{}{}",
            if row.pareto { " ◆" } else { "" },
            if row.recommended { " ★" } else { "" }
        );
        let delta = match (row.delta_co2e_kg, row.delta_co2e_pct) {
            (Some(d), Some(p)) => format!("{} ({})", signed_mass(d), signed_pct(p)),
            (Some(d), None) => signed_mass(d),
            _ => "—".to_owned(),
        };
        let headroom = match row.headroom_pct {
            Some(h) if h >= 0.0 => format!("{}% left", format_significant(h, 3)),
            Some(h) => format!("🔴 OVER by {}%", format_significant(-h, 3)),
            None => "—".to_owned(),
        };
        let embodied = if row.embodied_co2e_kg > 0.0 {
            format!(
                " ({} + {})",
                mass(row.operational_co2e_kg),
                mass(row.embodied_co2e_kg)
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {}{marks} | {} | {} | {}{embodied} | {delta} | {} | {headroom} | {} {} |\n",
            role_name(row.role, row.kind.as_deref()),
            esc(&row.label()),
            row.accuracy
                .map(|a| format_significant(a, 4))
                .unwrap_or_else(|| "—".to_owned()),
            Energy::kwh(row.energy_kwh),
            mass(row.co2e_kg),
            row.co2e_per_point_kg
                .map(mass)
                .unwrap_or_else(|| "—".to_owned()),
            icon(row.verdict),
            row.verdict.word().to_lowercase()
        ));
    }
    out.push_str(&format!(
        "\n◆ Pareto-efficient: no other row is at least as accurate with less CO2e · ★ recommended\n\n**{}**\n",
        esc(&t.recommendation)
    ));
    mermaid(t, metric, out);
}

fn mermaid(t: &TradeOff, metric: &str, out: &mut String) {
    let points: Vec<(&crate::tradeoff::Row, f64)> = t
        .rows
        .iter()
        .filter_map(|r| r.accuracy.map(|a| (r, a)))
        .collect();
    if points.len() < 2 {
        return;
    }
    let (lo_c, hi_c) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (r, _)| {
            (lo.min(r.co2e_kg), hi.max(r.co2e_kg))
        });
    let (lo_a, hi_a) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, a)| {
            (lo.min(*a), hi.max(*a))
        });
    // Spread the points over 0.05–0.95 so none sits on an edge.
    let scale = |v: f64, lo: f64, hi: f64| {
        if hi > lo {
            0.05 + 0.9 * (v - lo) / (hi - lo)
        } else {
            0.5
        }
    };
    let name = mermaid_text(metric);
    out.push_str(&format!(
        "\n```mermaid\nquadrantChart\n    title {} vs CO2e {}\n    x-axis \"Less CO2e\" --> \"More CO2e\"\n    y-axis \"Lower {name}\" --> \"Higher {name}\"\n    quadrant-1 \"Accurate but heavy\"\n    quadrant-2 \"Accurate and light\"\n    quadrant-3 \"Light but less accurate\"\n    quadrant-4 \"Heavy and less accurate\"\n",
        name,
        mermaid_text(&t.group)
    ));
    for (row, acc) in points {
        let y = scale(acc, lo_a, hi_a);
        let y = if t.higher_is_better { y } else { 1.0 - y };
        out.push_str(&format!(
            "    \"{}\": [{}, {}]\n",
            mermaid_text(&format!(
                "{} {}",
                match row.role {
                    Role::Baseline => "baseline",
                    Role::Candidate => "candidate",
                    Role::Alternative => row.kind.as_deref().unwrap_or("alternative"),
                },
                row.label()
            )),
            coordinate(scale(row.co2e_kg, lo_c, hi_c)),
            coordinate(y)
        ));
    }
    out.push_str("```\n");
}

fn models_table(models: &[&ModelReport], out: &mut String) {
    let columns = super::check_columns_for(models);
    let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
    out.push_str(&format!("\n| {} | Verdict |\n", header.join(" | ")));
    let rule: Vec<&str> = columns
        .iter()
        .map(|c| if c.numeric { "--:" } else { "---" })
        .collect();
    out.push_str(&format!("|{}|---|\n", rule.join("|")));
    for (i, m) in models.iter().enumerate() {
        let cells: Vec<String> = columns.iter().map(|c| esc(&c.cells[i])).collect();
        out.push_str(&format!(
            "| {} | {} {} |\n",
            cells.join(" | "),
            icon(m.verdict),
            m.verdict.word().to_lowercase()
        ));
    }
}

fn finding_line(m: &ModelReport, f: &Finding) -> String {
    let mut line = format!(
        "- **{}** {}: {}",
        esc(&m.label()),
        code(f.code),
        esc(&f.message)
    );
    if let Some(src) = &f.source {
        line.push_str(&format!(" — {}", code(&src.to_string())));
    }
    if let Some(w) = &f.waiver {
        line.push_str(&format!(
            " — waived until {} by {}: {}",
            esc(&w.expires),
            esc(&w.approved_by),
            esc(&w.reason)
        ));
    }
    line.push('\n');
    line
}

fn findings_section(report: &CheckReport, limit_per_group: usize, out: &mut String) {
    let gated: Vec<&ModelReport> = report
        .models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .collect();
    let groups = [
        (Severity::Fail, "Blocking ❌"),
        (Severity::Warn, "Warnings ⚠️"),
        (Severity::Waived, "Waived by exception"),
    ];
    let any = gated.iter().any(|m| !m.findings.is_empty());
    if !any {
        return;
    }
    out.push_str("\n### Findings\n");
    for (severity, title) in groups {
        let lines: Vec<String> = gated
            .iter()
            .flat_map(|m| {
                m.findings
                    .iter()
                    .filter(move |f| f.severity == severity)
                    .map(move |f| finding_line(m, f))
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("\n**{title}**\n\n"));
        for line in lines.iter().take(limit_per_group) {
            out.push_str(line);
        }
        if lines.len() > limit_per_group {
            out.push_str(&format!(
                "- … and {} more (see the JSON report)\n",
                lines.len() - limit_per_group
            ));
        }
    }
}

fn equivalence(report: &CheckReport, out: &mut String) {
    let Some(e) = &report.equivalence else {
        return;
    };
    out.push_str(&format!(
        "\n🌱 The candidates' {} CO2e is about as much as driving a typical passenger car {} km (US EPA: about 400 g CO2 per mile).\n",
        e.co2e,
        format_significant(e.car_km, 3)
    ));
}

/// Cleaner regions of the same provider, with the saving; avoided emissions stay separate.
fn whatif_section(report: &CheckReport, out: &mut String) {
    if report.whatif.is_empty() {
        return;
    }
    out.push_str("\n### Where it would have emitted less\n\n");
    for w in &report.whatif {
        let label = crate::record::ModelVersion::new(&w.model, w.version.as_deref()).to_string();
        if w.options.is_empty() {
            out.push_str(&format!(
                "- {}: ran in {} — no cleaner {} region in the reference\n",
                esc(&label),
                esc(&w.ran_in.join(", ")),
                esc(&w.provider)
            ));
        }
        for s in &w.sentences {
            out.push_str(&format!("- {}: {}\n", esc(&label), esc(s)));
        }
    }
    out.push_str("\n<sub>Same energy × each region's location-based intensity (embedded reference data). Hypothetical avoided emissions: never subtracted from the totals above.</sub>\n");
}

impl Markdown {
    fn body(&self, report: &CheckReport, detail_rows: usize, findings: usize) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "## {} carbon-gate: {}\n\n**{}**\n",
            icon(report.verdict),
            report.verdict.word(),
            esc(&report.summary)
        ));
        if !report.policy_changes.is_empty() {
            out.push_str(&format!(
                "\n> [!WARNING]\n> **This change edits the carbon policy.** The verdict above uses the policy at {}; the edits apply only after they are reviewed and merged:\n",
                code(report.policy_ref.as_deref().unwrap_or("the base"))
            ));
            for c in &report.policy_changes {
                out.push_str(&format!("> - {}\n", esc(c)));
            }
        }
        if !report.evidence_changes.is_empty() {
            out.push_str(&format!(
                "\n> [!CAUTION]\n> **This change edits the logs it is judged on** (compared with {}): their author could have written any figure into them. Prefer evidence from the training job's artifacts or the registry:\n",
                code(report.policy_ref.as_deref().unwrap_or("the base"))
            ));
            for c in &report.evidence_changes {
                out.push_str(&format!("> - {}\n", esc(c)));
            }
        }
        let in_group: Vec<&str> = report.tradeoffs.iter().map(|t| t.group.as_str()).collect();
        for t in &report.tradeoffs {
            tradeoff_section(t, &mut out);
        }
        let rest: Vec<&ModelReport> = report
            .models
            .iter()
            .filter(|m| !in_group.contains(&m.group.as_str()))
            .collect();
        if !rest.is_empty() {
            models_table(&rest, &mut out);
        }
        if !report.predictions.is_empty() {
            out.push_str("\n### Projection (the verdict judges where the run is heading)\n\n");
            for p in &report.predictions {
                out.push_str(&format!(
                    "- **{}**: {}\n  <sub>{}</sub>\n",
                    esc(&p.model),
                    esc(&p.sentence),
                    esc(&p.method)
                ));
            }
        }
        findings_section(report, findings, &mut out);
        whatif_section(report, &mut out);
        equivalence(report, &mut out);
        if !report.warnings.is_empty() {
            out.push_str(&format!(
                "\n<details><summary>Input warnings ({})</summary>\n\n",
                report.warnings.len()
            ));
            for w in report.warnings.iter().take(findings) {
                out.push_str(&format!("- {}", code(w.code)));
                if let Some(at) = &w.location {
                    out.push_str(&format!(" {}", code(&at.to_string())));
                }
                out.push_str(&format!(": {}\n", esc(&w.message)));
            }
            if report.warnings.len() > findings {
                out.push_str(&format!(
                    "- … and {} more (see the JSON report)\n",
                    report.warnings.len() - findings
                ));
            }
            out.push_str("\n</details>\n");
        }
        if report.models.iter().any(|m| !m.contributions.is_empty()) {
            out.push_str("\n<details><summary>How the totals were computed</summary>\n\n```text\n");
            for line in super::explain_lines(report, detail_rows) {
                // A fence inside the block would end it early.
                out.push_str(&line.replace("```", "'''"));
                out.push('\n');
            }
            out.push_str("```\n\n</details>\n");
        }
        let files: Vec<String> = report
            .inputs
            .iter()
            .map(|i| code(&i.path.to_string_lossy()))
            .collect();
        let policies: Vec<String> = report.policy_files.iter().map(|p| code(p)).collect();
        out.push_str(&format!(
            "\n<sub>carbon-gate {} · policy {} · logs {} · methodology: `docs/methodology.md` of carbon-gate</sub>\n",
            env!("CARGO_PKG_VERSION"),
            if policies.is_empty() { "-".to_owned() } else { policies.join(", ") },
            if files.is_empty() { "-".to_owned() } else { files.join(", ") },
        ));
        out
    }
}

/// Cut `body` to at most `limit` characters at a line boundary, saying how much was left out.
pub fn fit(body: &str, limit: usize) -> String {
    if body.chars().count() <= limit {
        return body.to_owned();
    }
    let lines: Vec<&str> = body.lines().collect();
    let mut kept = String::new();
    let mut count = 0;
    let reserve = 200;
    for line in &lines {
        let n = line.chars().count() + 1;
        if count + n > limit.saturating_sub(reserve) {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
        count += n;
    }
    let shown = kept.lines().count();
    // Close a code fence or a details block left open by the cut (a fence starts a line; a
    // code span's run of backticks inside a line is not one).
    if kept.lines().filter(|l| l.starts_with("```")).count() % 2 == 1 {
        kept.push_str("```\n");
    }
    if kept.matches("<details>").count() > kept.matches("</details>").count() {
        kept.push_str("\n</details>\n");
    }
    kept.push_str(&format!(
        "\n… and {} more lines (cut to GitHub's {limit}-character comment limit; the JSON report has everything)\n",
        lines.len() - shown
    ));
    kept
}

impl Render<CheckReport> for Markdown {
    fn render(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        // Shrink the details first, then the lists, then cut.
        let mut body = self.body(report, 20, 50);
        for (rows, findings) in [(5, 20), (1, 10)] {
            if body.chars().count() <= self.limit {
                break;
            }
            body = self.body(report, rows, findings);
        }
        out.write_all(fit(&body, self.limit).as_bytes())
    }
}

impl Render<IngestReport> for Markdown {
    fn render(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()> {
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
    fn mermaid_names_and_coordinates() {
        assert_eq!(mermaid_text("text-gen 2.1.0"), "text-gen 2.1.0");
        assert_eq!(
            mermaid_text("<img src=x> @org/team | `x`"),
            "img src x org team x"
        );
        assert_eq!(mermaid_text("%%{init}%%"), "init");
        assert_eq!(mermaid_text("🙂"), "unnamed");
        assert_eq!(coordinate(0.999_96), "1");
        assert_eq!(coordinate(0.5), "0.5");
        assert_eq!(coordinate(0.123_456), "0.1235");
        assert_eq!(coordinate(-3.0), "0");
        assert_eq!(coordinate(f64::NAN), "0");
    }

    #[test]
    fn long_bodies_are_cut_at_a_line() {
        let body: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let cut = fit(&body, 1000);
        assert!(cut.chars().count() <= 1000, "{}", cut.chars().count());
        assert!(cut.contains("more lines (cut to GitHub's 1000-character comment limit"));
        let fenced = format!("```text\n{body}```\n");
        assert_eq!(fit(&fenced, 1000).matches("```").count() % 2, 0);
    }
}
