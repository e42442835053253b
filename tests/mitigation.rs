//! Mitigation: the what-if in reports (cleaner regions of the same provider, hand-computed
//! savings), the grid-intensity limit and preferred regions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

/// A run on aws:us-east-1: 100 kWh, 40 kg operational CO2e (400 g/kWh), plus one on-premises
/// run in France (10 kWh, 0.5 kg) that has no region alternative.
const RUNS: &str = r#"{"run_id":"r1","model":"text-gen","version":"2.1.0","energy_kwh":100.0,"co2e_kg":40.0,"place":{"cloud_provider":"aws","cloud_region":"us-east-1"}}
{"run_id":"r2","model":"text-gen","version":"2.1.0","energy_kwh":10.0,"co2e_kg":0.5,"place":{"country_iso":"FR"}}
"#;

fn check(policy: &str, extra: &[&str], code: i32) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let runs = common::write(tmp.path(), "runs.ndjson", RUNS);
    let mut args = vec![runs.to_str().unwrap()];
    args.extend_from_slice(extra);
    common::check_json(policy, &args, code)
}

const OVER: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"30 kg\" } }\n";

#[test]
fn over_budget_names_the_cleaner_regions_and_the_saving() {
    let r = check(OVER, &[], 1);
    let w = &r["whatif"][0];
    assert_eq!(w["provider"], "aws");
    assert_eq!(w["ran_in"][0], "aws:us-east-1");
    assert_eq!(w["energy_kwh"], 100.0);
    assert_eq!(w["operational_co2e_kg"], 40.0);
    assert_eq!(w["g_per_kwh"], 400.0);
    assert_eq!(w["runs_without_region"], 1);
    // src/reference/cloud_regions.csv: aws eu-central-2 34.843, eu-north-1 40.695, eu-west-3
    // 56.039 g/kWh (Ember/OWID 2023, lifecycle).
    let opts = w["options"].as_array().unwrap();
    let regions: Vec<&str> = opts.iter().map(|o| o["region"].as_str().unwrap()).collect();
    assert_eq!(
        regions,
        ["aws:eu-central-2", "aws:eu-north-1", "aws:eu-west-3"]
    );
    // 100 kWh × 34.843 g/kWh = 3.4843 kg; saving 40 − 3.4843 = 36.5157 kg = 91.28925 %.
    assert!((common::num(&opts[0]["co2e_kg"]) - 3.4843).abs() < 1e-12);
    assert!((common::num(&opts[0]["saving_kg"]) - 36.5157).abs() < 1e-12);
    assert!((common::num(&opts[0]["saving_pct"]) - 91.28925).abs() < 1e-9);
    // 100 kWh × 40.695 g/kWh = 4.0695 kg.
    assert!((common::num(&opts[1]["co2e_kg"]) - 4.0695).abs() < 1e-12);
    // The totals are untouched: the saving is reported beside them.
    assert_eq!(common::num(&r["models"][0]["totals"]["co2e_kg"]), 40.5);
}

#[test]
fn the_markdown_says_it_in_a_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = common::write(tmp.path(), "runs.ndjson", RUNS);
    let policy = common::write(tmp.path(), "p.yaml", OVER);
    let (code, stdout, _) = common::run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "markdown",
        runs.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("- **text-gen 2.1.0** ran in aws:us-east-1 (400 g/kWh, 40 kg operational): consider aws:eu-central-2 (Zurich, 34.84 g/kWh): about 3.484 kg (−91.3%); or aws:eu-north-1"),
        "{stdout}"
    );
    assert!(stdout.contains("never subtracted from the totals"));
}

#[test]
fn a_passing_check_has_no_whatif_unless_asked() {
    let pass =
        "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"50 kg\" } }\n";
    let r = check(pass, &[], 0);
    assert!(r.get("whatif").is_none());
    let r = check(pass, &["--whatif"], 0);
    assert_eq!(r["whatif"][0]["options"].as_array().unwrap().len(), 3);
}

#[test]
fn preferred_regions_come_first_and_runs_elsewhere_are_reported() {
    let policy = "version: 1\nbudgets:\n  - model: text-gen\n    preferred-regions: [\"aws:ca-central-1\", \"AWS:EU-NORTH-1\"]\n    limits: { co2e: { fail: \"30 kg\" } }\n";
    let r = check(policy, &[], 1);
    let opts = r["whatif"][0]["options"].as_array().unwrap();
    let regions: Vec<&str> = opts.iter().map(|o| o["region"].as_str().unwrap()).collect();
    // Preferred first (by intensity), then the cleanest others, up to three.
    assert_eq!(
        regions,
        ["aws:eu-north-1", "aws:ca-central-1", "aws:eu-central-2"]
    );
    assert_eq!(opts[0]["preferred"], true);
    let f = r["models"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "region-not-preferred")
        .unwrap();
    assert_eq!(f["severity"], "warn");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("1 of 1 cloud runs ran outside the preferred regions (aws:ca-central-1, aws:eu-north-1): aws:us-east-1 (run r1)"),
        "{f}"
    );
}

#[test]
fn unknown_preferred_region_is_a_located_policy_error() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = common::write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: text-gen\n    preferred-regions: [aws:eu-nort-1]\n    limits: { co2e: { fail: \"30 kg\" } }\n",
    );
    let (code, _, stderr) = common::run(&["policy", "validate", policy.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("p.yaml:4:25: `aws:eu-nort-1` is not a cloud region"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean aws:eu-north-1"), "{stderr}");
}

#[test]
fn intensity_limits_judge_the_dirtiest_run() {
    // r1 ran at 400 g/kWh, r2 at 50 g/kWh.
    let policy = "version: 1\nbudgets:\n  - model: text-gen\n    max-intensity: \"200 g/kWh\"\n";
    let r = check(policy, &[], 1);
    let f = &r["models"][0]["findings"][0];
    assert_eq!(f["code"], "intensity-exceeded");
    assert_eq!(f["measured"], 400.0);
    assert_eq!(f["limit"], 200.0);
    assert_eq!(f["unit"], "g/kWh");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.starts_with("run r1 ("), "{msg}");
    assert!(
        msg.contains("ran at 400 g/kWh in aws:us-east-1, above the fail limit of 200 g/kWh (+100%); 1 of 2 runs are above it; the cleanest aws region in the reference is aws:eu-central-2 (34.84 g/kWh)"),
        "{msg}"
    );
    let warn = "version: 1\nbudgets:\n  - model: text-gen\n    limits: { intensity: { warn: \"300 g/kWh\", fail: \"500 g/kWh\" } }\n";
    let r = check(warn, &[], 0);
    assert_eq!(r["models"][0]["findings"][0]["code"], "intensity-warning");
    let both = "version: 1\nbudgets:\n  - model: text-gen\n    max-intensity: \"200 g/kWh\"\n    limits: { intensity: { fail: \"500 g/kWh\" } }\n";
    let tmp = tempfile::tempdir().unwrap();
    let p = common::write(tmp.path(), "p.yaml", both);
    let (code, _, stderr) = common::run(&["policy", "validate", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("both `max-intensity` and `limits.intensity` are set"),
        "{stderr}"
    );
}
