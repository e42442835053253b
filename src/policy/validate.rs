//! Turn raw policy files into a checked [`Policy`], reporting every problem at once.
//!
//! Deserialization stops at the first syntax or shape error in a file (that is serde's nature);
//! after that, validation walks the whole file and reports *all* remaining problems — bad units,
//! bad version ranges, bad globs, a warn limit above its fail limit — each with file:line:col.
//! It also lints for budgets that can never apply, which `policy validate` shows as warnings.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use semver::{Comparator, Op, Version, VersionReq};

use super::model::{
    BlockOn, DecideOn, EmbodiedRule, Mode, PolicyFile, RawBudget, RawPeriod, RawPeriodThresholds,
    RawQuantity, RawReference, RawThresholds, RawTrajectory,
};
use crate::assessment::ModelReport;
use crate::codes;
use crate::diagnostic::Warning;
use crate::embodied::Overrides;
use crate::error::{Error, Location, Problem};
use crate::ingest::bounded;
use crate::periods::Every;
use crate::units::{Dimension, Energy, Intensity, Mass, Quantity, parse_quantity};
use crate::yaml::{self, Spans};

pub use super::pattern::ModelPattern;

/// A checked warn/fail pair. At least one is set; `warn <= fail` when both are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds<T> {
    /// Exceeding this warns.
    pub warn: Option<T>,
    /// Exceeding this fails.
    pub fail: Option<T>,
    /// `report` never blocks.
    pub mode: Mode,
}

/// Checked limits of a budget. At least one is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// CO2e limits.
    pub co2e: Option<Thresholds<Mass>>,
    /// Energy limits.
    pub energy: Option<Thresholds<Energy>>,
    /// Grid-intensity limits on each run.
    pub intensity: Option<Thresholds<Intensity>>,
}

/// A checked budget.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Optional display name.
    pub name: Option<String>,
    /// Models covered.
    pub model: ModelPattern,
    /// Versions covered (`None`: all, including an unknown version).
    pub versions: Option<VersionReq>,
    /// The requirement as written.
    pub versions_text: Option<String>,
    /// The limits.
    pub limits: Limits,
    /// Where the budget is written (its `model` key).
    pub origin: Location,
    /// Where each limit is written, for findings: co2e.warn, co2e.fail, energy.warn, energy.fail.
    pub limit_places: LimitPlaces,
    /// Whether embodied carbon is counted.
    pub embodied: EmbodiedRule,
    /// Central figure or upper bound.
    pub decide_on: DecideOn,
    /// Ratchet: which overruns block.
    pub block_on: BlockOn,
    /// Regression, efficiency and accuracy rules.
    pub rules: super::rules::Rules,
    /// Preferred cloud regions (`provider:region`, as in the reference), with where the list is.
    pub preferred_regions: Option<(Vec<String>, Location)>,
}

/// The places of a budget's limits in its file.
#[derive(Debug, Clone, Default)]
pub struct LimitPlaces {
    /// `limits.co2e.warn`
    pub co2e_warn: Option<Location>,
    /// `limits.co2e.fail`
    pub co2e_fail: Option<Location>,
    /// `limits.energy.warn`
    pub energy_warn: Option<Location>,
    /// `limits.energy.fail`
    pub energy_fail: Option<Location>,
    /// `limits.intensity.warn`
    pub intensity_warn: Option<Location>,
    /// `limits.intensity.fail` (or `max-intensity`)
    pub intensity_fail: Option<Location>,
}

impl Budget {
    /// Whether this budget applies to `model` at `version`. A budget with a version requirement
    /// never applies to a check without a version.
    pub fn applies_to(&self, model: &str, version: Option<&Version>) -> bool {
        self.model.matches(model)
            && match (&self.versions, version) {
                (None, _) => true,
                (Some(req), Some(v)) => version_matches(req, v),
                (Some(_), None) => false,
            }
    }
}

/// Whether `version` satisfies `req`. A prerelease (`2.1.0-rc.1`) is matched as semver's Cargo
/// rules match it, and also as the release it leads to (`2.1.0`): release candidates are what
/// gets promoted, so they answer to their release's budget (Cargo's rules alone match a
/// prerelease only against a comparator naming the same `major.minor.patch` with a prerelease,
/// so `>=2.0.0, <3.0.0` would not cover `2.1.0-rc.1` and no budget would apply).
pub fn version_matches(req: &VersionReq, version: &Version) -> bool {
    if req.matches(version) {
        return true;
    }
    if version.pre.is_empty() {
        return false;
    }
    let release = Version {
        pre: semver::Prerelease::EMPTY,
        build: semver::BuildMetadata::EMPTY,
        ..version.clone()
    };
    req.matches(&release)
}

/// A checked team: the models it owns and who owns them.
#[derive(Debug, Clone)]
pub struct Team {
    /// Its name (the key under `teams:`).
    pub name: String,
    /// The models it owns (names or globs).
    pub models: Vec<ModelPattern>,
    /// Who owns them, as written.
    pub owners: Vec<String>,
    /// Where it is defined (its key).
    pub location: Location,
}

/// Whether a budget over time with `models` and `teams` covers `model`: one of the patterns
/// matches it, or the team it belongs to ([`Policy::team_of`]) is one of the teams.
fn scope_covers(models: &[ModelPattern], teams: &[String], model: &str, policy: &Policy) -> bool {
    models.iter().any(|m| m.matches(model))
        || (!teams.is_empty()
            && policy
                .team_of(model)
                .is_some_and(|team| teams.iter().any(|t| t == team)))
}

/// A checked budget over time: limits on the totals of each calendar period.
#[derive(Debug, Clone)]
pub struct PeriodBudget {
    /// Its name (unique among the periods of all files).
    pub name: String,
    /// Model names or globs it covers.
    pub models: Vec<ModelPattern>,
    /// Teams whose models it covers, each defined under `teams:` in some policy file.
    pub teams: Vec<String>,
    /// Where each of `teams` is named.
    pub team_locations: Vec<Location>,
    /// The calendar period totals are taken over.
    pub every: Every,
    /// Whether a check that cannot judge it (no ledger) fails instead of warning.
    pub required: bool,
    /// `report` never blocks.
    pub mode: Mode,
    /// CO2e limits on a period's total.
    pub co2e: Option<Thresholds<Mass>>,
    /// Energy limits on a period's total.
    pub energy: Option<Thresholds<Energy>>,
    /// Where it is written (the entry under `periods:`).
    pub location: Location,
}

impl PeriodBudget {
    /// Whether the runs of `model` count towards it: one of `models` matches it, or the team
    /// it belongs to ([`Policy::team_of`]) is one of `teams`.
    pub fn covers(&self, model: &str, policy: &Policy) -> bool {
        scope_covers(&self.models, &self.teams, model, policy)
    }
}

/// A checked trajectory: a yearly CO2e limit contracting linearly from a base year.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// Model names or globs it covers.
    pub models: Vec<ModelPattern>,
    /// Teams whose models it covers, each defined under `teams:` in some policy file.
    pub teams: Vec<String>,
    /// Where each of `teams` is named.
    pub team_locations: Vec<Location>,
    /// The base year (1990–2100).
    pub base_year: i32,
    /// The CO2e of the base year: its limit.
    pub base: Mass,
    /// The yearly reduction, as a fraction of `base` (0.042 for 4.2%), 0–1.
    pub reduction_per_year: f64,
    /// Whether a check that cannot judge it (no ledger) fails instead of warning.
    pub required: bool,
    /// `report` never blocks.
    pub mode: Mode,
    /// Where it is written (the `trajectory` key).
    pub location: Location,
}

impl Trajectory {
    /// The CO2e limit of `year`: `base × (1 − reduction-per-year × (year − base-year))`, never
    /// below zero; a year before the base year has the base as its limit.
    pub fn limit(&self, year: i32) -> Mass {
        let years = f64::from(year.saturating_sub(self.base_year).max(0));
        self.base * (1.0 - self.reduction_per_year * years).max(0.0)
    }

    /// Whether the runs of `model` count towards it: one of `models` matches it, or the team
    /// it belongs to ([`Policy::team_of`]) is one of `teams`.
    pub fn covers(&self, model: &str, policy: &Policy) -> bool {
        scope_covers(&self.models, &self.teams, model, policy)
    }
}

