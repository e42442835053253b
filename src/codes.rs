//! Every diagnostic and finding code the tool emits: stable, kebab-case, documented.
//!
//! `docs/diagnostics.md` lists the same codes; a test fails when the two drift apart. Codes are
//! part of the public interface (users filter on them in JSON and in CI logs): add, never rename.

/// A finding: a model exceeded a fail-level limit.
pub const BUDGET_EXCEEDED: &str = "budget-exceeded";
/// A finding: a model exceeded a warn-level limit.
pub const BUDGET_WARNING: &str = "budget-warning";
/// A finding: a budget applies to a model named in the check, but no run of it was found.
pub const NO_DATA_FOR_BUDGET: &str = "no-data-for-budget";
/// A finding: a model has runs but no budget applies to it.
pub const NO_BUDGET: &str = "no-budget";
/// A finding: CO2e or energy rose more than a fail-level regression limit vs the baseline.
pub const REGRESSION_EXCEEDED: &str = "regression-exceeded";
/// A finding: CO2e or energy rose more than a warn-level regression limit vs the baseline.
pub const REGRESSION_WARNING: &str = "regression-warning";
/// A finding: a regression rule applies but the candidate has no baseline.
pub const NO_BASELINE: &str = "no-baseline";
/// A finding: the accuracy metric is below the policy's floor.
pub const ACCURACY_BELOW_FLOOR: &str = "accuracy-below-floor";
/// A finding: a metric a rule needs is not in the metrics.
pub const METRIC_MISSING: &str = "metric-missing";
/// A finding: CO2e per accuracy point or per 1,000 inferences above a fail limit.
pub const EFFICIENCY_EXCEEDED: &str = "efficiency-exceeded";
/// A finding: CO2e per accuracy point or per 1,000 inferences above a warn limit.
pub const EFFICIENCY_WARNING: &str = "efficiency-warning";
/// A finding: a fail limit exceeded, but the baseline exceeded it too and the candidate is not
/// worse (`block-on: new`): reported, not blocking.
pub const BUDGET_EXCEEDED_PREEXISTING: &str = "budget-exceeded-preexisting";
/// A finding: an exception for this model and rule has expired and no longer applies.
pub const EXCEPTION_EXPIRED: &str = "exception-expired";
/// A warning: an exception matched no finding in this check.
pub const EXCEPTION_UNUSED: &str = "exception-unused";
/// A finding: a budget counts embodied carbon but it could not be computed for some runs.
pub const MISSING_EMBODIED: &str = "missing-embodied";
/// A finding: an energy limit applies but some runs report no energy (e.g. model cards).
pub const NO_ENERGY_DATA: &str = "no-energy-data";

