//! Helpers shared by the integration tests: run the real binary, read its JSON.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The `carbon-gate` binary, run from the crate root with a clean environment for colour.
pub fn bin() -> Command {
    let mut cmd = Command::cargo_bin("carbon-gate").expect("binary built");
    cmd.env_remove("CARBON_GATE_POLICY")
        .env_remove("CARBON_GATE_LEDGER")
        .env_remove("CARBON_GATE_LEDGER_CA")
        .env("NO_COLOR", "1");
    cmd
}

/// A fixture path under `tests/fixtures/`.
pub fn fixture(rel: &str) -> String {
    format!("tests/fixtures/{rel}")
}

/// Run and return (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    outcome(bin().args(args))
}

/// Run `cmd` (the binary with its arguments and environment set) and return (exit code,
/// stdout, stderr).
pub fn outcome(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// Run, expect `code`, and parse stdout as JSON.
pub fn run_json(args: &[&str], code: i32) -> Value {
    let (got, stdout, stderr) = run(args);
    assert_eq!(got, code, "exit code of {args:?}; stderr:\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON of {args:?}: {e}\n{stdout}"))
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

/// A number from JSON.
pub fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `check --format json` with a policy written from `policy_yaml`, plus `args`; expect `code`.
pub fn check_json(policy_yaml: &str, args: &[&str], code: i32) -> Value {
    let tmp = tempfile::tempdir().expect("temp dir");
    let policy = write(tmp.path(), "policy.yaml", policy_yaml);
    let mut all = vec![
        "check",
        "--policy",
        policy.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    run_json(&all, code)
}

/// Run git in `dir` with a fixed author, and expect it to succeed.
pub fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
