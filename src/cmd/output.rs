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

/// Write a JSON document as `produce` writes it, straight to `path` or to standard output,
/// without holding it in memory (a report of every row of a large log). On standard output `##[`
/// is written `#\u0023[`, as [`deliver`] does.
pub(crate) fn deliver_json(
    path: Option<&Path>,
    produce: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    use std::io::Write;
    if let Some(path) = path {
        return outfile::replace_with(path, produce).map_err(|source| Error::Output {
            path: path.to_owned(),
            source,
        });
    }
    let stdout = std::io::stdout().lock();
    let mut out = JsonDefused::new(std::io::BufWriter::new(stdout));
    produce(&mut out)
        .and_then(|()| out.finish())
        .and_then(|mut inner| inner.flush())
        .map_err(|source| Error::Output {
            path: "standard output".into(),
            source,
        })
}

/// A JSON text on its way to the CI log, with every `##[` written `#\u0023[` (the same string in
/// JSON, where `##[` can only be inside a string) as the bytes pass, across writes: a run of `#`
/// waits for the byte after it.
struct JsonDefused<W: std::io::Write> {
    inner: W,
    /// `#` bytes read and not yet written (at most 2).
    hashes: usize,
}

impl<W: std::io::Write> JsonDefused<W> {
    fn new(inner: W) -> Self {
        JsonDefused { inner, hashes: 0 }
    }

    /// Write what waits, and hand back the writer.
    fn finish(mut self) -> std::io::Result<W> {
        let hashes = std::mem::take(&mut self.hashes);
        self.inner.write_all(&b"##"[..hashes])?;
        Ok(self.inner)
    }
}

impl<W: std::io::Write> std::io::Write for JsonDefused<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some((&first, after)) = rest.split_first() {
            if self.hashes > 0 {
                match first {
                    b'#' => {
                        if self.hashes == 2 {
                            self.inner.write_all(b"#")?;
                        } else {
                            self.hashes += 1;
                        }
                        rest = after;
                    }
                    b'[' if self.hashes == 2 => {
                        self.inner.write_all(b"#\\u0023[")?;
                        self.hashes = 0;
                        rest = after;
                    }
                    _ => {
                        self.inner.write_all(&b"##"[..self.hashes])?;
                        self.hashes = 0;
                    }
                }
                continue;
            }
            match memchr::memchr(b'#', rest) {
                Some(at) => {
                    self.inner.write_all(&rest[..at])?;
                    self.hashes = 1;
                    rest = &rest[at + 1..];
                }
                None => {
                    self.inner.write_all(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // What waits is not written: the byte after it decides how.
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn json_is_defused_across_writes_as_it_is_whole() {
        let text = "{\"a\": \"x##[error]y\", \"b\": \"###[z\", \"c\": \"#\", \"e\": \"# [\", \"f\": \"##\"}##";
        let whole = text.replace("##[", "#\\u0023[");
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            for cut2 in cut..=bytes.len() {
                let mut out = JsonDefused::new(Vec::new());
                out.write_all(&bytes[..cut]).unwrap();
                out.write_all(&bytes[cut..cut2]).unwrap();
                out.write_all(&bytes[cut2..]).unwrap();
                let got = String::from_utf8(out.finish().unwrap()).unwrap();
                assert_eq!(got, whole, "cut at {cut} and {cut2}");
            }
        }
    }
}
