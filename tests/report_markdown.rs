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

/// One carbon-gate NDJSON record of a measured run with an f1 score.
fn run_line(run: &str, model: &str, version: &str, co2e_kg: f64, kwh: f64, f1: f64) -> String {
    format!(
        "{{\"run_id\": \"{run}\", \"model\": \"{model}\", \"version\": \"{version}\", \"co2e_kg\": {co2e_kg}, \"energy_kwh\": {kwh}, \"metrics\": {{\"f1\": {f1}}}}}\n"
    )
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
        &run_line("c", "m", "1.1.0", 11.0, 40.0, 0.9),
    );
    let base = common::write(
        tmp.path(),
        "base.ndjson",
        &run_line("b", "m", "1.0.0", 10.0, 40.0, 0.85),
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

/// The chart of a Markdown body: its axis lines, quadrant names and points (label, x, y).
struct Chart {
    x_axis: String,
    y_axis: String,
    quadrants: Vec<String>,
    points: Vec<(String, f64, f64)>,
}

fn chart(md: &str) -> Chart {
    let block = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a mermaid block");
    let mut c = Chart {
        x_axis: String::new(),
        y_axis: String::new(),
        quadrants: Vec::new(),
        points: Vec::new(),
    };
    for line in block.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("x-axis ") {
            c.x_axis = rest.to_owned();
        } else if let Some(rest) = line.strip_prefix("y-axis ") {
            c.y_axis = rest.to_owned();
        } else if line.starts_with("quadrant-") {
            let name = line.split_once(' ').unwrap().1.trim_matches('"');
            c.quadrants.push(name.to_owned());
        } else if let Some(point) = line.strip_prefix('"') {
            let (label, at) = point.split_once("\": [").unwrap();
            let (x, y) = at.trim_end_matches(']').split_once(", ").unwrap();
            c.points
                .push((label.to_owned(), x.parse().unwrap(), y.parse().unwrap()));
        }
    }
    c
}

/// The quadrant a point is drawn in, by Mermaid's numbering: 1 top right, 2 top left, 3 bottom
/// left, 4 bottom right.
fn quadrant_name(c: &Chart, x: f64, y: f64) -> &str {
    let i = match (x >= 0.5, y >= 0.5) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false) => 2,
        (true, false) => 3,
    };
    &c.quadrants[i]
}

