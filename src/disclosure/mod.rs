//! The Environmental Impact Disclosure: the document a compliance officer files, built from the
//! same evaluated report as the gate. One disclosure per candidate model version, in field groups
//! A–F (identity, compute, energy, emissions, intensity and gate decision, uncertainty); every
//! field carries the provisions it serves, and a field that cannot be filled is `null` with the
//! reason — never omitted. The provisions and dates come from one versioned table
//! (`regulation.yaml`). An audit trail (SHA-256 of every input, policy, configuration and facts
//! file; tool, reference-data and table versions) lets an auditor re-run it.
//!
//! carbon-gate states what the evidence shows and what it does not; it does not decide whether a
//! provider is compliant, and the document says so.

pub mod facts;
pub mod hf_card;
pub mod render;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, display_path};
use crate::record::{Method, Phase};
use crate::report::{CheckReport, ModelReport, Role, Severity};
use crate::units::{Energy, Mass, format_significant};
use facts::{Facts, ModelFacts};

/// Version of the disclosure's JSON layout.
pub const DISCLOSURE_SCHEMA_VERSION: u32 = 1;

/// What this tool does not claim, printed in every disclosure.
pub const NOT_LEGAL_ADVICE: &str = "This document reports what the emissions evidence shows and how each figure was computed. It is not legal advice and does not establish compliance with any regulation; the provider remains responsible for its documentation. Regulatory references and dates are from the table version shown; verify them against the official texts.";

/// The regulation table.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Regulation {
    /// Table version.
    pub version: String,
    /// The texts it was read from.
    pub basis: String,
    /// Where to verify the dates.
    pub verify_at: String,
    /// Provisions by id.
    pub provisions: Vec<Provision>,
    /// Application dates.
    pub dates: Vec<DateRow>,
}

/// One provision a field can serve.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Provision {
    /// Stable id used in `serves`.
    pub id: String,
    /// Citation in a few words, for a table column.
    #[serde(default)]
    pub short: Option<String>,
    /// Citation.
    pub cite: String,
    /// What it asks, in carbon-gate's words.
    pub about: String,
    /// The text it was read from.
    pub source: String,
}

/// One application date.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DateRow {
    /// Stable key (`gpai-obligations`, `gpai-legacy`…).
    pub key: String,
    /// The date.
    pub date: String,
    /// What applies from it.
    pub applies: String,
    /// Its basis.
    pub cite: String,
}

/// The embedded regulation table.
pub fn regulation() -> Result<Regulation, Error> {
    serde_yaml::from_str(include_str!("regulation.yaml"))
        .map_err(|e| Error::Usage(format!("embedded regulation table is broken: {e}")))
}

/// Whether a field holds a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Filled from the evidence, the facts file or a computation shown.
    Filled,
    /// Could not be filled; `reason` says why and how to fill it.
    Null,
}

/// One field of the disclosure.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Field {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// The value (raw numbers in the unit of `unit`), or `null`.
    pub value: Value,
    /// Unit of a numeric value.
    pub unit: Option<String>,
    /// The value as rendered for people (rounded; raw numbers stay in `value`).
    pub display: String,
    /// Filled or null.
    pub status: Status,
    /// For a null field: why, and what would fill it. For a filled one: how it was obtained,
    /// when that is not obvious.
    pub note: Option<String>,
    /// Ids of the provisions it serves (see `regulation.provisions`).
    pub serves: Vec<String>,
}

/// A group of fields.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Section {
    /// A–F.
    pub id: String,
    /// Title.
    pub title: String,
    /// Fields.
    pub fields: Vec<Field>,
}

/// The disclosure of one model version.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModelDisclosure {
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// Gate verdict word.
    pub verdict: String,
    /// Sections A–F.
    pub sections: Vec<Section>,
    /// The emissions split, kg, for the chart.
    pub split: Split,
    /// The figures of the one-page summary, raw (rounded only when rendered).
    pub summary: ModelSummary,
    /// Every default and input the estimates used, with its source (the table of assumptions;
    /// the same entries as the field `defaults_used`).
    pub assumptions: Vec<Assumption>,
    /// What the document gives, and what it lacks, for each group of AI Act provisions.
    pub ai_act: Vec<ActRow>,
}

/// One default or input of an estimate, with its source.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Assumption {
    /// What it is (`TDP`, `grid intensity`, `PUE`…).
    pub name: String,
    /// Its value, with its unit and range.
    pub value: String,
    /// Where it comes from.
    pub source: String,
}

/// The figures of the summary page of one model version.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModelSummary {
    /// Accelerator-hours of the training runs (Σ duration × accelerators), when every training
    /// run records both.
    pub gpu_hours: Option<f64>,
    /// The hardware, one entry per distinct configuration.
    pub hardware: Vec<String>,
    /// Training compute, FLOP, when known.
    pub training_flop: Option<f64>,
    /// Energy, kWh (`null`: no energy figure in the evidence).
    pub energy_kwh: Option<f64>,
    /// Low end of the energy band, kWh (estimates only; `null` for measured-only evidence).
    pub energy_low_kwh: Option<f64>,
    /// High end of the energy band, kWh.
    pub energy_high_kwh: Option<f64>,
    /// How the energy was obtained (the field `energy_status`).
    pub energy_status: String,
    /// CO2e by accounting line, kg.
    pub split: Split,
    /// Total CO2e, kg.
    pub co2e_kg: f64,
    /// Low end of the CO2e band, kg (`null` for measured-only evidence).
    pub co2e_low_kg: Option<f64>,
    /// High end of the CO2e band, kg.
    pub co2e_high_kg: Option<f64>,
    /// Market-based operational CO2e, kg, when a contractual factor was given.
    pub market_co2e_kg: Option<f64>,
    /// The grid factors used (location-based), each with its source.
    pub grid: Vec<Assumption>,
    /// The gate's decision for this model version, with each finding's message (where the
    /// policy sets each limit is in `gate`).
    pub gate: String,
}

/// One group of AI Act provisions and what the document does for it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ActRow {
    /// The provisions, in words (e.g. "Art. 53(1)(a), Annex XI §1 2(d)–(e)").
    pub provisions: String,
    /// What they ask, in carbon-gate's words.
    pub about: String,
    /// Ids of the provisions in `regulation.provisions`.
    pub ids: Vec<String>,
    /// Labels of the filled fields that serve them.
    pub provided: Vec<String>,
    /// Labels of the fields that serve them and are still null (see `open_items`).
    pub missing: Vec<String>,
}

/// The document's own particulars, printed in its header.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Header {
    /// Document id: `EID-` and 16 hex digits of a SHA-256 over the models, versions and the
    /// digests of every input file (the same inputs give the same id).
    pub id: String,
    /// Version of the document (facts `document.version`, else `1`).
    pub version: String,
    /// Who prepared it (`null`: a blank line to sign).
    pub preparer: Option<String>,
    /// Who approved it (`null`: a blank line to sign).
    pub approver: Option<String>,
    /// The repository the figures were computed from (`null`: not recorded).
    pub repository: Option<String>,
    /// The commit the figures were computed from (`null`: not recorded).
    pub commit: Option<String>,
    /// Where repository and commit come from: `environment` (GITHUB_SERVER_URL,
    /// GITHUB_REPOSITORY, GITHUB_SHA), `facts`, or `not recorded`.
    pub provenance: String,
}

/// Something the preparer still has to supply; listed apart from the document's body.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OpenItem {
    /// 1, 2, 3… in the order of the document.
    pub number: usize,
    /// The model version it concerns (`null`: the document as a whole).
    pub model: Option<String>,
    /// The field key it concerns, if any.
    pub field: Option<String>,
    /// What is missing, in words.
    pub label: String,
    /// Why it is missing and how to supply it.
    pub action: String,
}

/// The CI gate's particulars: where each limit is set and what the gate said.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GateDetails {
    /// The gate's one-line summary, with the policy location that decided it.
    pub summary: String,
    /// Each budget that applied, with where the policy defines it.
    pub budgets: Vec<String>,
    /// Each finding: model, code, severity, message and the policy location of its limit.
    pub findings: Vec<GateFinding>,
}

