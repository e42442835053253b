//! The policy file as written: strict serde types, one per YAML mapping.
//!
//! These raw types keep quantities and version ranges as the user wrote them; only
//! [`super::validate`] turns them into the checked [`super::Policy`] that evaluation accepts.
//! Every mapping denies unknown keys, so a typo such as `max_co2` is an error, never a silent pass.
//! The JSON Schema in `policies/policy.schema.json` is generated from these types.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

/// A carbon-budget policy file (`version: 1`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "carbon-gate policy")]
pub struct PolicyFile {
    /// Format version of this file. Only `1` exists.
    pub version: u32,
    /// Overrides of the embedded reference values used when carbon-gate computes embodied carbon
    /// (`carbon-gate reference list defaults` shows them with their sources).
    #[serde(default)]
    pub reference: Option<RawReference>,
    /// Budgets, tried in order: the first one whose `model` and `versions` match applies.
    #[serde(default)]
    pub budgets: Vec<RawBudget>,
    /// Approved, expiring exceptions: a matching failure becomes `waived`.
    #[serde(default)]
    pub exceptions: Vec<RawException>,
    /// Rows of one run that are not snapshots of it (one figure rises while another falls):
    /// `refuse` them (exit 2, the default) or `count-larger` (the larger of each figure is
    /// counted, never the smaller). Rows that disagree on the model, version, hardware, place or
    /// start of the run are refused either way. With several policy files, `refuse` wins.
    pub conflicting_evidence: Option<crate::ledger::ConflictRule>,
    /// A model that has budgets, checked at a version none of them covers (or with no version
    /// when all of them name versions): `fail` (the default) or `warn`. With several policy
    /// files, `fail` wins.
    pub uncovered_versions: Option<UncoveredRule>,
    /// Where the logs a check is judged on may come from: `any` (the default; logs the change
    /// edits are pointed out when `--policy-ref` names the base) or `base-or-artifact` (a check
    /// whose logs the change added or modified is refused, exit 2: for promotion gates, where the
    /// evidence must come from the training job's artifacts or the base). With several policy
    /// files, `base-or-artifact` wins. `artifacts` is stricter still: `check` treats it as
    /// `base-or-artifact`, and `promote` accepts only the emissions logs among the run's
    /// artifacts (not logs named on its command line, not `carbon_gate.*` run metrics).
    pub evidence: Option<EvidenceRule>,
    /// When the run of the version holding the alias now has other evidence than its promotion
    /// recorded (its `carbon_gate.evidence_digest` and totals tags): judge the candidate against
    /// the `recorded` figures (the default, with a `baseline-evidence-changed` warning), or
    /// `refuse` the promotion (exit 2). With several policy files, `refuse` wins.
    pub changed_baseline: Option<ChangedBaselineRule>,
    /// Teams, by name: the models each owns and who owns it. A model belongs to the first team,
    /// in name order, one of whose `models` matches it. A team is defined in one file only.
    #[serde(default)]
    pub teams: std::collections::BTreeMap<String, RawTeam>,
    /// Budgets over time: limits on the totals of calendar months, quarters or years, over the
    /// organisation's ledger (judged only by a `check` given `--ledger`).
    #[serde(default)]
    pub periods: Vec<RawPeriod>,
    /// A science-based target: a yearly CO2e limit that contracts linearly from a base year. At
    /// most one, in one of the policy files.
    pub trajectory: Option<RawTrajectory>,
}

/// A team: the models it owns and who to tell.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTeam {
    /// Model names or globs (`text-gen*`) the team owns.
    #[serde(default)]
    pub models: Vec<String>,
    /// Who owns them (`@org/nlp`, an e-mail address): shown in reports.
    #[serde(default)]
    pub owners: Vec<String>,
}