fn example_markdown() -> String {
    let (code, md, stderr) = run(&[
        "check",
        "--config",
        "examples/tradeoff/carbon-gate.yaml",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{stderr}");
    md
}

/// Item 8: the comment opens with one line a reviewer can act on, and states each reason once
/// (the headline used to repeat the first finding with its `file:line`, and an expired exception
/// was listed again under the input warnings).
#[test]
fn the_headline_is_actionable_and_each_reason_is_stated_once() {
    let md = example_markdown();
    assert_eq!(
        md.lines().next().unwrap(),
        "## ⚠️ carbon-gate: WARN · text-gen 2.1.0: +2.5 kg CO2e (+11%) vs 2.0.0 — 83% of the 30 kg budget"
    );
    assert_eq!(
        md.matches("examples/tradeoff/policy.yaml:10:9").count(),
        1,
        "{md}"
    );
    assert_eq!(
        md.matches("CO2e rose +11.1% vs the baseline").count(),
        1,
        "{md}"
    );

    let md = markdown("expired", 1);
    assert!(md.starts_with(
        "## ❌ carbon-gate: FAIL · text-gen 2.1.0: +10 kg CO2e (+17%) vs 2.0.0 — 70% of the 100 kg budget\n"
    ));
    for reason in [
        "tests/fixtures/reports/expired/policy.yaml:8:9",
        "tests/fixtures/reports/expired/policy.yaml:10:10",
    ] {
        assert_eq!(md.matches(reason).count(), 1, "{reason}\n{md}");
    }
    // Over the budget: the share says so, and the way out includes an exception.
    let md = markdown("over-budget", 1);
    assert!(md.contains("— 120% of the 100 kg budget\n"), "{md}");
    assert!(
        md.contains("**Add an exception with an expiry** for `budget-exceeded`"),
        "{md}"
    );
    // Without a baseline, what is known: the CO2e and the budget share.
    let md = markdown("no-baseline", 0);
    assert!(md.starts_with(
        "## ⚠️ carbon-gate: WARN · text-gen 2.1.0: 70 kg CO2e — 70% of the 100 kg budget\n"
    ));
    // Several models: the worst first, then how many more.
    let (_, md, _) = run(&[
        "check",
        "--policy",
        "policies/",
        "--model-version",
        "2.1.0",
        "--format",
        "markdown",
        "examples/runs/",
    ]);
    assert!(md.starts_with(
        "## ⚠️ carbon-gate: WARN · text-gen 2.1.0: 1.04 mg CO2e — 21% of the 5 mg budget, over the 1 mg warn limit · and 1 more\n"
    ), "{md}");
}

/// Item 9: the chart is drawn to scale and agrees with the recommendation rule.
#[test]
fn the_chart_carries_its_scale_and_agrees_with_the_recommendation() {
    for (md, x_axis, y_axis) in [
        (
            example_markdown(),
            "\"0 to 15 kg CO2e\" --> \"15 kg to 30 kg CO2e\"",
            "\"f1 0.84 to 0.88\" --> \"f1 0.88 to 0.92\"",
        ),
        (
            markdown("three-rows", 0),
            "\"0 to 40 kg CO2e\" --> \"40 kg to 80 kg CO2e\"",
            "\"f1 0.84 to 0.88\" --> \"f1 0.88 to 0.92\"",
        ),
    ] {
        let c = chart(&md);
        // The axes carry the value range of each half; the horizontal midline is the policy's
        // f1 floor (0.88), the bar of the recommendation.
        assert_eq!(c.x_axis, x_axis);
        assert_eq!(c.y_axis, y_axis);
        // The recommended point (★) is in a quadrant named for rows that are accurate enough
        // (it meets the floor), on the lighter side.
        let (label, x, y) = c.points.iter().find(|p| p.0.ends_with(" ★")).unwrap();
        assert_eq!(label, "text-gen-dist… 1.0.0 ★");
        assert_eq!(quadrant_name(&c, *x, *y), "Accurate enough, less CO2e");
        // Every point is where its values put it: f1 0.89, 0.912/0.91, 0.893 all meet the floor.
        for (label, x, y) in &c.points {
            assert!(
                quadrant_name(&c, *x, *y).starts_with("Accurate enough"),
                "{label}"
            );
            assert!(
                label.trim_end_matches(" ★").chars().count() <= 20,
                "{label}"
            );
        }
    }
    // To scale: in the example, the distilled model's 6.236 kg of a 30 kg axis; f1 0.893 is
    // (0.893 − 0.84) / 0.08 of the height.
    let c = chart(&example_markdown());
    let distilled = c.points.iter().find(|p| p.0.ends_with(" ★")).unwrap();
    assert!(
        (distilled.1 - 6.23634 / 30.0).abs() < 1e-3,
        "{}",
        distilled.1
    );
    assert!(
        (distilled.2 - (0.893 - 0.84) / 0.08).abs() < 1e-3,
        "{}",
        distilled.2
    );
}

/// Item 9: a row below the floor is drawn below the midline, in a quadrant that says so.
#[test]
fn a_row_below_the_floor_is_below_the_bar() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = common::write(
        tmp.path(),
        "runs.ndjson",
        &run_line("c", "m", "2.0.0", 10.0, 40.0, 0.86),
    );
    let base = common::write(
        tmp.path(),
        "base.ndjson",
        &run_line("b", "m", "1.0.0", 30.0, 120.0, 0.9),
    );
    let policy = common::write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: m\n    accuracy: { metric: f1, min: 0.88, mode: report }\n    limits: { co2e: { fail: \"100 kg\" } }\n",
    );
    let (_, md, stderr) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "markdown",
        runs.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
    ]);
    let c = chart(&md);
    assert!(c.y_axis.contains("\"f1 0.88 to"), "{stderr}\n{md}");
    let candidate = c.points.iter().find(|p| p.0 == "candidate 2.0.0").unwrap();
    assert_eq!(
        quadrant_name(&c, candidate.1, candidate.2),
        "Below the bar, less CO2e"
    );
    let baseline = c.points.iter().find(|p| p.0 == "baseline 1.0.0 ★").unwrap();
    assert!(quadrant_name(&c, baseline.1, baseline.2).starts_with("Accurate enough"));
}

