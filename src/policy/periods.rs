//! Budgets over time judged (issue #23): the totals of the calendar periods this check's runs
//! fall in — the ledger's runs of the period plus this check's, one run per key — against each
//! period budget's limits and the trajectory's limit of the year.
//!
//! Pure: the ledger is a function from a period's bounds to the runs stored in it, so the
//! judgement can be tested without a database. A run is counted in the period its `at` falls in
//! ([`crate::periods::Period::of`]). A run of this check the ledger already holds (same key) is
//! merged with it ([`StoredRun::merge`]), never added twice: judging before or after the check's
//! runs are written gives the same totals.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::model::Mode;
use super::validate::{PeriodBudget, Policy, Thresholds, Trajectory};
use crate::assessment::Verdict;
use crate::error::{Error, Location, Problem};
use crate::periods::{Every, Period};
use crate::store::StoredRun;
use crate::units::{Energy, Mass, exact_sum, format_significant};

/// The name of the trajectory's lines.
pub const TRAJECTORY: &str = "trajectory";

/// One period (or trajectory year) judged.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PeriodLine {
    /// The period budget's name, or `trajectory`.
    pub name: String,
    /// The period: `2027-Q1`, `2027-01` or `2027`.
    pub period: String,
    /// Total CO2e of the period, kg: the ledger's runs and this check's, merged by key.
    pub co2e_kg: f64,
    /// Total energy of the period, kWh (runs without an energy figure count 0).
    pub energy_kwh: f64,
    /// What this check adds to the period's CO2e, kg: the total less the ledger's own total of
    /// the period.
    pub added_co2e_kg: f64,
    /// What this check adds to the period's energy, kWh.
    pub added_energy_kwh: f64,
    /// Runs counted in the period (one per key).
    pub runs: usize,
    /// The CO2e warn limit, kg.
    pub co2e_warn_kg: Option<f64>,
    /// The CO2e fail limit, kg.
    pub co2e_fail_kg: Option<f64>,
    /// The energy warn limit, kWh.
    pub energy_warn_kwh: Option<f64>,
    /// The energy fail limit, kWh.
    pub energy_fail_kwh: Option<f64>,
    /// `fail` when a fail limit is exceeded (strictly), `warn` when a warn limit is (or a fail
    /// limit in report mode), else `pass`.
    pub verdict: Verdict,
    /// `report` never blocks.
    pub mode: Mode,
    /// One line for people: `NLP team per quarter, 2027-Q1: 8.4 t of 10 t (84%); this change
    /// adds 300 kg`.
    pub message: String,
    /// Where the period budget (or the trajectory) is written: file:line:col.
    pub location: String,
}

/// A period budget or the trajectory, judged alike.
enum Subject<'p> {
    Period(&'p PeriodBudget),
    Trajectory(&'p Trajectory),
}

impl Subject<'_> {
    fn name(&self) -> &str {
        match self {
            Subject::Period(p) => &p.name,
            Subject::Trajectory(_) => TRAJECTORY,
        }
    }

    fn every(&self) -> Every {
        match self {
            Subject::Period(p) => p.every,
            Subject::Trajectory(_) => Every::Year,
        }
    }

    fn mode(&self) -> Mode {
        match self {
            Subject::Period(p) => p.mode,
            Subject::Trajectory(t) => t.mode,
        }
    }

    fn location(&self) -> &Location {
        match self {
            Subject::Period(p) => &p.location,
            Subject::Trajectory(t) => &t.location,
        }
    }

    fn covers(&self, model: &str, policy: &Policy) -> bool {
        match self {
            Subject::Period(p) => p.covers(model, policy),
            Subject::Trajectory(t) => t.covers(model, policy),
        }
    }

    /// The limits of `period`: the period budget's, or the trajectory's fail limit of its year.
    fn limits(&self, period: Period) -> (Option<Thresholds<Mass>>, Option<Thresholds<Energy>>) {
        match self {
            Subject::Period(p) => (p.co2e, p.energy),
            Subject::Trajectory(t) => (
                Some(Thresholds {
                    warn: None,
                    fail: Some(t.limit(period.year())),
                    mode: t.mode,
                }),
                None,
            ),
        }
    }
}

/// Everything judged over time, in order: the periods as written, then the trajectory.
fn subjects(policy: &Policy) -> Vec<Subject<'_>> {
    policy
        .periods
        .iter()
        .map(Subject::Period)
        .chain(policy.trajectory.iter().map(Subject::Trajectory))
        .collect()
}

/// The budgets over time a check without the ledger cannot judge: each period's name (or
/// `trajectory`), whether it is `required` (the check then fails closed) and where it is
/// written.
pub fn unjudged(policy: &Policy) -> Vec<(String, bool, Location)> {
    policy
        .periods
        .iter()
        .map(|p| (p.name.clone(), p.required, p.location.clone()))
        .chain(
            policy
                .trajectory
                .iter()
                .map(|t| (TRAJECTORY.to_owned(), t.required, t.location.clone())),
        )
        .collect()
}

/// `models text-gen*, summarizer and teams nlp`.
fn scope(models: &[super::ModelPattern], teams: &[String]) -> String {
    let mut parts = Vec::new();
    if !models.is_empty() {
        let m: Vec<&str> = models.iter().map(|m| m.as_str()).collect();
        parts.push(format!("models {}", m.join(", ")));
    }
    if !teams.is_empty() {
        parts.push(format!("teams {}", teams.join(", ")));
    }
    parts.join(" and ")
}

/// `co2e warn 8 t, fail 10 t`.
fn thresholds<T: std::fmt::Display + Copy>(
    what: &str,
    t: &Option<Thresholds<T>>,
) -> Option<String> {
    let t = t.as_ref()?;
    let levels: Vec<String> = [("warn", t.warn), ("fail", t.fail)]
        .into_iter()
        .filter_map(|(level, v)| v.map(|v| format!("{level} {v}")))
        .collect();
    Some(format!("{what} {}", levels.join(", ")))
}

