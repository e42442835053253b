//! The project configuration `carbon-gate.yaml`: the candidates a check evaluates, each with its
//! logs, metrics, phase, baseline and lighter alternatives. Strict (unknown keys are errors),
//! versioned (`version: 1`), with a JSON Schema (`carbon-gate schema config`).
//!
//! Paths are relative to the file's directory and may be globs (`runs/**/emissions.csv`).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::{Error, Location, Problem};
use crate::record::Phase;
use crate::yaml::{self, Spans};

/// `carbon-gate.yaml`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "carbon-gate project configuration")]
pub struct ConfigFile {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Policy files or directories (relative to this file); `--policy` overrides.
    #[serde(default)]
    pub policy: Vec<String>,
    /// The models this change proposes, each compared with its baseline and alternatives.
    pub candidates: Vec<RawCandidate>,
}

/// One candidate model version.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCandidate {
    /// Model name.
    pub model: String,
    /// Version (semver).
    pub version: String,
    /// Emissions logs: files, directories or globs.
    pub logs: Vec<String>,
    /// Metrics file (`{"accuracy": 0.912, "f1": 0.88}`, JSON or YAML).
    pub metrics: Option<String>,
    /// Phase of runs whose logs do not say.
    pub phase: Option<Phase>,
    /// The model version this one replaces.
    pub baseline: Option<RawBaseline>,
    /// Lighter alternatives shown beside it (distilled, quantized, pruned…).
    #[serde(default)]
    pub alternatives: Vec<RawAlternative>,
}

/// A baseline: its logs and metrics, or a `check --format json` report from the base branch.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBaseline {
    /// Model name (default: the candidate's).
    pub model: Option<String>,
    /// Version (semver).
    pub version: Option<String>,
    /// Emissions logs of the baseline.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Metrics file of the baseline.
    pub metrics: Option<String>,
    /// A carbon-gate `check --format json` report (e.g. from the base branch) holding the model.
    pub report: Option<String>,
}

/// A lighter alternative.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAlternative {
    /// Model name.
    pub model: String,
    /// Version (semver).
    pub version: String,
    /// What it is: distilled, quantized, pruned, smaller…
    pub kind: Option<String>,
    /// Emissions logs.
    pub logs: Vec<String>,
    /// Metrics file.
    pub metrics: Option<String>,
}

/// Where a set of logs comes from, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Model name.
    pub model: String,
    /// Version.
    pub version: Option<semver::Version>,
    /// Log paths (globs expanded).
    pub logs: Vec<PathBuf>,
    /// Metrics file.
    pub metrics: Option<PathBuf>,
    /// Phase.
    pub phase: Option<Phase>,
    /// Kind, for alternatives.
    pub kind: Option<String>,
}

/// A resolved baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// Logs to read.
    Logs(Source),
    /// A report to read the model's totals from.
    Report {
        /// The report file.
        path: PathBuf,
        /// The model to find in it.
        model: String,
        /// The version to find, if given.
        version: Option<semver::Version>,
    },
}

/// A resolved candidate group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The candidate.
    pub candidate: Source,
    /// Its baseline.
    pub baseline: Option<Baseline>,
    /// Alternatives.
    pub alternatives: Vec<Source>,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// Policy paths.
    pub policy: Vec<PathBuf>,
    /// Candidate groups.
    pub groups: Vec<Group>,
}

/// The JSON Schema of `carbon-gate.yaml`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

struct Resolver<'a> {
    file: &'a Path,
    dir: PathBuf,
    spans: Spans,
    problems: Vec<Problem>,
}

impl Resolver<'_> {
    fn locate(&self, path: &str) -> Location {
        self.spans.locate(self.file, path)
    }

    fn version(&mut self, text: &str, at: &str) -> Option<semver::Version> {
        match semver::Version::parse(text.trim().trim_start_matches('v')) {
            Ok(v) => Some(v),
            Err(err) => {
                self.problems.push(Problem::new(
                    self.locate(at),
                    format!("`{text}` is not a semver version ({err}); write e.g. 2.1.0"),
                ));
                None
            }
        }
    }

    fn path(&mut self, text: &str, at: &str) -> Option<PathBuf> {
        let p = self.dir.join(text);
        if p.exists() {
            Some(p)
        } else {
            self.problems.push(Problem::new(
                self.locate(at),
                format!(
                    "`{text}` does not exist (relative to {})",
                    if self.dir.as_os_str().is_empty() {
                        ".".to_owned()
                    } else {
                        self.dir.display().to_string()
                    }
                ),
            ));
            None
        }
    }

    /// Expand paths and globs; a pattern that matches nothing is a problem.
    fn logs(&mut self, patterns: &[String], at: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if patterns.is_empty() {
            self.problems.push(Problem::new(
                self.locate(at),
                "`logs` is empty: list the emissions logs (files, directories or globs)",
            ));
        }
        for (i, pattern) in patterns.iter().enumerate() {
            let full = self.dir.join(pattern);
            let text = full.to_string_lossy().into_owned();
            let here = format!("{at}[{i}]");
            if !pattern.contains(['*', '?', '[']) {
                if let Some(p) = self.path(pattern, &here) {
                    out.push(p);
                }
                continue;
            }
            match glob::glob(&text) {
                Ok(paths) => {
                    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
                    found.sort();
                    if found.is_empty() {
                        self.problems.push(Problem::new(
                            self.locate(&here),
                            format!("`{pattern}` matches no file"),
                        ));
                    }
                    out.extend(found);
                }
                Err(err) => self.problems.push(Problem::new(
                    self.locate(&here),
                    format!("`{pattern}` is not a valid glob: {err}"),
                )),
            }
        }
        out
    }
}