/// One finding of the gate.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GateFinding {
    /// Model version.
    pub model: String,
    /// Finding code.
    pub code: String,
    /// Severity word.
    pub severity: String,
    /// Message.
    pub message: String,
    /// Where the limit is written, if any.
    pub source: Option<String>,
}

/// CO2e by accounting line, kg.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct Split {
    /// Scope 2, location-based (own or colocated hardware).
    pub scope2_location_kg: f64,
    /// Scope 3 category 1, location-based (cloud electricity).
    pub scope3_cat1_location_kg: f64,
    /// Embodied, SCI time-share.
    pub embodied_sci_kg: f64,
}

/// One row of the proportionality memo.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MemoRow {
    /// candidate, baseline or alternative.
    pub role: String,
    /// Kind of alternative (distilled, quantized…).
    pub kind: Option<String>,
    /// Model.
    pub model: String,
    /// Version.
    pub version: Option<String>,
    /// The accuracy metric's value.
    pub accuracy: Option<f64>,
    /// Total CO2e, kg.
    pub co2e_kg: f64,
    /// Energy, kWh.
    pub energy_kwh: f64,
    /// Whether it is the recommended row.
    pub recommended: bool,
}

/// The proportionality memo of one candidate group.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Memo {
    /// The chosen candidate.
    pub chosen: String,
    /// The accuracy metric compared.
    pub metric: Option<String>,
    /// Rows considered.
    pub rows: Vec<MemoRow>,
    /// carbon-gate's recommendation, with its rule.
    pub recommendation: String,
    /// Whether the chosen candidate is the recommended row.
    pub chosen_is_recommended: bool,
    /// The provider's stated reason (facts `proportionality-reason`), when given.
    pub stated_reason: Option<String>,
    /// The memo's conclusion.
    pub conclusion: String,
}

/// One file the figures rest on.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditFile {
    /// Path as given.
    pub path: String,
    /// What it is (log format, policy, configuration, facts).
    pub role: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// What an auditor needs to re-run the document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Audit {
    /// carbon-gate version.
    pub tool_version: String,
    /// SHA-256 over the embedded reference tables.
    pub reference_data: String,
    /// Regulation table version.
    pub regulation_table: String,
    /// Digest over the policy files (as `promote` writes it).
    pub policy_digest: String,
    /// Every file read.
    pub files: Vec<AuditFile>,
    /// The command that produced the document.
    pub command: String,
}

/// The document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Disclosure {
    /// Layout version.
    pub schema_version: u32,
    /// Always `environmental-impact-disclosure`.
    pub document: String,
    /// Date of the evaluation (YYYY-MM-DD).
    pub date: String,
    /// The provider, when the facts file names it.
    pub provider: Option<String>,
    /// The gate's overall verdict and its one-line reason.
    pub verdict: String,
    /// One-line reason.
    pub summary: String,
    /// Per candidate model version.
    pub models: Vec<ModelDisclosure>,
    /// Proportionality memos (when alternatives were evaluated).
    pub proportionality: Vec<Memo>,
    /// The provisions and dates cited.
    pub regulation: Regulation,
    /// Audit trail.
    pub audit: Audit,
    /// What the document does not claim.
    pub not_legal_advice: String,
    /// Document id, version, preparer and approver, repository and commit.
    pub header: Header,
    /// What the preparer still has to supply (also printed on stderr by `report`).
    pub open_items: Vec<OpenItem>,
    /// The CI gate's particulars (policy locations), printed once, in an appendix.
    pub gate: GateDetails,
}

/// Where the document's inputs came from.
pub struct Sources<'a> {
    /// The configuration file, if any.
    pub config: Option<&'a std::path::Path>,
    /// The facts file, if any.
    pub facts_file: Option<&'a std::path::Path>,
    /// The policy files read.
    pub policy_files: &'a [PathBuf],
    /// Metrics files and baseline reports read (besides the logs).
    pub other_files: Vec<(PathBuf, &'static str)>,
    /// The command line.
    pub command: String,
    /// Evaluation date.
    pub date: time::Date,
    /// Repository and commit from the CI environment (see [`ci_provenance`]).
    pub ci: (Option<String>, Option<String>),
}

/// Repository URL and commit from GitHub Actions' environment (`GITHUB_SERVER_URL`,
/// `GITHUB_REPOSITORY`, `GITHUB_SHA`), each only when well-formed: an `https://` host without a
/// path, `owner/name` of letters, digits, `-`, `_` and `.`, and 40 or 64 hexadecimal digits.
pub fn ci_provenance(var: impl Fn(&str) -> Option<String>) -> (Option<String>, Option<String>) {
    let host_ok = |s: &str| {
        s.strip_prefix("https://").is_some_and(|h| {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
        })
    };
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let repo = match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY")) {
        (Some(host), Some(repo)) if host_ok(&host) => match repo.split_once('/') {
            Some((owner, name)) if name_ok(owner) && name_ok(name) => {
                Some(format!("{}/{repo}", host.trim_end_matches('/')))
            }
            _ => None,
        },
        _ => None,
    };
    let sha = var("GITHUB_SHA")
        .filter(|s| matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit()));
    (repo, sha)
}

fn field(key: &str, label: &str, serves: &[&str]) -> Field {
    Field {
        key: key.to_owned(),
        label: label.to_owned(),
        value: Value::Null,
        unit: None,
        display: String::new(),
        status: Status::Null,
        note: None,
        serves: serves.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl Field {
    fn filled(mut self, value: Value, display: impl Into<String>) -> Field {
        self.value = value;
        self.display = display.into();
        self.status = Status::Filled;
        self
    }

    fn unit(mut self, unit: &str) -> Field {
        self.unit = Some(unit.to_owned());
        self
    }

    fn note(mut self, note: impl Into<String>) -> Field {
        self.note = Some(note.into());
        self
    }

    fn null(mut self, reason: impl Into<String>) -> Field {
        self.value = Value::Null;
        self.display = "null".to_owned();
        self.status = Status::Null;
        self.note = Some(reason.into());
        self
    }

    fn text(self, text: impl Into<String>) -> Field {
        let t = text.into();
        self.filled(Value::String(t.clone()), t)
    }

    fn opt_text(self, text: Option<&str>, missing: &str) -> Field {
        match text {
            Some(t) => self.text(t),
            None => self.null(missing),
        }
    }
}

fn facts_key(model: &str, key: &str) -> String {
    format!("not given: add `{key}` under `models: {model}:` in the facts file (`--facts`)")
}

/// Total of a set of f64 exactly rounded.
fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    crate::units::exact_sum(values)
}

/// Build the disclosure.
pub fn build(report: &CheckReport, facts: &Facts, sources: &Sources) -> Result<Disclosure, Error> {
    let regulation = regulation()?;
    let known: std::collections::HashSet<&str> = regulation
        .provisions
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let mut models = Vec::new();
    for m in report.models.iter().filter(|m| m.role == Role::Candidate) {
        let f = facts.models.get(&m.model).cloned().unwrap_or_default();
        models.push(model_disclosure(m, facts, &f, &regulation));
    }
    for m in &models {
        for s in &m.sections {
            for fl in &s.fields {
                for id in &fl.serves {
                    if !known.contains(id.as_str()) {
                        return Err(Error::Usage(format!(
                            "internal: field {} serves unknown provision {id}",
                            fl.key
                        )));
                    }
                }
            }
        }
    }
    let proportionality = memos(report, facts);
    let audit = audit(report, sources, &regulation)?;
    let header = header(&models, facts, sources, &audit);
    let open_items = open_items(&models, &header, &proportionality);
    let gate = gate_details(report);
    Ok(Disclosure {
        schema_version: DISCLOSURE_SCHEMA_VERSION,
        document: "environmental-impact-disclosure".to_owned(),
        date: sources.date.to_string(),
        provider: facts.provider.clone(),
        verdict: report.verdict.word().to_ascii_lowercase(),
        summary: report.summary.clone(),
        models,
        proportionality,
        regulation,
        audit,
        not_legal_advice: NOT_LEGAL_ADVICE.to_owned(),
        header,
        open_items,
        gate,
    })
}

fn model_disclosure(
    m: &ModelReport,
    facts: &Facts,
    f: &ModelFacts,
    regulation: &Regulation,
) -> ModelDisclosure {
    let flop = training_flop(m, f);
    let split = Split {
        scope2_location_kg: m.totals.scopes.scope2.value(),
        scope3_cat1_location_kg: m.totals.scopes.scope3_cat1.value(),
        embodied_sci_kg: m.totals.embodied.value(),
    };
    let flop_value = flop.as_ref().map(|x| x.0);
    let sections = vec![
        identity(m, facts, f, flop_value),
        compute(m, f, flop),
        energy(m),
        emissions(m, f),
        intensity(m, f, facts.provider_role, regulation),
        uncertainty(m),
    ];
    let assumptions = assumptions(m);
    let summary = model_summary(m, &sections, split, flop_value);
    let ai_act = ai_act(&sections, regulation);
    ModelDisclosure {
        model: m.model.clone(),
        version: m.version.clone(),
        verdict: m.verdict.word().to_ascii_lowercase(),
        sections,
        split,
        summary,
        assumptions,
        ai_act,
    }
}

/// Every assumption of the estimates, once each, in the order of the runs.
fn assumptions(m: &ModelReport) -> Vec<Assumption> {
    let mut out: Vec<Assumption> = Vec::new();
    for c in &m.contributions {
        for a in &c.assumptions {
            let row = Assumption {
                name: a.name.clone(),
                value: a.value.clone(),
                source: a.source.clone(),
            };
            if !out.contains(&row) {
                out.push(row);
            }
        }
    }
    out
}

fn find<'a>(sections: &'a [Section], key: &str) -> Option<&'a Field> {
    sections
        .iter()
        .flat_map(|s| s.fields.iter())
        .find(|f| f.key == key)
}

