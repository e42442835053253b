//! The inventory as Markdown, JSON or one self-contained HTML file (print styles, every page
//! numbered with the document id). Markdown and HTML share one layout (`layout`) written through
//! [`crate::render::markup`], which escapes every piece of outside text (team, model and owner
//! names, the ledger's address) for its language: none can become HTML, a link or a mention.

use std::io::{self, Write};

use super::{Breakdown, BreakdownRow, Count, FRACTION, Figure, Inventory, KG, KWH};
use crate::render::markup::{self, Align, Cell, Head, Inline, Markup, code, rich, strong, text};
use crate::render::{self, Render};
use crate::units::{Energy, Mass, Ratio, format_significant};

/// JSON, pretty, with a trailing newline.
impl Render<Inventory> for render::Json {
    fn render(&self, inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, inv)?;
        writeln!(out)
    }
}

/// Markdown.
impl Render<Inventory> for render::Markdown {
    fn render(&self, inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(to_markdown(inv).as_bytes())
    }
}

/// One self-contained HTML file.
impl Render<Inventory> for render::Html {
    fn render(&self, inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(to_html(inv).as_bytes())
    }
}

/// The inventory as Markdown.
pub fn to_markdown(inv: &Inventory) -> String {
    layout(inv, markup::Markdown::default())
}

/// The inventory as one self-contained HTML file.
pub fn to_html(inv: &Inventory) -> String {
    layout(inv, markup::Html::default())
}

/// The title.
const TITLE: &str = "Greenhouse Gas Inventory of AI Compute";

fn layout<M: Markup>(inv: &Inventory, mut o: M) -> String {
    let subject = inv.header.year.to_string();
    let generator = format!("carbon-gate {}", inv.header.tool_version);
    let style = style(&inv.header.id);
    o.begin(&Head {
        title: TITLE,
        subject: &subject,
        generator: &generator,
        style: &style,
    });
    header(inv, &mut o);
    o.notice(&[text(&inv.not_verified)]);
    boundary(inv, &mut o);
    totals(inv, &mut o);
    o.heading(2, "3. Per team");
    breakdown(&inv.per_team, "Team", &mut o);
    o.heading(2, "4. Per model family");
    breakdown(&inv.per_model, "Model", &mut o);
    o.heading(2, "5. Per month");
    breakdown(&inv.per_month, "Month", &mut o);
    measured(inv, &mut o);
    uncertainty(inv, &mut o);
    trajectory(inv, &mut o);
    o.page_break();
    methodology(inv, &mut o);
    changes(inv, &mut o);
    data_quality(inv, &mut o);
    o.end();
    o.into_string()
}

fn kg(v: f64) -> String {
    Mass::kg(v).to_string()
}

fn kwh(v: f64) -> String {
    Energy::kwh(v).to_string()
}

fn percent(v: f64) -> String {
    Ratio::fraction(v).to_string()
}

/// A figure's value, rounded for people, in an adapted unit.
fn shown(f: &Figure) -> Option<String> {
    let v = f.value?;
    Some(match f.unit.as_str() {
        KG => kg(v),
        KWH => kwh(v),
        FRACTION => percent(v),
        unit => format!("{} {unit}", format_significant(v, 4)),
    })
}

/// A figure's value cell: the value, or "not provided".
fn value(f: &Figure) -> Cell<'static> {
    match shown(f) {
        Some(s) => vec![text(s)],
        None => vec![Inline::Null],
    }
}

/// A figure's basis cell, with the reason of a null one.
fn basis(f: &Figure) -> Cell<'_> {
    match &f.reason {
        Some(reason) => {
            let mut c = rich(reason);
            c.push(text(". Would be: "));
            c.extend(rich(&f.basis));
            c
        }
        None => rich(&f.basis),
    }
}

fn figure_rows<'a>(rows: &[(&'a str, &'a Figure)]) -> Vec<Vec<Cell<'a>>> {
    rows.iter()
        .map(|(label, f)| vec![vec![text(*label)], value(f), basis(f)])
        .collect()
}

