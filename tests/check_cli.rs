//! `check` end to end on the bundled example: rendered outputs (snapshots), verdicts, exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bin, check_json, fixture, run, write};

const EXAMPLE: &[&str] = &[
    "check",
    "--policy",
    "policies/",
    "--model-version",
    "2.1.0",
    "examples/runs/",
];

fn example(format: &str) -> (i32, String, String) {
    let mut args = EXAMPLE.to_vec();
    args.extend(["--format", format]);
    run(&args)
}

#[test]
fn example_table() {
    let (code, stdout, stderr) = example("table");
    assert_eq!(code, 0);
    insta::assert_snapshot!("example_table", stdout);
    assert_eq!(
        stderr,
        "carbon-gate: WARN: text-gen 2.1.0: CO2e 1.044 mg exceeds the warn limit of 1 mg (+4.44%); fails above 5 mg (policies/carbon-budgets.yaml:16:21)\n"
    );
}

#[test]
fn example_markdown() {
    let (code, stdout, _) = example("markdown");
    assert_eq!(code, 0);
    insta::assert_snapshot!("example_markdown", stdout);
}

#[test]
fn example_json() {
    let (code, stdout, _) = example("json");
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    insta::assert_json_snapshot!("example_json", value);
}

#[test]
fn over_budget_exits_1_with_the_reason_on_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"1 mg\" }\n      energy: { warn: \"20 mWh\" }\n",
    );
    let (code, stdout, stderr) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--model",
        "text-gen",
        &fixture("codecarbon/v3.3.2/emissions.csv"),
    ]);
    assert_eq!(code, 1, "{stdout}");
    let p = policy.display();
    assert_eq!(
        stderr,
        format!(
            "carbon-gate: FAIL: text-gen: CO2e 3.343 mg exceeds the fail limit of 1 mg (+234%) ({p}:5:21)\n"
        )
    );
    assert!(stdout.contains(&format!("WARN text-gen [budget-warning]: energy 27.15 mWh exceeds the warn limit of 20 mWh (+35.8%) ({p}:6:23)")), "{stdout}");
}

#[test]
fn json_findings_carry_measured_limit_and_unit() {
    let report = check_json(
        "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      energy: { fail: \"20 mWh\" }\n",
        &[&fixture("codecarbon/v3.3.2")],
        1,
    );
    assert_eq!(report["verdict"], "fail");
    let text_gen = &report["models"][1];
    assert_eq!(text_gen["model"], "text-gen");
    let finding = &text_gen["findings"][0];
    assert_eq!(finding["code"], "budget-exceeded");
    assert_eq!(finding["severity"], "fail");
    assert_eq!(finding["metric"], "energy");
    assert_eq!(finding["unit"], "kWh");
    assert_eq!(finding["limit"], 2e-5);
    assert_eq!(finding["measured"], 2.1115954663594783e-05);
    // summarizer has logs but no budget: passes with a warning.
    let summarizer = &report["models"][0];
    assert_eq!(summarizer["verdict"], "warn");
    assert_eq!(summarizer["findings"][0]["code"], "no-budget");
}

#[test]
fn logs_without_runs_are_no_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: vision\n    limits: { co2e: { fail: \"1 kg\" } }\n",
    );
    // A log with a header and no rows: nothing to check, which is not a pass (it was exit 1,
    // `no-data-for-budget`, for a named model, and "PASS: 0 models" without one).
    let log = write(
        tmp.path(),
        "emissions.csv",
        "timestamp,project_name,run_id,duration,emissions,energy_consumed\n",
    );
    for named in [true, false] {
        let mut args = vec!["check", "--policy", policy.to_str().unwrap()];
        if named {
            args.extend(["--model", "vision"]);
        }
        args.push(log.to_str().unwrap());
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("no runs found in"), "{stderr}");
    }
}

#[test]
fn budgets_for_models_not_in_the_check_are_ignored() {
    let report = check_json(
        "version: 1\nbudgets:\n  - model: vision\n    limits: { co2e: { fail: \"1 mg\" } }\n  - model: \"*\"\n    limits: { co2e: { fail: \"1 kg\" } }\n",
        &[&fixture("codecarbon/v3.3.2")],
        0,
    );
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["models"].as_array().unwrap().len(), 2);
}

