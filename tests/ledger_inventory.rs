//! Reading the ledger back (issue #23): `ledger summary` and the annual `ledger inventory`, over a
//! hand-built set of stored runs — several teams, models and phases, runs at both sides of the
//! new year, estimates with bands, market-based figures on some, and hostile model and owner
//! names. Totals are checked against sums computed here, independently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carbon_gate::inventory::summary::{CSV_COLUMNS, NO_TEAM, UNKNOWN_PHASE};
use carbon_gate::inventory::{
    self, By, Inventory, InventoryInput, TeamInfo, TrajectoryInfo, summarize,
};
use carbon_gate::periods::Every;
use carbon_gate::store::StoredRun;
use carbon_gate::units::{Mass, Ratio};
use serde_json::Value;

const IMG: &str = "<img src=x onerror=alert(1)>";
const LINK: &str = "[x](https://evil)";
const MENTION: &str = "@org/team";
const FORMULA: &str = "=HYPERLINK(\"https://evil\",\"x\")";

struct R {
    key: &'static str,
    model: &'static str,
    version: Option<&'static str>,
    phase: Option<&'static str>,
    at: &'static str,
    energy: Option<f64>,
    operational: f64,
    embodied: f64,
    market: Option<f64>,
    band: Option<(f64, f64)>,
    method: &'static str,
    place: (Option<&'static str>, Option<&'static str>),
    ended: bool,
}

