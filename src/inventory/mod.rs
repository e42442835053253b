//! Reading the organisation's carbon ledger back: the [`summary`] (`ledger summary`: totals per
//! key and calendar period) and the annual **greenhouse-gas inventory of its AI compute**
//! (`ledger inventory`), in the spirit of ISO 14064-1 and the GHG Protocol.
//!
//! The inventory is a pure function of the stored runs and the policy's teams and trajectory
//! ([`InventoryInput`]). Like the disclosure, every figure carries how it was obtained (`basis`),
//! and a figure that cannot be given is `null` with its `reason`, never left out. Figures are
//! exact sums of the stored ones ([`crate::units::exact_sum`] through the typed quantities),
//! rounded only when rendered ([`render`]). It states what the ledger shows and what it leaves
//! out; it is not a verified statement.

pub mod render;
pub mod summary;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::periods::{Every, Period};
use crate::store::StoredRun;
use crate::units::{Energy, Mass, Ratio};
use summary::{NO_TEAM, Sums, UNKNOWN_PHASE, is_estimated};

pub use render::{to_html, to_markdown};
pub use summary::{By, Summary, SummaryRow, summarize, to_csv, to_json, to_table};

/// Version of the inventory's JSON layout.
pub const INVENTORY_SCHEMA_VERSION: u32 = 1;

/// The document's kind, in its JSON.
pub const DOCUMENT: &str = "ai-compute-ghg-inventory";

/// What the inventory does not claim, printed in every one.
pub const NOT_VERIFIED: &str = "This inventory is generated from the runs recorded in the carbon ledger, with the figures the emissions tools reported or carbon-gate estimated, and states how each was obtained and what is left out. It follows the structure of ISO 14064-1 and the GHG Protocol but is not a verified or assured greenhouse-gas statement, and does not cover emissions outside the AI compute logged to the ledger.";

/// A team of the policy's `teams:`, for the organisational boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamInfo {
    /// The team's name.
    pub name: String,
    /// The model patterns (globs) it owns, as the policy writes them.
    pub models: Vec<String>,
    /// Its owners, as the policy writes them.
    pub owners: Vec<String>,
}

/// The policy's `trajectory:`: a base year, its emissions and a yearly reduction.
pub struct TrajectoryInfo<'a> {
    /// The base year.
    pub base_year: i32,
    /// The base year's emissions (total CO2e of the models covered) as the policy states them.
    pub base: Mass,
    /// The reduction per year, a fraction of the base (`0.1`: 10 % of the base each year).
    pub reduction_per_year: Ratio,
    /// What it covers, in words (the models or teams, as the policy writes them).
    pub covers: String,
    /// Whether a model is covered by it.
    pub in_scope: &'a dyn Fn(&str) -> bool,
}

/// What the inventory is built from.
pub struct InventoryInput<'a> {
    /// The reporting year (1 January – 31 December, UTC).
    pub year: i32,
    /// The ledger's runs: at least those of the year and of the base year (others are ignored).
    pub runs: &'a [StoredRun],
    /// A model's team (the policy's `teams:`).
    pub team_of: &'a dyn Fn(&str) -> Option<String>,
    /// The teams, for the organisational boundary.
    pub teams: Vec<TeamInfo>,
    /// The policy's trajectory, when it sets one.
    pub trajectory: Option<TrajectoryInfo<'a>>,
    /// The ledger's address (a password already redacted).
    pub ledger: String,
    /// When the document is generated (RFC 3339).
    pub generated_at: String,
    /// The policy files read.
    pub policy_files: Vec<String>,
}

/// A figure with how it was obtained, or `null` with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Figure {
    /// The value, raw (in `unit`), or `null`.
    pub value: Option<f64>,
    /// Its unit (`kg CO2e`, `kWh`, `fraction`, `g CO2e/kWh`).
    pub unit: String,
    /// How it was obtained (for a `null` one: what it would be).
    pub basis: String,
    /// Why it is `null` (absent when it has a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

const KG: &str = "kg CO2e";
const KWH: &str = "kWh";
const FRACTION: &str = "fraction";

impl Figure {
    fn of(value: f64, unit: &str, basis: impl Into<String>) -> Figure {
        Figure {
            value: Some(value),
            unit: unit.to_owned(),
            basis: basis.into(),
            reason: None,
        }
    }

    fn null(unit: &str, basis: impl Into<String>, reason: impl Into<String>) -> Figure {
        Figure {
            value: None,
            unit: unit.to_owned(),
            basis: basis.into(),
            reason: Some(reason.into()),
        }
    }

    /// `part / whole` as a fraction, `null` when the whole is zero.
    fn share(part: f64, whole: f64, basis: impl Into<String>, of_what: &str) -> Figure {
        if whole > 0.0 {
            Figure::of(part / whole, FRACTION, basis)
        } else {
            Figure::null(
                FRACTION,
                basis,
                format!("no share: the year has no {of_what}"),
            )
        }
    }
}

/// The document's particulars.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Header {
    /// `GHG-` and 16 hex digits of a SHA-256 over the inputs: the year, the ledger, the policy
    /// files, the teams, the trajectory and every run of the year and of the base year (not the
    /// generation time: the same ledger gives the same id).
    pub id: String,
    /// The reporting year.
    pub year: i32,
    /// The first instant of the year, UTC.
    pub period_start: String,
    /// The first instant after the year, UTC (exclusive).
    pub period_end: String,
    /// The period in words.
    pub period: String,
    /// When the document was generated.
    pub generated_at: String,
    /// The ledger read (a password redacted).
    pub ledger: String,
    /// The policy files read (teams, trajectory).
    pub policy_files: Vec<String>,
    /// carbon-gate's version.
    pub tool_version: String,
}

/// A name and how many runs have it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Count {
    /// The name (a format, method, phase, embodied basis).
    pub name: String,
    /// Runs of the year.
    pub runs: usize,
}

/// One team inside the organisational boundary.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TeamBoundary {
    /// The team.
    pub name: String,
    /// Its model patterns, as the policy writes them.
    pub models: Vec<String>,
    /// Its owners.
    pub owners: Vec<String>,
    /// Its runs in the year.
    pub runs: usize,
    /// The models of those runs.
    pub models_seen: Vec<String>,
}

/// Runs of the year whose model no team owns.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Unassigned {
    /// How many.
    pub runs: usize,
    /// Their models.
    pub models: Vec<String>,
    /// What that means for the inventory.
    pub note: String,
}

/// Something left out of the inventory, and why.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Exclusion {
    /// What is left out.
    pub what: String,
    /// Why, and what it amounts to in this ledger where that is known.
    pub reason: String,
}

