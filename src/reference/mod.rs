//! Embedded reference data: accelerator and CPU power, grid carbon intensity per country, US state,
//! Canadian province and cloud region, PUE, embodied-carbon and lifetime defaults.
//!
//! The data are small CSV files in this folder, compiled in with `include_str!` so the tool works
//! offline. Every row names its source and year; `carbon-gate reference list|show` prints them, and
//! estimates list the rows they used. Users override any value in the policy file or on the
//! command line. Look-ups forgive case, spaces and punctuation (`a100 80gb` finds
//! `A100-SXM4-80GB`'s alias) and, when nothing matches, suggest the closest names.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::units::{Intensity, Mass, Power};

/// An accelerator (GPU, TPU…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accelerator {
    /// Canonical name.
    pub id: String,
    /// Other spellings, `;`-separated.
    pub aliases: String,
    /// Maker.
    pub vendor: String,
    /// gpu, tpu, npu.
    pub kind: String,
    /// Maximum board power / TDP, W.
    pub tdp_w: f64,
    /// Peak dense BF16/FP16 tensor throughput, TFLOP/s.
    pub peak_tflops_bf16_dense: Option<f64>,
    /// Peak FP32 throughput, TFLOP/s.
    pub peak_tflops_fp32: Option<f64>,
    /// Memory, GB.
    pub memory_gb: Option<f64>,
    /// Cradle-to-gate embodied CO2e per accelerator, kg, where published.
    pub embodied_kg: Option<f64>,
    /// Where the embodied figure comes from.
    pub embodied_source: Option<String>,
    /// Where the power and throughput come from.
    pub source: String,
    /// Year of the source.
    pub year: Option<u32>,
}

impl Accelerator {
    /// The TDP as a power.
    pub fn tdp(&self) -> Power {
        Power::watts(self.tdp_w)
    }
}

/// A CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    /// Canonical name.
    pub id: String,
    /// Other spellings, `;`-separated.
    pub aliases: String,
    /// Maker.
    pub vendor: String,
    /// Cores.
    pub cores: Option<u32>,
    /// TDP, W.
    pub tdp_w: f64,
    /// Source.
    pub source: String,
    /// Year of the source.
    pub year: Option<u32>,
}

/// Grid carbon intensity of a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryGrid {
    /// ISO 3166-1 alpha-2.
    pub iso2: String,
    /// ISO 3166-1 alpha-3.
    pub iso3: String,
    /// Name.
    pub country: String,
    /// g CO2e per kWh.
    pub g_per_kwh: f64,
    /// Year of the figure.
    pub year: Option<u32>,
    /// lifecycle or direct.
    pub basis: String,
    /// Source.
    pub source: String,
}

/// Grid carbon intensity of a subdivision (US state, Canadian province…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubdivisionGrid {
    /// ISO 3166-1 alpha-2 of the country.
    pub iso2: String,
    /// ISO 3166-2 code, e.g. `US-VA`.
    pub subdivision: String,
    /// Name.
    pub name: String,
    /// g CO2e per kWh.
    pub g_per_kwh: f64,
    /// Year.
    pub year: Option<u32>,
    /// lifecycle or direct.
    pub basis: String,
    /// Source.
    pub source: String,
}

/// A cloud region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudRegion {
    /// aws, gcp, azure.
    pub provider: String,
    /// The provider's region code.
    pub region: String,
    /// Where it is.
    pub location: String,
    /// Country.
    pub iso2: String,
    /// Subdivision, when documented.
    pub subdivision: Option<String>,
    /// g CO2e per kWh (location-based).
    pub g_per_kwh: Option<f64>,
    /// Year of the figure.
    pub year: Option<u32>,
    /// Basis of the figure.
    pub basis: Option<String>,
    /// Source.
    pub source: String,
    /// The provider's published PUE, when known.
    pub pue: Option<f64>,
    /// Its source.
    pub pue_source: Option<String>,
}

/// A PUE default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PueRow {
    /// `industry-average`, `gcp`, `aws`, `azure`…
    pub scope: String,
    /// The PUE.
    pub value: f64,
    /// Year.
    pub year: Option<u32>,
    /// Source.
    pub source: String,
}

/// A default value with its stated range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Default {
    /// Key.
    pub key: String,
    /// Central value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// Value used for the low end of a band.
    pub low: f64,
    /// Value used for the high end of a band.
    pub high: f64,
    /// Source.
    pub source: String,
    /// Year.
    pub year: Option<u32>,
}

