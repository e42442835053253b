//! Hugging Face model cards: `co2_eq_emissions` in a `README.md` front matter or a bare YAML file.
//!
//! The Hub's spec (hub-docs `model-cards-co2.md`) gives the value in **grams**, either as a bare
//! number or as a mapping `{emissions, source, training_type, geographical_location,
//! hardware_used}`. Real cards have written kilograms into that field (e.g. `emissions: 1.46` with
//! "1.46 kg CO2" in the text). With `--hf-units auto` (the default) the value is read as grams
//! unless the card's own text writes the same number followed by `kg`, which switches the reading
//! to kilograms; a small number with at most two decimals and no such text is read as grams with
//! a warning that it may be kilograms. `--hf-units g|kg` forces the reading. A card gives no energy
//! and no duration; the record leaves them unknown.
//!
//! The model is the card's `model-index[0].name`, else its `model_name`; the phase comes from
//! `training_type`.

use std::path::Path;

use serde_yaml::Value;

use super::Parsed;
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Hardware, Phase, Place, RunRecord};
use crate::units::Mass;
use crate::yaml::{self, Spans};

/// The front matter of a card (text, and the line it starts on) and the body after it; a file
/// without `---` delimiters is all front matter (a bare YAML metadata file).
fn split(text: &str) -> (&str, u64, &str) {
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_line_end].trim_end() != "---" {
        return (text, 1, "");
    }
    let rest = &text[first_line_end..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let body = &rest[offset + line.len()..];
            return (&rest[..offset], 2, body);
        }
        offset += line.len();
    }
    (rest, 2, "")
}

/// Whether `text` looks like a model card or card metadata that carries `co2_eq_emissions`.
pub fn detect(text: &str) -> bool {
    let (front, ..) = split(text);
    front
        .lines()
        .any(|l| l.starts_with("co2_eq_emissions:") || l.starts_with("\"co2_eq_emissions\":"))
}

fn shift(mut location: Location, first_line: u64) -> Location {
    if let Some(line) = location.line.as_mut() {
        *line += first_line - 1;
    }
    location
}

/// A number as written in YAML, or why it is not one.
fn number(value: &Value) -> Result<(f64, String), String> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= 0.0 => Ok((v, n.to_string())),
            _ => Err(format!("{n} is not a finite number of grams, zero or more")),
        },
        Value::String(s) => Err(format!(
            "\"{s}\" is text, expected a number of grams (write it without quotes)"
        )),
        Value::Null => Err("empty, expected a number of grams".to_owned()),
        _ => Err("expected a number of grams".to_owned()),
    }
}

fn text_field(map: &serde_yaml::Mapping, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `body` writes `literal` followed by a kilogram unit (`1.46 kg`, `1.46 KgCO2`).
fn body_says_kg(body: &str, literal: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(literal) {
        let start = from + found;
        let end = start + literal.len();
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_digit() || c == '.'));
        let after = lower[end..].trim_start();
        let digits_continue = lower[end..].starts_with(|c: char| c.is_ascii_digit());
        if before_ok && !digits_continue && after.starts_with("kg") {
            return true;
        }
        from = end;
    }
    false
}

/// Whether a gram value looks like it was typed in kilograms: below 10 with one or two decimals.
fn looks_like_kg(value: f64, literal: &str) -> bool {
    let decimals = literal.split_once('.').map_or(0, |(_, d)| d.len());
    value < 10.0 && (1..=2).contains(&decimals)
}

/// How a model card's `co2_eq_emissions` is read (`--hf-units`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HfUnits {
    /// Grams, as the Hub's spec says, unless the card's own text says kilograms.
    #[default]
    Auto,
    /// Always grams.
    G,
    /// Always kilograms (for cards known to have written kg into the grams field).
    Kg,
}

