//! `carbon-gate report`: the Environmental Impact Disclosure (Markdown, JSON, HTML) for a measured
//! run, an estimated-only run and a run with unknown energy, and the Hugging Face card export.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

/// The three kinds of evidence: (name, arguments).
const CASES: &[(&str, &[&str])] = &[
    (
        "measured",
        &[
            "--policy",
            "policies",
            "--model-version",
            "2.1.0",
            "examples/runs/",
        ],
    ),
    (
        "estimated",
        &[
            "--config",
            "examples/tradeoff/carbon-gate.yaml",
            "--facts",
            "examples/tradeoff/facts.yaml",
        ],
    ),
    (
        "unknown_energy",
        &[
            "--policy",
            "policies",
            "--model-version",
            "1.0.0",
            "tests/fixtures/hf-cards/mapping-grams/README.md",
        ],
    ),
];

fn report(format: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["report", "--today", "2026-11-28", "--format", format];
    all.extend_from_slice(args);
    common::run(&all)
}

#[test]
fn snapshots_of_every_format_and_case() {
    for (name, args) in CASES {
        for format in ["markdown", "json", "html"] {
            let (code, stdout, stderr) = report(format, args);
            assert_eq!(code, 0, "{name} {format}: {stderr}");
            insta::assert_snapshot!(format!("disclosure_{name}_{format}"), stdout);
        }
    }
}

/// Every field group of the disclosure, for every model, in every case.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "A",
        &[
            "model_id",
            "version",
            "weights_sha256",
            "release_date",
            "eu_placement_date",
            "base_model",
            "provider_role",
            "modification_compute_ratio",
            "open_source_exemption_claimed",
            "systemic_risk_presumed",
        ],
    ),
    (
        "B",
        &[
            "training_compute_flop",
            "training_time_days",
            "training_hardware_days",
            "hardware_inventory",
            "compute_scope",
            "inference_compute_flop_benchmark",
        ],
    ),
    (
        "C",
        &[
            "training_energy_mwh",
            "energy_status",
            "energy_methodology",
            "energy_reserved_vs_used",
            "energy_boundary",
        ],
    ),
    (
        "D",
        &[
            "operational_location_based_co2e_kg",
            "operational_market_based_co2e_kg",
            "scope_classification",
            "embodied_co2e_kg",
            "total_co2e_kg",
            "carbon_aware_signal",
            "offsets",
        ],
    ),
    (
        "E",
        &[
            "sci_per_functional_unit",
            "baseline_delta",
            "carbon_budget",
            "gate_result",
            "eu_ai_act_applicability",
        ],
    ),
    (
        "F",
        &[
            "uncertainty_band",
            "defaults_used",
            "primary_data_share",
            "confidentiality",
        ],
    ),
];

#[test]
fn every_field_is_there_filled_or_null_with_a_reason_and_serves_a_provision() {
    for (name, args) in CASES {
        let (code, stdout, stderr) = report("json", args);
        assert_eq!(code, 0, "{stderr}");
        let d: Value = serde_json::from_str(&stdout).unwrap();
        let provisions: Vec<&str> = d["regulation"]["provisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        for m in d["models"].as_array().unwrap() {
            let sections = m["sections"].as_array().unwrap();
            let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
            assert_eq!(ids, ["A", "B", "C", "D", "E", "F"], "{name}");
            for (sid, keys) in REQUIRED {
                let s = sections.iter().find(|s| s["id"] == *sid).unwrap();
                let got: Vec<&str> = s["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["key"].as_str().unwrap())
                    .collect();
                assert_eq!(&got, keys, "{name} section {sid}");
                for f in s["fields"].as_array().unwrap() {
                    let serves = f["serves"].as_array().unwrap();
                    assert!(!serves.is_empty(), "{name} {}: serves nothing", f["key"]);
                    for id in serves {
                        assert!(provisions.contains(&id.as_str().unwrap()), "{id}");
                    }
                    match f["status"].as_str().unwrap() {
                        "null" => {
                            assert!(f["value"].is_null());
                            assert!(
                                f["note"].as_str().is_some_and(|n| n.len() > 10),
                                "{name} {}: null without a reason",
                                f["key"]
                            );
                        }
                        "filled" => assert!(!f["value"].is_null(), "{}", f["key"]),
                        other => panic!("status {other}"),
                    }
                }
            }
        }
    }
}

fn field<'a>(d: &'a Value, model: usize, key: &str) -> &'a Value {
    d["models"][model]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap())
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key}"))
}

