//! What the organisation's ledger stores: one [`StoredRun`] per counted run (its stable
//! [`StoredRun::key`] makes a run seen again *one* run) and one [`CheckEvent`] per `check`,
//! `promote` or `record` that wrote to it; and the rule by which two snapshots of one run merge
//! ([`StoredRun::merge`]).
//!
//! Figures are plain `f64` in the units their field names say (kWh, kg CO2e, s): this is the
//! boundary to SQL and BI tools, where typed units end. Times are RFC 3339 UTC with second
//! precision (`2027-01-31T23:59:59Z`), so they sort as text in every database.

use serde::{Deserialize, Serialize};

/// One counted run, after reconciliation, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredRun {
    /// The stable run key: `FORMAT:RUN-ID` (`codecarbon:5b0fa12a-…`), or `FORMAT:sha256:DIGEST`
    /// of the row's content for logs whose ids are not stable (eco2AI 0.1/0.2 rows, which have
    /// none).
    pub key: String,
    /// The format it was read from (`codecarbon`, `eco2ai`, …).
    pub format: String,
    /// The run id as the log has it.
    pub run_id: String,
    /// The model (normalized as the check names it).
    pub model: String,
    /// The model version, when known.
    pub version: Option<String>,
    /// The life-cycle phase (`training`, `fine-tuning`, `inference`, `evaluation`), when known.
    pub phase: Option<String>,
    /// When the run ended, from the log (UTC; a time without zone is read as UTC).
    pub ended_at: Option<String>,
    /// When the ledger first stored the run.
    pub recorded_at: String,
    /// The time periods are judged by: `ended_at`, unless the log has none or it lies more
    /// than a day after `recorded_at` (then `recorded_at`).
    pub at: String,
    /// Tracked duration, s.
    pub duration_s: Option<f64>,
    /// Energy, kWh (`None`: the source has no energy figure).
    pub energy_kwh: Option<f64>,
    /// Total CO2e, kg: operational (location-based) plus embodied.
    pub co2e_kg: f64,
    /// Operational CO2e, location-based, kg.
    pub operational_co2e_kg: f64,
    /// Embodied (Scope 3, category 1) CO2e, kg; 0 when none could be computed.
    pub embodied_co2e_kg: f64,
    /// How the embodied figure was obtained: `log` (the source gives it), the policy's formula
    /// with its numbers, or `None` when there is none.
    pub embodied_basis: Option<String>,
    /// Market-based operational CO2e, kg, when a contractual factor was given.
    pub market_co2e_kg: Option<f64>,
    /// Lowest total CO2e of an estimate's band, kg.
    pub co2e_low_kg: Option<f64>,
    /// Highest total CO2e of an estimate's band, kg.
    pub co2e_high_kg: Option<f64>,
    /// `measured`, or how carbon-gate estimated it (`tdp-estimate`, `power-estimate`,
    /// `flop-estimate`).
    pub method: String,
    /// ISO 3166 alpha-3 country code, when recorded.
    pub country_iso: Option<String>,
    /// Sub-national region, when recorded.
    pub region: Option<String>,
    /// Cloud provider, when recorded.
    pub cloud_provider: Option<String>,
    /// Cloud region, when recorded.
    pub cloud_region: Option<String>,
    /// CPU model, when recorded.
    pub cpu: Option<String>,
    /// GPU model(s), when recorded.
    pub gpu: Option<String>,
    /// Number of GPUs, when recorded.
    pub gpu_count: Option<f64>,
    /// The file it was read from (as named in the check) and the line.
    pub source: String,
    /// SHA-256 of the file it was read from, hex.
    pub file_digest: String,
    /// The repository (`OWNER/NAME`) of the check that first stored it, when known.
    pub repository: Option<String>,
    /// The commit of the check that first stored it, when known.
    pub commit: Option<String>,
}

