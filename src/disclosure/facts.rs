//! Facts a disclosure needs that no emissions log holds — the provider's role, the weights' hash,
//! the training compute, a functional unit — read from a small YAML file (`report --facts`).
//! Every field is optional: what is missing is written as `null` with the reason and the key to
//! add, never guessed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Location, Problem};

/// The facts file.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Facts {
    /// Format version: 1.
    pub version: u32,
    /// The provider (organisation) named in the disclosure.
    #[serde(default)]
    pub provider: Option<String>,
    /// The provider's role under the AI Act.
    #[serde(default)]
    pub provider_role: Option<ProviderRole>,
    /// The document's own particulars: its version, who prepared and approved it, and where
    /// the figures were computed (when the CI environment does not say).
    #[serde(default)]
    pub document: Option<DocumentFacts>,
    /// Per model name.
    #[serde(default)]
    pub models: BTreeMap<String, ModelFacts>,
}

/// The particulars printed in the document's header.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocumentFacts {
    /// Version of the document (e.g. "1.0", "2"); `1` when not given.
    #[serde(default)]
    pub version: Option<String>,
    /// Who prepared the document (name, function); a blank line to sign when not given.
    #[serde(default)]
    pub preparer: Option<String>,
    /// Who approved the document (name, function); a blank line to sign when not given.
    #[serde(default)]
    pub approver: Option<String>,
    /// The repository the figures were computed from (its URL), used when the environment has
    /// no valid `GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`.
    #[serde(default)]
    pub repository: Option<String>,
    /// The commit the figures were computed from (hexadecimal, 7 to 64 digits), used when the
    /// environment has no valid `GITHUB_SHA`.
    #[serde(default)]
    pub commit: Option<String>,
}

/// The provider's role under the AI Act.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderRole {
    /// Provider of a general-purpose AI model (Art. 3(63), 3(66)).
    GpaiProvider,
    /// Modifies (fine-tunes) a model placed on the market by another provider.
    DownstreamModifier,
    /// Provider of an AI system that integrates a model.
    AiSystemProvider,
    /// Deployer of an AI system.
    Deployer,
}

impl ProviderRole {
    /// The role in words.
    pub fn words(self) -> &'static str {
        match self {
            ProviderRole::GpaiProvider => "provider of a general-purpose AI model",
            ProviderRole::DownstreamModifier => "downstream modifier of a general-purpose AI model",
            ProviderRole::AiSystemProvider => "provider of an AI system",
            ProviderRole::Deployer => "deployer",
        }
    }
}

/// Facts about one model.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModelFacts {
    /// SHA-256 of the released weights (or the endpoint's identifier).
    #[serde(default)]
    pub weights_sha256: Option<String>,
    /// Release date, YYYY-MM-DD.
    #[serde(default)]
    pub release_date: Option<String>,
    /// Date the model was placed on the EU market, YYYY-MM-DD.
    #[serde(default)]
    pub eu_placement_date: Option<String>,
    /// The base model, for a fine-tuned model.
    #[serde(default)]
    pub base_model: Option<String>,
    /// Training compute of the base model, FLOP (for the one-third modification test).
    #[serde(default)]
    pub base_model_training_flop: Option<f64>,
    /// Training compute of this model, FLOP.
    #[serde(default)]
    pub training_flop: Option<f64>,
    /// How `training-flop` was obtained (e.g. "6·P·D with P = 7.2e9, D = 7.2e10").
    #[serde(default)]
    pub training_flop_method: Option<String>,
    /// Relative error margin of `training-flop` (0.3 = ±30%).
    #[serde(default)]
    pub training_flop_error: Option<f64>,
    /// Whether the Art. 53(2) open-source exemption is claimed.
    #[serde(default)]
    pub open_source_exemption: Option<bool>,
    /// Benchmarked inference compute.
    #[serde(default)]
    pub inference_benchmark: Option<InferenceBenchmark>,
    /// The functional unit of the SCI score.
    #[serde(default)]
    pub functional_unit: Option<FunctionalUnit>,
    /// Contractual instruments behind a market-based figure (or "none").
    #[serde(default)]
    pub market_instruments: Option<String>,
    /// Why the chosen candidate is proportionate, when a lighter alternative was not chosen.
    #[serde(default)]
    pub proportionality_reason: Option<String>,
}

