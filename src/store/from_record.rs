//! A counted run of a check as the ledger stores it: its stable key, its end time, its figures
//! with embodied carbon added where the log has none.

use crate::error::Location;
use crate::ledger::evidence;
use crate::record::{Part, RunRecord};
use crate::units::Mass;

use super::StoredRun;

/// How far after the time it is recorded a run's end may lie before the log's clock is not
/// believed (and the period time becomes the recording time): one day.
const FUTURE_GRACE_S: i64 = 86_400;

/// An instant as the ledger writes it ([`super::utc_seconds`]), from seconds since the epoch;
/// `None` for a time no calendar year 1–9999 holds.
pub fn instant(seconds: f64) -> Option<String> {
    if !seconds.is_finite() {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp(seconds.floor() as i64).ok()?;
    (1..=9999)
        .contains(&t.year())
        .then(|| super::utc_seconds(t))
}

/// Seconds since the epoch of an instant the ledger wrote.
pub fn seconds_of(instant: &str) -> Option<f64> {
    crate::timestamp::seconds(instant)
}

/// When the run ended, in seconds, as its log says: CodeCarbon writes the time of the write (the
/// end of what the row covers), eco2AI the start (so the end is start + duration); other
/// formats' timestamps are taken as the end. A time without zone is read as UTC.
pub fn ended(r: &RunRecord) -> Option<f64> {
    if let (Some(start), Some(d)) = (evidence::start(r), r.duration) {
        return Some(start + d.value());
    }
    crate::timestamp::seconds(r.timestamp.as_deref()?)
}

/// Whether the run id was made from where the run was read (eco2AI rows without an id get
/// `file:line`, a manifest `if:PATH`, a card `card:PATH`): such an id names the place, not the
/// run, and changes when the same log is read from elsewhere.
fn id_from_place(r: &RunRecord) -> bool {
    // Exactly the ids the parsers make from a place (not any id that happens to contain the
    // file's name: a real id must keep its key, or its later snapshots would count again).
    let file = &r.source.file;
    let raw = file.display().to_string();
    let id = r.run_id.as_str();
    id == Location::line(file, r.source.line.unwrap_or(0)).to_string()
        || id == raw
        || id.strip_prefix("if:") == Some(raw.as_str())
        || id.strip_prefix("card:") == Some(raw.as_str())
}

/// The stable key of a counted record: `FORMAT:RUN-ID` (with `#task:NAME` or `#component:NAME`
/// for a part of a run), or `FORMAT:sha256:DIGEST` of what the row says when its id was made
/// from its place.
pub fn key(r: &RunRecord) -> String {
    let format = r.format.name();
    let part = match &r.part {
        None => String::new(),
        Some(Part::Task(t)) => format!("#task:{t}"),
        Some(Part::Component(c)) => format!("#component:{c}"),
    };
    if !id_from_place(r) {
        return format!("{format}:{}{part}", r.run_id);
    }
    // What the row says, without where it was read: the same row read from another checkout
    // or path is the same run.
    let content = serde_json::json!({
        "model": r.model, "version": r.version, "phase": r.phase, "timestamp": r.timestamp,
        "duration_s": r.duration, "energy_kwh": r.energy, "co2e_kg": r.emissions,
        "place": r.place, "hardware": r.hardware, "tool_version": r.tool_version,
    });
    let digest = crate::digest::sha256_hex(content.to_string().as_bytes());
    format!("{format}:sha256:{digest}{part}")
}

/// Who recorded a run, and when.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Now (RFC 3339 UTC, from [`instant`]).
    pub at: String,
    /// Repository `OWNER/NAME`.
    pub repository: Option<String>,
    /// Commit.
    pub commit: Option<String>,
}

/// Embodied carbon to add to a run whose log has none, with how it was computed.
pub struct Embodied {
    /// The central figure.
    pub central: Mass,
    /// Added to the band's ends.
    pub low: Mass,
    /// Added to the band's ends.
    pub high: Mass,
    /// The formula with its numbers.
    pub basis: String,
}

