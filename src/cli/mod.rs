//! The command line (clap derive). Parsed once here; the library takes these structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod values;

/// What `carbon-gate --version` prints after the name: the crate's version and the git commit the
/// binary was built from (build.rs; `unknown` when built outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CARBON_GATE_COMMIT"),
    ")"
);

/// Carbon budgets for ML models, enforced in CI: reads the emissions logs your training jobs
/// already write, checks them against YAML budgets per model version, and exits non-zero when a
/// budget is exceeded.
///
/// Exit codes: 0 pass (warnings allowed), 1 a fail-level limit exceeded, 2 bad input or policy,
/// 3 an external service failed.
#[derive(Debug, Parser)]
#[command(name = "carbon-gate", version = VERSION, propagate_version = true)]
pub struct Cli {
    /// Print only the verdict line and errors: no report on standard output from `check` and
    /// `promote` (`--output` files are still written), no warnings from any command.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check emissions logs against carbon budgets; exit 1 when a fail limit is exceeded.
    Check(Box<CheckArgs>),
    /// Show what the tool reads from emissions logs, with totals, without any policy.
    Ingest(IngestArgs),
    /// Run as the GitHub Action: read the action's inputs from `INPUT_*` environment variables
    /// and run `check --github` with them (see action.yml).
    Action,
    /// Gate a model-registry promotion on the carbon budget: evaluate a registered model version
    /// like `check`, write the verdict as version tags, and move the alias only when it passes.
    #[command(disable_version_flag = true)]
    Promote(Box<PromoteArgs>),
    /// Write the Environmental Impact Disclosure (EU AI Act Annex XI 2(d)–(e), GPAI Code of
    /// Practice Model Documentation Form, GHG Protocol scopes, SCI) for the candidates — Markdown,
    /// JSON or HTML — or the `co2_eq_emissions` block of a Hugging Face model card.
    Report(Box<ReportArgs>),
    /// Recommend where and when to run a job: the (location, start) with the lowest forecast
    /// emissions before a deadline, from the embedded averages (offline) or a live source.
    Schedule(Box<ScheduleArgs>),
    /// Log a run's emission totals to the registry's tracking server (MLflow metrics and tags),
    /// so the MLflow UI and later promotions show them.
    Record(Box<RecordArgs>),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The organisation's carbon ledger (SQLite or PostgreSQL): import a history file, apply
    /// migrations, totals by model/team/phase/version per month/quarter/year, the annual
    /// inventory.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Estimate a run nothing measured, from hardware × hours (or FLOPs) × PUE × grid intensity,
    /// with embodied carbon; prints a record `ingest`/`check` read back, a table or JSON.
    Estimate(Box<EstimateArgs>),
    /// Show the embedded reference data (accelerators, CPUs, grid intensities, regions, PUE,
    /// defaults), each row with its source and year.
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Scaffold a working setup in the current directory from your emissions logs: a policy with
    /// one budget per model (warn at 1.5×, fail at 2× the measured total), a `carbon-gate.yaml`
    /// and, with --workflow, a GitHub workflow. Never overwrites a file without --force.
    Init(Box<InitArgs>),
    /// Print a JSON Schema: of policy files, run records (JSON/NDJSON input), the configuration,
    /// the facts file, the disclosure's JSON, or `check`'s JSON report.
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Print a shell completion script: `carbon-gate completions bash > ~/.local/share/bash-completion/completions/carbon-gate`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a directory:
    /// `carbon-gate man | man -l -`.
    Man {
        /// Write `carbon-gate.1` and `carbon-gate-COMMAND.1` for every command into this
        /// directory (created if missing) instead of printing the main page.
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
    },
}

/// `reference` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// List a table (all tables when none is named).
    List {
        /// Which table.
        #[arg(value_enum)]
        table: Option<ReferenceTable>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ReferenceFormat::Table)]
        format: ReferenceFormat,
    },
    /// Show the rows matching a name (accelerator, CPU, country, region, PUE scope or default).
    Show {
        /// Name to look up, e.g. `A100-SXM4-80GB`, `FR`, `aws:eu-west-3`, `lifetime`.
        name: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ReferenceFormat::Table)]
        format: ReferenceFormat,
    },
}

