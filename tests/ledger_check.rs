//! The organisation's ledger from the command line (issue #23): `check --ledger URL` stores every
//! counted run once and judges the policy's `periods:` and `trajectory:` on ledger + this check;
//! `ledger summary` reads it back. Every scenario runs against SQLite (a temporary file) and a
//! real PostgreSQL server (started by `.ci/test.sh` on 127.0.0.1, admin URL in
//! `CARBON_GATE_TEST_POSTGRES`; each test gets a database of its own).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{bin, outcome, write};
use serde_json::Value;

/// A fresh database on the test PostgreSQL server; `None` (with a note) outside CI when no
/// server was started, a failure in CI.
fn postgres_db() -> Option<String> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let Ok(admin) = std::env::var("CARBON_GATE_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "CARBON_GATE_TEST_POSTGRES is not set: run the tests with `bash .ci/test.sh` (it starts \
             PostgreSQL on 127.0.0.1), or set it to a server you started"
        );
        eprintln!("note: CARBON_GATE_TEST_POSTGRES is not set: the PostgreSQL case is skipped");
        return None;
    };
    let name = format!(
        "cg_check_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut client = ::postgres::Client::connect(&admin, ::postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    match admin.rfind('/') {
        Some(i) => Some(format!("{}/{name}", &admin[..i])),
        None => panic!("admin URL without a database: {admin}"),
    }
}

/// A fresh SQLite ledger in `dir`.
fn sqlite_db(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("ledger.db").display())
}

/// One record of carbon-gate's own NDJSON.
fn run(id: &str, model: &str, version: &str, at: &str, co2e: f64, kwh: f64, s: f64) -> String {
    serde_json::json!({
        "run_id": id, "model": model, "version": version, "timestamp": at,
        "co2e_kg": co2e, "energy_kwh": kwh, "duration_s": s,
    })
    .to_string()
}

/// The NLP team's earlier work in 2025-Q1: 8 kg (at its warn limit, not over it).
fn nlp_quarter() -> [String; 2] {
    [
        run(
            "t1",
            "text-gen",
            "1.0.0",
            "2025-01-05T08:00:00Z",
            5.0,
            20.0,
            3600.0,
        ),
        run(
            "t2",
            "summarizer",
            "2.0.0",
            "2025-02-05T08:00:00Z",
            3.0,
            12.0,
            3600.0,
        ),
    ]
}

const POLICY: &str = r#"version: 1
teams:
  nlp:
    models: ["text-gen*", "summarizer"]
    owners: ["@org/nlp"]
  vision:
    models: ["detector*"]
budgets:
  - model: "*"
    limits:
      co2e: { fail: "1 t" }
periods:
  - name: NLP team per quarter
    teams: [nlp]
    every: quarter
    limits:
      co2e: { warn: "8 kg", fail: "10 kg" }
"#;

/// `check --format json` of `logs` against `policy` with `--ledger url`: (exit code, report, stderr).
fn check(dir: &Path, policy: &str, url: &str, logs: &[&Path]) -> (i32, Value, String) {
    let policy = write(dir, "policy.yaml", policy);
    let mut cmd = bin();
    cmd.arg("check")
        .arg("--policy")
        .arg(&policy)
        .args(["--format", "json", "--ledger", url])
        .args(logs)
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REF");
    let (code, stdout, stderr) = outcome(&mut cmd);
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (code, report, stderr)
}

