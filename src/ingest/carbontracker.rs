//! carbontracker logs (1.x and 2.x): one run is three files in the log directory,
//! `{pid}[.{id}]_{date}_carbontracker.log` (standard), `…_carbontracker_output.log` (results) and
//! `…_carbontracker_err.log`.
//!
//! The figures come from the output log's `Actual consumption` block: `Energy` in kWh (with
//! carbontracker's PUE, 1.58 in 2.x and 1.55 in 1.x, already applied) and `CO2eq` in grams. The
//! block's "for N epoch(s)" is not trusted — 2.x writes one epoch less than ran on an early stop —
//! so the epochs that really ran are counted from the standard log's `Epoch N:` lines (carbontracker's
//! own parser, 2.x, reports 1 epoch for every run and then sums *predicted* energy for runs that
//! finished; none of that is copied). A run with only a `Predicted consumption` block (the process
//! died before carbontracker stopped) is counted at its prediction, with a warning; a run with
//! neither block recorded nothing and is refused.
//!
//! Reading any of the three files reads the run; a directory walk reads each run once, through its
//! output log.

use std::path::{Path, PathBuf};

use super::{Parsed, bounded};
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Hardware, RunRecord};
use crate::units::{Duration, Energy, Mass};

const OUTPUT: &str = "_carbontracker_output.log";
const STANDARD: &str = "_carbontracker.log";
const ERRORS: &str = "_carbontracker_err.log";

/// The run stem and kind of a carbontracker file name, if it is one.
fn split_name(path: &Path) -> Option<(&str, &'static str)> {
    let name = path.file_name()?.to_str()?;
    for suffix in [OUTPUT, ERRORS, STANDARD] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return Some((stem, suffix));
        }
    }
    None
}

/// Whether `path` is carbontracker's standard or error log (read through its output log).
pub fn is_companion(path: &Path) -> bool {
    matches!(split_name(path), Some((_, STANDARD | ERRORS)))
}

/// Whether the file is a carbontracker log, by name or content.
pub fn detect(path: &Path, text: &str) -> bool {
    split_name(path).is_some()
        || text.lines().take(50).any(|l| {
            l.starts_with("Actual consumption for ")
                || l.starts_with("Predicted consumption for ")
                || l.contains(" - carbontracker version ")
        })
}

/// One consumption block of the output log.
#[derive(Debug, Clone, Copy)]
struct Block {
    line: u64,
    epochs: Option<u64>,
    time: Option<Duration>,
    energy: Energy,
    co2_grams: f64,
}

fn problem(file: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::input(
        Problem::new(Location::line(file, line), message)
            .with_help("the log looks cut or edited; use the file carbontracker wrote"),
    )
}

/// `0:00:05` → seconds.
fn hms(text: &str) -> Option<Duration> {
    let mut parts = text.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let seconds =
        h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::seconds(seconds))
}

/// A tab-indented `Name:\t<number> <unit>` line.
fn value_line(file: &Path, line_no: u64, line: &str, name: &str, unit: &str) -> Result<f64, Error> {
    let rest = line.trim().strip_prefix(name).unwrap_or_default().trim();
    let Some(number) = rest.strip_suffix(unit).map(str::trim) else {
        return Err(problem(
            file,
            line_no,
            format!(
                "`{}` does not end in \"{unit}\": expected `{name} <number> {unit}`",
                line.trim()
            ),
        ));
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(problem(
            file,
            line_no,
            format!("`{}`: \"{number}\" is not a number of {unit}", line.trim()),
        )),
    }
}

/// The Predicted and Actual blocks of an output log.
fn blocks(file: &Path, text: &str) -> Result<(Option<Block>, Option<Block>), Error> {
    let lines: Vec<&str> = text.lines().collect();
    let mut predicted = None;
    let mut actual = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let kind = if line.starts_with("Predicted consumption for ") {
            Some(false)
        } else if line.starts_with("Actual consumption for ") {
            Some(true)
        } else {
            None
        };
        let Some(is_actual) = kind else {
            i += 1;
            continue;
        };
        let header_line = i as u64 + 1;
        let epochs = line
            .split_whitespace()
            .nth(3)
            .and_then(|n| n.parse::<u64>().ok());
        let (mut time, mut energy, mut co2) = (None, None, None);
        i += 1;
        while i < lines.len() && lines[i].starts_with('\t') {
            let l = lines[i].trim();
            let no = i as u64 + 1;
            if l.starts_with("Time:") {
                time = hms(l.trim_start_matches("Time:"));
            } else if l.starts_with("Energy:") {
                energy = Some(value_line(file, no, lines[i], "Energy:", "kWh")?);
            } else if l.starts_with("CO2eq:") {
                co2 = Some(value_line(file, no, lines[i], "CO2eq:", "g")?);
            }
            i += 1;
        }
        let (Some(energy), Some(co2)) = (energy, co2) else {
            return Err(problem(
                file,
                header_line,
                format!(
                    "the \"{}\" block has no complete {} line: the log was cut",
                    line.trim_end_matches(':'),
                    if energy.is_none() { "Energy" } else { "CO2eq" }
                ),
            ));
        };
        let block = Block {
            line: header_line,
            epochs,
            time,
            energy: Energy::kwh(energy),
            co2_grams: co2,
        };
        if is_actual {
            actual = Some(block);
        } else {
            predicted = Some(block);
        }
    }
    Ok((predicted, actual))
}

