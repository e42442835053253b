//! The policy tamper guard: with `--policy-ref` the base commit's policy decides, whatever the
//! pull request did to `policies/`, and the report says what it changed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::git;

use std::path::Path;

const STRICT: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"1 mg\" }\n";
const LOOSE: &str = "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"1 kg\" }\nexceptions:\n  - model: text-gen\n    rule: budget-exceeded\n    reason: trust me\n    expires: 2099-01-01\n    approved-by: \"@author\"\n";

fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir(d.join("policies")).unwrap();
    std::fs::write(d.join("policies/budgets.yaml"), STRICT).unwrap();
    let log = std::fs::read(common::fixture("codecarbon/v3.3.2/emissions.csv")).unwrap();
    std::fs::write(d.join("emissions.csv"), log).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    tmp
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = common::bin()
        .current_dir(dir)
        .args(["check", "--policy", "policies/", "--model", "text-gen"])
        .args(extra)
        .arg("emissions.csv")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_loosened_working_tree_policy_does_not_change_the_verdict() {
    let tmp = repo();
    let d = tmp.path();
    // The pull request loosens its own budget and waives the failure.
    std::fs::write(d.join("policies/budgets.yaml"), LOOSE).unwrap();
    let (code, _, _) = check(d, &[]);
    assert_eq!(code, 0, "without the guard the loosened policy passes");
    let (code, stdout, stderr) = check(d, &["--policy-ref", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("**This change edits the carbon policy.**"),
        "{stdout}"
    );
    assert!(
        stdout.contains("co2e fail 1 mg, embodied ignore → co2e fail 1 kg, embodied ignore"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("exception added: text-gen budget-exceeded until 2099-01-01 by &#64;author"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`HEAD:policies/budgets.yaml:5:21`"),
        "the finding points at the base policy: {stdout}"
    );
    assert!(stderr.contains("[policy-changed]"), "{stderr}");
}

#[test]
fn an_untouched_policy_reports_no_change() {
    let tmp = repo();
    let (code, stdout, _) = check(tmp.path(), &["--policy-ref", "HEAD", "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["policy_ref"], "HEAD");
    assert_eq!(report["policy_changes"], serde_json::json!([]));
    assert_eq!(report["policy_files"][0], "HEAD:policies/budgets.yaml");
}

#[test]
fn an_unknown_ref_is_a_clear_error() {
    let tmp = repo();
    let (code, _, stderr) = check(tmp.path(), &["--policy-ref", "no-such-ref"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read the policy at no-such-ref"),
        "{stderr}"
    );
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
}

/// The comment states the policy change once, in its callout, not again under the input warnings.
#[test]
fn the_policy_change_is_stated_once_in_the_comment() {
    let tmp = repo();
    let d = tmp.path();
    std::fs::write(d.join("policies/budgets.yaml"), LOOSE).unwrap();
    let (_, stdout, _) = check(d, &["--policy-ref", "HEAD", "--format", "markdown"]);
    assert_eq!(
        stdout
            .matches("co2e fail 1 mg, embodied ignore → co2e fail 1 kg, embodied ignore")
            .count(),
        1,
        "{stdout}"
    );
    assert!(!stdout.contains("`policy-changed`"), "{stdout}");
    // The way out says that the policy at the base decides until the change is merged.
    assert!(
        stdout.contains("this check reads the policy at `HEAD`, so the change applies once merged"),
        "{stdout}"
    );
}
