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
use crate::record::{Amounts, Components, Part, Profile, RunRecord};
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

/// The released layouts as (releases, columns), built once.
fn layouts() -> &'static [(&'static str, Vec<&'static str>)] {
    static LAYOUTS: std::sync::OnceLock<Vec<(&'static str, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    LAYOUTS.get_or_init(build_layouts)
}

fn build_layouts() -> Vec<(&'static str, Vec<&'static str>)> {
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
    /// A short row: the header's leading and trailing columns are in place.
    Shifted,
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

/// The fields of one record: borrowed from the text when the record has no quotes (the common
/// case, split without copying), or decoded by the csv crate when it has.
#[derive(Clone, Copy)]
pub enum Fields<'a> {
    /// Split on commas: the line, and where each field ends in it (a field starts after the
    /// previous one's comma).
    Plain {
        /// The line, without its line end.
        line: &'a str,
        /// The end of each field, in bytes from the start of the line.
        ends: &'a [u32],
    },
    /// Decoded from a quoted record.
    Quoted(&'a csv::StringRecord),
}

impl<'a> Fields<'a> {
    fn len(&self) -> usize {
        match self {
            Fields::Plain { ends, .. } => ends.len(),
            Fields::Quoted(r) => r.len(),
        }
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Fields::Plain { line, ends } => {
                let end = *ends.get(i)? as usize;
                let start = match i.checked_sub(1) {
                    Some(before) => ends[before] as usize + 1,
                    None => 0,
                };
                line.get(start..end)
            }
            Fields::Quoted(r) => r.get(i),
        }
    }
}

/// One row, read through the [`Columns`] of its alignment.
struct Row<'a, 'c> {
    fields: Fields<'a>,
    columns: &'c Columns,
    file: &'c Path,
    line: u64,
}

impl<'a> Row<'a, '_> {
    fn field(&self, at: Option<usize>) -> Option<&'a str> {
        at.and_then(|i| self.fields.get(i))
            .map(trim)
            .filter(|v| !v.is_empty())
    }

    fn text(&self, column: usize) -> Option<&'a str> {
        self.field(self.columns.at[column])
    }

    /// A required non-negative finite number.
    fn number(&self, column: usize, unit: &str) -> Result<f64, Error> {
        match self.text(column) {
            None => Err(self.problem(format!(
                "`{}` is empty: expected a number of {unit}",
                WANTED[column]
            ))),
            Some(text) => self.value(column, text, unit),
        }
    }

    /// An optional number, checked like [`Self::optional_number`] but its value not computed:
    /// a plain decimal (digits and at most one point, not too long to be finite) is one.
    fn checked_number(&self, column: usize, unit: &str) -> Result<Option<&'a str>, Error> {
        let Some(text) = self.text(column) else {
            return Ok(None);
        };
        if is_plain_decimal(text) {
            return Ok(Some(text));
        }
        self.value(column, text, unit).map(|_| Some(text))
    }

    /// An optional number; present but invalid is an error.
    fn optional_number(&self, column: usize, unit: &str) -> Result<Option<f64>, Error> {
        match self.text(column) {
            None => Ok(None),
            Some(text) => self.value(column, text, unit).map(Some),
        }
    }

    /// The value of `text`, from `column`: a finite number, zero or more.
    fn value(&self, column: usize, text: &str, unit: &str) -> Result<f64, Error> {
        match parse_number(text) {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
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

/// A number written as digits with at most one decimal point (what CodeCarbon writes).
struct Decimal {
    /// The digits' value, when there are at most 19 of them (else wrapped: not used).
    mantissa: u64,
    digits: usize,
    /// Digits after the point.
    fraction: usize,
}

impl Decimal {
    /// Read `text` if it is one.
    fn read(text: &str) -> Option<Decimal> {
        let mut d = Decimal {
            mantissa: 0,
            digits: 0,
            fraction: 0,
        };
        let mut point = false;
        for &b in text.as_bytes() {
            if b.is_ascii_digit() {
                d.mantissa = d
                    .mantissa
                    .wrapping_mul(10)
                    .wrapping_add(u64::from(b - b'0'));
                d.digits += 1;
                d.fraction += usize::from(point);
            } else if b == b'.' && !point {
                point = true;
            } else {
                return None;
            }
        }
        (d.digits > 0).then_some(d)
    }

    /// Its value, when computing it is one exact division: digits and a power of ten that are
    /// both exact as `f64` (Clinger's fast path), so the quotient, rounded once, is the correctly
    /// rounded value `f64::from_str` gives. `None` otherwise.
    fn exact(&self) -> Option<f64> {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        if self.digits > 19 || self.mantissa > 1 << 53 {
            return None;
        }
        Some(self.mantissa as f64 / *POW10.get(self.fraction)?)
    }
}

/// Whether `text` is digits with at most one decimal point and at least one digit, short enough
/// that its value is finite: `f64::from_str` reads every such text as a finite number, zero or
/// more.
fn is_plain_decimal(text: &str) -> bool {
    text.len() <= 300 && Decimal::read(text).is_some()
}

/// `text` as a number: exactly as `f64::from_str`, with a shorter way for most of what
/// CodeCarbon writes.
fn parse_number(text: &str) -> Option<f64> {
    match Decimal::read(text).and_then(|d| d.exact()) {
        Some(v) => Some(v),
        None => text.parse().ok(),
    }
}

/// `str::trim`, without decoding when the field starts and ends with a visible ASCII character
/// (nearly always).
fn trim(field: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x7f);
    let bytes = field.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        field
    } else {
        field.trim()
    }
}

