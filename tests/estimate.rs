//! Estimates against published figures, embodied carbon in `check`, reference data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{check_json, fixture, num, run, run_json, write};

fn within(ours: f64, published: f64, tolerance: f64, what: &str) {
    let rel = (ours - published).abs() / published;
    assert!(
        rel <= tolerance,
        "{what}: {ours} vs published {published} ({:.3}% off)",
        rel * 100.0
    );
}

fn estimate(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["estimate", "--format", "json"];
    all.extend_from_slice(args);
    run_json(&all, 0)
}

#[test]
fn gpt3_as_patterson_et_al_2021_table_4() {
    // 10,000 V100 for 14.8 days at 330 W average, PUE 1.10, 429 g/kWh → ~1,287 MWh, ~552 tCO2e.
    let e = estimate(&[
        "--accelerator",
        "V100-SXM2-32GB",
        "--power",
        "330 W",
        "--count",
        "10000",
        "--hours",
        &(14.8 * 24.0).to_string(),
        "--pue",
        "1.1",
        "--intensity",
        "429 g/kWh",
    ]);
    let t = &e["totals"];
    within(num(&t["energy_kwh"]), 1_287_000.0, 0.01, "energy");
    within(
        num(&t["operational_co2e_kg"]),
        552_000.0,
        0.01,
        "operational CO2e",
    );
    assert_eq!(e["record"]["method"], "power-estimate");
    // The total adds the embodied share on top and says so.
    assert_eq!(
        num(&t["co2e_kg"]),
        num(&t["operational_co2e_kg"]) + num(&t["embodied_co2e_kg"])
    );
    assert!(
        num(&t["co2e_low_kg"]) < num(&t["co2e_kg"]) && num(&t["co2e_kg"]) < num(&t["co2e_high_kg"])
    );
}

#[test]
fn bloom_as_luccioni_et_al_2022() {
    // 1,082,990 A100 GPU-hours at 400 W TDP → 433,196 kWh; at 57 g/kWh → 24.69 tCO2e (dynamic only).
    let e = estimate(&[
        "--accelerator",
        "A100-SXM4-80GB",
        "--device-hours",
        "1082990",
        "--pue",
        "1",
        "--intensity",
        "57 g/kWh",
    ]);
    let t = &e["totals"];
    within(num(&t["energy_kwh"]), 433_196.0, 0.01, "energy");
    within(
        num(&t["operational_co2e_kg"]),
        24_690.0,
        0.01,
        "operational CO2e",
    );
    assert_eq!(e["record"]["method"], "tdp-estimate");
    // The TDP and its source are listed among the assumptions.
    let tdp = e["record"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "TDP")
        .unwrap();
    assert_eq!(tdp["value"], "400 W (A100-SXM4-80GB)");
    assert!(
        tdp["source"]
            .as_str()
            .unwrap()
            .contains("A100 Tensor Core GPU Datasheet")
    );
}

#[test]
fn ml_co2_impact_calculator_with_pue_1() {
    // The calculator: energy = round2(W × h / 1000) kWh; CO2 = energy × regional kg/kWh. (It also
    // rounds the kg/kWh factor to 2 decimals, which carbon-gate does not: 56.039 g/kWh stays
    // 0.056039, not 0.06.)
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    for (acc, watts, hours, g) in [
        ("T4", 70.0, 10.0, 429.0),
        ("A100-PCIE-40GB", 250.0, 100.0, 56.039),
    ] {
        let e = estimate(&[
            "--accelerator",
            acc,
            "--count",
            "1",
            "--hours",
            &hours.to_string(),
            "--pue",
            "1",
            "--intensity",
            &format!("{g} g/kWh"),
        ]);
        let energy = num(&e["totals"]["energy_kwh"]);
        assert_eq!(
            round2(energy),
            round2(watts * hours / 1000.0),
            "{acc} energy"
        );
        let co2 = num(&e["totals"]["operational_co2e_kg"]);
        within(co2, watts * hours / 1000.0 * g / 1000.0, 1e-12, acc);
    }
}

