//! The check's streaming ledger (`ledger::reduce`) against the ledger over every record
//! (`ledger::reconcile` + `ledger::aggregate`, what `ingest` uses): the same totals to the bit,
//! the same counted runs, the same judgements, on generated CodeCarbon logs of every shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use carbon_gate::ingest::{self, Options};
use carbon_gate::ledger::{self, Attribution, Entry, reduce::Reducer};
use proptest::prelude::*;

const HEADER: &str = "timestamp,project_name,run_id,duration,emissions,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,cpu_model,gpu_model,gpu_count,pue";

/// One generated row.
#[derive(Debug, Clone)]
struct Row {
    run: u8,
    id_kind: u8,
    project: u8,
    place: u8,
    energy: u16,
    ratio: u8,
    duration: u16,
    file: u8,
    quoted: bool,
    /// The row is a snapshot of its run (its identity and figures follow from the run and its
    /// energy); otherwise its project, place, CO2e and duration are drawn on their own, which
    /// mostly makes conflicting evidence.
    consistent: bool,
}

fn run_id(row: &Row) -> String {
    match row.id_kind % 4 {
        // CodeCarbon's ids: lowercase UUIDs (kept as 128 bits).
        0 | 1 => format!(
            "{:08x}-0000-4000-8000-{:012x}",
            row.run,
            u64::from(row.run) * 7
        ),
        // An uppercase UUID and a free-form id (kept as text).
        2 => format!(
            "{:08X}-0000-4000-8000-{:012X}",
            row.run,
            u64::from(row.run) * 7
        ),
        _ => format!("run-{}", row.run),
    }
}

fn line(row: &Row) -> String {
    let row = &if row.consistent {
        Row {
            project: row.run % 3,
            place: row.run % 3,
            ratio: 10 + row.run * 5,
            duration: row.energy % 3600,
            ..row.clone()
        }
    } else {
        row.clone()
    };
    let project = ["text-gen", "embedder", "classifier"][usize::from(row.project % 3)];
    let project = if row.quoted {
        format!("\"{project}, quoted\"")
    } else {
        project.to_owned()
    };
    let (country, iso, region, provider, cloud_region) = [
        ("France", "FRA", "", "", ""),
        ("Germany", "DEU", "", "gcp", "europe-west3"),
        ("Sweden", "SWE", "", "", ""),
    ][usize::from(row.place % 3)];
    let energy = f64::from(row.energy) / 1000.0;
    let emissions = energy * f64::from(row.ratio) / 100.0;
    // Written when the row was: the run's start (midnight) plus its duration.
    format!(
        "2026-01-01T{:02}:{:02}:{:02},{project},{},{},{emissions:?},{energy:?},{country},{iso},{region},{provider},{cloud_region},cpu,{},{},1.0",
        row.duration / 3600,
        row.duration / 60 % 60,
        row.duration % 60,
        run_id(row),
        row.duration,
        if row.place == 1 { "A100" } else { "" },
        if row.place == 1 { "1" } else { "0" },
    )
}

/// Write the rows to one or two files; the paths to read.
fn write(dir: &std::path::Path, rows: &[Row]) -> Vec<PathBuf> {
    let mut texts = [format!("{HEADER}\n"), format!("{HEADER}\n")];
    for r in rows {
        let t = &mut texts[usize::from(r.file % 2)];
        t.push_str(&line(r));
        t.push('\n');
    }
    let mut paths = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let p = dir.join(format!("emissions_{i}.csv"));
        std::fs::write(&p, t).unwrap();
        paths.push(p);
    }
    paths
}

type Ledger = (Vec<Entry>, Vec<String>);

/// The ledger rules of a policy with `conflicting-evidence: count-larger` (or the default).
fn rules(larger: bool) -> ledger::Rules {
    ledger::Rules {
        conflicts: if larger {
            ledger::ConflictRule::CountLarger
        } else {
            ledger::ConflictRule::Refuse
        },
    }
}