/// The stored form of counted record `r` of `model` at `version`, read from a file with SHA-256
/// `file_digest`; `embodied` is added when the log gives none.
pub fn stored(
    r: &RunRecord,
    model: &str,
    version: Option<&str>,
    embodied: Option<Embodied>,
    file_digest: &str,
    recording: &Recording,
) -> StoredRun {
    let ended_at = ended(r).and_then(instant);
    let now = seconds_of(&recording.at).unwrap_or(f64::NAN);
    let at = match (&ended_at, ended(r)) {
        (Some(e), Some(s)) if s <= now + FUTURE_GRACE_S as f64 => e.clone(),
        _ => recording.at.clone(),
    };
    let (embodied_kg, basis, added) = match (r.embodied, embodied) {
        (Some(m), _) => (m.value(), Some("log".to_owned()), None),
        (None, Some(e)) => (e.central.value(), Some(e.basis.clone()), Some(e)),
        (None, None) => (0.0, None, None),
    };
    let co2e = r.emissions.value() + added.as_ref().map_or(0.0, |e| e.central.value());
    let (low, high) = match (&r.band, &added) {
        (Some(b), Some(e)) => (
            Some(b.co2e_low_kg.value() + e.low.value()),
            Some(b.co2e_high_kg.value() + e.high.value()),
        ),
        (Some(b), None) => (Some(b.co2e_low_kg.value()), Some(b.co2e_high_kg.value())),
        (None, _) => (None, None),
    };
    let method = serde_json::to_value(r.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "measured".to_owned());
    let phase = r
        .phase
        .and_then(|p| serde_json::to_value(p).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    StoredRun {
        key: key(r),
        format: r.format.name().to_owned(),
        run_id: r.run_id.clone(),
        model: model.to_owned(),
        version: version.map(str::to_owned),
        phase,
        ended_at,
        recorded_at: recording.at.clone(),
        at,
        duration_s: r.duration.map(|d| d.value()),
        energy_kwh: r.energy.map(|e| e.value()),
        co2e_kg: co2e,
        operational_co2e_kg: co2e - embodied_kg,
        embodied_co2e_kg: embodied_kg,
        embodied_basis: basis,
        market_co2e_kg: r.market.map(|m| m.value()),
        co2e_low_kg: low,
        co2e_high_kg: high,
        method,
        country_iso: r.place.country_iso.clone(),
        region: r.place.region.clone(),
        cloud_provider: r.place.cloud_provider.clone(),
        cloud_region: r.place.cloud_region.clone(),
        cpu: r.hardware.cpu.clone(),
        gpu: r.hardware.gpu.clone(),
        gpu_count: r.hardware.gpu_count,
        source: r.source.to_string(),
        file_digest: file_digest.to_owned(),
        repository: recording.repository.clone(),
        commit: recording.commit.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::record::Format;

    fn record(file: &str, line: u64, id: Option<&str>, format: Format) -> RunRecord {
        let source = Location::line(file, line);
        let id = id.map_or_else(|| source.to_string(), str::to_owned);
        let mut r = RunRecord::new(source, format, id, Mass::kg(1.5));
        r.model = Some("m".to_owned());
        r.timestamp = Some("2026-01-02T03:04:05".to_owned());
        r
    }

    #[test]
    fn an_id_the_log_wrote_is_the_key_even_when_it_holds_the_file_name() {
        let r = record("a", 2, Some("a-run-of-a"), Format::Eco2ai);
        assert_eq!(key(&r), "eco2ai:a-run-of-a");
        let r = record(
            "runs/e.csv",
            2,
            Some("5b0fa12a-1111-4000-8000-000000000000"),
            Format::Codecarbon,
        );
        assert_eq!(key(&r), "codecarbon:5b0fa12a-1111-4000-8000-000000000000");
    }

    #[test]
    fn an_id_made_from_the_place_gives_way_to_the_content_so_another_path_is_the_same_run() {
        let here = record("runs/e.csv", 2, None, Format::Eco2ai);
        let there = record("checkout/other/e.csv", 7, None, Format::Eco2ai);
        assert!(key(&here).starts_with("eco2ai:sha256:"));
        assert_eq!(key(&here), key(&there));
        let mut other = there.clone();
        other.emissions = Mass::kg(2.0);
        assert_ne!(key(&here), key(&other));
        let manifest = record("out.yaml", 1, Some("if:out.yaml"), Format::ImpactFramework);
        assert!(
            key(&manifest).starts_with("impact-framework:sha256:"),
            "{}",
            key(&manifest)
        );
    }

    #[test]
    fn instants_are_utc_to_the_second_within_years_1_to_9999() {
        assert_eq!(
            instant(1_800_000_000.9).as_deref(),
            Some("2027-01-15T08:00:00Z")
        );
        assert_eq!(instant(f64::NAN), None);
        assert_eq!(instant(1e15), None);
    }
}
