//! carbon-gate's own record format: JSON or NDJSON, so any tool can feed the gate.
//!
//! Accepted shapes: the output of `carbon-gate ingest --format json` (an object with `records`),
//! a JSON array of records, or NDJSON (one record object per line). A record needs `run_id` and
//! `co2e_kg`; everything else is optional and `null` means unknown. Fields are those of the
//! `ingest` JSON output, so its output reads back unchanged (`counted` is ignored: the ledger
//! decides again, by the same rules). Records keep the `format` they were first read from, so a
//! run seen both in its original log and in an exported JSON is counted once. Units are in the
//! field names (`_kg`, `_kwh`, `_s`). The JSON Schema is `docs/record.schema.json`
//! (`carbon-gate schema record`).

use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Parsed;
use crate::error::{Error, Location, Problem};
use crate::record::{
    Assumption, Band, Components, Format, Hardware, Method, Part, Phase, Place, RunRecord,
};
use crate::units::{Duration, Energy, Mass};

/// A place in a file, as the `ingest` JSON writes it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeLocation {
    /// File.
    pub file: String,
    /// 1-based line.
    pub line: Option<u64>,
    /// 1-based column.
    pub column: Option<u64>,
    /// Path inside a structured file.
    pub path: Option<String>,
}

/// Energy split by component, kWh.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeComponents {
    /// CPU energy, kWh.
    pub cpu_kwh: f64,
    /// GPU energy, kWh.
    pub gpu_kwh: f64,
    /// RAM energy, kWh.
    pub ram_kwh: f64,
}

/// One run (or part of a run), as carbon-gate reads and writes it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "carbon-gate run record")]
pub struct NativeRecord {
    /// Run id: rows of one run share it (cumulative snapshots are counted once).
    pub run_id: String,
    /// Total CO2e of the run, kg (operational plus embodied when `embodied_co2e_kg` is given).
    pub co2e_kg: f64,
    /// Energy, kWh (`null`: unknown).
    #[serde(default)]
    pub energy_kwh: Option<f64>,
    /// The embodied (Scope 3) part of `co2e_kg`, kg.
    #[serde(default)]
    pub embodied_co2e_kg: Option<f64>,
    /// Duration, seconds.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Model name.
    #[serde(default)]
    pub model: Option<String>,
    /// Model version (semver).
    #[serde(default)]
    pub version: Option<String>,
    /// Life-cycle phase.
    #[serde(default)]
    pub phase: Option<Phase>,
    /// A task or component of the run.
    #[serde(default)]
    #[schemars(with = "Option<NativePart>")]
    pub part: Option<Part>,
    /// The format the figures were first read from (default `native`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub format: Option<Format>,
    /// Where the figures were first read from.
    #[serde(default)]
    pub source: Option<NativeLocation>,
    /// The layout of the original file.
    #[serde(default)]
    pub layout: Option<String>,
    /// The version of the tool that measured the run.
    #[serde(default)]
    pub tool_version: Option<String>,
    /// When the run was recorded.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Energy by component.
    #[serde(default)]
    pub components: Option<NativeComponents>,
    /// Where it ran.
    #[serde(default)]
    #[schemars(with = "Option<NativePlace>")]
    pub place: Option<Place>,
    /// What it ran on.
    #[serde(default)]
    #[schemars(with = "Option<NativeHardware>")]
    pub hardware: Option<Hardware>,
    /// PUE applied by the tool that measured it.
    #[serde(default)]
    pub pue: Option<f64>,
    /// Measured, or how carbon-gate estimated it.
    #[serde(default)]
    pub method: Option<Method>,
    /// Market-based operational CO2e, kg (beside the location-based figure, never subtracted).
    #[serde(default)]
    pub market_co2e_kg: Option<f64>,
    /// Low/high band of an estimate.
    #[serde(default)]
    pub band: Option<NativeBand>,
    /// The inputs of an estimate with their sources.
    #[serde(default)]
    pub assumptions: Vec<Assumption>,
    /// Quality metrics of the model version (`{"f1": 0.88}`).
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Written by `ingest`; ignored when read.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub counted: Option<serde_json::Value>,
}

/// Low/high band of an estimate.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeBand {
    /// Lowest energy, kWh.
    pub energy_low_kwh: f64,
    /// Highest energy, kWh.
    pub energy_high_kwh: f64,
    /// Lowest total CO2e, kg.
    pub co2e_low_kg: f64,
    /// Highest total CO2e, kg.
    pub co2e_high_kg: f64,
}

