//! eco2AI CSV: 0.3.x (13 columns, comma-separated, `id` per tracker), 0.2.x (10 columns,
//! `power_consumption(kWTh)`), 0.1.x (tab-separated, `country`).
//!
//! Units as eco2AI writes them: `power_consumption(kWh)` (0.1/0.2: `(kWTh)`, same unit) in kWh
//! with its PUE applied, `CO2_emissions(kg)` in kg, `duration(s)` in seconds.
//!
//! Rows and runs (verified on each release's source and on real runs, see the fixtures README):
//! - 0.1.x / 0.2.x have no run id and merge a run's partial rows when it stops: every row is one
//!   run (its id is its file and line).
//! - 0.3.x plain runs (`start`/`stop`) are one row per tracker `id`.
//! - 0.3.x training mode writes one row per epoch under the tracker's `id`. From 0.3.1 on each
//!   epoch row holds only that epoch, so the rows add up (they are read as components of the run).
//!   0.3.0 adds a summary row at `stop_training()` — recognizable because it repeats the previous
//!   row's epoch label — which holds the sum of the epochs and the time after the last one; then
//!   only that row counts and the epoch rows are read as tasks included in it (warning
//!   `eco2ai-summary-row`).

use std::collections::HashMap;
use std::path::Path;

use super::Parsed;
use super::checked::{MAX_RECORD, Pieces};
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Hardware, Part, Place, RunRecord};
use crate::units::{Duration, Energy, Mass};

const CO2: &str = "CO2_emissions(kg)";
const ENERGY: &[&str] = &["power_consumption(kWh)", "power_consumption(kWTh)"];
const DURATION: &[&str] = &["duration(s)", "time(s)"];

/// Whether a header is an eco2AI header.
pub fn is_eco2ai_header(header: &[String]) -> bool {
    header.iter().any(|h| h == CO2) && header.iter().any(|h| ENERGY.contains(&h.as_str()))
}

fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.contains(&h.as_str()))
}

fn number(file: &Path, line: u64, name: &str, text: &str, unit: &str) -> Result<f64, Error> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(Error::input(
            Problem::new(
                Location::line(file, line),
                format!("`{name}` is \"{text}\": expected a finite number of {unit}, zero or more"),
            )
            .with_help("this row is damaged; fix or remove it (eco2AI writes a number here)"),
        )),
    }
}

/// `FR`, `(FR)`, `FR/region`, `Berlin/DE` → (iso, region).
fn place(text: &str) -> Place {
    let t = text.trim().trim_start_matches('(').trim_end_matches(')');
    let is_iso = |s: &str| s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase());
    let (iso, region) = match t.split_once('/') {
        Some((a, b)) if is_iso(a) => (Some(a), Some(b)),
        Some((a, b)) if is_iso(b) => (Some(b), Some(a)),
        Some(_) => (None, Some(t)),
        None if is_iso(t) => (Some(t), None),
        None => (None, (!t.is_empty()).then_some(t)),
    };
    Place {
        country_iso: iso.map(str::to_owned),
        region: region.filter(|r| !r.is_empty()).map(str::to_owned),
        ..Place::default()
    }
}

/// `AMD EPYC/1 device(s), TDP:280.0` → `AMD EPYC`; ` 0 device(s)` → none.
fn device(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("0 device") {
        return None;
    }
    Some(t.split('/').next().unwrap_or(t).trim().to_owned())
}

struct Row {
    line: u64,
    id: Option<String>,
    epoch: Option<String>,
    record: RunRecord,
}

/// Read an eco2AI CSV file.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, Error> {
    let first = text.lines().next().unwrap_or_default();
    let mut records = Vec::new();
    let read = read_rows(file, first, &mut text.as_bytes(), &mut |r| records.push(r))?;
    Ok(Parsed {
        records,
        warnings: read.warnings,
        layout: read.layout,
    })
}

/// Read an eco2AI CSV file of any size, its rows handed to `sink` as they are read: `first` is
/// its first bytes (read already), `rest` the others. Returns the layout and how many records
/// were read. Records, warnings and errors are those of [`parse`] on the whole file (the
/// plausibility checks of [`crate::record::check_plausible`] included), bad bytes included.
pub fn stream(
    file: &Path,
    first: Vec<u8>,
    rest: &mut (dyn std::io::Read + Send),
    sink: &mut dyn super::Sink,
    warnings: &mut Vec<Warning>,
) -> Result<(String, usize), Error> {
    let mut input = super::checked::Checked::new(first, rest);
    let first = input.first_line();
    // As when read whole, damaged rows outrank an implausible one: the first implausible record
    // is kept, nothing more is handed over, and the rest is read for a damaged row.
    let mut implausible = None;
    let read = read_rows(file, &first, &mut input, &mut |r| {
        if implausible.is_none() {
            match crate::record::check_plausible(std::slice::from_ref(&r)) {
                Ok(()) => sink.record(r),
                Err(err) => implausible = Some(err),
            }
        }
    })
    .map_err(|err| input.conclude(file, err))?;
    if let Some(err) = implausible {
        return Err(err);
    }
    warnings.extend(read.warnings);
    Ok((read.layout, read.records))
}

