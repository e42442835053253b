//! One pass over the YAML events of an Impact Framework output manifest, keeping only what the
//! records need.
//!
//! The manifest is read as a stream of `yaml-rust2` events from a character source (a text in
//! memory, or a reader decoded as it goes), never as a document tree: memory grows with the
//! number of components, not with the number of observations. What is kept:
//!
//! - every top-level value but `tree` (`name`, `tags`, `initialize`, `explain`, `execution`, …)
//!   as a `serde_yaml::Value`, with the places of its parts (they are small);
//! - per leaf component of the tree: its path and place, exact running sums of the `outputs`
//!   figures, the first output's timestamp, the first figure that is no number (with its place),
//!   and IF's own `aggregated` figures.
//!
//! Hostile input is bounded: nesting deeper than [`yaml::MAX_DEPTH`], one value longer than
//! [`MAX_VALUE_CHARS`], more than [`MAX_COMPONENTS`] leaves, more than [`MAX_KEPT_NODES`] nodes
//! outside the tree, and aliases that would expand to more than [`MAX_ALIAS_NODES`] nodes are
//! refused; an alias is replayed from the events its anchor recorded, never expanded as a tree.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

use serde_yaml::{Mapping, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::units::ExactSum;
use crate::yaml;

/// The longest single value (or run of blanks and comments between two values) read, in
/// characters: 16 Mi. A manifest's values are numbers, names and short texts.
pub const MAX_VALUE_CHARS: usize = 16 << 20;

/// The most leaf components a manifest may have: 100,000 (each becomes a record; real trees
/// have a few to a few hundred).
pub const MAX_COMPONENTS: usize = 100_000;

/// The most nodes kept outside the tree (metadata, `explain`, `execution`, tags) and in values
/// shown in messages: 1,000,000.
pub const MAX_KEPT_NODES: usize = 1_000_000;

/// The most nodes aliases may add by being replayed (and anchors may record): 1,000,000.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// How many bytes are read at a time.
const CHUNK: usize = 256 << 10;

/// Line and 1-based column.
pub type Place = (u64, u64);

fn place(mark: &Marker) -> Place {
    (mark.line() as u64, mark.col() as u64 + 1)
}

/// The figures summed per leaf, in the order the old reader looked them up in each output.
pub const FIGURES: [&str; 7] = [
    "energy",
    "carbon-operational",
    "operational-carbon",
    "embodied-carbon",
    "carbon-embodied",
    "carbon",
    "duration",
];

/// Why the character source stopped before the end.
#[derive(Debug, Clone, PartialEq)]
pub enum Broken {
    /// A byte that is not UTF-8, at this offset of the file.
    NotUtf8(u64),
    /// A NUL byte at this offset.
    Nul(u64),
    /// The read failed.
    Io(String),
    /// One value ran longer than [`MAX_VALUE_CHARS`], at this line.
    TooLong(u64),
}

/// The characters of a UTF-8 byte stream, as the old whole-file reader saw them after
/// `normalize`: a leading BOM dropped, CRLF read as LF. Stops at the first byte that is not
/// UTF-8, a NUL byte, a read error, or a value longer than [`MAX_VALUE_CHARS`] (said in
/// `broken`).
struct Chars<'r> {
    reader: &'r mut dyn Read,
    chunk: Vec<u8>,
    /// Bytes of an incomplete character at the end of the last read.
    carry: Vec<u8>,
    text: String,
    pos: usize,
    /// Bytes of the file before `text`.
    offset: u64,
    first: bool,
    done: bool,
    /// Characters since the last event; reset by the reader of events.
    since_event: Rc<Cell<usize>>,
    line: Rc<Cell<u64>>,
    broken: Rc<std::cell::RefCell<Option<Broken>>>,
}

