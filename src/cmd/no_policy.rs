//! A first try without any policy (issue #22): outside CI, a `check` that names no policy, has no
//! configuration and finds no `policies` reports the totals and says how to add budgets: exit 0
//! with a `no-policy` warning. In CI (`CI` set and not empty), or when a policy is named (by
//! `--policy`, `CARBON_GATE_POLICY` or a configuration), a missing policy stays an error (exit 2):
//! a gate must never pass because its policy went missing.

use std::path::Path;

use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::report::CheckReport;
use crate::{cli, codes};

/// The policy directory used when none is named.
pub(crate) const DEFAULT_POLICY: &str = "policies";

/// Whether `check` runs without a policy to teach (`true`), loads its policy as always
/// (`false`), or stops: no policy named anywhere, the default one missing, and in CI. With
/// `--policy-ref` the policy is the base's, whatever the working tree holds: loaded as always.
pub(crate) fn first_run(
    eval: &cli::EvalArgs,
    has_config: bool,
    policy_ref: bool,
) -> Result<bool, Error> {
    if policy_ref || !default_missing(eval, has_config) {
        return Ok(false);
    }
    if in_ci() {
        return Err(missing_in_ci());
    }
    Ok(true)
}

/// Whether no policy was named anywhere and the default one does not exist (a link that leads
/// nowhere exists: it is an error as before).
fn default_missing(eval: &cli::EvalArgs, has_config: bool) -> bool {
    eval.policy.is_empty()
        && !has_config
        && std::fs::symlink_metadata(Path::new(DEFAULT_POLICY))
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// Whether this runs in CI: `CI` set and not empty (GitHub Actions, GitLab CI and most others
/// set it).
fn in_ci() -> bool {
    super::set_var("CI").is_some()
}

/// The error for a missing default policy in CI, saying what to do.
fn missing_in_ci() -> Error {
    Error::Policy(vec![
        Problem::new(
            Location::file(DEFAULT_POLICY),
            "does not exist, and no --policy or configuration names a policy; in CI (CI is set) a gate never passes without one",
        )
        .with_help(
            "write budgets with `carbon-gate init LOGS` and commit policies/, or pass --policy PATH",
        ),
    ])
}

/// Mark a report made without a policy: the `no-policy` warning saying how to add budgets, and
/// a summary that does not claim a budget was met.
pub(crate) fn explain(report: &mut CheckReport) {
    report.warnings.insert(
        0,
        Warning::general(
            codes::NO_POLICY,
            "no policy: `policies` does not exist, so no budget was checked; write budgets from these totals with `carbon-gate init LOGS` (docs/getting-started.md). In CI (CI set) a missing policy is an error",
        ),
    );
    let models = report
        .models
        .iter()
        .filter(|m| m.role == crate::report::Role::Candidate)
        .count();
    report.summary = format!(
        "no policy: {models} model version{} measured, no budget checked; add budgets with `carbon-gate init`",
        if models == 1 { "" } else { "s" }
    );
}
