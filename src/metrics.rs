//! Quality metrics of a model version (`{"accuracy": 0.912, "f1": 0.88}`), read from a small
//! JSON or YAML file, or carried by carbon-gate records (`metrics`). Values must be finite numbers;
//! nested mappings are read with dotted names (`eval.f1`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Location, Problem};

/// Metric name → value.
pub type Metrics = BTreeMap<String, f64>;

fn flatten(prefix: &str, value: &serde_yaml::Value, out: &mut Metrics, bad: &mut Vec<String>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let key = match k {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let name = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, v, out, bad);
            }
        }
        serde_yaml::Value::Number(n) => match n.as_f64() {
            Some(v) if v.is_finite() => {
                out.insert(prefix.to_owned(), v);
            }
            _ => bad.push(prefix.to_owned()),
        },
        // Strings, lists and nulls are not metrics; they are ignored unless nothing is left.
        _ => {}
    }
}

/// Read a metrics file (JSON is YAML, so one reader serves both).
pub fn load(path: &Path) -> Result<Metrics, Error> {
    let text = crate::bounded::read_named_text(path, crate::bounded::MAX_SMALL_DOCUMENT).map_err(
        |err| {
            Error::input(Problem::new(
                Location::file(path),
                format!("cannot read metrics: {err}"),
            ))
        },
    )?;
    let text = crate::bounded::normalize(&text);
    crate::yaml::guard_depth(path, &text).map_err(Error::Input)?;
    crate::yaml::refuse_tags(path, &text).map_err(Error::Input)?;
    let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|err| {
        let location = match err.location() {
            Some(at) => Location::at(path, at.line() as u64, at.column() as u64),
            None => Location::file(path),
        };
        Error::input(Problem::new(location, format!("metrics file: {err}")))
    })?;
    let mut metrics = Metrics::new();
    let mut bad = Vec::new();
    flatten("", &value, &mut metrics, &mut bad);
    if let Some(name) = bad.first() {
        return Err(Error::input(Problem::new(
            Location::file(path).with_path(name.clone()),
            format!("metric `{name}` is not a finite number"),
        )));
    }
    if metrics.is_empty() {
        return Err(Error::input(
            Problem::new(Location::file(path), "metrics file holds no numeric metric")
                .with_help("write e.g. {\"accuracy\": 0.912, \"f1\": 0.88}"),
        ));
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested() {
        let v: serde_yaml::Value = serde_yaml::from_str(
            "{\"accuracy\": 0.912, \"eval\": {\"f1\": 0.88}, \"note\": \"x\"}",
        )
        .unwrap();
        let mut m = Metrics::new();
        let mut bad = Vec::new();
        flatten("", &v, &mut m, &mut bad);
        assert_eq!(m.get("accuracy"), Some(&0.912));
        assert_eq!(m.get("eval.f1"), Some(&0.88));
        assert_eq!(m.len(), 2);
        assert!(bad.is_empty());
    }
}