/// Reference tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReferenceTable {
    /// Accelerators: TDP, peak throughput, embodied carbon.
    Accelerators,
    /// CPUs: TDP.
    Cpus,
    /// Grid intensity per country.
    Countries,
    /// Grid intensity per US state / Canadian province.
    Subdivisions,
    /// Cloud regions of AWS, GCP, Azure.
    Regions,
    /// PUE defaults.
    Pue,
    /// Embodied, lifetime, utilization defaults and uncertainty ranges.
    Defaults,
}

/// Output of `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReferenceFormat {
    /// Terminal table.
    Table,
    /// JSON.
    Json,
}

/// Output of `estimate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EstimateFormat {
    /// One carbon-gate record (NDJSON line) that `ingest` and `check` read back unchanged.
    Record,
    /// The figures, the formulas and every assumption, as a table.
    Table,
    /// The record, its totals, the formulas and every assumption, as JSON.
    Json,
}

/// `estimate` arguments.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Accelerator (see `carbon-gate reference list accelerators`), e.g. A100-SXM4-80GB.
    #[arg(long, value_name = "NAME")]
    pub accelerator: Option<String>,
    /// Measured average power per device, e.g. "330 W" (beats the TDP).
    #[arg(long, value_name = "POWER", value_parser = parse_quantity::<crate::units::Power>)]
    pub power: Option<crate::units::Power>,
    /// Number of devices (up to 10 million).
    #[arg(long, value_name = "N", value_parser = |s: &str| crate::estimate::COUNT.parse(s))]
    pub count: Option<f64>,
    /// Wall-clock hours (more than 0, at most about 100 years, as `ingest` accepts for one run).
    #[arg(long, value_name = "H", value_parser = |s: &str| crate::estimate::HOURS.parse(s))]
    pub hours: Option<f64>,
    /// Device-hours in total (instead of --count × --hours), e.g. 1082990.
    #[arg(long, value_name = "N", conflicts_with_all = ["count", "hours"], value_parser = |s: &str| crate::estimate::DEVICE_HOURS.parse(s))]
    pub device_hours: Option<f64>,
    /// Training compute in FLOP (e.g. 3.1e23), with --mfu: device-hours = FLOP ÷ (peak × MFU).
    #[arg(long, value_name = "FLOP", conflicts_with_all = ["count", "hours", "device_hours"], value_parser = |s: &str| crate::estimate::FLOPS.parse(s))]
    pub flops: Option<f64>,
    /// Model FLOPs utilization for --flops: the fraction of peak throughput reached, in (0, 1].
    #[arg(long, value_name = "FRACTION", requires = "flops", value_parser = |s: &str| crate::estimate::MFU.parse(s))]
    pub mfu: Option<f64>,
    /// Peak dense throughput per device in TFLOP/s (default: the accelerator's BF16 peak).
    #[arg(long, value_name = "TFLOPS", value_parser = |s: &str| crate::estimate::PEAK_TFLOPS.parse(s))]
    pub peak_tflops: Option<f64>,
    /// Average fraction of TDP drawn, in (0, 1] (default 1: full TDP).
    #[arg(long, value_name = "FRACTION", value_parser = |s: &str| crate::estimate::UTILIZATION.parse(s))]
    pub utilization: Option<f64>,
    /// Cloud region as provider:region, e.g. aws:eu-west-3 (see `reference list regions`).
    #[arg(long, value_name = "PROVIDER:REGION")]
    pub region: Option<String>,
    /// Country (ISO alpha-2, alpha-3 or name), when not on a listed cloud region.
    #[arg(long, value_name = "CODE")]
    pub country: Option<String>,
    /// Grid intensity you know, e.g. "56 g/kWh" (beats region and country).
    #[arg(long, value_name = "INTENSITY", value_parser = parse_quantity::<crate::units::Intensity>)]
    pub intensity: Option<crate::units::Intensity>,
    /// Contractual (market-based) factor, e.g. "20 g/kWh": reported beside, never subtracted.
    #[arg(long, value_name = "INTENSITY", value_parser = parse_quantity::<crate::units::Intensity>)]
    pub market_factor: Option<crate::units::Intensity>,
    /// PUE of the facility, from 1 to 3 (default: the provider's, else the industry average).
    #[arg(long, value_name = "RATIO", value_parser = |s: &str| crate::estimate::PUE.parse(s))]
    pub pue: Option<f64>,
    /// Hardware lifetime for embodied carbon, e.g. "4 years".
    #[arg(long, value_name = "DURATION", value_parser = parse_quantity::<crate::units::Duration>)]
    pub lifetime: Option<crate::units::Duration>,
    /// Devices per host server, 1 to 1024 (default 8).
    #[arg(long, value_name = "N", value_parser = |s: &str| crate::estimate::DEVICES_PER_SERVER.parse(s))]
    pub devices_per_server: Option<f64>,
    /// Embodied CO2e per accelerator, e.g. "164 kg" (default: the reference row).
    #[arg(long, value_name = "MASS", value_parser = parse_quantity::<crate::units::Mass>)]
    pub accelerator_embodied: Option<crate::units::Mass>,
    /// Embodied CO2e per host server, e.g. "2500 kg".
    #[arg(long, value_name = "MASS", value_parser = parse_quantity::<crate::units::Mass>)]
    pub server_embodied: Option<crate::units::Mass>,
    /// Model the run trained.
    #[arg(long, value_name = "NAME", value_parser = parse_model_name)]
    pub model: Option<String>,
    /// Model version (semver).
    #[arg(long, value_name = "SEMVER", value_parser = parse_version)]
    pub model_version: Option<semver::Version>,
    /// Phase.
    #[arg(long, value_enum)]
    pub phase: Option<crate::record::Phase>,
    /// Run id of the record (default: made from the inputs); plain text.
    #[arg(long, value_name = "ID", value_parser = parse_run_id)]
    pub run_id: Option<String>,
    /// Policy files whose `reference:` overrides apply (command-line values still win).
    #[arg(long, short = 'p', value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = EstimateFormat::Table)]
    pub format: EstimateFormat,
    /// In the table, add every input with its source and the formulas with their numbers (JSON
    /// and records always carry them).
    #[arg(long)]
    pub explain: bool,
    /// Where the output goes.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// A command-line quantity read as the type the option holds (`--power 330W`, `--budget 30kg`).
