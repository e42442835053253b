//! The organisation's ledger (`src/store/`, docs/ledger.md) against real databases: every test
//! runs on a fresh SQLite file AND a fresh PostgreSQL database (`CREATE DATABASE` on the server
//! in `CARBON_GATE_TEST_POSTGRES`, started by `.ci/test.sh` through `.ci/postgres.sh`; dropped
//! after). Without that variable the PostgreSQL half fails under CI (`CI` set) and is skipped,
//! with a note, otherwise. The same server speaks TLS too: the TLS tests need the CA its
//! certificate is signed by (`CARBON_GATE_TEST_POSTGRES_CA`, also set by .ci/postgres.sh), with
//! the same rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carbon_gate::error::Error;
use carbon_gate::store::schema::MIGRATIONS;
use carbon_gate::store::{CheckEvent, LOCK_KEY, Ledger, StoredRun, Target, Tls, Written};

// ---------------------------------------------------------------------------------------------
// The databases.

/// The PostgreSQL server's URL, or `None` (outside CI) when there is none.
fn postgres_admin() -> Option<String> {
    match std::env::var("CARBON_GATE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CARBON_GATE_TEST_POSTGRES is not set, and CI is: run the tests with `bash \
             .ci/test.sh` (it starts PostgreSQL through .ci/postgres.sh), or `source \
             .ci/postgres.sh start` first"
        ),
        _ => {
            // Once, and past the test harness's capture, so that it shows when the tests pass.
            static NOTE: std::sync::Once = std::sync::Once::new();
            NOTE.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: CARBON_GATE_TEST_POSTGRES is not set: the ledger store tests run on \
                     SQLite only (`source .ci/postgres.sh start` for PostgreSQL too)"
                );
            });
            None
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").unwrap() + 3;
    let slash = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..slash])
}

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, empty database of one kind; a PostgreSQL one is dropped when this is.
struct Db {
    target: Target,
    /// The PostgreSQL server URL and the database's name.
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        Db {
            target: Target::Sqlite(path),
            postgres: None,
            _dir: Some(dir),
        }
    }

    fn postgres(admin: &str) -> Db {
        let name = unique("t");
        let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        Db {
            target: Target::Postgres(with_database(admin, &name)),
            postgres: Some((admin.to_owned(), name)),
            _dir: None,
        }
    }

    fn name(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    fn open(&self) -> Ledger {
        Ledger::open(&self.target).unwrap_or_else(|e| panic!("{}: {e}", self.name()))
    }

    /// Run SQL outside carbon-gate (to build an old schema, install a trigger, …).
    fn execute(&self, sql_sqlite: &str, sql_postgres: &str) {
        match &self.target {
            Target::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql_sqlite)
                .unwrap(),
            Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql_postgres)
                .unwrap(),
            Target::History(_) => unreachable!(),
        }
    }

    /// One number from SQL outside carbon-gate.
    fn count(&self, sql: &str) -> i64 {
        match &self.target {
            Target::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query_one(sql, &[])
                .unwrap()
                .get(0),
            Target::History(_) => unreachable!(),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A fresh SQLite database, and a fresh PostgreSQL one when there is a server.
fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::sqlite()];
    if let Some(admin) = postgres_admin() {
        dbs.push(Db::postgres(&admin));
    }
    dbs
}

// ---------------------------------------------------------------------------------------------
// Runs and events.

/// A measured run of `model` with key `codecarbon:ID`, ended at `at`, and figures scaled by
/// `size` (a later flush of a run has a larger size).
fn run(id: &str, model: &str, at: &str, size: f64) -> StoredRun {
    let operational = 0.25 * size;
    let embodied = 0.0625 * size;
    StoredRun {
        key: format!("codecarbon:{id}"),
        format: "codecarbon".into(),
        run_id: id.into(),
        model: model.into(),
        version: Some("1.0.0".into()),
        phase: Some("training".into()),
        ended_at: Some(at.into()),
        recorded_at: at.into(),
        at: at.into(),
        duration_s: Some(3600.0 * size),
        energy_kwh: Some(1.5 * size),
        co2e_kg: operational + embodied,
        operational_co2e_kg: operational,
        embodied_co2e_kg: embodied,
        embodied_basis: Some("log".into()),
        market_co2e_kg: None,
        co2e_low_kg: None,
        co2e_high_kg: None,
        method: "measured".into(),
        country_iso: Some("FRA".into()),
        region: None,
        cloud_provider: Some("aws".into()),
        cloud_region: Some("eu-west-3".into()),
        cpu: Some("AMD EPYC 7R13".into()),
        gpu: Some("8 x NVIDIA A100".into()),
        gpu_count: Some(8.0),
        source: "logs/emissions.csv:2".into(),
        file_digest: "ab".repeat(32),
        repository: Some("acme/models".into()),
        commit: Some("abc123".into()),
    }
}

fn event(command: &str) -> CheckEvent {
    CheckEvent {
        time: "2027-01-15T12:00:00Z".into(),
        command: command.into(),
        repository: Some("acme/models".into()),
        commit: Some("abc123".into()),
        pull_request: Some(42),
        verdict: None,
        summary: None,
    }
}

/// `write` with a judge that reads nothing and an event without a verdict.
fn write(ledger: &mut Ledger, runs: &[StoredRun]) -> Written {
    ledger
        .write(runs, |_: &()| event("record"), |_| Ok(()))
        .unwrap()
        .1
}

