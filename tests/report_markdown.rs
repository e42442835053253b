//! The Markdown a reviewer reads (the future PR comment), pinned by snapshots for each situation,
//! and the trade-off figures checked by hand. Inputs: tests/fixtures/reports (make.py there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{num, run, run_json};

fn config(case: &str) -> String {
    format!("tests/fixtures/reports/{case}/carbon-gate.yaml")
}

/// `check --config … -f markdown` on a case, with a fixed date for exceptions.
fn markdown(case: &str, code: i32) -> String {
    let (got, stdout, stderr) = run(&[
        "check",
        "--config",
        &config(case),
        "--today",
        "2026-11-28",
        "--format",
        "markdown",
    ]);
    assert_eq!(got, code, "{case}: {stderr}");
    stdout
}

#[test]
fn all_pass() {
    insta::assert_snapshot!("report_all_pass", markdown("all-pass", 0));
}

#[test]
fn one_over_budget() {
    insta::assert_snapshot!("report_over_budget", markdown("over-budget", 1));
}

#[test]
fn regression_only() {
    insta::assert_snapshot!("report_regression_only", markdown("regression-only", 1));
}

#[test]
fn waived_by_exception() {
    let md = markdown("waived", 0);
    assert!(md.contains("**Waived by exception**"), "{md}");
    assert!(
        md.contains("waived until 2099-12-31 by &#64;ml-platform-leads"),
        "{md}"
    );
    insta::assert_snapshot!("report_waived", md);
}

#[test]
fn expired_exception() {
    let md = markdown("expired", 1);
    assert!(md.contains("`exception-expired`"), "{md}");
    insta::assert_snapshot!("report_expired", md);
}

#[test]
fn no_baseline() {
    let md = markdown("no-baseline", 0);
    assert!(md.contains("`no-baseline`"), "{md}");
    insta::assert_snapshot!("report_no_baseline", md);
}

#[test]
fn three_rows_recommend_the_distilled_model() {
    let md = markdown("three-rows", 0);
    insta::assert_snapshot!("report_three_rows", md);
    let report = run_json(
        &[
            "check",
            "--config",
            &config("three-rows"),
            "--today",
            "2026-11-28",
            "--format",
            "json",
        ],
        0,
    );
    let t = &report["tradeoffs"][0];
    assert_eq!(t["metric"], "f1");
    let rows = t["rows"].as_array().unwrap();
    let roles: Vec<_> = rows.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["baseline", "candidate", "alternative"]);
    // By hand: baseline (0.89, 60 kg) is dominated by distilled (0.893, 15 kg): more accurate and
    // lighter. The candidate (0.91, 62 kg) is the most accurate; distilled the lightest.
    let pareto: Vec<_> = rows
        .iter()
        .map(|r| r["pareto"].as_bool().unwrap())
        .collect();
    assert_eq!(pareto, vec![false, true, true]);
    // The f1 floor is 0.88: every row meets it; the lightest is distilled.
    assert_eq!(t["recommended"], 2);
    assert_eq!(
        t["recommendation"],
        "Recommended: the distilled alternative text-gen-distilled 1.0.0 — the lightest row that meets the f1 floor of 0.88 (f1 0.893), with 75.8% less CO2e than the candidate (15 kg vs 62 kg)."
    );
    // Deltas vs the baseline and CO2e per point: 62 − 60 = +2 kg (+3.33%); 62 kg / 91 points.
    assert_eq!(num(&rows[1]["delta_co2e_kg"]), 2.0);
    assert!((num(&rows[1]["delta_co2e_pct"]) - 100.0 / 30.0).abs() < 1e-12);
    assert!((num(&rows[1]["co2e_per_point_kg"]) - 62.0 / 91.0).abs() < 1e-12);
    assert!((num(&rows[2]["delta_co2e_pct"]) - (15.0 - 60.0) / 60.0 * 100.0).abs() < 1e-12);
    // Headroom under the 100 kg fail limit: 38% left for the candidate.
    assert!((num(&rows[1]["headroom_pct"]) - 38.0).abs() < 1e-12);
    // The candidate alone decides the verdict: +3.33% is under the 5% warn.
    assert_eq!(report["verdict"], "pass");
}

#[test]
fn hostile_model_names_cannot_inject() {
    let (code, md, _) = run(&[
        "check",
        "--policy",
        "tests/fixtures/reports/hostile/policy.yaml",
        "--format",
        "markdown",
        "tests/fixtures/reports/hostile/runs.ndjson",
    ]);
    assert_eq!(code, 1);
    // Outside fenced code blocks (whose content GitHub shows literally: no HTML, no mentions),
    // nothing from the names is interpreted.
    let mut outside = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            outside.push_str(line);
            outside.push('\n');
        }
    }
    for bad in [
        "<img", "@org", "<!--", "`tick`", "**bold**", "[link]", "a|b",
    ] {
        assert!(!outside.contains(bad), "{bad} leaked:\n{outside}");
    }
    // Inside a fence, a fence in a name cannot close it early.
    assert_eq!(md.matches("```").count() % 2, 0);
    insta::assert_snapshot!("report_hostile", md);
}

