//! The ledger's tables: the migrations that build them (one SQL file per migration and dialect,
//! under `src/store/migrations/`), the columns of `runs` in the order every statement uses, and
//! how a row becomes a [`StoredRun`] or [`CheckEvent`] again.

use super::run::{CheckEvent, StoredRun};

/// One step of the schema, in both dialects.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version it brings the database to (1, 2, …).
    pub version: u32,
    /// Its name (the file name without the number and `.sql`).
    pub name: &'static str,
    /// Its SQL for SQLite.
    pub sqlite: &'static str,
    /// Its SQL for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration, oldest first. A database at version N has had the first N applied.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs_and_checks",
        sqlite: include_str!("migrations/sqlite/0001_runs_and_checks.sql"),
        postgres: include_str!("migrations/postgres/0001_runs_and_checks.sql"),
    },
    Migration {
        version: 2,
        name: "indexes_and_views",
        sqlite: include_str!("migrations/sqlite/0002_indexes_and_views.sql"),
        postgres: include_str!("migrations/postgres/0002_indexes_and_views.sql"),
    },
];

/// The newest schema this carbon-gate knows.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The table that records the applied migrations (same in both dialects).
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS carbon_gate_migrations (\
     version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// The columns of `runs`, in the order of [`StoredRun`]'s fields (`commit` quoted: a keyword).
pub const RUN_COLUMNS: [&str; 30] = [
    "key",
    "format",
    "run_id",
    "model",
    "version",
    "phase",
    "ended_at",
    "recorded_at",
    "at",
    "duration_s",
    "energy_kwh",
    "co2e_kg",
    "operational_co2e_kg",
    "embodied_co2e_kg",
    "embodied_basis",
    "market_co2e_kg",
    "co2e_low_kg",
    "co2e_high_kg",
    "method",
    "country_iso",
    "region",
    "cloud_provider",
    "cloud_region",
    "cpu",
    "gpu",
    "gpu_count",
    "source",
    "file_digest",
    "repository",
    "\"commit\"",
];

/// The values of a run in [`RUN_COLUMNS`] order, as an array of references the caller types
/// (`[&dyn rusqlite::ToSql; 30]` or `[&(dyn postgres::types::ToSql + Sync); 30]`).
macro_rules! run_values {
    ($r:expr) => {
        [
            &$r.key,
            &$r.format,
            &$r.run_id,
            &$r.model,
            &$r.version,
            &$r.phase,
            &$r.ended_at,
            &$r.recorded_at,
            &$r.at,
            &$r.duration_s,
            &$r.energy_kwh,
            &$r.co2e_kg,
            &$r.operational_co2e_kg,
            &$r.embodied_co2e_kg,
            &$r.embodied_basis,
            &$r.market_co2e_kg,
            &$r.co2e_low_kg,
            &$r.co2e_high_kg,
            &$r.method,
            &$r.country_iso,
            &$r.region,
            &$r.cloud_provider,
            &$r.cloud_region,
            &$r.cpu,
            &$r.gpu,
            &$r.gpu_count,
            &$r.source,
            &$r.file_digest,
            &$r.repository,
            &$r.commit,
        ]
    };
}
pub(crate) use run_values;

/// `SELECT` list of `runs`.
pub fn run_select() -> String {
    RUN_COLUMNS.join(", ")
}

/// The upsert of `rows` merged runs (distinct keys), with placeholders written by
/// `placeholder(1..=30 × rows)`: a new key is inserted, a stored one takes every column of the
/// merged row.
pub fn run_upsert(placeholder: fn(usize) -> String, rows: usize) -> String {
    let width = RUN_COLUMNS.len();
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let marks: Vec<String> = (1..=width).map(|i| placeholder(row * width + i)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let updates: Vec<String> = RUN_COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO runs ({}) VALUES {} ON CONFLICT (key) DO UPDATE SET {}",
        RUN_COLUMNS.join(", "),
        tuples.join(", "),
        updates.join(", ")
    )
}

/// The columns of `checks` after `id`, in [`CheckEvent`]'s order.
pub const CHECK_COLUMNS: &str =
    "time, command, repository, \"commit\", pull_request, verdict, summary";

/// A row of either database, read by column index; errors are messages.
pub trait Cells {
    /// A text column that is never NULL.
    fn text(&self, i: usize) -> Result<String, String>;
    /// A text column that may be NULL.
    fn opt_text(&self, i: usize) -> Result<Option<String>, String>;
    /// A number column that is never NULL.
    fn real(&self, i: usize) -> Result<f64, String>;
    /// A number column that may be NULL.
    fn opt_real(&self, i: usize) -> Result<Option<f64>, String>;
    /// An integer column that may be NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String>;
}

/// A run from a row of `SELECT` [`run_select`] (starting at column `0`).
pub fn run_from(row: &dyn Cells) -> Result<StoredRun, String> {
    Ok(StoredRun {
        key: row.text(0)?,
        format: row.text(1)?,
        run_id: row.text(2)?,
        model: row.text(3)?,
        version: row.opt_text(4)?,
        phase: row.opt_text(5)?,
        ended_at: row.opt_text(6)?,
        recorded_at: row.text(7)?,
        at: row.text(8)?,
        duration_s: row.opt_real(9)?,
        energy_kwh: row.opt_real(10)?,
        co2e_kg: row.real(11)?,
        operational_co2e_kg: row.real(12)?,
        embodied_co2e_kg: row.real(13)?,
        embodied_basis: row.opt_text(14)?,
        market_co2e_kg: row.opt_real(15)?,
        co2e_low_kg: row.opt_real(16)?,
        co2e_high_kg: row.opt_real(17)?,
        method: row.text(18)?,
        country_iso: row.opt_text(19)?,
        region: row.opt_text(20)?,
        cloud_provider: row.opt_text(21)?,
        cloud_region: row.opt_text(22)?,
        cpu: row.opt_text(23)?,
        gpu: row.opt_text(24)?,
        gpu_count: row.opt_real(25)?,
        source: row.text(26)?,
        file_digest: row.text(27)?,
        repository: row.opt_text(28)?,
        commit: row.opt_text(29)?,
    })
}

/// A check event from a row of `SELECT id, ` [`CHECK_COLUMNS`] (the event starting at column 1).
pub fn check_from(row: &dyn Cells) -> Result<CheckEvent, String> {
    let pull_request = match row.opt_int(5)? {
        Some(n) => Some(u64::try_from(n).map_err(|_| format!("pull_request {n} is negative"))?),
        None => None,
    };
    Ok(CheckEvent {
        time: row.text(1)?,
        command: row.text(2)?,
        repository: row.opt_text(3)?,
        commit: row.opt_text(4)?,
        pull_request,
        verdict: row.opt_text(6)?,
        summary: row.opt_text(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_like_their_files() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
            assert!(m.sqlite.contains(&format!("schema {}", m.version)));
            assert!(m.postgres.contains(&format!("schema {}", m.version)));
        }
        assert_eq!(latest(), 2);
    }

    #[test]
    fn the_documented_schema_is_the_migrations_sql() {
        let doc = include_str!("../../docs/ledger.md");
        for m in MIGRATIONS {
            assert!(
                doc.contains(m.sqlite),
                "docs/ledger.md: SQLite migration {}",
                m.version
            );
            assert!(
                doc.contains(m.postgres),
                "docs/ledger.md: PostgreSQL migration {}",
                m.version
            );
        }
    }

    #[test]
    fn every_stored_field_has_its_column_in_both_dialects() {
        let run = serde_json::to_value(StoredRun {
            key: String::new(),
            format: String::new(),
            run_id: String::new(),
            model: String::new(),
            version: None,
            phase: None,
            ended_at: None,
            recorded_at: String::new(),
            at: String::new(),
            duration_s: None,
            energy_kwh: None,
            co2e_kg: 0.0,
            operational_co2e_kg: 0.0,
            embodied_co2e_kg: 0.0,
            embodied_basis: None,
            market_co2e_kg: None,
            co2e_low_kg: None,
            co2e_high_kg: None,
            method: String::new(),
            country_iso: None,
            region: None,
            cloud_provider: None,
            cloud_region: None,
            cpu: None,
            gpu: None,
            gpu_count: None,
            source: String::new(),
            file_digest: String::new(),
            repository: None,
            commit: None,
        })
        .unwrap();
        let fields: Vec<&str> = run
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let columns: Vec<String> = RUN_COLUMNS.iter().map(|c| c.replace('"', "")).collect();
        let mut sorted = columns.clone();
        sorted.sort();
        let mut fields_sorted: Vec<&str> = fields.clone();
        fields_sorted.sort_unstable();
        assert_eq!(sorted, fields_sorted);
        for c in &columns {
            for sql in [MIGRATIONS[0].sqlite, MIGRATIONS[0].postgres] {
                assert!(
                    sql.lines().any(|l| l
                        .trim_start()
                        .replace('"', "")
                        .starts_with(&format!("{c} "))),
                    "{c}"
                );
            }
        }
    }
}
