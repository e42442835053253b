//! `carbon-gate schema report`: the committed schema is the generated one, and real `check`
//! reports of every kind (a pass with warnings, a failure with findings, a trade-off with a
//! baseline and an alternative, every input format, an estimate) are valid against it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, run_json};

fn schema() -> serde_json::Value {
    let (code, stdout, _) = run(&["schema", "report"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string("docs/report.schema.json").expect(
        "docs/report.schema.json missing: cargo run -- schema report > docs/report.schema.json",
    );
    assert_eq!(
        stdout, committed,
        "docs/report.schema.json is stale: cargo run -- schema report > docs/report.schema.json"
    );
    serde_json::from_str(&stdout).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, name: &str, report: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
}

#[test]
fn every_kind_of_report_is_valid_against_the_committed_schema() {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let estimate = dir.path().join("estimate.json");
    let (code, _, stderr) = run(&[
        "estimate",
        "--accelerator",
        "A100-SXM4-40GB",
        "--count",
        "8",
        "--hours",
        "2",
        "--region",
        "aws:eu-west-3",
        "--format",
        "record",
        "--output",
        estimate.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        (
            "the example (warn)",
            vec![
                "--policy",
                "policies/",
                "--model-version",
                "2.1.0",
                "examples/runs/",
            ],
            0,
        ),
        (
            "a failure",
            vec![
                "--config",
                "tests/fixtures/reports/over-budget/carbon-gate.yaml",
            ],
            1,
        ),
        (
            "the trade-off",
            vec!["--config", "examples/tradeoff/carbon-gate.yaml"],
            0,
        ),
        (
            "every format",
            vec!["--policy", "policies/", "examples/mixed/"],
            1,
        ),
        (
            "an estimate",
            vec!["--policy", "policies/", estimate.to_str().unwrap()],
            0,
        ),
    ];
    for (name, args, code) in cases {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args);
        let report = run_json(&all, code);
        assert_valid(&validator, name, &report);
    }
    // And the schema is not vacuous: a report missing its verdict, or with a wrong one, is not.
    let mut report = run_json(
        &[
            "check",
            "--format",
            "json",
            "--policy",
            "policies/",
            "--model-version",
            "2.1.0",
            "examples/runs/",
        ],
        0,
    );
    report["verdict"] = "maybe".into();
    assert!(!validator.is_valid(&report));
    report.as_object_mut().unwrap().remove("verdict");
    assert!(!validator.is_valid(&report));
}
