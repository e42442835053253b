//! The text of the files `carbon-gate init` writes: the policy with one budget per model set from
//! its measured totals, the configuration and the GitHub workflow. Every name and path is written
//! as a YAML double-quoted string with anything unusual escaped, so a model name or a file name
//! cannot end a comment or add a key.

use crate::units::{Energy, Mass, format_significant};

/// `warn` is this many times the measured total.
pub(super) const WARN_FACTOR: f64 = 1.5;
/// `fail` is this many times the measured total.
pub(super) const FAIL_FACTOR: f64 = 2.0;

/// What the logs say of one model: the largest total among its versions.
pub(super) struct Measured {
    /// Model name, as the ledger counts it.
    pub(super) model: String,
    /// The largest CO2e total among its versions.
    pub(super) co2e: Mass,
    /// The largest energy total among its versions, when every run reports energy.
    pub(super) energy: Option<Energy>,
    /// Runs counted, over its versions.
    pub(super) runs: usize,
    /// How many versions the logs hold of it.
    pub(super) versions: usize,
}

impl Measured {
    /// Whether a budget can be set: some figure above zero.
    pub(super) fn has_limits(&self) -> bool {
        self.co2e.value() > 0.0 || self.energy.is_some_and(|e| e.value() > 0.0)
    }
}