/// Ingest: a CodeCarbon row was shorter than its header (3.2.9–3.3.0 dropped empty columns).
pub const CODECARBON_SHIFTED_ROW: &str = "codecarbon-shifted-row";
/// Ingest: a 12-field CodeCarbon 1.x row appended under a newer header.
pub const CODECARBON_MIXED_LAYOUT_ROW: &str = "codecarbon-mixed-layout-row";
/// Ingest: a header with the needed columns but not one of the released layouts.
pub const CODECARBON_UNKNOWN_LAYOUT: &str = "codecarbon-unknown-layout";
/// Ingest: several rows carry the same run id (snapshots of one run); the latest was counted.
pub const DUPLICATE_RUN: &str = "duplicate-run";
/// Ingest: rows of one run that are not snapshots of each other were counted at the larger of
/// each figure (policy `conflicting-evidence: count-larger`; by default they are refused).
pub const CONFLICTING_EVIDENCE: &str = "conflicting-evidence";
/// Ingest: model names in one check look alike (same skeleton, case aside).
pub const CONFUSABLE_NAMES: &str = "confusable-names";
/// A warning: the change edits logs the check read (compared with `--policy-ref`).
pub const EVIDENCE_CHANGED: &str = "evidence-changed";
/// A finding: a model has budgets, but none covers the version checked.
pub const UNCOVERED_VERSION: &str = "uncovered-version";
/// Ingest: per-task rows whose run row is present were not counted again.
pub const TASK_ROWS_IN_RUN: &str = "task-rows-in-run";
/// Ingest: per-task rows without their run row were counted as that run.
pub const TASK_ROWS_WITHOUT_RUN: &str = "task-rows-without-run";
/// Ingest: a run row's duration was shorter than its tasks' durations and was replaced by their sum.
pub const TASK_DURATION_CORRECTED: &str = "task-duration-corrected";
/// Ingest: a rotated CodeCarbon backup sits next to a file given by name and was not read.
pub const BACKUP_NOT_READ: &str = "codecarbon-backup-not-read";
/// Ingest: a run row without a run id; it was counted under an id made from its file and line.
pub const MISSING_RUN_ID: &str = "missing-run-id";
/// Ingest: a file in a directory was not an emissions log and was skipped.
pub const SKIPPED_FILE: &str = "skipped-file";
/// Ingest: an entry of a directory is a FIFO, socket or device; a walk reads regular files only.
pub const SKIPPED_NOT_REGULAR: &str = "skipped-not-regular";
/// Ingest: a symbolic link in a directory points outside the directory named; not followed.
pub const SKIPPED_LINK_OUTSIDE: &str = "skipped-link-outside";
/// Ingest: a log file held a header but no runs.
pub const EMPTY_LOG: &str = "empty-log";
/// Ingest: outside CI, no log was named, so `emissions.csv` in the current directory was read.
pub const DEFAULT_LOG: &str = "default-log";
/// Ingest: how a model card's `co2_eq_emissions` unit was read (kg written into the grams field).
pub const HF_CARD_UNITS: &str = "hf-card-units";
/// Ingest: an Impact Framework parameter without a declared unit was read with IF's convention.
pub const IF_UNITS_ASSUMED: &str = "if-units-assumed";
/// Ingest: IF's own `aggregated` value differs from the sum of the component's outputs.
pub const IF_AGGREGATE_DIFFERS: &str = "if-aggregate-differs";
/// Ingest: a carbontracker run has only a prediction (it was not stopped).
pub const CARBONTRACKER_PREDICTED_ONLY: &str = "carbontracker-predicted-only";
/// Ingest: carbontracker's epoch count disagrees with the epochs its standard log shows.
pub const CARBONTRACKER_EPOCHS: &str = "carbontracker-epochs";
/// Ingest: an eco2AI 0.3.0 summary row was counted instead of its epoch rows.
pub const ECO2AI_SUMMARY_ROW: &str = "eco2ai-summary-row";
/// Ingest: a model version named in a log is not semver; the runs are counted without one.
pub const VERSION_NOT_SEMVER: &str = "version-not-semver";
/// Registry: the figures of a run were taken from the metrics `carbon-gate record` logged on it.
pub const REGISTRY_RUN_METRICS: &str = "registry-run-metrics";
/// Registry: no emissions evidence was found for a model version (no logs, artifacts or metrics).
pub const REGISTRY_NO_EVIDENCE: &str = "registry-no-evidence";
/// Registry: the baseline's totals were taken from the tags an earlier promotion wrote.
pub const REGISTRY_BASELINE_TAGS: &str = "registry-baseline-tags";
/// Registry: the baseline's run now holds other evidence than its promotion recorded.
pub const BASELINE_EVIDENCE_CHANGED: &str = "baseline-evidence-changed";
/// A finding: the check names no version, and the model's budgets that name versions were passed
/// over for one that does not.
pub const NO_VERSION: &str = "no-version";
/// A finding: a run ran on a grid dirtier than the fail-level intensity limit.
pub const INTENSITY_EXCEEDED: &str = "intensity-exceeded";
/// A finding: a run ran on a grid dirtier than the warn-level intensity limit.
pub const INTENSITY_WARNING: &str = "intensity-warning";
/// A finding: a run ran in a cloud region outside the policy's `preferred-regions`.
pub const REGION_NOT_PREFERRED: &str = "region-not-preferred";
/// Policy: the change edits the policy or configuration; the verdict used the policy at the ref.
pub const POLICY_CHANGED: &str = "policy-changed";
/// Policy: a budget can never apply (shadowed by an earlier one, or an unsatisfiable range).
pub const UNREACHABLE_BUDGET: &str = "unreachable-budget";
/// Policy: outside CI, no policy was named and `policies` does not exist: totals only, no budget
/// checked (in CI that is an error).
pub const NO_POLICY: &str = "no-policy";
/// Ledger: the policy has budgets over time (`periods:`, `trajectory:`) and the check has no
/// database ledger to judge them on (fails closed for a `required` one).
pub const NO_LEDGER: &str = "no-ledger";
/// Ledger: runs of this check are dated (by their log) more than a quarter before they are
/// recorded, so they count in an earlier period's budgets.
pub const RUN_DATED_LONG_BEFORE: &str = "run-dated-long-before";