fn stored(r: &R) -> StoredRun {
    let (cloud, country) = r.place;
    StoredRun {
        key: r.key.to_owned(),
        format: r.key.split(':').next().unwrap().to_owned(),
        run_id: r.key.rsplit(':').next().unwrap().to_owned(),
        model: r.model.to_owned(),
        version: r.version.map(str::to_owned),
        phase: r.phase.map(str::to_owned),
        ended_at: r.ended.then(|| r.at.to_owned()),
        recorded_at: r.at.to_owned(),
        at: r.at.to_owned(),
        duration_s: Some(3600.0),
        energy_kwh: r.energy,
        co2e_kg: r.operational + r.embodied,
        operational_co2e_kg: r.operational,
        embodied_co2e_kg: r.embodied,
        embodied_basis: (r.embodied > 0.0)
            .then(|| "policy: 150 kg per A100 × 4 years life × time share".to_owned()),
        market_co2e_kg: r.market,
        co2e_low_kg: r.band.map(|b| b.0),
        co2e_high_kg: r.band.map(|b| b.1),
        method: r.method.to_owned(),
        country_iso: country.map(str::to_owned),
        region: None,
        cloud_provider: cloud.map(|c| c.split(':').next().unwrap().to_owned()),
        cloud_region: cloud.map(|c| c.split(':').nth(1).unwrap().to_owned()),
        cpu: None,
        gpu: Some("A100".to_owned()),
        gpu_count: Some(4.0),
        source: "logs/emissions.csv:2".to_owned(),
        file_digest: "ab".repeat(32),
        repository: Some("acme/ml".to_owned()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
    }
}

fn runs() -> Vec<StoredRun> {
    let base = R {
        key: "",
        model: "text-gen",
        version: None,
        phase: Some("training"),
        at: "",
        energy: Some(1.0),
        operational: 0.1,
        embodied: 0.0,
        market: None,
        band: None,
        method: "measured",
        place: (None, Some("FRA")),
        ended: true,
    };
    let list = [
        R {
            key: "history:text-gen:0.9",
            version: Some("0.9"),
            at: "2026-05-01T10:00:00Z",
            energy: Some(40.0),
            operational: 12.5,
            ..base
        },
        R {
            key: "codecarbon:r1",
            version: Some("1.0"),
            at: "2026-12-31T23:59:59Z",
            energy: Some(10.0),
            operational: 4.0,
            embodied: 0.5,
            market: Some(1.0),
            ..base
        },
        R {
            key: "codecarbon:r2",
            version: Some("2.0"),
            phase: Some("fine-tuning"),
            at: "2027-01-01T00:00:00Z",
            energy: Some(5.0),
            operational: 2.0,
            embodied: 0.25,
            market: Some(0.5),
            place: (Some("aws:eu-west-3"), None),
            ..base
        },
        R {
            key: "codecarbon:r3",
            version: Some("2.0"),
            phase: Some("inference"),
            at: "2027-03-31T23:59:59Z",
            energy: Some(1.2),
            operational: 0.3,
            band: Some((0.2, 0.45)),
            method: "tdp-estimate",
            place: (Some("gcp:europe-west1"), None),
            ..base
        },
        R {
            key: "eco2ai:r4",
            model: "vision-det",
            at: "2027-04-01T00:00:00Z",
            energy: Some(20.0),
            operational: 7.0,
            embodied: 1.0,
            market: Some(0.7),
            band: Some((6.0, 10.5)),
            method: "power-estimate",
            place: (None, Some("DEU")),
            ..base
        },
        R {
            key: "eco2ai:r5",
            model: "vision-det",
            version: Some("3.1"),
            phase: None,
            at: "2027-06-15T12:00:00Z",
            energy: None,
            operational: 0.8,
            ended: false,
            ..base
        },
        R {
            key: "codecarbon:r6",
            model: IMG,
            phase: Some("evaluation"),
            at: "2027-07-01T08:00:00Z",
            energy: Some(0.5),
            operational: 0.05,
            method: "tdp-estimate",
            place: (None, None),
            ..base
        },
        R {
            key: "codecarbon:r7",
            model: LINK,
            at: "2027-08-02T08:00:00Z",
            energy: Some(0.25),
            operational: 0.125,
            ..base
        },
        R {
            key: "codecarbon:r8",
            model: MENTION,
            at: "2027-09-09T09:09:09Z",
            energy: Some(0.3),
            operational: 0.1,
            ..base
        },
        R {
            key: "codecarbon:r9",
            model: FORMULA,
            at: "2027-12-31T23:59:59Z",
            energy: Some(3.0),
            operational: 0.9,
            ..base
        },
        R {
            key: "codecarbon:r10",
            model: "text-gen",
            version: Some("2.0"),
            at: "2028-01-01T00:00:00Z",
            energy: Some(2.0),
            operational: 0.6,
            ..base
        },
    ];
    list.iter().map(stored).collect()
}

fn team_of(model: &str) -> Option<String> {
    if model.starts_with("text-") {
        Some("text".to_owned())
    } else if model.starts_with("vision-") {
        Some("vision".to_owned())
    } else {
        None
    }
}

// ---------------------------------------------------------------- the summary

/// The period of `at`, computed here from the text (`YYYY-MM-…`).
fn period_of(every: Every, at: &str) -> String {
    let year = &at[..4];
    let month: u32 = at[5..7].parse().unwrap();
    match every {
        Every::Month => at[..7].to_owned(),
        Every::Quarter => format!("{year}-Q{}", (month - 1) / 3 + 1),
        Every::Year => year.to_owned(),
    }
}

fn key_of(by: By, r: &StoredRun) -> String {
    match by {
        By::Model => r.model.clone(),
        By::Team => team_of(&r.model).unwrap_or_else(|| NO_TEAM.to_owned()),
        By::Phase => r.phase.clone().unwrap_or_else(|| UNKNOWN_PHASE.to_owned()),
        By::Version => format!("{} {}", r.model, r.version.as_deref().unwrap_or("(none)")),
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn summary_totals_equal_independent_sums_for_every_key_and_period() {
    let runs = runs();
    for by in By::ALL {
        for every in [Every::Month, Every::Quarter, Every::Year] {
            let s = summarize(&runs, by, every, None, None, &team_of);
            assert_eq!(s.schema_version, 1);
            assert_eq!(
                s.rows.iter().map(|r| r.runs).sum::<usize>(),
                runs.len(),
                "{by} {every:?}: every run in exactly one row"
            );
            for row in &s.rows {
                let mine: Vec<&StoredRun> = runs
                    .iter()
                    .filter(|r| period_of(every, &r.at) == row.period && key_of(by, r) == row.key)
                    .collect();
                let what = format!("{by} {every:?} {} {}", row.period, row.key);
                assert_eq!(row.runs, mine.len(), "{what}");
                let sum = |f: &dyn Fn(&StoredRun) -> f64| mine.iter().map(|r| f(r)).sum::<f64>();
                assert!(
                    close(row.energy_kwh, sum(&|r| r.energy_kwh.unwrap_or(0.0))),
                    "{what}"
                );
                assert!(close(row.co2e_kg, sum(&|r| r.co2e_kg)), "{what}");
                assert!(
                    close(row.operational_co2e_kg, sum(&|r| r.operational_co2e_kg)),
                    "{what}"
                );
                assert!(
                    close(row.embodied_co2e_kg, sum(&|r| r.embodied_co2e_kg)),
                    "{what}"
                );
                let market: Vec<f64> = mine.iter().filter_map(|r| r.market_co2e_kg).collect();
                match row.market_co2e_kg {
                    None => assert!(market.is_empty(), "{what}"),
                    Some(v) => assert!(close(v, market.iter().sum()), "{what}"),
                }
                assert_eq!(row.runs_with_market, market.len(), "{what}");
                assert_eq!(
                    row.runs_estimated,
                    mine.iter().filter(|r| r.method != "measured").count(),
                    "{what}"
                );
                assert_eq!(
                    row.runs_without_energy,
                    mine.iter().filter(|r| r.energy_kwh.is_none()).count(),
                    "{what}"
                );
            }
            // Sorted by period (in time), then key.
            let order: Vec<(String, String)> = s
                .rows
                .iter()
                .map(|r| (r.period.clone(), r.key.clone()))
                .collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "{by} {every:?}");
        }
    }
}

#[test]
fn runs_at_the_new_year_land_in_their_own_period() {
    let runs = runs();
    let period_of_key = |every: Every, key: &str| {
        let s = summarize(&runs, By::Version, every, None, None, &team_of);
        let run = runs.iter().find(|r| r.key == key).unwrap();
        let k = key_of(By::Version, run);
        s.rows
            .iter()
            .filter(|r| r.key == k)
            .map(|r| r.period.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(period_of_key(Every::Year, "codecarbon:r1"), ["2026"]);
    assert_eq!(period_of_key(Every::Quarter, "codecarbon:r1"), ["2026-Q4"]);
    assert_eq!(period_of_key(Every::Month, "codecarbon:r1"), ["2026-12"]);
    // text-gen 2.0: r2 (1 January 00:00:00), r3 (31 March 23:59:59), r10 (2028).
    assert_eq!(
        period_of_key(Every::Quarter, "codecarbon:r2"),
        ["2027-Q1", "2028-Q1"]
    );
    assert_eq!(
        period_of_key(Every::Month, "codecarbon:r2"),
        ["2027-01", "2027-03", "2028-01"]
    );
    // The bounds: from inclusive, to exclusive.
    let s = summarize(
        &runs,
        By::Model,
        Every::Year,
        Some("2027-01-01T00:00:00Z"),
        Some("2028-01-01T00:00:00Z"),
        &team_of,
    );
    assert!(s.rows.iter().all(|r| r.period == "2027"));
    assert_eq!(s.rows.iter().map(|r| r.runs).sum::<usize>(), 8);
    let s = summarize(
        &runs,
        By::Model,
        Every::Year,
        None,
        Some("2027-01-01"),
        &team_of,
    );
    assert_eq!(s.rows.iter().map(|r| r.runs).sum::<usize>(), 2);
}

#[test]
fn csv_round_trips_and_never_starts_a_formula() {
    let runs = runs();
    let s = summarize(&runs, By::Model, Every::Quarter, None, None, &team_of);
    let text = inventory::to_csv(&s);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, CSV_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), s.rows.len());
    for (rec, row) in records.iter().zip(&s.rows) {
        for cell in rec.iter().take(2) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a formula cell: {cell}"
            );
        }
        let key = rec.get(1).unwrap();
        let key = if row.key.starts_with(['=', '+', '-', '@']) {
            key.strip_prefix('\'').unwrap()
        } else {
            key
        };
        assert_eq!(key, row.key);
        assert_eq!(rec.get(0).unwrap(), row.period);
        let num = |i: usize| rec.get(i).unwrap().parse::<f64>().unwrap();
        assert_eq!(rec.get(2).unwrap(), row.runs.to_string());
        // Full precision: the very same floats come back.
        assert_eq!(num(3), row.energy_kwh);
        assert_eq!(num(4), row.co2e_kg);
        assert_eq!(num(5), row.operational_co2e_kg);
        assert_eq!(num(6), row.embodied_co2e_kg);
        match row.market_co2e_kg {
            Some(v) => assert_eq!(num(7), v),
            None => assert_eq!(rec.get(7).unwrap(), ""),
        }
        assert_eq!(rec.get(8).unwrap(), row.runs_estimated.to_string());
        assert_eq!(rec.get(9).unwrap(), row.runs_with_market.to_string());
        assert_eq!(rec.get(10).unwrap(), row.runs_without_energy.to_string());
    }
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("'@org/team"), "{text}");
}