#[test]
fn flops_and_a_region_with_its_provider_pue() {
    // 3.14e23 FLOP on V100s at 125 TFLOP/s FP16 tensor peak and 40% MFU.
    let e = estimate(&[
        "--accelerator",
        "V100-SXM2-32GB",
        "--flops",
        "3.14e23",
        "--mfu",
        "0.4",
        "--region",
        "gcp:europe-west9",
    ]);
    assert_eq!(e["record"]["method"], "flop-estimate");
    let device_hours = 3.14e23 / (125.0e12 * 0.4) / 3600.0;
    let energy = num(&e["totals"]["energy_kwh"]);
    within(
        energy,
        300.0 * device_hours / 1000.0 * 1.10,
        1e-9,
        "energy at TDP × PUE 1.10",
    );
    within(
        num(&e["totals"]["operational_co2e_kg"]),
        energy * 34.0 / 1000.0,
        1e-9,
        "34 g/kWh",
    );
    // On a cloud region the electricity is Scope 3 cat. 1 of the user.
    let scopes = &e["totals"]["scopes"];
    assert_eq!(scopes["scope2_location_kg"], 0.0);
    within(
        num(&scopes["scope3_cat1_location_kg"]),
        energy * 34.0 / 1000.0,
        1e-9,
        "scope 3",
    );
}

#[test]
fn market_based_factor_is_reported_not_subtracted() {
    let e = estimate(&[
        "--accelerator",
        "H100-SXM5-80GB",
        "--count",
        "8",
        "--hours",
        "10",
        "--country",
        "DE",
        "--market-factor",
        "20 g/kWh",
    ]);
    let t = &e["totals"];
    within(
        num(&t["market_co2e_kg"]),
        num(&t["energy_kwh"]) * 20.0 / 1000.0,
        1e-9,
        "market",
    );
    within(
        num(&t["operational_co2e_kg"]),
        num(&t["energy_kwh"]) * 380.95 / 1000.0,
        1e-9,
        "location-based",
    );
}