/// What the inventory covers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Boundary {
    /// The organisational boundary, in words.
    pub organisational: String,
    /// The teams (the policy's `teams:`), with their runs in the year.
    pub teams: Vec<TeamBoundary>,
    /// Runs of the year that no team owns (counted in the totals all the same).
    pub without_team: Unassigned,
    /// The operational boundary, in words.
    pub operational: String,
    /// The life-cycle phases of the year's runs (`(unknown)`: the log gives none).
    pub phases: Vec<Count>,
    /// What is included.
    pub included: Vec<String>,
    /// What is excluded, each with its reason.
    pub exclusions: Vec<Exclusion>,
}

/// How many runs, and how much energy, a figure covers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Runs that have the figure.
    pub runs: usize,
    /// Runs of the year.
    pub of_runs: usize,
    /// The share of the year's runs.
    pub share_of_runs: Figure,
    /// Energy of the runs that have it, kWh.
    pub energy_kwh: f64,
    /// Energy of the year, kWh.
    pub of_energy_kwh: f64,
    /// The share of the year's energy.
    pub share_of_energy: Figure,
}

/// The year's totals by scope.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Runs of the year.
    pub runs: usize,
    /// Energy, kWh.
    pub energy_kwh: Figure,
    /// Scope 2, location-based: Σ operational CO2e.
    pub scope2_location_kg: Figure,
    /// Of which runs on a cloud provider (see `cloud_note`).
    pub scope2_location_cloud_kg: Figure,
    /// Why the cloud share is shown apart.
    pub cloud_note: String,
    /// Scope 2, market-based: Σ market-based CO2e where a contractual factor was given.
    pub scope2_market_kg: Figure,
    /// The runs and energy the market-based figure covers.
    pub market_coverage: Coverage,
    /// Scope 3 category 1 (purchased goods: the hardware), embodied: Σ embodied CO2e.
    pub scope3_cat1_embodied_kg: Figure,
    /// The runs and energy the embodied figure could be computed for.
    pub embodied_coverage: Coverage,
    /// How the embodied figures were obtained, with their runs.
    pub embodied_bases: Vec<Count>,
    /// Scope 2 location-based plus Scope 3 cat. 1 embodied.
    pub total_co2e_kg: Figure,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BreakdownRow {
    /// The team, model or month.
    pub key: String,
    /// Runs.
    pub runs: usize,
    /// Runs carbon-gate estimated.
    pub runs_estimated: usize,
    /// Energy, kWh (runs that report it).
    pub energy_kwh: f64,
    /// Runs that report no energy.
    pub runs_without_energy: usize,
    /// Scope 2, location-based, kg CO2e.
    pub scope2_location_kg: f64,
    /// Scope 2, market-based, kg CO2e, over `runs_with_market` (`null`: no run has one).
    pub scope2_market_kg: Option<f64>,
    /// Runs with a market-based figure.
    pub runs_with_market: usize,
    /// Scope 3 cat. 1, embodied, kg CO2e.
    pub scope3_cat1_embodied_kg: f64,
    /// Total, kg CO2e (location-based plus embodied).
    pub co2e_kg: f64,
}

/// The year's figures split by team, model or month.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Breakdown {
    /// How the rows are formed and summed.
    pub basis: String,
    /// The rows.
    pub rows: Vec<BreakdownRow>,
}

/// One method and its runs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MethodRow {
    /// `measured` or the estimate's kind.
    pub method: String,
    /// Runs.
    pub runs: usize,
    /// Their total CO2e, kg.
    pub co2e_kg: f64,
}

/// How much of the year was measured and how much estimated.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MeasuredVsEstimated {
    /// Runs a tracker measured.
    pub measured_runs: usize,
    /// Runs carbon-gate estimated.
    pub estimated_runs: usize,
    /// CO2e of the measured runs, kg.
    pub measured_co2e_kg: f64,
    /// CO2e of the estimated runs, kg.
    pub estimated_co2e_kg: f64,
    /// The estimated share of the CO2e.
    pub estimated_share_of_co2e: Figure,
    /// The estimated share of the runs.
    pub estimated_share_of_runs: Figure,
    /// Per method.
    pub by_method: Vec<MethodRow>,
}

/// The uncertainty the ledger can state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Uncertainty {
    /// Runs carbon-gate estimated.
    pub estimated_runs: usize,
    /// Of which with a band (low and high).
    pub banded_runs: usize,
    /// The estimates' central CO2e, kg.
    pub estimated_co2e_kg: f64,
    /// Σ of the bands' low ends (an estimate without a band counts its central figure).
    pub estimated_low_kg: Figure,
    /// Σ of the bands' high ends.
    pub estimated_high_kg: Figure,
    /// Measured runs.
    pub measured_runs: usize,
    /// Their CO2e as the tools reported it, kg.
    pub measured_co2e_kg: f64,
    /// What a measured figure without a band means.
    pub measured_note: String,
    /// The year's total with the estimates at their low ends.
    pub total_low_kg: Figure,
    /// The year's total with the estimates at their high ends.
    pub total_high_kg: Figure,
}

/// The base year and the trajectory of the policy.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Trajectory {
    /// Whether the policy sets a trajectory.
    pub given: bool,
    /// What it covers, as the policy says.
    pub covers: Option<String>,
    /// The base year.
    pub base_year: Option<i32>,
    /// The base year's emissions as the policy states them.
    pub base_kg: Figure,
    /// The reduction per year, a fraction of the base.
    pub reduction_per_year: Figure,
    /// The year's limit: base × (1 − reduction × (year − base year)), at least 0.
    pub limit_kg: Figure,
    /// The year's total CO2e of the runs it covers.
    pub in_scope_kg: Figure,
    /// Those runs.
    pub in_scope_runs: usize,
    /// (in scope − base) ÷ base.
    pub change_vs_base: Figure,
    /// Whether the year's in-scope total is at or under the limit (`null`: no trajectory, or a
    /// year before the base year).
    pub on_track: Option<bool>,
    /// The verdict in words, or why there is none.
    pub status: String,
    /// The base year's in-scope total as the ledger holds it.
    pub ledger_base_year_kg: Figure,
    /// The runs of the base year in the ledger that it covers.
    pub ledger_base_year_runs: usize,
}

/// The implied grid intensity at one place.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GridRow {
    /// Cloud region (`aws:eu-west-3`), country and region (`FRA/IDF`), or `(not recorded)`.
    pub place: String,
    /// Runs of the year there.
    pub runs: usize,
    /// Their energy, kWh.
    pub energy_kwh: f64,
    /// Their operational CO2e, kg.
    pub operational_co2e_kg: f64,
    /// Operational CO2e ÷ energy, g CO2e/kWh (`null` with its reason in `reason`).
    pub intensity_g_per_kwh: Option<f64>,
    /// Why there is no intensity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How the figures were obtained.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Methodology {
    /// The log formats of the year's runs.
    pub formats: Vec<Count>,
    /// The methods (`measured`, `*-estimate`).
    pub methods: Vec<Count>,
    /// The grid intensity as the tools applied it, per place.
    pub grid: Vec<GridRow>,
    /// How the grid rows are computed.
    pub grid_basis: String,
    /// The embodied bases (the log's figure, or the policy's formula with its numbers).
    pub embodied_bases: Vec<Count>,
    /// How runs are counted.
    pub merge_rule: String,
    /// How runs are assigned to the year and its months.
    pub period_rule: String,
    /// How the figures map to scopes.
    pub scopes: String,
    /// How the figures are summed and rounded.
    pub arithmetic: String,
}

