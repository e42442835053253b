//! `carbon-gate policy validate`.

use crate::error::Error;
use crate::exit::Exit;
use crate::policy::{self, Policy, periods};

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
        lines.push(format!(
            "carbon-gate: team {}: {}",
            team.name,
            periods::describe_team(team)
        ));
    }
    for period in &policy.periods {
        lines.push(format!(
            "carbon-gate: period \"{}\" ({}): {}",
            period.name,
            period.location,
            periods::describe_period(period)
        ));
    }
    if let Some(t) = &policy.trajectory {
        lines.push(format!(
            "carbon-gate: trajectory ({}): {}",
            t.location,
            periods::describe_trajectory(t)
        ));
    }
    if policy.has_budgets_over_time() {
        lines.push(
            "carbon-gate: periods and the trajectory are judged by `check --ledger` only"
                .to_owned(),
        );
    }
    lines
}
