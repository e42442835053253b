//! `carbon-gate` binary: parse the command line, run, print, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use carbon_gate::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match carbon_gate::run(cli) {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&outcome.stdout)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                // A closed pipe (e.g. `| head`) is not the tool's failure; the verdict stands.
            }
            let mut stderr = std::io::stderr().lock();
            for line in &outcome.stderr {
                let _ = writeln!(stderr, "{line}");
            }
            outcome.exit.into()
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "carbon-gate: error: {err}");
            err.exit().into()
        }
    }
}
