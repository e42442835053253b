//! The commands: one module per subcommand, each wiring the stages (reading, evaluating,
//! rendering, publishing) for the command line, and the modules they share. [`run`] dispatches a
//! parsed command line; no command prints, each returns an [`Outcome`].

pub(crate) mod action;
pub(crate) mod at_ref;
pub(crate) mod check;
pub(crate) mod discover;
pub(crate) mod estimate;
pub(crate) mod evaluate;
pub(crate) mod groups;
pub(crate) mod ingest;
pub(crate) mod init;
pub(crate) mod ledger;
pub(crate) mod no_policy;
pub(crate) mod output;
pub(crate) mod policy;
pub(crate) mod promote;
pub(crate) mod publish;
pub(crate) mod read;
pub(crate) mod record;
pub(crate) mod reference;
pub(crate) mod report;
pub(crate) mod schedule;
pub(crate) mod schema;
pub(crate) mod shell;
pub(crate) mod tracking;

use crate::cli::{Cli, Command, PolicyCommand};
use crate::error::Error;
use crate::exit::Exit;

pub use action::action_command;

/// What a command produced: what goes to standard output, the lines for standard error, and the
/// exit status.
#[derive(Debug)]
pub struct Outcome {
    /// Bytes for standard output (empty when the report went to `--output`).
    pub stdout: Vec<u8>,
    /// Lines for standard error: warnings and the one-line verdict.
    pub stderr: Vec<String>,
    /// The exit status.
    pub exit: Exit,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    let gate = matches!(cli.command, Command::Check(_) | Command::Promote(_));
    let outcome = dispatch(cli.command)?;
    Ok(if cli.quiet {
        quieten(outcome, gate)
    } else {
        outcome
    })
}

/// `--quiet`: the gates (`check`, `promote`) keep only their verdict line (their last line) and
/// the tool's own failures (`carbon-gate: warning: …`, e.g. a comment that could not be
/// published), with no report on standard output; every other command keeps its output and
/// drops the warnings about the logs (`warning: …`).
fn quieten(mut outcome: Outcome, gate: bool) -> Outcome {
    if gate {
        outcome.stdout.clear();
        let verdict = outcome.stderr.pop();
        outcome
            .stderr
            .retain(|line| line.starts_with("carbon-gate: warning:"));
        outcome.stderr.extend(verdict);
    } else {
        outcome.stderr.retain(|line| !line.starts_with("warning: "));
    }
    outcome
}

fn dispatch(command: Command) -> Result<Outcome, Error> {
    match command {
        Command::Check(args) => check::check(&args),
        Command::Ingest(args) => ingest::ingest_command(&args),
        Command::Policy(PolicyCommand::Validate { paths }) => policy::policy_validate(&paths),
        Command::Policy(PolicyCommand::Schema) => {
            Ok(schema::schema_command(crate::cli::SchemaKind::Policy))
        }
        Command::Estimate(args) => estimate::estimate_command(&args),
        Command::Promote(args) => promote::promote(&args, &set_var),
        Command::Record(args) => record::record(&args, &set_var),
        Command::Ledger(command) => ledger::ledger_command(&command),
        Command::Action => action_command(&|k| std::env::var(k).ok()),
        Command::Reference(cmd) => reference::reference_command(&cmd),
        Command::Report(args) => report::report_command(&args),
        Command::Schedule(args) => schedule::schedule_command(&args, &set_var),
        Command::Schema { which } => Ok(schema::schema_command(which)),
        Command::Completions { shell } => Ok(shell::completions(shell)),
        Command::Man { output_dir } => shell::man(output_dir.as_deref()),
        Command::Init(args) => init::init_command(&args),
    }
}

/// An environment variable that is set and not empty (an empty `MLFLOW_TRACKING_TOKEN=` or
/// `GITHUB_TOKEN=` counts as unset). The action reads its inputs with `std::env::var` itself: an
/// input left empty is GitHub's way of passing "not given".
pub(crate) fn set_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Today, UTC.
pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}
