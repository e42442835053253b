//! The check's ledger, kept as the rows arrive: each CodeCarbon run row is folded into one small
//! slot per run (its most complete row so far), so that memory grows with the number of distinct
//! runs, not of rows, and no row is held after it is read.
//!
//! What a slot keeps of a row: the run id (16 bytes for a UUID, as CodeCarbon writes them; other
//! ids are kept as text), the energy, CO2e and duration, where the row is (file and line), and
//! its *profile*: the file and the names and settings that rows share (project, tool version,
//! place, hardware, PUE), interned once. Rows of any other kind (task rows, estimates, other
//! formats, carbon-gate's own JSON) are kept whole and reconciled by [`super::reconcile`]; a run
//! that has rows of both kinds is reconciled there too, with its slot turned back into a record.
//!
//! The result is what [`super::reconcile`] and [`super::aggregate`] give over every record:
//! the same counted runs and exactly the same totals (sums are exact, so the order does not
//! matter). What differs is the telling: snapshots superseded within slots are reported for the
//! first [`DUPLICATE_EXAMPLES`] runs in full and then as one count, and a model version with more
//! than [`CONTRIBUTION_LIMIT`] counted runs lists its slot runs rolled up, one contribution per
//! file and profile, instead of one per run.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use hashbrown::HashTable;

use super::{Attribution, Contribution, Entry, Reconciled, Status, TotalsAcc, UNNAMED_MODEL};
use crate::codes;
use crate::diagnostic::Warning;
use crate::error::Location;
use crate::ingest::Sink;
use crate::ingest::stream::{Names, Plain};
use crate::record::{Format, Hardware, Method, Place, RunRecord};
use crate::units::{Duration, Energy, ExactSum, Intensity, Mass};

/// Superseded snapshots are reported run by run for this many runs, then counted.
pub const DUPLICATE_EXAMPLES: usize = 20;

/// A run told in full lists the places of at most this many of its rows.
const EXAMPLE_PLACES: usize = 50;

/// A model version with more counted runs than this lists them rolled up (see the module
/// documentation).
pub const CONTRIBUTION_LIMIT: usize = 10_000;

/// Slots are stored in blocks of this many, so that growth never copies or doubles the store.
const BLOCK: usize = 1 << 14;

const LINE_BITS: u32 = 40;
const PROFILE_MASK: u32 = (1 << 28) - 1;
/// The slot's id is an index into the text ids.
const TEXT_ID: u32 = 1 << 31;
/// The run had more than one row.
const DUPLICATED: u32 = 1 << 30;
/// The slot was turned back into a record (its run also has rows of another kind).
const MOVED: u32 = 1 << 29;
/// The run is among the duplicate examples.
const EXAMPLE: u32 = 1 << 28;

/// One run's most complete row. Packed to 52 bytes: this is what memory is spent on.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Slot {
    id: u128,
    energy: f64,
    emissions: f64,
    duration: f64,
    /// File (high bits) and line (low [`LINE_BITS`] bits).
    at: u64,
    /// Profile (low 28 bits) and flags.
    meta: u32,
}

impl Slot {
    fn profile(&self) -> usize {
        (self.meta & PROFILE_MASK) as usize
    }

    fn file(&self) -> usize {
        (self.at >> LINE_BITS) as usize
    }

    fn line(&self) -> u64 {
        self.at & ((1 << LINE_BITS) - 1)
    }

    /// The order of completeness of [`super::reconcile`]: energy, then CO2e, then duration.
    fn key(&self) -> (f64, f64, f64) {
        (self.energy, self.emissions, self.duration)
    }
}

/// What rows of one file share.
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    file: u32,
    names: [Option<Box<str>>; 9],
    pue: Option<f64>,
    gpu_count: Option<f64>,
    hash: u64,
}

impl Profile {
    fn matches(&self, file: u32, text: &str, names: &Names) -> bool {
        self.file == file
            && self.pue.map(f64::to_bits) == names.pue.map(f64::to_bits)
            && self.gpu_count.map(f64::to_bits) == names.gpu_count.map(f64::to_bits)
            && self
                .names
                .iter()
                .enumerate()
                .all(|(i, a)| a.as_deref() == names.text(text, i))
    }

