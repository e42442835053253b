//! The disclosure as Markdown, JSON or one self-contained HTML file (no external resource, inline
//! SVG chart, print styles). Every field shows the provisions it serves; the provisions are
//! listed with their citation under the fields.

use std::fmt::Write as _;

use super::{Disclosure, Field, ModelDisclosure, Status};
use crate::units::Mass;

/// Escape text for Markdown: ASCII punctuation that could start markup gets a backslash (readable
/// in the raw file), and so do the `:` of `https://` and the `.` of `www.` (a URL from the facts
/// or the logs is shown as text, not turned into a link by GitHub); line breaks become spaces;
/// control and invisible characters (a bidi override) are shown as `\u{…}`.
fn md(text: &str) -> String {
    let text = crate::render::markdown::visible(text).replace('⏎', " ");
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '!' | '~' | '{'
            | '}' | '@' => {
                out.push('\\');
                out.push(c);
            }
            ':' | '.' if crate::render::markdown::autolink_at(&text, at) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A link the tool's own data declares (the regulation table's `verify_at`): left for GitHub to
/// link when it is a plain `https://` address, else escaped like any text ([`md`]).
fn md_link(url: &str) -> String {
    let plain = url.strip_prefix("https://").is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | ':' | '%' | '?' | '=')
            })
    });
    if plain { url.to_owned() } else { md(url) }
}