/// A period budget in one line, for `policy validate` and the tamper guard: `every quarter;
/// teams nlp; co2e warn 8 t, fail 10 t; energy fail 120 MWh; required`.
pub fn describe_period(p: &PeriodBudget) -> String {
    let mut parts = vec![format!("every {}", p.every), scope(&p.models, &p.teams)];
    parts.extend(thresholds("co2e", &p.co2e));
    parts.extend(thresholds("energy", &p.energy));
    if p.mode == Mode::Report {
        parts.push("report mode".to_owned());
    }
    if p.required {
        parts.push("required".to_owned());
    }
    parts.join("; ")
}

/// The trajectory in one line: `models *; 40 t in 2025, less 4.2% of it each year; zero from
/// 2049`.
pub fn describe_trajectory(t: &Trajectory) -> String {
    let mut parts = vec![
        scope(&t.models, &t.teams),
        format!(
            "{} in {}, less {}% of it each year",
            t.base,
            t.base_year,
            format_significant(t.reduction_per_year * 100.0, 4)
        ),
    ];
    // The first year whose limit is zero, if within two centuries.
    if let Some(zero) =
        (t.base_year..=t.base_year.saturating_add(200)).find(|y| t.limit(*y) == Mass::ZERO)
    {
        parts.push(format!("zero from {zero}"));
    }
    if t.mode == Mode::Report {
        parts.push("report mode".to_owned());
    }
    if t.required {
        parts.push("required".to_owned());
    }
    parts.join("; ")
}

/// A team in one line: `text-gen*, summarizer (owners: @org/nlp)`.
pub fn describe_team(t: &super::Team) -> String {
    let models: Vec<&str> = t.models.iter().map(|m| m.as_str()).collect();
    let mut text = models.join(", ");
    if !t.owners.is_empty() {
        text.push_str(&format!(
            " (owners: {})",
            crate::error::escape_text(&t.owners.join(", "))
        ));
    }
    text
}

/// The period of kind `every` of `run`, from its `at`; an error naming the run when `at` is not
/// an RFC 3339 time. `whose` says where the run comes from.
fn period_of(every: Every, run: &StoredRun, whose: &str) -> Result<Period, Error> {
    Period::of(every, &run.at).ok_or_else(|| {
        Error::input(
            Problem::new(
                Location::file(&run.source),
                format!(
                    "{whose} run `{}` has `at: {}`, which is not an RFC 3339 time in years 0000–9998",
                    run.key, run.at
                ),
            )
            .with_help("times in the ledger are written as 2027-01-31T23:59:59Z; repair or remove the run"),
        )
    })
}

/// Merge `run` into `runs` by its key.
fn merge_in(runs: &mut BTreeMap<String, StoredRun>, run: &StoredRun) {
    match runs.get_mut(&run.key) {
        Some(stored) => {
            stored.merge(run);
        }
        None => {
            runs.insert(run.key.clone(), run.clone());
        }
    }
}

/// Total CO2e (kg) and energy (kWh) of `runs`, exactly rounded.
fn totals(runs: &BTreeMap<String, StoredRun>) -> (f64, f64) {
    (
        exact_sum(runs.values().map(|r| r.co2e_kg)),
        exact_sum(runs.values().map(|r| r.energy_kwh.unwrap_or(0.0))),
    )
}

/// The ledger as [`judge`] reads it: the runs stored with `start <= at < end`.
pub type Ledger<'a> = dyn FnMut(&str, &str) -> Result<Vec<StoredRun>, Error> + 'a;

/// Judge every period budget and the trajectory on the periods in which `this_check` has runs
/// they cover. `ledger(start, end)` returns the ledger's runs with `start <= at < end` (RFC 3339
/// UTC bounds, [`Period::start`] and [`Period::end`]); it is asked once per distinct period.
///
/// A period's total is over the union, by key, of the ledger's runs of the period that the
/// budget covers and this check's covered runs whose `at` is in it; a key in both is merged
/// ([`StoredRun::merge`]), as is a ledger run of the period whose key this check holds with an
/// `at` in another period. Lines come in policy order (periods as written, then the
/// trajectory), each budget's periods in time order; a line is there whatever its verdict.
///
/// The totals are the same whether the check's runs were written to the ledger yet or not.
/// Give `this_check` as the ledger will keep the runs — a run it already holds merged onto the
/// stored row, whose `at` (and so period) then stays the stored one — and a run whose later
/// snapshot ends in another period is judged where the ledger counts it, and `added_*` is zero
/// once the runs are written. Given as read, such a run is judged in the period of its own `at`.
pub fn judge(
    policy: &Policy,
    this_check: &[StoredRun],
    ledger: &mut Ledger<'_>,
) -> Result<Vec<PeriodLine>, Error> {
    let mut fetched: HashMap<(String, String), Vec<StoredRun>> = HashMap::new();
    let mut lines = Vec::new();
    for subject in subjects(policy) {
        let every = subject.every();
        // This check's covered runs, one per key, with the period each falls in.
        let mut mine: BTreeMap<String, StoredRun> = BTreeMap::new();
        for run in this_check
            .iter()
            .filter(|r| subject.covers(&r.model, policy))
        {
            period_of(every, run, "this check's")?;
            merge_in(&mut mine, run);
        }
        let mut periods: BTreeMap<Period, BTreeSet<&str>> = BTreeMap::new();
        for run in mine.values() {
            let period = period_of(every, run, "this check's")?;
            periods.entry(period).or_default().insert(run.key.as_str());
        }
        for (period, keys) in periods {
            let window = (period.start(), period.end());
            if !fetched.contains_key(&window) {
                let runs = ledger(&window.0, &window.1)?;
                fetched.insert(window.clone(), runs);
            }
            let stored = fetched.get(&window).map(Vec::as_slice).unwrap_or_default();
            let mut before: BTreeMap<String, StoredRun> = BTreeMap::new();
            for run in stored {
                if period_of(every, run, "the ledger's")? == period
                    && subject.covers(&run.model, policy)
                {
                    merge_in(&mut before, run);
                }
            }
            let mut after = before.clone();
            for (key, run) in &mine {
                if keys.contains(key.as_str()) || after.contains_key(key) {
                    merge_in(&mut after, run);
                }
            }
            let (co2e_before, energy_before) = totals(&before);
            let (co2e, energy) = totals(&after);
            let (co2e_limits, energy_limits) = subject.limits(period);
            lines.push(line(
                &subject,
                period,
                Figures {
                    co2e,
                    energy,
                    added_co2e: (co2e - co2e_before).max(0.0),
                    added_energy: (energy - energy_before).max(0.0),
                    runs: after.len(),
                },
                co2e_limits,
                energy_limits,
            ));
        }
    }
    Ok(lines)
}

