//! Timestamps as trackers write them, read as seconds on the tool's clock: only to compare
//! rows of one run with each other (when it started), never as a date for a report.
//!
//! CodeCarbon writes `2026-11-28T18:23:02` (local time, no zone), eco2AI `2026-11-28 18:43:18`;
//! a fraction of a second and a zone (`Z`, `+01:00`) are read where present. Rows of one run are
//! written by one process, so comparing times without a zone compares like with like.
//!
//! Instants carbon-gate writes or reads from services (report times, forecast points) are RFC 3339
//! and go through [`rfc3339`], [`now_rfc3339`] and [`parse_rfc3339`].

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant as RFC 3339 (`2026-11-29T18:00:00Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    // Formatting fails only for years outside 0000–9999, which no clock or service gives.
    t.format(&Rfc3339).unwrap_or_default()
}

/// Now (UTC) as RFC 3339.
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// An RFC 3339 instant (surrounding white space ignored); `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Seconds since 1970-01-01 00:00:00 of `YYYY-MM-DD[T ]HH:MM:SS[.fff…][Z|±HH:MM]` (zone
/// applied where given); `None` for anything else.
pub fn seconds(text: &str) -> Option<f64> {
    let b = text.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut fraction = 0.0;
    if let Some((b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        fraction = digits(&tail[..n])? as f64 / 10f64.powi(n as i32);
        rest = &tail[n..];
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2]
        | [sign @ (b'+' | b'-'), hh1, hh2, mm1, mm2] => {
            let minutes = digits(&[*hh1, *hh2])? * 60 + digits(&[*mm1, *mm2])?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) as f64 + fraction)
}

/// Seconds as `YYYY-MM-DDTHH:MM:SS(.f)` for a message.
pub fn show(seconds: f64) -> String {
    // Rounded to the millisecond first, so that 0.9996 s shows as the next second, not `.1000`.
    let millis = (seconds * 1000.0).round();
    let whole = (millis / 1000.0).floor();
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(whole as i64) else {
        return format!("{seconds} s");
    };
    let ms = (millis - whole * 1000.0) as u32;
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if ms > 0 {
        format!("{base}.{ms:03}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_timestamps_are_read() {
        assert_eq!(seconds("1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(seconds("2026-11-28T18:23:02"), Some(1_795_890_182.0));
        assert_eq!(seconds("2026-11-28 18:23:02"), Some(1_795_890_182.0));
        assert_eq!(seconds("2026-11-28T18:23:02.5"), Some(1_795_890_182.5));
        assert_eq!(seconds("2026-11-28T19:23:02+01:00"), Some(1_795_890_182.0));
        assert_eq!(seconds("2026-11-28T18:23:02Z"), Some(1_795_890_182.0));
        for bad in [
            "",
            "2026",
            "2026-13-01T00:00:00",
            "2026-11-28T18:23",
            "x026-11-28T18:23:02",
        ] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn shown_back() {
        assert_eq!(show(1_795_890_182.0), "2026-11-28T18:23:02");
        assert_eq!(show(1_795_890_182.25), "2026-11-28T18:23:02.250");
        assert_eq!(show(1_795_890_182.999_6), "2026-11-28T18:23:03");
    }
}
