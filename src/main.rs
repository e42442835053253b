//! `carbon-gate` binary: parse the command line, run, print, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use carbon_gate::cli::Cli;
use carbon_gate::error::defuse_commands;
use carbon_gate::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match carbon_gate::run(cli) {
        Ok(outcome) => {
            let written = write_stdout(&outcome.stdout);
            let mut stderr = std::io::stderr().lock();
            // Standard error never carries the tool's own workflow commands: every line of it is
            // defused (a server's message or a file name cannot start one).
            for line in &outcome.stderr {
                let _ = writeln!(stderr, "{}", defuse_commands(line));
            }
            match written {
                Ok(()) => outcome.exit.into(),
                Err(e) => {
                    // A report that did not arrive is an error, never a silent pass: exit 2, or
                    // the verdict's code where that is more severe (3 stays 3).
                    let _ = writeln!(
                        stderr,
                        "carbon-gate: error: cannot write the report to standard output: {e}"
                    );
                    if outcome.exit.code() > Exit::BadInput.code() {
                        outcome.exit.into()
                    } else {
                        Exit::BadInput.into()
                    }
                }
            }
        }
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "carbon-gate: error: {}",
                defuse_commands(&err.to_string())
            );
            err.exit().into()
        }
    }
}

/// Write the report to standard output and flush it, reporting every failure (a full device,
/// a closed pipe: `EPIPE`, as Rust ignores `SIGPIPE`). A descriptor closed before the start
/// (`>&-`) is reopened on `/dev/null` by the Rust runtime, so it discards like `>/dev/null`.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}