/// One year's figures.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct YearFigures {
    /// The year.
    pub year: i32,
    /// Runs.
    pub runs: usize,
    /// Energy, kWh.
    pub energy_kwh: f64,
    /// Total CO2e, kg.
    pub co2e_kg: f64,
}

/// What changed since the base year.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Changes {
    /// The base year (the trajectory's).
    pub base_year: Option<i32>,
    /// The base year's figures in the ledger (`null`: no base year, see `reason`).
    pub base: Option<YearFigures>,
    /// The reporting year's.
    pub this_year: YearFigures,
    /// Teams with runs this year and none in the base year.
    pub new_teams: Vec<String>,
    /// Models with runs this year and none in the base year.
    pub new_models: Vec<String>,
    /// Models with runs in the base year and none this year.
    pub models_gone: Vec<String>,
    /// Why there is no comparison, or what limits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What limits the figures.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DataQuality {
    /// Runs without an energy figure (their CO2e is counted; the energy total leaves them out).
    pub runs_without_energy: usize,
    /// Runs whose log gives no end time (`ended_at` null): dated by when the ledger recorded them.
    pub runs_without_end_time: usize,
    /// Runs whose end time lies more than a day after their recording: dated by the recording.
    pub runs_end_after_recording: usize,
    /// Runs imported from per-version history (key `history:…`), without the detail of a log.
    pub runs_from_history: usize,
    /// Runs without a recorded place (no country and no cloud region).
    pub runs_without_place: usize,
    /// Estimated runs without a band.
    pub estimated_runs_without_band: usize,
    /// What each count means for the figures.
    pub notes: Vec<String>,
}

/// The annual inventory.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Inventory {
    /// Layout version (1).
    pub schema_version: u32,
    /// Always `ai-compute-ghg-inventory`.
    pub document: String,
    /// Id, year, period, ledger, generation time.
    pub header: Header,
    /// What the document does not claim.
    pub not_verified: String,
    /// Organisational and operational boundary.
    pub boundary: Boundary,
    /// Totals by scope.
    pub totals: Totals,
    /// Per team (`(no team)`: runs no team owns).
    pub per_team: Breakdown,
    /// Per model family (the model's name).
    pub per_model: Breakdown,
    /// Per month of the year.
    pub per_month: Breakdown,
    /// Measured and estimated shares.
    pub measured_vs_estimated: MeasuredVsEstimated,
    /// Estimate bands.
    pub uncertainty: Uncertainty,
    /// Base year and trajectory.
    pub trajectory: Trajectory,
    /// Methodology and data sources.
    pub methodology: Methodology,
    /// Changes since the base year.
    pub changes: Changes,
    /// Data quality.
    pub data_quality: DataQuality,
}

/// Whether `run` falls in calendar year `year` (UTC, by its time `at`).
fn in_year(run: &StoredRun, year: i32) -> bool {
    Period::of(Every::Year, &run.at).is_some_and(|p| p.label() == year.to_string())
}

/// The distinct values, sorted, with their runs.
fn counts<'a>(runs: &[&'a StoredRun], name: impl Fn(&'a StoredRun) -> String) -> Vec<Count> {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for r in runs {
        *map.entry(name(r)).or_default() += 1;
    }
    map.into_iter()
        .map(|(name, runs)| Count { name, runs })
        .collect()
}

fn row(key: String, runs: &[&StoredRun]) -> BreakdownRow {
    let s = Sums::of(runs);
    BreakdownRow {
        key,
        runs: s.runs,
        runs_estimated: s.runs_estimated,
        energy_kwh: s.energy.value(),
        runs_without_energy: s.runs_without_energy,
        scope2_location_kg: s.operational.value(),
        scope2_market_kg: s.market.map(Mass::value),
        runs_with_market: s.runs_with_market,
        scope3_cat1_embodied_kg: s.embodied.value(),
        co2e_kg: s.co2e.value(),
    }
}

const BREAKDOWN_BASIS: &str = "exact sums of the stored figures of the year's runs in each row; energy over the runs that report it; scope2_market_kg over the runs with a market-based figure (null where no run of the row has one)";

fn team_key(run: &StoredRun, team_of: &dyn Fn(&str) -> Option<String>) -> String {
    team_of(&run.model).unwrap_or_else(|| NO_TEAM.to_owned())
}

/// Where a run ran, for the grid rows.
fn place(r: &StoredRun) -> String {
    match (
        &r.cloud_provider,
        &r.cloud_region,
        &r.country_iso,
        &r.region,
    ) {
        (Some(p), Some(c), ..) => format!("{p}:{c}"),
        (_, _, Some(country), Some(region)) => format!("{country}/{region}"),
        (_, _, Some(country), None) => country.clone(),
        (Some(p), None, None, _) => format!("{p} (region not recorded)"),
        _ => "(not recorded)".to_owned(),
    }
}

/// The document id.
fn document_id(input: &InventoryInput, runs: &[&StoredRun]) -> String {
    let mut basis = format!("{DOCUMENT}\n{}\n{}\n", input.year, input.ledger);
    for f in &input.policy_files {
        basis.push_str(&format!("policy\t{f}\n"));
    }
    for t in &input.teams {
        basis.push_str(&format!(
            "team\t{}\t{}\t{}\n",
            t.name,
            t.models.join(","),
            t.owners.join(",")
        ));
    }
    if let Some(t) = &input.trajectory {
        basis.push_str(&format!(
            "trajectory\t{}\t{}\t{}\t{}\n",
            t.base_year,
            t.base.value(),
            t.reduction_per_year.value(),
            t.covers
        ));
    }
    let mut sorted: Vec<&&StoredRun> = runs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for r in sorted {
        basis.push_str(&serde_json::to_string(r).unwrap_or_default());
        basis.push('\n');
    }
    let hex = crate::digest::sha256_hex(basis.as_bytes()).to_ascii_uppercase();
    format!(
        "GHG-{}-{}-{}-{}",
        &hex[0..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..16]
    )
}

