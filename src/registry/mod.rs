//! Model registries: what `promote` (gate a promotion on the carbon budget) and `record` (log a
//! run's totals on its tracking server) do on the registry — a run's evidence, the figures a
//! promotion recorded, the verdict tags, the alias. MLflow is the registry supported today
//! ([`mlflow`]); the commands are `cmd/promote.rs` and `cmd/record.rs`.
//!
//! `promote` fails closed. Everything is read first (the version, its run, the evidence, the
//! alias holder); the verdict is reached exactly as `check` reaches it; then the verdict tags
//! are written, and only after every tag was written, and only when the verdict is not `fail`,
//! is the alias moved — after checking that nobody moved it meanwhile. Any registry failure on
//! the way stops the command with exit 3 (2 when the user named something that does not exist)
//! before the alias moves.

pub mod mlflow;

use std::path::{Path, PathBuf};

use crate::error::{Error, Location};
use crate::ingest;
use crate::ledger;
use crate::record::{Format, RunRecord};
use crate::report::{ModelReport, Verdict};
use crate::units::{Duration, Energy, Mass};
use mlflow::{Mlflow, ModelVersion, Run, Tag};

/// Prefix of every tag and metric carbon-gate writes.
pub const PREFIX: &str = "carbon_gate.";

/// Longest tag value written (MLflow accepts 5,000 characters for model-version tag values in
/// the versions tested; longer values are cut with a trailing `…`).
const TAG_VALUE_MAX: usize = 5000;

/// Most artifact entries listed per run (a guard against runs with huge artifact trees).
const MAX_ARTIFACTS: usize = 10_000;

/// What a run (or the command line) gives as emissions evidence.
pub(crate) enum Evidence {
    /// Log files downloaded from the run's artifacts into `root`.
    Artifacts { paths: Vec<PathBuf>, root: PathBuf },
    /// Log files named on the command line.
    Logs(Vec<PathBuf>),
    /// One record made from the `carbon_gate.*` metrics `record` logged on the run, and the
    /// digest of those metrics.
    Metrics(Box<RunRecord>, String),
    /// Nothing; why.
    Nothing(String),
}

/// What a model version's totals were taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvidenceKind {
    /// Emissions logs among the run's artifacts.
    Artifacts,
    /// Emissions logs given on the command line.
    Logs,
    /// The `carbon_gate.*` metrics logged on the run.
    Metrics,
    /// Nothing.
    None,
}

impl EvidenceKind {
    /// The word written in the `carbon_gate.evidence` tag.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EvidenceKind::Artifacts => "artifacts",
            EvidenceKind::Logs => "logs",
            EvidenceKind::Metrics => "metrics",
            EvidenceKind::None => "none",
        }
    }
}

impl Evidence {
    /// What kind of evidence it is.
    pub(crate) fn kind(&self) -> EvidenceKind {
        match self {
            Evidence::Artifacts { .. } => EvidenceKind::Artifacts,
            Evidence::Logs(_) => EvidenceKind::Logs,
            Evidence::Metrics(..) => EvidenceKind::Metrics,
            Evidence::Nothing(_) => EvidenceKind::None,
        }
    }
}

/// A model's totals from its evidence, with what they were taken from.
pub(crate) struct Counted {
    pub(crate) entry: ledger::Entry,
    /// What the totals were taken from.
    pub(crate) kind: EvidenceKind,
    /// Digest of the evidence counted: the files read (their names relative to the artifact
    /// root, or as given, and their SHA-256), or the metrics; `None` when there was nothing.
    pub(crate) digest: Option<String>,
}

/// One digest over named parts: SHA-256 of `name NUL sha256 LF` lines in name order.
fn parts_digest(mut parts: Vec<(String, String)>) -> String {
    parts.sort();
    let mut text = String::new();
    for (name, sha) in parts {
        text.push_str(&name);
        text.push('\0');
        text.push_str(&sha);
        text.push('\n');
    }
    format!("sha256:{}", crate::digest::sha256_hex(text.as_bytes()))
}

