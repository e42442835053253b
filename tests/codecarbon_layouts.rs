//! Every CodeCarbon layout and every damage case, read from files the real releases wrote
//! (tests/fixtures/README.md says which release and command wrote each).
//!
//! Expected totals come from `tests/fixtures/codecarbon/generate/expected_totals.py`, which
//! recomputes them from the CSV text with Python's `csv` module and `math.fsum`; carbon-gate sums
//! exactly too, so the totals are asserted bit for bit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{check_json, fixture, num, run, run_json};

/// (fixture dir, runs, co2e kg, energy kWh) for the whole directory.
const DIRS: &[(&str, u64, f64, f64)] = &[
    ("v1.2.0", 3, 2.34344836290936e-05, 5.3190097969449147e-05),
    ("v2.1.4", 3, 6.1435273664054485e-06, 6.420593698963435e-05),
    ("v2.2.2", 3, 6.96177962123783e-06, 6.42166811808287e-05),
    ("v2.3.5", 3, 8.893060358443332e-06, 6.427572519449547e-05),
    ("v2.8.4", 3, 7.906565967507522e-06, 6.420887936312292e-05),
    ("v3.1.0", 3, 9.627567021730568e-06, 7.817822907083393e-05),
    ("v3.3.2", 3, 3.343409678063297e-06, 2.715088504865598e-05),
    (
        "shifted-v3.3.0",
        3,
        3.483570210771986e-06,
        2.803233694408359e-05,
    ),
    (
        "rotation-v3.2.0",
        6,
        2.2782985136215662e-05,
        0.00010427607027291557,
    ),
    (
        "task-v3.3.2",
        1,
        1.0156458871186407e-06,
        1.8123911688621148e-05,
    ),
    (
        "flush-v2.1.4",
        2,
        2.9330836924986945e-06,
        8.662679294728385e-05,
    ),
    (
        "flush-v2.8.4",
        2,
        4.159776120887722e-06,
        8.59965971637815e-05,
    ),
    (
        "flush-v3.3.2",
        2,
        1.7579371524264078e-06,
        3.634231346222116e-05,
    ),
    (
        "update-v2.8.4",
        2,
        6.237483181252071e-06,
        2.8553474614590877e-05,
    ),
    (
        "update-v3.3.2",
        2,
        5.299781022322951e-06,
        2.4240557489330265e-05,
    ),
    (
        "mixed-v1.2.0-then-v2.1.4",
        3,
        1.3438147099461901e-05,
        3.792243824739731e-05,
    ),
    (
        "mixed-v2.1.4-then-v1.2.0",
        3,
        8.527366166316472e-06,
        4.0371153018707856e-05,
    ),
];

#[test]
fn ingest_totals_equal_what_codecarbon_measured() {
    for (dir, runs, co2e, energy) in DIRS {
        let path = fixture(&format!("codecarbon/{dir}"));
        let report = run_json(&["ingest", &path, "--format", "json"], 0);
        let totals = &report["totals"];
        assert_eq!(totals["runs"].as_u64(), Some(*runs), "{dir}: runs");
        assert_eq!(num(&totals["co2e_kg"]), *co2e, "{dir}: co2e_kg");
        assert_eq!(num(&totals["energy_kwh"]), *energy, "{dir}: energy_kwh");
        assert_eq!(report["schema_version"], 1);
    }
}

/// Per-model totals of a check over a fixture directory, as (model, runs, co2e, energy).
fn per_model(dir: &str) -> Vec<(String, u64, f64, f64)> {
    let report = check_json(
        "version: 1\nbudgets:\n  - model: \"*\"\n    limits: { co2e: { fail: \"1 t\" } }\n",
        &[&fixture(&format!("codecarbon/{dir}"))],
        0,
    );
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["model"].as_str().unwrap().to_owned(),
                m["totals"]["runs"].as_u64().unwrap(),
                num(&m["totals"]["co2e_kg"]),
                num(&m["totals"]["energy_kwh"]),
            )
        })
        .collect()
}

