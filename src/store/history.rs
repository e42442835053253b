//! Importing the JSON-lines history file `check --ledger PATH` appends to: one line per checked
//! model version, `{time, commit, model, version, role, verdict, totals{…}, …}`.
//!
//! A line has totals, not runs, so imported history is **per model version, not per run**: each
//! (model, version) becomes ONE [`StoredRun`] with the key `history:sha256:DIGEST` (SHA-256 of
//! the model, a NUL, and the version — nothing after the NUL when there is none), format
//! `history`, its figures from the line's `totals`, and its times from the line's `time`. Later
//! lines of the same version merge into it by [`StoredRun::merge`] (each figure the larger), so a
//! version checked ten times is counted once, at its largest. Runs of that version that a later
//! `check` stores with their own keys are counted again beside it: import a history only into
//! a ledger that does not hold the same runs.
//!
//! Each line is also a [`CheckEvent`] (command `check`, its verdict and commit), linked to its
//! version's key.

use std::path::Path;

use serde::Deserialize;

use super::run::{CheckEvent, StoredRun};
use crate::error::{Error, Location, Problem, display_path};

/// A history file read for import.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// One run per (model, version), merged over its lines, in first-seen order.
    pub runs: Vec<StoredRun>,
    /// One event per line, with the key of the run it checked.
    pub checks: Vec<(CheckEvent, Vec<String>)>,
}

/// A line as `append_ledger` (src/cmd/check.rs) writes it; other fields are ignored.
#[derive(Deserialize)]
struct Line {
    time: String,
    #[serde(default)]
    commit: Option<String>,
    model: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    verdict: Option<String>,
    totals: LineTotals,
}

/// The figures of a line's `totals` (`crate::ledger::Totals` as serialized) that a run keeps.
#[derive(Deserialize)]
struct LineTotals {
    energy_kwh: f64,
    co2e_kg: f64,
    #[serde(default)]
    operational_co2e_kg: Option<f64>,
    #[serde(default)]
    embodied_co2e_kg: Option<f64>,
    #[serde(default)]
    market_co2e_kg: Option<f64>,
    #[serde(default)]
    co2e_low_kg: Option<f64>,
    #[serde(default)]
    co2e_high_kg: Option<f64>,
    #[serde(default)]
    duration_s: Option<f64>,
    #[serde(default)]
    estimated_runs: Option<u64>,
}

/// What a line must be, for messages.
const EXPECTED: &str = "expected a history line as `check --ledger` writes it: a JSON object \
    with `time` (RFC 3339), `model`, `version`, `verdict` and `totals` {energy_kwh, co2e_kg, …}";

/// The key of a model version's imported history.
pub fn history_key(model: &str, version: Option<&str>) -> String {
    format!("history:{}", history_id(model, version))
}

fn history_id(model: &str, version: Option<&str>) -> String {
    let mut bytes = model.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(version.unwrap_or("").as_bytes());
    format!("sha256:{}", crate::digest::sha256_hex(&bytes))
}

/// [`read_history`] as runs and events (each event's run key dropped).
pub fn history_runs(path: &Path) -> Result<(Vec<StoredRun>, Vec<CheckEvent>), Error> {
    let history = read_history(path)?;
    Ok((
        history.runs,
        history.checks.into_iter().map(|(event, _)| event).collect(),
    ))
}