impl Chars<'_> {
    fn fail(&mut self, why: Broken) {
        self.done = true;
        self.broken.borrow_mut().get_or_insert(why);
    }

    /// Read and decode the next chunk; false at the end.
    fn refill(&mut self) -> bool {
        self.offset += self.text.len() as u64;
        self.text.clear();
        self.pos = 0;
        while !self.done && self.text.is_empty() {
            if self.chunk.len() < CHUNK {
                self.chunk.resize(CHUNK, 0);
            }
            // The bytes of a character cut by the last read go first.
            let had = self.carry.len();
            self.chunk[..had].copy_from_slice(&self.carry);
            self.carry.clear();
            let n = loop {
                match self.reader.read(&mut self.chunk[had..]) {
                    Ok(n) => break n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        self.fail(Broken::Io(err.to_string()));
                        return false;
                    }
                }
            };
            let len = had + n;
            let end = n == 0;
            if end {
                self.done = true;
            }
            let (valid, bad) = match std::str::from_utf8(&self.chunk[..len]) {
                Ok(_) => (len, None),
                Err(err) if err.error_len().is_none() && !end => {
                    self.carry
                        .extend_from_slice(&self.chunk[err.valid_up_to()..len]);
                    (err.valid_up_to(), None)
                }
                Err(err) => (err.valid_up_to(), Some(err.valid_up_to())),
            };
            let nul = memchr::memchr(0, &self.chunk[..valid]);
            let take = nul.unwrap_or(valid);
            // Valid up to `take`, as `from_utf8` just said.
            let text = std::str::from_utf8(&self.chunk[..take]).unwrap_or_default();
            self.text.push_str(text);
            if let Some(at) = nul {
                self.fail(Broken::Nul(self.offset + at as u64));
            } else if let Some(at) = bad {
                self.fail(Broken::NotUtf8(self.offset + at as u64));
            }
            if self.first && !self.text.is_empty() {
                self.first = false;
                if self.text.starts_with('\u{feff}') {
                    self.pos = '\u{feff}'.len_utf8();
                }
            }
            if self.pos >= self.text.len() && !self.done {
                // Only a BOM so far: read on.
                self.offset += self.text.len() as u64;
                self.text.clear();
                self.pos = 0;
            }
        }
        self.pos < self.text.len()
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        loop {
            // Most of a manifest is ASCII: taken byte by byte, without decoding.
            let next = match self.text.as_bytes().get(self.pos) {
                Some(&b) if b.is_ascii() => Some(char::from(b)),
                Some(_) => self.text.get(self.pos..).and_then(|t| t.chars().next()),
                None => None,
            };
            if let Some(c) = next {
                self.pos += c.len_utf8();
                let since = self.since_event.get() + 1;
                self.since_event.set(since);
                if since > MAX_VALUE_CHARS {
                    let line = self.line.get();
                    self.fail(Broken::TooLong(line));
                    self.text.clear();
                    self.pos = 0;
                    return None;
                }
                if c == '\r'
                    && (self.pos < self.text.len() || self.refill_keep())
                    && self.text[self.pos..].starts_with('\n')
                {
                    continue;
                }
                return Some(c);
            }
            if self.done || !self.refill() {
                return None;
            }
        }
    }
}

impl Chars<'_> {
    /// Refill when the text is used up (to look one character past a CR).
    fn refill_keep(&mut self) -> bool {
        !self.done && self.refill()
    }
}

/// What a figure of an output read: a number, or the value it is instead.
fn figure(text: &str, style: TScalarStyle) -> Result<f64, Value> {
    if style == TScalarStyle::Plain
        && let Some(x) = plain_number(text)
    {
        return Ok(x);
    }
    let value = scalar_value(text, style);
    match value.as_f64() {
        Some(x) => Ok(x),
        None => Err(value),
    }
}