#[test]
fn runs_are_attributed_to_their_project_name() {
    assert_eq!(
        per_model("v1.2.0"),
        vec![
            (
                "summarizer".into(),
                1,
                8.23277854744644e-06,
                1.182582122938576e-05
            ),
            (
                "text-gen".into(),
                2,
                1.520170508164716e-05,
                4.136427674006339e-05
            ),
        ]
    );
    assert_eq!(
        per_model("shifted-v3.3.0"),
        vec![
            (
                "summarizer".into(),
                1,
                2.4106419931115966e-06,
                6.327974781760327e-06
            ),
            (
                "text-gen".into(),
                2,
                1.0729282176603893e-06,
                2.1704362162323264e-05
            ),
        ]
    );
    assert_eq!(
        per_model("rotation-v3.2.0"),
        vec![
            (
                "summarizer".into(),
                3,
                1.986109023857409e-05,
                5.213568772430526e-05
            ),
            (
                "text-gen".into(),
                3,
                2.9218948976415728e-06,
                5.21403825486103e-05
            ),
        ]
    );
    assert_eq!(
        per_model("mixed-v2.1.4-then-v1.2.0"),
        vec![
            (
                "summarizer".into(),
                1,
                4.296542886612499e-06,
                1.4274228859177737e-05
            ),
            (
                "text-gen".into(),
                2,
                4.230823279703973e-06,
                2.6096924159530117e-05
            ),
        ]
    );
}

#[test]
fn each_layout_is_recognized_from_its_header() {
    let expect = [
        ("v1.2.0", "codecarbon 1.0.0–1.2.0 (12 columns)"),
        ("v2.1.4", "codecarbon 2.0.0–2.1.4 (29 columns)"),
        ("v2.2.2", "codecarbon 2.2.0–2.2.2 (30 columns)"),
        ("v2.3.5", "codecarbon 2.2.3–2.6 (31 columns)"),
        ("v2.8.4", "codecarbon 2.7.0–3.0.7 (32 columns)"),
        ("v3.1.0", "codecarbon 3.0.8–3.2.0 (34 columns)"),
        ("v3.3.2", "codecarbon 3.2.1–3.3.2 (38 columns)"),
    ];
    for (dir, layout) in expect {
        let report = run_json(
            &[
                "ingest",
                "--format",
                "json",
                &fixture(&format!("codecarbon/{dir}")),
            ],
            0,
        );
        assert_eq!(report["inputs"][0]["layout"], layout, "{dir}");
        assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{dir}");
    }
}

#[test]
fn check_verdict_and_exit_code_on_every_layout() {
    // text-gen's CO2e in each layout fixture: a fail limit 1% above passes, 1% below fails.
    for (dir, ..) in DIRS {
        let models = per_model(dir);
        let Some((_, _, co2e, _)) = models.iter().find(|m| m.0 == "text-gen") else {
            continue;
        };
        for (factor, code, verdict) in [(1.01, 0, "pass"), (0.99, 1, "fail")] {
            let policy = format!(
                "version: 1\nbudgets:\n  - model: text-gen\n    limits: {{ co2e: {{ fail: \"{:e} kg\" }} }}\n  - model: \"*\"\n    limits: {{ co2e: {{ fail: \"1 t\" }} }}\n",
                co2e * factor
            );
            let report = check_json(&policy, &[&fixture(&format!("codecarbon/{dir}"))], code);
            assert_eq!(report["verdict"], verdict, "{dir} ×{factor}");
        }
    }
}