/// Every code with its one-line meaning, in documentation order.
pub const ALL: &[(&str, &str)] = &[
    (BUDGET_EXCEEDED, "a fail-level limit was exceeded"),
    (BUDGET_WARNING, "a warn-level limit was exceeded"),
    (
        INTENSITY_EXCEEDED,
        "a run ran on a grid dirtier than the fail-level intensity limit",
    ),
    (
        INTENSITY_WARNING,
        "a run ran on a grid dirtier than the warn-level intensity limit",
    ),
    (
        REGION_NOT_PREFERRED,
        "a run ran outside the policy's preferred regions",
    ),
    (
        NO_DATA_FOR_BUDGET,
        "a budget applies to a model in the check but no run of it was found",
    ),
    (NO_BUDGET, "a model has runs but no budget applies to it"),
    (
        REGRESSION_EXCEEDED,
        "an increase vs the baseline above a fail-level regression limit",
    ),
    (
        REGRESSION_WARNING,
        "an increase vs the baseline above a warn-level regression limit",
    ),
    (
        NO_BASELINE,
        "a regression rule applies but there is no baseline",
    ),
    (
        ACCURACY_BELOW_FLOOR,
        "the accuracy metric is below the floor",
    ),
    (METRIC_MISSING, "a metric a rule needs is missing"),
    (
        EFFICIENCY_EXCEEDED,
        "CO2e per point or per 1k inferences above a fail limit",
    ),
    (
        EFFICIENCY_WARNING,
        "CO2e per point or per 1k inferences above a warn limit",
    ),
    (
        BUDGET_EXCEEDED_PREEXISTING,
        "a limit the baseline already exceeded, not made worse (ratchet)",
    ),
    (EXCEPTION_EXPIRED, "an exception has expired"),
    (
        EXCEPTION_UNUSED,
        "an exception matched nothing in this check",
    ),
    (
        MISSING_EMBODIED,
        "embodied carbon could not be computed for some runs",
    ),
    (
        NO_ENERGY_DATA,
        "an energy limit applies but some runs report no energy",
    ),
    (
        CODECARBON_SHIFTED_ROW,
        "a CodeCarbon row was shorter than its header",
    ),
    (
        CODECARBON_MIXED_LAYOUT_ROW,
        "a CodeCarbon 1.x row was appended under a newer header",
    ),
    (
        CODECARBON_UNKNOWN_LAYOUT,
        "a CodeCarbon header that no released version wrote",
    ),
    (DUPLICATE_RUN, "several rows carry the same run id"),
    (
        CONFLICTING_EVIDENCE,
        "rows of one run that are not snapshots of each other were counted at their larger figures",
    ),
    (CONFUSABLE_NAMES, "model names in one check look alike"),
    (
        EVIDENCE_CHANGED,
        "the change edits logs the check read (compared with --policy-ref)",
    ),
    (
        UNCOVERED_VERSION,
        "a model has budgets but none covers the version checked",
    ),
    (
        TASK_ROWS_IN_RUN,
        "task rows already counted in their run row",
    ),
    (
        TASK_ROWS_WITHOUT_RUN,
        "task rows counted as their run (no run row)",
    ),
    (
        TASK_DURATION_CORRECTED,
        "a run's duration was replaced by the sum of its tasks",
    ),
    (BACKUP_NOT_READ, "a rotated CodeCarbon backup was not read"),
    (MISSING_RUN_ID, "a row had no run id"),
    (
        SKIPPED_FILE,
        "a file in a directory was not an emissions log",
    ),
    (
        SKIPPED_NOT_REGULAR,
        "a FIFO, socket or device in a directory was skipped",
    ),
    (
        SKIPPED_LINK_OUTSIDE,
        "a symbolic link out of the directory named was not followed",
    ),
    (EMPTY_LOG, "a log file held no runs"),
    (
        DEFAULT_LOG,
        "no log named outside CI: emissions.csv here was read",
    ),
    (
        IF_UNITS_ASSUMED,
        "an Impact Framework unit was not declared; the convention was used",
    ),
    (
        IF_AGGREGATE_DIFFERS,
        "IF's aggregated value differs from the sum of the outputs",
    ),
    (
        CARBONTRACKER_PREDICTED_ONLY,
        "a carbontracker run has only a prediction",
    ),
    (
        CARBONTRACKER_EPOCHS,
        "carbontracker's epoch count disagrees with its standard log",
    ),
    (
        ECO2AI_SUMMARY_ROW,
        "an eco2AI 0.3.0 summary row was counted instead of its epochs",
    ),
    (
        HF_CARD_UNITS,
        "a model card's co2_eq_emissions may be kilograms",
    ),
    (VERSION_NOT_SEMVER, "a version named in a log is not semver"),
    (
        REGISTRY_RUN_METRICS,
        "a run's figures came from the metrics `carbon-gate record` logged",
    ),
    (
        REGISTRY_NO_EVIDENCE,
        "a model version has no emissions evidence in the registry",
    ),
    (
        REGISTRY_BASELINE_TAGS,
        "the baseline's totals came from an earlier promotion's tags",
    ),
    (
        BASELINE_EVIDENCE_CHANGED,
        "the baseline's evidence changed since its promotion; judged against the recorded figures",
    ),
    (
        NO_VERSION,
        "no version named, so the model's versioned budgets could not apply",
    ),
    (UNREACHABLE_BUDGET, "a budget can never apply"),
    (
        NO_POLICY,
        "no policy outside CI: totals only, no budget checked",
    ),
    (
        NO_LEDGER,
        "budgets over time not judged: no database ledger",
    ),
    (
        RUN_DATED_LONG_BEFORE,
        "runs dated over a quarter before they were recorded",
    ),
    (
        POLICY_CHANGED,
        "the change edits the policy; the verdict used the policy at --policy-ref",
    ),
];

#[cfg(test)]
mod tests {
    use super::ALL;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for (code, _) in ALL {
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(
                code.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{code} is not kebab-case"
            );
        }
    }
}