/// Schema stand-in for [`Part`].
#[derive(JsonSchema)]
#[allow(dead_code)]
struct NativePart {
    /// `task` or `component`.
    kind: String,
    /// The task or component name.
    name: String,
}

/// Schema stand-in for [`Place`].
#[derive(JsonSchema)]
#[allow(dead_code)]
struct NativePlace {
    country: Option<String>,
    country_iso: Option<String>,
    region: Option<String>,
    cloud_provider: Option<String>,
    cloud_region: Option<String>,
}

/// Schema stand-in for [`Hardware`].
#[derive(JsonSchema)]
#[allow(dead_code)]
struct NativeHardware {
    cpu: Option<String>,
    gpu: Option<String>,
    gpu_count: Option<f64>,
}

/// The `ingest` JSON document (other keys are what `ingest` writes beside the records).
#[derive(Debug, Deserialize)]
struct Document {
    schema_version: u32,
    records: Vec<NativeRecord>,
}

/// Whether `text` is carbon-gate JSON or NDJSON records.
pub fn detect(text: &str) -> bool {
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return false;
    }
    let head: String = t.chars().take(4096).collect();
    head.contains("\"run_id\"") && head.contains("\"co2e_kg\"")
}

/// The JSON Schema of a record, pretty-printed, as committed in `docs/record.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(NativeRecord);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn json_problem(file: &Path, line_offset: u64, err: &serde_json::Error) -> Error {
    let location = if err.line() > 0 {
        Location::at(file, err.line() as u64 + line_offset, err.column() as u64)
    } else {
        Location::file(file)
    };
    Error::input(
        Problem::new(location, format!("carbon-gate record: {err}"))
            .with_help("see docs/record.schema.json (`carbon-gate schema record`)"),
    )
}

/// Read a JSON or NDJSON file of records.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    let mut raw: Vec<(Location, NativeRecord)> = Vec::new();
    let layout;
    if trimmed.starts_with('[') {
        let records: Vec<NativeRecord> =
            serde_json::from_str(text).map_err(|e| json_problem(file, 0, &e))?;
        for (i, r) in records.into_iter().enumerate() {
            raw.push((Location::file(file).with_path(format!("[{i}]")), r));
        }
        layout = "carbon-gate records (JSON array)";
    } else {
        // One JSON document, or one record per line (NDJSON).
        let whole: Result<serde_json::Value, _> = serde_json::from_str(text);
        match whole {
            Ok(serde_json::Value::Object(map)) if map.contains_key("records") => {
                let doc: Document =
                    serde_json::from_str(text).map_err(|e| json_problem(file, 0, &e))?;
                if doc.schema_version != 1 {
                    return Err(Error::input(Problem::new(
                        Location::file(file).with_path("schema_version"),
                        format!(
                            "carbon-gate JSON schema_version {} is not supported: this carbon-gate reads 1",
                            doc.schema_version
                        ),
                    )));
                }
                for (i, r) in doc.records.into_iter().enumerate() {
                    raw.push((Location::file(file).with_path(format!("records[{i}]")), r));
                }
                layout = "carbon-gate ingest JSON (schema_version 1)";
            }
            _ => {
                for (n, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let line_no = n as u64 + 1;
                    let r: NativeRecord = serde_json::from_str(line)
                        .map_err(|e| json_problem(file, line_no - 1, &e))?;
                    raw.push((Location::line(file, line_no), r));
                }
                layout = "carbon-gate records (NDJSON)";
            }
        }
    }
    let records = raw
        .into_iter()
        .map(|(at, r)| convert(at, r, layout))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed {
        records,
        warnings: Vec::new(),
        layout: layout.to_owned(),
    })
}

/// How a log of carbon-gate records longer than its first bytes is read.
pub enum Streamed {
    /// As NDJSON, one line at a time: its layout and how many records it gave.
    Lines(String, usize),
    /// As one document (a JSON array, an `ingest` JSON document, or a file whose first record
    /// line cannot tell): the bytes read so far, to be read on whole.
    Whole(Vec<u8>),
}

