//! What every rule does to the finding it writes: report mode (never blocks) and the overrun in
//! per cent. Used by the evaluation ([`super::eval`]) and the rules about where runs ran
//! ([`super::grid`]).

use super::model::Mode;
use crate::assessment::{Finding, Severity};
use crate::units::format_significant;

/// Report mode: never blocks.
pub(super) fn with_mode(mut f: Finding, mode: Mode) -> Finding {
    if mode == Mode::Report && f.severity == Severity::Fail {
        f.severity = Severity::Warn;
    }
    if mode == Mode::Report {
        f.mode = Some("report");
        f.message.push_str(" [report mode: never blocks]");
    }
    f
}

/// The overrun of `measured` over `limit`, as ` (+N%)` (nothing for a zero limit).
pub(super) fn over(measured: f64, limit: f64) -> String {
    if limit > 0.0 {
        format!(
            " (+{}%)",
            format_significant((measured - limit) / limit * 100.0, 3)
        )
    } else {
        String::new()
    }
}
