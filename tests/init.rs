//! The first hour of a new user (issue #22, items 1–3): `init` scaffolds a setup that `check`
//! passes right away, `check`/`report`/`promote` find `carbon-gate.yaml` without `--config`, and a
//! first `check` without any policy teaches instead of stopping — outside CI only.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

/// A real CodeCarbon 3.3.2 log of two models (text-gen: 2 runs, summarizer: 1).
const TWO_MODELS: &str = "tests/fixtures/codecarbon/v3.3.2/emissions.csv";
/// A real CodeCarbon 3.3.2 log of one model (text-gen), with its per-task file.
const ONE_MODEL: &str = "tests/fixtures/codecarbon/task-v3.3.2";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A temporary directory holding a copy of the two-model log as `emissions.csv`.
fn two_models() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(TWO_MODELS), tmp.path().join("emissions.csv")).unwrap();
    tmp
}

/// A git work tree (a `.git` directory is all discovery looks for) with the one-model logs under
/// `runs/` and an empty `sub/`.
fn one_model_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::create_dir(d.join("runs")).unwrap();
    for entry in std::fs::read_dir(fixture(ONE_MODEL)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), d.join("runs").join(entry.file_name())).unwrap();
    }
    tmp
}

/// Run in `dir` with `CI` as given (`None`: unset); (exit code, stdout, stderr).
fn run_in(dir: &Path, ci: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = common::bin();
    cmd.current_dir(dir).args(args);
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

const TWO_MODEL_NOTE: &str = "carbon-gate: note: carbon-gate.yaml not written: the logs hold 2 models, and a configuration's candidate counts all of its logs as one model version; `check` takes the logs instead\n";

#[test]
fn init_writes_the_policy_its_schema_and_the_workflow() {
    let tmp = two_models();
    let d = tmp.path();
    let (code, stdout, stderr) = run_in(d, Some("true"), &["init", "--workflow", "emissions.csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "wrote policies/carbon-budgets.yaml\n\
         wrote policies/policy.schema.json\n\
         wrote .github/workflows/carbon-gate.yml\n\
         2 budgets from the measured totals: warn at 1.5x, fail at 2x (see the comments in policies/carbon-budgets.yaml)\n\
         next: carbon-gate check emissions.csv\n"
    );
    assert_eq!(stderr, TWO_MODEL_NOTE);
    insta::assert_snapshot!("init_policy", read(d, "policies/carbon-budgets.yaml"));
    insta::assert_snapshot!(
        "init_workflow",
        read(d, ".github/workflows/carbon-gate.yml")
    );
    let (_, schema, _) = run_in(d, None, &["policy", "schema"]);
    assert_eq!(read(d, "policies/policy.schema.json"), schema);
    assert!(!d.join("carbon-gate.yaml").exists());
    // What it wrote validates.
    let (code, _, stderr) = run_in(d, None, &["policy", "validate", "policies"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn check_right_after_init_passes_on_the_same_logs() {
    let tmp = two_models();
    let d = tmp.path();
    assert_eq!(run_in(d, None, &["init", "emissions.csv"]).0, 0);
    // CI set: the policy init wrote is what passes, not the no-policy first run.
    let (code, stdout, stderr) = run_in(
        d,
        Some("true"),
        &["check", "--format", "json", "emissions.csv"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "carbon-gate: PASS: 2 models within budget\n");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verdict"], "pass");
    for m in report["models"].as_array().unwrap() {
        assert_eq!(m["verdict"], "pass", "{m}");
        assert_eq!(m["findings"], serde_json::json!([]), "{m}");
    }
}

#[test]
fn init_with_one_versioned_model_writes_a_configuration_and_check_needs_no_argument() {
    let tmp = one_model_repo();
    let d = tmp.path();
    let (code, stdout, stderr) = run_in(
        d,
        None,
        &["init", "--model-version", "1.0.0", "--workflow", "runs"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "wrote policies/carbon-budgets.yaml\n\
         wrote policies/policy.schema.json\n\
         wrote carbon-gate.yaml\n\
         wrote .github/workflows/carbon-gate.yml\n\
         1 budget from the measured totals: warn at 1.5x, fail at 2x (see the comments in policies/carbon-budgets.yaml)\n\
         next: carbon-gate check\n"
    );
    insta::assert_snapshot!("init_config", read(d, "carbon-gate.yaml"));
    assert!(
        read(d, ".github/workflows/carbon-gate.yml")
            .ends_with("        with:\n          config: carbon-gate.yaml\n")
    );
    let (code, stdout, stderr) = run_in(d, Some("true"), &["check", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: using configuration ./carbon-gate.yaml\n"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("carbon-gate: PASS: 1 model within budget\n"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["models"][0]["model"], "text-gen");
    assert_eq!(report["models"][0]["version"], "1.0.0");
}

#[test]
fn init_without_logs_reads_emissions_csv_or_says_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (code, stdout, stderr) = run_in(d, None, &["init"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "carbon-gate: error: no logs named and no emissions.csv here: give the emissions logs to set the budgets from, e.g. `carbon-gate init runs/emissions.csv` or `carbon-gate init runs/` (CodeCarbon writes emissions.csv in the directory the training ran in)\n"
    );
    assert!(!d.join("policies").exists());

    std::fs::copy(fixture(TWO_MODELS), d.join("emissions.csv")).unwrap();
    let (code, stdout, stderr) = run_in(d, None, &["init"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "carbon-gate: no logs named: reading emissions.csv (where CodeCarbon writes by default)\n{TWO_MODEL_NOTE}"
        )
    );
    assert!(stdout.ends_with("next: carbon-gate check emissions.csv\n"));
}

#[test]
fn logs_named_by_an_absolute_path_here_are_written_relative() {
    let tmp = one_model_repo();
    // The temporary directory may be reached through a link (macOS /var): name it as the
    // process sees its current directory.
    let d = tmp.path().canonicalize().unwrap();
    let logs = d.join("runs");
    let (code, stdout, stderr) = run_in(&d, None, &["init", "--no-config", logs.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.ends_with("next: carbon-gate check runs\n"),
        "{stdout}"
    );
    assert!(
        read(&d, "policies/carbon-budgets.yaml").contains("from the emissions logs \"runs\".\n"),
    );
}

#[test]
fn rerunning_without_force_exits_2_and_changes_nothing() {
    let tmp = two_models();
    let d = tmp.path();
    assert_eq!(run_in(d, None, &["init", "emissions.csv"]).0, 0);
    // The user tightened a limit since.
    let edited = read(d, "policies/carbon-budgets.yaml").replace("4.6 mg", "4 mg");
    std::fs::write(d.join("policies/carbon-budgets.yaml"), &edited).unwrap();
    let (code, stdout, stderr) = run_in(d, None, &["init", "--workflow", "emissions.csv"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "carbon-gate: error: policies/carbon-budgets.yaml, policies/policy.schema.json already exist: carbon-gate init does not overwrite; nothing was written. Pass --force to replace them, or move them aside\n"
    );
    assert_eq!(read(d, "policies/carbon-budgets.yaml"), edited);
    // Nothing else was written either: not even the workflow, which did not exist.
    assert!(!d.join(".github").exists());
}

#[test]
fn force_overwrites() {
    let tmp = two_models();
    let d = tmp.path();
    assert_eq!(run_in(d, None, &["init", "emissions.csv"]).0, 0);
    let written = read(d, "policies/carbon-budgets.yaml");
    std::fs::write(
        d.join("policies/carbon-budgets.yaml"),
        "version: 1\nbudgets: []\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(d, None, &["init", "--force", "emissions.csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("wrote policies/carbon-budgets.yaml\n"));
    assert_eq!(read(d, "policies/carbon-budgets.yaml"), written);
}

#[test]
fn a_symlinked_target_is_refused_even_with_force() {
    let tmp = two_models();
    let d = tmp.path();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.yaml");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir(d.join("policies")).unwrap();
    std::os::unix::fs::symlink(&victim, d.join("policies/carbon-budgets.yaml")).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec!["init"];
        args.extend_from_slice(extra);
        args.push("emissions.csv");
        let (code, _, stderr) = run_in(d, None, &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(
            stderr.ends_with("carbon-gate: error: policies/carbon-budgets.yaml is a symbolic link: carbon-gate init neither writes through a link nor replaces one (even with --force); remove it, or write the files yourself\n"),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        std::fs::symlink_metadata(d.join("policies/carbon-budgets.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!d.join("policies/policy.schema.json").exists());
}

#[test]
fn a_symlinked_directory_on_the_way_is_refused() {
    let tmp = two_models();
    let d = tmp.path();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), d.join(".github")).unwrap();
    let (code, _, stderr) = run_in(d, None, &["init", "--force", "--workflow", "emissions.csv"]);
    assert_eq!(code, 2);
    assert!(
        stderr.ends_with("carbon-gate: error: .github is a symbolic link: carbon-gate init neither writes through a link nor replaces one (even with --force); remove it, or write the files yourself\n"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!d.join("policies").exists());
}

/// A configuration in the work tree, written by init, for the discovery tests.
fn configured_repo() -> tempfile::TempDir {
    let tmp = one_model_repo();
    let (code, _, stderr) = run_in(
        tmp.path(),
        None,
        &["init", "--model-version", "1.0.0", "runs"],
    );
    assert_eq!(code, 0, "{stderr}");
    tmp
}

#[test]
fn the_configuration_is_found_from_a_subdirectory_of_the_work_tree() {
    let tmp = configured_repo();
    let sub = tmp.path().join("sub");
    let (code, stdout, stderr) = run_in(&sub, Some("true"), &["check", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: using configuration ../carbon-gate.yaml\n"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["models"][0]["version"], "1.0.0");
    // Above the work tree nothing is looked for: without `.git` there is no root.
    std::fs::remove_dir(tmp.path().join(".git")).unwrap();
    let (code, _, stderr) = run_in(&sub, Some("true"), &["check", "--policy", "../policies"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "carbon-gate: error: give the emissions logs to check (files or directories), or --config carbon-gate.yaml\n"
    );
}

#[test]
fn an_explicit_configuration_wins_and_is_not_announced() {
    let tmp = configured_repo();
    let d = tmp.path();
    let other = read(d, "carbon-gate.yaml").replace("\"1.0.0\"", "\"2.0.0\"");
    std::fs::write(d.join("other.yaml"), other).unwrap();
    let (code, stdout, stderr) = run_in(
        d,
        Some("true"),
        &["check", "--config", "other.yaml", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("using configuration"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["models"][0]["version"], "2.0.0");
}

#[test]
fn logs_on_the_command_line_are_checked_instead_of_the_configuration() {
    let tmp = configured_repo();
    let d = tmp.path();
    let (code, stdout, stderr) = run_in(
        d,
        Some("true"),
        &["check", "--format", "json", "runs/emissions.csv"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: ./carbon-gate.yaml not used: the logs named on the command line are the candidates (pass --config ./carbon-gate.yaml to check the candidates it lists)\n"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The log names no version; the configuration's 1.0.0 was not used.
    assert_eq!(report["models"][0]["version"], serde_json::Value::Null);
}

#[test]
fn report_and_promote_use_the_configuration_found() {
    let tmp = configured_repo();
    let d = tmp.path();
    let (code, _, stderr) = run_in(d, None, &["report", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("carbon-gate: using configuration ./carbon-gate.yaml\n"),
        "{stderr}"
    );
    // promote reads the policy the configuration names, before it contacts the registry (port 9
    // is never listened on: reaching it would be exit 3, not this exit 2).
    std::fs::write(
        d.join("carbon-gate.yaml"),
        read(d, "carbon-gate.yaml").replace("policies/", "strict/"),
    )
    .unwrap();
    std::fs::create_dir(d.join("strict")).unwrap();
    std::fs::write(d.join("strict/p.yaml"), "version: 1\nbudgets: oops\n").unwrap();
    let (code, _, stderr) = run_in(
        d,
        None,
        &[
            "promote",
            "--tracking-uri",
            "http://127.0.0.1:9",
            "--model",
            "text-gen",
            "--version",
            "1",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("strict/p.yaml"), "{stderr}");
}

#[test]
fn a_first_check_without_any_policy_teaches_outside_ci_only() {
    let tmp = two_models();
    let d = tmp.path();
    let warning = "warning: no policy: `policies` does not exist, so no budget was checked; write budgets from these totals with `carbon-gate init LOGS` (docs/getting-started.md). In CI (CI set) a missing policy is an error [no-policy]\n";
    // CI unset, or set but empty: the totals, the warning, exit 0.
    for ci in [None, Some("")] {
        let (code, stdout, stderr) = run_in(d, ci, &["check", "--format", "json", "emissions.csv"]);
        assert_eq!(code, 0, "CI={ci:?}: {stderr}");
        assert!(stderr.starts_with(warning), "{stderr}");
        assert!(
            stderr.ends_with(
                "carbon-gate: no policy: 2 model versions measured, no budget checked; add budgets with `carbon-gate init`\n"
            ),
            "{stderr}"
        );
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["warnings"][0]["code"], "no-policy");
        assert_eq!(report["models"].as_array().unwrap().len(), 2);
    }
    // In CI: a gate never passes without its policy.
    let (code, stdout, stderr) = run_in(d, Some("true"), &["check", "emissions.csv"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "carbon-gate: error: bad policy: policies: does not exist, and no --policy or configuration names a policy; in CI (CI is set) a gate never passes without one\n  help: write budgets with `carbon-gate init LOGS` and commit policies/, or pass --policy PATH\n"
    );
    // A policy named, outside CI: missing is an error too.
    let (code, _, stderr) = run_in(d, None, &["check", "--policy", "policies", "emissions.csv"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("carbon-gate: error: bad policy: policies: cannot read policy:"),
        "{stderr}"
    );
    let mut cmd = common::bin();
    let out = cmd
        .current_dir(d)
        .env_remove("CI")
        .env("CARBON_GATE_POLICY", "policies")
        .args(["check", "emissions.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
