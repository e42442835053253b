//! Estimate a run that nothing measured: hardware × hours (or training FLOPs) × PUE × grid
//! intensity, plus embodied carbon as the SCI time-share of the hardware's manufacture.
//!
//! ```text
//! device-hours        = count × hours                  (or --device-hours, or FLOPs ÷ (peak × MFU) ÷ 3600)
//! power per device    = measured average (--power)     or TDP × utilization
//! energy (kWh)        = power (W) × device-hours ÷ 1000 × PUE
//! operational (kg)    = energy × grid intensity (g/kWh) ÷ 1000          location-based
//! market-based (kg)   = energy × contractual factor ÷ 1000              only when given; never subtracted
//! embodied (kg)       = (TE_accelerator × device-hours + TE_server × server-hours) ÷ lifetime (h)
//!                       SCI M = TE × TiR/EL, with server-hours = device-hours ÷ devices per server
//! ```
//!
//! Every input is recorded as an [`Assumption`] naming where it came from (the command line or a
//! reference row with its source and year). Each input also has a stated range (the `low`/`high`
//! columns of `src/reference/defaults.csv`, or none for values the user gave); the band multiplies
//! the lows together and the highs together (an interval, not a confidence level).

use crate::error::{Error, Location, Problem};
use crate::record::{Assumption, Band, Format, Hardware, Method, Phase, Place, RunRecord};
use crate::reference::{Accelerator, Reference};
use crate::units::{Duration, Energy, Intensity, Mass, Power, format_significant};

/// The range a numeric input of an estimate must be in. The command line checks its arguments
/// with these ([`Bound::parse`]), and [`estimate`] checks its [`Input`] again (a policy's
/// `reference:` overrides, library callers). Counts and hours are bounded like `ingest` bounds
/// one run (`crate::record::MAX_RUN_DURATION_S` and the energy and CO2e limits), so that an
/// estimate written with `--format record` is always read back by `ingest`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The option, e.g. `--utilization`.
    pub flag: &'static str,
    /// Lowest value.
    pub low: f64,
    /// Whether `low` itself is allowed.
    pub low_included: bool,
    /// Highest value (allowed).
    pub high: f64,
    /// The unit, after the number (may be empty).
    pub unit: &'static str,
    /// What the value is, for the message.
    pub meaning: &'static str,
}

/// Most devices one run may use: 10 million (the largest clusters have a few hundred thousand).
pub const MAX_RUN_DEVICES: f64 = 1e7;
/// Longest wall-clock duration of one run, in hours: `ingest`'s bound (about 100 years).
pub const MAX_RUN_HOURS: f64 = crate::record::MAX_RUN_DURATION_S / 3600.0;

