//! Model registries: gate a promotion on the carbon budget (`promote`) and log a run's totals on
//! its tracking server (`record`). MLflow is the registry supported today ([`mlflow`]).
//!
//! `promote` fails closed. Everything is read first (the version, its run, the evidence, the
//! alias holder); the verdict is reached exactly as `check` reaches it; then the verdict tags
//! are written, and only after every tag was written, and only when the verdict is not `fail`,
//! is the alias moved — after checking that nobody moved it meanwhile. Any registry failure on
//! the way stops the command with exit 3 (2 when the user named something that does not exist)
//! before the alias moves.

pub mod mlflow;

use std::path::{Path, PathBuf};

use crate::cli::{InputArgs, PromoteArgs, RecordArgs, RegistryArgs};
use crate::diagnostic::Warning;
use crate::error::{Error, Location};
use crate::exit::Exit;
use crate::ledger::{self, Attribution};
use crate::policy::eval::{BaselineInput, GroupInput, ReportedBaseline, Subject};
use crate::record::{Format, Method, RunRecord};
use crate::report::{ModelReport, Role, Verdict};
use crate::units::{Duration, Energy, Mass};
use crate::{Outcome, codes, ingest};
use mlflow::{Auth, Mlflow, ModelVersion, Run, Tag};

/// Prefix of every tag and metric carbon-gate writes.
pub const PREFIX: &str = "carbon_gate.";

/// Longest tag value written (MLflow accepts 5,000 characters for model-version tag values in
/// the versions tested; longer values are cut with a trailing `…`).
const TAG_VALUE_MAX: usize = 5000;

/// Most artifact entries listed per run (a guard against runs with huge artifact trees).
const MAX_ARTIFACTS: usize = 10_000;

/// What a run (or the command line) gives as emissions evidence.
enum Evidence {
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

impl Evidence {
    /// The word written in the `carbon_gate.evidence` tag.
    fn kind(&self) -> &'static str {
        match self {
            Evidence::Artifacts { .. } => "artifacts",
            Evidence::Logs(_) => "logs",
            Evidence::Metrics(..) => "metrics",
            Evidence::Nothing(_) => "none",
        }
    }
}

/// A model's totals from its evidence, with what they were taken from.
struct Counted {
    entry: ledger::Entry,
    /// `artifacts`, `logs`, `metrics` or `none`.
    kind: &'static str,
    /// Digest of the evidence counted: the files read (their names relative to the artifact
    /// root, or as given, and their SHA-256), or the metrics; `None` when there was nothing.
    digest: Option<String>,
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
fn files_digest(files: &[ingest::InputFile], root: Option<&Path>) -> Result<String, Error> {
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

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Service(format!("cannot start the HTTP runtime: {e}")))
}