const FIGURE_COLUMNS: [(&str, Align); 3] = [
    ("Figure", Align::Left),
    ("Value", Align::Right),
    ("How it was obtained", Align::Left),
];

fn counts_table<M: Markup>(o: &mut M, what: &str, counts: &[Count]) {
    if counts.is_empty() {
        o.paragraph(&[text(format!("{what}: none."))]);
        return;
    }
    let rows: Vec<Vec<Cell<'_>>> = counts
        .iter()
        .map(|c| vec![vec![text(&c.name)], vec![text(c.runs.to_string())]])
        .collect();
    o.table(&[(what, Align::Left), ("Runs", Align::Right)], &rows);
}

fn header<M: Markup>(inv: &Inventory, o: &mut M) {
    let h = &inv.header;
    let mut policies: Cell<'_> = Vec::new();
    for (i, f) in h.policy_files.iter().enumerate() {
        if i > 0 {
            policies.push(text(", "));
        }
        policies.push(code(f));
    }
    if policies.is_empty() {
        policies.push(text("none"));
    }
    o.key_values(&[
        ("Document id", vec![strong(&h.id)]),
        ("Reporting year", vec![text(h.year.to_string())]),
        ("Period", vec![text(&h.period)]),
        ("Generated at", vec![text(&h.generated_at)]),
        ("Ledger", vec![code(&h.ledger)]),
        ("Policy files", policies),
        (
            "Produced by",
            vec![text(format!("carbon-gate {}", h.tool_version))],
        ),
    ]);
}

fn boundary<M: Markup>(inv: &Inventory, o: &mut M) {
    let b = &inv.boundary;
    o.heading(2, "1. Boundary");
    o.heading(3, "Organisational boundary");
    o.paragraph(&rich(&b.organisational));
    let mut rows: Vec<Vec<Cell<'_>>> = b
        .teams
        .iter()
        .map(|t| {
            let mut patterns: Cell<'_> = Vec::new();
            for (i, m) in t.models.iter().enumerate() {
                if i > 0 {
                    patterns.push(text(", "));
                }
                patterns.push(code(m));
            }
            vec![
                vec![text(&t.name)],
                patterns,
                vec![text(t.owners.join(", "))],
                vec![text(t.runs.to_string())],
                vec![text(t.models_seen.join(", "))],
            ]
        })
        .collect();
    if b.without_team.runs > 0 {
        rows.push(vec![
            vec![text(super::NO_TEAM)],
            vec![text("—")],
            vec![text("—")],
            vec![text(b.without_team.runs.to_string())],
            vec![text(b.without_team.models.join(", "))],
        ]);
    }
    if rows.is_empty() {
        o.paragraph(&rich(
            "The policy defines no `teams:` and the year has no runs.",
        ));
    } else {
        o.table(
            &[
                ("Team", Align::Left),
                ("Models (policy patterns)", Align::Left),
                ("Owners", Align::Left),
                ("Runs", Align::Right),
                ("Models with runs", Align::Left),
            ],
            &rows,
        );
    }
    let mut note = rich(&b.without_team.note);
    note.push(text("."));
    o.paragraph(&note);
    o.heading(3, "Operational boundary");
    o.paragraph(&rich(&b.operational));
    counts_table(o, "Phase", &b.phases);
    let included: Vec<Vec<Cell<'_>>> = b.included.iter().map(|i| vec![rich(i)]).collect();
    o.table(&[("Included", Align::Left)], &included);
    let excluded: Vec<Vec<Cell<'_>>> = b
        .exclusions
        .iter()
        .map(|e| vec![rich(&e.what), rich(&e.reason)])
        .collect();
    o.table_of(
        "exclusions",
        &[("Excluded", Align::Left), ("Why", Align::Left)],
        &excluded,
    );
}

fn coverage_text(c: &super::Coverage) -> String {
    let mut t = format!("{} of {} runs", c.runs, c.of_runs);
    if let Some(s) = shown(&c.share_of_runs) {
        t.push_str(&format!(" ({s})"));
    }
    if let Some(s) = shown(&c.share_of_energy) {
        t.push_str(&format!("; {s} of the energy"));
    }
    t
}