fn sorted(mut runs: Vec<StoredRun>) -> Vec<StoredRun> {
    runs.sort_by(|a, b| (&a.at, &a.key).cmp(&(&b.at, &b.key)));
    runs
}

fn service(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Service(m)) => m,
        other => panic!("expected a service error, got {other:?}"),
    }
}

fn usage(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Usage(m)) => m,
        other => panic!("expected a usage error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

#[test]
fn the_same_runs_written_twice_are_the_same_rows() {
    for db in databases() {
        let mut ledger = db.open();
        let runs = vec![
            run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0),
            run("b", "text-gen", "2027-01-11T08:00:00Z", 2.0),
            run("c", "vision", "2027-02-01T00:00:00Z", 3.0),
        ];
        let first = write(&mut ledger, &runs);
        assert_eq!(
            (first.new, first.grew, first.same),
            (3, 0, 0),
            "{}",
            db.name()
        );
        let second = write(&mut ledger, &runs);
        assert_eq!(
            (second.new, second.grew, second.same),
            (0, 0, 3),
            "{}",
            db.name()
        );
        assert!(second.check_id > first.check_id);
        assert_eq!(ledger.runs(None, None).unwrap(), runs, "{}", db.name());
        // Bounds: from inclusive, to exclusive, on `at`.
        let january = ledger
            .runs(Some("2027-01-01T00:00:00Z"), Some("2027-02-01T00:00:00Z"))
            .unwrap();
        assert_eq!(january, runs[..2].to_vec(), "{}", db.name());
        let checks = ledger.checks().unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].0, first.check_id);
        assert_eq!(checks[0].1, event("record"));
        assert_eq!(checks[0].2, 3);
        assert_eq!(checks[1].2, 3);
        // A third copy of a run in one call is one run.
        let mut twice = runs.clone();
        twice.extend(runs.iter().cloned());
        let third = write(&mut ledger, &twice);
        assert_eq!((third.new, third.grew, third.same), (0, 0, 3));
        assert_eq!(ledger.checks().unwrap()[2].2, 3);
    }
}

#[test]
fn a_growing_flush_snapshot_grows_the_row_and_an_older_one_changes_nothing() {
    for db in databases() {
        let mut ledger = db.open();
        let early = run("flush", "text-gen", "2027-01-10T08:00:00Z", 1.0);
        let mut later = run("flush", "text-gen", "2027-01-10T09:00:00Z", 2.5);
        later.recorded_at = "2027-01-10T09:00:05Z".into();
        assert_eq!(write(&mut ledger, std::slice::from_ref(&early)).new, 1);
        let grown = write(&mut ledger, std::slice::from_ref(&later));
        assert_eq!(
            (grown.new, grown.grew, grown.same),
            (0, 1, 0),
            "{}",
            db.name()
        );
        let rows = ledger.runs(None, None).unwrap();
        assert_eq!(rows.len(), 1, "{}: updated, not added", db.name());
        let row = &rows[0];
        assert_eq!(row.duration_s, later.duration_s);
        assert_eq!(row.energy_kwh, later.energy_kwh);
        assert_eq!(row.co2e_kg, later.co2e_kg);
        assert_eq!(row.operational_co2e_kg, later.operational_co2e_kg);
        assert_eq!(row.ended_at, later.ended_at);
        // First recorded, and first judged, stay.
        assert_eq!(row.recorded_at, early.recorded_at);
        assert_eq!(row.at, early.at);
        let old = write(&mut ledger, std::slice::from_ref(&early));
        assert_eq!((old.new, old.grew, old.same), (0, 0, 1), "{}", db.name());
        assert_eq!(&ledger.runs(None, None).unwrap()[0], row);
    }
}

#[test]
fn the_judge_reads_the_ledger_before_the_write_under_its_lock_and_sets_the_verdict() {
    for db in databases() {
        let mut ledger = db.open();
        write(
            &mut ledger,
            &[run("old", "text-gen", "2027-01-02T00:00:00Z", 1.0)],
        );
        let new = [run("new", "text-gen", "2027-01-20T00:00:00Z", 4.0)];
        let (total, written) = ledger
            .write(
                &new,
                |total: &f64| CheckEvent {
                    verdict: Some(if *total > 0.3 { "fail" } else { "pass" }.into()),
                    summary: Some(format!("FAIL: {total} kg this month")),
                    ..event("check")
                },
                |reader| {
                    let month =
                        reader.runs_between("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z")?;
                    Ok(month.iter().map(|r| r.co2e_kg).sum::<f64>())
                },
            )
            .unwrap();
        // The judge reads the ledger as it was before this write (under its lock): the
        // earlier run only; what the write adds is the caller's to add.
        assert_eq!(total, 0.3125, "{}: the earlier run", db.name());
        assert_eq!(written.new, 1);
        let checks = ledger.checks().unwrap();
        let (id, last, linked) = checks.last().unwrap();
        assert_eq!(*id, written.check_id);
        assert_eq!(last.verdict.as_deref(), Some("fail"));
        assert_eq!(last.summary.as_deref(), Some("FAIL: 0.3125 kg this month"));
        assert_eq!(last.pull_request, Some(42));
        assert_eq!(*linked, 1);
    }
}

