//! The accuracy / energy / CO2e trade-off of a candidate group: its baseline, the candidate and
//! the lighter alternatives side by side, the Pareto-efficient rows, and the recommended row.
//!
//! - A row is **Pareto-efficient** when no other row is at least as accurate and lower in CO2e
//!   (or more accurate and no higher in CO2e). Rows without the metric take no part.
//! - The **recommended** row is the lowest-CO2e row that is accurate enough: meeting the policy's
//!   floor (`accuracy.min`) and, when the policy sets `accuracy.max-drop`, within that drop of the
//!   most accurate row; with neither, at least as accurate as the candidate. Ties go to the more
//!   accurate row. This is the "most proportionate" choice: nothing lighter meets the bar.

use serde::Serialize;

use crate::assessment::{ModelReport, Role, Verdict};
use crate::policy::eval::points;
use crate::policy::model::Direction;
use crate::policy::rules::Accuracy;
use crate::units::{Mass, format_significant};

/// One row of the trade-off table.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// Baseline, candidate or alternative.
    pub role: Role,
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// For alternatives: distilled, quantized…
    pub kind: Option<String>,
    /// The accuracy metric's value.
    pub accuracy: Option<f64>,
    /// Energy, kWh.
    pub energy_kwh: f64,
    /// Operational CO2e, kg.
    pub operational_co2e_kg: f64,
    /// Embodied CO2e, kg.
    pub embodied_co2e_kg: f64,
    /// Total CO2e, kg.
    pub co2e_kg: f64,
    /// CO2e − the baseline's, kg.
    pub delta_co2e_kg: Option<f64>,
    /// Relative to the baseline, %.
    pub delta_co2e_pct: Option<f64>,
    /// kg CO2e per accuracy point.
    pub co2e_per_point_kg: Option<f64>,
    /// Share of the CO2e fail limit left, % (negative: over).
    pub headroom_pct: Option<f64>,
    /// Its verdict against its budget.
    pub verdict: Verdict,
    /// Pareto-efficient?
    pub pareto: bool,
    /// The recommended row?
    pub recommended: bool,
}

impl Row {
    /// `text-gen-distilled 1.0.0`.
    pub fn label(&self) -> String {
        crate::record::ModelVersion::new(&self.model, self.version.as_deref()).to_string()
    }
}

/// The trade-off of one group.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TradeOff {
    /// The group (the candidate's `model version`).
    pub group: String,
    /// The accuracy metric compared.
    pub metric: Option<String>,
    /// Which way it improves.
    pub higher_is_better: bool,
    /// Baseline, candidate, alternatives.
    pub rows: Vec<Row>,
    /// Index of the recommended row.
    pub recommended: Option<usize>,
    /// Why, in one sentence.
    pub recommendation: String,
    /// The value a row's metric must reach to be recommended ([`threshold`]; not in the JSON).
    #[serde(skip)]
    pub threshold: Option<f64>,
}

fn better(a: f64, b: f64, higher: bool) -> bool {
    if higher { a > b } else { a < b }
}

fn at_least(a: f64, b: f64, higher: bool) -> bool {
    if higher { a >= b } else { a <= b }
}

/// Pareto flags for rows given as (accuracy, co2e).
pub fn pareto(rows: &[(Option<f64>, f64)], higher: bool) -> Vec<bool> {
    rows.iter()
        .enumerate()
        .map(|(i, (acc, co2e))| {
            let Some(acc) = acc else { return false };
            !rows.iter().enumerate().any(|(j, (other, c2))| {
                j != i
                    && other.is_some_and(|o| {
                        (at_least(o, *acc, higher) && c2 < co2e)
                            || (better(o, *acc, higher) && c2 <= co2e)
                    })
            })
        })
        .collect()
}

/// The bar a row's accuracy must meet to be recommended, as one value: the most demanding of the
/// policy's floor (`accuracy.min`), the best row's value less `accuracy.max-drop` and, with
/// neither, the candidate's value. `None`: every row with a known value qualifies (no rule and
/// no known value for the candidate, or no row with a value).
pub fn threshold(
    rows: &[(Option<f64>, f64)],
    candidate: usize,
    rule: Option<&Accuracy>,
    higher: bool,
) -> Option<f64> {
    let best = rows
        .iter()
        .filter_map(|r| r.0)
        .reduce(|a, b| if better(b, a, higher) { b } else { a })?;
    let floor = rule.and_then(|r| r.min);
    let drop = rule
        .and_then(|r| r.max_drop)
        .map(|d| if higher { best - d } else { best + d });
    let as_good = if floor.is_none() && drop.is_none() {
        rows.get(candidate).and_then(|r| r.0)
    } else {
        None
    };
    [floor, drop, as_good]
        .into_iter()
        .flatten()
        .reduce(|a, b| if better(b, a, higher) { b } else { a })
}

