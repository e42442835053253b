//! `check --predict`: a partial log (cut after 2 of 10 epochs, written by the real tools; see
//! tests/fixtures/README.md "Prediction") projected to the planned end, compared with the full
//! log, and gated: exit 1 while the run is still at 20%.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-30)
}

fn policy(dir: &std::path::Path, limits: &str) -> String {
    common::write(
        dir,
        "p.yaml",
        &format!("version: 1\nbudgets:\n  - model: text-gen\n    limits: {limits}\n"),
    )
    .to_str()
    .unwrap()
    .to_owned()
}

fn check(args: &[&str], code: i32) -> Value {
    let mut all = vec!["check", "--model", "text-gen", "--format", "json"];
    all.extend_from_slice(args);
    common::run_json(&all, code)
}

#[test]
fn carbontracker_cut_after_2_of_10_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    // 0.125 g: the cut log's own prediction (0.1172 g) passes, the finished run (0.1383 g) fails.
    let p = policy(tmp.path(), "{ co2e: { fail: \"0.125 g\" } }");
    let cut = "tests/fixtures/predict/carbontracker-cut-2-of-10/";
    let plain = check(&["--policy", &p, cut], 0);
    assert_eq!(plain["verdict"], "pass");
    let r = check(
        &["--policy", &p, "--predict", "--planned-epochs", "10", cut],
        1,
    );
    let pr = &r["predictions"][0];
    // Epochs 1 and 2 of the standard log: 60 W × 1.0 s and 60 W × 1.3 s, × PUE 1.58.
    let e1 = 60.0 * 1.0 / 3.6e6 * 1.58;
    let e2 = 60.0 * 1.3 / 3.6e6 * 1.58;
    let done = e1 + e2;
    assert_eq!(pr["done"], 2.0);
    assert_eq!(pr["planned"], 10.0);
    assert!(close(common::num(&pr["energy_done_kwh"]), done));
    assert!(close(common::num(&pr["energy_kwh"]), done * 5.0));
    assert!(close(common::num(&pr["energy_low_kwh"]), done + 8.0 * e1));
    assert!(close(common::num(&pr["energy_high_kwh"]), done + 8.0 * e2));
    assert_eq!(pr["observations"], 2);
    // The finished run (same process, not cut): Actual 0.000310788224 kWh, 0.138300759566 g.
    let full = check(
        &[
            "--policy",
            &p,
            "tests/fixtures/predict/carbontracker-10-epochs/",
        ],
        1,
    );
    let full_kwh = common::num(&full["models"][0]["totals"]["energy_kwh"]);
    assert_eq!(full_kwh, 0.000310788224);
    let (lo, hi) = (
        common::num(&pr["energy_low_kwh"]),
        common::num(&pr["energy_high_kwh"]),
    );
    assert!(lo <= full_kwh && full_kwh <= hi, "{lo} ≤ {full_kwh} ≤ {hi}");
    // Within 3% of the finished run.
    assert!((common::num(&pr["energy_kwh"]) / full_kwh - 1.0).abs() < 0.03);
    // CO2e at the run's own intensity (445 g/kWh); the verdict judges the projection.
    assert!((common::num(&pr["co2e_kg"]) / (done * 5.0 * 0.445) - 1.0).abs() < 1e-9);
    let f = &r["models"][0]["findings"][0];
    assert_eq!(f["code"], "budget-exceeded");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("projected: CO2e")
    );
}

#[test]
fn codecarbon_flush_rows_cut_after_2_of_10() {
    let tmp = tempfile::tempdir().unwrap();
    // 65 mWh: the first 2 epochs (13.9 mWh) pass; the finished run (71.4 mWh) does not.
    let p = policy(tmp.path(), "{ energy: { fail: \"65 mWh\" } }");
    let cut = "tests/fixtures/predict/codecarbon-cut-2-of-10/emissions.csv";
    assert_eq!(check(&["--policy", &p, cut], 0)["verdict"], "pass");
    let r = check(
        &["--policy", &p, "--predict", "--planned-epochs", "10", cut],
        1,
    );
    let pr = &r["predictions"][0];
    // Cumulative energy_consumed of the two flush rows.
    let (r1, r2) = (6.038151908561166e-06, 1.392968630108613e-05);
    assert!(close(common::num(&pr["energy_done_kwh"]), r2));
    assert!(close(common::num(&pr["energy_kwh"]), r2 * 5.0));
    assert!(close(common::num(&pr["energy_low_kwh"]), r2 + 8.0 * r1));
    assert!(close(
        common::num(&pr["energy_high_kwh"]),
        r2 + 8.0 * (r2 - r1)
    ));
    let full = check(
        &[
            "--policy",
            &p,
            "tests/fixtures/predict/codecarbon-flush-10/emissions.csv",
        ],
        1,
    );
    let full_kwh = common::num(&full["models"][0]["totals"]["energy_kwh"]);
    assert_eq!(full_kwh, 7.143950646715701e-05);
    let (lo, hi) = (
        common::num(&pr["energy_low_kwh"]),
        common::num(&pr["energy_high_kwh"]),
    );
    assert!(lo <= full_kwh && full_kwh <= hi, "{lo} ≤ {full_kwh} ≤ {hi}");
    // By tracked time instead: 2.3116 s of a planned 11.83 s (as the full run took).
    let hours = format!("{}", 11.833474260998628 / 3600.0);
    let r = check(
        &["--policy", &p, "--predict", "--planned-hours", &hours, cut],
        1,
    );
    let pr = &r["predictions"][0];
    assert_eq!(pr["unit"], "hours");
    let projected = common::num(&pr["energy_kwh"]);
    assert!(
        (projected / full_kwh - 1.0).abs() < 0.03,
        "{projected} vs {full_kwh}"
    );
}

#[test]
fn the_table_says_what_was_projected_and_how() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), "{ energy: { fail: \"65 mWh\" } }");
    let (code, stdout, stderr) = common::run(&[
        "check",
        "--model",
        "text-gen",
        "--policy",
        &p,
        "--predict",
        "--planned-epochs",
        "10",
        "tests/fixtures/predict/codecarbon-cut-2-of-10/emissions.csv",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("text-gen: projected for 10 epochs after 2 (20% done): energy 69.65 mWh (62.23 mWh – 77.06 mWh)"),
        "{stdout}"
    );
    assert!(stderr.lines().last().unwrap().starts_with("carbon-gate: FAIL: text-gen: projected: energy 69.65 mWh exceeds the fail limit of 65 mWh"), "{stderr}");
}

#[test]
fn predict_needs_a_plan_and_plans_must_be_ahead() {
    let (code, _, stderr) = common::run(&[
        "check",
        "--policy",
        "policies",
        "--predict",
        "examples/runs/",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--predict needs one of --planned-epochs"),
        "{stderr}"
    );
    let (code, _, stderr) = common::run(&[
        "check",
        "--policy",
        "policies",
        "--model",
        "text-gen",
        "--predict",
        "--planned-epochs",
        "1",
        "tests/fixtures/predict/codecarbon-cut-2-of-10/emissions.csv",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("1 epochs planned but 2 already done"),
        "{stderr}"
    );
}