/// `text` as a YAML double-quoted scalar: `"`, `\`, control, invisible and non-printable
/// characters escaped (`\uXXXX`), so it stays on its line and reads back as the same text.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if crate::error::is_unsafe_char(c) || matches!(c, '\u{fffe}' | '\u{ffff}') => {
                let n = u32::from(c);
                if n > 0xffff {
                    out.push_str(&format!("\\U{n:08x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A budget's `model`: the name itself, or — when it holds a glob character — the name with each
/// glob character in a class of its own (`[*]`, `[}]`), so the budget covers that model alone.
fn model_pattern(name: &str) -> String {
    if !name.contains(['*', '?', '[', '{']) {
        return name.to_owned();
    }
    name.chars()
        .map(|c| match c {
            '*' | '?' | '[' | ']' | '{' | '}' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}

/// `value` rounded up to 3 significant digits, written without exponent.
fn round_up(value: f64) -> String {
    let magnitude = value.log10().floor() as i32;
    let step = 10f64.powi(magnitude - 2);
    // Less a hair, so that float noise does not lift an exact figure (4.69 / 0.01 is
    // 469.00000000000006): the limit stays far above the measured total either way.
    let up = (value / step - 1e-9).ceil() * step;
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{up:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A CO2e limit `factor` times `total`, in the unit that keeps the number readable.
fn mass_limit(total: Mass, factor: f64) -> String {
    let kg = total.value() * factor;
    let (value, unit) = if kg >= 1000.0 {
        (kg / 1000.0, "t")
    } else if kg >= 1.0 {
        (kg, "kg")
    } else if kg >= 1e-3 {
        (kg * 1e3, "g")
    } else {
        (kg * 1e6, "mg")
    };
    format!("{} {unit}", round_up(value))
}

/// An energy limit `factor` times `total`, in the unit that keeps the number readable.
fn energy_limit(total: Energy, factor: f64) -> String {
    let kwh = total.value() * factor;
    let (value, unit) = if kwh >= 1e6 {
        (kwh / 1e6, "GWh")
    } else if kwh >= 1e3 {
        (kwh / 1e3, "MWh")
    } else if kwh >= 1.0 {
        (kwh, "kWh")
    } else if kwh >= 1e-3 {
        (kwh * 1e3, "Wh")
    } else {
        (kwh * 1e6, "mWh")
    };
    format!("{} {unit}", round_up(value))
}

fn factor_text(f: f64) -> String {
    format_significant(f, 3)
}

/// The policy file: the schema line, what the numbers are based on, one budget per model.
pub(super) fn policy_text(measured: &[Measured], logs: &[String]) -> String {
    let (warn, fail) = (factor_text(WARN_FACTOR), factor_text(FAIL_FACTOR));
    let mut out = String::new();
    out.push_str("# yaml-language-server: $schema=./policy.schema.json\n#\n");
    out.push_str(&format!(
        "# Carbon budgets written by `carbon-gate init` from the emissions logs {}.\n",
        logs.iter().map(|l| quote(l)).collect::<Vec<_>>().join(", ")
    ));
    out.push_str(&format!(
        "# Each budget is based on the model's measured total (all its runs in those logs; the\n\
         # largest version's, when they hold several): warn at {warn}x and fail at {fail}x that total,\n\
         # rounded up to 3 significant digits. They are a starting point: set the limits your team\n\
         # agrees on, in the units of real training runs (kg, kWh).\n#\n"
    ));
    out.push_str(
        "# Budgets are tried in order; the first whose `model` (and `versions`, if set) matches\n\
         # applies. Above `warn` reports, above `fail` blocks (exit 1). Units: mg|g|kg|t for CO2e,\n\
         # mWh|Wh|kWh|MWh|GWh for energy. Reference: carbon-gate's docs/policy.md.\n",
    );
    out.push_str("version: 1\nbudgets:\n");
    for m in measured.iter().filter(|m| m.has_limits()) {
        out.push_str(&budget_text(m, &warn, &fail));
    }
    out
}

fn budget_text(m: &Measured, warn: &str, fail: &str) -> String {
    let mut figures = Vec::new();
    if m.co2e.value() > 0.0 {
        figures.push(format!("{} CO2e", m.co2e));
    }
    if let Some(e) = m.energy.filter(|e| e.value() > 0.0) {
        figures.push(format!("{e}"));
    }
    let mut out = format!(
        "  # {}: measured {} over {} run{}{}; warn at {warn}x, fail at {fail}x\n",
        quote(&m.model),
        figures.join(" and "),
        m.runs,
        if m.runs == 1 { "" } else { "s" },
        if m.versions > 1 {
            format!(" (the largest of its {} versions)", m.versions)
        } else {
            String::new()
        }
    );
    out.push_str(&format!(
        "  - model: {}\n    limits:\n",
        quote(&model_pattern(&m.model))
    ));
    if m.co2e.value() > 0.0 {
        out.push_str(&format!(
            "      co2e: {{ warn: \"{}\", fail: \"{}\" }}\n",
            mass_limit(m.co2e, WARN_FACTOR),
            mass_limit(m.co2e, FAIL_FACTOR)
        ));
    }
    if let Some(e) = m.energy.filter(|e| e.value() > 0.0) {
        out.push_str(&format!(
            "      energy: {{ warn: \"{}\", fail: \"{}\" }}\n",
            energy_limit(e, WARN_FACTOR),
            energy_limit(e, FAIL_FACTOR)
        ));
    }
    out
}

/// The configuration: the policy directory and one candidate with its logs.
pub(super) fn config_text(model: &str, version: &semver::Version, logs: &[String]) -> String {
    format!(
        "# carbon-gate project configuration, written by `carbon-gate init`. `carbon-gate check`,\n\
         # `report` and `promote` use it without --config when run here (or below, in this git\n\
         # work tree). Paths are relative to this file. Reference: carbon-gate's docs/config.md.\n\
         version: 1\n\
         policy: [\"policies/\"]\n\
         candidates:\n  - model: {}\n    version: {}\n    logs: [{}]\n",
        quote(model),
        quote(&version.to_string()),
        logs.iter().map(|l| quote(l)).collect::<Vec<_>>().join(", ")
    )
}

/// The GitHub workflow running the action on pull requests: with the logs as its `logs` input,
/// or with the configuration.
pub(super) fn workflow_text(logs: Option<&[String]>) -> String {
    let with = match logs {
        Some(logs) => format!(
            "        with:\n          logs: {}\n",
            quote(&logs.join(" "))
        ),
        None => "        with:\n          config: carbon-gate.yaml\n".to_owned(),
    };
    format!(
        "# Written by `carbon-gate init --workflow`: gate every pull request on the carbon budgets in\n\
         # policies/. Replace OWNER with the owner of the carbon-gate action (docs/github-action.md).\n\
         # The policy is read at the pull request's base, so a change cannot loosen its own budget:\n\
         # merge policies/ (and carbon-gate.yaml) before this workflow gates anything.\n\
         name: carbon budget\n\
         on:\n  pull_request:\n\
         permissions:\n  contents: read\n  pull-requests: write\n\
         jobs:\n  carbon-gate:\n    runs-on: ubuntu-latest\n    steps:\n\
         \x20     - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0 # the base commit's policy is read with git\n\
         \x20     - id: gate\n        uses: OWNER/carbon-gate@v1\n{with}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_up_to_three_digits_in_a_readable_unit() {
        assert_eq!(mass_limit(Mass::kg(1.044e-6), 1.5), "1.57 mg");
        assert_eq!(mass_limit(Mass::kg(1.044e-6), 2.0), "2.09 mg");
        assert_eq!(mass_limit(Mass::kg(80.0), 1.5), "120 kg");
        assert_eq!(mass_limit(Mass::kg(2_345.0), 2.0), "4.69 t");
        assert_eq!(mass_limit(Mass::kg(0.1234), 2.0), "247 g");
        assert_eq!(energy_limit(Energy::kwh(21.11e-6), 1.5), "31.7 mWh");
        assert_eq!(energy_limit(Energy::kwh(400.0), 2.0), "800 kWh");
        assert_eq!(energy_limit(Energy::kwh(1.2e6), 1.5), "1.8 GWh");
        assert_eq!(energy_limit(Energy::kwh(0.5), 2.0), "1 kWh");
    }

    #[test]
    fn names_cannot_escape_their_string() {
        assert_eq!(quote("text-gen"), "\"text-gen\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\ny\u{2028}z"), "\"x\\u000ay\\u2028z\"");
        assert_eq!(model_pattern("summ*"), "summ[*]");
    }

    #[test]
    fn a_budget_covers_its_model_alone_whatever_its_name() {
        let measured: Vec<Measured> = ["summ*", "a\"b", "x[1]{2}?"]
            .into_iter()
            .map(|name| Measured {
                model: name.to_owned(),
                co2e: Mass::kg(1.0),
                energy: None,
                runs: 1,
                versions: 1,
            })
            .collect();
        let text = policy_text(&measured, &["logs # x\nversion: 9".to_owned()]);
        let loaded = crate::policy::from_texts(vec![("p.yaml".into(), text)], vec![]).unwrap();
        assert_eq!(loaded.policy.budgets.len(), 3);
        for (budget, m) in loaded.policy.budgets.iter().zip(&measured) {
            assert!(budget.model.matches(&m.model), "{}", m.model);
        }
        assert!(!loaded.policy.budgets[0].model.matches("summarizer"));
        assert!(!loaded.policy.budgets[2].model.matches("x1{2}a"));
    }
}
