//! Evaluate a checked policy against the ledger: one [`ModelReport`] per model.
//!
//! The first budget that applies to a model and version is used. A limit is exceeded when the
//! total is strictly greater than it. A model with runs but no budget passes with a `no-budget`
//! warning; a model named in the check whose budget applies but which has no run fails closed
//! (`no-data-for-budget`).

use super::model::{DecideOn, EmbodiedRule};
use super::validate::{Budget, Policy, Thresholds};
use crate::codes;
use crate::embodied;
use crate::error::Location;
use crate::ledger::Entry;
use crate::reference::Reference;
use crate::report::{
    AppliedLimits, BudgetRef, Finding, LimitValues, Metric, ModelReport, Severity, Verdict,
};
use crate::units::format_significant;

/// Evaluate every ledger entry. `reference` supplies embodied-carbon defaults for budgets that
/// count embodied carbon.
pub fn evaluate(policy: &Policy, entries: &[Entry], reference: &Reference) -> Vec<ModelReport> {
    entries
        .iter()
        .map(|e| evaluate_one(policy, e, reference))
        .collect()
}

/// Add embodied carbon to the contributions that lack it; report those where it cannot be
/// computed.
fn fill_embodied(
    entry: &mut Entry,
    budget: &Budget,
    policy: &Policy,
    reference: &Reference,
    findings: &mut Vec<Finding>,
) {
    let mut missing = Vec::new();
    for c in entry
        .contributions
        .iter_mut()
        .filter(|c| c.embodied.is_none())
    {
        match embodied::for_run(reference, &policy.overrides, &c.hardware, c.duration) {
            Ok(share) => {
                c.embodied = Some(share.central);
                c.emissions += share.central;
                c.embodied_basis = Some(share.basis);
                let t = &mut entry.totals;
                t.embodied += share.central;
                t.emissions += share.central;
                t.scopes.embodied += share.central;
                t.emissions_low += share.low;
                t.emissions_high += share.high;
            }
            Err(why) => missing.push(format!("{} ({why})", c.source)),
        }
    }
    if missing.is_empty() {
        return;
    }
    let severity = if budget.embodied == EmbodiedRule::Required {
        Severity::Fail
    } else {
        Severity::Warn
    };
    findings.push(Finding {
        source: Some(budget.origin.clone()),
        ..plain(
            codes::MISSING_EMBODIED,
            severity,
            format!(
                "embodied carbon could not be computed for {} of {} counted rows: {}",
                missing.len(),
                entry.contributions.len(),
                missing.join("; ")
            ),
        )
    });
}