/// Read a JSON-lines history file: one run per model version, one event per line (see the
/// module's documentation). Blank lines are skipped; any other line that is not what `check`
/// writes is an [`Error::Input`] naming the file and line and saying what was expected.
pub fn read_history(path: &Path) -> Result<History, Error> {
    let bytes = crate::bounded::read_regular(path, crate::bounded::MAX_DOCUMENT).map_err(|e| {
        Error::input(Problem::new(
            Location::file(path),
            format!("cannot read the history file: {e}"),
        ))
    })?;
    let digest = crate::digest::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::input(Problem::new(
            Location::file(path),
            format!("the history file is not UTF-8 text ({e}); {EXPECTED}"),
        ))
    })?;
    let shown = display_path(path);
    let mut runs: Vec<StoredRun> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut checks = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |what: String| Error::input(Problem::new(Location::line(path, number), what));
        let line: Line = serde_json::from_str(raw).map_err(|e| bad(format!("{EXPECTED} ({e})")))?;
        let time = crate::timestamp::parse_rfc3339(&line.time)
            .map(super::utc_seconds)
            .ok_or_else(|| {
                bad(format!(
                    "`time` is `{}`, not an RFC 3339 time (2027-01-31T23:59:59Z)",
                    line.time
                ))
            })?;
        if line.model.trim().is_empty() {
            return Err(bad(format!("`model` is empty; {EXPECTED}")));
        }
        if let Some(v) = &line.verdict
            && !matches!(v.as_str(), "pass" | "warn" | "fail")
        {
            return Err(bad(format!(
                "`verdict` is `{v}`, expected pass, warn or fail"
            )));
        }
        let t = &line.totals;
        let figures = [
            ("energy_kwh", Some(t.energy_kwh)),
            ("co2e_kg", Some(t.co2e_kg)),
            ("operational_co2e_kg", t.operational_co2e_kg),
            ("embodied_co2e_kg", t.embodied_co2e_kg),
            ("market_co2e_kg", t.market_co2e_kg),
            ("co2e_low_kg", t.co2e_low_kg),
            ("co2e_high_kg", t.co2e_high_kg),
            ("duration_s", t.duration_s),
        ];
        for (name, value) in figures {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(bad(format!(
                    "totals.{name} is {v}, expected a number of at least 0"
                )));
            }
        }
        let embodied = t.embodied_co2e_kg.unwrap_or(0.0);
        // Lines written before the split of operational and embodied have the total only.
        let operational = t
            .operational_co2e_kg
            .unwrap_or_else(|| (t.co2e_kg - embodied).max(0.0));
        let run_id = history_id(&line.model, line.version.as_deref());
        let run = StoredRun {
            key: format!("history:{run_id}"),
            format: "history".into(),
            run_id,
            model: line.model.clone(),
            version: line.version.clone(),
            phase: None,
            ended_at: Some(time.clone()),
            recorded_at: time.clone(),
            at: time.clone(),
            duration_s: t.duration_s,
            energy_kwh: Some(t.energy_kwh),
            co2e_kg: t.co2e_kg,
            operational_co2e_kg: operational,
            embodied_co2e_kg: embodied,
            embodied_basis: (embodied > 0.0).then(|| "log".to_owned()),
            market_co2e_kg: t.market_co2e_kg,
            co2e_low_kg: t.co2e_low_kg,
            co2e_high_kg: t.co2e_high_kg,
            method: if t.estimated_runs.unwrap_or(0) > 0 {
                "estimate".into()
            } else {
                "measured".into()
            },
            country_iso: None,
            region: None,
            cloud_provider: None,
            cloud_region: None,
            cpu: None,
            gpu: None,
            gpu_count: None,
            source: format!("{shown}:{number}"),
            file_digest: digest.clone(),
            repository: None,
            commit: line.commit.clone(),
        };
        let key = run.key.clone();
        match index.get(&key) {
            Some(&i) => {
                runs[i].merge(&run);
            }
            None => {
                index.insert(key.clone(), runs.len());
                runs.push(run);
            }
        }
        checks.push((
            CheckEvent {
                time,
                command: "check".into(),
                repository: None,
                commit: line.commit,
                pull_request: None,
                verdict: line.verdict,
                summary: None,
            },
            vec![key],
        ));
    }
    Ok(History { runs, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_model_version() {
        assert_ne!(history_key("m", Some("1")), history_key("m", Some("2")));
        assert_ne!(history_key("m1", None), history_key("m", Some("1")));
        assert!(history_key("m", Some("1")).starts_with("history:sha256:"));
        assert_eq!(
            history_key("m", Some("1")).len(),
            "history:sha256:".len() + 64
        );
    }
}
