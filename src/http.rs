//! HTTP calls to external services (GitLab, MLflow) with one retry rule: 5xx, 429, timeouts and
//! connection failures are retried with exponential backoff (honouring `Retry-After`) under a
//! total time cap; every other answer is returned to the caller to judge. The caller's secret is
//! redacted from every message this module writes.

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

/// Redact a secret from a message, in case a server echoes it.
pub fn redact(message: &str, secret: &str) -> String {
    if secret.len() >= 4 {
        message.replace(secret, "***")
    } else {
        message.to_owned()
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
        if self.status == 0 {
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
pub async fn send(
    retry: &Retry,
    secret: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Reply, Exhausted> {
    let start = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let (retryable, retry_after, status, detail, reply) = match build().send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
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
                        let detail = redact(&reply.snippet(200), secret);
                        (
                            status >= 500 || status == 429,
                            retry_after,
                            status,
                            detail,
                            Some(reply),
                        )
                    }
                    // The body broke off: as good as no answer.
                    Err(err) => (
                        true,
                        None,
                        0,
                        redact(&err.without_url().to_string(), secret),
                        None,
                    ),
                }
            }
            Err(err) => (true, None, 0, redact(&describe(&err), secret), None),
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
    }
}
