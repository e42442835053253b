//! A pull request that edits the logs the gate reads must not flip its verdict (issue #17, items
//! 1–5): forged snapshots of a run, a run claimed by a decoy model, look-alike model names, logs
//! with no run, and prerelease versions that escaped every budget. Every test starts from a real
//! CodeCarbon 3.3.2 log (`tests/fixtures/codecarbon/flush-v3.3.2/`: two runs, three cumulative
//! snapshots each) that fails the budget honestly, and checks what the attack gets now.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

/// text-gen's run in the fixture totals 1.0189 mg CO2e: over this limit.
const STRICT: &str = "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"1 mg\" }\n  - model: summarizer\n    limits:\n      co2e: { fail: \"1 kg\" }\n";

fn fixture() -> String {
    std::fs::read_to_string(common::fixture("codecarbon/flush-v3.3.2/emissions.csv")).unwrap()
}

/// The fixture's line `n` (1 = header) split into fields (the file has no quoted fields).
fn fields(n: usize) -> Vec<String> {
    fixture()
        .lines()
        .nth(n - 1)
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn column(name: &str) -> usize {
    fields(1).iter().position(|h| h == name).unwrap()
}

/// text-gen's last snapshot (line 4), with some fields replaced.
fn forged(changes: &[(&str, &str)]) -> String {
    let mut row = fields(4);
    for (name, value) in changes {
        row[column(name)] = (*value).to_owned();
    }
    row.join(",")
}

fn check(dir: &Path, extra: &[&str], logs: &[&str]) -> (i32, String, String) {
    let policy = common::write(dir, "policy.yaml", STRICT);
    let mut args = vec![
        "check".to_owned(),
        "--policy".into(),
        policy.to_string_lossy().into_owned(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(
        logs.iter()
            .map(|l| dir.join(l).to_string_lossy().into_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::run(&args)
}

/// The honest log fails: the attacks below must not turn that into a pass.
#[test]
fn the_honest_log_fails_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "emissions.csv", &fixture());
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("FAIL: text-gen"), "{stderr}");
}

/// A row with a little more energy and almost no CO2e under the run's id replaced the real row
/// (the one with the most energy was kept): now the two are conflicting evidence, exit 2, both
/// rows named.
#[test]
fn a_forged_snapshot_with_less_co2e_is_refused() {
    let attack = forged(&[
        ("timestamp", "2026-11-28T18:23:05"),
        ("duration", "3.5"),
        ("energy_consumed", "1.9e-05"),
        ("emissions", "1e-12"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    // In the same file.
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{attack}\n", fixture()),
    );
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("conflicting evidence"), "{stderr}");
    assert!(
        stderr.contains("emissions.csv:4 and") && stderr.contains("emissions.csv:8"),
        "{stderr}"
    );
    assert!(
        stderr.contains("energy rises (0.000018182136736269398 kWh → 0.000019 kWh) while CO2e falls (0.000001018908760563801 kg → 0.000000000001 kg)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("conflicting-evidence: count-larger"),
        "{stderr}"
    );

    // In another file of the directory.
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "emissions.csv", &fixture());
    let header = fields(1).join(",");
    std::fs::create_dir(dir.path().join("later")).unwrap();
    common::write(
        dir.path(),
        "later/emissions.csv",
        &format!("{header}\n{attack}\n"),
    );
    let (code, _, stderr) = check(dir.path(), &[], &["."]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("conflicting evidence"), "{stderr}");

    // As a carbon-gate record (NDJSON) that claims to be the CodeCarbon row.
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "emissions.csv", &fixture());
    common::write(
        dir.path(),
        "runs.ndjson",
        "{\"run_id\": \"bfc48499-f8cc-497a-a701-2843754ad513\", \"format\": \"codecarbon\", \"model\": \"text-gen\", \"energy_kwh\": 1.9e-05, \"co2e_kg\": 1e-12, \"duration_s\": 3.5}\n",
    );
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv", "runs.ndjson"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("conflicting evidence"), "{stderr}");
}

/// A task row can no longer hide a run: a run row that holds less than its tasks add up to is
/// conflicting evidence.
#[test]
fn a_run_row_smaller_than_its_tasks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new("tests/fixtures/codecarbon/task-v3.3.2");
    for entry in std::fs::read_dir(src).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    // The honest directory reads (the run row equals its tasks' sum).
    let (code, _, stderr) = check(dir.path(), &["--model", "text-gen"], &["."]);
    assert_ne!(code, 2, "{stderr}");
    // The run row's CO2e cut to almost nothing.
    let run = dir.path().join("emissions.csv");
    let text = std::fs::read_to_string(&run).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at = header.iter().position(|h| *h == "emissions").unwrap();
    let mut row: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    row[at] = "1e-15".into();
    lines[1] = row.join(",");
    std::fs::write(&run, lines.join("\n") + "\n").unwrap();
    let (code, _, stderr) = check(dir.path(), &["--model", "text-gen"], &["."]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds less than its task rows"), "{stderr}");
}

/// Where the policy says so, conflicting figures count at the larger of each, never the smaller:
/// the forged row cannot lower the total, and the check still fails.
#[test]
fn count_larger_never_counts_the_smaller_figure() {
    let attack = forged(&[
        ("timestamp", "2026-11-28T18:23:05"),
        ("duration", "3.5"),
        ("energy_consumed", "1.9e-05"),
        ("emissions", "1e-12"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{attack}\n", fixture()),
    );
    let policy = format!("{STRICT}conflicting-evidence: count-larger\n");
    let policy = common::write(dir.path(), "larger.yaml", &policy);
    let (code, stdout, stderr) = common::run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
        dir.path().join("emissions.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let text_gen = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "text-gen")
        .unwrap();
    // The real row's CO2e, the forged row's energy and duration.
    assert_eq!(text_gen["totals"]["co2e_kg"], 1.018908760563801e-06);
    assert_eq!(text_gen["totals"]["energy_kwh"], 1.9e-05);
    assert!(stderr.contains("[conflicting-evidence]"), "{stderr}");
}

/// The same run under a decoy model took the run away from its model: one run belongs to one
/// model, so that is an error naming both places.
#[test]
fn a_run_claimed_by_a_decoy_model_is_refused() {
    let attack = forged(&[
        ("timestamp", "2026-11-28T18:23:05"),
        ("project_name", "decoy"),
        ("duration", "3.5"),
        ("energy_consumed", "1.9e-05"),
        ("emissions", "1.1e-06"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{attack}\n", fixture()),
    );
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("conflicting attribution: run bfc48499-f8cc-497a-a701-2843754ad513 is claimed by model `text-gen`")
            && stderr.contains("and by model `decoy`"),
        "{stderr}"
    );
    // A row of another run started at another time is not a snapshot of it either.
    let other_start = forged(&[
        ("timestamp", "2026-11-28T20:00:00"),
        ("duration", "3.5"),
        ("energy_consumed", "1.9e-05"),
        ("emissions", "1.1e-06"),
    ]);
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{other_start}\n", fixture()),
    );
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("disagree on what does not change during a run (start"),
        "{stderr}"
    );
}

/// `m` + a zero-width space renders like `m` and split its total: refused. Look-alikes that are
/// different names (`M`, Cyrillic `м`) are reported; a name spelled in another Unicode
/// composition or with spaces around it is the same model.
#[test]
fn look_alike_model_names() {
    let dir = tempfile::tempdir().unwrap();
    let hidden = forged(&[
        ("run_id", "00000000-0000-4000-8000-000000000001"),
        ("project_name", "text-gen\u{200b}"),
    ]);
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{hidden}\n", fixture()),
    );
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("emissions.csv:8"), "{stderr}");
    assert!(stderr.contains("U+200B"), "{stderr}");
    assert!(stderr.contains("text-gen\\u{200b}"), "{stderr}");

    let upper = forged(&[
        ("run_id", "00000000-0000-4000-8000-000000000002"),
        ("project_name", "Text-gen"),
    ]);
    let cyrillic = forged(&[
        ("run_id", "00000000-0000-4000-8000-000000000003"),
        ("project_name", "t\u{435}xt-gen"),
    ]);
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{upper}\n{cyrillic}\n", fixture()),
    );
    let (_, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert!(
        stderr.contains(
            "warning: model names `Text-gen`, `text-gen`, `t\u{435}xt-gen` (U+0435) look alike but are different models"
        ) && stderr.contains("[confusable-names]"),
        "{stderr}"
    );

    // " text-gen " is text-gen: one model, its total not split.
    let spaced = forged(&[
        ("run_id", "00000000-0000-4000-8000-000000000004"),
        ("project_name", " text-gen "),
    ]);
    common::write(
        dir.path(),
        "emissions.csv",
        &format!("{}{spaced}\n", fixture()),
    );
    let (code, stdout, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["summarizer", "text-gen"]);
}

/// A log with no run is no evidence: a header alone, or a file whose line ends are carriage
/// returns alone (read as one long header), was "PASS: 0 models".
#[test]
fn logs_without_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let header = fields(1).join(",");
    common::write(dir.path(), "emissions.csv", &format!("{header}\n"));
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no runs found in"), "{stderr}");

    let cr_only = fixture().replace('\n', "\r");
    common::write(dir.path(), "emissions.csv", &cr_only);
    let (code, _, stderr) = check(dir.path(), &[], &["emissions.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("carriage return alone"), "{stderr}");
}

fn versioned(dir: &Path, policy: &str, version: &str) -> (i32, String) {
    std::fs::write(dir.join("emissions.csv"), fixture()).unwrap();
    let policy = common::write(dir, "versions.yaml", policy);
    let (code, _, stderr) = common::run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--model",
        "text-gen",
        "--model-version",
        version,
        dir.join("emissions.csv").to_str().unwrap(),
    ]);
    (code, stderr)
}

/// `2.1.0-rc.1` matched no `>=2.0.0, <3.0.0` budget under Cargo's rules, so "no budget" and a
/// pass: a release candidate answers to its release's budget now.
#[test]
fn a_release_candidate_answers_to_its_release_budget() {
    let dir = tempfile::tempdir().unwrap();
    let policy = "version: 1\nbudgets:\n  - model: text-gen\n    versions: \">=2.0.0, <3.0.0\"\n    limits:\n      co2e: { fail: \"1 mg\" }\n";
    let (code, stderr) = versioned(dir.path(), policy, "2.1.0-rc.1");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("FAIL: text-gen 2.1.0-rc.1: CO2e"),
        "{stderr}"
    );
}

/// A model with budgets checked at a version none of them covers fails closed (or warns, where
/// the policy says so); `policy validate` points the gap out.
#[test]
fn a_version_no_budget_covers_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let policy = "version: 1\nbudgets:\n  - model: text-gen\n    versions: \">=2.0.0, <3.0.0\"\n    limits:\n      co2e: { fail: \"1 kg\" }\n";
    let (code, stderr) = versioned(dir.path(), policy, "3.0.0");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("text-gen has budgets, but none covers version 3.0.0"),
        "{stderr}"
    );
    let lenient = format!("{policy}uncovered-versions: warn\n");
    let (code, stderr) = versioned(dir.path(), &lenient, "3.0.0");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("none covers version 3.0.0"), "{stderr}");

    let file = common::write(dir.path(), "gap.yaml", policy);
    let (code, stdout, stderr) = common::run(&["policy", "validate", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        format!("{stdout}{stderr}")
            .contains("budgets for `text-gen` cover only versions `>=2.0.0, <3.0.0`"),
        "{stdout}{stderr}"
    );
}
