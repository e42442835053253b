//! Carbon-aware scheduling: given a job's energy and duration, candidate locations and a
//! deadline, the (location, start) with the lowest forecast emissions.
//!
//! Intensity sources sit behind one trait ([`Source`]): the embedded static averages (offline, the
//! default), the Green Software Foundation Carbon Aware SDK Web API, Electricity Maps and WattTime
//! v3 ([`sources`]). A forecast is a list of intervals with an intensity in g CO2e/kWh; a window's
//! intensity is the time-weighted mean of the intervals it overlaps, and its emissions are the
//! job's energy × that mean (the job's power is taken as constant). Only start times at interval
//! boundaries are tried (the forecast cannot say more), and a window must be covered by the
//! forecast entirely. The saving against starting now in the first location is *avoided*
//! emissions: reported beside, never subtracted from, any inventory figure.

pub mod sources;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::escape_text;
use crate::timestamp::rfc3339;
use crate::units::{Intensity, Mass, format_significant};

/// One forecast interval (valid: its intensity passed [`validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Length, seconds.
    pub seconds: i64,
    /// Intensity, g CO2e/kWh.
    pub g_per_kwh: f64,
}

/// A location's forecast, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The location as asked (`aws:eu-north-1`, `FR`, `CAISO_NORTH`…).
    pub location: String,
    /// What the source calls it, when different.
    pub source_location: Option<String>,
    /// The valid intervals, in time order, none overlapping; a refused point leaves a hole.
    pub points: Vec<Point>,
    /// The signal: average or marginal, lifecycle or direct.
    pub signal: String,
    /// When the source generated it, as it says.
    pub generated_at: Option<String>,
    /// Points refused (start, why): no window over them is considered.
    pub refused: Vec<(OffsetDateTime, String)>,
}

/// One point of an answer, as the source gave it (the intensity converted to g/kWh when it is a
/// number; anything else kept as it came, to be refused with what it was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawPoint {
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Length the source states for this point, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
    /// Intensity, g CO2e/kWh, as answered.
    #[serde(default)]
    pub g_per_kwh: serde_json::Value,
}

/// A source's answer for one location before validation: what the cache keeps, so that a
/// forecast read back is checked exactly like one just fetched ([`validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The location as asked.
    pub location: String,
    /// What the source calls it.
    #[serde(default)]
    pub source_location: Option<String>,
    /// The signal.
    pub signal: String,
    /// When the source generated it.
    #[serde(default)]
    pub generated_at: Option<String>,
    /// The resolution the source states, seconds (else: the smallest step between points).
    #[serde(default)]
    pub period: Option<i64>,
    /// The length of a point when nothing else says (a lone point).
    pub default_seconds: i64,
    /// The points, in any order.
    pub points: Vec<RawPoint>,
}

/// The highest intensity taken as real, g/kWh: about twice the dirtiest generation (lignite,
/// oil-fired peakers: 1,000–1,300 g/kWh over their life cycle, marginal signals included). A
/// forecast above it is corrupt (`1e308`), not dirty.
pub const MAX_G_PER_KWH: f64 = 2000.0;

/// Refused points listed per location; the rest are counted.
pub const MAX_REFUSED_LISTED: usize = 20;

/// An intensity as answered: the value, or why it is refused.
fn intensity(value: &serde_json::Value) -> Result<f64, String> {
    match value {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(v) if !v.is_finite() => Err("the intensity is not a finite number".to_owned()),
            Some(v) if v < 0.0 => Err(format!("{} is negative", Intensity::g_per_kwh(v))),
            Some(v) if v > MAX_G_PER_KWH => Err(format!(
                "{} is not a plausible intensity (more than {})",
                Intensity::g_per_kwh(v),
                Intensity::g_per_kwh(MAX_G_PER_KWH)
            )),
            Some(v) => Ok(v),
            None => Err(format!("`{n}` is not a number carbon-gate can read")),
        },
        serde_json::Value::Null => Err("no intensity (null)".to_owned()),
        other => {
            let text: String = other.to_string().chars().take(40).collect();
            Err(format!("`{text}` is not a number"))
        }
    }
}

/// `80 and 500 g/kWh`, `null and 80`: the values a time was given.
fn values_text(values: &[&serde_json::Value]) -> String {
    let numbers: Option<Vec<f64>> = values.iter().map(|v| v.as_f64()).collect();
    let parts: Vec<String> = match &numbers {
        Some(n) => n.iter().map(|v| format_significant(*v, 4)).collect(),
        None => values
            .iter()
            .map(|v| v.to_string().chars().take(40).collect())
            .collect(),
    };
    let mut text = match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    if numbers.is_some() {
        text.push_str(" g/kWh");
    }
    text
}

