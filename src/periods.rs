//! Calendar periods in UTC — months, quarters, years — that budgets over time are judged by
//! (issue #23): which period an instant falls in, the period's label (`2027-01`, `2027-Q1`,
//! `2027`), and its bounds as RFC 3339 text for a ledger query.
//!
//! A period is half-open: it holds every instant from its [`Period::start`] (inclusive) up to
//! its [`Period::end`] (exclusive, the next period's start), so the instant
//! `2027-04-01T00:00:00Z` is in 2027-Q2 and `2027-03-31T23:59:59Z` in 2027-Q1. The bounds are
//! written `YYYY-MM-DDT00:00:00Z`, the form the ledger stores times in, so they compare as text
//! too (`at >= start AND at < end` in SQL). Years 0000–9998 are supported: the end of a period of
//! 9999 could not be written as an RFC 3339 time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Month, OffsetDateTime, UtcOffset};

/// How long a period is: a calendar month, quarter or year (UTC).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Every {
    /// A calendar month (`2027-01`).
    Month,
    /// A calendar quarter: January–March is Q1 (`2027-Q1`).
    Quarter,
    /// A calendar year (`2027`).
    Year,
}

impl Every {
    /// Every kind, shortest first.
    pub const ALL: [Every; 3] = [Every::Month, Every::Quarter, Every::Year];

    /// The name as written in a policy or on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Every::Month => "month",
            Every::Quarter => "quarter",
            Every::Year => "year",
        }
    }

    /// How many periods of this kind a year holds.
    fn per_year(self) -> u8 {
        match self {
            Every::Month => 12,
            Every::Quarter => 4,
            Every::Year => 1,
        }
    }

    /// The index (1-based) of the period of this kind that holds `month` (1–12).
    fn index_of_month(self, month: u8) -> u8 {
        match self {
            Every::Month => month,
            Every::Quarter => (month - 1) / 3 + 1,
            Every::Year => 1,
        }
    }

    /// The first month (1–12) of the period of this kind with `index` (1-based).
    fn first_month(self, index: u8) -> u8 {
        match self {
            Every::Month => index,
            Every::Quarter => (index - 1) * 3 + 1,
            Every::Year => 1,
        }
    }
}

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Every {
    type Err = String;

    /// `month`, `quarter` or `year` (case-insensitive), so a command-line flag can take it.
    fn from_str(text: &str) -> Result<Every, String> {
        let wanted = text.trim();
        Every::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                format!(
                    "`{}` is not a period: write month, quarter or year",
                    crate::error::escape_text(text)
                )
            })
    }
}

/// The first year a period may be in.
pub const FIRST_YEAR: i32 = 0;
/// The last year a period may be in (the end of a period of 9999 would be in year 10000).
pub const LAST_YEAR: i32 = 9998;

/// One calendar period: a month, quarter or year of a year (UTC).
///
/// Periods of one kind order chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    every: Every,
    year: i32,
    index: u8,
}

impl Period {
    /// The period of kind `every` in `year` with 1-based `index` (month 1–12, quarter 1–4, year
    /// 1); `None` when out of range.
    pub fn new(every: Every, year: i32, index: u8) -> Option<Period> {
        ((FIRST_YEAR..=LAST_YEAR).contains(&year) && (1..=every.per_year()).contains(&index))
            .then_some(Period { every, year, index })
    }

    /// The period of kind `every` that holds the instant `at`, an RFC 3339 time (a zone other
    /// than `Z` is converted to UTC); `None` when `at` is not one, or is outside years
    /// [`FIRST_YEAR`]–[`LAST_YEAR`] in UTC.
    pub fn of(every: Every, at: &str) -> Option<Period> {
        Period::of_instant(every, crate::timestamp::parse_rfc3339(at)?)
    }

    /// The period of kind `every` that holds the instant `seconds` after 1970-01-01T00:00:00Z.
    pub fn of_unix(every: Every, seconds: i64) -> Option<Period> {
        Period::of_instant(every, OffsetDateTime::from_unix_timestamp(seconds).ok()?)
    }

    /// The period of kind `every` that holds the instant `at`.
    pub fn of_instant(every: Every, at: OffsetDateTime) -> Option<Period> {
        let utc = at.checked_to_offset(UtcOffset::UTC)?;
        Period::new(
            every,
            utc.year(),
            every.index_of_month(u8::from(utc.month())),
        )
    }

    /// How long it is.
    pub fn every(self) -> Every {
        self.every
    }

    /// Its year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Its 1-based index in the year: the month (1–12), the quarter (1–4), or 1 for a year.
    pub fn index(self) -> u8 {
        self.index
    }

    /// `2027-01` (a month), `2027-Q1` (a quarter), `2027` (a year).
    pub fn label(self) -> String {
        match self.every {
            Every::Month => format!("{:04}-{:02}", self.year, self.index),
            Every::Quarter => format!("{:04}-Q{}", self.year, self.index),
            Every::Year => format!("{:04}", self.year),
        }
    }