/// `--utilization`.
pub const UTILIZATION: Bound = Bound {
    flag: "--utilization",
    low: 0.0,
    low_included: false,
    high: 1.0,
    unit: "",
    meaning: "the average fraction of TDP drawn, e.g. 0.7",
};
/// `--mfu`.
pub const MFU: Bound = Bound {
    flag: "--mfu",
    low: 0.0,
    low_included: false,
    high: 1.0,
    unit: "",
    meaning: "the fraction of peak throughput reached, typically 0.3–0.6",
};
/// `--pue`.
pub const PUE: Bound = Bound {
    flag: "--pue",
    low: 1.0,
    low_included: true,
    high: 3.0,
    unit: "",
    meaning: "the facility's power usage effectiveness: 1.1 for a hyperscale cloud, about 1.6 for an average data centre",
};
/// `--count`.
pub const COUNT: Bound = Bound {
    flag: "--count",
    low: 0.0,
    low_included: false,
    high: MAX_RUN_DEVICES,
    unit: "devices",
    meaning: "the number of devices of one run",
};
/// `--hours`.
pub const HOURS: Bound = Bound {
    flag: "--hours",
    low: 0.0,
    low_included: false,
    high: MAX_RUN_HOURS,
    unit: "h",
    meaning: "the wall-clock duration of one run (the bound `ingest` applies); for GPU-hours use --device-hours",
};
/// `--device-hours`.
pub const DEVICE_HOURS: Bound = Bound {
    flag: "--device-hours",
    low: 0.0,
    low_included: false,
    high: MAX_RUN_DEVICES * MAX_RUN_HOURS,
    unit: "device-hours",
    meaning: "devices × hours of one run",
};
/// `--flops`.
pub const FLOPS: Bound = Bound {
    flag: "--flops",
    low: 0.0,
    low_included: false,
    high: 1e30,
    unit: "FLOP",
    meaning: "the training compute of one run (GPT-3 took 3.1e23)",
};
/// `--peak-tflops`.
pub const PEAK_TFLOPS: Bound = Bound {
    flag: "--peak-tflops",
    low: 0.0,
    low_included: false,
    high: 1e5,
    unit: "TFLOP/s",
    meaning: "one device's peak dense throughput (an H100 does about 990)",
};
/// `--devices-per-server`.
pub const DEVICES_PER_SERVER: Bound = Bound {
    flag: "--devices-per-server",
    low: 1.0,
    low_included: true,
    high: 1024.0,
    unit: "",
    meaning: "devices in one host server, usually 8",
};
/// `--power`, per device.
pub const POWER_W: Bound = Bound {
    flag: "--power",
    low: 0.0,
    low_included: false,
    high: 1e5,
    unit: "W",
    meaning: "the average power of one device",
};
/// `--intensity`, `--market-factor`.
pub const INTENSITY: Bound = Bound {
    flag: "--intensity",
    low: 0.0,
    low_included: true,
    high: 3000.0,
    unit: "g/kWh",
    meaning: "a grid's carbon intensity (coal is about 1000)",
};
/// `--lifetime`, in hours.
pub const LIFETIME_H: Bound = Bound {
    flag: "--lifetime",
    low: 0.0,
    low_included: false,
    high: 100.0 * 8760.0,
    unit: "h",
    meaning: "the hardware's service life, e.g. \"4 years\"",
};
/// `--accelerator-embodied`, `--server-embodied`, in kg.
pub const EMBODIED_KG: Bound = Bound {
    flag: "--accelerator-embodied",
    low: 0.0,
    low_included: true,
    high: 1e5,
    unit: "kg",
    meaning: "the manufacturing CO2e of one device or server",
};

impl Bound {
    /// The range in words, e.g. `(0, 1]` or `1–3`.
    pub fn range_text(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!(
            "{}{}, {}]{unit}",
            if self.low_included { "[" } else { "(" },
            format_significant(self.low, 7),
            format_significant(self.high, 7)
        )
    }

    /// `value` if it is in range, else why not (one sentence naming the option).
    pub fn check(&self, value: f64) -> Result<f64, String> {
        let above_low = if self.low_included {
            value >= self.low
        } else {
            value > self.low
        };
        if value.is_finite() && above_low && value <= self.high {
            Ok(value)
        } else {
            let shown = if value.is_finite() && value != 0.0 && !(1e-4..1e7).contains(&value.abs())
            {
                format!("{value:e}")
            } else {
                value.to_string()
            };
            Err(format!(
                "{} {shown} is out of range: expected a number in {} ({})",
                self.flag,
                self.range_text(),
                self.meaning
            ))
        }
    }

    /// Parse a command-line number and check it (a clap value parser).
    pub fn parse(&self, text: &str) -> Result<f64, String> {
        let value: f64 = text.trim().parse().map_err(|_| {
            format!(
                "\"{}\" is not a number: expected a number in {} ({})",
                crate::error::escape_text(text),
                self.range_text(),
                self.meaning
            )
        })?;
        self.check(value)
    }

    /// The same range for another option.
    const fn named(self, flag: &'static str) -> Bound {
        Bound { flag, ..self }
    }
}

