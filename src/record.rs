//! The normalized run record every input format is read into.
//!
//! One record is one row (or one block, or one tree node) of an emissions log: a whole tracked
//! run, one task of a run, or one component of a system. It keeps the quantities in typed units
//! and the place it was read from, so every total the tool prints can be traced back to the rows
//! that made it. What a source does not say stays `None` — never a made-up zero.

use serde::{Deserialize, Serialize};

use crate::error::Location;
use crate::units::{Duration, Energy, Mass};

/// A model version as every output names it: `text-gen 2.1.0`, or `text-gen` when it has no
/// version — the one formatter of that label (the version a semver or its text, `V`).
#[derive(Debug, Clone, Copy)]
pub struct ModelVersion<'a, V: ?Sized = str> {
    /// The model name.
    pub model: &'a str,
    /// Its version, when known.
    pub version: Option<&'a V>,
}

impl<'a, V: ?Sized> ModelVersion<'a, V> {
    /// The label of `model` at `version`.
    pub fn new(model: &'a str, version: Option<&'a V>) -> Self {
        ModelVersion { model, version }
    }
}

impl<V: std::fmt::Display + ?Sized> std::fmt::Display for ModelVersion<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.model)?;
        match self.version {
            Some(v) => write!(f, " {v}"),
            None => Ok(()),
        }
    }
}

/// The input formats the tool reads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CodeCarbon `emissions.csv` (every released layout) and its per-task files.
    Codecarbon,
    /// Green Software Foundation Impact Framework output manifests (`if-run` 1.x).
    ImpactFramework,
    /// eco2AI CSV (0.1.x – 0.3.x).
    Eco2ai,
    /// carbontracker logs (the output log of each run).
    Carbontracker,
    /// Hugging Face model card metadata (`co2_eq_emissions`).
    HfCard,
    /// carbon-gate's own JSON / NDJSON records.
    Native,
}

impl Format {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Format::Codecarbon => "codecarbon",
            Format::ImpactFramework => "impact-framework",
            Format::Eco2ai => "eco2ai",
            Format::Carbontracker => "carbontracker",
            Format::HfCard => "hf-card",
            Format::Native => "native",
        }
    }

    /// Where the energy and CO2e figures of a record come from, and their units as written.
    pub fn provenance(self) -> &'static str {
        match self {
            Format::Codecarbon => {
                "CodeCarbon `energy_consumed` (kWh, CodeCarbon's PUE applied) and `emissions` (kg CO2e = energy × the grid intensity CodeCarbon used)"
            }
            Format::ImpactFramework => {
                "Impact Framework outputs: `energy` (kWh) and `carbon-operational` / `embodied-carbon` / `carbon` (g CO2e, ÷ 1000 to kg), units as declared in the manifest"
            }
            Format::Eco2ai => {
                "eco2AI `power_consumption(kWh)` (kWh, PUE applied) and `CO2_emissions(kg)` (kg CO2e)"
            }
            Format::Carbontracker => {
                "carbontracker's actual consumption: `Energy` (kWh, its PUE applied) and `CO2eq` (g, ÷ 1000 to kg)"
            }
            Format::HfCard => {
                "Hugging Face card `co2_eq_emissions` (g CO2e by the Hub's spec, ÷ 1000 to kg; no energy)"
            }
            Format::Native => "carbon-gate records (`energy_kwh`, `co2e_kg`)",
        }
    }
}

/// The life-cycle phase a run belongs to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Training from scratch (pre-training).
    Training,
    /// Fine-tuning an existing model.
    FineTuning,
    /// Batch or online inference.
    Inference,
    /// Evaluation runs.
    Evaluation,
}

impl Phase {
    /// Read a phase as tools write it (`pre-training`, `fine-tuning`, `finetuning`, `inference`…).
    pub fn from_text(text: &str) -> Option<Phase> {
        let t: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        match t.as_str() {
            "training" | "train" | "pretraining" | "pretrain" => Some(Phase::Training),
            "finetuning" | "finetune" => Some(Phase::FineTuning),
            "inference" | "serving" | "prediction" | "batchinference" => Some(Phase::Inference),
            "evaluation" | "eval" | "validation" | "test" => Some(Phase::Evaluation),
            _ => None,
        }
    }
}

