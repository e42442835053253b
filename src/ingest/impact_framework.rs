//! Green Software Foundation Impact Framework output manifests (`if-run` 1.x, YAML).
//!
//! The tree is walked; every leaf component becomes one record (a component of one run: the
//! manifest). A leaf's figures are the exact sums over its `outputs` of `energy`,
//! `carbon-operational` (or `operational-carbon`), `embodied-carbon` (or `carbon-embodied`) and
//! `carbon` (operational + embodied). IF's own `aggregated` values are not taken as they are —
//! a metric without a declared aggregation method is *copied* (the last value), not summed — but
//! they are compared with the sums where IF sums, and a difference is reported.
//!
//! Units: IF does not fix them. Declared units are read from `explain` and from each plugin's
//! `parameter-metadata`; without a declaration the IF convention is used (energy kWh, carbon
//! grams) and said in a warning. A unit the tool cannot convert is refused.
//!
//! `if-run` exits 0 even when it failed: a manifest with `execution.status: fail` is refused with
//! IF's own error text, and a manifest that was never run (no outputs) is refused with the command
//! to run first (in a directory walk it is skipped with a warning instead).

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::Parsed;
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Part, Phase, RunRecord};
use crate::units::{Duration, Energy, Mass, exact_sum};
use crate::yaml::{self, Spans};

/// Names IF manifests use for each quantity, in order of preference.
const ENERGY: &[&str] = &["energy"];
const OPERATIONAL: &[&str] = &["carbon-operational", "operational-carbon"];
const EMBODIED: &[&str] = &["embodied-carbon", "carbon-embodied"];
const TOTAL: &[&str] = &["carbon"];

/// Whether `text` is an Impact Framework manifest (input or output).
pub fn detect(text: &str) -> bool {
    let top = |key: &str| text.lines().any(|l| l.starts_with(key));
    top("tree:") && (top("initialize:") || top("execution:"))
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|m| m.get(key))
}

/// Declared unit and time-aggregation method of each parameter, with where it was declared.
#[derive(Debug, Default)]
struct Declared {
    units: BTreeMap<String, Vec<(String, String)>>,
    time_methods: BTreeMap<String, String>,
}

fn collect_metadata(params: Option<&Value>, at: &str, declared: &mut Declared) {
    let Some(params) = params.and_then(Value::as_mapping) else {
        return;
    };
    for (name, meta) in params {
        let Some(name) = name.as_str() else { continue };
        if let Some(unit) = get(meta, "unit").and_then(Value::as_str) {
            declared
                .units
                .entry(name.to_owned())
                .or_default()
                .push((unit.to_owned(), format!("{at}.{name}.unit")));
        }
        if let Some(method) = get(meta, "aggregation-method")
            .and_then(|m| get(m, "time"))
            .and_then(Value::as_str)
        {
            declared
                .time_methods
                .entry(name.to_owned())
                .or_insert_with(|| method.to_owned());
        }
    }
}

fn declared_metadata(manifest: &Value) -> Declared {
    let mut declared = Declared::default();
    if let Some(plugins) = get(manifest, "initialize")
        .and_then(|i| get(i, "plugins"))
        .and_then(Value::as_mapping)
    {
        for (name, plugin) in plugins {
            let Some(name) = name.as_str() else { continue };
            let meta = get(plugin, "parameter-metadata");
            for side in ["inputs", "outputs"] {
                collect_metadata(
                    meta.and_then(|m| get(m, side)),
                    &format!("initialize.plugins.{name}.parameter-metadata.{side}"),
                    &mut declared,
                );
            }
        }
    }
    if let Some(explain) = get(manifest, "explain").and_then(Value::as_mapping) {
        for (name, plugin) in explain {
            let Some(name) = name.as_str() else { continue };
            for side in ["inputs", "outputs"] {
                collect_metadata(
                    get(plugin, side),
                    &format!("explain.{name}.{side}"),
                    &mut declared,
                );
            }
        }
    }
    declared
}

/// Factor from a declared energy unit to kWh.
fn energy_factor(unit: &str) -> Option<f64> {
    match unit.trim() {
        "kWh" | "kwh" | "KWh" => Some(1.0),
        "Wh" | "wh" => Some(1e-3),
        "MWh" => Some(1e3),
        "J" | "joules" => Some(1.0 / 3.6e6),
        "kJ" => Some(1.0 / 3.6e3),
        "MJ" => Some(1.0 / 3.6),
        _ => None,
    }
}

