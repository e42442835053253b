//! Records the git commit the binary is built from, for `carbon-gate --version`.
//!
//! Order: `CARBON_GATE_COMMIT` (set by builds without a `.git`, e.g. the container build's
//! `--build-arg REVISION`), else `git rev-parse --short=12 HEAD`, else `unknown` (a crate
//! tarball). Uncommitted changes are not marked: the commit is the base the build started from.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=CARBON_GATE_COMMIT");
    let from_env = std::env::var("CARBON_GATE_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
    let commit = from_env.or_else(|| {
        let head = git(&["rev-parse", "--short=12", "HEAD"])?;
        // Re-run when HEAD moves: HEAD itself, the branch it points at, and the packed refs —
        // only those that exist (cargo re-runs a build script on every build while a file it
        // watches is missing, which would recompile the crate every time).
        let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(branch);
        }
        for path in watched {
            if let Some(p) = git(&["rev-parse", "--git-path", &path])
                && std::path::Path::new(&p).exists()
            {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        Some(head)
    });
    println!(
        "cargo:rustc-env=CARBON_GATE_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".to_owned())
    );
}