/// A period's figures.
struct Figures {
    co2e: f64,
    energy: f64,
    added_co2e: f64,
    added_energy: f64,
    runs: usize,
}

/// How far a total is past its limits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Within,
    OverWarn,
    OverFail,
}

/// The level of `total` against `warn` and `fail` (exceeded means strictly greater).
fn level(total: f64, warn: Option<f64>, fail: Option<f64>) -> Level {
    if fail.is_some_and(|f| total > f) {
        Level::OverFail
    } else if warn.is_some_and(|w| total > w) {
        Level::OverWarn
    } else {
        Level::Within
    }
}

/// `total` as a share of `limit`, in per cent for a message: never `100` unless it is exactly
/// the limit (a total just under it shows `99.9`, just over it `100.1`).
fn share(total: f64, limit: f64) -> Option<String> {
    if limit <= 0.0 {
        return None;
    }
    let pct = total / limit * 100.0;
    Some(if (99.5..100.0).contains(&pct) {
        format!("{:.1}", (pct * 10.0).floor() / 10.0)
    } else if pct > 100.0 && pct < 100.5 {
        format!("{:.1}", (pct * 10.0).ceil() / 10.0)
    } else if pct >= 100.0 {
        format!("{pct:.0}")
    } else {
        format_significant(pct, 2)
    })
}

/// One metric's part of the message: `8.4 t of 10 t (84%)`, and how it stands against the
/// limits.
fn part(
    total: String,
    warn: Option<(f64, String)>,
    fail: Option<(f64, String)>,
    value: f64,
) -> String {
    let Some((limit, shown)) = fail.clone().or_else(|| warn.clone()) else {
        return total;
    };
    let mut text = format!("{total} of {shown}");
    if let Some(pct) = share(value, limit) {
        text.push_str(&format!(" ({pct}%)"));
    }
    match level(
        value,
        warn.as_ref().map(|w| w.0),
        fail.as_ref().map(|f| f.0),
    ) {
        Level::OverFail => text.push_str(", over the fail limit"),
        Level::OverWarn if fail.is_some() => {
            text.push_str(&format!(
                ", above the warn limit of {}",
                warn.map(|w| w.1).unwrap_or_default()
            ));
        }
        Level::OverWarn => text.push_str(", over the warn limit"),
        Level::Within => {}
    }
    text
}

