//! Where the ledger is: `sqlite:PATH`, a PostgreSQL URL, or a plain path (the JSON-lines history
//! file). A PostgreSQL password is never shown: [`Target::display`] and every message that names
//! the ledger use the redacted form.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, display_path, escape_text};

/// The accepted forms, for messages.
pub const FORMS: &str = "sqlite:PATH (or sqlite://PATH), \
    postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS] (or postgresql://…), \
    or the path of a JSON-lines history file";

/// A ledger named on the command line or in `$CARBON_GATE_LEDGER`.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// An SQLite database file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…` or `postgresql://…`), as given.
    Postgres(String),
    /// The JSON-lines history file `check --ledger` appends to (one line per model version).
    History(PathBuf),
}

impl fmt::Debug for Target {
    /// The redacted form: a `Debug` print must not show a password either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Sqlite(_) => write!(f, "Sqlite({:?})", self.display()),
            Target::Postgres(_) => write!(f, "Postgres({:?})", self.display()),
            Target::History(_) => write!(f, "History({:?})", self.display()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl Target {
    /// Read a ledger URL or path. Anything but the accepted forms ([`FORMS`]) — another scheme
    /// (`mysql://…`), `sqlite:` without a path, a PostgreSQL URL the driver cannot read, a
    /// control character — is an [`Error::Usage`] that names the accepted forms and shows the
    /// text with any password redacted.
    pub fn parse(text: &str) -> Result<Target, Error> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "ledger `{}`: {why}; expected {FORMS}",
                redact(text)
            ))
        };
        if text.trim().is_empty() {
            return Err(bad("empty"));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("has a control character"));
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.trim().is_empty() {
                return Err(bad("names no database file after `sqlite:`"));
            }
            if path == ":memory:" {
                return Err(bad("an in-memory database keeps nothing; name a file"));
            }
            return Ok(Target::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = PgUrl::read(text).map_err(|why| bad(&why))?;
            let config = postgres::Config::from_str(&url.driver).map_err(|_| {
                // The driver's message may quote the URL: take it from the redacted one.
                let why = match postgres::Config::from_str(&redact(&url.driver)) {
                    Err(e) => scrub(&super::chain(&e), &secrets(text)),
                    Ok(_) => "in a part hidden here: percent-encode `@`, `:`, `/`, `?` and `&` \
                              in a password"
                        .to_owned(),
                };
                bad(&format!("not a PostgreSQL URL the driver can read ({why})"))
            })?;
            if config.get_hosts().is_empty() {
                return Err(bad("names no host"));
            }
            return Ok(Target::Postgres(text.to_owned()));
        }
        if let Some(scheme) = scheme(text) {
            let hint = if text.contains("://") {
                String::new()
            } else {
                format!(
                    " (for a history file whose name has a colon, write ./{})",
                    redact(text)
                )
            };
            return Err(bad(&format!(
                "`{scheme}:` is not a ledger this carbon-gate can open{hint}"
            )));
        }
        Ok(Target::History(PathBuf::from(text)))
    }

    /// The ledger for people: the path, or the URL with its password (in the user part or a
    /// `password=` parameter) replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            Target::Sqlite(path) => format!("sqlite:{}", display_path(path)),
            Target::Postgres(url) => redact(url),
            Target::History(path) => display_path(path),
        }
    }

    /// The SQLite file or history file, if that is what it is.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Target::Sqlite(p) | Target::History(p) => Some(p),
            Target::Postgres(_) => None,
        }
    }
}

/// A PostgreSQL URL as carbon-gate reads it: the parameters it reads itself (`sslmode`,
/// `sslrootcert`) taken out of what the driver gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PgUrl {
    /// The URL without `sslmode` and `sslrootcert` (the driver refuses `verify-full` and
    /// `sslrootcert`): carbon-gate sets the driver's TLS mode itself.
    pub driver: String,
    /// `sslmode=require`, `verify-ca` or `verify-full`: TLS, the certificate and the host name
    /// verified. Without `sslmode`, or with `disable`: no TLS.
    pub tls: bool,
    /// `sslrootcert=PATH`: a PEM file of CA certificates trusted besides the platform's roots
    /// (`sslrootcert=system`: the platform's only, as without it).
    pub root_cert: Option<PathBuf>,
}