/// What the standard log says about the run.
#[derive(Debug, Default)]
struct Standard {
    version: Option<String>,
    pue: Option<f64>,
    epochs: u64,
    interrupted: Option<String>,
    devices: Vec<String>,
}

fn after_prefix(line: &str) -> &str {
    // `2026-11-28 18:38:35 - message`
    line.split_once(" - ").map_or(line, |(_, rest)| rest)
}

fn read_standard(text: &str) -> Standard {
    let mut s = Standard::default();
    for line in text.lines() {
        let msg = after_prefix(line).trim();
        if let Some(v) = msg.strip_prefix("carbontracker version ") {
            s.version = Some(v.trim().to_owned());
        } else if let Some(rest) = msg.split("PUE coefficient of ").nth(1) {
            s.pue = rest
                .split_whitespace()
                .next()
                .and_then(|p| p.trim_end_matches('.').parse().ok());
        } else if msg.starts_with("Epoch ") && msg.ends_with(':') {
            s.epochs += 1;
        } else if msg.starts_with("Training was interrupted") {
            s.interrupted = Some(msg.to_owned());
        } else if let Some(found) = msg.strip_prefix("The following components were found: ") {
            s.devices = found
                .split(';')
                .map(|d| d.trim().trim_end_matches('.').to_owned())
                .collect();
        }
    }
    s
}

/// The energy of each epoch that ran, from the standard log: the sum over components of
/// `Average power usage (W)` × the epoch's `Duration`, × the PUE the log states (carbontracker
/// applies it to its totals). Used to project a run still in progress (`check --predict`).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSeries {
    /// The standard log read.
    pub path: PathBuf,
    /// Per epoch: (duration in seconds, energy in kWh with PUE).
    pub epochs: Vec<(f64, f64)>,
    /// The PUE applied (1.0 when the log states none).
    pub pue: f64,
    /// Average grid intensity the log states, g/kWh, when it does.
    pub g_per_kwh: Option<f64>,
}

/// The epoch series of the run `file` (any of its three logs) belongs to, when its standard log
/// is there and records at least one epoch.
pub fn epoch_series(file: &Path) -> Option<EpochSeries> {
    let (stem, _) = split_name(file)?;
    let path = sibling(file, stem, STANDARD);
    let text = read_sibling(&path).ok()?;
    let standard = read_standard(&text);
    let pue = standard.pue.unwrap_or(1.0);
    let mut epochs: Vec<(f64, f64)> = Vec::new();
    let mut current: Option<(f64, f64)> = None;
    let mut g_per_kwh = None;
    for line in text.lines() {
        let msg = after_prefix(line).trim();
        if msg.starts_with("Epoch ") && msg.ends_with(':') {
            if let Some(e) = current.take() {
                epochs.push(e);
            }
            current = Some((0.0, 0.0));
        } else if let Some(d) = msg.strip_prefix("Duration:") {
            if let (Some(c), Some(d)) = (current.as_mut(), hms(d)) {
                c.0 = d.value();
            }
        } else if let Some(rest) = msg.strip_prefix("Average power usage (W) for ") {
            let watts = rest
                .split_once(':')
                .and_then(|(_, w)| w.trim().parse::<f64>().ok())
                .filter(|w| w.is_finite() && *w >= 0.0);
            if let (Some(c), Some(w)) = (current.as_mut(), watts) {
                c.1 += w;
            }
        } else if let Some(rest) = msg.strip_prefix("Average carbon intensity during training was ")
        {
            g_per_kwh = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok());
        }
    }
    if let Some(e) = current.take() {
        epochs.push(e);
    }
    let epochs: Vec<(f64, f64)> = epochs
        .into_iter()
        .map(|(secs, watts)| (secs, watts * secs / 3.6e6 * pue))
        .collect();
    (!epochs.is_empty()).then_some(EpochSeries {
        path,
        epochs,
        pue,
        g_per_kwh,
    })
}

/// Read another log of the run: a regular file of at most [`bounded::MAX_DOCUMENT`] bytes (a
/// FIFO or device put in its place is not opened).
fn read_sibling(path: &Path) -> Result<String, bounded::ReadError> {
    bounded::read_regular_text(path, bounded::MAX_DOCUMENT)
}

fn sibling(file: &Path, stem: &str, suffix: &str) -> PathBuf {
    file.with_file_name(format!("{stem}{suffix}"))
}