/// All embedded tables.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Accelerators.
    pub accelerators: Vec<Accelerator>,
    /// CPUs.
    pub cpus: Vec<Cpu>,
    /// Countries.
    pub countries: Vec<CountryGrid>,
    /// Subdivisions.
    pub subdivisions: Vec<SubdivisionGrid>,
    /// Cloud regions.
    pub regions: Vec<CloudRegion>,
    /// PUE defaults.
    pub pue: Vec<PueRow>,
    /// Other defaults.
    pub defaults: Vec<Default>,
}

/// The embedded tables as CSV text: (table name, file, text).
pub const TABLES: &[(&str, &str, &str)] = &[
    (
        "accelerators",
        "accelerators.csv",
        include_str!("accelerators.csv"),
    ),
    ("cpus", "cpus.csv", include_str!("cpus.csv")),
    (
        "countries",
        "grid_countries.csv",
        include_str!("grid_countries.csv"),
    ),
    (
        "subdivisions",
        "grid_subdivisions.csv",
        include_str!("grid_subdivisions.csv"),
    ),
    (
        "regions",
        "cloud_regions.csv",
        include_str!("cloud_regions.csv"),
    ),
    ("pue", "pue.csv", include_str!("pue.csv")),
    ("defaults", "defaults.csv", include_str!("defaults.csv")),
];

/// The header and rows of an embedded table, as text.
pub fn raw_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let rows = reader
        .records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Rows of any table in which a cell (or one of its `;`-separated parts) is `name`, as
/// (table, header, row). Case, spaces and punctuation are ignored; `aws:eu-west-3` matches a
/// region row by provider and region.
pub fn find_rows(name: &str) -> Vec<(&'static str, Vec<String>, Vec<String>)> {
    let wanted = squash(name);
    let mut found = Vec::new();
    for (table, _, text) in TABLES {
        let (header, rows) = raw_rows(text);
        for row in rows {
            let joined = format!(
                "{}{}",
                row.first().map_or("", String::as_str),
                row.get(1).map_or("", String::as_str)
            );
            let hit = row
                .iter()
                .take(3)
                .flat_map(|c| c.split(';'))
                .any(|part| squash(part) == wanted)
                || (*table == "regions" && squash(&joined) == wanted);
            if hit {
                found.push((*table, header.clone(), row));
            }
        }
    }
    found
}

/// Every name `find_rows` can match, for suggestions.
pub fn known_names() -> Vec<String> {
    let mut names = Vec::new();
    for (table, _, text) in TABLES {
        let (_, rows) = raw_rows(text);
        for row in rows {
            if *table == "regions" {
                names.push(format!(
                    "{}:{}",
                    row.first().map_or("", String::as_str),
                    row.get(1).map_or("", String::as_str)
                ));
            } else if let Some(first) = row.first() {
                names.push(first.clone());
            }
        }
    }
    names
}

/// Which table a file fills, for error messages.
fn table<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Result<Vec<T>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| format!("src/reference/{name}, row {}: {e}", i + 2)))
        .collect()
}

impl Reference {
    /// Parse the embedded tables.
    pub fn parse() -> Result<Reference, String> {
        Ok(Reference {
            accelerators: table("accelerators.csv", TABLES[0].2)?,
            cpus: table("cpus.csv", TABLES[1].2)?,
            countries: table("grid_countries.csv", TABLES[2].2)?,
            subdivisions: table("grid_subdivisions.csv", TABLES[3].2)?,
            regions: table("cloud_regions.csv", TABLES[4].2)?,
            pue: table("pue.csv", TABLES[5].2)?,
            defaults: table("defaults.csv", TABLES[6].2)?,
        })
    }