/// The number a plain scalar written as a plain decimal is, the way `serde_yaml` reads it;
/// `None` for anything else (read through [`scalar_value`]).
fn plain_number(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    if bytes.is_empty()
        || !bytes
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.len() > 1 && digits.starts_with('0') {
        // Leading zeros: YAML 1.2 reads some as strings; leave them to serde_yaml.
        return None;
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // An integer: serde_yaml reads it as i64/u64 (so `-0` is zero, not minus zero).
        if digits.len() > 18 {
            return None;
        }
        return s.parse::<i64>().ok().map(|i| i as f64);
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A scalar as `serde_yaml` types it: quoted and block scalars are strings; a plain one is
/// null, a boolean, a number or a string by the YAML 1.2 core schema.
pub fn scalar_value(text: &str, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    if let Some(x) = plain_number(text) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        return Value::Number(x.into());
    }
    let plain_word = text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !matches!(
            text,
            "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        );
    if plain_word {
        return Value::String(text.to_owned());
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(v @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => v,
        _ => Value::String(text.to_owned()),
    }
}

/// `value` as the old reader wrote it in messages.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The `outputs` of a component.
#[derive(Debug, Default)]
pub struct Outputs {
    /// Whether `outputs` is a sequence (the place of its key then).
    pub sequence: Option<Place>,
    /// Exact sums of each of [`FIGURES`] over the outputs that have it.
    pub sums: [Option<ExactSum>; FIGURES.len()],
    /// The first output's `timestamp`, when it is a string.
    pub timestamp: Option<String>,
    /// The first figure that is not a number, in output order then [`FIGURES`] order: its path,
    /// place, and the value as shown.
    pub bad: Option<Bad>,
}

/// A figure that is not a number.
#[derive(Debug, Clone)]
pub struct Bad {
    /// Index in [`FIGURES`].
    pub figure: usize,
    /// `tree.children.x.outputs[3].energy`.
    pub path: String,
    /// Where the value is.
    pub place: Place,
    /// The value, for the message (`"lots"`, `-1`, `.nan`).
    pub shown: String,
}

/// A leaf component of the tree.
#[derive(Debug)]
pub struct Leaf {
    /// `tree.children.a.children.b`.
    pub path: String,
    /// Where its value is (its key's place for a mapping).
    pub place: Place,
    /// Its `outputs`, when it has the key.
    pub outputs: Option<Outputs>,
    /// IF's `aggregated` figures that are numbers: index in [`FIGURES`], value, place.
    pub aggregated: Vec<(usize, f64, Place)>,
}

/// What a manifest holds that the records need.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Whether the document is a mapping.
    pub mapping: bool,
    /// Whether it has a `tree`.
    pub tree: bool,
    /// The top-level values other than `tree`.
    pub top: Mapping,
    /// Places of the top-level values other than `tree`, by path (`execution.status`).
    pub places: HashMap<String, Place>,
    /// The leaf components, in tree order.
    pub leaves: Vec<Leaf>,
}

/// A problem with the YAML itself (syntax, limits, tags, aliases): a line and column when
/// known, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Syntax {
    /// Where.
    pub place: Option<Place>,
    /// What.
    pub message: String,
    /// What to do.
    pub help: Option<&'static str>,
}

impl Syntax {
    fn at(place: Place, message: impl Into<String>) -> Syntax {
        Syntax {
            place: Some(place),
            message: message.into(),
            help: None,
        }
    }
}

/// Why reading stopped.
#[derive(Debug)]
pub enum Stop {
    /// The YAML is broken, too big or hostile.
    Syntax(Syntax),
    /// The bytes are not text, or could not be read.
    Broken(Broken),
}

/// Read the manifest whose bytes `reader` gives.
pub fn read(reader: &mut dyn Read) -> Result<Manifest, Stop> {
    let since_event = Rc::new(Cell::new(0));
    let line = Rc::new(Cell::new(1));
    let broken = Rc::new(std::cell::RefCell::new(None));
    let chars = Chars {
        reader,
        chunk: Vec::new(),
        carry: Vec::new(),
        text: String::new(),
        pos: 0,
        offset: 0,
        first: true,
        done: false,
        since_event: since_event.clone(),
        line: line.clone(),
        broken: broken.clone(),
    };
    let mut parser = Parser::new(chars);
    let mut walker = Walker::default();
    let mut documents = 0;
    let result = loop {
        let next = parser.next_token();
        since_event.set(0);
        let (event, mark) = match next {
            Ok(e) => e,
            Err(err) => {
                let m = err.marker();
                break Err(Syntax::at(
                    (m.line() as u64, m.col() as u64 + 1),
                    format!("not valid YAML: {}", err.info()),
                ));
            }
        };
        line.set(mark.line() as u64);
        match event {
            Event::StreamEnd => break Ok(()),
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    break Err(Syntax::at(
                        place(&mark),
                        "more than one YAML document: expected one manifest",
                    ));
                }
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            event => {
                if let Err(stop) = walker.feed(event, place(&mark), false) {
                    break Err(stop);
                }
            }
        }
    };
    // A stop of the character source explains whatever the parser made of it.
    if let Some(why) = broken.borrow_mut().take() {
        return Err(Stop::Broken(why));
    }
    result.map_err(Stop::Syntax)?;
    Ok(walker.manifest)
}