fn parse_quantity<T: crate::units::Typed>(text: &str) -> Result<T, String> {
    crate::units::parse_as(text).map_err(|e| e.to_string())
}

fn parse_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("\"{text}\" is not a date: write YYYY-MM-DD"))
}

/// A model name as the ledger compares it (trimmed, NFC; no invisible or control characters).
fn parse_model_name(s: &str) -> Result<String, String> {
    crate::names::normalize(s).map_err(|bad| {
        format!(
            "model name cannot be used: {bad}; write it without invisible or control characters"
        )
    })
}

/// The JSON Schemas the tool publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Policy files (`policies/policy.schema.json`).
    Policy,
    /// Run records read as JSON or NDJSON (`docs/record.schema.json`).
    Record,
    /// The project configuration `carbon-gate.yaml` (`docs/config.schema.json`).
    Config,
    /// The disclosure facts file (`docs/facts.schema.json`).
    Facts,
    /// The disclosure's JSON (`docs/disclosure.schema.json`).
    Disclosure,
    /// `check`'s JSON report, `--format json` (`docs/report.schema.json`).
    Report,
}

/// `policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files (or directories of them); report every problem with file:line:col.
    Validate {
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema of policy files.
    Schema,
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Terminal table.
    Table,
    /// JSON (`schema_version: 1`).
    Json,
    /// Markdown (PR comment body).
    Markdown,
}

/// Report formats of `ingest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IngestFormat {
    /// Terminal table.
    Table,
    /// JSON (`schema_version: 1`).
    Json,
    /// Markdown table.
    Markdown,
}

/// Options shared by commands that write a report.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the report to this file instead of standard output (written whole or not at all).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour in the terminal table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Where a document goes, for commands that print no table (no `--color`).
#[derive(Debug, Args)]
pub struct FileOutputArgs {
    /// Write the document to this file instead of standard output (written whole or not at all).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How `--hf-units` reads a model card's `co2_eq_emissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum HfUnits {
    /// Grams, as the Hub's spec says, unless the card's own text says kilograms.
    #[default]
    Auto,
    /// Always grams.
    G,
    /// Always kilograms (for cards known to have written kg into the grams field).
    Kg,
}