fn full(paths: &[PathBuf], attribution: &Attribution) -> Ledger {
    try_full(paths, attribution).unwrap()
}

fn reduced(paths: &[PathBuf], attribution: &Attribution) -> Ledger {
    try_reduced(paths, attribution).unwrap()
}

fn try_full(paths: &[PathBuf], attribution: &Attribution) -> Result<Ledger, String> {
    let read = ingest::ingest(paths, &Options::default()).unwrap();
    let mut reconciled =
        ledger::reconcile_with(read.records, attribution.rules).map_err(|e| e.to_string())?;
    let (entries, more) =
        ledger::aggregate(&mut reconciled, attribution).map_err(|e| e.to_string())?;
    let warnings = read
        .warnings
        .iter()
        .chain(&reconciled.warnings)
        .chain(&more)
        .map(ToString::to_string)
        .collect();
    Ok((entries, warnings))
}

fn try_reduced(paths: &[PathBuf], attribution: &Attribution) -> Result<Ledger, String> {
    let mut reducer = Reducer::new(attribution.rules);
    if attribution.keep_runs {
        reducer = reducer.keeping_records_whole();
    }
    let (_, warnings) = ingest::ingest_into(paths, &Options::default(), &mut reducer).unwrap();
    let (entries, more) = reducer.finish(attribution).map_err(|e| e.to_string())?;
    let warnings = warnings
        .iter()
        .chain(&more)
        .map(ToString::to_string)
        .collect();
    Ok((entries, warnings))
}

/// Both ledgers over `paths`, or `None` when both refused conflicting evidence (the pair of rows
/// named may differ: each names the first it found); one refusing alone fails the case.
fn both(
    paths: &[PathBuf],
    attribution: &Attribution,
) -> Result<Option<(Ledger, Ledger)>, TestCaseError> {
    match (
        try_full(paths, attribution),
        try_reduced(paths, attribution),
    ) {
        (Ok(a), Ok(b)) => Ok(Some((a, b))),
        (Err(a), Err(b)) => {
            prop_assert!(
                a.contains("conflicting") && b.contains("conflicting"),
                "{} / {}",
                a,
                b
            );
            Ok(None)
        }
        (a, b) => Err(TestCaseError::fail(format!(
            "one ledger refused, the other not: {:?} / {:?}",
            a.err(),
            b.err()
        ))),
    }
}

/// What must agree: per entry, the totals, the metrics, and each contribution's place, format,
/// part, phase and figures.
fn summary(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            let mut rows: Vec<String> = e
                .contributions
                .iter()
                .map(|c| {
                    format!(
                        "{} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                        c.source,
                        c.format,
                        c.run_id,
                        c.part,
                        c.phase,
                        c.energy,
                        c.emissions,
                        c.duration,
                        c.place,
                        c.hardware
                    )
                })
                .collect();
            rows.sort();
            format!(
                "{} {:?} {:?} {:?} {rows:?}",
                e.model, e.version, e.totals, e.metrics
            )
        })
        .collect()
}

/// The judgements told, in order; when they cannot be told the same way (a run with rows kept
/// whole too is told in two parts), the kinds of judgement (their codes) only.
fn judgements(mut warnings: Vec<String>, exact: bool) -> Vec<String> {
    if !exact {
        warnings = warnings
            .iter()
            .map(|w| w.rsplit('[').next().unwrap_or_default().to_owned())
            .collect();
        warnings.sort();
        warnings.dedup();
    }
    warnings.sort();
    warnings
}

