//! The other log formats, read from files the real tools wrote (tests/fixtures/README.md):
//! totals match the tools' own reported numbers to 1e-9 relative, formats are detected without
//! a flag, and each format's bad input gives exit 2 with file and place.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, num, run, run_json, write};

fn close(ours: f64, theirs: f64, what: &str) {
    let rel = (ours - theirs).abs() / theirs.abs().max(f64::MIN_POSITIVE);
    assert!(
        rel <= 1e-9,
        "{what}: {ours} vs the tool's {theirs} (relative {rel:e})"
    );
}

/// `ingest --format json` on `path`, expecting exit 0.
fn ingest(path: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["ingest", "--format", "json", path];
    args.extend_from_slice(extra);
    run_json(&args, 0)
}

fn totals(report: &serde_json::Value) -> (u64, f64, f64) {
    let t = &report["totals"];
    (
        t["runs"].as_u64().unwrap(),
        num(&t["energy_kwh"]),
        num(&t["co2e_kg"]),
    )
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect()
}

fn fails(args: &[&str], expected: &str) {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
    assert!(
        stderr.contains(expected),
        "{args:?}\nexpected: {expected}\ngot: {stderr}"
    );
}

// ---------------------------------------------------------------- Impact Framework

#[test]
fn impact_framework_totals_match_ifs_own_aggregates() {
    // (file, IF's tree.aggregated energy in the declared unit → kWh, carbon g, embodied g)
    let cases = [
        (
            "ml-training.out.yaml",
            14.004225,
            7405.753652294521,
            1668.5145547945206,
        ),
        (
            "nested.out.yaml",
            10.901916666666665,
            3511.8827071347027,
            963.0145904680364,
        ),
        (
            "unquoted-timestamps.out.yaml",
            10.901916666666665,
            3511.8827071347027,
            963.0145904680364,
        ),
        (
            "energy-in-wh.out.yaml",
            5322.35 / 1000.0,
            2344.2135759817356,
            802.8610159817351,
        ),
        ("tiny-values.out.yaml", 0.8057508, 201.4377, 0.0),
    ];
    for (file, energy_kwh, carbon_g, embodied_g) in cases {
        let report = ingest(&fixture(&format!("impact-framework/{file}")), &[]);
        let (runs, energy, co2e) = totals(&report);
        assert_eq!(runs, 1, "{file}: one manifest is one run");
        close(energy, energy_kwh, &format!("{file} energy"));
        close(co2e, carbon_g / 1000.0, &format!("{file} co2e"));
        if embodied_g > 0.0 {
            close(
                num(&report["totals"]["embodied_co2e_kg"]),
                embodied_g / 1000.0,
                file,
            );
        }
        assert_eq!(report["records"][0]["format"], "impact-framework");
        assert!(
            !codes(&report).contains(&"if-aggregate-differs".to_owned()),
            "{file}"
        );
    }
}

#[test]
fn impact_framework_components_are_located_in_the_tree() {
    let report = ingest(&fixture("impact-framework/nested.out.yaml"), &[]);
    let parts: Vec<_> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["part"]["name"].as_str().unwrap().to_owned(),
                r["source"]["path"].as_str().unwrap().to_owned(),
                r["source"]["line"].as_u64().unwrap() > 0,
            )
        })
        .collect();
    assert_eq!(
        parts,
        vec![
            (
                "cluster/node-a".into(),
                "tree.children.cluster.children.node-a".into(),
                true
            ),
            (
                "cluster/node-b".into(),
                "tree.children.cluster.children.node-b".into(),
                true
            ),
            ("eval-node".into(), "tree.children.eval-node".into(), true),
        ]
    );
    assert_eq!(report["records"][0]["model"], "text-gen-pretraining");
}

