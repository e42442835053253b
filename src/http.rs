//! HTTP calls to external services (GitLab, MLflow, the forecast APIs) with one retry rule: 5xx,
//! 429, timeouts and connection failures are retried with exponential backoff (honouring
//! `Retry-After`) under a total time cap; every other answer is returned to the caller to judge.
//! The caller's secrets are redacted from every message this module writes.
//!
//! Every client is built by [`client`]: a redirect is followed only on the origin (scheme, host
//! and port) the request was sent to. reqwest drops `Authorization` on a redirect to another
//! host, but not custom credential headers (Electricity Maps' `auth-token`, GitLab's
//! `PRIVATE-TOKEN`), so a redirect off the server named is not followed at all: [`send`] turns it
//! into an error naming where it pointed (issue #18, item 7).

use std::time::{Duration, Instant};

/// Retry policy: bounded exponential backoff under a total time cap.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all (first try included).
    pub attempts: u32,
    /// First delay.
    pub base: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Total time budget for one call, waits included.
    pub cap: Duration,
    /// Time allowed for one response.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            cap: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// The delay before retry number `n` (0-based), honouring a server's `Retry-After`.
    pub fn delay(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or_else(|| {
            let d = self.base.saturating_mul(2u32.saturating_pow(n));
            d.min(self.max_delay)
        })
    }

    /// The default policy with the test hooks applied: `CARBON_GATE_RETRY_BASE_MS` (first delay)
    /// and `CARBON_GATE_HTTP_TIMEOUT_MS` (one response), so tests against local fakes stay short.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Retry {
        let millis = |k: &str| {
            env(k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        let default = Retry::default();
        Retry {
            base: millis("CARBON_GATE_RETRY_BASE_MS").unwrap_or(default.base),
            timeout: millis("CARBON_GATE_HTTP_TIMEOUT_MS").unwrap_or(default.timeout),
            ..default
        }
    }
}

/// Redirects followed on one origin (at most this many).
pub const MAX_REDIRECTS: usize = 10;

/// The HTTP client for external services: the tool's user agent, `timeout` per response (10 s at
/// most to connect), redirects followed only on the origin the request was sent to.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("carbon-gate/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let off_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() != attempt.url().origin());
            if off_origin || attempt.previous().len() > MAX_REDIRECTS {
                // The 3xx comes back to `send`, which says why it stopped there.
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
}

/// Redact a secret from a message, in case a server echoes it.
pub fn redact(message: &str, secret: &str) -> String {
    if secret.len() >= 4 {
        message.replace(secret, "***")
    } else {
        message.to_owned()
    }
}