/// A budget over time: limits on the total of the runs of some models in each calendar period.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPeriod {
    /// Its name, shown in reports; unique among the periods of all policy files.
    pub name: String,
    /// Model names or globs it covers.
    #[serde(default)]
    pub models: Vec<String>,
    /// Teams (from `teams:`) whose models it covers. A run counts when its model matches
    /// `models` or belongs to one of these teams.
    #[serde(default)]
    pub teams: Vec<String>,
    /// The calendar period (UTC) totals are taken over: `month`, `quarter` or `year`.
    pub every: crate::periods::Every,
    /// Fail a check that cannot judge it (no `--ledger`), instead of warning.
    #[serde(default)]
    pub required: bool,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
    /// The limits on each period's totals: at least one.
    #[serde(default)]
    pub limits: RawPeriodLimits,
}

/// Limits on a period's totals.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPeriodLimits {
    /// Total CO2e (`"10 t"`).
    pub co2e: Option<RawPeriodThresholds>,
    /// Total energy (`"120 MWh"`).
    pub energy: Option<RawPeriodThresholds>,
}

/// A warn and/or fail threshold of a period (its `mode` is the period's).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPeriodThresholds {
    /// Exceeding this reports a warning.
    pub warn: Option<RawQuantity>,
    /// Exceeding this fails the check.
    pub fail: Option<RawQuantity>,
}

/// A yearly CO2e limit contracting linearly from a base year (absolute contraction):
/// `base × (1 − reduction-per-year × (year − base-year))`, never below zero.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTrajectory {
    /// Model names or globs it covers.
    #[serde(default)]
    pub models: Vec<String>,
    /// Teams (from `teams:`) whose models it covers.
    #[serde(default)]
    pub teams: Vec<String>,
    /// The base year (1990–2100): its limit is `base`.
    pub base_year: i64,
    /// The CO2e of the base year (`"40 t"`).
    pub base: RawQuantity,
    /// The reduction of the limit each year, as a share of `base` (`"4.2%"`, at most 100%).
    pub reduction_per_year: RawQuantity,
    /// Fail a check that cannot judge it (no `--ledger`), instead of warning.
    #[serde(default)]
    pub required: bool,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
}

/// What promotion does when the baseline's evidence differs from what its promotion recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangedBaselineRule {
    /// Judge against the figures recorded at its promotion, and say so.
    #[default]
    Recorded,
    /// Refuse to promote (exit 2).
    Refuse,
}

/// Where the evidence may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceRule {
    /// Any log given; those the change edits are reported.
    #[default]
    Any,
    /// Only logs the change did not add or modify (as the base has them, or from outside the
    /// repository).
    BaseOrArtifact,
    /// As `base-or-artifact` for `check`; for `promote`, only the emissions logs among the run's
    /// artifacts.
    Artifacts,
}

impl EvidenceRule {
    /// The stricter of two rules.
    pub fn strictest(self, other: EvidenceRule) -> EvidenceRule {
        let rank = |r: EvidenceRule| match r {
            EvidenceRule::Any => 0,
            EvidenceRule::BaseOrArtifact => 1,
            EvidenceRule::Artifacts => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// The rule as written in a policy.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceRule::Any => "any",
            EvidenceRule::BaseOrArtifact => "base-or-artifact",
            EvidenceRule::Artifacts => "artifacts",
        }
    }

    /// Whether logs a change edits are refused (`base-or-artifact` or stricter).
    pub fn refuses_changed_logs(self) -> bool {
        self != EvidenceRule::Any
    }
}

/// What a check of a version that no budget of its model covers does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UncoveredRule {
    /// Fail closed (`uncovered-version`, exit 1): the default.
    #[default]
    Fail,
    /// Report it as a warning.
    Warn,
}

/// An exception to a rule for some model versions, with who approved it and until when.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawException {
    /// Model name or glob.
    pub model: String,
    /// Semver requirement on the version (default: every version).
    pub versions: Option<String>,
    /// The finding code it waives (`budget-exceeded`, `regression-exceeded`, …), optionally with
    /// the metric: `budget-exceeded:co2e`.
    pub rule: String,
    /// Why.
    pub reason: String,
    /// Last day it applies (`YYYY-MM-DD`, inclusive).
    pub expires: String,
    /// Who approved it.
    pub approved_by: String,
}

