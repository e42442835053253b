//! CodeCarbon `emissions.csv`, every released layout, read by header name (never by position).
//!
//! Units as CodeCarbon writes them: `emissions` kg CO2e, `energy_consumed` and `*_energy` kWh
//! (PUE already applied), `duration` seconds. The run key is `run_id` (2.0+) or `experiment_id`
//! (1.x, where it is a fresh id per run; from 2.7 on `experiment_id` is a shared config value and
//! is not a run key).
//!
//! Damage seen in real files, and how it is read (each case warns with file and line):
//! - rows shorter than the header (3.2.9–3.3.0 drop empty columns before a headerless append):
//!   columns before the first column CodeCarbon can leave empty, and after the last one, are read
//!   in place (counted from the right for the tail); the columns in between are not trusted;
//! - a 12-field row under a newer header (1.x appends without checking the header): read with the
//!   1.x layout;
//! - per-task files (`task_name` column) are read as task rows; the ledger decides whether they
//!   are already in their run's row.
//!
//! Rows repeated under one run id and rotated `.bak` files are reconciled in [`crate::ledger`].

use std::path::Path;

use super::Parsed;
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Components, Format, Hardware, Part, Place, RunRecord};
use crate::units::{Duration, Energy, Mass};

/// The 1.x layout (1.0.0 – 1.2.0).
const V1: &[&str] = &[
    "timestamp",
    "experiment_id",
    "project_name",
    "duration",
    "emissions",
    "energy_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "on_cloud",
    "cloud_provider",
    "cloud_region",
];

/// The 2.0.0 – 2.1.4 layout; later layouts insert columns into it.
const V2_0: &[&str] = &[
    "timestamp",
    "project_name",
    "run_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "on_cloud",
];

/// Columns a CodeCarbon release can leave empty (Python `None`), which 3.1.1–3.3.0 drop.
const MAY_BE_EMPTY: &[&str] = &[
    "region",
    "cloud_provider",
    "cloud_region",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
];

/// The released layouts as (releases, columns).
fn layouts() -> Vec<(&'static str, Vec<&'static str>)> {
    let insert_after = |cols: &[&'static str], after: &str, new: &[&'static str]| {
        let mut v = cols.to_vec();
        let at = v
            .iter()
            .position(|c| *c == after)
            .map_or(v.len(), |i| i + 1);
        for (k, n) in new.iter().enumerate() {
            v.insert(at + k, n);
        }
        v
    };
    let v2_2 = insert_after(V2_0, "python_version", &["codecarbon_version"]);
    let mut v2_3 = v2_2.clone();
    v2_3.push("pue");
    let v2_7 = insert_after(&v2_3, "run_id", &["experiment_id"]);
    let mut v3_0_8 = insert_after(&v2_7, "energy_consumed", &["water_consumed"]);
    v3_0_8.push("wue");
    let v3_2_1 = insert_after(
        &v3_0_8,
        "tracking_mode",
        &[
            "cpu_utilization_percent",
            "gpu_utilization_percent",
            "ram_utilization_percent",
            "ram_used_gb",
        ],
    );
    vec![
        ("1.0.0–1.2.0", V1.to_vec()),
        ("2.0.0–2.1.4", V2_0.to_vec()),
        ("2.2.0–2.2.2", v2_2),
        ("2.2.3–2.6", v2_3),
        ("2.7.0–3.0.7", v2_7),
        ("3.0.8–3.2.0", v3_0_8),
        ("3.2.1–3.3.2", v3_2_1),
    ]
}

/// Whether a header line (already split) is a CodeCarbon run or task file header.
pub fn is_codecarbon_header(header: &[String]) -> bool {
    let has = |name: &str| header.iter().any(|h| h == name);
    has("duration") && has("emissions") && has("energy_consumed") && has("project_name")
}

/// Describe a header: a released layout, a released layout with empty columns dropped, a task
/// file, or unknown (with a warning).
fn describe_layout(header: &[String], file: &Path, warnings: &mut Vec<Warning>) -> String {
    let n = header.len();
    let is_task = header.first().is_some_and(|h| h == "task_name");
    let cols: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "task_name")
        .collect();
    let all = layouts();
    if let Some((releases, _)) = all.iter().find(|(_, l)| *l == cols) {
        return if is_task {
            format!("codecarbon {releases} task file ({n} columns)")
        } else {
            format!("codecarbon {releases} ({n} columns)")
        };
    }
    // A subset of a released layout: CodeCarbon 3.1.1–3.2.3 rewrite files without their empty
    // columns, and task files omit a few run columns.
    if let Some((releases, _)) = all
        .iter()
        .rev()
        .find(|(_, l)| cols.iter().all(|c| l.contains(c)))
    {
        let kind = if is_task { " task file" } else { "" };
        return format!("codecarbon {releases}{kind}, empty columns dropped ({n} columns)");
    }
    warnings.push(Warning::at(
        codes::CODECARBON_UNKNOWN_LAYOUT,
        Location::line(file, 1),
        format!(
            "header with {n} columns is not one that a released CodeCarbon wrote; reading its columns by name"
        ),
    ));
    format!("codecarbon, unrecognized layout ({n} columns)")
}

