//! The intensity sources. Response shapes follow each API's documentation and, where the docs
//! and the code disagree, accept both (`docs/scheduling.md` lists the differences).
//!
//! - [`Static`]: the embedded annual averages (location-based, lifecycle or direct as the row
//!   says); one flat value over any window. Offline, no key.
//! - [`CarbonAwareSdk`]: GSF Carbon Aware SDK Web API `GET /emissions/forecasts/current`
//!   (`location` repeated, `dataStartAt`, `dataEndAt`); `forecastData` items carry `timestamp`,
//!   `duration` (minutes) and `value` (g/kWh). No key (the Web API is self-hosted).
//! - [`ElectricityMaps`]: `GET /v3/carbon-intensity/forecast?zone=…` with header `auth-token`
//!   (`ELECTRICITY_MAPS_API_KEY`); `forecast` items carry `datetime` and `carbonIntensity`
//!   (g CO2eq/kWh, lifecycle by default). A cloud region is mapped to its country zone.
//! - [`WattTime`]: `GET /v3/forecast?region=…&signal_type=co2_moer` with a bearer token
//!   (`WATTTIME_TOKEN`, or one fetched from `/login` with `WATTTIME_USERNAME`/`WATTTIME_PASSWORD`);
//!   `data` items carry `point_time` and `value` in `meta.units` (`lbs_co2_per_mwh`, converted:
//!   1 lb/MWh = 0.45359237 g/kWh). A marginal signal: right for shifting load, never an
//!   inventory figure.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{Answer, Ask, RawPoint, Source, SourceError};
use crate::http::{self, Retry, Secrets};
use crate::reference::Reference;
use crate::timestamp::{parse_rfc3339, rfc3339};

/// 1 lb/MWh in g/kWh (453.59237 g per lb ÷ 1000 kWh per MWh).
pub const LB_PER_MWH_TO_G_PER_KWH: f64 = 0.453_592_37;

/// The points of a forecast answer, in order: each item's start time read as RFC 3339 (an item
/// with another time refuses the whole answer: its neighbours' lengths would be wrong), its
/// length and its intensity as written (checked later, point by point). No point is an error.
fn points<T>(
    items: &[T],
    what: &str,
    empty: impl FnOnce() -> String,
    start: impl Fn(&T) -> &str,
    point: impl Fn(&T, OffsetDateTime) -> RawPoint,
) -> Result<Vec<RawPoint>, SourceError> {
    let mut points = Vec::with_capacity(items.len());
    for item in items {
        let text = start(item);
        let Some(t) = parse_rfc3339(text) else {
            return Err(SourceError::Service(format!(
                "{what} `{text}` is not RFC 3339"
            )));
        };
        points.push(point(item, t));
    }
    if points.is_empty() {
        return Err(SourceError::Empty(empty()));
    }
    Ok(points)
}

/// ` (did you mean a, b?)`, or nothing without suggestions.
fn did_you_mean(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    }
}

/// The embedded annual averages.
pub struct Static {
    reference: &'static Reference,
}

impl Static {
    /// Over the embedded reference data.
    pub fn new() -> Result<Static, crate::error::Error> {
        Ok(Static {
            reference: Reference::embedded()?,
        })
    }
}

impl Source for Static {
    fn name(&self) -> &'static str {
        "static (embedded annual averages)"
    }

    async fn forecast(&self, ask: Ask<'_>) -> Result<Answer, SourceError> {
        let Ask { location, from, to } = ask;
        let (g, signal) = if location.contains(':') {
            let r = self.reference.region(location).map_err(|close| {
                SourceError::Location(format!(
                    "`{location}` is not a cloud region carbon-gate knows{}",
                    did_you_mean(&close)
                ))
            })?;
            let g = r.g_per_kwh.ok_or_else(|| {
                SourceError::Empty(format!("no intensity for {location} in the reference"))
            })?;
            (
                g,
                format!(
                    "annual average, {} ({}{})",
                    r.basis.clone().unwrap_or_default(),
                    r.source,
                    r.year.map(|y| format!(", {y}")).unwrap_or_default()
                ),
            )
        } else {
            let c = self.reference.country(location).map_err(|close| {
                SourceError::Location(format!(
                    "`{location}` is neither provider:region nor a country carbon-gate knows{}",
                    did_you_mean(&close)
                ))
            })?;
            (
                c.g_per_kwh,
                format!(
                    "annual average ({}{})",
                    c.source,
                    c.year.map(|y| format!(", {y}")).unwrap_or_default()
                ),
            )
        };
        let seconds = (to - from).whole_seconds().max(1);
        Ok(Answer {
            location: location.to_owned(),
            source_location: None,
            signal,
            generated_at: None,
            period: None,
            default_seconds: seconds,
            points: vec![RawPoint {
                start: from,
                seconds: Some(seconds),
                g_per_kwh: serde_json::Value::from(g),
            }],
        })
    }
}

