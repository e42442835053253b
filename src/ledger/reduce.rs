//! The check's ledger, kept as the rows arrive: each CodeCarbon run row is folded into one small
//! slot per run (its most complete row so far), so that memory grows with the number of distinct
//! runs, not of rows, and no row is held after it is read.
//!
//! What a slot keeps of a row: the run id (16 bytes for a UUID, as CodeCarbon writes them; other
//! ids are kept as text), the energy, CO2e and duration, its line, and its *profile*: the file
//! and the names and settings that rows share (project, tool version, place, hardware, PUE),
//! interned once. A measured whole-run record of another format (an eco2AI row, a carbon-gate
//! NDJSON record…) is folded the same way, its profile being the record itself without what
//! belongs to its run alone (a *template*: id, line, time and figures), into shards of its own
//! format. Rows of any other kind (task and component rows, estimates, records with an embodied,
//! market-based or per-component figure, metrics, or a version that is not semver, and CodeCarbon
//! rows the stream does not fold) are kept whole and reconciled by [`super::reconcile`]; a run
//! that has rows of both kinds is reconciled there too, with its slot turned back into a record.
//!
//! The runs are split into shards by the hash of their key, each folded under its own lock by
//! the threads that parse the log ([`Fold`]); each shard takes its rows in file order, so what it
//! decides is what one ledger folding every row in order would decide for those runs, and the
//! result does not depend on the number of threads.
//!
//! The result is what [`super::reconcile`] and [`super::aggregate`] give over every record:
//! the same counted runs and exactly the same totals (sums are exact, so the order does not
//! matter). What differs is the telling: snapshots superseded within slots are reported for the
//! first [`DUPLICATE_EXAMPLES`] runs in full and then as one count, and a model version lists its
//! [`LISTED_RUNS`] largest slot runs one by one and the others rolled up, one contribution per
//! file and profile, instead of one per run. What the check keeps is therefore bounded by the
//! number of runs (a slot each) and of profiles, never a record per run.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use hashbrown::HashTable;

use super::evidence::{self, ConflictRule, Figures, Mismatch, Order, Unordered};
use super::{
    Attribution, Contribution, Entry, Reconciled, Rules, Status, TotalsAcc, UNNAMED_MODEL,
};
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::{Error, Location};
use crate::ingest::Sink;
use crate::ingest::stream::{Fold, Names, PlainRow, shard_of};
use crate::intern::{Hashed, Interner};
use crate::record::{self, Amounts, Format, Method, Phase, RunRecord};
use crate::run_key::{self, RunKey};
use crate::units::{Duration, Energy, ExactSum, Intensity, Mass};

/// Superseded snapshots are reported run by run for this many runs, then counted.
pub const DUPLICATE_EXAMPLES: usize = 20;

/// A run told in full lists the places of at most this many of its rows.
const EXAMPLE_PLACES: usize = 50;

/// A model version lists this many of its slot runs one by one as contributions: the largest by
/// CO2e (of equal ones, the first read). Its other slot runs are rolled up, one contribution per
/// file and profile (see the module documentation). Runs kept whole (task and component rows,
/// estimates, records a slot cannot hold) are each listed.
pub const LISTED_RUNS: usize = 20;

/// CodeCarbon runs are split into this many shards by the hash of their key, each folded under
/// its own lock, so that the threads that parse a log also fold it. The result does not depend
/// on it.
const SHARDS: usize = 8;

/// The runs of every other format (read on one thread) have one shard per format, after the
/// CodeCarbon ones: rows of one run are those of one format and run id, as in `reconcile`.
const OTHER_FORMATS: [Format; 5] = [
    Format::ImpactFramework,
    Format::Eco2ai,
    Format::Carbontracker,
    Format::HfCard,
    Format::Native,
];

/// The shard of the runs of `format` whose key hashes to `hash`.
fn shard_for(format: Format, hash: u64) -> usize {
    match OTHER_FORMATS.iter().position(|&f| f == format) {
        Some(k) => SHARDS + k,
        None => shard_of(hash, SHARDS),
    }
}

/// Slots are stored in blocks of this many, so that growth never copies or doubles the store.
const BLOCK: usize = 1 << 14;

/// A place in the input (file index and line), as examples keep them.
const LINE_BITS: u32 = 40;
const PROFILE_MASK: u32 = (1 << 27) - 1;
/// No row of the run has the largest of every figure (see `evidence::Tracker`).
const CONFLICTED: u32 = 1 << 27;
/// The slot's id is an index into the text ids.
const TEXT_ID: u32 = 1 << 31;
/// The run had more than one row.
const DUPLICATED: u32 = 1 << 30;
/// The slot was turned back into a record (its run also has rows of another kind).
const MOVED: u32 = 1 << 29;
/// The run is among its shard's duplicate examples.
const EXAMPLE: u32 = 1 << 28;

/// One run's latest row. 56 bytes: this is what memory is spent on. The file is the
/// profile's. The id is two halves so that the slot is aligned to 8 bytes, not 16.
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    id: [u64; 2],
    energy: f64,
    emissions: f64,
    duration: f64,
    /// When the run started (NaN: unknown), to tell a snapshot from another run.
    start: f64,
    line: u32,
    /// Profile (low 28 bits) and flags.
    meta: u32,
}

fn halves(v: u128) -> [u64; 2] {
    [(v >> 64) as u64, v as u64]
}

impl Slot {
    fn id(&self) -> u128 {
        (u128::from(self.id[0]) << 64) | u128::from(self.id[1])
    }

    fn figures(&self) -> Figures {
        Figures {
            energy: Some(self.energy),
            emissions: self.emissions,
            duration: Some(self.duration),
            components: None,
        }
    }

    fn profile(&self) -> usize {
        (self.meta & PROFILE_MASK) as usize
    }

    fn amounts(&self) -> Amounts {
        Amounts::measured(
            Energy::kwh(self.energy),
            Mass::kg(self.emissions),
            Duration::seconds(self.duration),
        )
    }
}

/// What rows of one file share: the texts of a CodeCarbon row's profile, or the template of a
/// record of another format.
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    file: u32,
    names: [Option<Box<str>>; 9],
    pue: Option<f64>,
    gpu_count: Option<f64>,
    hash: u64,
    /// A record of another format without what is its run's alone (see [`template`]).
    template: Option<Box<RunRecord>>,
}

