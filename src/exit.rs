//! Exit codes: part of the public interface, documented in the README.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | pass: every budget is met (warnings allowed) |
//! | 1 | a fail-level limit was exceeded, or a budget has no data (fail closed) |
//! | 2 | bad input: unreadable or malformed log, policy or command line |
//! | 3 | an external service failed (reserved for GitHub and model registries) |

/// The process exit status of `carbon-gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: within budget (warnings allowed).
    Pass,
    /// 1: a fail-level limit was exceeded.
    BudgetExceeded,
    /// 2: bad input, policy or command line.
    BadInput,
    /// 3: an external service failed.
    ServiceFailed,
}

impl Exit {
    /// The numeric code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::BudgetExceeded => 1,
            Exit::BadInput => 2,
            Exit::ServiceFailed => 3,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(Exit::Pass.code(), 0);
        assert_eq!(Exit::BudgetExceeded.code(), 1);
        assert_eq!(Exit::BadInput.code(), 2);
        assert_eq!(Exit::ServiceFailed.code(), 3);
    }
}