/// An answer checked point by point, the same for a fresh answer and a cached one:
///
/// - a point whose intensity is not a number, null, negative or above [`MAX_G_PER_KWH`] is
///   refused, and so is a time given different values; the same value twice counts once;
/// - a point lasts as long as the source says (the point's own length, else the source's
///   resolution, else the smallest step between its times), never past the next point; so a
///   refused or missing point leaves a hole that no window can cover.
pub fn validate(answer: Answer) -> Forecast {
    let mut raw = answer.points;
    raw.sort_by_cached_key(|p| nanos(p.start));
    // One entry per distinct time: its value, or why it is refused.
    let mut times: Vec<(OffsetDateTime, Option<i64>, Result<f64, String>)> =
        Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let mut j = i + 1;
        while j < raw.len() && raw[j].start == raw[i].start {
            j += 1;
        }
        let group = &raw[i..j];
        let mut distinct: Vec<&serde_json::Value> = Vec::new();
        for p in group {
            let same = |v: &&serde_json::Value| match (v.as_f64(), p.g_per_kwh.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => **v == p.g_per_kwh,
            };
            if !distinct.iter().any(same) {
                distinct.push(&p.g_per_kwh);
            }
        }
        let value = if distinct.len() > 1 {
            Err(format!(
                "the source gave it {} different values ({})",
                distinct.len(),
                values_text(&distinct)
            ))
        } else {
            intensity(&raw[i].g_per_kwh)
        };
        let seconds = group.iter().find_map(|p| p.seconds);
        times.push((raw[i].start, seconds, value));
        i = j;
    }
    let step = times
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).whole_seconds())
        .filter(|s| *s > 0)
        .min();
    let resolution = answer
        .period
        .filter(|s| *s > 0)
        .or(step)
        .unwrap_or(answer.default_seconds)
        .max(1);
    let mut points = Vec::with_capacity(times.len());
    let mut refused = Vec::new();
    for (k, (start, stated, value)) in times.iter().enumerate() {
        let mut seconds = stated.unwrap_or(resolution);
        if let Some((next, _, _)) = times.get(k + 1) {
            seconds = seconds.min((*next - *start).whole_seconds());
        }
        match value {
            Err(why) => refused.push((*start, why.clone())),
            Ok(_) if seconds <= 0 => refused.push((
                *start,
                format!(
                    "its length ({} s) is not positive",
                    stated.unwrap_or(seconds)
                ),
            )),
            Ok(_)
                if seconds as f64 > crate::record::MAX_RUN_DURATION_S
                    || start
                        .checked_add(time::Duration::seconds(seconds))
                        .is_none() =>
            {
                refused.push((*start, format!("its length ({seconds} s) is not plausible")))
            }
            Ok(g) => points.push(Point {
                start: *start,
                seconds,
                g_per_kwh: *g,
            }),
        }
    }
    Forecast {
        location: answer.location,
        source_location: answer.source_location,
        points,
        signal: answer.signal,
        generated_at: answer.generated_at,
        refused,
    }
}

/// Why a source gave no forecast.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceError {
    /// Missing or refused credentials (exit 3, or 2 when missing).
    Auth(String),
    /// The location is unknown to the source (bad input).
    Location(String),
    /// Unreachable, failing, rate-limited after retries, or an answer of the wrong shape.
    Service(String),
    /// The source answered with no data for the location and window.
    Empty(String),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Auth(m)
            | SourceError::Location(m)
            | SourceError::Service(m)
            | SourceError::Empty(m) => f.write_str(m),
        }
    }
}

/// An intensity source.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Its name, for reports.
    fn name(&self) -> &'static str;
    /// What distinguishes its answers in the cache besides the location: the name, the API's
    /// address, the signal asked for.
    fn cache_key(&self) -> String {
        self.name().to_owned()
    }
    /// The secrets it holds (a key, a token obtained at login), redacted from every text shown.
    fn secrets(&self) -> crate::http::Secrets {
        crate::http::Secrets::new()
    }
    /// The answer for the asked location covering `[from, to)` as far as the source can.
    async fn forecast(&self, ask: Ask<'_>) -> Result<Answer, SourceError>;
}

/// What a source is asked: one location over one window.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// A country, zone, grid region or `provider:region`, as the source names them.
    pub location: &'a str,
    /// The window's start.
    pub from: OffsetDateTime,
    /// The window's end (exclusive).
    pub to: OffsetDateTime,
}

/// The job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Job {
    /// Energy, kWh.
    pub energy_kwh: f64,
    /// Duration, seconds.
    pub seconds: i64,
}

/// One evaluated start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    /// Location.
    pub location: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// End.
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    /// Mean intensity over the window, g/kWh.
    pub g_per_kwh: f64,
    /// Emissions of the job in this window, kg.
    pub co2e_kg: f64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Source used.
    pub source: String,
    /// Energy of the job, kWh.
    pub energy_kwh: f64,
    /// Duration, seconds.
    pub seconds: i64,
    /// Earliest start considered.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    /// Latest end allowed.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// The best start per location, best first.
    pub best_per_location: Vec<Slot>,
    /// Starting now in the first location (the reference the saving is against), if covered.
    pub now_first: Option<Slot>,
    /// Avoided emissions of the best slot vs `now_first`, kg (hypothetical; never subtracted).
    pub avoided_kg: Option<f64>,
    /// Signals per location, as the source names them.
    pub signals: Vec<(String, String)>,
    /// What was left out, with why: locations that gave no forecast or no usable window, and
    /// every refused forecast point.
    pub skipped: Vec<(String, String)>,
}