/// The MDF's benchmarked inference computation.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InferenceBenchmark {
    /// FLOP for the task.
    pub flop: f64,
    /// The benchmark task, e.g. "generating 100,000 tokens".
    pub task: String,
    /// The hardware, e.g. "1 × A100-SXM4-80GB".
    pub hardware: String,
}

/// The SCI functional unit: `per` units of the count in metric `metric`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FunctionalUnit {
    /// What one unit is, e.g. "1,000 inferences".
    pub name: String,
    /// The metric holding the count over the evidence's runs (e.g. `inferences`).
    pub metric: String,
    /// How many counted items make one unit (1000 for "per 1,000 inferences").
    #[serde(default = "one")]
    pub per: f64,
}

fn one() -> f64 {
    1.0
}

/// Read a facts file.
pub fn load(path: &Path) -> Result<Facts, Error> {
    let text =
        crate::ingest::bounded::read_named_text(path, crate::ingest::bounded::MAX_SMALL_DOCUMENT)
            .map_err(|e| {
            Error::input(Problem::new(
                Location::file(path),
                format!("cannot read the facts file: {e}"),
            ))
        })?;
    let text = crate::ingest::normalize(&text);
    crate::yaml::guard_depth(path, &text).map_err(Error::Input)?;
    crate::yaml::refuse_tags(path, &text).map_err(Error::Input)?;
    let facts: Facts = serde_yaml::from_str(&text).map_err(|e| {
        let location = match e.location() {
            Some(at) => Location::at(path, at.line() as u64, at.column() as u64),
            None => Location::file(path),
        };
        Error::input(
            Problem::new(location, format!("facts file: {e}"))
                .with_help("see docs/compliance.md for the keys (`carbon-gate schema facts` prints the JSON Schema)"),
        )
    })?;
    if facts.version != 1 {
        return Err(Error::input(
            Problem::new(
                Location::file(path).with_path("version"),
                format!("facts file version {} is not supported", facts.version),
            )
            .with_help("write `version: 1`"),
        ));
    }
    if let Some(d) = &facts.document {
        let bad = |key: &str, why: &str| {
            Err(Error::input(Problem::new(
                Location::file(path).with_path(format!("document.{key}")),
                why.to_owned(),
            )))
        };
        if let Some(c) = &d.commit
            && !is_commit(c)
        {
            return bad(
                "commit",
                "must be a commit id: 7 to 64 hexadecimal digits (e.g. the output of `git rev-parse HEAD`)",
            );
        }
        for (key, v) in [
            ("version", &d.version),
            ("preparer", &d.preparer),
            ("approver", &d.approver),
            ("repository", &d.repository),
        ] {
            if let Some(v) = v
                && (v.trim().is_empty() || v.chars().count() > 200 || v.contains('\n'))
            {
                return bad(key, "must be one line of 1 to 200 characters");
            }
        }
    }
    for (name, m) in &facts.models {
        let bad = |key: &str, why: &str| {
            Err(Error::input(Problem::new(
                Location::file(path).with_path(format!("models.{name}.{key}")),
                why.to_owned(),
            )))
        };
        for (key, v) in [
            ("training-flop", m.training_flop),
            ("base-model-training-flop", m.base_model_training_flop),
            (
                "inference-benchmark.flop",
                m.inference_benchmark.as_ref().map(|b| b.flop),
            ),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return bad(key, "must be a positive number of FLOP (e.g. 3.1e21)");
            }
        }
        if let Some(e) = m.training_flop_error
            && !(e.is_finite() && e > 0.0 && e < 10.0)
        {
            return bad(
                "training-flop-error",
                "must be a relative margin such as 0.3 (±30%)",
            );
        }
        if let Some(u) = &m.functional_unit
            && !(u.per.is_finite() && u.per > 0.0)
        {
            return bad("functional-unit.per", "must be a positive number");
        }
        for (key, d) in [
            ("release-date", &m.release_date),
            ("eu-placement-date", &m.eu_placement_date),
        ] {
            if let Some(d) = d
                && time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_err()
            {
                return bad(key, "must be a date YYYY-MM-DD");
            }
        }
    }
    Ok(facts)
}

/// Whether `s` is a commit id: 7 to 64 hexadecimal digits.
pub fn is_commit(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The JSON Schema of the facts file.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Facts);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
