//! Evaluate a checked policy against the ledger, one candidate group at a time.
//!
//! For each model version the first budget that applies is used. Absolute limits compare the
//! totals (strictly greater fails); regression limits compare with the baseline, ignoring
//! increases below the noise floor; the accuracy rule checks the floor; efficiency limits divide
//! CO2e by accuracy points or thousands of inferences. A rule in `mode: report` never blocks.
//! With `block-on: new`, an overrun the baseline already had, and that is not worse, is reported
//! as pre-existing instead of blocking. Finally approved, unexpired exceptions turn matching
//! failures into `waived` findings; expired ones are reported.
//!
//! Only candidates are gated: baselines and alternatives are evaluated against their budgets for
//! the trade-off table, and their findings do not decide the verdict.

use super::findings::{over, with_mode};
use super::model::{BlockOn, DecideOn, Direction, EmbodiedRule, Mode};
use super::rules::{Efficiency, Exception, Regression};
use super::validate::{Budget, Policy, Thresholds};
use crate::assessment::{
    AppliedLimits, BaselineRef, BudgetRef, Finding, LimitValues, Metric, ModelReport, Role,
    Severity, Verdict, Waiver,
};
use crate::codes;
use crate::diagnostic::Warning;
use crate::embodied;
use crate::error::Location;
use crate::ledger::Entry;
use crate::metrics::Metrics;
use crate::reference::Reference;
use crate::units::{Energy, Mass, format_significant};

/// A model version to evaluate.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Its ledger entry.
    pub entry: Entry,
    /// Its metrics.
    pub metrics: Metrics,
    /// For alternatives: what kind.
    pub kind: Option<String>,
}

/// A baseline read from a `check --format json` report instead of logs.
#[derive(Debug, Clone)]
pub struct ReportedBaseline {
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// The report file.
    pub source: String,
    /// Energy, kWh.
    pub energy: Energy,
    /// Total CO2e, kg.
    pub co2e: Mass,
    /// Metrics.
    pub metrics: Metrics,
}

/// A baseline: evaluated from logs, or taken from a report.
#[derive(Debug, Clone)]
pub enum BaselineInput {
    /// From logs.
    Logs(Box<Subject>),
    /// From a report.
    Report(ReportedBaseline),
}

/// A candidate with its baseline and alternatives.
#[derive(Debug, Clone)]
pub struct GroupInput {
    /// The candidate.
    pub candidate: Subject,
    /// Its baseline.
    pub baseline: Option<BaselineInput>,
    /// Lighter alternatives.
    pub alternatives: Vec<Subject>,
}

/// What a comparison with the baseline needs.
#[derive(Debug, Clone)]
struct BaselineFacts {
    model: String,
    version: Option<String>,
    source: String,
    energy: Energy,
    co2e: Mass,
}

/// Everything evaluation needs besides the groups.
pub struct Context<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// Reference data (embodied defaults).
    pub reference: &'a Reference,
    /// Today, for exception expiry.
    pub today: time::Date,
}

/// The evaluated groups: model reports (baseline, candidate, alternatives per group, in that
/// order) and warnings about exceptions that matched nothing.
pub fn evaluate_groups(
    ctx: &Context<'_>,
    groups: &[GroupInput],
) -> (Vec<ModelReport>, Vec<Warning>) {
    let mut reports = Vec::new();
    let mut used = vec![false; ctx.policy.exceptions.len()];
    for g in groups {
        let label = label(&g.candidate.entry);
        let baseline = match &g.baseline {
            None => None,
            Some(BaselineInput::Logs(subject)) => {
                let report = evaluate(ctx, subject, Role::Baseline, &label, None, &mut used);
                let facts = BaselineFacts {
                    model: report.model.clone(),
                    version: report.version.clone(),
                    source: "logs".to_owned(),
                    energy: report.totals.energy,
                    co2e: report.totals.emissions,
                };
                reports.push(report);
                Some(facts)
            }
            Some(BaselineInput::Report(r)) => Some(BaselineFacts {
                model: r.model.clone(),
                version: r.version.clone(),
                source: r.source.clone(),
                energy: r.energy,
                co2e: r.co2e,
            }),
        };
        reports.push(evaluate(
            ctx,
            &g.candidate,
            Role::Candidate,
            &label,
            baseline.as_ref(),
            &mut used,
        ));
        for alt in &g.alternatives {
            reports.push(evaluate(
                ctx,
                alt,
                Role::Alternative,
                &label,
                baseline.as_ref(),
                &mut used,
            ));
        }
    }
    let warnings = ctx
        .policy
        .exceptions
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(e, _)| {
            Warning::at(
                codes::EXCEPTION_UNUSED,
                e.origin.clone(),
                format!(
                    "exception for {} rule {} (approved by {}) matched nothing in this check; remove it when it is no longer needed",
                    e.model.as_str(),
                    e.rule(),
                    e.approved_by
                ),
            )
        })
        .collect();
    (reports, warnings)
}