/// Windows over one forecast's points: times as integer nanoseconds (cheap to compare), the
/// points' cumulative integral (g/kWh × s) and contiguous runs (a hole starts a new run). A
/// window is found by binary search ([`Windows::mean`]) or, for starts in time order, by two
/// cursors that only move forward ([`Windows::scan`]): linear in the points.
pub struct Windows {
    start: Vec<i128>,
    end: Vec<i128>,
    g: Vec<f64>,
    /// Integral before each point, from its run's start, g/kWh × s.
    before: Vec<f64>,
    /// Run of each point.
    run: Vec<usize>,
}

/// A window over at most this many points is summed directly (exactly as one would by hand);
/// a longer one from the cumulative integral.
const DIRECT_SUM_POINTS: usize = 64;

fn end_of(p: &Point) -> OffsetDateTime {
    p.start + time::Duration::seconds(p.seconds)
}

fn nanos(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos()
}

const NANOS: i128 = 1_000_000_000;

impl Windows {
    /// Over `points` (in time order, none overlapping, as [`validate`] makes them).
    pub fn new(points: &[Point]) -> Windows {
        let n = points.len();
        let mut w = Windows {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            g: Vec::with_capacity(n),
            before: Vec::with_capacity(n),
            run: Vec::with_capacity(n),
        };
        let (mut sum, mut id) = (0.0, 0);
        for p in points {
            let start = nanos(p.start);
            if w.end.last().is_some_and(|e| *e != start) {
                id += 1;
                sum = 0.0;
            }
            w.start.push(start);
            w.end.push(start + i128::from(p.seconds) * NANOS);
            w.g.push(p.g_per_kwh);
            w.before.push(sum);
            w.run.push(id);
            sum += p.g_per_kwh * p.seconds as f64;
        }
        w
    }

    /// Mean intensity over `[start, start + seconds)`, if valid points cover all of it.
    pub fn mean(&self, start: OffsetDateTime, seconds: i64) -> Option<f64> {
        let (a, b) = (nanos(start), nanos(start) + i128::from(seconds) * NANOS);
        let i = self.start.partition_point(|s| *s <= a).checked_sub(1)?;
        let j = self.start.partition_point(|s| *s < b).checked_sub(1)?;
        self.mean_in(i, j, a, b)
    }

    /// The mean over each window `[s, s + seconds)` for `starts` in time order.
    pub fn scan(
        &self,
        starts: impl Iterator<Item = OffsetDateTime>,
        seconds: i64,
    ) -> impl Iterator<Item = (OffsetDateTime, Option<f64>)> {
        let (mut i, mut j) = (0usize, 0usize);
        let n = self.start.len();
        starts.map(move |s| {
            let (a, b) = (nanos(s), nanos(s) + i128::from(seconds) * NANOS);
            // i: the last point starting at or before a; j: the last one starting before b.
            while i + 1 < n && self.start[i + 1] <= a {
                i += 1;
            }
            j = j.max(i);
            while j + 1 < n && self.start[j + 1] < b {
                j += 1;
            }
            let covered = n > 0 && self.start[i] <= a && self.start[j] < b;
            (s, covered.then(|| self.mean_in(i, j, a, b)).flatten())
        })
    }

    /// The mean over `[a, b)` (nanoseconds), `i` and `j` the points holding its ends.
    fn mean_in(&self, i: usize, j: usize, a: i128, b: i128) -> Option<f64> {
        if b <= a || self.end[i] <= a || self.end[j] < b || self.run[i] != self.run[j] {
            return None;
        }
        let part = |k: usize, from: i128, to: i128| self.g[k] * ((to - from) as f64 / 1e9);
        let weighted = if j - i <= DIRECT_SUM_POINTS {
            (i..=j)
                .map(|k| part(k, self.start[k].max(a), self.end[k].min(b)))
                .sum::<f64>()
        } else {
            let at = |k: usize, t: i128| self.before[k] + part(k, self.start[k], t);
            at(j, b) - at(i, a)
        };
        Some(weighted / ((b - a) as f64 / 1e9))
    }
}

/// Mean intensity over `[start, start + seconds)`, if the forecast covers it.
pub fn window_mean(points: &[Point], start: OffsetDateTime, seconds: i64) -> Option<f64> {
    Windows::new(points).mean(start, seconds)
}

fn slot(f: &Forecast, job: &Job, start: OffsetDateTime, g: f64) -> Slot {
    Slot {
        location: f.location.clone(),
        start,
        end: start + time::Duration::seconds(job.seconds),
        g_per_kwh: g,
        co2e_kg: job.energy_kwh * g / 1000.0,
    }
}