/// Build the inventory of `input.year`.
pub fn inventory(input: &InventoryInput) -> Inventory {
    let year = input.year;
    let base_year = input.trajectory.as_ref().map(|t| t.base_year);
    let runs: Vec<&StoredRun> = input.runs.iter().filter(|r| in_year(r, year)).collect();
    let base_runs: Vec<&StoredRun> = match base_year {
        Some(b) if b != year => input.runs.iter().filter(|r| in_year(r, b)).collect(),
        _ => Vec::new(),
    };
    let digested: Vec<&StoredRun> = runs.iter().chain(base_runs.iter()).copied().collect();
    let team_of = input.team_of;
    let sums = Sums::of(&runs);

    let header = header(input, &digested);
    let boundary = boundary(input, &runs, &sums);
    let totals = totals(&runs, &sums);

    let mut by_team: BTreeMap<String, Vec<&StoredRun>> = BTreeMap::new();
    for t in &input.teams {
        by_team.entry(t.name.clone()).or_default();
    }
    let mut by_model: BTreeMap<String, Vec<&StoredRun>> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Vec<&StoredRun>> = BTreeMap::new();
    for m in 1..=12 {
        if let Some(p) = Period::of(Every::Month, &format!("{year:04}-{m:02}-01T00:00:00Z")) {
            by_month.entry(p.label()).or_default();
        }
    }
    for r in &runs {
        by_team.entry(team_key(r, team_of)).or_default().push(r);
        by_model.entry(r.model.clone()).or_default().push(r);
        if let Some(p) = Period::of(Every::Month, &r.at) {
            by_month.entry(p.label()).or_default().push(r);
        }
    }
    // Teams in the policy's order, then any other team name, then the runs without a team.
    let mut team_rows: Vec<BreakdownRow> = Vec::new();
    for t in &input.teams {
        if let Some(list) = by_team.remove(&t.name) {
            team_rows.push(row(t.name.clone(), &list));
        }
    }
    let unowned = by_team.remove(NO_TEAM);
    for (k, list) in by_team {
        team_rows.push(row(k, &list));
    }
    if let Some(list) = unowned {
        team_rows.push(row(NO_TEAM.to_owned(), &list));
    }
    let breakdown = |map: BTreeMap<String, Vec<&StoredRun>>| -> Vec<BreakdownRow> {
        map.into_iter().map(|(k, list)| row(k, &list)).collect()
    };

    Inventory {
        schema_version: INVENTORY_SCHEMA_VERSION,
        document: DOCUMENT.to_owned(),
        header,
        not_verified: NOT_VERIFIED.to_owned(),
        boundary,
        totals,
        per_team: Breakdown {
            basis: format!(
                "{BREAKDOWN_BASIS}; a run's team is the policy's `teams:` entry owning its model, `{NO_TEAM}` when none does; every team of the policy is listed, with or without runs"
            ),
            rows: team_rows,
        },
        per_model: Breakdown {
            basis: format!(
                "{BREAKDOWN_BASIS}; a model family is the model's name, all its versions together"
            ),
            rows: breakdown(by_model),
        },
        per_month: Breakdown {
            basis: format!(
                "{BREAKDOWN_BASIS}; a run belongs to the UTC calendar month holding its time `at`; every month of the year is listed"
            ),
            rows: breakdown(by_month),
        },
        measured_vs_estimated: measured_vs_estimated(&runs, &sums),
        uncertainty: uncertainty(&runs, &sums),
        trajectory: trajectory(input, &runs, &base_runs),
        methodology: methodology(&runs),
        changes: changes(input, &runs, &base_runs, &sums),
        data_quality: data_quality(&runs),
    }
}