/// Check every number of an estimate's input against its [`Bound`].
fn check_input(input: &Input) -> Result<(), Error> {
    let lifetime = input.lifetime.or(input.overrides.lifetime);
    let checks: [(Bound, Option<f64>); 13] = [
        (UTILIZATION, input.utilization),
        (MFU, input.mfu),
        (PUE, input.pue),
        (COUNT, input.count),
        (HOURS, input.hours.map(|h| h.in_hours())),
        (DEVICE_HOURS, input.device_hours),
        (FLOPS, input.flops),
        (PEAK_TFLOPS, input.peak_tflops),
        (DEVICES_PER_SERVER, input.devices_per_server),
        (POWER_W, input.power.map(|p| p.value())),
        (INTENSITY, input.intensity.map(|i| i.value())),
        (
            INTENSITY.named("--market-factor"),
            input.market_factor.map(|i| i.value()),
        ),
        (LIFETIME_H, lifetime.map(|l| l.in_hours())),
    ];
    for (bound, value) in checks {
        if let Some(v) = value {
            bound.check(v).map_err(usage)?;
        }
    }
    for (bound, value) in [
        (EMBODIED_KG, input.accelerator_embodied),
        (
            EMBODIED_KG.named("--server-embodied"),
            input.server_embodied,
        ),
    ] {
        if let Some(m) = value {
            bound.check(m.value()).map_err(usage)?;
        }
    }
    Ok(())
}

/// What the user knows about the run.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Accelerator name (`A100-SXM4-80GB`).
    pub accelerator: Option<String>,
    /// Average power per device the user measured (beats TDP).
    pub power: Option<Power>,
    /// Number of devices.
    pub count: Option<f64>,
    /// Wall-clock duration.
    pub hours: Option<Duration>,
    /// Device-hours in total (instead of count × hours).
    pub device_hours: Option<f64>,
    /// Training compute, FLOP.
    pub flops: Option<f64>,
    /// Model FLOPs utilization (fraction of peak), for `flops`.
    pub mfu: Option<f64>,
    /// Peak throughput per device, TFLOP/s (default: the accelerator's dense BF16 peak).
    pub peak_tflops: Option<f64>,
    /// Fraction of TDP drawn on average (default 1).
    pub utilization: Option<f64>,
    /// `provider:region`.
    pub region: Option<String>,
    /// Country (ISO alpha-2/alpha-3 or name).
    pub country: Option<String>,
    /// Grid intensity the user knows.
    pub intensity: Option<Intensity>,
    /// Contractual (market-based) emission factor.
    pub market_factor: Option<Intensity>,
    /// PUE the user knows.
    pub pue: Option<f64>,
    /// Hardware lifetime.
    pub lifetime: Option<Duration>,
    /// Devices per host server.
    pub devices_per_server: Option<f64>,
    /// Embodied CO2e per accelerator (override).
    pub accelerator_embodied: Option<Mass>,
    /// Embodied CO2e per host server (override).
    pub server_embodied: Option<Mass>,
    /// Model.
    pub model: Option<String>,
    /// Model version.
    pub version: Option<String>,
    /// Phase.
    pub phase: Option<Phase>,
    /// Run id (default: made from the inputs).
    pub run_id: Option<String>,
    /// Overrides from a policy's `reference:` block (command-line values win over them).
    pub overrides: crate::embodied::Overrides,
}

/// A value with its stated range.
#[derive(Debug, Clone, Copy)]
struct Ranged {
    central: f64,
    low: f64,
    high: f64,
}