/// Whether a rule can block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Exceeding `fail` blocks (the default).
    #[default]
    Enforce,
    /// Report only, never block: for gradual adoption.
    Report,
}

/// Which overruns block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BlockOn {
    /// Every overrun of a fail limit (the default).
    #[default]
    Any,
    /// Only overruns the baseline did not have, or that are worse than the baseline's (ratchet).
    New,
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Higher is better (accuracy, F1…).
    #[default]
    Higher,
    /// Lower is better (error rate, perplexity…).
    Lower,
}

/// The accuracy rule of a budget.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAccuracy {
    /// Metric name in the metrics file (`accuracy`, `f1`…).
    pub metric: String,
    /// Which way it improves.
    #[serde(default)]
    pub direction: Direction,
    /// Floor (or ceiling, for `direction: lower`) the candidate must meet.
    pub min: Option<f64>,
    /// For the recommendation: how far below the best row's metric a lighter row may be (in the
    /// metric's own units, e.g. `0.01`).
    pub max_drop: Option<f64>,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
}

/// A regression limit vs the baseline: percentages, and an absolute noise floor.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRegressionLimit {
    /// Increase that warns, e.g. `"5%"`.
    pub warn: Option<RawQuantity>,
    /// Increase that fails, e.g. `"10%"`.
    pub fail: Option<RawQuantity>,
    /// An absolute increase below this is noise, never a regression (`"0.5 kg"`, `"2 kWh"`).
    pub floor: Option<RawQuantity>,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
}

/// Regression limits.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRegression {
    /// On total CO2e.
    pub co2e: Option<RawRegressionLimit>,
    /// On energy.
    pub energy: Option<RawRegressionLimit>,
}

/// An efficiency limit: CO2e per unit of usefulness.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEfficiencyLimit {
    /// The metric that counts the units (default: the accuracy metric for points,
    /// `inferences` for inferences).
    pub metric: Option<String>,
    /// Warn above, e.g. `"2 kg"`.
    pub warn: Option<RawQuantity>,
    /// Fail above.
    pub fail: Option<RawQuantity>,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
}

/// Efficiency limits.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEfficiency {
    /// CO2e per accuracy point (a point is 0.01 of a metric in 0–1, or 1 of a metric in %).
    pub co2e_per_point: Option<RawEfficiencyLimit>,
    /// CO2e per 1,000 inferences (the count comes from the metrics, `inferences` by default).
    pub co2e_per_1k_inferences: Option<RawEfficiencyLimit>,
}

/// Reference overrides.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawReference {
    /// Hardware lifetime, e.g. `"5 years"`.
    pub lifetime: Option<RawQuantity>,
    /// Embodied CO2e of a host server, e.g. `"3000 kg"`.
    pub server_embodied: Option<RawQuantity>,
    /// Embodied CO2e of an accelerator without its own figure, e.g. `"200 kg"`.
    pub accelerator_embodied: Option<RawQuantity>,
    /// Accelerators per host server.
    pub devices_per_server: Option<u32>,
    /// Per-accelerator overrides, by name (`A100-SXM4-80GB: { embodied: "150 kg" }`).
    #[serde(default)]
    pub accelerators: std::collections::BTreeMap<String, RawAccelerator>,
}

/// An accelerator override.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAccelerator {
    /// Embodied CO2e per accelerator.
    pub embodied: Option<RawQuantity>,
    /// TDP (for estimates).
    pub tdp: Option<RawQuantity>,
}

/// Whether a budget counts embodied carbon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EmbodiedRule {
    /// Count what the logs report (the default).
    #[default]
    Ignore,
    /// Add embodied carbon, from the hardware and duration a run records, where a log lacks it;
    /// warn (`missing-embodied`) where it cannot be computed.
    Include,
    /// As `include`, but a run whose embodied carbon cannot be computed fails the check.
    Required,
}

