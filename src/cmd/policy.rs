//! `carbon-gate policy validate`.

use crate::error::{Error, escape_text};
use crate::exit::Exit;
use crate::policy::{self, PeriodBudget, Policy, Thresholds, Trajectory};

use super::Outcome;

pub(crate) fn policy_validate(paths: &[std::path::PathBuf]) -> Result<Outcome, Error> {
    let loaded = policy::load(paths)?;
    let mut stderr = crate::diagnostic::warning_lines(&loaded.warnings);
    stderr.extend(over_time_lines(&loaded.policy));
    let p = &loaded.policy;
    let mut counts = vec![plural(p.budgets.len(), "budget")];
    if !p.periods.is_empty() {
        counts.push(plural(p.periods.len(), "period"));
    }
    if p.trajectory.is_some() {
        counts.push("a trajectory".to_owned());
    }
    if !p.teams.is_empty() {
        counts.push(plural(p.teams.len(), "team"));
    }
    let counted = match counts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => counts.join(""),
    };
    stderr.push(format!(
        "carbon-gate: policy OK: {counted} in {}",
        plural(p.files.len(), "file")
    ));
    Ok(Outcome {
        stdout: Vec::new(),
        stderr,
        exit: Exit::Pass,
    })
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// One line per team, period and the trajectory: what each covers and its limits.
fn over_time_lines(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    for team in &policy.teams {
        let models: Vec<&str> = team.models.iter().map(|m| m.as_str()).collect();
        let mut line = format!("carbon-gate: team {}: {}", team.name, models.join(", "));
        if !team.owners.is_empty() {
            line.push_str(&format!(
                " (owners: {})",
                escape_text(&team.owners.join(", "))
            ));
        }
        lines.push(line);
    }
    for period in &policy.periods {
        lines.push(period_line(period));
    }
    if let Some(t) = &policy.trajectory {
        lines.push(trajectory_line(t));
    }
    if !lines.is_empty() && (!policy.periods.is_empty() || policy.trajectory.is_some()) {
        lines.push(
            "carbon-gate: periods and the trajectory are judged by `check --ledger` only"
                .to_owned(),
        );
    }
    lines
}

/// `models text-gen*, summarizer and teams nlp`.
fn scope(models: &[policy::ModelPattern], teams: &[String]) -> String {
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
fn limits<T: std::fmt::Display + Copy>(what: &str, t: &Option<Thresholds<T>>) -> Option<String> {
    let t = t.as_ref()?;
    let levels: Vec<String> = [("warn", t.warn), ("fail", t.fail)]
        .into_iter()
        .filter_map(|(level, v)| v.map(|v| format!("{level} {v}")))
        .collect();
    Some(format!("{what} {}", levels.join(", ")))
}

fn period_line(p: &PeriodBudget) -> String {
    let mut parts = vec![format!("every {}", p.every), scope(&p.models, &p.teams)];
    parts.extend(limits("co2e", &p.co2e));
    parts.extend(limits("energy", &p.energy));
    if p.mode == policy::model::Mode::Report {
        parts.push("report mode".to_owned());
    }
    if p.required {
        parts.push("required".to_owned());
    }
    format!(
        "carbon-gate: period \"{}\" ({}): {}",
        p.name,
        p.location,
        parts.join("; ")
    )
}

fn trajectory_line(t: &Trajectory) -> String {
    let mut parts = vec![
        scope(&t.models, &t.teams),
        format!(
            "{} in {}, less {}% of it each year",
            t.base,
            t.base_year,
            crate::units::format_significant(t.reduction_per_year * 100.0, 4)
        ),
    ];
    // The first year whose limit is zero, if within two centuries.
    if let Some(zero) = (t.base_year..=t.base_year.saturating_add(200))
        .find(|y| t.limit(*y) == crate::units::Mass::ZERO)
    {
        parts.push(format!("zero from {zero}"));
    }
    if t.mode == policy::model::Mode::Report {
        parts.push("report mode".to_owned());
    }
    if t.required {
        parts.push("required".to_owned());
    }
    format!(
        "carbon-gate: trajectory ({}): {}",
        t.location,
        parts.join("; ")
    )
}