    fn name(&self, i: usize) -> Option<String> {
        self.names[i].as_deref().map(str::to_owned)
    }

    fn model(&self) -> Option<&str> {
        self.names[0].as_deref()
    }

    fn place(&self) -> Place {
        Place {
            country: self.name(2),
            country_iso: self.name(3),
            region: self.name(4),
            cloud_provider: self.name(5),
            cloud_region: self.name(6),
        }
    }

    fn hardware(&self) -> Hardware {
        Hardware {
            cpu: self.name(7),
            gpu: self.name(8),
            gpu_count: self.gpu_count,
        }
    }

    fn on_cloud(&self) -> bool {
        self.names[5]
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
    }
}

/// A CodeCarbon file of plain rows.
struct File {
    path: PathBuf,
    layout: String,
}

/// The check's ledger, fed row by row (see the module documentation).
pub struct Reducer {
    files: Vec<File>,
    current: Option<u32>,
    profiles: Vec<Profile>,
    profile_index: HashTable<u32>,
    blocks: Vec<Vec<Slot>>,
    slots: usize,
    index: HashTable<u32>,
    /// Seeded at random per process (foldhash): fast, and not predictable from the input.
    hasher: hashbrown::DefaultHashBuilder,
    text_ids: Vec<Box<str>>,
    /// Records kept whole.
    full: Vec<RunRecord>,
    /// Every file in the order it was read (plain rows' files and whole records' files).
    order: HashMap<PathBuf, usize>,
    /// Runs with more than one plain row, and the rows superseded.
    duplicated_runs: usize,
    superseded_rows: usize,
    /// For the first runs with several rows: the slot, where its first rows are, and how many
    /// rows it has.
    examples: Vec<(u32, Vec<u64>, usize)>,
}

impl Default for Reducer {
    fn default() -> Self {
        Reducer {
            files: Vec::new(),
            current: None,
            profiles: Vec::new(),
            profile_index: HashTable::new(),
            blocks: Vec::new(),
            slots: 0,
            index: HashTable::new(),
            hasher: Default::default(),
            text_ids: Vec::new(),
            full: Vec::new(),
            order: HashMap::new(),
            duplicated_runs: 0,
            superseded_rows: 0,
            examples: Vec::new(),
        }
    }
}

/// A canonical UUID (lowercase, hyphenated) as its 128 bits: written back, the same text.
fn uuid_bits(text: &str) -> Option<u128> {
    let b = text.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        match i {
            8 | 13 | 18 | 23 => {
                if c != b'-' {
                    return None;
                }
            }
            _ => {
                let d = match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' => c - b'a' + 10,
                    _ => return None,
                };
                v = (v << 4) | u128::from(d);
            }
        }
    }
    Some(v)
}

