//! The report model: the one structure every renderer reads.
//!
//! Numbers are kept raw (kg, kWh, s) and rounded only by renderers. The JSON renderer serializes
//! these types as they are, so field names here are the public JSON interface (`schema_version`).

use serde::Serialize;

pub use crate::assessment::{
    AppliedLimits, BaselineRef, BudgetRef, Finding, LimitValues, Metric, ModelReport, Role,
    Severity, Verdict, Waiver,
};
use crate::diagnostic::Warning;
use crate::ingest::InputFile;
pub use crate::ledger::reduce::LISTED_RUNS;
use crate::ledger::{Status, Totals};
use crate::record::{Format, RunRecord};
use crate::reference::Reference;
use crate::units::Mass;

/// The version of the JSON output. Bumped only on an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema of `check`'s JSON report (`--format json`), pretty-printed, as committed in
/// `docs/report.schema.json`: the report as written (a field that is left out when empty is not
/// required).
pub fn schema_json() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let schema = generator.into_root_schema_for::<CheckReport>();
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The report of `check`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The one-line reason.
    pub summary: String,
    /// Policy files read, in the order their budgets were tried.
    pub policy_files: Vec<String>,
    /// The git ref the policy was read from (`--policy-ref`), when not the working tree.
    pub policy_ref: Option<String>,
    /// What this change does to the policy and configuration compared with `policy_ref`.
    pub policy_changes: Vec<String>,
    /// The logs read that this change added or modified compared with `policy_ref` (their
    /// author could have written any figure into them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence_changes: Vec<String>,
    /// Models, sorted by name.
    pub models: Vec<ModelReport>,
    /// Accuracy / energy / CO2e trade-off of each candidate group.
    pub tradeoffs: Vec<crate::tradeoff::TradeOff>,
    /// What the candidates' cloud runs would have emitted in cleaner regions (for candidates that
    /// did not pass, or all with `--whatif`). Avoided emissions: never subtracted from totals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub whatif: Vec<crate::mitigation::WhatIf>,
    /// With `--predict`: the projections the verdict judged (the totals are projected).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<crate::predict::Projection>,
    /// With `--ledger` and a database: the policy's budgets over time (`periods:`, `trajectory:`)
    /// in each period this check's runs fall in, judged on the ledger plus this check's runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<crate::policy::periods::PeriodLine>,
    /// What this check stored in the organisation's ledger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerNote>,
    /// Warnings from reading the logs and the policy.
    pub warnings: Vec<Warning>,
    /// Files read.
    pub inputs: Vec<InputFile>,
    /// The candidates' CO2e in everyday terms ([`car_equivalence`]; not in the JSON).
    #[serde(skip)]
    pub equivalence: Option<CarEquivalence>,
}

/// What a command stored in the organisation's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LedgerNote {
    /// The ledger (a password redacted).
    pub ledger: String,
    /// Distinct runs this check counted and stored (one per stable key).
    pub runs: usize,
    /// Runs the ledger did not have.
    pub new: usize,
    /// Stored runs this check's snapshots made larger.
    pub grew: usize,
    /// Runs already stored as they are.
    pub same: usize,
}

impl CheckReport {
    /// The verdict and one-line summary with `lines` (budgets over time) judged too: the worse
    /// of the models' verdict and the lines'; the summary names the first line at that level
    /// when the models' own verdict is better.
    pub fn verdict_with_periods(
        &self,
        lines: &[crate::policy::periods::PeriodLine],
    ) -> (Verdict, String) {
        let (models, summary) = (self.verdict, self.summary.clone());
        let worst = lines
            .iter()
            .map(|l| l.verdict)
            .max()
            .unwrap_or(Verdict::Pass);
        if worst <= models || worst == Verdict::Pass {
            return (models, summary);
        }
        let at: Vec<&crate::policy::periods::PeriodLine> =
            lines.iter().filter(|l| l.verdict == worst).collect();
        let mut text = format!("{}: {} ({})", worst.word(), at[0].message, at[0].location);
        if at.len() > 1 {
            text.push_str(&format!(" (+{} more)", at.len() - 1));
        }
        (worst, text)
    }