/// The text of `carbon-gate.yaml` (bounded; a link or a file that is not regular is refused as
/// [`crate::bounded::read_named_text`] refuses it).
fn read_text(file: &Path) -> Result<String, Error> {
    crate::bounded::read_named_text(file, crate::bounded::MAX_SMALL_DOCUMENT).map_err(|err| {
        Error::input(Problem::new(
            Location::file(file),
            format!("cannot read configuration: {err}"),
        ))
    })
}

/// Read and resolve `carbon-gate.yaml`.
pub fn load(file: &Path) -> Result<Config, Error> {
    parse(file, &read_text(file)?)
}

/// Read `carbon-gate.yaml` as strictly as [`load`], but resolve only its `policy` paths: what
/// `promote` uses of it (its evidence comes from the registry, so the candidates' logs need not
/// be in the checkout).
pub fn load_policy(file: &Path) -> Result<Vec<PathBuf>, Error> {
    let text = read_text(file)?;
    let (raw, mut r) = start(file, &text)?;
    let policy = policy_paths(&raw, &mut r);
    if r.problems.is_empty() {
        Ok(policy)
    } else {
        Err(Error::Config(r.problems))
    }
}

/// The file parsed strictly, and a resolver with the version already checked.
fn start<'a>(file: &'a Path, text: &str) -> Result<(ConfigFile, Resolver<'a>), Error> {
    let (raw, spans): (ConfigFile, Spans) =
        yaml::load(file, text).map_err(|p| Error::Config(vec![*p]))?;
    // Paths are relative to the file's directory; a file in the current directory leaves them
    // as written.
    let dir = file.parent().map(Path::to_owned).unwrap_or_default();
    let mut r = Resolver {
        file,
        dir,
        spans,
        problems: Vec::new(),
    };
    if raw.version != 1 {
        r.problems.push(
            Problem::new(
                r.locate("version"),
                format!(
                    "unsupported configuration version {}: this carbon-gate reads version 1",
                    raw.version
                ),
            )
            .with_help("set `version: 1`"),
        );
    }
    Ok((raw, r))
}

/// The `policy` paths, resolved against the file's directory.
fn policy_paths(raw: &ConfigFile, r: &mut Resolver<'_>) -> Vec<PathBuf> {
    raw.policy
        .iter()
        .enumerate()
        .filter_map(|(i, p)| r.path(p, &format!("policy[{i}]")))
        .collect()
}

/// Resolve `carbon-gate.yaml` from its text (read from the working tree, or at a git ref for
/// `--policy-ref`); paths are relative to `file`'s directory.
pub fn parse(file: &Path, text: &str) -> Result<Config, Error> {
    let (raw, mut r) = start(file, text)?;
    let policy = policy_paths(&raw, &mut r);
    let mut groups = Vec::new();
    for (i, c) in raw.candidates.iter().enumerate() {
        let at = format!("candidates[{i}]");
        let version = r.version(&c.version, &format!("{at}.version"));
        let candidate = Source {
            model: c.model.clone(),
            version,
            logs: r.logs(&c.logs, &format!("{at}.logs")),
            metrics: c
                .metrics
                .as_ref()
                .and_then(|m| r.path(m, &format!("{at}.metrics"))),
            phase: c.phase,
            kind: None,
        };
        let baseline = match &c.baseline {
            None => None,
            Some(b) => {
                let bat = format!("{at}.baseline");
                let model = b.model.clone().unwrap_or_else(|| c.model.clone());
                let version = b
                    .version
                    .as_ref()
                    .and_then(|v| r.version(v, &format!("{bat}.version")));
                match (&b.report, b.logs.is_empty()) {
                    (Some(report), true) => {
                        r.path(report, &format!("{bat}.report"))
                            .map(|path| Baseline::Report {
                                path,
                                model,
                                version,
                            })
                    }
                    (None, false) => Some(Baseline::Logs(Source {
                        model,
                        version,
                        logs: r.logs(&b.logs, &format!("{bat}.logs")),
                        metrics: b
                            .metrics
                            .as_ref()
                            .and_then(|m| r.path(m, &format!("{bat}.metrics"))),
                        phase: c.phase,
                        kind: None,
                    })),
                    _ => {
                        r.problems.push(Problem::new(
                            r.locate(&bat),
                            "a baseline needs either `logs` (with `version`) or `report`, not both",
                        ));
                        None
                    }
                }
            }
        };
        let alternatives = c
            .alternatives
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let aat = format!("{at}.alternatives[{k}]");
                Source {
                    model: a.model.clone(),
                    version: r.version(&a.version, &format!("{aat}.version")),
                    logs: r.logs(&a.logs, &format!("{aat}.logs")),
                    metrics: a
                        .metrics
                        .as_ref()
                        .and_then(|m| r.path(m, &format!("{aat}.metrics"))),
                    phase: c.phase,
                    kind: a.kind.clone(),
                }
            })
            .collect();
        groups.push(Group {
            candidate,
            baseline,
            alternatives,
        });
    }
    if raw.candidates.is_empty() {
        r.problems.push(Problem::new(
            r.locate("candidates"),
            "`candidates` is empty: list at least one model version to check",
        ));
    }
    if r.problems.is_empty() {
        Ok(Config { policy, groups })
    } else {
        Err(Error::Config(r.problems))
    }
}