impl Profile {
    fn matches(&self, file: u32, text: &str, names: &Names) -> bool {
        self.file == file
            && self.template.is_none()
            && self.pue.map(f64::to_bits) == names.pue.map(f64::to_bits)
            && self.gpu_count.map(f64::to_bits) == names.gpu_count.map(f64::to_bits)
            && self
                .names
                .iter()
                .enumerate()
                .all(|(i, a)| a.as_deref() == names.text(text, i))
    }

    /// The profile, borrowed.
    fn borrowed(&self) -> record::Profile<'_> {
        if let Some(t) = &self.template {
            return record::Profile::of(t);
        }
        record::Profile {
            names: self.names.each_ref().map(|n| n.as_deref()),
            pue: self.pue,
            gpu_count: self.gpu_count,
        }
    }

    /// What does not change during a run, as [`evidence::identity`] lists it.
    fn identity(&self) -> [(&'static str, Option<&str>); 9] {
        if let Some(t) = &self.template {
            return evidence::identity(t);
        }
        let n = |i: usize| self.names[i].as_deref();
        [
            ("model", n(0)),
            ("version", None),
            ("CPU", n(7)),
            ("GPU", n(8)),
            ("country", n(2)),
            ("country code", n(3)),
            ("region", n(4)),
            ("cloud provider", n(5)),
            ("cloud region", n(6)),
        ]
    }
}

impl Profile {
    /// The format its rows were read from.
    fn format(&self) -> Format {
        self.template
            .as_ref()
            .map_or(Format::Codecarbon, |t| t.format)
    }

    /// The phase its rows say, if they say one.
    fn phase(&self) -> Option<Phase> {
        self.template.as_ref().and_then(|t| t.phase)
    }

    /// The model version its rows say (a template's is semver, see [`slot_of`]).
    fn version(&self) -> Option<semver::Version> {
        let text = self.template.as_ref()?.version.as_deref()?;
        semver_of(text)
    }
}

/// A model version as `ledger::group` reads it.
fn semver_of(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.trim().trim_start_matches('v')).ok()
}

impl Hashed for Profile {
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// A profile of `file`, interned; `None` for one that names a model that cannot be used, or one
/// too many.
fn intern(profiles: &mut Interner<Profile>, file: u32, text: &str, names: &Names) -> Option<u32> {
    let hash = names.hash ^ u64::from(file).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    if let Some(p) = profiles.find(hash, |p| p.matches(file, text, names)) {
        return Some(p);
    }
    // Rows naming a model that cannot be used are kept whole, so that the error names the first
    // such row (asked once per new profile, not per chunk).
    if names
        .text(text, 0)
        .is_some_and(|m| crate::names::normalize(m).is_err())
    {
        return None;
    }
    let mut owned: [Option<Box<str>>; 9] = Default::default();
    for (i, n) in owned.iter_mut().enumerate() {
        *n = names.text(text, i).map(Into::into);
    }
    let profile = Profile {
        file,
        names: owned,
        pue: names.pue,
        gpu_count: names.gpu_count,
        hash,
        template: None,
    };
    profiles.insert(profile, PROFILE_MASK + 1)
}

/// Whether a record can be folded into a slot: one measured whole run with its energy and
/// duration, read from a line, and nothing a slot cannot hold (embodied, market-based or
/// per-component figures, a band, assumptions, metrics).
fn slot_of(r: &RunRecord) -> bool {
    r.format != Format::Codecarbon
        && r.part.is_none()
        && r.method == Method::Measured
        && r.energy.is_some()
        && r.duration.is_some()
        && r.embodied.is_none()
        && r.market.is_none()
        && r.components.is_none()
        && r.band.is_none()
        && r.assumptions.is_empty()
        && r.metrics.is_empty()
        && r.source.line.is_some()
        && r.source.column.is_none()
        && r.source.path.is_none()
}

/// Whether two records share everything but what is their run's alone: id, line, time and
/// figures (the fields are named one by one, so that a field added to records must be placed).
fn same_template(a: &RunRecord, b: &RunRecord) -> bool {
    let RunRecord {
        source,
        format,
        layout,
        tool_version,
        run_id: _,
        part,
        model,
        version,
        phase,
        timestamp: _,
        duration: _,
        energy: _,
        emissions: _,
        embodied,
        components,
        place,
        hardware,
        pue,
        method,
        market,
        band,
        assumptions,
        metrics,
    } = a;
    source.file == b.source.file
        && source.column == b.source.column
        && source.path == b.source.path
        && *format == b.format
        && *layout == b.layout
        && *tool_version == b.tool_version
        && *part == b.part
        && *model == b.model
        && *version == b.version
        && *phase == b.phase
        && *embodied == b.embodied
        && *components == b.components
        && *place == b.place
        && *hardware == b.hardware
        && pue.map(f64::to_bits) == b.pue.map(f64::to_bits)
        && *method == b.method
        && *market == b.market
        && *band == b.band
        && *assumptions == b.assumptions
        && *metrics == b.metrics
}

/// The hash of what [`same_template`] compares (of the fields that vary between templates).
fn template_hash(r: &RunRecord, file: u32) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
    file.hash(&mut h);
    r.format.hash(&mut h);
    r.layout.hash(&mut h);
    r.tool_version.hash(&mut h);
    r.model.hash(&mut h);
    r.version.hash(&mut h);
    r.phase.hash(&mut h);
    let (p, hw) = (&r.place, &r.hardware);
    for t in [
        &p.country,
        &p.country_iso,
        &p.region,
        &p.cloud_provider,
        &p.cloud_region,
        &hw.cpu,
        &hw.gpu,
    ] {
        t.hash(&mut h);
    }
    hw.gpu_count.map(f64::to_bits).hash(&mut h);
    r.pue.map(f64::to_bits).hash(&mut h);
    h.finish()
}