/// Item 10: several groups are folded one `<details>` each; the methodology is a real link at
/// this version; the way to resolve a failure links the policy reference.
#[test]
fn several_groups_fold_and_links_are_real() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = common::write(
        tmp.path(),
        "runs.ndjson",
        &(run_line("a", "alpha", "1.0.0", 20.0, 80.0, 0.9)
            + &run_line("b", "beta", "1.0.0", 40.0, 160.0, 0.8)),
    );
    let policy = common::write(
        tmp.path(),
        "p.yaml",
        "version: 1\nbudgets:\n  - model: \"*\"\n    limits: { co2e: { fail: \"30 kg\" } }\n",
    );
    let (code, md, stderr) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "markdown",
        runs.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        md.contains("<details><summary>❌ beta 1.0.0: f1 vs energy vs CO2e</summary>"),
        "{md}"
    );
    assert!(
        md.contains("<details><summary>✅ alpha 1.0.0: f1 vs energy vs CO2e</summary>"),
        "{md}"
    );
    assert!(md.starts_with("## ❌ carbon-gate: FAIL · beta 1.0.0: 40 kg CO2e — 133% of the 30 kg budget · and 1 more\n"), "{md}");
    let version = env!("CARGO_PKG_VERSION");
    assert!(md.contains(&format!(
        "[methodology](https://github.com/carbon-gate/carbon-gate/blob/v{version}/docs/methodology.md)"
    )));
    assert!(md.contains(&format!(
        "[exceptions](https://github.com/carbon-gate/carbon-gate/blob/v{version}/docs/policy.md#exceptions)"
    )));
    assert!(md.contains("**Change the policy**"), "{md}");
    // Standard output has no run or commit link: those come from the CI environment, when
    // publishing (tests/github.rs).
    assert!(!md.contains("/actions/runs/"), "{md}");
    // One group: not folded.
    assert!(!markdown("three-rows", 0).contains("<details><summary>✅"));
}

/// Item 11: assumptions once per model version (sources once per comment), the car distance
/// only from 1 km, region advice only for cloud runs and worded as advice, and the CO2e per
/// point column named for what it computes.
#[test]
fn less_noise() {
    let md = example_markdown();
    // 11 assumptions, each source quoted once; the two later model versions list only what
    // differs from the first.
    assert_eq!(md.matches("ML CO2 Impact calculator").count(), 1, "{md}");
    assert_eq!(
        md.matches("assumptions of the estimate: the same as text-gen 2.0.0's, except:")
            .count(),
        2,
        "{md}"
    );
    assert_eq!(md.matches("utilization: 1 of TDP").count(), 1, "{md}");
    assert!(md.chars().count() < 8_000, "{}", md.chars().count());
    // Region advice for the cloud runs of the example (AWS), worded as advice.
    assert!(md.contains("### Consider a cleaner region"), "{md}");
    assert!(
        md.contains("ran in aws:eu-west-3 (56.04 g/kWh, 16.5 kg operational): consider aws:eu-central-2 (Zurich, 34.84 g/kWh): about 10.26 kg (−37.8%)"),
        "{md}"
    );
    // The over-budget case has no cloud region: no advice.
    assert!(!markdown("over-budget", 1).contains("cleaner region"));
    // CO2e per point: total CO2e ÷ (100 × f1), as `policy::eval::points` computes it.
    assert!(md.contains("| CO2e ÷ (100 × f1) |"), "{md}");
    assert!(!md.contains("CO2e per f1 point"), "{md}");
    assert!(md.contains("(f1 0.912 is 91.2 points)"), "{md}");
    // 100 km is shown; 0.0000135 km (the CodeCarbon example's 3.3 mg) is not.
    assert!(md.contains("passenger car 100 km"), "{md}");
    let (_, md, _) = run(&[
        "check",
        "--policy",
        "policies/",
        "--model-version",
        "2.1.0",
        "--format",
        "markdown",
        "examples/runs/",
    ]);
    assert!(!md.contains("passenger car"), "{md}");
}
