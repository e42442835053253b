//! The binary run the way `action.yml` runs it: `carbon-gate action` with the inputs as
//! `INPUT_*` environment variables (as GitHub sets them for a Docker action), a pull-request
//! event file, `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`. Commenting is off here (the GitHub API
//! itself is exercised in tests/github.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

/// Run `carbon-gate action` with `inputs` (name, value) in `dir`.
fn action(dir: &Path, inputs: &[(&str, &str)]) -> (i32, String, String) {
    std::fs::write(
        dir.join("event.json"),
        r#"{"number": 7, "pull_request": {"number": 7, "head": {"sha": "h", "repo": {"full_name": "o/r"}}, "base": {"sha": "b", "repo": {"full_name": "o/r"}}}}"#,
    )
    .unwrap();
    let mut cmd = common::bin();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_EVENT_PATH", dir.join("event.json"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .env("RUNNER_TEMP", dir)
        .env_remove("GITHUB_TOKEN")
        // action.yml's defaults, as GitHub passes them.
        .env("INPUT_POLICY", "policies")
        .env("INPUT_COMMENT", "off")
        .env("INPUT_TAG", "default")
        .env("INPUT_FAIL-ON", "fail")
        .env("INPUT_FORMAT", "table")
        .env("INPUT_GITHUB-TOKEN", "ghs_ActionTokenThatMustNotLeak")
        // No git history here: read the working tree's policy.
        .env("INPUT_POLICY-REF", "none");
    for (k, v) in inputs {
        cmd.env(format!("INPUT_{}", k.to_ascii_uppercase()), v);
    }
    let out = cmd.arg("action").output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn outputs(dir: &Path) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("output.txt")).unwrap();
    let mut map = std::collections::HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delim) = line.split_once("<<").unwrap();
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
        map.insert(name.to_owned(), value.join("\n"));
    }
    map
}

#[test]
fn a_passing_example() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = action(
        tmp.path(),
        &[("logs", "examples/runs/"), ("model-version", "2.1.0")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("│ text-gen   ┆ 2.1.0"), "{stdout}");
    let out = outputs(tmp.path());
    assert_eq!(out["verdict"], "warn");
    assert_eq!(out["co2e-kg"], "0.000003343409678063297");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out["report-json"]).unwrap()).unwrap();
    assert_eq!(json["verdict"], "warn");
    let summary = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
    assert!(summary.starts_with("## ⚠️ carbon-gate: WARN"));
    assert!(!stdout.contains("ghs_") && !stderr.contains("ghs_"));
}