/// The best start in one forecast: starts at interval boundaries (and `now` itself when it falls
/// inside one), between `now` and `deadline − duration`. Earliest wins ties. Linear in the
/// points.
pub fn best_slot(
    f: &Forecast,
    job: &Job,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> Option<Slot> {
    let windows = Windows::new(&f.points);
    let last_start = deadline - time::Duration::seconds(job.seconds);
    let (now_ns, last_ns) = (nanos(now), nanos(last_start));
    let later = f.points.iter().map(|p| p.start).filter(|s| {
        let t = nanos(*s);
        t > now_ns && t <= last_ns
    });
    let starts = std::iter::once(now)
        .filter(|_| now_ns <= last_ns)
        .chain(later);
    let mut best: Option<(OffsetDateTime, f64)> = None;
    for (s, g) in windows.scan(starts, job.seconds) {
        if let Some(g) = g
            && best.is_none_or(|(_, b)| g < b)
        {
            best = Some((s, g));
        }
    }
    best.map(|(s, g)| slot(f, job, s, g))
}

/// Why a forecast gave no window: it lies outside `[now, deadline)`, or holes (refused or
/// missing points) leave no window of the job's length covered.
fn no_window(f: &Forecast, job: &Job, now: OffsetDateTime, deadline: OffsetDateTime) -> String {
    let span = f
        .points
        .first()
        .zip(f.points.last())
        .map(|(a, b)| (a.start, end_of(b)));
    match span {
        Some((a, b)) if b <= now || a >= deadline => format!(
            "its forecast ({} to {}) lies outside the window ({} to {})",
            rfc3339(a),
            rfc3339(b),
            rfc3339(now),
            rfc3339(deadline)
        ),
        _ => format!(
            "no {} window from {} to {} is covered by valid forecast points",
            crate::units::Duration::seconds(job.seconds as f64),
            rfc3339(now),
            rfc3339(deadline)
        ),
    }
}

/// Rank the locations' best slots. Every refused point, and every location without a usable
/// window, is added to `skipped` with why.
pub fn plan(
    source: &str,
    forecasts: &[Forecast],
    mut skipped: Vec<(String, String)>,
    job: &Job,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> Plan {
    let mut best = Vec::new();
    for f in forecasts {
        for (t, why) in f.refused.iter().take(MAX_REFUSED_LISTED) {
            skipped.push((
                f.location.clone(),
                format!("forecast point {} refused: {why}", rfc3339(*t)),
            ));
        }
        if f.refused.len() > MAX_REFUSED_LISTED {
            skipped.push((
                f.location.clone(),
                format!(
                    "{} more forecast points refused",
                    f.refused.len() - MAX_REFUSED_LISTED
                ),
            ));
        }
        match best_slot(f, job, now, deadline) {
            Some(s) => best.push(s),
            None => skipped.push((f.location.clone(), no_window(f, job, now, deadline))),
        }
    }
    best.sort_by(|a, b| {
        a.g_per_kwh
            .total_cmp(&b.g_per_kwh)
            .then(a.start.cmp(&b.start))
    });
    let now_first = forecasts.first().and_then(|f| {
        Windows::new(&f.points)
            .mean(now, job.seconds)
            .map(|g| slot(f, job, now, g))
    });
    let avoided_kg = match (&now_first, best.first()) {
        (Some(n), Some(b)) => Some(n.co2e_kg - b.co2e_kg),
        _ => None,
    };
    Plan {
        source: source.to_owned(),
        energy_kwh: job.energy_kwh,
        seconds: job.seconds,
        now,
        deadline,
        best_per_location: best,
        now_first,
        avoided_kg,
        signals: forecasts
            .iter()
            .map(|f| (f.location.clone(), f.signal.clone()))
            .collect(),
        skipped,
    }
}

/// The plan as text lines.
pub fn lines(p: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    match p.best_per_location.first() {
        Some(b) => out.push(format!(
            "Best: {} starting {} (until {}): {} at {} for {} of energy (source: {})",
            b.location,
            rfc3339(b.start),
            rfc3339(b.end),
            Mass::kg(b.co2e_kg),
            Intensity::g_per_kwh(b.g_per_kwh),
            crate::units::Energy::kwh(p.energy_kwh),
            p.source
        )),
        None => out.push(format!(
            "No window of {} fits before {} in the forecasts",
            crate::units::Duration::seconds(p.seconds as f64),
            rfc3339(p.deadline)
        )),
    }
    if let (Some(n), Some(a)) = (&p.now_first, p.avoided_kg) {
        out.push(format!(
            "Starting now in {} would emit {} ({}); the best choice avoids {} ({}%) — avoided emissions, reported separately",
            n.location,
            Mass::kg(n.co2e_kg),
            Intensity::g_per_kwh(n.g_per_kwh),
            Mass::kg(a),
            if n.co2e_kg > 0.0 {
                format_significant(a / n.co2e_kg * 100.0, 3)
            } else {
                "0".to_owned()
            }
        ));
    }
    for s in p.best_per_location.iter().skip(1) {
        out.push(format!(
            "  {}: best start {}: {} at {}",
            s.location,
            rfc3339(s.start),
            Mass::kg(s.co2e_kg),
            Intensity::g_per_kwh(s.g_per_kwh)
        ));
    }
    for (l, why) in &p.skipped {
        out.push(format!(
            "  {}: skipped: {}",
            escape_text(l),
            escape_text(why)
        ));
    }
    for (l, signal) in &p.signals {
        out.push(format!(
            "  signal for {}: {}",
            escape_text(l),
            escape_text(signal)
        ));
    }
    out
}

/// How long a cache entry may be reused at most (`--cache-minutes`), minutes: a week.
pub const MAX_CACHE_MINUTES: i64 = 7 * 24 * 60;

/// Entries a cache file keeps at most (the newest).
const MAX_CACHE_ENTRIES: usize = 256;

/// A forecast cache file: answers by source and location, with the window asked and when they
/// were fetched. Read back, every entry is checked as the API's answer is ([`validate`]).
#[derive(Debug, Default, Serialize)]
struct Cache {
    entries: Vec<CacheEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    key: String,
    #[serde(with = "time::serde::rfc3339")]
    fetched_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    forecast: Answer,
}

/// The cache at `path`: nothing when there is no file, or a symbolic link there (never followed;
/// the write replaces it). A file that is not a forecast cache is refused (exit 2) rather than
/// overwritten; entries of another shape are dropped.
fn read_cache(path: &std::path::Path) -> Result<Cache, crate::error::Error> {
    use crate::error::{Error, display_path};
    use std::io::Read as _;
    let refuse = |why: String| {
        Error::Usage(format!(
            "cannot use the forecast cache {}: {why}",
            display_path(path)
        ))
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cache::default()),
        Err(e) => return Err(refuse(e.to_string())),
    };
    if meta.file_type().is_symlink() {
        return Ok(Cache::default());
    }
    if !meta.is_file() {
        return Err(refuse(
            "it is not a regular file: name a file with --cache".to_owned(),
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // It was no link when looked at; it must not have become one since.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let cap = crate::ingest::bounded::MAX_DOCUMENT;
    let mut bytes = Vec::new();
    options
        .open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(|e| refuse(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(refuse(format!(
            "larger than the {} limit",
            crate::ingest::bounded::bytes_text(cap)
        )));
    }
    let not_cache = |why: String| {
        refuse(format!(
            "it is not a carbon-gate forecast cache ({why}); name another file with --cache, or delete this one"
        ))
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| not_cache(format!("not JSON: {e}")))?;
    let Some(entries) = value.get("entries").and_then(|e| e.as_array()) else {
        return Err(not_cache("no `entries` list".to_owned()));
    };
    Ok(Cache {
        entries: entries
            .iter()
            .filter_map(|e| serde_json::from_value::<CacheEntry>(e.clone()).ok())
            .collect(),
    })
}

fn parse_instant(text: &str, flag: &str) -> Result<OffsetDateTime, crate::error::Error> {
    crate::timestamp::parse_rfc3339(text).ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "{flag} `{text}` is not an RFC 3339 time: write e.g. 2026-11-29T18:00:00Z"
        ))
    })
}

/// The cache in use: the file, its entries, how long they last.
struct CacheUse {
    path: std::path::PathBuf,
    cache: Cache,
    minutes: i64,
}

impl CacheUse {
    /// An entry usable now: same source and location, fetched at most `minutes` ago and not in
    /// the future, for a window containing `[from, to)`.
    fn find(
        &self,
        key: &str,
        wall: OffsetDateTime,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Option<&CacheEntry> {
        self.cache.entries.iter().rev().find(|e| {
            e.key == key
                && e.fetched_at <= wall
                && wall - e.fetched_at < time::Duration::minutes(self.minutes)
                && e.from <= from
                && e.to >= to
        })
    }

    /// Keep the entries still usable at `wall` (none from the future), the newest
    /// [`MAX_CACHE_ENTRIES`].
    fn prune(&mut self, wall: OffsetDateTime) {
        let minutes = time::Duration::minutes(self.minutes);
        self.cache
            .entries
            .retain(|e| e.fetched_at <= wall && wall - e.fetched_at < minutes);
        let extra = self.cache.entries.len().saturating_sub(MAX_CACHE_ENTRIES);
        self.cache.entries.drain(..extra);
    }
}

async fn fetch_all<S: Source>(
    source: &S,
    locations: &[String],
    from: OffsetDateTime,
    to: OffsetDateTime,
    cache: &mut Option<CacheUse>,
) -> Result<(Vec<Forecast>, Vec<(String, String)>), crate::error::Error> {
    let mut forecasts = Vec::new();
    let mut skipped = Vec::new();
    let wall = OffsetDateTime::now_utc();
    // Not the window: it moves with the clock (`--now` defaults to the current time), and a
    // cached answer serves any window inside the one it was asked for.
    let prefix = source.cache_key();
    for l in locations {
        let key = format!("{prefix}|{l}");
        if let Some(c) = cache.as_ref()
            && let Some(e) = c.find(&key, wall, from, to)
            && e.forecast.location == *l
        {
            forecasts.push(validate(e.forecast.clone()));
            continue;
        }
        match source
            .forecast(Ask {
                location: l,
                from,
                to,
            })
            .await
        {
            Ok(answer) => {
                if let Some(c) = cache.as_mut() {
                    c.cache.entries.retain(|e| e.key != key);
                    c.cache.entries.push(CacheEntry {
                        key,
                        fetched_at: wall,
                        from,
                        to,
                        forecast: answer.clone(),
                    });
                }
                forecasts.push(validate(answer));
            }
            Err(SourceError::Empty(why)) => skipped.push((l.clone(), why)),
            Err(SourceError::Location(why)) => {
                return Err(crate::error::Error::Usage(why));
            }
            Err(SourceError::Auth(why) | SourceError::Service(why)) => {
                return Err(crate::error::Error::Service(why));
            }
        }
    }
    Ok((forecasts, skipped))
}

/// `error` with every secret redacted.
fn redact_error(error: crate::error::Error, secrets: &crate::http::Secrets) -> crate::error::Error {
    use crate::error::Error;
    match error {
        Error::Usage(m) => Error::Usage(secrets.redact(&m)),
        Error::Service(m) => Error::Service(secrets.redact(&m)),
        other => other,
    }
}

/// Where forecast intensities come from (`--source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    /// The embedded annual averages (offline, no key).
    #[default]
    Static,
    /// The GSF Carbon Aware SDK Web API (`api_url` of your deployment).
    CarbonAwareSdk,
    /// Electricity Maps (`ELECTRICITY_MAPS_API_KEY`).
    ElectricityMaps,
    /// WattTime v3 (`WATTTIME_TOKEN`, or `WATTTIME_USERNAME` and `WATTTIME_PASSWORD`).
    Watttime,
}

/// What to schedule and where to look (the `schedule` command's arguments, checked here).
#[derive(Debug, Clone)]
pub struct Options {
    /// Candidate locations.
    pub locations: Vec<String>,
    /// The job's energy, or `power`.
    pub energy: Option<crate::units::Energy>,
    /// The job's average power draw (energy = power × duration).
    pub power: Option<crate::units::Power>,
    /// How long the job runs.
    pub duration: crate::units::Duration,
    /// The job must end by then (RFC 3339 text; default: now + duration).
    pub deadline: Option<String>,
    /// Earliest start (RFC 3339 text; default: now).
    pub now: Option<String>,
    /// The intensity source.
    pub source: SourceKind,
    /// The source's API root.
    pub api_url: Option<String>,
    /// WattTime signal type.
    pub signal_type: String,
    /// The forecast cache file (default with `RUNNER_TEMP`: in it).
    pub cache: Option<std::path::PathBuf>,
    /// How long cached forecasts are reused, in minutes.
    pub cache_minutes: i64,
}

/// A plan, with the secrets its text must not show.
#[derive(Debug)]
pub struct Recommendation {
    /// The plan.
    pub plan: Plan,
    secrets: crate::http::Secrets,
}

/// The plan as pretty JSON and a newline, every secret redacted.
impl crate::render::Render<Recommendation> for crate::render::Json {
    fn render(&self, r: &Recommendation, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(&r.plan).map_err(std::io::Error::other)?;
        out.write_all(r.secrets.redact(&(json + "\n")).as_bytes())
    }
}

/// The plan as sentences ([`lines`]), every secret redacted.
impl crate::render::Render<Recommendation> for crate::render::Table {
    fn render(&self, r: &Recommendation, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(
            r.secrets
                .redact(&(lines(&r.plan).join("\n") + "\n"))
                .as_bytes(),
        )
    }
}

/// `carbon-gate schedule`: the plan for `args`, errors with every secret redacted.
pub fn recommend(
    args: &Options,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Recommendation, crate::error::Error> {
    // Every secret configured, by value: none may appear in what is shown, whatever a server
    // echoes. The token a login hands out is added when known.
    let mut secrets = crate::http::Secrets::new();
    for k in [
        "ELECTRICITY_MAPS_API_KEY",
        "WATTTIME_TOKEN",
        "WATTTIME_PASSWORD",
    ] {
        if let Some(v) = env(k) {
            secrets.add(&v);
        }
    }
    if let (Some(u), Some(p)) = (env("WATTTIME_USERNAME"), env("WATTTIME_PASSWORD")) {
        secrets.add_basic(&u, &p);
    }
    let plan = run(args, env, &mut secrets).map_err(|e| redact_error(e, &secrets))?;
    Ok(Recommendation { plan, secrets })
}

fn run(
    args: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut crate::http::Secrets,
) -> Result<Plan, crate::error::Error> {
    use crate::error::Error;
    use SourceKind as S;
    let seconds = args.duration.value().round() as i64;
    if seconds <= 0 {
        return Err(Error::Usage("--duration must be positive".to_owned()));
    }
    if args.duration.value() > crate::record::MAX_RUN_DURATION_S {
        return Err(Error::Usage(format!(
            "--duration {} is not plausible for one job (more than about 100 years)",
            args.duration
        )));
    }
    let energy_kwh = match (args.energy, args.power) {
        (Some(e), _) => e.value(),
        (None, Some(p)) => (p * args.duration).value(),
        (None, None) => return Err(Error::Usage("give --energy or --power".to_owned())),
    };
    if !(0.0..=crate::record::MAX_RUN_ENERGY_KWH).contains(&energy_kwh) {
        return Err(Error::Usage(format!(
            "the job's energy ({}) is not plausible: give between 0 and {:e} kWh",
            crate::units::Energy::kwh(energy_kwh),
            crate::record::MAX_RUN_ENERGY_KWH
        )));
    }
    if !(0..=MAX_CACHE_MINUTES).contains(&args.cache_minutes) {
        return Err(Error::Usage(format!(
            "--cache-minutes {} is out of range: give 0 to {MAX_CACHE_MINUTES} (a week)",
            args.cache_minutes
        )));
    }
    let now = match &args.now {
        Some(t) => parse_instant(t, "--now")?,
        // To the second: a plan is read by people, and no source is finer than a minute.
        None => {
            let now = OffsetDateTime::now_utc();
            now.replace_nanosecond(0).unwrap_or(now)
        }
    };
    let earliest_end = now
        .checked_add(time::Duration::seconds(seconds))
        .ok_or_else(|| {
            Error::Usage(format!(
                "--now {} + --duration {} is past the year 9999",
                rfc3339(now),
                args.duration
            ))
        })?;
    let deadline = match &args.deadline {
        Some(t) => parse_instant(t, "--deadline")?,
        None => earliest_end,
    };
    if deadline < earliest_end {
        return Err(Error::Usage(format!(
            "the deadline {} is before now + the job's duration",
            rfc3339(deadline)
        )));
    }
    let cache_path = args.cache.clone().or_else(|| {
        env("RUNNER_TEMP").map(|t| std::path::PathBuf::from(t).join("carbon-gate-forecasts.json"))
    });
    let mut cache = match cache_path {
        Some(path) if !matches!(args.source, S::Static) => Some(CacheUse {
            cache: read_cache(&path)?,
            path,
            minutes: args.cache_minutes,
        }),
        _ => None,
    };
    let retry = crate::http::Retry::from_env(env);
    let url = |default: &str| args.api_url.clone().unwrap_or_else(|| default.to_owned());
    let runtime = crate::http::runtime()
        .map_err(|e| Error::Service(format!("cannot start the HTTP runtime: {e}")))?;
    let svc = |e: SourceError| match e {
        SourceError::Location(m) => Error::Usage(m),
        other => Error::Service(other.to_string()),
    };
    let (name, forecasts, skipped) = runtime.block_on(async {
        match args.source {
            S::Static => {
                let s = sources::Static::new()?;
                let (f, k) = fetch_all(&s, &args.locations, now, deadline, &mut None).await?;
                Ok::<_, Error>((s.name(), f, k))
            }
            S::CarbonAwareSdk => {
                let base = args.api_url.clone().ok_or_else(|| {
                    Error::Usage(
                        "--source carbon-aware-sdk needs --api-url: the address of your Carbon Aware SDK Web API deployment".to_owned(),
                    )
                })?;
                let s = sources::CarbonAwareSdk::new(&base, retry).map_err(svc)?;
                let (f, k) = fetch_all(&s, &args.locations, now, deadline, &mut cache).await?;
                Ok((s.name(), f, k))
            }
            S::ElectricityMaps => {
                let key = env("ELECTRICITY_MAPS_API_KEY").ok_or_else(|| {
                    Error::Usage(
                        "--source electricity-maps needs ELECTRICITY_MAPS_API_KEY".to_owned(),
                    )
                })?;
                let s = sources::ElectricityMaps::new(
                    &url("https://api.electricitymap.org/v3"),
                    &key,
                    retry,
                )
                .map_err(svc)?;
                let (f, k) = fetch_all(&s, &args.locations, now, deadline, &mut cache).await?;
                Ok((s.name(), f, k))
            }
            S::Watttime => {
                let base = url("https://api.watttime.org");
                let login = format!("{}/login", base.trim_end_matches('/'));
                let user = match (env("WATTTIME_USERNAME"), env("WATTTIME_PASSWORD")) {
                    (Some(u), Some(p)) => Some((u, p)),
                    _ => None,
                };
                let s = sources::WattTime::connect(
                    &base,
                    &login,
                    env("WATTTIME_TOKEN"),
                    user,
                    &args.signal_type,
                    retry,
                )
                .await
                .map_err(|e| match e {
                    SourceError::Auth(m) if env("WATTTIME_TOKEN").is_none() && env("WATTTIME_USERNAME").is_none() => Error::Usage(m),
                    other => svc(other),
                })?;
                secrets.extend(&s.secrets());
                let (f, k) = fetch_all(&s, &args.locations, now, deadline, &mut cache).await?;
                Ok((s.name(), f, k))
            }
        }
    })?;
    if let Some(c) = &mut cache {
        c.prune(OffsetDateTime::now_utc());
        if let Ok(text) = serde_json::to_string(&c.cache) {
            // Like every output: atomic, a link at the path replaced, never written through. A
            // cache that cannot be written is not worth failing for.
            let _ = crate::outfile::replace(&c.path, text.as_bytes());
        }
    }
    let reasons = |skipped: &[(String, String)]| {
        skipped
            .iter()
            .map(|(l, why)| format!("{l}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if forecasts.is_empty() {
        return Err(Error::Service(format!(
            "{name} gave no forecast for any location: {}",
            reasons(&skipped)
        )));
    }
    let p = plan(
        name,
        &forecasts,
        skipped,
        &Job {
            energy_kwh,
            seconds,
        },
        now,
        deadline,
    );
    if p.best_per_location.is_empty() {
        // Fail closed: no recommendation rather than one from data that is not there.
        return Err(Error::Service(format!(
            "{name} gave no usable window for any location: {}",
            reasons(&p.skipped)
        )));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn hourly(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                start: datetime!(2026-11-28 00:00 UTC) + time::Duration::hours(i as i64),
                seconds: 3600,
                g_per_kwh: *v,
            })
            .collect()
    }

    #[test]
    fn windows_are_time_weighted_and_must_be_covered() {
        let p = hourly(&[100.0, 200.0, 300.0]);
        let t0 = datetime!(2026-11-28 00:00 UTC);
        assert_eq!(window_mean(&p, t0, 7200), Some(150.0));
        assert_eq!(
            window_mean(&p, t0 + time::Duration::minutes(30), 3600),
            Some(150.0)
        );
        assert_eq!(window_mean(&p, t0 + time::Duration::hours(2), 7200), None);
    }

    #[test]
    fn the_best_slot_respects_now_and_the_deadline() {
        let f = Forecast {
            location: "x".into(),
            source_location: None,
            points: hourly(&[300.0, 100.0, 50.0, 400.0]),
            signal: "test".into(),
            generated_at: None,
            refused: Vec::new(),
        };
        let job = Job {
            energy_kwh: 10.0,
            seconds: 7200,
        };
        let t0 = datetime!(2026-11-28 00:00 UTC);
        let b = best_slot(&f, &job, t0, t0 + time::Duration::hours(4)).unwrap();
        assert_eq!(b.start, t0 + time::Duration::hours(1));
        assert_eq!(b.g_per_kwh, 75.0);
        assert_eq!(b.co2e_kg, 0.75);
        // A deadline at 02:00 leaves only the start at 00:00.
        let b = best_slot(&f, &job, t0, t0 + time::Duration::hours(2)).unwrap();
        assert_eq!(b.start, t0);
        assert_eq!(b.g_per_kwh, 200.0);
    }

    fn answer(points: Vec<(OffsetDateTime, serde_json::Value)>) -> Answer {
        Answer {
            location: "x".into(),
            source_location: None,
            signal: "test".into(),
            generated_at: None,
            period: None,
            default_seconds: 3600,
            points: points
                .into_iter()
                .map(|(start, g)| RawPoint {
                    start,
                    seconds: None,
                    g_per_kwh: g,
                })
                .collect(),
        }
    }

    #[test]
    fn refused_points_leave_holes_and_say_why() {
        let t = |h: i64| datetime!(2026-11-28 00:00 UTC) + time::Duration::hours(h);
        let f = validate(answer(vec![
            (t(3), serde_json::json!("NaN")),
            (t(0), serde_json::json!(100)),
            (t(1), serde_json::json!(-0.5)),
            (t(2), serde_json::json!({"v": 1})),
            (t(4), serde_json::json!(100)),
            (t(4), serde_json::json!(100.0)),
            (t(6), serde_json::json!(200)),
        ]));
        let why: Vec<&str> = f.refused.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(
            why,
            [
                "-0.5 g/kWh is negative",
                "`{\"v\":1}` is not a number",
                "`\"NaN\"` is not a number"
            ]
        );
        // 04:00 (the same value twice) counts once; 05:00 is missing: a hole, not bridged.
        let spans: Vec<(OffsetDateTime, i64)> =
            f.points.iter().map(|p| (p.start, p.seconds)).collect();
        assert_eq!(spans, [(t(0), 3600), (t(4), 3600), (t(6), 3600)]);
        let w = Windows::new(&f.points);
        assert_eq!(w.mean(t(0), 3600), Some(100.0));
        assert_eq!(w.mean(t(0), 7200), None);
        assert_eq!(w.mean(t(4), 7200), None);
    }

    #[test]
    fn long_windows_and_short_ones_agree() {
        let values: Vec<f64> = (0..500).map(|i| f64::from(i % 37) * 0.453_592_37).collect();
        let points = hourly(&values);
        let w = Windows::new(&points);
        let t0 = datetime!(2026-11-28 00:00 UTC);
        for (start_h, hours) in [(3, 2), (10, 100), (0, 500), (7, 300)] {
            let direct: f64 = values[start_h..start_h + hours].iter().sum::<f64>() / hours as f64;
            let got = w
                .mean(
                    t0 + time::Duration::hours(start_h as i64),
                    hours as i64 * 3600,
                )
                .unwrap();
            assert!(
                (got - direct).abs() <= 1e-12 * direct.max(1.0),
                "{got} {direct}"
            );
        }
        assert_eq!(w.mean(t0, 501 * 3600), None);
        // The forward scan finds what the binary search finds, holes included.
        let mut holed = points.clone();
        holed.remove(250);
        let w = Windows::new(&holed);
        let starts = (-2..520).map(|m| t0 + time::Duration::minutes(m * 59));
        for (s, got) in w.scan(starts, 7 * 3600) {
            assert_eq!(got, w.mean(s, 7 * 3600), "{s}");
        }
    }
}
