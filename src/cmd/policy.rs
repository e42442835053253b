//! `carbon-gate policy validate`.

use crate::error::Error;
use crate::exit::Exit;
use crate::policy;

use super::Outcome;

pub(crate) fn policy_validate(paths: &[std::path::PathBuf]) -> Result<Outcome, Error> {
    let loaded = policy::load(paths)?;
    let mut stderr = crate::diagnostic::warning_lines(&loaded.warnings);
    let n = loaded.policy.budgets.len();
    stderr.push(format!(
        "carbon-gate: policy OK: {n} budget{} in {} file{}",
        if n == 1 { "" } else { "s" },
        loaded.policy.files.len(),
        if loaded.policy.files.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    Ok(Outcome {
        stdout: Vec::new(),
        stderr,
        exit: Exit::Pass,
    })
}