fn model_summary(
    m: &ModelReport,
    sections: &[Section],
    split: Split,
    flop: Option<f64>,
) -> ModelSummary {
    let t = &m.totals;
    let number = |key: &str| {
        find(sections, key)
            .filter(|f| f.status == Status::Filled)
            .and_then(|f| f.value.as_f64())
    };
    let hardware = find(sections, "hardware_inventory")
        .and_then(|f| f.value.as_array())
        .map(|v| {
            v.iter()
                .filter_map(|h| h.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let banded = t.estimated_runs > 0;
    let mut grid: Vec<Assumption> = Vec::new();
    for c in &m.contributions {
        let row = if c.format == crate::record::Format::HfCard {
            Assumption {
                name: "grid intensity".into(),
                value: "not stated".into(),
                source: "the model card's own figure".into(),
            }
        } else if c.method == Method::Measured {
            Assumption {
                name: "grid intensity".into(),
                value: format!(
                    "the tracker's own factor for {}",
                    c.place.country_given().unwrap_or("a location not recorded")
                ),
                source: c
                    .tool_version
                    .clone()
                    .filter(|t| !t.is_empty())
                    .map_or_else(
                        || c.format.name().to_owned(),
                        |t| format!("{} {t}", c.format.name()),
                    ),
            }
        } else {
            match c.assumptions.iter().find(|a| a.name == "grid intensity") {
                Some(a) => Assumption {
                    name: a.name.clone(),
                    value: a.value.clone(),
                    source: a.source.clone(),
                },
                None => Assumption {
                    name: "grid intensity".into(),
                    value: "not stated".into(),
                    source: "the estimate names none".into(),
                },
            }
        };
        if !grid.contains(&row) {
            grid.push(row);
        }
    }
    let waived = m.findings.iter().any(|f| f.severity == Severity::Waived);
    let gate = if m.findings.is_empty() {
        format!("{}: no limit of the policy was reached", m.verdict.word())
    } else {
        format!(
            "{}{}: {}",
            m.verdict.word(),
            if waived {
                " (with a waived finding)"
            } else {
                ""
            },
            m.findings
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    ModelSummary {
        gpu_hours: number("training_hardware_days").map(|d| d * 24.0),
        hardware,
        training_flop: flop,
        energy_kwh: number("training_energy_mwh").map(|_| t.energy.value()),
        energy_low_kwh: banded.then(|| t.energy_low.value()),
        energy_high_kwh: banded.then(|| t.energy_high.value()),
        energy_status: energy_status(m).0.to_owned(),
        split,
        co2e_kg: t.emissions.value(),
        co2e_low_kg: banded.then(|| t.emissions_low.value()),
        co2e_high_kg: banded.then(|| t.emissions_high.value()),
        market_co2e_kg: t.market.map(|v| v.value()),
        grid,
        gate,
    }
}

/// The groups of AI Act provisions the summary maps the document to.
const ACT_GROUPS: &[(&str, &[&str])] = &[
    (
        "Art. 9 — risk management (high-risk AI systems)",
        &["art-9"],
    ),
    (
        "Art. 53(1)(a), Annex XI §1 points 1 and 2(d)–(e) — GPAI technical documentation",
        &[
            "art-53-1a",
            "annex-xi-1",
            "annex-xi-2d",
            "annex-xi-2e",
            "art-53-2",
            "art-51-2",
            "mdf-general",
            "mdf-training-time",
            "mdf-training-compute",
            "mdf-training-energy",
            "mdf-energy-method",
            "mdf-inference-compute",
        ],
    ),
    (
        "Art. 11(1), Annex IV point 2(c) — technical documentation (high-risk AI systems)",
        &["annex-iv-2c"],
    ),
];

fn ai_act(sections: &[Section], regulation: &Regulation) -> Vec<ActRow> {
    ACT_GROUPS
        .iter()
        .map(|(name, ids)| {
            let serves = |f: &&Field| f.serves.iter().any(|s| ids.contains(&s.as_str()));
            let fields: Vec<&Field> = sections
                .iter()
                .flat_map(|s| s.fields.iter())
                .filter(serves)
                .collect();
            let about = regulation
                .provisions
                .iter()
                .find(|p| p.id == ids[0])
                .map(|p| p.about.clone())
                .unwrap_or_default();
            ActRow {
                provisions: (*name).to_owned(),
                about,
                ids: ids.iter().map(|s| (*s).to_owned()).collect(),
                provided: fields
                    .iter()
                    .filter(|f| f.status == Status::Filled)
                    .map(|f| f.label.clone())
                    .collect(),
                missing: fields
                    .iter()
                    .filter(|f| f.status == Status::Null)
                    .map(|f| f.label.clone())
                    .collect(),
            }
        })
        .collect()
}

/// The header: a document id from the inputs, the facts' particulars, and where the figures
/// were computed (the CI environment first, then the facts file).
fn header(models: &[ModelDisclosure], facts: &Facts, sources: &Sources, audit: &Audit) -> Header {
    let mut basis = String::from("environmental-impact-disclosure\n");
    for m in models {
        basis.push_str(&format!(
            "{}\t{}\n",
            m.model,
            m.version.as_deref().unwrap_or("")
        ));
    }
    let mut digests: Vec<&str> = audit.files.iter().map(|f| f.sha256.as_str()).collect();
    digests.sort_unstable();
    for d in digests {
        basis.push_str(d);
        basis.push('\n');
    }
    let hex = crate::digest::sha256_hex(basis.as_bytes()).to_ascii_uppercase();
    let id = format!(
        "EID-{}-{}-{}-{}",
        &hex[0..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..16]
    );
    let doc = facts.document.clone().unwrap_or_default();
    let (env_repo, env_sha) = sources.ci.clone();
    let from_env = env_repo.is_some() || env_sha.is_some();
    let repository = env_repo.or(doc.repository.clone());
    let commit = env_sha.or(doc.commit.clone());
    let provenance = if from_env {
        "environment"
    } else if repository.is_some() || commit.is_some() {
        "facts"
    } else {
        "not recorded"
    };
    Header {
        id,
        version: doc.version.unwrap_or_else(|| "1".to_owned()),
        preparer: doc.preparer,
        approver: doc.approver,
        repository,
        commit,
        provenance: provenance.to_owned(),
    }
}

/// Every null field, the unnamed signatories, a missing commit and an unexplained choice
/// against a lighter alternative: what the preparer still has to supply.
fn open_items(models: &[ModelDisclosure], header: &Header, memos: &[Memo]) -> Vec<OpenItem> {
    let mut items = Vec::new();
    let mut push = |model: Option<String>, field: Option<&str>, label: &str, action: String| {
        items.push(OpenItem {
            number: 0,
            model,
            field: field.map(str::to_owned),
            label: label.to_owned(),
            action,
        });
    };
    for (label, value, key) in [
        ("Preparer", &header.preparer, "preparer"),
        ("Approver", &header.approver, "approver"),
    ] {
        if value.is_none() {
            push(
                None,
                None,
                label,
                format!(
                    "not named: sign the printed copy, or add `{key}:` under `document:` in the facts file (`--facts`)"
                ),
            );
        }
    }
    if header.repository.is_none() || header.commit.is_none() {
        push(
            None,
            None,
            "Repository and commit",
            "not recorded: run `report` in GitHub Actions (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_SHA), or add `repository:` and `commit:` under `document:` in the facts file".to_owned(),
        );
    }
    for m in models {
        let name = crate::record::ModelVersion::new(&m.model, m.version.as_deref()).to_string();
        for f in m.sections.iter().flat_map(|s| s.fields.iter()) {
            if f.status == Status::Null {
                push(
                    Some(name.clone()),
                    Some(&f.key),
                    &f.label,
                    f.note.clone().unwrap_or_default(),
                );
            }
        }
    }
    for memo in memos {
        if !memo.chosen_is_recommended && memo.stated_reason.is_none() {
            push(
                Some(memo.chosen.clone()),
                None,
                "Reason for choosing it over a lighter alternative",
                "not given: add `proportionality-reason` under the model in the facts file"
                    .to_owned(),
            );
        }
    }
    for (i, item) in items.iter_mut().enumerate() {
        item.number = i + 1;
    }
    items
}

fn gate_details(report: &CheckReport) -> GateDetails {
    let mut budgets = Vec::new();
    let mut findings = Vec::new();
    for m in report.models.iter().filter(|m| m.role == Role::Candidate) {
        if let Some(b) = &m.budget {
            let line = format!(
                "{}: defined at {}",
                b.name.clone().unwrap_or_else(|| b.model.clone()),
                b.source
            );
            if !budgets.contains(&line) {
                budgets.push(line);
            }
        }
        for f in &m.findings {
            findings.push(GateFinding {
                model: m.label(),
                code: f.code.to_owned(),
                severity: match f.severity {
                    Severity::Waived => "waived",
                    Severity::Warn => "warn",
                    Severity::Fail => "fail",
                }
                .to_owned(),
                message: f.message.clone(),
                source: f.source.as_ref().map(ToString::to_string),
            });
        }
    }
    GateDetails {
        summary: report.summary.clone(),
        budgets,
        findings,
    }
}

fn identity(m: &ModelReport, facts: &Facts, f: &ModelFacts, flop: Option<f64>) -> Section {
    let name = &m.model;
    let mut fields =
        vec![
        field("model_id", "Model", &["annex-xi-1", "mdf-general"]).text(name.clone()),
        field("version", "Version", &["annex-xi-1", "mdf-general"]).opt_text(
            m.version.as_deref(),
            "no semantic version given: pass --model-version or set `version` in carbon-gate.yaml",
        ),
        field(
            "weights_sha256",
            "Weights (SHA-256)",
            &["annex-xi-1", "mdf-measure-1-3"],
        )
        .opt_text(
            f.weights_sha256.as_deref(),
            &facts_key(name, "weights-sha256"),
        ),
        field("release_date", "Release date", &["mdf-general"])
            .opt_text(f.release_date.as_deref(), &facts_key(name, "release-date")),
        field(
            "eu_placement_date",
            "Placed on the EU market",
            &["mdf-general", "art-53-1a"],
        )
        .opt_text(
            f.eu_placement_date.as_deref(),
            &facts_key(name, "eu-placement-date"),
        ),
        field("base_model", "Base model", &["annex-xi-1", "guidelines-62-64"]).opt_text(
            f.base_model.as_deref(),
            &facts_key(name, "base-model"),
        ),
    ];
    let role = field("provider_role", "Provider role", &["guidelines-62-64"]);
    fields.push(match facts.provider_role {
        Some(r) => role.filled(json!(r), r.words()),
        None => role.null("not given: add `provider-role:` (gpai-provider, downstream-modifier, ai-system-provider, deployer) to the facts file"),
    });
    let ratio = field(
        "modification_compute_ratio",
        "Modification compute ÷ base model compute",
        &["guidelines-62-64"],
    );
    fields.push(match (flop, f.base_model_training_flop) {
        (Some(c), Some(base)) => {
            let r = c / base;
            let over = r > 1.0 / 3.0;
            ratio
                .filled(json!(r), format_significant(r, 2))
                .note(if over {
                    "above one third: by the indicative criterion the modifier is the provider of a GPAI model"
                } else {
                    "at most one third: below the indicative criterion for becoming a GPAI provider"
                })
        }
        (_, None) => ratio.null(facts_key(name, "base-model-training-flop")),
        (None, Some(_)) => ratio.null("this model's training compute is unknown (see B)"),
    });
    let os = field(
        "open_source_exemption_claimed",
        "Open-source exemption claimed",
        &["art-53-2"],
    );
    fields.push(match f.open_source_exemption {
        Some(b) => os.filled(json!(b), if b { "yes" } else { "no" }),
        None => os.null(facts_key(name, "open-source-exemption")),
    });
    let sr = field(
        "systemic_risk_presumed",
        "Presumed systemic risk (training compute > 10^25 FLOP)",
        &["art-51-2"],
    );
    fields.push(match flop {
        Some(c) => sr.filled(json!(c > 1e25), if c > 1e25 { "yes" } else { "no" }),
        None => sr.null("training compute unknown (see B)"),
    });
    Section {
        id: "A".into(),
        title: "Identity and provenance".into(),
        fields,
    }
}

/// Training FLOP: from the facts, else from a FLOP-based estimate's own input.
fn training_flop(m: &ModelReport, f: &ModelFacts) -> Option<(f64, String, Option<f64>)> {
    if let Some(c) = f.training_flop {
        return Some((
            c,
            f.training_flop_method
                .clone()
                .unwrap_or_else(|| "stated in the facts file (method not given)".to_owned()),
            f.training_flop_error,
        ));
    }
    let from_estimates: Vec<f64> = m
        .contributions
        .iter()
        .filter(|c| c.method == Method::FlopEstimate)
        .filter_map(|c| {
            c.assumptions
                .iter()
                .find(|a| a.name == "training compute")
                .and_then(|a| a.value.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .collect();
    let all_flop = !m.contributions.is_empty() && from_estimates.len() == m.contributions.len();
    all_flop.then(|| {
        (
            sum(from_estimates),
            "the training compute given to `carbon-gate estimate --flops` for each run".to_owned(),
            None,
        )
    })
}

fn is_training(p: Option<Phase>) -> bool {
    matches!(p, None | Some(Phase::Training) | Some(Phase::FineTuning))
}

fn compute(m: &ModelReport, f: &ModelFacts, flop: Option<(f64, String, Option<f64>)>) -> Section {
    let name = &m.model;
    let mut fields = Vec::new();
    let c = field(
        "training_compute_flop",
        "Training compute",
        &[
            "annex-xi-2d",
            "mdf-training-compute",
            "guidelines-123",
            "guidelines-126",
            "annex-iv-2c",
        ],
    );
    fields.push(match flop {
        Some((v, method, err)) => c
            .filled(json!(v), format!("{} FLOP", sci(v, 2)))
            .unit("FLOP")
            .note(match err {
                Some(e) => format!("{method}; error margin ±{}%", format_significant(e * 100.0, 2)),
                None => format!("{method}; error margin not stated"),
            }),
        None => c.null(format!(
            "no FLOP count in the evidence: {}; carbon-gate does not infer utilisation for measured runs",
            facts_key(name, "training-flop")
        )),
    });
    let training: Vec<_> = m
        .contributions
        .iter()
        .filter(|c| is_training(c.phase))
        .collect();
    let durations: Vec<f64> = training
        .iter()
        .filter_map(|c| c.duration.map(|d| d.value()))
        .collect();
    let wall = field(
        "training_time_days",
        "Training time (wall-clock, days)",
        &["annex-xi-2d", "mdf-training-time", "annex-iv-2c"],
    );
    fields.push(if durations.is_empty() || durations.len() < training.len() {
        wall.null("some training runs record no duration")
    } else {
        let days = sum(durations.iter().copied()) / 86_400.0;
        wall.filled(json!(days), format!("{} days", format_significant(days, 2)))
            .unit("d")
            .note(format!(
                "sum of the durations of {} training run(s), as if run one after another (runs in parallel overlap in wall-clock time); range: {}",
                training.len(),
                range_bucket(days)
            ))
    });
    let hw = field(
        "training_hardware_days",
        "Training time (hardware-days)",
        &["mdf-training-time", "annex-iv-2c"],
    );
    let device_days: Option<Vec<f64>> = training
        .iter()
        .map(|c| {
            let d = c.duration?.value();
            let n = c.hardware.gpu_count.filter(|n| *n > 0.0)?;
            Some(d * n / 86_400.0)
        })
        .collect();
    fields.push(match device_days {
        Some(v) if !v.is_empty() => {
            let total = sum(v);
            hw.filled(json!(total), format!("{} accelerator-days", format_significant(total, 2)))
                .unit("d")
                .note("Σ duration × accelerators per run")
        }
        _ => hw.null("the accelerator count or duration of some training runs is not recorded (CPU-only runs have no accelerator-days)"),
    });
    let mut inventory: Vec<String> = Vec::new();
    for c in &m.contributions {
        let h = &c.hardware;
        let mut parts = Vec::new();
        if let Some(g) = h.gpu.as_deref().filter(|g| !g.trim().is_empty()) {
            match h.gpu_count {
                Some(n) => parts.push(format!("{} × {g}", format_significant(n, 3))),
                None => parts.push(g.to_owned()),
            }
        }
        if let Some(cpu) = h.cpu.as_deref().filter(|g| !g.trim().is_empty()) {
            parts.push(format!("CPU {cpu}"));
        }
        let line = parts.join(", ");
        if !line.is_empty() && !inventory.contains(&line) {
            inventory.push(line);
        }
    }
    let inv = field(
        "hardware_inventory",
        "Hardware",
        &["annex-xi-2d", "annex-iv-2c"],
    );
    fields.push(if inventory.is_empty() {
        inv.null("the logs record no hardware")
    } else {
        inv.filled(json!(inventory), inventory.join("; "))
    });
    let scope = field(
        "compute_scope",
        "What the compute and energy cover",
        &["annex-xi-2d", "guidelines-123"],
    );
    fields.push(if m.contributions.is_empty() {
        scope.null("no run in the evidence")
    } else {
        scope
            .filled(
                json!({"runs": m.totals.runs, "phases": phases(m)}),
                format!("{} run(s): {}", m.totals.runs, phases(m)),
            )
            .note("only the runs in the evidence; a base model's pre-training, synthetic-data generation or earlier fine-tuning count only if their logs are given")
    });
    let ib = field(
        "inference_compute_flop_benchmark",
        "Benchmarked inference compute",
        &["mdf-inference-compute"],
    );
    fields.push(match &f.inference_benchmark {
        Some(b) => ib
            .filled(json!(b.flop), format!("{} FLOP", sci(b.flop, 2)))
            .unit("FLOP")
            .note(format!("task: {}; hardware: {}", b.task, b.hardware)),
        None => ib.null(facts_key(name, "inference-benchmark")),
    });
    Section {
        id: "B".into(),
        title: "Compute".into(),
        fields,
    }
}

fn range_bucket(days: f64) -> &'static str {
    let months = days / 30.4375;
    if months < 1.0 {
        "less than 1 month"
    } else if months < 3.0 {
        "1–3 months"
    } else if months < 6.0 {
        "3–6 months"
    } else {
        "more than 6 months"
    }
}

/// A number in scientific notation with `sig` significant digits: `3.1e21`.
pub(crate) fn sci(v: f64, sig: usize) -> String {
    let p = sig.saturating_sub(1);
    format!("{v:.p$e}")
}

/// How the energy figures were obtained.
fn energy_status(m: &ModelReport) -> (&'static str, String) {
    let c = &m.contributions;
    if c.is_empty() {
        return ("unknown", "no run of this model in the evidence".to_owned());
    }
    if c.iter().all(|c| c.energy.is_none()) {
        return (
            "unknown",
            "the evidence holds CO2e but no energy figure (e.g. a model card)".to_owned(),
        );
    }
    let measured = c.iter().filter(|c| c.method == Method::Measured).count();
    let flop = c
        .iter()
        .filter(|c| c.method == Method::FlopEstimate)
        .count();
    let power = c.len() - measured - flop;
    match (measured, power, flop) {
        (n, 0, 0) if n == c.len() => (
            "measured",
            "every run was measured by its tracker".to_owned(),
        ),
        (0, _, 0) => (
            "estimated_from_power_model",
            "every run was estimated from hardware power × time".to_owned(),
        ),
        (0, 0, _) => (
            "estimated_from_compute",
            "every run was estimated from training compute (Annex XI 2(e) fallback)".to_owned(),
        ),
        _ => (
            "mixed",
            format!(
                "{measured} measured, {power} estimated from power × time, {flop} from compute"
            ),
        ),
    }
}

/// How the energy was obtained, in words (the `energy_status` value stays the code).
pub(crate) fn status_words(status: &str) -> &'static str {
    match status {
        "measured" => "measured by the trackers",
        "estimated_from_power_model" => "estimated from hardware power × time",
        "estimated_from_compute" => "estimated from training compute",
        "mixed" => "partly measured, partly estimated",
        _ => "unknown",
    }
}

fn energy(m: &ModelReport) -> Section {
    let mut fields = Vec::new();
    let (status, why) = energy_status(m);
    let e = field(
        "training_energy_mwh",
        "Energy (MWh)",
        &["annex-xi-2e", "mdf-training-energy", "sci-e"],
    );
    let unknown_part = m.totals.runs_without_energy;
    fields.push(if status == "unknown" {
        e.null(format!(
            "{why}; the MDF allows N/A only when a provider withholds critical information"
        ))
    } else {
        let mwh = m.totals.energy.in_mwh();
        e.filled(json!(mwh), format!("{} MWh", format_significant(mwh, 2)))
            .unit("MWh")
            .note(if unknown_part > 0 {
                format!(
                    "{} ({}); {unknown_part} run(s) without an energy figure are not in it",
                    m.totals.energy,
                    phases(m)
                )
            } else {
                format!(
                    "{} over {} run(s) ({})",
                    m.totals.energy,
                    m.totals.runs,
                    phases(m)
                )
            })
    });
    fields.push(
        field(
            "energy_status",
            "Energy status",
            &["annex-xi-2e", "mdf-training-energy"],
        )
        .filled(json!(status), status_words(status))
        .note(why),
    );
    let method = field(
        "energy_methodology",
        "Energy methodology",
        &["mdf-energy-method", "art-53-5", "guidelines-123"],
    );
    fields.push(if m.contributions.is_empty() {
        method.null("no run in the evidence")
    } else {
        method.text(methodology(m))
    });
    fields.push(
        field(
            "energy_reserved_vs_used",
            "Reserved vs used hardware time",
            &["sci-e"],
        )
        .null("the logs record the time the trackers ran, not the GPU-hours reserved or provisioned; add the reservation to the evidence as an estimate if it matters"),
    );
    let b = field("energy_boundary", "Boundary and PUE", &["sci-e"]);
    fields.push(if m.contributions.is_empty() {
        b.null("no run in the evidence")
    } else {
        b.text(boundary(m))
    });
    Section {
        id: "C".into(),
        title: "Energy".into(),
        fields,
    }
}

fn phases(m: &ModelReport) -> String {
    let mut by: Vec<(String, Vec<f64>)> = Vec::new();
    for c in &m.contributions {
        let name = match c.phase {
            Some(p) => serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            None => "phase not stated".to_owned(),
        };
        let e = c.energy.map(|e| e.value()).unwrap_or(0.0);
        match by.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(e),
            None => by.push((name, vec![e])),
        }
    }
    by.into_iter()
        .map(|(n, v)| format!("{n}: {}", Energy::kwh(sum(v))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn methodology(m: &ModelReport) -> String {
    let mut text = String::from(
        "No delegated act under Art. 53(5) AI Act details a measurement methodology yet; this figure follows the method below. ",
    );
    let formats: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for c in m
            .contributions
            .iter()
            .filter(|c| c.format != crate::record::Format::HfCard)
        {
            let name = match &c.tool_version {
                Some(t) if !t.is_empty() => format!("{} {t}", c.format.name()),
                _ => c.format.name().to_owned(),
            };
            if !v.contains(&name) {
                v.push(name);
            }
        }
        v
    };
    let card = |c: &&crate::ledger::Contribution| c.format == crate::record::Format::HfCard;
    let measured = m
        .contributions
        .iter()
        .any(|c| c.method == Method::Measured && !card(&c));
    let estimated = m.contributions.iter().any(|c| c.method.is_estimate());
    if m.contributions.iter().any(|c| card(&c)) {
        text.push_str(
            "Model-card runs: only the CO2e a Hugging Face card reports in `co2_eq_emissions` (grams), taken as stated by the card's source; a card carries no energy figure. ",
        );
    }
    if measured {
        text.push_str(&format!(
            "Measured runs: energy as the tracker recorded it ({}): CodeCarbon and carbontracker sample CPU (RAPL or a TDP model), GPU (NVML) and RAM power during the run and integrate it over time; carbon-gate reads the logged totals, counts each run once and sums them exactly. ",
            formats.join(", ")
        ));
    }
    if estimated {
        text.push_str(
            "Estimated runs: energy = devices × power per device (TDP × utilisation, or a measured average) × hours × PUE (ML CO2 Impact method, with PUE), or device-hours derived from training FLOP ÷ (peak FLOP/s × utilisation); every input is listed in F with its source. ",
        );
    }
    let known: usize = m
        .contributions
        .iter()
        .filter(|c| c.energy.is_some())
        .map(|c| c.runs)
        .sum();
    text.push_str(&if known == 0 {
        format!(
            "Energy: unknown for all {} run(s).",
            m.contributions.iter().map(|c| c.runs).sum::<usize>()
        )
    } else {
        format!(
            "Uncertainty: measured runs count at their value; estimates carry a low–high band (F). Total: {} over {known} run(s) with an energy figure.",
            m.totals.energy
        )
    });
    text
}

fn boundary(m: &ModelReport) -> String {
    let mut parts = Vec::new();
    if m.contributions
        .iter()
        .any(|c| c.format == crate::record::Format::HfCard)
    {
        parts.push("model-card figures: boundary and PUE not stated by the card".to_owned());
    }
    let measured: Vec<_> = m
        .contributions
        .iter()
        .filter(|c| c.method == Method::Measured && c.format != crate::record::Format::HfCard)
        .collect();
    if !measured.is_empty() {
        let pues: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for c in &measured {
                let p = c.pue.map_or_else(
                    || "not recorded (1.0 assumed by the tracker)".to_owned(),
                    |p| format_significant(p, 3),
                );
                if !v.contains(&p) {
                    v.push(p);
                }
            }
            v
        };
        parts.push(format!(
            "measured runs: node (CPU, GPU and RAM as the tracker measured them), PUE as the tracker applied it: {}",
            pues.join(", ")
        ));
    }
    let estimated: Vec<_> = m
        .contributions
        .iter()
        .filter(|c| c.method.is_estimate())
        .collect();
    if !estimated.is_empty() {
        let mut pue_notes: Vec<String> = Vec::new();
        for c in &estimated {
            if let Some(a) = c.assumptions.iter().find(|a| a.name == "PUE") {
                let n = format!("{} (source: the estimate's assumptions, F)", a.value);
                if !pue_notes.contains(&n) {
                    pue_notes.push(n);
                }
            }
        }
        parts.push(format!(
            "estimated runs: accelerators (and the power the estimate names) × PUE, i.e. facility: {}",
            if pue_notes.is_empty() {
                "PUE not stated".to_owned()
            } else {
                pue_notes.join("; ")
            }
        ));
    }
    parts.push("idle and provisioned-but-unused hardware are not included".to_owned());
    parts.join("; ")
}

fn emissions(m: &ModelReport, f: &ModelFacts) -> Section {
    let t = &m.totals;
    let mut fields = Vec::new();
    let grid: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for c in &m.contributions {
            let note = if c.format == crate::record::Format::HfCard {
                "as reported by the model card (factor not stated)".to_owned()
            } else if c.method == Method::Measured {
                let place = c.place.country_given().unwrap_or("location not recorded");
                format!("the tracker's own grid factor for {place}")
            } else {
                match c.assumptions.iter().find(|a| a.name == "grid intensity") {
                    Some(a) => format!("{} (source: the estimate's assumptions, F)", a.value),
                    None => "grid intensity not stated".to_owned(),
                }
            };
            if !v.contains(&note) {
                v.push(note);
            }
        }
        v
    };
    let op = field(
        "operational_location_based_co2e_kg",
        "Operational CO2e, location-based",
        &["ghg-scope2-location", "sci-i"],
    );
    fields.push(if m.contributions.is_empty() {
        op.null("no run in the evidence")
    } else {
        op.filled(json!(t.operational.value()), t.operational.to_string())
            .unit("kg")
            .note(format!(
                "grid factor: {}; annual average factors",
                grid.join("; ")
            ))
    });
    let mk = field(
        "operational_market_based_co2e_kg",
        "Operational CO2e, market-based",
        &["ghg-scope2-market"],
    );
    fields.push(match t.market {
        Some(v) => mk
            .filled(json!(v.value()), v.to_string())
            .unit("kg")
            .note(format!(
                "instruments: {}",
                f.market_instruments.as_deref().unwrap_or("not described (add `market-instruments` to the facts file)")
            )),
        None => mk.null("no contractual instrument or market-based factor was given (estimate --market-factor); the location-based figure stands alone"),
    });
    let lines = vec![
        json!({"line": "Scope 2 (location-based): electricity of own or colocated hardware", "co2e_kg": t.scopes.scope2.value()}),
        json!({"line": "Scope 3 category 1 (location-based): electricity of cloud compute bought as a service", "co2e_kg": t.scopes.scope3_cat1.value()}),
        json!({"line": "Embodied, SCI time-share (not GHG Scope 3 category 2, which counts hardware in full in its year of acquisition)", "co2e_kg": t.embodied.value()}),
    ];
    fields.push(
        field(
            "scope_classification",
            "Scope classification",
            &["ghg-scope2-location", "ghg-scope3-cat1", "ghg-scope3-cat2"],
        )
        .filled(
            json!(lines),
            format!(
                "Scope 2: {}; Scope 3 cat. 1: {}; embodied (SCI): {}",
                t.scopes.scope2, t.scopes.scope3_cat1, t.embodied
            ),
        )
        .note("a run is Scope 3 category 1 when its log names a cloud provider"),
    );
    let emb = field(
        "embodied_co2e_kg",
        "Embodied CO2e (SCI time-share)",
        &["sci-m", "ghg-scope3-cat2"],
    );
    let has_embodied = m.contributions.iter().any(|c| c.embodied.is_some());
    fields.push(if has_embodied {
        emb.filled(json!(t.embodied.value()), t.embodied.to_string())
            .unit("kg")
            .note("M = TE × (time reserved ÷ expected lifetime) × (resources reserved ÷ total); inputs in F")
    } else {
        emb.null("not counted: the policy's `embodied:` is `ignore` (set `include` or `required` to add the SCI time-share of the hardware's manufacture)")
    });
    fields.push(
        field(
            "total_co2e_kg",
            "Total CO2e",
            &["ghg-scope2-location", "sci-m"],
        )
        .filled(json!(t.emissions.value()), t.emissions.to_string())
        .unit("kg")
        .note("operational (location-based) + embodied"),
    );
    fields.push(
        field(
            "carbon_aware_signal",
            "Carbon-aware scheduling signal",
            &["sci-i"],
        )
        .null("no carbon-aware scheduling signal is recorded with these runs; avoided emissions, if any, are not subtracted from any figure here"),
    );
    fields.push(
        field("offsets", "Offsets, RECs, PPAs", &["ghg-scope2-market"]).text(
            "none subtracted: no figure in this document is reduced by offsets or certificates",
        ),
    );
    Section {
        id: "D".into(),
        title: "Emissions".into(),
        fields,
    }
}

fn applicability(role: Option<facts::ProviderRole>, regulation: &Regulation) -> Field {
    let date = |key: &str| {
        regulation.dates.iter().find(|d| d.key == key).map_or_else(
            || "(date missing from the table)".to_owned(),
            |d| d.date.clone(),
        )
    };
    let f = field(
        "eu_ai_act_applicability",
        "EU AI Act applicability",
        &["art-53-1a", "art-53-2", "guidelines-62-64"],
    );
    let gpai = format!(
        "GPAI provider obligations (Art. 53, Annex XI) apply from {}; models placed on the market before then must comply by {}",
        date("gpai-obligations"),
        date("gpai-legacy")
    );
    match role {
        Some(facts::ProviderRole::GpaiProvider) => f
            .filled(json!({"role": role, "gpai_obligations_from": date("gpai-obligations"), "legacy_deadline": date("gpai-legacy")}), gpai)
            .note("unless the Art. 53(2) open-source exemption applies (not to models with systemic risk)"),
        Some(facts::ProviderRole::DownstreamModifier) => f
            .filled(json!({"role": role, "gpai_obligations_from": date("gpai-obligations")}), format!("as a GPAI provider only if the modification exceeds one third of the original training compute (see A); then: {gpai}")),
        Some(r) => f
            .filled(json!({"role": r}), format!("{}: Annex XI documentation is a GPAI provider's obligation; this disclosure is voluntary (Art. 95(2)(b))", r.words())),
        None => f.null(format!("provider role not given (add `provider-role` to the facts file); for a GPAI provider: {gpai}")),
    }
}

fn intensity(
    m: &ModelReport,
    f: &ModelFacts,
    facts_role: Option<facts::ProviderRole>,
    regulation: &Regulation,
) -> Section {
    let name = &m.model;
    let mut fields = Vec::new();
    let sci_field = field(
        "sci_per_functional_unit",
        "SCI per functional unit",
        &["sci-r"],
    );
    let unit = f.functional_unit.clone().or_else(|| {
        m.metrics
            .contains_key("inferences")
            .then(|| facts::FunctionalUnit {
                name: "1,000 inferences".to_owned(),
                metric: "inferences".to_owned(),
                per: 1000.0,
            })
    });
    fields.push(match unit {
        Some(u) => match m.metrics.get(&u.metric).copied().filter(|v| *v > 0.0) {
            Some(count) => {
                let r = count / u.per;
                let per = Mass::kg(m.totals.emissions.value() / r);
                sci_field
                    .filled(json!(per.value()), format!("{per} per {}", u.name))
                    .unit("kg")
                    .note(format!(
                        "R = {} ÷ {} = {} units (metric `{}`); total CO2e {} ÷ R",
                        format_significant(count, 6),
                        format_significant(u.per, 6),
                        format_significant(r, 6),
                        u.metric,
                        m.totals.emissions
                    ))
            }
            None => sci_field.null(format!(
                "the metrics have no positive `{}` count for the functional unit",
                u.metric
            )),
        },
        None => sci_field.null(format!(
            "no functional unit: {} (or log an `inferences` count in the metrics)",
            facts_key(name, "functional-unit")
        )),
    });
    let base = field(
        "baseline_delta",
        "Change vs the baseline",
        &["sci-baseline"],
    );
    fields.push(match &m.baseline {
        Some(b) => base
            .filled(
                json!({"model": b.model, "version": b.version, "delta_co2e_kg": b.delta_co2e_kg, "delta_co2e_pct": b.delta_co2e_pct}),
                format!(
                    "{} {} → {}: {}{}",
                    b.model,
                    b.version.as_deref().unwrap_or("-"),
                    m.version.as_deref().unwrap_or("-"),
                    signed_mass(b.delta_co2e_kg),
                    b.delta_co2e_pct
                        .map(|p| format!(" ({}{}%)", if p >= 0.0 { "+" } else { "−" }, format_significant(p.abs(), 3)))
                        .unwrap_or_default()
                ),
            )
            .note(format!("baseline from {}; same method", b.source)),
        None => base.null("no baseline given (--baseline, or `baseline:` in carbon-gate.yaml)"),
    });
    let budget = field("carbon_budget", "Carbon budget", &["art-95-2b", "art-9"]);
    fields.push(match &m.budget {
        Some(b) => {
            let mut limits = Vec::new();
            if let Some(l) = &m.limits.co2e_kg {
                limits.push(format!("CO2e {}", limit_text(l.warn, l.fail, |v| Mass::kg(v).to_string())));
            }
            if let Some(l) = &m.limits.energy_kwh {
                limits.push(format!("energy {}", limit_text(l.warn, l.fail, |v| Energy::kwh(v).to_string())));
            }
            budget
                .filled(
                    json!({"name": b.name, "model": b.model, "versions": b.versions, "limits": m.limits}),
                    format!(
                        "{}: {}",
                        b.name.clone().unwrap_or_else(|| b.model.clone()),
                        if limits.is_empty() { "no absolute limit".to_owned() } else { limits.join("; ") }
                    ),
                )
                .note("the limits of the policy that applies (where it defines them: `gate.budgets`)")
        }
        None => budget.null("no budget in the policy applies to this model"),
    });
    let findings: Vec<Value> = m
        .findings
        .iter()
        .map(|fd| json!({"code": fd.code, "severity": fd.severity, "message": fd.message, "measured": fd.measured, "limit": fd.limit, "unit": fd.unit}))
        .collect();
    let margin = m.limits.co2e_kg.as_ref().and_then(|l| l.fail).map(|fail| {
        let left = (fail - m.totals.emissions.value()) / fail * 100.0;
        format!(
            "CO2e margin to the fail limit: {}{}%",
            if left >= 0.0 { "" } else { "−" },
            format_significant(left.abs(), 3)
        )
    });
    let waived = m.findings.iter().any(|f| f.severity == Severity::Waived);
    fields.push(
        field(
            "gate_result",
            "Gate decision",
            &["art-17", "art-95-2b", "art-9"],
        )
        .filled(
            json!({"verdict": m.verdict, "waived": waived, "findings": findings}),
            format!(
                "{}{}",
                m.verdict.word(),
                if waived {
                    " (with a waived finding)"
                } else {
                    ""
                }
            ),
        )
        .note(
            [
                margin,
                (!m.findings.is_empty()).then(|| {
                    m.findings
                        .iter()
                        .map(|f| format!("[{}] {}", f.code, f.message))
                        .collect::<Vec<_>>()
                        .join(" · ")
                }),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; "),
        ),
    );
    fields.push(applicability(facts_role, regulation));
    Section {
        id: "E".into(),
        title: "Intensity and gate decision".into(),
        fields,
    }
}

fn signed_mass(kg: f64) -> String {
    if kg >= 0.0 {
        format!("+{}", Mass::kg(kg))
    } else {
        format!("−{}", Mass::kg(-kg))
    }
}

fn limit_text(warn: Option<f64>, fail: Option<f64>, show: impl Fn(f64) -> String) -> String {
    match (warn, fail) {
        (Some(w), Some(f)) => format!("warn {} · fail {}", show(w), show(f)),
        (Some(w), None) => format!("warn {}", show(w)),
        (None, Some(f)) => format!("fail {}", show(f)),
        (None, None) => "none".to_owned(),
    }
}

fn uncertainty(m: &ModelReport) -> Section {
    let t = &m.totals;
    let mut fields = Vec::new();
    let band = field("uncertainty_band", "Uncertainty band", &["guidelines-123"]);
    fields.push(if t.estimated_runs == 0 {
        band.filled(
            json!({"energy_low_kwh": t.energy_low.value(), "energy_high_kwh": t.energy_high.value(), "co2e_low_kg": t.emissions_low.value(), "co2e_high_kg": t.emissions_high.value()}),
            "measured runs only: no band is computed (the trackers' own measurement error is not stated in their logs)",
        )
    } else {
        band.filled(
            json!({"energy_low_kwh": t.energy_low.value(), "energy_high_kwh": t.energy_high.value(), "co2e_low_kg": t.emissions_low.value(), "co2e_high_kg": t.emissions_high.value()}),
            format!(
                "energy {} – {}; CO2e {} – {}",
                t.energy_low, t.energy_high, t.emissions_low, t.emissions_high
            ),
        )
        .note("from the stated ranges of the estimates' inputs (F); measured runs at their value")
    });
    let mut defaults: Vec<Value> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for c in &m.contributions {
        for a in &c.assumptions {
            let line = format!("{}: {} — {}", a.name, a.value, a.source);
            if !lines.contains(&line) {
                lines.push(line);
                defaults.push(json!({"name": a.name, "value": a.value, "source": a.source}));
            }
        }
    }
    let d = field(
        "defaults_used",
        "Defaults and inputs used, with sources",
        &["guidelines-123", "sci-i", "sci-m"],
    );
    fields.push(if defaults.is_empty() {
        d.filled(
            json!([]),
            "none: every figure was measured and logged by its tracker",
        )
    } else {
        d.filled(json!(defaults), lines.join(" · "))
    });
    let measured_energy = sum(m
        .contributions
        .iter()
        .filter(|c| c.method == Method::Measured)
        .filter_map(|c| c.energy.map(|e| e.value())));
    let q = field(
        "primary_data_share",
        "Share of measured energy",
        &["guidelines-123"],
    );
    fields.push(if t.energy.value() > 0.0 {
        let share = measured_energy / t.energy.value() * 100.0;
        q.filled(
            json!(share / 100.0),
            format!("{}%", format_significant(share, 3)),
        )
        .note("measured (primary) energy ÷ all energy; the rest is estimated")
    } else {
        q.null("no energy figure in the evidence")
    });
    fields.push(
        field("confidentiality", "Audience", &["art-78", "mdf-training-energy"])
            .text("energy and compute items go to the AI Office and national competent authorities on request, not to downstream providers; information so obtained is confidential under Art. 78"),
    );
    Section {
        id: "F".into(),
        title: "Uncertainty, defaults and confidentiality".into(),
        fields,
    }
}

fn memos(report: &CheckReport, facts: &Facts) -> Vec<Memo> {
    let mut out = Vec::new();
    for t in &report.tradeoffs {
        if t.rows.len() < 2 {
            continue;
        }
        let Some(ci) = t
            .rows
            .iter()
            .position(|r| r.role == crate::report::Role::Candidate)
        else {
            continue;
        };
        let cand = &t.rows[ci];
        let label = |model: &str, version: &Option<String>| {
            crate::record::ModelVersion::new(model, version.as_deref()).to_string()
        };
        let rows: Vec<MemoRow> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| MemoRow {
                role: serde_json::to_value(r.role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                kind: r.kind.clone(),
                model: r.model.clone(),
                version: r.version.clone(),
                accuracy: r.accuracy,
                co2e_kg: r.co2e_kg,
                energy_kwh: r.energy_kwh,
                recommended: t.recommended == Some(i),
            })
            .collect();
        let chosen_is_recommended = t.recommended == Some(ci);
        let reason = facts
            .models
            .get(&cand.model)
            .and_then(|m| m.proportionality_reason.clone());
        let conclusion = if chosen_is_recommended {
            format!(
                "{} is the lightest option that meets the accuracy requirement among those evaluated; choosing it is proportionate on the evidence.",
                label(&cand.model, &cand.version)
            )
        } else {
            match (&t.recommended, &reason) {
                (Some(r), Some(why)) => format!(
                    "{} was chosen over the recommended {}; the provider's stated reason: {why}",
                    label(&cand.model, &cand.version),
                    label(&t.rows[*r].model, &t.rows[*r].version)
                ),
                (Some(r), None) => format!(
                    "{} was chosen over the recommended {}, which emits less; no reason is given (an open item for the preparer).",
                    label(&cand.model, &cand.version),
                    label(&t.rows[*r].model, &t.rows[*r].version)
                ),
                (None, _) => "no row could be recommended (see the recommendation); the choice is the provider's.".to_owned(),
            }
        };
        out.push(Memo {
            chosen: label(&cand.model, &cand.version),
            metric: t.metric.clone(),
            rows,
            recommendation: t.recommendation.clone(),
            chosen_is_recommended,
            stated_reason: reason,
            conclusion,
        });
    }
    out
}

fn audit(report: &CheckReport, sources: &Sources, regulation: &Regulation) -> Result<Audit, Error> {
    let mut files = Vec::new();
    let mut push = |path: &std::path::Path, role: String| -> Result<(), Error> {
        let display = display_path(path);
        if files.iter().any(|f: &AuditFile| f.path == display) {
            return Ok(());
        }
        files.push(AuditFile {
            sha256: crate::digest::file_sha256(path)?,
            path: display,
            role,
        });
        Ok(())
    };
    for i in &report.inputs {
        push(&i.path, format!("log ({}, {})", i.format.name(), i.layout))?;
    }
    for p in sources.policy_files {
        push(p, "policy".to_owned())?;
    }
    for (p, role) in &sources.other_files {
        push(p, (*role).to_owned())?;
    }
    if let Some(c) = sources.config {
        push(c, "configuration".to_owned())?;
    }
    if let Some(f) = sources.facts_file {
        push(f, "facts".to_owned())?;
    }
    let mut tables = Vec::new();
    for (_, file, text) in crate::reference::TABLES {
        tables.extend_from_slice(file.as_bytes());
        tables.extend_from_slice(text.as_bytes());
    }
    Ok(Audit {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        reference_data: format!("sha256:{}", crate::digest::sha256_hex(&tables)),
        regulation_table: regulation.version.clone(),
        policy_digest: crate::digest::files_digest(sources.policy_files)?,
        files,
        command: sources.command.clone(),
    })
}

/// The JSON Schema of the disclosure's JSON.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Disclosure);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regulation_table_parses_and_ids_are_unique() {
        let r = regulation().unwrap();
        let mut ids = std::collections::HashSet::new();
        for p in &r.provisions {
            assert!(ids.insert(p.id.clone()), "duplicate {}", p.id);
        }
        assert!(r.dates.iter().any(|d| d.date == "2025-08-02"));
    }

    #[test]
    fn buckets_and_notation() {
        assert_eq!(range_bucket(10.0), "less than 1 month");
        assert_eq!(range_bucket(40.0), "1–3 months");
        assert_eq!(range_bucket(200.0), "more than 6 months");
        assert_eq!(sci(3.14e21, 2), "3.1e21");
    }
}