    /// Take in the judged budgets over time: the verdict and summary follow them.
    pub fn set_periods(&mut self, lines: Vec<crate::policy::periods::PeriodLine>) {
        let (verdict, summary) = self.verdict_with_periods(&lines);
        self.verdict = verdict;
        self.summary = summary;
        self.periods = lines;
    }

    /// A budget over time that could not be judged (no ledger): a `no-ledger` warning, and a
    /// failure when the budget is `required`.
    pub fn add_unjudged(&mut self, required: bool, at: crate::error::Location, message: String) {
        if required && self.verdict != Verdict::Fail {
            self.verdict = Verdict::Fail;
            self.summary = format!("{}: {message} ({at})", Verdict::Fail.word());
        }
        self.warnings
            .push(Warning::at(crate::codes::NO_LEDGER, at, message));
    }
}

/// The candidates' CO2e as the distance a typical passenger car drives for the same CO2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CarEquivalence {
    /// The candidates' CO2e.
    pub co2e: Mass,
    /// Kilometres a typical passenger car drives for it (US EPA: about 400 g CO2 per mile).
    pub car_km: f64,
}

/// The candidates' CO2e in car-kilometres (the reference's `car-km` default); none when there is
/// no CO2e or no such default.
pub fn car_equivalence(models: &[ModelReport], reference: &Reference) -> Option<CarEquivalence> {
    let co2e: Mass = models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .map(|m| m.totals.emissions)
        .sum();
    let car = reference.default_value("car-km")?;
    if car.value <= 0.0 || co2e.value() <= 0.0 {
        return None;
    }
    Some(CarEquivalence {
        co2e,
        car_km: co2e.value() / car.value,
    })
}

/// One record in the `ingest` report, with whether it was counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestRow {
    /// The record.
    #[serde(flatten)]
    pub record: RunRecord,
    /// Whether and why (not) it is counted.
    pub counted: Status,
}

/// Totals of the records of one format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatTotals {
    /// The format.
    pub format: Format,
    /// Totals over its counted records.
    pub totals: Totals,
}

/// The report of `ingest`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// Every record read.
    pub records: Vec<IngestRow>,
    /// Totals over counted records.
    pub totals: Totals,
    /// Totals per input format, in format order.
    pub by_format: Vec<FormatTotals>,
    /// Judgements made while reading and reconciling.
    pub warnings: Vec<Warning>,
    /// Files read.
    pub inputs: Vec<InputFile>,
}

/// The one-line verdict: the first blocking (or warning) finding and how many more there are.
pub fn summarize(models: &[ModelReport]) -> (Verdict, String) {
    let gated: Vec<&ModelReport> = models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .collect();
    let verdict = gated
        .iter()
        .map(|m| m.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    let worst: Vec<(&ModelReport, &Finding)> = gated
        .iter()
        .flat_map(|m| m.findings.iter().map(move |f| (*m, f)))
        .filter(|(_, f)| Verdict::from(f.severity) == verdict)
        .collect();
    let summary = match worst.first() {
        None => {
            let n = gated.len();
            format!(
                "{}: {n} model{} within budget",
                verdict.word(),
                if n == 1 { "" } else { "s" }
            )
        }
        Some((m, f)) => {
            let waived = if f.severity == Severity::Waived {
                "waived by exception: "
            } else {
                ""
            };
            let mut text = format!("{}: {}: {waived}{}", verdict.word(), m.label(), f.message);
            if let Some(src) = &f.source {
                text.push_str(&format!(" ({src})"));
            }
            if worst.len() > 1 {
                text.push_str(&format!(" (+{} more)", worst.len() - 1));
            }
            text
        }
    };
    (verdict, summary)
}

/// An estimate with its totals: what `carbon-gate estimate` prints.
#[derive(Debug, Clone)]
pub struct EstimateReport {
    /// The estimate: its record, assumptions and formulas.
    pub estimate: crate::estimate::Estimate,
    /// The record's totals (central figure and range), as a check would count them.
    pub totals: Totals,
}

impl EstimateReport {
    /// The report of `estimate`.
    pub fn new(estimate: crate::estimate::Estimate) -> EstimateReport {
        let totals = crate::ledger::sum(&[&estimate.record]);
        EstimateReport { estimate, totals }
    }
}