#[test]
fn summary_json_and_table() {
    let runs = runs();
    let s = summarize(&runs, By::Team, Every::Quarter, None, None, &team_of);
    let text = inventory::to_json(&s);
    insta::assert_snapshot!("summary_by_team_quarter", text);
    let json: Value = serde_json::from_str(&text).unwrap();
    let row = &json["rows"][0];
    for name in [
        "key",
        "period",
        "runs",
        "energy_kwh",
        "co2e_kg",
        "operational_co2e_kg",
        "embodied_co2e_kg",
        "market_co2e_kg",
        "runs_estimated",
    ] {
        assert!(row.get(name).is_some(), "{name} missing from {row}");
    }
    let back: inventory::Summary = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
    let table = inventory::to_table(&s);
    assert!(table.contains("Energy (kWh)"), "{table}");
    assert!(table.contains("CO2e (kg)"), "{table}");
    assert!(table.contains("2027-Q1"), "{table}");
    assert!(table.contains("Total: 11 runs"), "{table}");
}

// ---------------------------------------------------------------- the inventory

const OWNERS: &str = "@org/text-owners";

fn build(trajectory: bool, generated_at: &str, runs: &[StoredRun]) -> Inventory {
    let covered = |m: &str| m.starts_with("text-");
    let input = InventoryInput {
        year: 2027,
        runs,
        team_of: &team_of,
        teams: vec![
            TeamInfo {
                name: "text".to_owned(),
                models: vec!["text-*".to_owned()],
                owners: vec![OWNERS.to_owned()],
            },
            TeamInfo {
                name: "vision".to_owned(),
                models: vec!["vision-*".to_owned()],
                owners: vec!["alice".to_owned()],
            },
            TeamInfo {
                name: "speech".to_owned(),
                models: vec!["speech-*".to_owned()],
                owners: vec![],
            },
        ],
        trajectory: trajectory.then_some(TrajectoryInfo {
            base_year: 2026,
            base: Mass::kg(20.0),
            reduction_per_year: Ratio::fraction(0.1),
            covers: "team text (text-*)".to_owned(),
            in_scope: &covered,
        }),
        ledger: "postgres://carbon:***@db.example/ledger".to_owned(),
        generated_at: generated_at.to_owned(),
        policy_files: vec!["policies/carbon-budgets.yaml".to_owned()],
    };
    inventory::inventory(&input)
}