/// What one row says, its text borrowed from the record: the figures checked, the names as
/// written (trimmed, empty as `None`).
#[derive(Debug, Clone)]
pub struct RowData<'a> {
    /// The line the row starts on.
    pub line: u64,
    /// `duration`, s.
    pub duration: Duration,
    /// `emissions`, kg CO2e.
    pub emissions: Mass,
    /// `energy_consumed`, kWh.
    pub energy: Energy,
    /// CPU, GPU and RAM energy as written, when all three are present: checked, their values
    /// computed only when the row is kept whole ([`Self::components`]).
    pub component_texts: Option<[&'a str; 3]>,
    /// `pue`.
    pub pue: Option<f64>,
    /// The run key (`run_id`, or `experiment_id` in 1.x); `None` when empty.
    pub run_id: Option<&'a str>,
    /// The column the run key was read from.
    pub id_column: &'static str,
    /// `codecarbon_version`.
    pub tool_version: Option<&'a str>,
    /// `task_name`, for a task row.
    pub task: Option<&'a str>,
    /// `project_name`.
    pub model: Option<&'a str>,
    /// `timestamp`.
    pub timestamp: Option<&'a str>,
    /// The place columns.
    pub place: [Option<&'a str>; 5],
    /// `cpu_model`.
    pub cpu: Option<&'a str>,
    /// `gpu_model`.
    pub gpu: Option<&'a str>,
    /// `gpu_count`, when a number.
    pub gpu_count: Option<f64>,
}

impl<'a> RowData<'a> {
    /// CPU, GPU and RAM energy, when all three are present.
    pub fn components(&self) -> Option<Components> {
        let [cpu, gpu, ram] = self.component_texts?;
        // Checked when the row was read: each parses.
        let kwh = |t: &str| parse_number(t).map(Energy::kwh);
        Some(Components {
            cpu_kwh: kwh(cpu)?,
            gpu_kwh: kwh(gpu)?,
            ram_kwh: kwh(ram)?,
        })
    }

    /// The row as a record (a row without a run key counts as its own run, with a warning).
    pub fn record(&self, file: &Path, layout: &str, warnings: &mut Vec<Warning>) -> RunRecord {
        let location = Location::line(file, self.line);
        let run_id = match self.run_id {
            Some(id) => id.to_owned(),
            None => {
                let made = location.to_string();
                warnings.push(Warning::at(
                    codes::MISSING_RUN_ID,
                    location.clone(),
                    format!(
                        "`{}` is empty; counted the row as its own run `{made}`",
                        self.id_column
                    ),
                ));
                made
            }
        };
        let mut record = RunRecord::from_profile(
            location,
            layout,
            run_id,
            &self.profile(),
            Amounts::measured(self.energy, self.emissions, self.duration),
        );
        record.part = self.task.map(|t| Part::Task(t.to_owned()));
        record.timestamp = self.timestamp.map(str::to_owned);
        record.components = self.components();
        record
    }

    /// What the row shares with the other rows of its run: names, place, hardware, PUE.
    pub fn profile(&self) -> Profile<'a> {
        let [country, country_iso, region, cloud_provider, cloud_region] = self.place;
        Profile {
            names: [
                self.model,
                self.tool_version,
                country,
                country_iso,
                region,
                cloud_provider,
                cloud_region,
                self.cpu,
                self.gpu,
            ],
            pue: self.pue,
            gpu_count: self.gpu_count,
        }
    }
}