#[test]
fn versioned_budgets_need_a_version() {
    let (code, stdout, _) = run(&[
        "check",
        "--policy",
        "policies/carbon-budgets.yaml",
        &fixture("codecarbon/v3.3.2"),
    ]);
    assert_eq!(code, 0);
    // Without --model-version the 2.x budget cannot apply; the catch-all does.
    assert!(stdout.contains("fail 120 kg"), "{stdout}");
    let (code, stdout, _) = run(&[
        "check",
        "--policy",
        "policies/carbon-budgets.yaml",
        "--model-version",
        "3.0.0",
        &fixture("codecarbon/v3.3.2"),
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("fail 120 kg"), "{stdout}");
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    let mut args = EXAMPLE.to_vec();
    args.extend(["--format", "json", "--output", out.to_str().unwrap()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
    assert!(
        stderr.ends_with("(policies/carbon-budgets.yaml:16:21)\n"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["verdict"], "warn");
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn colour_is_never_forced_into_pipes_and_can_be_asked_for() {
    let mut args = EXAMPLE.to_vec();
    args.extend(["--color", "always"]);
    let out = bin().args(&args).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let (_, stdout, _) = example("table");
    assert!(!stdout.contains('\u{1b}'));
}

#[test]
fn help_is_stable() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("help", stdout);
    let (_, stdout, _) = run(&["check", "--help"]);
    insta::assert_snapshot!("check_help", stdout);
}

#[test]
fn policy_validate_and_schema() {
    let (code, _, stderr) = run(&["policy", "validate", "policies/"]);
    assert_eq!(code, 0);
    assert_eq!(stderr, "carbon-gate: policy OK: 3 budgets in 1 file\n");
    let (code, stdout, _) = run(&["policy", "schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string("policies/policy.schema.json").unwrap();
    assert_eq!(
        stdout, committed,
        "policies/policy.schema.json is out of date: run `cargo run -- policy schema > policies/policy.schema.json`"
    );
}

#[test]
fn policy_validate_lists_budgets_over_time() {
    let (code, stdout, stderr) = run(&["policy", "validate", "examples/ledger/policy.yaml"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let p = "examples/ledger/policy.yaml";
    assert_eq!(
        stderr,
        format!(
            "carbon-gate: team nlp: text-gen*, summarizer (owners: @org/nlp)\n\
             carbon-gate: team vision: vit-*, detector (owners: @org/vision)\n\
             carbon-gate: period \"NLP team per quarter\" ({p}:37:11): every quarter; models embedder* and teams nlp; co2e warn 8 t, fail 10 t; energy fail 120 MWh\n\
             carbon-gate: period \"vision per month\" ({p}:46:11): every month; teams vision; co2e warn 2 t; report mode\n\
             carbon-gate: period \"organisation per year\" ({p}:54:11): every year; models *; co2e fail 45 t; required\n\
             carbon-gate: trajectory ({p}:63:1): models *; 40 t in 2025, less 4.2% of it each year; zero from 2049\n\
             carbon-gate: periods and the trajectory are judged by `check --ledger` only\n\
             carbon-gate: policy OK: 2 budgets, 3 periods, a trajectory and 2 teams in 1 file\n"
        )
    );
    // A team a period names must be defined in one of the files.
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nperiods:\n  - name: q\n    teams: [nlp]\n    every: quarter\n    limits: { co2e: { fail: \"1 t\" } }\n",
    );
    let (code, _, stderr) = run(&["policy", "validate", policy.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:4:13: period `q` names team `nlp`, which no policy file defines",
            policy.display()
        )),
        "{stderr}"
    );
}

#[test]
fn policy_validate_warns_about_unreachable_budgets() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: \"*\"\n    limits: { co2e: { fail: \"1 kg\" } }\n  - model: text-gen\n    limits: { co2e: { fail: \"2 kg\" } }\n",
    );
    let (code, _, stderr) = run(&["policy", "validate", policy.to_str().unwrap()]);
    assert_eq!(code, 0);
    let p = policy.display();
    assert_eq!(
        stderr,
        format!(
            "warning: {p}:5:12: budget for `text-gen` can never apply: the budget at {p}:3:12 matches first [unreachable-budget]\ncarbon-gate: policy OK: 2 budgets in 1 file\n"
        )
    );
}

#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string("docs/diagnostics.md").unwrap();
    for (code, _) in carbon_gate::codes::ALL {
        assert!(
            docs.contains(&format!("`{code}`")),
            "{code} is missing from docs/diagnostics.md"
        );
    }
    // And the docs list no code the tool does not have.
    for line in docs.lines().filter(|l| l.starts_with("| `")) {
        let code = line.trim_start_matches("| `").split('`').next().unwrap();
        assert!(
            carbon_gate::codes::ALL.iter().any(|(c, _)| *c == code),
            "docs/diagnostics.md lists unknown code {code}"
        );
    }
}

#[test]
fn explain_traces_every_total_to_its_rows() {
    let mut args = EXAMPLE.to_vec();
    args.push("--explain");
    let (code, stdout, _) = run(&args);
    assert_eq!(code, 0);
    let explained = stdout
        .split("How the totals were computed:\n")
        .nth(1)
        .unwrap();
    insta::assert_snapshot!("example_explain", explained);
}
