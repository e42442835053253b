//! The organisation's carbon ledger: every counted run once, in SQLite (embedded, the default)
//! or PostgreSQL (shared), with the checks that wrote them (docs/ledger.md).
//!
//! - [`Target::parse`] reads where the ledger is (`sqlite:PATH`, `postgres://…`, or a plain path:
//!   the JSON-lines history file, which is no database and is read by [`history_runs`]);
//! - [`Ledger::open`] connects, and brings the schema up to date ([`schema::MIGRATIONS`]);
//! - [`Ledger::write`] stores a check's runs and its event in one transaction, serialised among
//!   all writers, merging each run into the stored one by [`StoredRun::merge`] (per-figure max),
//!   and lets the caller judge the ledger as it will be committed ([`Reader`]);
//! - [`Ledger::runs`] and [`Ledger::checks`] read it back.
//!
//! Every failure of the database — cannot connect, locked beyond the timeout, connection lost
//! mid-write — is an [`Error::Service`] (exit 3) that names the ledger with any password redacted,
//! and leaves nothing half-written.

pub mod from_record;
mod history;
mod pg;
pub mod run;
pub mod schema;
mod sqlite;
mod url;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

pub use history::{History, history_key, history_runs, read_history};
pub use run::{CheckEvent, Merge, StoredRun};
pub use url::{FORMS, Target};

use crate::error::{Error, escape_text};

/// How long a writer waits for the ledger's write lock (SQLite's busy timeout, PostgreSQL's
/// statement timeout) before giving up with an [`Error::Service`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting to PostgreSQL may take (unless the URL sets `connect_timeout`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Keys per `IN (…)` when reading the stored runs of a write; rows per statement when writing
/// them (PostgreSQL: 500 × 30 parameters, within its 65535).
const BATCH: usize = 500;

/// The PostgreSQL advisory lock every writer (and migration) of the ledger takes for its
/// transaction (`pg_advisory_xact_lock`): "carbon-g" in ASCII.
pub const LOCK_KEY: i64 = 0x6361_7262_6f6e_2d67;

/// What a write stored: how many distinct runs were new, grew (a more complete snapshot of a
/// stored run) or changed nothing, and the id of the check event it recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Runs not in the ledger before.
    pub new: usize,
    /// Stored runs that some figure of the incoming snapshot made larger.
    pub grew: usize,
    /// Runs already stored as they are (or stored larger).
    pub same: usize,
    /// The id of the check event (`checks.id`); for [`Ledger::import`], the last one (0: none).
    pub check_id: i64,
}

/// A database failure, before it becomes an [`Error`] naming the ledger.
#[derive(Debug)]
pub(crate) struct Fail {
    /// What was being done and what went wrong.
    message: String,
    /// Whether it is the user's to fix (not an SQLite database, …): exit 2 rather than 3.
    usage: bool,
    /// Whether the message names the ledger itself (else it is prefixed with `ledger LABEL: `).
    whole: bool,
}

impl Fail {
    fn service(what: &str, err: &dyn std::error::Error) -> Fail {
        Fail {
            message: format!("{what}: {}", chain(err)),
            usage: false,
            whole: false,
        }
    }

    fn usage(message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            usage: true,
            whole: false,
        }
    }

    fn text(message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            usage: false,
            whole: false,
        }
    }
}

/// Refuse a database whose schema is newer than this carbon-gate knows.
fn check_not_newer(current: u32) -> Result<(), Fail> {
    let latest = schema::latest();
    if current > latest {
        return Err(Fail {
            message: format!(
                "ledger schema {current} is newer than this carbon-gate (max {latest}): upgrade \
                 carbon-gate"
            ),
            usage: true,
            whole: true,
        });
    }
    Ok(())
}

/// Now, RFC 3339 UTC to the second.
fn now() -> String {
    utc_seconds(time::OffsetDateTime::now_utc())
}