fn row() -> impl Strategy<Value = Row> {
    (
        0u8..12,
        0u8..4,
        0u8..3,
        0u8..3,
        0u16..5000,
        1u8..90,
        0u16..3600,
        0u8..2,
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.9),
    )
        .prop_map(
            |(run, id_kind, project, place, energy, ratio, duration, file, quoted, consistent)| {
                Row {
                    run,
                    // A run keeps its kind of id, so that its rows share one.
                    id_kind: id_kind.min(run % 4),
                    project,
                    place,
                    energy,
                    ratio,
                    duration,
                    file,
                    quoted,
                    consistent,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn streaming_ledger_matches_the_ledger_over_every_record(
        rows in proptest::collection::vec(row(), 0..60),
        named in any::<bool>(),
        larger in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let paths = write(dir.path(), &rows);
        let attribution = Attribution {
            model: named.then(|| "m".to_owned()),
            rules: rules(larger),
            ..Attribution::default()
        };
        let Some(((a, wa), (b, wb))) = both(&paths, &attribution)? else {
            return Ok(());
        };
        prop_assert_eq!(summary(&a), summary(&b));
        // At most 12 runs have several rows: every judgement is told the same way. A run with
        // quoted rows too (kept whole) is told in two parts (its plain rows, then the rest): the
        // same kinds of judgement.
        let exact = !rows.iter().any(|r| r.quoted);
        prop_assert_eq!(judgements(wa, exact), judgements(wb, exact));
    }
}

/// The counted runs an entry keeps for the organisation's ledger, as what the ledger stores of
/// them: key, model, figures, end (to the millisecond, when `with_end`), place and hardware;
/// sorted.
fn kept_runs(entries: &[Entry], with_end: bool) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .flat_map(|e| {
            e.runs.iter().map(move |r| {
                format!(
                    "{} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    e.model,
                    e.version,
                    carbon_gate::store::from_record::key(r),
                    r.energy,
                    r.emissions,
                    r.duration,
                    carbon_gate::store::from_record::ended(r)
                        .filter(|_| with_end)
                        .map(|s| (s * 1000.0).round()),
                    r.place,
                    r.hardware,
                    r.phase,
                )
            })
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every counted run reaches the organisation's ledger: the runs the streaming ledger keeps
    /// (slots turned back into records) are the counted records of the ledger over every record,
    /// and as many as the totals count.
    #[test]
    fn every_counted_run_is_kept_for_the_organisation_ledger(
        rows in proptest::collection::vec(row(), 0..60),
        named in any::<bool>(),
        larger in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let paths = write(dir.path(), &rows);
        let attribution = Attribution {
            model: named.then(|| "m".to_owned()),
            rules: rules(larger),
            keep_runs: true,
            ..Attribution::default()
        };
        let Some(((a, _), (b, _))) = both(&paths, &attribution)? else {
            return Ok(());
        };
        // Under `count-larger`, rows that are not snapshots of each other are merged figure by
        // figure, and the run's end is then no row's: it is compared only where conflicts are
        // refused (every counted run is then a true snapshot).
        prop_assert_eq!(kept_runs(&a, !larger), kept_runs(&b, !larger));
        for e in &b {
            let runs: std::collections::BTreeSet<&str> =
                e.runs.iter().map(|r| r.run_id.as_str()).collect();
            prop_assert_eq!(runs.len(), e.totals.runs);
        }
    }
}

/// `n` runs of `snapshots` rows each, with CodeCarbon-like UUIDs, in one file.
fn many(dir: &std::path::Path, n: u32, snapshots: u32) -> Vec<PathBuf> {
    let mut text = format!("{HEADER}\n");
    for run in 0..n {
        for k in 1..=snapshots {
            let energy = f64::from(run % 97 + 1) * f64::from(k) / 1000.0;
            text.push_str(&format!(
                "2026,p{},{:08x}-1111-4000-8000-000000000000,{},{:?},{energy:?},France,FRA,,,,cpu,,0,1.0\n",
                run % 2,
                run,
                k * 10,
                energy * 0.05,
            ));
        }
    }
    let path = dir.join("emissions.csv");
    std::fs::write(&path, text).unwrap();
    vec![path]
}

#[test]
fn many_runs_list_the_largest_and_roll_up_the_rest_with_the_same_totals() {
    let dir = tempfile::tempdir().unwrap();
    let listed = ledger::reduce::LISTED_RUNS;
    let runs = 2_010u32;
    let paths = many(dir.path(), runs, 2);
    let (a, _) = full(&paths, &Attribution::default());
    let (b, warnings) = reduced(&paths, &Attribution::default());
    assert_eq!(a.len(), 2);
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.totals, y.totals);
        assert_eq!(x.contributions.len(), x.totals.runs);
        // The largest runs one by one, then one roll-up for the file and profile: every run
        // accounted for once.
        assert_eq!(y.contributions.len(), listed + 1, "{:?}", y.contributions);
        let (rolled, single): (Vec<_>, Vec<_>) = y.contributions.iter().partition(|c| c.runs > 1);
        assert_eq!(rolled.len(), 1);
        let c = rolled[0];
        assert_eq!(c.runs + single.len(), y.totals.runs);
        // The ones listed are the largest by CO2e, of equal ones the first read.
        let mut all: Vec<_> = x.contributions.iter().collect();
        all.sort_by(|p, q| {
            q.emissions
                .value()
                .total_cmp(&p.emissions.value())
                .then(p.source.line.cmp(&q.source.line))
        });
        let mut expected: Vec<&str> = all[..listed].iter().map(|c| c.run_id.as_str()).collect();
        let mut got: Vec<&str> = single.iter().map(|c| c.run_id.as_str()).collect();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected);
        // The roll-up sums the others exactly.
        let rest = |f: fn(&ledger::Contribution) -> f64| {
            carbon_gate::units::exact_sum(all[listed..].iter().map(|c| f(c)))
        };
        assert_eq!(c.emissions.value(), rest(|c| c.emissions.value()));
        assert_eq!(
            c.energy.map(|e| e.value()),
            Some(rest(|c| c.energy.map_or(0.0, |e| e.value())))
        );
        // Project p0 has the even runs, p1 the odd ones; each run's second row counts, and the
        // first runs are small ones (run % 97 + 1).
        assert_eq!(c.source.line, Some(3 + 2 * k as u64));
        assert_eq!(c.last_line, Some(u64::from(runs) * 2 - 1 + 2 * k as u64));
    }
    // 20 runs told in full, then one count of all.
    let duplicates: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("duplicate-run"))
        .collect();
    assert_eq!(duplicates.len(), ledger::reduce::DUPLICATE_EXAMPLES + 1);
    assert!(
        duplicates[20].contains(&format!(
            "{runs} runs have several rows ({runs} rows superseded in all)"
        )),
        "{}",
        duplicates[20]
    );
}

