//! Where the evidence a check read comes from, relative to the base of a pull request: files the
//! change added or modified (their author could have written any figure into them), files as
//! the base has them, and files from outside the repository (the training job's artifacts).
//!
//! Asked of git once per check: `git diff --numstat -z <base> -- <logs…>` lists the tracked files
//! under the logs given whose content differs from the base, with the lines added and removed.
//! A file git does not track (outside the work tree, or untracked: downloaded by a workflow
//! step) is not part of the change.

use std::path::{Path, PathBuf};

/// A log the change added or modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The file, as the check read it.
    pub path: PathBuf,
    /// Lines added and removed (`None` for a file git sees as binary).
    pub lines: Option<(u64, u64)>,
    /// The base does not have it.
    pub added: bool,
}

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = crate::error::display_path(&self.path);
        match (self.added, self.lines) {
            (true, Some((a, _))) => write!(f, "{path} added by this change ({a} lines)"),
            (true, None) => write!(f, "{path} added by this change"),
            (false, Some((a, r))) => write!(f, "{path} modified by this change (+{a} −{r} lines)"),
            (false, None) => write!(f, "{path} modified by this change"),
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

/// The files among `read` (the files a check read, under the `logs` it was given) that the
/// change since `base` added or modified; `Err` when git cannot answer (not a repository, no
/// such ref).
pub fn changed_since(
    base: &str,
    logs: &[PathBuf],
    read: &[PathBuf],
) -> Result<Vec<Changed>, String> {
    let base = crate::git::revision(base)?;
    if logs.is_empty() {
        return Ok(Vec::new());
    }
    // Logs outside the work tree are not the change's (git would refuse them as pathspecs).
    let top = crate::git::run(&["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let logs: Vec<&PathBuf> = logs
        .iter()
        .filter(|p| std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(&top)))
        .collect();
    if logs.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<String> = [
        "diff",
        "--numstat",
        "-z",
        "--relative",
        "--no-renames",
        base,
        "--",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(logs.iter().map(|p| crate::error::path_text(p)));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let numstat = crate::git::run(&argv)?;
    let mut added_args: Vec<String> = [
        "diff",
        "--name-only",
        "-z",
        "--relative",
        "--no-renames",
        "--diff-filter=A",
        base,
        "--",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    added_args.extend(logs.iter().map(|p| crate::error::path_text(p)));
    let argv: Vec<&str> = added_args.iter().map(String::as_str).collect();
    let added_list = crate::git::run(&argv)?;
    let added: std::collections::HashSet<PathBuf> = added_list
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| canonical(Path::new(&*String::from_utf8_lossy(n))))
        .collect();
    // The files read, by canonical path: one look-up per changed file.
    let by_canonical: std::collections::HashMap<PathBuf, &PathBuf> =
        read.iter().map(|p| (canonical(p), p)).collect();
    let mut out = Vec::new();
    // `-z` numstat: "added\tremoved\tpath\0" per file.
    for entry in numstat.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        let mut parts = text.splitn(3, '\t');
        let (Some(a), Some(r), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let changed = canonical(Path::new(name));
        let Some(path) = by_canonical.get(&changed) else {
            continue;
        };
        let lines = a.parse().ok().zip(r.parse().ok());
        out.push(Changed {
            path: (*path).clone(),
            lines,
            added: added.contains(&changed),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