/// A checked policy: budgets of every file, in file order then budget order.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The files read, in the order their budgets are tried.
    pub files: Vec<PathBuf>,
    /// The budgets.
    pub budgets: Vec<Budget>,
    /// Reference overrides (the `reference:` blocks).
    pub overrides: Overrides,
    /// Exceptions of every file.
    pub exceptions: Vec<super::rules::Exception>,
    /// Rows of one run that are not snapshots of it: refused or counted at their larger figures.
    pub conflicting_evidence: crate::ledger::ConflictRule,
    /// A model with budgets checked at a version none covers: fail or warn.
    pub uncovered_versions: super::model::UncoveredRule,
    /// Where the evidence may come from.
    pub evidence: super::model::EvidenceRule,
    /// What promotion does when the baseline's evidence changed since its promotion.
    pub changed_baseline: super::model::ChangedBaselineRule,
    /// Set by `promote`, not by a file: a model version evaluated without a semantic version
    /// fails closed (`no-version`) when its model has budgets that name versions, instead of
    /// being judged by the budget without `versions:` alone.
    pub version_required: bool,
    /// The budgets by model pattern, built on first use ([`Policy::matching`]).
    pub index: std::sync::OnceLock<ModelIndex>,
    /// The teams of every file, in name order ([`Policy::team_of`]).
    pub teams: Vec<Team>,
    /// The budgets over time of every file, in file order then as written.
    pub periods: Vec<PeriodBudget>,
    /// The trajectory (at most one in all files).
    pub trajectory: Option<Trajectory>,
}

impl Policy {
    /// How the ledger reconciles rows of one run under this policy.
    pub fn ledger_rules(&self) -> crate::ledger::Rules {
        crate::ledger::Rules {
            conflicts: self.conflicting_evidence,
        }
    }

    /// The budgets whose `model` pattern covers `model`, in the order they are tried: looked up
    /// by name and through one glob set, not tried one by one (a check of many models against a
    /// policy of many budgets stays near-linear).
    pub fn matching<'p>(&'p self, model: &str) -> impl Iterator<Item = &'p Budget> + 'p {
        let index = self
            .index
            .get_or_init(|| ModelIndex::new(self.budgets.iter().map(|b| &b.model)));
        let found = if index.len == self.budgets.len() {
            index.matching(model)
        } else {
            // Budgets added after the index was built: try them all.
            (0..self.budgets.len())
                .filter(|&i| self.budgets[i].model.matches(model))
                .collect()
        };
        found.into_iter().map(|i| &self.budgets[i])
    }

    /// The budget that applies to `model` at `version`: the first whose model and versions
    /// match ([`Budget::applies_to`]).
    pub fn budget_for(&self, model: &str, version: Option<&Version>) -> Option<&Budget> {
        self.matching(model).find(|b| b.applies_to(model, version))
    }

    /// The team `model` belongs to: the first team, in name order, one of whose `models`
    /// patterns matches it (a model matched by several teams belongs to the first only, so each
    /// run is counted for one team).
    pub fn team_of(&self, model: &str) -> Option<&str> {
        self.teams
            .iter()
            .find(|t| t.models.iter().any(|m| m.matches(model)))
            .map(|t| t.name.as_str())
    }

    /// The team named `name`.
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name == name)
    }

    /// Whether the policy has budgets over time (periods or a trajectory), which only a check
    /// with the ledger can judge.
    pub fn has_budgets_over_time(&self) -> bool {
        !self.periods.is_empty() || self.trajectory.is_some()
    }

    /// The budget that applied to a model version this policy evaluated (the one
    /// [`Policy::budget_for`] chose then, recorded in [`ModelReport::budget`]): found again by
    /// where it is written, without parsing the version again.
    pub fn budget_of(&self, report: &ModelReport) -> Option<&Budget> {
        let applied = report.budget.as_ref()?;
        self.matching(&report.model)
            .find(|b| b.origin == applied.source)
    }
}

/// Model patterns by name: exact names in a hash map, globs in one [`GlobSet`].
#[derive(Debug, Clone, Default)]
pub struct ModelIndex {
    /// How many patterns were indexed.
    len: usize,
    /// The positions of the exact names.
    exact: std::collections::HashMap<String, Vec<usize>>,
    /// The globs: their positions, and the set of them (`None`: the set could not be built, each
    /// glob is tried in turn).
    globs: Vec<(usize, GlobMatcher)>,
    set: Option<GlobSet>,
}

impl ModelIndex {
    /// Index `patterns` by position.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a ModelPattern>) -> ModelIndex {
        let mut index = ModelIndex::default();
        let mut builder = GlobSetBuilder::new();
        for (i, pattern) in patterns.into_iter().enumerate() {
            index.len += 1;
            match pattern {
                ModelPattern::Exact(name) => index.exact.entry(name.clone()).or_default().push(i),
                ModelPattern::Glob(text, matcher) => {
                    if let Ok(glob) = Glob::new(text) {
                        builder.add(glob);
                    }
                    index.globs.push((i, matcher.clone()));
                }
            }
        }
        // Every glob compiled once already (ModelPattern::parse), so the set holds them all, in
        // order; a set too big to build falls back to trying each glob.
        index.set = builder
            .build()
            .ok()
            .filter(|set| set.len() == index.globs.len());
        index
    }

    /// The positions of the patterns that cover `model`, in order.
    pub fn matching(&self, model: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self.exact.get(model).cloned().unwrap_or_default();
        match &self.set {
            Some(set) if !self.globs.is_empty() => {
                found.extend(set.matches(model).into_iter().map(|g| self.globs[g].0));
            }
            _ => found.extend(
                self.globs
                    .iter()
                    .filter(|(_, m)| m.is_match(model))
                    .map(|(i, _)| *i),
            ),
        }
        found.sort_unstable();
        found
    }
}

/// A checked policy and the lints found while checking it.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The policy.
    pub policy: Policy,
    /// Lints, e.g. unreachable budgets.
    pub warnings: Vec<Warning>,
}