impl From<&InputArgs> for crate::ingest::Options {
    fn from(input: &InputArgs) -> Self {
        crate::ingest::Options {
            format: input.input_format,
            hf_units: input.hf_units.into(),
        }
    }
}

impl From<HfUnits> for crate::ingest::HfUnits {
    fn from(units: HfUnits) -> Self {
        match units {
            HfUnits::Auto => Self::Auto,
            HfUnits::G => Self::G,
            HfUnits::Kg => Self::Kg,
        }
    }
}

/// The logs to read and how to read them (shared by `check` and `ingest`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Emissions logs: files, or directories to search (CodeCarbon CSV and its rotated .bak
    /// files, Impact Framework manifests, eco2AI CSV, carbontracker logs, model cards,
    /// carbon-gate JSON).
    #[arg(value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Read every log as this format instead of detecting it from the content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<crate::record::Format>,
    /// The phase of runs whose log does not say (training, fine-tuning, inference, evaluation).
    #[arg(long, value_enum)]
    pub phase: Option<crate::record::Phase>,
    /// Unit of a model card's `co2_eq_emissions` (the Hub's spec says grams; some cards wrote kg).
    #[arg(long, value_enum, default_value_t = HfUnits::Auto)]
    pub hf_units: HfUnits,
}

/// Model registries carbon-gate can gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Registry {
    /// MLflow Model Registry (REST API 2.0).
    #[default]
    Mlflow,
}

/// Where the registry is and what to look for on a run.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The model registry.
    #[arg(long, value_enum, default_value_t = Registry::Mlflow)]
    pub registry: Registry,
    /// The tracking server, e.g. http://127.0.0.1:5000. Credentials: MLFLOW_TRACKING_TOKEN
    /// (bearer), or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic).
    #[arg(long, env = "MLFLOW_TRACKING_URI", value_name = "URL")]
    pub tracking_uri: String,
    /// Run artifacts that are emissions logs (glob over the artifact path; repeatable). Used
    /// when no logs are given on the command line.
    #[arg(
        long = "artifact-glob",
        value_name = "GLOB",
        default_values_t = [
            "**/emission*.csv".to_owned(),
            "**/emission*.csv*.bak".to_owned(),
            "**/*carbontracker*.log".to_owned(),
            "**/carbon-gate*.json".to_owned(),
            "**/carbon-gate*.ndjson".to_owned(),
        ]
    )]
    pub artifact_globs: Vec<String>,
    /// Where downloaded artifacts are kept (the report names these files; they stay for audit).
    /// Default: `carbon-gate/mlflow/RUN_ID` under the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub download_dir: Option<PathBuf>,
    /// Largest run artifact downloaded as evidence, in MiB: a larger one is refused before it
    /// is downloaded (exit 2; pass such a log on the command line instead).
    #[arg(long, value_name = "MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_artifact_mib: u64,
    /// Show what would be written to the registry, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `promote` arguments.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Logs to use instead of the run's artifacts.
    #[command(flatten)]
    pub input: InputArgs,
    /// The registered model's name.
    #[arg(long)]
    pub model: String,
    /// The registry's version number of the model version to promote (`--version` is an
    /// older spelling, still accepted).
    #[arg(long = "registry-version", alias = "version", value_name = "N")]
    pub version: String,
    /// The alias promotion moves (its current holder is the baseline for regression rules).
    #[arg(long, default_value = "champion")]
    pub alias: String,
    /// The model's semantic version, for policies keyed by version (default: the version tag).
    #[arg(long, value_name = "SEMVER")]
    pub model_version: Option<semver::Version>,
    /// The model-version tag that holds its semantic version.
    #[arg(long, default_value = "semver", value_name = "KEY")]
    pub semver_tag: String,
    /// Policy files or directories (default: the configuration's `policy`, else policies/).
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Project configuration whose `policy` is used (default: `carbon-gate.yaml` in the current
    /// directory, else at the top of the git work tree).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Quality metrics (JSON/YAML) over those the run logged in MLflow.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// An extra tag to set on the version when it is promoted (repeatable).
    #[arg(long = "set-tag", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub set_tags: Vec<(String, String)>,
    /// Store the promoted version's counted runs and this promotion in the organisation's
    /// ledger (and judge the policy's `periods:` and `trajectory:` on it).
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// Evaluate as of this date (exceptions expire), YYYY-MM-DD; default today (UTC).
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub today: Option<time::Date>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Show where every figure came from (table format).
    #[arg(long)]
    pub explain: bool,
    /// Output options.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The logs the budgets are set from (default: `emissions.csv`, where CodeCarbon writes).
    #[command(flatten)]
    pub input: InputArgs,
    /// The version of the model the logs are of (semver), written into `carbon-gate.yaml` when
    /// the logs do not name one.
    #[arg(long, value_name = "SEMVER", value_parser = parse_version)]
    pub model_version: Option<semver::Version>,
    /// Do not write `carbon-gate.yaml` (the policy alone; `check` then takes the logs).
    #[arg(long)]
    pub no_config: bool,
    /// Also write the GitHub workflow `.github/workflows/carbon-gate.yml` that runs the action.
    #[arg(long)]
    pub workflow: bool,
    /// Replace files that already exist (regular files only; never a symbolic link).
    #[arg(long)]
    pub force: bool,
}