#[test]
fn shifted_rows_warn_with_file_and_line() {
    let report = run_json(
        &[
            "ingest",
            "--format",
            "json",
            &fixture("codecarbon/shifted-v3.3.0"),
        ],
        0,
    );
    let warnings = report["warnings"].as_array().unwrap();
    let shifted: Vec<_> = warnings
        .iter()
        .filter(|w| w["code"] == "codecarbon-shifted-row")
        .map(|w| w["location"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(shifted, vec![3, 4]);
    // The columns after the dropped ones are not trusted: no cloud region made of an OS string.
    for row in report["records"].as_array().unwrap() {
        let region = row["place"]["cloud_region"].as_str().unwrap_or_default();
        assert!(!region.starts_with("Linux"), "{row}");
    }
}

#[test]
fn rotated_backups_are_read_from_a_directory_and_flagged_next_to_a_file() {
    let report = run_json(
        &[
            "ingest",
            "--format",
            "json",
            &fixture("codecarbon/rotation-v3.2.0"),
        ],
        0,
    );
    assert_eq!(report["inputs"].as_array().unwrap().len(), 3);
    // Named alone, the new file holds 2 runs; the 4 rotated ones are flagged, not silently lost.
    let report = run_json(
        &[
            "ingest",
            "--format",
            "json",
            &fixture("codecarbon/rotation-v3.2.0/emissions.csv"),
        ],
        0,
    );
    assert_eq!(report["totals"]["runs"], 2);
    let flagged: Vec<_> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "codecarbon-backup-not-read")
        .map(|w| w["location"]["file"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        flagged,
        vec![
            fixture("codecarbon/rotation-v3.2.0/emissions.csv.bak"),
            fixture("codecarbon/rotation-v3.2.0/emissions.csv_0.bak"),
        ]
    );
}

#[test]
fn task_rows_are_not_counted_twice_and_fix_the_run_duration() {
    let report = run_json(
        &[
            "ingest",
            "--format",
            "json",
            &fixture("codecarbon/task-v3.3.2"),
        ],
        0,
    );
    let statuses: Vec<_> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["task"].as_str().map(str::to_owned),
                r["counted"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses.iter().filter(|s| s.1 == "counted").count(), 1);
    assert_eq!(statuses.iter().filter(|s| s.1 == "in-run-row").count(), 3);
    // The run row says 1.001 s (CodeCarbon writes the last task's length); the tasks add to 3.003 s.
    assert_eq!(num(&report["totals"]["duration_s"]), 3.002766898999994);
    let codes: Vec<_> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, vec!["task-rows-in-run", "task-duration-corrected"]);
}

#[test]
fn a_task_file_alone_counts_as_its_run() {
    let task_file = std::fs::read_dir(fixture("codecarbon/task-v3.3.2"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("emissions_")
        })
        .unwrap();
    let report = run_json(
        &["ingest", "--format", "json", task_file.to_str().unwrap()],
        0,
    );
    assert_eq!(report["totals"]["runs"], 1);
    // The sum of the three tasks is exactly the run row's emissions (CodeCarbon adds them up).
    assert_eq!(num(&report["totals"]["co2e_kg"]), 1.0156458871186407e-06);
    assert_eq!(report["warnings"][0]["code"], "task-rows-without-run");
}

#[test]
fn flush_snapshots_count_once() {
    let report = run_json(
        &[
            "ingest",
            "--format",
            "json",
            &fixture("codecarbon/flush-v3.3.2"),
        ],
        0,
    );
    let superseded = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["counted"]["status"] == "superseded")
        .count();
    assert_eq!(superseded, 4);
    assert_eq!(report["warnings"][0]["code"], "duplicate-run");
}

#[test]
fn the_same_file_twice_counts_once() {
    let f = fixture("codecarbon/v2.8.4/emissions.csv");
    let report = run_json(&["ingest", "--format", "json", &f, &f], 0);
    assert_eq!(report["totals"]["runs"], 3);
    assert_eq!(num(&report["totals"]["co2e_kg"]), 7.906565967507522e-06);
}

#[test]
fn ingest_table_lists_every_row() {
    let (code, stdout, _) = run(&["ingest", &fixture("codecarbon/flush-v3.3.2")]);
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("superseded by").count(), 4, "{stdout}");
    assert!(
        stdout.contains("Total: 2 runs, 36.34 mWh energy, 1.758 mg CO2e"),
        "{stdout}"
    );
}