/// A CodeCarbon header, read once per file: its layout and how rows line up with it.
pub struct Header {
    names: Vec<String>,
    layout: String,
    is_v1_header: bool,
    head: usize,
    tail: usize,
    full: Columns,
    v1: Columns,
}

impl Header {
    /// Read the header from the first record of a file (`None`: the file has none).
    pub fn read(
        file: &Path,
        first: Option<Fields<'_>>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Header, Error> {
        let Some(first) = first else {
            return Err(Error::input(
                Problem::new(
                    Location::file(file),
                    "file is empty: expected a CodeCarbon CSV header",
                )
                .with_help(
                    "CodeCarbon writes the file when a tracker stops; check that the run finished",
                ),
            ));
        };
        if (0..first.len())
            .filter_map(|i| first.get(i))
            .any(|c| c.trim().contains('\r'))
        {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, 1),
                    "the header runs into the rows: the file's lines end in a carriage return alone (classic Mac OS line ends), so the whole file reads as one line",
                )
                .with_help("convert the file to LF (or CRLF) line ends, e.g. `tr '\\r' '\\n'`; CodeCarbon writes LF or CRLF"),
            ));
        }
        let names: Vec<String> = (0..first.len())
            .filter_map(|i| first.get(i))
            .map(|c| c.trim().to_owned())
            .collect();
        if !is_codecarbon_header(&names) {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, 1),
                    "not a CodeCarbon emissions log: the header lacks `project_name`, `duration`, `emissions` or `energy_consumed`",
                )
                .with_help("pass a CodeCarbon emissions.csv (any release), or the directory that holds it"),
            ));
        }
        let layout = describe_layout(&names, file, warnings);
        let is_v1_header = names.iter().all(|h| V1.contains(&h.as_str()));
        let head = names
            .iter()
            .position(|h| MAY_BE_EMPTY.contains(&h.as_str()))
            .unwrap_or(names.len());
        let tail = names.len()
            - names
                .iter()
                .rposition(|h| MAY_BE_EMPTY.contains(&h.as_str()))
                .map_or(names.len(), |i| i + 1);
        let full = Columns::new(names.iter().map(String::as_str).zip(0..));
        let v1 = Columns::new(V1.iter().copied().zip(0..));
        Ok(Header {
            names,
            layout,
            is_v1_header,
            head,
            tail,
            full,
            v1,
        })
    }

    /// The layout, for the list of inputs.
    pub fn layout(&self) -> &str {
        &self.layout
    }

    /// Read one row (`None`: a blank line). Rows that do not line up with the header are read
    /// as the release that wrote them would have meant, with a warning, or refused.
    pub fn row<'a>(
        &self,
        file: &Path,
        line: u64,
        fields: Fields<'a>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Option<RowData<'a>>, Error> {
        let header = &self.names;
        let (head, tail) = (self.head, self.tail);
        let len = fields.len();
        if len == 1 && fields.get(0).is_some_and(|f| f.trim().is_empty()) {
            return Ok(None);
        }
        let alignment = if len == header.len() {
            Alignment::Full
        } else if len > header.len() {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "row has {len} fields but the header has {}: the file mixes CodeCarbon layouts",
                        header.len()
                    ),
                )
                .with_help("move this row into a file with its own header, or remove it"),
            ));
        } else if len == V1.len() && !self.is_v1_header {
            warnings.push(Warning::at(
                codes::CODECARBON_MIXED_LAYOUT_ROW,
                Location::line(file, line),
                format!(
                    "row has the 12 fields of CodeCarbon 1.x under a {}-column header (1.x appends without checking the header); read it with the 1.x layout",
                    header.len()
                ),
            ));
            Alignment::V1
        } else if len >= head + tail && head < header.len() {
            warnings.push(Warning::at(
                codes::CODECARBON_SHIFTED_ROW,
                Location::line(file, line),
                format!(
                    "row has {len} fields but the header has {} (CodeCarbon 3.2.9–3.3.0 drop empty columns when appending); read the first {head} and last {tail} columns in place, ignored the {} in between",
                    header.len(),
                    header.len() - head - tail
                ),
            ));
            Alignment::Shifted
        } else {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "row has {len} fields but the header has {}: too short to hold the run's duration, emissions and energy",
                        header.len()
                    ),
                )
                .with_help("the row is truncated; restore it from the run's output or remove it"),
            ));
        };
        let shifted;
        let columns = match alignment {
            Alignment::Full => &self.full,
            Alignment::V1 => &self.v1,
            Alignment::Shifted => {
                // The leading columns in place, then the trailing ones counted from the right
                // (which win over a leading column of the same name).
                let from = len - tail;
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
        let is_v1 = matches!(alignment, Alignment::V1) || self.is_v1_header;
        let row = Row {
            fields,
            columns,
            file,
            line,
        };
        row_data(&row, is_v1).map(Some)
    }
}

