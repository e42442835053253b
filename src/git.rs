//! The one way carbon-gate asks git: the policy and configuration at a ref (`--policy-ref`), the
//! files a change touched (`--changed-since`). git runs in the current directory with the
//! arguments given and nothing else; a failure is git's own message on one line.

use std::process::Command;

/// The largest file read at a ref: the bound of every document carbon-gate reads
/// ([`crate::bounded::MAX_DOCUMENT`]).
const MAX_BLOB: u64 = crate::bounded::MAX_DOCUMENT;

/// `reference` when git can only read it as a revision: not empty, not starting with `-` (git
/// would take it for an option), no white space or control character.
pub fn revision(reference: &str) -> Result<&str, String> {
    if reference.is_empty()
        || reference.starts_with('-')
        || reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "`{reference}` is not a git revision carbon-gate passes to git (empty, starting with `-`, or with white space)"
        ));
    }
    Ok(reference)
}

/// What git printed on standard output, or why it did not answer.
pub fn run(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr);
        return Err(message.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    Ok(out.stdout)
}

/// [`run`], as text.
pub fn text(args: &[&str]) -> Result<String, String> {
    String::from_utf8(run(args)?).map_err(|_| "git printed non-UTF-8 text".to_owned())
}

/// Whether `reference` names a commit git has.
pub fn has_commit(reference: &str) -> bool {
    let Ok(reference) = revision(reference) else {
        return false;
    };
    run(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{reference}^{{commit}}"),
    ])
    .is_ok()
}

/// The bytes of `path` at `reference`, refused above the document bound before git prints it.
pub fn show(reference: &str, path: &str) -> Result<Vec<u8>, String> {
    let object = format!("{}:{path}", revision(reference)?);
    let size = text(&["cat-file", "-s", &object])?;
    match size.trim().parse::<u64>() {
        Ok(n) if n <= MAX_BLOB => run(&["show", &object]),
        Ok(n) => Err(format!(
            "{object} is {n} bytes, over the {} carbon-gate reads",
            crate::bounded::MAX_DOCUMENT_TEXT
        )),
        Err(_) => Err(format!("git gave no size for {object}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_revisions_reach_git() {
        assert_eq!(revision("origin/main"), Ok("origin/main"));
        assert_eq!(revision("3f2a9c1"), Ok("3f2a9c1"));
        for bad in ["", "--output=/tmp/x", "-c", "main extra", "main\n"] {
            assert!(revision(bad).is_err(), "{bad:?}");
        }
        assert!(!has_commit("--all"));
        assert!(show("--output=/tmp/x", "policies/p.yaml").is_err());
    }
}