#[test]
fn impact_framework_without_aggregation_sums_the_outputs() {
    let report = ingest(&fixture("impact-framework/no-aggregation.out.yaml"), &[]);
    let (_, energy, co2e) = totals(&report);
    // Sums of each leaf's outputs (README: gpu-node 2.448575 + cpu-node 0.21575 kWh).
    close(energy, 2.448575 + 0.21575, "energy");
    close(
        co2e,
        (1251.684588270548 + 189.1068330479452) / 1000.0,
        "co2e",
    );
    assert!(codes(&report).contains(&"if-units-assumed".to_owned()));
}

#[test]
fn impact_framework_copied_aggregates_are_not_taken_for_sums() {
    let report = ingest(
        &fixture("impact-framework/no-metadata-aggregation.out.yaml"),
        &[],
    );
    let (_, energy, _) = totals(&report);
    close(energy, 2.448575 + 0.21575, "energy");
    assert_eq!(
        codes(&report)
            .iter()
            .filter(|c| *c == "if-aggregate-differs")
            .count(),
        4
    );
}

#[test]
fn impact_framework_failures_are_refused() {
    fails(
        &["ingest", &fixture("impact-framework/failed.out.yaml")],
        "failed.out.yaml:185:11 (execution): if-run recorded a failed run (status: fail): MissingInputDataError: `functional-unit` value is missing from input data or it is not a positive integer",
    );
    fails(
        &[
            "ingest",
            &fixture("impact-framework/failed-unit-mismatch.out.yaml"),
        ],
        "ManifestValidationError: Your manifest uses two instances of `energy` with different units.",
    );
    fails(
        &["ingest", &fixture("impact-framework/never-run.yml")],
        "never-run.yml: Impact Framework manifest was never run (no execution, no outputs): run `if-run -m",
    );
    fails(
        &["ingest", &fixture("impact-framework/weird-unit.out.yaml")],
        "weird-unit.out.yaml:63:19 (initialize.plugins.power-to-energy.parameter-metadata.outputs.energy.unit): `energy` is declared in unit \"bananas\", which carbon-gate cannot convert",
    );
}

#[test]
fn impact_framework_bad_yaml_and_missing_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("impact-framework/ml-training.out.yaml")).unwrap();
    let cut = &text[..text.find("  aggregated:").unwrap() + 14];
    let truncated = write(tmp.path(), "cut.out.yaml", &format!("{cut}\n  energy: [1,"));
    fails(
        &[
            "ingest",
            "--input-format",
            "impact-framework",
            truncated.to_str().unwrap(),
        ],
        "cut.out.yaml:",
    );
    let no_tree = write(
        tmp.path(),
        "no-tree.yaml",
        "name: x\ninitialize:\n  plugins: {}\nexecution:\n  status: success\n",
    );
    fails(
        &[
            "ingest",
            "--input-format",
            "impact-framework",
            no_tree.to_str().unwrap(),
        ],
        "no-tree.yaml: Impact Framework manifest has no `tree`",
    );
}

// ---------------------------------------------------------------- carbontracker

#[test]
fn carbontracker_actual_consumption_is_counted() {
    // (dir, runs, kWh, g CO2eq) from each output log's Actual block.
    let cases = [
        ("complete", 1, 0.000118515250, 0.052739286306),
        ("early-stop", 1, 0.000086913761, 0.038676623601),
        (
            "two-runs",
            2,
            0.000105348615 + 0.000094812642,
            0.046880133609 + 0.042191625733,
        ),
        ("v1.x", 1, 0.000032428511, 0.015403542626),
    ];
    for (dir, n, kwh, grams) in cases {
        let report = ingest(&fixture(&format!("carbontracker/{dir}")), &[]);
        let (runs, energy, co2e) = totals(&report);
        assert_eq!(runs, n, "{dir}");
        close(energy, kwh, dir);
        close(co2e, grams / 1000.0, dir);
    }
}