/// An HTTP client for one API.
struct Api {
    http: reqwest::Client,
    base: String,
    retry: Retry,
    secrets: Secrets,
    name: &'static str,
}

impl Api {
    fn new(
        base: &str,
        retry: Retry,
        secrets: Secrets,
        name: &'static str,
    ) -> Result<Api, SourceError> {
        let http = http::client(retry.timeout)
            .map_err(|e| SourceError::Service(format!("cannot build the HTTP client: {e}")))?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
            retry,
            secrets,
            name,
        })
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        auth: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<http::Reply, SourceError> {
        let url = format!("{}{path}", self.base);
        let reply = http::send(&self.retry, &self.secrets, || {
            auth(self.http.get(&url).query(query))
        })
        .await
        .map_err(|e| SourceError::Service(format!("{} GET {path}: {e}", self.name)))?;
        let body = self.secrets.redact(&reply.snippet(300));
        match reply.status {
            200 => Ok(reply),
            204 => Err(SourceError::Empty(format!(
                "{} answered 204 (no data) to GET {path}",
                self.name
            ))),
            401 | 403 => Err(SourceError::Auth(format!(
                "{} refused the credentials ({}) on GET {path}: {body}",
                self.name, reply.status
            ))),
            400 | 404 => Err(SourceError::Location(format!(
                "{} answered {} to GET {path}: {body}",
                self.name, reply.status
            ))),
            s => Err(SourceError::Service(format!(
                "{} answered {s} to GET {path}: {body}",
                self.name
            ))),
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        reply: &http::Reply,
        what: &str,
    ) -> Result<T, SourceError> {
        serde_json::from_slice(&reply.body).map_err(|e| {
            SourceError::Service(self.secrets.redact(&format!(
                "{}: the {what} answer is not in the documented shape ({e}): {}",
                self.name,
                reply.snippet(120)
            )))
        })
    }
}

/// The GSF Carbon Aware SDK Web API.
pub struct CarbonAwareSdk {
    api: Api,
}

