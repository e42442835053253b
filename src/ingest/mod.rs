//! Ingest: turn the paths a user names into run records, whatever wrote them.
//!
//! A path is a file or a directory. A directory is walked (recursively, in name order) and every
//! file that is an emissions log is read, rotated CodeCarbon backups (`emissions.csv.bak`,
//! `emissions.csv_0.bak`, …) included; other files are skipped with a warning. A file named
//! directly must be an emissions log. The format is detected from the content.

pub use crate::bounded;
pub use crate::bounded::normalize;
pub mod carbontracker;
pub mod checked;
pub mod codecarbon;
pub mod eco2ai;
pub mod hf_card;
pub mod impact_framework;
pub mod native;
pub mod stream;

pub use hf_card::HfUnits;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem, display_path};
use crate::record::{Format, RunRecord};

/// A file that was read, for the report's list of inputs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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

/// Where the rows read go: collected as records ([`Ingested`]), or reduced as they arrive (the
/// check's ledger, [`crate::ledger::reduce::Reducer`]).
pub trait Sink {
    /// Where whole-run CodeCarbon rows go compact, folded on the threads that parse them, if
    /// this sink takes them so; otherwise every row is handed over as a record.
    fn fold(&self) -> Option<&dyn stream::Fold> {
        None
    }
    /// A CodeCarbon file starts; its rows follow.
    fn begin_file(&mut self, _path: &Path, _layout: &str) {}
    /// A record.
    fn record(&mut self, record: RunRecord);
    /// Records, in read order.
    fn records(&mut self, records: Vec<RunRecord>) {
        for r in records {
            self.record(r);
        }
    }
}

/// Collects every record.
#[derive(Default)]
struct Collect {
    records: Vec<RunRecord>,
}