    /// The period a [`Period::label`] names (its kind told by its form); `None` for anything
    /// else.
    pub fn parse(label: &str) -> Option<Period> {
        let b = label.as_bytes();
        if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year: i32 = label[..4].parse().ok()?;
        match &b[4..] {
            [] => Period::new(Every::Year, year, 1),
            [b'-', b'Q', q @ b'1'..=b'4'] => Period::new(Every::Quarter, year, q - b'0'),
            [b'-', m1 @ b'0'..=b'1', m2 @ b'0'..=b'9'] => {
                Period::new(Every::Month, year, (m1 - b'0') * 10 + (m2 - b'0'))
            }
            _ => None,
        }
    }

    /// The first instant it holds, as RFC 3339 UTC: `2027-04-01T00:00:00Z` for 2027-Q2.
    pub fn start(self) -> String {
        format!(
            "{:04}-{:02}-01T00:00:00Z",
            self.year,
            self.every.first_month(self.index)
        )
    }

    /// The first instant after it (the next period's start), as RFC 3339 UTC: it is not in the
    /// period (`at >= start AND at < end`).
    pub fn end(self) -> String {
        let (year, month) = self.end_month();
        format!("{year:04}-{month:02}-01T00:00:00Z")
    }

    /// The year and month (1–12) in which the next period starts.
    fn end_month(self) -> (i32, u8) {
        let month = self.every.first_month(self.index) + 12 / self.every.per_year();
        if month > 12 {
            (self.year + 1, month - 12)
        } else {
            (self.year, month)
        }
    }

    /// The first instant it holds.
    pub fn start_instant(self) -> Option<OffsetDateTime> {
        let month = Month::try_from(self.every.first_month(self.index)).ok()?;
        let date = time::Date::from_calendar_date(self.year, month, 1).ok()?;
        Some(date.midnight().assume_utc())
    }

    /// The first instant after it.
    pub fn end_instant(self) -> Option<OffsetDateTime> {
        let (year, month) = self.end_month();
        let date = time::Date::from_calendar_date(year, Month::try_from(month).ok()?, 1).ok()?;
        Some(date.midnight().assume_utc())
    }

    /// Whether the instant `at` (RFC 3339) is in it.
    pub fn contains(self, at: &str) -> bool {
        Period::of(self.every, at) == Some(self)
    }

    /// The period after it; `None` after the last supported year.
    pub fn next(self) -> Option<Period> {
        if self.index < self.every.per_year() {
            Period::new(self.every, self.year, self.index + 1)
        } else {
            Period::new(self.every, self.year + 1, 1)
        }
    }