fn line(
    subject: &Subject<'_>,
    period: Period,
    figures: Figures,
    co2e_limits: Option<Thresholds<Mass>>,
    energy_limits: Option<Thresholds<Energy>>,
) -> PeriodLine {
    let co2e_warn = co2e_limits.and_then(|t| t.warn);
    let co2e_fail = co2e_limits.and_then(|t| t.fail);
    let energy_warn = energy_limits.and_then(|t| t.warn);
    let energy_fail = energy_limits.and_then(|t| t.fail);
    let worst = level(
        figures.co2e,
        co2e_warn.map(Mass::value),
        co2e_fail.map(Mass::value),
    )
    .max(level(
        figures.energy,
        energy_warn.map(Energy::value),
        energy_fail.map(Energy::value),
    ));
    let mode = subject.mode();
    let verdict = match (worst, mode) {
        (Level::Within, _) => Verdict::Pass,
        (Level::OverWarn, _) | (Level::OverFail, Mode::Report) => Verdict::Warn,
        (Level::OverFail, Mode::Enforce) => Verdict::Fail,
    };
    let mut parts = Vec::new();
    let mut added = Vec::new();
    let limited_co2e = co2e_limits.is_some();
    let limited_energy = energy_limits.is_some();
    if limited_co2e || !limited_energy {
        let with = |m: Mass| (m.value(), m.to_string());
        parts.push(part(
            Mass::kg(figures.co2e).to_string(),
            co2e_warn.map(with),
            co2e_fail.map(with),
            figures.co2e,
        ));
        added.push(Mass::kg(figures.added_co2e).to_string());
    }
    if limited_energy {
        let with = |e: Energy| (e.value(), e.to_string());
        parts.push(part(
            Energy::kwh(figures.energy).to_string(),
            energy_warn.map(with),
            energy_fail.map(with),
            figures.energy,
        ));
        added.push(Energy::kwh(figures.added_energy).to_string());
    }
    let mut message = format!(
        "{}, {}: {}; this change adds {}",
        subject.name(),
        period.label(),
        parts.join("; "),
        added.join(" and ")
    );
    if mode == Mode::Report {
        message.push_str(" [report mode: never blocks]");
    }
    PeriodLine {
        name: subject.name().to_owned(),
        period: period.label(),
        co2e_kg: figures.co2e,
        energy_kwh: figures.energy,
        added_co2e_kg: figures.added_co2e,
        added_energy_kwh: figures.added_energy,
        runs: figures.runs,
        co2e_warn_kg: co2e_warn.map(Mass::value),
        co2e_fail_kg: co2e_fail.map(Mass::value),
        energy_warn_kwh: energy_warn.map(Energy::value),
        energy_fail_kwh: energy_fail.map(Energy::value),
        verdict,
        mode,
        message,
        location: subject.location().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const POLICY: &str = r#"version: 1
teams:
  nlp:
    models: ["text-gen*", "summarizer"]
    owners: ["@org/nlp"]
  vision:
    models: ["vit-*", "text-gen-vision"]
periods:
  - name: NLP team per quarter
    teams: [nlp]
    every: quarter
    limits:
      co2e:   { warn: "8 t", fail: "10 t" }
      energy: { fail: "120 MWh" }
  - name: vision monthly
    models: ["vit-*"]
    every: month
    mode: report
    limits:
      co2e: { fail: "1 t" }
trajectory:
  models: ["*"]
  base-year: 2025
  base: "40 t"
  reduction-per-year: "4.2%"
  required: true
"#;

    fn policy_of(files: &[(&str, &str)]) -> Result<Policy, Vec<String>> {
        let texts = files
            .iter()
            .map(|(n, t)| (PathBuf::from(n), (*t).to_owned()))
            .collect();
        match super::super::from_texts(texts, vec![]) {
            Ok(loaded) => Ok(loaded.policy),
            Err(Error::Policy(problems)) => Err(problems.iter().map(|p| p.to_string()).collect()),
            Err(other) => Err(vec![other.to_string()]),
        }
    }

    fn policy() -> Policy {
        policy_of(&[("p.yaml", POLICY)]).unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        policy_of(&[("p.yaml", text)]).unwrap_err()
    }

    fn run(key: &str, model: &str, at: &str, co2e_kg: f64, energy_kwh: Option<f64>) -> StoredRun {
        StoredRun {
            duration_s: Some(co2e_kg),
            ..StoredRun::measured(key, model, at, co2e_kg, energy_kwh)
        }
    }

    /// A ledger over `stored` as a database would answer, recording the windows asked for.
    fn judge_on(
        policy: &Policy,
        stored: &[StoredRun],
        check: &[StoredRun],
    ) -> (Vec<PeriodLine>, Vec<(String, String)>) {
        let mut asked = Vec::new();
        let lines = judge(policy, check, &mut |start: &str, end: &str| {
            asked.push((start.to_owned(), end.to_owned()));
            Ok(stored
                .iter()
                .filter(|r| r.at.as_str() >= start && r.at.as_str() < end)
                .cloned()
                .collect())
        })
        .unwrap();
        (lines, asked)
    }

    /// The ledger after the check's runs were written: merged by key, as the store does.
    fn written(stored: &[StoredRun], check: &[StoredRun]) -> Vec<StoredRun> {
        let mut out: Vec<StoredRun> = stored.to_vec();
        for run in check {
            match out.iter_mut().find(|r| r.key == run.key) {
                Some(r) => {
                    r.merge(run);
                }
                None => out.push(run.clone()),
            }
        }
        out
    }

    #[test]
    fn the_policy_reads_teams_periods_and_the_trajectory() {
        let p = policy();
        assert_eq!(
            p.teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["nlp", "vision"]
        );
        assert_eq!(p.teams[0].owners, ["@org/nlp"]);
        assert_eq!(p.teams[0].location.to_string(), "p.yaml:3:3");
        // The first team in name order owns a model both match.
        assert_eq!(p.team_of("text-gen-vision"), Some("nlp"));
        assert_eq!(p.team_of("vit-b"), Some("vision"));
        assert_eq!(p.team_of("summarizer"), Some("nlp"));
        assert_eq!(p.team_of("other"), None);
        let nlp = &p.periods[0];
        assert_eq!(nlp.every, Every::Quarter);
        assert_eq!(nlp.co2e.and_then(|t| t.warn), Some(Mass::kg(8000.0)));
        assert_eq!(
            nlp.energy.and_then(|t| t.fail),
            Some(Energy::kwh(120_000.0))
        );
        assert!(!nlp.required);
        assert_eq!(nlp.location.to_string(), "p.yaml:9:11");
        assert!(nlp.covers("text-gen-2", &p));
        assert!(nlp.covers("text-gen-vision", &p));
        assert!(!nlp.covers("vit-b", &p));
        let vision = &p.periods[1];
        assert_eq!(vision.mode, Mode::Report);
        assert!(vision.covers("vit-b", &p));
        assert!(!vision.covers("text-gen-vision", &p), "by glob only");
        let t = p.trajectory.as_ref().unwrap();
        assert!(t.required && t.covers("anything", &p));
        assert_eq!(t.location.to_string(), "p.yaml:21:1");
        assert_eq!(
            unjudged(&p),
            vec![
                (
                    "NLP team per quarter".to_owned(),
                    false,
                    nlp.location.clone()
                ),
                ("vision monthly".to_owned(), false, vision.location.clone()),
                ("trajectory".to_owned(), true, t.location.clone()),
            ]
        );
    }

    #[test]
    fn the_trajectory_contracts_linearly_to_zero() {
        let p = policy();
        let t = p.trajectory.as_ref().unwrap();
        let close = |a: Mass, b: f64| (a.value() - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(close(t.limit(2025), 40_000.0));
        assert!(close(t.limit(2026), 38_320.0));
        assert!(close(t.limit(2027), 36_640.0), "{:?}", t.limit(2027));
        assert!(close(t.limit(2048), 40_000.0 * (1.0 - 0.042 * 23.0)));
        // 24 years at 4.2% is more than all of it: floored at zero.
        assert_eq!(t.limit(2049), Mass::ZERO);
        assert_eq!(t.limit(2100), Mass::ZERO);
        assert_eq!(t.limit(2020), Mass::kg(40_000.0));
    }

    #[test]
    fn every_problem_of_the_new_keys_is_told_with_its_place() {
        let text = r#"version: 1
teams:
  nlp: { models: [] }
periods:
  - name: a
    teams: [nlp, visoin]
    every: quarter
    limits:
      co2e: { warn: "2 t", fail: "1 t" }
  - name: b
    every: month
  - name: a
    models: ["text-[a"]
    every: year
    limits:
      energy: { fail: "1 kg" }
trajectory:
  teams: [nlp]
  base-year: 1980
  base: "40"
  reduction-per-year: "150%"
"#;
        let errors = problems(text);
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(has("p.yaml:3:3: team `nlp` has no models"), "{errors:#?}");
        assert!(
            has("p.yaml:9:21: warn limit 2 t is above the fail limit 1 t"),
            "{errors:#?}"
        );
        assert!(
            has("p.yaml:10:11: period `b` covers no models: it has neither `models` nor `teams`"),
            "{errors:#?}"
        );
        assert!(has("p.yaml:10:11: period `b` has no limits"), "{errors:#?}");
        assert!(
            has("p.yaml:13:14: `models[0]` is not a valid glob"),
            "{errors:#?}"
        );
        assert!(
            has("p.yaml:16:23: `fail`: \"1 kg\": unit \"kg\""),
            "{errors:#?}"
        );
        assert!(
            has("p.yaml:19:14: `base-year: 1980` is outside 1990–2100"),
            "{errors:#?}"
        );
        assert!(
            has("p.yaml:20:9: `base`: \"40\" has no unit"),
            "{errors:#?}"
        );
        assert!(
            has("p.yaml:21:23: `reduction-per-year: 150%` is more than 100%"),
            "{errors:#?}"
        );
        assert_eq!(errors.len(), 9, "{errors:#?}");
        // Negative, or not a percentage.
        for (value, said) in [
            ("\"-1%\"", "must be a finite number that is zero or more"),
            ("\"4.2\"", "has no unit"),
            ("\"4 t\"", "is not accepted here"),
        ] {
            let text = format!(
                "version: 1\ntrajectory:\n  models: [\"*\"]\n  base-year: 2025\n  base: 40 t\n  reduction-per-year: {value}\n"
            );
            let errors = problems(&text);
            assert!(
                errors.len() == 1
                    && errors[0].starts_with("p.yaml:6:23: `reduction-per-year`: ")
                    && errors[0].contains(said),
                "{errors:#?}"
            );
        }
    }

    #[test]
    fn unknown_teams_duplicates_and_a_second_trajectory_across_files() {
        let one = "version: 1\nteams:\n  nlp: { models: [\"text-*\"] }\nperiods:\n  - { name: q, teams: [nlp], every: quarter, limits: { co2e: { fail: 1 t } } }\ntrajectory: { models: [\"*\"], base-year: 2025, base: 40 t, reduction-per-year: 4.2% }\n";
        // A team defined in another file is known.
        let two = "version: 1\nperiods:\n  - { name: r, teams: [nlp], every: month, limits: { co2e: { fail: 1 t } } }\n";
        let p = policy_of(&[("a.yaml", one), ("b.yaml", two)]).unwrap();
        assert_eq!(p.periods.len(), 2);
        let errors = policy_of(&[("a.yaml", one), ("b.yaml", one)]).unwrap_err();
        assert_eq!(
            errors,
            [
                "b.yaml:3:3: team `nlp` is defined twice: first at a.yaml:3:3\n  help: define each team in one policy file",
                "b.yaml:5:13: period name `q` is used twice: first at a.yaml:5:13\n  help: give each period its own name: reports and the ledger tell them apart by it",
                "b.yaml:6:1: a second `trajectory`: the first is at a.yaml:6:1\n  help: keep one trajectory for the organisation, in one policy file",
            ]
        );
        let errors = policy_of(&[("b.yaml", two)]).unwrap_err();
        assert_eq!(
            errors,
            [
                "b.yaml:3:24: period `r` names team `nlp`, which no policy file defines\n  help: define it under `teams:` (`teams: { nlp: { models: [\"…\"] } }`), or remove it"
            ]
        );
        let errors = errors_of_team_typo();
        assert!(
            errors[0].ends_with("help: did you mean `nlp`?"),
            "{errors:?}"
        );
    }

    fn errors_of_team_typo() -> Vec<String> {
        problems(
            "version: 1\nteams: { nlp: { models: [a] } }\ntrajectory: { teams: [nlpp], base-year: 2025, base: 1 t, reduction-per-year: 1% }\n",
        )
    }

    #[test]
    fn names_and_globs_are_bounded_and_plain() {
        let long = "x".repeat(MAX_NAME_CHARS_FOR_TEST + 1);
        let errors = problems(&format!(
            "version: 1\nperiods:\n  - {{ name: {long}, models: [a], every: year, limits: {{ co2e: {{ fail: 1 t }} }} }}\n"
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "p.yaml:3:13: the period name is 201 characters long; the limit is 200"
            ),
            "{errors:?}"
        );
        let glob = "a*".repeat(600);
        let errors = problems(&format!(
            "version: 1\nteams:\n  nlp: {{ models: [\"{glob}\"] }}\n"
        ));
        assert!(
            errors.len() == 1
                && errors[0].contains("`models[0]` is 1200 characters long; the limit is 1000"),
            "{errors:?}"
        );
        let errors = problems(
            "version: 1\nperiods:\n  - { name: \"a\\u202Eb\", models: [a], every: year, limits: { co2e: { fail: 1 t } } }\n",
        );
        assert!(
            errors.len() == 1
                && errors[0].contains(
                    "the period name `a\\u{202e}b` holds a control or invisible character"
                ),
            "{errors:?}"
        );
        let errors = problems(
            "version: 1\nperiods:\n  - { name: a, models: [a], every: weekly, limits: { co2e: { fail: 1 t } } }\n",
        );
        assert!(
            errors.len() == 1
                && errors[0].contains(
                    "unknown variant `weekly`, expected one of `month`, `quarter`, `year`"
                ),
            "{errors:?}"
        );
    }

    #[test]
    fn periods_beyond_the_cap_are_refused_once() {
        let file = |prefix: &str, n: usize| {
            let mut text = String::from("version: 1\nperiods:\n");
            for i in 0..n {
                text.push_str(&format!(
                    "  - {{ name: {prefix}{i}, models: [a], every: year, limits: {{ co2e: {{ fail: 1 t }} }} }}\n"
                ));
            }
            text
        };
        let (a, b, c) = (file("a", 600), file("b", 600), file("c", 1));
        let errors = policy_of(&[
            ("a.yaml", a.as_str()),
            ("b.yaml", b.as_str()),
            ("c.yaml", c.as_str()),
        ])
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "b.yaml: too many periods: 1200 with the files before it; the limit is 1000\n  help: use globs and teams to cover many models with one period"
            ]
        );
    }

    #[test]
    fn the_tamper_guard_tells_what_a_change_does_to_budgets_over_time() {
        let base = policy();
        let loosened = POLICY
            .replace("fail: \"10 t\"", "fail: \"20 t\"")
            .replace("\"summarizer\"]", "\"summarizer\", \"vit-b\"]")
            .replace("  - name: vision monthly", "  - name: vision quarterly")
            .replace("reduction-per-year: \"4.2%\"", "reduction-per-year: \"1%\"");
        let head = policy_of(&[("p.yaml", loosened.as_str())]).unwrap();
        assert_eq!(
            super::super::at_ref::changes(&base, &head),
            [
                "team `nlp`: text-gen*, summarizer (owners: @org/nlp) → text-gen*, summarizer, vit-b (owners: @org/nlp)",
                "period `NLP team per quarter`: every quarter; teams nlp; co2e warn 8 t, fail 10 t; energy fail 120 MWh → every quarter; teams nlp; co2e warn 8 t, fail 20 t; energy fail 120 MWh",
                "period `vision monthly` removed (was: every month; models vit-*; co2e fail 1 t; report mode)",
                "period `vision quarterly` added: every month; models vit-*; co2e fail 1 t; report mode",
                "trajectory: models *; 40 t in 2025, less 4.2% of it each year; zero from 2049; required → models *; 40 t in 2025, less 1% of it each year; zero from 2125; required",
            ]
        );
        assert!(super::super::at_ref::changes(&base, &base).is_empty());
    }

    const MAX_NAME_CHARS_FOR_TEST: usize = super::super::validate::MAX_NAME_CHARS;

    #[test]
    fn runs_at_boundaries_fall_in_their_quarter() {
        let p = policy();
        let stored = [
            run("l1", "text-gen", "2026-12-31T23:59:59Z", 1000.0, Some(10.0)),
            run("l2", "text-gen", "2027-01-01T00:00:00Z", 2000.0, Some(20.0)),
            run("l3", "summarizer", "2027-03-31T23:59:59Z", 4000.0, None),
            run("l4", "text-gen", "2027-04-01T00:00:00Z", 8000.0, Some(80.0)),
            run("l5", "vit-b", "2027-02-01T00:00:00Z", 16_000.0, Some(160.0)),
        ];
        let check = [run(
            "c1",
            "text-gen-2",
            "2027-03-31T23:59:59Z",
            300.0,
            Some(3.0),
        )];
        let (lines, asked) = judge_on(&p, &stored, &check);
        assert_eq!(
            asked,
            [
                (
                    "2027-01-01T00:00:00Z".to_owned(),
                    "2027-04-01T00:00:00Z".to_owned()
                ),
                (
                    "2027-01-01T00:00:00Z".to_owned(),
                    "2028-01-01T00:00:00Z".to_owned()
                ),
            ]
        );
        assert_eq!(lines.len(), 2, "{lines:#?}");
        let q1 = &lines[0];
        assert_eq!(
            (q1.name.as_str(), q1.period.as_str()),
            ("NLP team per quarter", "2027-Q1")
        );
        // l2 + l3 + c1; not l1 (2026), l4 (Q2) nor l5 (vision).
        assert_eq!(q1.co2e_kg, 6300.0);
        assert_eq!(q1.energy_kwh, 23.0);
        assert_eq!((q1.added_co2e_kg, q1.added_energy_kwh), (300.0, 3.0));
        assert_eq!(q1.runs, 3);
        assert_eq!(q1.verdict, Verdict::Pass);
        assert_eq!(q1.co2e_warn_kg, Some(8000.0));
        assert_eq!(q1.co2e_fail_kg, Some(10_000.0));
        assert_eq!(q1.energy_warn_kwh, None);
        assert_eq!(q1.energy_fail_kwh, Some(120_000.0));
        assert_eq!(
            q1.message,
            "NLP team per quarter, 2027-Q1: 6.3 t of 10 t (63%); 23 kWh of 120 MWh (0.019%); this change adds 300 kg and 3 kWh"
        );
        assert_eq!(q1.location, "p.yaml:9:11");
        // The trajectory covers every model: 2027 holds l2–l5 and c1.
        let t = &lines[1];
        assert_eq!((t.name.as_str(), t.period.as_str()), ("trajectory", "2027"));
        assert_eq!(t.co2e_kg, 30_300.0);
        assert_eq!(t.co2e_warn_kg, None);
        assert!((t.co2e_fail_kg.unwrap() - 36_640.0).abs() < 1e-9 * 36_640.0);
        assert_eq!(t.verdict, Verdict::Pass);
        assert_eq!(
            t.message,
            "trajectory, 2027: 30.3 t of 36.64 t (83%); this change adds 300 kg"
        );
        // The instant the quarter ends is the next one's.
        let check = [run("c2", "summarizer", "2027-04-01T00:00:00Z", 300.0, None)];
        let (lines, _) = judge_on(&p, &stored, &check);
        assert_eq!(lines[0].period, "2027-Q2");
        assert_eq!(lines[0].co2e_kg, 8300.0);
        assert_eq!(lines[0].runs, 2);
    }

    #[test]
    fn a_run_the_ledger_holds_is_merged_not_doubled() {
        let p = policy();
        let stored = [
            run("k", "text-gen", "2027-02-10T00:00:00Z", 8000.0, Some(100.0)),
            run(
                "other",
                "summarizer",
                "2027-02-11T00:00:00Z",
                100.0,
                Some(1.0),
            ),
        ];
        // A later snapshot of run `k`: larger CO2e, no energy figure.
        let mut later = run("k", "text-gen", "2027-02-10T00:00:00Z", 8300.0, None);
        later.duration_s = Some(9000.0);
        let check = [
            later,
            run("new", "text-gen", "2027-03-01T00:00:00Z", 200.0, Some(2.0)),
        ];
        let (before, _) = judge_on(&p, &stored, &check);
        let q1 = &before[0];
        assert_eq!(q1.co2e_kg, 8600.0);
        assert_eq!(q1.energy_kwh, 103.0);
        assert_eq!(q1.runs, 3);
        assert_eq!((q1.added_co2e_kg, q1.added_energy_kwh), (500.0, 2.0));
        assert_eq!(q1.verdict, Verdict::Warn);
        assert_eq!(
            q1.message,
            "NLP team per quarter, 2027-Q1: 8.6 t of 10 t (86%), above the warn limit of 8 t; 103 kWh of 120 MWh (0.086%); this change adds 500 kg and 2 kWh"
        );
        // After the check's runs were written the totals are the same; nothing is added.
        let (after, _) = judge_on(&p, &written(&stored, &check), &check);
        assert_eq!(after.len(), before.len());
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(
                (a.co2e_kg, a.energy_kwh, a.runs, a.verdict, &a.period),
                (b.co2e_kg, b.energy_kwh, b.runs, b.verdict, &b.period)
            );
            assert_eq!((a.added_co2e_kg, a.added_energy_kwh), (0.0, 0.0));
        }
    }

    #[test]
    fn a_ledger_run_of_the_period_merges_with_the_checks_snapshot_of_another() {
        // The ledger keeps a run at its first `at` (Q1); this check's later snapshot ends in Q2.
        let p = policy();
        let stored = [run(
            "k",
            "text-gen",
            "2027-03-31T23:00:00Z",
            5000.0,
            Some(50.0),
        )];
        let mut later = run("k", "text-gen", "2027-04-01T01:00:00Z", 6000.0, Some(60.0));
        later.duration_s = Some(9000.0);
        let check = [
            later,
            run("n", "text-gen", "2027-01-05T00:00:00Z", 1.0, Some(1.0)),
        ];
        let (before, _) = judge_on(&p, &stored, &check);
        let (after, _) = judge_on(&p, &written(&stored, &check), &check);
        let totals = |lines: &[PeriodLine]| -> Vec<(String, String, f64, usize)> {
            lines
                .iter()
                .map(|l| (l.name.clone(), l.period.clone(), l.co2e_kg, l.runs))
                .collect()
        };
        assert_eq!(totals(&before), totals(&after));
        assert_eq!(
            totals(&before)[..2],
            [
                (
                    "NLP team per quarter".to_owned(),
                    "2027-Q1".to_owned(),
                    6001.0,
                    2
                ),
                (
                    "NLP team per quarter".to_owned(),
                    "2027-Q2".to_owned(),
                    6000.0,
                    1
                ),
            ]
        );
    }

    #[test]
    fn verdicts_limits_are_exceeded_strictly_and_report_mode_never_fails() {
        let p = policy();
        // Exactly the fail limit passes the fail level (it is above warn).
        let check = [run("c", "text-gen", "2027-05-01T00:00:00Z", 10_000.0, None)];
        let (lines, _) = judge_on(&p, &[], &check);
        assert_eq!(lines[0].verdict, Verdict::Warn);
        let check = [run("c", "text-gen", "2027-05-01T00:00:00Z", 10_000.5, None)];
        let (lines, _) = judge_on(&p, &[], &check);
        assert_eq!(lines[0].verdict, Verdict::Fail);
        assert_eq!(
            lines[0].message,
            "NLP team per quarter, 2027-Q2: 10 t of 10 t (100.1%), over the fail limit; 0 kWh of 120 MWh (0%); this change adds 10 t and 0 kWh"
        );
        // Energy alone can fail it.
        let check = [run(
            "c",
            "summarizer",
            "2027-05-01T00:00:00Z",
            1.0,
            Some(120_001.0),
        )];
        let (lines, _) = judge_on(&p, &[], &check);
        assert_eq!(lines[0].verdict, Verdict::Fail);
        // Report mode: over its fail limit is a warning.
        let check = [run("v", "vit-b", "2027-05-31T23:59:59Z", 1500.0, None)];
        let (lines, _) = judge_on(&p, &[], &check);
        assert_eq!(lines.len(), 2, "vision monthly and the trajectory");
        let v = &lines[0];
        assert_eq!(
            (v.period.as_str(), v.verdict, v.mode),
            ("2027-05", Verdict::Warn, Mode::Report)
        );
        assert_eq!(
            v.message,
            "vision monthly, 2027-05: 1.5 t of 1 t (150%), over the fail limit; this change adds 1.5 t [report mode: never blocks]"
        );
        // The trajectory fails a year over its limit; a model no period covers counts only there.
        let check = [run("x", "other", "2049-01-01T00:00:00Z", 0.001, None)];
        let (lines, asked) = judge_on(&p, &[], &check);
        assert_eq!(lines.len(), 1);
        assert_eq!(asked.len(), 1);
        assert_eq!(
            (lines[0].verdict, lines[0].co2e_fail_kg),
            (Verdict::Fail, Some(0.0))
        );
        assert_eq!(
            lines[0].message,
            "trajectory, 2049: 1 g of 0 kg, over the fail limit; this change adds 1 g"
        );
    }

    #[test]
    fn no_lines_without_covered_runs_and_bad_times_are_errors() {
        let p = policy();
        let (lines, asked) = judge_on(&p, &[], &[]);
        assert!(lines.is_empty() && asked.is_empty());
        let err = judge(
            &p,
            &[run("c", "text-gen", "last tuesday", 1.0, None)],
            &mut |_, _| Ok(vec![]),
        )
        .unwrap_err();
        assert_eq!(err.exit(), crate::exit::Exit::BadInput);
        assert!(
            err.to_string().contains("emissions.csv:2: this check's run `c` has `at: last tuesday`, which is not an RFC 3339 time"),
            "{err}"
        );
        // A ledger's failure comes back as it is.
        let err = judge(
            &p,
            &[run("c", "text-gen", "2027-01-01T00:00:00Z", 1.0, None)],
            &mut |_, _| Err(Error::Service("ledger unreachable".to_owned())),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "ledger unreachable");
    }

    /// Day `d` of 2026–2027 (0 = 2026-01-01) at noon, RFC 3339.
    fn day(d: i64) -> String {
        let start = Period::parse("2026").unwrap().start_instant().unwrap();
        crate::timestamp::rfc3339(start + time::Duration::days(d) + time::Duration::hours(12))
    }

    proptest::proptest! {
        /// Whatever the ledger holds and whatever this check brings (later snapshots of stored
        /// runs among new ones, possibly ending in a later period), the totals judged before and
        /// after the check's runs are written are the same; given as the ledger keeps them,
        /// afterwards the check adds nothing.
        #[test]
        fn judging_before_or_after_writing_gives_the_same_totals(
            stored in proptest::collection::btree_map(
                0usize..8,
                (0usize..4, 0i64..700, 0u32..5000, proptest::option::of(0u32..500)),
                0..8,
            ),
            check in proptest::collection::btree_map(
                0usize..12,
                (0usize..4, 0i64..700, 0u32..5000, proptest::option::of(0u32..500), 0i64..60),
                0..8,
            ),
        ) {
            const MODELS: [&str; 4] = ["text-gen", "summarizer", "vit-b", "other"];
            let p = policy();
            let stored: Vec<StoredRun> = stored
                .iter()
                .map(|(k, (m, d, co2e, energy))| {
                    run(&format!("k{k}"), MODELS[*m], &day(*d), f64::from(*co2e), energy.map(f64::from))
                })
                .collect();
            let check: Vec<StoredRun> = check
                .iter()
                .map(|(k, (m, d, co2e, energy, later))| {
                    let key = format!("k{k}");
                    match stored.iter().find(|r| r.key == key) {
                        // A later snapshot of a stored run: same model, ends no earlier.
                        Some(s) => {
                            let d = (day_of(&s.at) + later).min(729);
                            let mut r = run(&key, &s.model, &day(d), f64::from(*co2e), energy.map(f64::from));
                            r.duration_s = Some(s.duration_s.unwrap_or(0.0) + f64::from(*co2e));
                            r
                        }
                        None => run(&key, MODELS[*m], &day(*d), f64::from(*co2e), energy.map(f64::from)),
                    }
                })
                .collect();
            let written = written(&stored, &check);
            // This check's runs as they come, or as the ledger will keep them (a run it holds
            // merged onto the stored row, which keeps its period).
            let kept: Vec<StoredRun> = check
                .iter()
                .map(|r| match stored.iter().find(|s| s.key == r.key) {
                    Some(s) => {
                        let mut m = s.clone();
                        m.merge(r);
                        m
                    }
                    None => r.clone(),
                })
                .collect();
            for (mine, nothing_added_after) in [(&check, false), (&kept, true)] {
                let (before, _) = judge_on(&p, &stored, mine);
                let (after, _) = judge_on(&p, &written, mine);
                proptest::prop_assert_eq!(before.len(), after.len());
                for (b, a) in before.iter().zip(&after) {
                    proptest::prop_assert_eq!(
                        (&b.name, &b.period, b.co2e_kg, b.energy_kwh, b.runs, b.verdict),
                        (&a.name, &a.period, a.co2e_kg, a.energy_kwh, a.runs, a.verdict)
                    );
                    proptest::prop_assert!(
                        b.added_co2e_kg <= b.co2e_kg && b.added_energy_kwh <= b.energy_kwh
                    );
                    if nothing_added_after {
                        proptest::prop_assert_eq!((a.added_co2e_kg, a.added_energy_kwh), (0.0, 0.0));
                    }
                }
            }
        }
    }

    /// The day number [`day`] gave `at`.
    fn day_of(at: &str) -> i64 {
        let start = Period::parse("2026").unwrap().start_instant().unwrap();
        (crate::timestamp::parse_rfc3339(at).unwrap() - start).whole_days()
    }

    #[test]
    fn lines_serialize_with_lowercase_verdict_and_mode() {
        let p = policy();
        let check = [run("c", "text-gen", "2027-05-01T00:00:00Z", 1.0, None)];
        let (lines, _) = judge_on(&p, &[], &check);
        let json = serde_json::to_value(&lines[0]).unwrap();
        assert_eq!(json["verdict"], "pass");
        assert_eq!(json["mode"], "enforce");
        assert_eq!(json["period"], "2027-Q2");
    }
}
