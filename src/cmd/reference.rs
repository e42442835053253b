//! `carbon-gate reference`: the embedded reference tables.

use crate::error::{self, Error};
use crate::exit::Exit;
use crate::render;
use crate::render::reference::{Found, Listing};
use crate::{cli, reference};

use super::Outcome;
use super::output::render;

pub(crate) fn reference_command(cmd: &cli::ReferenceCommand) -> Result<Outcome, Error> {
    use cli::{ReferenceCommand, ReferenceFormat, ReferenceTable};
    let stdout = match cmd {
        ReferenceCommand::List {
            table: which,
            format,
        } => {
            let names: Vec<&'static str> = match which {
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
            let listing = Listing {
                reference: reference::Reference::embedded()?,
                names,
            };
            match format {
                ReferenceFormat::Json => render(&render::Json, &listing)?,
                ReferenceFormat::Table => render(&render::Table::default(), &listing)?,
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
            let found = Found { rows };
            match format {
                ReferenceFormat::Json => render(&render::Json, &found)?,
                ReferenceFormat::Table => render(&render::Table::default(), &found)?,
            }
        }
    };
    Ok(Outcome {
        stdout,
        stderr: Vec::new(),
        exit: Exit::Pass,
    })
}