#[test]
fn a_failing_example_and_fail_on() {
    let tmp = tempfile::tempdir().unwrap();
    // text-gen in the CodeCarbon 1.2.0 fixture emitted 15.2 mg, over the 5 mg fail limit.
    let inputs = [
        ("logs", "tests/fixtures/codecarbon/v1.2.0"),
        ("model-version", "2.1.0"),
    ];
    let (code, stdout, stderr) = action(tmp.path(), &inputs);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("::error file=policies/carbon-budgets.yaml,line=16,col=35,"),
        "{stdout}"
    );
    assert_eq!(outputs(tmp.path())["verdict"], "fail");
    // fail-on: never reports without failing the step.
    let tmp = tempfile::tempdir().unwrap();
    let (code, ..) = action(tmp.path(), &[inputs[0], inputs[1], ("fail-on", "never")]);
    assert_eq!(code, 0);
    // fail-on: warn fails on a warning too.
    let tmp = tempfile::tempdir().unwrap();
    let (code, ..) = action(
        tmp.path(),
        &[
            ("logs", "examples/runs/"),
            ("model-version", "2.1.0"),
            ("fail-on", "warn"),
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn inputs_reach_the_binary_as_data_not_shell() {
    let tmp = tempfile::tempdir().unwrap();
    // A hostile model name stays a model name.
    let (code, _, stderr) = action(
        tmp.path(),
        &[
            ("logs", "examples/runs/"),
            ("model", "$(touch /tmp/pwned); `id`"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!Path::new("/tmp/pwned").exists());
    let summary = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("&#36;(touch /tmp/pwned); &#96;id&#96;"),
        "{summary}"
    );
    // A bad input is a clear error, not a panic, and the token stays hidden.
    let (code, _, stderr) = action(
        tmp.path(),
        &[("logs", "examples/runs/"), ("comment", "sometimes")],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the action's inputs do not make a valid command"),
        "{stderr}"
    );
    assert!(!stderr.contains("ghs_ActionTokenThatMustNotLeak"));
}

#[test]
fn the_policy_defaults_to_the_base_commit() {
    // Without `policy-ref`, the event's base SHA is used; here it does not exist, so the check
    // stops with a located error rather than trusting the working tree.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("event.json"),
        r#"{"pull_request": {"number": 7, "head": {"sha": "h"}, "base": {"sha": "0123456789abcdef0123456789abcdef01234567"}}}"#,
    )
    .unwrap();
    let out = common::bin()
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_EVENT_PATH", tmp.path().join("event.json"))
        .env_remove("GITHUB_TOKEN")
        .env("INPUT_LOGS", "examples/runs/")
        .env("INPUT_COMMENT", "off")
        .arg("action")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the policy at 0123456789abcdef0123456789abcdef01234567"),
        "{stderr}"
    );
}

/// action.yml's own `gate` step, run as the runner runs a composite step: its `env:` mapping with
/// each `${{ inputs.* }}` replaced by the input (or its default), its `run:` line in bash, and
/// `carbon-gate` on PATH (the setup step's job). Inputs that differ only in `-`/`_` reach the
/// binary, the outputs the composite maps (`steps.gate.outputs.*`) are written, and a hostile
/// input stays data.
#[test]
fn the_composite_gate_step_runs_as_written_in_action_yml() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string("action.yml").unwrap()).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let gate = steps.iter().find(|s| s["id"] == "gate").unwrap();
    assert_eq!(gate["shell"], "bash");
    let run = gate["run"].as_str().unwrap();
    assert_eq!(
        run, "carbon-gate action",
        "the run line must not interpolate inputs"
    );
    for (name, _) in action["outputs"].as_mapping().unwrap() {
        let value = action["outputs"][name]["value"].as_str().unwrap();
        assert!(value.starts_with("${{ steps."), "{name:?}: {value}");
    }
    let given = [
        ("logs", "examples/runs/"),
        ("model-version", "2.1.0"),
        ("comment", "off"),
        ("policy-ref", "none"),
        ("tag", "$(touch /tmp/carbon-gate-pwned) `id`"),
    ];
    let input = |name: &str| -> String {
        if let Some((_, v)) = given.iter().find(|(k, _)| *k == name) {
            return (*v).to_owned();
        }
        match action["inputs"][name]["default"]
            .as_str()
            .unwrap_or_default()
        {
            "${{ github.token }}" => "ghs_ActionTokenThatMustNotLeak".to_owned(),
            other => other.to_owned(),
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("event.json"),
        r#"{"number": 7, "pull_request": {"number": 7, "head": {"sha": "h", "repo": {"full_name": "o/r"}}, "base": {"sha": "b", "repo": {"full_name": "o/r"}}}}"#,
    )
    .unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_carbon-gate"))
        .parent()
        .unwrap()
        .to_owned();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", run])
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("NO_COLOR", "1")
        .env_remove("CARBON_GATE_POLICY")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_EVENT_PATH", tmp.path().join("event.json"))
        .env("GITHUB_STEP_SUMMARY", tmp.path().join("summary.md"))
        .env("GITHUB_OUTPUT", tmp.path().join("output.txt"))
        .env("RUNNER_TEMP", tmp.path())
        .env_remove("GITHUB_TOKEN");
    for (key, value) in gate["env"].as_mapping().unwrap() {
        let key = key.as_str().unwrap();
        let value = value.as_str().unwrap();
        let name = value
            .strip_prefix("${{ inputs.")
            .and_then(|v| v.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{key}: {value} is not an input"));
        assert!(
            action["inputs"][name].is_mapping(),
            "{key} maps the undeclared input {name}"
        );
        cmd.env(key, input(name));
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("│ text-gen   ┆ 2.1.0"), "{stdout}");
    let out = outputs(tmp.path());
    assert_eq!(out["verdict"], "warn");
    assert_eq!(out["co2e-kg"], "0.000003343409678063297");
    assert!(!std::path::Path::new("/tmp/carbon-gate-pwned").exists());
    assert!(!stdout.contains("ghs_") && !stderr.contains("ghs_"));
}

/// The `ledger` input: the runs go into the organisation's ledger, and the check event records
/// the pull request and repository of the event.
#[test]
fn the_ledger_input_stores_the_runs_and_the_pull_request() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", tmp.path().join("ledger.db").display());
    let (code, _, stderr) = action(
        tmp.path(),
        &[
            ("logs", "examples/runs/"),
            ("model-version", "2.1.0"),
            ("ledger", &url),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = common::run(&[
        "ledger", "summary", "--ledger", &url, "--every", "year", "--format", "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let runs: u64 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runs"].as_u64().unwrap())
        .sum();
    assert_eq!(runs, 3, "the example's three runs: {stdout}");
    let db = rusqlite::Connection::open(tmp.path().join("ledger.db")).unwrap();
    let (repository, pr, verdict): (String, i64, String) = db
        .query_row(
            "SELECT repository, pull_request, verdict FROM checks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((repository.as_str(), verdict.as_str()), ("o/r", "warn"));
    assert_eq!(pr, 7);
}