/// An instant as the ledger stores times: RFC 3339 UTC to the second (`2027-01-31T23:59:59Z`).
pub fn utc_seconds(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An error and its sources, `: `-separated (the PostgreSQL driver says "db error" and puts
/// what the server said in the source).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

/// The ledger as messages name it.
struct Context {
    /// [`Target::display`].
    label: String,
    /// Texts no message may show ([`url::secrets`]).
    secrets: Vec<String>,
}

impl Context {
    fn error(&self, fail: Fail) -> Error {
        let message = if fail.whole {
            format!("{} ({})", fail.message, self.label)
        } else {
            format!("ledger {}: {}", self.label, fail.message)
        };
        let message = url::scrub(&message, &self.secrets);
        if fail.usage {
            Error::Usage(message)
        } else {
            Error::Service(message)
        }
    }
}

/// What one transaction of either database can do; the write's steps and [`Reader`] use it.
pub(crate) trait Session {
    /// The stored runs among `keys` (at most [`BATCH`]).
    fn runs_by_keys(&mut self, keys: &[&str]) -> Result<Vec<StoredRun>, Fail>;
    /// Insert the runs (at most [`BATCH`], distinct keys), or replace the stored ones of their
    /// keys with them.
    fn upsert(&mut self, runs: &[&StoredRun]) -> Result<(), Fail>;
    /// Record a check event; its id.
    fn insert_check(&mut self, event: &CheckEvent) -> Result<i64, Fail>;
    /// Link a check to runs it saw (at most [`BATCH`], distinct keys).
    fn link(&mut self, check_id: i64, keys: &[&str]) -> Result<(), Fail>;
    /// Runs with `from <= at < to` (either bound open when `None`), by `at` then `key`.
    fn runs_between(
        &mut self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<StoredRun>, Fail>;
}

/// The ledger as a [`Ledger::write`] will commit it (this write's runs included), read inside
/// its transaction: what a budget over a period is judged on.
pub struct Reader<'a> {
    session: &'a mut (dyn Session + 'a),
    context: &'a Context,
}

impl Reader<'_> {
    /// The runs with `start <= at < end` (RFC 3339 UTC, compared as text), by `at` then `key`.
    pub fn runs_between(&mut self, start: &str, end: &str) -> Result<Vec<StoredRun>, Error> {
        self.session
            .runs_between(Some(start), Some(end))
            .map_err(|f| self.context.error(f))
    }

    /// Every stored run, by `at` then `key`.
    pub fn all_runs(&mut self) -> Result<Vec<StoredRun>, Error> {
        self.session
            .runs_between(None, None)
            .map_err(|f| self.context.error(f))
    }
}

/// The variable naming a PEM file of CA certificates a PostgreSQL ledger's certificate may be
/// signed by, besides the platform's roots ([`Tls::from_env`]).
pub const LEDGER_CA_VAR: &str = "CARBON_GATE_LEDGER_CA";

/// How to verify a PostgreSQL ledger whose URL asks for TLS (`sslmode=require`, `verify-ca`,
/// `verify-full`): its certificate chain against the platform's roots plus `extra_roots`, and its
/// host name, always. A URL without `sslmode` (or with `disable`) uses no TLS and ignores this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// A PEM file of CA certificates trusted besides the platform's roots; the URL's
    /// `sslrootcert=PATH` takes precedence.
    pub extra_roots: Option<PathBuf>,
}