#[test]
fn figures_are_the_checks_figures() {
    // Measured: the CodeCarbon example; text-gen's two runs (exact totals as `check` gives them).
    let (_, stdout, _) = report("json", CASES[0].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let check = common::run_json(
        &[
            "check",
            "--policy",
            "policies",
            "--model-version",
            "2.1.0",
            "--format",
            "json",
            "examples/runs/",
        ],
        0,
    );
    for (i, m) in check["models"].as_array().unwrap().iter().enumerate() {
        assert_eq!(d["models"][i]["model"], m["model"]);
        let mwh = common::num(&field(&d, i, "training_energy_mwh")["value"]);
        assert_eq!(mwh, common::num(&m["totals"]["energy_kwh"]) / 1000.0);
        assert_eq!(
            field(&d, i, "total_co2e_kg")["value"],
            m["totals"]["co2e_kg"]
        );
        assert_eq!(field(&d, i, "energy_status")["value"], "measured");
    }
    // Estimated: the facts' FLOP; the ratio to the base model; the memo cites the stated reason.
    let (_, stdout, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(field(&d, 0, "training_compute_flop")["value"], 2.6e20);
    assert_eq!(
        common::num(&field(&d, 0, "modification_compute_ratio")["value"]),
        2.6e20 / 8.4e22
    );
    assert_eq!(
        field(&d, 0, "energy_status")["value"],
        "estimated_from_power_model"
    );
    assert_eq!(field(&d, 0, "training_energy_mwh")["display"], "0.29 MWh");
    let memo = &d["proportionality"][0];
    assert_eq!(memo["chosen"], "text-gen 2.1.0");
    assert_eq!(memo["chosen_is_recommended"], false);
    assert!(
        memo["conclusion"]
            .as_str()
            .unwrap()
            .contains("the distilled model misses the 0.9 f1"),
        "{memo}"
    );
    // Unknown energy: a model card has CO2e only.
    let (_, stdout, _) = report("json", CASES[2].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(field(&d, 0, "training_energy_mwh")["status"], "null");
    assert_eq!(field(&d, 0, "energy_status")["value"], "unknown");
    assert_eq!(common::num(&field(&d, 0, "total_co2e_kg")["value"]), 1.71);
}

#[test]
fn audit_trail_digests_every_input() {
    let (_, stdout, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let files = d["audit"]["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for p in [
        "examples/tradeoff/candidate.ndjson",
        "examples/tradeoff/baseline.ndjson",
        "examples/tradeoff/distilled.ndjson",
        "examples/tradeoff/candidate-metrics.json",
        "examples/tradeoff/policy.yaml",
        "examples/tradeoff/carbon-gate.yaml",
        "examples/tradeoff/facts.yaml",
    ] {
        let f = files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} not in {paths:?}"));
        assert_eq!(
            f["sha256"],
            carbon_gate::digest::file_sha256(std::path::Path::new(p)).unwrap()
        );
    }
    assert_eq!(d["audit"]["regulation_table"], "2026-11-28.1");
    assert!(
        d["audit"]["command"]
            .as_str()
            .unwrap()
            .starts_with("carbon-gate report --today 2026-11-28 --format json --config")
    );
}

#[test]
fn hf_card_round_trip_keeps_every_other_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let card = tmp.path().join("README.md");
    let original =
        std::fs::read_to_string("tests/fixtures/hf-cards/mapping-grams/README.md").unwrap();
    std::fs::write(&card, &original).unwrap();
    let args = [
        "report",
        "--format",
        "hf-card",
        "--card",
        card.to_str().unwrap(),
        "--policy",
        "policies",
        "--model",
        "text-gen",
        "--model-version",
        "2.1.0",
        "--phase",
        "fine-tuning",
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
    ];
    let (code, stdout, stderr) = common::run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    let updated = std::fs::read_to_string(&card).unwrap();
    // Everything before and after the block is the original, byte for byte.
    let (before, rest) = original.split_once("co2_eq_emissions:\n").unwrap();
    let after = &rest[rest.find("model-index:").unwrap()..];
    assert!(updated.starts_with(before));
    assert!(updated.ends_with(after));
    let block = &updated[before.len()..updated.len() - after.len()];
    assert_eq!(
        block,
        "co2_eq_emissions:\n  emissions: 0.00334341\n  source: \"CodeCarbon 3.3.2 (totalled by carbon-gate 0.1.0)\"\n  training_type: \"fine-tuning\"\n  geographical_location: \"France, Germany, Sweden\"\n  hardware_used: \"AMD EPYC\"\n"
    );
    // The card is still valid YAML front matter with the value in grams.
    let front = updated.split("---\n").nth(1).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(front).unwrap();
    assert_eq!(
        yaml["co2_eq_emissions"]["emissions"].as_f64(),
        Some(0.00334341)
    );
    assert_eq!(yaml["license"].as_str(), Some("apache-2.0"));
    // Running again changes nothing.
    let (code, _, stderr) = common::run(&args);
    assert_eq!(code, 0);
    assert!(stderr.contains("(card unchanged)"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&card).unwrap(), updated);
}

#[test]
fn a_card_holds_one_model() {
    let (code, _, stderr) = common::run(&[
        "report",
        "--format",
        "hf-card",
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a model card holds one model, the inputs hold 2 candidates"),
        "{stderr}"
    );
}

#[test]
fn bad_facts_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let facts = common::write(
        tmp.path(),
        "facts.yaml",
        "version: 1\nmodels:\n  text-gen:\n    training-flops: 3e21\n",
    );
    let (code, _, stderr) = common::run(&[
        "report",
        "--facts",
        facts.to_str().unwrap(),
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("facts.yaml:4:"), "{stderr}");
    assert!(
        stderr.contains("unknown field `training-flops`"),
        "{stderr}"
    );
    let facts = common::write(
        tmp.path(),
        "facts2.yaml",
        "version: 1\nmodels:\n  text-gen:\n    training-flop: -1\n",
    );
    let (code, _, stderr) = common::run(&[
        "report",
        "--facts",
        facts.to_str().unwrap(),
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("models.text-gen.training-flop"), "{stderr}");
}

#[test]
fn committed_schemas_match() {
    for (kind, file) in [
        ("facts", "docs/facts.schema.json"),
        ("disclosure", "docs/disclosure.schema.json"),
    ] {
        let (code, stdout, _) = common::run(&["schema", kind]);
        assert_eq!(code, 0);
        let committed = std::fs::read_to_string(file)
            .unwrap_or_else(|_| panic!("{file} missing: cargo run -- schema {kind} > {file}"));
        assert_eq!(
            stdout, committed,
            "{file} is stale: cargo run -- schema {kind} > {file}"
        );
    }
}
