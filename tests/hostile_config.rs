//! The tamper guard covers the configuration too (issue #17, item 6): with `--policy-ref`, the
//! `carbon-gate.yaml` of the base commit decides which logs are the candidate, the baseline and
//! the alternatives, and where the policy is. A pull request that points the candidate at a
//! decoy log (and moves the real one to the alternatives) no longer passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::git;

use std::path::Path;

const POLICY: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"1 kg\" }\n";

const BASE: &str = "version: 1\npolicy: [policies/budgets.yaml]\ncandidates:\n  - model: text-gen\n    version: 2.1.0\n    logs: [runs/real.ndjson]\n";

/// The PR's configuration: the candidate is a decoy log, the real one an "alternative".
const TAMPERED: &str = "version: 1\npolicy: [policies/budgets.yaml]\ncandidates:\n  - model: text-gen\n    version: 2.1.0\n    logs: [runs/decoy.ndjson]\n    alternatives:\n      - model: text-gen-old\n        version: 1.0.0\n        logs: [runs/real.ndjson]\n";

fn repo(base_config: Option<&str>) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("policies")).unwrap();
    std::fs::create_dir_all(d.join("runs")).unwrap();
    std::fs::write(d.join("policies/budgets.yaml"), POLICY).unwrap();
    // 5 kg: over the 1 kg budget.
    std::fs::write(
        d.join("runs/real.ndjson"),
        "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 5, \"energy_kwh\": 40}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("runs/decoy.ndjson"),
        "{\"run_id\": \"d1\", \"model\": \"text-gen\", \"co2e_kg\": 0.1, \"energy_kwh\": 1}\n",
    )
    .unwrap();
    if let Some(c) = base_config {
        std::fs::write(d.join("carbon-gate.yaml"), c).unwrap();
    }
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    tmp
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    common::outcome(
        common::bin()
            .current_dir(dir)
            .args(["check", "--config", "carbon-gate.yaml", "--format", "json"])
            .args(extra),
    )
}