/// How the fields of one row line up with the header.
enum Alignment {
    /// One field per header column.
    Full,
    /// A 1.x row under a newer header.
    V1,
    /// A short row: `head` leading and `tail` trailing header columns are in place.
    Shifted { head: usize, tail: usize },
}

/// The columns a record is built from; [`Columns`] maps each to a field of the row.
const WANTED: [&str; 20] = [
    "duration",
    "emissions",
    "energy_consumed",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "pue",
    "run_id",
    "experiment_id",
    "codecarbon_version",
    "task_name",
    "project_name",
    "timestamp",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "cpu_model",
    "gpu_model",
];
const DURATION: usize = 0;
const EMISSIONS: usize = 1;
const ENERGY_CONSUMED: usize = 2;
const CPU_ENERGY: usize = 3;
const GPU_ENERGY: usize = 4;
const RAM_ENERGY: usize = 5;
const PUE: usize = 6;
const RUN_ID: usize = 7;
const EXPERIMENT_ID: usize = 8;
const CODECARBON_VERSION: usize = 9;
const TASK_NAME: usize = 10;
const PROJECT_NAME: usize = 11;
const TIMESTAMP: usize = 12;
const COUNTRY_NAME: usize = 13;
const COUNTRY_ISO_CODE: usize = 14;
const REGION: usize = 15;
const CLOUD_PROVIDER: usize = 16;
const CLOUD_REGION: usize = 17;
const CPU_MODEL: usize = 18;
const GPU_MODEL: usize = 19;
/// Not in [`WANTED`]'s fixed slots because it is looked up by name only once per row.
const GPU_COUNT: &str = "gpu_count";

/// For one alignment of a row with the header: the field index of each [`WANTED`] column (and of
/// `gpu_count`), `None` when the row has no trusted field for it. Computed once per layout, not
/// per row (a per-row name → value map was the parser's main cost).
#[derive(Clone)]
struct Columns {
    at: [Option<usize>; WANTED.len()],
    gpu_count: Option<usize>,
}

impl Columns {
    /// Map `(column name, field index)` pairs; a name given twice maps to its last field, as a
    /// name → value map filled in this order would.
    fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, usize)>) -> Columns {
        let mut columns = Columns {
            at: [None; WANTED.len()],
            gpu_count: None,
        };
        for (name, field) in pairs {
            if let Some(k) = WANTED.iter().position(|w| *w == name) {
                columns.at[k] = Some(field);
            } else if name == GPU_COUNT {
                columns.gpu_count = Some(field);
            }
        }
        columns
    }
}

/// One row, read through the [`Columns`] of its alignment.
struct Row<'a> {
    fields: &'a csv::StringRecord,
    columns: &'a Columns,
    file: &'a Path,
    line: u64,
}

impl Row<'_> {
    fn field(&self, at: Option<usize>) -> Option<&str> {
        at.and_then(|i| self.fields.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn text(&self, column: usize) -> Option<&str> {
        self.field(self.columns.at[column])
    }

    fn owned(&self, column: usize) -> Option<String> {
        self.text(column).map(str::to_owned)
    }

    /// A required non-negative finite number.
    fn number(&self, column: usize, unit: &str) -> Result<f64, Error> {
        match self.text(column) {
            None => Err(self.problem(format!(
                "`{}` is empty: expected a number of {unit}",
                WANTED[column]
            ))),
            Some(_) => self
                .optional_number(column, unit)
                .map(|v| v.unwrap_or_default()),
        }
    }

    /// An optional number; present but invalid is an error.
    fn optional_number(&self, column: usize, unit: &str) -> Result<Option<f64>, Error> {
        let Some(text) = self.text(column) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(self.problem(format!(
                "`{}` is \"{text}\": expected a finite number of {unit}, zero or more",
                WANTED[column]
            ))),
        }
    }

    fn problem(&self, message: String) -> Error {
        Error::input(
            Problem::new(Location::line(self.file, self.line), message).with_help(
                "this row is damaged; fix or remove it (a CodeCarbon release writes a number here)",
            ),
        )
    }
}