/// What the first bytes of a file (`raw`, from offset 0) tell of how [`parse`] reads it: `None`
/// when they do not tell yet. [`parse`] reads NDJSON when the whole text is not one JSON value
/// that is an object with `records`, and the whole text is such an object only if its first
/// line that is not blank (with nothing but JSON white space before and after it) is, or if that
/// line ends inside a value (an object over several lines). A first line that is a complete
/// value, or that is no JSON at all, means NDJSON. Bytes that are not UTF-8 or hold a NUL byte
/// are left to the whole read, which reports them. `from` is where to look (after the lines
/// found blank by an earlier call), moved past blank lines.
fn lines_or_whole(raw: &[u8], from: &mut usize, eof: bool) -> Option<bool> {
    if *from == 0 {
        let bom = "\u{feff}".as_bytes();
        let text = raw.strip_prefix(bom).unwrap_or(raw);
        let text = text.strip_prefix(bom).unwrap_or(text);
        *from = raw.len() - text.len();
    }
    let line = loop {
        let rest = raw.get(*from..).unwrap_or_default();
        let Some(end) = memchr::memchr(b'\n', rest) else {
            // The first line that is not blank is not complete in what was read.
            let cut = eof || raw.len() > super::checked::MAX_RECORD;
            return (cut || memchr::memchr(0, rest).is_some()).then_some(false);
        };
        let line = &rest[..=end];
        if memchr::memchr(0, line).is_some() {
            return Some(false);
        }
        let Ok(line) = std::str::from_utf8(line) else {
            return Some(false);
        };
        if !line.trim().is_empty() {
            break line;
        }
        *from += end + 1;
    };
    if line.trim_start().starts_with('[') {
        return Some(false);
    }
    Some(match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(map)) => !map.contains_key("records"),
        Ok(_) => true,
        Err(err) => err.classify() != serde_json::error::Category::Eof,
    })
}

/// Read a log of carbon-gate records longer than its first bytes (`first`; `rest` gives the
/// others): NDJSON one line at a time, each record handed to `sink` as it is read, with the
/// records, errors (bad bytes included) and checks of [`parse`] and
/// [`crate::record::check_plausible`] on the whole file; any other shape is left to be read
/// whole ([`Streamed::Whole`]).
pub fn stream(
    file: &Path,
    first: Vec<u8>,
    rest: &mut (dyn std::io::Read + Send),
    sink: &mut dyn super::Sink,
) -> Result<Streamed, Error> {
    use std::io::{BufRead, Read};
    let mut raw = first;
    let (mut eof, mut from) = (false, 0);
    let lines = loop {
        if let Some(lines) = lines_or_whole(&raw, &mut from, eof) {
            break lines;
        }
        // Read on to a line end or a NUL byte (then decide again), the end of the file, or
        // `MAX_RECORD` bytes.
        loop {
            let at = raw.len();
            const MORE: u64 = 64 << 10;
            let n = (&mut *rest)
                .take(MORE)
                .read_to_end(&mut raw)
                .map_err(|err| super::cannot_read(file, err))?;
            eof = (n as u64) < MORE;
            let news = memchr::memchr2(b'\n', 0, &raw[at..]).is_some();
            if news || eof || raw.len() > super::checked::MAX_RECORD {
                break;
            }
        }
    };
    if !lines {
        return Ok(Streamed::Whole(raw));
    }
    const LAYOUT: &str = "carbon-gate records (NDJSON)";
    let mut input = std::io::BufReader::with_capacity(
        64 << 10,
        super::checked::Checked::new(raw, rest).unbounded(),
    );
    // As when read whole: a line that is no record outranks a record with a bad figure, which
    // outranks an implausible one. After the first bad record, nothing more is handed over.
    let mut bad: Option<Error> = None;
    let mut implausible: Option<Error> = None;
    let mut records = 0;
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let limit = super::checked::MAX_RECORD as u64 + 1;
        let read = (&mut input).take(limit).read_until(b'\n', &mut line);
        let fail = |input: &mut std::io::BufReader<super::checked::Checked<'_>>, err: Error| {
            input.get_mut().conclude(file, err)
        };
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) => {
                let err = super::cannot_read(file, err);
                return Err(fail(&mut input, err));
            }
        }
        line_no += 1;
        let text = match line.strip_suffix(b"\n") {
            Some(text) => text.strip_suffix(b"\r").unwrap_or(text),
            None if line.len() as u64 == limit => {
                return Err(Error::input(
                    Problem::new(
                        Location::line(file, line_no),
                        format!(
                            "the line starting here runs on for more than {} MiB: expected one JSON record per line",
                            super::checked::MAX_RECORD >> 20
                        ),
                    )
                    .with_help("write one record per line (NDJSON), or split the file"),
                ));
            }
            None => &line,
        };
        let text = std::str::from_utf8(text).unwrap_or_default();
        let text = match line_no {
            1 => text.strip_prefix('\u{feff}').unwrap_or(text),
            _ => text,
        };
        if text.trim().is_empty() {
            continue;
        }
        let r: NativeRecord = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let err = json_problem(file, line_no - 1, &e);
                return Err(fail(&mut input, err));
            }
        };
        records += 1;
        if bad.is_some() {
            continue;
        }
        match convert(Location::line(file, line_no), r, LAYOUT) {
            Ok(record) if implausible.is_none() => {
                match crate::record::check_plausible(std::slice::from_ref(&record)) {
                    Ok(()) => sink.record(record),
                    Err(err) => implausible = Some(err),
                }
            }
            Ok(_) => {}
            Err(err) => bad = Some(err),
        }
    }
    if let Some(err) = bad.or(implausible) {
        return Err(err);
    }
    Ok(Streamed::Lines(LAYOUT.to_owned(), records))
}