#[test]
fn carbontracker_early_stop_counts_the_epochs_that_ran() {
    let report = ingest(&fixture("carbontracker/early-stop"), &[]);
    assert_eq!(codes(&report), vec!["carbontracker-epochs"]);
    let message = report["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("says 1 epoch(s) but the standard log shows 2 epochs ran"),
        "{message}"
    );
    assert_eq!(
        report["records"][0]["layout"],
        "carbontracker 2.4.7 (actual consumption, 2 epochs ran)"
    );
    assert_eq!(report["records"][0]["pue"], 1.58);
}

#[test]
fn carbontracker_any_of_the_three_files_reads_the_run_once() {
    let dir = fixture("carbontracker/complete");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_owned())
        .collect();
    for f in &files {
        let report = ingest(f, &[]);
        close(totals(&report).1, 0.000118515250, f);
    }
    let mut args = vec!["ingest", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let report = run_json(&args, 0);
    assert_eq!(totals(&report).0, 1);
}

#[test]
fn carbontracker_without_actual_counts_the_prediction_and_says_so() {
    let report = ingest(&fixture("carbontracker/no-actual"), &[]);
    close(totals(&report).1, 0.000118515294, "predicted kWh");
    assert_eq!(codes(&report), vec!["carbontracker-predicted-only"]);
}

#[test]
fn carbontracker_bad_logs() {
    fails(
        &["ingest", &fixture("carbontracker/v1.x-no-components")],
        "carbontracker recorded no consumption for this run. It says: carbontracker.exceptions.NoComponentsAvailableError",
    );
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_dir(fixture("carbontracker/complete"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with("_output.log"))
        .unwrap();
    let text = std::fs::read_to_string(&src).unwrap();
    let cut = &text[..text.rfind("CO2eq:").unwrap() + 12];
    let log = write(
        tmp.path(),
        "1.2_2026-01-01T000000Z_carbontracker_output.log",
        cut,
    );
    fails(
        &["ingest", log.to_str().unwrap()],
        "carbontracker_output.log:14: `CO2eq:\\t0.052` does not end in \"g\"",
    );
}

// ---------------------------------------------------------------- Hugging Face cards

#[test]
fn hugging_face_cards_in_grams_and_the_kg_mistake() {
    type Case<'a> = (
        &'a str,
        &'a [&'a str],
        f64,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: [Case; 7] = [
        (
            "mapping-grams",
            &[],
            1710.0 / 1000.0,
            Some("text-gen"),
            Some("fine-tuning"),
        ),
        (
            "crlf-bom",
            &[],
            1710.0 / 1000.0,
            Some("text-gen"),
            Some("fine-tuning"),
        ),
        (
            "bare-yaml",
            &[],
            980.0 / 1000.0,
            Some("summarizer"),
            Some("training"),
        ),
        ("bare-number", &[], 7.300283563922049 / 1000.0, None, None),
        (
            "emissions-only",
            &[],
            2.4183907716233564 / 1000.0,
            None,
            None,
        ),
        (
            "mapping-kg-in-grams-field",
            &[],
            1.46,
            Some("summarizer"),
            Some("fine-tuning"),
        ),
        (
            "mapping-kg-in-grams-field",
            &["--hf-units", "g"],
            1.46 / 1000.0,
            Some("summarizer"),
            Some("fine-tuning"),
        ),
    ];
    for (dir, extra, kg, model, phase) in cases {
        let report = ingest(&fixture(&format!("hf-cards/{dir}")), extra);
        let (runs, energy, co2e) = totals(&report);
        assert_eq!((runs, energy), (1, 0.0), "{dir}");
        assert_eq!(co2e, kg, "{dir} {extra:?}");
        assert_eq!(report["totals"]["runs_without_energy"], 1);
        let r = &report["records"][0];
        assert_eq!(r["model"].as_str(), model, "{dir}");
        assert_eq!(r["phase"].as_str(), phase, "{dir}");
        assert_eq!(r["energy_kwh"], serde_json::Value::Null);
    }
    let report = ingest(&fixture("hf-cards/mapping-kg-in-grams-field"), &[]);
    assert_eq!(codes(&report), vec!["hf-card-units"]);
    assert!(
        report["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the card's text writes \"1.46 kg\": read as 1.46 kg")
    );
}