/// Factor from a declared carbon unit to kg CO2e.
fn carbon_factor(unit: &str) -> Option<f64> {
    let u = unit.trim().to_ascii_lowercase().replace([' ', '-'], "");
    let u = u
        .strip_suffix("co2eq")
        .or_else(|| u.strip_suffix("co2e"))
        .or_else(|| u.strip_suffix("co2"))
        .unwrap_or(&u);
    match u {
        "g" | "gram" | "grams" => Some(1e-3),
        "kg" => Some(1.0),
        "t" | "tonne" | "tonnes" => Some(1e3),
        "mg" => Some(1e-6),
        _ => None,
    }
}

/// The unit factor of a parameter: declared (all declarations must agree), or the IF convention.
fn factor(
    file: &Path,
    spans: &Spans,
    declared: &Declared,
    param: &str,
    convert: fn(&str) -> Option<f64>,
    convention: (&str, f64),
    assumed: &mut Vec<String>,
) -> Result<f64, Error> {
    let Some(units) = declared.units.get(param) else {
        assumed.push(format!("{param} in {}", convention.0));
        return Ok(convention.1);
    };
    let mut result: Option<(f64, &str)> = None;
    for (unit, at) in units {
        let Some(f) = convert(unit) else {
            return Err(Error::input(
                Problem::new(
                    spans.locate(file, at).with_path(at.clone()),
                    format!(
                        "`{param}` is declared in unit \"{unit}\", which carbon-gate cannot convert"
                    ),
                )
                .with_help(if convention.0 == "kWh" {
                    "declare energy in Wh, kWh, MWh, J, kJ or MJ"
                } else {
                    "declare carbon in mg, g, kg or t (optionally CO2e/CO2eq)"
                }),
            ));
        };
        match result {
            Some((g, first)) if (g - f).abs() > f64::EPSILON * g.abs() => {
                return Err(Error::input(Problem::new(
                    spans.locate(file, at).with_path(at.clone()),
                    format!(
                        "`{param}` is declared as \"{unit}\" here and as \"{first}\" elsewhere: the units disagree"
                    ),
                )));
            }
            Some(_) => {}
            None => result = Some((f, unit)),
        }
    }
    Ok(result.map_or(convention.1, |(f, _)| f))
}

/// One leaf's sums, in the manifest's units.
#[derive(Debug, Default)]
struct Sums {
    values: BTreeMap<&'static str, f64>,
    duration: Option<f64>,
    timestamp: Option<String>,
}

fn leaf_sums(file: &Path, spans: &Spans, path: &str, outputs: &[Value]) -> Result<Sums, Error> {
    let mut sums = Sums::default();
    let names: Vec<&'static str> = [ENERGY, OPERATIONAL, EMBODIED, TOTAL]
        .iter()
        .flat_map(|n| n.iter().copied())
        .chain(["duration"])
        .collect();
    let mut columns: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for (i, output) in outputs.iter().enumerate() {
        for &name in &names {
            let Some(value) = get(output, name) else {
                continue;
            };
            let at = format!("{path}.outputs[{i}].{name}");
            let number = value
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    Error::input(Problem::new(
                        spans.locate(file, &at).with_path(at.clone()),
                        format!(
                            "`{name}` is {}: expected a finite number, zero or more",
                            show(value)
                        ),
                    ))
                })?;
            columns.entry(name).or_default().push(number);
        }
    }
    sums.timestamp = outputs
        .first()
        .and_then(|o| get(o, "timestamp"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    for (name, values) in columns {
        let total = exact_sum(values);
        if name == "duration" {
            sums.duration = Some(total);
        } else {
            sums.values.insert(name, total);
        }
    }
    Ok(sums)
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn first(sums: &Sums, names: &[&'static str]) -> Option<(&'static str, f64)> {
    names
        .iter()
        .find_map(|&n| sums.values.get(n).map(|v| (n, *v)))
}

/// A leaf of the tree: its path (`tree.children.a.children.b`) and its node.
fn leaves<'a>(node: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match get(node, "children").and_then(Value::as_mapping) {
        Some(children) if !children.is_empty() => {
            for (name, child) in children {
                let name = name
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| show(name));
                leaves(child, format!("{path}.children.{name}"), out);
            }
        }
        _ => out.push((path, node)),
    }
}