fn uuid_text(v: u128) -> String {
    let hex = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A run key being looked up.
#[derive(Clone, Copy)]
enum Key<'a> {
    Uuid(u128),
    Text(&'a str),
}

impl Reducer {
    fn slot(&self, i: usize) -> Slot {
        self.blocks[i / BLOCK][i % BLOCK]
    }

    fn slot_mut(&mut self, i: usize) -> &mut Slot {
        &mut self.blocks[i / BLOCK][i % BLOCK]
    }

    fn hash_key(&self, key: Key<'_>) -> u64 {
        match key {
            Key::Uuid(v) => self.hasher.hash_one(v),
            Key::Text(t) => self.hasher.hash_one(t),
        }
    }

    fn slot_key(&self, s: &Slot) -> Key<'_> {
        if s.meta & TEXT_ID != 0 {
            Key::Text(self.text_ids[s.id as usize].as_ref())
        } else {
            Key::Uuid(s.id)
        }
    }

    fn slot_id(&self, s: &Slot) -> String {
        match self.slot_key(s) {
            Key::Uuid(v) => uuid_text(v),
            Key::Text(t) => t.to_owned(),
        }
    }

    fn find(&self, key: Key<'_>) -> Option<usize> {
        let hash = self.hash_key(key);
        self.index
            .find(hash, |&i| {
                let s = self.slot(i as usize);
                match (key, s.meta & TEXT_ID != 0) {
                    (Key::Uuid(v), false) => s.id == v,
                    (Key::Text(t), true) => self.text_ids[s.id as usize].as_ref() == t,
                    _ => false,
                }
            })
            .map(|&i| i as usize)
    }

    /// A profile of the current file, interned.
    fn profile(&mut self, file: u32, text: &str, names: &Names) -> Option<u32> {
        let hash = names.hash ^ u64::from(file).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        if let Some(&p) = self.profile_index.find(hash, |&p| {
            self.profiles[p as usize].matches(file, text, names)
        }) {
            return Some(p);
        }
        let id = u32::try_from(self.profiles.len())
            .ok()
            .filter(|&id| id <= PROFILE_MASK)?;
        let mut owned: [Option<Box<str>>; 9] = Default::default();
        for (i, n) in owned.iter_mut().enumerate() {
            *n = names.text(text, i).map(Into::into);
        }
        self.profiles.push(Profile {
            file,
            names: owned,
            pue: names.pue,
            gpu_count: names.gpu_count,
            hash,
        });
        let profiles = &self.profiles;
        self.profile_index
            .insert_unique(hash, id, |&p| profiles[p as usize].hash);
        Some(id)
    }

    fn fold(&mut self, text: &str, row: &Plain, profile: Option<u32>) -> bool {
        let Some(file) = self.current else {
            return false;
        };
        if row.line >= 1 << LINE_BITS || u64::from(file) >= 1 << (64 - LINE_BITS) {
            return false;
        }
        let Some(profile) = profile else {
            return false;
        };
        let at = (u64::from(file) << LINE_BITS) | row.line;
        let id_text = row.run_id.of(text);
        let key = match uuid_bits(id_text) {
            Some(v) => Key::Uuid(v),
            None => Key::Text(id_text),
        };
        let new = Slot {
            id: 0,
            energy: row.energy.value(),
            emissions: row.emissions.value(),
            duration: row.duration.value(),
            at,
            meta: profile,
        };
        if let Some(i) = self.find(key) {
            let old = self.slot(i);
            self.superseded_rows += 1;
            let mut meta = old.meta;
            if meta & DUPLICATED == 0 {
                meta |= DUPLICATED;
                self.duplicated_runs += 1;
                if self.examples.len() < DUPLICATE_EXAMPLES {
                    meta |= EXAMPLE;
                    self.examples.push((i as u32, vec![old.at], 1));
                }
            }
            if meta & EXAMPLE != 0
                && let Some((_, ats, rows)) =
                    self.examples.iter_mut().find(|(s, _, _)| *s as usize == i)
            {
                *rows += 1;
                if ats.len() < EXAMPLE_PLACES {
                    ats.push(at);
                }
            }
            // Ties go to the row read last, as in `reconcile`.
            let keep_old = old.key() > new.key();
            let slot = self.slot_mut(i);
            if keep_old {
                slot.meta = meta;
            } else {
                slot.energy = new.energy;
                slot.emissions = new.emissions;
                slot.duration = new.duration;
                slot.at = at;
                slot.meta = (meta & !PROFILE_MASK) | profile;
            }
            return true;
        }
        let (id, meta) = match key {
            Key::Uuid(v) => (v, profile),
            Key::Text(t) => {
                self.text_ids.push(t.into());
                ((self.text_ids.len() - 1) as u128, profile | TEXT_ID)
            }
        };
        let Ok(index) = u32::try_from(self.slots) else {
            if meta & TEXT_ID != 0 {
                self.text_ids.pop();
            }
            return false;
        };
        if self.slots.is_multiple_of(BLOCK) {
            self.blocks.push(Vec::with_capacity(BLOCK));
        }
        if let Some(block) = self.blocks.last_mut() {
            block.push(Slot { id, meta, ..new });
        }
        self.slots += 1;
        let hash = self.hash_key(key);
        let (blocks, text_ids, hasher) = (&self.blocks, &self.text_ids, &self.hasher);
        self.index.insert_unique(hash, index, |&i| {
            let s = blocks[i as usize / BLOCK][i as usize % BLOCK];
            if s.meta & TEXT_ID != 0 {
                hasher.hash_one(text_ids[s.id as usize].as_ref())
            } else {
                hasher.hash_one(s.id)
            }
        });
        true
    }

    fn record_of(&self, s: &Slot) -> RunRecord {
        let p = &self.profiles[s.profile()];
        let f = &self.files[s.file()];
        let mut r = RunRecord::new(
            Location::line(&f.path, s.line()),
            Format::Codecarbon,
            self.slot_id(s),
            Mass::kg(s.emissions),
        );
        r.layout = f.layout.clone();
        r.model = p.name(0);
        r.tool_version = p.name(1);
        r.duration = Some(Duration::seconds(s.duration));
        r.energy = Some(Energy::kwh(s.energy));
        r.place = p.place();
        r.hardware = p.hardware();
        r.pue = p.pue;
        r
    }

    fn place_of(&self, at: u64) -> Location {
        let f = &self.files[(at >> LINE_BITS) as usize];
        Location::line(&f.path, at & ((1 << LINE_BITS) - 1))
    }

    /// Reconcile, attribute and total: the ledger entries and the judgements made.
    pub fn finish(mut self, attribution: &Attribution) -> (Vec<Entry>, Vec<Warning>) {
        // A run with rows kept whole too is reconciled with them: its slot becomes a record.
        let mut moved = Vec::new();
        for r in &self.full {
            if r.format != Format::Codecarbon {
                continue;
            }
            let key = match uuid_bits(&r.run_id) {
                Some(v) => Key::Uuid(v),
                None => Key::Text(&r.run_id),
            };
            if let Some(i) = self.find(key) {
                moved.push(i);
            }
        }
        moved.sort_unstable();
        moved.dedup();
        for &i in &moved {
            self.slot_mut(i).meta |= MOVED;
        }
        if !moved.is_empty() {
            for i in moved {
                let record = self.record_of(&self.slot(i));
                self.full.push(record);
            }
            // In read order, as `reconcile` breaks ties by it (the last read wins).
            let order = &self.order;
            self.full.sort_by_key(|r| {
                (
                    order.get(&r.source.file).copied().unwrap_or(usize::MAX),
                    r.source.line.unwrap_or(0),
                )
            });
        }
        let mut warnings = self.duplicate_warnings();
        let mut reconciled = super::reconcile(std::mem::take(&mut self.full));
        warnings.append(&mut reconciled.warnings);

        // Per profile: the sums of its slots.
        let mut sums: Vec<ProfileSums> = vec![ProfileSums::default(); self.profiles.len()];
        for block in &self.blocks {
            for s in block {
                if s.meta & MOVED == 0 {
                    sums[s.profile()].add(s);
                }
            }
        }
        for s in &mut sums {
            s.total();
        }
        let (mut groups, more) = super::group(&mut reconciled, attribution);
        warnings.extend(more);
        let mut by_key: HashMap<(String, Option<semver::Version>), usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| ((g.model.clone(), g.version.clone()), i))
            .collect();
        let mut profiles_of: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        for (p, profile) in self.profiles.iter().enumerate() {
            // A profile whose rows were all superseded still names its model, as in `aggregate`
            // (which groups every record, counted or not).
            let model = attribution
                .model
                .as_deref()
                .or(profile.model())
                .unwrap_or(UNNAMED_MODEL)
                .to_owned();
            let key = (model, attribution.version.clone());
            let g = *by_key.entry(key.clone()).or_insert_with(|| {
                groups.push(super::Group {
                    model: key.0,
                    version: key.1,
                    records: Vec::new(),
                });
                profiles_of.push(Vec::new());
                groups.len() - 1
            });
            profiles_of[g].push(p);
        }
        let file_order = &self.order;
        let mut entries: Vec<Entry> = groups
            .into_iter()
            .zip(profiles_of)
            .map(|(g, profiles)| {
                self.entry(g, &profiles, &sums, &reconciled, attribution, file_order)
            })
            .collect();
        entries.sort_by(|a, b| (&a.model, &a.version).cmp(&(&b.model, &b.version)));
        (entries, warnings)
    }

    fn entry(
        &self,
        group: super::Group,
        profiles: &[usize],
        sums: &[ProfileSums],
        reconciled: &Reconciled,
        attribution: &Attribution,
        file_order: &HashMap<PathBuf, usize>,
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
        let slot_runs: usize = profiles.iter().map(|&p| sums[p].runs).sum();
        for &p in profiles {
            let s = &sums[p];
            acc.add_measured(
                &s.energy,
                &s.emissions,
                &s.duration,
                s.runs,
                self.profiles[p].on_cloud(),
            );
        }
        let mut contributions: Vec<Contribution> = counted
            .iter()
            .map(|&i| super::contribution(&reconciled.records[i]))
            .collect();
        if counted.len() + slot_runs <= CONTRIBUTION_LIMIT {
            let wanted: std::collections::HashSet<usize> = profiles.iter().copied().collect();
            for block in &self.blocks {
                for s in block {
                    if s.meta & MOVED == 0 && wanted.contains(&s.profile()) {
                        contributions.push(self.contribution(s, attribution));
                    }
                }
            }
        } else {
            for &p in profiles {
                contributions.extend(self.rollups(p, &sums[p], attribution));
            }
        }
        let order = |c: &Contribution| {
            (
                file_order
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
            model: group.model,
            version: group.version,
        }
    }

    fn contribution(&self, s: &Slot, attribution: &Attribution) -> Contribution {
        let p = &self.profiles[s.profile()];
        Contribution {
            source: self.place_of(s.at),
            format: Format::Codecarbon,
            run_id: self.slot_id(s),
            part: None,
            phase: attribution.phase,
            energy: Some(Energy::kwh(s.energy)),
            emissions: Mass::kg(s.emissions),
            embodied: None,
            duration: Some(Duration::seconds(s.duration)),
            method: Method::Measured,
            embodied_basis: None,
            runs: 1,
            last_line: None,
            worst_intensity: None,
            hardware: p.hardware(),
            place: p.place(),
            pue: p.pue,
            tool_version: p.name(1),
            assumptions: Vec::new(),
        }
    }

    /// The runs of one profile as rolled-up contributions: those with a duration, and those
    /// without one (embodied carbon cannot be allocated to them).
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
            out.push(Contribution {
                source: Location::line(&file.path, part.first_line),
                format: Format::Codecarbon,
                run_id: format!("{} runs", part.runs),
                part: None,
                phase: attribution.phase,
                energy: Some(Energy::kwh(part.energy.value())),
                emissions: Mass::kg(part.emissions.value()),
                embodied: None,
                duration: Some(Duration::seconds(part.duration.value())),
                method: Method::Measured,
                embodied_basis: None,
                runs: part.runs,
                last_line: Some(part.last_line),
                worst_intensity: part.worst,
                hardware: profile.hardware(),
                place: profile.place(),
                pue: profile.pue,
                tool_version: profile.name(1),
                assumptions: Vec::new(),
            });
        }
        out
    }

    fn duplicate_warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let mut examples: Vec<&(u32, Vec<u64>, usize)> = self.examples.iter().collect();
        examples.sort_by_key(|(slot, _, _)| *slot);
        for (slot, ats, rows) in examples {
            let s = self.slot(*slot as usize);
            let run_at = self.place_of(s.at);
            let mut ats = ats.clone();
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
            if *rows > ats.len() {
                places.push_str(&format!(", … and {} more", rows - ats.len()));
            }
            warnings.push(Warning::at(
                codes::DUPLICATE_RUN,
                run_at,
                format!(
                    "run {} has {} rows ({places}); they are cumulative snapshots of one run, so only the most complete one, here, is counted",
                    self.slot_id(&s),
                    rows
                ),
            ));
        }
        let rest = self.duplicated_runs - self.examples.len();
        if rest > 0 {
            warnings.push(Warning::general(
                codes::DUPLICATE_RUN,
                format!(
                    "{} runs have several rows ({} rows superseded in all); for each, the most complete row is counted. The first {} are listed above; `carbon-gate ingest` lists every row with its status",
                    self.duplicated_runs,
                    self.superseded_rows,
                    self.examples.len()
                ),
            ));
        }
        warnings
    }
}