/// `record` arguments.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Logs to total (default: the run's own emissions artifacts).
    #[command(flatten)]
    pub input: InputArgs,
    /// The run to log the totals on.
    #[arg(long, value_name = "ID")]
    pub run_id: String,
    /// Also store the run's counted runs in the organisation's ledger.
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// The policy whose reference values compute embodied carbon for the ledger (default: none,
    /// the embedded values).
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
}

/// `--ledger`: where the organisation's ledger is.
#[derive(Debug, Clone, Default, Args)]
pub struct LedgerArg {
    /// The organisation's ledger: `sqlite:PATH` (created on first use), `postgres://USER@HOST:PORT/DB`
    /// (shared), or a plain path: a JSON-lines history file (one line per checked model version).
    /// Default: $CARBON_GATE_LEDGER. With a database, every counted run is stored once and the
    /// policy's `periods:` and `trajectory:` are judged.
    #[arg(
        long = "ledger",
        value_name = "URL",
        env = "CARBON_GATE_LEDGER",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

/// `--ledger` where a ledger is required.
#[derive(Debug, Clone, Args)]
pub struct RequiredLedgerArg {
    /// The ledger: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB` (default: $CARBON_GATE_LEDGER).
    #[arg(
        long = "ledger",
        value_name = "URL",
        env = "CARBON_GATE_LEDGER",
        hide_env_values = true,
        required = true
    )]
    pub url: String,
}

/// How `ledger summary` groups runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SummaryBy {
    /// By model name.
    #[default]
    Model,
    /// By team (the policy's `teams:`).
    Team,
    /// By life-cycle phase.
    Phase,
    /// By model and version.
    Version,
}

/// Calendar periods (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum EveryArg {
    /// Calendar months (`2027-01`).
    Month,
    /// Calendar quarters (`2027-Q1`).
    #[default]
    Quarter,
    /// Calendar years (`2027`).
    Year,
}

/// Output of `ledger summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SummaryFormat {
    /// A terminal table.
    #[default]
    Table,
    /// JSON (`schema_version`, `rows`).
    Json,
    /// CSV with a header row.
    Csv,
}

/// Output of `ledger inventory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum InventoryFormat {
    /// Markdown.
    #[default]
    Markdown,
    /// JSON.
    Json,
    /// HTML (prints to PDF).
    Html,
}

/// `ledger` subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Move a JSON-lines history file (`check --ledger FILE`) into a database: each checked
    /// model version becomes one stored entry (the history has no per-run detail).
    Import {
        /// The history file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The database.
        #[command(flatten)]
        ledger: RequiredLedgerArg,
    },
    /// Apply the schema migrations this carbon-gate knows (also done on first use).
    Migrate {
        /// The database.
        #[command(flatten)]
        ledger: RequiredLedgerArg,
    },
    /// Totals per model, team, phase or version, per month, quarter or year.
    Summary(Box<SummaryArgs>),
    /// The organisation's annual GHG inventory of its AI compute (Scope 2 location- and
    /// market-based, Scope 3 category 1), by team and model family, against the trajectory.
    Inventory(Box<InventoryArgs>),
}

