//! What-if: how much a model's cloud runs would have emitted in other regions of the same
//! provider, from the embedded location-based intensities.
//!
//! Method: the runs' energy (as logged or estimated, PUE included where it was) × each region's
//! intensity, compared with the operational CO2e the runs had. The provider's PUE is the same in
//! every region (their published figures are fleet-wide), so the energy is kept as it is. The
//! savings are hypothetical, *avoided* emissions: they are reported beside the inventory, never
//! subtracted from it. Runs without a cloud region (on premises, or not recorded) get no
//! alternative: the tool cannot tell where else they could have run.

use serde::Serialize;

use crate::assessment::ModelReport;
use crate::ledger::Contribution;
use crate::policy::grid::{place_of, run_intensity};
use crate::reference::Reference;
use crate::units::{Intensity, Mass, exact_sum, format_significant};

/// One alternative region.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RegionOption {
    /// `provider:region`.
    pub region: String,
    /// Where it is.
    pub location: String,
    /// Its location-based intensity, g CO2e/kWh.
    pub g_per_kwh: f64,
    /// Operational CO2e the runs would have emitted there, kg.
    pub co2e_kg: f64,
    /// Saving vs the runs as they ran, kg (positive: less).
    pub saving_kg: f64,
    /// Saving in % of the runs' operational CO2e.
    pub saving_pct: f64,
    /// Whether the policy lists it in `preferred-regions`.
    pub preferred: bool,
    /// Source and year of its intensity.
    pub source: String,
}

/// What-if for one model's runs on one provider.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WhatIf {
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// The cloud provider.
    pub provider: String,
    /// The regions the runs used.
    pub ran_in: Vec<String>,
    /// Energy of those runs, kWh.
    pub energy_kwh: f64,
    /// Their operational (location-based) CO2e, kg.
    pub operational_co2e_kg: f64,
    /// Their average intensity, g/kWh.
    pub g_per_kwh: f64,
    /// The preferred regions first, then the cleanest ones, up to the count asked.
    pub options: Vec<RegionOption>,
    /// Runs of the model with no cloud region, which got no alternative.
    pub runs_without_region: usize,
    /// One sentence per option ([`sentences`]), as the renderers show them (not in the JSON).
    #[serde(skip)]
    pub sentences: Vec<String>,
}

/// The what-ifs of one model: one per cloud provider its runs used.
pub fn what_if(
    m: &ModelReport,
    reference: &Reference,
    preferred: &[String],
    count: usize,
) -> Vec<WhatIf> {
    let mut providers: Vec<String> = Vec::new();
    let on_cloud = |c: &Contribution| c.place.provider().map(str::to_ascii_lowercase);
    for c in &m.contributions {
        if let Some(p) = on_cloud(c)
            && run_intensity(c).is_some()
            && !providers.contains(&p)
        {
            providers.push(p);
        }
    }
    let without = m
        .contributions
        .iter()
        .filter(|c| on_cloud(c).is_none())
        .count();
    let mut out = Vec::new();
    for provider in providers {
        let runs: Vec<&Contribution> = m
            .contributions
            .iter()
            .filter(|c| on_cloud(c).as_deref() == Some(provider.as_str()))
            .filter(|c| run_intensity(c).is_some())
            .collect();
        let energy = exact_sum(runs.iter().filter_map(|c| c.energy.map(|e| e.value())));
        let operational = exact_sum(
            runs.iter()
                .map(|c| c.emissions.value() - c.embodied.map_or(0.0, |e| e.value())),
        );
        if energy <= 0.0 {
            continue;
        }
        let mut ran_in: Vec<String> = Vec::new();
        for c in &runs {
            if let Some(p) = place_of(c, reference)
                && !ran_in.contains(&p)
            {
                ran_in.push(p);
            }
        }
        let mut options: Vec<RegionOption> = reference
            .regions
            .iter()
            .filter(|r| r.provider.eq_ignore_ascii_case(&provider))
            .filter_map(|r| {
                let g = r.g_per_kwh?;
                let name = format!("{}:{}", r.provider, r.region);
                let co2e = energy * g / 1000.0;
                Some(RegionOption {
                    preferred: preferred.contains(&name),
                    region: name,
                    location: r.location.clone(),
                    g_per_kwh: g,
                    co2e_kg: co2e,
                    saving_kg: operational - co2e,
                    saving_pct: if operational > 0.0 {
                        (operational - co2e) / operational * 100.0
                    } else {
                        0.0
                    },
                    source: match r.year {
                        Some(y) => format!("{} ({y})", r.source),
                        None => r.source.clone(),
                    },
                })
            })
            .filter(|o| !ran_in.contains(&o.region) && (o.preferred || o.saving_kg > 0.0))
            .collect();
        options.sort_by(|a, b| {
            b.preferred
                .cmp(&a.preferred)
                .then(a.g_per_kwh.total_cmp(&b.g_per_kwh))
                .then(a.region.cmp(&b.region))
        });
        let preferred_count = options.iter().filter(|o| o.preferred).count();
        options.truncate(count.max(preferred_count));
        let mut w = WhatIf {
            model: m.model.clone(),
            version: m.version.clone(),
            provider,
            ran_in,
            energy_kwh: energy,
            operational_co2e_kg: operational,
            g_per_kwh: operational * 1000.0 / energy,
            options,
            runs_without_region: without,
            sentences: Vec::new(),
        };
        w.sentences = sentences(&w);
        out.push(w);
    }
    out
}

/// One sentence per option: "Training in aws:eu-north-1 (Stockholm) would have emitted 3.1 kg
/// instead of 41.6 kg (−93%)".
pub fn sentences(w: &WhatIf) -> Vec<String> {
    w.options
        .iter()
        .map(|o| {
            let change = if o.saving_kg >= 0.0 {
                format!("−{}%", format_significant(o.saving_pct, 3))
            } else {
                format!("+{}%", format_significant(-o.saving_pct, 3))
            };
            format!(
                "Running in {} ({}{}) would have emitted {} instead of {} ({change}) at {} vs {}",
                o.region,
                o.location,
                if o.preferred { ", preferred" } else { "" },
                Mass::kg(o.co2e_kg),
                Mass::kg(w.operational_co2e_kg),
                Intensity::g_per_kwh(o.g_per_kwh),
                Intensity::g_per_kwh(w.g_per_kwh)
            )
        })
        .collect()
}