fn client(args: &RegistryArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Mlflow, Error> {
    match args.registry {
        crate::cli::Registry::Mlflow => Ok(Mlflow::new(
            &args.tracking_uri,
            Auth::from_env(env),
            crate::http::Retry::from_env(env),
        )?),
    }
}

/// Where a run's artifacts are downloaded: `<dir>/<run id>`, emptied first so an artifact deleted
/// since an earlier download is not read again.
fn download_dir(args: &RegistryArgs, run_id: &str) -> Result<PathBuf, Error> {
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
async fn run_evidence(client: &Mlflow, run: &Run, args: &RegistryArgs) -> Result<Evidence, Error> {
    let mut globs = globset::GlobSetBuilder::new();
    for g in &args.artifact_globs {
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
        let cap = args.max_artifact_mib.saturating_mul(1024 * 1024);
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
                    args.max_artifact_mib
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
        args.artifact_globs.join(", ")
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

/// Totals and contributions of one model from evidence.
fn subject_of(
    evidence: Evidence,
    input: &InputArgs,
    attribution: &Attribution,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<Warning>,
) -> Result<Counted, Error> {
    let model = attribution.model.clone().unwrap_or_default();
    let kind = evidence.kind();
    let (entries, digest) = match evidence {
        Evidence::Artifacts { paths, root } => {
            let read = crate::cmd::read::read_entries(&paths, input, attribution, false)?;
            let digest = files_digest(&read.inputs, Some(&root))?;
            inputs.extend(read.inputs);
            warnings.extend(read.warnings);
            (read.entries, Some(digest))
        }
        Evidence::Logs(paths) => {
            let read = crate::cmd::read::read_entries(&paths, input, attribution, false)?;
            let digest = files_digest(&read.inputs, None)?;
            inputs.extend(read.inputs);
            warnings.extend(read.warnings);
            (read.entries, Some(digest))
        }
        Evidence::Metrics(record, digest) => {
            warnings.push(Warning::at(
                codes::REGISTRY_RUN_METRICS,
                record.source.clone(),
                "no emissions log among the run's artifacts: its totals are the carbon_gate.* metrics logged on the run (reported, not measured here)",
            ));
            let mut reconciled = ledger::reconcile_with(vec![*record], attribution.rules)?;
            let (entries, more) = ledger::aggregate(&mut reconciled, attribution)?;
            warnings.extend(more);
            (entries, Some(digest))
        }
        Evidence::Nothing(why) => {
            warnings.push(Warning::general(codes::REGISTRY_NO_EVIDENCE, why));
            (Vec::new(), None)
        }
    };
    Ok(Counted {
        entry: crate::cmd::read::take_entry(entries, &model),
        kind,
        digest,
    })
}

/// Metrics the run logged, without carbon-gate's own.
fn quality_metrics(run: Option<&Run>) -> crate::metrics::Metrics {
    run.map(Run::metrics)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with(PREFIX))
        .collect()
}

/// The semantic version a model version's tag holds.
fn semver_of(mv: &ModelVersion, tag: &str, strict: bool) -> Result<Option<semver::Version>, Error> {
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
fn number(v: f64) -> String {
    format!("{v}")
}

fn cut(value: String) -> String {
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
fn verdict_tags(
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
            if t.runs > 0 && counted.kind == "metrics" {
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
        ("evidence", counted.kind.to_owned()),
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
        (
            "checked_at",
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
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

/// `carbon-gate promote`.
pub fn promote(args: &PromoteArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Outcome, Error> {
    // Everything local is checked before the registry is touched.
    let policy_paths = if args.policy.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        args.policy.clone()
    };
    let mut loaded = crate::policy::load(&policy_paths)?;
    // A registry version without a semver tag must not escape its versioned budgets.
    loaded.policy.version_required = true;
    let digest = crate::digest::files_digest(&loaded.policy.files)?;
    let file_metrics = args
        .metrics
        .as_deref()
        .map(crate::metrics::load)
        .transpose()?;
    let client = client(&args.registry, env)?;
    runtime()?.block_on(promote_with(args, &client, &loaded, &digest, file_metrics))
}

async fn promote_with(
    args: &PromoteArgs,
    client: &Mlflow,
    loaded: &crate::policy::Loaded,
    digest: &str,
    file_metrics: Option<crate::metrics::Metrics>,
) -> Result<Outcome, Error> {
    use crate::policy::model::EvidenceRule;
    let name = &args.model;
    let target = format!("models:/{name}/{}", args.version);
    let mv = client
        .model_version(name, &args.version)
        .await?
        .ok_or_else(|| {
            Error::Usage(format!(
                "{target} not found in the MLflow registry at {}: check --model and --version (the registry's version number, e.g. 3)",
                client.base()
            ))
        })?;
    if mv.name != *name || mv.version != args.version {
        return Err(Error::Service(format!(
            "MLflow at {} answered the lookup of {target} with models:/{}/{}; nothing was moved",
            client.base(),
            mv.name,
            mv.version
        )));
    }
    if let Some(status) = mv.status.as_deref().filter(|s| *s != "READY") {
        return Err(Error::Usage(format!(
            "{target} is {status}, not READY: it cannot be promoted yet"
        )));
    }
    let semver = match &args.model_version {
        Some(v) => Some(v.clone()),
        None => semver_of(&mv, &args.semver_tag, true)?,
    };
    let holder = client.alias(name, &args.alias).await?;
    let run = match mv.run_id.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => Some(client.run(id).await.map_err(|e| match e {
            mlflow::RegistryError::NotFound(m) => Error::Usage(format!(
                "{target} names run {id}, which the tracking server does not have: {m}"
            )),
            other => other.into(),
        })?),
        None => None,
    };
    let rule = loaded.policy.evidence;
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let evidence = if !args.input.logs.is_empty() {
        if rule == EvidenceRule::Artifacts {
            return Err(Error::Usage(format!(
                "the policy says `evidence: artifacts`: {target} is judged on the emissions logs among its run's artifacts, not on logs named on the command line; leave them out"
            )));
        }
        Evidence::Logs(args.input.logs.clone())
    } else if let Some(run) = &run {
        run_evidence(client, run, &args.registry).await?
    } else {
        Evidence::Nothing(format!(
            "{target} was not registered from a run and no logs were given on the command line"
        ))
    };
    if rule == EvidenceRule::Artifacts
        && let Evidence::Metrics(record, _) = &evidence
    {
        return Err(Error::input(
            crate::error::Problem::new(
                record.source.clone(),
                format!(
                    "the policy says `evidence: artifacts`, but the run of {target} has no emissions log among its artifacts (looked for {}), only {PREFIX}* metrics, which anyone who can write to the run can log",
                    args.registry.artifact_globs.join(", ")
                ),
            )
            .with_help("log the tracker's emissions file as an artifact of the training run (mlflow.log_artifact)"),
        ));
    }
    let attribution = Attribution {
        model: Some(name.clone()),
        version: semver.clone(),
        phase: args.input.phase,
        rules: loaded.policy.ledger_rules(),
    };
    let counted = subject_of(
        evidence,
        &args.input,
        &attribution,
        &mut inputs,
        &mut warnings,
    )?;
    let mut metrics = quality_metrics(run.as_ref());
    metrics.extend(counted.entry.metrics.clone());
    if let Some(m) = &file_metrics {
        metrics.extend(m.clone());
    }
    let candidate = Subject {
        entry: counted.entry.clone(),
        metrics,
        kind: None,
    };
    let baseline = match holder.as_ref().filter(|h| h.version != mv.version) {
        Some(h) => baseline_of(client, h, args, &loaded.policy, &mut inputs, &mut warnings).await?,
        None => None,
    };
    let groups = vec![GroupInput {
        candidate,
        baseline,
        alternatives: Vec::new(),
    }];
    let report = crate::cmd::evaluate::evaluate(
        loaded,
        &groups,
        crate::cmd::evaluate::Evidence {
            inputs,
            warnings,
            policy_ref: None,
            policy_changes: Vec::new(),
            whatif: false,
        },
        args.today.unwrap_or_else(crate::cmd::today),
    )?;
    let (buffer, mut stderr) =
        crate::cmd::output::render_check(&report, args.format, args.explain, &args.out)?;
    let Some(candidate) = report.models.iter().find(|m| m.role == Role::Candidate) else {
        return Err(Error::Usage(format!(
            "no candidate was evaluated for {target}"
        )));
    };
    let tags = verdict_tags(
        candidate,
        report.verdict,
        &report.summary,
        digest,
        &report.policy_files,
        &args.alias,
        holder.as_ref(),
        &counted,
    );
    let extra: Vec<Tag> = args
        .set_tags
        .iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: cut(v.clone()),
        })
        .collect();
    let passes = report.verdict != Verdict::Fail;
    let from = holder
        .as_ref()
        .map_or_else(|| "unset".to_owned(), |h| format!("version {}", h.version));
    let mut say = |line: String| stderr.push(format!("carbon-gate: {line}"));
    if args.registry.dry_run {
        for t in &tags {
            say(format!(
                "dry run: would set tag {} = {} on {target}",
                t.key, t.value
            ));
        }
        if passes {
            for t in &extra {
                say(format!(
                    "dry run: would set tag {} = {} on {target}",
                    t.key, t.value
                ));
            }
            say(format!(
                "dry run: would move alias {} of `{name}` from {from} to version {}",
                args.alias, mv.version
            ));
        } else {
            say(format!(
                "dry run: would leave alias {} of `{name}` as it is ({from}): the verdict is fail",
                args.alias
            ));
        }
    } else {
        let written = |e: mlflow::RegistryError| -> Error {
            Error::Service(format!("{e}; alias {} not moved", args.alias))
        };
        for t in &tags {
            client
                .set_version_tag(name, &mv.version, &t.key, &t.value)
                .await
                .map_err(written)?;
        }
        // Read back: the verdict tags are the record later promotions are judged against.
        verify_tags(client, name, &mv.version, &tags)
            .await
            .map_err(|e| Error::Service(format!("{e}; alias {} not moved", args.alias)))?;
        say(format!("set {} carbon_gate.* tags on {target}", tags.len()));
        if passes {
            // Optimistic check: the alias must still point where it pointed when we evaluated.
            let now = client.alias(name, &args.alias).await.map_err(written)?;
            if now.as_ref().map(|h| &h.version) != holder.as_ref().map(|h| &h.version) {
                return Err(Error::Service(format!(
                    "alias {} of `{name}` moved from {from} to {} while carbon-gate was evaluating; not moved again: re-run the promotion",
                    args.alias,
                    now.map_or_else(|| "unset".to_owned(), |h| format!("version {}", h.version))
                )));
            }
            for t in &extra {
                client
                    .set_version_tag(name, &mv.version, &t.key, &t.value)
                    .await
                    .map_err(written)?;
            }
            client
                .set_alias(name, &args.alias, &mv.version)
                .await
                .map_err(|e| Error::Service(format!("{e}; alias {} not moved", args.alias)))?;
            // Read back: what the registry holds is what the message and the exit code say.
            let holds = client.alias(name, &args.alias).await.map_err(|e| {
                Error::Service(format!(
                    "alias {} of `{name}` was written, but reading it back failed, so whether it moved is unknown: {e}",
                    args.alias
                ))
            })?;
            match holds {
                Some(h) if h.version == mv.version => {}
                other => {
                    return Err(Error::Service(format!(
                        "MLflow accepted moving alias {} of `{name}` to version {}, but the alias is {}: not promoted",
                        args.alias,
                        mv.version,
                        other.map_or_else(
                            || "unset".to_owned(),
                            |h| format!("on version {}", h.version)
                        )
                    )));
                }
            }
            say(format!(
                "moved alias {} of `{name}` from {from} to version {}",
                args.alias, mv.version
            ));
        } else {
            say(format!(
                "alias {} of `{name}` not moved: it stays {}",
                args.alias,
                holder.as_ref().map_or_else(
                    || "unset".to_owned(),
                    |h| format!("on version {}", h.version)
                )
            ));
        }
    }
    let stdout = crate::cmd::output::deliver(buffer, args.out.output.as_deref())?;
    stderr.push(format!("carbon-gate: {}", report.summary));
    Ok(Outcome {
        stdout,
        stderr,
        exit: if passes {
            Exit::Pass
        } else {
            Exit::BudgetExceeded
        },
    })
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

/// What a promotion recorded on the version: its totals and the digest of its evidence.
struct Recorded {
    co2e: f64,
    energy: f64,
    /// `None`: promoted by a carbon-gate that did not record digests.
    digest: Option<String>,
    /// `artifacts`, `logs`, `metrics` (`None`: not recorded).
    kind: Option<String>,
}

fn recorded(holder: &ModelVersion) -> Option<Recorded> {
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

/// The baseline: the version that holds the alias. Its run's evidence is used when it is what
/// the holder's promotion counted (same digest); otherwise the figures that promotion recorded
/// in its `carbon_gate.*` tags are — evidence added to a run later must not move the baseline.
async fn baseline_of(
    client: &Mlflow,
    holder: &ModelVersion,
    args: &PromoteArgs,
    policy: &crate::policy::Policy,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<BaselineInput>, Error> {
    let semver = semver_of(holder, &args.semver_tag, false)?;
    let run = match holder.run_id.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => match client.run(id).await {
            Ok(r) => Some(r),
            Err(mlflow::RegistryError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let label = format!(
        "models:/{}/{} (alias {})",
        holder.name, holder.version, args.alias
    );
    let recorded = recorded(holder);
    let from_tags = |rec: &Recorded| {
        Some(BaselineInput::Report(ReportedBaseline {
            model: holder.name.clone(),
            version: semver.as_ref().map(ToString::to_string),
            source: label.clone(),
            energy: Energy::kwh(rec.energy),
            co2e: Mass::kg(rec.co2e),
            metrics: quality_metrics(run.as_ref()),
        }))
    };
    // The run's evidence, when it can be read. A baseline whose run now holds evidence that
    // cannot be read (a negative metric, a broken artifact) falls back to what was recorded.
    let evidence = match &run {
        Some(r) => match run_evidence(client, r, &args.registry).await {
            Ok(e) => e,
            Err(e @ (Error::Service(_) | Error::Output { .. })) => return Err(e),
            Err(e) => Evidence::Nothing(e.to_string()),
        },
        None => Evidence::Nothing(String::new()),
    };
    if let Evidence::Nothing(why) = &evidence {
        if let Some(rec) = &recorded {
            let because = if why.is_empty() {
                "no evidence on its run".to_owned()
            } else {
                format!("its run's evidence cannot be used ({why})")
            };
            warnings.push(Warning::general(
                codes::REGISTRY_BASELINE_TAGS,
                format!(
                    "{label}: {because}; its totals are the carbon_gate.* tags its promotion wrote"
                ),
            ));
            return Ok(from_tags(rec));
        }
        warnings.push(Warning::general(
            codes::REGISTRY_NO_EVIDENCE,
            format!("{label}: no emissions evidence on its run nor carbon_gate.* tags on it: regression rules have no baseline"),
        ));
        return Ok(None);
    }
    let attribution = Attribution {
        model: Some(holder.name.clone()),
        version: semver.clone(),
        phase: args.input.phase,
        rules: policy.ledger_rules(),
    };
    let mut read_inputs = Vec::new();
    let mut read_warnings = Vec::new();
    let counted = match subject_of(
        evidence,
        &args.input,
        &attribution,
        &mut read_inputs,
        &mut read_warnings,
    ) {
        Ok(c) => Some(c),
        Err(e @ (Error::Service(_) | Error::Output { .. })) => return Err(e),
        Err(_) if recorded.is_some() => None,
        Err(e) => return Err(e),
    };
    if let Some(rec) = &recorded {
        let now = counted.as_ref().and_then(|c| c.digest.clone());
        let same = rec.digest.is_some() && rec.digest == now;
        if !same {
            let was = rec.kind.as_deref().unwrap_or("evidence");
            let what = match (&rec.digest, &now) {
                (None, _) => format!(
                    "{label}: its promotion recorded no evidence digest (an older carbon-gate), so its run's evidence cannot be matched to what was counted"
                ),
                (Some(then), Some(now)) => format!(
                    "{label}: its run's evidence is not what its promotion counted ({was} {then}, now {now}): an artifact or metric was added or changed since"
                ),
                (Some(then), None) => format!(
                    "{label}: its run's evidence cannot be read any more (its promotion counted {was} {then})"
                ),
            };
            if rec.digest.is_some()
                && policy.changed_baseline == crate::policy::model::ChangedBaselineRule::Refuse
            {
                return Err(Error::Usage(format!(
                    "{what}; the policy says `changed-baseline: refuse`, so nothing is promoted against it: restore the run's evidence, or promote the baseline again"
                )));
            }
            let message = format!(
                "{what}; judged against the figures it recorded ({} kg CO2e, {} kWh)",
                number(rec.co2e),
                number(rec.energy)
            );
            let code = if rec.digest.is_some() {
                codes::BASELINE_EVIDENCE_CHANGED
            } else {
                codes::REGISTRY_BASELINE_TAGS
            };
            warnings.push(Warning::general(code, message));
            return Ok(from_tags(rec));
        }
    }
    let Some(counted) = counted else {
        return Ok(None);
    };
    inputs.extend(read_inputs);
    warnings.extend(read_warnings);
    let mut metrics = quality_metrics(run.as_ref());
    metrics.extend(counted.entry.metrics.clone());
    Ok(Some(BaselineInput::Logs(Box::new(Subject {
        entry: counted.entry,
        metrics,
        kind: None,
    }))))
}

/// `carbon-gate record`: total a run's evidence and log it on the run as metrics and tags.
pub fn record(args: &RecordArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Outcome, Error> {
    let client = client(&args.registry, env)?;
    runtime()?.block_on(record_with(args, &client))
}

async fn record_with(args: &RecordArgs, client: &Mlflow) -> Result<Outcome, Error> {
    let id = &args.run_id;
    let run = client.run(id).await.map_err(|e| match e {
        mlflow::RegistryError::NotFound(m) => {
            Error::Usage(format!("run {id} not found on the tracking server: {m}"))
        }
        other => other.into(),
    })?;
    let (paths, origin) = if args.input.logs.is_empty() {
        // Only logs: recording from the run's own carbon_gate.* metrics would copy them.
        match run_evidence(client, &run, &args.registry).await? {
            Evidence::Artifacts { paths, .. } => (paths, "the run's artifacts"),
            _ => {
                return Err(Error::Usage(format!(
                    "run {id} has no emissions log among its artifacts (looked for {}): pass the logs on the command line",
                    args.registry.artifact_globs.join(", ")
                )));
            }
        }
    } else {
        (args.input.logs.clone(), "the command line")
    };
    let ingest::Ingested {
        records,
        warnings,
        files,
    } = ingest::ingest(
        &paths,
        &ingest::Options {
            format: args.input.input_format,
            hf_units: args.input.hf_units.into(),
        },
    )?;
    crate::record::check_plausible(&records)?;
    let reconciled = ledger::reconcile(records)?;
    let counted: Vec<usize> = (0..reconciled.records.len()).collect();
    let totals = ledger::totals(&reconciled, counted);
    let counted_records: Vec<&RunRecord> = reconciled
        .records
        .iter()
        .zip(&reconciled.statuses)
        .filter(|(_, s)| **s == ledger::Status::Counted)
        .map(|(r, _)| r)
        .collect();
    let method = counted_records
        .iter()
        .map(|r| r.method)
        .find(|m| *m != Method::Measured)
        .unwrap_or(Method::Measured);
    let method_name = serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut metrics = vec![
        (format!("{PREFIX}co2e_kg"), totals.emissions.value()),
        (format!("{PREFIX}energy_kwh"), totals.energy.value()),
        (
            format!("{PREFIX}operational_co2e_kg"),
            totals.operational.value(),
        ),
        (format!("{PREFIX}embodied_co2e_kg"), totals.embodied.value()),
        (format!("{PREFIX}duration_s"), totals.duration.value()),
    ];
    if let Some(m) = totals.market {
        metrics.push((format!("{PREFIX}market_co2e_kg"), m.value()));
    }
    let sources: Vec<String> = files
        .iter()
        .map(|f| {
            f.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let tags = vec![
        Tag {
            key: format!("{PREFIX}method"),
            value: method_name,
        },
        Tag {
            key: format!("{PREFIX}runs"),
            value: totals.runs.to_string(),
        },
        Tag {
            key: format!("{PREFIX}sources"),
            value: cut(sources.join(", ")),
        },
        Tag {
            key: format!("{PREFIX}tool_version"),
            value: env!("CARGO_PKG_VERSION").to_owned(),
        },
    ];
    let mut stderr: Vec<String> = warnings.iter().map(|w| format!("warning: {w}")).collect();
    stderr.extend(reconciled.warnings.iter().map(|w| format!("warning: {w}")));
    let mut out = String::new();
    for (k, v) in &metrics {
        out.push_str(&format!("{k} = {}\n", number(*v)));
    }
    for t in &tags {
        out.push_str(&format!("{} = {}\n", t.key, t.value));
    }
    if args.registry.dry_run {
        stderr.push(format!(
            "carbon-gate: dry run: would log {} metrics and {} tags on run {id} (from {origin})",
            metrics.len(),
            tags.len()
        ));
    } else {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        client
            .log_batch(id, &metrics, &tags, i64::try_from(now_ms).unwrap_or(0))
            .await?;
        stderr.push(format!(
            "carbon-gate: logged {} metrics and {} tags on run {id} (from {origin}: {} files, {} runs)",
            metrics.len(),
            tags.len(),
            files.len(),
            totals.runs
        ));
    }
    Ok(Outcome {
        stdout: out.into_bytes(),
        stderr,
        exit: Exit::Pass,
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