#[test]
fn unknown_names_suggest_the_closest() {
    let (code, _, stderr) = run(&[
        "estimate",
        "--accelerator",
        "A100-80",
        "--count",
        "1",
        "--hours",
        "1",
        "--country",
        "FR",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown accelerator \"A100-80\""),
        "{stderr}"
    );
    assert!(stderr.contains("closest known: A100 80GB"), "{stderr}");
    let (code, _, stderr) = run(&[
        "estimate",
        "--accelerator",
        "T4",
        "--count",
        "1",
        "--hours",
        "1",
        "--region",
        "aws:eu-west-99",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown cloud region \"aws:eu-west-99\""),
        "{stderr}"
    );
    assert!(stderr.contains("aws:eu-west-"), "{stderr}");
    let (code, _, stderr) = run(&[
        "estimate",
        "--accelerator",
        "T4",
        "--count",
        "1",
        "--hours",
        "1",
        "--country",
        "Frnace",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("closest known: FR, ") && stderr.contains("France"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["reference", "show", "H1000"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("closest known:"), "{stderr}");
}

#[test]
fn an_estimate_record_reads_back_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, line, _) = run(&[
        "estimate",
        "--format",
        "record",
        "--accelerator",
        "A100-SXM4-80GB",
        "--count",
        "8",
        "--hours",
        "72",
        "--region",
        "aws:eu-west-3",
        "--model",
        "text-gen",
        "--model-version",
        "2.1.0",
    ]);
    assert_eq!(code, 0);
    assert_eq!(line.lines().count(), 1);
    let file = write(tmp.path(), "estimate.ndjson", &line);
    let record: serde_json::Value = serde_json::from_str(&line).unwrap();
    let read = run_json(&["ingest", "--format", "json", file.to_str().unwrap()], 0);
    for key in ["co2e_kg", "energy_kwh", "embodied_co2e_kg"] {
        assert_eq!(read["totals"][key], record[key], "{key}");
    }
    assert_eq!(read["records"][0]["method"], "tdp-estimate");
    assert_eq!(read["totals"]["estimated_runs"], 1);
    // And check decides on it: central under the limit, upper bound over it.
    let central = num(&record["co2e_kg"]);
    let high = num(&record["band"]["co2e_high_kg"]);
    let limit = (central + high) / 2.0;
    let policy = |decide: &str| {
        format!(
            "version: 1\nbudgets:\n  - model: text-gen\n    decide-on: {decide}\n    limits: {{ co2e: {{ fail: \"{limit} kg\" }} }}\n"
        )
    };
    let pass = check_json(&policy("central"), &[file.to_str().unwrap()], 0);
    assert_eq!(pass["models"][0]["version"], "2.1.0");
    let fail = check_json(&policy("upper"), &[file.to_str().unwrap()], 1);
    let message = fail["models"][0]["findings"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("CO2e upper bound"), "{message}");
}

#[test]
fn check_counts_embodied_carbon_when_the_policy_asks() {
    let policy = "version: 1\nbudgets:\n  - model: \"*\"\n    embodied: required\n    limits: { co2e: { fail: \"1 kg\" } }\n";
    let report = check_json(policy, &[&fixture("codecarbon/v3.3.2")], 0);
    let summarizer = &report["models"][0];
    let t = &summarizer["totals"];
    // One CPU-only run of 1.0055565580000234 s: a whole host server (2500 kg) over 4 years.
    let expected = 2500.0 * (1.0055565580000234 / 3600.0) / (4.0 * 8760.0);
    within(num(&t["embodied_co2e_kg"]), expected, 1e-12, "embodied");
    assert_eq!(num(&t["operational_co2e_kg"]), 2.299006730189064e-06);
    assert_eq!(
        num(&t["co2e_kg"]),
        2.299006730189064e-06 + num(&t["embodied_co2e_kg"])
    );
    let basis = summarizer["contributions"][0]["embodied_basis"]
        .as_str()
        .unwrap();
    assert!(basis.contains("1 server × 2500 kg"), "{basis}");
    // The table shows operational and embodied separately.
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "p.yaml", policy);
    let (_, table, _) = run(&[
        "check",
        "--policy",
        p.to_str().unwrap(),
        &fixture("codecarbon/v3.3.2"),
    ]);
    assert!(
        table.contains("Operational") && table.contains("Embodied"),
        "{table}"
    );
    // A run without a duration cannot be allocated: required fails, include warns.
    let card = fixture("hf-cards/mapping-grams");
    let failed = check_json(policy, &[&card], 1);
    assert_eq!(
        failed["models"][0]["findings"][0]["code"],
        "missing-embodied"
    );
    let warned = check_json(&policy.replace("required", "include"), &[&card], 1);
    let codes: Vec<_> = warned["models"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        codes.contains(&("missing-embodied".into(), "warn".into())),
        "{codes:?}"
    );
}

#[test]
fn the_policy_can_override_reference_values() {
    let policy = "version: 1\nreference:\n  lifetime: \"8 years\"\n  server-embodied: \"5000 kg\"\nbudgets:\n  - model: \"*\"\n    embodied: include\n    limits: { co2e: { fail: \"1 kg\" } }\n";
    let report = check_json(policy, &[&fixture("codecarbon/v3.3.2")], 0);
    let t = &report["models"][0]["totals"];
    let expected = 5000.0 * (1.0055565580000234 / 3600.0) / (8.0 * 8760.0);
    within(
        num(&t["embodied_co2e_kg"]),
        expected,
        1e-12,
        "embodied with overrides",
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nreference:\n  lifetime: \"8\"\n",
    );
    let (code, _, stderr) = run(&["policy", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`reference.lifetime`: \"8\" has no unit"),
        "{stderr}"
    );
}

