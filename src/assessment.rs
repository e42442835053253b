//! The vocabulary of a judgement: verdicts, severities, roles, findings, and the judged model
//! version ([`ModelReport`]) that the policy's evaluation produces and every later stage reads.
//!
//! It sits right after the ledger (a judged model version holds its totals and contributions), so
//! the policy, the advice modules and the report can all use it (docs/architecture.md). The
//! aggregate report of a command (`report::CheckReport`) and its JSON schema version live in
//! `report`, which re-exports these types.

use serde::{Deserialize, Serialize};

use crate::error::Location;
use crate::ledger::{Contribution, Totals};

/// The outcome of a check: worst of its models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every limit met.
    Pass,
    /// A warn-level limit exceeded, or something to look at; does not block.
    Warn,
    /// A fail-level limit exceeded; blocks (exit 1).
    Fail,
}

impl Verdict {
    /// Upper-case word for one-line messages.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure an approved, unexpired exception waives: shown, does not block.
    Waived,
    /// Reported, does not block.
    Warn,
    /// Blocks.
    Fail,
}

impl From<Severity> for Verdict {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Waived | Severity::Warn => Verdict::Warn,
            Severity::Fail => Verdict::Fail,
        }
    }
}

/// The part a model version plays in a check.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The model version this one replaces: shown and compared with, never gated.
    Baseline,
    /// Proposed by this change: gated.
    Candidate,
    /// A lighter alternative shown beside the candidate: evaluated, never gated.
    Alternative,
}

/// The exception that waived a finding.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Waiver {
    /// Why.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// Last day it applies.
    pub expires: String,
    /// Where it is written.
    pub source: Location,
}

/// The baseline a model version is compared with, and the differences.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BaselineRef {
    /// Baseline model.
    pub model: String,
    /// Baseline version.
    pub version: Option<String>,
    /// Where its figures come from: `logs`, or the report file.
    pub source: String,
    /// Its energy, kWh.
    pub energy_kwh: f64,
    /// Its total CO2e, kg.
    pub co2e_kg: f64,
    /// Candidate − baseline, kg.
    pub delta_co2e_kg: f64,
    /// Relative change, % (`null` when the baseline is zero).
    pub delta_co2e_pct: Option<f64>,
    /// Candidate − baseline, kWh.
    pub delta_energy_kwh: f64,
    /// Relative change, %.
    pub delta_energy_pct: Option<f64>,
}

/// The quantity a rule is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Emissions, kg CO2e.
    Co2e,
    /// Energy, kWh.
    Energy,
    /// The accuracy metric the policy names.
    Accuracy,
    /// kg CO2e per accuracy point.
    Co2ePerPoint,
    /// kg CO2e per 1,000 inferences.
    Co2ePer1kInferences,
    /// Grid intensity a run ran at, g CO2e/kWh (operational CO2e ÷ energy).
    Intensity,
}

impl Metric {
    /// Unit of `measured` and `limit` in JSON.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Co2e | Metric::Co2ePerPoint | Metric::Co2ePer1kInferences => "kg",
            Metric::Energy => "kWh",
            Metric::Accuracy => "metric",
            Metric::Intensity => "g/kWh",
        }
    }

    /// Label in text.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Co2e => "CO2e",
            Metric::Energy => "energy",
            Metric::Accuracy => "accuracy",
            Metric::Co2ePerPoint => "CO2e per accuracy point",
            Metric::Co2ePer1kInferences => "CO2e per 1,000 inferences",
            Metric::Intensity => "grid intensity",
        }
    }

    /// Key used in exception rules (`budget-exceeded:co2e`).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Co2e => "co2e",
            Metric::Energy => "energy",
            Metric::Accuracy => "accuracy",
            Metric::Co2ePerPoint => "co2e-per-point",
            Metric::Co2ePer1kInferences => "co2e-per-1k-inferences",
            Metric::Intensity => "intensity",
        }
    }
}

/// One result of evaluating a policy against a model.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Stable kebab-case code (`docs/diagnostics.md`).
    pub code: &'static str,
    /// Severity.
    pub severity: Severity,
    /// One sentence, with the numbers.
    pub message: String,
    /// The quantity, for limit findings.
    pub metric: Option<Metric>,
    /// The measured total, in `unit`.
    pub measured: Option<f64>,
    /// The limit, in `unit`.
    pub limit: Option<f64>,
    /// Unit of `measured` and `limit`.
    pub unit: Option<&'static str>,
    /// Where the limit is written.
    pub source: Option<Location>,
    /// `report` when the rule is in report mode (never blocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// The exception that waived it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
}

impl Finding {
    /// A finding with only a code, a severity and a message.
    pub fn plain(code: &'static str, severity: Severity, message: String) -> Self {
        Finding {
            code,
            severity,
            message,
            metric: None,
            measured: None,
            limit: None,
            unit: None,
            source: None,
            mode: None,
            waiver: None,
        }
    }
}

/// The budget that applied to a model.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BudgetRef {
    /// Its name, if given.
    pub name: Option<String>,
    /// Its model pattern.
    pub model: String,
    /// Its version requirement, if any.
    pub versions: Option<String>,
    /// Where it is written.
    pub source: Location,
}

/// Warn/fail values of one limit, raw, in the metric's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LimitValues {
    /// Warn threshold.
    pub warn: Option<f64>,
    /// Fail threshold.
    pub fail: Option<f64>,
}

/// The limits that applied, raw.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, schemars::JsonSchema)]
pub struct AppliedLimits {
    /// CO2e, kg.
    pub co2e_kg: Option<LimitValues>,
    /// Energy, kWh.
    pub energy_kwh: Option<LimitValues>,
}

/// One model at one version in the check.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ModelReport {
    /// Model name.
    pub model: String,
    /// Version, when given.
    pub version: Option<String>,
    /// Candidate (gated), baseline or alternative.
    pub role: Role,
    /// The candidate group it belongs to (`model version` of the candidate).
    pub group: String,
    /// For alternatives: distilled, quantized…
    pub kind: Option<String>,
    /// Quality metrics.
    pub metrics: crate::metrics::Metrics,
    /// The baseline it is compared with.
    pub baseline: Option<BaselineRef>,
    /// This model's verdict.
    pub verdict: Verdict,
    /// The budget that applied, if one did.
    pub budget: Option<BudgetRef>,
    /// The limits of that budget.
    pub limits: AppliedLimits,
    /// Totals over its counted runs.
    pub totals: Totals,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// The counted rows whose sum is `totals`, each with its file and line.
    pub contributions: Vec<Contribution>,
}

impl ModelReport {
    /// `text-gen 2.1.0` or `text-gen`.
    pub fn label(&self) -> String {
        crate::record::ModelVersion::new(&self.model, self.version.as_deref()).to_string()
    }
}