fn totals<M: Markup>(inv: &Inventory, o: &mut M) {
    let t = &inv.totals;
    o.heading(2, "2. Totals");
    o.paragraph(&[text(format!("{} runs in the year.", t.runs))]);
    let mut rows = figure_rows(&[
        ("Energy", &t.energy_kwh),
        ("Scope 2, location-based", &t.scope2_location_kg),
        ("  of which on cloud providers", &t.scope2_location_cloud_kg),
        ("Scope 2, market-based", &t.scope2_market_kg),
    ]);
    rows.push(vec![
        vec![text("  market-based coverage")],
        vec![text(coverage_text(&t.market_coverage))],
        rich(&t.market_coverage.share_of_runs.basis),
    ]);
    rows.extend(figure_rows(&[(
        "Scope 3 cat. 1, embodied",
        &t.scope3_cat1_embodied_kg,
    )]));
    rows.push(vec![
        vec![text("  embodied coverage")],
        vec![text(coverage_text(&t.embodied_coverage))],
        rich(&t.embodied_coverage.share_of_runs.basis),
    ]);
    rows.extend(figure_rows(&[(
        "Total (location-based + embodied)",
        &t.total_co2e_kg,
    )]));
    o.table_of("figures", &FIGURE_COLUMNS, &rows);
    o.paragraph(&rich(&t.cloud_note));
    if !t.embodied_bases.is_empty() {
        counts_table(o, "Embodied basis", &t.embodied_bases);
    }
}

fn market_cell(r: &BreakdownRow) -> String {
    match r.scope2_market_kg {
        None => "—".to_owned(),
        Some(v) if r.runs_with_market == r.runs => kg(v),
        Some(v) => format!("{} ({} of {} runs)", kg(v), r.runs_with_market, r.runs),
    }
}

fn breakdown<M: Markup>(b: &Breakdown, what: &str, o: &mut M) {
    let rows: Vec<Vec<Cell<'_>>> = b
        .rows
        .iter()
        .map(|r| {
            let mut energy = kwh(r.energy_kwh);
            if r.runs_without_energy > 0 {
                energy.push_str(&format!(" ({} without)", r.runs_without_energy));
            }
            vec![
                vec![text(&r.key)],
                vec![text(r.runs.to_string())],
                vec![text(r.runs_estimated.to_string())],
                vec![text(energy)],
                vec![text(kg(r.scope2_location_kg))],
                vec![text(market_cell(r))],
                vec![text(kg(r.scope3_cat1_embodied_kg))],
                vec![text(kg(r.co2e_kg))],
            ]
        })
        .collect();
    if rows.is_empty() {
        o.paragraph(&[text("No runs.")]);
    } else {
        o.table(
            &[
                (what, Align::Left),
                ("Runs", Align::Right),
                ("Estimated", Align::Right),
                ("Energy", Align::Right),
                ("Scope 2 location", Align::Right),
                ("Scope 2 market", Align::Right),
                ("Scope 3 embodied", Align::Right),
                ("Total CO2e", Align::Right),
            ],
            &rows,
        );
    }
    let mut p = vec![strong("Basis."), text(" ")];
    p.extend(rich(&b.basis));
    p.push(text("."));
    o.paragraph(&p);
}

fn measured<M: Markup>(inv: &Inventory, o: &mut M) {
    let m = &inv.measured_vs_estimated;
    o.heading(2, "6. Measured and estimated");
    o.paragraph(&[text(format!(
        "{} run(s) measured by a tracker ({}), {} estimated by carbon-gate ({}).",
        m.measured_runs,
        kg(m.measured_co2e_kg),
        m.estimated_runs,
        kg(m.estimated_co2e_kg)
    ))]);
    let rows = figure_rows(&[
        ("Estimated share of CO2e", &m.estimated_share_of_co2e),
        ("Estimated share of runs", &m.estimated_share_of_runs),
    ]);
    o.table_of("figures", &FIGURE_COLUMNS, &rows);
    let rows: Vec<Vec<Cell<'_>>> = m
        .by_method
        .iter()
        .map(|r| {
            vec![
                vec![code(&r.method)],
                vec![text(r.runs.to_string())],
                vec![text(kg(r.co2e_kg))],
            ]
        })
        .collect();
    if !rows.is_empty() {
        o.table(
            &[
                ("Method", Align::Left),
                ("Runs", Align::Right),
                ("CO2e", Align::Right),
            ],
            &rows,
        );
    }
}