impl PgUrl {
    /// Read `text` (a `postgres://…` URL); an `sslmode` that may fall back to clear text
    /// (`prefer`, `allow`) or that this carbon-gate does not know, or an `sslrootcert` without
    /// TLS, is refused with the reason (the caller makes it an [`Error::Usage`]).
    pub(crate) fn read(text: &str) -> Result<PgUrl, String> {
        let Some((prefix, rest)) = split_prefix(text) else {
            return Ok(PgUrl {
                driver: text.to_owned(),
                tls: false,
                root_cert: None,
            });
        };
        // Where the driver finds the query: the first `?` after its user part.
        let after_user = rest.find('@').map_or(0, |at| at + 1);
        let Some(q) = rest[after_user..].find('?').map(|i| after_user + i) else {
            return Ok(PgUrl {
                driver: text.to_owned(),
                tls: false,
                root_cert: None,
            });
        };
        let mut mode: Option<String> = None;
        let mut root: Option<String> = None;
        let mut kept: Vec<&str> = Vec::new();
        for piece in rest[q + 1..].split('&') {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            match percent_decode(key).as_str() {
                "sslmode" => mode = Some(percent_decode(value)),
                "sslrootcert" => root = Some(percent_decode(value)),
                _ => kept.push(piece),
            }
        }
        let mut driver = format!("{prefix}{}", &rest[..q]);
        if !kept.is_empty() {
            driver.push('?');
            driver.push_str(&kept.join("&"));
        }
        let tls = match mode.as_deref() {
            None | Some("disable") => false,
            Some("require" | "verify-ca" | "verify-full") => true,
            Some(weak @ ("prefer" | "allow")) => {
                return Err(format!(
                    "sslmode={weak} would go on in clear text, password and all, whenever TLS \
                     fails (which is what someone on the path wants): use sslmode=require (TLS, \
                     certificate and host name verified) or sslmode=disable (no TLS: a local or \
                     private network)"
                ));
            }
            Some(other) => {
                return Err(format!(
                    "sslmode={} is not one of disable, require, verify-ca, verify-full",
                    escape_text(other)
                ));
            }
        };
        let root_cert = match root.as_deref() {
            None | Some("system") => None,
            Some("") => return Err("sslrootcert= names no file".to_owned()),
            Some(path) => Some(PathBuf::from(path)),
        };
        if root.is_some() && !tls {
            return Err(
                "sslrootcert without TLS: add sslmode=require (or name no sslrootcert)".to_owned(),
            );
        }
        Ok(PgUrl {
            driver,
            tls,
            root_cert,
        })
    }
}

/// `scheme` of `scheme:…` (two characters or more, so that `C:\…` stays a path).
fn scheme(text: &str) -> Option<&str> {
    let colon = text.find(':')?;
    let head = &text[..colon];
    let mut chars = head.chars();
    let ok = head.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some(head)
}

/// `scheme:` or `scheme://`, and the rest, for any text that starts with a scheme (a mistyped
/// `postgres:user:pw@host` is redacted too).
fn split_prefix(url: &str) -> Option<(&str, &str)> {
    let end = scheme(url)?.len() + 1;
    let end = if url[end..].starts_with("//") {
        end + 2
    } else {
        end
    };
    Some((&url[..end], &url[end..]))
}

