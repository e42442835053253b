//! The disclosure as Markdown, JSON or one self-contained HTML file (no external resource, inline
//! SVG chart, print styles). Every field shows the provisions it serves; the provisions are
//! listed with their citation under the fields.
//!
//! Markdown and HTML share one layout (`layout`), written through [`crate::render::markup`]:
//! the walk decides what the document says, each language how it is marked up and escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Disclosure, Field, ModelDisclosure, Status};
use crate::render::escape::html;
use crate::render::markup::{
    self, Align, Cell, Head, Inline, Markup, code, link, rich, strong, text,
};
use crate::render::{self, Render};
use crate::units::{Energy, Mass, format_significant};

/// The provisions some field serves, in table order.
fn used_provisions(d: &Disclosure) -> Vec<&super::Provision> {
    let used: std::collections::BTreeSet<&str> = d
        .models
        .iter()
        .flat_map(|m| m.sections.iter())
        .flat_map(|s| s.fields.iter())
        .flat_map(|f| f.serves.iter().map(String::as_str))
        .collect();
    d.regulation
        .provisions
        .iter()
        .filter(|p| used.contains(p.id.as_str()))
        .collect()
}

fn title(m: &ModelDisclosure) -> String {
    crate::record::ModelVersion::new(&m.model, m.version.as_deref()).to_string()
}

/// JSON, pretty, with a trailing newline.
impl Render<Disclosure> for render::Json {
    fn render(&self, d: &Disclosure, out: &mut dyn Write) -> io::Result<()> {
        render::json::write_json(d, out)
    }
}

/// Markdown (whole: the comment limit of the check report does not apply).
impl Render<Disclosure> for render::Markdown {
    fn render(&self, d: &Disclosure, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(layout(d, markup::Markdown::default()).as_bytes())
    }
}

/// One self-contained HTML file.
impl Render<Disclosure> for render::Html {
    fn render(&self, d: &Disclosure, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(layout(d, markup::Html::default()).as_bytes())
    }
}

/// The one layout of the disclosure, in any markup language: the header and the one-page
/// summary, then the disclosure of each model version, then the appendices (open items, gate
/// details, provisions, audit trail).
fn layout<M: Markup>(d: &Disclosure, mut o: M) -> String {
    let models = d.models.iter().map(title).collect::<Vec<_>>().join(", ");
    let generator = format!("carbon-gate {}", d.audit.tool_version);
    let style = style(&d.header.id);
    o.begin(&Head {
        title: "Environmental Impact Disclosure",
        subject: &models,
        generator: &generator,
        style: &style,
    });
    header(d, &models, &mut o);
    o.heading(2, "Summary");
    for m in &d.models {
        summary(m, &mut o);
    }
    let items = d.open_items.len();
    o.paragraph(&[
        strong("Open items:"),
        text(if items == 0 {
            " none.".to_owned()
        } else {
            format!(" {items}, listed for the preparer in Appendix A; the gate's policy details are in Appendix B.")
        }),
    ]);
    o.notice(&[text(&d.not_legal_advice)]);
    o.page_break();
    for m in &d.models {
        model(d, m, &mut o);
    }
    if !d.proportionality.is_empty() {
        o.heading(2, "Proportionality memo");
        for memo in &d.proportionality {
            proportionality(memo, &mut o);
        }
    }
    o.page_break();
    open_items(d, &mut o);
    gate(d, &mut o);
    provisions(d, &mut o);
    audit(d, &mut o);
    o.end();
    o.into_string()
}

/// A blank line to sign on, for a person the facts file does not name.
const SIGN_HERE: &str = "______________________________ (name, date, signature)";

