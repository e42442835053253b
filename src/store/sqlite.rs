//! The ledger in an SQLite file: opened without following links, WAL journal, busy timeout;
//! writers serialised by `BEGIN IMMEDIATE`.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use super::schema::{self, Cells, MIGRATIONS, Migration, run_values};
use super::{CheckEvent, Context, DEFAULT_TIMEOUT, Fail, Session, StoredRun};
use crate::error::{Error, display_path};

/// `?1`, `?2`, …
fn placeholder(i: usize) -> String {
    format!("?{i}")
}

/// Whether `path` is a symbolic link (one that cannot be looked at is not).
fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Open (creating) the database file at `path`.
pub(super) fn open(path: &Path) -> Result<Connection, Fail> {
    let shown = display_path(path);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let refuse_link = |link: &Path| {
        Fail::usage(format!(
            "`{}` is a symbolic link, and the ledger is never written through a link (name \
             the file itself, in a directory that is no link)",
            display_path(link)
        ))
    };
    if is_link(parent) {
        return Err(refuse_link(parent));
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        if is_link(file) {
            return Err(refuse_link(file));
        }
    }
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(Fail::usage(format!(
                "the directory of `{shown}` does not exist: create it first"
            )));
        }
    }
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
    {
        return Err(Fail::usage(format!("`{shown}` is not a regular file")));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection =
        Connection::open_with_flags(path, flags).map_err(|e| classify("cannot open", &e))?;
    connection
        .busy_timeout(DEFAULT_TIMEOUT)
        .map_err(|e| classify("cannot set the busy timeout", &e))?;
    // A file that is no database fails here, at its first read. Switching a new file to WAL
    // needs its exclusive lock, and SQLite answers "locked" at once (without the busy handler)
    // while another process creates or switches it: wait for it as the busy timeout would.
    let deadline = std::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(classify("cannot switch to the WAL journal", &e)),
        }
    }
    connection
        .execute_batch("PRAGMA foreign_keys = ON")
        .map_err(|e| classify("cannot enable foreign keys", &e))?;
    Ok(connection)
}

/// A failure: the user's when the file is no database, else the database's.
fn classify(what: &str, err: &rusqlite::Error) -> Fail {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Fail::usage(format!(
            "{what}: the file is not an SQLite database (name a new file, or the ledger's)"
        )),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Fail::text(format!(
            "{what}: {err} (another writer held the ledger longer than the timeout)"
        )),
        // rusqlite's message already says what its source does ("Error code 5: …").
        _ => Fail::text(format!("{what}: {err}")),
    }
}

/// The schema version recorded in the database (0 when none).
pub(super) fn schema_version(c: &Connection) -> Result<u32, Fail> {
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'carbon_gate_migrations')",
            [],
            |row| row.get(0),
        )
        .map_err(|e| classify("cannot read the schema version", &e))?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i64> = c
        .query_row(
            "SELECT MAX(version) FROM carbon_gate_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(|e| classify("cannot read the schema version", &e))?;
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// Apply the next pending migration, if any, in its own `BEGIN IMMEDIATE` transaction.
pub(super) fn migrate_one(c: &mut Connection) -> Result<Option<Migration>, Fail> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| classify("cannot start the migration", &e))?;
    tx.execute_batch(schema::MIGRATIONS_TABLE)
        .map_err(|e| classify("cannot create carbon_gate_migrations", &e))?;
    let current = schema_version(&tx)?;
    super::check_not_newer(current)?;
    let Some(next) = MIGRATIONS.iter().find(|m| m.version > current) else {
        tx.commit().map_err(|e| classify("cannot commit", &e))?;
        return Ok(None);
    };
    let what = format!("migration {:04}_{}", next.version, next.name);
    tx.execute_batch(next.sqlite)
        .map_err(|e| classify(&what, &e))?;
    tx.execute(
        "INSERT INTO carbon_gate_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![next.version, next.name, super::now()],
    )
    .map_err(|e| classify(&what, &e))?;
    tx.commit().map_err(|e| classify(&what, &e))?;
    Ok(Some(*next))
}