/// The profile of record `r` (see [`slot_of`]) of `file`, interned; `None` for a record that
/// names a model or a version that cannot be used as it is (it is kept whole, so that it is
/// told as it would be), or one profile too many.
fn intern_template(profiles: &mut Interner<Profile>, file: u32, r: &RunRecord) -> Option<u32> {
    let hash = template_hash(r, file);
    let found = profiles.find(hash, |p| {
        p.file == file && p.template.as_deref().is_some_and(|t| same_template(t, r))
    });
    if let Some(p) = found {
        return Some(p);
    }
    if r.model
        .as_deref()
        .is_some_and(|m| crate::names::normalize(m).is_err())
        || r.version.as_deref().is_some_and(|v| semver_of(v).is_none())
    {
        return None;
    }
    let mut template = r.clone();
    template.source.line = None;
    template.run_id = String::new();
    template.timestamp = None;
    template.duration = None;
    template.energy = None;
    template.emissions = Mass::ZERO;
    let profile = Profile {
        file,
        names: Default::default(),
        pue: None,
        gpu_count: None,
        hash,
        template: Some(Box::new(template)),
    };
    profiles.insert(profile, PROFILE_MASK + 1)
}

/// A CodeCarbon file of plain rows.
struct File {
    path: PathBuf,
    layout: String,
}

/// A run among the first of a shard to have several rows.
struct Example {
    slot: u32,
    /// Where its first row is, and the row that made it a duplicate.
    first: u64,
    since: u64,
    /// Where its rows are (the first [`EXAMPLE_PLACES`]), and how many it has.
    places: Vec<u64>,
    rows: usize,
}

/// The runs whose keys hash to one shard.
#[derive(Default)]
struct Shard {
    blocks: Vec<Vec<Slot>>,
    slots: usize,
    index: HashTable<u32>,
    text_ids: Vec<Box<str>>,
    /// Rows a slot cannot hold (a line past 2^32, more than 2^32 runs): kept as given.
    overflow: Vec<PlainRow>,
    /// Runs with more than one row, and the rows superseded.
    duplicated_runs: usize,
    superseded_rows: usize,
    /// The first [`DUPLICATE_EXAMPLES`] runs of this shard to have a second row.
    examples: Vec<Example>,
    /// The first rows of this shard that disagree on what does not change during their run.
    conflict: Option<ShardConflict>,
    /// Per slot, the first two rows found not ordered: the run conflicts if, at the end, no row
    /// has the largest of every figure (the slot is [`CONFLICTED`]).
    pairs: HashMap<u32, (u64, u64, Unordered)>,
}

/// Why two rows of one run are not snapshots of it.
#[derive(Clone)]
enum Conflict {
    Mismatch(Mismatch),
    Unordered(Unordered),
}

/// Two rows of one run that are not snapshots of it: the run, where each is, and why.
#[derive(Clone)]
struct ShardConflict {
    id: String,
    first: u64,
    second: u64,
    kind: Conflict,
}

/// A run key being looked up.
#[derive(Clone, Copy)]
enum Key<'a> {
    Uuid(u128),
    Text(&'a str),
}

impl<'a> From<&'a RunKey> for Key<'a> {
    fn from(k: &'a RunKey) -> Self {
        match k {
            RunKey::Uuid(v) => Key::Uuid(*v),
            RunKey::Text(t) => Key::Text(t),
        }
    }
}

impl Shard {
    fn slot(&self, i: usize) -> Slot {
        self.blocks[i / BLOCK][i % BLOCK]
    }

    fn slot_mut(&mut self, i: usize) -> &mut Slot {
        &mut self.blocks[i / BLOCK][i % BLOCK]
    }