/// `ledger summary --format json` (teams from `POLICY`): the rows.
fn summary(url: &str, by: &str, every: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "teams.yaml", POLICY);
    let (code, stdout, stderr) = outcome(
        bin()
            .args([
                "ledger", "summary", "--ledger", url, "--by", by, "--every", every, "--format",
                "json", "--policy",
            ])
            .arg(&policy),
    );
    assert_eq!(code, 0, "ledger summary: {stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    v["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], key: &str, period: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["key"] == key && r["period"] == period)
        .unwrap_or_else(|| panic!("no row {key} {period} in {rows:#?}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

// --- scenarios, each on a database URL ---

fn the_same_logs_checked_twice_are_stored_once(dir: &Path, url: &str) {
    let log = write(
        dir,
        "runs.ndjson",
        &[
            run(
                "a",
                "text-gen",
                "1.0.0",
                "2025-01-10T10:00:00Z",
                1.5,
                5.0,
                3600.0,
            ),
            run(
                "b",
                "text-gen",
                "1.0.0",
                "2025-01-11T10:00:00Z",
                2.0,
                7.0,
                3600.0,
            ),
        ]
        .join("\n"),
    );
    for _ in 0..2 {
        let (code, _, stderr) = check(dir, POLICY, url, &[&log]);
        assert_eq!(code, 0, "{stderr}");
    }
    // The same log under another name (another checkout, another pull request) is the same runs.
    let copy = write(dir, "copy.ndjson", &std::fs::read_to_string(&log).unwrap());
    let (code, _, stderr) = check(dir, POLICY, url, &[&copy]);
    assert_eq!(code, 0, "{stderr}");
    let rows = summary(url, "model", "quarter");
    let r = row(&rows, "text-gen", "2025-Q1");
    assert_eq!(r["runs"], 2);
    assert!(close(r["co2e_kg"].as_f64().unwrap(), 3.5), "{r}");
    assert!(close(r["energy_kwh"].as_f64().unwrap(), 12.0), "{r}");
}

fn a_growing_flush_snapshot_updates_the_run(dir: &Path, url: &str) {
    let early = write(
        dir,
        "early.ndjson",
        &run(
            "r",
            "summarizer",
            "1.0.0",
            "2025-02-01T10:00:00Z",
            1.0,
            3.0,
            100.0,
        ),
    );
    let late = write(
        dir,
        "late.ndjson",
        &run(
            "r",
            "summarizer",
            "1.0.0",
            "2025-02-01T10:02:30Z",
            2.5,
            7.5,
            250.0,
        ),
    );
    for log in [&early, &late, &early] {
        let (code, _, stderr) = check(dir, POLICY, url, &[log]);
        assert_eq!(code, 0, "{stderr}");
    }
    let rows = summary(url, "model", "month");
    let r = row(&rows, "summarizer", "2025-02");
    assert_eq!(r["runs"], 1);
    assert!(close(r["co2e_kg"].as_f64().unwrap(), 2.5), "{r}");
    assert!(close(r["energy_kwh"].as_f64().unwrap(), 7.5), "{r}");
}

fn a_change_that_pushes_the_team_over_its_quarter_exits_1(dir: &Path, url: &str) {
    // Earlier work of the team this quarter: 8 kg (at the warn limit, not over it).
    let before = write(
        dir,
        "before.ndjson",
        &[
            nlp_quarter()[0].clone(),
            nlp_quarter()[1].clone(),
            // Another team's run does not count against the NLP team.
            run(
                "v1",
                "detector",
                "1.0.0",
                "2025-02-06T08:00:00Z",
                50.0,
                200.0,
                3600.0,
            ),
        ]
        .join("\n"),
    );
    let (code, report, stderr) = check(dir, POLICY, url, &[&before]);
    assert_eq!(code, 0, "{stderr}");
    let line = &report["periods"][0];
    assert_eq!(line["period"], "2025-Q1", "{report:#}");
    assert!(close(line["co2e_kg"].as_f64().unwrap(), 8.0), "{line}");

    // The change: a small run of its own (1 kg budget is far away), but the quarter goes over.
    let change = write(
        dir,
        "change.ndjson",
        &run(
            "t3",
            "text-gen",
            "1.1.0",
            "2025-03-31T23:59:59Z",
            3.0,
            10.0,
            3600.0,
        ),
    );
    let (code, report, stderr) = check(dir, POLICY, url, &[&change]);
    assert_eq!(code, 1, "{stderr}");
    let line = &report["periods"][0];
    assert_eq!(line["name"], "NLP team per quarter");
    assert_eq!(line["period"], "2025-Q1");
    assert_eq!(line["verdict"], "fail");
    assert!(close(line["co2e_kg"].as_f64().unwrap(), 11.0), "{line}");
    assert!(
        close(line["added_co2e_kg"].as_f64().unwrap(), 3.0),
        "{line}"
    );
    // The report with its period lines and ledger note is what docs/report.schema.json says.
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("docs/report.schema.json").unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["ledger"]["new"], 1, "{:#}", report["ledger"]);
    let verdict = stderr.lines().last().unwrap();
    assert!(
        verdict.contains("NLP team per quarter, 2025-Q1") && verdict.contains("this change adds"),
        "the verdict line names the period: {verdict}"
    );
    // The failing check's runs are recorded: the emissions happened.
    let rows = summary(url, "team", "quarter");
    assert!(close(
        row(&rows, "nlp", "2025-Q1")["co2e_kg"].as_f64().unwrap(),
        11.0
    ));
    assert!(close(
        row(&rows, "vision", "2025-Q1")["co2e_kg"].as_f64().unwrap(),
        50.0
    ));

    // A run at the first instant of Q2 is judged in Q2, which is empty: it passes.
    let q2 = write(
        dir,
        "q2.ndjson",
        &run(
            "t4",
            "text-gen",
            "1.2.0",
            "2025-04-01T00:00:00Z",
            3.0,
            10.0,
            3600.0,
        ),
    );
    let (code, report, stderr) = check(dir, POLICY, url, &[&q2]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["periods"][0]["period"], "2025-Q2");
    assert!(close(
        report["periods"][0]["co2e_kg"].as_f64().unwrap(),
        3.0
    ));
}

fn the_trajectory_limits_the_year(dir: &Path, url: &str) {
    let policy = r#"version: 1
budgets:
  - model: "*"
    limits:
      co2e: { fail: "1 t" }
trajectory:
  models: ["*"]
  base-year: 2023
  base: "40 kg"
  reduction-per-year: "4.2%"
"#;
    // 2025's limit: 40 × (1 − 0.042 × 2) = 36.64 kg.
    let under = write(
        dir,
        "under.ndjson",
        &run(
            "y1",
            "m",
            "1.0.0",
            "2025-06-01T00:00:00Z",
            36.0,
            100.0,
            60.0,
        ),
    );
    let (code, report, stderr) = check(dir, policy, url, &[&under]);
    assert_eq!(code, 0, "{stderr}");
    let line = &report["periods"][0];
    assert_eq!(line["period"], "2025");
    assert!(
        close(line["co2e_fail_kg"].as_f64().unwrap(), 36.64),
        "{line}"
    );
    let over = write(
        dir,
        "over.ndjson",
        &run("y2", "m", "1.0.1", "2025-12-31T23:59:59Z", 0.7, 2.0, 60.0),
    );
    let (code, report, stderr) = check(dir, policy, url, &[&over]);
    assert_eq!(code, 1, "{stderr}");
    assert!(close(
        report["periods"][0]["co2e_kg"].as_f64().unwrap(),
        36.7
    ));
    // The first instant of 2026 is judged against 2026's limit (34.96 kg), on 2026's runs only.
    let next = write(
        dir,
        "next.ndjson",
        &run("y3", "m", "1.0.2", "2026-01-01T00:00:00Z", 1.0, 2.0, 60.0),
    );
    let (code, report, stderr) = check(dir, policy, url, &[&next]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["periods"][0]["period"], "2026");
    assert!(close(
        report["periods"][0]["co2e_fail_kg"].as_f64().unwrap(),
        34.96
    ));
}

/// Eight `check` processes at once, over overlapping runs, each process with its own snapshot of
/// each run: afterwards every run is stored once, with its largest snapshot.
fn concurrent_checks_lose_and_double_nothing(dir: &Path, url: &str) {
    let policy = write(
        dir,
        "policy.yaml",
        "version: 1\nbudgets:\n  - model: \"*\"\n    limits:\n      co2e: { fail: \"1 t\" }\n",
    );
    let mut expected: BTreeMap<usize, f64> = BTreeMap::new();
    let mut children = Vec::new();
    for p in 0..8usize {
        let lines: Vec<String> = (p * 5..p * 5 + 12)
            .map(|k| {
                // Snapshots of run k grow with the process number modulo 3.
                let grow = 1.0 + (p % 3) as f64 / 10.0;
                let co2e = (k as f64 + 1.0) * 0.25 * grow;
                let e = expected.entry(k).or_insert(0.0);
                *e = e.max(co2e);
                run(
                    &format!("run-{k}"),
                    "text-gen",
                    "1.0.0",
                    "2025-05-05T05:05:05Z",
                    co2e,
                    co2e * 4.0,
                    100.0 * grow,
                )
            })
            .collect();
        let log = write(dir, &format!("p{p}.ndjson"), &lines.join("\n"));
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("carbon-gate"));
        cmd.arg("check")
            .arg("--policy")
            .arg(&policy)
            .args(["--format", "json", "--ledger", url])
            .arg(&log)
            .env_remove("CI")
            .env_remove("CARBON_GATE_LEDGER")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        children.push(cmd.spawn().unwrap());
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = summary(url, "model", "year");
    let r = row(&rows, "text-gen", "2025");
    assert_eq!(r["runs"].as_u64().unwrap() as usize, expected.len());
    let want: f64 = expected.values().sum();
    assert!(
        close(r["co2e_kg"].as_f64().unwrap(), want),
        "{} vs {want}",
        r["co2e_kg"]
    );
}

/// A simple deterministic generator (no dependency, same sequence everywhere).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Summary totals equal a computation made here, independently, to 1e-9 relative: by model and
/// by team, per month, quarter and year, over runs spread across two years.
fn summary_totals_equal_an_independent_computation(dir: &Path, url: &str) {
    let models = ["text-gen", "summarizer", "detector-small", "ranker"];
    let team = |m: &str| match m {
        "text-gen" | "summarizer" => "nlp",
        "detector-small" => "vision",
        _ => "(no team)",
    };
    let mut g = Lcg(23);
    let mut lines = Vec::new();
    // (model, year, month) → (co2e, kwh, runs)
    let mut runs: Vec<(&str, u32, u32, f64, f64)> = Vec::new();
    for i in 0..300 {
        let m = models[(g.next() % 4) as usize];
        let year = 2024 + (g.next() % 2) as u32;
        let month = 1 + (g.next() % 12) as u32;
        let day = 1 + (g.next() % 28) as u32;
        let co2e = (g.next() % 1_000_000) as f64 / 7919.0;
        let kwh = (g.next() % 1_000_000) as f64 / 1013.0;
        let at = format!("{year}-{month:02}-{day:02}T12:34:56Z");
        lines.push(run(&format!("g{i}"), m, "3.1.4", &at, co2e, kwh, 60.0));
        runs.push((m, year, month, co2e, kwh));
    }
    let log = write(dir, "many.ndjson", &lines.join("\n"));
    let (code, _, stderr) = check(
        dir,
        &POLICY.replace("fail: \"10 kg\"", "fail: \"1000 t\""),
        url,
        &[&log],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    for every in ["month", "quarter", "year"] {
        let label = |y: u32, m: u32| match every {
            "month" => format!("{y}-{m:02}"),
            "quarter" => format!("{y}-Q{}", (m - 1) / 3 + 1),
            _ => format!("{y}"),
        };
        for by in ["model", "team"] {
            let mut want: BTreeMap<(String, String), (f64, f64, u64)> = BTreeMap::new();
            for &(m, y, mo, c, k) in &runs {
                let key = if by == "model" { m } else { team(m) };
                let e = want
                    .entry((key.to_owned(), label(y, mo)))
                    .or_insert((0.0, 0.0, 0));
                e.0 += c;
                e.1 += k;
                e.2 += 1;
            }
            let rows = summary(url, by, every);
            assert_eq!(rows.len(), want.len(), "{by} {every}");
            for ((key, period), (c, k, n)) in &want {
                let r = row(&rows, key, period);
                assert_eq!(
                    r["runs"].as_u64().unwrap(),
                    *n,
                    "{by} {every} {key} {period}"
                );
                assert!(close(r["co2e_kg"].as_f64().unwrap(), *c), "{r} vs {c}");
                assert!(close(r["energy_kwh"].as_f64().unwrap(), *k), "{r} vs {k}");
            }
        }
    }
}

fn a_history_file_moves_into_the_database(dir: &Path, url: &str) {
    let history = dir.join("history.jsonl");
    let history_url = history.display().to_string();
    let log = write(
        dir,
        "h.ndjson",
        &[
            run(
                "h1",
                "text-gen",
                "1.0.0",
                "2025-01-10T10:00:00Z",
                1.25,
                5.0,
                60.0,
            ),
            run(
                "h2",
                "text-gen",
                "1.0.0",
                "2025-01-10T11:00:00Z",
                0.75,
                3.0,
                60.0,
            ),
        ]
        .join("\n"),
    );
    for _ in 0..2 {
        let (code, _, stderr) = check(dir, POLICY, &history_url, &[&log]);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&history).unwrap().lines().count(),
        2
    );
    let (code, _, stderr) = outcome(
        bin()
            .args(["ledger", "import"])
            .arg(&history)
            .args(["--ledger", url]),
    );
    assert_eq!(code, 0, "{stderr}");
    // Twice the same version: one entry, never doubled.
    let (code, _, stderr) = outcome(
        bin()
            .args(["ledger", "import"])
            .arg(&history)
            .args(["--ledger", url]),
    );
    assert_eq!(code, 0, "{stderr}");
    let rows = summary(url, "version", "year");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(
        close(rows[0]["co2e_kg"].as_f64().unwrap(), 2.0),
        "{rows:#?}"
    );
}

/// `ledger migrate` says the schema version; `ledger inventory` totals the year's runs and
/// sets the trajectory's limit of the year.
fn migrate_and_inventory(dir: &Path, url: &str) {
    let (code, _, stderr) = outcome(bin().args(["ledger", "migrate", "--ledger", url]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("at schema version 2"), "{stderr}");
    let policy = format!(
        "{POLICY}trajectory:\n  models: [\"*\"]\n  base-year: 2023\n  base: \"40 kg\"\n  reduction-per-year: \"4.2%\"\n"
    );
    let log = write(
        dir,
        "year.ndjson",
        &[
            run(
                "i1",
                "text-gen",
                "1.0.0",
                "2024-12-31T23:59:59Z",
                100.0,
                1.0,
                60.0,
            ),
            run(
                "i2",
                "text-gen",
                "1.0.0",
                "2025-01-01T00:00:00Z",
                1.25,
                5.0,
                60.0,
            ),
            run(
                "i3",
                "detector",
                "1.0.0",
                "2025-07-01T00:00:00Z",
                2.5,
                7.0,
                60.0,
            ),
        ]
        .join("\n"),
    );
    let (code, _, stderr) = check(dir, &policy, url, &[&log]);
    assert!(code == 0 || code == 1, "{stderr}");
    let (code, stdout, stderr) = outcome(
        bin()
            .args([
                "ledger",
                "inventory",
                "--ledger",
                url,
                "--year",
                "2025",
                "--format",
                "json",
            ])
            .arg("--policy")
            .arg(dir.join("policy.yaml")),
    );
    assert_eq!(code, 0, "{stderr}");
    let inv: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(inv["totals"]["runs"], 2, "{:#}", inv["totals"]);
    let total = inv["totals"]["total_co2e_kg"]["value"].as_f64().unwrap();
    assert!(close(total, 3.75), "{total}");
    let energy = inv["totals"]["energy_kwh"]["value"].as_f64().unwrap();
    assert!(close(energy, 12.0), "{energy}");
    let (code, stdout, stderr) = outcome(
        bin()
            .args(["ledger", "inventory", "--ledger", url, "--year", "2025"])
            .arg("--policy")
            .arg(dir.join("policy.yaml")),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("36.64 kg"),
        "the trajectory's 2025 limit:\n{stdout}"
    );
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(dir.path(), &super::sqlite_db(dir.path()));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    if let Some(url) = super::postgres_db() {
                        super::$name(dir.path(), &url);
                    }
                }
            )*
        }
    };
}