#[test]
fn json_carries_the_tradeoff_and_the_baseline() {
    let report = run_json(
        &[
            "check",
            "--config",
            &config("regression-only"),
            "--today",
            "2026-11-28",
            "--format",
            "json",
        ],
        1,
    );
    let candidate = candidate_of(&report);
    let b = &candidate["baseline"];
    assert_eq!(b["version"], "2.0.0");
    assert_eq!(num(&b["delta_co2e_kg"]), 10.0);
    assert!((num(&b["delta_co2e_pct"]) - 100.0 / 6.0).abs() < 1e-12);
    let f = &candidate["findings"][0];
    assert_eq!(f["code"], "regression-exceeded");
    assert_eq!(f["unit"], "%");
    assert_eq!(report["tradeoffs"][0]["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn a_long_report_fits_githubs_limit() {
    // 3,000 models: the body is cut at a line under 65,536 characters and says so.
    let tmp = tempfile::tempdir().unwrap();
    let runs: String = (0..3000)
        .map(|i| format!("{{\"run_id\": \"r{i}\", \"model\": \"model-{i:04}\", \"co2e_kg\": 1.5, \"energy_kwh\": 6}}\n"))
        .collect();
    let log = common::write(tmp.path(), "runs.ndjson", &runs);
    let policy = common::write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: \"*\"\n    limits: { co2e: { fail: \"1 kg\" } }\n",
    );
    let (code, md, _) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "markdown",
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
    assert!(
        md.contains("more lines (cut to GitHub's 65536-character comment limit"),
        "{}",
        &md[md.len() - 300..]
    );
}

#[test]
fn the_history_ledger_gets_one_line_per_model_version() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = tmp.path().join("ledger.jsonl");
    for _ in 0..2 {
        let (code, ..) = run(&[
            "check",
            "--config",
            &config("three-rows"),
            "--today",
            "2026-11-28",
            "--ledger",
            ledger.to_str().unwrap(),
            "--commit",
            "abc123",
        ]);
        assert_eq!(code, 0);
    }
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Candidate and alternative (not the baseline), twice.
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["model"], "text-gen");
    assert_eq!(lines[0]["commit"], "abc123");
    assert_eq!(lines[1]["model"], "text-gen-distilled");
    assert_eq!(num(&lines[0]["totals"]["co2e_kg"]), 62.0);
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_tradeoff_example_by_hand() {
    let (code, md, _) = run(&[
        "check",
        "--config",
        "examples/tradeoff/carbon-gate.yaml",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("example_tradeoff", md);
    let report = run_json(
        &[
            "check",
            "--config",
            "examples/tradeoff/carbon-gate.yaml",
            "--format",
            "json",
        ],
        0,
    );
    let rows = report["tradeoffs"][0]["rows"].as_array().unwrap();
    // Each row: 8 × A100 (400 W) × hours × PUE 1.15 (AWS) at 56.039 g/kWh (France), plus the SCI
    // share of 8 × 150 kg + 1 server × 2500 kg over 4 years.
    for (row, hours, f1) in [
        (&rows[0], 72.0, 0.890),
        (&rows[1], 80.0, 0.912),
        (&rows[2], 20.0, 0.893),
    ] {
        let energy = 8.0 * 400.0 * hours * 1.15 / 1000.0;
        let operational = energy * 56.039 / 1000.0;
        let embodied = (150.0 * 8.0 * hours + 2500.0 * hours) / (4.0 * 8760.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
        assert!(close(num(&row["energy_kwh"]), energy), "{row}");
        assert!(
            close(num(&row["operational_co2e_kg"]), operational),
            "{row}"
        );
        assert!(close(num(&row["embodied_co2e_kg"]), embodied), "{row}");
        assert!(
            close(
                num(&row["co2e_per_point_kg"]),
                (operational + embodied) / (f1 * 100.0)
            ),
            "{row}"
        );
    }
    // The candidate rose 80/72 − 1 = 11.1%: above the 5% warn, under the 15% fail.
    assert!((num(&rows[1]["delta_co2e_pct"]) - (80.0 / 72.0 - 1.0) * 100.0).abs() < 1e-9);
    // Baseline (0.890) is dominated by distilled (0.893, lighter); distilled is recommended.
    let pareto: Vec<_> = rows
        .iter()
        .map(|r| r["pareto"].as_bool().unwrap())
        .collect();
    assert_eq!(pareto, vec![false, true, true]);
    assert_eq!(report["tradeoffs"][0]["recommended"], 2);
    assert_eq!(report["verdict"], "warn");
}

#[test]
fn metrics_from_records_and_cli_baselines() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = common::write(
        tmp.path(),
        "cand.ndjson",
        "{\"run_id\": \"c\", \"model\": \"m\", \"version\": \"1.1.0\", \"co2e_kg\": 11, \"energy_kwh\": 40, \"metrics\": {\"f1\": 0.9}}\n",
    );
    let base = common::write(
        tmp.path(),
        "base.ndjson",
        "{\"run_id\": \"b\", \"model\": \"m\", \"version\": \"1.0.0\", \"co2e_kg\": 10, \"energy_kwh\": 40, \"metrics\": {\"f1\": 0.85}}\n",
    );
    let report = common::check_json(
        "version: 1\nbudgets:\n  - model: m\n    accuracy: { metric: f1, min: 0.88 }\n    limits:\n      regression:\n        co2e: { fail: \"5%\" }\n",
        &[cand.to_str().unwrap(), "--baseline", base.to_str().unwrap()],
        1,
    );
    let candidate = &report["models"][1];
    assert_eq!(candidate["role"], "candidate");
    assert_eq!(candidate["metrics"]["f1"], 0.9);
    assert_eq!(candidate["findings"][0]["code"], "regression-exceeded");
    assert_eq!(report["models"][0]["metrics"]["f1"], 0.85);
    // A check report from the base branch works as a baseline too.
    let (_, json, _) = run(&[
        "check",
        "--policy",
        "tests/fixtures/reports/all-pass/policy.yaml",
        "--format",
        "json",
        base.to_str().unwrap(),
        "--model",
        "text-gen",
        "--model-version",
        "2.0.0",
    ]);
    let base_report = common::write(tmp.path(), "base-report.json", &json);
    let report = common::check_json(
        "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      regression:\n        co2e: { fail: \"5%\" }\n",
        &[
            cand.to_str().unwrap(),
            "--model",
            "text-gen",
            "--baseline",
            base_report.to_str().unwrap(),
        ],
        1,
    );
    let candidate = candidate_of(&report);
    assert_eq!(
        candidate["baseline"]["source"],
        base_report.to_str().unwrap()
    );
    assert_eq!(num(&candidate["baseline"]["delta_co2e_kg"]), 1.0);
}

/// A baseline report needs only each model version's `energy_kwh` and `co2e_kg` (a hand-written
/// or older report); a role carbon-gate does not write is refused rather than guessed.
#[test]
fn minimal_baseline_reports_and_unknown_roles() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = common::write(
        tmp.path(),
        "cand.ndjson",
        "{\"run_id\": \"c\", \"model\": \"m\", \"version\": \"1.1.0\", \"co2e_kg\": 11, \"energy_kwh\": 40}\n",
    );
    let minimal = common::write(
        tmp.path(),
        "minimal.json",
        "{\"schema_version\": 1, \"models\": [{\"model\": \"m\", \"version\": \"1.0.0\", \"totals\": {\"energy_kwh\": 40, \"co2e_kg\": 10}}]}",
    );
    let policy = "version: 1\nbudgets:\n  - model: m\n    limits:\n      regression:\n        co2e: { fail: \"5%\" }\n";
    let report = common::check_json(
        policy,
        &[
            cand.to_str().unwrap(),
            "--baseline",
            minimal.to_str().unwrap(),
        ],
        1,
    );
    let candidate = candidate_of(&report);
    assert_eq!(num(&candidate["baseline"]["delta_co2e_kg"]), 1.0);
    assert_eq!(candidate["findings"][0]["code"], "regression-exceeded");

    let odd = common::write(
        tmp.path(),
        "odd-role.json",
        "{\"schema_version\": 1, \"models\": [{\"model\": \"m\", \"version\": \"1.0.0\", \"role\": \"judge\", \"totals\": {\"energy_kwh\": 40, \"co2e_kg\": 10}}]}",
    );
    let policy_file = common::write(tmp.path(), "policy.yaml", policy);
    let (code, _, stderr) = run(&[
        "check",
        "--policy",
        policy_file.to_str().unwrap(),
        cand.to_str().unwrap(),
        "--baseline",
        odd.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not a carbon-gate check report"),
        "{stderr}"
    );
}

/// The candidate model version of a check report.
fn candidate_of(report: &serde_json::Value) -> &serde_json::Value {
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "candidate")
        .unwrap()
}