#[test]
fn reference_rows_match_their_published_values() {
    let rows = run_json(&["reference", "list", "--format", "json"], 0);
    let find = |table: &str, key: &str, value: &str| -> serde_json::Value {
        rows[table]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[key] == value)
            .unwrap_or_else(|| panic!("{table} {value}"))
            .clone()
    };
    // NVIDIA datasheets: A100 SXM 400 W, H100 SXM 700 W; T4 70 W.
    assert_eq!(find("accelerators", "id", "A100-SXM4-80GB")["tdp_w"], 400.0);
    assert_eq!(find("accelerators", "id", "H100-SXM5-80GB")["tdp_w"], 700.0);
    assert_eq!(find("accelerators", "id", "T4")["tdp_w"], 70.0);
    // NVIDIA HGX H100 PCF: 1,312 kg per 8-GPU baseboard.
    assert_eq!(
        find("accelerators", "id", "H100-SXM5-80GB")["embodied_kg"],
        164.0
    );
    // Ember/OWID 2023: France 56 g/kWh, Germany 381.
    let fr = find("countries", "iso2", "FR");
    assert_eq!(
        (fr["g_per_kwh"].as_f64(), fr["year"].as_u64()),
        (Some(56.039), Some(2023))
    );
    assert_eq!(find("countries", "iso3", "DEU")["g_per_kwh"], 380.95);
    // Uptime 2023 industry-average PUE.
    assert_eq!(find("pue", "scope", "industry-average")["value"], 1.58);
    // Every row names a source.
    for table in [
        "accelerators",
        "cpus",
        "countries",
        "subdivisions",
        "regions",
        "pue",
        "defaults",
    ] {
        for row in rows[table].as_array().unwrap() {
            assert!(
                !row["source"].as_str().unwrap_or_default().is_empty(),
                "{table}: {row}"
            );
        }
    }
    let (code, shown, _) = run(&["reference", "show", "a100 80gb"]);
    assert_eq!(code, 0);
    assert!(
        shown.contains("id: A100-SXM4-80GB") && shown.contains("source: NVIDIA"),
        "{shown}"
    );
}