/// The slots of one profile, split by whether they have a duration.
#[derive(Debug, Clone, Default)]
struct ProfileSums {
    energy: ExactSum,
    emissions: ExactSum,
    duration: ExactSum,
    runs: usize,
    timed: Part,
    untimed: Part,
}

#[derive(Debug, Clone, Default)]
struct Part {
    energy: ExactSum,
    emissions: ExactSum,
    duration: ExactSum,
    runs: usize,
    first_line: u64,
    last_line: u64,
    worst: Option<Intensity>,
}

impl ProfileSums {
    /// The profile's sums, from its parts.
    fn total(&mut self) {
        for part in [&self.timed, &self.untimed] {
            self.energy.merge(&part.energy);
            self.emissions.merge(&part.emissions);
            self.duration.merge(&part.duration);
        }
    }

    fn add(&mut self, s: &Slot) {
        self.runs += 1;
        let part = if s.duration > 0.0 {
            &mut self.timed
        } else {
            &mut self.untimed
        };
        part.energy.add(s.energy);
        part.emissions.add(s.emissions);
        part.duration.add(s.duration);
        let line = s.line();
        if part.runs == 0 || line < part.first_line {
            part.first_line = line;
        }
        part.last_line = part.last_line.max(line);
        part.runs += 1;
        if s.energy > 0.0 {
            let i = Intensity::g_per_kwh(s.emissions * 1000.0 / s.energy);
            if part.worst.is_none_or(|w| i > w) {
                part.worst = Some(i);
            }
        }
    }
}