fn row_data<'a>(row: &Row<'a, '_>, is_v1: bool) -> Result<RowData<'a>, Error> {
    let duration = Duration::seconds(row.number(DURATION, "seconds")?);
    let emissions = Mass::kg(row.number(EMISSIONS, "kg CO2e")?);
    let energy = Energy::kwh(row.number(ENERGY_CONSUMED, "kWh")?);
    let cpu = row.checked_number(CPU_ENERGY, "kWh")?;
    let gpu = row.checked_number(GPU_ENERGY, "kWh")?;
    let ram = row.checked_number(RAM_ENERGY, "kWh")?;
    let component_texts = match (cpu, gpu, ram) {
        (Some(c), Some(g), Some(r)) => Some([c, g, r]),
        _ => None,
    };
    let pue = row.optional_number(PUE, "a ratio")?;
    let id_column = if is_v1 { EXPERIMENT_ID } else { RUN_ID };
    Ok(RowData {
        line: row.line,
        duration,
        emissions,
        energy,
        component_texts,
        pue,
        run_id: row.text(id_column),
        id_column: WANTED[id_column],
        tool_version: row.text(CODECARBON_VERSION),
        task: row.text(TASK_NAME),
        model: row.text(PROJECT_NAME),
        timestamp: row.text(TIMESTAMP),
        place: [
            row.text(COUNTRY_NAME),
            row.text(COUNTRY_ISO_CODE),
            row.text(REGION),
            row.text(CLOUD_PROVIDER),
            row.text(CLOUD_REGION),
        ],
        cpu: row.text(CPU_MODEL),
        gpu: row.text(GPU_MODEL),
        // Descriptive only: a value that is not a number is left out rather than refused.
        gpu_count: row.field(row.columns.gpu_count).and_then(parse_number),
    })
}

/// Split the line of `text` that starts at `at` on commas into `ends`, and return where it ends
/// (its line feed, or the end of the text); `None`, with `ends` left partly filled, when the line
/// holds a quote (the csv crate decodes it). One pass, 32 bytes at a time: vector compares give
/// each block's commas and its stops (line feeds and quotes) as bit masks.
fn split_line(text: &str, at: usize, ends: &mut Vec<u32>) -> Option<usize> {
    let bytes = text.as_bytes();
    // Offsets in the line are kept in 32 bits: a longer text goes to the csv crate.
    if bytes.len() - at > u32::MAX as usize {
        return None;
    }
    let mut base = at;
    while base < bytes.len() {
        let (commas, stops, width) = match bytes.get(base..base + 32) {
            Some(block) => {
                let mut block32 = [0u8; 32];
                block32.copy_from_slice(block);
                let (c, s) = masks(&block32);
                (c, s, 32)
            }
            None => {
                // The last bytes, padded with zeros (no comma, line feed or quote).
                let rest = &bytes[base..];
                let mut block32 = [0u8; 32];
                block32[..rest.len()].copy_from_slice(rest);
                let (c, s) = masks(&block32);
                (c, s, rest.len())
            }
        };
        let offset = (base - at) as u32;
        if stops != 0 {
            let stop = stops.trailing_zeros();
            push_bits(ends, commas & ((1u32 << stop) - 1), offset);
            let i = base + stop as usize;
            if bytes[i] == b'\n' {
                ends.push(offset + stop);
                return Some(i);
            }
            return None;
        }
        push_bits(ends, commas, offset);
        base += width;
    }
    ends.push((bytes.len() - at) as u32);
    Some(bytes.len())
}