/// What a message must never show: configured secrets, by value, in the forms they travel in
/// (as given, JSON-escaped, and `user:password` in base64 for Basic authentication). Values
/// shorter than 4 characters are not redacted (they would garble every message).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// No secret.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Add a secret (a key, token or password).
    pub fn add(&mut self, secret: &str) {
        let mut forms = vec![secret.to_owned()];
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json.trim_matches('"').to_owned());
        }
        for form in forms {
            if form.len() >= 4 && !self.0.contains(&form) {
                self.0.push(form);
            }
        }
        // Longest first, so that no secret is left half-replaced by a shorter one inside it.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Add Basic credentials: the password, and the header's base64 of `user:password`.
    pub fn add_basic(&mut self, user: &str, password: &str) {
        use base64::Engine as _;
        self.add(password);
        self.add(&base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
    }

    /// Add every secret of `other`.
    pub fn extend(&mut self, other: &Secrets) {
        for s in &other.0 {
            self.add(s);
        }
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

/// Something that redacts messages: one secret (`&str`, `String`) or [`Secrets`].
pub trait Redact {
    /// `text` without the secrets.
    fn redact_in(&self, text: &str) -> String;
}

impl Redact for str {
    fn redact_in(&self, text: &str) -> String {
        redact(text, self)
    }
}

impl Redact for String {
    fn redact_in(&self, text: &str) -> String {
        redact(text, self)
    }
}

impl Redact for Secrets {
    fn redact_in(&self, text: &str) -> String {
        self.redact(text)
    }
}

/// An answer from the server (any status).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Response body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text (lossy), at most `max` characters, for messages.
    pub fn snippet(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(max)
            .collect()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a call gave no usable answer after its retries.
#[derive(Debug, Clone, PartialEq)]
pub struct Exhausted {
    /// Attempts made.
    pub attempts: u32,
    /// The last status (0: no answer at all).
    pub status: u16,
    /// The last error or body, redacted and shortened.
    pub detail: String,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if (300..400).contains(&self.status) {
            // A redirect not followed: never retried, the attempt count says nothing.
            write!(f, "answered {}: {}", self.status, self.detail)
        } else if self.status == 0 {
            write!(
                f,
                "no answer after {} attempts: {}",
                self.attempts, self.detail
            )
        } else {
            write!(
                f,
                "answered {} after {} attempts: {}",
                self.status, self.attempts, self.detail
            )
        }
    }
}

/// Send the request `build` makes, retrying what is worth retrying. `build` is called once per
/// attempt (a request body cannot be replayed otherwise).
pub async fn send<S: Redact + ?Sized>(
    retry: &Retry,
    secret: &S,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Reply, Exhausted> {
    let redact = |text: &str| secret.redact_in(text);
    let start = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let (retryable, retry_after, status, detail, reply) = match build().send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                if let Some(why) = redirect_refused(&resp) {
                    return Err(Exhausted {
                        attempts: attempt + 1,
                        status,
                        detail: redact(&why),
                    });
                }
                let retry_after = headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match resp.bytes().await {
                    Ok(body) => {
                        let reply = Reply {
                            status,
                            headers,
                            body: body.to_vec(),
                        };
                        let detail = redact(&reply.snippet(200));
                        (
                            status >= 500 || status == 429,
                            retry_after,
                            status,
                            detail,
                            Some(reply),
                        )
                    }
                    // The body broke off: as good as no answer.
                    Err(err) => (true, None, 0, redact(&err.without_url().to_string()), None),
                }
            }
            Err(err) => (true, None, 0, redact(&describe(&err)), None),
        };
        attempt += 1;
        if !retryable && let Some(reply) = reply {
            return Ok(reply);
        }
        let wait = retry.delay(attempt - 1, retry_after);
        if attempt >= retry.attempts || start.elapsed() + wait > retry.cap {
            return Err(Exhausted {
                attempts: attempt,
                status,
                detail,
            });
        }
        tokio::time::sleep(wait).await;
    }
}

/// The runtime every HTTP call of a command runs on: one thread, timers and I/O enabled (one
/// command makes its calls one after another).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Why [`download`] gave no file.
#[derive(Debug)]
pub enum DownloadFailure {
    /// The body is longer than the cap (announced by `Content-Length`, or while streaming).
    TooLarge,
    /// A non-2xx answer that is not worth retrying (its body read up to 64 KiB), to judge.
    Status(Reply),
    /// No usable answer after the retries.
    Exhausted(Exhausted),
    /// The local file could not be written.
    Write(std::io::Error),
}

/// Most bytes of an error answer's body kept for the message.
const ERROR_BODY_MAX: usize = 64 * 1024;