/// Read one CodeCarbon CSV file (run file or task file). `text` is the whole file, as
/// [`super::normalize`] leaves it.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, Error> {
    read(file, text.as_bytes(), text.len().clamp(1024, 64 * 1024))
}

/// Read one CodeCarbon CSV file from a reader, row by row (the file is never held whole): the
/// same as [`parse`] on the text the reader yields, which must be as [`super::normalize`] leaves
/// it (no byte-order mark, LF line ends; [`super::Normalized`] does that while streaming).
pub fn parse_reader<R: std::io::Read>(file: &Path, input: R) -> Result<Parsed, Error> {
    read(file, input, 64 * 1024)
}

fn read<R: std::io::Read>(file: &Path, input: R, buffer: usize) -> Result<Parsed, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(buffer)
        .from_reader(input);
    let mut row = csv::StringRecord::new();
    let header: Vec<String> = match reader.read_record(&mut row) {
        Ok(false) => {
            return Err(Error::input(
                Problem::new(
                    Location::file(file),
                    "file is empty: expected a CodeCarbon CSV header",
                )
                .with_help(
                    "CodeCarbon writes the file when a tracker stops; check that the run finished",
                ),
            ));
        }
        Err(err) => return Err(csv_error(file, &err)),
        Ok(true) => row.iter().map(|c| c.trim().to_owned()).collect(),
    };
    if !is_codecarbon_header(&header) {
        return Err(Error::input(
            Problem::new(
                Location::line(file, 1),
                "not a CodeCarbon emissions log: the header lacks `project_name`, `duration`, `emissions` or `energy_consumed`",
            )
            .with_help("pass a CodeCarbon emissions.csv (any release), or the directory that holds it"),
        ));
    }
    let mut warnings = Vec::new();
    let layout = describe_layout(&header, file, &mut warnings);
    let is_v1_header = header.iter().all(|h| V1.contains(&h.as_str()));
    let head = header
        .iter()
        .position(|h| MAY_BE_EMPTY.contains(&h.as_str()))
        .unwrap_or(header.len());
    let tail = header.len()
        - header
            .iter()
            .rposition(|h| MAY_BE_EMPTY.contains(&h.as_str()))
            .map_or(header.len(), |i| i + 1);
    let full = Columns::new(header.iter().map(String::as_str).zip(0..));
    let v1 = Columns::new(V1.iter().copied().zip(0..));

    let mut records = Vec::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => return Err(csv_error(file, &err)),
        }
        let line = row.position().map_or(0, |p| p.line());
        if row.len() == 1 && row.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        let alignment = if row.len() == header.len() {
            Alignment::Full
        } else if row.len() > header.len() {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "row has {} fields but the header has {}: the file mixes CodeCarbon layouts",
                        row.len(),
                        header.len()
                    ),
                )
                .with_help("move this row into a file with its own header, or remove it"),
            ));
        } else if row.len() == V1.len() && !is_v1_header {
            warnings.push(Warning::at(
                codes::CODECARBON_MIXED_LAYOUT_ROW,
                Location::line(file, line),
                format!(
                    "row has the 12 fields of CodeCarbon 1.x under a {}-column header (1.x appends without checking the header); read it with the 1.x layout",
                    header.len()
                ),
            ));
            Alignment::V1
        } else if row.len() >= head + tail && head < header.len() {
            warnings.push(Warning::at(
                codes::CODECARBON_SHIFTED_ROW,
                Location::line(file, line),
                format!(
                    "row has {} fields but the header has {} (CodeCarbon 3.2.9–3.3.0 drop empty columns when appending); read the first {head} and last {tail} columns in place, ignored the {} in between",
                    row.len(),
                    header.len(),
                    header.len() - head - tail
                ),
            ));
            Alignment::Shifted { head, tail }
        } else {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "row has {} fields but the header has {}: too short to hold the run's duration, emissions and energy",
                        row.len(),
                        header.len()
                    ),
                )
                .with_help("the row is truncated; restore it from the run's output or remove it"),
            ));
        };
        let shifted;
        let columns = match alignment {
            Alignment::Full => &full,
            Alignment::V1 => &v1,
            Alignment::Shifted { head, tail } => {
                // The leading columns in place, then the trailing ones counted from the right
                // (which win over a leading column of the same name).
                let from = row.len() - tail;
                shifted = Columns::new(
                    header[..head].iter().map(String::as_str).zip(0..).chain(
                        header[header.len() - tail..]
                            .iter()
                            .map(String::as_str)
                            .zip(from..),
                    ),
                );
                &shifted
            }
        };
        let row_is_v1 = matches!(alignment, Alignment::V1) || is_v1_header;
        let fields = Row {
            fields: &row,
            columns,
            file,
            line,
        };
        records.push(record(&fields, row_is_v1, &layout, &mut warnings)?);
    }
    if records.is_empty() {
        warnings.push(Warning::at(
            codes::EMPTY_LOG,
            Location::file(file),
            "CodeCarbon header but no runs",
        ));
    }
    Ok(Parsed {
        records,
        warnings,
        layout,
    })
}