/// The offsets of the bits set in `mask`, plus `offset`, onto `ends`.
fn push_bits(ends: &mut Vec<u32>, mut mask: u32, offset: u32) {
    while mask != 0 {
        ends.push(offset + mask.trailing_zeros());
        mask &= mask - 1;
    }
}

/// For a block of 32 bytes, bit masks of its commas and of its line feeds and quotes. Not
/// inlined: inlined into the loop above, the compiler took the masks apart bit by bit.
#[inline(never)]
fn masks(block: &[u8; 32]) -> (u32, u32) {
    use wide::i8x32;
    let v = i8x32::from(block.map(|b| b as i8));
    let is = |c: u8| v.simd_eq(i8x32::splat(c as i8));
    let commas = is(b',').to_bitmask();
    let stops = (is(b'\n') | is(b'"')).to_bitmask();
    (commas, stops)
}

/// Split text made of whole CSV records into records, and call `each` with the line each starts
/// on and its fields. A record without quotes is split on commas without copying; one with quotes
/// (which may span lines) is decoded by the csv crate. `raw`: the text is as the file holds it,
/// so CRLF line ends are read as LF here; otherwise it is as [`super::normalize`] leaves it.
/// Returns the number of lines the text holds.
pub fn for_each_record<E>(
    file: &Path,
    text: &str,
    first_line: u64,
    raw: bool,
    mut each: impl FnMut(u64, Fields<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<Error>,
{
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut line = first_line;
    let mut ends: Vec<u32> = Vec::with_capacity(64);
    let mut quoted = csv::StringRecord::new();
    while at < bytes.len() {
        let start_line = line;
        ends.clear();
        if let Some(end) = split_line(text, at, &mut ends) {
            let mut whole = &text[at..end];
            if raw && let Some(stripped) = whole.strip_suffix('\r') {
                whole = stripped;
                if let Some(last) = ends.last_mut() {
                    *last -= 1;
                }
            }
            at = end + 1;
            line += 1;
            each(
                start_line,
                Fields::Plain {
                    line: whole,
                    ends: &ends,
                },
            )?;
            continue;
        }
        let mut end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let mut record = &text[at..end];
        // Quoted: extend to the line where the quotes balance (a quoted field may hold line
        // ends), then decode.
        let mut quotes = memchr::memchr_iter(b'"', record.as_bytes()).count();
        while quotes % 2 == 1 && end < bytes.len() {
            let next =
                memchr::memchr(b'\n', &bytes[end + 1..]).map_or(bytes.len(), |i| end + 1 + i);
            quotes += memchr::memchr_iter(b'"', &bytes[end + 1..next]).count();
            end = next;
        }
        record = &text[at..end];
        let lines = memchr::memchr_iter(b'\n', record.as_bytes()).count() as u64 + 1;
        at = end + 1;
        line += lines;
        let normalized = if raw {
            record.replace("\r\n", "\n")
        } else {
            record.to_owned()
        };
        let normalized = match normalized.strip_suffix('\r') {
            Some(stripped) if raw => stripped,
            _ => &normalized,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(normalized.as_bytes());
        match reader.read_record(&mut quoted) {
            Ok(true) => each(start_line, Fields::Quoted(&quoted))?,
            Ok(false) => {}
            Err(err) => return Err(csv_error(file, start_line, &err).into()),
        }
        if reader.read_record(&mut quoted).is_ok_and(|more| more) {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, start_line),
                    "a quote is not closed where the record ends: expected a quoted field to end with `\"`",
                )
                .with_help("the row is damaged; fix its quotes or remove it"),
            )
            .into());
        }
    }
    Ok(line - first_line)
}

