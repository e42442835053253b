//! Where a command's output goes: colour or not, a check report rendered in the chosen format,
//! and the bytes delivered to standard output or written whole to a file.

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{self, CheckFormat, ColorChoice};
use crate::error::{self, Error};
use crate::outfile;
use crate::render::{self, Render};
use crate::report::CheckReport;

pub(crate) fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// `doc` rendered by `renderer`, as bytes.
pub(crate) fn render<D: ?Sized>(renderer: &dyn Render<D>, doc: &D) -> Result<Vec<u8>, Error> {
    let mut buffer = Vec::new();
    renderer
        .render(doc, &mut buffer)
        .map_err(|source| Error::Output {
            path: "<report>".into(),
            source,
        })?;
    Ok(buffer)
}

/// Render a report in `format`; returns the bytes and the warning lines for standard error
/// (a table shows its warnings itself, unless it goes to a file).
pub(crate) fn render_check(
    report: &CheckReport,
    format: CheckFormat,
    explain: bool,
    out: &cli::OutputArgs,
) -> Result<(Vec<u8>, Vec<String>), Error> {
    let to_file = out.output.is_some();
    let renderer: Box<dyn Render<CheckReport>> = match format {
        CheckFormat::Table => Box::new(render::Table {
            color: use_color(out.color, to_file),
            explain,
        }),
        CheckFormat::Json => Box::new(render::Json),
        CheckFormat::Markdown => Box::new(render::Markdown::default()),
    };
    let buffer = render(renderer.as_ref(), report)?;
    let mut stderr = Vec::new();
    if format != CheckFormat::Table || to_file {
        stderr.extend(crate::diagnostic::warning_lines(&report.warnings));
    }
    Ok((buffer, stderr))
}

/// Return the report for standard output, or write it whole to `path` and return nothing
/// (`outfile::replace`: an unpredictable temporary file in the same directory, renamed into
/// place; links at the target are replaced, devices and pipes written directly).
pub(crate) fn deliver(buffer: Vec<u8>, path: Option<&Path>) -> Result<Vec<u8>, Error> {
    let Some(path) = path else {
        // Standard output is the CI log: no line of it may start a workflow command
        // (error::defuse_commands). In JSON, `##[` can only be inside a string, where
        // `#\u0023[` is the same text and stays valid JSON.
        return Ok(match String::from_utf8(buffer) {
            Ok(text)
                if text.contains("##[")
                    && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() =>
            {
                text.replace("##[", "#\\u0023[").into_bytes()
            }
            Ok(text) => error::defuse_commands(&text).into_owned().into_bytes(),
            Err(e) => e.into_bytes(),
        });
    };
    outfile::replace(path, &buffer).map_err(|source| Error::Output {
        path: path.to_owned(),
        source,
    })?;
    Ok(Vec::new())
}
