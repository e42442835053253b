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
use crate::render::markup::{self, Align, Cell, Head, Inline, Markup, code, link, strong, text};
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

fn cites(d: &Disclosure, f: &Field) -> Vec<String> {
    f.serves
        .iter()
        .map(|id| {
            d.regulation
                .provisions
                .iter()
                .find(|p| &p.id == id)
                .map_or_else(|| id.clone(), |p| p.cite.clone())
        })
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

/// The one layout of the disclosure, in any markup language.
fn layout<M: Markup>(d: &Disclosure, mut o: M) -> String {
    let models = d.models.iter().map(title).collect::<Vec<_>>().join(", ");
    let generator = format!("carbon-gate {}", d.audit.tool_version);
    o.begin(&Head {
        title: "Environmental Impact Disclosure",
        subject: &models,
        generator: &generator,
        style: STYLE,
    });
    summary(d, &models, &mut o);
    o.notice(&[text(&d.not_legal_advice)]);
    for m in &d.models {
        model(d, m, &mut o);
    }
    if !d.proportionality.is_empty() {
        o.heading(2, "Proportionality memo");
        for memo in &d.proportionality {
            proportionality(memo, &mut o);
        }
    }
    provisions(d, &mut o);
    audit(d, &mut o);
    o.end();
    o.into_string()
}

/// The table at the top: date, provider, models (unless the head names them), verdict, tool.
fn summary<M: Markup>(d: &Disclosure, models: &str, o: &mut M) {
    let mut rows: Vec<(&str, Cell<'_>)> = vec![("Date", vec![text(&d.date)])];
    if let Some(p) = &d.provider {
        rows.push(("Provider", vec![text(p)]));
    }
    if !o.head_names_subject() {
        rows.push(("Models", vec![text(models)]));
    }
    rows.push((
        "Gate verdict",
        vec![
            strong(d.verdict.to_uppercase()),
            text(" — "),
            text(&d.summary),
        ],
    ));
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

/// One model version: its verdict, its emissions split and its sections of fields.
fn model<M: Markup>(d: &Disclosure, m: &ModelDisclosure, o: &mut M) {
    o.heading(2, &title(m));
    o.paragraph(&[text("Gate verdict: "), strong(m.verdict.to_uppercase())]);
    if o.draws_figures() {
        o.figure(&chart(m));
    }
    for s in &m.sections {
        o.heading(3, &format!("{}. {}", s.id, s.title));
        let rows: Vec<Vec<Cell<'_>>> = s
            .fields
            .iter()
            .map(|f| {
                let value = match f.status {
                    Status::Filled => text(&f.display),
                    Status::Null => Inline::Null,
                };
                vec![
                    vec![text(&f.label)],
                    vec![value],
                    vec![text(f.note.as_deref().unwrap_or(""))],
                    vec![text(cites(d, f).join("; "))],
                ]
            })
            .collect();
        o.table(&text_columns(&["Field", "Value", "Note", "Serves"]), &rows);
    }
    if !o.draws_figures() {
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
    o.heading(2, "Provisions cited");
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
    o.heading(2, "Audit trail");
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

/// The emissions split as an inline SVG horizontal bar with a legend.
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
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"104\" viewBox=\"0 0 {width} 104\" role=\"img\" aria-label=\"Emissions split of {}\">",
        html(&title(m))
    );
    let mut x = 0.0;
    if total > 0.0 {
        for (label, v, color) in parts {
            let w = v / total * width;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"28\" fill=\"{color}\"><title>{}: {}</title></rect>",
                    html(label),
                    Mass::kg(v)
                );
                x += w;
            }
        }
    } else {
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"28\" fill=\"#ddd\"/>"
        );
    }
    for (i, (label, v, color)) in parts.iter().enumerate() {
        let y = 44 + i * 20;
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

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}\
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #999}h3{font-size:1.05rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.85rem}th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eee}td.null{color:#8a1c1c;font-style:italic}code{font-size:.8rem;word-break:break-all}\
.notice{border-left:4px solid #c27c0e;padding:.4rem .8rem;background:#fdf6e3}\
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-before:page}h2.first{break-before:auto}table{page-break-inside:auto}tr{break-inside:avoid}.chart{break-inside:avoid}a{color:inherit;text-decoration:none}}";