/// `ledger summary` arguments.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The database.
    #[command(flatten)]
    pub ledger: RequiredLedgerArg,
    /// Group by.
    #[arg(long, value_enum, default_value_t = SummaryBy::Model)]
    pub by: SummaryBy,
    /// Period length.
    #[arg(long, value_enum, default_value_t = EveryArg::Quarter)]
    pub every: EveryArg,
    /// First day counted (`YYYY-MM-DD`, UTC, inclusive).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<time::Date>,
    /// Last day counted (`YYYY-MM-DD`, UTC, inclusive).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<time::Date>,
    /// Policy files or directories whose `teams:` name the teams (for `--by team`; default:
    /// `policies` when it exists).
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    /// Where it goes.
    #[command(flatten)]
    pub out: FileOutputArgs,
}

/// `ledger inventory` arguments.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The database.
    #[command(flatten)]
    pub ledger: RequiredLedgerArg,
    /// The reporting year (calendar, UTC).
    #[arg(long, value_name = "YEAR")]
    pub year: i32,
    /// Policy files or directories whose `teams:` and `trajectory:` the inventory uses
    /// (default: `policies` when it exists).
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = InventoryFormat::Markdown)]
    pub format: InventoryFormat,
    /// Where it goes.
    #[command(flatten)]
    pub out: FileOutputArgs,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

/// What to evaluate: the logs or configuration, the policy, baselines and metrics (shared by
/// `check` and `report`).
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The logs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Project configuration (`carbon-gate.yaml`): candidates with their logs, metrics, baseline
    /// and alternatives. Default, when no logs are given: `carbon-gate.yaml` in the current
    /// directory, else at the top of the git work tree. Without one, the logs are the candidates.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Policy file or directory of *.yaml policies (repeatable; default: the configuration's
    /// `policy`, else `policies`).
    #[arg(long, short = 'p', value_name = "PATH", env = "CARBON_GATE_POLICY")]
    pub policy: Vec<PathBuf>,
    /// Baseline: the logs of the version the candidates replace, or a `check --format json`
    /// report from the base branch (repeatable).
    #[arg(long, value_name = "PATH")]
    pub baseline: Vec<PathBuf>,
    /// The version the baseline logs are of.
    #[arg(long, value_name = "SEMVER", value_parser = parse_version)]
    pub baseline_version: Option<semver::Version>,
    /// Metrics of the candidates (`{"accuracy": 0.912, "f1": 0.88}`, JSON or YAML).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Metrics of the baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline_metrics: Option<PathBuf>,
    /// The date exceptions are checked against (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<time::Date>,
    /// Attribute every run to this model (default: the model the log names, e.g. CodeCarbon's
    /// project name).
    #[arg(long, value_name = "NAME", value_parser = parse_model_name)]
    pub model: Option<String>,
    /// The model version these runs produced (semver), matched against budgets' `versions`
    /// (default: the version the log names, if any).
    #[arg(long, value_name = "SEMVER", value_parser = parse_version)]
    pub model_version: Option<semver::Version>,
    /// Show what every candidate's cloud runs would have emitted in the cleanest regions of the
    /// same provider (by default only for candidates that did not pass).
    #[arg(long)]
    pub whatif: bool,
}

/// Where forecast intensities come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum IntensitySource {
    /// The embedded annual averages (offline, no key).
    #[default]
    Static,
    /// The GSF Carbon Aware SDK Web API (`--api-url` of your deployment).
    CarbonAwareSdk,
    /// Electricity Maps (`ELECTRICITY_MAPS_API_KEY`).
    ElectricityMaps,
    /// WattTime v3 (`WATTTIME_TOKEN`, or `WATTTIME_USERNAME` and `WATTTIME_PASSWORD`).
    Watttime,
}

