//! Renderers: one type per output format, all reading the same report model.
//!
//! Renderers write to a `Write` they are given and never print. They are the only place where
//! numbers are rounded (4 significant digits with an adapted unit in text; raw in JSON).

mod json;
mod markdown;
mod table;

use std::io::{self, Write};

pub use json::Json;
pub use markdown::Markdown;
pub use table::Table;

use crate::report::{CheckReport, IngestReport};

/// An output format.
pub trait Render {
    /// Render a `check` report.
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()>;
    /// Render an `ingest` report.
    fn ingest(&self, report: &IngestReport, out: &mut dyn Write) -> io::Result<()>;
}