impl Ranged {
    fn exact(v: f64) -> Self {
        Ranged {
            central: v,
            low: v,
            high: v,
        }
    }
    /// A reference default's value with its stated range.
    fn from_default(d: &crate::reference::Default) -> Self {
        Ranged {
            central: d.value,
            low: d.low,
            high: d.high,
        }
    }
    fn times(self, o: Ranged) -> Ranged {
        Ranged {
            central: self.central * o.central,
            low: self.low * o.low,
            high: self.high * o.high,
        }
    }
    fn plus(self, o: Ranged) -> Ranged {
        Ranged {
            central: self.central + o.central,
            low: self.low + o.low,
            high: self.high + o.high,
        }
    }
    fn band_text(&self, unit: &str) -> String {
        if self.low == self.central && self.high == self.central {
            format!("{} {unit}", format_significant(self.central, 6))
        } else {
            format!(
                "{} {unit} (range {}–{})",
                format_significant(self.central, 6),
                format_significant(self.low, 4),
                format_significant(self.high, 4)
            )
        }
    }
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// An accelerator name that stands for several boards of different power: which one?
fn ambiguous(name: &str, variants: &[&Accelerator]) -> Error {
    let list: Vec<String> = variants
        .iter()
        .map(|a| format!("{} ({} W)", a.id, a.tdp_w))
        .collect();
    Error::input(
        Problem::new(
            Location::file("<command line>"),
            format!(
                "accelerator \"{}\" stands for {} boards (power per board in brackets): {}",
                crate::error::escape_text(name),
                variants.len(),
                list.join(", ")
            ),
        )
        .with_help(format!(
            "name the board: --accelerator {} (CodeCarbon's gpu_model and `nvidia-smi --query-gpu=name --format=csv` show it)",
            variants.first().map_or("…", |a| a.id.as_str())
        )),
    )
}

fn unknown(what: &str, name: &str, suggestions: &[String]) -> Error {
    Error::input(
        Problem::new(
            Location::file("<command line>"),
            format!("unknown {what} \"{name}\""),
        )
        .with_help(format!(
            "closest known: {}; `carbon-gate reference list` shows all",
            suggestions.join(", ")
        )),
    )
}

fn row(source: &str, year: Option<u32>) -> String {
    match year {
        Some(y) => format!("{source} ({y})"),
        None => source.to_owned(),
    }
}

/// The result of an estimate.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The record, as `ingest` and `check` read it.
    pub record: RunRecord,
    /// The formulas with the numbers filled in.
    pub steps: Vec<String>,
}

