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

use crate::units::{Intensity, Mass, format_significant};

/// One forecast interval.
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

/// A location's forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The location as asked (`aws:eu-north-1`, `FR`, `CAISO_NORTH`…).
    pub location: String,
    /// What the source calls it, when different.
    pub source_location: Option<String>,
    /// The intervals, in time order.
    pub points: Vec<Point>,
    /// The signal: average or marginal, lifecycle or direct.
    pub signal: String,
    /// When the source generated it, as it says.
    pub generated_at: Option<String>,
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
    /// The forecast for `location` covering `[from, to)` as far as the source can.
    async fn forecast(
        &self,
        location: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Forecast, SourceError>;
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
    /// Locations that gave no forecast, with why.
    pub skipped: Vec<(String, String)>,
}

/// Mean intensity over `[start, start + seconds)`, if the forecast covers it.
pub fn window_mean(points: &[Point], start: OffsetDateTime, seconds: i64) -> Option<f64> {
    let end = start + time::Duration::seconds(seconds);
    let mut covered = 0i64;
    let mut weighted = 0.0;
    for p in points {
        let p_end = p.start + time::Duration::seconds(p.seconds);
        let a = p.start.max(start);
        let b = p_end.min(end);
        if b > a {
            let s = (b - a).whole_seconds();
            covered += s;
            weighted += p.g_per_kwh * s as f64;
        }
    }
    (covered == seconds && seconds > 0).then(|| weighted / seconds as f64)
}

/// The best start in one forecast: starts at interval boundaries (and `now` itself when it falls
/// inside one), between `now` and `deadline − duration`.
pub fn best_slot(
    f: &Forecast,
    job: &Job,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> Option<Slot> {
    let mut starts: Vec<OffsetDateTime> = f.points.iter().map(|p| p.start).collect();
    starts.push(now);
    starts.sort();
    starts.dedup();
    let last_start = deadline - time::Duration::seconds(job.seconds);
    let mut best: Option<Slot> = None;
    for s in starts.into_iter().filter(|s| *s >= now && *s <= last_start) {
        let Some(g) = window_mean(&f.points, s, job.seconds) else {
            continue;
        };
        let slot = Slot {
            location: f.location.clone(),
            start: s,
            end: s + time::Duration::seconds(job.seconds),
            g_per_kwh: g,
            co2e_kg: job.energy_kwh * g / 1000.0,
        };
        // Earliest wins ties.
        if best.as_ref().is_none_or(|b| slot.g_per_kwh < b.g_per_kwh) {
            best = Some(slot);
        }
    }
    best
}

/// Rank the locations' best slots.
pub fn plan(
    source: &str,
    forecasts: &[Forecast],
    skipped: Vec<(String, String)>,
    job: &Job,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> Plan {
    let mut best: Vec<Slot> = forecasts
        .iter()
        .filter_map(|f| best_slot(f, job, now, deadline))
        .collect();
    best.sort_by(|a, b| {
        a.g_per_kwh
            .total_cmp(&b.g_per_kwh)
            .then(a.start.cmp(&b.start))
    });
    let now_first = forecasts.first().and_then(|f| {
        window_mean(&f.points, now, job.seconds).map(|g| Slot {
            location: f.location.clone(),
            start: now,
            end: now + time::Duration::seconds(job.seconds),
            g_per_kwh: g,
            co2e_kg: job.energy_kwh * g / 1000.0,
        })
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

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
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
        out.push(format!("  {l}: skipped: {why}"));
    }
    for (l, signal) in &p.signals {
        out.push(format!("  signal for {l}: {signal}"));
    }
    out
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
}

/// A forecast cache file: forecasts by source, location and window, with when they were fetched.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    entries: Vec<CacheEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    key: String,
    #[serde(with = "time::serde::rfc3339")]
    fetched_at: OffsetDateTime,
    forecast: Forecast,
}

fn parse_instant(text: &str, flag: &str) -> Result<OffsetDateTime, crate::error::Error> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).map_err(
        |_| {
            crate::error::Error::Usage(format!(
                "{flag} `{text}` is not an RFC 3339 time: write e.g. 2026-11-29T18:00:00Z"
            ))
        },
    )
}