#[test]
fn a_run_in_plain_rows_and_in_task_rows_is_reconciled_once() {
    let dir = tempfile::tempdir().unwrap();
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    std::fs::write(
        dir.path().join("emissions.csv"),
        format!("{HEADER}\n2026,p,{id},10,0.5,2.0,France,FRA,,,,cpu,,0,1.0\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("emissions_task.csv"),
        format!(
            "task_name,{HEADER}\nt1,2026,p,{id},4,0.2,0.8,France,FRA,,,,cpu,,0,1.0\nt2,2026,p,{id},5,0.3,1.2,France,FRA,,,,cpu,,0,1.0\n"
        ),
    )
    .unwrap();
    let paths = vec![dir.path().to_owned()];
    let (a, _) = full(&paths, &Attribution::default());
    let (b, wb) = reduced(&paths, &Attribution::default());
    assert_eq!(summary(&a), summary(&b));
    assert_eq!(b[0].totals.runs, 1);
    assert_eq!(b[0].totals.energy.value(), 2.0);
    assert!(wb.iter().any(|w| w.contains("task-rows-in-run")), "{wb:?}");
}

#[test]
fn a_run_told_in_full_lists_its_first_50_rows() {
    let dir = tempfile::tempdir().unwrap();
    let paths = many(dir.path(), 1, 120);
    let (_, warnings) = reduced(&paths, &Attribution::default());
    let told: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("duplicate-run"))
        .collect();
    assert_eq!(told.len(), 1, "{warnings:?}");
    assert!(
        told[0].contains("has 120 rows (") && told[0].contains(", 51, … and 70 more)"),
        "{}",
        told[0]
    );
}