/// Whether `accuracy` meets `threshold` ([`threshold`]; none: every value does).
pub fn meets(accuracy: f64, threshold: Option<f64>, higher: bool) -> bool {
    threshold.is_none_or(|t| at_least(accuracy, t, higher))
}

/// The recommended row among (accuracy, co2e) rows: the lowest-CO2e row whose accuracy
/// [`meets`] the [`threshold`], ties to the more accurate.
pub fn recommend(
    rows: &[(Option<f64>, f64)],
    candidate: usize,
    rule: Option<&Accuracy>,
    higher: bool,
) -> Option<usize> {
    let bar_value = threshold(rows, candidate, rule, higher);
    let bar = |acc: f64| meets(acc, bar_value, higher);
    rows.iter()
        .enumerate()
        .filter(|(_, (acc, _))| acc.is_some_and(bar))
        .min_by(|(_, a), (_, b)| {
            a.1.total_cmp(&b.1).then_with(|| {
                let (x, y) = (a.0.unwrap_or_default(), b.0.unwrap_or_default());
                if better(x, y, higher) {
                    std::cmp::Ordering::Less
                } else if better(y, x, higher) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
        })
        .map(|(i, _)| i)
}

/// Build the trade-off of a group from its model reports (baseline first, then the candidate,
/// then alternatives), with the accuracy rule of the candidate's budget.
pub fn build(models: &[&ModelReport], rule: Option<&Accuracy>) -> Option<TradeOff> {
    let candidate = models.iter().position(|m| m.role == Role::Candidate)?;
    let metric = rule.map(|r| r.metric.clone()).or_else(|| {
        // Without a rule: `accuracy` if every row with metrics has it, else the first metric
        // every row shares.
        let with: Vec<_> = models.iter().filter(|m| !m.metrics.is_empty()).collect();
        let first = with.first()?;
        let shared = |name: &String| with.iter().all(|m| m.metrics.contains_key(name));
        if first.metrics.contains_key("accuracy") && shared(&"accuracy".to_owned()) {
            Some("accuracy".to_owned())
        } else {
            first.metrics.keys().find(|k| shared(k)).cloned()
        }
    });
    let higher = rule.is_none_or(|r| r.direction == Direction::Higher);
    let acc = |m: &ModelReport| metric.as_ref().and_then(|k| m.metrics.get(k).copied());
    let pairs: Vec<(Option<f64>, f64)> = models
        .iter()
        .map(|m| (acc(m), m.totals.emissions.value()))
        .collect();
    let flags = pareto(&pairs, higher);
    let recommended = recommend(&pairs, candidate, rule, higher);
    let bar = threshold(&pairs, candidate, rule, higher);
    let rows: Vec<Row> = models
        .iter()
        .enumerate()
        .map(|(i, m)| Row {
            role: m.role,
            model: m.model.clone(),
            version: m.version.clone(),
            kind: m.kind.clone(),
            accuracy: acc(m),
            energy_kwh: m.totals.energy.value(),
            operational_co2e_kg: m.totals.operational.value(),
            embodied_co2e_kg: m.totals.embodied.value(),
            co2e_kg: m.totals.emissions.value(),
            delta_co2e_kg: m.baseline.as_ref().map(|b| b.delta_co2e_kg),
            delta_co2e_pct: m.baseline.as_ref().and_then(|b| b.delta_co2e_pct),
            co2e_per_point_kg: acc(m)
                .map(points)
                .filter(|p| *p > 0.0)
                .map(|p| m.totals.emissions.value() / p),
            headroom_pct: m
                .limits
                .co2e_kg
                .and_then(|l| l.fail)
                .filter(|f| *f > 0.0)
                .map(|f| (f - m.totals.emissions.value()) / f * 100.0),
            verdict: m.verdict,
            pareto: flags[i],
            recommended: recommended == Some(i),
        })
        .collect();
    let recommendation = explain(
        &rows,
        candidate,
        recommended,
        metric.as_deref(),
        rule,
        higher,
    );
    Some(TradeOff {
        group: models[candidate].group.clone(),
        metric,
        higher_is_better: higher,
        rows,
        recommended,
        recommendation,
        threshold: bar,
    })
}

fn explain(
    rows: &[Row],
    candidate: usize,
    recommended: Option<usize>,
    metric: Option<&str>,
    rule: Option<&Accuracy>,
    higher: bool,
) -> String {
    let Some(metric) = metric else {
        return "No recommendation: no accuracy metric is known for these rows (give --metrics or `metrics:` files).".to_owned();
    };
    let bar = match (rule.and_then(|r| r.min), rule.and_then(|r| r.max_drop)) {
        (Some(min), Some(d)) => format!(
            "meets the {metric} {} of {} and is within {} of the best",
            if higher { "floor" } else { "ceiling" },
            format_significant(min, 4),
            format_significant(d, 4)
        ),
        (Some(min), None) => format!(
            "meets the {metric} {} of {}",
            if higher { "floor" } else { "ceiling" },
            format_significant(min, 4)
        ),
        (None, Some(d)) => format!(
            "is within {} {metric} of the best",
            format_significant(d, 4)
        ),
        (None, None) => format!("is at least as good as the candidate on {metric}"),
    };
    let Some(r) = recommended else {
        return format!("No recommendation: no row with a known {metric} {bar}.");
    };
    let row = &rows[r];
    let acc = row
        .accuracy
        .map(|a| format_significant(a, 4))
        .unwrap_or_default();
    if r == candidate {
        return format!(
            "Recommended: the candidate {} — no lighter row {bar} ({metric} {acc}, {} CO2e).",
            row.label(),
            Mass::kg(row.co2e_kg)
        );
    }
    let cand = &rows[candidate];
    let saving = if cand.co2e_kg > 0.0 {
        format!(
            "{}% less CO2e than the candidate ({} vs {})",
            format_significant((cand.co2e_kg - row.co2e_kg) / cand.co2e_kg * 100.0, 3),
            Mass::kg(row.co2e_kg),
            Mass::kg(cand.co2e_kg)
        )
    } else {
        format!("{} CO2e", Mass::kg(row.co2e_kg))
    };
    let what = match (row.role, &row.kind) {
        (Role::Baseline, _) => "the baseline".to_owned(),
        (_, Some(kind)) => format!("the {kind} alternative"),
        _ => "the alternative".to_owned(),
    };
    format!(
        "Recommended: {what} {} — the lightest row that {bar} ({metric} {acc}), with {saving}.",
        row.label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;
    use crate::policy::model::Mode;

    fn rule(min: Option<f64>, drop: Option<f64>) -> Accuracy {
        Accuracy {
            metric: "f1".into(),
            direction: Direction::Higher,
            min,
            max_drop: drop,
            mode: Mode::Enforce,
            origin: Location::file("p.yaml"),
        }
    }

    #[test]
    fn pareto_by_hand() {
        // (f1, kg): baseline (0.88, 10), candidate (0.91, 14), distilled (0.89, 4), bad (0.87, 12).
        let rows = [
            (Some(0.88), 10.0),
            (Some(0.91), 14.0),
            (Some(0.89), 4.0),
            (Some(0.87), 12.0),
        ];
        // baseline is dominated by distilled (more accurate and lighter); bad by everything.
        assert_eq!(pareto(&rows, true), vec![false, true, true, false]);
        // Lower-is-better metric (error rate): 0.87 is now the best and 0.88 at 10 kg is beaten
        // by nothing lighter that is as good; 0.91 at 14 kg is dominated by every row.
        assert_eq!(pareto(&rows, false), vec![true, false, true, true]);
        // A row without the metric takes no part and does not dominate.
        let rows = [(None, 1.0), (Some(0.9), 5.0)];
        assert_eq!(pareto(&rows, true), vec![false, true]);
        // Equal rows do not dominate each other.
        let rows = [(Some(0.9), 5.0), (Some(0.9), 5.0)];
        assert_eq!(pareto(&rows, true), vec![true, true]);
    }

    #[test]
    fn recommendation_by_hand() {
        let rows = [(Some(0.88), 10.0), (Some(0.91), 14.0), (Some(0.89), 4.0)];
        // Floor 0.88: every row qualifies, distilled is lightest.
        assert_eq!(
            recommend(&rows, 1, Some(&rule(Some(0.88), None)), true),
            Some(2)
        );
        // Floor 0.90: only the candidate qualifies.
        assert_eq!(
            recommend(&rows, 1, Some(&rule(Some(0.90), None)), true),
            Some(1)
        );
        // Within 0.015 of the best (0.91): candidate only (distilled is 0.02 below).
        assert_eq!(
            recommend(&rows, 1, Some(&rule(None, Some(0.015))), true),
            Some(1)
        );
        // Within 0.025: distilled.
        assert_eq!(
            recommend(&rows, 1, Some(&rule(None, Some(0.025))), true),
            Some(2)
        );
        // No rule: at least as good as the candidate → the candidate.
        assert_eq!(recommend(&rows, 1, None, true), Some(1));
        // The bar as one value: the floor, the best less the drop, or the candidate's.
        assert_eq!(
            threshold(&rows, 1, Some(&rule(Some(0.88), None)), true),
            Some(0.88)
        );
        assert_eq!(
            threshold(&rows, 1, Some(&rule(Some(0.85), Some(0.015))), true),
            Some(0.91 - 0.015)
        );
        assert_eq!(threshold(&rows, 1, None, true), Some(0.91));
        assert_eq!(threshold(&[(None, 1.0)], 0, None, true), None);
        // Floor nobody meets.
        assert_eq!(
            recommend(&rows, 1, Some(&rule(Some(0.95), None)), true),
            None
        );
        // Ties in CO2e go to the more accurate row.
        let rows = [(Some(0.88), 4.0), (Some(0.90), 4.0)];
        assert_eq!(
            recommend(&rows, 0, Some(&rule(Some(0.8), None)), true),
            Some(1)
        );
    }
}