/// The digest of the files a read took its records from.
pub(crate) fn inputs_digest(
    files: &[ingest::InputFile],
    root: Option<&Path>,
) -> Result<String, Error> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let name = root
            .and_then(|r| f.path.strip_prefix(r).ok())
            .unwrap_or(&f.path);
        parts.push((
            crate::error::path_text(name),
            crate::digest::file_sha256(&f.path)?,
        ));
    }
    Ok(parts_digest(parts))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    crate::http::runtime()
        .map_err(|e| Error::Service(format!("cannot start the HTTP runtime: {e}")))
}

/// Which of a run's artifacts are its emissions evidence, and how they are downloaded.
#[derive(Debug, Clone)]
pub struct ArtifactOptions {
    /// Globs of the artifact paths that are emissions logs (`--artifact-glob`).
    pub globs: Vec<String>,
    /// Where artifacts are downloaded (default: `carbon-gate/mlflow` in the temporary directory).
    pub download_dir: Option<PathBuf>,
    /// The largest artifact downloaded, in MiB (`--max-artifact-mib`).
    pub max_mib: u64,
}

/// Where a run's artifacts are downloaded: `<dir>/<run id>`, emptied first so an artifact deleted
/// since an earlier download is not read again.
fn download_dir(args: &ArtifactOptions, run_id: &str) -> Result<PathBuf, Error> {
    let safe: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let base = args
        .download_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("carbon-gate").join("mlflow"));
    let dir = base.join(if safe.is_empty() { "run" } else { &safe });
    let fail = |source| Error::Output {
        path: dir.clone(),
        source,
    };
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(fail)?;
    }
    std::fs::create_dir_all(&dir).map_err(fail)?;
    Ok(dir)
}

/// A relative artifact path that stays inside the download directory.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    ok.then(|| p.to_owned())
}