/// Which figure of a band limits are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DecideOn {
    /// The central figure (the default).
    #[default]
    Central,
    /// The upper end of the band of estimates (measured runs count at their value).
    Upper,
}

/// One budget: which models and versions it covers and their limits.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBudget {
    /// Optional name shown in reports.
    pub name: Option<String>,
    /// Optional free text shown in reports.
    pub description: Option<String>,
    /// Model name, exact or a glob (`text-*`).
    pub model: String,
    /// Semver requirement on the model version, e.g. `">=2.0.0, <3.0.0"`. Without it the budget
    /// covers every version (and runs checked without `--model-version`).
    pub versions: Option<String>,
    /// Whether embodied (Scope 3, hardware manufacture) carbon is counted: `ignore` (default),
    /// `include` or `required`.
    #[serde(default)]
    pub embodied: EmbodiedRule,
    /// Compare limits with the `central` figure (default) or the `upper` end of estimates' bands.
    #[serde(default)]
    pub decide_on: DecideOn,
    /// `any` (default): every fail-level overrun blocks. `new`: only overruns the baseline did
    /// not have or that are worse than the baseline's (ratchet).
    #[serde(default)]
    pub block_on: BlockOn,
    /// The accuracy rule: which metric, which way it improves, its floor.
    pub accuracy: Option<RawAccuracy>,
    /// Shorthand for `limits: { intensity: { fail: … } }`: a run that ran on a grid dirtier
    /// than this (operational CO2e ÷ energy, e.g. `"200 g/kWh"`) fails.
    pub max_intensity: Option<RawQuantity>,
    /// Cloud regions runs should use (`aws:eu-north-1`, `gcp:europe-north1`…): a run elsewhere
    /// is reported (`region-not-preferred`, a warning), and what-if savings list these first.
    #[serde(default)]
    pub preferred_regions: Vec<String>,
    /// The limits on the model's totals over the runs in the check.
    #[serde(default)]
    pub limits: RawLimits,
}

/// Limits on a model's totals.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLimits {
    /// Total CO2e (mass with unit: `"120 kg"`, `"1.5 t"`, `"800 g"`).
    pub co2e: Option<RawThresholds>,
    /// Total energy (with unit: `"400 kWh"`, `"0.4 MWh"`).
    pub energy: Option<RawThresholds>,
    /// Increase vs the baseline.
    pub regression: Option<RawRegression>,
    /// CO2e per accuracy point or per 1,000 inferences.
    pub efficiency: Option<RawEfficiency>,
    /// Grid intensity any run may have run at (operational CO2e ÷ energy; `"200 g/kWh"`).
    pub intensity: Option<RawThresholds>,
}

/// A warn and/or fail threshold. Exceeding `warn` reports; exceeding `fail` blocks (exit 1).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawThresholds {
    /// Exceeding this reports a warning.
    pub warn: Option<RawQuantity>,
    /// Exceeding this fails the check.
    pub fail: Option<RawQuantity>,
    /// `report` never blocks.
    #[serde(default)]
    pub mode: Mode,
}

/// A quantity as written: a string with a unit. A bare YAML number is kept as text so that
/// validation can say which unit to add, rather than a type error.
#[derive(Debug, Clone, PartialEq)]
pub struct RawQuantity(pub String);

impl<'de> Deserialize<'de> for RawQuantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawQuantity;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quantity with a unit, such as \"120 kg\" or \"400 kWh\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawQuantity, E> {
                Ok(RawQuantity(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawQuantity, E> {
                Ok(RawQuantity(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawQuantity, E> {
                Ok(RawQuantity(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawQuantity, E> {
                Ok(RawQuantity(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for RawQuantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A number followed by a unit: mass mg|g|kg|t (CO2e), energy Wh|kWh|MWh|GWh.",
            "pattern": "^\\s*[0-9][0-9_]*(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\s*[A-Za-z%/ 0-9]+$",
            "examples": ["120 kg", "0.4 MWh"]
        })
    }
}