#[test]
fn a_judge_error_is_passed_through_and_nothing_is_written() {
    for db in databases() {
        let mut ledger = db.open();
        let stored = run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0);
        write(&mut ledger, std::slice::from_ref(&stored));
        let grown = run("a", "text-gen", "2027-01-10T08:00:00Z", 9.0);
        let new = run("b", "text-gen", "2027-01-11T08:00:00Z", 1.0);
        let result = ledger.write(
            &[grown, new],
            |_: &()| event("check"),
            |reader| {
                // The judge reads the ledger before the write…
                assert_eq!(reader.all_runs()?.len(), 1);
                Err(Error::Usage("the policy has no budget for text-gen".into()))
            },
        );
        assert_eq!(
            usage(result),
            "the policy has no budget for text-gen",
            "{}",
            db.name()
        );
        // …and it was rolled back.
        assert_eq!(
            ledger.runs(None, None).unwrap(),
            vec![stored],
            "{}",
            db.name()
        );
        assert_eq!(ledger.checks().unwrap().len(), 1);
        assert_eq!(db.count("SELECT COUNT(*) FROM check_runs"), 1);
    }
}

#[test]
fn a_large_check_is_read_and_written_in_batches() {
    // More than two batches of 500, and not a multiple of one.
    const RUNS: usize = 1234;
    for db in databases() {
        let mut ledger = db.open();
        let runs: Vec<StoredRun> = (0..RUNS)
            .map(|i| run(&format!("r{i:05}"), "text-gen", "2027-03-01T00:00:00Z", 1.0))
            .collect();
        let started = Instant::now();
        let first = write(&mut ledger, &runs);
        let elapsed = started.elapsed();
        assert_eq!(
            (first.new, first.grew, first.same),
            (RUNS, 0, 0),
            "{}",
            db.name()
        );
        // Every third run grew since.
        let later: Vec<StoredRun> = (0..RUNS)
            .map(|i| {
                let size = if i % 3 == 0 { 2.0 } else { 1.0 };
                run(
                    &format!("r{i:05}"),
                    "text-gen",
                    "2027-03-01T00:00:00Z",
                    size,
                )
            })
            .collect();
        let second = write(&mut ledger, &later);
        assert_eq!(
            (second.new, second.grew, second.same),
            (0, RUNS.div_ceil(3), RUNS - RUNS.div_ceil(3)),
            "{}",
            db.name()
        );
        assert_eq!(ledger.runs(None, None).unwrap(), later, "{}", db.name());
        assert_eq!(
            db.count("SELECT COUNT(*) FROM check_runs"),
            2 * RUNS as i64,
            "{}",
            db.name()
        );
        eprintln!("{}: {RUNS} new runs written in {elapsed:?}", db.name());
    }
}

/// Every figure the per-key max of the snapshots, whatever the writers' order: the expected
/// ledger is the snapshots of each key merged in memory.
#[test]
fn eight_concurrent_writers_of_overlapping_runs_leave_exact_totals() {
    const WRITERS: usize = 8;
    const KEYS: usize = 120;
    const BATCHES: usize = 6;
    for db in databases() {
        drop(db.open());
        // Writer w, batch b: keys overlapping with the other writers', with a snapshot size that
        // differs per writer and batch (some larger, some smaller than others').
        let snapshot = |w: usize, b: usize, k: usize| {
            let size = 1.0 + ((w * 7 + b * 13 + k * 3) % 17) as f64 / 7.0;
            let mut r = run(
                &format!("k{k:04}"),
                ["text-gen", "vision", "speech"][k % 3],
                &format!("2027-01-{:02}T{:02}:00:00Z", 1 + k % 28, k % 24),
                size,
            );
            r.market_co2e_kg = Some(0.1 * size + w as f64 * 1e-3);
            r
        };
        let batch = |w: usize, b: usize| -> Vec<StoredRun> {
            (0..KEYS)
                .filter(|k| !(k + w + b).is_multiple_of(3))
                .map(|k| snapshot(w, b, k))
                .collect()
        };
        let started = Instant::now();
        std::thread::scope(|s| {
            for w in 0..WRITERS {
                let db = &db;
                s.spawn(move || {
                    let mut ledger = db.open();
                    for b in 0..BATCHES {
                        write(&mut ledger, &batch(w, b));
                    }
                });
            }
        });
        let elapsed = started.elapsed();
        let mut expected: std::collections::BTreeMap<String, StoredRun> = Default::default();
        for w in 0..WRITERS {
            for b in 0..BATCHES {
                for r in batch(w, b) {
                    match expected.get_mut(&r.key) {
                        Some(e) => {
                            e.merge(&r);
                        }
                        None => {
                            expected.insert(r.key.clone(), r);
                        }
                    }
                }
            }
        }
        let mut ledger = db.open();
        let rows = ledger.runs(None, None).unwrap();
        let expected = sorted(expected.into_values().collect());
        assert_eq!(rows.len(), KEYS, "{}", db.name());
        assert_eq!(rows, expected, "{}: every row the per-key max", db.name());
        let sum = |runs: &[StoredRun]| runs.iter().map(|r| r.co2e_kg).sum::<f64>();
        let (got, want) = (sum(&rows), sum(&expected));
        assert!(((got - want) / want).abs() <= 1e-9, "{got} vs {want}");
        assert_eq!(
            ledger.checks().unwrap().len(),
            WRITERS * BATCHES,
            "{}",
            db.name()
        );
        eprintln!(
            "{}: {WRITERS} writers × {BATCHES} writes of ~{} runs each in {elapsed:?}",
            db.name(),
            KEYS * 2 / 3
        );
    }
}