    fn slot_key(&self, s: &Slot) -> Key<'_> {
        if s.meta & TEXT_ID != 0 {
            Key::Text(self.text_ids[s.id() as usize].as_ref())
        } else {
            Key::Uuid(s.id())
        }
    }

    fn slot_id(&self, s: &Slot) -> String {
        match self.slot_key(s) {
            Key::Uuid(v) => run_key::uuid_text(v),
            Key::Text(t) => t.to_owned(),
        }
    }

    fn find(&self, key: Key<'_>, hash: u64) -> Option<usize> {
        self.index
            .find(hash, |&i| {
                let s = self.slot(i as usize);
                match (key, s.meta & TEXT_ID != 0) {
                    (Key::Uuid(v), false) => s.id() == v,
                    (Key::Text(t), true) => self.text_ids[s.id() as usize].as_ref() == t,
                    _ => false,
                }
            })
            .map(|&i| i as usize)
    }

    /// Fold one row into its run's slot. `at(profile, line)`: the place of a row, asked only for
    /// the runs told as examples and for conflicts; `identity(a, b)`: how the rows of two
    /// profiles disagree on what does not change during a run.
    fn fold(
        &mut self,
        row: PlainRow,
        at: &dyn Fn(u32, u32) -> u64,
        identity: &dyn Fn(u32, u32) -> Option<Mismatch>,
    ) {
        let Ok(line) = u32::try_from(row.line) else {
            self.overflow.push(row);
            return;
        };
        if row.profile > PROFILE_MASK {
            self.overflow.push(row);
            return;
        }
        let new = Slot {
            id: [0, 0],
            energy: row.energy.value(),
            emissions: row.emissions.value(),
            duration: row.duration.value(),
            start: row.start,
            line,
            meta: row.profile,
        };
        if let Some(i) = self.find(Key::from(&row.key), row.hash) {
            let old = self.slot(i);
            let old_profile = old.meta & PROFILE_MASK;
            // Rows of one run must be snapshots of it (see `super::evidence`).
            let mismatch = if old_profile == row.profile {
                None
            } else {
                identity(old_profile, row.profile)
            }
            .or_else(|| {
                let known = |v: f64| (!v.is_nan()).then_some(v);
                evidence::start_mismatch(
                    known(old.start),
                    known(new.start),
                    old.duration.max(new.duration),
                )
            });
            if let Some(m) = mismatch {
                if self.conflict.is_none() {
                    self.conflict = Some(ShardConflict {
                        id: self.slot_id(&old),
                        first: at(old_profile, old.line),
                        second: at(row.profile, line),
                        kind: Conflict::Mismatch(m),
                    });
                }
                return;
            }
            let order = evidence::order(&old.figures(), &new.figures());
            self.superseded_rows += 1;
            let mut meta = old.meta;
            if meta & DUPLICATED == 0 {
                meta |= DUPLICATED;
                self.duplicated_runs += 1;
                if self.examples.len() < DUPLICATE_EXAMPLES {
                    meta |= EXAMPLE;
                    let first = at(old_profile, old.line);
                    self.examples.push(Example {
                        slot: i as u32,
                        first,
                        since: at(row.profile, line),
                        places: vec![first],
                        rows: 1,
                    });
                }
            }
            if meta & EXAMPLE != 0
                && let Some(e) = self.examples.iter_mut().find(|e| e.slot as usize == i)
            {
                e.rows += 1;
                if e.places.len() < EXAMPLE_PLACES {
                    e.places.push(at(row.profile, line));
                }
            }
            // As `evidence::Tracker`: the slot holds the largest of each figure, and whether a
            // row has them all.
            if let Order::Unordered(u) = &order {
                self.pairs.entry(i as u32).or_insert_with(|| {
                    (at(old_profile, old.line), at(row.profile, line), u.clone())
                });
            }
            let start = if old.start.is_nan() {
                new.start
            } else {
                old.start
            };
            let slot = self.slot_mut(i);
            match order {
                Order::Earlier => slot.meta = meta,
                // Ties go to the row read last, as in `reconcile`.
                Order::Later => {
                    *slot = Slot {
                        id: old.id,
                        meta: (meta & !PROFILE_MASK & !CONFLICTED) | row.profile,
                        start,
                        ..new
                    };
                }
                Order::Unordered(_) => {
                    *slot = Slot {
                        id: old.id,
                        meta: (meta & !PROFILE_MASK) | CONFLICTED | row.profile,
                        energy: old.energy.max(new.energy),
                        emissions: old.emissions.max(new.emissions),
                        duration: old.duration.max(new.duration),
                        start,
                        ..new
                    };
                }
            }
            return;
        }
        let Ok(index) = u32::try_from(self.slots) else {
            self.overflow.push(row);
            return;
        };
        let (id, meta) = match row.key {
            RunKey::Uuid(v) => (halves(v), row.profile),
            RunKey::Text(t) => {
                self.text_ids.push(t);
                (
                    halves((self.text_ids.len() - 1) as u128),
                    row.profile | TEXT_ID,
                )
            }
        };
        if self.slots.is_multiple_of(BLOCK) {
            // The first block grows as needed (a small log takes a few pages, not 768 KiB per
            // shard); the others are allocated whole.
            self.blocks.push(if self.blocks.is_empty() {
                Vec::new()
            } else {
                Vec::with_capacity(BLOCK)
            });
        }
        if let Some(block) = self.blocks.last_mut() {
            block.push(Slot { id, meta, ..new });
        }
        self.slots += 1;
        let (blocks, text_ids) = (&self.blocks, &self.text_ids);
        self.index.insert_unique(row.hash, index, |&i| {
            let s = blocks[i as usize / BLOCK][i as usize % BLOCK];
            if s.meta & TEXT_ID != 0 {
                run_key::hash_text(&text_ids[s.id() as usize])
            } else {
                run_key::hash_uuid(s.id())
            }
        });
    }

    fn each(&self) -> impl Iterator<Item = &Slot> {
        self.blocks.iter().flatten()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The check's ledger, fed row by row (see the module documentation).
pub struct Reducer {
    rules: Rules,
    files: Vec<File>,
    current: Option<u32>,
    profiles: Mutex<Interner<Profile>>,
    shards: Vec<Mutex<Shard>>,
    /// Records kept whole.
    full: Vec<RunRecord>,
    /// Every file in the order it was read (plain rows' files and whole records' files).
    order: HashMap<PathBuf, usize>,
    /// The files of records folded into slots, by path.
    record_files: HashMap<PathBuf, u32>,
    /// The file of the last record given (records come file by file), and its index among the
    /// files once one of its records was folded: most records need no look-up by path.
    last_file: Option<(PathBuf, Option<u32>)>,
    /// Whether records of formats other than CodeCarbon's may be folded into slots (not when
    /// every run is kept for the organisation's ledger: a slot does not keep their timestamp).
    fold_records: bool,
}

impl Default for Reducer {
    fn default() -> Self {
        Reducer::new(Rules::default())
    }
}

impl Reducer {
    /// An empty ledger that reconciles rows of one run under `rules`.
    pub fn new(rules: Rules) -> Self {
        Reducer {
            rules,
            files: Vec::new(),
            current: None,
            profiles: Mutex::default(),
            shards: (0..SHARDS + OTHER_FORMATS.len())
                .map(|_| Mutex::default())
                .collect(),
            full: Vec::new(),
            order: HashMap::new(),
            record_files: HashMap::new(),
            last_file: None,
            fold_records: true,
        }
    }

    /// Keep records of formats other than CodeCarbon's whole (their timestamps with them), for
    /// [`Attribution::keep_runs`].
    pub fn keeping_records_whole(mut self) -> Self {
        self.fold_records = false;
        self
    }
}

impl Reducer {
    /// Fold record `r` into its run's slot, if it is one a slot holds ([`slot_of`]); whether
    /// it was.
    fn fold_record(&mut self, r: &RunRecord) -> bool {
        if !self.fold_records || !slot_of(r) {
            return false;
        }
        let Some(file) = self.record_file(r) else {
            return false;
        };
        let profiles = self
            .profiles
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(profile) = intern_template(profiles, file, r) else {
            return false;
        };
        let (Some(line), Some(energy), Some(duration)) = (r.source.line, r.energy, r.duration)
        else {
            return false;
        };
        let key = RunKey::of(&r.run_id);
        let hash = key.hash();
        let row = PlainRow {
            key,
            hash,
            line,
            energy,
            emissions: r.emissions,
            duration,
            start: evidence::start(r).unwrap_or(f64::NAN),
            profile,
        };
        let Some(shard) = self.shards.get(shard_for(r.format, hash)) else {
            return false;
        };
        let (at, identity) = self.places_and_identities();
        lock(shard).fold(row, &at, &identity);
        true
    }

    /// The index of the file of record `r` among the files, added when new; `None` beyond 2^24
    /// files (the record is kept whole).
    fn record_file(&mut self, r: &RunRecord) -> Option<u32> {
        let last = match &mut self.last_file {
            Some((path, known)) if path.as_os_str() == r.source.file.as_os_str() => known,
            _ => &mut None,
        };
        if let Some(f) = *last {
            return Some(f);
        }
        let f = match self.record_files.get(&r.source.file) {
            Some(&f) => f,
            None => {
                let f = u32::try_from(self.files.len())
                    .ok()
                    .filter(|&f| u64::from(f) < 1 << (64 - LINE_BITS))?;
                self.files.push(File {
                    path: r.source.file.clone(),
                    layout: r.layout.clone(),
                });
                self.record_files.insert(r.source.file.clone(), f);
                f
            }
        };
        if let Some((path, known)) = &mut self.last_file
            && path.as_os_str() == r.source.file.as_os_str()
        {
            *known = Some(f);
        }
        Some(f)
    }

    /// For [`Shard::fold`]: the place of a row of a profile, and how two profiles' rows
    /// disagree on what does not change during a run.
    fn places_and_identities(
        &self,
    ) -> (
        impl Fn(u32, u32) -> u64 + '_,
        impl Fn(u32, u32) -> Option<Mismatch> + '_,
    ) {
        let at = |profile: u32, line: u32| -> u64 {
            let file = lock(&self.profiles).get(profile).map_or(0, |p| p.file);
            (u64::from(file) << LINE_BITS) | u64::from(line)
        };
        let identity = |a: u32, b: u32| -> Option<Mismatch> {
            let profiles = lock(&self.profiles);
            let (a, b) = (profiles.get(a)?, profiles.get(b)?);
            evidence::mismatch(&a.identity(), &b.identity())
        };
        (at, identity)
    }
}

impl Fold for Reducer {
    fn shards(&self) -> usize {
        SHARDS
    }

    fn profiles(&self, text: &str, names: &[Names]) -> Vec<Option<u32>> {
        let Some(file) = self.current else {
            return vec![None; names.len()];
        };
        let mut profiles = lock(&self.profiles);
        names
            .iter()
            .map(|n| intern(&mut profiles, file, text, n))
            .collect()
    }

    fn fold(&self, shard: usize, rows: Vec<PlainRow>) {
        let Some(shard) = self.shards[..SHARDS].get(shard) else {
            return;
        };
        let (at, identity) = self.places_and_identities();
        let mut shard = lock(shard);
        for row in rows {
            shard.fold(row, &at, &identity);
        }
    }
}

/// The ledger once every row is folded.
struct Folded {
    files: Vec<File>,
    profiles: Vec<Profile>,
    shards: Vec<Shard>,
    order: HashMap<PathBuf, usize>,
}

impl Reducer {
    /// Reconcile, attribute and total: the ledger entries and the judgements made. Rows of one
    /// run that are not snapshots of it are refused here (the first of them in file order).
    pub fn finish(self, attribution: &Attribution) -> Result<(Vec<Entry>, Vec<Warning>), Error> {
        let rules = self.rules;
        let mut full = self.full;
        let mut folded = Folded {
            files: self.files,
            profiles: self
                .profiles
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .into_items(),
            shards: self
                .shards
                .into_iter()
                .map(|s| s.into_inner().unwrap_or_else(PoisonError::into_inner))
                .collect(),
            order: self.order,
        };
        // Rows no slot could hold are kept whole.
        let mut resorted = false;
        let overflow: Vec<PlainRow> = folded
            .shards
            .iter_mut()
            .flat_map(|shard| std::mem::take(&mut shard.overflow))
            .collect();
        for row in &overflow {
            full.push(folded.row_record(row));
            resorted = true;
        }
        // A run with rows kept whole too is reconciled with them: its slot becomes a record.
        let mut moved = Vec::new();
        for r in &full {
            let key = RunKey::of(&r.run_id);
            let hash = key.hash();
            let s = shard_for(r.format, hash);
            if let Some(i) = folded
                .shards
                .get(s)
                .and_then(|k| k.find(Key::from(&key), hash))
            {
                moved.push((s, i));
            }
        }
        moved.sort_unstable();
        moved.dedup();
        for &(s, i) in &moved {
            folded.shards[s].slot_mut(i).meta |= MOVED;
            let record = folded.record_of(s, &folded.shards[s].slot(i));
            full.push(record);
            resorted = true;
        }
        if resorted {
            // In read order, as `reconcile` breaks ties by it (the last read wins).
            let order = &folded.order;
            full.sort_by_key(|r| {
                (
                    order.get(&r.source.file).copied().unwrap_or(usize::MAX),
                    r.source.line.unwrap_or(0),
                )
            });
        }
        folded.refuse_conflicts(rules)?;
        let mut warnings = folded.duplicate_warnings();
        if rules.conflicts == ConflictRule::CountLarger {
            warnings.extend(folded.larger_warnings());
        }
        let mut reconciled = super::reconcile_with(full, rules)?;
        warnings.append(&mut reconciled.warnings);

        let (mut groups, more) = super::group(&mut reconciled, attribution)?;
        warnings.extend(more);
        let mut by_key: HashMap<(String, Option<semver::Version>), usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| ((g.model.clone(), g.version.clone()), i))
            .collect();
        let mut profiles_of: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        let mut group_of: Vec<usize> = Vec::with_capacity(folded.profiles.len());
        for profile in &folded.profiles {
            // A profile whose rows were all superseded still names its model, as in `aggregate`
            // (which groups every record, counted or not).
            let model = match (&attribution.model, profile.borrowed().model()) {
                (Some(m), _) => m.clone(),
                (None, Some(m)) => crate::names::normalize(m).unwrap_or_else(|_| m.to_owned()),
                (None, None) => UNNAMED_MODEL.to_owned(),
            };
            let version = match &attribution.version {
                Some(v) => Some(v.clone()),
                None => profile.version(),
            };
            let key = (model, version);
            let g = *by_key.entry(key.clone()).or_insert_with(|| {
                groups.push(super::Group {
                    model: key.0,
                    version: key.1,
                    records: Vec::new(),
                });
                profiles_of.push(Vec::new());
                groups.len() - 1
            });
            profiles_of[g].push(group_of.len());
            group_of.push(g);
        }
        let (listed, sums) = folded.select(&group_of, groups.len());
        let mut runs_of = if attribution.keep_runs {
            folded.runs_by_group(&group_of, groups.len(), attribution)
        } else {
            vec![Vec::new(); groups.len()]
        };
        // The entry `group` gives a model named on the command line that no record has (to fail
        // closed) is not needed when slots name it, under a version of their own.
        let placeholder = |g: &super::Group, profiles: &[usize]| {
            g.records.is_empty()
                && profiles.is_empty()
                && attribution.model.as_ref() == Some(&g.model)
                && g.version == attribution.version
        };
        let named_by_slots = groups
            .iter()
            .zip(&profiles_of)
            .any(|(g, p)| !p.is_empty() && attribution.model.as_ref() == Some(&g.model));
        let mut entries: Vec<Entry> = groups
            .into_iter()
            .zip(profiles_of)
            .zip(listed)
            .zip(runs_of.iter_mut().map(std::mem::take))
            .filter(|(((g, profiles), _), _)| !(named_by_slots && placeholder(g, profiles)))
            .map(|(((g, profiles), listed), runs)| {
                let mut e = folded.entry(g, &profiles, &listed, &sums, &reconciled, attribution);
                if attribution.keep_runs {
                    // The whole records counted, then the slots' runs.
                    let mut all = e.runs;
                    all.extend(runs);
                    e.runs = all;
                }
                e
            })
            .collect();
        entries.sort_by(|a, b| (&a.model, &a.version).cmp(&(&b.model, &b.version)));
        warnings.extend(super::confusable_warnings(&entries));
        Ok((entries, warnings))
    }
}