/// The policy files a path names: the file itself, or the `*.yaml`/`*.yml` files of a directory
/// (not recursive), sorted by name.
fn policy_files(path: &Path) -> Result<Vec<PathBuf>, Box<Problem>> {
    let meta = std::fs::metadata(path).map_err(|err| {
        Box::new(
            Problem::new(Location::file(path), format!("cannot read policy: {err}"))
                .with_help("pass --policy with a policy file or a directory of *.yaml policies"),
        )
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path).map_err(|err| {
        Box::new(Problem::new(
            Location::file(path),
            format!("cannot list policy directory: {err}"),
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| {
            Box::new(Problem::new(
                Location::file(path),
                format!("cannot list policy directory: {err}"),
            ))
        })?;
        let p = entry.path();
        let is_yaml = p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if is_yaml && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Box::new(
            Problem::new(
                Location::file(path),
                "no policy files (*.yaml, *.yml) in this directory",
            )
            .with_help("add a policy file; see docs/policy.md in carbon-gate for the format"),
        ));
    }
    Ok(files)
}

/// Read, parse and validate the policies at `paths` (files or directories). Every problem of
/// every file is reported together; a policy with problems is never returned.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, Error> {
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for path in paths {
        let files = match policy_files(path) {
            Ok(files) => files,
            Err(problem) => {
                problems.push(*problem);
                continue;
            }
        };
        for file in files {
            match bounded::read_named_text(&file, MAX_POLICY_BYTES) {
                Ok(text) => texts.push((file, text)),
                Err(bounded::ReadError::TooBig(_)) => problems.push(too_big(&file)),
                Err(err) => problems.push(Problem::new(
                    Location::file(&file),
                    format!("cannot read policy: {err}"),
                )),
            }
        }
    }
    from_texts(texts, problems)
}

/// The most bytes a policy file may hold: 16 MiB (~100,000 budgets of a few limits each; real
/// policies are kilobytes). Larger files are refused before they are parsed.
pub const MAX_POLICY_BYTES: u64 = 16 << 20;

/// The most budgets all policy files together may hold: 100,000 (a budget per model and version
/// of a large model zoo is thousands).
pub const MAX_BUDGETS: usize = 100_000;

fn too_big(file: &Path) -> Problem {
    Problem::new(
        Location::file(file),
        format!(
            "policy file larger than the {} limit",
            bounded::bytes_text(MAX_POLICY_BYTES)
        ),
    )
    .with_help("a policy is budgets written by hand or generated for a model zoo: split it into several files in a policy directory, or use globs (`model: \"team-*\"`) instead of one budget per model")
}

/// Parse and validate policy files given as (name, text), in order: the policy files of a
/// directory, or the same files read from a git ref (`--policy-ref`). A file larger than
/// [`MAX_POLICY_BYTES`], or budgets beyond [`MAX_BUDGETS`], are refused.
pub fn from_texts(texts: Vec<(PathBuf, String)>, problems: Vec<Problem>) -> Result<Loaded, Error> {
    from_texts_capped(texts, problems, MAX_BUDGETS)
}

fn from_texts_capped(
    texts: Vec<(PathBuf, String)>,
    mut problems: Vec<Problem>,
    max_budgets: usize,
) -> Result<Loaded, Error> {
    let mut loaded = Loaded::default();
    let mut conflicts: Option<crate::ledger::ConflictRule> = None;
    let mut uncovered: Option<super::model::UncoveredRule> = None;
    for (file, text) in texts {
        if text.len() as u64 > MAX_POLICY_BYTES {
            problems.push(too_big(&file));
            continue;
        }
        {
            match parse_policy(&file, &text) {
                Ok((budgets, ..)) if loaded.policy.budgets.len() + budgets.len() > max_budgets => {
                    problems.push(
                        Problem::new(
                            Location::file(&file),
                            format!(
                                "too many budgets: {} in this file, {} with the files before it; the limit is {max_budgets}",
                                budgets.len(),
                                loaded.policy.budgets.len() + budgets.len()
                            ),
                        )
                        .with_help("use globs (`model: \"team-*\"`) instead of one budget per model"),
                    );
                    break;
                }
                Ok((budgets, o, exceptions, settings, over_time)) => {
                    merge_over_time(&mut loaded.policy, over_time, &file, &mut problems);
                    // Several files: what one sets stands unless another is stricter.
                    if let Some(rule) = settings.conflicting_evidence {
                        conflicts = Some(
                            conflicts
                                .map_or(rule, |c: crate::ledger::ConflictRule| c.strictest(rule)),
                        );
                    }
                    if let Some(rule) = settings.evidence {
                        loaded.policy.evidence = loaded.policy.evidence.strictest(rule);
                    }
                    if settings.changed_baseline == Some(super::model::ChangedBaselineRule::Refuse)
                    {
                        loaded.policy.changed_baseline = super::model::ChangedBaselineRule::Refuse;
                    }
                    if let Some(rule) = settings.uncovered_versions {
                        uncovered = Some(match uncovered {
                            Some(super::model::UncoveredRule::Fail) => {
                                super::model::UncoveredRule::Fail
                            }
                            _ => rule,
                        });
                    }
                    loaded.policy.files.push(file);
                    loaded.policy.budgets.extend(budgets);
                    loaded.policy.exceptions.extend(exceptions);
                    // Later files override earlier ones, key by key.
                    let current = &mut loaded.policy.overrides;
                    current.lifetime = o.lifetime.or(current.lifetime);
                    current.server = o.server.or(current.server);
                    current.accelerator = o.accelerator.or(current.accelerator);
                    current.devices_per_server =
                        o.devices_per_server.or(current.devices_per_server);
                    current.per_accelerator.extend(o.per_accelerator);
                    current.tdp.extend(o.tdp);
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
    }
    if problems.is_empty() {
        // Teams may be defined in any file: named teams are looked up once all are read.
        unknown_teams(&loaded.policy, &mut problems);
    }
    if !problems.is_empty() {
        return Err(Error::Policy(problems));
    }
    loaded.policy.conflicting_evidence = conflicts.unwrap_or_default();
    loaded.policy.uncovered_versions = uncovered.unwrap_or_default();
    loaded.warnings = lint(&loaded.policy);
    Ok(loaded)
}

/// Parse and validate one policy file's text.
pub fn parse_file(file: &Path, text: &str) -> Result<Vec<Budget>, Vec<Problem>> {
    parse_policy(file, text).map(|(budgets, ..)| budgets)
}

/// One policy file checked: its budgets, reference overrides, exceptions, settings and budgets
/// over time.
pub type ParsedPolicy = (
    Vec<Budget>,
    Overrides,
    Vec<super::rules::Exception>,
    Settings,
    OverTime,
);

/// The budgets over time of one policy file, checked on their own; that the teams they name
/// exist, that period names are unique and that there is one trajectory is checked once all
/// files are read.
#[derive(Debug, Clone, Default)]
pub struct OverTime {
    /// `teams:`, in name order.
    pub teams: Vec<Team>,
    /// `periods:`, as written.
    pub periods: Vec<PeriodBudget>,
    /// `trajectory:`.
    pub trajectory: Option<Trajectory>,
}

/// The file-wide settings of one policy file, as written (`None`: not set).
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// `conflicting-evidence`.
    pub conflicting_evidence: Option<crate::ledger::ConflictRule>,
    /// `uncovered-versions`.
    pub uncovered_versions: Option<super::model::UncoveredRule>,
    /// `evidence`.
    pub evidence: Option<super::model::EvidenceRule>,
    /// `changed-baseline`.
    pub changed_baseline: Option<super::model::ChangedBaselineRule>,
}

/// Parse and validate one policy file's text: its budgets and its reference overrides.
pub fn parse_policy(file: &Path, text: &str) -> Result<ParsedPolicy, Vec<Problem>> {
    if text.trim().is_empty() {
        return Err(vec![
            Problem::new(Location::file(file), "policy file is empty")
                .with_help("start it with `version: 1` and a `budgets:` list"),
        ]);
    }
    // Every unknown key is told, and the rest of the file still checked.
    let (raw, spans, mut problems): (PolicyFile, Spans, Vec<Problem>) =
        yaml::load_reporting_unknown(file, text, schema_value())?;
    if raw.version != 1 {
        problems.push(
            Problem::new(
                spans.locate(file, "version"),
                format!(
                    "unsupported policy version {}: this carbon-gate reads version 1",
                    raw.version
                ),
            )
            .with_help("set `version: 1`"),
        );
    }
    let mut budgets = Vec::new();
    for (i, raw_budget) in raw.budgets.iter().enumerate() {
        let at = format!("budgets[{i}]");
        match validate_budget(file, &spans, &at, raw_budget) {
            Ok(budget) => budgets.push(budget),
            Err(mut found) => problems.append(&mut found),
        }
    }
    let overrides = match &raw.reference {
        Some(r) => overrides(file, &spans, r, &mut problems),
        None => Overrides::default(),
    };
    let exceptions = super::rules::exceptions(file, &spans, &raw.exceptions, &mut problems);
    let settings = Settings {
        conflicting_evidence: raw.conflicting_evidence,
        uncovered_versions: raw.uncovered_versions,
        evidence: raw.evidence,
        changed_baseline: raw.changed_baseline,
    };
    let over_time = over_time(file, &spans, &raw, &mut problems);
    if problems.is_empty() {
        Ok((budgets, overrides, exceptions, settings, over_time))
    } else {
        Err(problems)
    }
}

/// One quantity of the `reference:` block, or a located problem.
fn reference_quantity(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &Option<RawQuantity>,
    dimension: Dimension,
    problems: &mut Vec<Problem>,
) -> Option<Quantity> {
    let RawQuantity(text) = raw.as_ref()?;
    match parse_quantity(text, dimension) {
        Ok(q) => Some(q),
        Err(err) => {
            problems.push(Problem::new(
                spans.locate(file, at),
                format!("`{at}`: {err}"),
            ));
            None
        }
    }
}

fn overrides(
    file: &Path,
    spans: &Spans,
    raw: &RawReference,
    problems: &mut Vec<Problem>,
) -> Overrides {
    let mass =
        |at: &str, q: &Option<RawQuantity>, problems: &mut Vec<Problem>| match reference_quantity(
            file,
            spans,
            at,
            q,
            Dimension::Mass,
            problems,
        ) {
            Some(Quantity::Mass(m)) => Some(m),
            _ => None,
        };
    let lifetime = match reference_quantity(
        file,
        spans,
        "reference.lifetime",
        &raw.lifetime,
        Dimension::Duration,
        problems,
    ) {
        Some(Quantity::Duration(d)) if d.value() > 0.0 => Some(d),
        Some(_) => {
            problems.push(Problem::new(
                spans.locate(file, "reference.lifetime"),
                "`reference.lifetime` must be more than zero",
            ));
            None
        }
        None => None,
    };
    let mut per_accelerator = std::collections::BTreeMap::new();
    let mut tdp = std::collections::BTreeMap::new();
    for (name, acc) in &raw.accelerators {
        let at = format!("reference.accelerators.{name}.embodied");
        if let Some(m) = mass(&at, &acc.embodied, problems) {
            per_accelerator.insert(crate::reference::squash(name), m);
        }
        let at = format!("reference.accelerators.{name}.tdp");
        if let Some(Quantity::Power(p)) =
            reference_quantity(file, spans, &at, &acc.tdp, Dimension::Power, problems)
        {
            tdp.insert(crate::reference::squash(name), p);
        }
    }
    if raw.devices_per_server == Some(0) {
        problems.push(Problem::new(
            spans.locate(file, "reference.devices-per-server"),
            "`devices-per-server` must be at least 1",
        ));
    }
    Overrides {
        lifetime,
        server: mass("reference.server-embodied", &raw.server_embodied, problems),
        accelerator: mass(
            "reference.accelerator-embodied",
            &raw.accelerator_embodied,
            problems,
        ),
        devices_per_server: raw.devices_per_server.filter(|n| *n > 0),
        per_accelerator,
        tdp,
    }
}

fn validate_budget(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &RawBudget,
) -> Result<Budget, Vec<Problem>> {
    let mut problems = Vec::new();
    let locate = |path: &str| spans.locate(file, &format!("{at}.{path}"));

    let model = match ModelPattern::parse(&raw.model) {
        Ok(p) => Some(p),
        Err(message) => {
            problems.push(Problem::new(locate("model"), message));
            None
        }
    };

    let versions = match &raw.versions {
        None => None,
        Some(text) => match VersionReq::parse(text) {
            Ok(req) => Some(req),
            Err(err) => {
                problems.push(
                    Problem::new(
                        locate("versions"),
                        format!("`versions: {text}` is not a semver requirement: {err}"),
                    )
                    .with_help("write e.g. \">=2.0.0, <3.0.0\" or \"^2.1\""),
                );
                None
            }
        },
    };

    let mut places = LimitPlaces::default();
    let co2e = raw.limits.co2e.as_ref().and_then(|t| {
        thresholds(
            t,
            Dimension::Mass,
            &format!("{at}.limits.co2e"),
            file,
            spans,
            &mut problems,
            (&mut places.co2e_warn, &mut places.co2e_fail),
            |q| match q {
                Quantity::Mass(m) => Some(m),
                _ => None,
            },
        )
    });
    let energy = raw.limits.energy.as_ref().and_then(|t| {
        thresholds(
            t,
            Dimension::Energy,
            &format!("{at}.limits.energy"),
            file,
            spans,
            &mut problems,
            (&mut places.energy_warn, &mut places.energy_fail),
            |q| match q {
                Quantity::Energy(e) => Some(e),
                _ => None,
            },
        )
    });
    let pick_intensity = |q| match q {
        Quantity::Intensity(i) => Some(i),
        _ => None,
    };
    let intensity = match (&raw.limits.intensity, &raw.max_intensity) {
        (Some(_), Some(_)) => {
            problems.push(
                Problem::new(
                    locate("max-intensity"),
                    "both `max-intensity` and `limits.intensity` are set",
                )
                .with_help("keep one: `max-intensity: \"200 g/kWh\"` is short for `limits: { intensity: { fail: \"200 g/kWh\" } }`"),
            );
            None
        }
        (Some(t), None) => thresholds(
            t,
            Dimension::Intensity,
            &format!("{at}.limits.intensity"),
            file,
            spans,
            &mut problems,
            (&mut places.intensity_warn, &mut places.intensity_fail),
            pick_intensity,
        ),
        (None, Some(q)) => {
            let place = spans.locate(file, &format!("{at}.max-intensity"));
            match parse_quantity(&q.0, Dimension::Intensity) {
                Ok(Quantity::Intensity(i)) => {
                    places.intensity_fail = Some(place);
                    Some(Thresholds {
                        warn: None,
                        fail: Some(i),
                        mode: Mode::Enforce,
                    })
                }
                Ok(_) => None,
                Err(err) => {
                    problems.push(Problem::new(place, format!("`max-intensity`: {err}")));
                    None
                }
            }
        }
        (None, None) => None,
    };
    let preferred = preferred_regions(file, spans, at, &raw.preferred_regions, &mut problems);
    let rules = super::rules::validate(file, spans, at, raw, &mut problems);
    if raw.limits.co2e.is_none()
        && raw.limits.energy.is_none()
        && raw.limits.regression.is_none()
        && raw.limits.efficiency.is_none()
        && intensity.is_none()
        && raw.accuracy.is_none()
    {
        problems.push(
            Problem::new(locate("limits"), "budget has no limits")
                .with_help("add `co2e: { fail: \"120 kg\" }` or `energy: { fail: \"400 kWh\" }`"),
        );
    }

    match (model, problems.is_empty()) {
        (Some(model), true) => Ok(Budget {
            name: raw.name.clone(),
            model,
            versions,
            versions_text: raw.versions.clone(),
            limits: Limits {
                co2e,
                energy,
                intensity,
            },
            preferred_regions: preferred,
            origin: locate("model"),
            limit_places: places,
            embodied: raw.embodied,
            decide_on: raw.decide_on,
            block_on: raw.block_on,
            rules,
        }),
        _ => Err(problems),
    }
}

/// Check `preferred-regions`: each a `provider:region` the reference knows.
fn preferred_regions(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &[String],
    problems: &mut Vec<Problem>,
) -> Option<(Vec<String>, Location)> {
    if raw.is_empty() {
        return None;
    }
    let reference = crate::reference::Reference::embedded().ok()?;
    let mut out = Vec::new();
    for (i, spec) in raw.iter().enumerate() {
        match reference.region(spec) {
            Ok(r) => out.push(format!("{}:{}", r.provider, r.region)),
            Err(close) => {
                let mut p = Problem::new(
                    spans.locate(file, &format!("{at}.preferred-regions[{i}]")),
                    format!(
                        "`{spec}` is not a cloud region carbon-gate knows (write provider:region, e.g. aws:eu-north-1)"
                    ),
                );
                if !close.is_empty() {
                    p = p.with_help(format!("did you mean {}?", close.join(", ")));
                }
                problems.push(p);
            }
        }
    }
    Some((out, spans.locate(file, &format!("{at}.preferred-regions"))))
}

/// The most characters a period or team name may have.
pub const MAX_NAME_CHARS: usize = 200;

/// The most characters a model name or glob of a team, period or trajectory may have.
pub const MAX_PATTERN_CHARS: usize = 1000;

/// The most periods all policy files together may hold.
pub const MAX_PERIODS: usize = 1000;

/// The most teams all policy files together may hold.
pub const MAX_TEAMS: usize = 10_000;

/// Whether `name` (a period's or a team's, at `at`) can be shown in reports: not empty, no
/// control or invisible character, at most [`MAX_NAME_CHARS`] characters.
fn check_name(name: &str, what: &str, at: Location, problems: &mut Vec<Problem>) -> bool {
    let n = name.chars().count();
    let problem = if name.trim().is_empty() {
        Some(format!("the {what} name is empty"))
    } else if n > MAX_NAME_CHARS {
        Some(format!(
            "the {what} name is {n} characters long; the limit is {MAX_NAME_CHARS}"
        ))
    } else if name.chars().any(crate::error::is_unsafe_char) {
        Some(format!(
            "the {what} name `{}` holds a control or invisible character",
            crate::error::escape_text(name)
        ))
    } else {
        None
    };
    match problem {
        Some(message) => {
            problems.push(Problem::new(at, message).with_help(format!(
                "give the {what} a short name of plain text, e.g. `nlp`"
            )));
            false
        }
        None => true,
    }
}

/// The model names or globs of a `models:` list at `at`.
fn model_patterns(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<ModelPattern> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, text) in raw.iter().enumerate() {
        let key = format!("{at}[{i}]");
        let place = spans.locate(file, &key);
        let n = text.chars().count();
        if n > MAX_PATTERN_CHARS {
            problems.push(
                Problem::new(
                    place,
                    format!(
                        "`models[{i}]` is {n} characters long; the limit is {MAX_PATTERN_CHARS}"
                    ),
                )
                .with_help("write a model name, or a short glob such as `text-gen*`"),
            );
            continue;
        }
        match ModelPattern::parse(text) {
            Ok(p) => out.push(p),
            Err(message) => problems.push(Problem::new(
                place,
                message.replacen("`model`", &format!("`models[{i}]`"), 1),
            )),
        }
    }
    out
}

/// The team names of a `teams:` list at `at`, with where each is written.
fn team_names(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &[String],
    problems: &mut Vec<Problem>,
) -> (Vec<String>, Vec<Location>) {
    let mut names = Vec::with_capacity(raw.len());
    let mut places = Vec::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let place = spans.locate(file, &format!("{at}[{i}]"));
        if check_name(name, "team", place.clone(), problems) {
            names.push(name.clone());
            places.push(place);
        }
    }
    (names, places)
}

/// Check `teams:`, `periods:` and `trajectory:` of one file.
fn over_time(
    file: &Path,
    spans: &Spans,
    raw: &PolicyFile,
    problems: &mut Vec<Problem>,
) -> OverTime {
    let mut out = OverTime::default();
    for (name, team) in &raw.teams {
        let at = format!("teams.{name}");
        let location = spans.locate(file, &at);
        if !check_name(name, "team", location.clone(), problems) {
            continue;
        }
        let models = model_patterns(file, spans, &format!("{at}.models"), &team.models, problems);
        if team.models.is_empty() {
            problems.push(
                Problem::new(location.clone(), format!("team `{name}` has no models"))
                    .with_help("add `models: [\"text-gen*\"]`: the model names or globs it owns"),
            );
        }
        out.teams.push(Team {
            name: name.clone(),
            models,
            owners: team.owners.clone(),
            location,
        });
    }
    for (i, period) in raw.periods.iter().enumerate() {
        if let Some(p) = period_budget(file, spans, &format!("periods[{i}]"), period, problems) {
            out.periods.push(p);
        }
    }
    if let Some(t) = &raw.trajectory {
        out.trajectory = trajectory(file, spans, t, problems);
    }
    out
}

/// Check one entry of `periods:`.
fn period_budget(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &RawPeriod,
    problems: &mut Vec<Problem>,
) -> Option<PeriodBudget> {
    let before = problems.len();
    // The entry is located at its name.
    let location = spans.locate(file, &format!("{at}.name"));
    let shown = if check_name(
        &raw.name,
        "period",
        spans.locate(file, &format!("{at}.name")),
        problems,
    ) {
        format!("period `{}`", raw.name)
    } else {
        format!("`{at}`")
    };
    let models = model_patterns(file, spans, &format!("{at}.models"), &raw.models, problems);
    let (teams, team_locations) =
        team_names(file, spans, &format!("{at}.teams"), &raw.teams, problems);
    if raw.models.is_empty() && raw.teams.is_empty() {
        problems.push(
            Problem::new(
                location.clone(),
                format!("{shown} covers no models: it has neither `models` nor `teams`"),
            )
            .with_help("add `models: [\"text-gen*\"]` (names or globs) or `teams: [nlp]`"),
        );
    }
    let limit = |t: &RawPeriodThresholds| RawThresholds {
        warn: t.warn.clone(),
        fail: t.fail.clone(),
        mode: raw.mode,
    };
    let mut places = LimitPlaces::default();
    let co2e = raw.limits.co2e.as_ref().and_then(|t| {
        thresholds(
            &limit(t),
            Dimension::Mass,
            &format!("{at}.limits.co2e"),
            file,
            spans,
            problems,
            (&mut places.co2e_warn, &mut places.co2e_fail),
            |q| match q {
                Quantity::Mass(m) => Some(m),
                _ => None,
            },
        )
    });
    let energy = raw.limits.energy.as_ref().and_then(|t| {
        thresholds(
            &limit(t),
            Dimension::Energy,
            &format!("{at}.limits.energy"),
            file,
            spans,
            problems,
            (&mut places.energy_warn, &mut places.energy_fail),
            |q| match q {
                Quantity::Energy(e) => Some(e),
                _ => None,
            },
        )
    });
    if raw.limits.co2e.is_none() && raw.limits.energy.is_none() {
        problems.push(
            Problem::new(location.clone(), format!("{shown} has no limits"))
                .with_help("add `limits: { co2e: { fail: \"10 t\" } }` or `limits: { energy: { fail: \"120 MWh\" } }`"),
        );
    }
    (problems.len() == before).then(|| PeriodBudget {
        name: raw.name.clone(),
        models,
        teams,
        team_locations,
        every: raw.every,
        required: raw.required,
        mode: raw.mode,
        co2e,
        energy,
        location,
    })
}

/// Check `trajectory:`.
fn trajectory(
    file: &Path,
    spans: &Spans,
    raw: &RawTrajectory,
    problems: &mut Vec<Problem>,
) -> Option<Trajectory> {
    let before = problems.len();
    let location = spans.locate(file, "trajectory");
    let models = model_patterns(file, spans, "trajectory.models", &raw.models, problems);
    let (teams, team_locations) = team_names(file, spans, "trajectory.teams", &raw.teams, problems);
    if raw.models.is_empty() && raw.teams.is_empty() {
        problems.push(
            Problem::new(
                location.clone(),
                "the trajectory covers no models: it has neither `models` nor `teams`",
            )
            .with_help("add `models: [\"*\"]` for every model, or `teams: [nlp]`"),
        );
    }
    let base_year = match i32::try_from(raw.base_year) {
        Ok(y) if (1990..=2100).contains(&y) => Some(y),
        _ => {
            problems.push(
                Problem::new(
                    spans.locate(file, "trajectory.base-year"),
                    format!("`base-year: {}` is outside 1990–2100", raw.base_year),
                )
                .with_help("write the year whose emissions `base` is, e.g. `base-year: 2025`"),
            );
            None
        }
    };
    let base = match parse_quantity(&raw.base.0, Dimension::Mass) {
        Ok(Quantity::Mass(m)) => Some(m),
        Ok(_) => None,
        Err(err) => {
            problems.push(Problem::new(
                spans.locate(file, "trajectory.base"),
                format!("`base`: {err}"),
            ));
            None
        }
    };
    let at = spans.locate(file, "trajectory.reduction-per-year");
    let reduction = match parse_quantity(&raw.reduction_per_year.0, Dimension::Percent) {
        Ok(Quantity::Percent(r)) if r.value() <= 1.0 => Some(r.value()),
        Ok(Quantity::Percent(r)) => {
            problems.push(
                Problem::new(at, format!("`reduction-per-year: {r}` is more than 100%"))
                    .with_help("write the yearly reduction as a share of `base`, e.g. \"4.2%\""),
            );
            None
        }
        Ok(_) => None,
        Err(err) => {
            problems.push(
                Problem::new(at, format!("`reduction-per-year`: {err}"))
                    .with_help("write the yearly reduction as a share of `base`, from 0% to 100%, e.g. \"4.2%\""),
            );
            None
        }
    };
    match (base_year, base, reduction) {
        (Some(base_year), Some(base), Some(reduction_per_year)) if problems.len() == before => {
            Some(Trajectory {
                models,
                teams,
                team_locations,
                base_year,
                base,
                reduction_per_year,
                required: raw.required,
                mode: raw.mode,
                location,
            })
        }
        _ => None,
    }
}

/// Add one file's budgets over time to `policy`: a team defined twice, a period name used
/// twice, a second trajectory, or too many periods or teams, are problems.
fn merge_over_time(
    policy: &mut Policy,
    over_time: OverTime,
    file: &Path,
    problems: &mut Vec<Problem>,
) {
    let (periods_before, teams_before) = (policy.periods.len(), policy.teams.len());
    for team in over_time.teams {
        // Kept in name order, so looked up by halves.
        let at = match policy
            .teams
            .binary_search_by(|t| t.name.as_str().cmp(&team.name))
        {
            Ok(i) => Err(&policy.teams[i]),
            Err(i) => Ok(i),
        };
        if let Err(first) = at {
            problems.push(
                Problem::new(
                    team.location.clone(),
                    format!(
                        "team `{}` is defined twice: first at {}",
                        team.name, first.location
                    ),
                )
                .with_help("define each team in one policy file"),
            );
            continue;
        }
        if let Ok(i) = at {
            policy.teams.insert(i, team);
        }
    }
    for period in over_time.periods {
        if let Some(first) = policy.periods.iter().find(|p| p.name == period.name) {
            problems.push(
                Problem::new(
                    period.location.clone(),
                    format!(
                        "period name `{}` is used twice: first at {}",
                        period.name, first.location
                    ),
                )
                .with_help(
                    "give each period its own name: reports and the ledger tell them apart by it",
                ),
            );
            continue;
        }
        policy.periods.push(period);
    }
    if let Some(t) = over_time.trajectory {
        match &policy.trajectory {
            Some(first) => problems.push(
                Problem::new(
                    t.location.clone(),
                    format!("a second `trajectory`: the first is at {}", first.location),
                )
                .with_help("keep one trajectory for the organisation, in one policy file"),
            ),
            None => policy.trajectory = Some(t),
        }
    }
    for (what, before, n, max) in [
        ("periods", periods_before, policy.periods.len(), MAX_PERIODS),
        ("teams", teams_before, policy.teams.len(), MAX_TEAMS),
    ] {
        // Told once, by the file that goes over.
        if n > max && before <= max {
            problems.push(
                Problem::new(
                    Location::file(file),
                    format!("too many {what}: {n} with the files before it; the limit is {max}"),
                )
                .with_help("use globs and teams to cover many models with one period"),
            );
        }
    }
}

/// A team named by a period or the trajectory that no file defines.
fn unknown_teams(policy: &Policy, problems: &mut Vec<Problem>) {
    let defined: std::collections::BTreeSet<&str> =
        policy.teams.iter().map(|t| t.name.as_str()).collect();
    let named = policy
        .periods
        .iter()
        .map(|p| (format!("period `{}`", p.name), &p.teams, &p.team_locations))
        .chain(
            policy
                .trajectory
                .iter()
                .map(|t| ("the trajectory".to_owned(), &t.teams, &t.team_locations)),
        );
    for (what, teams, places) in named {
        for (team, place) in teams.iter().zip(places) {
            if defined.contains(team.as_str()) {
                continue;
            }
            let close: Vec<String> = defined
                .iter()
                .filter(|d| strsim::levenshtein(d, team) <= 2)
                .map(|d| format!("`{d}`"))
                .collect();
            let help = if close.is_empty() {
                format!(
                    "define it under `teams:` (`teams: {{ {team}: {{ models: [\"…\"] }} }}`), or remove it"
                )
            } else {
                format!("did you mean {}?", close.join(", "))
            };
            problems.push(
                Problem::new(
                    place.clone(),
                    format!("{what} names team `{team}`, which no policy file defines"),
                )
                .with_help(help),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn thresholds<T: Copy + PartialOrd + std::fmt::Display>(
    raw: &RawThresholds,
    dimension: Dimension,
    at: &str,
    file: &Path,
    spans: &Spans,
    problems: &mut Vec<Problem>,
    places: (&mut Option<Location>, &mut Option<Location>),
    pick: impl Fn(Quantity) -> Option<T>,
) -> Option<Thresholds<T>> {
    let mut one = |q: &Option<RawQuantity>, key: &str| -> Result<Option<T>, ()> {
        let Some(RawQuantity(text)) = q else {
            return Ok(None);
        };
        let location = spans.locate(file, &format!("{at}.{key}"));
        match parse_quantity(text, dimension).map(&pick) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => Err(()),
            Err(err) => {
                problems.push(Problem::new(location, format!("`{key}`: {err}")));
                Err(())
            }
        }
    };
    let warn = one(&raw.warn, "warn");
    let fail = one(&raw.fail, "fail");
    let (Ok(warn), Ok(fail)) = (warn, fail) else {
        return None;
    };
    if warn.is_none() && fail.is_none() {
        problems.push(
            Problem::new(
                spans.locate(file, at),
                "limit has neither `warn` nor `fail`",
            )
            .with_help("add `fail: …` to block, or `warn: …` to report only"),
        );
        return None;
    }
    if let (Some(w), Some(f)) = (warn, fail)
        && w > f
    {
        problems.push(
            Problem::new(
                spans.locate(file, &format!("{at}.warn")),
                format!("warn limit {w} is above the fail limit {f}: the warning could never show"),
            )
            .with_help("lower `warn` or raise `fail`"),
        );
        return None;
    }
    *places.0 = warn.map(|_| spans.locate(file, &format!("{at}.warn")));
    *places.1 = fail.map(|_| spans.locate(file, &format!("{at}.fail")));
    Some(Thresholds {
        warn,
        fail,
        mode: raw.mode,
    })
}

/// Budgets that can never apply: shadowed by an earlier catch-all for the same models, or with a
/// version range no version satisfies; and exceptions that no budget covers, or that expired.
/// Near-linear in the number of budgets and exceptions: patterns are looked up by name and
/// through glob sets, not compared pairwise.
pub fn lint(policy: &Policy) -> Vec<Warning> {
    use std::collections::{HashMap, HashSet};
    let mut warnings = Vec::new();
    let today = time::OffsetDateTime::now_utc().date();
    let budgets = &policy.budgets;
    // An exception is covered by a budget of the same name or one whose glob matches it (an exact
    // name), or by a budget of the same glob or `*`, or by a budget whose name its glob matches.
    let budget_globs: HashSet<&str> = budgets
        .iter()
        .filter_map(|b| match &b.model {
            ModelPattern::Glob(text, _) => Some(text.as_str()),
            ModelPattern::Exact(_) => None,
        })
        .collect();
    let exception_globs = ModelIndex::new(policy.exceptions.iter().map(|e| &e.model));
    let mut covered_by_name = vec![false; policy.exceptions.len()];
    let mut names_seen = HashSet::new();
    for b in budgets {
        if let ModelPattern::Exact(name) = &b.model
            && names_seen.insert(name.as_str())
        {
            for i in exception_globs.matching(name) {
                covered_by_name[i] = true;
            }
        }
    }
    for (i, e) in policy.exceptions.iter().enumerate() {
        let covered = match &e.model {
            ModelPattern::Exact(name) => policy.matching(name).next().is_some(),
            ModelPattern::Glob(text, _) => {
                covered_by_name[i]
                    || budget_globs.contains(text.as_str())
                    || budget_globs.contains("*")
            }
        };
        if !covered {
            warnings.push(Warning::at(
                codes::EXCEPTION_UNUSED,
                e.origin.clone(),
                format!(
                    "exception for `{}` can never apply: no budget covers that model",
                    e.model.as_str()
                ),
            ));
        }
        if today > e.expires {
            warnings.push(Warning::at(
                codes::EXCEPTION_EXPIRED,
                e.origin.clone(),
                format!(
                    "exception for `{}` rule {} (approved by {}) expired on {}",
                    e.model.as_str(),
                    e.rule(),
                    e.approved_by,
                    e.expires
                ),
            ));
        }
    }
    // Shadowing ([`shadows`]): the earliest budget of each (pattern, versions) seen so far; a
    // budget is shadowed by an earlier one of the same pattern (or a glob that matches its name,
    // or `*` for a glob) whose versions are the same or unrestricted.
    let mut first: HashMap<(bool, &str, Option<&VersionReq>), usize> = HashMap::new();
    let mut glob_texts: Vec<&ModelPattern> = Vec::new();
    let mut glob_seen = HashSet::new();
    for b in budgets {
        if let ModelPattern::Glob(text, _) = &b.model
            && glob_seen.insert(text.as_str())
        {
            glob_texts.push(&b.model);
        }
    }
    let globs = ModelIndex::new(glob_texts.iter().copied());
    for (j, later) in budgets.iter().enumerate() {
        let (is_glob, text) = match &later.model {
            ModelPattern::Exact(name) => (false, name.as_str()),
            ModelPattern::Glob(text, _) => (true, text.as_str()),
        };
        let earliest = |glob: bool, text: &str| -> Option<usize> {
            let any = first.get(&(glob, text, None)).copied();
            let same = later
                .versions
                .as_ref()
                .and_then(|v| first.get(&(glob, text, Some(v))).copied());
            any.into_iter().chain(same).min()
        };
        let unreachable = later.versions.as_ref().is_some_and(unsatisfiable);
        let shadowed = if unreachable {
            None
        } else if is_glob {
            earliest(true, text)
                .into_iter()
                .chain(earliest(true, "*"))
                .min()
        } else {
            globs
                .matching(text)
                .into_iter()
                .filter_map(|g| earliest(true, glob_texts[g].as_str()))
                .chain(earliest(false, text))
                .min()
        };
        first
            .entry((is_glob, text, later.versions.as_ref()))
            .or_insert(j);
        if unreachable {
            warnings.push(Warning::at(
                codes::UNREACHABLE_BUDGET,
                later.origin.clone(),
                format!(
                    "budget for `{}` can never apply: no version satisfies `{}`",
                    later.model.as_str(),
                    later.versions_text.as_deref().unwrap_or_default()
                ),
            ));
        } else if let Some(earlier) = shadowed {
            debug_assert!(shadows(&budgets[earlier], later));
            warnings.push(Warning::at(
                codes::UNREACHABLE_BUDGET,
                later.origin.clone(),
                format!(
                    "budget for `{}` can never apply: the budget at {} matches first",
                    later.model.as_str(),
                    budgets[earlier].origin
                ),
            ));
        }
    }
    warnings.extend(uncovered_lint(policy));
    warnings
}

/// Models whose budgets all name versions: a check of any other version (or of none) has no
/// budget, which fails closed (`uncovered-version`) unless the policy says `warn`. One warning
/// per model pattern, at its first budget.
fn uncovered_lint(policy: &Policy) -> Vec<Warning> {
    let catch_all: Vec<&ModelPattern> = policy
        .budgets
        .iter()
        .filter(|b| b.versions.is_none())
        .map(|b| &b.model)
        .collect();
    let exact: std::collections::HashSet<&str> = catch_all
        .iter()
        .filter_map(|m| match m {
            ModelPattern::Exact(n) => Some(n.as_str()),
            ModelPattern::Glob(..) => None,
        })
        .collect();
    let globs: Vec<&ModelPattern> = catch_all
        .iter()
        .copied()
        .filter(|m| matches!(m, ModelPattern::Glob(..)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut ranges: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for b in &policy.budgets {
        if let Some(v) = &b.versions_text {
            ranges.entry(b.model.as_str()).or_default().push(v);
        }
    }
    let mut warnings = Vec::new();
    for b in policy.budgets.iter().filter(|b| b.versions.is_some()) {
        let name = b.model.as_str();
        if !seen.insert(name) {
            continue;
        }
        let covered = exact.contains(name)
            || globs.iter().any(|g| match (g, &b.model) {
                (ModelPattern::Glob(_, m), ModelPattern::Exact(n)) => m.is_match(n),
                (ModelPattern::Glob(a, _), ModelPattern::Glob(c, _)) => a == "*" || a == c,
                _ => false,
            });
        if covered {
            continue;
        }
        let listed: Vec<String> = ranges
            .get(name)
            .map(|r| r.iter().map(|v| format!("`{v}`")).collect())
            .unwrap_or_default();
        warnings.push(Warning::at(
            codes::UNCOVERED_VERSION,
            b.origin.clone(),
            format!(
                "budgets for `{name}` cover only versions {}: a check of another version, or without --model-version, has no budget and {} (`uncovered-version`); add a budget without `versions:` to cover the rest",
                listed.join(", "),
                match policy.uncovered_versions {
                    super::model::UncoveredRule::Fail => "fails",
                    super::model::UncoveredRule::Warn => "warns",
                }
            ),
        ));
    }
    warnings
}

/// Whether `earlier` covers every model and version `later` covers (the definition [`lint`]
/// computes by lookup).
fn shadows(earlier: &Budget, later: &Budget) -> bool {
    let covers_models = match (&earlier.model, &later.model) {
        (ModelPattern::Exact(a), ModelPattern::Exact(b)) => a == b,
        (ModelPattern::Glob(_, m), ModelPattern::Exact(b)) => m.is_match(b),
        (ModelPattern::Glob(a, _), ModelPattern::Glob(b, _)) => a == b || a == "*",
        (ModelPattern::Exact(_), ModelPattern::Glob(..)) => false,
    };
    let covers_versions = match (&earlier.versions, &later.versions) {
        (None, _) => true,
        (Some(a), Some(b)) => a == b,
        (Some(_), None) => false,
    };
    covers_models && covers_versions
}

/// True when the plain comparators (`=`, `>`, `>=`, `<`, `<=` with full versions) of `req`
/// contradict each other. Other operators are assumed satisfiable.
fn unsatisfiable(req: &VersionReq) -> bool {
    let mut lower: Option<(Version, bool)> = None; // (bound, inclusive)
    let mut upper: Option<(Version, bool)> = None;
    for c in &req.comparators {
        let Some(v) = full_version(c) else { continue };
        let (lo, hi) = match c.op {
            Op::Exact => (Some((v.clone(), true)), Some((v, true))),
            Op::Greater => (Some((v, false)), None),
            Op::GreaterEq => (Some((v, true)), None),
            Op::Less => (None, Some((v, false))),
            Op::LessEq => (None, Some((v, true))),
            _ => (None, None),
        };
        if let Some(lo) = lo
            && lower.as_ref().is_none_or(|cur| stricter_lower(&lo, cur))
        {
            lower = Some(lo);
        }
        if let Some(hi) = hi
            && upper.as_ref().is_none_or(|cur| stricter_upper(&hi, cur))
        {
            upper = Some(hi);
        }
    }
    match (lower, upper) {
        (Some((lo, lo_inc)), Some((hi, hi_inc))) => lo > hi || (lo == hi && !(lo_inc && hi_inc)),
        _ => false,
    }
}

fn stricter_lower(new: &(Version, bool), cur: &(Version, bool)) -> bool {
    new.0 > cur.0 || (new.0 == cur.0 && !new.1)
}

fn stricter_upper(new: &(Version, bool), cur: &(Version, bool)) -> bool {
    new.0 < cur.0 || (new.0 == cur.0 && !new.1)
}

fn full_version(c: &Comparator) -> Option<Version> {
    Some(Version {
        major: c.major,
        minor: c.minor?,
        patch: c.patch?,
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    })
}

/// The policy files' JSON Schema as a value, built once (to tell every unknown key).
fn schema_value() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(&schema_json()).unwrap_or_default())
}

/// The JSON Schema of policy files, pretty-printed, as committed in `policies/`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Budget>, Vec<String>> {
        parse_file(Path::new("p.yaml"), text)
            .map_err(|ps| ps.into_iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn accepts_the_minimum_shape() {
        let budgets = parse(
            "version: 1\nbudgets:\n  - model: text-gen\n    versions: \">=2.0.0, <3.0.0\"\n    limits:\n      co2e:   { warn: \"80 kg\", fail: \"120 kg\" }\n      energy: { fail: \"400 kWh\" }\n",
        )
        .unwrap();
        assert_eq!(budgets.len(), 1);
        let b = &budgets[0];
        assert_eq!(
            b.limits.co2e,
            Some(Thresholds {
                warn: Some(Mass::kg(80.0)),
                fail: Some(Mass::kg(120.0)),
                mode: Mode::Enforce,
            })
        );
        assert_eq!(
            b.limits.energy,
            Some(Thresholds {
                warn: None,
                fail: Some(Energy::kwh(400.0)),
                mode: Mode::Enforce,
            })
        );
        assert!(b.applies_to("text-gen", Some(&Version::new(2, 1, 0))));
        assert!(!b.applies_to("text-gen", Some(&Version::new(3, 0, 0))));
        assert!(!b.applies_to("text-gen", None));
        assert_eq!(b.origin.to_string(), "p.yaml:3:12");
    }

    #[test]
    fn reports_every_problem_with_its_place() {
        let errors = parse(
            "version: 1\nbudgets:\n  - model: a\n    versions: \"not semver\"\n    limits:\n      co2e: { warn: 80, fail: \"120 kWh\" }\n  - model: b\n    limits:\n      energy: { warn: \"5 MWh\", fail: \"400 kWh\" }\n",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(
            errors[0].starts_with("p.yaml:4:15: `versions: not semver`"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1]
                .starts_with("p.yaml:6:21: `warn`: \"80\" has no unit: add one of mg, g, kg or t"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("p.yaml:6:31: `fail`: \"120 kWh\": unit \"kWh\""),
            "{}",
            errors[2]
        );
        assert!(
            errors[3].starts_with("p.yaml:9:23: warn limit 5 MWh is above the fail limit 400 kWh"),
            "{}",
            errors[3]
        );
    }

    #[test]
    fn unknown_keys_are_located_errors() {
        let errors = parse("version: 1\nbudgets:\n  - model: a\n    limits:\n      max_co2: 3\n")
            .unwrap_err();
        // Read without the unknown key, the budget has no limits: told too.
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].contains("budget has no limits"), "{errors:?}");
        assert!(
            errors[0].starts_with("p.yaml:5:7: budgets[0].limits: unknown field `max_co2`, expected one of `co2e`, `energy`, `regression`, `efficiency`"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn every_unknown_key_and_every_other_problem_is_told_at_once() {
        let text = "version: 1\nbudgets:\n  - model: a\n    limitz: {}\n    limits:\n      co2e: { fail: abc }\n  - model: b\n    colour: red\n    limits:\n      energy: { warn: 10 kWh, fail: 5 kWh }\nreference:\n  grid: {}\n";
        let errors = parse(text).unwrap_err();
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(
            has("p.yaml:4:5: budgets[0]: unknown field `limitz`"),
            "{errors:?}"
        );
        assert!(has("budgets[1]: unknown field `colour`"), "{errors:?}");
        assert!(has("reference: unknown field `grid`"), "{errors:?}");
        assert!(has("\"abc\" is not a quantity"), "{errors:?}");
        assert!(
            has("warn limit 10 kWh is above the fail limit 5 kWh"),
            "{errors:?}"
        );
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn an_unknown_key_under_a_free_key_is_told_escaped() {
        // The accelerator's name is written by anyone: its control character is escaped.
        let text = "version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: 1 kg } }\nreference:\n  accelerators:\n    \"X\\e]8;;\":\n      embodied: 1 kg\n      bogus: 1\n  colour: red\n";
        let errors = parse(text).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("reference.accelerators.X\\u{1b}]8;;: unknown field `bogus`")),
            "{errors:?}"
        );
        assert!(errors.iter().all(|e| !e.contains('\u{1b}')), "{errors:?}");
    }

    #[test]
    fn empty_limits_and_wrong_version_are_errors() {
        let errors = parse("version: 2\nbudgets:\n  - model: a\n    limits: {}\n").unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].contains("unsupported policy version 2"));
        assert!(errors[1].contains("budget has no limits"));
    }

    #[test]
    fn lints_unreachable_budgets() {
        let budgets = parse(
            "version: 1\nbudgets:\n  - model: \"text-*\"\n    limits: { co2e: { fail: \"1 kg\" } }\n  - model: text-gen\n    limits: { co2e: { fail: \"2 kg\" } }\n  - model: other\n    versions: \">=3.0.0, <2.0.0\"\n    limits: { co2e: { fail: \"2 kg\" } }\n  - model: other\n    versions: \">=1.0.0\"\n    limits: { co2e: { fail: \"2 kg\" } }\n",
        )
        .unwrap();
        let policy = Policy {
            files: vec![],
            budgets,
            ..Policy::default()
        };
        let lints: Vec<String> = lint(&policy).iter().map(|w| w.to_string()).collect();
        assert_eq!(lints.len(), 3, "{lints:#?}");
        assert!(
            lints[2]
                .contains("budgets for `other` cover only versions `>=3.0.0, <2.0.0`, `>=1.0.0`"),
            "{}",
            lints[2]
        );
        assert!(lints[0].starts_with("p.yaml:5:12: budget for `text-gen` can never apply: the budget at p.yaml:3:12 matches first"), "{}", lints[0]);
        assert!(
            lints[1].contains("no version satisfies `>=3.0.0, <2.0.0`"),
            "{}",
            lints[1]
        );
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use proptest::prelude::*;

    /// A policy of budgets from (model, versions) pairs, each at its own line.
    fn policy(budgets: &[(&str, Option<&str>)]) -> Policy {
        let mut text = String::from("version: 1\nbudgets:\n");
        for (model, versions) in budgets {
            text.push_str(&format!("  - model: \"{model}\"\n"));
            if let Some(v) = versions {
                text.push_str(&format!("    versions: \"{v}\"\n"));
            }
            text.push_str("    limits: { co2e: { fail: \"1 kg\" } }\n");
        }
        Policy {
            budgets: parse_file(Path::new("p.yaml"), &text).unwrap(),
            ..Policy::default()
        }
    }

    /// The lint as first written: every budget against every earlier one.
    fn pairwise(policy: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        for (j, later) in policy.budgets.iter().enumerate() {
            if later.versions.as_ref().is_some_and(unsatisfiable) {
                out.push(format!("{} unsatisfiable", later.origin));
            } else if let Some(e) = policy.budgets[..j].iter().find(|e| shadows(e, later)) {
                out.push(format!("{} shadowed by {}", later.origin, e.origin));
            }
        }
        out
    }

    fn indexed(policy: &Policy) -> Vec<String> {
        lint(policy)
            .iter()
            .filter(|w| w.code == codes::UNREACHABLE_BUDGET)
            .map(|w| {
                let text = w.to_string();
                let origin = text.split(": budget").next().unwrap_or_default().to_owned();
                match text.split("the budget at ").nth(1) {
                    Some(rest) => format!(
                        "{origin} shadowed by {}",
                        rest.split(' ').next().unwrap_or_default()
                    ),
                    None => format!("{origin} unsatisfiable"),
                }
            })
            .collect()
    }

    #[test]
    fn budgets_beyond_the_cap_are_refused() {
        let file = |name: &str, n: usize| {
            let mut text = String::from("version: 1\nbudgets:\n");
            for i in 0..n {
                text.push_str(&format!(
                    "  - {{ model: m{i}, limits: {{ co2e: {{ fail: 1 kg }} }} }}\n"
                ));
            }
            (PathBuf::from(name), text)
        };
        assert!(from_texts_capped(vec![file("a.yaml", 2), file("b.yaml", 1)], vec![], 3).is_ok());
        let err = from_texts_capped(vec![file("a.yaml", 2), file("b.yaml", 2)], vec![], 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("b.yaml: too many budgets: 2 in this file, 4 with the files before it; the limit is 3"),
            "{err}"
        );
        let big = (
            PathBuf::from("big.yaml"),
            "#".repeat(MAX_POLICY_BYTES as usize + 1),
        );
        let err = from_texts(vec![big], vec![]).unwrap_err().to_string();
        assert!(
            err.contains("big.yaml: policy file larger than the 16 MiB limit"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn the_indexed_lint_is_the_pairwise_one(
            budgets in proptest::collection::vec(
                (
                    prop_oneof![Just("a"), Just("b"), Just("ab"), Just("*"), Just("a*"), Just("?b"), Just("{a,b}")],
                    prop_oneof![Just(None), Just(Some(">=1.0.0")), Just(Some("<2.0.0")), Just(Some(">=3.0.0, <2.0.0"))],
                ),
                0..12,
            ),
            model in prop_oneof![Just("a"), Just("b"), Just("ab"), Just("c")],
        ) {
            let policy = policy(&budgets);
            prop_assert_eq!(indexed(&policy), pairwise(&policy));
            // The budgets a model is matched against, in order, are those its pattern covers.
            let found: Vec<String> = policy.matching(model).map(|b| b.origin.to_string()).collect();
            let all: Vec<String> = policy
                .budgets
                .iter()
                .filter(|b| b.model.matches(model))
                .map(|b| b.origin.to_string())
                .collect();
            prop_assert_eq!(found, all);
        }
    }
}