#[test]
fn concurrent_first_opens_apply_each_migration_once() {
    for db in databases() {
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let mut ledger = db.open();
                    assert_eq!(ledger.schema_version().unwrap(), 2);
                });
            }
        });
        assert_eq!(
            db.count("SELECT COUNT(*) FROM carbon_gate_migrations"),
            2,
            "{}",
            db.name()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Failures.

#[test]
fn a_failure_mid_write_is_a_service_error_and_nothing_is_half_written() {
    for db in databases() {
        let mut ledger = db.open();
        let stored = run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0);
        write(&mut ledger, std::slice::from_ref(&stored));
        // The links are written last: a failure there comes after the runs and the event.
        db.execute(
            "CREATE TRIGGER poison AFTER INSERT ON check_runs WHEN NEW.run_key = 'codecarbon:poison' \
             BEGIN SELECT RAISE(ABORT, 'disk I/O failed (simulated)'); END;",
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.run_key = 'codecarbon:poison' THEN \
             RAISE EXCEPTION 'disk I/O failed (simulated)'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER poison AFTER INSERT ON check_runs FOR EACH ROW EXECUTE FUNCTION poison();",
        );
        let runs = [
            run("a", "text-gen", "2027-01-10T08:00:00Z", 5.0),
            run("b", "text-gen", "2027-01-11T08:00:00Z", 1.0),
            run("poison", "text-gen", "2027-01-12T08:00:00Z", 1.0),
        ];
        let message = service(ledger.write(&runs, |_: &()| event("check"), |_| Ok(())));
        assert!(message.contains("disk I/O failed (simulated)"), "{message}");
        assert!(message.starts_with("ledger "), "{message}");
        assert_eq!(
            ledger.runs(None, None).unwrap(),
            vec![stored.clone()],
            "{}",
            db.name()
        );
        assert_eq!(ledger.checks().unwrap().len(), 1);
        assert_eq!(db.count("SELECT COUNT(*) FROM check_runs"), 1);
    }
}

#[test]
fn a_postgres_connection_lost_mid_write_is_a_service_error_and_nothing_is_written() {
    let Some(admin) = postgres_admin() else {
        return;
    };
    let db = Db::postgres(&admin);
    let mut ledger = db.open();
    let stored = run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0);
    write(&mut ledger, std::slice::from_ref(&stored));
    let (_, database) = db.postgres.clone().unwrap();
    let runs = [
        run("a", "text-gen", "2027-01-10T08:00:00Z", 5.0),
        run("b", "text-gen", "2027-01-11T08:00:00Z", 1.0),
    ];
    let result = ledger.write(
        &runs,
        |_: &()| event("check"),
        |_| {
            // The runs are written, the transaction open: the server ends the session.
            let mut other = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            let ended = other
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND application_name = 'carbon-gate'",
                    &[&database],
                )
                .unwrap();
            assert_eq!(ended.len(), 1);
            Ok(())
        },
    );
    let message = service(result);
    assert!(
        message.starts_with(&format!("ledger {}", db.target.display())),
        "{message}"
    );
    // The session is gone for good: a new one sees what was there before, and only that.
    assert!(matches!(ledger.runs(None, None), Err(Error::Service(_))));
    let mut fresh = db.open();
    assert_eq!(fresh.runs(None, None).unwrap(), vec![stored]);
    assert_eq!(fresh.checks().unwrap().len(), 1);
}

#[test]
fn a_lock_held_beyond_the_timeout_is_a_service_error() {
    for db in databases() {
        let mut ledger = db.open();
        ledger.set_timeout(Duration::from_millis(300)).unwrap();
        let runs = [run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0)];
        let started = Instant::now();
        let message = match &db.target {
            Target::Sqlite(path) => {
                let other = rusqlite::Connection::open(path).unwrap();
                other.execute_batch("BEGIN IMMEDIATE").unwrap();
                let m = service(ledger.write(&runs, |_: &()| event("check"), |_| Ok(())));
                other.execute_batch("ROLLBACK").unwrap();
                m
            }
            Target::Postgres(url) => {
                let mut other = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let mut tx = other.transaction().unwrap();
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
                    .unwrap();
                let m = service(ledger.write(&runs, |_: &()| event("check"), |_| Ok(())));
                tx.rollback().unwrap();
                m
            }
            Target::History(_) => unreachable!(),
        };
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(
            message.contains("locked") || message.contains("timeout"),
            "{}: {message}",
            db.name()
        );
        // Once the lock is free, the same write goes through.
        assert_eq!(write(&mut ledger, &runs).new, 1, "{}", db.name());
    }
}