/// Estimate one run.
pub fn estimate(input: &Input, reference: &Reference) -> Result<Estimate, Error> {
    check_input(input)?;
    let mut assumptions: Vec<Assumption> = Vec::new();
    let mut steps = Vec::new();
    let mut note = |name: &str, value: String, source: String| {
        assumptions.push(Assumption {
            name: name.to_owned(),
            value,
            source,
        });
    };
    let default = |key: &str| {
        reference
            .default_value(key)
            .ok_or_else(|| usage(format!("embedded reference data lacks the default `{key}`")))
    };

    // Hardware.
    let accelerator: Option<&Accelerator> = match &input.accelerator {
        Some(name) if !reference.variants(name).is_empty() => {
            return Err(ambiguous(name, &reference.variants(name)));
        }
        Some(name) => Some(
            reference
                .accelerator(name)
                .map_err(|s| unknown("accelerator", name, &s))?,
        ),
        None => None,
    };
    if accelerator.is_none() && input.power.is_none() {
        return Err(usage(
            "give --accelerator NAME (its TDP is used) or --power \"330 W\" (a measured average per device)",
        ));
    }

    // Power per device.
    let (power, method) = match (input.power, accelerator) {
        (Some(p), _) => {
            let d = default("measured-power")?;
            note(
                "power per device",
                format!("{p} (measured average)"),
                "command line".to_owned(),
            );
            (
                Ranged {
                    central: p.value(),
                    low: p.value() * d.low,
                    high: p.value() * d.high,
                },
                Method::PowerEstimate,
            )
        }
        (None, Some(a)) => {
            let u = match input.utilization {
                Some(u) => {
                    note(
                        "utilization",
                        format!("{} of TDP", format_significant(u, 4)),
                        "command line".to_owned(),
                    );
                    u
                }
                None => {
                    let d = default("utilization")?;
                    note(
                        "utilization",
                        format!("{} of TDP", format_significant(d.value, 4)),
                        row(&d.source, d.year),
                    );
                    d.value
                }
            };
            let tdp_w = match input.overrides.tdp.get(&crate::reference::squash(&a.id)) {
                Some(p) => {
                    note(
                        "TDP",
                        format!("{p} ({})", a.id),
                        "policy reference override".to_owned(),
                    );
                    p.value()
                }
                None => {
                    note(
                        "TDP",
                        format!("{} ({})", a.tdp(), a.id),
                        row(&a.source, a.year),
                    );
                    a.tdp_w
                }
            };
            let d = default("tdp-draw")?;
            note(
                "average draw vs TDP",
                format!("range {}–{} of TDP × utilization", d.low, d.high),
                row(&d.source, d.year),
            );
            let central = tdp_w * u;
            (
                Ranged {
                    central,
                    low: central * d.low,
                    high: central * d.high,
                },
                Method::TdpEstimate,
            )
        }
        (None, None) => unreachable_power()?,
    };

    // Device-hours.
    let (device_hours, count, hours, method) = if let Some(flops) = input.flops {
        let Some(mfu) = input.mfu else {
            return Err(usage(
                "--flops needs --mfu: the model FLOPs utilization, the fraction of peak throughput the training reached (typically 0.3–0.6)",
            ));
        };
        if !(mfu > 0.0 && mfu <= 1.0) {
            return Err(usage("--mfu must be a fraction in (0, 1]"));
        }
        let peak = match (
            input.peak_tflops,
            accelerator.and_then(|a| a.peak_tflops_bf16_dense),
        ) {
            (Some(p), _) => {
                note(
                    "peak throughput",
                    format!("{p} TFLOP/s"),
                    "command line".to_owned(),
                );
                p
            }
            (None, Some(p)) => {
                let a = accelerator.map(|a| (a.id.clone(), a.source.clone(), a.year));
                if let Some((id, source, year)) = a {
                    note(
                        "peak throughput",
                        format!("{p} TFLOP/s dense BF16 ({id})"),
                        row(&source, year),
                    );
                }
                p
            }
            (None, None) => {
                return Err(usage(
                    "--flops needs the device's peak throughput: give --peak-tflops, or an --accelerator whose peak is published",
                ));
            }
        };
        note(
            "training compute",
            format!("{flops:e} FLOP"),
            "command line".to_owned(),
        );
        note("MFU", format_significant(mfu, 4), "command line".to_owned());
        let dh = flops / (peak * 1e12 * mfu) / 3600.0;
        steps.push(format!(
            "device-hours = {flops:e} FLOP ÷ ({peak} TFLOP/s × 1e12 × {mfu}) ÷ 3600 = {}",
            format_significant(dh, 6)
        ));
        (dh, None, None, Method::FlopEstimate)
    } else if let Some(dh) = input.device_hours {
        note(
            "device-hours",
            format_significant(dh, 8),
            "command line".to_owned(),
        );
        (dh, None, None, method)
    } else {
        let (Some(count), Some(hours)) = (input.count, input.hours) else {
            return Err(usage(
                "give --count N and --hours H (or --device-hours, or --flops with --mfu)",
            ));
        };
        note(
            "devices",
            format_significant(count, 8),
            "command line".to_owned(),
        );
        note("duration", format!("{hours}"), "command line".to_owned());
        let dh = count * hours.in_hours();
        steps.push(format!(
            "device-hours = {} × {} h = {}",
            format_significant(count, 8),
            format_significant(hours.in_hours(), 8),
            format_significant(dh, 8)
        ));
        (dh, Some(count), Some(hours), method)
    };
    if !(device_hours.is_finite() && device_hours >= 0.0) {
        return Err(usage("device-hours must be a finite number, zero or more"));
    }
    if device_hours > DEVICE_HOURS.high {
        return Err(usage(format!(
            "the inputs make {} device-hours, more than one run can plausibly use ({}): check --flops, --mfu and --peak-tflops",
            format_significant(device_hours, 4),
            DEVICE_HOURS.range_text()
        )));
    }

    // Place: region, country or intensity.
    let mut place = Place::default();
    let region = match &input.region {
        Some(spec) => Some(
            reference
                .region(spec)
                .map_err(|s| unknown("cloud region", spec, &s))?,
        ),
        None => None,
    };
    if let Some(r) = region {
        place.cloud_provider = Some(r.provider.clone());
        place.cloud_region = Some(r.region.clone());
        place.country_iso = Some(r.iso2.clone());
        place.region = r.subdivision.clone().or_else(|| Some(r.location.clone()));
    }
    let grid = default("grid-factor")?;
    let intensity: Ranged = if let Some(i) = input.intensity {
        note("grid intensity", format!("{i}"), "command line".to_owned());
        Ranged::exact(i.value())
    } else if let Some(r) = region {
        let (g, source) = match (r.g_per_kwh, &r.subdivision) {
            (Some(g), _) => (g, row(&r.source, r.year)),
            (None, Some(sub)) => match reference.subdivision(sub) {
                Some(s) => (s.g_per_kwh, row(&s.source, s.year)),
                None => country_value(reference, &r.iso2)?,
            },
            (None, None) => country_value(reference, &r.iso2)?,
        };
        note(
            "grid intensity",
            format!(
                "{g} g/kWh ({}:{} {}; range ×{}–×{})",
                r.provider, r.region, r.location, grid.low, grid.high
            ),
            source,
        );
        Ranged {
            central: g,
            low: g * grid.low,
            high: g * grid.high,
        }
    } else if let Some(c) = &input.country {
        let row_c = reference
            .country(c)
            .map_err(|s| unknown("country", c, &s))?;
        place.country = Some(row_c.country.clone());
        place.country_iso = Some(row_c.iso2.clone());
        note(
            "grid intensity",
            format!(
                "{} g/kWh ({}; range ×{}–×{})",
                row_c.g_per_kwh, row_c.country, grid.low, grid.high
            ),
            row(&row_c.source, row_c.year),
        );
        Ranged {
            central: row_c.g_per_kwh,
            low: row_c.g_per_kwh * grid.low,
            high: row_c.g_per_kwh * grid.high,
        }
    } else {
        return Err(usage(
            "give --region provider:region, --country CODE or --intensity \"56 g/kWh\"",
        ));
    };

    // PUE.
    let pue: Ranged = if let Some(p) = input.pue {
        if !(p.is_finite() && p >= 1.0) {
            return Err(usage("--pue must be a number of at least 1"));
        }
        note("PUE", format_significant(p, 4), "command line".to_owned());
        Ranged::exact(p)
    } else if let Some((value, source)) = region.and_then(|r| {
        r.pue
            .map(|p| (p, r.pue_source.clone().unwrap_or_default()))
            .or_else(|| {
                reference
                    .pue_for(&r.provider)
                    .map(|row_p| (row_p.value, row(&row_p.source, row_p.year)))
            })
    }) {
        let d = default("pue-known")?;
        note(
            "PUE",
            format!(
                "{value} (provider fleet; range {}–{})",
                value + d.low,
                value + d.high
            ),
            source,
        );
        Ranged {
            central: value,
            low: value + d.low,
            high: value + d.high,
        }
    } else {
        let d = default("pue-unknown")?;
        note(
            "PUE",
            format!("{} (facility unknown; range {}–{})", d.value, d.low, d.high),
            row(&d.source, d.year),
        );
        Ranged {
            central: d.value,
            low: d.low,
            high: d.high,
        }
    };

    // Energy and operational CO2e.
    let it_kwh = power.times(Ranged::exact(device_hours / 1000.0));
    let energy = it_kwh.times(pue);
    steps.push(format!(
        "energy = {} W × {} device-hours ÷ 1000 × PUE {} = {}",
        format_significant(power.central, 6),
        format_significant(device_hours, 8),
        format_significant(pue.central, 4),
        energy.band_text("kWh")
    ));
    let operational = energy.times(intensity).times(Ranged::exact(1.0 / 1000.0));
    steps.push(format!(
        "operational CO2e = {} kWh × {} g/kWh ÷ 1000 = {} (location-based)",
        format_significant(energy.central, 8),
        format_significant(intensity.central, 6),
        operational.band_text("kg")
    ));
    let market = input.market_factor.map(|f| {
        note(
            "market-based factor",
            format!("{f}"),
            "command line".to_owned(),
        );
        let kg = energy.central * f.value() / 1000.0;
        steps.push(format!(
            "market-based CO2e = {} kWh × {} ÷ 1000 = {} kg (reported beside, not subtracted)",
            format_significant(energy.central, 8),
            f,
            format_significant(kg, 6)
        ));
        Mass::kg(kg)
    });

    // Embodied: SCI time-share.
    let life = match input.lifetime.or(input.overrides.lifetime) {
        Some(l) => {
            note(
                "lifetime",
                format!("{} h", format_significant(l.in_hours(), 6)),
                "command line".to_owned(),
            );
            Ranged::exact(l.in_hours())
        }
        None => {
            let d = default("lifetime")?;
            note(
                "lifetime",
                format!("{} years (range {}–{} years)", d.value, d.high, d.low),
                row(&d.source, d.year),
            );
            Ranged {
                central: d.value * 8760.0,
                low: d.low * 8760.0,
                high: d.high * 8760.0,
            }
        }
    };
    let policy_device = accelerator
        .and_then(|a| {
            input
                .overrides
                .per_accelerator
                .get(&crate::reference::squash(&a.id))
        })
        .copied()
        .or(input
            .overrides
            .accelerator
            .filter(|_| accelerator.is_none_or(|a| a.embodied_kg.is_none())));
    let te_device: Ranged = match input.accelerator_embodied.or(policy_device) {
        Some(m) => {
            note(
                "embodied per accelerator",
                format!("{m}"),
                "command line".to_owned(),
            );
            Ranged::exact(m.value())
        }
        None => match accelerator.and_then(|a| a.embodied_kg.map(|kg| (a, kg))) {
            Some((a, kg)) => {
                note(
                    "embodied per accelerator",
                    format!("{kg} kg ({})", a.id),
                    a.embodied_source
                        .clone()
                        .unwrap_or_else(|| a.source.clone()),
                );
                Ranged::exact(kg)
            }
            None => {
                let d = default("accelerator-embodied")?;
                note(
                    "embodied per accelerator",
                    format!("{} kg default (range {}–{} kg)", d.value, d.low, d.high),
                    row(&d.source, d.year),
                );
                Ranged::from_default(d)
            }
        },
    };
    let te_server: Ranged = match input.server_embodied.or(input.overrides.server) {
        Some(m) => {
            note(
                "embodied per server",
                format!("{m}"),
                "command line".to_owned(),
            );
            Ranged::exact(m.value())
        }
        None => {
            let d = default("server-embodied")?;
            note(
                "embodied per server",
                format!("{} kg (range {}–{} kg)", d.value, d.low, d.high),
                row(&d.source, d.year),
            );
            Ranged::from_default(d)
        }
    };
    let per_server = match input
        .devices_per_server
        .or(input.overrides.devices_per_server.map(f64::from))
    {
        Some(n) => {
            note(
                "devices per server",
                format_significant(n, 4),
                "command line".to_owned(),
            );
            n
        }
        None => {
            let d = default("gpus-per-server")?;
            note(
                "devices per server",
                format_significant(d.value, 4),
                row(&d.source, d.year),
            );
            d.value
        }
    };
    if !(per_server.is_finite() && per_server >= 1.0) {
        return Err(usage("--devices-per-server must be at least 1"));
    }
    let server_hours = match (count, hours) {
        (Some(c), Some(h)) => (c / per_server).ceil() * h.in_hours(),
        _ => device_hours / per_server,
    };
    // M = TE × TiR / EL; the low end uses the long lifetime, the high end the short one.
    let embodied_device = te_device.times(Ranged::exact(device_hours));
    let embodied_server = te_server.times(Ranged::exact(server_hours));
    let te_total = embodied_device.plus(embodied_server);
    let embodied = Ranged {
        central: te_total.central / life.central,
        low: te_total.low / life.low,
        high: te_total.high / life.high,
    };
    steps.push(format!(
        "embodied CO2e = ({} kg × {} device-hours + {} kg × {} server-hours) ÷ {} h = {} (SCI time-share)",
        format_significant(te_device.central, 6),
        format_significant(device_hours, 8),
        format_significant(te_server.central, 6),
        format_significant(server_hours, 8),
        format_significant(life.central, 6),
        embodied.band_text("kg")
    ));
    let total = operational.plus(embodied);
    steps.push(format!(
        "total CO2e = operational + embodied = {}",
        total.band_text("kg")
    ));

    let run_id = input.run_id.clone().unwrap_or_else(|| {
        format!(
            "estimate:{}:{}:{}",
            input
                .accelerator
                .clone()
                .unwrap_or_else(|| format!("{}W", power.central)),
            format_significant(device_hours, 8),
            input
                .region
                .clone()
                .or_else(|| input.country.clone())
                .unwrap_or_else(|| format!("{}g", intensity.central))
        )
    });
    let mut record = RunRecord::new(
        Location::file("<estimate>"),
        Format::Native,
        run_id,
        Mass::kg(total.central),
    );
    record.layout = "carbon-gate estimate".to_owned();
    record.tool_version = Some(format!("carbon-gate {}", env!("CARGO_PKG_VERSION")));
    record.method = method;
    record.model = input.model.clone();
    record.version = input.version.clone();
    record.phase = input.phase;
    // Wall-clock duration is known only from --hours; device-hours are not a duration.
    record.duration = hours;
    record.energy = Some(Energy::kwh(energy.central));
    record.embodied = Some(Mass::kg(embodied.central));
    record.market = market;
    record.place = place;
    record.pue = Some(pue.central);
    record.hardware = Hardware {
        gpu: accelerator.map(|a| a.id.clone()),
        gpu_count: count,
        cpu: None,
    };
    record.band = Some(Band {
        energy_low_kwh: Energy::kwh(energy.low),
        energy_high_kwh: Energy::kwh(energy.high),
        co2e_low_kg: Mass::kg(total.low),
        co2e_high_kg: Mass::kg(total.high),
    });
    record.assumptions = assumptions;
    plausible(&record)?;
    Ok(Estimate { record, steps })
}