on_both!(
    the_same_logs_checked_twice_are_stored_once,
    a_growing_flush_snapshot_updates_the_run,
    a_change_that_pushes_the_team_over_its_quarter_exits_1,
    the_trajectory_limits_the_year,
    concurrent_checks_lose_and_double_nothing,
    summary_totals_equal_an_independent_computation,
    a_history_file_moves_into_the_database,
    migrate_and_inventory,
);

// --- without a database ---

#[test]
fn periods_without_a_ledger_are_told_and_required_ones_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "r.ndjson",
        &run(
            "a",
            "text-gen",
            "1.0.0",
            "2025-01-10T10:00:00Z",
            1.0,
            2.0,
            60.0,
        ),
    );
    let policy = write(dir.path(), "policy.yaml", POLICY);
    let (code, stdout, stderr) = outcome(
        bin()
            .arg("check")
            .arg("--policy")
            .arg(&policy)
            .arg(&log)
            .env_remove("CI"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("[no-ledger]"), "{stdout}");
    let required = POLICY.replace(
        "    every: quarter\n",
        "    every: quarter\n    required: true\n",
    );
    let policy = write(dir.path(), "policy.yaml", &required);
    let (code, stdout, stderr) = outcome(
        bin()
            .arg("check")
            .arg("--policy")
            .arg(&policy)
            .arg(&log)
            .env_remove("CI"),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("[no-ledger]"), "{stdout}");
    assert!(
        stderr.contains("is required, so the check fails closed"),
        "{stderr}"
    );
}

