//! Calendar periods (UTC) that the ledger's runs are assigned to by their time.
//!
//! Placeholder with the agreed API only; the periods branch replaces this file.

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Every {
    /// A calendar month (`2027-01`).
    Month,
    /// A calendar quarter (`2027-Q1`).
    Quarter,
    /// A calendar year (`2027`).
    Year,
}

/// One calendar period, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    year: i32,
    /// First month of the period, 1–12.
    month: u8,
    every: Every,
}

impl Period {
    /// The period of `every` that holds the RFC 3339 instant `at`; `None` when `at` is not one.
    pub fn of(every: Every, at: &str) -> Option<Period> {
        let t = crate::timestamp::parse_rfc3339(at)?.to_offset(UtcOffset::UTC);
        let m = u8::from(t.month());
        let month = match every {
            Every::Month => m,
            Every::Quarter => (m - 1) / 3 * 3 + 1,
            Every::Year => 1,
        };
        Some(Period {
            year: t.year(),
            month,
            every,
        })
    }

    /// `2027-01`, `2027-Q1` or `2027`.
    pub fn label(&self) -> String {
        match self.every {
            Every::Month => format!("{}-{:02}", self.year, self.month),
            Every::Quarter => format!("{}-Q{}", self.year, (self.month - 1) / 3 + 1),
            Every::Year => self.year.to_string(),
        }
    }

    /// The first instant of the period (RFC 3339).
    pub fn start(&self) -> String {
        instant(self.year, self.month)
    }

    /// The first instant after the period (RFC 3339, exclusive).
    pub fn end(&self) -> String {
        let months = match self.every {
            Every::Month => 1,
            Every::Quarter => 3,
            Every::Year => 12,
        };
        let next = self.month + months;
        if next > 12 {
            instant(self.year + 1, next - 12)
        } else {
            instant(self.year, next)
        }
    }
}

fn instant(year: i32, month: u8) -> String {
    let date = Month::try_from(month)
        .ok()
        .and_then(|m| Date::from_calendar_date(year, m, 1).ok());
    match date {
        Some(d) => crate::timestamp::rfc3339(OffsetDateTime::new_utc(d, Time::MIDNIGHT)),
        None => String::new(),
    }
}
