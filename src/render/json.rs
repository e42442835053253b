//! JSON: the report model as it is (`schema_version: 1`), raw numbers, pretty-printed.

use std::io::{self, Write};

use super::Render;
use crate::report::{CheckReport, IngestReport};

/// The JSON renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Json;

fn write_json<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

impl Render for Json {
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }

    fn ingest(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
}