/// Escape text for HTML; control and invisible characters (a bidi override) are shown as
/// `\u{…}`, line breaks kept.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push('\n'),
            c if crate::error::is_unsafe_char(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// An HTML table; the cells are HTML already (escaped by the caller).
fn html_table(o: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    o.push_str("<table><thead><tr>");
    for h in headers {
        let _ = write!(o, "<th>{}</th>", html(h));
    }
    o.push_str("</tr></thead><tbody>\n");
    for row in rows {
        o.push_str("<tr>");
        for cell in row {
            let _ = write!(o, "<td>{cell}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n");
}

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
pub fn json(d: &Disclosure) -> String {
    serde_json::to_string_pretty(d).unwrap_or_default() + "\n"
}

/// Markdown.
pub fn markdown(d: &Disclosure) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Environmental Impact Disclosure\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Date | {} |", md(&d.date));
    if let Some(p) = &d.provider {
        let _ = writeln!(o, "| Provider | {} |", md(p));
    }
    let _ = writeln!(
        o,
        "| Models | {} |",
        md(&d.models.iter().map(title).collect::<Vec<_>>().join(", "))
    );
    let _ = writeln!(
        o,
        "| Gate verdict | {} — {} |",
        d.verdict.to_uppercase(),
        md(&d.summary)
    );
    let _ = writeln!(
        o,
        "| Produced by | carbon-gate {} · reference data {} · regulation table {} |",
        md(&d.audit.tool_version),
        md(&short(&d.audit.reference_data)),
        md(&d.audit.regulation_table)
    );
    let _ = writeln!(o, "\n> {}\n", md(&d.not_legal_advice));
    for m in &d.models {
        let _ = writeln!(o, "## {}\n", md(&title(m)));
        let _ = writeln!(o, "Gate verdict: **{}**\n", m.verdict.to_uppercase());
        for s in &m.sections {
            let _ = writeln!(o, "### {}. {}\n", s.id, md(&s.title));
            let _ = writeln!(o, "| Field | Value | Note | Serves |\n|---|---|---|---|");
            for f in &s.fields {
                let value = match f.status {
                    Status::Filled => md(&f.display),
                    Status::Null => "`null`".to_owned(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    md(&f.label),
                    value,
                    md(f.note.as_deref().unwrap_or("")),
                    md(&cites(d, f).join("; "))
                );
            }
            o.push('\n');
        }
        let total =
            m.split.scope2_location_kg + m.split.scope3_cat1_location_kg + m.split.embodied_sci_kg;
        let _ = writeln!(
            o,
            "Emissions split: Scope 2 {} · Scope 3 cat. 1 {} · embodied (SCI) {} · total {}\n",
            Mass::kg(m.split.scope2_location_kg),
            Mass::kg(m.split.scope3_cat1_location_kg),
            Mass::kg(m.split.embodied_sci_kg),
            Mass::kg(total)
        );
    }
    if !d.proportionality.is_empty() {
        let _ = writeln!(o, "## Proportionality memo\n");
        for memo in &d.proportionality {
            let _ = writeln!(o, "Chosen: **{}**\n", md(&memo.chosen));
            let metric = memo.metric.clone().unwrap_or_else(|| "accuracy".to_owned());
            let _ = writeln!(
                o,
                "| Option | Model | {} | Energy | CO2e | |\n|---|---|--:|--:|--:|---|",
                md(&metric)
            );
            for r in &memo.rows {
                let option = match &r.kind {
                    Some(k) => format!("{} ({k})", r.role),
                    None => r.role.clone(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    md(&option),
                    md(
                        &crate::record::ModelVersion::new(&r.model, r.version.as_deref())
                            .to_string()
                    ),
                    r.accuracy.map_or_else(
                        || "—".to_owned(),
                        |a| crate::units::format_significant(a, 4)
                    ),
                    crate::units::Energy::kwh(r.energy_kwh),
                    Mass::kg(r.co2e_kg),
                    if r.recommended { "recommended" } else { "" }
                );
            }
            let _ = writeln!(o, "\n{}\n", md(&memo.recommendation));
            let _ = writeln!(o, "**Conclusion.** {}\n", md(&memo.conclusion));
        }
    }
    let _ = writeln!(o, "## Provisions cited\n");
    let _ = writeln!(
        o,
        "Regulation table {} — {} Verify at {}.\n",
        md(&d.regulation.version),
        md(&d.regulation.basis),
        md_link(&d.regulation.verify_at)
    );
    let _ = writeln!(o, "| Id | Citation | What it asks |\n|---|---|---|");
    for p in used_provisions(d) {
        let _ = writeln!(o, "| {} | {} | {} |", md(&p.id), md(&p.cite), md(&p.about));
    }
    let _ = writeln!(o, "\n| Date | What applies | Basis |\n|---|---|---|");
    for r in &d.regulation.dates {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            md(&r.date),
            md(&r.applies),
            md(&r.cite)
        );
    }
    let _ = writeln!(o, "\n## Audit trail\n");
    let _ = writeln!(
        o,
        "carbon-gate {} · reference data `{}` · regulation table {} · policy digest `{}`\n",
        md(&d.audit.tool_version),
        d.audit.reference_data,
        md(&d.audit.regulation_table),
        d.audit.policy_digest
    );
    let _ = writeln!(o, "| File | Role | SHA-256 |\n|---|---|---|");
    for f in &d.audit.files {
        let _ = writeln!(o, "| {} | {} | `{}` |", md(&f.path), md(&f.role), f.sha256);
    }
    let _ = writeln!(
        o,
        "\nRe-run: {}",
        crate::render::markdown::code_span(&d.audit.command)
    );
    o
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
            crate::units::format_significant(share, 3)
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

/// One self-contained HTML file.
pub fn html_document(d: &Disclosure) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"generator\" content=\"carbon-gate {}\">\n<title>Environmental Impact Disclosure — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html(&d.audit.tool_version),
        html(&d.models.iter().map(title).collect::<Vec<_>>().join(", "))
    );
    let _ = writeln!(o, "<h1>Environmental Impact Disclosure</h1>");
    let _ = writeln!(o, "<table><tbody>");
    let _ = writeln!(o, "<tr><th>Date</th><td>{}</td></tr>", html(&d.date));
    if let Some(p) = &d.provider {
        let _ = writeln!(o, "<tr><th>Provider</th><td>{}</td></tr>", html(p));
    }
    let _ = writeln!(
        o,
        "<tr><th>Gate verdict</th><td><strong>{}</strong> — {}</td></tr>",
        html(&d.verdict.to_uppercase()),
        html(&d.summary)
    );
    let _ = writeln!(
        o,
        "<tr><th>Produced by</th><td>carbon-gate {} · reference data {} · regulation table {}</td></tr>",
        html(&d.audit.tool_version),
        html(&short(&d.audit.reference_data)),
        html(&d.audit.regulation_table)
    );
    let _ = writeln!(o, "</tbody></table>");
    let _ = writeln!(o, "<p class=\"notice\">{}</p>", html(&d.not_legal_advice));
    for (i, m) in d.models.iter().enumerate() {
        let _ = writeln!(
            o,
            "<h2{}>{}</h2>\n<p>Gate verdict: <strong>{}</strong></p>",
            if i == 0 { " class=\"first\"" } else { "" },
            html(&title(m)),
            html(&m.verdict.to_uppercase())
        );
        let _ = writeln!(o, "{}", chart(m));
        for s in &m.sections {
            let _ = writeln!(o, "<h3>{}. {}</h3>", html(&s.id), html(&s.title));
            let _ = writeln!(
                o,
                "<table><thead><tr><th>Field</th><th>Value</th><th>Note</th><th>Serves</th></tr></thead><tbody>"
            );
            for f in &s.fields {
                let (class, value) = match f.status {
                    Status::Filled => ("", html(&f.display)),
                    Status::Null => (" class=\"null\"", "null".to_owned()),
                };
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td{class}>{value}</td><td>{}</td><td>{}</td></tr>",
                    html(&f.label),
                    html(f.note.as_deref().unwrap_or("")),
                    html(&cites(d, f).join("; "))
                );
            }
            let _ = writeln!(o, "</tbody></table>");
        }
    }
    if !d.proportionality.is_empty() {
        let _ = writeln!(o, "<h2>Proportionality memo</h2>");
        for memo in &d.proportionality {
            let _ = writeln!(o, "<p>Chosen: <strong>{}</strong></p>", html(&memo.chosen));
            let _ = writeln!(
                o,
                "<table><thead><tr><th>Option</th><th>Model</th><th>{}</th><th>Energy</th><th>CO2e</th><th></th></tr></thead><tbody>",
                html(memo.metric.as_deref().unwrap_or("accuracy"))
            );
            for r in &memo.rows {
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    html(&match &r.kind {
                        Some(k) => format!("{} ({k})", r.role),
                        None => r.role.clone(),
                    }),
                    html(
                        &crate::record::ModelVersion::new(&r.model, r.version.as_deref())
                            .to_string()
                    ),
                    r.accuracy.map_or_else(
                        || "—".to_owned(),
                        |a| crate::units::format_significant(a, 4)
                    ),
                    crate::units::Energy::kwh(r.energy_kwh),
                    Mass::kg(r.co2e_kg),
                    if r.recommended { "recommended" } else { "" }
                );
            }
            let _ = writeln!(
                o,
                "</tbody></table>\n<p>{}</p>\n<p><strong>Conclusion.</strong> {}</p>",
                html(&memo.recommendation),
                html(&memo.conclusion)
            );
        }
    }
    let _ = writeln!(o, "<h2>Provisions cited</h2>");
    let _ = writeln!(
        o,
        "<p>Regulation table {} — {} Verify at {}.</p>",
        html(&d.regulation.version),
        html(&d.regulation.basis),
        html(&d.regulation.verify_at)
    );
    html_table(
        &mut o,
        &["Id", "Citation", "What it asks"],
        used_provisions(d)
            .into_iter()
            .map(|p| vec![html(&p.id), html(&p.cite), html(&p.about)])
            .collect(),
    );
    html_table(
        &mut o,
        &["Date", "What applies", "Basis"],
        d.regulation
            .dates
            .iter()
            .map(|r| vec![html(&r.date), html(&r.applies), html(&r.cite)])
            .collect(),
    );
    let _ = writeln!(o, "<h2>Audit trail</h2>");
    let _ = writeln!(
        o,
        "<p>carbon-gate {} · reference data <code>{}</code> · regulation table {} · policy digest <code>{}</code></p>",
        html(&d.audit.tool_version),
        html(&d.audit.reference_data),
        html(&d.audit.regulation_table),
        html(&d.audit.policy_digest)
    );
    html_table(
        &mut o,
        &["File", "Role", "SHA-256"],
        d.audit
            .files
            .iter()
            .map(|f| {
                vec![
                    html(&f.path),
                    html(&f.role),
                    format!("<code>{}</code>", html(&f.sha256)),
                ]
            })
            .collect(),
    );
    let _ = writeln!(
        o,
        "<p>Re-run: <code>{}</code></p>",
        html(&crate::render::markdown::visible(&d.audit.command))
    );
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(md("a|b <x> *y*"), "a\\|b \\<x\\> \\*y\\*");
        assert_eq!(html("<script>&'\""), "&lt;script&gt;&amp;&#39;&quot;");
        assert_eq!(
            md("https://x.example www.x.example"),
            "https\\://x.example www\\.x.example"
        );
        assert_eq!(md("a\u{202e}b\n"), "a\\\\u\\{202e\\}b ");
        assert_eq!(html("a\u{202e}b\u{1b}"), "a\\u{202e}b\\u{1b}");
        assert_eq!(
            md_link("https://eur-lex.europa.eu/x"),
            "https://eur-lex.europa.eu/x"
        );
        assert_eq!(
            md_link("https://x.example/<b>"),
            "https\\://x.example/\\<b\\>"
        );
    }
}
