//! Property tests (proptest): totals do not depend on order, reading the same runs twice never
//! double counts, unit strings read back the values they were written from, and rendering never
//! panics on arbitrary records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carbon_gate::error::Location;
use carbon_gate::ledger;
use carbon_gate::record::{Format, RunRecord};
use carbon_gate::units::{Dimension, Energy, Mass, Quantity, parse_quantity};
use clap::Parser;
use proptest::prelude::*;

fn record(i: usize, energy: f64, co2e: f64) -> RunRecord {
    let mut r = RunRecord::new(
        Location::line("runs.ndjson", i as u64 + 1),
        Format::Native,
        format!("run-{i}"),
        Mass::kg(co2e),
    );
    r.energy = Some(Energy::kwh(energy));
    r.model = Some("m".into());
    r
}

/// Energies and CO2e spanning many magnitudes, where naive summation depends on order.
fn magnitudes() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(
        (
            (-9i32..9, 1.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
            (-12i32..6, 1.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
        ),
        1..60,
    )
}

fn totals(records: Vec<RunRecord>) -> ledger::Totals {
    let n = records.len();
    let reconciled = ledger::reconcile(records).unwrap();
    ledger::totals(&reconciled, 0..n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn totals_do_not_depend_on_order(values in magnitudes(), seed in any::<u64>()) {
        let records: Vec<RunRecord> = values
            .iter()
            .enumerate()
            .map(|(i, (e, c))| record(i, *e, *c))
            .collect();
        let mut shuffled = records.clone();
        // A deterministic shuffle from the seed (Fisher–Yates with an LCG).
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let a = totals(records);
        let b = totals(shuffled);
        prop_assert_eq!(a.energy.value().to_bits(), b.energy.value().to_bits());
        prop_assert_eq!(a.emissions.value().to_bits(), b.emissions.value().to_bits());
        prop_assert_eq!(a.runs, b.runs);
    }

    #[test]
    fn reading_the_same_runs_twice_never_double_counts(values in magnitudes()) {
        let records: Vec<RunRecord> = values
            .iter()
            .enumerate()
            .map(|(i, (e, c))| record(i, *e, *c))
            .collect();
        let mut twice = records.clone();
        for (i, r) in records.iter().enumerate() {
            let mut again = r.clone();
            again.source = Location::line("copy.ndjson", i as u64 + 1);
            twice.push(again);
        }
        let once = totals(records);
        let both = totals(twice);
        prop_assert_eq!(once.energy.value().to_bits(), both.energy.value().to_bits());
        prop_assert_eq!(once.emissions.value().to_bits(), both.emissions.value().to_bits());
        prop_assert_eq!(once.runs, both.runs);
    }

    #[test]
    fn unit_strings_read_back(v in 0.0f64..1e9) {
        let kg = parse_quantity(&format!("{v} kg"), Dimension::Mass).unwrap();
        prop_assert_eq!(kg, Quantity::Mass(Mass::kg(v)));
        let g = parse_quantity(&format!("{v} g"), Dimension::Mass).unwrap();
        prop_assert_eq!(g, Quantity::Mass(Mass::grams(v)));
        let Quantity::Mass(back) = g else { unreachable!() };
        prop_assert!((back.in_grams() - v).abs() <= v * 4.0 * f64::EPSILON);
        let kwh = parse_quantity(&format!("{v} kWh"), Dimension::Energy).unwrap();
        prop_assert_eq!(kwh, Quantity::Energy(Energy::kwh(v)));
        let mwh = parse_quantity(&format!("{v} MWh"), Dimension::Energy).unwrap();
        let Quantity::Energy(e) = mwh else { unreachable!() };
        prop_assert!((e.in_mwh() - v).abs() <= v * 4.0 * f64::EPSILON);
    }

    #[test]
    fn rendering_never_panics(
        names in prop::collection::vec("\\PC{0,40}", 1..6),
        values in magnitudes(),
        format in prop::sample::select(vec!["table", "json", "markdown"]),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut lines = String::new();
        for (i, (e, c)) in values.iter().enumerate() {
            let model = &names[i % names.len()];
            lines.push_str(&serde_json::json!({
                "run_id": format!("r{i}"), "model": model, "energy_kwh": e, "co2e_kg": c
            }).to_string());
            lines.push('\n');
        }
        let runs = tmp.path().join("runs.ndjson");
        std::fs::write(&runs, lines).unwrap();
        let policy = tmp.path().join("p.yaml");
        std::fs::write(&policy, "version: 1\nbudgets:\n  - model: \"*\"\n    limits: { co2e: { warn: \"1 kg\", fail: \"10 kg\" } }\n").unwrap();
        for cmd in ["check", "report"] {
            let mut argv = vec![
                "carbon-gate".to_owned(),
                cmd.to_owned(),
                "--policy".into(),
                policy.to_string_lossy().into_owned(),
                runs.to_string_lossy().into_owned(),
            ];
            if cmd == "check" {
                argv.extend(["--format".into(), format.to_owned(), "--whatif".into()]);
            }
            let cli = carbon_gate::cli::Cli::try_parse_from(&argv).unwrap();
            // Either a report or a clean error; never a panic.
            match carbon_gate::run(cli) {
                Ok(out) => prop_assert!(!out.stdout.is_empty()),
                Err(e) => prop_assert_eq!(e.exit().code(), 2),
            }
        }
    }
}