#[test]
fn hugging_face_bad_cards() {
    fails(
        &["ingest", &fixture("hf-cards/string-value/README.md")],
        "string-value/README.md:5:19 (co2_eq_emissions): `co2_eq_emissions`: \"lots\" is text, expected a number of grams",
    );
    fails(
        &["ingest", &fixture("hf-cards/string-number/README.md")],
        "(co2_eq_emissions.emissions): `co2_eq_emissions.emissions`: \"1710\" is text",
    );
    fails(
        &[
            "ingest",
            "--input-format",
            "hf-card",
            &fixture("hf-cards/no-co2/README.md"),
        ],
        "model card has no `co2_eq_emissions` in its metadata",
    );
    fails(
        &["ingest", &fixture("hf-cards/no-co2/README.md")],
        "not an emissions log this tool recognizes",
    );
}

#[test]
fn an_energy_budget_fails_closed_on_runs_without_energy() {
    let report = common::check_json(
        "version: 1\nbudgets:\n  - model: text-gen\n    limits:\n      co2e: { fail: \"2 kg\" }\n      energy: { fail: \"1 MWh\" }\n",
        &[&fixture("hf-cards/mapping-grams")],
        1,
    );
    let findings = &report["models"][0]["findings"];
    assert_eq!(findings[0]["code"], "no-energy-data");
    assert_eq!(
        findings.as_array().unwrap().len(),
        1,
        "the CO2e limit is met"
    );
}

// ---------------------------------------------------------------- carbon-gate JSON

#[test]
fn own_json_round_trips_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in [
        "codecarbon/flush-v3.3.2",
        "codecarbon/task-v3.3.2",
        "impact-framework/nested.out.yaml",
    ] {
        let (code, json, _) = run(&["ingest", "--format", "json", &fixture(dir)]);
        assert_eq!(code, 0);
        let exported = write(tmp.path(), "export.json", &json);
        let first: serde_json::Value = serde_json::from_str(&json).unwrap();
        let again = ingest(exported.to_str().unwrap(), &[]);
        assert_eq!(
            again["totals"]["co2e_kg"], first["totals"]["co2e_kg"],
            "{dir}"
        );
        assert_eq!(
            again["totals"]["energy_kwh"], first["totals"]["energy_kwh"],
            "{dir}"
        );
        assert_eq!(again["totals"]["runs"], first["totals"]["runs"], "{dir}");
        assert_eq!(again["records"][0]["format"], first["records"][0]["format"]);
        // The same runs through the export and the original log: counted once, with a warning.
        let both = ingest(exported.to_str().unwrap(), &[&fixture(dir)]);
        assert_eq!(both["totals"]["runs"], first["totals"]["runs"], "{dir}");
        assert_eq!(
            both["totals"]["co2e_kg"], first["totals"]["co2e_kg"],
            "{dir}"
        );
        assert!(codes(&both).contains(&"duplicate-run".to_owned()), "{dir}");
    }
}

