//! Which `carbon-gate.yaml` a command uses: the one `--config` names, else one found in the
//! current directory, else at the top of the git work tree (the nearest directory above that
//! holds `.git`; git is not run to find it). A found file is then used exactly as a named one:
//! read at the base with `--policy-ref`, refused when it is a link or not a regular file.
//!
//! `check` and `report` look for one only when no logs are named on the command line: logs named
//! there are the candidates, and a configuration names its own.

use std::path::{Path, PathBuf};

use crate::cli::EvalArgs;
use crate::error::display_path;

/// The file name looked for.
pub(crate) const CONFIG_NAME: &str = "carbon-gate.yaml";

/// The places looked at, in order, relative to the current directory: `carbon-gate.yaml` (the
/// path `--config carbon-gate.yaml` names, so reports and annotations name the same files), then
/// `../…/carbon-gate.yaml` at the top of the work tree when that is above the current directory
/// (git reads a path starting with `../` at a ref relative to the current directory too).
pub(crate) fn places() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from(CONFIG_NAME)];
    let Ok(cwd) = std::env::current_dir() else {
        return out;
    };
    for (depth, dir) in cwd.ancestors().enumerate() {
        if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
            if depth > 0 {
                let mut up: PathBuf = std::iter::repeat_n("..", depth).collect();
                up.push(CONFIG_NAME);
                out.push(up);
            }
            break;
        }
    }
    out
}

/// Whether anything is at `path`: a link or a directory counts, to be refused as a named
/// configuration would be.
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The first of [`places`] that exists in the working tree.
pub(crate) fn in_working_tree() -> Option<PathBuf> {
    places().into_iter().find(|p| exists(p))
}

/// `path` for people: `./carbon-gate.yaml` rather than a bare name.
fn shown(path: &Path) -> String {
    if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        format!("./{}", display_path(path))
    } else {
        display_path(path)
    }
}

/// The line that says which configuration a command found and used.
pub(crate) fn using_line(path: &Path) -> String {
    format!("carbon-gate: using configuration {}", shown(path))
}

/// The configuration of `check` or `report`, and the lines to say about it: `--config`; else,
/// when no logs are named, the first of [`places`] in the working tree, or the first that
/// `at_ref` says exists at the base (`--policy-ref`: a change that deletes the configuration
/// must not escape it).
pub(crate) fn for_eval(
    eval: &EvalArgs,
    at_ref: &dyn Fn(&Path) -> bool,
) -> (Option<PathBuf>, Vec<String>) {
    if let Some(named) = &eval.config {
        return (Some(named.clone()), Vec::new());
    }
    let places = places();
    let here = places.iter().find(|p| exists(p));
    if !eval.input.logs.is_empty() {
        let notes = here
            .map(|p| {
                let shown = shown(p);
                vec![format!(
                    "carbon-gate: {shown} not used: the logs named on the command line are the candidates (pass --config {shown} to check the candidates it lists)"
                )]
            })
            .unwrap_or_default();
        return (None, notes);
    }
    match here.or_else(|| places.iter().find(|p| at_ref(p))) {
        Some(found) => (Some(found.clone()), vec![using_line(found)]),
        None => (None, Vec::new()),
    }
}