#[test]
fn a_bad_ledger_url_is_exit_2_and_an_unreachable_one_exit_3_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "r.ndjson",
        &run(
            "a",
            "text-gen",
            "1.0.0",
            "2025-01-10T10:00:00Z",
            1.0,
            2.0,
            60.0,
        ),
    );
    for bad in ["mysql://u@h/db", "sqlite:", "postgres://u:s3cret@[::1/db"] {
        let (code, _, stderr) = check(dir.path(), POLICY, bad, &[&log]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    // Reading a ledger that is not there is an error, and creates nothing.
    let missing = dir.path().join("typo.db");
    let (code, _, stderr) = outcome(
        bin()
            .args(["ledger", "summary", "--ledger"])
            .arg(format!("sqlite:{}", missing.display())),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("there is no ledger at"), "{stderr}");
    assert!(!missing.exists());
    // Nothing listens on port 1: the database is down.
    let (code, _, stderr) = check(
        dir.path(),
        POLICY,
        "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2",
        &[&log],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_ledger_behind_a_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "r.ndjson",
        &run(
            "a",
            "text-gen",
            "1.0.0",
            "2025-01-10T10:00:00Z",
            1.0,
            2.0,
            60.0,
        ),
    );
    let target = dir.path().join("elsewhere.db");
    let link = dir.path().join("ledger.db");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).unwrap();
    #[cfg(not(unix))]
    return;
    let url = format!("sqlite:{}", link.display());
    let (code, _, stderr) = check(dir.path(), POLICY, &url, &[&log]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!target.exists(), "nothing written through the link");
}

