//! Green Software Foundation Impact Framework output manifests (`if-run` 1.x, YAML).
//!
//! The manifest is read as a stream of YAML events ([`events`]), never as a document tree, so
//! that a manifest of a million observations is read in memory that grows with its components,
//! not its observations, and a manifest of any size can be read from a reader. Every leaf
//! component becomes one record (a component of one run: the
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

use std::io::Read;

use serde_yaml::{Mapping, Value};

use super::Parsed;
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::record::{Format, Part, Phase, RunRecord};
use crate::units::{Duration, Energy, Mass};
use crate::yaml::{self, Spans};

pub mod events;

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
}

impl Sums {
    /// The sums of a leaf's outputs (those of its figures that occur at all).
    fn of(outputs: &events::Outputs) -> Sums {
        let mut sums = Sums::default();
        for (name, sum) in events::FIGURES.iter().zip(&outputs.sums) {
            let Some(sum) = sum else { continue };
            if *name == "duration" {
                sums.duration = Some(sum.value());
            } else {
                sums.values.insert(name, sum.value());
            }
        }
        sums
    }
}

fn first(sums: &Sums, names: &[&'static str]) -> Option<(&'static str, f64)> {
    names
        .iter()
        .find_map(|&n| sums.values.get(n).map(|v| (n, *v)))
}

/// Read an output manifest held in memory. In a directory walk (`quiet_if_never_run`) a manifest
/// that was never run is skipped with a warning rather than refused.
pub fn parse(file: &Path, text: &str, quiet_if_never_run: bool) -> Result<Parsed, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let manifest = match events::read(&mut text.as_bytes()) {
        Ok(manifest) => manifest,
        Err(stop) => {
            // The whole-document reader's message for the same text, where it has one: it
            // says more about broken YAML, and it is what earlier versions said.
            if let Err(problem) = yaml::load::<Value>(file, text) {
                return Err(yaml_problem(*problem));
            }
            return Err(stopped(file, stop));
        }
    };
    yaml::guard_depth(file, text).map_err(|p| yaml_problem(*p))?;
    records(file, manifest, quiet_if_never_run)
}

/// Read an output manifest from `reader` (its bytes from the start), in memory bounded by the
/// number of components: the way a manifest larger than what is read whole is read. A message
/// about broken YAML is `yaml-rust2`'s here (the caller may read a file small enough whole
/// again, with [`parse`], for the message a whole read gives).
pub fn parse_reader(
    file: &Path,
    reader: &mut dyn Read,
    quiet_if_never_run: bool,
) -> Result<Parsed, Error> {
    let manifest = events::read(reader).map_err(|stop| stopped(file, stop))?;
    records(file, manifest, quiet_if_never_run)
}

fn yaml_problem(mut problem: Problem) -> Error {
    problem.message = format!("Impact Framework manifest: {}", problem.message);
    Error::Input(Box::new(problem))
}

/// The error for a read that stopped.
fn stopped(file: &Path, stop: events::Stop) -> Error {
    match stop {
        events::Stop::Syntax(s) => {
            let location = match s.place {
                Some((line, column)) => Location::at(file, line, column),
                None => Location::file(file),
            };
            let mut problem = Problem::new(location, s.message);
            if let Some(help) = s.help {
                problem = problem.with_help(help);
            }
            yaml_problem(problem)
        }
        events::Stop::Broken(events::Broken::NotUtf8(at)) => super::not_utf8(file, at),
        events::Stop::Broken(events::Broken::Nul(at)) => super::binary(file, at),
        events::Stop::Broken(events::Broken::Io(err)) => {
            super::cannot_read(file, std::io::Error::other(err))
        }
        events::Stop::Broken(events::Broken::TooLong(line)) => Error::input(
            Problem::new(
                Location::line(file, line),
                format!(
                    "Impact Framework manifest: one value is longer than {} characters",
                    events::MAX_VALUE_CHARS
                ),
            )
            .with_help("no manifest needs this; the file is corrupt or hostile"),
        ),
    }
}