/// A part of a run: a task a tracker recorded separately, or a component of a modelled system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Part {
    /// A task (CodeCarbon task mode): its figures are also in the run's own row, when present.
    Task(String),
    /// A component (Impact Framework leaf): the run is the sum of its components.
    Component(String),
}

/// How a record's figures were obtained.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Measured by a tracker (CodeCarbon, carbontracker…), or reported as such by its source.
    #[default]
    Measured,
    /// Estimated by carbon-gate from the accelerator's TDP × hours.
    TdpEstimate,
    /// Estimated by carbon-gate from an average power the user measured × hours.
    PowerEstimate,
    /// Estimated by carbon-gate from training FLOPs, peak throughput and utilization.
    FlopEstimate,
}

impl Method {
    /// Whether carbon-gate estimated the figures.
    pub fn is_estimate(self) -> bool {
        self != Method::Measured
    }
}

/// A low/high band around a record's central figures, from the stated ranges of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    /// Lowest energy, kWh.
    pub energy_low_kwh: Energy,
    /// Highest energy, kWh.
    pub energy_high_kwh: Energy,
    /// Lowest total CO2e, kg.
    pub co2e_low_kg: Mass,
    /// Highest total CO2e, kg.
    pub co2e_high_kg: Mass,
}

/// One input of an estimate: its value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assumption {
    /// What it is (`power per device`, `PUE`, `grid intensity`…).
    pub name: String,
    /// The value with its unit, and its band when it has one.
    pub value: String,
    /// Where it came from: the command line, or a reference row with its source and year.
    pub source: String,
}

/// Energy split by component, where the tool measured it (kWh each).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    /// CPU energy.
    pub cpu_kwh: Energy,
    /// GPU energy.
    pub gpu_kwh: Energy,
    /// RAM energy.
    pub ram_kwh: Energy,
}

/// Where the run took place, as the tool recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Country name, or free text (a card's `geographical_location`).
    pub country: Option<String>,
    /// ISO 3166 code as written (alpha-3 for CodeCarbon, alpha-2 for eco2AI).
    pub country_iso: Option<String>,
    /// Sub-national region as written.
    pub region: Option<String>,
    /// Cloud provider, when on a cloud.
    pub cloud_provider: Option<String>,
    /// Cloud region, when on a cloud.
    pub cloud_region: Option<String>,
}

/// Where a run took place, in one word: the cloud region it ran in, else its country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site<'a> {
    /// A cloud provider's region, both as recorded (trimmed).
    Cloud {
        /// The provider (`aws`, `gcp`…).
        provider: &'a str,
        /// The region (`us-east-1`…).
        region: &'a str,
    },
    /// A country: its ISO code, else its name, as recorded (trimmed).
    Country(&'a str),
}

/// A text as recorded, trimmed; blank is not given.
fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

impl Place {
    /// The cloud provider, when the run used one (a blank provider is none).
    pub fn provider(&self) -> Option<&str> {
        given(self.cloud_provider.as_deref())
    }

    /// The cloud region, when recorded (a blank one is none).
    pub fn cloud_region_given(&self) -> Option<&str> {
        given(self.cloud_region.as_deref())
    }

    /// Whether the run used a cloud service (its electricity is then Scope 3 cat. 1 of the user).
    pub fn on_cloud(&self) -> bool {
        self.provider().is_some()
    }

    /// The country: its ISO code, else its name (blank ones are none).
    pub fn country_given(&self) -> Option<&str> {
        given(self.country_iso.as_deref()).or_else(|| given(self.country.as_deref()))
    }

    /// Where the run took place: its cloud region when both the provider and the region are
    /// recorded, else its country ([`Place::country_given`]) — the one rule every message,
    /// advice and disclosure that names the place of a run follows.
    pub fn site(&self) -> Option<Site<'_>> {
        match (self.provider(), self.cloud_region_given()) {
            (Some(provider), Some(region)) => Some(Site::Cloud { provider, region }),
            _ => self.country_given().map(Site::Country),
        }
    }
}

/// The hardware a run used, as the tool recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hardware {
    /// CPU model.
    pub cpu: Option<String>,
    /// GPU model(s).
    pub gpu: Option<String>,
    /// Number of GPUs.
    pub gpu_count: Option<f64>,
}