impl Sink for Collect {
    fn record(&mut self, record: RunRecord) {
        self.records.push(record);
    }
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

/// What a directory walk found: the candidate files, each with its canonical path, and what it
/// skipped.
struct Walk {
    /// The canonical path of the directory named: a symbolic link is followed only to a place
    /// under it.
    root: PathBuf,
    files: Vec<(PathBuf, PathBuf)>,
    warnings: Vec<Warning>,
    /// The directories walked (canonical), so that a link back to one is not walked again.
    walked: HashSet<PathBuf>,
}

/// An entry of a directory, as a walk sees it.
enum Entry {
    Dir(PathBuf),
    /// A regular file (or a link whose target cannot be read, which the read reports).
    File(PathBuf),
    /// A FIFO, socket or device (what it is, in words).
    Special(&'static str),
    /// A symbolic link to a place outside the directory named (that place, canonical).
    Outside(PathBuf, bool),
}

/// The candidate files under `dir`, recursively, in name order, each with its canonical path
/// (`canon` is `dir`'s). An entry that is not a symbolic link is what the listing says it is, and
/// its canonical path is `canon` and its name: no system call per file for either. Only regular
/// files are read: a FIFO, socket or device is skipped with a warning, and so is a symbolic link
/// to a place outside the directory named (a pull request can commit `logs/x.csv ->
/// /proc/self/environ`, or a link to another job's files); a link inside it is followed to a
/// regular file or a directory.
fn walk(dir: &Path, canon: &Path, w: &mut Walk) -> Result<(), Error> {
    if !w.walked.insert(canon.to_owned()) {
        return Ok(());
    }
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
        let path = entry.path();
        let found = match entry.file_type() {
            Ok(kind) if kind.is_dir() => Entry::Dir(canon.join(entry.file_name())),
            Ok(kind) if kind.is_file() => Entry::File(canon.join(entry.file_name())),
            Ok(kind) if !kind.is_symlink() => {
                Entry::Special(bounded::special_kind(kind).unwrap_or("a special file"))
            }
            // A symbolic link (or a type the listing does not give).
            _ => match std::fs::metadata(&path) {
                // Dangling, a loop, or not readable: read as a file, which says why it fails.
                Err(_) => Entry::File(path.clone()),
                Ok(meta) => {
                    let real = canonical(&path);
                    if !real.starts_with(&w.root) {
                        Entry::Outside(real, meta.is_dir())
                    } else if meta.is_dir() {
                        Entry::Dir(real)
                    } else if meta.is_file() {
                        Entry::File(real)
                    } else {
                        Entry::Special(
                            bounded::special_kind(meta.file_type()).unwrap_or("a special file"),
                        )
                    }
                }
            },
        };
        paths.push((path, found));
    }
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, found) in paths {
        match found {
            Entry::Dir(real) => walk(&path, &real, w)?,
            Entry::File(real) => {
                if candidate(&path).is_some() {
                    w.files.push((path, real));
                }
            }
            Entry::Special(kind) => w.warnings.push(Warning::at(
                codes::SKIPPED_NOT_REGULAR,
                Location::file(&path),
                format!(
                    "{kind}, not a regular file; skipped (a directory is walked for regular files only). Name it on the command line to read it"
                ),
            )),
            Entry::Outside(real, is_dir) => {
                if is_dir || candidate(&path).is_some() {
                    w.warnings.push(Warning::at(
                        codes::SKIPPED_LINK_OUTSIDE,
                        Location::file(&path),
                        format!(
                            "a symbolic link to {}, outside {}; not followed. Name the link itself on the command line to read it",
                            display_path(&real),
                            display_path(&w.root)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|err| not_utf8(path, err.utf8_error().valid_up_to() as u64))
}

fn not_utf8(path: &Path, offset: u64) -> Error {
    Error::input(Problem::new(
        Location::file(path),
        format!("{NOT_UTF8} (invalid byte at offset {offset}): expected an emissions log"),
    ))
}

const NOT_UTF8: &str = "not UTF-8 text";

/// Whether `err` refuses the file's bytes, as [`not_utf8`] and [`binary`] do (which outranks a
/// damaged row).
fn is_not_utf8(err: &Error) -> bool {
    matches!(err, Error::Input(p) if p.message.starts_with(NOT_UTF8) || p.message.starts_with(BINARY))
}

/// A read of `path` that failed (a FIFO or device that sent nothing in time says so): every
/// reader of a log reports it this way.
pub(crate) fn cannot_read(path: &Path, err: std::io::Error) -> Error {
    let help = if err.kind() == std::io::ErrorKind::TimedOut {
        "a FIFO or device named on the command line is read with a timeout: start its writer first, or pass a file"
    } else {
        "check the path and its permissions"
    };
    Error::input(Problem::new(Location::file(path), format!("cannot read: {err}")).with_help(help))
}

/// How many bytes of a file are read to decide its format and whether it can be streamed.
const PREFIX_BYTES: usize = bounded::PREFIX_BYTES;

/// A file opened for reading.
enum Opened {
    /// A CodeCarbon log longer than the prefix, streamed: its first bytes, and the rest.
    CodeCarbon(Vec<u8>, bounded::Source),
    /// An Impact Framework manifest longer than the prefix, read as a stream of YAML events:
    /// its first bytes, and the rest.
    Manifest(Vec<u8>, bounded::Source),
    /// A file read whole (at most [`bounded::MAX_DOCUMENT`] bytes), and its format (`None`: no
    /// log this tool reads).
    Whole(String, Option<Format>),
    /// A file longer than the prefix whose first bytes are no known format: not read further.
    Unknown,
    /// An eco2AI CSV or carbon-gate records file longer than the prefix, streamed (see
    /// [`read_streamed`]): its format, its first bytes, and the rest.
    Stream(Format, Vec<u8>, bounded::Source),
}

/// Open `path` (a FIFO or device when `special`) and read its first
/// [`PREFIX_BYTES`]: a file that is not UTF-8 text there, or holds a NUL byte, is refused; the
/// format is decided from them (or `--input-format`). A CodeCarbon log is then streamed, so that
/// a log of any size is read in constant memory; a file of another format is read whole, at most
/// [`bounded::MAX_DOCUMENT`] bytes; a file of no known format is not read further.
fn open(path: &Path, special: bool, options: &Options) -> Result<Opened, Error> {
    use std::io::Read;
    let cannot_read = |err| cannot_read(path, err);
    let source = bounded::open(path, special).map_err(cannot_read)?;
    let size = source.size;
    let mut reader = source.reader;
    let mut prefix = Vec::with_capacity(PREFIX_BYTES);
    (&mut reader)
        .take(PREFIX_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(cannot_read)?;
    // Fewer bytes than asked for: the file ended, it is read whole already.
    let whole = prefix.len() < PREFIX_BYTES;
    let text = prefix_text(path, &prefix, whole)?;
    if whole {
        let format = options.format.or_else(|| detect(path, text));
        return utf8(path, prefix).map(|text| Opened::Whole(text, format));
    }
    // The complete lines of the prefix (the format detectors read lines), or all of it when it
    // holds no line end (a JSON document on one line).
    let seen = text.rfind('\n').map_or(text, |end| &text[..=end]);
    let Some(format) = options.format.or_else(|| detect(path, seen)) else {
        return Ok(Opened::Unknown);
    };
    if format == Format::Codecarbon {
        return Ok(Opened::CodeCarbon(prefix, bounded::Source { reader, size }));
    }
    if format == Format::ImpactFramework {
        return Ok(Opened::Manifest(prefix, bounded::Source { reader, size }));
    }
    if matches!(format, Format::Eco2ai | Format::Native) {
        return Ok(Opened::Stream(
            format,
            prefix,
            bounded::Source { reader, size },
        ));
    }
    read_whole(path, format, prefix, reader, size).map(|text| Opened::Whole(text, Some(format)))
}

/// The rest of a file of `format` read whole after its first `bytes`, at most
/// [`bounded::MAX_DOCUMENT`] bytes in all, refused when it holds a NUL byte or is not UTF-8.
fn read_whole(
    path: &Path,
    format: Format,
    bytes: Vec<u8>,
    reader: Box<dyn std::io::Read + Send>,
    size: Option<u64>,
) -> Result<String, Error> {
    use std::io::Read;
    let cannot_read = |err| cannot_read(path, err);
    let cap = bounded::MAX_DOCUMENT;
    if size.is_some_and(|s| s > cap) {
        return Err(too_big(path, format));
    }
    let mut bytes = bytes;
    reader
        .take((cap + 1).saturating_sub(bytes.len() as u64))
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > cap {
        return Err(too_big(path, format));
    }
    if let Some(at) = memchr::memchr(0, &bytes) {
        return Err(binary(path, at as u64));
    }
    utf8(path, bytes)
}

/// The text of a file's first bytes, refused when they are not UTF-8 or hold a NUL byte (a
/// character cut at the end of a `prefix` that is not the `whole` file is left out).
fn prefix_text<'p>(path: &Path, prefix: &'p [u8], whole: bool) -> Result<&'p str, Error> {
    let text = match std::str::from_utf8(prefix) {
        Ok(text) => text,
        Err(err) if !whole && err.error_len().is_none() => {
            // Valid up to here, as `from_utf8` just said.
            std::str::from_utf8(&prefix[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(err) => return Err(not_utf8(path, err.valid_up_to() as u64)),
    };
    match memchr::memchr(0, text.as_bytes()) {
        Some(at) => Err(binary(path, at as u64)),
        None => Ok(text),
    }
}

const BINARY: &str = "binary data";

fn binary(path: &Path, offset: u64) -> Error {
    Error::input(
        Problem::new(
            Location::file(path),
            format!("{BINARY} (a NUL byte at offset {offset}): expected an emissions log, which is text"),
        )
        .with_help("pass the log the tracker wrote; a device such as /dev/zero or a binary file is not one"),
    )
}

fn too_big(path: &Path, format: Format) -> Error {
    Error::input(
        Problem::new(
            Location::file(path),
            format!(
                "larger than the {} limit for a log read whole ({} logs are parsed as one document)",
                bounded::MAX_DOCUMENT_TEXT,
                format.name()
            ),
        )
        .with_help("split it into several files and pass their directory, or write the runs as CodeCarbon CSV, which is streamed at any size"),
    )
}

/// Read a CodeCarbon log (its first bytes and the rest) into the sink.
fn read_codecarbon(
    path: &Path,
    prefix: Vec<u8>,
    rest: &mut (dyn std::io::Read + Send),
    size: Option<u64>,
    out: &mut Reading<'_>,
) -> Result<(), Error> {
    let read = stream::read(path, prefix, rest, size, out.sink, &mut out.warnings)?;
    out.files.push(InputFile {
        path: path.to_owned(),
        format: Format::Codecarbon,
        layout: read.layout,
        records: read.rows,
    });
    Ok(())
}

/// Read an eco2AI CSV or carbon-gate records file longer than the prefix (its first bytes and
/// the rest) into the sink, row by row (or line by line), in memory bounded by one row: the
/// records, warnings and errors are those of reading it whole ([`read_one`]). A records file
/// that is not NDJSON (a JSON array or document) is read whole.
fn read_streamed(
    path: &Path,
    format: Format,
    prefix: Vec<u8>,
    rest: bounded::Source,
    options: &Options,
    in_directory: bool,
    out: &mut Reading<'_>,
) -> Result<(), Error> {
    let bounded::Source { mut reader, size } = rest;
    let (layout, records) = match format {
        Format::Eco2ai => eco2ai::stream(path, prefix, &mut *reader, out.sink, &mut out.warnings)?,
        _ => match native::stream(path, prefix, &mut *reader, out.sink)? {
            native::Streamed::Lines(layout, records) => (layout, records),
            native::Streamed::Whole(bytes) => {
                let text = read_whole(path, format, bytes, reader, size)?;
                return read_one(path, text, format, options, in_directory, out);
            }
        },
    };
    out.files.push(InputFile {
        path: path.to_owned(),
        format,
        layout,
        records,
    });
    Ok(())
}

/// The files read so far, the warnings, and where the records go.
struct Reading<'s> {
    files: Vec<InputFile>,
    warnings: Vec<Warning>,
    sink: &'s mut dyn Sink,
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
    if first.is_empty() {
        return None;
    }
    if !first.contains('"') {
        // What the csv crate would make of a line without quotes, without building a reader
        // (which costs more than the rest of a small file: a directory of thousands of logs).
        return Some(
            first
                .split(char::from(delimiter))
                .map(|c| c.trim().to_owned())
                .collect(),
        );
    }
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

/// Read every emissions log at `paths`, every record kept.
pub fn ingest(paths: &[PathBuf], options: &Options) -> Result<Ingested, Error> {
    let mut sink = Collect::default();
    let (files, warnings) = ingest_into(paths, options, &mut sink)?;
    Ok(Ingested {
        records: sink.records,
        warnings,
        files,
    })
}

/// Read every emissions log at `paths` into `sink`: the files read and the warnings.
pub fn ingest_into(
    paths: &[PathBuf],
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<(Vec<InputFile>, Vec<Warning>), Error> {
    let mut out = Reading {
        files: Vec::new(),
        warnings: Vec::new(),
        sink,
    };
    let mut seen = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|err| {
            Error::input(
                Problem::new(Location::file(path), format!("cannot read: {err}"))
                    .with_help("pass an emissions log file or a directory that holds logs"),
            )
        })?;
        if meta.is_dir() {
            let root = canonical(path);
            let mut walk_out = Walk {
                root: root.clone(),
                files: Vec::new(),
                warnings: Vec::new(),
                walked: HashSet::new(),
            };
            walk(path, &root, &mut walk_out)?;
            out.warnings.append(&mut walk_out.warnings);
            let before = out.files.len();
            for (file, real) in walk_out.files {
                if !seen.insert(real) {
                    continue;
                }
                let (text, format) = match open(&file, false, options)? {
                    Opened::CodeCarbon(prefix, mut rest) => {
                        read_codecarbon(&file, prefix, &mut *rest.reader, rest.size, &mut out)?;
                        continue;
                    }
                    Opened::Manifest(prefix, rest) => {
                        read_manifest(&file, prefix, rest, true, &mut out)?;
                        continue;
                    }
                    Opened::Whole(text, format) => (text, format),
                    Opened::Stream(format, prefix, rest) => {
                        read_streamed(&file, format, prefix, rest, options, true, &mut out)?;
                        continue;
                    }
                    Opened::Unknown => (String::new(), None),
                };
                match format {
                    Some(Format::Carbontracker) if carbontracker::is_companion(&file) => {}
                    Some(format) => read_one(&file, text, format, options, true, &mut out)?,
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
            // Named on the command line: a FIFO or device is read too, with a timeout.
            let special = bounded::special_kind(meta.file_type()).is_some();
            match open(path, special, options)? {
                Opened::CodeCarbon(prefix, mut rest) => {
                    read_codecarbon(path, prefix, &mut *rest.reader, rest.size, &mut out)?;
                }
                Opened::Manifest(prefix, rest) => {
                    read_manifest(path, prefix, rest, false, &mut out)?
                }
                Opened::Whole(text, format) => {
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
                    let Some(format) = format else {
                        return Err(unknown_format(path, false));
                    };
                    read_one(path, text, format, options, false, &mut out)?;
                }
                Opened::Stream(format, prefix, rest) => {
                    read_streamed(path, format, prefix, rest, options, false, &mut out)?;
                }
                Opened::Unknown => return Err(unknown_format(path, true)),
            }
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
    Ok((out.files, out.warnings))
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

impl Parsed {
    /// A file that holds one record (a carbontracker log, a model card): its layout is the
    /// record's.
    pub fn one(record: RunRecord, warnings: Vec<Warning>) -> Parsed {
        Parsed {
            layout: record.layout.clone(),
            records: vec![record],
            warnings,
        }
    }
}

fn unknown_format(path: &Path, from_prefix: bool) -> Error {
    let seen = if from_prefix {
        " (decided from its first 64 KiB; the rest was not read)"
    } else {
        ""
    };
    Error::input(
        Problem::new(
            Location::file(path),
            format!("not an emissions log this tool recognizes{seen}: expected CodeCarbon CSV, an Impact Framework output manifest, eco2AI CSV, a carbontracker log, a Hugging Face model card with co2_eq_emissions, or carbon-gate JSON"),
        )
        .with_help("pass --input-format FORMAT if it is one of these and detection failed"),
    )
}

/// Read an Impact Framework manifest (its first bytes and the rest) as a stream. When that
/// fails on a regular file small enough to be read whole, the file is read whole again for the
/// message a whole read gives (so a manifest's errors do not depend on how it was read).
fn read_manifest(
    path: &Path,
    prefix: Vec<u8>,
    mut rest: bounded::Source,
    in_directory: bool,
    out: &mut Reading<'_>,
) -> Result<(), Error> {
    use std::io::Read;
    let read = {
        let mut reader = prefix.as_slice().chain(&mut *rest.reader);
        impact_framework::parse_reader(path, &mut reader, in_directory)
    };
    let parsed = match read {
        Ok(parsed) => parsed,
        Err(err) => {
            if !rest_size_fits(rest.size) {
                return Err(err);
            }
            drop(rest);
            let Ok(whole) = bounded::open(path, false) else {
                return Err(err);
            };
            let mut bytes = Vec::new();
            if whole
                .reader
                .take(bounded::MAX_DOCUMENT)
                .read_to_end(&mut bytes)
                .is_err()
            {
                return Err(err);
            }
            if let Some(at) = memchr::memchr(0, &bytes) {
                return Err(binary(path, at as u64));
            }
            let text = utf8(path, bytes)?;
            return Err(
                impact_framework::parse(path, &normalize(&text), in_directory)
                    .err()
                    .unwrap_or(err),
            );
        }
    };
    deliver(path, Format::ImpactFramework, parsed, out)
}

/// Whether a file of this size is read whole (at most [`bounded::MAX_DOCUMENT`] bytes).
fn rest_size_fits(size: Option<u64>) -> bool {
    size.is_some_and(|s| s <= bounded::MAX_DOCUMENT)
}

fn read_one(
    path: &Path,
    text: String,
    format: Format,
    options: &Options,
    in_directory: bool,
    out: &mut Reading<'_>,
) -> Result<(), Error> {
    if format == Format::Codecarbon {
        // The file's bytes as read, handed over whole (the stream checks and normalizes them).
        return read_codecarbon(path, text.into_bytes(), &mut std::io::empty(), None, out);
    }
    let text = &normalize(&text);
    let parsed = match format {
        Format::Codecarbon => codecarbon::parse(path, text)?,
        Format::HfCard => hf_card::parse(path, text, options.hf_units)?,
        Format::Native => native::parse(path, text)?,
        Format::ImpactFramework => impact_framework::parse(path, text, in_directory)?,
        Format::Carbontracker => carbontracker::parse(path, text)?,
        Format::Eco2ai => eco2ai::parse(path, text)?,
    };
    deliver(path, format, parsed, out)
}

/// Hand what one parser read to the sink.
fn deliver(
    path: &Path,
    format: Format,
    parsed: Parsed,
    out: &mut Reading<'_>,
) -> Result<(), Error> {
    crate::record::check_plausible(&parsed.records)?;
    out.files.push(InputFile {
        path: path.to_owned(),
        format,
        layout: parsed.layout,
        records: parsed.records.len(),
    });
    for record in parsed.records {
        out.sink.record(record);
    }
    out.warnings.extend(parsed.warnings);
    Ok(())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;

    /// A reader that hands out at most `step` bytes per call, to cut characters, CRLF pairs,
    /// tokens and records at every place (the streamed readers' tests share it).
    pub(crate) struct Trickle<'a> {
        pub(crate) bytes: &'a [u8],
        pub(crate) step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// What streaming makes of `bytes` (the first `split` bytes as the prefix, the rest read
    /// `step` bytes at a time): the records and warnings, or the error.
    fn streamed(
        bytes: &[u8],
        split: usize,
        step: usize,
    ) -> Result<(Vec<RunRecord>, Vec<Warning>), String> {
        let split = split.min(bytes.len());
        let mut sink = Collect::default();
        let mut warnings = Vec::new();
        let mut rest = Trickle {
            bytes: &bytes[split..],
            step,
        };
        stream::read(
            Path::new("e.csv"),
            bytes[..split].to_vec(),
            &mut rest,
            None,
            &mut sink,
            &mut warnings,
        )
        .map(|_| (sink.records, warnings))
        .map_err(|e| e.to_string())
    }

    /// What reading whole makes of `bytes`.
    fn whole(bytes: &[u8]) -> Result<(Vec<RunRecord>, Vec<Warning>), String> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| not_utf8(Path::new("e.csv"), e.valid_up_to() as u64).to_string())?;
        codecarbon::parse(Path::new("e.csv"), &normalize(text))
            .map(|p| (p.records, p.warnings))
            .map_err(|e| e.to_string())
    }

    proptest! {
        #[test]
        fn streaming_reads_like_reading_whole(
            bom in any::<bool>(),
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just(&b"\r"[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"2024,p,r1,1,2,3\n"[..]),
                    Just(&b"2024,p,r2,2,3,4\r\n"[..]), Just(&b"2024,\"p,\n q\",r3,1,1,1\n"[..]),
                    Just(&b","[..]), Just(&b"\""[..]), Just(&b"5"[..]),
                    Just("é".as_bytes()), Just("€".as_bytes()), Just("\u{feff}".as_bytes()),
                    Just(&b"\xff"[..]), Just(&b"\xe2\x82"[..]),
                ],
                0..40,
            ),
            split in 0usize..64,
            step in 1usize..9,
        ) {
            let mut bytes = if bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
            bytes.extend_from_slice(b"timestamp,project_name,run_id,duration,emissions,energy_consumed\n");
            for p in pieces {
                bytes.extend_from_slice(p);
            }
            prop_assert_eq!(streamed(&bytes, split, step), whole(&bytes));
        }
    }

    /// A CodeCarbon log bigger than the prefix, so that `ingest` streams it.
    fn big_log(line_end: &str) -> String {
        let mut text = format!(
            "\u{feff}timestamp,project_name,run_id,duration,emissions,energy_consumed,region,cpu_model{line_end}"
        );
        let mut n = 0;
        while text.len() <= 2 * PREFIX_BYTES {
            n += 1;
            text.push_str(&format!(
                "2024-01-01T00:00:00,p{},r{},{n}.5,0.{n},{n}.25,,cpu \"x\"\"y\"{line_end}",
                n % 3,
                n / 2
            ));
        }
        // A shifted row (CodeCarbon 3.2.9–3.3.0) and a run without an id.
        text.push_str(&format!(
            "2024,p9,r9,1,2,3,c{line_end}2024,p9,,1,2,3,,{line_end}"
        ));
        text
    }

    fn ingest_file(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, Result<Ingested, Error>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emissions.csv");
        std::fs::write(&path, bytes).unwrap();
        let read = ingest(std::slice::from_ref(&path), &Options::default());
        (dir, path, read)
    }

    #[test]
    fn a_streamed_log_reads_like_a_whole_one() {
        for line_end in ["\n", "\r\n"] {
            let text = big_log(line_end);
            let (_dir, path, read) = ingest_file(text.as_bytes());
            let read = read.unwrap();
            let whole = codecarbon::parse(&path, &normalize(&text)).unwrap();
            assert_eq!(read.records, whole.records);
            assert_eq!(read.warnings, whole.warnings);
            assert_eq!(read.files[0].layout, whole.layout);
            assert_eq!(read.files[0].records, whole.records.len());
            assert!(read.warnings.len() >= 2, "{:?}", read.warnings);
        }
    }

    #[test]
    fn a_streamed_log_that_is_not_utf8_is_refused_like_a_whole_one() {
        // A damaged row early and a bad byte late: read whole, the bad byte is reported.
        let mut bytes = big_log("\n")
            .replacen(",p1,r0,", ",p1,r0,x", 1)
            .into_bytes();
        let bad = bytes.len() - 3;
        bytes[bad] = 0xff;
        let (_dir, _path, read) = ingest_file(&bytes);
        let err = read.unwrap_err().to_string();
        assert!(
            err.contains(&format!("not UTF-8 text (invalid byte at offset {bad})")),
            "{err}"
        );
        // Without the bad byte, the damaged row is the error.
        bytes[bad] = b'x';
        let (_dir, _path, read) = ingest_file(&bytes);
        let err = read.unwrap_err().to_string();
        assert!(err.contains("emissions.csv:2: `duration`"), "{err}");
    }

    #[test]
    fn a_streamed_log_with_a_nul_byte_is_refused_like_a_whole_one() {
        // A damaged row early and a NUL late, in a field this tool reads no further than its
        // place: refused as binary data, as when the file is read whole.
        let mut bytes = big_log("\n")
            .replacen(",p1,r0,", ",p1,r0,x", 1)
            .into_bytes();
        let nul = bytes.len() - 2;
        bytes[nul] = 0;
        let (_dir, _path, read) = ingest_file(&bytes);
        let err = read.unwrap_err().to_string();
        assert!(
            err.contains(&format!("binary data (a NUL byte at offset {nul})")),
            "{err}"
        );
        // A NUL before a byte that is not UTF-8 is the one told, and the other way round.
        let bad = bytes.len() - 1;
        bytes[bad] = 0xff;
        let (_dir, _path, read) = ingest_file(&bytes);
        let err = read.unwrap_err().to_string();
        assert!(
            err.contains(&format!("a NUL byte at offset {nul}")),
            "{err}"
        );
        bytes[nul] = 0xff;
        bytes[bad] = 0;
        let (_dir, _path, read) = ingest_file(&bytes);
        let err = read.unwrap_err().to_string();
        assert!(
            err.contains(&format!("invalid byte at offset {nul}")),
            "{err}"
        );
    }

    #[test]
    fn a_record_longer_than_a_chunk_and_a_late_bad_byte() {
        let mut bytes =
            "\u{feff}timestamp,project_name,run_id,duration,emissions,energy_consumed\r\n2024,"
                .as_bytes()
                .to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 3 << 20));
        bytes.extend_from_slice(b",r,1,2,3\r\n");
        let read = streamed(&bytes, 100, usize::MAX).unwrap();
        assert_eq!(read.0.len(), 1);
        assert_eq!(read.0[0].model.as_ref().map(String::len), Some(3 << 20));
        assert_eq!(streamed(&bytes, 100, 7), whole(&bytes));
        bytes.push(0xc3);
        let err = streamed(&bytes, 100, usize::MAX).unwrap_err();
        assert!(
            err.contains(&format!("invalid byte at offset {}", bytes.len() - 1)),
            "{err}"
        );
    }

    /// A log reached twice — named directly, through a link in the directory, through a linked
    /// directory, through `..` — is read once.
    #[test]
    fn a_log_reached_by_several_paths_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("runs/deeper")).unwrap();
        let log =
            "timestamp,project_name,run_id,duration,emissions,energy_consumed\n2026,p,r1,1,2,3\n";
        std::fs::write(root.join("runs/emissions.csv"), log).unwrap();
        std::fs::write(
            root.join("runs/deeper/emissions.csv"),
            log.replace("r1", "r2"),
        )
        .unwrap();
        std::os::unix::fs::symlink("emissions.csv", root.join("runs/copy.csv")).unwrap();
        std::os::unix::fs::symlink("runs", root.join("linked")).unwrap();
        // The linked directory holds the link, the log and the deeper log: only the deeper one is
        // new (a directory with nothing new would be refused).
        let paths = [
            root.join("runs/emissions.csv"),
            root.join("linked"),
            root.join("runs/deeper/../emissions.csv"),
        ];
        let read = ingest(&paths, &Options::default()).unwrap();
        let ids: Vec<&str> = read.records.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r1", "r2"]);
        assert_eq!(read.files.len(), 2);
    }

    #[test]
    fn a_manifest_above_the_whole_read_cap_is_streamed() {
        // A sparse file: a manifest's head, then zeros past the 128 MiB read whole. Streamed,
        // it is read up to its first NUL byte (no "larger than" refusal, nothing read whole).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.out.yaml");
        let head = format!(
            "name: m\ninitialize:\n  plugins: {{}}\ntree:\n  children:\n    a:\n      note: \"{}\"\n",
            "x".repeat(70_000)
        );
        std::fs::write(&path, &head).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(bounded::MAX_DOCUMENT + 4096)
            .unwrap();
        let err = ingest(std::slice::from_ref(&path), &Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("a NUL byte at offset {}", head.len())),
            "{err}"
        );
    }

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