impl Folded {
    fn place_of(&self, at: u64) -> Location {
        let f = &self.files[(at >> LINE_BITS) as usize];
        Location::line(&f.path, at & ((1 << LINE_BITS) - 1))
    }

    /// Where a slot's row is.
    fn slot_place(&self, s: &Slot) -> Location {
        let f = &self.files[self.profiles[s.profile()].file as usize];
        Location::line(&f.path, u64::from(s.line))
    }

    /// A record of what a row of `profile` says (without the per-component energies and the
    /// timestamp).
    fn record(
        &self,
        profile: usize,
        line: u64,
        run_id: String,
        amounts: Amounts,
        start: f64,
    ) -> RunRecord {
        let p = &self.profiles[profile];
        let f = &self.files[p.file as usize];
        if let Some(t) = &p.template {
            let mut r = RunRecord {
                run_id,
                emissions: amounts.emissions,
                energy: amounts.energy,
                duration: amounts.duration,
                ..(**t).clone()
            };
            r.source.line = Some(line);
            let duration = amounts.duration.map_or(0.0, |d| d.value());
            r.timestamp = evidence::timestamp_of_start(r.format, start, duration);
            return r;
        }
        RunRecord::from_profile(
            Location::line(&f.path, line),
            &f.layout,
            run_id,
            &p.borrowed(),
            amounts,
        )
    }