#[test]
fn own_ndjson_records() {
    let tmp = tempfile::tempdir().unwrap();
    let log = write(
        tmp.path(),
        "runs.ndjson",
        "{\"run_id\": \"a\", \"co2e_kg\": 1.5, \"energy_kwh\": 10, \"model\": \"m\", \"version\": \"1.2.0\", \"phase\": \"inference\"}\n\n{\"run_id\": \"b\", \"co2e_kg\": 0.5, \"embodied_co2e_kg\": 0.25, \"model\": \"m\", \"version\": \"1.2.0\"}\n",
    );
    let report = ingest(log.to_str().unwrap(), &["--phase", "training"]);
    assert_eq!(totals(&report), (2, 10.0, 2.0));
    assert_eq!(report["records"][0]["phase"], "inference");
    assert_eq!(report["records"][1]["phase"], "training");
    assert_eq!(report["records"][1]["source"]["line"], 3);
    assert_eq!(report["totals"]["embodied_co2e_kg"], 0.25);
    // The version in the records selects the budget.
    let check = common::check_json(
        "version: 1\nbudgets:\n  - model: m\n    versions: \"^1.2\"\n    limits: { co2e: { fail: \"1.9 kg\" } }\n",
        &[log.to_str().unwrap()],
        1,
    );
    assert_eq!(check["models"][0]["version"], "1.2.0");
    let bad = write(
        tmp.path(),
        "bad.ndjson",
        "{\"run_id\": \"a\", \"co2e_kg\": 1}\n{\"run_id\": \"b\", \"co2e_kg\": -1}\n",
    );
    fails(
        &["ingest", bad.to_str().unwrap()],
        "bad.ndjson:2: `co2e_kg` is -1: expected a finite number of kg, zero or more",
    );
    let typo = write(
        tmp.path(),
        "typo.ndjson",
        "{\"run_id\": \"a\", \"co2_kg\": 1}\n",
    );
    fails(
        &["ingest", "--input-format", "native", typo.to_str().unwrap()],
        "typo.ndjson:1:",
    );
}

#[test]
fn record_schema_is_committed() {
    let (code, stdout, _) = run(&["schema", "record"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string("docs/record.schema.json").unwrap();
    assert_eq!(
        stdout, committed,
        "docs/record.schema.json is out of date: run `cargo run -- schema record > docs/record.schema.json`"
    );
}

// ---------------------------------------------------------------- eco2AI

#[test]
fn eco2ai_totals_over_the_rows_that_count() {
    // (dir, runs, kWh, kg CO2, s) — README: rows per run per release, tool's own numbers.
    let cases = [
        (
            "v0.3.12",
            2,
            4.536569716151462e-08,
            3.0635455293170817e-09,
            4.852357625961304,
        ),
        (
            "training-v0.3.12",
            2,
            6.75713634275136e-08,
            4.563094172259995e-09,
            7.167520761489868,
        ),
        (
            "emission-level-v0.3.12",
            1,
            2.004611470482587e-08,
            1.0023057352412935e-09,
            2.174090623855591,
        ),
        (
            "v0.3.0",
            2,
            3.915250339957766e-08,
            2.6439685545734786e-09,
            4.856526613235474,
        ),
        (
            "training-v0.3.0",
            2,
            6.409502983312147e-08,
            4.328337364630692e-09,
            7.701291799545288,
        ),
        (
            "v0.2.7",
            2,
            3.890456969884325e-08,
            2.627225591762885e-09,
            4.845705270767212,
        ),
        (
            "aborted-v0.2.7",
            2,
            3.214509319796348e-05,
            2.1707581436584736e-06,
            3.5424842834472656,
        ),
        (
            "v0.1.1",
            2,
            0.00032750146200249996,
            0.00010159095351320505,
            5.517085075378418,
        ),
    ];
    for (dir, n, kwh, kg, s) in cases {
        let report = ingest(&fixture(&format!("eco2ai/{dir}")), &[]);
        let (runs, energy, co2e) = totals(&report);
        assert_eq!(runs, n, "{dir}");
        close(energy, kwh, dir);
        close(co2e, kg, dir);
        close(num(&report["totals"]["duration_s"]), s, dir);
        assert_eq!(report["records"][0]["format"], "eco2ai");
    }
}

#[test]
fn eco2ai_epoch_rows_are_not_double_counted() {
    // 0.3.12: three epoch rows, each one epoch: summed, as components of one run.
    let report = ingest(&fixture("eco2ai/training-v0.3.12"), &[]);
    let parts: Vec<_> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["part"]["kind"].as_str().unwrap_or("-").to_owned())
        .collect();
    assert_eq!(parts, vec!["component", "component", "component", "-"]);
    assert!(codes(&report).is_empty());
    // 0.3.0: the summary row repeats the last epoch label and holds the sum: only it counts.
    let report = ingest(&fixture("eco2ai/training-v0.3.0"), &[]);
    assert_eq!(
        codes(&report),
        vec!["eco2ai-summary-row", "task-rows-in-run"]
    );
    let counted: Vec<_> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["counted"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        counted,
        vec![
            "in-run-row",
            "in-run-row",
            "in-run-row",
            "counted",
            "counted"
        ]
    );
}

#[test]
fn eco2ai_places_and_layouts() {
    let report = ingest(&fixture("eco2ai/v0.1.1"), &[]);
    let r = &report["records"][0];
    assert_eq!(r["place"]["country_iso"], "DE");
    assert_eq!(r["place"]["region"], "Berlin");
    assert_eq!(r["layout"], "eco2ai 0.1.x (tab-separated) (10 columns)");
    let report = ingest(&fixture("eco2ai/emission-level-v0.3.12"), &[]);
    assert_eq!(report["records"][0]["place"]["country_iso"], "FR");
    assert_eq!(report["records"][0]["hardware"]["cpu"], "AMD EPYC");
    assert_eq!(
        report["records"][0]["hardware"]["gpu"],
        serde_json::Value::Null
    );
}

#[test]
fn eco2ai_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("eco2ai/v0.3.12/emission.csv")).unwrap();
    let no_energy = text.replacen("power_consumption(kWh)", "power_usage", 1);
    let f = write(tmp.path(), "emission.csv", &no_energy);
    fails(
        &["ingest", "--input-format", "eco2ai", f.to_str().unwrap()],
        "emission.csv:1: eco2AI CSV without a `power_consumption(kWh)` column",
    );
    let mut lines: Vec<&str> = text.lines().collect();
    let broken = lines[2].replacen(",2026-", ",abc,2026-", 1);
    lines[2] = &broken;
    let f = write(tmp.path(), "emission.csv", &lines.join("\n"));
    fails(
        &["ingest", f.to_str().unwrap()],
        "emission.csv:3: row has 14 fields but the header has 13",
    );
}