fn record(
    row: &Row<'_>,
    is_v1: bool,
    layout: &str,
    warnings: &mut Vec<Warning>,
) -> Result<RunRecord, Error> {
    let location = Location::line(row.file, row.line);
    let duration = Duration::seconds(row.number(DURATION, "seconds")?);
    let emissions = Mass::kg(row.number(EMISSIONS, "kg CO2e")?);
    let energy = Energy::kwh(row.number(ENERGY_CONSUMED, "kWh")?);
    let cpu = row.optional_number(CPU_ENERGY, "kWh")?;
    let gpu = row.optional_number(GPU_ENERGY, "kWh")?;
    let ram = row.optional_number(RAM_ENERGY, "kWh")?;
    let components = match (cpu, gpu, ram) {
        (Some(c), Some(g), Some(r)) => Some(Components {
            cpu_kwh: Energy::kwh(c),
            gpu_kwh: Energy::kwh(g),
            ram_kwh: Energy::kwh(r),
        }),
        _ => None,
    };
    let pue = row.optional_number(PUE, "a ratio")?;
    let id_column = if is_v1 { EXPERIMENT_ID } else { RUN_ID };
    let run_id = match row.owned(id_column) {
        Some(id) => id,
        None => {
            let made = location.to_string();
            warnings.push(Warning::at(
                codes::MISSING_RUN_ID,
                location.clone(),
                format!(
                    "`{}` is empty; counted the row as its own run `{made}`",
                    WANTED[id_column]
                ),
            ));
            made
        }
    };
    let mut record = RunRecord::new(location, Format::Codecarbon, run_id, emissions);
    record.layout = layout.to_owned();
    record.tool_version = row.owned(CODECARBON_VERSION);
    record.part = row.owned(TASK_NAME).map(Part::Task);
    record.model = row.owned(PROJECT_NAME);
    record.timestamp = row.owned(TIMESTAMP);
    record.duration = Some(duration);
    record.energy = Some(energy);
    record.components = components;
    record.place = Place {
        country: row.owned(COUNTRY_NAME),
        country_iso: row.owned(COUNTRY_ISO_CODE),
        region: row.owned(REGION),
        cloud_provider: row.owned(CLOUD_PROVIDER),
        cloud_region: row.owned(CLOUD_REGION),
    };
    record.hardware = Hardware {
        cpu: row.owned(CPU_MODEL),
        gpu: row.owned(GPU_MODEL),
        // Descriptive only: a value that is not a number is left out rather than refused.
        gpu_count: row
            .field(row.columns.gpu_count)
            .and_then(|t| t.parse().ok()),
    };
    record.pue = pue;
    Ok(record)
}

fn csv_error(file: &Path, err: &csv::Error) -> Error {
    let location = match err.position() {
        Some(p) => Location::line(file, p.line()),
        None => Location::file(file),
    };
    let message = match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text: expected a CSV file".to_owned(),
        _ => format!("cannot read as CSV: {err}"),
    };
    Error::input(Problem::new(location, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_released_column_counts() {
        let counts: Vec<usize> = layouts().iter().map(|(_, l)| l.len()).collect();
        assert_eq!(counts, vec![12, 29, 30, 31, 32, 34, 38]);
    }

    #[test]
    fn bom_and_crlf_are_read() {
        let text = "\u{feff}timestamp,project_name,run_id,duration,emissions,energy_consumed\r\n2024-01-01T00:00:00,p,r1,10,0.5,2\r\n";
        let parsed = parse(Path::new("x.csv"), &super::super::normalize(text)).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].run_id, "r1");
        assert_eq!(parsed.records[0].energy, Some(Energy::kwh(2.0)));
        assert_eq!(parsed.records[0].source.to_string(), "x.csv:2");
    }

    #[test]
    fn bad_numbers_are_located() {
        for bad in ["abc", "-1", "NaN", "inf", ""] {
            let text = format!(
                "timestamp,project_name,run_id,duration,emissions,energy_consumed\n2024,p,r1,10,{bad},2\n"
            );
            let err = parse(Path::new("x.csv"), &text).unwrap_err().to_string();
            assert!(
                err.starts_with("bad input: x.csv:2: `emissions`"),
                "{bad}: {err}"
            );
        }
    }
}