#[test]
fn the_intensity_limit_sees_the_dirtiest_run_of_a_roll_up() {
    let dir = tempfile::tempdir().unwrap();
    let runs = 1_005u32;
    let listed = ledger::reduce::LISTED_RUNS as u32;
    let mut text = format!("{HEADER}\n");
    for run in 0..runs {
        // 50 g/kWh everywhere, but one small run at 450 g/kWh: it is not among the largest, so
        // it is in the roll-up.
        let (emissions, energy) = if run == 777 {
            (0.045, 0.1)
        } else {
            (0.05, 1.0)
        };
        text.push_str(&format!(
            "2026,p,{run:08x}-1111-4000-8000-000000000000,10,{emissions:?},{energy:?},France,FRA,,,,cpu,,0,1.0\n",
        ));
    }
    std::fs::write(dir.path().join("emissions.csv"), text).unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: 1\nbudgets:\n  - name: grid\n    model: \"*\"\n    max-intensity: \"200 g/kWh\"\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("carbon-gate")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            "--policy",
            "policy.yaml",
            "--format",
            "json",
            "emissions.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let model = &report["models"][0];
    assert_eq!(model["totals"]["runs"], runs);
    let contributions = model["contributions"].as_array().unwrap();
    assert_eq!(contributions.len(), listed as usize + 1);
    // Of equal runs, the first read are listed; the roll-up is the rest.
    let rolled = runs - listed;
    assert_eq!(contributions[listed as usize]["runs"], rolled);
    let finding = model["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "intensity-exceeded")
        .expect("intensity finding");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "a run among {rolled} (emissions.csv:{}–{} ({rolled} runs)) ran at 450 g/kWh",
            listed + 2,
            runs + 1
        )),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Snapshots, forgeries and decoys of a few runs (the `reconcile` fuzz target's encoding):
    /// both ledgers refuse the same logs, count the same, and never count less than any row of
    /// a run in any figure.
    #[test]
    fn what_is_counted_for_a_run_is_never_below_any_of_its_rows(
        rows in proptest::collection::vec(
            (0u8..3, any::<bool>(), 0u16..500, 0u16..500, 0u16..300, 0u8..8),
            1..24,
        ),
        larger in any::<bool>(),
    ) {
        let mut text = String::from("timestamp,project_name,run_id,duration,emissions,energy_consumed\n");
        for (run, decoy, energy, co2e, duration, start) in &rows {
            let at = u32::from(*start) + u32::from(*duration);
            text.push_str(&format!(
                "2026-01-01T{:02}:{:02}:{:02},{},run-{run},{duration},{:?},{:?}\n",
                at / 3600,
                at / 60 % 60,
                at % 60,
                if *decoy { "decoy" } else { "m" },
                f64::from(*co2e) / 1000.0,
                f64::from(*energy) / 100.0,
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emissions.csv");
        std::fs::write(&path, &text).unwrap();
        let paths = vec![path];
        let attribution = Attribution {
            rules: rules(larger),
            ..Attribution::default()
        };
        let records = ingest::ingest(&paths, &Options::default()).unwrap().records;
        match (try_full(&paths, &attribution), try_reduced(&paths, &attribution)) {
            (Ok((a, _)), Ok((b, _))) => {
                prop_assert_eq!(summary(&a), summary(&b));
                for e in &a {
                    for c in &e.contributions {
                        for r in records.iter().filter(|r| r.run_id == c.run_id) {
                            prop_assert!(c.emissions.value() >= r.emissions.value() * (1.0 - 1e-9));
                            let energy = |x: Option<carbon_gate::units::Energy>| x.map_or(0.0, |e| e.value());
                            prop_assert!(energy(c.energy) >= energy(r.energy) * (1.0 - 1e-9));
                        }
                    }
                }
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "one ledger refused, the other not: {:?} / {:?}", a.err(), b.err()),
        }
    }
}

/// One generated record of another format: a carbon-gate NDJSON record or an eco2AI row.
#[derive(Debug, Clone)]
struct Other {
    run: u8,
    uuid: bool,
    /// 0–2: NDJSON records (2: one saying it was first read by eco2AI), 3: an eco2AI CSV row.
    kind: u8,
    model: u8,
    /// 0: none, 1: "1.0.0", 2: "v1.1.0", 3: "latest" (not semver: kept whole, and told).
    version: u8,
    phase: u8,
    place: u8,
    energy: u16,
    ratio: u8,
    duration: u16,
    /// 0: a whole run; 1: with per-component energies; 2: with a metric; 3: a task of its run
    /// (each kept whole).
    extra: u8,
    file: u8,
    consistent: bool,
}

const ECO2AI_HEADER: &str = "id,project_name,experiment_description,epoch,start_time,duration(s),power_consumption(kWh),CO2_emissions(kg),CPU_name,GPU_name,OS,region/country,cost";

fn other() -> impl Strategy<Value = Other> {
    (
        (
            0u8..10,
            any::<bool>(),
            0u8..4,
            0u8..3,
            0u8..4,
            0u8..3,
            0u8..3,
        ),
        (
            0u16..5000,
            1u8..90,
            0u16..3600,
            prop_oneof![6 => Just(0u8), 1 => 1u8..4],
            0u8..2,
            proptest::bool::weighted(0.9),
        ),
    )
        .prop_map(
            |(
                (run, uuid, kind, model, version, phase, place),
                (energy, ratio, duration, extra, file, consistent),
            )| Other {
                run,
                uuid,
                kind,
                model,
                version,
                phase,
                place,
                energy,
                ratio,
                duration,
                extra,
                file,
                consistent,
            },
        )
}

fn other_id(o: &Other) -> String {
    if o.uuid {
        format!("{:08x}-0000-4000-8000-{:012x}", o.run, u64::from(o.run) * 7)
    } else {
        format!("run-{}", o.run)
    }
}

/// The record as written, consistent records following from their run.
fn other_fields(o: &Other) -> Other {
    if o.consistent {
        Other {
            model: o.run % 3,
            version: (o.run % 3).min(2),
            phase: o.run % 3,
            place: o.run % 3,
            ratio: 10 + o.run * 5,
            duration: o.energy % 3600,
            ..o.clone()
        }
    } else {
        o.clone()
    }
}

fn other_ndjson(o: &Other) -> String {
    let o = &other_fields(o);
    let energy = f64::from(o.energy) / 1000.0;
    let model = ["text-gen", "embedder", "classifier"][usize::from(o.model % 3)];
    let place = [
        serde_json::json!({"country_iso": "FR"}),
        serde_json::json!({"country_iso": "DE", "cloud_provider": "gcp", "cloud_region": "europe-west3"}),
        serde_json::json!({"country_iso": "SE"}),
    ][usize::from(o.place % 3)]
    .clone();
    let gpu = if o.place == 1 { "A100" } else { "" };
    let mut r = serde_json::json!({
        "run_id": other_id(o),
        "model": model,
        "timestamp": format!("2026-01-01T00:00:{:02}Z", o.duration % 60),
        "duration_s": f64::from(o.duration),
        "energy_kwh": energy,
        "co2e_kg": energy * f64::from(o.ratio) / 100.0,
        "place": place,
        "hardware": {"cpu": "cpu", "gpu": gpu},
        "method": "measured",
    });
    if let Some(v) =
        [None, Some("1.0.0"), Some("v1.1.0"), Some("latest")][usize::from(o.version % 4)]
    {
        r["version"] = v.into();
    }
    if let Some(p) = [None, Some("training"), Some("inference")][usize::from(o.phase % 3)] {
        r["phase"] = p.into();
    }
    if o.kind == 2 {
        r["format"] = "eco2ai".into();
    }
    match o.extra {
        1 => {
            r["components"] = serde_json::json!({"cpu_kwh": energy / 2.0, "gpu_kwh": energy / 2.0, "ram_kwh": 0.0});
        }
        2 => r["metrics"] = serde_json::json!({"f1": 0.9}),
        3 => r["part"] = serde_json::json!({"kind": "task", "name": "train"}),
        _ => {}
    }
    r.to_string()
}

fn other_eco2ai(o: &Other) -> String {
    let o = &other_fields(o);
    let energy = f64::from(o.energy) / 1000.0;
    format!(
        "{},{},d,N/A,2026-01-01 00:00:{:02},{},{energy:?},{:?},\"cpu/1 device(s), TDP:100.0\",{},Linux,{},0",
        other_id(o),
        ["text-gen", "embedder", "classifier"][usize::from(o.model % 3)],
        o.duration % 60,
        f64::from(o.duration),
        energy * f64::from(o.ratio) / 100.0,
        if o.place == 1 {
            "\"A100/1 device(s), TDP:400.0\""
        } else {
            " 0 device(s)"
        },
        ["FR", "DE", "SE"][usize::from(o.place % 3)],
    )
}

/// Write the records to up to two NDJSON files and one eco2AI CSV; the paths to read.
fn write_others(dir: &std::path::Path, records: &[Other]) -> Vec<PathBuf> {
    let mut ndjson = [String::new(), String::new()];
    let mut eco2ai = format!("{ECO2AI_HEADER}\n");
    for o in records {
        if o.kind == 3 {
            eco2ai.push_str(&other_eco2ai(o));
            eco2ai.push('\n');
        } else {
            let t = &mut ndjson[usize::from(o.file % 2)];
            t.push_str(&other_ndjson(o));
            t.push('\n');
        }
    }
    let mut paths = Vec::new();
    for (i, t) in ndjson.iter().enumerate() {
        if !t.is_empty() {
            let p = dir.join(format!("runs_{i}.ndjson"));
            std::fs::write(&p, t).unwrap();
            paths.push(p);
        }
    }
    if eco2ai.lines().count() > 1 {
        let p = dir.join("emission.csv");
        std::fs::write(&p, eco2ai).unwrap();
        paths.push(p);
    }
    paths
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// eco2AI rows and carbon-gate records folded into slots (and those kept whole beside them)
    /// give what the ledger over every record gives.
    #[test]
    fn records_of_other_formats_fold_like_the_ledger_over_every_record(
        records in proptest::collection::vec(other(), 0..50),
        named in any::<bool>(),
        versioned in any::<bool>(),
        larger in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_others(dir.path(), &records);
        let attribution = Attribution {
            model: named.then(|| "m".to_owned()),
            version: versioned.then(|| semver::Version::new(2, 0, 0)),
            phase: Some(carbon_gate::record::Phase::Evaluation),
            rules: rules(larger),
            keep_runs: false,
        };
        let Some(((a, wa), (b, wb))) = both(&paths, &attribution)? else {
            return Ok(());
        };
        prop_assert_eq!(summary(&a), summary(&b));
        // When every record is one a slot holds, every judgement is told the same way; a run
        // with rows kept whole too is told in two parts: the same kinds of judgement.
        let all_slots = records.iter().all(|o| o.extra == 0 && o.version != 3);
        prop_assert_eq!(judgements(wa, all_slots), judgements(wb, all_slots));
    }
}
