//! Ingest: turn the paths a user names into run records, whatever wrote them.
//!
//! A path is a file or a directory. A directory is walked (recursively, in name order) and every
//! file that is an emissions log is read, rotated CodeCarbon backups (`emissions.csv.bak`,
//! `emissions.csv_0.bak`, …) included; other files are skipped with a warning. A file named
//! directly must be an emissions log. The format is detected from the content.

pub mod carbontracker;
pub mod codecarbon;
pub mod eco2ai;
pub mod hf_card;
pub mod impact_framework;
pub mod native;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::HfUnits;
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem, display_path};
use crate::record::{Format, RunRecord};

/// A file that was read, for the report's list of inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputFile {
    /// The path.
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The layout within the format.
    pub layout: String,
    /// How many records it gave.
    pub records: usize,
}

fn serialize_path<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display_path(path))
}

/// Everything read from the paths, before reconciliation.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Records in read order (files in name order, rows in file order).
    pub records: Vec<RunRecord>,
    /// Judgements made while reading.
    pub warnings: Vec<Warning>,
    /// The files read.
    pub files: Vec<InputFile>,
}

/// Extensions a directory walk reads, and whether a file with it that is no emissions log is
/// worth a warning (log-like files) or skipped quietly (documents and configs that merely share
/// the extension of model cards and manifests).
const CANDIDATES: &[(&str, bool)] = &[
    (".csv", true),
    (".tsv", true),
    (".log", true),
    (".jsonl", true),
    (".ndjson", true),
    (".json", false),
    (".yaml", false),
    (".yml", false),
    (".md", false),
];

/// Whether a directory walk reads this file, and whether skipping it deserves a warning.
fn candidate(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if is_backup_name(&name) {
        return Some(true);
    }
    CANDIDATES
        .iter()
        .find(|(ext, _)| name.ends_with(ext))
        .map(|(_, warn)| *warn)
}

fn is_backup_name(lower: &str) -> bool {
    lower
        .strip_suffix(".bak")
        .is_some_and(|stem| stem.ends_with(".csv") || stem.contains(".csv_"))
}

/// The rotated backups CodeCarbon leaves next to `file`.
fn sibling_backups(file: &Path) -> Vec<PathBuf> {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.strip_prefix(name).is_some_and(is_backup_suffix))
        })
        .map(|p| file.with_file_name(p.file_name().unwrap_or_default()))
        .collect();
    found.sort();
    found
}