    /// The period before it; `None` before the first supported year.
    pub fn previous(self) -> Option<Period> {
        if self.index > 1 {
            Period::new(self.every, self.year, self.index - 1)
        } else {
            Period::new(self.every, self.year - 1, self.every.per_year())
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Period, String> {
        Period::parse(text.trim()).ok_or_else(|| {
            format!(
                "`{}` is not a period: write a month (2027-01), a quarter (2027-Q1) or a year (2027)",
                crate::error::escape_text(text)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(at: &str) -> String {
        Period::of(Every::Quarter, at).unwrap().label()
    }

    #[test]
    fn boundaries_fall_in_the_later_period() {
        assert_eq!(q("2027-04-01T00:00:00Z"), "2027-Q2");
        assert_eq!(q("2027-03-31T23:59:59Z"), "2027-Q1");
        assert_eq!(q("2027-01-01T00:00:00Z"), "2027-Q1");
        assert_eq!(q("2026-12-31T23:59:59Z"), "2026-Q4");
        let m = |at: &str| Period::of(Every::Month, at).unwrap().label();
        assert_eq!(m("2026-12-31T23:59:59Z"), "2026-12");
        assert_eq!(m("2027-01-01T00:00:00Z"), "2027-01");
        // Leap February: the 29th is February, the 1st of March is not.
        assert_eq!(m("2028-02-29T23:59:59Z"), "2028-02");
        assert_eq!(m("2028-03-01T00:00:00Z"), "2028-03");
        assert_eq!(m("2027-02-28T23:59:59Z"), "2027-02");
        assert_eq!(m("2027-03-01T00:00:00Z"), "2027-03");
        let y = |at: &str| Period::of(Every::Year, at).unwrap().label();
        assert_eq!(y("2026-12-31T23:59:59Z"), "2026");
        assert_eq!(y("2027-01-01T00:00:00Z"), "2027");
        // A zone is converted to UTC first.
        assert_eq!(q("2027-04-01T01:30:00+02:00"), "2027-Q1");
        assert_eq!(y("2026-12-31T23:30:00-01:00"), "2027");
        for bad in ["", "2027-04-01", "2027-04-01 00:00:00", "yesterday"] {
            assert_eq!(Period::of(Every::Month, bad), None, "{bad}");
        }
        assert_eq!(Period::of(Every::Year, "9999-06-01T00:00:00Z"), None);
    }

    #[test]
    fn bounds_are_rfc3339_and_end_is_the_next_start() {
        let p = Period::parse("2027-Q1").unwrap();
        assert_eq!(p.start(), "2027-01-01T00:00:00Z");
        assert_eq!(p.end(), "2027-04-01T00:00:00Z");
        let p = Period::parse("2027-Q4").unwrap();
        assert_eq!(p.end(), "2028-01-01T00:00:00Z");
        assert_eq!(p.next().unwrap().label(), "2028-Q1");
        let p = Period::parse("2026-12").unwrap();
        assert_eq!(
            (p.start().as_str(), p.end().as_str()),
            ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
        );
        assert_eq!(p.next().unwrap().label(), "2027-01");
        assert_eq!(p.next().unwrap().previous(), Some(p));
        let p = Period::parse("2027").unwrap();
        assert_eq!(
            (p.start().as_str(), p.end().as_str()),
            ("2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z")
        );
        assert_eq!(Period::parse("9998").unwrap().next(), None);
        assert_eq!(Period::parse("0000-01").unwrap().previous(), None);
        assert_eq!(
            Period::parse("9998-12").unwrap().end(),
            "9999-01-01T00:00:00Z"
        );
        for p in ["2027-Q1", "2027-03", "2027"] {
            let p = Period::parse(p).unwrap();
            assert_eq!(
                p.start_instant().map(crate::timestamp::rfc3339),
                Some(p.start())
            );
            assert_eq!(
                p.end_instant().map(crate::timestamp::rfc3339),
                Some(p.end())
            );
        }
    }

    #[test]
    fn labels_round_trip() {
        for every in Every::ALL {
            let mut p = Period::new(every, 1999, 1).unwrap();
            for _ in 0..40 {
                assert_eq!(Period::parse(&p.label()), Some(p));
                assert_eq!(p.label().parse::<Period>(), Ok(p));
                assert_eq!(Period::of(every, &p.start()), Some(p));
                assert!(p.contains(&p.start()));
                assert!(!p.contains(&p.end()));
                p = p.next().unwrap();
            }
        }
        for bad in [
            "",
            "27",
            "2027-",
            "2027-Q0",
            "2027-Q5",
            "2027-00",
            "2027-13",
            "2027-1",
            "2027-q1",
            "2027-001",
            "-027",
            "２０２７",
            "9999",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert!(
            "2027-W1"
                .parse::<Period>()
                .unwrap_err()
                .contains("a quarter (2027-Q1)")
        );
    }

    #[test]
    fn every_is_read_as_written() {
        assert_eq!("quarter".parse::<Every>(), Ok(Every::Quarter));
        assert_eq!("Month".parse::<Every>(), Ok(Every::Month));
        assert!(
            "week"
                .parse::<Every>()
                .unwrap_err()
                .contains("month, quarter or year")
        );
        assert_eq!(serde_json::to_string(&Every::Year).unwrap(), "\"year\"");
        assert_eq!(
            serde_yaml::from_str::<Every>("quarter").unwrap(),
            Every::Quarter
        );
    }

    /// Whether `p` holds the instant `t` by its bounds.
    fn holds(p: Period, t: OffsetDateTime) -> bool {
        p.start_instant().is_some_and(|s| s <= t) && p.end_instant().is_some_and(|e| t < e)
    }

    /// Every instant is in exactly the period that holds it by its bounds (its neighbours do
    /// not), and its label says so.
    fn check_instant(seconds: i64) {
        let t = OffsetDateTime::from_unix_timestamp(seconds).unwrap();
        let text = crate::timestamp::rfc3339(t);
        for every in Every::ALL {
            let p = Period::of(every, &text).unwrap();
            assert_eq!(Period::of_unix(every, seconds), Some(p));
            assert!(holds(p, t), "{text} not in {p}");
            assert!(p.start() <= text && text < p.end(), "{text} vs {p} as text");
            for other in [p.previous(), p.next()].into_iter().flatten() {
                assert!(!holds(other, t), "{text} also in {other}");
            }
        }
    }

    #[test]
    fn every_second_around_each_boundary_is_in_one_period() {
        // Every month boundary of 1999–2030 (leap years, century rules), ±3 s around it.
        let mut p = Period::new(Every::Month, 1999, 1).unwrap();
        while p.year() <= 2030 {
            let start = p.start_instant().unwrap().unix_timestamp();
            for d in -3..=3 {
                check_instant(start + d);
            }
            p = p.next().unwrap();
        }
        // Every hour of 2028 (a leap year).
        let from = Period::parse("2028").unwrap().start_instant().unwrap();
        for h in 0..(366 * 24) {
            check_instant(from.unix_timestamp() + h * 3600);
        }
    }

    proptest! {
        #[test]
        fn any_instant_is_in_the_period_whose_bounds_hold_it(
            // 0001-01-01 .. 9998-12-31
            seconds in -62_135_596_800i64..253_370_764_800i64,
        ) {
            check_instant(seconds);
        }
    }
}