#[test]
fn estimate_takes_reference_overrides_from_a_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(
        tmp.path(),
        "p.yaml",
        "version: 1\nreference:\n  lifetime: \"6 years\"\n  accelerators:\n    A100-SXM4-80GB: { tdp: \"300 W\", embodied: \"200 kg\" }\n",
    );
    let e = estimate(&[
        "--accelerator",
        "A100-SXM4-80GB",
        "--count",
        "8",
        "--hours",
        "10",
        "--pue",
        "1",
        "--intensity",
        "100 g/kWh",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    within(
        num(&e["totals"]["energy_kwh"]),
        300.0 * 80.0 / 1000.0,
        1e-12,
        "TDP from the policy",
    );
    let embodied = (200.0 * 80.0 + 2500.0 * 10.0) / (6.0 * 8760.0);
    within(
        num(&e["totals"]["embodied_co2e_kg"]),
        embodied,
        1e-12,
        "embodied from the policy",
    );
    // The command line still wins.
    let e = estimate(&[
        "--accelerator",
        "A100-SXM4-80GB",
        "--count",
        "8",
        "--hours",
        "10",
        "--pue",
        "1",
        "--intensity",
        "100 g/kWh",
        "--policy",
        policy.to_str().unwrap(),
        "--lifetime",
        "4 years",
    ]);
    let embodied = (200.0 * 80.0 + 2500.0 * 10.0) / (4.0 * 8760.0);
    within(
        num(&e["totals"]["embodied_co2e_kg"]),
        embodied,
        1e-12,
        "lifetime from the command line",
    );
}

/// Issue #18, item 13: every numeric argument is checked against its range (exit 2, the option,
/// the range and what it means), so no estimate shows "-265 kWh", "NaN µWh" or "inf MWh".
#[test]
fn out_of_range_arguments_are_refused() {
    let base = [
        "estimate",
        "--accelerator",
        "A100-SXM4-80GB",
        "--country",
        "FR",
    ];
    for (args, says) in [
        (
            &["--count", "8", "--hours", "10", "--utilization=-1"][..],
            "--utilization -1 is out of range: expected a number in (0, 1]",
        ),
        (
            &["--count", "8", "--hours", "10", "--utilization", "NaN"],
            "--utilization NaN is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--utilization", "inf"],
            "--utilization inf is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--utilization", "2"],
            "--utilization 2 is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--utilization", "0"],
            "--utilization 0 is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--pue", "1e300"],
            "--pue 1e300 is out of range: expected a number in [1, 3]",
        ),
        (
            &["--count", "8", "--hours", "10", "--pue", "0.5"],
            "--pue 0.5 is out of range",
        ),
        (
            &["--count", "1e12", "--hours", "10"],
            "--count 1e12 is out of range: expected a number in (0, 10000000] devices",
        ),
        (
            &["--count=-8", "--hours", "10"],
            "--count -8 is out of range",
        ),
        (
            &["--count", "1", "--hours", "1082990"],
            "--hours 1082990 is out of range: expected a number in (0, 888888.9] h",
        ),
        (
            &["--device-hours", "inf"],
            "--device-hours inf is out of range",
        ),
        (
            &["--flops", "1e40", "--mfu", "0.4"],
            "--flops 1e40 is out of range",
        ),
        (
            &["--flops", "3e23", "--mfu", "1.5"],
            "--mfu 1.5 is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--devices-per-server", "0"],
            "--devices-per-server 0 is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--intensity", "1e9 g/kWh"],
            "--intensity 1e9 is out of range",
        ),
        (
            &["--count", "8", "--hours", "10", "--lifetime", "0 h"],
            "--lifetime 0 is out of range",
        ),
        (
            &["--count", "1e7", "--hours", "800000"],
            "`ingest` would refuse this estimate: run estimate:A100-SXM4-80GB:8000000000000:FR: energy 5.056e12 kWh is not plausible for one run",
        ),
        (
            &["--count", "8", "--hours", "10", "--run-id", "a\nb"],
            "holds control or invisible characters",
        ),
    ] {
        let mut all = base.to_vec();
        all.extend_from_slice(args);
        let (code, stdout, stderr) = run(&all);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Issue #18, item 13: an estimate written as a record is always read back by `ingest` (the
/// bounds are the same), across the corners of the accepted ranges; what the bounds refuse
/// exits 2 and writes nothing.
#[test]
fn every_estimate_written_as_a_record_is_read_back_by_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let mut written = 0;
    let mut refused = 0;
    for count in ["1", "1000", "10000000"] {
        for hours in ["0.01", "1000", "888888"] {
            for (power, pue, intensity) in [
                ("--utilization=0.01", "1", "0 g/kWh"),
                ("--utilization=1", "3", "3000 g/kWh"),
            ] {
                let out = tmp.path().join(format!("e-{count}-{hours}-{pue}.ndjson"));
                let (code, _, stderr) = run(&[
                    "estimate",
                    "--format",
                    "record",
                    "--accelerator",
                    "H100-SXM5-80GB",
                    "--count",
                    count,
                    "--hours",
                    hours,
                    power,
                    "--pue",
                    pue,
                    "--intensity",
                    intensity,
                    "--output",
                    out.to_str().unwrap(),
                ]);
                if code == 2 {
                    assert!(
                        stderr.contains("`ingest` would refuse this estimate"),
                        "{stderr}"
                    );
                    assert!(!out.exists());
                    refused += 1;
                    continue;
                }
                assert_eq!(code, 0, "{stderr}");
                let (code, _, stderr) = run(&["ingest", "--format", "json", out.to_str().unwrap()]);
                assert_eq!(code, 0, "{count} × {hours} h, PUE {pue}: {stderr}");
                written += 1;
            }
        }
    }
    assert!(
        written >= 12 && refused >= 1,
        "{written} written, {refused} refused"
    );
}