fn header(input: &InventoryInput, digested: &[&StoredRun]) -> Header {
    let year = input.year;
    let p = Period::of(Every::Year, &format!("{year:04}-01-01T00:00:00Z"));
    Header {
        id: document_id(input, digested),
        year,
        period_start: p.map(|p| p.start()).unwrap_or_default(),
        period_end: p.map(|p| p.end()).unwrap_or_default(),
        period: format!("1 January {year} 00:00 – 31 December {year} 24:00, UTC"),
        generated_at: input.generated_at.clone(),
        ledger: input.ledger.clone(),
        policy_files: input.policy_files.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

fn boundary(input: &InventoryInput, runs: &[&StoredRun], sums: &Sums) -> Boundary {
    let team_of = input.team_of;
    let teams = input
        .teams
        .iter()
        .map(|t| {
            let mine: Vec<&&StoredRun> = runs
                .iter()
                .filter(|r| team_of(&r.model).as_deref() == Some(t.name.as_str()))
                .collect();
            let seen: BTreeSet<String> = mine.iter().map(|r| r.model.clone()).collect();
            TeamBoundary {
                name: t.name.clone(),
                models: t.models.clone(),
                owners: t.owners.clone(),
                runs: mine.len(),
                models_seen: seen.into_iter().collect(),
            }
        })
        .collect();
    let unowned: Vec<&&StoredRun> = runs
        .iter()
        .filter(|r| team_of(&r.model).is_none())
        .collect();
    let unowned_models: BTreeSet<String> = unowned.iter().map(|r| r.model.clone()).collect();
    let without_team = Unassigned {
        runs: unowned.len(),
        models: unowned_models.into_iter().collect(),
        note: if unowned.is_empty() {
            "every run of the year belongs to a team".to_owned()
        } else {
            format!(
                "{} run(s) of models no team of the policy owns: counted in every total, under `{NO_TEAM}` per team; add their models to a team's `models:` to assign them",
                unowned.len()
            )
        },
    };
    let phases = counts(runs, |r| {
        r.phase.clone().unwrap_or_else(|| UNKNOWN_PHASE.to_owned())
    });
    let inference = runs
        .iter()
        .filter(|r| r.phase.as_deref() == Some("inference"))
        .count();
    let no_embodied = runs
        .iter()
        .filter(|r| r.embodied_basis.is_none() && r.embodied_co2e_kg == 0.0)
        .count();
    let no_market = sums.runs - sums.runs_with_market;
    let cloud = runs.iter().filter(|r| r.cloud_provider.is_some()).count();
    let exclusions = vec![
        Exclusion {
            what: "Compute not logged to the ledger: idle or reserved accelerators, interactive notebooks, jobs run without an emissions tracker or outside CI".to_owned(),
            reason: "the inventory counts the runs recorded in the ledger only; compute that no check, promotion or record wrote there is not estimated".to_owned(),
        },
        Exclusion {
            what: "Networking and data transfer".to_owned(),
            reason: "not measured by the emissions trackers, and no factor is applied".to_owned(),
        },
        Exclusion {
            what: "Storage of datasets, checkpoints and artefacts".to_owned(),
            reason: "not measured by the emissions trackers, and no factor is applied".to_owned(),
        },
        Exclusion {
            what: "End-user inference that was not logged".to_owned(),
            reason: if inference == 0 {
                "no inference run of the year is in the ledger: serving is not covered".to_owned()
            } else {
                format!(
                    "{inference} logged inference run(s) are included; traffic served without a tracker is not"
                )
            },
        },
        Exclusion {
            what: "Embodied carbon of hardware where it was not computed".to_owned(),
            reason: if no_embodied == 0 {
                "every run of the year has an embodied figure".to_owned()
            } else {
                format!(
                    "{no_embodied} of {} run(s) have none (counted as 0): their log gives none and the policy sets no embodied formula for them",
                    sums.runs
                )
            },
        },
        Exclusion {
            what: "Market-based Scope 2 where no contractual instrument was given".to_owned(),
            reason: if no_market == 0 {
                "every run of the year has a market-based figure".to_owned()
            } else {
                format!(
                    "{no_market} of {} run(s) have no market-based figure; the market-based total covers the others only",
                    sums.runs
                )
            },
        },
        Exclusion {
            what: "Facility overhead (cooling, power distribution) beyond what the tools applied".to_owned(),
            reason: "energy is as each tool reported or carbon-gate estimated it; a PUE is included only where the tracker or the estimate applied one".to_owned(),
        },
        Exclusion {
            what: "Other Scope 1, 2 and 3 emissions of the organisation (offices, travel, purchased services other than the compute logged)".to_owned(),
            reason: if cloud == 0 {
                "outside the boundary of an inventory of AI compute".to_owned()
            } else {
                format!(
                    "outside the boundary of an inventory of AI compute; the electricity of the {cloud} cloud run(s) is included (see the totals)"
                )
            },
        },
    ];
    Boundary {
        organisational: "Operational control: the AI compute the organisation runs and logs to its carbon ledger, on its own hardware or rented from cloud providers. Teams are as the policy's `teams:` assigns models to them; runs of models no team owns are included and listed as such.".to_owned(),
        teams,
        without_team,
        operational: "Every run recorded in the ledger whose time falls in the year, whatever its life-cycle phase: the electricity it used and, where computed, the embodied carbon of its hardware.".to_owned(),
        phases,
        included: vec![
            "Electricity of the logged runs: Scope 2, location-based, as each tool computed it".to_owned(),
            "The same electricity, market-based, where a contractual emission factor was given".to_owned(),
            "Embodied carbon of the hardware (Scope 3, category 1), where the log gives it or the policy's formula applies".to_owned(),
        ],
        exclusions,
    }
}

fn coverage(runs: usize, energy: Energy, sums: &Sums, of_what: &str) -> Coverage {
    Coverage {
        runs,
        of_runs: sums.runs,
        share_of_runs: Figure::share(
            runs as f64,
            sums.runs as f64,
            format!("runs {of_what} ÷ runs of the year"),
            "runs",
        ),
        energy_kwh: energy.value(),
        of_energy_kwh: sums.energy.value(),
        share_of_energy: Figure::share(
            energy.value(),
            sums.energy.value(),
            format!("energy of the runs {of_what} ÷ energy of the year (runs that report it)"),
            "energy",
        ),
    }
}

fn totals(runs: &[&StoredRun], sums: &Sums) -> Totals {
    let n = sums.runs;
    let cloud: Vec<&StoredRun> = runs
        .iter()
        .copied()
        .filter(|r| r.cloud_provider.is_some())
        .collect();
    let cloud_kg: Mass = cloud.iter().map(|r| Mass::kg(r.operational_co2e_kg)).sum();
    let embodied: Vec<&StoredRun> = runs
        .iter()
        .copied()
        .filter(|r| r.embodied_basis.is_some() || r.embodied_co2e_kg > 0.0)
        .collect();
    let embodied_energy: Energy = embodied
        .iter()
        .filter_map(|r| r.energy_kwh.map(Energy::kwh))
        .sum();
    let energy = if sums.runs_without_energy == n && n > 0 {
        Figure::null(
            KWH,
            "Σ energy of the year's runs",
            format!("none of the {n} run(s) reports an energy figure"),
        )
    } else {
        Figure::of(
            sums.energy.value(),
            KWH,
            format!(
                "Σ energy of the {} run(s) that report it{}",
                n - sums.runs_without_energy,
                if sums.runs_without_energy > 0 {
                    format!(
                        "; {} run(s) report none and are left out of this figure (their CO2e is counted)",
                        sums.runs_without_energy
                    )
                } else {
                    String::new()
                }
            ),
        )
    };
    let market_basis = "Σ market-based operational CO2e of the runs for which a contractual emission factor was given";
    let scope2_market_kg = match sums.market {
        Some(v) => Figure::of(
            v.value(),
            KG,
            format!(
                "{market_basis}: {} of {n} run(s), see market_coverage; the other runs' energy would take a residual-mix factor under the GHG Protocol's Scope 2 guidance, which is not applied, so this is not a complete market-based Scope 2",
                sums.runs_with_market
            ),
        ),
        None => Figure::null(
            KG,
            market_basis,
            if n == 0 {
                "the ledger holds no run of the year".to_owned()
            } else {
                "no run of the year has a market-based figure: no contractual instrument (energy attribute certificate, PPA, supplier-specific factor) was given".to_owned()
            },
        ),
    };
    Totals {
        runs: n,
        energy_kwh: energy,
        scope2_location_kg: Figure::of(
            sums.operational.value(),
            KG,
            format!("Σ operational (location-based) CO2e of the {n} run(s), as each tool computed it from the grid's average intensity"),
        ),
        scope2_location_cloud_kg: Figure::of(
            cloud_kg.value(),
            KG,
            format!("Σ operational CO2e of the {} run(s) with a cloud provider recorded", cloud.len()),
        ),
        cloud_note: "Under the GHG Protocol, the electricity of a cloud provider's data centres is the customer's Scope 3 (category 1, purchased services), not its Scope 2. The ledger records it as operational, so it is in the Scope 2 line here and shown apart so that it can be reported under Scope 3.".to_owned(),
        scope2_market_kg,
        market_coverage: coverage(sums.runs_with_market, sums.energy_with_market, sums, "with a market-based figure"),
        scope3_cat1_embodied_kg: Figure::of(
            sums.embodied.value(),
            KG,
            format!(
                "Σ embodied CO2e of the {} run(s) for which it could be computed (see embodied_bases); the other {} count 0",
                embodied.len(),
                n - embodied.len()
            ),
        ),
        embodied_coverage: coverage(embodied.len(), embodied_energy, sums, "with an embodied figure"),
        embodied_bases: counts(&embodied, |r| {
            r.embodied_basis.clone().unwrap_or_else(|| "log".to_owned())
        }),
        total_co2e_kg: Figure::of(
            sums.co2e.value(),
            KG,
            "Σ total CO2e of the year's runs: Scope 2 location-based plus Scope 3 cat. 1 embodied (market-based figures are not added)",
        ),
    }
}

fn measured_vs_estimated(runs: &[&StoredRun], sums: &Sums) -> MeasuredVsEstimated {
    let estimated: Vec<&StoredRun> = runs.iter().copied().filter(|r| is_estimated(r)).collect();
    let measured: Vec<&StoredRun> = runs.iter().copied().filter(|r| !is_estimated(r)).collect();
    let est_kg: Mass = estimated.iter().map(|r| Mass::kg(r.co2e_kg)).sum();
    let meas_kg: Mass = measured.iter().map(|r| Mass::kg(r.co2e_kg)).sum();
    let mut by: BTreeMap<String, Vec<&StoredRun>> = BTreeMap::new();
    for r in runs {
        by.entry(r.method.clone()).or_default().push(r);
    }
    MeasuredVsEstimated {
        measured_runs: measured.len(),
        estimated_runs: estimated.len(),
        measured_co2e_kg: meas_kg.value(),
        estimated_co2e_kg: est_kg.value(),
        estimated_share_of_co2e: Figure::share(
            est_kg.value(),
            sums.co2e.value(),
            "CO2e of the runs carbon-gate estimated ÷ the year's CO2e",
            "CO2e",
        ),
        estimated_share_of_runs: Figure::share(
            estimated.len() as f64,
            sums.runs as f64,
            "runs carbon-gate estimated ÷ the year's runs",
            "runs",
        ),
        by_method: by
            .into_iter()
            .map(|(method, list)| MethodRow {
                method,
                runs: list.len(),
                co2e_kg: list
                    .iter()
                    .map(|r| Mass::kg(r.co2e_kg))
                    .sum::<Mass>()
                    .value(),
            })
            .collect(),
    }
}

fn uncertainty(runs: &[&StoredRun], sums: &Sums) -> Uncertainty {
    let estimated: Vec<&StoredRun> = runs.iter().copied().filter(|r| is_estimated(r)).collect();
    let banded = estimated
        .iter()
        .filter(|r| r.co2e_low_kg.is_some() && r.co2e_high_kg.is_some())
        .count();
    let central: Mass = estimated.iter().map(|r| Mass::kg(r.co2e_kg)).sum();
    let low: Mass = estimated
        .iter()
        .map(|r| Mass::kg(r.co2e_low_kg.unwrap_or(r.co2e_kg)))
        .sum();
    let high: Mass = estimated
        .iter()
        .map(|r| Mass::kg(r.co2e_high_kg.unwrap_or(r.co2e_kg)))
        .sum();
    let measured: Mass = runs
        .iter()
        .filter(|r| !is_estimated(r))
        .map(|r| Mass::kg(r.co2e_kg))
        .sum();
    let without = estimated.len() - banded;
    let band_basis = |end: &str| {
        let mut b = format!("Σ of the {end} ends of the estimates' bands ({banded} run(s))");
        if without > 0 {
            b.push_str(&format!(
                "; {without} estimated run(s) without a band count their central figure"
            ));
        }
        b
    };
    let (estimated_low_kg, estimated_high_kg) = if estimated.is_empty() {
        let reason = "no run of the year was estimated: there is no band";
        (
            Figure::null(KG, band_basis("low"), reason),
            Figure::null(KG, band_basis("high"), reason),
        )
    } else {
        (
            Figure::of(low.value(), KG, band_basis("low")),
            Figure::of(high.value(), KG, band_basis("high")),
        )
    };
    Uncertainty {
        estimated_runs: estimated.len(),
        banded_runs: banded,
        estimated_co2e_kg: central.value(),
        estimated_low_kg,
        estimated_high_kg,
        measured_runs: sums.runs - estimated.len(),
        measured_co2e_kg: measured.value(),
        measured_note: "Measured runs are counted as their tool reported them, without a band: the trackers state no uncertainty. That does not make them exact: power sampling, the share of a shared machine and the grid factor the tool applied (a yearly average) each carry an error that is not quantified here.".to_owned(),
        total_low_kg: Figure::of(
            (measured + low).value(),
            KG,
            "measured runs as reported plus the estimates at the low ends of their bands",
        ),
        total_high_kg: Figure::of(
            (measured + high).value(),
            KG,
            "measured runs as reported plus the estimates at the high ends of their bands",
        ),
    }
}

fn trajectory(input: &InventoryInput, runs: &[&StoredRun], base_runs: &[&StoredRun]) -> Trajectory {
    let year = input.year;
    let Some(t) = &input.trajectory else {
        let reason =
            "the policy sets no `trajectory:` (base year, base emissions, yearly reduction)";
        return Trajectory {
            given: false,
            covers: None,
            base_year: None,
            base_kg: Figure::null(KG, "the policy's trajectory", reason),
            reduction_per_year: Figure::null(FRACTION, "the policy's trajectory", reason),
            limit_kg: Figure::null(
                KG,
                "base × (1 − reduction × (year − base year)), at least 0",
                reason,
            ),
            in_scope_kg: Figure::null(KG, "Σ CO2e of the runs the trajectory covers", reason),
            in_scope_runs: 0,
            change_vs_base: Figure::null(FRACTION, "(in scope − base) ÷ base", reason),
            on_track: None,
            status: format!("no trajectory: {reason}"),
            ledger_base_year_kg: Figure::null(
                KG,
                "Σ CO2e of the base year's runs in the ledger",
                reason,
            ),
            ledger_base_year_runs: 0,
        };
    };
    let covered: Vec<&StoredRun> = runs
        .iter()
        .copied()
        .filter(|r| (t.in_scope)(&r.model))
        .collect();
    let in_scope: Mass = covered.iter().map(|r| Mass::kg(r.co2e_kg)).sum();
    let base = t.base;
    let r = t.reduction_per_year;
    let years = f64::from(year - t.base_year);
    let limit_basis = format!(
        "base × (1 − reduction × (year − base year)) = {} kg × (1 − {} × {}), at least 0",
        base.value(),
        r.value(),
        year - t.base_year
    );
    let limit = (year >= t.base_year).then(|| base * (1.0 - r.value() * years).max(0.0));
    let limit_kg = match limit {
        Some(l) => Figure::of(l.value(), KG, limit_basis),
        None => Figure::null(
            KG,
            limit_basis,
            format!(
                "{year} is before the base year {}: the trajectory sets no limit for it",
                t.base_year
            ),
        ),
    };
    let change_vs_base = if base.value() > 0.0 {
        Figure::of(
            (in_scope - base).value() / base.value(),
            FRACTION,
            "(the year's in-scope total − the policy's base) ÷ the policy's base",
        )
    } else {
        Figure::null(
            FRACTION,
            "(in scope − base) ÷ base",
            "the policy's base is 0: no relative change",
        )
    };
    let on_track = limit.map(|l| in_scope.value() <= l.value());
    let status = match (on_track, limit) {
        (Some(true), Some(l)) => format!(
            "on track: {} in scope, at or under the year's limit of {}",
            in_scope, l
        ),
        (Some(false), Some(l)) => format!(
            "off track: {} in scope, over the year's limit of {} by {}",
            in_scope,
            l,
            in_scope - l
        ),
        _ => format!("not judged: {year} is before the base year {}", t.base_year),
    };
    let base_covered: Vec<&StoredRun> = if t.base_year == year {
        covered.clone()
    } else {
        base_runs
            .iter()
            .copied()
            .filter(|r| (t.in_scope)(&r.model))
            .collect()
    };
    let ledger_base_year_kg = if base_covered.is_empty() {
        Figure::null(
            KG,
            format!(
                "Σ CO2e of the runs of {} in the ledger that the trajectory covers",
                t.base_year
            ),
            format!(
                "the ledger holds no run of {} that the trajectory covers: the base is the policy's figure only",
                t.base_year
            ),
        )
    } else {
        Figure::of(
            base_covered
                .iter()
                .map(|r| Mass::kg(r.co2e_kg))
                .sum::<Mass>()
                .value(),
            KG,
            format!(
                "Σ CO2e of the {} run(s) of {} in the ledger that the trajectory covers (for comparison with the policy's base)",
                base_covered.len(),
                t.base_year
            ),
        )
    };
    Trajectory {
        given: true,
        covers: Some(t.covers.clone()),
        base_year: Some(t.base_year),
        base_kg: Figure::of(base.value(), KG, "the policy's `trajectory:` base"),
        reduction_per_year: Figure::of(
            r.value(),
            FRACTION,
            "the policy's `trajectory:` reduction per year, a fraction of the base",
        ),
        limit_kg,
        in_scope_kg: Figure::of(
            in_scope.value(),
            KG,
            format!(
                "Σ total CO2e (location-based plus embodied) of the {} run(s) of {year} whose model the trajectory covers",
                covered.len()
            ),
        ),
        in_scope_runs: covered.len(),
        change_vs_base,
        on_track,
        status,
        ledger_base_year_kg,
        ledger_base_year_runs: base_covered.len(),
    }
}

fn methodology(runs: &[&StoredRun]) -> Methodology {
    let mut places: BTreeMap<String, Vec<&StoredRun>> = BTreeMap::new();
    for r in runs {
        places.entry(place(r)).or_default().push(r);
    }
    let grid = places
        .into_iter()
        .map(|(place, list)| {
            let with_energy: Vec<&&StoredRun> = list
                .iter()
                .filter(|r| r.energy_kwh.is_some_and(|e| e > 0.0))
                .collect();
            let energy: Energy = with_energy
                .iter()
                .filter_map(|r| r.energy_kwh.map(Energy::kwh))
                .sum();
            let operational: Mass = with_energy
                .iter()
                .map(|r| Mass::kg(r.operational_co2e_kg))
                .sum();
            let intensity = operational.per(energy);
            GridRow {
                place,
                runs: list.len(),
                energy_kwh: energy.value(),
                operational_co2e_kg: operational.value(),
                intensity_g_per_kwh: intensity.map(|i| i.value()),
                reason: intensity
                    .is_none()
                    .then(|| "no run there reports energy: no intensity can be derived".to_owned()),
            }
        })
        .collect();
    Methodology {
        formats: counts(runs, |r| r.format.clone()),
        methods: counts(runs, |r| r.method.clone()),
        grid,
        grid_basis: "The ledger stores each run's energy and CO2e as its tool computed them, not the factor; the intensity shown is what they imply: Σ operational CO2e ÷ Σ energy of the runs at each place that report energy (the average the tools applied, weighted by energy).".to_owned(),
        embodied_bases: counts(
            &runs
                .iter()
                .copied()
                .filter(|r| r.embodied_basis.is_some())
                .collect::<Vec<_>>(),
            |r| r.embodied_basis.clone().unwrap_or_default(),
        ),
        merge_rule: "Each run is counted once, by its stable key (`FORMAT:RUN-ID`, or `FORMAT:sha256:DIGEST` of the row for logs without stable ids); when the ledger saw a run more than once (a log read again, a run flushed several times), it keeps the most complete snapshot: every figure the larger of the snapshots'.".to_owned(),
        period_rule: "A run belongs to the year and month (UTC) holding its time `at`: the end time its log gives, or the time the ledger recorded it when the log gives none or an end more than a day after the recording.".to_owned(),
        scopes: "Scope 2, location-based: the operational CO2e the tools computed from the grid's average intensity. Scope 2, market-based: where the policy gave a contractual factor. Scope 3, category 1: the embodied carbon of the hardware, the share of its manufacture the run used (from the log, or the policy's formula). Total: location-based plus embodied.".to_owned(),
        arithmetic: "Every total is the exactly rounded sum of the stored figures (independent of order); figures are rounded only when rendered (4 significant digits); the JSON keeps every digit.".to_owned(),
    }
}

fn changes(
    input: &InventoryInput,
    runs: &[&StoredRun],
    base_runs: &[&StoredRun],
    sums: &Sums,
) -> Changes {
    let year = input.year;
    let this_year = YearFigures {
        year,
        runs: sums.runs,
        energy_kwh: sums.energy.value(),
        co2e_kg: sums.co2e.value(),
    };
    let none = |reason: String| Changes {
        base_year: input.trajectory.as_ref().map(|t| t.base_year),
        base: None,
        this_year: this_year.clone(),
        new_teams: Vec::new(),
        new_models: Vec::new(),
        models_gone: Vec::new(),
        reason: Some(reason),
    };
    let Some(t) = &input.trajectory else {
        return none("no base year: the policy sets no `trajectory:`".to_owned());
    };
    let b = t.base_year;
    if b >= year {
        return none(format!(
            "the base year {b} is not before {year}: nothing to compare"
        ));
    }
    let base_sums = Sums::of(base_runs);
    let team_of = input.team_of;
    let teams = |list: &[&StoredRun]| -> BTreeSet<String> {
        list.iter().filter_map(|r| team_of(&r.model)).collect()
    };
    let models = |list: &[&StoredRun]| -> BTreeSet<String> {
        list.iter().map(|r| r.model.clone()).collect()
    };
    let (then_teams, now_teams) = (teams(base_runs), teams(runs));
    let (then_models, now_models) = (models(base_runs), models(runs));
    Changes {
        base_year: Some(b),
        base: Some(YearFigures {
            year: b,
            runs: base_sums.runs,
            energy_kwh: base_sums.energy.value(),
            co2e_kg: base_sums.co2e.value(),
        }),
        this_year,
        new_teams: now_teams.difference(&then_teams).cloned().collect(),
        new_models: now_models.difference(&then_models).cloned().collect(),
        models_gone: then_models.difference(&now_models).cloned().collect(),
        reason: base_runs.is_empty().then(|| {
            format!(
                "the ledger holds no run of the base year {b} (it may predate the ledger): every team and model of {year} is new to it"
            )
        }),
    }
}

fn data_quality(runs: &[&StoredRun]) -> DataQuality {
    let without_energy = runs.iter().filter(|r| r.energy_kwh.is_none()).count();
    let without_end = runs.iter().filter(|r| r.ended_at.is_none()).count();
    let end_after = runs
        .iter()
        .filter(|r| {
            let parse = crate::timestamp::parse_rfc3339;
            match (r.ended_at.as_deref().and_then(parse), parse(&r.recorded_at)) {
                (Some(end), Some(recorded)) => end - recorded > time::Duration::DAY,
                _ => false,
            }
        })
        .count();
    let history = runs
        .iter()
        .filter(|r| r.key.starts_with("history:"))
        .count();
    let without_place = runs
        .iter()
        .filter(|r| r.country_iso.is_none() && r.cloud_region.is_none())
        .count();
    let no_band = runs
        .iter()
        .filter(|r| is_estimated(r) && (r.co2e_low_kg.is_none() || r.co2e_high_kg.is_none()))
        .count();
    let mut notes = Vec::new();
    if without_energy > 0 {
        notes.push(format!("{without_energy} run(s) report no energy: their CO2e is counted, the energy totals leave them out"));
    }
    if without_end > 0 {
        notes.push(format!("{without_end} run(s) have no end time in their log: each is dated by when the ledger recorded it, which may place it in a later month or year than it ran"));
    }
    if end_after > 0 {
        notes.push(format!("{end_after} run(s) give an end more than a day after the ledger recorded them: dated by the recording"));
    }
    if history > 0 {
        notes.push(format!("{history} run(s) were imported from per-version history: totals without the detail of a log (place, hardware, band may be missing)"));
    }
    if without_place > 0 {
        notes.push(format!(
            "{without_place} run(s) record no place: their grid factor cannot be traced"
        ));
    }
    if no_band > 0 {
        notes.push(format!(
            "{no_band} estimated run(s) have no band: their central figure is used at both ends"
        ));
    }
    if notes.is_empty() {
        notes.push("no limitation found in the year's runs".to_owned());
    }
    DataQuality {
        runs_without_energy: without_energy,
        runs_without_end_time: without_end,
        runs_end_after_recording: end_after,
        runs_from_history: history,
        runs_without_place: without_place,
        estimated_runs_without_band: no_band,
        notes,
    }
}

/// The JSON Schema of the inventory's JSON (`docs/inventory.schema.json`).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Inventory);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The JSON Schema of the summary's JSON.
pub fn summary_schema_json() -> String {
    let schema = schemars::schema_for!(Summary);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(key: &str, model: &str, at: &str, kg: f64, method: &str) -> StoredRun {
        StoredRun {
            phase: Some("training".to_owned()),
            method: method.to_owned(),
            country_iso: Some("FRA".to_owned()),
            source: "e.csv:2".to_owned(),
            file_digest: "00".to_owned(),
            ..StoredRun::measured(key, model, at, kg, Some(kg * 4.0))
        }
    }

    fn input<'a>(
        year: i32,
        runs: &'a [StoredRun],
        trajectory: Option<TrajectoryInfo<'a>>,
    ) -> InventoryInput<'a> {
        InventoryInput {
            year,
            runs,
            team_of: &|_| None,
            teams: Vec::new(),
            trajectory,
            ledger: "ledger.db".to_owned(),
            generated_at: "2028-01-01T00:00:00Z".to_owned(),
            policy_files: Vec::new(),
        }
    }

    fn all(_: &str) -> bool {
        true
    }

    fn trajectory(base_year: i32, base: f64, r: f64) -> TrajectoryInfo<'static> {
        TrajectoryInfo {
            base_year,
            base: Mass::kg(base),
            reduction_per_year: Ratio::fraction(r),
            covers: "every model".to_owned(),
            in_scope: &all,
        }
    }

    #[test]
    fn the_limit_is_floored_at_zero_and_off_track_above_it() {
        let runs = vec![run("a", "m", "2030-06-01T00:00:00Z", 0.5, "measured")];
        let inv = inventory(&input(2030, &runs, Some(trajectory(2025, 100.0, 0.3))));
        let t = &inv.trajectory;
        assert_eq!(t.limit_kg.value, Some(0.0));
        assert_eq!(t.on_track, Some(false));
        assert!(t.status.starts_with("off track"), "{}", t.status);
        assert!(t.ledger_base_year_kg.value.is_none());
        assert!(t.ledger_base_year_kg.reason.is_some());
    }

    #[test]
    fn a_year_before_the_base_year_has_no_limit() {
        let runs = vec![run("a", "m", "2024-06-01T00:00:00Z", 0.5, "measured")];
        let inv = inventory(&input(2024, &runs, Some(trajectory(2025, 10.0, 0.1))));
        let t = &inv.trajectory;
        assert_eq!(t.limit_kg.value, None);
        assert!(t.limit_kg.reason.is_some());
        assert_eq!(t.on_track, None);
        assert!(inv.changes.base.is_none());
        assert!(inv.changes.reason.is_some());
    }

    #[test]
    fn the_base_year_itself_is_judged_against_its_base() {
        let runs = vec![run("a", "m", "2025-03-01T00:00:00Z", 12.0, "measured")];
        let inv = inventory(&input(2025, &runs, Some(trajectory(2025, 10.0, 0.1))));
        let t = &inv.trajectory;
        assert_eq!(t.limit_kg.value, Some(10.0));
        assert_eq!(t.on_track, Some(false));
        assert_eq!(t.ledger_base_year_kg.value, Some(12.0));
        assert!((t.change_vs_base.value.unwrap() - 0.2).abs() < 1e-12);
    }

    #[test]
    fn an_empty_year_gives_null_shares_and_market_with_reasons() {
        let inv = inventory(&input(2027, &[], None));
        assert_eq!(inv.totals.runs, 0);
        assert_eq!(inv.per_month.rows.len(), 12);
        assert!(inv.totals.scope2_market_kg.value.is_none());
        assert!(inv.totals.market_coverage.share_of_runs.reason.is_some());
        assert!(inv.uncertainty.estimated_low_kg.reason.is_some());
        assert!(!inv.trajectory.given);
    }

    #[test]
    fn places_and_dating() {
        let mut r = run("a", "m", "2027-01-01T00:00:00Z", 1.0, "measured");
        assert_eq!(place(&r), "FRA");
        r.region = Some("IDF".to_owned());
        assert_eq!(place(&r), "FRA/IDF");
        r.cloud_provider = Some("aws".to_owned());
        r.cloud_region = Some("eu-west-3".to_owned());
        assert_eq!(place(&r), "aws:eu-west-3");
        assert!(in_year(&r, 2027));
        r.at = "2026-12-31T23:59:59Z".to_owned();
        assert!(!in_year(&r, 2027));
        // An end more than a day after the recording: dated by the recording.
        r.ended_at = Some("2027-01-03T00:00:00Z".to_owned());
        r.recorded_at = "2026-12-31T23:59:59Z".to_owned();
        r.key = "history:m:1".to_owned();
        let d = data_quality(&[&r]);
        assert_eq!(d.runs_end_after_recording, 1);
        assert_eq!(d.runs_from_history, 1);
    }
}
