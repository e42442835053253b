//! Rules about where runs ran: the grid intensity each run ran at (`limits.intensity`, or
//! `max-intensity`), and the policy's preferred cloud regions.
//!
//! A run's intensity is its operational (location-based) CO2e divided by its energy, so it is the
//! factor the tracker or the estimate actually used, PUE included where the energy includes it.

use super::findings::{over, with_mode};
use super::validate::Budget;
use crate::assessment::{Finding, Metric, Severity};
use crate::codes;
use crate::ledger::{Contribution, Entry};
use crate::record::Site;
use crate::reference::Reference;
use crate::units::Intensity;

/// Where a run ran ([`crate::record::Place::site`]): `provider:region` (normalised through the
/// reference when it knows the region), else the country, else `None`.
pub fn place_of(c: &Contribution, reference: &Reference) -> Option<String> {
    Some(match c.place.site()? {
        Site::Cloud { provider, region } => {
            let spec = format!("{provider}:{region}");
            match reference.region(&spec) {
                Ok(r) => format!("{}:{}", r.provider, r.region),
                Err(_) => spec.to_ascii_lowercase(),
            }
        }
        Site::Country(country) => country.to_owned(),
    })
}

/// The grid intensity a run ran at, when it has energy and operational CO2e.
pub fn run_intensity(c: &Contribution) -> Option<Intensity> {
    if c.worst_intensity.is_some() {
        // A roll-up of many runs: its dirtiest run.
        return c.worst_intensity;
    }
    let e = c.energy?.value();
    let op = c.emissions.value() - c.embodied.map_or(0.0, |m| m.value());
    (e > 0.0 && op.is_finite()).then(|| Intensity::g_per_kwh(op * 1000.0 / e))
}

/// The cleanest region of a provider in the reference.
fn cleanest(provider: &str, reference: &Reference) -> Option<(String, f64)> {
    reference
        .regions
        .iter()
        .filter(|r| r.provider.eq_ignore_ascii_case(provider))
        .filter_map(|r| Some((format!("{}:{}", r.provider, r.region), r.g_per_kwh?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// `limits.intensity`: the dirtiest run against the limits.
pub fn intensity(
    entry: &Entry,
    budget: &Budget,
    reference: &Reference,
    findings: &mut Vec<Finding>,
) {
    let Some(th) = budget.limits.intensity else {
        return;
    };
    let runs: Vec<(&Contribution, f64)> = entry
        .contributions
        .iter()
        .filter_map(|c| Some((c, run_intensity(c)?.value())))
        .collect();
    let Some(&(worst, value)) = runs.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return;
    };
    let (code, severity, lim, level, place) = match (th.fail, th.warn) {
        (Some(f), _) if value > f.value() => (
            codes::INTENSITY_EXCEEDED,
            Severity::Fail,
            f,
            "fail",
            budget.limit_places.intensity_fail.clone(),
        ),
        (_, Some(w)) if value > w.value() => (
            codes::INTENSITY_WARNING,
            Severity::Warn,
            w,
            "warn",
            budget.limit_places.intensity_warn.clone(),
        ),
        _ => return,
    };
    // A roll-up (many runs of one file and profile) is above when its dirtiest run is: how
    // many of its runs are is not kept, so the count is then an upper bound.
    let over_limit: Vec<&Contribution> = runs
        .iter()
        .filter(|(_, v)| *v > lim.value())
        .map(|(c, _)| *c)
        .collect();
    let above_runs = Contribution::rows(over_limit.iter().copied());
    let above = if over_limit.iter().any(|c| c.runs > 1) {
        format!("up to {above_runs}")
    } else {
        above_runs.to_string()
    };
    let total_runs = Contribution::rows(runs.iter().map(|&(c, _)| c));
    let place_text = place_of(worst, reference)
        .map(|p| format!(" in {p}"))
        .unwrap_or_default();
    let hint = worst
        .place
        .provider()
        .and_then(|p| cleanest(p, reference))
        .map(|(r, g)| {
            format!(
                "; the cleanest {} region in the reference is {r} ({})",
                r.split(':').next().unwrap_or_default(),
                Intensity::g_per_kwh(g)
            )
        })
        .unwrap_or_default();
    findings.push(with_mode(
        Finding {
            metric: Some(Metric::Intensity),
            measured: Some(value),
            limit: Some(lim.value()),
            unit: Some("g/kWh"),
            source: place,
            ..Finding::plain(
                code,
                severity,
                format!(
                    "{} ({}) ran at {}{place_text}, above the {level} limit of {lim}{}; {above} of {} runs are above it{hint}",
                    worst.who(),
                    worst.cited(),
                    Intensity::g_per_kwh(value),
                    over(value, lim.value()),
                    total_runs
                ),
            )
        },
        th.mode,
    ));
}

/// `preferred-regions`: runs in a known cloud region outside the list (a warning).
pub fn preferred(
    entry: &Entry,
    budget: &Budget,
    reference: &Reference,
    findings: &mut Vec<Finding>,
) {
    let Some((list, origin)) = &budget.preferred_regions else {
        return;
    };
    let mut outside: Vec<String> = Vec::new();
    let cloud: Vec<&Contribution> = entry
        .contributions
        .iter()
        .filter(|c| c.place.cloud_region_given().is_some())
        .collect();
    let mut outside_rows: Vec<&Contribution> = Vec::new();
    for &c in &cloud {
        if let Some(p) = place_of(c, reference)
            && !list.contains(&p)
        {
            outside_rows.push(c);
            let line = format!("{p} ({})", c.who());
            if !outside.contains(&line) {
                outside.push(line);
            }
        }
    }
    if outside.is_empty() {
        return;
    }
    let (outside_runs, cloud_runs) = (Contribution::rows(outside_rows), Contribution::rows(cloud));
    findings.push(Finding {
        source: Some(origin.clone()),
        ..Finding::plain(
            codes::REGION_NOT_PREFERRED,
            Severity::Warn,
            format!(
                "{outside_runs} of {cloud_runs} cloud runs ran outside the preferred regions ({}): {}",
                list.join(", "),
                outside.join(", ")
            ),
        )
    });
}