/// The PR comment of a change that pushes the team over its quarter: the headline names the
/// period, and the table of budgets over time shows every period judged.
#[test]
fn the_comment_names_the_period_a_change_pushes_over() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_db(dir.path());
    let before = write(dir.path(), "before.ndjson", &nlp_quarter().join("\n"));
    let (code, _, stderr) = check(dir.path(), POLICY, &url, &[&before]);
    assert_eq!(code, 0, "{stderr}");
    let change = write(
        dir.path(),
        "change.ndjson",
        &run(
            "t3",
            "text-gen",
            "1.1.0",
            "2025-03-31T23:59:59Z",
            3.0,
            10.0,
            3600.0,
        ),
    );
    let policy = dir.path().join("policy.yaml");
    let (code, stdout, stderr) = outcome(
        bin()
            .arg("check")
            .arg("--policy")
            .arg(&policy)
            .args(["--format", "markdown", "--ledger", &url])
            .arg(&change)
            .env_remove("CI")
            .env_remove("GITHUB_REPOSITORY")
            .env_remove("GITHUB_SHA")
            .env_remove("GITHUB_REF"),
    );
    assert_eq!(code, 1, "{stderr}");
    let shown = stdout.replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!(shown);
}

/// A log cannot move its runs out of this quarter by dating them in the future: a run that ends
/// more than a day after it is recorded is judged at its recording.
#[test]
fn a_run_dated_in_the_future_is_judged_when_it_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_db(dir.path());
    let log = write(
        dir.path(),
        "future.ndjson",
        &run(
            "f",
            "text-gen",
            "1.0.0",
            "2099-01-01T00:00:00Z",
            4.0,
            9.0,
            60.0,
        ),
    );
    let before = time::OffsetDateTime::now_utc();
    let (code, report, stderr) = check(dir.path(), POLICY, &url, &[&log]);
    let after = time::OffsetDateTime::now_utc();
    assert_eq!(code, 0, "{stderr}");
    let quarter =
        |t: time::OffsetDateTime| format!("{}-Q{}", t.year(), (u8::from(t.month()) - 1) / 3 + 1);
    let judged = report["periods"][0]["period"].as_str().unwrap().to_owned();
    assert!(
        judged == quarter(before) || judged == quarter(after),
        "judged in {judged}"
    );
}

/// Runs a log dates more than a quarter before the check count in that earlier period, and the
/// check says so: a reviewer sees runs dated out of the current quarter's budget.
#[test]
fn runs_dated_long_before_the_check_are_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_db(dir.path());
    let log = write(
        dir.path(),
        "old.ndjson",
        &run(
            "old-1",
            "text-gen",
            "1.0.0",
            "2020-01-05T08:00:00Z",
            4.0,
            9.0,
            60.0,
        ),
    );
    let (code, report, stderr) = check(dir.path(), POLICY, &url, &[&log]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["periods"][0]["period"], "2020-Q1");
    let warning = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "run-dated-long-before")
        .unwrap_or_else(|| panic!("{:#}", report["warnings"]));
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.starts_with("1 run is dated more than 92 days before this check (old-1 at "),
        "{message}"
    );
    assert!(message.contains("ended 2020-01-05T08:00:00Z"), "{message}");
}