    /// The embedded tables, parsed once.
    pub fn embedded() -> Result<&'static Reference, crate::error::Error> {
        static DATA: OnceLock<Result<Reference, String>> = OnceLock::new();
        DATA.get_or_init(Reference::parse)
            .as_ref()
            .map_err(|e| crate::error::Error::Usage(format!("embedded reference data: {e}")))
    }

    /// A default by key.
    pub fn default_value(&self, key: &str) -> Option<&Default> {
        self.defaults.iter().find(|d| d.key == key)
    }

    /// Find an accelerator by name or alias.
    pub fn accelerator(&self, name: &str) -> Result<&Accelerator, Vec<String>> {
        let wanted = squash(name);
        self.accelerators
            .iter()
            .find(|a| squash(&a.id) == wanted)
            .or_else(|| {
                self.accelerators
                    .iter()
                    .find(|a| a.aliases.split(';').any(|al| squash(al) == wanted))
            })
            .ok_or_else(|| {
                closest(
                    name,
                    self.accelerators.iter().flat_map(|a| {
                        std::iter::once(a.id.as_str())
                            .chain(a.aliases.split(';').map(str::trim))
                            .filter(|s| !s.is_empty())
                    }),
                )
            })
    }

    /// The variants a family name stands for (`A100`: the SXM4 and PCIe boards of 40 and 80 GB,
    /// of 250–400 W): the accelerators whose name begins with `name`, when `name` is not itself
    /// the name of one. Empty when `name` names one accelerator.
    pub fn variants(&self, name: &str) -> Vec<&Accelerator> {
        let wanted = squash(name);
        if wanted.is_empty() || self.accelerators.iter().any(|a| squash(&a.id) == wanted) {
            return Vec::new();
        }
        let found: Vec<&Accelerator> = self
            .accelerators
            .iter()
            .filter(|a| squash(&a.id).starts_with(&wanted))
            .collect();
        if found.len() > 1 { found } else { Vec::new() }
    }

    /// Find a country by ISO alpha-2, alpha-3 or name.
    pub fn country(&self, name: &str) -> Result<&CountryGrid, Vec<String>> {
        let wanted = squash(name);
        self.countries
            .iter()
            .find(|c| {
                squash(&c.iso2) == wanted
                    || squash(&c.iso3) == wanted
                    || squash(&c.country) == wanted
            })
            .ok_or_else(|| {
                closest(
                    name,
                    self.countries
                        .iter()
                        .flat_map(|c| [c.iso2.as_str(), c.iso3.as_str(), c.country.as_str()]),
                )
            })
    }

    /// Find a US state or other subdivision by ISO 3166-2 code or name.
    pub fn subdivision(&self, code: &str) -> Option<&SubdivisionGrid> {
        let wanted = squash(code);
        self.subdivisions
            .iter()
            .find(|s| squash(&s.subdivision) == wanted || squash(&s.name) == wanted)
    }

    /// Find a cloud region, written `provider:region` (`aws:eu-west-3`).
    pub fn region(&self, spec: &str) -> Result<&CloudRegion, Vec<String>> {
        let (provider, region) = spec.split_once(':').unwrap_or(("", spec));
        let p = squash(provider);
        let r = squash(region);
        self.regions
            .iter()
            .find(|x| (p.is_empty() || squash(&x.provider) == p) && squash(&x.region) == r)
            .ok_or_else(|| {
                let names: Vec<String> = self
                    .regions
                    .iter()
                    .map(|x| format!("{}:{}", x.provider, x.region))
                    .collect();
                closest(spec, names.iter().map(String::as_str))
            })
    }

    /// The PUE row for a scope (`industry-average`, `aws`…).
    pub fn pue_for(&self, scope: &str) -> Option<&PueRow> {
        self.pue
            .iter()
            .find(|p| p.scope.eq_ignore_ascii_case(scope))
    }

    /// The embodied CO2e of an accelerator, or the default with its row.
    pub fn accelerator_embodied(&self, a: Option<&Accelerator>) -> Option<(Mass, String)> {
        if let Some(a) = a
            && let Some(kg) = a.embodied_kg
        {
            return Some((
                Mass::kg(kg),
                a.embodied_source
                    .clone()
                    .unwrap_or_else(|| a.source.clone()),
            ));
        }
        self.default_value("accelerator-embodied")
            .map(|d| (Mass::kg(d.value), d.source.clone()))
    }
}

/// Lower-case letters and digits only: `A100 SXM4 80 GB` → `a100sxm480gb`.
pub fn squash(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The (up to) five known names closest to `name`.
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = squash(name);
    let mut scored: Vec<(f64, &str)> = known
        .map(|k| {
            let s = squash(k);
            let mut score = strsim::jaro_winkler(&wanted, &s);
            if !wanted.is_empty() && (s.contains(&wanted) || wanted.contains(&s)) {
                score += 0.5;
            }
            (score, k)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, k) in scored {
        if !out.iter().any(|o| o == k) {
            out.push(k.to_owned());
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// The grid intensity as a typed value.
pub fn intensity(g_per_kwh: f64) -> Intensity {
    Intensity::g_per_kwh(g_per_kwh)
}