/// Read the card at `file`.
pub fn parse(file: &Path, text: &str, units: HfUnits) -> Result<Parsed, Error> {
    let (front, first_line, body) = split(text);
    let (meta, spans): (Value, Spans) = yaml::load(file, front).map_err(|mut p| {
        p.location = shift(p.location, first_line);
        p.message = format!("model card metadata: {}", p.message);
        Error::Input(p)
    })?;
    let locate = |path: &str| shift(spans.locate(file, path), first_line).with_path(path);
    let Some(meta) = meta.as_mapping() else {
        return Err(Error::input(Problem::new(
            Location::line(file, first_line),
            "model card metadata is not a YAML mapping",
        )));
    };
    let Some(co2) = meta.get("co2_eq_emissions") else {
        return Err(Error::input(
            Problem::new(
                Location::file(file),
                "model card has no `co2_eq_emissions` in its metadata",
            )
            .with_help(
                "add `co2_eq_emissions: {emissions: <grams>, …}` to the card's front matter",
            ),
        ));
    };
    let (value, literal, details, at) = match co2 {
        Value::Mapping(map) => {
            let Some(emissions) = map.get("emissions") else {
                return Err(Error::input(Problem::new(
                    locate("co2_eq_emissions"),
                    "`co2_eq_emissions` has no `emissions`: expected a number of grams",
                )));
            };
            let at = locate("co2_eq_emissions.emissions");
            let (v, lit) = number(emissions).map_err(|why| {
                Error::input(Problem::new(
                    at.clone(),
                    format!("`co2_eq_emissions.emissions`: {why}"),
                ))
            })?;
            (v, lit, Some(map), at)
        }
        other => {
            let at = locate("co2_eq_emissions");
            let (v, lit) = number(other).map_err(|why| {
                Error::input(
                    Problem::new(at.clone(), format!("`co2_eq_emissions`: {why}"))
                        .with_help("write `co2_eq_emissions: 1710` or a mapping with `emissions: 1710` (grams)"),
                )
            })?;
            (v, lit, None, at)
        }
    };
    let mut warnings = Vec::new();
    let kg = match units {
        HfUnits::G => false,
        HfUnits::Kg => true,
        HfUnits::Auto => {
            if body_says_kg(body, &literal) {
                warnings.push(Warning::at(
                    codes::HF_CARD_UNITS,
                    at.clone(),
                    format!(
                        "`co2_eq_emissions` is {literal} and the card's text writes \"{literal} kg\": read as {literal} kg (the Hub's spec says grams; pass --hf-units g to read grams)"
                    ),
                ));
                true
            } else {
                if looks_like_kg(value, &literal) {
                    warnings.push(Warning::at(
                        codes::HF_CARD_UNITS,
                        at.clone(),
                        format!(
                            "`co2_eq_emissions` is {literal}: read as {literal} g per the Hub's spec, but a value this small with {} decimals is often kilograms; pass --hf-units kg if the card meant kg",
                            literal.split_once('.').map_or(0, |(_, d)| d.len())
                        ),
                    ));
                }
                false
            }
        }
    };
    let emissions = if kg {
        Mass::kg(value)
    } else {
        Mass::grams(value)
    };
    let model = meta
        .get("model-index")
        .and_then(Value::as_sequence)
        .and_then(|s| s.first())
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .or_else(|| meta.get("model_name").and_then(Value::as_str))
        .map(str::to_owned);
    let mut record = RunRecord::new(
        at,
        Format::HfCard,
        format!("card:{}", file.display()),
        emissions,
    );
    let source = details
        .and_then(|m| text_field(m, "source"))
        .map(|s| format!(", source: {s}"))
        .unwrap_or_default();
    record.layout = format!(
        "hugging face card, co2_eq_emissions {}{source}",
        if details.is_some() {
            "mapping"
        } else {
            "number"
        }
    );
    record.model = model;
    if let Some(map) = details {
        record.phase = text_field(map, "training_type").and_then(|t| Phase::from_text(&t));
        record.place = Place {
            country: text_field(map, "geographical_location"),
            ..Place::default()
        };
        record.hardware = Hardware {
            gpu: text_field(map, "hardware_used"),
            ..Hardware::default()
        };
    }
    Ok(Parsed::one(record, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter() {
        let (front, line, body) = split("---\na: 1\n---\n# Title\n");
        assert_eq!((front, line, body), ("a: 1\n", 2, "# Title\n"));
        let (front, line, body) = split("a: 1\n");
        assert_eq!((front, line, body), ("a: 1\n", 1, ""));
    }

    #[test]
    fn kilograms_in_the_text() {
        assert!(body_says_kg("Emissions: 1.46 kg CO2.", "1.46"));
        assert!(body_says_kg("1.46 KgCO2", "1.46"));
        assert!(!body_says_kg("1.71 kg CO2eq", "1710"));
        assert!(!body_says_kg("21.46 kg", "1.46"));
        assert!(!body_says_kg("1.467 kg", "1.46"));
        assert!(!body_says_kg("CO2 Emissions (in grams): 7.3", "7.3"));
    }

    #[test]
    fn small_two_decimal_values_look_like_kg() {
        assert!(looks_like_kg(1.46, "1.46"));
        assert!(!looks_like_kg(7.300283563922049, "7.300283563922049"));
        assert!(!looks_like_kg(1710.0, "1710"));
        assert!(!looks_like_kg(12.5, "12.5"));
    }
}