/// Read the run that `file` (any of its three logs) belongs to.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, Error> {
    let (stem, kind) = split_name(file).unwrap_or(("", OUTPUT));
    let (output_path, output_text) = if kind == OUTPUT || stem.is_empty() {
        (file.to_owned(), text.to_owned())
    } else {
        let path = sibling(file, stem, OUTPUT);
        let text = read_sibling(&path).map_err(|err| {
            Error::input(
                Problem::new(
                    Location::file(&path),
                    format!("cannot read the run's output log: {err}"),
                )
                .with_help("carbontracker writes the figures to *_carbontracker_output.log; keep the three files together"),
            )
        })?;
        (path, text)
    };
    let standard_path = if stem.is_empty() {
        None
    } else {
        Some(sibling(file, stem, STANDARD))
    };
    let standard = standard_path
        .as_ref()
        .and_then(|p| read_sibling(p).ok())
        .map(|t| read_standard(&t))
        .unwrap_or_default();
    let (predicted, actual) = blocks(&output_path, &output_text)?;
    let mut warnings = Vec::new();
    let (block, measured) = match (actual, predicted) {
        (Some(a), _) => (a, true),
        (None, Some(p)) => {
            warnings.push(Warning::at(
                codes::CARBONTRACKER_PREDICTED_ONLY,
                Location::line(&output_path, p.line),
                format!(
                    "no actual consumption (the process ended before carbontracker stopped; {} epoch(s) ran); counted carbontracker's prediction for {} epochs, an estimate for the whole planned run",
                    standard.epochs,
                    p.epochs.map_or("all".to_owned(), |e| e.to_string())
                ),
            ));
            (p, false)
        }
        (None, None) => {
            let reason = output_text
                .lines()
                .rev()
                .find(|l| l.contains("Error"))
                .map(|l| format!(" It says: {}", l.trim()))
                .unwrap_or_default();
            return Err(Error::input(
                Problem::new(
                    Location::file(&output_path),
                    format!("carbontracker recorded no consumption for this run.{reason}"),
                )
                .with_help("the tracker measured nothing (no supported component?); fix the run or leave this log out"),
            ));
        }
    };
    if measured && standard.epochs > 0 && block.epochs != Some(standard.epochs) {
        warnings.push(Warning::at(
            codes::CARBONTRACKER_EPOCHS,
            Location::line(&output_path, block.line),
            format!(
                "the actual consumption says {} epoch(s) but the standard log shows {} epochs ran{}; the figures cover the epochs that ran",
                block.epochs.map_or("?".to_owned(), |e| e.to_string()),
                standard.epochs,
                standard
                    .interrupted
                    .as_deref()
                    .map(|m| format!(" (\"{m}\")"))
                    .unwrap_or_default()
            ),
        ));
    }
    let mut record = RunRecord::new(
        Location::line(&output_path, block.line),
        Format::Carbontracker,
        if stem.is_empty() {
            output_path.display().to_string()
        } else {
            stem.to_owned()
        },
        Mass::grams(block.co2_grams),
    );
    record.energy = Some(block.energy);
    record.duration = block.time;
    record.tool_version = standard.version;
    record.pue = standard.pue;
    record.timestamp = output_text
        .lines()
        .next()
        .and_then(|l| l.split_once(" - "))
        .map(|(t, _)| t.to_owned());
    record.hardware = Hardware {
        cpu: standard
            .devices
            .iter()
            .find_map(|d| d.strip_prefix("CPU with device(s) ").map(str::to_owned)),
        gpu: standard
            .devices
            .iter()
            .find_map(|d| d.strip_prefix("GPU with device(s) ").map(str::to_owned)),
        gpu_count: None,
    };
    record.layout = format!(
        "carbontracker {} ({} consumption, {} epochs ran)",
        record.tool_version.as_deref().unwrap_or("?"),
        if measured { "actual" } else { "predicted" },
        standard.epochs
    );
    Ok(Parsed::one(record, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let p = Path::new("d/31438.763924_2026-11-28T183835Z_carbontracker_output.log");
        assert_eq!(
            split_name(p),
            Some(("31438.763924_2026-11-28T183835Z", OUTPUT))
        );
        assert!(is_companion(Path::new("d/1_x_carbontracker.log")));
        assert!(is_companion(Path::new("d/1_x_carbontracker_err.log")));
        assert!(!is_companion(p));
    }

    #[test]
    fn durations() {
        assert_eq!(hms("0:00:05"), Some(Duration::seconds(5.0)));
        assert_eq!(hms("1:02:03"), Some(Duration::seconds(3723.0)));
        assert_eq!(hms("5"), None);
    }

    #[test]
    fn a_cut_line_is_located() {
        let text = "x - CarbonTracker: \nActual consumption for 3 epoch(s):\n\tTime:\t0:00:05\n\tEnergy:\t0.000118515250 kWh\n\tCO2eq:\t0.0527";
        let err = blocks(Path::new("o.log"), text).unwrap_err().to_string();
        assert!(
            err.contains("o.log:5: `CO2eq:\\t0.0527` does not end in \"g\""),
            "{err}"
        );
        let text = "Actual consumption for 3 epoch(s):\n\tTime:\t0:00:05\n\tEner";
        let err = blocks(Path::new("o.log"), text).unwrap_err().to_string();
        assert!(err.contains("o.log:1: the \"Actual consumption for 3 epoch(s)\" block has no complete Energy line"), "{err}");
    }
}