// ---------------------------------------------------------------- all together

#[test]
fn a_folder_with_one_file_of_each_format() {
    let report = ingest("examples/mixed", &[]);
    let mut formats: Vec<_> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap().to_owned())
        .collect();
    formats.sort();
    assert_eq!(
        formats,
        vec![
            "carbontracker",
            "codecarbon",
            "eco2ai",
            "hf-card",
            "impact-framework",
            "native"
        ]
    );
    // Each format's total is the tool's own number.
    let by: std::collections::HashMap<String, (f64, f64)> = report["by_format"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["format"].as_str().unwrap().to_owned(),
                (
                    num(&f["totals"]["energy_kwh"]),
                    num(&f["totals"]["co2e_kg"]),
                ),
            )
        })
        .collect();
    close(by["codecarbon"].1, 7.906565967507522e-06, "codecarbon");
    close(by["impact-framework"].0, 14.004225, "IF energy");
    close(
        by["impact-framework"].1,
        7405.753652294521 / 1000.0,
        "IF carbon",
    );
    // eco2AI: the CSV (training 0.3.12) and the exported records (0.3.12 plain runs).
    close(
        by["eco2ai"].0,
        6.75713634275136e-08 + 4.536569716151462e-08,
        "eco2ai",
    );
    close(
        by["carbontracker"].1,
        0.052739286306 / 1000.0,
        "carbontracker",
    );
    assert_eq!(by["hf-card"].1, 1.71);
    let (runs, _, co2e) = totals(&report);
    assert_eq!(runs, 3 + 1 + 4 + 1 + 1);
    close(
        co2e,
        7.906565967507522e-06
            + 7.405753652294521
            + 4.563094172259995e-09
            + 3.0635455293170817e-09
            + 0.052739286306e-3
            + 1.71,
        "all",
    );
}