impl Tls {
    /// `extra_roots` from `$CARBON_GATE_LEDGER_CA` (unset or empty: none).
    pub fn from_env() -> Tls {
        Tls {
            extra_roots: std::env::var_os(LEDGER_CA_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// An open connection.
enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// An open ledger database, its schema up to date.
pub struct Ledger {
    context: Context,
    connection: Connection,
    migrated: Vec<(u32, String)>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({})", self.context.label)
    }
}

impl Ledger {
    /// Open the ledger and apply the migrations it lacks (each in its own transaction, under the
    /// writers' lock, so that two first opens apply each once).
    ///
    /// SQLite: the file is created on first use; a path that is a symbolic link, or whose parent
    /// directory is one, is refused (a ledger is never written through a link), as is a file
    /// that is no SQLite database ([`Error::Usage`]). WAL journal, 60 s busy timeout.
    /// PostgreSQL: TLS when the URL asks for it (`sslmode=require`, `verify-ca`, `verify-full`:
    /// certificate and host name verified, the extra roots from `$CARBON_GATE_LEDGER_CA`, see
    /// [`Ledger::open_with`]), none otherwise; 10 s to connect (unless the URL sets
    /// `connect_timeout`), 60 s per statement; a connection that fails (a certificate that does
    /// not verify, a server without TLS when it is asked for) is an [`Error::Service`] naming the
    /// redacted URL. A history file is no database: [`Error::Usage`].
    ///
    /// A database whose schema is newer than this carbon-gate knows is refused ([`Error::Usage`]:
    /// upgrade carbon-gate), and left as it is.
    pub fn open(target: &Target) -> Result<Ledger, Error> {
        Ledger::open_with(target, &Tls::from_env())
    }

    /// [`Ledger::open`] with the TLS settings given rather than read from the environment. A CA
    /// file that cannot be read or holds no certificate is an [`Error::Usage`].
    pub fn open_with(target: &Target, tls: &Tls) -> Result<Ledger, Error> {
        let context = Context {
            label: target.display(),
            secrets: match target {
                Target::Postgres(url) => url::secrets(url),
                _ => Vec::new(),
            },
        };
        let connection = match target {
            Target::Sqlite(path) => {
                Connection::Sqlite(sqlite::open(path).map_err(|f| context.error(f))?)
            }
            Target::Postgres(url) => Connection::Postgres(Box::new(
                pg::open(url, tls.extra_roots.as_deref()).map_err(|f| context.error(f))?,
            )),
            Target::History(path) => {
                return Err(Error::Usage(format!(
                    "ledger `{}` is a JSON-lines history file, not a database: name \
                     sqlite:PATH or postgres://… to use the organisation's ledger (a history \
                     file can be imported into one)",
                    crate::error::display_path(path)
                )));
            }
        };
        let mut ledger = Ledger {
            context,
            connection,
            migrated: Vec::new(),
        };
        ledger.migrated = ledger.migrate()?;
        Ok(ledger)
    }

    /// The ledger as messages name it (any password redacted).
    pub fn label(&self) -> &str {
        &self.context.label
    }

    /// The migrations [`Ledger::open`] applied: `(version, name)`, oldest first.
    pub fn migrated_on_open(&self) -> &[(u32, String)] {
        &self.migrated
    }

    /// Apply the migrations the database lacks; those applied now, oldest first (none when it
    /// was up to date, as after [`Ledger::open`]).
    pub fn migrate(&mut self) -> Result<Vec<(u32, String)>, Error> {
        let context = &self.context;
        let mut applied = Vec::new();
        loop {
            let step = match &mut self.connection {
                Connection::Sqlite(c) => sqlite::migrate_one(c),
                Connection::Postgres(c) => pg::migrate_one(c),
            };
            match step.map_err(|f| context.error(f))? {
                Some(m) => applied.push((m.version, m.name.to_owned())),
                None => return Ok(applied),
            }
        }
    }

    /// The schema version of the database (the newest migration applied; 0 for an empty one).
    pub fn schema_version(&mut self) -> Result<u32, Error> {
        match &mut self.connection {
            Connection::Sqlite(c) => sqlite::schema_version(c),
            Connection::Postgres(c) => pg::schema_version(c),
        }
        .map_err(|f| self.context.error(f))
    }

    /// How long a write waits for the lock before failing (default [`DEFAULT_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        match &mut self.connection {
            Connection::Sqlite(c) => c
                .busy_timeout(timeout)
                .map_err(|e| Fail::service("cannot set the busy timeout", &e)),
            Connection::Postgres(c) => pg::set_timeout(c, timeout),
        }
        .map_err(|f| self.context.error(f))
    }

    /// Store a check's runs and its event, in ONE transaction serialised among all writers
    /// (SQLite `BEGIN IMMEDIATE`; PostgreSQL `pg_advisory_xact_lock(`[`LOCK_KEY`]`)`):
    ///
    /// 1. `judge` runs on a [`Reader`] of the ledger inside the transaction, before the runs are
    ///    written: it sees every earlier writer's runs, and no later writer's until this one
    ///    commits (so it can tell what these runs add);
    /// 2. the stored rows of the runs' keys are read (in batches of 500);
    /// 3. each incoming run is merged into its stored row by [`StoredRun::merge`] (incoming runs
    ///    of one key merge together first), and new or grown rows are written;
    /// 4. `event`, given what `judge` returned, makes the check event (the verdict and summary
    ///    are known only then: `|report| CheckEvent { verdict: Some(…), ..base.clone() }`, or
    ///    `|_| base.clone()` when there is none); it is recorded with a link to every key of
    ///    `runs` (every run the check saw, counted now or before);
    /// 5. the transaction commits.
    ///
    /// Keep `judge` short (reading and summing, no network): every other writer waits for it.
    ///
    /// If anything fails nothing is written (the transaction rolls back) and the error is an
    /// [`Error::Service`] naming the redacted ledger — except errors `judge` returns, which are
    /// passed through as they are. A run with a figure that is not finite, or text with a NUL, is
    /// refused before anything is written ([`Error::Usage`]).
    pub fn write<T>(
        &mut self,
        runs: &[StoredRun],
        event: impl FnOnce(&T) -> CheckEvent,
        judge: impl FnOnce(&mut Reader<'_>) -> Result<T, Error>,
    ) -> Result<(T, Written), Error> {
        for run in runs {
            check_run(run)?;
        }
        let context = &self.context;
        let body = |session: &mut (dyn Session + '_)| -> Result<(T, Written), Error> {
            // Judged first, under the lock: the ledger as it was before this write, so what the
            // runs add is told (the totals are the same either way: runs merge by key).
            let value = judge(&mut Reader { session, context })?;
            let (mut written, keys) = store_runs(session, runs).map_err(|f| context.error(f))?;
            let event = event(&value);
            check_event(&event)?;
            written.check_id =
                record_check(session, &event, &keys).map_err(|f| context.error(f))?;
            Ok((value, written))
        };
        match &mut self.connection {
            Connection::Sqlite(c) => sqlite::in_write(c, context, body),
            Connection::Postgres(c) => pg::in_write(c, context, body),
        }
    }

    /// Store imported runs and check events ([`read_history`]) in one transaction, as
    /// [`Ledger::write`] does (runs merged per figure; each event linked to its run keys).
    pub fn import(
        &mut self,
        runs: &[StoredRun],
        checks: &[(CheckEvent, Vec<String>)],
    ) -> Result<Written, Error> {
        for run in runs {
            check_run(run)?;
        }
        for (event, _) in checks {
            check_event(event)?;
        }
        let context = &self.context;
        let body = |session: &mut (dyn Session + '_)| -> Result<Written, Error> {
            let (mut written, _) = store_runs(session, runs).map_err(|f| context.error(f))?;
            for (event, keys) in checks {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                written.check_id =
                    record_check(session, event, &keys).map_err(|f| context.error(f))?;
            }
            Ok(written)
        };
        match &mut self.connection {
            Connection::Sqlite(c) => sqlite::in_write(c, context, body),
            Connection::Postgres(c) => pg::in_write(c, context, body),
        }
    }

    /// The stored runs with `from <= at < to` (RFC 3339 UTC, compared as text; either bound
    /// open when `None`), by `at` then `key`.
    pub fn runs(&mut self, from: Option<&str>, to: Option<&str>) -> Result<Vec<StoredRun>, Error> {
        let context = &self.context;
        let body = |session: &mut (dyn Session + '_)| {
            session.runs_between(from, to).map_err(|f| context.error(f))
        };
        match &mut self.connection {
            Connection::Sqlite(c) => sqlite::in_read(c, context, body),
            Connection::Postgres(c) => pg::in_read(c, context, body),
        }
    }

    /// Every check event, oldest first: its id, the event and how many runs it is linked to.
    pub fn checks(&mut self) -> Result<Vec<(i64, CheckEvent, usize)>, Error> {
        match &mut self.connection {
            Connection::Sqlite(c) => sqlite::checks(c),
            Connection::Postgres(c) => pg::checks(c),
        }
        .map_err(|f| self.context.error(f))
    }
}

/// Steps 1 and 2 of a write: the incoming runs merged by key, then into the stored rows; new and
/// grown rows written. The counts, and the distinct keys in first-seen order.
fn store_runs<'r>(
    session: &mut (dyn Session + '_),
    runs: &'r [StoredRun],
) -> Result<(Written, Vec<&'r str>), Fail> {
    let mut incoming: Vec<StoredRun> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<&'r str> = Vec::new();
    for run in runs {
        match index.get(run.key.as_str()) {
            Some(&i) => {
                incoming[i].merge(run);
            }
            None => {
                index.insert(&run.key, incoming.len());
                keys.push(&run.key);
                incoming.push(run.clone());
            }
        }
    }
    let mut stored: HashMap<String, StoredRun> = HashMap::new();
    for batch in keys.chunks(BATCH) {
        for run in session.runs_by_keys(batch)? {
            stored.insert(run.key.clone(), run);
        }
    }
    let mut written = Written::default();
    let mut outcomes = Vec::with_capacity(incoming.len());
    for run in &incoming {
        let outcome = match stored.get_mut(&run.key) {
            None => Merge::New,
            Some(old) => old.merge(run),
        };
        match outcome {
            Merge::New => written.new += 1,
            Merge::Grew => written.grew += 1,
            Merge::Same => written.same += 1,
        }
        outcomes.push(outcome);
    }
    // New runs as they came; grown ones as merged; unchanged ones not at all.
    let changed: Vec<&StoredRun> = incoming
        .iter()
        .zip(&outcomes)
        .filter_map(|(run, outcome)| match outcome {
            Merge::New => Some(run),
            Merge::Grew => stored.get(&run.key),
            Merge::Same => None,
        })
        .collect();
    for batch in changed.chunks(BATCH) {
        session.upsert(batch)?;
    }
    Ok((written, keys))
}

/// Step 4 of a write: the event and its links; its id.
fn record_check(
    session: &mut (dyn Session + '_),
    event: &CheckEvent,
    keys: &[&str],
) -> Result<i64, Fail> {
    let id = session.insert_check(event)?;
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let distinct: Vec<&str> = keys.iter().copied().filter(|k| seen.insert(k)).collect();
    for batch in distinct.chunks(BATCH) {
        session.link(id, batch)?;
    }
    Ok(id)
}

/// A run that no database would store as it is: a figure that is no finite number, text with a
/// NUL (PostgreSQL refuses it), no key.
fn check_run(run: &StoredRun) -> Result<(), Error> {
    let bad = |what: String| {
        Err(Error::Usage(format!(
            "run `{}` cannot be stored in the ledger: {what}",
            escape_text(&run.key)
        )))
    };
    if run.key.is_empty() {
        return bad("it has no key".into());
    }
    let figures = [
        ("co2e_kg", Some(run.co2e_kg)),
        ("operational_co2e_kg", Some(run.operational_co2e_kg)),
        ("embodied_co2e_kg", Some(run.embodied_co2e_kg)),
        ("duration_s", run.duration_s),
        ("energy_kwh", run.energy_kwh),
        ("market_co2e_kg", run.market_co2e_kg),
        ("co2e_low_kg", run.co2e_low_kg),
        ("co2e_high_kg", run.co2e_high_kg),
        ("gpu_count", run.gpu_count),
    ];
    for (name, value) in figures {
        if let Some(v) = value
            && !v.is_finite()
        {
            return bad(format!("{name} is {v}, not a finite number"));
        }
    }
    let texts = [
        &run.key,
        &run.format,
        &run.run_id,
        &run.model,
        &run.recorded_at,
        &run.at,
        &run.method,
        &run.source,
        &run.file_digest,
    ];
    let optional = [
        &run.version,
        &run.phase,
        &run.ended_at,
        &run.embodied_basis,
        &run.country_iso,
        &run.region,
        &run.cloud_provider,
        &run.cloud_region,
        &run.cpu,
        &run.gpu,
        &run.repository,
        &run.commit,
    ];
    if texts.iter().any(|t| t.contains('\0'))
        || optional
            .iter()
            .any(|t| t.as_deref().is_some_and(|t| t.contains('\0')))
    {
        return bad("a text field holds a NUL character".into());
    }
    Ok(())
}

/// A check event no database would store as it is.
fn check_event(event: &CheckEvent) -> Result<(), Error> {
    let texts = [
        Some(&event.time),
        Some(&event.command),
        event.repository.as_ref(),
        event.commit.as_ref(),
        event.verdict.as_ref(),
        event.summary.as_ref(),
    ];
    if texts.into_iter().flatten().any(|t| t.contains('\0')) {
        return Err(Error::Usage(
            "the check event cannot be stored in the ledger: a text field holds a NUL character"
                .into(),
        ));
    }
    if event
        .pull_request
        .is_some_and(|n| i64::try_from(n).is_err())
    {
        return Err(Error::Usage(
            "the check event cannot be stored in the ledger: its pull request number is too large"
                .into(),
        ));
    }
    Ok(())
}