fn year_runs() -> Vec<StoredRun> {
    runs()
        .into_iter()
        .filter(|r| r.at.starts_with("2027"))
        .collect()
}

#[test]
fn inventory_totals_are_the_years_runs() {
    let inv = build(true, "2028-01-15T09:00:00Z", &runs());
    let year = year_runs();
    let t = &inv.totals;
    assert_eq!(t.runs, year.len());
    let sum = |f: &dyn Fn(&StoredRun) -> f64| year.iter().map(f).sum::<f64>();
    assert!(close(
        t.scope2_location_kg.value.unwrap(),
        sum(&|r| r.operational_co2e_kg)
    ));
    assert!(close(
        t.scope3_cat1_embodied_kg.value.unwrap(),
        sum(&|r| r.embodied_co2e_kg)
    ));
    assert!(close(t.total_co2e_kg.value.unwrap(), sum(&|r| r.co2e_kg)));
    assert!(close(
        t.energy_kwh.value.unwrap(),
        sum(&|r| r.energy_kwh.unwrap_or(0.0))
    ));
    assert!(close(
        t.scope2_market_kg.value.unwrap(),
        sum(&|r| r.market_co2e_kg.unwrap_or(0.0))
    ));
    assert_eq!(t.market_coverage.runs, 2);
    assert_eq!(t.embodied_coverage.runs, 2);
    assert!(close(
        t.scope2_location_cloud_kg.value.unwrap(),
        sum(&|r| if r.cloud_provider.is_some() {
            r.operational_co2e_kg
        } else {
            0.0
        })
    ));
    // Each breakdown adds up to the total.
    for b in [&inv.per_team, &inv.per_model, &inv.per_month] {
        assert_eq!(b.rows.iter().map(|r| r.runs).sum::<usize>(), year.len());
        assert!(close(
            b.rows.iter().map(|r| r.co2e_kg).sum(),
            t.total_co2e_kg.value.unwrap()
        ));
    }
    assert_eq!(inv.per_month.rows.len(), 12);
    assert_eq!(inv.per_month.rows[0].key, "2027-01");
    assert_eq!(
        inv.per_month.rows[0].runs, 1,
        "1 January 00:00:00 is in 2027"
    );
    assert_eq!(
        inv.per_month.rows[11].runs, 1,
        "31 December 23:59:59 is in 2027"
    );
    let teams: Vec<&str> = inv.per_team.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(teams, ["text", "vision", "speech", NO_TEAM]);
    assert_eq!(inv.boundary.without_team.runs, 4);
    // Measured and estimated.
    let m = &inv.measured_vs_estimated;
    assert_eq!((m.measured_runs, m.estimated_runs), (5, 3));
    let est: f64 = year
        .iter()
        .filter(|r| r.method != "measured")
        .map(|r| r.co2e_kg)
        .sum();
    assert!(close(m.estimated_co2e_kg, est));
    // Bands: the estimate without one counts its central figure at both ends.
    let u = &inv.uncertainty;
    assert_eq!((u.estimated_runs, u.banded_runs), (3, 2));
    assert!(close(u.estimated_low_kg.value.unwrap(), 0.2 + 6.0 + 0.05));
    assert!(close(
        u.estimated_high_kg.value.unwrap(),
        0.45 + 10.5 + 0.05
    ));
    // Data quality.
    let d = &inv.data_quality;
    assert_eq!(d.runs_without_energy, 1);
    assert_eq!(d.runs_without_end_time, 1);
    assert_eq!(d.runs_from_history, 0);
    assert_eq!(d.runs_without_place, 1);
}

