//! The embedded reference tables as `carbon-gate reference list` and `reference show` print them:
//! JSON, or text tables with the file each table comes from.

use std::io::{self, Write};

use super::{Json, Render, Table};
use crate::reference::{self, Reference};

/// Whole tables of the embedded reference data (`reference list`).
pub struct Listing<'a> {
    /// The data.
    pub reference: &'a Reference,
    /// The tables to show, by name (`accelerators`, `countries`…), in [`reference::TABLES`] order.
    pub names: Vec<&'static str>,
}

/// The rows named by one search (`reference show NAME`): each with its table, header and values.
pub struct Found {
    /// `(table, header, row)` for every row that matched.
    pub rows: Vec<(&'static str, Vec<String>, Vec<String>)>,
}

fn write_json(value: &serde_json::Value, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

impl Render<Listing<'_>> for Json {
    fn render(&self, l: &Listing<'_>, out: &mut dyn Write) -> io::Result<()> {
        let r = l.reference;
        let mut doc = serde_json::Map::new();
        for name in &l.names {
            let value = match *name {
                "accelerators" => serde_json::to_value(&r.accelerators),
                "cpus" => serde_json::to_value(&r.cpus),
                "countries" => serde_json::to_value(&r.countries),
                "subdivisions" => serde_json::to_value(&r.subdivisions),
                "regions" => serde_json::to_value(&r.regions),
                "pue" => serde_json::to_value(&r.pue),
                _ => serde_json::to_value(&r.defaults),
            }
            .map_err(io::Error::other)?;
            doc.insert((*name).to_owned(), value);
        }
        write_json(&serde_json::Value::Object(doc), out)
    }
}

impl Render<Listing<'_>> for Table {
    fn render(&self, l: &Listing<'_>, out: &mut dyn Write) -> io::Result<()> {
        for (name, file, text) in reference::TABLES.iter().filter(|t| l.names.contains(&t.0)) {
            let (header, rows) = reference::raw_rows(text);
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::ASCII_MARKDOWN);
            t.force_no_tty();
            t.set_header(header);
            for row in rows {
                t.add_row(row);
            }
            write!(out, "{name} (src/reference/{file})\n{t}\n\n")?;
        }
        Ok(())
    }
}

impl Render<Found> for Json {
    fn render(&self, f: &Found, out: &mut dyn Write) -> io::Result<()> {
        let values: Vec<serde_json::Value> = f
            .rows
            .iter()
            .map(|(table, header, row)| {
                let mut m = serde_json::Map::new();
                m.insert("table".into(), (*table).into());
                for (k, v) in header.iter().zip(row) {
                    m.insert(k.clone(), v.clone().into());
                }
                serde_json::Value::Object(m)
            })
            .collect();
        write_json(&serde_json::Value::Array(values), out)
    }
}

impl Render<Found> for Table {
    fn render(&self, f: &Found, out: &mut dyn Write) -> io::Result<()> {
        for (table, header, row) in &f.rows {
            writeln!(out, "[{table}]")?;
            for (k, v) in header.iter().zip(row) {
                writeln!(out, "  {k}: {v}")?;
            }
        }
        Ok(())
    }
}