#[test]
fn bad_urls_are_usage_errors_and_no_message_shows_a_password() {
    for bad in [
        "mysql://root:hunter2hunter2@db/ledger",
        "sqlite:",
        "postgres://gate:hunter2hunter2@db:port/ledger",
        "postgresql://gate:hunter2hunter2@db/ledger?sslmode=prefer",
        "sqlite:ledger\0.db",
        "ledger\u{1b}[31m.jsonl",
    ] {
        let m = usage(Target::parse(bad));
        assert!(m.contains("sqlite:PATH"), "{bad}: {m}");
        assert!(!m.contains("hunter2"), "{bad}: {m}");
    }
    // A server that is not there: exit 3, the URL redacted.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://gate:hunter2hunter2@127.0.0.1:{closed}/ledger?connect_timeout=5");
    let target = Target::parse(&url).unwrap();
    assert!(!format!("{target:?} {target}").contains("hunter2"));
    let m = service(Ledger::open(&target));
    assert!(
        m.starts_with(&format!(
            "ledger postgres://gate:***@127.0.0.1:{closed}/ledger?connect_timeout=5: cannot connect"
        )),
        "{m}"
    );
    assert!(!m.contains("hunter2"), "{m}");
    // A database that does not exist, on a real server, with the password as a parameter.
    if let Some(admin) = postgres_admin() {
        let url = format!(
            "{}?password=hunter2hunter2",
            with_database(&admin, "no_such_database")
        );
        let m = service(Ledger::open(&Target::parse(&url).unwrap()));
        assert!(m.contains("password=***"), "{m}");
        assert!(m.contains("no_such_database"), "{m}");
        assert!(!m.contains("hunter2"), "{m}");
    }
    // A history file is no database.
    let m = usage(Ledger::open(&Target::parse("ledger.jsonl").unwrap()));
    assert!(m.contains("history file"), "{m}");
}

#[test]
fn a_file_that_is_no_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), "notes.txt", &"not a database\n".repeat(200));
    let m = usage(Ledger::open(&Target::Sqlite(path.clone())));
    assert!(m.contains("not an SQLite database"), "{m}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "not a database\n".repeat(200)
    );
    let m = usage(Ledger::open(&Target::Sqlite(
        dir.path().join("missing/ledger.db"),
    )));
    assert!(m.contains("does not exist"), "{m}");
}

#[cfg(unix)]
#[test]
fn the_ledger_is_never_written_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let victim = common::write(dir.path(), "victim.db", "");
    std::os::unix::fs::symlink(&victim, dir.path().join("ledger.db")).unwrap();
    let m = usage(Ledger::open(&Target::Sqlite(dir.path().join("ledger.db"))));
    assert!(m.contains("symbolic link"), "{m}");
    // A parent that is a link.
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("linked")).unwrap();
    let m = usage(Ledger::open(&Target::Sqlite(
        dir.path().join("linked/ledger.db"),
    )));
    assert!(m.contains("linked") && m.contains("symbolic link"), "{m}");
    // A journal that is a link.
    std::os::unix::fs::symlink(&victim, dir.path().join("real/ledger.db-wal")).unwrap();
    let m = usage(Ledger::open(&Target::Sqlite(
        dir.path().join("real/ledger.db"),
    )));
    assert!(m.contains("ledger.db-wal"), "{m}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"");
    assert!(!dir.path().join("real/ledger.db").exists());
}

// ---------------------------------------------------------------------------------------------
// Schema.

#[test]
fn a_ledger_at_schema_1_is_migrated_to_2_and_keeps_its_rows() {
    let kept = run("kept", "text-gen", "2026-12-31T23:59:59Z", 2.0);
    for db in databases() {
        // Schema 1 by hand, from the embedded text, with a run, a check and its link.
        let columns = "key, format, run_id, model, version, phase, ended_at, recorded_at, at, \
             duration_s, energy_kwh, co2e_kg, operational_co2e_kg, embodied_co2e_kg, \
             embodied_basis, market_co2e_kg, co2e_low_kg, co2e_high_kg, method, country_iso, \
             region, cloud_provider, cloud_region, cpu, gpu, gpu_count, source, file_digest, \
             repository, \"commit\"";
        let r = &kept;
        let q = |s: &Option<String>| s.as_ref().map_or("NULL".into(), |s| format!("'{s}'"));
        let f = |x: Option<f64>| x.map_or("NULL".into(), |x| format!("{x:e}"));
        let values = format!(
            "'{}', '{}', '{}', '{}', {}, {}, {}, '{}', '{}', {}, {}, {:e}, {:e}, {:e}, {}, {}, \
             {}, {}, '{}', {}, {}, {}, {}, {}, {}, {}, '{}', '{}', {}, {}",
            r.key,
            r.format,
            r.run_id,
            r.model,
            q(&r.version),
            q(&r.phase),
            q(&r.ended_at),
            r.recorded_at,
            r.at,
            f(r.duration_s),
            f(r.energy_kwh),
            r.co2e_kg,
            r.operational_co2e_kg,
            r.embodied_co2e_kg,
            q(&r.embodied_basis),
            f(r.market_co2e_kg),
            f(r.co2e_low_kg),
            f(r.co2e_high_kg),
            r.method,
            q(&r.country_iso),
            q(&r.region),
            q(&r.cloud_provider),
            q(&r.cloud_region),
            q(&r.cpu),
            q(&r.gpu),
            f(r.gpu_count),
            r.source,
            r.file_digest,
            q(&r.repository),
            q(&r.commit),
        );
        let rows = format!(
            "CREATE TABLE carbon_gate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT \
             NULL, applied_at TEXT NOT NULL); \
             INSERT INTO carbon_gate_migrations VALUES (1, 'runs_and_checks', \
             '2026-12-01T00:00:00Z'); \
             INSERT INTO runs ({columns}) VALUES ({values}); \
             INSERT INTO checks (time, command, verdict) VALUES ('2026-12-31T23:59:59Z', 'check', \
             'pass'); \
             INSERT INTO check_runs (check_id, run_key) VALUES (1, '{}');",
            r.key
        );
        db.execute(
            &format!("{}\n{rows}", MIGRATIONS[0].sqlite),
            &format!("{}\n{rows}", MIGRATIONS[0].postgres),
        );
        let mut ledger = db.open();
        assert_eq!(
            ledger.migrated_on_open(),
            [(2, "indexes_and_views".to_owned())],
            "{}",
            db.name()
        );
        assert_eq!(ledger.schema_version().unwrap(), 2);
        assert!(ledger.migrate().unwrap().is_empty());
        assert_eq!(
            ledger.runs(None, None).unwrap(),
            vec![kept.clone()],
            "{}",
            db.name()
        );
        let checks = ledger.checks().unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].1.verdict.as_deref(), Some("pass"));
        assert_eq!(checks[0].2, 1);
        // Schema 2's view over the kept row and a new one.
        write(
            &mut ledger,
            &[run("new", "text-gen", "2026-12-01T00:00:00Z", 1.0)],
        );
        assert_eq!(
            db.count(
                "SELECT runs FROM runs_by_month WHERE model = 'text-gen' AND month = '2026-12'"
            ),
            2
        );
        // The ids continue after the hand-made check.
        assert_eq!(ledger.checks().unwrap()[1].0, 2, "{}", db.name());
    }
}