#[test]
fn trajectory_limit_and_base_year() {
    let inv = build(true, "2028-01-15T09:00:00Z", &runs());
    let t = &inv.trajectory;
    assert!(t.given);
    // 20 kg × (1 − 0.1 × 1).
    assert!(close(t.limit_kg.value.unwrap(), 18.0));
    let in_scope: f64 = year_runs()
        .iter()
        .filter(|r| r.model.starts_with("text-"))
        .map(|r| r.co2e_kg)
        .sum();
    assert!(close(t.in_scope_kg.value.unwrap(), in_scope));
    assert_eq!(t.on_track, Some(true));
    assert!(close(
        t.change_vs_base.value.unwrap(),
        (in_scope - 20.0) / 20.0
    ));
    // The ledger's base year: the history import and r1 (text-gen, 2026).
    assert_eq!(t.ledger_base_year_runs, 2);
    assert!(close(t.ledger_base_year_kg.value.unwrap(), 12.5 + 4.5));
    let c = &inv.changes;
    assert_eq!(c.base.as_ref().unwrap().runs, 2);
    assert_eq!(c.new_teams, ["vision"]);
    assert!(c.new_models.contains(&"vision-det".to_owned()));
    assert!(c.models_gone.is_empty());

    // Without a trajectory: null figures, each with its reason.
    let inv = build(false, "2028-01-15T09:00:00Z", &runs());
    assert!(!inv.trajectory.given);
    assert_eq!(inv.trajectory.on_track, None);
    assert!(inv.trajectory.limit_kg.value.is_none());
    assert!(inv.trajectory.limit_kg.reason.is_some());
    assert!(inv.changes.base.is_none());
    assert!(inv.changes.reason.is_some());
}