fn evaluate_one(policy: &Policy, entry: &Entry, reference: &Reference) -> ModelReport {
    let mut entry = entry.clone();
    let entry = &mut entry;
    let version = entry.version.as_ref();
    let budget = policy
        .budgets
        .iter()
        .find(|b| b.applies_to(&entry.model, version));
    let mut findings = Vec::new();
    let mut limits = AppliedLimits::default();
    match budget {
        None => {
            if entry.totals.runs > 0 {
                let needs_version = version.is_none()
                    && policy
                        .budgets
                        .iter()
                        .any(|b| b.model.matches(&entry.model) && b.versions.is_some());
                let message = if needs_version {
                    format!(
                        "no budget applies to {}: its budgets name versions; pass --model-version",
                        entry.model
                    )
                } else {
                    format!("no budget applies to {}", entry.model)
                };
                findings.push(plain(codes::NO_BUDGET, Severity::Warn, message));
            }
        }
        Some(budget) => {
            limits = applied(budget);
            if entry.totals.runs == 0 {
                findings.push(Finding {
                    source: Some(budget.origin.clone()),
                    ..plain(
                        codes::NO_DATA_FOR_BUDGET,
                        Severity::Fail,
                        format!(
                            "no run of {} in the logs, but its budget applies: nothing to check against it",
                            entry.model
                        ),
                    )
                })
            } else {
                if budget.embodied != EmbodiedRule::Ignore {
                    fill_embodied(entry, budget, policy, reference, &mut findings);
                }
                let upper = budget.decide_on == DecideOn::Upper;
                let co2e = if upper {
                    entry.totals.emissions_high
                } else {
                    entry.totals.emissions
                };
                let energy = if upper {
                    entry.totals.energy_high
                } else {
                    entry.totals.energy
                };
                if let Some(t) = budget.limits.co2e {
                    check(
                        Metric::Co2e,
                        upper,
                        co2e.value(),
                        (t.warn.map(|m| m.value()), t.fail.map(|m| m.value())),
                        (
                            &budget.limit_places.co2e_warn,
                            &budget.limit_places.co2e_fail,
                        ),
                        &mut findings,
                    );
                }
                if let Some(t) = budget.limits.energy
                    && entry.totals.runs_without_energy > 0
                {
                    findings.push(Finding {
                        source: budget
                            .limit_places
                            .energy_fail
                            .clone()
                            .or_else(|| budget.limit_places.energy_warn.clone()),
                        metric: Some(Metric::Energy),
                        unit: Some(Metric::Energy.unit()),
                        limit: t.fail.or(t.warn).map(|e| e.value()),
                        ..plain(
                            codes::NO_ENERGY_DATA,
                            Severity::Fail,
                            format!(
                                "{} of {} runs report no energy, so the energy limit cannot be checked",
                                entry.totals.runs_without_energy, entry.totals.runs
                            ),
                        )
                    });
                } else if let Some(t) = budget.limits.energy {
                    check(
                        Metric::Energy,
                        upper,
                        energy.value(),
                        (t.warn.map(|e| e.value()), t.fail.map(|e| e.value())),
                        (
                            &budget.limit_places.energy_warn,
                            &budget.limit_places.energy_fail,
                        ),
                        &mut findings,
                    );
                }
            }
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let verdict = findings
        .iter()
        .map(|f| Verdict::from(f.severity))
        .max()
        .unwrap_or(Verdict::Pass);
    ModelReport {
        model: entry.model.clone(),
        version: entry.version.as_ref().map(ToString::to_string),
        verdict,
        budget: budget.map(|b| BudgetRef {
            name: b.name.clone(),
            model: b.model.as_str().to_owned(),
            versions: b.versions_text.clone(),
            source: b.origin.clone(),
        }),
        limits,
        totals: entry.totals,
        findings,
        contributions: entry.contributions.clone(),
    }
}

fn plain(code: &'static str, severity: Severity, message: String) -> Finding {
    Finding {
        code,
        severity,
        message,
        metric: None,
        measured: None,
        limit: None,
        unit: None,
        source: None,
    }
}

fn applied(budget: &Budget) -> AppliedLimits {
    fn values<T: Copy>(t: Option<Thresholds<T>>, raw: impl Fn(T) -> f64) -> Option<LimitValues> {
        t.map(|t| LimitValues {
            warn: t.warn.map(&raw),
            fail: t.fail.map(&raw),
        })
    }
    AppliedLimits {
        co2e_kg: values(budget.limits.co2e, |m| m.value()),
        energy_kwh: values(budget.limits.energy, |e| e.value()),
    }
}

/// Render a raw value of a metric for messages (4 significant digits, adapted unit).
fn show(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Co2e => crate::units::Mass::kg(value).to_string(),
        Metric::Energy => crate::units::Energy::kwh(value).to_string(),
    }
}

fn check(
    metric: Metric,
    upper: bool,
    measured: f64,
    (warn, fail): (Option<f64>, Option<f64>),
    (warn_at, fail_at): (&Option<Location>, &Option<Location>),
    findings: &mut Vec<Finding>,
) {
    let over = |limit: f64| {
        if limit > 0.0 {
            format!(
                " (+{}%)",
                format_significant((measured - limit) / limit * 100.0, 3)
            )
        } else {
            String::new()
        }
    };
    let (code, severity, limit, at, level) = match (fail, warn) {
        (Some(f), _) if measured > f => {
            (codes::BUDGET_EXCEEDED, Severity::Fail, f, fail_at, "fail")
        }
        (_, Some(w)) if measured > w => (codes::BUDGET_WARNING, Severity::Warn, w, warn_at, "warn"),
        _ => return,
    };
    let mut message = format!(
        "{}{} {} exceeds the {level} limit of {}{}",
        metric.label(),
        if upper { " upper bound" } else { "" },
        show(metric, measured),
        show(metric, limit),
        over(limit)
    );
    if let (Severity::Warn, Some(f)) = (severity, fail) {
        message.push_str(&format!("; fails above {}", show(metric, f)));
    }
    findings.push(Finding {
        code,
        severity,
        message,
        metric: Some(metric),
        measured: Some(measured),
        limit: Some(limit),
        unit: Some(metric.unit()),
        source: at.clone(),
    });
}