/// One `check`, `promote` or `record` that wrote to the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckEvent {
    /// When it ran (RFC 3339 UTC).
    pub time: String,
    /// `check`, `promote`, `record` or `import`.
    pub command: String,
    /// Repository `OWNER/NAME`, when known.
    pub repository: Option<String>,
    /// Commit, when known.
    pub commit: Option<String>,
    /// Pull or merge request number, when known.
    pub pull_request: Option<u64>,
    /// `pass`, `warn` or `fail` (`None` for `record` and `import`).
    pub verdict: Option<String>,
    /// The one-line summary it printed.
    pub summary: Option<String>,
}

/// What merging a snapshot into the stored run changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The run was not in the ledger.
    New,
    /// A more complete snapshot: some figure grew.
    Grew,
    /// Nothing to change (the same snapshot, or an older one).
    Same,
}

/// The larger of two optional figures (a figure only one side has is kept).
fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl StoredRun {
    /// A measured CodeCarbon run known only by its key (also its id), model, time and figures
    /// — a duration of 60 s, everything else unknown — for tests and examples to build on with
    /// `..StoredRun::measured(…)`.
    pub fn measured(
        key: &str,
        model: &str,
        at: &str,
        co2e_kg: f64,
        energy_kwh: Option<f64>,
    ) -> StoredRun {
        StoredRun {
            key: key.to_owned(),
            format: "codecarbon".to_owned(),
            run_id: key.to_owned(),
            model: model.to_owned(),
            version: None,
            phase: None,
            ended_at: Some(at.to_owned()),
            recorded_at: at.to_owned(),
            at: at.to_owned(),
            duration_s: Some(60.0),
            energy_kwh,
            co2e_kg,
            operational_co2e_kg: co2e_kg,
            embodied_co2e_kg: 0.0,
            embodied_basis: None,
            market_co2e_kg: None,
            co2e_low_kg: None,
            co2e_high_kg: None,
            method: "measured".to_owned(),
            country_iso: None,
            region: None,
            cloud_provider: None,
            cloud_region: None,
            cpu: None,
            gpu: None,
            gpu_count: None,
            source: "emissions.csv:2".to_owned(),
            file_digest: String::new(),
            repository: None,
            commit: None,
        }
    }

    /// Merge `newer`, a snapshot of the same run (same key), into `self`, the stored one: each
    /// figure becomes the larger of the two (a later flush of a run has every figure at least
    /// as large, so the most complete snapshot wins; two snapshots that disagree — one figure
    /// higher in each — keep the larger of each, never the smaller, as the policy's
    /// `count-larger` does). This is commutative, associative and idempotent, so concurrent or
    /// repeated writers reach the same row whatever their order.
    ///
    /// What identifies the run (model, version, phase, place, hardware, source, first recorded
    /// time, repository, commit) stays as first stored; the end time follows the longer
    /// snapshot.
    pub fn merge(&mut self, newer: &StoredRun) -> Merge {
        let before = self.clone();
        if newer.duration_s.unwrap_or(0.0) > self.duration_s.unwrap_or(0.0) {
            self.ended_at.clone_from(&newer.ended_at);
            // The period time follows the end, but never moves later than first judged.
            if newer.at < self.at {
                self.at.clone_from(&newer.at);
            }
        }
        self.duration_s = larger(self.duration_s, newer.duration_s);
        self.energy_kwh = larger(self.energy_kwh, newer.energy_kwh);
        self.operational_co2e_kg = self.operational_co2e_kg.max(newer.operational_co2e_kg);
        self.embodied_co2e_kg = self.embodied_co2e_kg.max(newer.embodied_co2e_kg);
        if self.embodied_basis.is_none() {
            self.embodied_basis.clone_from(&newer.embodied_basis);
        }
        self.co2e_kg = self
            .co2e_kg
            .max(newer.co2e_kg)
            .max(self.operational_co2e_kg + self.embodied_co2e_kg);
        self.market_co2e_kg = larger(self.market_co2e_kg, newer.market_co2e_kg);
        self.co2e_low_kg = larger(self.co2e_low_kg, newer.co2e_low_kg);
        self.co2e_high_kg = larger(self.co2e_high_kg, newer.co2e_high_kg);
        if *self == before {
            Merge::Same
        } else {
            Merge::Grew
        }
    }
}