/// `.bak` or `_N.bak` after the file name.
fn is_backup_suffix(rest: &str) -> bool {
    rest == ".bak"
        || rest
            .strip_prefix('_')
            .and_then(|r| r.strip_suffix(".bak"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|err| {
        Error::input(Problem::new(
            Location::file(dir),
            format!("cannot list directory: {err}"),
        ))
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| {
            Error::input(Problem::new(
                Location::file(dir),
                format!("cannot list directory: {err}"),
            ))
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, out)?;
        } else if candidate(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|err| {
        Error::input(
            Problem::new(Location::file(path), format!("cannot read: {err}"))
                .with_help("check the path and its permissions"),
        )
    })?;
    String::from_utf8(bytes).map_err(|err| {
        Error::input(Problem::new(
            Location::file(path),
            format!(
                "not UTF-8 text (invalid byte at offset {}): expected an emissions log",
                err.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// The format of a file, from its content (and name), or `None` when it is no known log.
fn detect(path: &Path, text: &str) -> Option<Format> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(header) = csv_header(text) {
        if codecarbon::is_codecarbon_header(&header) {
            return Some(Format::Codecarbon);
        }
        if eco2ai::is_eco2ai_header(&header) {
            return Some(Format::Eco2ai);
        }
    }
    if native::detect(text) {
        return Some(Format::Native);
    }
    if carbontracker::detect(path, text) {
        return Some(Format::Carbontracker);
    }
    if impact_framework::detect(text) {
        return Some(Format::ImpactFramework);
    }
    if hf_card::detect(text) {
        return Some(Format::HfCard);
    }
    None
}

/// The first line of `text` split as a CSV header (comma- or tab-separated).
fn csv_header(text: &str) -> Option<Vec<String>> {
    let first = text.lines().next()?;
    let delimiter = if first.contains('\t') && !first.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(first.as_bytes());
    let header = reader.records().next()?.ok()?;
    Some(header.iter().map(|c| c.trim().to_owned()).collect())
}

/// How to read logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Read every file as this format (`--input-format`) instead of detecting it.
    pub format: Option<Format>,
    /// How to read model cards' `co2_eq_emissions`.
    pub hf_units: HfUnits,
}

/// Read every emissions log at `paths`.
pub fn ingest(paths: &[PathBuf], options: &Options) -> Result<Ingested, Error> {
    let mut out = Ingested::default();
    let mut seen = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|err| {
            Error::input(
                Problem::new(Location::file(path), format!("cannot read: {err}"))
                    .with_help("pass an emissions log file or a directory that holds logs"),
            )
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            let before = out.files.len();
            for file in files {
                if !seen.insert(canonical(&file)) {
                    continue;
                }
                let text = read_text(&file)?;
                match options.format.or_else(|| detect(&file, &text)) {
                    Some(Format::Carbontracker) if carbontracker::is_companion(&file) => {}
                    Some(format) => read_one(&file, &text, format, options, true, &mut out)?,
                    None if candidate(&file) == Some(true) => out.warnings.push(Warning::at(
                        codes::SKIPPED_FILE,
                        Location::file(&file),
                        "not an emissions log this tool reads; skipped",
                    )),
                    None => {}
                }
            }
            if out.files.len() == before {
                return Err(Error::input(
                    Problem::new(Location::file(path), "no emissions logs in this directory")
                        .with_help("CodeCarbon writes emissions.csv in the tracker's output_dir; point at that directory or file"),
                ));
            }
        } else {
            if !seen.insert(canonical(path)) {
                continue;
            }
            let text = read_text(path)?;
            if text.trim_start_matches('\u{feff}').trim().is_empty() {
                return Err(Error::input(
                    Problem::new(
                        Location::file(path),
                        "file is empty: expected an emissions log",
                    )
                    .with_help(
                        "trackers write their log when a run stops; check that the run finished",
                    ),
                ));
            }
            let format = match options.format.or_else(|| detect(path, &text)) {
                Some(format) => format,
                None => return Err(unknown_format(path)),
            };
            read_one(path, &text, format, options, false, &mut out)?;
            for backup in sibling_backups(path) {
                if !seen.contains(&canonical(&backup)) && !paths.contains(&backup) {
                    out.warnings.push(Warning::at(
                        codes::BACKUP_NOT_READ,
                        Location::file(&backup),
                        format!(
                            "CodeCarbon rotated older runs into this backup of {}; it was not read. Pass the directory (or the backup too) to count them",
                            display_path(path)
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// What one parser read from one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The records, in file order.
    pub records: Vec<RunRecord>,
    /// Judgements made while reading.
    pub warnings: Vec<Warning>,
    /// The layout or version of the format, for the list of inputs.
    pub layout: String,
}

fn unknown_format(path: &Path) -> Error {
    Error::input(
        Problem::new(
            Location::file(path),
            "not an emissions log this tool recognizes: expected CodeCarbon CSV, an Impact Framework output manifest, eco2AI CSV, a carbontracker log, a Hugging Face model card with co2_eq_emissions, or carbon-gate JSON",
        )
        .with_help("pass --input-format FORMAT if it is one of these and detection failed"),
    )
}

/// The text every parser reads: without a UTF-8 byte-order mark, and with CRLF line ends made LF
/// (CodeCarbon 1.x writes CRLF, a file can mix both, and the csv crate miscounts lines after CRLF).
pub fn normalize(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn read_one(
    path: &Path,
    text: &str,
    format: Format,
    options: &Options,
    in_directory: bool,
    out: &mut Ingested,
) -> Result<(), Error> {
    let text = &normalize(text);
    let parsed = match format {
        Format::Codecarbon => codecarbon::parse(path, text)?,
        Format::HfCard => hf_card::parse(path, text, options.hf_units)?,
        Format::Native => native::parse(path, text)?,
        Format::ImpactFramework => impact_framework::parse(path, text, in_directory)?,
        Format::Carbontracker => carbontracker::parse(path, text)?,
        Format::Eco2ai => eco2ai::parse(path, text)?,
    };
    out.files.push(InputFile {
        path: path.to_owned(),
        format,
        layout: parsed.layout,
        records: parsed.records.len(),
    });
    out.records.extend(parsed.records);
    out.warnings.extend(parsed.warnings);
    Ok(())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names() {
        assert!(is_backup_suffix(".bak"));
        assert!(is_backup_suffix("_0.bak"));
        assert!(is_backup_suffix("_12.bak"));
        assert!(!is_backup_suffix("_x.bak"));
        assert!(!is_backup_suffix(".old"));
        assert_eq!(candidate(Path::new("d/emissions.csv.bak")), Some(true));
        assert_eq!(candidate(Path::new("d/emissions.csv_3.bak")), Some(true));
        assert_eq!(candidate(Path::new("d/emissions_task_x.csv")), Some(true));
        assert_eq!(candidate(Path::new("d/README.md")), Some(false));
        assert_eq!(candidate(Path::new("d/notes.txt")), None);
    }
}