/// The parameters the PostgreSQL driver knows (a `password=` value runs on, raw `&` and all, up
/// to the next of these).
const KNOWN_PARAMS: [&str; 20] = [
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "sslnegotiation",
    "sslrootcert",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// The byte ranges of `rest` (a URL after `scheme://`) that may hold a password:
///
/// - in the user part, from its first `:` to the **last** `@` of the URL (the driver ends the
///   user part at the first `@`; ending it at the last hides a password with a raw `@`, `/` or
///   `?` whole, at the cost of hiding more when a parameter has an `@`);
/// - the value of each `password` parameter of the query (which starts at the first `?` after
///   the driver's user part), up to the next parameter the driver knows.
fn secret_ranges(rest: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    if let Some(last_at) = rest.rfind('@')
        && let Some(colon) = rest[..last_at].find(':')
    {
        ranges.push((colon + 1, last_at));
    }
    // The query as the driver finds it, and from the first `?` whatever the driver finds.
    let after_user = rest.find('@').map_or(0, |at| at + 1);
    let mut queries: Vec<usize> = [rest[after_user..].find('?').map(|i| after_user + i + 1)]
        .into_iter()
        .chain([rest.find('?').map(|i| i + 1)])
        .flatten()
        .collect();
    queries.dedup();
    for q in queries {
        password_params(rest, q, &mut ranges);
    }
    ranges
}

/// The ranges of the `password` parameters' values in the query of `rest` starting at `q`.
fn password_params(rest: &str, q: usize, ranges: &mut Vec<(usize, usize)>) {
    let mut start = q;
    let mut open: Option<usize> = None; // where the current password value starts
    for (i, c) in rest[q..]
        .char_indices()
        .map(|(i, c)| (q + i, c))
        .chain([(rest.len(), '&')])
    {
        if c != '&' {
            continue;
        }
        let piece = &rest[start..i];
        let key = piece.split_once('=').map(|(k, _)| k);
        let known = key.is_some_and(|k| {
            let k = percent_decode(k);
            KNOWN_PARAMS
                .iter()
                .any(|known| k.eq_ignore_ascii_case(known))
                || is_password_key(&k)
        });
        if known || open.is_none() {
            if let Some(from) = open.take() {
                ranges.push((from, start - 1));
            }
            if let Some(k) = key
                && is_password_key(k)
            {
                open = Some(start + k.len() + 1);
            }
        }
        start = i + 1;
    }
    if let Some(from) = open {
        ranges.push((from, rest.len()));
    }
}

/// A URL with what may be a password ([`secret_ranges`]) replaced by `***`, escaped for one
/// line. Text without a scheme is returned escaped.
pub fn redact(url: &str) -> String {
    let Some((prefix, rest)) = split_prefix(url) else {
        return escape_text(url).into_owned();
    };
    let mut ranges = secret_ranges(rest);
    ranges.sort_unstable();
    let mut out = String::from(prefix);
    let mut at = 0;
    for (from, to) in ranges {
        if to <= at {
            continue;
        }
        let from = from.max(at);
        out.push_str(&rest[at..from]);
        out.push_str("***");
        at = to;
    }
    out.push_str(&rest[at..]);
    escape_text(&out).into_owned()
}

fn is_password_key(key: &str) -> bool {
    let decoded = percent_decode(key);
    decoded.eq_ignore_ascii_case("password") || decoded.eq_ignore_ascii_case("sslpassword")
}

/// `%XX` decoded (invalid escapes kept), lossily as UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The texts a message must never show for this URL: the password as written and decoded, from
/// the user part and from `password=` parameters (only those of 4 characters or more: replacing a
/// shorter one everywhere would garble messages more than it hides).
pub fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Some((_, rest)) = split_prefix(url) else {
        return found;
    };
    // As the driver reads the user part (to the first `@`), and as far as it may reach.
    if let Some(at) = rest.find('@')
        && let Some((_, password)) = rest[..at].split_once(':')
    {
        found.push(password.to_owned());
        found.push(percent_decode(password));
    }
    for (from, to) in secret_ranges(rest) {
        let password = &rest[from..to];
        found.push(password.to_owned());
        found.push(percent_decode(password));
    }
    found.retain(|s| s.chars().count() >= 4);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// `text` with each of `secrets` replaced by `***`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever a password holds, neither the display nor a message shows it.
        #[test]
        fn no_password_is_ever_shown(
            user in "[a-z]{1,8}",
            password in "[XYZ][XYZ@?/:&=#%!]{0,12}",
            host in "[a-z]{1,8}(:[0-9]{1,5})?",
            db in "[a-z]{0,8}",
            params in "(\\?[a-z_]{1,8}=[a-z0-9]{0,6}(&[a-z_]{1,8}=[a-z@]{0,6})*)?",
            in_params in proptest::bool::ANY,
            scheme in "(postgres|postgresql|mysql)",
        ) {
            let url = if in_params {
                let sep = if params.is_empty() { "?" } else { "&" };
                format!("{scheme}://{user}@{host}/{db}{params}{sep}password={password}")
            } else {
                format!("{scheme}://{user}:{password}@{host}/{db}{params}")
            };
            let shown = redact(&url);
            proptest::prop_assert!(!shown.contains(['X', 'Y', 'Z']), "{url} → {shown}");
            if let Err(Error::Usage(m)) = Target::parse(&url) {
                proptest::prop_assert!(!m.contains(['X', 'Y', 'Z']), "{url} → {m}");
            }
        }
    }

    fn usage(text: &str) -> String {
        match Target::parse(text) {
            Err(Error::Usage(m)) => m,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(
            Target::parse("sqlite:ledger.db").unwrap(),
            Target::Sqlite("ledger.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:/var/lib/cg/ledger.db").unwrap(),
            Target::Sqlite("/var/lib/cg/ledger.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/cg/ledger.db").unwrap(),
            Target::Sqlite("/var/lib/cg/ledger.db".into())
        );
        assert_eq!(
            Target::parse("sqlite://data/ledger.db").unwrap(),
            Target::Sqlite("data/ledger.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:ledger.db").unwrap().display(),
            "sqlite:ledger.db"
        );
    }

    #[test]
    fn plain_paths_are_the_history_file() {
        for p in [
            "ledger.jsonl",
            "./a:b.jsonl",
            "/tmp/x/ledger.jsonl",
            "C:\\ci\\l.jsonl",
        ] {
            assert_eq!(Target::parse(p).unwrap(), Target::History(p.into()));
        }
    }

    #[test]
    fn postgres_urls_are_kept_and_shown_redacted() {
        let url = "postgres://gate:s3cr3t-pw@db.example:5432/carbon?application_name=x";
        let t = Target::parse(url).unwrap();
        assert_eq!(t, Target::Postgres(url.into()));
        assert_eq!(
            t.display(),
            "postgres://gate:***@db.example:5432/carbon?application_name=x"
        );
        assert!(!format!("{t:?}").contains("s3cr3t"));
        assert!(!t.to_string().contains("s3cr3t"));
        let t =
            Target::parse("postgresql://gate@db/carbon?password=hunter22&sslmode=disable").unwrap();
        assert_eq!(
            t.display(),
            "postgresql://gate@db/carbon?password=***&sslmode=disable"
        );
        assert_eq!(
            Target::parse("postgres://u@h/d").unwrap().display(),
            "postgres://u@h/d"
        );
        assert_eq!(
            secrets("postgres://u:p%40ssword@h/d"),
            ["p%40ssword", "p@ssword"]
        );
        assert_eq!(
            scrub("bad p@ssword here", &secrets("postgres://u:p%40ssword@h/d")),
            "bad *** here"
        );
        // A raw `@`, `?` or `/` in the password: hidden whole.
        for (url, shown) in [
            ("postgres://u:pa@ss@host/db", "postgres://u:***@host/db"),
            ("postgres://u:pa?ss@host/db", "postgres://u:***@host/db"),
            ("postgres://u:pa/ss@host/db", "postgres://u:***@host/db"),
            ("postgres://u:pa@ss@host", "postgres://u:***@host"),
            ("postgres://u:p@s/s@host/db", "postgres://u:***@host/db"),
            (
                "postgres://host/db?application_name=a@b",
                "postgres://host/db?application_name=a@b",
            ),
        ] {
            assert_eq!(redact(url), shown);
        }
        assert!(secrets("postgres://u:pa@ss@host/db").contains(&"pa@ss".to_owned()));
        // A password parameter before an `@` in another parameter.
        let url = "postgres://host/db?password=hunter22&application_name=a@b";
        assert_eq!(
            redact(url),
            "postgres://host/db?password=***&application_name=a@b"
        );
        assert_eq!(secrets(url), ["hunter22"]);
    }

    #[test]
    fn sslmode_and_sslrootcert_are_read_here_and_kept_from_the_driver() {
        let read = |url: &str| PgUrl::read(url).unwrap();
        for (url, tls) in [
            ("postgres://u@h/d", false),
            ("postgres://u@h/d?sslmode=disable", false),
            ("postgres://u@h/d?sslmode=require", true),
            ("postgres://u@h/d?sslmode=verify-ca", true),
            ("postgres://u@h/d?sslmode=verify-full", true),
            ("postgres://u@h/d?sslmode=disable&sslmode=verify-full", true),
        ] {
            assert_eq!(read(url).tls, tls, "{url}");
            assert_eq!(read(url).driver, "postgres://u@h/d", "{url}");
            assert!(Target::parse(url).is_ok(), "{url}");
        }
        let url = read(
            "postgresql://u:p%3Fw@h:5/d?application_name=x&sslmode=verify-full\
             &sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        );
        assert_eq!(
            url,
            PgUrl {
                driver: "postgresql://u:p%3Fw@h:5/d?application_name=x&connect_timeout=3".into(),
                tls: true,
                root_cert: Some("/etc/ca.pem".into()),
            }
        );
        assert_eq!(
            read("postgres://u@h/d?sslmode=require&sslrootcert=system").root_cert,
            None
        );
        // A `?` in the password is not the query.
        assert_eq!(
            read("postgres://u:a?sslmode=disable@h/d?sslmode=require").driver,
            "postgres://u:a?sslmode=disable@h/d"
        );
        for weak in ["prefer", "allow"] {
            let why = PgUrl::read(&format!("postgres://u@h/d?sslmode={weak}")).unwrap_err();
            assert!(why.contains(&format!("sslmode={weak}")), "{why}");
        }
    }

    #[test]
    fn anything_else_is_a_usage_error_naming_the_forms() {
        for bad in [
            "",
            "mysql://root:s3cr3t-pw@db/x",
            "sqlite:",
            "sqlite://",
            "sqlite::memory:",
            "ledger\0.db",
            "ledger\n.db",
            "postgres://gate:s3cr3t-pw@db.example:notaport/x",
            "postgres://gate:s3cr3t-pw@db/x?nosuchoption=1",
            "postgres://gate:s3cr3t-pw@db/x?sslmode=prefer",
            "postgres://gate:s3cr3t-pw@db/x?sslmode=allow",
            "postgres://gate:s3cr3t-pw@db/x?sslmode=verify-partly",
            "postgres://gate:s3cr3t-pw@db/x?sslrootcert=ca.pem",
            "postgres://gate:s3cr3t-pw@db/x?sslmode=require&sslrootcert=",
            "postgres://gate:s3cr3t-pw@/x",
            "http://example.com/ledger",
        ] {
            let m = usage(bad);
            assert!(m.contains("sqlite:PATH"), "{bad}: {m}");
            assert!(!m.contains("s3cr3t"), "{bad}: {m}");
        }
        assert!(usage("mysql://root:s3cr3t-pw@db/x").contains("`mysql:`"));
        let m = usage("postgres://gate@db/x?sslmode=prefer");
        assert!(
            m.contains("use sslmode=require") && m.contains("or sslmode=disable"),
            "{m}"
        );
        assert!(!usage("postgres:gate:s3cr3t-pw@db/x").contains("s3cr3t"));
        // The password is redacted whatever the scheme.
        let m = usage("postgres://gate:s3cr3t-pw@db.example:notaport/x");
        assert!(
            m.contains("postgres://gate:***@db.example:notaport/x"),
            "{m}"
        );
    }
}