/// Refuse an estimate `ingest` would refuse to read back: the bounds of
/// [`crate::record::check_figures`] (one run's CO2e, energy, duration; names without control
/// characters), and every figure finite.
fn plausible(record: &RunRecord) -> Result<(), Error> {
    let mut figures = vec![
        record.emissions.value(),
        record.energy.map_or(0.0, |e| e.value()),
        record.embodied.map_or(0.0, |m| m.value()),
        record.market.map_or(0.0, |m| m.value()),
        record.pue.unwrap_or(1.0),
    ];
    if let Some(b) = &record.band {
        figures.extend([
            b.energy_low_kwh.value(),
            b.energy_high_kwh.value(),
            b.co2e_low_kg.value(),
            b.co2e_high_kg.value(),
        ]);
    }
    if figures.iter().any(|f| !(f.is_finite() && *f >= 0.0)) {
        return Err(usage(
            "the inputs give a figure that is not a finite number, zero or more: check the numbers given",
        ));
    }
    let at = || Location::file("<command line>");
    let refused = |e: Error, what: &str| match e {
        Error::Input(p) => usage(format!(
            "`ingest` would refuse this estimate: {}; {what}",
            p.message
        )),
        other => other,
    };
    // The names first (no figures), then the figures.
    crate::record::check_figures(
        &at,
        &record.run_id,
        record.model.as_deref(),
        record.version.as_deref(),
        Mass::kg(0.0),
        None,
        None,
    )
    .map_err(|e| refused(e, "write --run-id as plain text"))?;
    crate::record::check_figures(
        &at,
        &record.run_id,
        None,
        None,
        record.emissions,
        record.energy,
        record.duration,
    )
    .map_err(|e| {
        refused(
            e,
            "check the numbers given (devices, hours, power, intensity): one run cannot use this much",
        )
    })
}

fn country_value(reference: &Reference, iso2: &str) -> Result<(f64, String), Error> {
    let c = reference
        .country(iso2)
        .map_err(|s| unknown("country", iso2, &s))?;
    Ok((c.g_per_kwh, row(&c.source, c.year)))
}

fn unreachable_power() -> Result<(Ranged, Method), Error> {
    Err(usage("give --accelerator NAME or --power \"330 W\""))
}