/// `text-gen 2.1.0`.
fn label(entry: &Entry) -> String {
    crate::record::ModelVersion::new(&entry.model, entry.version.as_ref()).to_string()
}

/// Add embodied carbon to the contributions that lack it; report those where it cannot be
/// computed.
fn fill_embodied(
    entry: &mut Entry,
    budget: &Budget,
    ctx: &Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let mut missing = Vec::new();
    for c in entry
        .contributions
        .iter_mut()
        .filter(|c| c.embodied.is_none())
    {
        match embodied::for_run(
            ctx.reference,
            &ctx.policy.overrides,
            &c.hardware,
            c.duration,
        ) {
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
            Err(why) => missing.push((c.runs, format!("{} ({why})", c.cited()))),
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
        ..Finding::plain(
            codes::MISSING_EMBODIED,
            severity,
            format!(
                "embodied carbon could not be computed for {} of {} counted rows: {}",
                missing.iter().map(|(runs, _)| runs).sum::<usize>(),
                entry.counted_rows(),
                missing
                    .iter()
                    .map(|(_, place)| place.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
    });
}

fn evaluate(
    ctx: &Context<'_>,
    subject: &Subject,
    role: Role,
    group: &str,
    baseline: Option<&BaselineFacts>,
    used: &mut [bool],
) -> ModelReport {
    let mut entry = subject.entry.clone();
    let version = entry.version.clone();
    let budget = ctx.policy.budget_for(&entry.model, version.as_ref());
    let mut findings = Vec::new();
    let mut limits = AppliedLimits::default();
    match budget {
        None => {
            if entry.runs() > 0 {
                let own: Vec<&crate::policy::Budget> = ctx.policy.matching(&entry.model).collect();
                if let Some(first) = own.first() {
                    // The model has budgets, but none for this version: a gate must not pass
                    // because a version slipped between the ranges.
                    let ranges: Vec<String> = own
                        .iter()
                        .filter_map(|b| b.versions_text.clone())
                        .map(|v| format!("`{v}`"))
                        .collect();
                    let message = match &version {
                        Some(v) => format!(
                            "{} has budgets, but none covers version {v} (they cover {}): nothing to check it against",
                            entry.model,
                            ranges.join(", ")
                        ),
                        None => format!(
                            "{} has budgets only for some versions ({}) and the check names no version: pass --model-version",
                            entry.model,
                            ranges.join(", ")
                        ),
                    };
                    let severity = match ctx.policy.uncovered_versions {
                        crate::policy::model::UncoveredRule::Fail => Severity::Fail,
                        crate::policy::model::UncoveredRule::Warn => Severity::Warn,
                    };
                    findings.push(Finding {
                        source: Some(first.origin.clone()),
                        ..Finding::plain(codes::UNCOVERED_VERSION, severity, message)
                    });
                } else {
                    findings.push(Finding::plain(
                        codes::NO_BUDGET,
                        Severity::Warn,
                        format!("no budget applies to {}", entry.model),
                    ));
                }
            }
        }
        Some(budget) if entry.runs() == 0 => {
            limits = applied(budget);
            findings.push(Finding {
                source: Some(budget.origin.clone()),
                ..Finding::plain(
                    codes::NO_DATA_FOR_BUDGET,
                    Severity::Fail,
                    format!(
                        "no run of {} in the logs, but its budget applies: nothing to check against it",
                        entry.model
                    ),
                )
            });
        }
        Some(budget) => {
            limits = applied(budget);
            if ctx.policy.version_required && version.is_none() && budget.versions_text.is_none() {
                // Budgets that name versions were passed over because no version is known: a
                // version must not escape its budget by not being named.
                let ranges: Vec<String> = ctx
                    .policy
                    .matching(&entry.model)
                    .filter_map(|b| b.versions_text.clone())
                    .map(|v| format!("`{v}`"))
                    .collect();
                if !ranges.is_empty() {
                    let severity = match ctx.policy.uncovered_versions {
                        crate::policy::model::UncoveredRule::Fail => Severity::Fail,
                        crate::policy::model::UncoveredRule::Warn => Severity::Warn,
                    };
                    findings.push(Finding {
                        source: Some(budget.origin.clone()),
                        ..Finding::plain(
                            codes::NO_VERSION,
                            severity,
                            format!(
                                "{} has budgets for versions {} but the version promoted has no semantic version, so only the budget without versions would apply: tag the registry version (`semver`) or pass --model-version, or set `uncovered-versions: warn`",
                                entry.model,
                                ranges.join(", ")
                            ),
                        )
                    });
                }
            }
            if budget.embodied != EmbodiedRule::Ignore {
                fill_embodied(&mut entry, budget, ctx, &mut findings);
            }
            absolute_limits(&entry, budget, baseline, &mut findings);
            if role != Role::Baseline {
                regression(&entry, budget, baseline, &mut findings);
            }
            quality(&entry, &subject.metrics, budget, &mut findings);
            super::grid::intensity(&entry, budget, ctx.reference, &mut findings);
            super::grid::preferred(&entry, budget, ctx.reference, &mut findings);
        }
    }
    if role != Role::Baseline {
        apply_exceptions(ctx, &entry, &mut findings, used);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let verdict = findings
        .iter()
        .map(|f| Verdict::from(f.severity))
        .max()
        .unwrap_or(Verdict::Pass);
    let baseline_ref = baseline.filter(|_| role != Role::Baseline).map(|b| {
        let pct = |new: f64, old: f64| (old > 0.0).then(|| (new - old) / old * 100.0);
        BaselineRef {
            model: b.model.clone(),
            version: b.version.clone(),
            source: b.source.clone(),
            energy_kwh: b.energy.value(),
            co2e_kg: b.co2e.value(),
            delta_co2e_kg: entry.totals.emissions.value() - b.co2e.value(),
            delta_co2e_pct: pct(entry.totals.emissions.value(), b.co2e.value()),
            delta_energy_kwh: entry.totals.energy.value() - b.energy.value(),
            delta_energy_pct: pct(entry.totals.energy.value(), b.energy.value()),
        }
    });
    ModelReport {
        model: entry.model.clone(),
        version: version.as_ref().map(ToString::to_string),
        role,
        group: group.to_owned(),
        kind: subject.kind.clone(),
        metrics: subject.metrics.clone(),
        baseline: baseline_ref,
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
        contributions: entry.contributions,
    }
}

fn absolute_limits(
    entry: &Entry,
    budget: &Budget,
    baseline: Option<&BaselineFacts>,
    findings: &mut Vec<Finding>,
) {
    let upper = budget.decide_on == DecideOn::Upper;
    let t = &entry.totals;
    let (co2e, energy) = if upper {
        (t.emissions_high, t.energy_high)
    } else {
        (t.emissions, t.energy)
    };
    let mut found = Vec::new();
    if let Some(th) = budget.limits.co2e {
        limit(
            Metric::Co2e,
            upper,
            co2e.value(),
            &raw(th, Mass::value),
            (
                &budget.limit_places.co2e_warn,
                &budget.limit_places.co2e_fail,
            ),
            &mut found,
        );
    }
    if let Some(th) = budget.limits.energy {
        if t.runs_without_energy > 0 {
            found.push(with_mode(
                Finding {
                    source: budget
                        .limit_places
                        .energy_fail
                        .clone()
                        .or_else(|| budget.limit_places.energy_warn.clone()),
                    metric: Some(Metric::Energy),
                    unit: Some(Metric::Energy.unit()),
                    limit: th.fail.or(th.warn).map(|e| e.value()),
                    ..Finding::plain(
                        codes::NO_ENERGY_DATA,
                        Severity::Fail,
                        format!(
                            "{} of {} runs report no energy, so the energy limit cannot be checked",
                            t.runs_without_energy, t.runs
                        ),
                    )
                },
                th.mode,
            ));
        } else {
            limit(
                Metric::Energy,
                upper,
                energy.value(),
                &raw(th, Energy::value),
                (
                    &budget.limit_places.energy_warn,
                    &budget.limit_places.energy_fail,
                ),
                &mut found,
            );
        }
    }
    // Ratchet: an overrun the baseline had too, and not worse, does not block.
    if budget.block_on == BlockOn::New
        && let Some(b) = baseline
    {
        for f in found
            .iter_mut()
            .filter(|f| f.code == codes::BUDGET_EXCEEDED)
        {
            let (Some(metric), Some(measured), Some(limit)) = (f.metric, f.measured, f.limit)
            else {
                continue;
            };
            let base = match metric {
                Metric::Co2e => b.co2e.value(),
                Metric::Energy => b.energy.value(),
                _ => continue,
            };
            if base > limit && measured <= base {
                f.code = codes::BUDGET_EXCEEDED_PREEXISTING;
                f.severity = Severity::Warn;
                f.message = format!(
                    "{} (block-on: new) — the baseline {} already exceeded it with {}; not worse, so not blocking",
                    f.message,
                    crate::record::ModelVersion::new(&b.model, b.version.as_deref()),
                    show(metric, base)
                );
            } else if base > limit {
                f.message = format!(
                    "{} — worse than the baseline's {}",
                    f.message,
                    show(metric, base)
                );
            }
        }
    }
    findings.extend(found);
}

struct RawLimit {
    warn: Option<f64>,
    fail: Option<f64>,
    mode: Mode,
}

fn raw<T: Copy>(th: Thresholds<T>, value: fn(T) -> f64) -> RawLimit {
    RawLimit {
        warn: th.warn.map(value),
        fail: th.fail.map(value),
        mode: th.mode,
    }
}

/// Render a raw value of a metric for messages (4 significant digits, adapted unit).
fn show(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Co2e | Metric::Co2ePerPoint | Metric::Co2ePer1kInferences => {
            Mass::kg(value).to_string()
        }
        Metric::Energy => Energy::kwh(value).to_string(),
        Metric::Accuracy => format_significant(value, 4),
        Metric::Intensity => crate::units::Intensity::g_per_kwh(value).to_string(),
    }
}

fn limit(
    metric: Metric,
    upper: bool,
    measured: f64,
    l: &RawLimit,
    (warn_at, fail_at): (&Option<Location>, &Option<Location>),
    findings: &mut Vec<Finding>,
) {
    let (code, severity, lim, at, level) = match (l.fail, l.warn) {
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
        show(metric, lim),
        over(measured, lim)
    );
    if let (Severity::Warn, Some(f)) = (severity, l.fail) {
        message.push_str(&format!("; fails above {}", show(metric, f)));
    }
    findings.push(with_mode(
        Finding {
            metric: Some(metric),
            measured: Some(measured),
            limit: Some(lim),
            unit: Some(metric.unit()),
            source: at.clone(),
            ..Finding::plain(code, severity, message)
        },
        l.mode,
    ));
}

fn regression(
    entry: &Entry,
    budget: &Budget,
    baseline: Option<&BaselineFacts>,
    findings: &mut Vec<Finding>,
) {
    let rules = &budget.rules;
    if rules.regression_co2e.is_none() && rules.regression_energy.is_none() {
        return;
    }
    let Some(b) = baseline else {
        let origin = rules
            .regression_co2e
            .as_ref()
            .map(|r| r.origin.clone())
            .or_else(|| rules.regression_energy.as_ref().map(|r| r.origin.clone()));
        findings.push(Finding {
            source: origin,
            ..Finding::plain(
                codes::NO_BASELINE,
                Severity::Warn,
                "regression limits not checked: no baseline (give --baseline, or `baseline:` in carbon-gate.yaml)"
                    .to_owned(),
            )
        });
        return;
    };
    if let Some(r) = &rules.regression_co2e {
        one_regression(
            Metric::Co2e,
            entry.totals.emissions.value(),
            b.co2e.value(),
            r,
            r.floor.map(Mass::value),
            findings,
        );
    }
    if let Some(r) = &rules.regression_energy {
        one_regression(
            Metric::Energy,
            entry.totals.energy.value(),
            b.energy.value(),
            r,
            r.floor.map(Energy::value),
            findings,
        );
    }
}

fn one_regression<T>(
    metric: Metric,
    now: f64,
    before: f64,
    r: &Regression<T>,
    floor: Option<f64>,
    findings: &mut Vec<Finding>,
) {
    let delta = now - before;
    if delta <= floor.unwrap_or(0.0) {
        return;
    }
    let ratio = if before > 0.0 {
        delta / before
    } else {
        f64::INFINITY
    };
    let (code, severity, lim, level) = match (r.fail, r.warn) {
        (Some(f), _) if ratio > f.value() => {
            (codes::REGRESSION_EXCEEDED, Severity::Fail, f, "fail")
        }
        (_, Some(w)) if ratio > w.value() => (codes::REGRESSION_WARNING, Severity::Warn, w, "warn"),
        _ => return,
    };
    let pct = if ratio.is_finite() {
        format!("+{}%", format_significant(ratio * 100.0, 3))
    } else {
        "from zero".to_owned()
    };
    let floor_text = floor
        .map(|f| format!(", above the noise floor of {}", show(metric, f)))
        .unwrap_or_default();
    findings.push(with_mode(
        Finding {
            metric: Some(metric),
            measured: Some(ratio * 100.0),
            limit: Some(lim.in_percent()),
            unit: Some("%"),
            source: Some(r.origin.clone()),
            ..Finding::plain(
                code,
                severity,
                format!(
                    "{} rose {pct} vs the baseline ({} → {}{floor_text}); {level} limit {lim}",
                    metric.label(),
                    show(metric, before),
                    show(metric, now)
                ),
            )
        },
        r.mode,
    ));
}

/// Accuracy points: a metric in 0–1 counts hundredths; one above 1 is taken as a percentage.
pub fn points(value: f64) -> f64 {
    if value <= 1.0 { value * 100.0 } else { value }
}

fn quality(entry: &Entry, metrics: &Metrics, budget: &Budget, findings: &mut Vec<Finding>) {
    let rules = &budget.rules;
    if let Some(a) = &rules.accuracy {
        match metrics.get(&a.metric) {
            None => findings.push(with_mode(
                Finding {
                    source: Some(a.origin.clone()),
                    ..Finding::plain(
                        codes::METRIC_MISSING,
                        Severity::Fail,
                        format!(
                            "metric `{}` is missing, so the accuracy rule cannot be checked (give --metrics or `metrics:` in carbon-gate.yaml)",
                            a.metric
                        ),
                    )
                },
                a.mode,
            )),
            Some(&value) => {
                if let Some(min) = a.min {
                    let below = match a.direction {
                        Direction::Higher => value < min,
                        Direction::Lower => value > min,
                    };
                    if below {
                        findings.push(with_mode(
                            Finding {
                                metric: Some(Metric::Accuracy),
                                measured: Some(value),
                                limit: Some(min),
                                unit: Some("metric"),
                                source: Some(a.origin.clone()),
                                ..Finding::plain(
                                    codes::ACCURACY_BELOW_FLOOR,
                                    Severity::Fail,
                                    format!(
                                        "{} {} is {} the {} of {}",
                                        a.metric,
                                        format_significant(value, 4),
                                        if a.direction == Direction::Higher { "below" } else { "above" },
                                        if a.direction == Direction::Higher { "floor" } else { "ceiling" },
                                        format_significant(min, 4)
                                    ),
                                )
                            },
                            a.mode,
                        ));
                    }
                }
            }
        }
    }
    let co2e = entry.totals.emissions.value();
    if let Some(e) = &rules.per_point {
        let metric = e
            .metric
            .clone()
            .or_else(|| rules.accuracy.as_ref().map(|a| a.metric.clone()))
            .unwrap_or_default();
        efficiency(
            Metric::Co2ePerPoint,
            &metric,
            metrics.get(&metric).map(|v| points(*v)),
            co2e,
            e,
            findings,
        );
    }
    if let Some(e) = &rules.per_1k_inferences {
        let metric = e.metric.clone().unwrap_or_else(|| "inferences".to_owned());
        efficiency(
            Metric::Co2ePer1kInferences,
            &metric,
            metrics.get(&metric).map(|n| n / 1000.0),
            co2e,
            e,
            findings,
        );
    }
}

fn efficiency(
    kind: Metric,
    metric: &str,
    units: Option<f64>,
    co2e: f64,
    e: &Efficiency,
    findings: &mut Vec<Finding>,
) {
    let Some(units) = units.filter(|u| *u > 0.0) else {
        findings.push(with_mode(
            Finding {
                source: Some(e.origin.clone()),
                ..Finding::plain(
                    codes::METRIC_MISSING,
                    Severity::Fail,
                    format!(
                        "metric `{metric}` is missing or zero, so the {} limit cannot be checked",
                        kind.label()
                    ),
                )
            },
            e.mode,
        ));
        return;
    };
    let per = co2e / units;
    let (code, severity, lim, level) = match (e.fail, e.warn) {
        (Some(f), _) if per > f.value() => (codes::EFFICIENCY_EXCEEDED, Severity::Fail, f, "fail"),
        (_, Some(w)) if per > w.value() => (codes::EFFICIENCY_WARNING, Severity::Warn, w, "warn"),
        _ => return,
    };
    findings.push(with_mode(
        Finding {
            metric: Some(kind),
            measured: Some(per),
            limit: Some(lim.value()),
            unit: Some("kg"),
            source: Some(e.origin.clone()),
            ..Finding::plain(
                code,
                severity,
                format!(
                    "{} {} exceeds the {level} limit of {}{}",
                    kind.label(),
                    Mass::kg(per),
                    lim,
                    over(per, lim.value())
                ),
            )
        },
        e.mode,
    ));
}

fn exception_applies(e: &Exception, entry: &Entry, f: &Finding) -> bool {
    e.model.matches(&entry.model)
        && match (&e.versions, &entry.version) {
            (None, _) => true,
            (Some(req), Some(v)) => crate::policy::validate::version_matches(req, v),
            (Some(_), None) => false,
        }
        && e.code == f.code
        && e.metric
            .as_deref()
            .is_none_or(|m| f.metric.is_some_and(|fm| fm.key() == m))
}

fn apply_exceptions(
    ctx: &Context<'_>,
    entry: &Entry,
    findings: &mut Vec<Finding>,
    used: &mut [bool],
) {
    let mut expired = Vec::new();
    for f in findings.iter_mut().filter(|f| f.severity == Severity::Fail) {
        for (i, e) in ctx.policy.exceptions.iter().enumerate() {
            if !exception_applies(e, entry, f) {
                continue;
            }
            used[i] = true;
            if ctx.today > e.expires {
                expired.push(Finding {
                    source: Some(e.origin.clone()),
                    ..Finding::plain(
                        codes::EXCEPTION_EXPIRED,
                        Severity::Warn,
                        format!(
                            "the exception for {} (approved by {}: {}) expired on {}; the failure stands",
                            e.rule(),
                            e.approved_by,
                            e.reason,
                            e.expires
                        ),
                    )
                });
            } else {
                f.severity = Severity::Waived;
                f.waiver = Some(Waiver {
                    reason: e.reason.clone(),
                    approved_by: e.approved_by.clone(),
                    expires: e.expires.to_string(),
                    source: e.origin.clone(),
                });
                break;
            }
        }
    }
    findings.extend(expired);
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