impl CarbonAwareSdk {
    /// A client for the Web API at `base`.
    pub fn new(base: &str, retry: Retry) -> Result<CarbonAwareSdk, SourceError> {
        Ok(CarbonAwareSdk {
            api: Api::new(base, retry, Secrets::new(), "Carbon Aware SDK")?,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SdkPoint {
    timestamp: String,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    value: serde_json::Value,
}

/// All fields optional: what is missing is said where it matters.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SdkForecast {
    generated_at: Option<String>,
    location: Option<String>,
    forecast_data: Vec<SdkPoint>,
}

impl Source for CarbonAwareSdk {
    fn name(&self) -> &'static str {
        "Carbon Aware SDK"
    }

    fn cache_key(&self) -> String {
        format!("{}|{}", self.name(), self.api.base)
    }

    async fn forecast(&self, ask: Ask<'_>) -> Result<Answer, SourceError> {
        let Ask { location, from, to } = ask;
        // The code binds `location` (the docs' `locations` is not read); one location per call
        // keeps the answer unambiguous.
        let reply = self
            .api
            .get(
                "/emissions/forecasts/current",
                &[
                    ("location", location.to_owned()),
                    ("dataStartAt", rfc3339(from)),
                    ("dataEndAt", rfc3339(to)),
                ],
                |r| r,
            )
            .await?;
        let all: Vec<SdkForecast> = self.api.decode(&reply, "forecasts/current")?;
        let f = all
            .into_iter()
            .find(|f| {
                f.location
                    .as_deref()
                    .is_none_or(|l| l.eq_ignore_ascii_case(location))
            })
            .ok_or_else(|| SourceError::Empty(format!("no forecast for {location}")))?;
        let points = points(
            &f.forecast_data,
            "Carbon Aware SDK: forecast timestamp",
            || format!("the Carbon Aware SDK returned an empty forecast for {location}"),
            |p| &p.timestamp,
            |p, start| RawPoint {
                start,
                // Minutes; a length that is not a number (or not positive) refuses the point.
                seconds: p.duration.map(|m| (m * 60.0).round() as i64),
                g_per_kwh: p.value.clone(),
            },
        )?;
        Ok(Answer {
            location: location.to_owned(),
            source_location: f.location,
            signal: "Carbon Aware SDK forecast (marginal or average as its data source provides; WattTime: marginal, Electricity Maps: average)".to_owned(),
            generated_at: f.generated_at,
            period: None,
            default_seconds: 300,
            points,
        })
    }
}

fn em_secrets(key: &str) -> Secrets {
    let mut s = Secrets::new();
    s.add(key);
    s
}

/// Electricity Maps.
pub struct ElectricityMaps {
    api: Api,
    key: String,
    reference: &'static Reference,
}

impl ElectricityMaps {
    /// A client for `base` (e.g. the v3 API root) with `key`.
    pub fn new(base: &str, key: &str, retry: Retry) -> Result<ElectricityMaps, SourceError> {
        Ok(ElectricityMaps {
            api: Api::new(base, retry, em_secrets(key), "Electricity Maps")?,
            key: key.to_owned(),
            reference: Reference::embedded().map_err(|e| SourceError::Service(e.to_string()))?,
        })
    }

    /// A cloud region becomes its country's zone (`aws:eu-west-3` → `FR`); anything else is
    /// taken as a zone.
    fn zone(&self, location: &str) -> String {
        if location.contains(':')
            && let Ok(r) = self.reference.region(location)
        {
            return r.iso2.clone();
        }
        location.to_owned()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmPoint {
    #[serde(default)]
    carbon_intensity: serde_json::Value,
    datetime: String,
}

/// All fields optional: what is missing is said where it matters.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EmForecast {
    zone: Option<String>,
    forecast: Vec<EmPoint>,
    updated_at: Option<String>,
}

impl Source for ElectricityMaps {
    fn name(&self) -> &'static str {
        "Electricity Maps"
    }

    fn cache_key(&self) -> String {
        format!("{}|{}", self.name(), self.api.base)
    }

    fn secrets(&self) -> Secrets {
        self.api.secrets.clone()
    }

    async fn forecast(&self, ask: Ask<'_>) -> Result<Answer, SourceError> {
        let location = ask.location;
        let zone = self.zone(location);
        let key = self.key.clone();
        let reply = self
            .api
            .get(
                "/carbon-intensity/forecast",
                &[("zone", zone.clone())],
                move |r| r.header("auth-token", key.as_str()),
            )
            .await?;
        let f: EmForecast = self.api.decode(&reply, "carbon-intensity/forecast")?;
        let points = points(
            &f.forecast,
            "Electricity Maps: forecast datetime",
            || format!("Electricity Maps returned an empty forecast for zone {zone}"),
            |p| &p.datetime,
            |p, start| RawPoint {
                start,
                seconds: None,
                g_per_kwh: p.carbon_intensity.clone(),
            },
        )?;
        Ok(Answer {
            location: location.to_owned(),
            source_location: Some(f.zone.unwrap_or(zone)),
            signal: "Electricity Maps forecast: average carbon intensity (lifecycle unless the account is set otherwise)".to_owned(),
            generated_at: f.updated_at,
            period: None,
            default_seconds: 3600,
            points,
        })
    }
}

/// WattTime v3.
pub struct WattTime {
    api: Api,
    token: String,
    signal: String,
}

#[derive(Deserialize)]
struct WtPoint {
    point_time: String,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct WtMeta {
    #[serde(default)]
    units: Option<String>,
    #[serde(default)]
    signal_type: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    generated_at: Option<String>,
    // The SDK maps `data_point_periods_second`; the docs suggest `data_point_period_seconds`.
    #[serde(default)]
    data_point_period_seconds: Option<i64>,
    #[serde(default)]
    data_point_periods_second: Option<i64>,
}

#[derive(Deserialize)]
struct WtForecast {
    #[serde(default)]
    data: Vec<WtPoint>,
    #[serde(default)]
    meta: WtMeta,
}

impl WattTime {
    /// A client for `base` (the API root, without `/v3`) with a bearer token, or one fetched from
    /// `{login_url}` with basic credentials.
    pub async fn connect(
        base: &str,
        login_url: &str,
        token: Option<String>,
        user: Option<(String, String)>,
        signal: &str,
        retry: Retry,
    ) -> Result<WattTime, SourceError> {
        let mut secrets = Secrets::new();
        if let Some(t) = &token {
            secrets.add(t);
        }
        if let Some((u, p)) = &user {
            secrets.add_basic(u, p);
        }
        let token = match (token, user) {
            (Some(t), _) => t,
            (None, Some((u, p))) => {
                let api = Api::new(login_url, retry, secrets.clone(), "WattTime login")?;
                let reply = api.get("", &[], |r| r.basic_auth(&u, Some(&p))).await?;
                #[derive(Deserialize)]
                struct Login {
                    token: String,
                }
                api.decode::<Login>(&reply, "login")?.token
            }
            (None, None) => {
                return Err(SourceError::Auth(
                    "WattTime needs WATTTIME_TOKEN, or WATTTIME_USERNAME and WATTTIME_PASSWORD"
                        .to_owned(),
                ));
            }
        };
        secrets.add(&token);
        Ok(WattTime {
            api: Api::new(base, retry, secrets, "WattTime")?,
            token,
            signal: signal.to_owned(),
        })
    }
}

impl Source for WattTime {
    fn name(&self) -> &'static str {
        "WattTime v3"
    }

    fn cache_key(&self) -> String {
        format!("{}|{}|{}", self.name(), self.api.base, self.signal)
    }

    fn secrets(&self) -> Secrets {
        self.api.secrets.clone()
    }

    async fn forecast(&self, ask: Ask<'_>) -> Result<Answer, SourceError> {
        let location = ask.location;
        let token = self.token.clone();
        let reply = self
            .api
            .get(
                "/v3/forecast",
                &[
                    ("region", location.to_owned()),
                    ("signal_type", self.signal.clone()),
                ],
                move |r| r.bearer_auth(&token),
            )
            .await?;
        let f: WtForecast = self.api.decode(&reply, "v3/forecast")?;
        let factor = match f.meta.units.as_deref() {
            Some("lbs_co2_per_mwh") | None => LB_PER_MWH_TO_G_PER_KWH,
            Some("g_co2_per_kwh") | Some("kg_co2_per_mwh") => 1.0,
            Some(other) => {
                return Err(SourceError::Service(format!(
                    "WattTime: unit `{other}` is not one carbon-gate converts (expected lbs_co2_per_mwh)"
                )));
            }
        };
        let points = points(
            &f.data,
            "WattTime: point_time",
            || format!("WattTime returned an empty forecast for {location}"),
            |p| &p.point_time,
            |p, start| RawPoint {
                start,
                seconds: None,
                g_per_kwh: match p.value.as_f64() {
                    Some(v) => serde_json::Value::from(v * factor),
                    None => p.value.clone(),
                },
            },
        )?;
        let period = f
            .meta
            .data_point_period_seconds
            .or(f.meta.data_point_periods_second);
        Ok(Answer {
            location: location.to_owned(),
            source_location: f.meta.region.clone(),
            period,
            default_seconds: 300,
            points,
            signal: format!(
                "WattTime {} (marginal: for shifting load, not an inventory figure), converted from {} at 0.45359237 g/kWh per lb/MWh",
                f.meta.signal_type.unwrap_or_else(|| self.signal.clone()),
                f.meta.units.unwrap_or_else(|| "lbs_co2_per_mwh".to_owned())
            ),
            generated_at: f.meta.generated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_per_megawatt_hour() {
        assert_eq!(1000.0 * LB_PER_MWH_TO_G_PER_KWH, 453.59237);
    }
}
