//! The ledger in PostgreSQL: TLS (rustls, certificate and host name verified) when the URL asks
//! for it, none otherwise; bounded connect and statement times; writers (and migrations)
//! serialised by `pg_advisory_xact_lock(LOCK_KEY)`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Transaction};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::schema::{self, Cells, MIGRATIONS, Migration, run_values};
use super::{
    CONNECT_TIMEOUT, CheckEvent, Context, DEFAULT_TIMEOUT, Fail, LOCK_KEY, Session, StoredRun,
};
use crate::error::Error;

/// `$1`, `$2`, …
fn placeholder(i: usize) -> String {
    format!("${i}")
}

/// A failure of the server or the connection, with a hint for a timeout.
fn fail(what: &str, err: &postgres::Error) -> Fail {
    let mut f = Fail::service(what, err);
    if err.code() == Some(&SqlState::QUERY_CANCELED) {
        f.message
            .push_str(" (the statement timeout passed: another writer held the ledger that long?)");
    } else if err.is_closed() {
        f.message
            .push_str(" (the connection to the server was lost)");
    }
    f
}

/// The CA certificates of the PEM file at `path` (at least one, each one a CA rustls can use).
fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, Fail> {
    let shown = crate::error::display_path(path);
    let roots = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Fail::usage(format!(
                "cannot read the CA certificates in {shown} (a PEM file): {e}"
            ))
        })?;
    if roots.is_empty() {
        return Err(Fail::usage(format!(
            "{shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )));
    }
    let mut check = rustls::RootCertStore::empty();
    for cert in &roots {
        check.add(cert.clone()).map_err(|e| {
            Fail::usage(format!(
                "a certificate in {shown} cannot be a CA to trust: {e}"
            ))
        })?;
    }
    Ok(roots)
}

/// A TLS connector that verifies the server's certificate chain against the platform's roots
/// plus those in `roots` (a PEM file), and its host name, always.
fn tls_connector(roots: Option<&Path>) -> Result<MakeRustlsConnect, Fail> {
    let extra = roots.map(extra_roots).transpose()?.unwrap_or_default();
    // The provider reqwest uses too (both are compiled in: name one rather than rely on a
    // process-wide default).
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| Fail::service("cannot set up the verification of certificates", &e))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Fail::service("cannot set up TLS", &e))?
        // The platform verifier checks the chain and the host name: nothing is skipped.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Why connecting failed, with what to do about a certificate that does not verify or a server
/// that does not speak TLS.
fn connect_failed(err: &postgres::Error, tls: bool, roots: Option<&Path>) -> Fail {
    let mut f = fail("cannot connect", err);
    if !tls {
        return f;
    }
    let text = super::chain(err);
    if text.contains("not valid for name") {
        f.message.push_str(
            " (TLS: the server's certificate is not for the host name in the URL: connect by a \
             name it is for)",
        );
    } else if text.contains("certificate") || text.contains("Certificate") {
        let trusted = match roots {
            Some(path) => format!(
                "the platform's roots and {}",
                crate::error::display_path(path)
            ),
            None => "the platform's roots".to_owned(),
        };
        f.message.push_str(&format!(
            " (TLS: the server's certificate did not verify against {trusted}: name the CA \
             that signed it in $CARBON_GATE_LEDGER_CA or sslrootcert=PATH)"
        ));
    } else if text.contains("does not support TLS") {
        f.message.push_str(
            " (the URL asks for TLS and the server does not offer it: nothing was sent in clear \
             text; turn ssl on at the server, or use sslmode=disable on a private network)",
        );
    }
    f
}

/// Connect to the database at `url` (already checked by [`super::Target::parse`]); when it asks
/// for TLS, the server's certificate is verified against the platform's roots plus those in the
/// URL's `sslrootcert`, else in `roots` (`$CARBON_GATE_LEDGER_CA`).
pub(super) fn open(url: &str, roots: Option<&Path>) -> Result<Client, Fail> {
    let url = super::url::PgUrl::read(url).map_err(Fail::usage)?;
    let mut config = Config::from_str(&url.driver)
        .map_err(|e| Fail::usage(format!("cannot read the URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("carbon-gate");
    }
    // A server that vanishes mid-write is noticed within about a minute, not hours.
    config.keepalives_idle(Duration::from_secs(30));
    config.tcp_user_timeout(Duration::from_secs(90));
    let roots = url.root_cert.as_deref().or(roots);
    let connected = if url.tls {
        // Never a fall back to clear text: a server without TLS is an error.
        config.ssl_mode(SslMode::Require);
        config.connect(tls_connector(roots)?)
    } else {
        config.ssl_mode(SslMode::Disable);
        config.connect(NoTls)
    };
    let mut client = connected.map_err(|e| connect_failed(&e, url.tls, roots))?;
    set_timeout(&mut client, DEFAULT_TIMEOUT)?;
    client
        .batch_execute("SET idle_in_transaction_session_timeout = 600000")
        .map_err(|e| fail("cannot set the session's timeouts", &e))?;
    Ok(client)
}

/// Statements (waiting for the writers' lock among them) fail after `timeout`.
pub(super) fn set_timeout(client: &mut Client, timeout: Duration) -> Result<(), Fail> {
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    client
        .batch_execute(&format!("SET statement_timeout = {ms}"))
        .map_err(|e| fail("cannot set the statement timeout", &e))
}

/// Take the writers' lock for the current transaction.
fn lock(tx: &mut Transaction<'_>) -> Result<(), Fail> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .map_err(|e| fail("cannot take the ledger's write lock", &e))?;
    Ok(())
}

/// The schema version recorded in the database (0 when none).
fn version_in(tx: &mut Transaction<'_>) -> Result<u32, Fail> {
    let what = "cannot read the schema version";
    let exists: bool = tx
        .query_one(
            "SELECT to_regclass('carbon_gate_migrations') IS NOT NULL",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(|e| fail(what, &e))?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i32> = tx
        .query_one("SELECT MAX(version) FROM carbon_gate_migrations", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| fail(what, &e))?;
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// The schema version recorded in the database (0 when none).
pub(super) fn schema_version(client: &mut Client) -> Result<u32, Fail> {
    let mut tx = client
        .transaction()
        .map_err(|e| fail("cannot read the schema version", &e))?;
    let version = version_in(&mut tx)?;
    tx.commit()
        .map_err(|e| fail("cannot read the schema version", &e))?;
    Ok(version)
}

/// Apply the next pending migration, if any, in its own transaction under the writers' lock.
pub(super) fn migrate_one(client: &mut Client) -> Result<Option<Migration>, Fail> {
    let mut tx = client
        .transaction()
        .map_err(|e| fail("cannot start the migration", &e))?;
    lock(&mut tx)?;
    tx.batch_execute(schema::MIGRATIONS_TABLE)
        .map_err(|e| fail("cannot create carbon_gate_migrations", &e))?;
    let current = version_in(&mut tx)?;
    super::check_not_newer(current)?;
    let Some(next) = MIGRATIONS.iter().find(|m| m.version > current) else {
        tx.commit().map_err(|e| fail("cannot commit", &e))?;
        return Ok(None);
    };
    let what = format!("migration {:04}_{}", next.version, next.name);
    tx.batch_execute(next.postgres)
        .map_err(|e| fail(&what, &e))?;
    let version = i32::try_from(next.version).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO carbon_gate_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        &[&version, &next.name, &super::now()],
    )
    .map_err(|e| fail(&what, &e))?;
    tx.commit().map_err(|e| fail(&what, &e))?;
    Ok(Some(*next))
}

/// One transaction.
struct PgSession<'c> {
    tx: Transaction<'c>,
}

/// Run `body` in a transaction holding the writers' lock, and commit it; rolled back when
/// anything fails (or by the server, when the connection is lost).
pub(super) fn in_write<R>(
    client: &mut Client,
    context: &Context,
    body: impl FnOnce(&mut (dyn Session + '_)) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut tx = client
        .transaction()
        .map_err(|e| context.error(fail("cannot start the write", &e)))?;
    lock(&mut tx).map_err(|f| context.error(f))?;
    let mut session = PgSession { tx };
    let out = body(&mut session)?;
    session
        .tx
        .commit()
        .map_err(|e| context.error(fail("cannot commit the write", &e)))?;
    Ok(out)
}

/// Run `body` in a read transaction.
pub(super) fn in_read<R>(
    client: &mut Client,
    context: &Context,
    body: impl FnOnce(&mut (dyn Session + '_)) -> Result<R, Error>,
) -> Result<R, Error> {
    let tx = client
        .transaction()
        .map_err(|e| context.error(fail("cannot start reading", &e)))?;
    let mut session = PgSession { tx };
    let out = body(&mut session)?;
    session
        .tx
        .commit()
        .map_err(|e| context.error(fail("cannot end reading", &e)))?;
    Ok(out)
}

/// Every check event with the number of runs linked to it.
pub(super) fn checks(client: &mut Client) -> Result<Vec<(i64, CheckEvent, usize)>, Fail> {
    let what = "cannot read the checks";
    let sql = format!(
        "SELECT id, {}, (SELECT COUNT(*) FROM check_runs r WHERE r.check_id = c.id) \
         FROM checks c ORDER BY id",
        schema::CHECK_COLUMNS
    );
    let rows = client.query(&sql, &[]).map_err(|e| fail(what, &e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get(0).map_err(|e| fail(what, &e))?;
        let linked: i64 = row.try_get(8).map_err(|e| fail(what, &e))?;
        let event =
            schema::check_from(&PgRow(row)).map_err(|m| Fail::text(format!("{what}: {m}")))?;
        out.push((id, event, usize::try_from(linked).unwrap_or(0)));
    }
    Ok(out)
}

struct PgRow<'a>(&'a postgres::Row);

impl Cells for PgRow<'_> {
    fn text(&self, i: usize) -> Result<String, String> {
        self.0.try_get(i).map_err(|e| super::chain(&e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        self.0.try_get(i).map_err(|e| super::chain(&e))
    }
    fn real(&self, i: usize) -> Result<f64, String> {
        self.0.try_get(i).map_err(|e| super::chain(&e))
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, String> {
        self.0.try_get(i).map_err(|e| super::chain(&e))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        self.0.try_get(i).map_err(|e| super::chain(&e))
    }
}

impl PgSession<'_> {
    fn query_runs(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> Result<Vec<StoredRun>, Fail> {
        let rows = self.tx.query(sql, params).map_err(|e| fail(what, &e))?;
        rows.iter()
            .map(|row| {
                schema::run_from(&PgRow(row)).map_err(|m| Fail::text(format!("{what}: {m}")))
            })
            .collect()
    }
}

impl Session for PgSession<'_> {
    fn runs_by_keys(&mut self, keys: &[&str]) -> Result<Vec<StoredRun>, Fail> {
        let sql = format!(
            "SELECT {} FROM runs WHERE key = ANY($1)",
            schema::run_select()
        );
        self.query_runs(&sql, &[&keys], "cannot read the stored runs")
    }

    fn upsert(&mut self, runs: &[&StoredRun]) -> Result<(), Fail> {
        // One statement for the batch: one round trip however far the server is, while every
        // other writer waits for the lock.
        if runs.is_empty() {
            return Ok(());
        }
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(runs.len() * 30);
        for run in runs {
            let row: [&(dyn ToSql + Sync); 30] = run_values!(run);
            values.extend(row);
        }
        self.tx
            .execute(&schema::run_upsert(placeholder, runs.len()), &values)
            .map_err(|e| fail("cannot store the runs", &e))?;
        Ok(())
    }

    fn insert_check(&mut self, event: &CheckEvent) -> Result<i64, Fail> {
        let pull_request = event.pull_request.and_then(|n| i64::try_from(n).ok());
        self.tx
            .query_one(
                &format!(
                    "INSERT INTO checks ({}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    schema::CHECK_COLUMNS
                ),
                &[
                    &event.time,
                    &event.command,
                    &event.repository,
                    &event.commit,
                    &pull_request,
                    &event.verdict,
                    &event.summary,
                ],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| fail("cannot record the check", &e))
    }

    fn link(&mut self, check_id: i64, keys: &[&str]) -> Result<(), Fail> {
        self.tx
            .execute(
                "INSERT INTO check_runs (check_id, run_key) SELECT $1, k FROM unnest($2::text[]) AS k",
                &[&check_id, &keys],
            )
            .map_err(|e| fail("cannot link the check to its runs", &e))?;
        Ok(())
    }

    fn runs_between(
        &mut self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<StoredRun>, Fail> {
        let sql = format!(
            "SELECT {} FROM runs WHERE ($1::text IS NULL OR at >= $1) \
             AND ($2::text IS NULL OR at < $2) ORDER BY at, key",
            schema::run_select()
        );
        self.query_runs(&sql, &[&from, &to], "cannot read the runs")
    }
}
