//! The command line (clap derive). Parsed once here; the library takes these structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Carbon budgets for ML models, enforced in CI: reads the emissions logs your training jobs
/// already write, checks them against YAML budgets per model version, and exits non-zero when a
/// budget is exceeded.
///
/// Exit codes: 0 pass (warnings allowed), 1 a fail-level limit exceeded, 2 bad input or policy,
/// 3 an external service failed.
#[derive(Debug, Parser)]
#[command(name = "carbon-gate", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check emissions logs against carbon budgets; exit 1 when a fail limit is exceeded.
    Check(CheckArgs),
    /// Show what the tool reads from emissions logs, with totals, without any policy.
    Ingest(IngestArgs),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print a JSON Schema: of policy files, or of carbon-gate's run records (JSON/NDJSON input).
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
}

/// The JSON Schemas the tool publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Policy files (`policies/policy.schema.json`).
    Policy,
    /// Run records read as JSON or NDJSON (`docs/record.schema.json`).
    Record,
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

/// The logs to read and how to read them (shared by `check` and `ingest`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Emissions logs: files, or directories to search (CodeCarbon CSV and its rotated .bak
    /// files, Impact Framework manifests, eco2AI CSV, carbontracker logs, model cards,
    /// carbon-gate JSON).
    #[arg(required = true, value_name = "PATH")]
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

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The logs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Policy file or directory of *.yaml policies (repeatable).
    #[arg(
        long,
        short = 'p',
        value_name = "PATH",
        default_value = "policies",
        env = "CARBON_GATE_POLICY"
    )]
    pub policy: Vec<PathBuf>,
    /// Attribute every run to this model (default: the model the log names, e.g. CodeCarbon's
    /// project name).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The model version these runs produced (semver), matched against budgets' `versions`
    /// (default: the version the log names, if any).
    #[arg(long, value_name = "SEMVER", value_parser = parse_version)]
    pub model_version: Option<semver::Version>,
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