/// GET the request `build` makes into a new file `target` (created, never opened through a
/// link or over an existing file), streamed to disk and stopped beyond `cap` bytes. Retries as
/// [`send`] does; a body that breaks off is retried from the start. Returns the bytes written.
pub async fn download(
    retry: &Retry,
    secret: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
    target: &std::path::Path,
    cap: u64,
) -> Result<u64, DownloadFailure> {
    use std::io::Write as _;
    let start = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let (retry_after, status, detail) = match build().send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                if let Some(why) = redirect_refused(&resp) {
                    return Err(DownloadFailure::Exhausted(Exhausted {
                        attempts: attempt + 1,
                        status,
                        detail: redact(&why, secret),
                    }));
                }
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if (200..300).contains(&status) {
                    if resp.content_length().is_some_and(|n| n > cap) {
                        return Err(DownloadFailure::TooLarge);
                    }
                    // A fresh file per attempt: what a broken attempt wrote is dropped.
                    let _ = std::fs::remove_file(target);
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(target)
                        .map_err(DownloadFailure::Write)?;
                    let mut written: u64 = 0;
                    let broke = loop {
                        match resp.chunk().await {
                            Ok(Some(chunk)) => {
                                written += chunk.len() as u64;
                                if written > cap {
                                    drop(file);
                                    let _ = std::fs::remove_file(target);
                                    return Err(DownloadFailure::TooLarge);
                                }
                                file.write_all(&chunk).map_err(DownloadFailure::Write)?;
                            }
                            Ok(None) => break None,
                            Err(err) => break Some(redact(&describe(&err), secret)),
                        }
                    };
                    match broke {
                        None => {
                            file.flush().map_err(DownloadFailure::Write)?;
                            return Ok(written);
                        }
                        Some(detail) => (None, 0, format!("the body broke off: {detail}")),
                    }
                } else if status >= 500 || status == 429 {
                    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                    (retry_after, status, redact(&text, secret))
                } else {
                    let headers = resp.headers().clone();
                    let mut body = Vec::new();
                    while let Ok(Some(chunk)) = resp.chunk().await {
                        body.extend_from_slice(&chunk);
                        if body.len() >= ERROR_BODY_MAX {
                            body.truncate(ERROR_BODY_MAX);
                            break;
                        }
                    }
                    return Err(DownloadFailure::Status(Reply {
                        status,
                        headers,
                        body,
                    }));
                }
            }
            Err(err) => (None, 0, redact(&describe(&err), secret)),
        };
        attempt += 1;
        let wait = retry.delay(attempt - 1, retry_after);
        if attempt >= retry.attempts || start.elapsed() + wait > retry.cap {
            let _ = std::fs::remove_file(target);
            return Err(DownloadFailure::Exhausted(Exhausted {
                attempts: attempt,
                status,
                detail,
            }));
        }
        tokio::time::sleep(wait).await;
    }
}

/// Why a 3xx answer with a `Location` was not followed (the policy of [`client`] stopped there):
/// another origin, or too many redirects. Only the target's origin is named (its path or query
/// may carry anything).
fn redirect_refused(resp: &reqwest::Response) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let location = resp.headers().get("location")?.to_str().ok()?;
    let here = resp.url();
    Some(match here.join(location.trim()) {
        Ok(next) if next.origin() != here.origin() => format!(
            "redirected to another origin ({}), which carbon-gate does not follow (credentials stay with the server named): give the final address instead",
            next.origin().ascii_serialization()
        ),
        Ok(_) => format!("redirected more than {MAX_REDIRECTS} times"),
        Err(_) => "redirected to an address that is not a URL".to_owned(),
    })
}

/// A transport error in words, without the URL (it may carry a query with a secret).
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        let r = Retry::default();
        assert_eq!(r.delay(0, None), Duration::from_secs(1));
        assert_eq!(r.delay(3, None), Duration::from_secs(8));
        assert_eq!(r.delay(10, None), Duration::from_secs(30));
        assert_eq!(
            r.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn test_hooks_shorten_waits() {
        let env = |k: &str| match k {
            "CARBON_GATE_RETRY_BASE_MS" => Some("5".to_owned()),
            "CARBON_GATE_HTTP_TIMEOUT_MS" => Some(" 250 ".to_owned()),
            _ => None,
        };
        let r = Retry::from_env(&env);
        assert_eq!(r.base, Duration::from_millis(5));
        assert_eq!(r.timeout, Duration::from_millis(250));
        assert_eq!(r.attempts, 5);
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact("token abcd1234 refused", "abcd1234"),
            "token *** refused"
        );
        assert_eq!(redact("short ab", "ab"), "short ab");
        let mut s = Secrets::new();
        s.add("k\"ey-1234");
        s.add_basic("carbon", "hunter22");
        s.add("abc");
        assert_eq!(
            s.redact("k\"ey-1234 / k\\\"ey-1234 / Basic Y2FyYm9uOmh1bnRlcjIy / hunter22 / abc"),
            "*** / *** / Basic *** / *** / abc"
        );
    }
}