/// Every file among a run's artifacts with the size the listing gives (breadth first, bounded).
async fn list_files(client: &Mlflow, run_id: &str) -> Result<Vec<(String, Option<u64>)>, Error> {
    let mut files = Vec::new();
    let mut dirs = vec![String::new()];
    let mut seen = 0usize;
    while let Some(dir) = dirs.pop() {
        for f in client.list_artifacts(run_id, &dir).await? {
            seen += 1;
            if seen > MAX_ARTIFACTS {
                return Err(Error::Usage(format!(
                    "run {run_id} has more than {MAX_ARTIFACTS} artifacts: pass the emissions logs on the command line instead"
                )));
            }
            if f.is_dir {
                dirs.push(f.path);
            } else {
                files.push((f.path, f.file_size));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The emissions evidence of a run: its log artifacts, else the metrics `record` logged.
pub(crate) async fn run_evidence(
    client: &Mlflow,
    run: &Run,
    args: &ArtifactOptions,
) -> Result<Evidence, Error> {
    let mut globs = globset::GlobSetBuilder::new();
    for g in &args.globs {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(false)
            .build()
            .map_err(|e| Error::Usage(format!("--artifact-glob `{g}`: {e}")))?;
        globs.add(glob);
    }
    let globs = globs
        .build()
        .map_err(|e| Error::Usage(format!("--artifact-glob: {e}")))?;
    let id = &run.info.run_id;
    let wanted: Vec<(String, Option<u64>)> = list_files(client, id)
        .await?
        .into_iter()
        .filter(|(p, _)| globs.is_match(p))
        .collect();
    if !wanted.is_empty() {
        let cap = args.max_mib.saturating_mul(1024 * 1024);
        let dir = download_dir(args, id)?;
        let mut paths = Vec::new();
        for (artifact, size) in &wanted {
            let Some(rel) = safe_relative(artifact) else {
                return Err(Error::Service(format!(
                    "run {id} lists an artifact path that leaves its directory: `{artifact}`"
                )));
            };
            let too_large = || {
                Error::Usage(format!(
                    "artifact `{artifact}` of run {id} is larger than the {} MiB carbon-gate downloads as evidence (--max-artifact-mib): download it yourself and pass it on the command line",
                    args.max_mib
                ))
            };
            if size.is_some_and(|s| s > cap) {
                return Err(too_large());
            }
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Output {
                    path: parent.to_owned(),
                    source,
                })?;
            }
            client
                .download_to(run, artifact, &target, cap, *size)
                .await
                .map_err(|e| match e {
                    mlflow::DownloadError::TooLarge => too_large(),
                    mlflow::DownloadError::Registry(e) => e.into(),
                    mlflow::DownloadError::Write(source) => Error::Output {
                        path: target.clone(),
                        source,
                    },
                })?;
            paths.push(target);
        }
        return Ok(Evidence::Artifacts { paths, root: dir });
    }
    if let Some((record, digest)) = record_from_metrics(run)? {
        return Ok(Evidence::Metrics(Box::new(record), digest));
    }
    Ok(Evidence::Nothing(format!(
        "run {id} has no artifact matching {} and no {PREFIX}* metrics (log them with `carbon-gate record`)",
        args.globs.join(", ")
    )))
}

/// The `carbon_gate.*` metrics a run's totals are read from, and the checks of each: these are
/// numbers anyone with write access to the run can log by hand, so they are validated as a log's
/// figures are (finite, not negative, plausible for one run).
const FIGURE_METRICS: [&str; 6] = [
    "co2e_kg",
    "energy_kwh",
    "operational_co2e_kg",
    "embodied_co2e_kg",
    "market_co2e_kg",
    "duration_s",
];

/// The record `record` left on a run as metrics and tags, if it did, with the digest of the
/// metrics it was made from.
fn record_from_metrics(run: &Run) -> Result<Option<(RunRecord, String)>, Error> {
    let id = &run.info.run_id;
    let source = Location::file(format!("runs:/{id}")).with_path("metrics");
    let mut figures = std::collections::BTreeMap::new();
    for m in &run.data.metrics {
        let Some(name) = m.key.strip_prefix(PREFIX) else {
            continue;
        };
        if !FIGURE_METRICS.contains(&name) {
            continue;
        }
        // MLflow answers NaN and ±inf as the strings "NaN", "Infinity", "-Infinity".
        let value = m.value.as_f64().filter(|v| v.is_finite() && *v >= 0.0);
        let Some(value) = value else {
            return Err(Error::input(
                crate::error::Problem::new(
                    source.clone(),
                    format!(
                        "metric {} is {}: a run's emissions, energy and duration are finite numbers, not negative",
                        m.key, m.value
                    ),
                )
                .with_help("these metrics are evidence for promotion: log the emissions file as an artifact, or log the metrics again with `carbon-gate record`"),
            ));
        };
        figures.insert(name, value);
    }
    let Some(&co2e) = figures.get("co2e_kg") else {
        return Ok(None);
    };
    let get = |k: &str| figures.get(k).copied();
    let mut record = RunRecord::new(
        source.clone(),
        Format::Native,
        format!("mlflow:{id}"),
        Mass::kg(co2e),
    );
    record.layout = "MLflow run metrics (carbon-gate record)".to_owned();
    record.tool_version = run.tag(&format!("{PREFIX}tool_version")).map(str::to_owned);
    record.energy = get("energy_kwh").map(Energy::kwh);
    record.embodied = get("embodied_co2e_kg").map(Mass::kg);
    record.market = get("market_co2e_kg").map(Mass::kg);
    record.duration = get("duration_s").map(Duration::seconds);
    if let Some(m) = run.tag(&format!("{PREFIX}method")) {
        record.method = serde_json::from_value(serde_json::Value::String(m.to_owned())).map_err(
            |_| {
                Error::Usage(format!(
                    "{source}: tag {PREFIX}method is `{m}`, expected measured, tdp-estimate, power-estimate or flop-estimate"
                ))
            },
        )?;
    }
    crate::record::check_plausible(std::slice::from_ref(&record))?;
    let digest = parts_digest(
        figures
            .iter()
            .map(|(k, v)| (format!("{PREFIX}{k}"), number(*v)))
            .collect(),
    );
    Ok(Some((record, digest)))
}

/// Metrics the run logged, without carbon-gate's own.
pub(crate) fn quality_metrics(run: Option<&Run>) -> crate::metrics::Metrics {
    run.map(Run::metrics)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with(PREFIX))
        .collect()
}

/// The semantic version a model version's tag holds.
pub(crate) fn semver_of(
    mv: &ModelVersion,
    tag: &str,
    strict: bool,
) -> Result<Option<semver::Version>, Error> {
    let Some(text) = mv.tag(tag) else {
        return Ok(None);
    };
    match semver::Version::parse(text.trim().trim_start_matches('v')) {
        Ok(v) => Ok(Some(v)),
        Err(e) if strict => Err(Error::Usage(format!(
            "model version {} of `{}`: tag `{tag}` is `{text}`, not a semantic version ({e}); fix the tag or pass --model-version",
            mv.version, mv.name
        ))),
        Err(_) => Ok(None),
    }
}

/// A number as a tag value: the shortest text that reads back to the same f64.
pub(crate) fn number(v: f64) -> String {
    format!("{v}")
}

pub(crate) fn cut(value: String) -> String {
    if value.chars().count() <= TAG_VALUE_MAX {
        value
    } else {
        let mut s: String = value.chars().take(TAG_VALUE_MAX - 1).collect();
        s.push('…');
        s
    }
}

/// The tags a promotion writes on the version.
#[allow(clippy::too_many_arguments)]
pub(crate) fn verdict_tags(
    candidate: &ModelReport,
    verdict: Verdict,
    summary: &str,
    digest: &str,
    policy_files: &[String],
    alias: &str,
    holder: Option<&ModelVersion>,
    counted: &Counted,
) -> Vec<Tag> {
    let t = &candidate.totals;
    let mut tags = vec![
        ("verdict", verdict.word().to_ascii_lowercase()),
        ("summary", summary.to_owned()),
        ("co2e_kg", number(t.emissions.value())),
        ("energy_kwh", number(t.energy.value())),
        ("operational_co2e_kg", number(t.operational.value())),
        ("embodied_co2e_kg", number(t.embodied.value())),
        (
            "method",
            if t.runs > 0 && counted.kind == EvidenceKind::Metrics {
                // Numbers logged on the run, not a tracker's log read here.
                "reported".to_owned()
            } else if t.estimated_runs > 0 {
                "estimated".to_owned()
            } else if t.runs == 0 {
                "none".to_owned()
            } else {
                "measured".to_owned()
            },
        ),
        ("runs", t.runs.to_string()),
        ("evidence", counted.kind.name().to_owned()),
        (
            "evidence_digest",
            counted.digest.clone().unwrap_or_else(|| "none".to_owned()),
        ),
        ("policy_digest", digest.to_owned()),
        ("policy_files", policy_files.join(", ")),
        ("alias", alias.to_owned()),
        (
            "baseline_version",
            holder.map_or_else(|| "none".to_owned(), |h| h.version.clone()),
        ),
        ("checked_at", crate::timestamp::now_rfc3339()),
        ("tool_version", env!("CARGO_PKG_VERSION").to_owned()),
    ];
    if let Some(m) = t.market {
        tags.push(("market_co2e_kg", number(m.value())));
    }
    tags.into_iter()
        .map(|(k, v)| Tag {
            key: format!("{PREFIX}{k}"),
            value: cut(v),
        })
        .collect()
}

/// Read a version's tags back and check they hold what was written.
async fn verify_tags(
    client: &Mlflow,
    name: &str,
    version: &str,
    tags: &[Tag],
) -> Result<(), String> {
    let mv = client
        .model_version(name, version)
        .await
        .map_err(|e| format!("reading the tags back failed: {e}"))?
        .ok_or_else(|| format!("models:/{name}/{version} is gone after its tags were written"))?;
    for t in tags {
        match mv.tag(&t.key) {
            Some(v) if v == t.value => {}
            Some(v) => {
                return Err(format!(
                    "tag {} of models:/{name}/{version} reads back as `{}`, not the `{}` written",
                    t.key,
                    cut(v.to_owned()),
                    t.value
                ));
            }
            None => {
                return Err(format!(
                    "MLflow accepted tag {} on models:/{name}/{version}, but the version does not have it",
                    t.key
                ));
            }
        }
    }
    Ok(())
}

/// Write the verdict tags on a version and read them back: the record later promotions are
/// judged against. A failure says the alias was not moved.
pub(crate) async fn write_tags(
    client: &Mlflow,
    name: &str,
    version: &str,
    tags: &[Tag],
    alias: &str,
) -> Result<(), Error> {
    let written = |e: mlflow::RegistryError| -> Error {
        Error::Service(format!("{e}; alias {alias} not moved"))
    };
    for t in tags {
        client
            .set_version_tag(name, version, &t.key, &t.value)
            .await
            .map_err(written)?;
    }
    // Read back: the verdict tags are the record later promotions are judged against.
    verify_tags(client, name, version, tags)
        .await
        .map_err(|e| Error::Service(format!("{e}; alias {alias} not moved")))?;
    Ok(())
}

/// Move `alias` of `name` to `version` — only when it still is where it was when the promotion
/// was evaluated (`holder`), after writing the `extra` tags — and read it back.
pub(crate) async fn move_alias(
    client: &Mlflow,
    name: &str,
    alias: &str,
    version: &str,
    holder: Option<&ModelVersion>,
    extra: &[Tag],
) -> Result<(), Error> {
    let from = holder.map_or_else(|| "unset".to_owned(), |h| format!("version {}", h.version));
    let written = |e: mlflow::RegistryError| -> Error {
        Error::Service(format!("{e}; alias {alias} not moved"))
    };
    // Optimistic check: the alias must still point where it pointed when we evaluated.
    let now = client.alias(name, alias).await.map_err(written)?;
    if now.as_ref().map(|h| &h.version) != holder.map(|h| &h.version) {
        return Err(Error::Service(format!(
            "alias {} of `{name}` moved from {from} to {} while carbon-gate was evaluating; not moved again: re-run the promotion",
            alias,
            now.map_or_else(|| "unset".to_owned(), |h| format!("version {}", h.version))
        )));
    }
    for t in extra {
        client
            .set_version_tag(name, version, &t.key, &t.value)
            .await
            .map_err(written)?;
    }
    client
        .set_alias(name, alias, version)
        .await
        .map_err(|e| Error::Service(format!("{e}; alias {alias} not moved")))?;
    // Read back: what the registry holds is what the message and the exit code say.
    let holds = client.alias(name, alias).await.map_err(|e| {
        Error::Service(format!(
            "alias {alias} of `{name}` was written, but reading it back failed, so whether it moved is unknown: {e}"
        ))
    })?;
    match holds {
        Some(h) if h.version == version => {}
        other => {
            return Err(Error::Service(format!(
                "MLflow accepted moving alias {} of `{name}` to version {}, but the alias is {}: not promoted",
                alias,
                version,
                other.map_or_else(
                    || "unset".to_owned(),
                    |h| format!("on version {}", h.version)
                )
            )));
        }
    }
    Ok(())
}

/// What a promotion recorded on the version: its totals and the digest of its evidence.
pub(crate) struct Recorded {
    pub(crate) co2e: f64,
    pub(crate) energy: f64,
    /// `None`: promoted by a carbon-gate that did not record digests.
    pub(crate) digest: Option<String>,
    /// `artifacts`, `logs`, `metrics` (`None`: not recorded).
    pub(crate) kind: Option<String>,
}

/// The totals and evidence digest a promotion recorded in the tags of `holder`, if it did.
pub(crate) fn recorded(holder: &ModelVersion) -> Option<Recorded> {
    let number = |k: &str| {
        holder
            .tag(&format!("{PREFIX}{k}"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    let text = |k: &str| {
        holder
            .tag(&format!("{PREFIX}{k}"))
            .filter(|v| !v.is_empty() && *v != "none")
            .map(str::to_owned)
    };
    Some(Recorded {
        co2e: number("co2e_kg")?,
        energy: number("energy_kwh")?,
        digest: text("evidence_digest"),
        kind: text("evidence"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths_cannot_escape() {
        assert_eq!(
            safe_relative("logs/emissions.csv"),
            Some(PathBuf::from("logs/emissions.csv"))
        );
        assert_eq!(safe_relative("../etc/passwd"), None);
        assert_eq!(safe_relative("/etc/passwd"), None);
        assert_eq!(safe_relative("a/../../b"), None);
        assert_eq!(safe_relative(""), None);
    }

    #[test]
    fn numbers_read_back_exactly() {
        for v in [0.1 + 0.2, 1e-12, 7.906565967507522e-06, 3.0] {
            assert_eq!(number(v).parse::<f64>().ok(), Some(v));
        }
    }

    #[test]
    fn long_values_are_cut() {
        let v = cut("x".repeat(6000));
        assert_eq!(v.chars().count(), TAG_VALUE_MAX);
        assert!(v.ends_with('…'));
    }
}