/// What the rows of one run share, borrowed from where they were read (a CodeCarbon row's
/// *profile*): the model, the tool version, the place, the hardware and the PUE. Records and
/// contributions are built from it ([`RunRecord::from_profile`]), so that its names reach both
/// the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Profile<'a> {
    /// The texts, in this order: `project_name`, `codecarbon_version`, `country_name`,
    /// `country_iso_code`, `region`, `cloud_provider`, `cloud_region`, `cpu_model`, `gpu_model`.
    pub names: [Option<&'a str>; 9],
    /// `pue`.
    pub pue: Option<f64>,
    /// `gpu_count`.
    pub gpu_count: Option<f64>,
}

impl<'a> Profile<'a> {
    /// The profile of a record: its names, place, hardware and PUE.
    pub fn of(r: &'a RunRecord) -> Profile<'a> {
        let (p, h) = (&r.place, &r.hardware);
        Profile {
            names: [
                r.model.as_deref(),
                r.tool_version.as_deref(),
                p.country.as_deref(),
                p.country_iso.as_deref(),
                p.region.as_deref(),
                p.cloud_provider.as_deref(),
                p.cloud_region.as_deref(),
                h.cpu.as_deref(),
                h.gpu.as_deref(),
            ],
            pue: r.pue,
            gpu_count: h.gpu_count,
        }
    }

    /// The model (`project_name`).
    pub fn model(&self) -> Option<&'a str> {
        self.names[0]
    }

    /// The version of the tool that wrote the rows.
    pub fn tool_version(&self) -> Option<&'a str> {
        self.names[1]
    }

    /// Where the run took place.
    pub fn place(&self) -> Place {
        let name = |i: usize| self.names[i].map(str::to_owned);
        Place {
            country: name(2),
            country_iso: name(3),
            region: name(4),
            cloud_provider: name(5),
            cloud_region: name(6),
        }
    }

    /// Whether the run used a cloud service, by the rule of [`Place::on_cloud`].
    pub fn on_cloud(&self) -> bool {
        given(self.names[5]).is_some()
    }

    /// The hardware.
    pub fn hardware(&self) -> Hardware {
        Hardware {
            cpu: self.names[7].map(str::to_owned),
            gpu: self.names[8].map(str::to_owned),
            gpu_count: self.gpu_count,
        }
    }
}

/// The energy, CO2e and duration of one row (or of a sum of rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amounts {
    /// Energy, when the source has an energy figure.
    pub energy: Option<Energy>,
    /// Total CO2e.
    pub emissions: Mass,
    /// Duration, when recorded.
    pub duration: Option<Duration>,
}

impl Amounts {
    /// A measured row's: energy, CO2e and duration all known.
    pub fn measured(energy: Energy, emissions: Mass, duration: Duration) -> Amounts {
        Amounts {
            energy: Some(energy),
            emissions,
            duration: Some(duration),
        }
    }

    /// A record's.
    pub fn of(r: &RunRecord) -> Amounts {
        Amounts {
            energy: r.energy,
            emissions: r.emissions,
            duration: r.duration,
        }
    }
}

/// One run (or one part of a run) as read from a log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// File and line (and path inside the file) it was read from.
    pub source: Location,
    /// The format the figures come from (for records of carbon-gate's own JSON: the format they
    /// were first read from).
    pub format: Format,
    /// The layout of the file, e.g. `codecarbon 2.7–3.0.7 (32 columns)`.
    pub layout: String,
    /// The version of the tool that wrote it, when known.
    pub tool_version: Option<String>,
    /// The run id: the key under which rows of the same run are reconciled.
    pub run_id: String,
    /// Set for a task of a run or a component of a system.
    pub part: Option<Part>,
    /// The model, as the source names it (CodeCarbon/eco2AI `project_name`, a manifest's tag or
    /// name, a card's model name).
    pub model: Option<String>,
    /// The model version, when the source says.
    pub version: Option<String>,
    /// The life-cycle phase, when the source says (or `--phase`).
    pub phase: Option<Phase>,
    /// When it was written, as the tool wrote it (often local time with no zone).
    pub timestamp: Option<String>,
    /// Tracked duration.
    #[serde(rename = "duration_s")]
    pub duration: Option<Duration>,
    /// Energy consumed, with the tool's PUE applied where it applies one; `None` when the source
    /// has no energy figure (a model card).
    #[serde(rename = "energy_kwh")]
    pub energy: Option<Energy>,
    /// Total CO2e, kg: operational plus embodied where the source gives embodied.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// The embodied (Scope 3) part of `emissions`, when the source separates it.
    #[serde(rename = "embodied_co2e_kg")]
    pub embodied: Option<Mass>,
    /// Energy by component, when present and read.
    pub components: Option<Components>,
    /// Where the run took place.
    pub place: Place,
    /// The hardware, when recorded.
    pub hardware: Hardware,
    /// PUE the tool applied, when it says.
    pub pue: Option<f64>,
    /// Measured, or estimated (and how).
    pub method: Method,
    /// Market-based operational CO2e (a contractual factor the user supplied), kg; reported
    /// beside the location-based figure, never subtracted from it.
    #[serde(rename = "market_co2e_kg")]
    pub market: Option<Mass>,
    /// Low/high band of an estimate.
    pub band: Option<Band>,
    /// The inputs of an estimate, each with its source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
    /// Quality metrics of the model version the run produced (carbon-gate records only).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics: crate::metrics::Metrics,
}