/// The document's header: id, version, date, provider, signatories, where the figures come from.
fn header<M: Markup>(d: &Disclosure, models: &str, o: &mut M) {
    let h = &d.header;
    let mut rows: Vec<(&str, Cell<'_>)> = vec![
        ("Document id", vec![strong(&h.id)]),
        ("Version", vec![text(&h.version)]),
        ("Date", vec![text(&d.date)]),
    ];
    if let Some(p) = &d.provider {
        rows.push(("Provider", vec![text(p)]));
    }
    if !o.head_names_subject() {
        rows.push(("Models", vec![text(models)]));
    }
    for (name, who) in [("Prepared by", &h.preparer), ("Approved by", &h.approver)] {
        rows.push((name, vec![text(who.as_deref().unwrap_or(SIGN_HERE))]));
    }
    let from = match h.provenance.as_str() {
        "environment" => " (from the CI environment)",
        "facts" => " (from the facts file)",
        _ => "",
    };
    let mut source: Cell<'_> = vec![text(
        h.repository.as_deref().unwrap_or("repository not recorded"),
    )];
    match &h.commit {
        Some(c) => {
            source.push(text(" at commit "));
            source.push(code(c));
        }
        None => source.push(text(", commit not recorded")),
    }
    source.push(text(from));
    rows.push(("Repository and commit", source));
    rows.push((
        "Produced by",
        vec![
            text("carbon-gate "),
            text(&d.audit.tool_version),
            text(" · reference data "),
            text(short(&d.audit.reference_data)),
            text(" · regulation table "),
            text(&d.audit.regulation_table),
        ],
    ));
    o.key_values(&rows);
}

/// One model version on the summary page: its figures, its gate decision and the AI Act
/// provisions the document serves, with what is missing.
fn summary<M: Markup>(m: &ModelDisclosure, o: &mut M) {
    let s = &m.summary;
    o.heading(3, &title(m));
    let (word, reasons) = s.gate.split_once(": ").unwrap_or((s.gate.as_str(), ""));
    let mut gate: Cell<'_> = vec![strong(word)];
    if !reasons.is_empty() {
        gate.push(text(" — "));
        gate.extend(rich(reasons));
    }
    let mut compute = Vec::new();
    if let Some(h) = s.gpu_hours {
        compute.push(format!("{} GPU-hours", format_significant(h, 3)));
    }
    if !s.hardware.is_empty() {
        compute.push(format!("on {}", s.hardware.join("; ")));
    }
    if let Some(f) = s.training_flop {
        compute.push(format!("· {} FLOP", super::sci(f, 2)));
    }
    let compute = if compute.is_empty() {
        vec![Inline::Null]
    } else {
        vec![text(compute.join(" "))]
    };
    let energy = match s.energy_kwh {
        Some(kwh) => {
            let mut t = format!(
                "{} ({} MWh), {}",
                Energy::kwh(kwh),
                format_significant(kwh / 1000.0, 2),
                super::status_words(&s.energy_status)
            );
            if let (Some(lo), Some(hi)) = (s.energy_low_kwh, s.energy_high_kwh) {
                t.push_str(&format!(
                    "; range {} – {}",
                    Energy::kwh(lo),
                    Energy::kwh(hi)
                ));
            }
            vec![text(t)]
        }
        None => vec![Inline::Null],
    };
    let sp = &s.split;
    let mut co2 = format!(
        "Scope 2 (location-based) {} · Scope 3 cat. 1 (cloud electricity) {} · embodied (SCI) {} · total {}",
        Mass::kg(sp.scope2_location_kg),
        Mass::kg(sp.scope3_cat1_location_kg),
        Mass::kg(sp.embodied_sci_kg),
        Mass::kg(s.co2e_kg)
    );
    if let (Some(lo), Some(hi)) = (s.co2e_low_kg, s.co2e_high_kg) {
        co2.push_str(&format!("; range {} – {}", Mass::kg(lo), Mass::kg(hi)));
    }
    let mut mix: Cell<'_> = Vec::new();
    for (i, g) in s.grid.iter().enumerate() {
        if i > 0 {
            mix.push(text("; "));
        }
        let source = g
            .source
            .split_once("; location:")
            .map_or(g.source.as_str(), |x| x.0);
        mix.push(text(format!("{} — {}", g.value, source)));
    }
    if mix.is_empty() {
        mix.push(Inline::Null);
    }
    mix.push(text(match s.market_co2e_kg {
        Some(v) => format!(" · market-based: {}", Mass::kg(v)),
        None => " · market-based: no contractual instrument given".to_owned(),
    }));
    o.key_values(&[
        ("Model and version", vec![text(title(m))]),
        ("Gate decision", gate),
        ("Training compute", compute),
        ("Energy", energy),
        ("CO2e", vec![text(co2)]),
        ("Energy mix used (grid)", mix),
    ]);
    let rows: Vec<Vec<Cell<'_>>> = m
        .ai_act
        .iter()
        .map(|r| {
            vec![
                vec![text(&r.provisions)],
                vec![text(if r.provided.is_empty() {
                    "nothing".to_owned()
                } else {
                    r.provided.join(", ")
                })],
                vec![text(if r.missing.is_empty() {
                    "nothing".to_owned()
                } else {
                    r.missing.join(", ")
                })],
            ]
        })
        .collect();
    o.table_of(
        "act",
        &text_columns(&["AI Act", "This document gives", "Still missing"]),
        &rows,
    );
}

