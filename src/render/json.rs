//! JSON: the report model as it is (`schema_version: 1`), raw numbers, pretty-printed.

use std::io::{self, Write};

use super::Render;
use crate::report::{CheckReport, IngestReport};

/// The JSON renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Json;

/// `value` as pretty JSON and a newline.
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

impl Render<CheckReport> for Json {
    fn render(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
}

impl Render<IngestReport> for Json {
    fn render(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
}