impl Sink for Reducer {
    fn takes_plain(&self) -> bool {
        true
    }

    fn begin_file(&mut self, path: &Path, layout: &str) {
        let n = self.order.len();
        self.order.entry(path.to_owned()).or_insert(n);
        self.files.push(File {
            path: path.to_owned(),
            layout: layout.to_owned(),
        });
        self.current = u32::try_from(self.files.len() - 1).ok();
    }

    fn record(&mut self, record: RunRecord) {
        if self
            .full
            .last()
            .is_none_or(|r| r.source.file != record.source.file)
        {
            let n = self.order.len();
            self.order.entry(record.source.file.clone()).or_insert(n);
        }
        self.full.push(record);
    }

    fn plain(&mut self, text: &str, names: &[Names], rows: &[Plain]) {
        let profiles: Vec<Option<u32>> = match self.current {
            Some(file) => names.iter().map(|n| self.profile(file, text, n)).collect(),
            None => vec![None; names.len()],
        };
        for row in rows {
            let i = row.names as usize;
            let profile = profiles.get(i).copied().flatten();
            if !self.fold(text, row, profile) {
                // Beyond what a slot can hold (a line past 2^40, too many files or profiles):
                // kept whole instead.
                let f = self.current.map(|f| &self.files[f as usize]);
                let (path, layout) = match f {
                    Some(f) => (f.path.as_path(), f.layout.as_str()),
                    None => (Path::new(""), ""),
                };
                if let Some(n) = names.get(i) {
                    let record = row.record(text, n, path, layout);
                    self.full.push(record);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_and_other_ids_are_text() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(uuid_bits(id).map(uuid_text).as_deref(), Some(id));
        assert_eq!(uuid_bits("0F8FAD5B-D9CB-469F-A165-70867728950E"), None);
        assert_eq!(uuid_bits("run-1"), None);
        assert_eq!(std::mem::size_of::<Slot>(), 52);
    }
}