#[test]
fn a_ledger_newer_than_this_carbon_gate_is_refused_and_left_alone() {
    for db in databases() {
        drop(db.open());
        db.execute(
            "INSERT INTO carbon_gate_migrations VALUES (99, 'future', '2030-01-01T00:00:00Z')",
            "INSERT INTO carbon_gate_migrations VALUES (99, 'future', '2030-01-01T00:00:00Z')",
        );
        let m = usage(Ledger::open(&db.target));
        assert!(
            m.starts_with(
                "ledger schema 99 is newer than this carbon-gate (max 2): upgrade carbon-gate"
            ),
            "{}: {m}",
            db.name()
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM carbon_gate_migrations"), 3);
    }
}

#[test]
fn the_monthly_view_sums_per_model_and_month() {
    for db in databases() {
        let mut ledger = db.open();
        write(
            &mut ledger,
            &[
                run("a", "text-gen", "2027-01-10T08:00:00Z", 1.0),
                run("b", "text-gen", "2027-01-31T23:59:59Z", 2.0),
                run("c", "text-gen", "2027-02-01T00:00:00Z", 4.0),
                run("d", "vision", "2027-01-15T00:00:00Z", 8.0),
            ],
        );
        assert_eq!(
            db.count(
                "SELECT runs FROM runs_by_month WHERE model = 'text-gen' AND month = '2027-01'"
            ),
            2
        );
        // 0.3125 kg per unit of size: sizes 1 + 2 = 3 units; exact in binary.
        let co2e = match &db.target {
            Target::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row(
                    "SELECT co2e_kg FROM runs_by_month WHERE model = 'text-gen' AND month = '2027-01'",
                    [],
                    |r| r.get::<_, f64>(0),
                )
                .unwrap(),
            Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query_one(
                    "SELECT co2e_kg FROM runs_by_month WHERE model = 'text-gen' AND month = '2027-01'",
                    &[],
                )
                .unwrap()
                .get::<_, f64>(0),
            Target::History(_) => unreachable!(),
        };
        assert_eq!(co2e, 0.9375, "{}", db.name());
        assert_eq!(db.count("SELECT COUNT(*) FROM runs_by_month"), 3);
    }
}

// ---------------------------------------------------------------------------------------------
// History import.

#[test]
fn a_history_file_is_imported_per_model_version_with_exact_totals() {
    let dir = tempfile::tempdir().unwrap();
    // Real lines: two `check` runs of the same change (candidate and alternative each).
    let history = dir.path().join("ledger.jsonl");
    for _ in 0..2 {
        let (code, _, stderr) = common::run(&[
            "check",
            "--config",
            "tests/fixtures/reports/three-rows/carbon-gate.yaml",
            "--today",
            "2026-11-28",
            "--ledger",
            history.to_str().unwrap(),
            "--commit",
            "abc123",
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    // And a later, larger line for one of the versions, by hand.
    let text = std::fs::read_to_string(&history).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let mut bigger = lines[0].clone();
    bigger["time"] = "2027-01-05T10:00:00.123456Z".into();
    bigger["verdict"] = "fail".into();
    let co2e = common::num(&lines[0]["totals"]["co2e_kg"]) * 3.0;
    bigger["totals"]["co2e_kg"] = co2e.into();
    bigger["totals"]["operational_co2e_kg"] = co2e.into();
    bigger["totals"]["embodied_co2e_kg"] = 0.0.into();
    std::fs::write(&history, format!("{text}\n{bigger}\n")).unwrap();

    let (runs, events) = carbon_gate::store::history_runs(&history).unwrap();
    assert_eq!(events.len(), 5);
    assert!(events.iter().all(|e| e.command == "check"));
    assert_eq!(events[4].verdict.as_deref(), Some("fail"));
    assert_eq!(events[4].time, "2027-01-05T10:00:00Z");
    assert_eq!(events[0].commit.as_deref(), Some("abc123"));
    assert_eq!(runs.len(), 2, "one run per model version");
    for (run, line) in runs.iter().zip(&lines) {
        let version = line["version"].as_str();
        let model = line["model"].as_str().unwrap();
        assert_eq!(run.model, model);
        assert_eq!(run.version.as_deref(), version);
        assert_eq!(run.key, carbon_gate::store::history_key(model, version));
        assert_eq!(run.format, "history");
        assert_eq!(
            run.energy_kwh,
            Some(common::num(&line["totals"]["energy_kwh"]))
        );
        assert_eq!(
            run.duration_s,
            Some(common::num(&line["totals"]["duration_s"]))
        );
        assert_eq!(run.commit.as_deref(), Some("abc123"));
        assert!(run.source.ends_with("ledger.jsonl:1") || run.source.ends_with("ledger.jsonl:2"));
        let time = line["time"].as_str().unwrap();
        assert_eq!(run.at, format!("{}Z", &time[..19]));
    }
    // The first version's figures are the larger line's; the second's its own.
    assert_eq!(runs[0].co2e_kg, co2e);
    assert_eq!(runs[0].co2e_kg, 62.0 * 3.0);
    assert_eq!(runs[1].co2e_kg, common::num(&lines[1]["totals"]["co2e_kg"]));
    let expected_total = co2e + common::num(&lines[1]["totals"]["co2e_kg"]);

    let history_read = carbon_gate::store::read_history(&history).unwrap();
    for db in databases() {
        let mut ledger = db.open();
        let written = ledger
            .import(&history_read.runs, &history_read.checks)
            .unwrap();
        assert_eq!((written.new, written.grew, written.same), (2, 0, 0));
        let stored = ledger.runs(None, None).unwrap();
        assert_eq!(sorted(runs.clone()), stored, "{}", db.name());
        assert_eq!(
            stored.iter().map(|r| r.co2e_kg).sum::<f64>(),
            expected_total
        );
        let checks = ledger.checks().unwrap();
        assert_eq!(checks.len(), 5);
        assert!(checks.iter().all(|(_, _, linked)| *linked == 1));
        // Importing again changes no run.
        let again = ledger
            .import(&history_read.runs, &history_read.checks)
            .unwrap();
        assert_eq!((again.new, again.grew, again.same), (0, 0, 2));
    }
}

#[test]
fn a_bad_history_line_is_an_input_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"time":"2027-01-05T10:00:00Z","commit":null,"model":"m","version":"1","role":"candidate","verdict":"pass","totals":{"energy_kwh":1.0,"co2e_kg":0.5}}"#;
    for (bad, expect) in [
        ("not json", "expected a history line"),
        (
            r#"{"time":"2027-01-05T10:00:00Z","model":"m"}"#,
            "missing field `totals`",
        ),
        (
            r#"{"time":"yesterday","model":"m","verdict":"pass","totals":{"energy_kwh":1,"co2e_kg":1}}"#,
            "not an RFC 3339 time",
        ),
        (
            r#"{"time":"2027-01-05T10:00:00Z","model":"m","verdict":"ok","totals":{"energy_kwh":1,"co2e_kg":1}}"#,
            "expected pass, warn or fail",
        ),
        (
            r#"{"time":"2027-01-05T10:00:00Z","model":"m","verdict":"pass","totals":{"energy_kwh":-1,"co2e_kg":1}}"#,
            "totals.energy_kwh is -1",
        ),
    ] {
        let path = common::write(dir.path(), "h.jsonl", &format!("{good}\n\n{bad}\n"));
        match carbon_gate::store::history_runs(&path) {
            Err(Error::Input(p)) => {
                let text = p.to_string();
                assert!(text.contains("h.jsonl:3: "), "{text}");
                assert!(text.contains(expect), "{bad}: {text}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let (runs, events) =
        carbon_gate::store::history_runs(&common::write(dir.path(), "ok.jsonl", good)).unwrap();
    assert_eq!((runs.len(), events.len()), (1, 1));
    // The operational part of a line without one is the total less the embodied part.
    assert_eq!(runs[0].operational_co2e_kg, 0.5);
    assert_eq!(runs[0].method, "measured");
}

// ---------------------------------------------------------------------------------------------
// TLS.

/// The PostgreSQL server's URL and the CA its TLS certificate is signed by, or `None` (outside
/// CI) when there is no server or it speaks no TLS.
fn postgres_tls() -> Option<(String, std::path::PathBuf)> {
    let admin = postgres_admin()?;
    match std::env::var("CARBON_GATE_TEST_POSTGRES_CA") {
        Ok(ca) if !ca.is_empty() => Some((admin, ca.into())),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CARBON_GATE_TEST_POSTGRES_CA is not set, and CI is: .ci/postgres.sh sets it when \
             the openssl CLI is there to make the server's certificate"
        ),
        _ => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "note: CARBON_GATE_TEST_POSTGRES_CA is not set: the TLS ledger tests are skipped"
            );
            None
        }
    }
}

/// `url` with `param` added to its query.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// `url` with its host (`127.0.0.1`) replaced by `host`.
fn with_host(url: &str, host: &str) -> String {
    url.replacen("@127.0.0.1:", &format!("@{host}:"), 1)
}

/// Whether the server sees carbon-gate's session on `database` through TLS.
fn session_is_tls(admin: &str, database: &str) -> bool {
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    let rows = client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1 AND a.application_name = 'carbon-gate'",
            &[&database],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "one carbon-gate session on {database}");
    rows[0].get(0)
}

#[test]
fn a_ledger_over_tls_verified_by_the_named_ca_writes_and_reads() {
    let Some((admin, ca)) = postgres_tls() else {
        return;
    };
    let db = Db::postgres(&admin);
    let (_, database) = db.postgres.clone().unwrap();
    let plain = db.target.display();
    let tls = Tls {
        extra_roots: Some(ca.clone()),
    };
    for (mode, host) in [
        ("require", "127.0.0.1"),
        ("verify-full", "localhost"),
        ("verify-ca", "127.0.0.1"),
    ] {
        let url = with_param(&with_host(&plain, host), &format!("sslmode={mode}"));
        let target = Target::parse(&url).unwrap();
        let mut ledger = Ledger::open_with(&target, &tls).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(session_is_tls(&admin, &database), "{url}");
        let stored = run(mode, "text-gen", "2027-01-10T08:00:00Z", 1.0);
        assert_eq!(write(&mut ledger, std::slice::from_ref(&stored)).new, 1);
        assert!(ledger.runs(None, None).unwrap().contains(&stored), "{url}");
    }
    // The CA named in the URL (`sslrootcert`) rather than given by the caller.
    let url = with_param(
        &plain,
        &format!("sslmode=require&sslrootcert={}", ca.display()),
    );
    let mut ledger = Ledger::open_with(&Target::parse(&url).unwrap(), &Tls::default()).unwrap();
    assert!(session_is_tls(&admin, &database));
    assert_eq!(ledger.runs(None, None).unwrap().len(), 3);
    drop(ledger);
    // Without sslmode, no TLS (as before), on the same server.
    let _ledger = Ledger::open_with(&db.target, &tls).unwrap();
    assert!(!session_is_tls(&admin, &database));
}

#[test]
fn a_certificate_that_does_not_verify_or_is_for_another_name_is_a_service_error() {
    let Some((admin, ca)) = postgres_tls() else {
        return;
    };
    let db = Db::postgres(&admin);
    let plain = db.target.display();
    // The platform's roots only: the test CA is none of them.
    let url = format!(
        "{}&password=hunter2hunter2",
        with_param(&plain, "sslmode=require")
    );
    let m = service(Ledger::open_with(
        &Target::parse(&url).unwrap(),
        &Tls::default(),
    ));
    assert!(m.contains("certificate"), "{m}");
    assert!(m.contains("CARBON_GATE_LEDGER_CA"), "{m}");
    assert!(m.contains("password=***") && !m.contains("hunter2"), "{m}");
    // The right CA, the wrong name: the certificate is for localhost and 127.0.0.1.
    let tls = Tls {
        extra_roots: Some(ca),
    };
    let url = with_param(
        &with_host(&plain, "ledger.invalid"),
        "hostaddr=127.0.0.1&sslmode=verify-full",
    );
    let m = service(Ledger::open_with(&Target::parse(&url).unwrap(), &tls));
    assert!(m.contains("certificate"), "{m}");
    assert!(m.contains("not for the host name"), "{m}");
    assert!(m.contains("ledger.invalid"), "{m}");
    // A CA file that is no PEM file, or not there: the user's to fix.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("ca.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let target = Target::parse(&with_param(&plain, "sslmode=require")).unwrap();
    for path in [junk, dir.path().join("missing.pem")] {
        let m = usage(Ledger::open_with(
            &target,
            &Tls {
                extra_roots: Some(path.clone()),
            },
        ));
        assert!(m.contains(&path.display().to_string()), "{m}");
    }
}

#[test]
fn the_binary_reads_the_ca_from_carbon_gate_ledger_ca() {
    let Some((admin, ca)) = postgres_tls() else {
        return;
    };
    let db = Db::postgres(&admin);
    let url = with_param(&db.target.display(), "sslmode=require");
    let out = common::bin()
        .args(["ledger", "migrate", "--ledger", &url])
        .env("CARBON_GATE_LEDGER_CA", &ca)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let out = common::bin()
        .args(["ledger", "migrate", "--ledger", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[test]
fn a_server_without_tls_is_refused_when_tls_is_asked_for_and_prefer_is_a_usage_error() {
    // A server that answers "no TLS" to the TLS request, and records what it is sent after.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = [0u8; 8];
        stream.read_exact(&mut request).unwrap();
        stream.write_all(b"N").unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        (request, rest)
    });
    let url = format!(
        "postgres://gate:hunter2hunter2@127.0.0.1:{port}/ledger?sslmode=require&connect_timeout=5"
    );
    let m = service(Ledger::open_with(
        &Target::parse(&url).unwrap(),
        &Tls::default(),
    ));
    assert!(m.contains("does not support TLS"), "{m}");
    assert!(!m.contains("hunter2"), "{m}");
    let (request, rest) = server.join().unwrap();
    // SSLRequest: length 8, code 80877103; nothing after it, the password least of all.
    assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47]);
    assert!(rest.is_empty(), "sent in clear text: {rest:?}");
    for weak in ["prefer", "allow"] {
        let url = format!("postgres://gate:hunter2hunter2@127.0.0.1:{port}/l?sslmode={weak}");
        let m = usage(Target::parse(&url));
        assert!(m.contains("sslmode=require"), "{m}");
        assert!(!m.contains("hunter2"), "{m}");
    }
}