impl RunRecord {
    /// A record with only the required figures; parsers fill in the rest.
    pub fn new(source: Location, format: Format, run_id: String, emissions: Mass) -> Self {
        Self {
            source,
            format,
            layout: String::new(),
            tool_version: None,
            run_id,
            part: None,
            model: None,
            version: None,
            phase: None,
            timestamp: None,
            duration: None,
            energy: None,
            emissions,
            embodied: None,
            components: None,
            place: Place::default(),
            hardware: Hardware::default(),
            pue: None,
            method: Method::Measured,
            market: None,
            band: None,
            assumptions: Vec::new(),
            metrics: crate::metrics::Metrics::new(),
        }
    }

    /// A CodeCarbon whole-run row of `profile` (no task, timestamp or per-component energies:
    /// the caller adds those it has) — the one way a record is built from a profile, whether
    /// the row is parsed whole, kept whole by the stream, or turned back from a ledger slot.
    pub fn from_profile(
        source: Location,
        layout: &str,
        run_id: String,
        profile: &Profile<'_>,
        amounts: Amounts,
    ) -> Self {
        let mut r = RunRecord::new(source, Format::Codecarbon, run_id, amounts.emissions);
        r.layout = layout.to_owned();
        r.model = profile.model().map(str::to_owned);
        r.tool_version = profile.tool_version().map(str::to_owned);
        r.duration = amounts.duration;
        r.energy = amounts.energy;
        r.place = profile.place();
        r.hardware = profile.hardware();
        r.pue = profile.pue;
        r
    }

    /// The operational (location-based) part of `emissions`.
    pub fn operational(&self) -> Mass {
        self.emissions - self.embodied.unwrap_or(Mass::ZERO)
    }

    /// Whether the run used a cloud service ([`Place::on_cloud`]).
    pub fn on_cloud(&self) -> bool {
        self.place.on_cloud()
    }

    /// The task name, for a task row.
    pub fn task(&self) -> Option<&str> {
        match &self.part {
            Some(Part::Task(t)) => Some(t),
            _ => None,
        }
    }
}

/// Largest CO2e one run may report: 1 Gt (the world emits about 37 Gt CO2 a year).
pub const MAX_RUN_CO2E_KG: f64 = 1e12;
/// Largest energy one run may report: 1 PWh (the world uses about 30 PWh of electricity a year).
pub const MAX_RUN_ENERGY_KWH: f64 = 1e12;
/// Longest duration one run may report: about 100 years.
pub const MAX_RUN_DURATION_S: f64 = 3.2e9;

/// Refuse figures no training run can have (`1e308` kg, a century-long run): they are corrupt
/// input, and summing them would overflow to infinity.
pub fn check_plausible(records: &[RunRecord]) -> Result<(), crate::error::Error> {
    for r in records {
        check_figures(
            &|| r.source.clone(),
            &r.run_id,
            r.model.as_deref(),
            r.version.as_deref(),
            r.emissions,
            r.energy,
            r.duration,
        )?;
    }
    Ok(())
}