/// What [`read_rows`] read besides the records.
struct RowsRead {
    layout: String,
    warnings: Vec<Warning>,
    records: usize,
}

/// Read the rows of an eco2AI CSV file whose first line is `first`, from `input`, handing each
/// record to `emit` in file order as soon as it is known: a row at once, except the rows of
/// training runs (with an `epoch`), whose parts are known only at the end of the file (a 0.3.0
/// summary row changes its epochs from components to tasks): from the first of them on, rows
/// are held until the end of the file (at most [`crate::bounded::MAX_DOCUMENT`] bytes of them,
/// the most of a file read whole).
fn read_rows<R: Pieces>(
    file: &Path,
    first: &str,
    input: &mut R,
    emit: &mut dyn FnMut(RunRecord),
) -> Result<RowsRead, Error> {
    let tabs = first.contains('\t') && !first.contains(',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if tabs { b'\t' } else { b',' })
        .from_reader(&mut *input);
    let csv_error = |reader: &csv::Reader<&mut R>, err: csv::Error| {
        let at = reader.position().line();
        if reader.get_ref().too_long() {
            return Error::input(
                Problem::new(
                    Location::line(file, at),
                    format!(
                        "the row starting here runs on for more than {} MiB: a quote is probably not closed",
                        MAX_RECORD >> 20
                    ),
                )
                .with_help("fix the row's quotes or remove it"),
            );
        }
        Error::input(Problem::new(
            err.position()
                .map_or(Location::file(file), |p| Location::line(file, p.line())),
            format!("cannot read as CSV: {err}"),
        ))
    };
    let mut row = csv::StringRecord::new();
    let header: Vec<String> = match reader.read_record(&mut row) {
        Ok(true) => row.iter().map(|c| c.trim().to_owned()).collect(),
        Err(err) if !reader.get_ref().too_long() => {
            return Err(Error::input(Problem::new(
                Location::line(file, 1),
                format!("cannot read as CSV: {err}"),
            )));
        }
        Err(err) => return Err(csv_error(&reader, err)),
        Ok(false) => {
            return Err(Error::input(Problem::new(
                Location::file(file),
                "file is empty: expected an eco2AI CSV header",
            )));
        }
    };
    let missing = |what: &str| {
        Error::input(
            Problem::new(
                Location::line(file, 1),
                format!("eco2AI CSV without a `{what}` column"),
            )
            .with_help("eco2AI writes project_name, duration(s), power_consumption(kWh) and CO2_emissions(kg); use the file it wrote"),
        )
    };
    let co2_at = column(&header, &[CO2]).ok_or_else(|| missing(CO2))?;
    let energy_at = column(&header, ENERGY).ok_or_else(|| missing("power_consumption(kWh)"))?;
    let duration_at = column(&header, DURATION).ok_or_else(|| missing("duration(s)"))?;
    let project_at = column(&header, &["project_name"]).ok_or_else(|| missing("project_name"))?;
    let id_at = column(&header, &["id"]);
    let epoch_at = column(&header, &["epoch"]);
    let start_at = column(&header, &["start_time"]);
    let cpu_at = column(&header, &["CPU_name"]);
    let gpu_at = column(&header, &["GPU_name"]);
    let place_at = column(&header, &["region/country", "country"]);
    let version = if tabs {
        "0.1.x (tab-separated)"
    } else if id_at.is_some() {
        "0.3.x"
    } else {
        "0.2.x"
    };
    let layout = format!("eco2ai {version} ({} columns)", header.len());

    let mut records = 0;
    // The rows from the first training row on, and the offset where that row starts.
    let mut held: Vec<Row> = Vec::new();
    let mut held_from = None;
    loop {
        let at = reader.position().byte();
        reader.get_mut().mark(at);
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => return Err(csv_error(&reader, err)),
        }
        let line = row.position().map_or(0, |p| p.line());
        if row.len() == 1 && row.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        if row.len() != header.len() {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "row has {} fields but the header has {}",
                        row.len(),
                        header.len()
                    ),
                )
                .with_help("the row is truncated or edited; use the file eco2AI wrote"),
            ));
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "N/A" && *v != "nan")
                .map(str::to_owned)
        };
        let field = |i: usize| row.get(i).unwrap_or_default();
        let co2 = number(file, line, CO2, field(co2_at), "kg")?;
        let energy = number(file, line, &header[energy_at], field(energy_at), "kWh")?;
        let duration = number(
            file,
            line,
            &header[duration_at],
            field(duration_at),
            "seconds",
        )?;
        let id = get(id_at);
        let run_id = id
            .clone()
            .unwrap_or_else(|| Location::line(file, line).to_string());
        let mut record = RunRecord::new(
            Location::line(file, line),
            Format::Eco2ai,
            run_id,
            Mass::kg(co2),
        );
        record.layout = layout.clone();
        record.energy = Some(Energy::kwh(energy));
        record.duration = Some(Duration::seconds(duration));
        record.model = get(Some(project_at));
        record.timestamp = get(start_at);
        record.place = get(place_at).map(|p| place(&p)).unwrap_or_default();
        record.hardware = Hardware {
            cpu: get(cpu_at).and_then(|c| device(&c)),
            gpu: row.get(gpu_at.unwrap_or(usize::MAX)).and_then(device),
            gpu_count: None,
        };
        let epoch = get(epoch_at);
        records += 1;
        if held_from.is_none() && !(id.is_some() && epoch.is_some()) {
            // Not a training row, and none before it: its record is final.
            emit(record);
            continue;
        }
        let from = *held_from.get_or_insert(at);
        if reader.position().byte() - from > crate::bounded::MAX_DOCUMENT {
            return Err(Error::input(
                Problem::new(
                    Location::line(file, line),
                    format!(
                        "more than {} of rows from the first training row (with an `epoch`) on: training runs are read whole, to tell epochs from eco2AI 0.3.0's summary row",
                        crate::bounded::MAX_DOCUMENT_TEXT
                    ),
                )
                .with_help("split the file (a training run's rows stay together), then pass the directory"),
            ));
        }
        held.push(Row {
            line,
            id,
            epoch,
            record,
        });
    }

    // Training-mode rows: group the epoch rows of each tracker id.
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in held.iter().enumerate() {
        if let (Some(id), Some(_)) = (&r.id, &r.epoch) {
            by_id.entry(id.clone()).or_default().push(i);
        }
    }
    let mut warnings = Vec::new();
    let mut ids: Vec<_> = by_id.into_iter().collect();
    ids.sort_by_key(|(_, rows)| rows[0]);
    for (id, members) in ids {
        let summary = match members.as_slice() {
            [.., before, last] if held[*last].epoch == held[*before].epoch => Some(*last),
            _ => None,
        };
        for &i in &members {
            let label = held[i].epoch.clone().unwrap_or_default();
            let name = label.split(',').next().unwrap_or(&label).trim().to_owned();
            held[i].record.part = match summary {
                Some(s) if s == i => None,
                Some(_) => Some(Part::Task(name)),
                None => Some(Part::Component(name)),
            };
        }
        if let Some(s) = summary {
            warnings.push(Warning::at(
                codes::ECO2AI_SUMMARY_ROW,
                Location::line(file, held[s].line),
                format!(
                    "training run {id}: this row repeats the previous epoch label, as eco2AI 0.3.0 writes its summary row at stop_training(); counted it, which includes the {} epoch rows before it",
                    members.len() - 1
                ),
            ));
        }
    }
    for r in held {
        emit(r.record);
    }
    if records == 0 {
        warnings.push(Warning::at(
            codes::EMPTY_LOG,
            Location::file(file),
            "eco2AI header but no runs",
        ));
    }
    Ok(RowsRead {
        layout,
        warnings,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(place("FR").country_iso.as_deref(), Some("FR"));
        assert_eq!(place("(FR)").country_iso.as_deref(), Some("FR"));
        let p = place("Berlin/DE");
        assert_eq!(
            (p.country_iso.as_deref(), p.region.as_deref()),
            (Some("DE"), Some("Berlin"))
        );
        let p = place("FR/Île-de-France");
        assert_eq!(
            (p.country_iso.as_deref(), p.region.as_deref()),
            (Some("FR"), Some("Île-de-France"))
        );
    }

    #[test]
    fn devices() {
        assert_eq!(
            device("AMD EPYC/1 device(s), TDP:280.0").as_deref(),
            Some("AMD EPYC")
        );
        assert_eq!(device(" 0 device(s)"), None);
    }
}