    fn record_of(&self, shard: usize, s: &Slot) -> RunRecord {
        self.record(
            s.profile(),
            u64::from(s.line),
            self.shards[shard].slot_id(s),
            s.amounts(),
            s.start,
        )
    }

    fn row_record(&self, row: &PlainRow) -> RunRecord {
        let id = match &row.key {
            RunKey::Uuid(v) => run_key::uuid_text(*v),
            RunKey::Text(t) => t.to_string(),
        };
        self.record(
            row.profile as usize,
            row.line,
            id,
            Amounts::measured(row.energy, row.emissions, row.duration),
            row.start,
        )
    }

    /// One pass over the slots: the [`LISTED_RUNS`] largest runs of each model version (`group_of`:
    /// the group of each profile), and per profile the sums of its runs, listed and rolled up.
    fn select(&self, group_of: &[usize], groups: usize) -> (Vec<Vec<Ranked>>, Vec<ProfileSums>) {
        let mut tops: Vec<BinaryHeap<Reverse<Ranked>>> = vec![BinaryHeap::new(); groups];
        for (k, shard) in self.shards.iter().enumerate() {
            for (i, s) in shard.each().enumerate() {
                if s.meta & MOVED != 0 {
                    continue;
                }
                let at =
                    (u64::from(self.profiles[s.profile()].file) << LINE_BITS) | u64::from(s.line);
                let ranked = Ranked {
                    emissions: s.emissions,
                    at,
                    shard: k as u32,
                    slot: i as u32,
                };
                let top = &mut tops[group_of[s.profile()]];
                if top.len() < LISTED_RUNS {
                    top.push(Reverse(ranked));
                } else if top.peek().is_some_and(|Reverse(least)| ranked > *least) {
                    top.pop();
                    top.push(Reverse(ranked));
                }
            }
        }
        let listed: Vec<Vec<Ranked>> = tops
            .into_iter()
            .map(|top| top.into_iter().map(|Reverse(r)| r).collect())
            .collect();
        // The listed slots of each shard, in slot order, to be passed over while summing.
        let mut by_shard: Vec<Vec<u32>> = vec![Vec::new(); self.shards.len()];
        for r in listed.iter().flatten() {
            by_shard[r.shard as usize].push(r.slot);
        }
        let mut sums: Vec<ProfileSums> = vec![ProfileSums::default(); self.profiles.len()];
        for (k, shard) in self.shards.iter().enumerate() {
            let chosen = &mut by_shard[k];
            chosen.sort_unstable();
            let mut next = chosen.iter().copied().peekable();
            for (i, s) in shard.each().enumerate() {
                let is_listed = next.next_if_eq(&(i as u32)).is_some();
                if s.meta & MOVED == 0 {
                    sums[s.profile()].add(s, is_listed, (k as u32, i as u32));
                }
            }
        }
        (listed, sums)
    }