fn quantity(at: &Location, field: &str, value: f64, unit: &str) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::input(Problem::new(
            at.clone(),
            format!("`{field}` is {value}: expected a finite number of {unit}, zero or more"),
        )))
    }
}

fn convert(at: Location, r: NativeRecord, layout: &str) -> Result<RunRecord, Error> {
    let co2e = quantity(&at, "co2e_kg", r.co2e_kg, "kg")?;
    let mut record = RunRecord::new(
        at.clone(),
        r.format.unwrap_or(Format::Native),
        r.run_id,
        Mass::kg(co2e),
    );
    if let Some(e) = r.energy_kwh {
        record.energy = Some(Energy::kwh(quantity(&at, "energy_kwh", e, "kWh")?));
    }
    if let Some(e) = r.embodied_co2e_kg {
        let embodied = quantity(&at, "embodied_co2e_kg", e, "kg")?;
        if embodied > co2e {
            return Err(Error::input(Problem::new(
                at,
                format!(
                    "`embodied_co2e_kg` {embodied} is more than `co2e_kg` {co2e}: co2e_kg is the total, embodied included"
                ),
            )));
        }
        record.embodied = Some(Mass::kg(embodied));
    }
    if let Some(d) = r.duration_s {
        record.duration = Some(Duration::seconds(quantity(
            &at,
            "duration_s",
            d,
            "seconds",
        )?));
    }
    if let Some(c) = r.components {
        record.components = Some(Components {
            cpu_kwh: Energy::kwh(quantity(&at, "components.cpu_kwh", c.cpu_kwh, "kWh")?),
            gpu_kwh: Energy::kwh(quantity(&at, "components.gpu_kwh", c.gpu_kwh, "kWh")?),
            ram_kwh: Energy::kwh(quantity(&at, "components.ram_kwh", c.ram_kwh, "kWh")?),
        });
    }
    record.layout = match (&r.source, &r.layout) {
        (Some(src), Some(l)) => format!("{layout}; first read from {} ({l})", src.file),
        (Some(src), None) => format!("{layout}; first read from {}", src.file),
        (None, _) => layout.to_owned(),
    };
    if let Some(m) = r.market_co2e_kg {
        record.market = Some(Mass::kg(quantity(&at, "market_co2e_kg", m, "kg")?));
    }
    if let Some(b) = r.band {
        record.band = Some(Band {
            energy_low_kwh: Energy::kwh(quantity(
                &at,
                "band.energy_low_kwh",
                b.energy_low_kwh,
                "kWh",
            )?),
            energy_high_kwh: Energy::kwh(quantity(
                &at,
                "band.energy_high_kwh",
                b.energy_high_kwh,
                "kWh",
            )?),
            co2e_low_kg: Mass::kg(quantity(&at, "band.co2e_low_kg", b.co2e_low_kg, "kg")?),
            co2e_high_kg: Mass::kg(quantity(&at, "band.co2e_high_kg", b.co2e_high_kg, "kg")?),
        });
    }
    record.method = r.method.unwrap_or_default();
    for (name, value) in &r.metrics {
        if !value.is_finite() {
            return Err(Error::input(Problem::new(
                at.clone(),
                format!("metric `{name}` is {value}: expected a finite number"),
            )));
        }
    }
    record.metrics = r.metrics;
    record.assumptions = r.assumptions;
    record.model = r.model;
    record.version = r.version;
    record.phase = r.phase;
    record.part = r.part;
    record.tool_version = r.tool_version;
    record.timestamp = r.timestamp;
    record.place = r.place.unwrap_or_default();
    record.hardware = r.hardware.unwrap_or_default();
    record.pue = r.pue;
    Ok(record)
}