impl From<IntensitySource> for crate::schedule::SourceKind {
    fn from(source: IntensitySource) -> Self {
        match source {
            IntensitySource::Static => Self::Static,
            IntensitySource::CarbonAwareSdk => Self::CarbonAwareSdk,
            IntensitySource::ElectricityMaps => Self::ElectricityMaps,
            IntensitySource::Watttime => Self::Watttime,
        }
    }
}

/// `schedule` arguments.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Candidate locations (repeatable): `provider:region` or a country code for the static
    /// source and Electricity Maps (regions map to their country zone), the SDK's location names,
    /// WattTime region codes (`CAISO_NORTH`).
    #[arg(long = "location", value_name = "LOCATION", required = true)]
    pub locations: Vec<String>,
    /// The job's energy (`"300 kWh"`), or give --power.
    #[arg(long, value_parser = parse_quantity::<crate::units::Energy>, value_name = "ENERGY", required_unless_present = "power")]
    pub energy: Option<crate::units::Energy>,
    /// The job's average power draw (`"3.2 kW"`); energy = power × duration.
    #[arg(long, value_parser = parse_quantity::<crate::units::Power>, value_name = "POWER", conflicts_with = "energy")]
    pub power: Option<crate::units::Power>,
    /// How long the job runs (`"8 h"`, `"90 min"`).
    #[arg(long, value_parser = parse_quantity::<crate::units::Duration>, value_name = "DURATION")]
    pub duration: crate::units::Duration,
    /// The job must end by then (RFC 3339, e.g. 2026-11-29T18:00:00Z). Default: now + duration
    /// (no shifting in time).
    #[arg(long, value_name = "TIME")]
    pub deadline: Option<String>,
    /// Earliest start (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Intensity source.
    #[arg(long, value_enum, default_value_t = IntensitySource::Static)]
    pub source: IntensitySource,
    /// The source's API root (Carbon Aware SDK: required; others: for a proxy or a test fake).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// WattTime signal type.
    #[arg(long, default_value = "co2_moer", value_name = "SIGNAL")]
    pub signal_type: String,
    /// Cache forecasts in this JSON file and reuse them for --cache-minutes (default with
    /// $RUNNER_TEMP: $RUNNER_TEMP/carbon-gate-forecasts.json, for the duration of a CI job).
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// How long cached forecasts are reused.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub cache_minutes: i64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScheduleFormat::Table)]
    pub format: ScheduleFormat,
}

/// Formats of `schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleFormat {
    /// Sentences: the best choice, the saving, each location's best start.
    Table,
    /// The plan as JSON.
    Json,
}

/// Formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown (tables; each field with the provisions it serves).
    Markdown,
    /// JSON (`docs/disclosure.schema.json`).
    Json,
    /// One self-contained HTML file that prints well, with a chart of the emissions split.
    Html,
    /// The `co2_eq_emissions` block of a Hugging Face model card (`--card` updates a card in place).
    HfCard,
}

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// What to evaluate (the same inputs as `check`).
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Document format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Facts no log holds (provider role, weights hash, training FLOP, functional unit…), YAML;
    /// see docs/compliance.md.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// With `--format hf-card`: the model card (README.md) whose front matter is updated in place
    /// (or written to --output); without it the block alone is printed.
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,
    /// Where the document goes.
    #[command(flatten)]
    pub out: FileOutputArgs,
}

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What to evaluate.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Read the policy (and compare the configuration) at this git ref — the pull request's base —
    /// instead of the working tree, so a change cannot loosen its own budget; the report shows
    /// what the change does to the policy.
    #[arg(long, value_name = "REF")]
    pub policy_ref: Option<String>,
    /// Project runs still in progress to their planned end and judge the projection: exit 1 when
    /// it exceeds a fail limit, so a pipeline can stop the training early. Needs one of
    /// --planned-epochs, --planned-hours, --planned-steps.
    #[arg(long)]
    pub predict: bool,
    /// With --predict: the epochs the run is planned to train.
    #[arg(long, value_name = "N", requires = "predict", conflicts_with_all = ["planned_hours", "planned_steps"])]
    pub planned_epochs: Option<f64>,
    /// With --planned-epochs: the epochs done, when the log cannot tell (CodeCarbon rows are
    /// taken as one flush() per epoch otherwise).
    #[arg(long, value_name = "N", requires = "planned_epochs")]
    pub epochs_done: Option<f64>,
    /// With --predict: the hours of tracked time the run is planned to take.
    #[arg(
        long,
        value_name = "H",
        requires = "predict",
        conflicts_with = "planned_steps"
    )]
    pub planned_hours: Option<f64>,
    /// With --predict: the steps the run is planned to take (with --steps-done).
    #[arg(long, value_name = "N", requires_all = ["predict", "steps_done"])]
    pub planned_steps: Option<f64>,
    /// With --planned-steps: the steps done so far.
    #[arg(long, value_name = "N", requires = "planned_steps")]
    pub steps_done: Option<f64>,
    /// The organisation's ledger.
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// The commit recorded in the ledger (default: $GITHUB_SHA).
    #[arg(long, value_name = "SHA", env = "GITHUB_SHA")]
    pub commit: Option<String>,
    /// Where to publish.
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// In the table, show how each total was computed: every counted row with its file and line
    /// (JSON always has this as `contributions`; Markdown has it folded).
    #[arg(long)]
    pub explain: bool,
    /// Where the report goes.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Publishing to GitHub or GitLab.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// In GitHub Actions: write the job summary, step outputs and annotations, and the sticky
    /// pull-request comment.
    #[arg(long, conflicts_with = "gitlab")]
    pub github: bool,
    /// In GitLab CI: the sticky merge-request note.
    #[arg(long)]
    pub gitlab: bool,
    /// How to treat the previous comment.
    #[arg(long, value_enum, default_value_t = crate::publish::Behavior::Update)]
    pub comment_behavior: crate::publish::Behavior,
    /// Tag of the sticky comment: one comment per tag (matrix jobs, several models).
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub tag: String,
    /// When to comment.
    #[arg(long, value_enum, default_value_t = crate::publish::CommentOn::Always)]
    pub comment_on: crate::publish::CommentOn,
    /// Do not create the first comment when the verdict is pass.
    #[arg(long)]
    pub skip_no_diff: bool,
    /// Print the comment body, the files and the API calls it would write or make, without
    /// writing any file or calling the API.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 3 when the comment cannot be published (default: publishing never changes the exit code).
    #[arg(long)]
    pub require_comment: bool,
    /// Repository `OWNER/NAME` (default: $GITHUB_REPOSITORY).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Pull request (GitHub) or merge request (GitLab) number (default: from the event).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Comments by this login are ours (default: the token's identity).
    #[arg(long, value_name = "LOGIN")]
    pub comment_author: Option<String>,
    /// GitHub token (default: $GITHUB_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GITHUB_TOKEN",
        hide_env_values = true
    )]
    pub github_token: Option<String>,
    /// GitLab token with the `api` scope (default: $GITLAB_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GITLAB_TOKEN",
        hide_env_values = true
    )]
    pub gitlab_token: Option<String>,
    /// Write the JSON report here too (a step output names it; default with --github:
    /// $RUNNER_TEMP/carbon-gate-report.json, else a new file in the temporary directory).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
}

/// `ingest` arguments.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The logs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = IngestFormat::Table)]
    pub format: IngestFormat,
    /// Where the report goes.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// A run id without control or invisible characters (`ingest` refuses a record holding one).
fn parse_run_id(text: &str) -> Result<String, String> {
    if text.chars().any(crate::error::is_unsafe_char) {
        return Err(format!(
            "\"{}\" holds control or invisible characters: write the run id as plain text",
            crate::error::escape_text(text)
        ));
    }
    Ok(text.to_owned())
}

fn parse_version(text: &str) -> Result<semver::Version, String> {
    semver::Version::parse(text.trim().trim_start_matches('v'))
        .map_err(|err| format!("\"{text}\" is not a semver version ({err}); write e.g. 2.1.0"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn versions_may_carry_a_v() {
        assert_eq!(parse_version("v2.1.0"), Ok(semver::Version::new(2, 1, 0)));
        assert!(
            parse_version("2.1")
                .unwrap_err()
                .contains("not a semver version")
        );
    }
}