/// Read an output manifest. In a directory walk (`quiet_if_never_run`) a manifest that was never
/// run is skipped with a warning rather than refused.
pub fn parse(file: &Path, text: &str, quiet_if_never_run: bool) -> Result<Parsed, Error> {
    let (manifest, spans): (Value, Spans) = yaml::load(file, text).map_err(|mut p| {
        p.message = format!("Impact Framework manifest: {}", p.message);
        Error::Input(p)
    })?;
    if !manifest.is_mapping() {
        return Err(Error::input(Problem::new(
            Location::file(file),
            "Impact Framework manifest is not a YAML mapping",
        )));
    }
    let execution = get(&manifest, "execution");
    if let Some(status) = execution
        .and_then(|e| get(e, "status"))
        .and_then(Value::as_str)
        && status != "success"
    {
        let error = execution
            .and_then(|e| get(e, "error"))
            .and_then(Value::as_str)
            .unwrap_or("(no error text)");
        return Err(Error::input(
            Problem::new(
                spans
                    .locate(file, "execution.status")
                    .with_path("execution"),
                format!("if-run recorded a failed run (status: {status}): {error}"),
            )
            .with_help("if-run exits 0 even when it fails; fix the manifest and run if-run again"),
        ));
    }
    let Some(tree) = get(&manifest, "tree") else {
        return Err(Error::input(
            Problem::new(
                Location::file(file),
                "Impact Framework manifest has no `tree`",
            )
            .with_help("an IF manifest describes components under `tree:`; see the IF docs"),
        ));
    };
    let mut found = Vec::new();
    leaves(tree, "tree".to_owned(), &mut found);
    let ran = execution.is_some() || found.iter().any(|(_, node)| get(node, "outputs").is_some());
    if !ran {
        let message = format!(
            "Impact Framework manifest was never run (no execution, no outputs): run `if-run -m {} -o <output>.yaml` and pass the output",
            file.display()
        );
        if quiet_if_never_run {
            return Ok(Parsed {
                records: Vec::new(),
                warnings: vec![Warning::at(
                    codes::SKIPPED_FILE,
                    Location::file(file),
                    message,
                )],
                layout: "impact framework input manifest (not run)".to_owned(),
            });
        }
        return Err(Error::input(Problem::new(Location::file(file), message)));
    }
    let declared = declared_metadata(&manifest);
    let mut assumed = Vec::new();
    let mut warnings = Vec::new();
    let energy_factor_kwh = factor(
        file,
        &spans,
        &declared,
        "energy",
        energy_factor,
        ("kWh", 1.0),
        &mut assumed,
    )?;
    let name = get(&manifest, "name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let tags = get(&manifest, "tags").and_then(Value::as_mapping);
    let tag = |k: &str| -> Option<String> {
        tags.and_then(|t: &Mapping| t.get(k)).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let model = tag("model").or(name.clone());
    let version = tag("version");
    let phase = tag("phase")
        .or_else(|| tag("category"))
        .and_then(|p| Phase::from_text(&p));
    let if_version = execution
        .and_then(|e| get(e, "environment"))
        .and_then(|e| get(e, "if-version"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let run_id = format!("if:{}", file.display());
    let mut records = Vec::new();
    let mut carbon_factors: BTreeMap<&'static str, f64> = BTreeMap::new();
    for (path, node) in &found {
        let Some(outputs) = get(node, "outputs").and_then(Value::as_sequence) else {
            return Err(Error::input(Problem::new(
                spans.locate(file, path).with_path(path.clone()),
                "component has no `outputs` although the manifest ran",
            )));
        };
        let sums = leaf_sums(file, &spans, path, outputs)?;
        let mut kg = |names: &[&'static str]| -> Result<Option<(&'static str, f64)>, Error> {
            let Some((n, v)) = first(&sums, names) else {
                return Ok(None);
            };
            let f = match carbon_factors.get(n) {
                Some(f) => *f,
                None => {
                    let f = factor(
                        file,
                        &spans,
                        &declared,
                        n,
                        carbon_factor,
                        ("g", 1e-3),
                        &mut assumed,
                    )?;
                    carbon_factors.insert(n, f);
                    f
                }
            };
            Ok(Some((n, v * f)))
        };
        let operational = kg(OPERATIONAL)?;
        let embodied = kg(EMBODIED)?;
        let total = kg(TOTAL)?;
        let co2e = match (total, operational, embodied) {
            (Some((_, t)), ..) => t,
            (None, None, None) => {
                return Err(Error::input(
                    Problem::new(
                        spans.locate(file, &format!("{path}.outputs")).with_path(path.clone()),
                        "component has no carbon output (`carbon`, `carbon-operational` or `embodied-carbon`)",
                    )
                    .with_help("add a plugin that computes carbon, or leave this manifest out"),
                ));
            }
            (None, o, e) => o.map_or(0.0, |x| x.1) + e.map_or(0.0, |x| x.1),
        };
        let component = path
            .strip_prefix("tree.children.")
            .unwrap_or(path)
            .replace(".children.", "/");
        let mut record = RunRecord::new(
            spans
                .locate(file, &format!("{path}.outputs"))
                .with_path(path.clone()),
            Format::ImpactFramework,
            run_id.clone(),
            Mass::kg(co2e),
        );
        record.part = Some(Part::Component(component.clone()));
        record.energy = first(&sums, ENERGY).map(|(_, e)| Energy::kwh(e * energy_factor_kwh));
        record.embodied = embodied.map(|(_, e)| Mass::kg(e));
        record.duration = sums.duration.map(Duration::seconds);
        record.timestamp = sums.timestamp.clone();
        record.model = model.clone();
        record.version = version.clone();
        record.phase = phase;
        record.tool_version = if_version.clone();
        record.layout = format!(
            "impact framework {} output manifest",
            if_version.as_deref().unwrap_or("1.x")
        );
        compare_aggregated(file, &spans, &declared, path, node, &sums, &mut warnings);
        records.push(record);
    }
    if !assumed.is_empty() {
        assumed.sort();
        assumed.dedup();
        warnings.push(Warning::at(
            codes::IF_UNITS_ASSUMED,
            Location::file(file),
            format!(
                "no unit declared for {}: read with the Impact Framework convention",
                assumed.join(", ")
            ),
        ));
    }
    Ok(Parsed {
        layout: records
            .first()
            .map(|r| r.layout.clone())
            .unwrap_or_default(),
        records,
        warnings,
    })
}

/// Compare a leaf's exact sums with IF's own `aggregated` values where IF sums over time.
fn compare_aggregated(
    file: &Path,
    spans: &Spans,
    declared: &Declared,
    path: &str,
    node: &Value,
    sums: &Sums,
    warnings: &mut Vec<Warning>,
) {
    let Some(aggregated) = get(node, "aggregated").and_then(Value::as_mapping) else {
        return;
    };
    for (name, ours) in &sums.values {
        let Some(theirs) = aggregated.get(*name).and_then(Value::as_f64) else {
            continue;
        };
        let close = (ours - theirs).abs() <= 1e-9 * ours.abs().max(theirs.abs());
        if close {
            continue;
        }
        let method = declared
            .time_methods
            .get(*name)
            .map_or("copy (no method declared)", String::as_str);
        let at = format!("{path}.aggregated.{name}");
        warnings.push(Warning::at(
            codes::IF_AGGREGATE_DIFFERS,
            spans.locate(file, &at).with_path(at.clone()),
            format!(
                "IF's aggregated {name} is {theirs} but its outputs add up to {ours} (IF's time aggregation for {name}: {method}); carbon-gate counts the sum of the outputs"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_factors() {
        assert_eq!(energy_factor("Wh"), Some(1e-3));
        assert_eq!(energy_factor("kWh"), Some(1.0));
        assert_eq!(energy_factor("bananas"), None);
        assert_eq!(carbon_factor("gCO2e"), Some(1e-3));
        assert_eq!(carbon_factor("gCO2eq"), Some(1e-3));
        assert_eq!(carbon_factor("kgCO2e"), Some(1.0));
        assert_eq!(carbon_factor("g"), Some(1e-3));
        assert_eq!(carbon_factor("bananas"), None);
    }
}
