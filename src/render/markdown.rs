//! Markdown: the body of the PR comment and job summary (GitHub-flavoured).
//!
//! Layout (`docs/github.md`, *The comment*): one headline a reviewer can act on (verdict, the
//! change in CO2e vs the baseline, the share of the budget used; for several models the worst,
//! then "and N more"); a line of links (commit, workflow run and job summary, methodology); the
//! findings, each reason once with its `file:line`; how to resolve a warning or failure; per
//! candidate group the trade-off table (baseline, candidate, alternatives; Pareto ◆ and
//! recommended ★ marks), the recommendation in one sentence and a Mermaid chart of accuracy vs
//! CO2e drawn to scale (folded in `<details>` when there are several groups); a table for models
//! outside any group; region advice for cloud runs; a car-distance equivalence from 1 km up;
//! details folded in `<details>` (each estimate's assumptions once per model version).
//!
//! Every string that came from input (model names, versions, run ids, paths, messages) is escaped
//! so it cannot inject Markdown, HTML or `@mentions`: characters with meaning become numeric
//! character references. Links are built only from validated parts ([`super::links`]). A body
//! longer than GitHub's 65,536-character comment limit is cut at a line boundary with "… and N
//! more lines".

use std::io::{self, Write};

use super::Render;
use super::escape::{code_cell as code, markdown as esc};
use super::links::{RunLinks, docs_url};
use crate::ledger::Status;
use crate::report::{CheckReport, Finding, IngestReport, ModelReport, Role, Severity, Verdict};
use crate::tradeoff::TradeOff;
use crate::units::{Energy, Mass, format_significant};

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Longest point label in the chart, in characters (longer names end in `…`).
pub const CHART_LABEL_CHARS: usize = 20;

/// The Markdown renderer.
#[derive(Debug, Clone)]
pub struct Markdown {
    /// Longest body, in characters.
    pub limit: usize,
    /// The run and commit to link (none for `check --format markdown`).
    pub links: RunLinks,
}