fn uncertainty<M: Markup>(inv: &Inventory, o: &mut M) {
    let u = &inv.uncertainty;
    o.heading(2, "7. Uncertainty");
    o.paragraph(&[text(format!(
        "{} estimated run(s), {} with a band; central estimate {}.",
        u.estimated_runs,
        u.banded_runs,
        kg(u.estimated_co2e_kg)
    ))]);
    let rows = figure_rows(&[
        ("Estimates, low end", &u.estimated_low_kg),
        ("Estimates, high end", &u.estimated_high_kg),
        ("Year's total, low", &u.total_low_kg),
        ("Year's total, high", &u.total_high_kg),
    ]);
    o.table_of("figures", &FIGURE_COLUMNS, &rows);
    o.paragraph(&[
        strong(format!(
            "Measured runs ({}, {}).",
            u.measured_runs,
            kg(u.measured_co2e_kg)
        )),
        text(" "),
        text(&u.measured_note),
    ]);
}

fn trajectory<M: Markup>(inv: &Inventory, o: &mut M) {
    let t = &inv.trajectory;
    o.heading(2, "8. Base year and trajectory");
    let mut status = vec![strong("Status:"), text(" ")];
    status.extend(rich(&t.status));
    status.push(text("."));
    o.paragraph(&status);
    if let (Some(covers), Some(year)) = (&t.covers, t.base_year) {
        o.paragraph(&[
            text(format!("Base year {year}; covers: ")),
            text(covers),
            text(format!(
                "; {} run(s) of the year in scope.",
                t.in_scope_runs
            )),
        ]);
    }
    let rows = figure_rows(&[
        ("Base (policy)", &t.base_kg),
        ("Reduction per year", &t.reduction_per_year),
        ("The year's limit", &t.limit_kg),
        ("The year's in-scope total", &t.in_scope_kg),
        ("Change vs base", &t.change_vs_base),
        ("Base year in the ledger", &t.ledger_base_year_kg),
    ]);
    o.table_of("figures", &FIGURE_COLUMNS, &rows);
}

fn methodology<M: Markup>(inv: &Inventory, o: &mut M) {
    let m = &inv.methodology;
    o.heading(2, "9. Methodology and data sources");
    counts_table(o, "Log format", &m.formats);
    counts_table(o, "Method", &m.methods);
    o.heading(3, "Grid intensity as the tools applied it");
    let rows: Vec<Vec<Cell<'_>>> = m
        .grid
        .iter()
        .map(|g| {
            let intensity = match (g.intensity_g_per_kwh, &g.reason) {
                (Some(i), _) => vec![text(format!("{} g/kWh", format_significant(i, 4)))],
                (None, Some(reason)) => vec![Inline::Null, text(format!(" ({reason})"))],
                (None, None) => vec![Inline::Null],
            };
            vec![
                vec![text(&g.place)],
                vec![text(g.runs.to_string())],
                vec![text(kwh(g.energy_kwh))],
                vec![text(kg(g.operational_co2e_kg))],
                intensity,
            ]
        })
        .collect();
    if !rows.is_empty() {
        o.table(
            &[
                ("Place", Align::Left),
                ("Runs", Align::Right),
                ("Energy", Align::Right),
                ("Operational CO2e", Align::Right),
                ("Implied intensity", Align::Right),
            ],
            &rows,
        );
    }
    o.paragraph(&rich(&m.grid_basis));
    o.heading(3, "Embodied carbon");
    counts_table(o, "Embodied formula or source", &m.embodied_bases);
    for (name, what) in [
        ("Counting.", &m.merge_rule),
        ("Dating.", &m.period_rule),
        ("Scopes.", &m.scopes),
        ("Arithmetic.", &m.arithmetic),
    ] {
        let mut p = vec![strong(name), text(" ")];
        p.extend(rich(what));
        o.paragraph(&p);
    }
}