/// The records of a manifest read.
fn records(file: &Path, read: events::Manifest, quiet_if_never_run: bool) -> Result<Parsed, Error> {
    if !read.mapping {
        return Err(Error::input(Problem::new(
            Location::file(file),
            "Impact Framework manifest is not a YAML mapping",
        )));
    }
    let spans = Spans::from_places(read.places);
    let manifest = Value::Mapping(read.top);
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
    if !read.tree {
        return Err(Error::input(
            Problem::new(
                Location::file(file),
                "Impact Framework manifest has no `tree`",
            )
            .with_help("an IF manifest describes components under `tree:`; see the IF docs"),
        ));
    }
    let found = read.leaves;
    let ran = execution.is_some() || found.iter().any(|leaf| leaf.outputs.is_some());
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
    for leaf in &found {
        let path = &leaf.path;
        let at = |place: events::Place| Location::at(file, place.0, place.1);
        let Some((outputs, outputs_place)) = leaf
            .outputs
            .as_ref()
            .and_then(|o| o.sequence.map(|place| (o, place)))
        else {
            return Err(Error::input(Problem::new(
                at(leaf.place).with_path(path.clone()),
                "component has no `outputs` although the manifest ran",
            )));
        };
        if let Some(bad) = &outputs.bad {
            return Err(Error::input(Problem::new(
                at(bad.place).with_path(bad.path.clone()),
                format!(
                    "`{}` is {}: expected a finite number, zero or more",
                    events::FIGURES[bad.figure],
                    bad.shown
                ),
            )));
        }
        let sums = Sums::of(outputs);
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
                        at(outputs_place).with_path(path.clone()),
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
            at(outputs_place).with_path(path.clone()),
            Format::ImpactFramework,
            run_id.clone(),
            Mass::kg(co2e),
        );
        record.part = Some(Part::Component(component.clone()));
        record.energy = first(&sums, ENERGY).map(|(_, e)| Energy::kwh(e * energy_factor_kwh));
        record.embodied = embodied.map(|(_, e)| Mass::kg(e));
        record.duration = sums.duration.map(Duration::seconds);
        record.timestamp = outputs.timestamp.clone();
        record.model = model.clone();
        record.version = version.clone();
        record.phase = phase;
        record.tool_version = if_version.clone();
        record.layout = format!(
            "impact framework {} output manifest",
            if_version.as_deref().unwrap_or("1.x")
        );
        compare_aggregated(file, &declared, leaf, &sums, &mut warnings);
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
    declared: &Declared,
    leaf: &events::Leaf,
    sums: &Sums,
    warnings: &mut Vec<Warning>,
) {
    for (name, ours) in &sums.values {
        // The first `aggregated` entry of this name (a mapping holds one).
        let Some(&(_, theirs, place)) = leaf
            .aggregated
            .iter()
            .find(|(f, _, _)| events::FIGURES[*f] == *name)
        else {
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
        let at = format!("{}.aggregated.{name}", leaf.path);
        warnings.push(Warning::at(
            codes::IF_AGGREGATE_DIFFERS,
            Location::at(file, place.0, place.1).with_path(at),
            format!(
                "IF's aggregated {name} is {theirs} but its outputs add up to {ours} (IF's time aggregation for {name}: {method}); carbon-gate counts the sum of the outputs"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::tests::Trickle;

    /// What a read gave, comparable: records and warnings, or the error, as text.
    fn outcome(result: Result<Parsed, Error>) -> String {
        match result {
            Ok(parsed) => format!(
                "{}\n{:#?}\n{:#?}",
                parsed.layout, parsed.records, parsed.warnings
            ),
            Err(err) => format!("error: {err}"),
        }
    }

    fn fixtures() -> Vec<std::path::PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/impact-framework");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(files.len() >= 20, "{files:?}");
        files
    }

    #[test]
    fn a_streamed_manifest_reads_like_one_read_whole() {
        for path in fixtures() {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = Path::new("m.yaml");
            for quiet in [false, true] {
                let whole = outcome(parse(file, &text, quiet));
                for step in [1, 2, 3, 7, 4096] {
                    let mut reader = Trickle {
                        bytes: text.as_bytes(),
                        step,
                    };
                    let streamed = outcome(parse_reader(file, &mut reader, quiet));
                    assert_eq!(streamed, whole, "{} step {step}", path.display());
                }
                // With CRLF line ends and a BOM, as the whole read normalizes them.
                let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
                let mut reader = Trickle {
                    bytes: crlf.as_bytes(),
                    step: 5,
                };
                let streamed = outcome(parse_reader(file, &mut reader, quiet));
                assert_eq!(streamed, whole, "{} (CRLF)", path.display());
            }
        }
    }

    fn manifest(body: &str) -> String {
        format!(
            "name: m\ninitialize:\n  plugins: {{}}\nexecution:\n  status: success\ntree:\n  children:\n    a:\n      outputs:\n{body}"
        )
    }

    fn streamed_error(text: &str) -> String {
        let mut reader = Trickle {
            bytes: text.as_bytes(),
            step: 1 << 16,
        };
        parse_reader(Path::new("m.yaml"), &mut reader, false)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn alias_bombs_deep_nesting_and_long_values_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10u8 {
            let (prev, cur) = ((b'a' + i - 1) as char, (b'a' + i) as char);
            bomb.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = streamed_error(&format!("{bomb}{}", manifest("        - carbon: 1\n")));
        assert!(err.contains("m.yaml:"), "{err}");
        assert!(
            err.contains("YAML aliases expand to more than 1000000 nodes"),
            "{err}"
        );

        let deep = format!("tree: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let err = streamed_error(&deep);
        assert!(err.contains("m.yaml:1:"), "{err}");
        // yaml-rust2 stops flow nesting itself; deeper block nesting is stopped at 100 levels.
        assert!(err.contains("recursion limit exceeded"), "{err}");
        let mut block = String::from("tree:\n");
        for depth in 1..=120 {
            block.push_str(&format!("{}k{depth}:\n", "  ".repeat(depth)));
        }
        let err = streamed_error(&block);
        assert!(err.contains("nested more than 100 levels deep"), "{err}");
        assert!(started.elapsed().as_secs() < 5);

        let long = manifest(&format!(
            "        - carbon: 1\n          note: \"{}\"\n",
            "x".repeat(events::MAX_VALUE_CHARS + 10)
        ));
        let err = streamed_error(&long);
        assert!(err.contains("one value is longer than"), "{err}");
    }

    #[test]
    fn small_aliases_are_read_like_their_anchors() {
        let plain = manifest(
            "        - energy: 2\n          carbon: 3\n        - energy: 2\n          carbon: 3\n",
        );
        let aliased =
            manifest("        - &row\n          energy: 2\n          carbon: 3\n        - *row\n");
        let file = Path::new("m.yaml");
        let a = parse(file, &plain, false).unwrap();
        let b = parse(file, &aliased, false).unwrap();
        assert_eq!(a.records.len(), 1);
        assert_eq!(a.records[0].emissions, b.records[0].emissions);
        assert_eq!(a.records[0].energy, b.records[0].energy);
    }

    #[test]
    fn bad_figures_are_shown_as_written() {
        for (value, shown) in [
            ("-1", "-1"),
            ("'lots'", "\"lots\""),
            (".nan", ".nan"),
            ("[1, 2]", "- 1\\n- 2"),
            ("null", "null"),
            ("-1.50", "-1.5"),
        ] {
            let text = manifest(&format!("        - carbon: 1\n          energy: {value}\n"));
            let whole = parse(Path::new("m.yaml"), &text, false)
                .unwrap_err()
                .to_string();
            assert!(
                whole.contains(&format!("`energy` is {shown}: expected a finite number")),
                "{whole}"
            );
            assert_eq!(streamed_error(&text), whole);
        }
    }

    #[test]
    fn plain_numbers_read_as_serde_yaml_reads_them() {
        for text in [
            "0",
            "-0",
            "1",
            "+1",
            "12.5",
            "1e3",
            "1E-3",
            "-2.5e+2",
            "1.",
            ".5",
            "007",
            "0.5",
            "1_000",
            "0x1F",
            "1e999",
            "12345678901234567890",
            "+-1",
            "1.2.3",
        ] {
            let ours = scalar_value_for_test(text);
            let theirs: Value = serde_yaml::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    fn scalar_value_for_test(text: &str) -> Value {
        events::scalar_value(text, yaml_rust2::scanner::TScalarStyle::Plain)
    }

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