/// What the next value in a collection is for.
#[derive(Debug, Clone)]
enum Slot {
    /// A top-level value other than `tree` (or a part of one): kept as a value, at this path;
    /// its places are recorded unless it is part of a figure shown in a message.
    Keep(String, bool),
    /// A tree node at this path.
    Node(String),
    /// A node's `children`.
    Children,
    /// A node's `outputs`.
    Outputs,
    /// A node's `aggregated`.
    Aggregated,
    /// A figure of an output (index in [`FIGURES`]) at this path.
    Figure(usize, String),
    /// The first output's timestamp.
    Timestamp,
    /// A figure of `aggregated`.
    AggregatedFigure(usize),
    /// Nothing the records need.
    Skip,
}

/// What a collection being read is.
#[derive(Debug)]
enum Role {
    /// The document.
    Root,
    /// A tree node (the innermost open [`Walker::nodes`]).
    Node,
    /// A node's `children`; how many so far.
    Children(usize),
    /// A node's `outputs`; the index of the next output.
    Outputs(usize),
    /// One output (its index); the first figure in it that is no number.
    Output(usize, Option<Bad>),
    Aggregated,
    /// A value kept (its path for places, and whether they are recorded), or shown in a
    /// message (`for_figure`); in a mapping, the key of the value that comes next.
    Keep {
        path: String,
        record: bool,
        value: Value,
        key: Option<Value>,
        for_figure: Option<(usize, String)>,
    },
    Skip,
}

#[derive(Debug)]
struct Frame {
    role: Role,
    map: bool,
    /// In a mapping: the key just read (raw text), and what its value is for.
    key: Option<(String, Slot)>,
    /// In a mapping: the keys read, to refuse duplicates as serde_yaml does.
    keys: Vec<String>,
    /// Where the collection starts (its key's place when under a key).
    place: Place,
}

/// An open tree node.
#[derive(Debug)]
struct Node {
    leaf: Leaf,
    children: bool,
}

#[derive(Default)]
struct Walker {
    manifest: Manifest,
    stack: Vec<Frame>,
    nodes: Vec<Node>,
    /// The place of the key whose value comes next.
    key_place: Option<Place>,
    kept: usize,
    /// Events recorded per anchor id, and the recordings under way (anchor id, depth).
    anchors: HashMap<usize, Vec<Event>>,
    recording: Vec<(usize, usize, Vec<Event>)>,
    alias_nodes: usize,
}

fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Walker {
    fn feed(&mut self, event: Event, at: Place, replayed: bool) -> Result<(), Syntax> {
        if !self.recording.is_empty() && !matches!(event, Event::Alias(_)) {
            self.alias_nodes += self.recording.len();
            if self.alias_nodes > MAX_ALIAS_NODES {
                return Err(alias_bomb(at));
            }
            for (_, _, events) in &mut self.recording {
                events.push(event.clone());
            }
        }
        if let Event::Scalar(_, _, _, Some(tag))
        | Event::MappingStart(_, Some(tag))
        | Event::SequenceStart(_, Some(tag)) = &event
        {
            let handle = match tag.handle.as_str() {
                "tag:yaml.org,2002:" => "!!",
                h => h,
            };
            return Err(Syntax {
                place: Some(at),
                message: format!(
                    "YAML tags are not allowed: `{}` would be dropped or change the value's type without a word",
                    crate::error::escape_text(&format!("{handle}{}", tag.suffix))
                ),
                help: Some("remove the tag and write the plain value"),
            });
        }
        match event {
            Event::Alias(id) => {
                let Some(events) = self.anchors.get(&id).cloned() else {
                    return Err(Syntax::at(at, "alias to an unknown anchor"));
                };
                self.alias_nodes += events.len();
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(alias_bomb(at));
                }
                for e in events {
                    self.feed(e, at, true)?;
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, _) => {
                if anchor > 0 && !replayed {
                    self.anchors
                        .insert(anchor, vec![Event::Scalar(text.clone(), style, 0, None)]);
                }
                self.scalar(text, style, at)
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let map = matches!(event, Event::MappingStart(..));
                if anchor > 0 && !replayed {
                    let start = if map {
                        Event::MappingStart(0, None)
                    } else {
                        Event::SequenceStart(0, None)
                    };
                    self.recording.push((anchor, self.stack.len(), vec![start]));
                }
                self.open(map, at)
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.close()?;
                if self
                    .recording
                    .last()
                    .is_some_and(|(_, depth, _)| *depth == self.stack.len())
                    && let Some((id, _, events)) = self.recording.pop()
                {
                    self.anchors.insert(id, events);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// What the next value is for, and its path for places; for a key, `None` (it is taken).
    fn next_slot(
        &mut self,
        key_text: Option<(&str, TScalarStyle)>,
        at: Place,
    ) -> Result<Option<Slot>, Syntax> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(Some(Slot::Skip));
        };
        if frame.map {
            if let Some((_, slot)) = frame.key.take() {
                return Ok(Some(slot));
            }
            // A key.
            let Some((key, style)) = key_text else {
                return Err(Syntax::at(
                    at,
                    "a mapping key that is a mapping or a sequence: expected a plain key",
                ));
            };
            if frame.keys.iter().any(|k| k == key) {
                return Err(Syntax::at(at, format!("duplicate key `{key}`")));
            }
            let slot = match &mut frame.role {
                Role::Root if key == "tree" => {
                    self.manifest.tree = true;
                    Slot::Node("tree".to_owned())
                }
                Role::Root => Slot::Keep(key.to_owned(), true),
                Role::Node => match key {
                    "children" => Slot::Children,
                    "outputs" => Slot::Outputs,
                    "aggregated" => Slot::Aggregated,
                    _ => Slot::Skip,
                },
                Role::Children(_) => {
                    let name = match scalar_value(key, TScalarStyle::Plain) {
                        Value::String(s) => s,
                        other => show(&other),
                    };
                    let parent = self.nodes.last().map_or("", |n| n.leaf.path.as_str());
                    Slot::Node(format!("{parent}.children.{name}"))
                }
                Role::Output(i, _) => match FIGURES.iter().position(|f| *f == key) {
                    Some(f) => {
                        let node = self.nodes.last().map_or("", |n| n.leaf.path.as_str());
                        Slot::Figure(f, format!("{node}.outputs[{i}].{key}"))
                    }
                    None if key == "timestamp" && *i == 0 => Slot::Timestamp,
                    None => Slot::Skip,
                },
                Role::Aggregated => match FIGURES[..6].iter().position(|f| *f == key) {
                    Some(f) => Slot::AggregatedFigure(f),
                    None => Slot::Skip,
                },
                Role::Keep {
                    path,
                    record,
                    key: pending,
                    ..
                } => {
                    *pending = Some(scalar_value(key, style));
                    Slot::Keep(child(path, key), *record)
                }
                Role::Outputs(_) | Role::Skip => Slot::Skip,
            };
            if let Slot::Keep(path, true) = &slot {
                self.manifest.places.insert(path.clone(), at);
            }
            if let Role::Children(n) = &mut frame.role {
                *n += 1;
            }
            frame.keys.push(key.to_owned());
            frame.key = Some((key.to_owned(), slot));
            self.key_place = Some(at);
            return Ok(None);
        }
        // In a sequence.
        Ok(Some(match &mut frame.role {
            Role::Outputs(i) => {
                *i += 1;
                Slot::Skip
            }
            Role::Keep {
                path,
                value,
                record,
                ..
            } => {
                let n = value.as_sequence().map_or(0, Vec::len);
                Slot::Keep(format!("{path}[{n}]"), *record)
            }
            _ => Slot::Skip,
        }))
    }

    fn count_kept(&mut self, at: Place) -> Result<(), Syntax> {
        self.kept += 1;
        if self.kept > MAX_KEPT_NODES {
            return Err(Syntax::at(
                at,
                format!(
                    "more than {MAX_KEPT_NODES} values outside the tree: not an Impact Framework output manifest"
                ),
            ));
        }
        Ok(())
    }

    fn scalar(&mut self, text: String, style: TScalarStyle, at: Place) -> Result<(), Syntax> {
        if self.stack.is_empty() {
            // The document is a scalar: not a mapping.
            return Ok(());
        }
        let Some(slot) = self.next_slot(Some((&text, style)), at)? else {
            return Ok(());
        };
        match slot {
            Slot::Keep(path, record) => {
                self.count_kept(at)?;
                let value = scalar_value(&text, style);
                if record {
                    self.manifest.places.insert(path, at);
                }
                self.deliver(value)
            }
            Slot::Node(path) => {
                // A node that is a scalar: a leaf without outputs.
                self.push_leaf(
                    Leaf {
                        path,
                        place: at,
                        outputs: None,
                        aggregated: Vec::new(),
                    },
                    at,
                )
            }
            Slot::Outputs => {
                if let Some(node) = self.nodes.last_mut() {
                    node.leaf.outputs.get_or_insert_with(Outputs::default);
                }
                Ok(())
            }
            Slot::Figure(f, path) => {
                match figure(&text, style) {
                    Ok(x) if x.is_finite() && x >= 0.0 => {
                        if let Some(sums) = self.outputs() {
                            sums.sums[f].get_or_insert_with(ExactSum::default).add(x);
                        }
                    }
                    Ok(_) => {
                        let shown = show(&scalar_value(&text, style));
                        self.bad_figure(f, path, at, shown);
                    }
                    Err(value) => self.bad_figure(f, path, at, show(&value)),
                }
                Ok(())
            }
            Slot::Timestamp => {
                if let Value::String(s) = scalar_value(&text, style)
                    && let Some(outputs) = self.outputs()
                {
                    outputs.timestamp = Some(s);
                }
                Ok(())
            }
            Slot::AggregatedFigure(f) => {
                if let Some(x) = scalar_value(&text, style).as_f64()
                    && let Some(node) = self.nodes.last_mut()
                {
                    node.leaf.aggregated.push((f, x, at));
                }
                Ok(())
            }
            Slot::Children | Slot::Aggregated | Slot::Skip => Ok(()),
        }
    }

    fn outputs(&mut self) -> Option<&mut Outputs> {
        self.nodes.last_mut()?.leaf.outputs.as_mut()
    }

    /// A figure that is no number: the first in its output by [`FIGURES`] order is kept.
    fn bad_figure(&mut self, figure: usize, path: String, place: Place, shown: String) {
        if let Some(Frame {
            role: Role::Output(_, bad),
            ..
        }) = self.stack.last_mut()
            && bad.as_ref().is_none_or(|b| figure < b.figure)
        {
            *bad = Some(Bad {
                figure,
                path,
                place,
                shown,
            });
        }
    }

    /// A kept value is complete: into its parent.
    fn deliver(&mut self, value: Value) -> Result<(), Syntax> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(());
        };
        match &mut frame.role {
            Role::Root => {
                if let Some(key) = frame.keys.last() {
                    self.manifest.top.insert(Value::String(key.clone()), value);
                }
                Ok(())
            }
            Role::Keep {
                value: Value::Sequence(items),
                ..
            } => {
                items.push(value);
                Ok(())
            }
            Role::Keep {
                value: Value::Mapping(map),
                key,
                ..
            } => {
                map.insert(key.take().unwrap_or(Value::Null), value);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn open(&mut self, map: bool, at: Place) -> Result<(), Syntax> {
        if self.stack.len() >= yaml::MAX_DEPTH {
            return Err(Syntax {
                place: Some(at),
                message: format!("nested more than {} levels deep", yaml::MAX_DEPTH),
                help: Some("no carbon-gate file needs this; the file is corrupt or hostile"),
            });
        }
        let (role, place) = if self.stack.is_empty() {
            self.manifest.mapping = map;
            self.manifest.places.entry(String::new()).or_insert(at);
            (if map { Role::Root } else { Role::Skip }, at)
        } else {
            let key_place = self.key_place.take();
            let under_key = self.stack.last().is_some_and(|f| f.map);
            let place = if under_key {
                key_place.unwrap_or(at)
            } else {
                at
            };
            let Some(slot) = self.next_slot(None, at)? else {
                // A collection as a key: refused in `next_slot`.
                return Ok(());
            };
            let role = match slot {
                Slot::Keep(path, record) => {
                    self.count_kept(at)?;
                    if record {
                        self.manifest.places.entry(path.clone()).or_insert(place);
                    }
                    Role::Keep {
                        path,
                        record,
                        value: if map {
                            Value::Mapping(Mapping::new())
                        } else {
                            Value::Sequence(Vec::new())
                        },
                        key: None,
                        for_figure: None,
                    }
                }
                Slot::Node(path) if map => {
                    self.nodes.push(Node {
                        leaf: Leaf {
                            path,
                            place,
                            outputs: None,
                            aggregated: Vec::new(),
                        },
                        children: false,
                    });
                    Role::Node
                }
                Slot::Node(path) => {
                    self.push_leaf(
                        Leaf {
                            path,
                            place,
                            outputs: None,
                            aggregated: Vec::new(),
                        },
                        at,
                    )?;
                    Role::Skip
                }
                Slot::Children if map => Role::Children(0),
                Slot::Outputs => {
                    if let Some(node) = self.nodes.last_mut() {
                        let outputs = node.leaf.outputs.get_or_insert_with(Outputs::default);
                        if !map {
                            outputs.sequence = Some(place);
                        }
                    }
                    if map { Role::Skip } else { Role::Outputs(0) }
                }
                Slot::Aggregated if map => Role::Aggregated,
                Slot::Figure(f, path) => {
                    self.count_kept(at)?;
                    Role::Keep {
                        path: String::new(),
                        record: false,
                        value: if map {
                            Value::Mapping(Mapping::new())
                        } else {
                            Value::Sequence(Vec::new())
                        },
                        key: None,
                        for_figure: Some((f, path)),
                    }
                }
                _ => match self.stack.last() {
                    Some(Frame {
                        role: Role::Outputs(i),
                        ..
                    }) if map => Role::Output(i - 1, None),
                    _ => Role::Skip,
                },
            };
            (role, place)
        };
        self.stack.push(Frame {
            role,
            map,
            key: None,
            keys: Vec::new(),
            place,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Syntax> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        match frame.role {
            Role::Node => {
                if let Some(node) = self.nodes.pop()
                    && !node.children
                {
                    self.push_leaf(node.leaf, frame.place)?;
                }
                Ok(())
            }
            Role::Children(n) => {
                if let Some(node) = self.nodes.last_mut() {
                    node.children = n > 0;
                }
                Ok(())
            }
            Role::Output(_, bad) => {
                if let Some(bad) = bad
                    && let Some(outputs) = self.outputs()
                    && outputs.bad.is_none()
                {
                    outputs.bad = Some(bad);
                }
                Ok(())
            }
            Role::Keep {
                value,
                for_figure: Some((f, path)),
                ..
            } => {
                self.bad_figure(f, path, frame.place, show(&value));
                Ok(())
            }
            Role::Keep { value, .. } => self.deliver(value),
            Role::Root | Role::Outputs(_) | Role::Aggregated | Role::Skip => Ok(()),
        }
    }

    fn push_leaf(&mut self, leaf: Leaf, at: Place) -> Result<(), Syntax> {
        if self.manifest.leaves.len() >= MAX_COMPONENTS {
            return Err(Syntax::at(
                at,
                format!("more than {MAX_COMPONENTS} components in the tree"),
            ));
        }
        self.manifest.leaves.push(leaf);
        Ok(())
    }
}

fn alias_bomb(at: Place) -> Syntax {
    Syntax {
        place: Some(at),
        message: format!(
            "YAML aliases expand to more than {MAX_ALIAS_NODES} nodes: refused (an alias bomb?)"
        ),
        help: Some("write the values out; IF output manifests need no anchors or aliases"),
    }
}
