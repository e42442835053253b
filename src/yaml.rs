//! The one place YAML is loaded: strict deserialization plus a map from value paths to places.
//!
//! `serde_yaml` reports syntax errors, unknown keys and wrong types with their line and column.
//! Problems found later, during validation (a bad unit, a warn limit above the fail limit), are
//! located through [`Spans`], built from the same text with `yaml-rust2`'s marked events, keyed by
//! paths such as `budgets[0].limits.co2e.warn`.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::{Location, Problem};

/// Line and column (1-based) of every value in a YAML document, by path.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    places: HashMap<String, (u64, u64)>,
}

impl Spans {
    /// Spans from places already collected (line, 1-based column), by path.
    pub fn from_places(places: HashMap<String, (u64, u64)>) -> Self {
        Spans { places }
    }

    /// The place of the value at `path`, or of its nearest parent that has one, else the file.
    pub fn locate(&self, file: &Path, path: &str) -> Location {
        let mut path = path;
        loop {
            if let Some((line, column)) = self.places.get(path) {
                return Location::at(file, *line, *column);
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path = &path[..cut],
                None => return Location::file(file),
            }
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Collector {
    stack: Vec<Frame>,
    places: HashMap<String, (u64, u64)>,
    pending_key: Option<String>,
    /// The first tag (`!!binary`, `!custom`), as written, and the character index of the
    /// node it is on.
    tag: Option<(String, usize)>,
}

fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Collector {
    /// The path of the value that starts now, advancing the parent's position.
    fn next_value_path(&mut self, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(child(path, &k)),
                None => {
                    // This event is a key: remember it; its value comes next. The key's place
                    // stands for a mapping or sequence value (which starts on a later line).
                    let k = scalar.unwrap_or("?").to_owned();
                    let p = child(path, &k);
                    *key = Some(k);
                    self.pending_key = Some(p);
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Collector {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let place = (mark.line() as u64, mark.col() as u64 + 1);
        if self.tag.is_none()
            && let Event::Scalar(_, _, _, Some(tag))
            | Event::MappingStart(_, Some(tag))
            | Event::SequenceStart(_, Some(tag)) = &event
        {
            let handle = match tag.handle.as_str() {
                "tag:yaml.org,2002:" => "!!",
                h => h,
            };
            self.tag = Some((format!("{handle}{}", tag.suffix), mark.index()));
        }
        match event {
            Event::Scalar(value, ..) => match self.next_value_path(Some(&value)) {
                Some(path) => {
                    self.places.insert(path, place);
                }
                None => {
                    if let Some(key_path) = self.pending_key.take() {
                        self.places.insert(key_path, place);
                    }
                }
            },
            Event::Alias(_) => {
                if let Some(path) = self.next_value_path(None) {
                    self.places.insert(path, place);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.next_value_path(None).unwrap_or_default();
                // A mapping or sequence under a key is located at its key.
                self.places.entry(path.clone()).or_insert(place);
                self.stack
                    .push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, index: 0 }
                    });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// Deepest nesting accepted. Real policies, configurations, manifests and cards nest a few to a
/// few dozen levels; a deeper document is refused before parsing, because YAML parsers recurse
/// (100,000 nested `[` made the parser spin for minutes).
pub const MAX_DEPTH: usize = 100;

/// Refuse a YAML text nested deeper than [`MAX_DEPTH`] (flow `[`/`{` and compact `- - -` or
/// indentation levels), with the place where it gets too deep.
pub fn guard_depth(file: &Path, text: &str) -> Result<(), Box<Problem>> {
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        let mut dashes = 0;
        let mut rest = trimmed;
        while let Some(r) = rest.strip_prefix("- ") {
            dashes += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        for (col, c) in line.char_indices() {
            match (quote, c) {
                (None, '#') if col == 0 || line[..col].ends_with([' ', '\t']) => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow + dashes + indent / 2 > MAX_DEPTH {
                        return Err(Box::new(
                            Problem::new(
                                Location::at(file, n as u64 + 1, col as u64 + 1),
                                format!("nested more than {MAX_DEPTH} levels deep"),
                            )
                            .with_help(
                                "no carbon-gate file needs this; the file is corrupt or hostile",
                            ),
                        ));
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        if flow + dashes + indent / 2 > MAX_DEPTH {
            return Err(Box::new(
                Problem::new(
                    Location::line(file, n as u64 + 1),
                    format!("nested more than {MAX_DEPTH} levels deep"),
                )
                .with_help("no carbon-gate file needs this; the file is corrupt or hostile"),
            ));
        }
    }
    Ok(())
}

/// Deserialize `text` (the content of `file`) strictly into `T` and index its places. A YAML
/// tag anywhere (`!!binary`, `!!str`, `!custom`) is refused: serde would drop it silently or
/// change the value's type, so what the file says and what the gate reads could differ.
pub fn load<T: DeserializeOwned>(file: &Path, text: &str) -> Result<(T, Spans), Box<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    guard_depth(file, text)?;
    let mut collector = Collector::default();
    let mut parser = Parser::new_from_str(text);
    // A scan error is left to serde_yaml below, whose messages say more; what was indexed up to
    // it stays, and locations fall back to the parent or the file.
    let _ = parser.load(&mut collector, false);
    if let Some((tag, index)) = &collector.tag {
        return Err(tag_problem(file, text, tag, *index));
    }
    let value: T = serde_yaml::from_str(text).map_err(|err| {
        let location = match err.location() {
            Some(at) => Location::at(file, at.line() as u64, at.column() as u64),
            None => Location::file(file),
        };
        // serde_yaml prefixes its own "at line X column Y"; the location already says it.
        let message = err.to_string();
        let message = match message.find(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        Box::new(Problem::new(location, message))
    })?;
    Ok((
        value,
        Spans {
            places: collector.places,
        },
    ))
}

/// Refuse a YAML tag anywhere in `text`, for readers that deserialize without [`load`].
pub fn refuse_tags(file: &Path, text: &str) -> Result<(), Box<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut collector = Collector::default();
    let _ = Parser::new_from_str(text).load(&mut collector, false);
    match collector.tag {
        Some((tag, index)) => Err(tag_problem(file, text, &tag, index)),
        None => Ok(()),
    }
}

/// The problem of a tag found on the node that starts at character `index`: located at the
/// tag itself (the last time it is written before the node), else at the node.
fn tag_problem(file: &Path, text: &str, tag: &str, index: usize) -> Box<Problem> {
    let end = text
        .char_indices()
        .nth(index)
        .map_or(text.len(), |(byte, _)| byte);
    let at = text[..end].rfind(tag).unwrap_or(end);
    let before = &text[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    let location = Location::at(file, line, column);
    Box::new(
        Problem::new(
            location,
            format!(
                "YAML tags are not allowed: `{}` would be dropped or change the value's type without a word",
                crate::error::escape_text(tag)
            ),
        )
        .with_help("remove the tag and write the plain value"),
    )
}

/// As [`load`], but a key the JSON Schema `schema` does not allow does not end the reading:
/// every such key is reported (located, each once), the document is read without them, and the
/// caller can go on to report the other problems too. The problems found here come back with
/// the value; when the document cannot be read even without them, they come back as the error
/// (the first one as `load` words it).
pub fn load_reporting_unknown<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    schema: &serde_json::Value,
) -> Result<(T, Spans, Vec<Problem>), Vec<Problem>> {
    let first = match load::<T>(file, text) {
        Ok((value, spans)) => return Ok((value, spans, Vec::new())),
        Err(first) => first,
    };
    // Only a document refused for an unknown key is read again: one refused as too deep, tagged
    // or broken must not reach a parser.
    if !first.message.contains("unknown field `") {
        return Err(vec![*first]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(mut value) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Err(vec![*first]);
    };
    let mut unknown = Vec::new();
    unknown_keys(&mut value, schema, schema, "", 0, &mut unknown);
    if unknown.is_empty() {
        return Err(vec![*first]);
    }
    let mut collector = Collector::default();
    let _ = Parser::new_from_str(text).load(&mut collector, false);
    let spans = Spans {
        places: collector.places,
    };
    let mut problems = vec![*first];
    let more = unknown.len().saturating_sub(MAX_UNKNOWN_TOLD);
    unknown.truncate(MAX_UNKNOWN_TOLD);
    if more > 0 {
        problems.push(Problem::new(
            Location::file(file),
            format!("{more} more unknown keys (the first {MAX_UNKNOWN_TOLD} are listed)"),
        ));
    }
    for (path, message) in unknown {
        // The first is already told, in serde's words (which name the same field).
        let head = message.split(", expected").next().unwrap_or(&message);
        if !problems[0].message.starts_with(head) {
            problems.push(Problem::new(spans.locate(file, &path), message));
        }
    }
    problems.sort_by_key(|p| (p.location.line, p.location.column));
    match serde_yaml::from_value::<T>(value) {
        Ok(read) => Ok((read, spans, problems)),
        Err(err) => {
            problems.push(Problem::new(Location::file(file), err.to_string()));
            Err(problems)
        }
    }
}

/// Unknown keys told one by one; the others are counted.
const MAX_UNKNOWN_TOLD: usize = 100;

/// The deepest `$ref`/`anyOf` chain followed in a schema (schemars' are a few levels).
const MAX_SCHEMA_HOPS: usize = 32;

/// Remove from `value` every key its schema node (`node`, inside `root`) does not allow,
/// recording its path and the message that tells it.
fn unknown_keys(
    value: &mut serde_yaml::Value,
    node: &serde_json::Value,
    root: &serde_json::Value,
    path: &str,
    hops: usize,
    out: &mut Vec<(String, String)>,
) {
    if hops > MAX_SCHEMA_HOPS {
        return;
    }
    if let Some(target) = node.get("$ref").and_then(serde_json::Value::as_str) {
        let resolved = target
            .strip_prefix("#/")
            .map(|p| format!("/{p}"))
            .and_then(|p| root.pointer(&p));
        if let Some(next) = resolved {
            unknown_keys(value, next, root, path, hops + 1, out);
        }
        return;
    }
    // `Option<T>` and one-of-a-kind fields: only one branch that is not `null` can be followed.
    for combinator in ["anyOf", "oneOf"] {
        if let Some(branches) = node.get(combinator).and_then(serde_json::Value::as_array) {
            let real: Vec<&serde_json::Value> = branches
                .iter()
                .filter(|b| b.get("type").and_then(serde_json::Value::as_str) != Some("null"))
                .collect();
            if let [only] = real.as_slice() {
                unknown_keys(value, only, root, path, hops + 1, out);
            }
            return;
        }
    }
    match value {
        serde_yaml::Value::Mapping(map) => {
            let properties = node
                .get("properties")
                .and_then(serde_json::Value::as_object);
            let extra = node.get("additionalProperties");
            let mut drop = Vec::new();
            for (key, child) in map.iter_mut() {
                let Some(name) = key.as_str() else { continue };
                let child_path = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                match (properties.and_then(|p| p.get(name)), extra) {
                    (Some(schema), _) => unknown_keys(child, schema, root, &child_path, 0, out),
                    (None, Some(serde_json::Value::Bool(false))) if properties.is_some() => {
                        let expected: Vec<String> = properties
                            .map(|p| p.keys().map(|k| format!("`{k}`")).collect())
                            .unwrap_or_default();
                        // The path holds keys of maps whose keys are free (written by anyone).
                        let at = if path.is_empty() {
                            String::new()
                        } else {
                            format!("{}: ", crate::error::escape_text(path))
                        };
                        out.push((
                            child_path,
                            format!(
                                "{at}unknown field `{}`, expected one of {}",
                                crate::error::escape_text(name),
                                expected.join(", ")
                            ),
                        ));
                        drop.push(key.clone());
                    }
                    (None, Some(schema @ serde_json::Value::Object(_))) => {
                        unknown_keys(child, schema, root, &child_path, 0, out);
                    }
                    _ => {}
                }
            }
            for key in drop {
                map.remove(&key);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            if let Some(schema) = node.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    unknown_keys(item, schema, root, &format!("{path}[{i}]"), 0, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let f = Path::new("d.yaml");
        let deep = format!("a: {}{}\n", "[".repeat(101), "]".repeat(101));
        let err = guard_depth(f, &deep).unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "d.yaml:1:104: nested more than 100 levels deep"
        );
        assert!(guard_depth(f, &format!("a: {}{}\n", "[".repeat(99), "]".repeat(99))).is_ok());
        assert!(guard_depth(f, &format!("{}x\n", "- ".repeat(101))).is_err());
        assert!(guard_depth(f, "a: \"[[[[[[\" # [[[[\n").is_ok());
    }

    #[test]
    fn tags_are_refused_where_they_are() {
        let f = Path::new("p.yaml");
        for (text, at, tag) in [
            (
                "version: 1\nname: !!binary aGVsbG8=\n",
                "p.yaml:2:7",
                "!!binary",
            ),
            ("a:\n  - !custom { x: 1 }\n", "p.yaml:2:5", "!custom"),
            ("a: !!str 5\n", "p.yaml:1:4", "!!str"),
            ("!!map\na: 1\n", "p.yaml:1:1", "!!map"),
        ] {
            let err = load::<serde_yaml::Value>(f, text).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{at}: YAML tags are not allowed: `")),
                "{err}"
            );
            assert!(err.contains(tag), "{err}");
            assert!(refuse_tags(f, text).is_err());
        }
        // `!` inside a value or a comment is not a tag.
        assert!(load::<serde_yaml::Value>(f, "a: \"!!x\" # !y\nb: c!d\n").is_ok());
    }

    #[test]
    fn indexes_nested_paths() {
        let text = "version: 1\nbudgets:\n  - model: a\n    limits:\n      co2e: { warn: \"8 kg\", fail: 9 }\n";
        let (_, spans): (serde_yaml::Value, _) = load(Path::new("p.yaml"), text).unwrap();
        let f = Path::new("p.yaml");
        assert_eq!(spans.locate(f, "version").to_string(), "p.yaml:1:10");
        assert_eq!(
            spans.locate(f, "budgets[0].model").to_string(),
            "p.yaml:3:12"
        );
        assert_eq!(
            spans.locate(f, "budgets[0].limits.co2e.warn").to_string(),
            "p.yaml:5:21"
        );
        assert_eq!(
            spans.locate(f, "budgets[0].limits.co2e.fail").to_string(),
            "p.yaml:5:35"
        );
        // Unknown paths fall back to the nearest parent.
        assert_eq!(
            spans.locate(f, "budgets[0].limits.energy").to_string(),
            "p.yaml:4:5"
        );
    }
}