    fn entry(
        &self,
        group: super::Group,
        profiles: &[usize],
        listed: &[Ranked],
        sums: &[ProfileSums],
        reconciled: &Reconciled,
        attribution: &Attribution,
    ) -> Entry {
        let counted: Vec<usize> = group
            .records
            .iter()
            .copied()
            .filter(|&i| reconciled.statuses[i] == Status::Counted)
            .collect();
        let mut acc = TotalsAcc::default();
        for &i in &counted {
            acc.add_record(&reconciled.records[i]);
        }
        for &p in profiles {
            let s = sums[p].total();
            acc.add_measured(
                &s.energy,
                &s.emissions,
                &s.duration,
                s.runs,
                self.profiles[p].borrowed().on_cloud(),
            );
        }
        let mut contributions: Vec<Contribution> = counted
            .iter()
            .map(|&i| Contribution::of(&reconciled.records[i]))
            .collect();
        for r in listed {
            let (k, i) = (r.shard as usize, r.slot as usize);
            contributions.push(self.contribution(k, &self.shards[k].slot(i), attribution));
        }
        for &p in profiles {
            contributions.extend(self.rollups(p, &sums[p], attribution));
        }
        let order = |c: &Contribution| {
            (
                self.order
                    .get(&c.source.file)
                    .copied()
                    .unwrap_or(usize::MAX),
                c.source.line.unwrap_or(0),
            )
        };
        contributions.sort_by_key(order);
        Entry {
            totals: acc.finish(),
            contributions,
            metrics: counted
                .iter()
                .flat_map(|&i| reconciled.records[i].metrics.clone())
                .collect(),
            runs: if attribution.keep_runs {
                counted
                    .iter()
                    .map(|&i| reconciled.records[i].clone())
                    .collect()
            } else {
                Vec::new()
            },
            model: group.model,
            version: group.version,
        }
    }

    /// Every slot's run (those not moved to the records kept whole) as a record, by group
    /// (`group_of`: the group of each profile), in slot order: for the organisation's ledger.
    fn runs_by_group(
        &self,
        group_of: &[usize],
        groups: usize,
        attribution: &Attribution,
    ) -> Vec<Vec<RunRecord>> {
        let mut out = vec![Vec::new(); groups];
        for (k, shard) in self.shards.iter().enumerate() {
            for s in shard.each() {
                if s.meta & MOVED != 0 {
                    continue;
                }
                let mut r = self.record_of(k, s);
                r.phase = r.phase.or(attribution.phase);
                if r.timestamp.is_none() {
                    // A CodeCarbon slot keeps the run's start: its end is when the run was.
                    r.timestamp = evidence::timestamp_of_start(r.format, s.start, s.duration);
                }
                out[group_of[s.profile()]].push(r);
            }
        }
        out
    }

    fn contribution(&self, shard: usize, s: &Slot, attribution: &Attribution) -> Contribution {
        let profile = &self.profiles[s.profile()];
        Contribution::new(
            self.slot_place(s),
            profile.format(),
            self.shards[shard].slot_id(s),
            profile.phase().or(attribution.phase),
            &profile.borrowed(),
            s.amounts(),
        )
    }

    /// The runs of one profile not listed one by one, as rolled-up contributions: those with a
    /// duration, and those without one (embodied carbon cannot be allocated to them).
    fn rollups(
        &self,
        p: usize,
        sums: &ProfileSums,
        attribution: &Attribution,
    ) -> Vec<Contribution> {
        let profile = &self.profiles[p];
        let file = &self.files[profile.file as usize];
        let mut out = Vec::new();
        for part in [&sums.timed, &sums.untimed] {
            if part.runs == 0 {
                continue;
            }
            if part.runs == 1 {
                // One run left over is told as itself.
                let (k, i) = (part.some.0 as usize, part.some.1 as usize);
                out.push(self.contribution(k, &self.shards[k].slot(i), attribution));
                continue;
            }
            out.push(Contribution {
                runs: part.runs,
                last_line: Some(part.last_line),
                worst_intensity: part.worst,
                ..Contribution::new(
                    Location::line(&file.path, part.first_line),
                    profile.format(),
                    format!("{} runs", part.runs),
                    profile.phase().or(attribution.phase),
                    &profile.borrowed(),
                    Amounts::measured(
                        Energy::kwh(part.energy.value()),
                        Mass::kg(part.emissions.value()),
                        Duration::seconds(part.duration.value()),
                    ),
                )
            });
        }
        out
    }

    /// The runs no row of which has the largest of every figure, in the order of the row that
    /// made the conflict.
    fn unordered(&self) -> Vec<ShardConflict> {
        let mut out: Vec<ShardConflict> = self
            .shards
            .iter()
            .flat_map(|shard| {
                shard.pairs.iter().filter_map(move |(&i, (a, b, u))| {
                    let s = shard.slot(i as usize);
                    (s.meta & CONFLICTED != 0).then(|| ShardConflict {
                        id: shard.slot_id(&s),
                        first: *a,
                        second: *b,
                        kind: Conflict::Unordered(u.clone()),
                    })
                })
            })
            .collect();
        out.sort_by_key(|c| (c.second, c.first));
        out
    }

    /// The first pair of rows (by the place of the second) that are not snapshots of their run,
    /// as an error: rows that disagree on the run's identity, and (under `refuse`) runs whose
    /// largest figures no one row has.
    fn refuse_conflicts(&self, rules: Rules) -> Result<(), Error> {
        let mut all: Vec<ShardConflict> = self
            .shards
            .iter()
            .filter_map(|s| s.conflict.clone())
            .collect();
        if rules.conflicts == ConflictRule::Refuse {
            all.extend(self.unordered().into_iter().take(1));
        }
        let Some(c) = all.into_iter().min_by_key(|c| (c.second, c.first)) else {
            return Ok(());
        };
        let (first, second) = (self.place_of(c.first), self.place_of(c.second));
        Err(match &c.kind {
            Conflict::Mismatch(m) => super::mismatch_error(&c.id, &first, &second, m),
            Conflict::Unordered(u) => super::unordered_error(&c.id, &first, &second, u),
        })
    }

    /// The runs counted at the larger of each figure (`count-larger`): the first ones told, then
    /// a count.
    fn larger_warnings(&self) -> Vec<Warning> {
        let all = self.unordered();
        let mut out: Vec<Warning> = all
            .iter()
            .take(DUPLICATE_EXAMPLES)
            .filter_map(|c| match &c.kind {
                Conflict::Unordered(u) => Some(super::counted_larger(
                    &c.id,
                    &self.place_of(c.first),
                    &self.place_of(c.second),
                    u,
                )),
                Conflict::Mismatch(_) => None,
            })
            .collect();
        if all.len() > out.len() {
            out.push(Warning::general(
                codes::CONFLICTING_EVIDENCE,
                format!(
                    "{} runs had rows that are not snapshots of one run and were counted at the larger of each figure; the first {} are listed above",
                    all.len(),
                    out.len()
                ),
            ));
        }
        out
    }