impl Default for Markdown {
    fn default() -> Self {
        Markdown {
            limit: GITHUB_COMMENT_LIMIT,
            links: RunLinks::default(),
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

/// `text` cut to `max` characters, ending in `…` when cut.
fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// A point's label in the chart: `name version` made Mermaid-safe ([`mermaid_text`]) and at most
/// [`CHART_LABEL_CHARS`] characters, the name shortened first (`text-gen-dist… 1.0.0`).
fn chart_label(model: &str, version: Option<&str>) -> String {
    let name = mermaid_text(model);
    let Some(version) = version.map(mermaid_text) else {
        return ellipsis(&name, CHART_LABEL_CHARS);
    };
    let whole = format!("{name} {version}");
    if whole.chars().count() <= CHART_LABEL_CHARS {
        return whole;
    }
    let room = CHART_LABEL_CHARS.saturating_sub(version.chars().count() + 1);
    if room >= 6 {
        format!("{} {version}", ellipsis(&name, room))
    } else {
        ellipsis(&whole, CHART_LABEL_CHARS)
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

/// The smallest "nice" value (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ) at least `x` (> 0).
fn nice_ceil(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let power = 10f64.powi(x.log10().floor() as i32);
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        let v = m * power;
        if v >= x * (1.0 - 1e-12) {
            return v;
        }
    }
    10.0 * power
}

/// A value of the chart's scale, without float noise (`0.84`, not `0.8400000000000001`).
fn scale_value(v: f64) -> String {
    let text = format_significant(v, 6);
    if text == "-0" { "0".to_owned() } else { text }
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

/// A percentage for the headline: two significant digits under 100 (`83`, `4.3`), whole from 100
/// up (`120`), and never rounded up to 100 from below (`99.9`).
fn headline_pct(p: f64) -> String {
    let a = p.abs();
    let text = if a >= 100.0 {
        format!("{a:.0}")
    } else if a >= 99.5 {
        format!("{:.1}", (a * 10.0).floor() / 10.0)
    } else {
        format_significant(a, 2)
    };
    if p < 0.0 { format!("−{text}") } else { text }
}

/// The headline's fact for one model: the change vs its baseline (or its CO2e without one) and
/// the share of its budget used.
fn headline_fact(m: &ModelReport) -> String {
    let mut text = format!("{}: ", esc(&m.label()));
    match &m.baseline {
        Some(b) => {
            let sign = if b.delta_co2e_kg < 0.0 { "−" } else { "+" };
            text.push_str(&format!(
                "{sign}{} CO2e",
                Mass::kg(b.delta_co2e_kg.abs()).rounded(2)
            ));
            if let Some(p) = b.delta_co2e_pct {
                let sign = if p < 0.0 { "" } else { "+" };
                text.push_str(&format!(" ({sign}{}%)", headline_pct(p)));
            }
            let base = match (&b.version, b.model == m.model) {
                (Some(v), true) => v.clone(),
                _ => crate::record::ModelVersion::new(&b.model, b.version.as_deref()).to_string(),
            };
            text.push_str(&format!(" vs {}", esc(&base)));
        }
        None => text.push_str(&format!(
            "{} CO2e",
            Mass::kg(m.totals.emissions.value()).rounded(3)
        )),
    }
    match budget_share(m) {
        Some(share) => text.push_str(&format!(" — {share}")),
        None if m.budget.is_none() => text.push_str(" — no budget applies"),
        None => {}
    }
    text
}

/// "83% of the 30 kg budget" (the CO2e fail limit; else the warn limit; else energy), with the
/// warn limit when it is passed but the fail limit is not.
fn budget_share(m: &ModelReport) -> Option<String> {
    let co2e = m.totals.emissions.value();
    let energy = m.totals.energy.value();
    let (value, limit, what, shown) = if let Some(l) = m.limits.co2e_kg {
        match (l.fail, l.warn) {
            (Some(f), _) => (co2e, f, "budget", mass(f)),
            (None, Some(w)) => (co2e, w, "warn limit", mass(w)),
            (None, None) => return None,
        }
    } else if let Some(l) = m.limits.energy_kwh {
        match (l.fail, l.warn) {
            (Some(f), _) => (energy, f, "energy budget", Energy::kwh(f).to_string()),
            (None, Some(w)) => (energy, w, "energy warn limit", Energy::kwh(w).to_string()),
            (None, None) => return None,
        }
    } else {
        return None;
    };
    if limit <= 0.0 {
        return None;
    }
    let mut text = format!(
        "{}% of the {shown} {what}",
        headline_pct(value / limit * 100.0)
    );
    if let Some(l) = m.limits.co2e_kg
        && let (Some(w), Some(f)) = (l.warn, l.fail)
        && co2e > w
        && co2e <= f
    {
        text.push_str(&format!(", over the {} warn limit", mass(w)));
    }
    Some(text)
}

/// The first line: verdict and the worst candidate's fact, then how many more there are.
fn headline(report: &CheckReport) -> String {
    let mut candidates: Vec<&ModelReport> = report
        .models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .collect();
    let share = |m: &ModelReport| {
        let used = |v: f64, l: Option<crate::report::LimitValues>| {
            l.and_then(|l| l.fail.or(l.warn))
                .filter(|l| *l > 0.0)
                .map(|l| v / l)
        };
        used(m.totals.emissions.value(), m.limits.co2e_kg)
            .or_else(|| used(m.totals.energy.value(), m.limits.energy_kwh))
            .unwrap_or(f64::NEG_INFINITY)
    };
    let change = |m: &ModelReport| {
        m.baseline
            .as_ref()
            .and_then(|b| b.delta_co2e_pct)
            .unwrap_or(f64::NEG_INFINITY)
    };
    // Worst first: verdict, then the share of the budget used, then the change.
    candidates.sort_by(|a, b| {
        b.verdict
            .cmp(&a.verdict)
            .then(share(b).total_cmp(&share(a)))
            .then(change(b).total_cmp(&change(a)))
    });
    let mut line = format!(
        "## {} carbon-gate: {}",
        icon(report.verdict),
        report.verdict.word()
    );
    let models_verdict = candidates.first().map_or(Verdict::Pass, |m| m.verdict);
    if let Some(p) = report
        .periods
        .iter()
        .find(|p| p.verdict == report.verdict && report.verdict > models_verdict)
    {
        // The verdict comes from a budget over time: say which.
        line.push_str(&format!(" · {}\n", esc(&p.message)));
        return line;
    }
    match candidates.first() {
        None => line.push_str(" · no candidate model"),
        Some(m) => {
            line.push_str(&format!(" · {}", headline_fact(m)));
            if !report.predictions.is_empty() {
                line.push_str(" (projected)");
            }
            if candidates.len() > 1 {
                line.push_str(&format!(" · and {} more", candidates.len() - 1));
            }
        }
    }
    line.push('\n');
    line
}

/// The links a reviewer needs: the commit and the run the report was computed for, and the
/// methodology at this version.
fn links_line(links: &RunLinks) -> String {
    let mut parts = Vec::new();
    if let Some((sha, url)) = &links.commit {
        let short: String = sha.chars().take(12).collect();
        parts.push(format!("for commit [`{short}`]({url})"));
    }
    if let Some((label, url)) = &links.run {
        parts.push(format!(
            "[{label}]({url}) (its summary page has the job summary)"
        ));
    }
    parts.push(format!(
        "[methodology]({})",
        docs_url("docs/methodology.md")
    ));
    format!("\n<sub>{}</sub>\n", parts.join(" · "))
}

fn role_name(role: Role, kind: Option<&str>) -> String {
    match (role, kind) {
        (Role::Baseline, _) => "baseline".to_owned(),
        (Role::Candidate, _) => "candidate".to_owned(),
        (Role::Alternative, Some(k)) => esc(k),
        (Role::Alternative, None) => "alternative".to_owned(),
    }
}

/// The trade-off of one group: table, recommendation, chart. With `folded`, inside a
/// `<details>` whose summary names the group and its verdict.
fn tradeoff_section(t: &TradeOff, folded: bool, out: &mut String) {
    let metric = t.metric.as_deref().unwrap_or("accuracy");
    let title = format!("{}: {} vs energy vs CO2e", esc(&t.group), esc(metric));
    if folded {
        let verdict = t
            .rows
            .iter()
            .find(|r| r.role == Role::Candidate)
            .map(|r| r.verdict)
            .unwrap_or(Verdict::Pass);
        out.push_str(&format!(
            "\n<details><summary>{} {title}</summary>\n\n",
            icon(verdict)
        ));
    } else {
        out.push_str(&format!("\n### {title}\n\n"));
    }
    // CO2e per point: the row's total CO2e over its metric in points (a value ≤ 1 counts as a
    // fraction: f1 0.912 is 91.2 points), as `policy::eval::points` computes it. Meaningless
    // for a metric where lower is better, so not shown for one.
    let per_point = t.higher_is_better && t.rows.iter().any(|r| r.co2e_per_point_kg.is_some());
    let fractions = t.rows.iter().filter_map(|r| r.accuracy).all(|a| a <= 1.0);
    let per_point_header = if fractions {
        format!("CO2e ÷ (100 × {})", esc(metric))
    } else {
        format!("CO2e ÷ {}", esc(metric))
    };
    out.push_str(&format!(
        "| | Model | {m} | Energy | CO2e (operational + embodied) | Δ CO2e vs baseline |{} Budget headroom | Verdict |\n",
        if per_point { format!(" {per_point_header} |") } else { String::new() },
        m = esc(metric)
    ));
    out.push_str(&format!(
        "|---|---|--:|--:|--:|--:|{}--:|---|\n",
        if per_point { "--:|" } else { "" }
    ));
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
        let per_point_cell = if per_point {
            format!(
                " {} |",
                row.co2e_per_point_kg
                    .map(mass)
                    .unwrap_or_else(|| "—".to_owned())
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {}{marks} | {} | {} | {}{embodied} | {delta} |{per_point_cell} {headroom} | {} {} |\n",
            role_name(row.role, row.kind.as_deref()),
            esc(&row.label()),
            row.accuracy
                .map(|a| format_significant(a, 4))
                .unwrap_or_else(|| "—".to_owned()),
            Energy::kwh(row.energy_kwh),
            mass(row.co2e_kg),
            icon(row.verdict),
            row.verdict.word().to_lowercase()
        ));
    }
    out.push_str(
        "\n◆ Pareto-efficient: no other row is at least as accurate with less CO2e · ★ recommended",
    );
    if per_point {
        let example = t
            .rows
            .iter()
            .find(|r| r.role == Role::Candidate)
            .and_then(|r| r.accuracy)
            .filter(|_| fractions)
            .map(|a| {
                format!(
                    " ({} {} is {} points)",
                    esc(metric),
                    format_significant(a, 4),
                    format_significant(a * 100.0, 4)
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            " · {per_point_header}: the row's total CO2e divided by its {} in points{example} — an average over the whole score, not the cost of the last point",
            esc(metric),
        ));
    }
    out.push_str(&format!("\n\n**{}**\n", esc(&t.recommendation)));
    mermaid(t, metric, out);
    if folded {
        out.push_str("\n</details>\n");
    }
}

/// The quadrant names: the top half is the rows that are accurate enough to be recommended (the
/// horizontal midline is the recommendation's bar, `TradeOff::threshold`), the left half the
/// lighter ones (the vertical midline is half the CO2e axis). Without a bar, plain directions.
const QUADRANTS_WITH_BAR: [&str; 4] = [
    "Accurate enough, more CO2e",
    "Accurate enough, less CO2e",
    "Below the bar, less CO2e",
    "Below the bar, more CO2e",
];
const QUADRANTS_WITHOUT_BAR: [&str; 4] = [
    "Higher score, more CO2e",
    "Higher score, less CO2e",
    "Lower score, less CO2e",
    "Lower score, more CO2e",
];

/// The chart of a group, drawn to scale: CO2e from 0 to a round value above the heaviest row
/// (the left and right axis labels name the range of each half); the metric over a range
/// centred on the recommendation's bar, so that the rows above the midline are exactly those
/// accurate enough to be recommended (better values up, whichever way the metric improves).
fn mermaid(t: &TradeOff, metric: &str, out: &mut String) {
    let points: Vec<(&crate::tradeoff::Row, f64)> = t
        .rows
        .iter()
        .filter_map(|r| r.accuracy.filter(|a| a.is_finite()).map(|a| (r, a)))
        .collect();
    if points.len() < 2 {
        return;
    }
    let higher = t.higher_is_better;
    let heaviest = points
        .iter()
        .map(|(r, _)| r.co2e_kg)
        .fold(0.0_f64, f64::max);
    let x_max = nice_ceil(heaviest * 1.05);
    let x_mid = x_max / 2.0;
    let (lo_a, hi_a) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, a)| {
            (lo.min(*a), hi.max(*a))
        });
    let bar = t.threshold.filter(|b| b.is_finite());
    let centre = bar.unwrap_or((lo_a + hi_a) / 2.0);
    let spread = points
        .iter()
        .map(|(_, a)| (a - centre).abs())
        .fold(0.0_f64, f64::max);
    let half = nice_ceil(if spread > 0.0 {
        spread * 1.15
    } else {
        (centre.abs() * 0.01).max(1e-6)
    });
    let (bottom, top) = if higher {
        (centre - half, centre + half)
    } else {
        (centre + half, centre - half)
    };
    let name = mermaid_text(metric);
    let quadrants = if bar.is_some() {
        QUADRANTS_WITH_BAR
    } else {
        QUADRANTS_WITHOUT_BAR
    };
    out.push_str(&format!(
        "\n```mermaid\nquadrantChart\n    title {name} vs CO2e {}, to scale\n    x-axis \"0 to {} CO2e\" --> \"{} to {} CO2e\"\n    y-axis \"{name} {} to {}\" --> \"{name} {} to {}\"\n",
        mermaid_text(&t.group),
        Mass::kg(x_mid),
        Mass::kg(x_mid),
        Mass::kg(x_max),
        scale_value(bottom),
        scale_value(centre),
        scale_value(centre),
        scale_value(top),
    ));
    for (i, q) in quadrants.iter().enumerate() {
        out.push_str(&format!("    quadrant-{} \"{q}\"\n", i + 1));
    }
    for (row, acc) in &points {
        let better = if higher { acc - centre } else { centre - acc };
        let mut y = 0.5 + better / (2.0 * half);
        if let Some(b) = bar {
            // A row exactly at the bar qualifies: draw it inside the top half, and a row below
            // the bar inside the bottom half, whatever the rounding of the coordinate.
            if crate::tradeoff::meets(*acc, Some(b), higher) {
                y = y.max(0.51);
            } else {
                y = y.min(0.49);
            }
        }
        let role = |name: &str| match row.version.as_deref() {
            Some(v) => format!("{name} {}", mermaid_text(v)),
            None => name.to_owned(),
        };
        let label = match row.role {
            Role::Baseline => role("baseline"),
            Role::Candidate => role("candidate"),
            Role::Alternative => chart_label(&row.model, row.version.as_deref()),
        };
        let label = ellipsis(&label, CHART_LABEL_CHARS);
        out.push_str(&format!(
            "    \"{label}{}\": [{}, {}]\n",
            if row.recommended { " ★" } else { "" },
            coordinate(row.co2e_kg / x_max),
            coordinate(y)
        ));
    }
    out.push_str("```\n");
    let bar_words = match bar {
        Some(b) => format!(
            "the horizontal midline is {} {} — the bar of the recommendation: the rows above it are accurate enough, ★ is the lightest of them",
            esc(metric),
            scale_value(b)
        ),
        None => format!(
            "the horizontal midline is {} {}, halfway between the rows",
            esc(metric),
            scale_value(centre)
        ),
    };
    out.push_str(&format!(
        "\n<sub>To scale: CO2e from 0 to {} (the vertical midline is {}); {} from {} to {}, {}{}.</sub>\n",
        Mass::kg(x_max),
        Mass::kg(x_mid),
        esc(metric),
        scale_value(centre - half),
        scale_value(centre + half),
        if higher { "" } else { "lower is better and drawn up; " },
        bar_words
    ));
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

/// How to clear a warning or a failure: reduce, change the policy (reviewed by its owners), or
/// (for a failure the policy can waive) an exception with an expiry.
fn resolve_section(report: &CheckReport, out: &mut String) {
    let open: Vec<&Finding> = report
        .models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .flat_map(|m| m.findings.iter())
        .filter(|f| matches!(f.severity, Severity::Fail | Severity::Warn))
        .collect();
    if open.is_empty() {
        return;
    }
    let failing = open.iter().any(|f| f.severity == Severity::Fail);
    let mut bullets = Vec::new();
    if open.iter().any(|f| f.metric.is_some()) {
        let mut reduce = "**Reduce** the CO2e: fewer, shorter or smaller runs".to_owned();
        if report.tradeoffs.iter().any(|t| {
            t.recommended
                .is_some_and(|r| t.rows[r].role != Role::Candidate)
        }) {
            reduce.push_str("; the recommended row ★ below");
        }
        if report.whatif.iter().any(|w| !w.options.is_empty()) {
            reduce.push_str("; a cleaner region for the cloud runs (below)");
        }
        bullets.push(reduce);
    }
    let mut change = format!(
        "**Change the policy** at the location the finding names (raise the limit, or adjust the rule) — a change to the policy file, reviewed by its CODEOWNERS ([limits]({}), [who reviews]({}))",
        docs_url("docs/policy.md#limits"),
        docs_url("docs/github.md#resolving-a-warning-or-a-failure")
    );
    if let Some(r) = &report.policy_ref {
        change.push_str(&format!(
            "; this check reads the policy at {}, so the change applies once merged",
            code(r)
        ));
    }
    bullets.push(change);
    let mut waivable: Vec<&str> = open
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .map(|f| f.code)
        .filter(|c| crate::policy::rules::WAIVABLE.contains(c))
        .collect();
    waivable.sort_unstable();
    waivable.dedup();
    if !waivable.is_empty() {
        let rules: Vec<String> = waivable.iter().map(|c| code(c)).collect();
        bullets.push(format!(
            "**Add an exception with an expiry** for {} (`exceptions:` with `reason`, `expires` and `approved-by`; [exceptions]({}))",
            rules.join(", "),
            docs_url("docs/policy.md#exceptions")
        ));
    }
    out.push_str(&format!(
        "\n**How to resolve the {}**{}\n\n",
        if failing { "failure" } else { "warning" },
        if bullets.len() > 1 {
            " — any one of:"
        } else {
            ":"
        }
    ));
    for b in bullets {
        out.push_str(&format!("- {b}\n"));
    }
}

/// The candidates' CO2e as car-kilometres, from 1 km up (a smaller distance means nothing).
fn equivalence(report: &CheckReport, out: &mut String) {
    let Some(e) = &report.equivalence else {
        return;
    };
    if e.car_km < 1.0 || !e.car_km.is_finite() {
        return;
    }
    out.push_str(&format!(
        "\n🌱 The candidates' {} CO2e is about as much as driving a typical passenger car {} km (US EPA: about 400 g CO2 per mile).\n",
        e.co2e,
        format_significant(e.car_km, 3)
    ));
}

/// Advice for cloud runs (the only runs whose location can change): cleaner regions of the same
/// provider, with the saving; avoided emissions stay separate from the totals.
fn whatif_section(report: &CheckReport, out: &mut String) {
    let advice: Vec<&crate::mitigation::WhatIf> = report
        .whatif
        .iter()
        .filter(|w| !w.options.is_empty())
        .collect();
    if advice.is_empty() {
        return;
    }
    out.push_str("\n### Consider a cleaner region\n\n");
    for w in advice {
        let label = crate::record::ModelVersion::new(&w.model, w.version.as_deref()).to_string();
        let options: Vec<String> = w
            .options
            .iter()
            .map(|o| {
                format!(
                    "{} ({}{}, {}): about {} ({})",
                    esc(&o.region),
                    esc(&o.location),
                    if o.preferred { ", preferred" } else { "" },
                    crate::units::Intensity::g_per_kwh(o.g_per_kwh),
                    mass(o.co2e_kg),
                    if o.saving_kg >= 0.0 {
                        format!("−{}%", format_significant(o.saving_pct, 3))
                    } else {
                        format!("+{}%", format_significant(-o.saving_pct, 3))
                    }
                )
            })
            .collect();
        let ran_in = if w.ran_in.is_empty() {
            w.provider.clone()
        } else {
            w.ran_in.join(", ")
        };
        out.push_str(&format!(
            "- **{}** ran in {} ({}, {} operational): consider {}\n",
            esc(&label),
            esc(&ran_in),
            crate::units::Intensity::g_per_kwh(w.g_per_kwh),
            mass(w.operational_co2e_kg),
            options.join("; or ")
        ));
    }
    out.push_str("\n<sub>Same energy × each region's location-based intensity (embedded reference data). Hypothetical avoided emissions: never subtracted from the totals above.</sub>\n");
}

/// The budgets over time (`--ledger`): one row per period judged, with the share of its limit
/// and what this change adds.
fn periods_section(report: &CheckReport, out: &mut String) {
    if report.periods.is_empty() {
        return;
    }
    out.push_str("\n### Budgets over time (organisation ledger)\n\n");
    out.push_str("| | Budget | Period | CO2e | Limit | Used | This change adds | Energy |\n");
    out.push_str("|---|---|---|--:|--:|--:|--:|--:|\n");
    for l in &report.periods {
        let limit = l.co2e_fail_kg.or(l.co2e_warn_kg);
        let used = limit
            .filter(|x| *x > 0.0)
            .map(|x| format!("{}%", format_significant(l.co2e_kg / x * 100.0, 3)))
            .unwrap_or_else(|| "-".to_owned());
        let limit_text = match (l.co2e_warn_kg, l.co2e_fail_kg) {
            (Some(w), Some(f)) => format!("warn {} · fail {}", mass(w), mass(f)),
            (None, Some(f)) => format!("fail {}", mass(f)),
            (Some(w), None) => format!("warn {}", mass(w)),
            (None, None) => "-".to_owned(),
        };
        let energy = match l.energy_fail_kwh.or(l.energy_warn_kwh) {
            Some(x) => format!("{} of {}", Energy::kwh(l.energy_kwh), Energy::kwh(x)),
            None => Energy::kwh(l.energy_kwh).to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            icon(l.verdict),
            esc(&l.name),
            esc(&l.period),
            mass(l.co2e_kg),
            limit_text,
            used,
            signed_mass(l.added_co2e_kg),
            energy
        ));
    }
    if report.periods.iter().any(|l| l.verdict == Verdict::Fail) {
        out.push_str("\n**Over a budget over time:** the period's total — every run the ledger holds for it plus this change's — exceeds its fail limit, even if this change's own runs are small. Reduce the runs this change adds, or have the budget's owners review its limit (a policy change, read from the base branch).\n");
    }
    if let Some(n) = &report.ledger {
        out.push_str(&format!(
            "\n<sub>Ledger {}: this check counted {} ({} new, {} grew, {} already stored); each run counts once, by its stable key.</sub>\n",
            code(&n.ledger),
            if n.runs == 1 { "1 run".to_owned() } else { format!("{} runs", n.runs) },
            n.new,
            n.grew,
            n.same
        ));
    }
}

impl Markdown {
    fn body(&self, report: &CheckReport, detail_rows: usize, findings: usize) -> String {
        let mut out = headline(report);
        out.push_str(&links_line(&self.links));
        findings_section(report, findings, &mut out);
        resolve_section(report, &mut out);
        periods_section(report, &mut out);
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
        let folded = report.tradeoffs.len() > 1;
        for t in &report.tradeoffs {
            tradeoff_section(t, folded, &mut out);
        }
        let rest: Vec<&ModelReport> = report
            .models
            .iter()
            .filter(|m| !in_group.contains(&m.group.as_str()))
            .collect();
        if !rest.is_empty() {
            out.push_str("\n### Models\n");
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
        whatif_section(report, &mut out);
        equivalence(report, &mut out);
        // An input warning that is also a finding (an expired exception) is stated once, there;
        // so are the policy's and the logs' changes, in their callouts above.
        let stated: Vec<(&str, String)> = report
            .models
            .iter()
            .filter(|m| m.role == Role::Candidate)
            .flat_map(|m| m.findings.iter())
            .filter_map(|f| f.source.as_ref().map(|s| (f.code, s.to_string())))
            .collect();
        let warnings: Vec<&crate::diagnostic::Warning> = report
            .warnings
            .iter()
            .filter(|w| {
                w.location
                    .as_ref()
                    .is_none_or(|at| !stated.contains(&(w.code, at.to_string())))
            })
            .filter(|w| {
                let in_callout = (w.code == crate::codes::POLICY_CHANGED
                    && !report.policy_changes.is_empty())
                    || (w.code == crate::codes::EVIDENCE_CHANGED
                        && !report.evidence_changes.is_empty());
                !in_callout
            })
            .collect();
        if !warnings.is_empty() {
            out.push_str(&format!(
                "\n<details><summary>Input warnings ({})</summary>\n\n",
                warnings.len()
            ));
            for w in warnings.iter().take(findings) {
                out.push_str(&format!("- {}", code(w.code)));
                if let Some(at) = &w.location {
                    out.push_str(&format!(" {}", code(&at.to_string())));
                }
                out.push_str(&format!(": {}\n", esc(&w.message)));
            }
            if warnings.len() > findings {
                out.push_str(&format!(
                    "- … and {} more (see the JSON report)\n",
                    warnings.len() - findings
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
            "\n<sub>carbon-gate {} · policy {} · logs {}</sub>\n",
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

    fn row(role: Role, version: &str, accuracy: f64, co2e_kg: f64) -> crate::tradeoff::Row {
        crate::tradeoff::Row {
            role,
            model: "model-with-a-rather-long-name".into(),
            version: Some(version.into()),
            kind: None,
            accuracy: Some(accuracy),
            energy_kwh: co2e_kg * 4.0,
            operational_co2e_kg: co2e_kg,
            embodied_co2e_kg: 0.0,
            co2e_kg,
            delta_co2e_kg: None,
            delta_co2e_pct: None,
            co2e_per_point_kg: None,
            headroom_pct: None,
            verdict: Verdict::Pass,
            pareto: false,
            recommended: false,
        }
    }

    /// The quadrant (1–4, Mermaid's numbering) of each point line of a chart.
    fn quadrants(chart: &str) -> Vec<(String, usize)> {
        chart
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let (label, at) = l.strip_prefix('"')?.split_once("\": [")?;
                let (x, y) = at.trim_end_matches(']').split_once(", ")?;
                let (x, y): (f64, f64) = (x.parse().ok()?, y.parse().ok()?);
                let q = match (x >= 0.5, y >= 0.5) {
                    (true, true) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                    (true, false) => 4,
                };
                Some((label.to_owned(), q))
            })
            .collect()
    }

    #[test]
    fn lower_is_better_and_rows_at_the_bar() {
        // An error rate (lower is better), ceiling 0.10: 0.10 exactly qualifies, 0.12 does not.
        let mut rows = vec![
            row(Role::Baseline, "1.0.0", 0.12, 10.0),
            row(Role::Candidate, "2.0.0", 0.08, 30.0),
            row(Role::Alternative, "0.1.0-distilled", 0.10, 5.0),
        ];
        rows[2].recommended = true;
        let t = TradeOff {
            group: "m 2.0.0".into(),
            metric: Some("error".into()),
            higher_is_better: false,
            rows,
            recommended: Some(2),
            recommendation: String::new(),
            threshold: Some(0.10),
        };
        let mut out = String::new();
        mermaid(&t, "error", &mut out);
        // Better (lower) values are drawn up, the axis says so.
        assert!(
            out.contains("y-axis \"error 0.125 to 0.1\" --> \"error 0.1 to 0.075\""),
            "{out}"
        );
        assert!(out.contains("lower is better and drawn up"), "{out}");
        let q = quadrants(&out);
        assert_eq!(
            q,
            vec![
                ("baseline 1.0.0".to_owned(), 3),
                ("candidate 2.0.0".to_owned(), 1),
                ("model-with-a-rather… ★".to_owned(), 2),
            ]
        );
        assert_eq!(QUADRANTS_WITH_BAR[1], "Accurate enough, less CO2e");
    }

    #[test]
    fn chart_labels_and_scales() {
        assert_eq!(chart_label("text-gen", Some("2.1.0")), "text-gen 2.1.0");
        assert_eq!(
            chart_label("text-gen-distilled", Some("1.0.0")),
            "text-gen-dist… 1.0.0"
        );
        assert_eq!(
            chart_label("m", Some("2026.11.28-build.1234567")),
            "m 2026.11.28-build.…"
        );
        assert!(chart_label(&"x".repeat(300), None).chars().count() <= CHART_LABEL_CHARS);
        assert_eq!(nice_ceil(26.19), 30.0);
        assert_eq!(nice_ceil(0.0368), 0.04);
        assert_eq!(nice_ceil(65.1), 80.0);
        assert_eq!(nice_ceil(1.0), 1.0);
        assert_eq!(scale_value(0.88 - 0.04), "0.84");
        assert_eq!(headline_pct(83.15), "83");
        assert_eq!(headline_pct(4.347), "4.3");
        assert_eq!(headline_pct(99.97), "99.9");
        assert_eq!(headline_pct(133.3), "133");
        assert_eq!(headline_pct(-72.2), "−72");
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
