//! Errors that stop a command, each mapped to an exit code, and the located problems they carry.
//!
//! A [`Problem`] names the file (and line and column where there is one), says what was expected
//! and, where it helps, what to do. Library code returns [`Error`]; only `main` prints it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::exit::Exit;

/// A place in an input file. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
pub struct Location {
    /// The file, as the user named it (or as found under a directory they named).
    #[serde(serialize_with = "serialize_path")]
    pub file: PathBuf,
    /// 1-based line, where known.
    pub line: Option<u64>,
    /// 1-based column, where known.
    pub column: Option<u64>,
    /// Where inside a structured file, e.g. `tree.children.gpu-node` of a manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn serialize_path<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display_path(path))
}

/// A path rendered with forward slashes, the way users write it in CI logs and policies, with
/// control and invisible characters escaped ([`escape_text`]): a file name is outside text.
pub fn display_path(path: &Path) -> String {
    escape_text(&path_text(path)).into_owned()
}

/// A path as text with forward slashes and nothing escaped, for machines (git path specs,
/// digests); [`display_path`] is the form for people.
pub fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Whether `c` must not reach a terminal or a CI log as it is: C0 and C1 controls (line
/// breaks among them), DEL, the Unicode line and paragraph separators, and the invisible format
/// characters that reorder or hide text (bidi embeddings, overrides and isolates, zero-width
/// spaces and joiners, the BOM, soft hyphen, variation selectors, invisible fillers, tag
/// characters). Model names holding one are refused ([`crate::names`]).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// Outside text (a file name, a field value, a run id) made safe to print on one line: `\n`,
/// `\r` and `\t` as those two characters, every other [`is_unsafe_char`] as `\u{…}`. A log
/// line built from it cannot be split in two, so outside text cannot start a line of its own
/// (a GitHub workflow command such as `::stop-commands::`), and nothing is hidden or reordered.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Location {
    /// A whole file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            path: None,
        }
    }

    /// A line of a file.
    pub fn line(file: impl Into<PathBuf>, line: u64) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
            column: None,
            path: None,
        }
    }

    /// The same place, naming a path inside the file.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// A line and column of a file.
    pub fn at(file: impl Into<PathBuf>, line: u64, column: u64) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            path: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", display_path(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(path) = &self.path {
            write!(f, " ({})", escape_text(path))?;
        }
        Ok(())
    }
}

/// One located problem in an input: what is wrong and, optionally, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where it is.
    pub location: Location,
    /// What is wrong, including what was expected.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Problem {
    /// A problem without advice.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Self {
            location,
            message: message.into(),
            help: None,
        }
    }

    /// Add advice.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, escape_text(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", escape_text(help))?;
        }
        Ok(())
    }
}

/// Why a command could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An emissions log that cannot be read as it is.
    #[error("bad input: {0}")]
    Input(Box<Problem>),
    /// One or more problems in policy files.
    #[error("bad policy: {}", join(.0))]
    Policy(Vec<Problem>),
    /// One or more problems in the project configuration (`carbon-gate.yaml`).
    #[error("bad configuration: {}", join(.0))]
    Config(Vec<Problem>),
    /// A command line that cannot be carried out.
    #[error("{}", escape_text(.0))]
    Usage(String),
    /// The report could not be written.
    #[error("cannot write {}: {source}", display_path(.path))]
    Output {
        /// Where it was to be written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An external service (a model registry) failed, refused or could not be reached.
    #[error("{}", escape_text(.0))]
    Service(String),
}

fn join(problems: &[Problem]) -> String {
    let mut text = String::new();
    for (i, problem) in problems.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&problem.to_string());
    }
    text
}

impl Error {
    /// A located input problem.
    pub fn input(problem: Problem) -> Self {
        Error::Input(Box::new(problem))
    }

    /// The exit code this error maps to.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Input(_)
            | Error::Policy(_)
            | Error::Config(_)
            | Error::Usage(_)
            | Error::Output { .. } => Exit::BadInput,
            Error::Service(_) => Exit::ServiceFailed,
        }
    }
}

/// Text for a CI log in which no line can be read as a GitHub Actions workflow command unless
/// the tool wrote it as one. The runner (actions/runner, `ActionCommand.TryParseV2` and
/// `TryParse`) takes a line as a command when, leading whitespace trimmed, it starts with `::`,
/// or when `##[` appears anywhere in it (the older syntax, still parsed, with the same commands:
/// `##[error]`, `##[add-mask]`, `##[stop-commands]` …). So a line that starts with `::` gets a
/// `\` before it, and `##[` becomes `##\[` (in Markdown, `\[` still renders as `[`). Lines are
/// otherwise kept as they are. The tool's own annotations are added after this, never through it.
pub fn defuse_commands(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.contains("##[") || text.split('\n').any(|l| l.trim_start().starts_with("::"));
    if !risky {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        let line = if trimmed.starts_with("::") {
            let lead = line.len() - trimmed.len();
            out.push_str(&line[..lead]);
            out.push('\\');
            trimmed
        } else {
            line
        };
        out.push_str(&line.replace("##[", "##\\["));
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_render_as_file_line_column() {
        assert_eq!(Location::file("a/b.csv").to_string(), "a/b.csv");
        assert_eq!(Location::line("a/b.csv", 3).to_string(), "a/b.csv:3");
        assert_eq!(Location::at("p.yaml", 3, 7).to_string(), "p.yaml:3:7");
    }

    #[test]
    fn outside_text_is_escaped_on_one_line() {
        assert_eq!(escape_text("runs/a.csv"), "runs/a.csv");
        assert_eq!(
            escape_text("a\n::stop-commands::x\r\tb"),
            "a\\n::stop-commands::x\\r\\tb"
        );
        assert_eq!(
            escape_text("m\u{200b}\u{202e}\u{1b}[31m\u{85}"),
            "m\\u{200b}\\u{202e}\\u{1b}[31m\\u{85}"
        );
        assert_eq!(escape_text("Ölmodell м"), "Ölmodell м");
        assert_eq!(
            Location::line("logs/x\n::error::pwned.csv", 2).to_string(),
            "logs/x\\n::error::pwned.csv:2"
        );
    }

    #[test]
    fn no_line_can_start_a_workflow_command() {
        assert_eq!(defuse_commands("a table\n"), "a table\n");
        assert_eq!(
            defuse_commands("x\n  ::error::pwned\n│ ##[warning]y ┆"),
            "x\n  \\::error::pwned\n│ ##\\[warning]y ┆"
        );
    }

    #[test]
    fn problems_carry_help_on_a_second_line() {
        let p = Problem::new(Location::line("x.csv", 2), "bad").with_help("fix it");
        assert_eq!(p.to_string(), "x.csv:2: bad\n  help: fix it");
        assert_eq!(Error::input(p).exit(), Exit::BadInput);
    }
}
