//! `carbon-gate reference`: the embedded reference tables.

use crate::error::{self, Error};
use crate::exit::Exit;
use crate::{cli, reference};

use super::Outcome;

pub(crate) fn reference_command(cmd: &cli::ReferenceCommand) -> Result<Outcome, Error> {
    use cli::{ReferenceCommand, ReferenceFormat, ReferenceTable};
    let reference = reference::Reference::embedded()?;
    let mut out = Vec::new();
    let json = |value: serde_json::Value, out: &mut Vec<u8>| {
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    };
    match cmd {
        ReferenceCommand::List { table, format } => {
            let names: Vec<&str> = match table {
                None => reference::TABLES.iter().map(|t| t.0).collect(),
                Some(t) => vec![match t {
                    ReferenceTable::Accelerators => "accelerators",
                    ReferenceTable::Cpus => "cpus",
                    ReferenceTable::Countries => "countries",
                    ReferenceTable::Subdivisions => "subdivisions",
                    ReferenceTable::Regions => "regions",
                    ReferenceTable::Pue => "pue",
                    ReferenceTable::Defaults => "defaults",
                }],
            };
            match format {
                ReferenceFormat::Json => {
                    let mut doc = serde_json::Map::new();
                    for name in names {
                        let value = match name {
                            "accelerators" => serde_json::to_value(&reference.accelerators),
                            "cpus" => serde_json::to_value(&reference.cpus),
                            "countries" => serde_json::to_value(&reference.countries),
                            "subdivisions" => serde_json::to_value(&reference.subdivisions),
                            "regions" => serde_json::to_value(&reference.regions),
                            "pue" => serde_json::to_value(&reference.pue),
                            _ => serde_json::to_value(&reference.defaults),
                        }
                        .unwrap_or_default();
                        doc.insert(name.to_owned(), value);
                    }
                    json(serde_json::Value::Object(doc), &mut out);
                }
                ReferenceFormat::Table => {
                    for (name, file, text) in
                        reference::TABLES.iter().filter(|t| names.contains(&t.0))
                    {
                        let (header, rows) = reference::raw_rows(text);
                        let mut t = comfy_table::Table::new();
                        t.load_style(comfy_table::presets::ASCII_MARKDOWN);
                        t.force_no_tty();
                        t.set_header(header);
                        for row in rows {
                            t.add_row(row);
                        }
                        out.extend_from_slice(
                            format!("{name} (src/reference/{file})\n{t}\n\n").as_bytes(),
                        );
                    }
                }
            }
        }
        ReferenceCommand::Show { name, format } => {
            let rows = reference::find_rows(name);
            if rows.is_empty() {
                let known = reference::known_names();
                let suggestions = reference::closest(name, known.iter().map(String::as_str));
                return Err(Error::input(
                    error::Problem::new(
                        error::Location::file("<command line>"),
                        format!("no reference row named \"{name}\""),
                    )
                    .with_help(format!("closest known: {}", suggestions.join(", "))),
                ));
            }
            match format {
                ReferenceFormat::Json => {
                    let values: Vec<serde_json::Value> = rows
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
                    json(serde_json::Value::Array(values), &mut out);
                }
                ReferenceFormat::Table => {
                    for (table, header, row) in rows {
                        out.extend_from_slice(format!("[{table}]\n").as_bytes());
                        for (k, v) in header.iter().zip(&row) {
                            out.extend_from_slice(format!("  {k}: {v}\n").as_bytes());
                        }
                    }
                }
            }
        }
    }
    Ok(Outcome {
        stdout: out,
        stderr: Vec::new(),
        exit: Exit::Pass,
    })
}