/// Run `body` in a write transaction (`BEGIN IMMEDIATE`: the write lock, waited for up to the
/// busy timeout) and commit it; rolled back when anything fails.
pub(super) fn in_write<R>(
    c: &mut Connection,
    context: &Context,
    body: impl FnOnce(&mut (dyn Session + '_)) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| context.error(classify("cannot start the write", &e)))?;
    let out = body(&mut tx)?;
    tx.commit()
        .map_err(|e| context.error(classify("cannot commit the write", &e)))?;
    Ok(out)
}

/// Run `body` in a read transaction (one snapshot).
pub(super) fn in_read<R>(
    c: &mut Connection,
    context: &Context,
    body: impl FnOnce(&mut (dyn Session + '_)) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut tx = c
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| context.error(classify("cannot start reading", &e)))?;
    let out = body(&mut tx)?;
    tx.commit()
        .map_err(|e| context.error(classify("cannot end reading", &e)))?;
    Ok(out)
}

/// Every check event with the number of runs linked to it.
pub(super) fn checks(c: &Connection) -> Result<Vec<(i64, CheckEvent, usize)>, Fail> {
    let what = "cannot read the checks";
    let sql = format!(
        "SELECT id, {}, (SELECT COUNT(*) FROM check_runs r WHERE r.check_id = c.id) \
         FROM checks c ORDER BY id",
        schema::CHECK_COLUMNS
    );
    let mut statement = c.prepare(&sql).map_err(|e| classify(what, &e))?;
    let mut rows = statement.query([]).map_err(|e| classify(what, &e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| classify(what, &e))? {
        let id: i64 = row.get(0).map_err(|e| classify(what, &e))?;
        let linked: i64 = row.get(8).map_err(|e| classify(what, &e))?;
        let event =
            schema::check_from(&SqliteRow(row)).map_err(|m| Fail::text(format!("{what}: {m}")))?;
        out.push((id, event, usize::try_from(linked).unwrap_or(0)));
    }
    Ok(out)
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl Cells for SqliteRow<'_, '_> {
    fn text(&self, i: usize) -> Result<String, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn real(&self, i: usize) -> Result<f64, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
}

/// The runs a query returns.
fn query_runs(
    c: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    what: &str,
) -> Result<Vec<StoredRun>, Fail> {
    let mut statement = c.prepare_cached(sql).map_err(|e| classify(what, &e))?;
    let mut rows = statement.query(params).map_err(|e| classify(what, &e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| classify(what, &e))? {
        out.push(
            schema::run_from(&SqliteRow(row)).map_err(|m| Fail::text(format!("{what}: {m}")))?,
        );
    }
    Ok(out)
}

impl Session for Transaction<'_> {
    fn runs_by_keys(&mut self, keys: &[&str]) -> Result<Vec<StoredRun>, Fail> {
        let marks: Vec<String> = (1..=keys.len()).map(placeholder).collect();
        let sql = format!(
            "SELECT {} FROM runs WHERE key IN ({})",
            schema::run_select(),
            marks.join(", ")
        );
        let params: Vec<&dyn rusqlite::ToSql> =
            keys.iter().map(|k| k as &dyn rusqlite::ToSql).collect();
        query_runs(self, &sql, &params, "cannot read the stored runs")
    }

    fn upsert(&mut self, runs: &[&StoredRun]) -> Result<(), Fail> {
        // One prepared statement, run per row: in-process, a row costs microseconds.
        let what = "cannot store a run";
        let mut statement = self
            .prepare_cached(&schema::run_upsert(placeholder, 1))
            .map_err(|e| classify(what, &e))?;
        for run in runs {
            let values: [&dyn rusqlite::ToSql; 30] = run_values!(run);
            statement
                .execute(&values[..])
                .map_err(|e| classify(what, &e))?;
        }
        Ok(())
    }

    fn insert_check(&mut self, event: &CheckEvent) -> Result<i64, Fail> {
        let what = "cannot record the check";
        let pull_request = event.pull_request.and_then(|n| i64::try_from(n).ok());
        self.query_row(
            &format!(
                "INSERT INTO checks ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                schema::CHECK_COLUMNS
            ),
            rusqlite::params![
                event.time,
                event.command,
                event.repository,
                event.commit,
                pull_request,
                event.verdict,
                event.summary
            ],
            |row| row.get(0),
        )
        .map_err(|e| classify(what, &e))
    }

    fn link(&mut self, check_id: i64, keys: &[&str]) -> Result<(), Fail> {
        let what = "cannot link the check to its runs";
        let mut statement = self
            .prepare_cached("INSERT INTO check_runs (check_id, run_key) VALUES (?1, ?2)")
            .map_err(|e| classify(what, &e))?;
        for key in keys {
            statement
                .execute(rusqlite::params![check_id, key])
                .map_err(|e| classify(what, &e))?;
        }
        Ok(())
    }

    fn runs_between(
        &mut self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<StoredRun>, Fail> {
        let sql = format!(
            "SELECT {} FROM runs WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) \
             ORDER BY at, key",
            schema::run_select()
        );
        query_runs(self, &sql, &[&from, &to], "cannot read the runs")
    }
}