    fn duplicate_warnings(&self) -> Vec<Warning> {
        // The first runs to have a second row: each shard kept its first ones, so the first of
        // all are among them. Told in the order the runs first appear.
        let mut examples: Vec<(usize, &Example)> = self
            .shards
            .iter()
            .enumerate()
            .flat_map(|(k, shard)| shard.examples.iter().map(move |e| (k, e)))
            .collect();
        examples.sort_by_key(|(_, e)| e.since);
        examples.truncate(DUPLICATE_EXAMPLES);
        examples.sort_by_key(|(_, e)| e.first);
        let mut warnings = Vec::new();
        for &(k, e) in &examples {
            let shard = &self.shards[k];
            let s = shard.slot(e.slot as usize);
            let mut ats = e.places.clone();
            ats.sort_unstable();
            let mut places = String::new();
            let mut last_file = None;
            for (n, &at) in ats.iter().enumerate() {
                if n > 0 {
                    places.push_str(", ");
                }
                let file = at >> LINE_BITS;
                if last_file == Some(file) {
                    places.push_str(&(at & ((1 << LINE_BITS) - 1)).to_string());
                } else {
                    places.push_str(&self.place_of(at).to_string());
                }
                last_file = Some(file);
            }
            if e.rows > ats.len() {
                places.push_str(&format!(", … and {} more", e.rows - ats.len()));
            }
            warnings.push(Warning::at(
                codes::DUPLICATE_RUN,
                self.slot_place(&s),
                format!(
                    "run {} has {} rows ({places}); they are cumulative snapshots of one run, so only the latest, here, is counted",
                    crate::error::escape_text(&shard.slot_id(&s)),
                    e.rows
                ),
            ));
        }
        let duplicated: usize = self.shards.iter().map(|s| s.duplicated_runs).sum();
        let superseded: usize = self.shards.iter().map(|s| s.superseded_rows).sum();
        let rest = duplicated - examples.len();
        if rest > 0 {
            warnings.push(Warning::general(
                codes::DUPLICATE_RUN,
                format!(
                    "{duplicated} runs have several rows ({superseded} rows superseded in all); for each, the latest is counted. The first {} are listed above; `carbon-gate ingest` lists every row with its status",
                    examples.len()
                ),
            ));
        }
        warnings
    }
}

/// A slot run ranked by its CO2e, for the runs listed one by one: the larger first, and of equal
/// ones the first read (`at`: its file and line).
#[derive(Debug, Clone, Copy)]
struct Ranked {
    emissions: f64,
    at: u64,
    shard: u32,
    slot: u32,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.emissions
            .total_cmp(&other.emissions)
            .then_with(|| other.at.cmp(&self.at))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

/// The slots of one profile: those listed one by one, and the others, rolled up by whether they
/// have a duration.
#[derive(Debug, Clone, Default)]
struct ProfileSums {
    listed: Part,
    timed: Part,
    untimed: Part,
}

/// Runs summed exactly, with the first and last line of their rows and the highest intensity
/// among them.
#[derive(Debug, Clone, Default)]
struct Part {
    energy: ExactSum,
    emissions: ExactSum,
    duration: ExactSum,
    runs: usize,
    first_line: u64,
    last_line: u64,
    worst: Option<Intensity>,
    /// A run among them (shard and slot): the only one, when `runs` is 1.
    some: (u32, u32),
}

impl Part {
    fn add(&mut self, s: &Slot, at: (u32, u32)) {
        self.energy.add(s.energy);
        self.emissions.add(s.emissions);
        self.duration.add(s.duration);
        let line = u64::from(s.line);
        if self.runs == 0 || line < self.first_line {
            self.first_line = line;
        }
        self.last_line = self.last_line.max(line);
        self.runs += 1;
        self.some = at;
        if s.energy > 0.0 {
            let i = Intensity::g_per_kwh(s.emissions * 1000.0 / s.energy);
            if self.worst.is_none_or(|w| i > w) {
                self.worst = Some(i);
            }
        }
    }

    fn merge(&mut self, other: &Part) {
        self.energy.merge(&other.energy);
        self.emissions.merge(&other.emissions);
        self.duration.merge(&other.duration);
        self.runs += other.runs;
    }
}

impl ProfileSums {
    /// Slot `s` (`at`: its shard and index), listed one by one or not.
    fn add(&mut self, s: &Slot, listed: bool, at: (u32, u32)) {
        let part = if listed {
            &mut self.listed
        } else if s.duration > 0.0 {
            &mut self.timed
        } else {
            &mut self.untimed
        };
        part.add(s, at);
    }

    /// The sums of all the profile's runs (only the figures and the count are meaningful).
    fn total(&self) -> Part {
        let mut all = self.listed.clone();
        all.merge(&self.timed);
        all.merge(&self.untimed);
        all
    }
}

impl Sink for Reducer {
    fn fold(&self) -> Option<&dyn Fold> {
        Some(self)
    }

    fn begin_file(&mut self, path: &Path, layout: &str) {
        let n = self.order.len();
        self.order.entry(path.to_owned()).or_insert(n);
        self.files.push(File {
            path: path.to_owned(),
            layout: layout.to_owned(),
        });
        // Beyond 2^24 files, places cannot be told apart: rows are kept whole.
        self.current = u32::try_from(self.files.len() - 1)
            .ok()
            .filter(|&f| u64::from(f) < 1 << (64 - LINE_BITS));
    }

    fn record(&mut self, record: RunRecord) {
        let same_file = self
            .last_file
            .as_ref()
            .is_some_and(|(path, _)| path.as_os_str() == record.source.file.as_os_str());
        if !same_file {
            if !self.order.contains_key(&record.source.file) {
                let n = self.order.len();
                self.order.insert(record.source.file.clone(), n);
            }
            self.last_file = Some((record.source.file.clone(), None));
        }
        if !self.fold_record(&record) {
            self.full.push(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_56_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 56);
    }
}