/// The checks of [`check_plausible`] on one run's names and figures (`source` gives the place
/// to report, only when there is something to report).
pub fn check_figures(
    source: &dyn Fn() -> crate::error::Location,
    run_id: &str,
    model: Option<&str>,
    version: Option<&str>,
    emissions: Mass,
    energy: Option<Energy>,
    duration: Option<Duration>,
) -> Result<(), crate::error::Error> {
    use crate::error::{Error, Problem};
    let bad = |what: &str, value: f64, max: f64, unit: &str| {
        Err(Error::input(
            Problem::new(
                source(),
                format!(
                    "run {run_id}: {what} {value:e} {unit} is not plausible for one run (more than {max:e} {unit})"
                ),
            )
            .with_help("the log is corrupt or its unit is wrong; fix or leave out this row"),
        ))
    };
    for (what, text) in [
        ("run id", Some(run_id)),
        ("model", model),
        ("version", version),
    ] {
        // Control characters are C0, DEL and C1 (encoded after a 0xC2 byte): most names have
        // none of those bytes and need no decoding.
        if let Some(t) = text
            && t.bytes()
                .fold(false, |any, b| any | (b < 0x20) | (b == 0x7f) | (b == 0xc2))
            && t.chars().any(|c| c.is_control() && c != '\t')
        {
            return Err(Error::input(
                Problem::new(
                    source(),
                    format!(
                        "the {what} {t:?} holds control characters (NUL bytes?): the file is corrupt or binary"
                    ),
                )
                .with_help("use the log the tracker wrote; names must be plain text"),
            ));
        }
    }
    let co2e = emissions.value();
    if co2e > MAX_RUN_CO2E_KG {
        return bad("CO2e", co2e, MAX_RUN_CO2E_KG, "kg");
    }
    if let Some(e) = energy.map(|e| e.value())
        && e > MAX_RUN_ENERGY_KWH
    {
        return bad("energy", e, MAX_RUN_ENERGY_KWH, "kWh");
    }
    if let Some(d) = duration.map(|d| d.value())
        && d > MAX_RUN_DURATION_S
    {
        return bad("duration", d, MAX_RUN_DURATION_S, "s");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Phase, Place, Profile, Site};

    fn place(names: [&str; 5]) -> Place {
        let text = |t: &str| (!t.is_empty()).then(|| t.to_owned());
        Place {
            country: text(names[0]),
            country_iso: text(names[1]),
            region: text(names[2]),
            cloud_provider: text(names[3]),
            cloud_region: text(names[4]),
        }
    }

    /// Issue #20: one rule for the place of a run. The cloud region when provider and region
    /// are both recorded; else the country's ISO code, else its name; blanks are not given and
    /// texts are trimmed. (The model card's `geographical_location` used the name before the
    /// code and did not trim; the grid rule skipped the name when the code was blank.)
    #[test]
    fn the_site_of_a_run() {
        let site = |n| place(n).site().map(|s| format!("{s:?}"));
        assert_eq!(
            site(["France", "FRA", "", " aws ", "eu-west-3"]).as_deref(),
            Some("Cloud { provider: \"aws\", region: \"eu-west-3\" }")
        );
        assert_eq!(
            place(["France", "FRA", "", "aws", " "]).site(),
            Some(Site::Country("FRA"))
        );
        assert_eq!(
            place(["France", " ", "", "", ""]).site(),
            Some(Site::Country("France"))
        );
        assert_eq!(
            place([" FRA ", "", "", "", ""]).site(),
            Some(Site::Country("FRA"))
        );
        assert_eq!(place(["", "", "Bavaria", "", ""]).site(), None);
    }

    #[test]
    fn on_cloud_is_one_rule_for_records_and_profiles() {
        for provider in ["", " ", "aws", " gcp "] {
            let p = place(["", "", "", provider, ""]);
            let profile = Profile {
                names: [
                    None,
                    None,
                    None,
                    None,
                    None,
                    p.cloud_provider.as_deref(),
                    None,
                    None,
                    None,
                ],
                ..Profile::default()
            };
            assert_eq!(p.on_cloud(), profile.on_cloud(), "{provider:?}");
            assert_eq!(p.on_cloud(), !provider.trim().is_empty(), "{provider:?}");
        }
    }

    #[test]
    fn phases_as_tools_write_them() {
        assert_eq!(Phase::from_text("pre-training"), Some(Phase::Training));
        assert_eq!(Phase::from_text("Fine-tuning"), Some(Phase::FineTuning));
        assert_eq!(Phase::from_text("fine_tuning"), Some(Phase::FineTuning));
        assert_eq!(Phase::from_text("inference"), Some(Phase::Inference));
        assert_eq!(Phase::from_text("eval"), Some(Phase::Evaluation));
        assert_eq!(Phase::from_text("cooking"), None);
    }
}
