//! Warnings: judgements the tool had to make about its input, each with a stable code and the
//! place in the input that caused it. Warnings never change the exit code on their own.

use serde::Serialize;

use crate::error::Location;

/// A warning about the input, reported next to the result.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Warning {
    /// Stable kebab-case code from [`crate::codes`].
    pub code: &'static str,
    /// What was seen and what the tool did about it.
    pub message: String,
    /// Where, when the warning is about a place in a file.
    pub location: Option<Location>,
}

impl Warning {
    /// A warning about a place in a file.
    pub fn at(code: &'static str, location: Location, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: Some(location),
        }
    }

    /// A warning not tied to a file.
    pub fn general(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: None,
        }
    }
}

/// The lines the warnings are printed as on standard error: `warning: <location>: <message>
/// [<code>]`.
pub fn warning_lines<'a>(warnings: impl IntoIterator<Item = &'a Warning>) -> Vec<String> {
    warnings
        .into_iter()
        .map(|w| format!("warning: {w}"))
        .collect()
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(location) => write!(
                f,
                "{location}: {} [{}]",
                crate::error::escape_text(&self.message),
                self.code
            ),
            None => write!(
                f,
                "{} [{}]",
                crate::error::escape_text(&self.message),
                self.code
            ),
        }
    }
}