/// Read one CodeCarbon CSV file (run file or task file). `text` is the whole file, as
/// [`super::normalize`] leaves it.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, Error> {
    let (header_text, rest, rest_line) = split_header(text);
    let mut warnings = Vec::new();
    let mut header = None;
    for_each_record(file, header_text, 1, false, |_, fields| {
        header = Some(Header::read(file, Some(fields), &mut warnings)?);
        Ok::<(), Error>(())
    })?;
    let header = match header {
        Some(h) => h,
        None => Header::read(file, None, &mut warnings)?,
    };
    let mut records = Vec::new();
    for_each_record(file, rest, rest_line, false, |line, fields| {
        if let Some(row) = header.row(file, line, fields, &mut warnings)? {
            let record = row.record(file, header.layout(), &mut warnings);
            crate::record::check_plausible(std::slice::from_ref(&record))?;
            records.push(record);
        }
        Ok::<(), Error>(())
    })?;
    if records.is_empty() {
        warnings.push(empty_log(file));
    }
    Ok(Parsed {
        records,
        warnings,
        layout: header.layout,
    })
}

/// The warning for a file with a header and no rows.
pub fn empty_log(file: &Path) -> Warning {
    Warning::at(
        codes::EMPTY_LOG,
        Location::file(file),
        "CodeCarbon header but no runs",
    )
}

/// Split off the header record (the first record after any blank lines): `(header, rest, the
/// line the rest starts on)`. A quoted header may span lines.
pub fn split_header(text: &str) -> (&str, &str, u64) {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut line = 1;
    while at < bytes.len() && (bytes[at] == b'\n' || bytes[at..].starts_with(b"\r\n")) {
        at += if bytes[at] == b'\n' { 1 } else { 2 };
        line += 1;
    }
    let end = record_end(bytes, at);
    let lines = memchr::memchr_iter(b'\n', &bytes[at..end]).count() as u64 + 1;
    let rest = (end + 1).min(bytes.len());
    (&text[at..end], &text[rest..], line + lines)
}

/// The end (index of the line feed, or the length) of the record starting at `at`: the first
/// line end where the quotes seen so far balance.
pub fn record_end(bytes: &[u8], at: usize) -> usize {
    let mut quotes = 0usize;
    let mut from = at;
    loop {
        let end = memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i);
        quotes += memchr::memchr_iter(b'"', &bytes[from..end]).count();
        if quotes.is_multiple_of(2) || end >= bytes.len() {
            return end;
        }
        from = end + 1;
    }
}

fn csv_error(file: &Path, line: u64, err: &csv::Error) -> Error {
    let location = match err.position() {
        Some(p) => Location::line(file, line + p.line() - 1),
        None => Location::line(file, line),
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
    fn plain_decimals_are_the_texts_that_parse_finite_and_not_negative() {
        for t in [
            "0",
            "1.",
            ".5",
            "0.11263309336346136",
            "400",
            &"9".repeat(300),
        ] {
            assert!(is_plain_decimal(t), "{t}");
            assert!(
                t.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0),
                "{t}"
            );
        }
        for t in [
            "",
            ".",
            "1..2",
            "-1",
            "+1",
            "1e3",
            "nan",
            "inf",
            " 1",
            &"9".repeat(400),
        ] {
            assert!(!is_plain_decimal(t), "{t}");
        }
    }

    proptest::proptest! {
        /// Whatever `is_plain_decimal` lets through without parsing parses, finite and not
        /// negative.
        #[test]
        fn a_plain_decimal_always_parses(t in "[0-9.]{0,40}") {
            if is_plain_decimal(&t) {
                proptest::prop_assert!(t.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0));
            }
        }

        /// The short way gives the bits `f64::from_str` gives, on any text.
        #[test]
        fn numbers_parse_as_the_standard_library_parses_them(
            t in "[0-9]{0,20}\\.?[0-9]{0,24}|[0-9eE.+-]{0,12}|[0-9a-z.]{0,8}"
        ) {
            proptest::prop_assert_eq!(
                parse_number(&t).map(f64::to_bits),
                t.parse::<f64>().ok().map(f64::to_bits)
            );
        }

        /// Values as Python writes them (shortest repr), CodeCarbon's numbers.
        #[test]
        fn reprs_of_any_double_parse_to_it(v in 0.0f64..1e12, scale in 0i32..20) {
            let v = v / 10f64.powi(scale);
            let text = format!("{v:?}");
            if !text.contains('e') {
                proptest::prop_assert_eq!(parse_number(&text).map(f64::to_bits), Some(v.to_bits()));
            }
        }
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