/// Every figure (an object with `value`, `unit` and `basis`) has a basis, and a reason when
/// its value is null.
fn check_figures(v: &Value, path: &str, seen: &mut usize) {
    match v {
        Value::Object(map) => {
            if map.contains_key("value") && map.contains_key("unit") {
                *seen += 1;
                assert!(
                    map["basis"].as_str().is_some_and(|b| !b.is_empty()),
                    "{path}: no basis"
                );
                if map["value"].is_null() {
                    assert!(
                        map.get("reason")
                            .and_then(Value::as_str)
                            .is_some_and(|r| !r.is_empty()),
                        "{path}: null without a reason"
                    );
                }
            }
            for (k, x) in map {
                check_figures(x, &format!("{path}.{k}"), seen);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                check_figures(x, &format!("{path}[{i}]"), seen);
            }
        }
        _ => {}
    }
}

#[test]
fn every_figure_has_a_basis_or_a_reason() {
    for trajectory in [true, false] {
        for runs in [runs(), Vec::new()] {
            let inv = build(trajectory, "2028-01-15T09:00:00Z", &runs);
            let json = serde_json::to_value(&inv).unwrap();
            let mut seen = 0;
            check_figures(&json, "$", &mut seen);
            assert!(seen > 15, "{seen}");
        }
    }
    let empty = build(false, "2028-01-15T09:00:00Z", &[]);
    assert!(empty.totals.scope2_market_kg.reason.is_some());
    assert!(
        empty
            .measured_vs_estimated
            .estimated_share_of_co2e
            .reason
            .is_some()
    );
}

#[test]
fn the_document_id_is_a_digest_of_the_inputs() {
    let a = build(true, "2028-01-15T09:00:00Z", &runs());
    let b = build(true, "2028-02-01T00:00:00Z", &runs());
    assert_eq!(
        a.header.id, b.header.id,
        "the generation time is not an input"
    );
    assert!(a.header.id.starts_with("GHG-"), "{}", a.header.id);
    let mut changed = runs();
    changed[3].operational_co2e_kg += 1.0;
    let c = build(true, "2028-01-15T09:00:00Z", &changed);
    assert_ne!(a.header.id, c.header.id);
    // A run of another year is not an input.
    let mut other = runs();
    other.last_mut().unwrap().operational_co2e_kg += 1.0;
    assert_eq!(
        a.header.id,
        build(true, "2028-01-15T09:00:00Z", &other).header.id
    );
    assert_eq!(a.header.period_start, "2027-01-01T00:00:00Z");
    assert_eq!(a.header.period_end, "2028-01-01T00:00:00Z");
}

#[test]
fn hostile_names_are_escaped_in_markdown_and_html() {
    let inv = build(true, "2028-01-15T09:00:00Z", &runs());
    let md = inventory::to_markdown(&inv);
    for raw in ["<img", "](https://", "@org/", "https://evil"] {
        assert!(!md.contains(raw), "raw {raw} in the Markdown");
    }
    assert!(md.contains("&#60;img src=x onerror=alert(1)&#62;"), "{md}");
    assert!(md.contains("&#64;org/team"));
    assert!(md.contains("&#64;org/text-owners"));
    let html = inventory::to_html(&inv);
    assert!(!html.contains("<img"), "raw HTML in the HTML");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("@media print"));
    assert!(html.contains(&inv.header.id));
}

#[test]
fn inventory_markdown_snapshot() {
    let inv = build(true, "2028-01-15T09:00:00Z", &runs());
    insta::assert_snapshot!("inventory_markdown", inventory::to_markdown(&inv));
}

#[test]
fn the_committed_schema_is_the_generated_one_and_the_json_is_valid() {
    let generated = inventory::schema_json();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write("docs/inventory.schema.json", &generated).unwrap();
    }
    let committed = std::fs::read_to_string("docs/inventory.schema.json").unwrap_or_default();
    assert_eq!(
        generated, committed,
        "docs/inventory.schema.json is out of date: write carbon_gate::inventory::schema_json() to it (UPDATE_SCHEMAS=1 cargo test --test ledger_inventory)"
    );
    let schema: Value = serde_json::from_str(&generated).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for trajectory in [true, false] {
        let inv = serde_json::to_value(build(trajectory, "2028-01-15T09:00:00Z", &runs())).unwrap();
        let errors: Vec<String> = validator.iter_errors(&inv).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