#[test]
fn the_base_configuration_decides_under_policy_ref() {
    let tmp = repo(Some(BASE));
    let d = tmp.path();
    std::fs::write(d.join("carbon-gate.yaml"), TAMPERED).unwrap();
    // Without the guard, the PR's configuration passes the decoy.
    let (code, _, stderr) = check(d, &[]);
    assert_eq!(code, 0, "{stderr}");
    // With it, the base's configuration checks the real log: over budget.
    let (code, stdout, stderr) = check(d, &["--policy-ref", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("FAIL: text-gen 2.1.0"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let changes = report["policy_changes"].to_string();
    assert!(
        changes.contains("carbon-gate.yaml changed (the verdict used the configuration at main"),
        "{changes}"
    );
    assert!(stderr.contains("[policy-changed]"), "{stderr}");
}

#[test]
fn a_configuration_the_base_does_not_have_is_refused_under_policy_ref() {
    let tmp = repo(None);
    let d = tmp.path();
    std::fs::write(d.join("carbon-gate.yaml"), TAMPERED).unwrap();
    let (code, _, stderr) = check(d, &["--policy-ref", "main"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot read the configuration at main"),
        "{stderr}"
    );
}

#[test]
fn an_unchanged_configuration_is_not_reported() {
    let tmp = repo(Some(BASE));
    let (code, stdout, stderr) = check(tmp.path(), &["--policy-ref", "main"]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["policy_changes"], serde_json::json!([]), "{stdout}");
}

/// Logs the change edits are pointed out (item 7); a policy that requires evidence from the base
/// or from artifacts refuses them.
#[test]
fn logs_edited_by_the_change_are_shown_and_can_be_refused() {
    let tmp = repo(Some(BASE));
    let d = tmp.path();
    // The PR lowers the real log's figure and adds a log of its own.
    std::fs::write(
        d.join("runs/real.ndjson"),
        "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 0.5, \"energy_kwh\": 40}\n",
    )
    .unwrap();
    git(d, &["checkout", "-q", "-b", "pr"]);
    git(d, &["commit", "-q", "-am", "lower"]);
    let (code, stdout, stderr) = check(d, &["--policy-ref", "main"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["evidence_changes"],
        serde_json::json!(["runs/real.ndjson modified by this change (+1 −1 lines)"]),
        "{stdout}"
    );
    assert!(stderr.contains("[evidence-changed]"), "{stderr}");
    let out = common::bin()
        .current_dir(d)
        .args([
            "check",
            "--config",
            "carbon-gate.yaml",
            "--policy-ref",
            "main",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("This change edits the logs it is judged on (compared with main):"),
        "{table}"
    );

    // The base's policy requires evidence from the base or from artifacts: refused.
    std::fs::write(
        d.join("policies/budgets.yaml"),
        format!("{POLICY}evidence: base-or-artifact\n"),
    )
    .unwrap();
    git(d, &["commit", "-q", "-am", "strict"]);
    git(d, &["branch", "-f", "base"]);
    std::fs::write(
        d.join("runs/real.ndjson"),
        "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 0.4, \"energy_kwh\": 40}\n",
    )
    .unwrap();
    git(d, &["commit", "-q", "-am", "lower again"]);
    let (code, _, stderr) = check(d, &["--policy-ref", "base"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`evidence: base-or-artifact`")
            && stderr.contains("runs/real.ndjson modified"),
        "{stderr}"
    );
    // An untouched log (as the base has it) passes that rule.
    git(d, &["checkout", "-q", "base"]);
    let (code, _, stderr) = check(d, &["--policy-ref", "base"]);
    assert_eq!(code, 0, "{stderr}");
}

/// `check` without `--config` (issue #22): the `carbon-gate.yaml` it finds is read at the base
/// exactly as a named one.
fn check_found(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    common::outcome(
        common::bin()
            .current_dir(dir)
            .env("CI", "true")
            .args(["check", "--format", "json"])
            .args(extra),
    )
}

#[test]
fn a_configuration_found_is_read_at_the_base_under_policy_ref() {
    let tmp = repo(Some(BASE));
    let d = tmp.path();
    std::fs::write(d.join("carbon-gate.yaml"), TAMPERED).unwrap();
    let (code, _, stderr) = check_found(d, &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = check_found(d, &["--policy-ref", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: using configuration ./carbon-gate.yaml\n"),
        "{stderr}"
    );
    assert!(stderr.contains("FAIL: text-gen 2.1.0"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["policy_changes"]
            .to_string()
            .contains("carbon-gate.yaml changed (the verdict used the configuration at main"),
        "{stdout}"
    );
}

#[test]
fn deleting_the_configuration_does_not_escape_it_under_policy_ref() {
    let tmp = repo(Some(BASE));
    let d = tmp.path();
    std::fs::remove_file(d.join("carbon-gate.yaml")).unwrap();
    let (code, stdout, stderr) = check_found(d, &["--policy-ref", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: using configuration ./carbon-gate.yaml\n"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["policy_changes"]
            .to_string()
            .contains("carbon-gate.yaml removed in the working tree"),
        "{stdout}"
    );
}

#[test]
fn a_configuration_found_that_the_base_does_not_have_is_refused_under_policy_ref() {
    let tmp = repo(None);
    let d = tmp.path();
    std::fs::write(d.join("carbon-gate.yaml"), TAMPERED).unwrap();
    let (code, _, stderr) = check_found(d, &["--policy-ref", "main"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot read the configuration at main"),
        "{stderr}"
    );
}

/// A link or a directory found where the configuration is looked for is handled as a named one
/// is: the same verdict, the same error.
#[cfg(unix)]
#[test]
fn a_configuration_found_that_is_a_link_or_a_directory_is_handled_as_a_named_one() {
    let tmp = repo(None);
    let d = tmp.path();
    std::fs::write(d.join("elsewhere.yaml"), BASE).unwrap();
    std::os::unix::fs::symlink("elsewhere.yaml", d.join("carbon-gate.yaml")).unwrap();
    let named = check(d, &[]);
    let found = check_found(d, &[]);
    assert_eq!(named.0, 1, "{}", named.2);
    assert_eq!((found.0, &found.1), (named.0, &named.1), "{}", found.2);
    std::fs::remove_file(d.join("carbon-gate.yaml")).unwrap();
    std::fs::create_dir(d.join("carbon-gate.yaml")).unwrap();
    let named = check(d, &[]);
    let found = check_found(d, &[]);
    assert_eq!(named.0, 2, "{}", named.2);
    assert_eq!(found.0, 2, "{}", found.2);
    assert_eq!(
        found.2.replace("./carbon-gate.yaml", "carbon-gate.yaml"),
        named.2
    );
}