fn changes<M: Markup>(inv: &Inventory, o: &mut M) {
    let c = &inv.changes;
    o.heading(2, "10. Changes since the base year");
    if let Some(reason) = &c.reason {
        let mut p = rich(reason);
        p.push(text("."));
        o.paragraph(&p);
    }
    let Some(base) = &c.base else {
        return;
    };
    let now = &c.this_year;
    o.table(
        &[
            ("Year", Align::Left),
            ("Runs", Align::Right),
            ("Energy", Align::Right),
            ("CO2e", Align::Right),
        ],
        &[base, now]
            .iter()
            .map(|y| {
                vec![
                    vec![text(y.year.to_string())],
                    vec![text(y.runs.to_string())],
                    vec![text(kwh(y.energy_kwh))],
                    vec![text(kg(y.co2e_kg))],
                ]
            })
            .collect::<Vec<_>>(),
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    o.key_values(&[
        ("New teams", vec![text(list(&c.new_teams))]),
        ("New models", vec![text(list(&c.new_models))]),
        ("Models without runs now", vec![text(list(&c.models_gone))]),
    ]);
}

fn data_quality<M: Markup>(inv: &Inventory, o: &mut M) {
    let d = &inv.data_quality;
    o.heading(2, "11. Data quality");
    let n = |v: usize| vec![text(v.to_string())];
    o.key_values(&[
        ("Runs without energy", n(d.runs_without_energy)),
        (
            "Runs without an end time (dated by recording)",
            n(d.runs_without_end_time),
        ),
        (
            "Runs ending over a day after recording (dated by recording)",
            n(d.runs_end_after_recording),
        ),
        ("Runs imported from history", n(d.runs_from_history)),
        ("Runs without a place", n(d.runs_without_place)),
        (
            "Estimated runs without a band",
            n(d.estimated_runs_without_band),
        ),
    ]);
    for note in &d.notes {
        let mut p = rich(note);
        p.push(text("."));
        o.paragraph(&p);
    }
}

/// The style sheet: screen and print; every printed page carries the document id and its
/// number.
fn style(id: &str) -> String {
    // The id is `GHG-` and hex digits by construction; keep only those characters anyway, since
    // it is written into a CSS string.
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{STYLE}@page{{size:A4;margin:12mm 13mm 14mm;@bottom-left{{content:\"{TITLE} {id}\";font:8pt sans-serif;color:#555}}@bottom-right{{content:\"Page \" counter(page) \" of \" counter(pages);font:8pt sans-serif;color:#555}}}}"
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.3}\
h1{font-size:1.45rem;margin:0 0 .4rem}h2{font-size:1.15rem;margin:1rem 0 .35rem;border-bottom:1px solid #999}h3{font-size:.98rem;margin:.7rem 0 .25rem}p{margin:.35rem 0}\
table{border-collapse:collapse;width:100%;margin:.25rem 0 .6rem;font-size:.78rem}th,td{border:1px solid #bbb;padding:.12rem .3rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#eee}tbody th{width:14rem;background:#f4f4f4;font-weight:600}td.null{color:#8a1c1c;font-style:italic}code{font-size:.9em;overflow-wrap:anywhere}\
table.figures,table.exclusions{table-layout:fixed}.figures th:nth-child(1){width:24%}.figures th:nth-child(2){width:16%}.exclusions th:nth-child(1){width:38%}\
.notice{border-left:4px solid #c27c0e;padding:.25rem .6rem;background:#fdf6e3;font-size:.75rem}\
@media print{body{margin:0;max-width:none;font-size:9pt}h1,h2,h3{break-after:avoid;page-break-after:avoid}table:not(:has(>thead)){break-inside:avoid;page-break-inside:avoid}thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}.page-break{break-after:page;page-break-after:always}}";
