//! GitHub Actions files and workflow commands, all from the same report: the job summary
//! (`$GITHUB_STEP_SUMMARY`, appended), step outputs (`$GITHUB_OUTPUT`, multi-line values with a
//! random delimiter) and annotations (`::error file=…,line=…::…` lines on standard output).

use std::io::Write;
use std::path::Path;

use crate::report::{CheckReport, Role, Severity};

/// Escape the data of a workflow command (`%`, CR, LF), and `##[` (the runner's older command
/// syntax, `crate::error::defuse_commands`), so that outside text in it stays data.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace("##[", "##\\[")
}

/// Escape a workflow command property (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The annotation lines for the report's findings (candidates) and input warnings.
pub fn annotations(report: &CheckReport) -> Vec<String> {
    let mut lines = Vec::new();
    for m in report.models.iter().filter(|m| m.role == Role::Candidate) {
        for f in &m.findings {
            let level = match f.severity {
                Severity::Fail => "error",
                Severity::Warn => "warning",
                Severity::Waived => "notice",
            };
            let mut props = vec![format!(
                "title={}",
                escape_property(&format!("carbon-gate {} ({})", f.code, m.label()))
            )];
            if let Some(src) = &f.source {
                props.insert(
                    0,
                    format!(
                        "file={}",
                        escape_property(&crate::error::display_path(&src.file))
                    ),
                );
                if let Some(line) = src.line {
                    props.insert(1, format!("line={line}"));
                }
                if let Some(col) = src.column {
                    props.insert(2, format!("col={col}"));
                }
            }
            lines.push(format!(
                "::{level} {}::{}",
                props.join(","),
                escape_data(&format!("{}: {}", m.label(), f.message))
            ));
        }
    }
    for w in &report.warnings {
        let mut props = vec![format!(
            "title={}",
            escape_property(&format!("carbon-gate {}", w.code))
        )];
        if let Some(at) = &w.location {
            props.insert(
                0,
                format!(
                    "file={}",
                    escape_property(&crate::error::display_path(&at.file))
                ),
            );
            if let Some(line) = at.line {
                props.insert(1, format!("line={line}"));
            }
        }
        lines.push(format!(
            "::warning {}::{}",
            props.join(","),
            escape_data(&w.message)
        ));
    }
    lines
}

/// A delimiter that the value cannot contain.
fn delimiter(value: &str) -> String {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        ^ u128::from(std::process::id());
    loop {
        let d = format!("ghadelimiter_{seed:x}");
        if !value.contains(&d) {
            return d;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    }
}

/// The step outputs: `name<<DELIM\nvalue\nDELIM` for each.
pub fn outputs(report: &CheckReport, report_json: Option<&Path>) -> String {
    let candidates: Vec<_> = report
        .models
        .iter()
        .filter(|m| m.role == Role::Candidate)
        .collect();
    let co2e: f64 = crate::units::exact_sum(candidates.iter().map(|m| m.totals.emissions.value()));
    let energy: f64 = crate::units::exact_sum(candidates.iter().map(|m| m.totals.energy.value()));
    let mut pairs = vec![
        ("verdict", format!("{:?}", report.verdict).to_lowercase()),
        ("co2e-kg", co2e.to_string()),
        ("energy-kwh", energy.to_string()),
        ("summary", report.summary.clone()),
    ];
    if let Some(p) = report_json {
        pairs.push(("report-json", crate::error::display_path(p)));
    }
    let mut text = String::new();
    for (name, value) in pairs {
        let d = delimiter(&value);
        text.push_str(&format!("{name}<<{d}\n{value}\n{d}\n"));
    }
    text
}

/// Append `text` to the file named by an environment variable's value.
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn delimiters_avoid_the_value() {
        let d = delimiter("x");
        assert!(d.starts_with("ghadelimiter_"));
        let tricky = format!("{d}\n{d}");
        assert!(!tricky.contains(&delimiter(&tricky)) || delimiter(&tricky) != d);
    }
}