/// A filled field without a note whose value is longer than this is written as a paragraph.
const PROSE: usize = 180;

/// The open item that a null field of `m` became.
fn item_of(d: &Disclosure, m: &ModelDisclosure, key: &str) -> Option<usize> {
    let name = title(m);
    d.open_items
        .iter()
        .find(|i| i.model.as_deref() == Some(name.as_str()) && i.field.as_deref() == Some(key))
        .map(|i| i.number)
}

/// Short citations of the provisions a field serves.
fn short_cites(d: &Disclosure, f: &Field) -> String {
    f.serves
        .iter()
        .map(|id| {
            d.regulation
                .provisions
                .iter()
                .find(|p| &p.id == id)
                .map_or_else(
                    || id.clone(),
                    |p| p.short.clone().unwrap_or_else(|| p.cite.clone()),
                )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One model version: its emissions split, its sections of fields and its assumptions.
fn model<M: Markup>(d: &Disclosure, m: &ModelDisclosure, o: &mut M) {
    o.heading(2, &format!("Disclosure: {}", title(m)));
    if o.draws_figures() {
        o.figure(&chart(m));
    } else {
        let split = &m.split;
        let total =
            split.scope2_location_kg + split.scope3_cat1_location_kg + split.embodied_sci_kg;
        o.paragraph(&[text(format!(
            "Emissions split: Scope 2 {} · Scope 3 cat. 1 {} · embodied (SCI) {} · total {}",
            Mass::kg(split.scope2_location_kg),
            Mass::kg(split.scope3_cat1_location_kg),
            Mass::kg(split.embodied_sci_kg),
            Mass::kg(total)
        ))]);
    }
    for s in &m.sections {
        o.heading(3, &format!("{}. {}", s.id, s.title));
        // A field of prose (a method, a boundary) is a paragraph under the table, not a cell.
        let prose = |f: &&Field| {
            f.status == Status::Filled
                && f.note.is_none()
                && f.key != "defaults_used"
                && f.display.chars().count() > PROSE
        };
        let rows: Vec<Vec<Cell<'_>>> = s
            .fields
            .iter()
            .filter(|f| !prose(f))
            .map(|f| {
                let (value, note) = match f.status {
                    Status::Null => (
                        vec![Inline::Null],
                        vec![text(match item_of(d, m, &f.key) {
                            Some(n) => format!("open item {n} (Appendix A)"),
                            None => "see Appendix A".to_owned(),
                        })],
                    ),
                    Status::Filled if f.key == "defaults_used" && !m.assumptions.is_empty() => (
                        vec![text(format!(
                            "{} inputs: the table of assumptions below",
                            m.assumptions.len()
                        ))],
                        Vec::new(),
                    ),
                    Status::Filled => (
                        rich(&f.display),
                        f.note.as_deref().map(rich).unwrap_or_default(),
                    ),
                };
                vec![
                    vec![text(&f.label)],
                    value,
                    note,
                    vec![text(short_cites(d, f))],
                ]
            })
            .collect();
        o.table_of(
            "fields",
            &text_columns(&["Field", "Value", "How it was obtained", "Serves"]),
            &rows,
        );
        for f in s.fields.iter().filter(prose) {
            let mut p = vec![strong(format!("{}.", f.label)), text(" ")];
            p.extend(rich(&f.display));
            p.push(text(format!(" (Serves: {}.)", short_cites(d, f))));
            o.paragraph(&p);
        }
    }
    if !m.assumptions.is_empty() {
        o.heading(3, "Assumptions and their sources");
        let rows: Vec<Vec<Cell<'_>>> = m
            .assumptions
            .iter()
            .map(|a| vec![vec![text(&a.name)], rich(&a.value), rich(&a.source)])
            .collect();
        o.table_of(
            "assumptions",
            &text_columns(&["Input", "Value", "Source"]),
            &rows,
        );
    }
}

/// Appendix A: what the preparer still has to supply.
fn open_items<M: Markup>(d: &Disclosure, o: &mut M) {
    o.heading(2, "Appendix A. Open items for the preparer");
    if d.open_items.is_empty() {
        o.paragraph(&[text("None: every field is filled.")]);
        return;
    }
    o.paragraph(&rich(
        "Not part of the disclosure: what is still to be supplied before it is filed, and how. `carbon-gate report` prints the same list on its standard error.",
    ));
    let rows: Vec<Vec<Cell<'_>>> = d
        .open_items
        .iter()
        .map(|i| {
            vec![
                vec![text(i.number.to_string())],
                vec![text(i.model.as_deref().unwrap_or("the document"))],
                vec![text(&i.label)],
                rich(&i.action),
            ]
        })
        .collect();
    o.table_of(
        "items",
        &[
            ("#", Align::Right),
            ("Concerns", Align::Left),
            ("Item", Align::Left),
            ("What is missing, and how to supply it", Align::Left),
        ],
        &rows,
    );
}

/// Appendix B: the CI gate's particulars, with the policy locations (only here).
fn gate<M: Markup>(d: &Disclosure, o: &mut M) {
    let g = &d.gate;
    o.heading(2, "Appendix B. Gate details");
    // The findings below carry the policy locations; the one-line summary (in the JSON) would
    // repeat them.
    o.paragraph(&[
        text("Overall verdict: "),
        strong(d.verdict.to_uppercase()),
        text(format!(
            " ({} finding(s); each row names the line of the policy that sets its limit).",
            g.findings.len()
        )),
    ]);
    o.paragraph(&[text("Policy digest: "), code(&d.audit.policy_digest)]);
    if !g.budgets.is_empty() {
        let rows: Vec<Vec<Cell<'_>>> = g.budgets.iter().map(|b| vec![vec![text(b)]]).collect();
        o.table(&text_columns(&["Budget"]), &rows);
    }
    if !g.findings.is_empty() {
        let rows: Vec<Vec<Cell<'_>>> = g
            .findings
            .iter()
            .map(|f| {
                vec![
                    vec![text(&f.model)],
                    vec![code(&f.code)],
                    vec![text(&f.severity)],
                    rich(&f.message),
                    vec![text(f.source.as_deref().unwrap_or("—"))],
                ]
            })
            .collect();
        o.table(
            &text_columns(&["Model", "Finding", "Severity", "Message", "Limit set at"]),
            &rows,
        );
    }
}

/// One proportionality memo: the options compared, the recommendation and the conclusion.
fn proportionality<M: Markup>(memo: &super::Memo, o: &mut M) {
    o.paragraph(&[text("Chosen: "), strong(&memo.chosen)]);
    let rows: Vec<Vec<Cell<'_>>> = memo
        .rows
        .iter()
        .map(|r| {
            let option = match &r.kind {
                Some(k) => format!("{} ({k})", r.role),
                None => r.role.clone(),
            };
            let version =
                crate::record::ModelVersion::new(&r.model, r.version.as_deref()).to_string();
            let accuracy = r
                .accuracy
                .map_or_else(|| "—".to_owned(), |a| format_significant(a, 4));
            vec![
                vec![text(option)],
                vec![text(version)],
                vec![text(accuracy)],
                vec![text(Energy::kwh(r.energy_kwh).to_string())],
                vec![text(Mass::kg(r.co2e_kg).to_string())],
                vec![text(if r.recommended { "recommended" } else { "" })],
            ]
        })
        .collect();
    o.table(
        &[
            ("Option", Align::Left),
            ("Model", Align::Left),
            (memo.metric.as_deref().unwrap_or("accuracy"), Align::Right),
            ("Energy", Align::Right),
            ("CO2e", Align::Right),
            ("", Align::Left),
        ],
        &rows,
    );
    o.paragraph(&[text(&memo.recommendation)]);
    o.paragraph(&[strong("Conclusion."), text(" "), text(&memo.conclusion)]);
}

/// The provisions cited and the dates they apply from.
fn provisions<M: Markup>(d: &Disclosure, o: &mut M) {
    let r = &d.regulation;
    o.heading(2, "Appendix C. Provisions cited");
    o.paragraph(&[
        text("Regulation table "),
        text(&r.version),
        text(" — "),
        text(&r.basis),
        text(" Verify at "),
        link(&r.verify_at),
        text("."),
    ]);
    let cited: Vec<Vec<Cell<'_>>> = used_provisions(d)
        .into_iter()
        .map(|p| vec![vec![text(&p.id)], vec![text(&p.cite)], vec![text(&p.about)]])
        .collect();
    o.table(&text_columns(&["Id", "Citation", "What it asks"]), &cited);
    let dates: Vec<Vec<Cell<'_>>> = r
        .dates
        .iter()
        .map(|r| {
            vec![
                vec![text(&r.date)],
                vec![text(&r.applies)],
                vec![text(&r.cite)],
            ]
        })
        .collect();
    o.table(&text_columns(&["Date", "What applies", "Basis"]), &dates);
}

/// Columns of text, left-aligned.
fn text_columns<'a>(headers: &[&'a str]) -> Vec<(&'a str, Align)> {
    headers.iter().map(|h| (*h, Align::Left)).collect()
}

/// What the disclosure was made from: tool, data, policy, every input's digest, the command.
fn audit<M: Markup>(d: &Disclosure, o: &mut M) {
    let a = &d.audit;
    o.heading(2, "Appendix D. Audit trail");
    o.paragraph(&[
        text("carbon-gate "),
        text(&a.tool_version),
        text(" · reference data "),
        code(&a.reference_data),
        text(" · regulation table "),
        text(&a.regulation_table),
        text(" · policy digest "),
        code(&a.policy_digest),
    ]);
    let files: Vec<Vec<Cell<'_>>> = a
        .files
        .iter()
        .map(|f| {
            vec![
                vec![text(&f.path)],
                vec![text(&f.role)],
                vec![code(&f.sha256)],
            ]
        })
        .collect();
    o.table(&text_columns(&["File", "Role", "SHA-256"]), &files);
    o.paragraph(&[text("Re-run: "), code(&a.command)]);
}

fn short(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

/// A round step for an axis from 0 to `max` in about `ticks` steps: 1, 2 or 5 × 10ⁿ.
fn axis_step(max: f64, ticks: f64) -> f64 {
    let raw = max / ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    let n = raw / magnitude;
    let m = if n <= 1.0 {
        1.0
    } else if n <= 2.0 {
        2.0
    } else if n <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * magnitude
}

/// The emissions split as an inline SVG horizontal bar on a scale of kg CO2e, with a legend.
fn chart(m: &ModelDisclosure) -> String {
    let parts = [
        (
            "Scope 2, location-based",
            m.split.scope2_location_kg,
            "#3b6ea5",
        ),
        (
            "Scope 3 cat. 1, location-based (cloud)",
            m.split.scope3_cat1_location_kg,
            "#6fa8dc",
        ),
        (
            "Embodied, SCI time-share",
            m.split.embodied_sci_kg,
            "#c27c0e",
        ),
    ];
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let width = 560.0;
    // The axis runs from 0 to the first round value at or above the total.
    let (step, top) = if total > 0.0 && total.is_finite() {
        let step = axis_step(total, 5.0);
        (step, (total / step).ceil().max(1.0) * step)
    } else {
        (1.0, 1.0)
    };
    let scale = width / top;
    let legend_y = 62;
    let height = legend_y + parts.len() * 20;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{}\" height=\"{height}\" viewBox=\"-12 0 {} {height}\" role=\"img\" aria-label=\"Emissions split of {}, kg CO2e\">",
        width + 24.0,
        width + 24.0,
        html(&title(m))
    );
    let mut x = 0.0;
    if total > 0.0 {
        for (label, v, color) in parts {
            let w = v * scale;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"26\" fill=\"{color}\"><title>{}: {}</title></rect>",
                    html(label),
                    Mass::kg(v)
                );
                x += w;
            }
        }
    } else {
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"26\" fill=\"#ddd\"/>"
        );
    }
    // The scale: an axis line, a tick and a value every step.
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"30\" x2=\"{width}\" y2=\"30\" stroke=\"#555\" stroke-width=\"1\"/>"
    );
    let n = (top / step).round() as usize;
    for i in 0..=n {
        let v = step * i as f64;
        let tx = v * scale;
        let _ = write!(
            svg,
            "<line x1=\"{tx:.2}\" y1=\"30\" x2=\"{tx:.2}\" y2=\"35\" stroke=\"#555\" stroke-width=\"1\"/><text x=\"{tx:.2}\" y=\"47\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            format_significant(v, 3)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{width}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">kg CO2e</text>",
        legend_y - 4
    );
    for (i, (label, v, color)) in parts.iter().enumerate() {
        let y = legend_y + i * 20;
        let share = if total > 0.0 { v / total * 100.0 } else { 0.0 };
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"18\" y=\"{}\" font-size=\"12\">{}: {} ({}%)</text>",
            y + 11,
            html(label),
            Mass::kg(*v),
            format_significant(share, 3)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The style sheet: screen and print. In print, headings stay with what follows, tables and the
/// chart are not split where they fit on a page, and every page is numbered in its bottom
/// margin with the document id (CSS page-margin boxes, which Chromium supports).
fn style(id: &str) -> String {
    // The id is `EID-` and hex digits by construction; keep only those characters anyway, since
    // it is written into a CSS string.
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{STYLE}@page{{size:A4;margin:12mm 13mm 14mm;@bottom-left{{content:\"Environmental Impact Disclosure {id}\";font:8pt sans-serif;color:#555}}@bottom-right{{content:\"Page \" counter(page) \" of \" counter(pages);font:8pt sans-serif;color:#555}}}}"
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.3}\
h1{font-size:1.45rem;margin:0 0 .4rem}h2{font-size:1.15rem;margin:1rem 0 .35rem;border-bottom:1px solid #999}h3{font-size:.98rem;margin:.7rem 0 .25rem}p{margin:.35rem 0}\
table{border-collapse:collapse;width:100%;margin:.25rem 0 .6rem;font-size:.78rem}th,td{border:1px solid #bbb;padding:.12rem .3rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#eee}tbody th{width:9.5rem;background:#f4f4f4;font-weight:600}td.null{color:#8a1c1c;font-style:italic}code{font-size:.9em;overflow-wrap:anywhere}\
table.fields,table.assumptions,table.act,table.items{table-layout:fixed}\
.fields th:nth-child(1){width:16%}.fields th:nth-child(2){width:24%}.fields th:nth-child(4){width:17%}\
.assumptions th:nth-child(1){width:15%}.assumptions th:nth-child(2){width:27%}\
.act th:nth-child(1){width:26%}.act th:nth-child(3){width:26%}.items th:nth-child(1){width:2.2rem}.items th:nth-child(2){width:16%}.items th:nth-child(3){width:22%}\
.notice{border-left:4px solid #c27c0e;padding:.25rem .6rem;background:#fdf6e3;font-size:.75rem}.chart{max-width:100%;height:auto}\
@media print{body{margin:0;max-width:none;font-size:9pt}h1,h2,h3{break-after:avoid;page-break-after:avoid}table:not(:has(>thead)),.chart{break-inside:avoid;page-break-inside:avoid}thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}.page-break{break-after:page;page-break-after:always}a{color:inherit;text-decoration:none}}";