async fn fetch_all<S: Source>(
    source: &S,
    locations: &[String],
    from: OffsetDateTime,
    to: OffsetDateTime,
    cache: &mut Option<(std::path::PathBuf, Cache, i64)>,
) -> Result<(Vec<Forecast>, Vec<(String, String)>), crate::error::Error> {
    let mut forecasts = Vec::new();
    let mut skipped = Vec::new();
    let wall = OffsetDateTime::now_utc();
    for l in locations {
        let key = format!("{}|{l}|{}|{}", source.name(), rfc3339(from), rfc3339(to));
        if let Some((_, c, minutes)) = cache.as_ref()
            && let Some(e) = c
                .entries
                .iter()
                .find(|e| e.key == key && wall - e.fetched_at < time::Duration::minutes(*minutes))
        {
            forecasts.push(e.forecast.clone());
            continue;
        }
        match source.forecast(l, from, to).await {
            Ok(f) => {
                if let Some((_, c, _)) = cache.as_mut() {
                    c.entries.retain(|e| e.key != key);
                    c.entries.push(CacheEntry {
                        key,
                        fetched_at: wall,
                        forecast: f.clone(),
                    });
                }
                forecasts.push(f);
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

/// `carbon-gate schedule`.
pub fn command(
    args: &crate::cli::ScheduleArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::Outcome, crate::error::Error> {
    use crate::cli::IntensitySource as S;
    use crate::error::Error;
    let seconds = args.duration.value().round() as i64;
    if seconds <= 0 {
        return Err(Error::Usage("--duration must be positive".to_owned()));
    }
    let energy_kwh = match (args.energy, args.power) {
        (Some(e), _) => e.value(),
        (None, Some(p)) => (p * args.duration).value(),
        (None, None) => return Err(Error::Usage("give --energy or --power".to_owned())),
    };
    let now = match &args.now {
        Some(t) => parse_instant(t, "--now")?,
        None => OffsetDateTime::now_utc(),
    };
    let deadline = match &args.deadline {
        Some(t) => parse_instant(t, "--deadline")?,
        None => now + time::Duration::seconds(seconds),
    };
    if deadline < now + time::Duration::seconds(seconds) {
        return Err(Error::Usage(format!(
            "the deadline {} is before now + the job's duration",
            rfc3339(deadline)
        )));
    }
    let cache_path = args.cache.clone().or_else(|| {
        env("RUNNER_TEMP").map(|t| std::path::PathBuf::from(t).join("carbon-gate-forecasts.json"))
    });
    let mut cache = cache_path.map(|p| {
        let c = std::fs::read_to_string(&p)
            .ok()
            .and_then(|t| serde_json::from_str::<Cache>(&t).ok())
            .unwrap_or_default();
        (p, c, args.cache_minutes)
    });
    let retry = crate::http::Retry::from_env(env);
    let url = |default: &str| args.api_url.clone().unwrap_or_else(|| default.to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
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
                let (f, k) = fetch_all(&s, &args.locations, now, deadline, &mut cache).await?;
                Ok((s.name(), f, k))
            }
        }
    })?;
    if let Some((path, c, _)) = &cache
        && let Ok(text) = serde_json::to_string(c)
    {
        // A cache that cannot be written is not worth failing for.
        let _ = crate::outfile::replace(path, text.as_bytes());
    }
    if forecasts.is_empty() {
        return Err(Error::Service(format!(
            "{name} gave no forecast for any location: {}",
            skipped
                .iter()
                .map(|(l, why)| format!("{l}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
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
    let stdout = match args.format {
        crate::cli::ScheduleFormat::Json => {
            serde_json::to_string_pretty(&p).unwrap_or_default() + "\n"
        }
        crate::cli::ScheduleFormat::Table => lines(&p).join("\n") + "\n",
    };
    Ok(crate::Outcome {
        stdout: stdout.into_bytes(),
        stderr: Vec::new(),
        exit: crate::exit::Exit::Pass,
    })
}
