//! Reading a CodeCarbon log of any size: the file is read in chunks that end on a record
//! boundary, the chunks are parsed on worker threads, and the rows are handed to a [`Sink`] in
//! file order. A sink with a [`Fold`] takes whole-run rows compact, folded on the workers, shard
//! by shard, each shard in file order. Memory is bounded by the chunks in flight, whatever the
//! size of the file.
//!
//! The bytes are checked as they pass: the byte-order mark is dropped, CRLF line ends are read as
//! LF, and a file that is not UTF-8 is refused with the offset of its first bad byte (which takes
//! precedence over a damaged row found earlier, as when a file is read whole).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;

use super::codecarbon::{self, Fields, Header, RowData};
use super::{Sink, binary, cannot_read, is_not_utf8, not_utf8};
use crate::diagnostic::Warning;
use crate::error::{Error, Location, Problem};
use crate::intern::{Hashed, Interner};
use crate::record::{Amounts, Profile, RunRecord};
use crate::run_key::RunKey;
use crate::units::{Duration, Energy, Mass};

/// Bytes per chunk handed to a worker.
const CHUNK: usize = 256 << 10;

/// A record (row) longer than this is refused: a quote is not closed, and the rest of the file
/// would otherwise be read into one record.
const MAX_RECORD: usize = 64 << 20;

/// The same for the header.
const MAX_HEADER: usize = 16 << 20;

/// Where a piece of text lies in its chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The text of the span.
    pub fn of<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start as usize..(self.start + self.len) as usize)
            .unwrap_or_default()
    }
}

/// What plain rows of a chunk share (a profile, [`Profile`], its texts left in the chunk): the
/// texts in the order of [`Profile::names`], the PUE and the GPU count. A worker lists each
/// distinct one once per chunk.
#[derive(Debug, Clone)]
pub struct Names {
    /// The texts, in the chunk.
    pub names: [Option<Span>; 9],
    /// `pue`.
    pub pue: Option<f64>,
    /// `gpu_count`.
    pub gpu_count: Option<f64>,
    /// A hash of the above (fixed keys: the same in every chunk and thread).
    pub hash: u64,
}

impl Hashed for Names {
    fn hash(&self) -> u64 {
        self.hash
    }
}

impl Names {
    /// The text of name `i`.
    pub fn text<'t>(&self, text: &'t str, i: usize) -> Option<&'t str> {
        self.names[i].map(|s| s.of(text))
    }

    /// The profile these names are, their texts in `text`.
    pub fn profile<'t>(&self, text: &'t str) -> Profile<'t> {
        Profile {
            names: self.names.map(|n| n.map(|s| s.of(text))),
            pue: self.pue,
            gpu_count: self.gpu_count,
        }
    }
}

/// A whole-run CodeCarbon row with a run id, its text left in its chunk: what the check's
/// ledger keeps of a row (the per-component energies are not kept; the timestamp only as the
/// run's start).
#[derive(Debug, Clone)]
pub struct Plain {
    /// The line the row is on.
    pub line: u64,
    /// `energy_consumed`.
    pub energy: Energy,
    /// `emissions`.
    pub emissions: Mass,
    /// `duration`.
    pub duration: Duration,
    /// When the run started, seconds on the tool's clock (the row's `timestamp` less its
    /// duration); NaN when the timestamp cannot be read.
    pub start: f64,
    /// `timestamp`, as written.
    pub timestamp: Option<Span>,
    /// `run_id`.
    pub run_id: Span,
    /// Its [`Names`], an index into the chunk's list.
    pub names: u32,
}

impl Plain {
    /// The row as a record (without the per-component energies).
    pub fn record(&self, text: &str, names: &Names, file: &Path, layout: &str) -> RunRecord {
        let mut r = RunRecord::from_profile(
            Location::line(file, self.line),
            layout,
            self.run_id.of(text).to_owned(),
            &names.profile(text),
            Amounts::measured(self.energy, self.emissions, self.duration),
        );
        r.timestamp = self.timestamp.map(|t| t.of(text).to_owned());
        r
    }
}

/// The plain rows of a chunk and their profiles, as a worker makes them.
#[derive(Default)]
struct PlainRows {
    names: Interner<Names>,
    rows: Vec<Plain>,
    /// The profile of the row before (rows of a log mostly share one).
    last: Option<u32>,
}

impl PlainRows {
    /// Keep `row` as a plain row, if it is one (a whole-run row with a run id, its texts in
    /// `text`).
    fn add(&mut self, text: &str, row: &RowData<'_>) -> bool {
        if row.task.is_some() {
            return false;
        }
        let span = |s: &str| -> Option<Span> {
            let start = (s.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
            let (start, len) = (u32::try_from(start).ok()?, u32::try_from(s.len()).ok()?);
            let span = Span { start, len };
            (span.of(text).as_ptr() == s.as_ptr()).then_some(span)
        };
        let Some(run_id) = row.run_id.and_then(span) else {
            return false;
        };
        let texts = row.profile().names;
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        let same = |n: &Names| {
            bits(n.pue) == bits(row.pue)
                && bits(n.gpu_count) == bits(row.gpu_count)
                && (0..9).all(|k| n.text(text, k) == texts[k])
        };
        let last = self.last.filter(|&i| self.names.get(i).is_some_and(same));
        let hash = match last {
            Some(_) => 0,
            None => profile_hash(texts, row.pue, row.gpu_count),
        };
        let found = last.or_else(|| self.names.find(hash, same));
        let id = match found {
            Some(id) => id,
            None => {
                let mut spans = [None; 9];
                for (slot, t) in spans.iter_mut().zip(texts) {
                    *slot = match t {
                        Some(t) => match span(t) {
                            Some(s) => Some(s),
                            None => return false,
                        },
                        None => None,
                    };
                }
                let names = Names {
                    names: spans,
                    pue: row.pue,
                    gpu_count: row.gpu_count,
                    hash,
                };
                match self.names.insert(names, u32::MAX) {
                    Some(id) => id,
                    None => return false,
                }
            }
        };
        self.last = Some(id);
        self.rows.push(Plain {
            line: row.line,
            energy: row.energy,
            emissions: row.emissions,
            duration: row.duration,
            start: row
                .timestamp
                .and_then(crate::timestamp::seconds)
                .map_or(f64::NAN, |t| t - row.duration.value()),
            timestamp: row.timestamp.and_then(span),
            run_id,
            names: id,
        });
        true
    }
}

/// The hash [`Names::hash`] holds, for texts in the order of [`Names`].
pub fn profile_hash(texts: [Option<&str>; 9], pue: Option<f64>, gpu_count: Option<f64>) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x6361_7262_6f6e).build_hasher();
    texts.hash(&mut h);
    pue.map(f64::to_bits).hash(&mut h);
    gpu_count.map(f64::to_bits).hash(&mut h);
    h.finish()
}

/// A whole-run CodeCarbon row as a [`Fold`] takes it: its run's key (and the key's hash), where
/// it is, its figures and its profile.
#[derive(Debug, Clone)]
pub struct PlainRow {
    /// The run.
    pub key: RunKey,
    /// [`RunKey::hash`] of `key`.
    pub hash: u64,
    /// The line the row is on.
    pub line: u64,
    /// `energy_consumed`.
    pub energy: Energy,
    /// `emissions`.
    pub emissions: Mass,
    /// `duration`.
    pub duration: Duration,
    /// When the run started (NaN: unknown), as in [`Plain::start`].
    pub start: f64,
    /// Its profile, as [`Fold::profiles`] gave it.
    pub profile: u32,
}

/// Where whole-run CodeCarbon rows go, folded on the threads that parse the log. Rows are split
/// into shards by the hash of their run key ([`shard_of`]); each shard's rows are folded in file
/// order, one call at a time, whichever thread parsed them.
pub trait Fold: Sync {
    /// How many shards.
    fn shards(&self) -> usize;
    /// The ids of the profiles `names` of a chunk of the current file (their texts in `text`);
    /// `None` for one that cannot be kept: its rows are handed over as records instead.
    fn profiles(&self, text: &str, names: &[Names]) -> Vec<Option<u32>>;
    /// Fold rows of shard `shard`.
    fn fold(&self, shard: usize, rows: Vec<PlainRow>);
}

/// The shard of a run key's hash (bits the hash tables do not use for buckets or tags).
pub fn shard_of(hash: u64, shards: usize) -> usize {
    ((hash >> 40) & 0xffff) as usize % shards.max(1)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The rows of each shard of one file, handed to the fold in chunk order: a chunk parsed early
/// waits for the ones before it.
struct Queues<'f> {
    fold: &'f dyn Fold,
    queues: Vec<Mutex<Queue>>,
}

#[derive(Default)]
struct Queue {
    next: u64,
    waiting: BTreeMap<u64, Vec<PlainRow>>,
}

impl<'f> Queues<'f> {
    fn new(fold: &'f dyn Fold) -> Self {
        Queues {
            fold,
            queues: (0..fold.shards()).map(|_| Mutex::default()).collect(),
        }
    }

    /// Hand over chunk `seq`'s rows (one list per shard), and fold every chunk now in order.
    fn deposit(&self, seq: u64, mut parts: Vec<Vec<PlainRow>>) {
        let n = self.queues.len();
        for k in 0..n {
            // Threads start at different shards, to wait less on each other.
            let shard = (k + seq as usize) % n;
            let rows = parts.get_mut(shard).map(std::mem::take).unwrap_or_default();
            let mut queue = lock(&self.queues[shard]);
            if queue.next != seq {
                queue.waiting.insert(seq, rows);
                continue;
            }
            let mut rows = Some(rows);
            while let Some(next) = rows {
                if !next.is_empty() {
                    self.fold.fold(shard, next);
                }
                queue.next += 1;
                let at = queue.next;
                rows = queue.waiting.remove(&at);
            }
        }
    }
}

/// What a worker made of one chunk.
struct Batch {
    text: String,
    /// Rows read (folded or not).
    rows: usize,
    records: Vec<RunRecord>,
    warnings: Vec<Warning>,
}

/// A chunk to parse.
struct Job {
    seq: u64,
    offset: u64,
    first_line: u64,
    bytes: Vec<u8>,
}

/// What reading one file gave.
pub struct FileRead {
    /// The layout of its header.
    pub layout: String,
    /// How many rows it gave.
    pub rows: usize,
}

/// How many threads parse chunks: `CARBON_GATE_THREADS`, else the available parallelism.
/// Asked once per process (the answer comes from cgroup files, three opens each time).
fn workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(count_workers)
}

fn count_workers() -> usize {
    std::env::var("CARBON_GATE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(16)
}

/// Read a CodeCarbon log whose first bytes are `prefix` and whose rest is `rest`, into `sink`.
/// Logs at least this large show a progress bar (when standard error is a terminal).
pub const PROGRESS_BYTES: u64 = 64 << 20;

/// A progress bar on standard error for a large log, when standard error is a terminal (never in
/// CI logs or when redirected).
fn progress(path: &Path, size: Option<u64>) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let size = size.filter(|&s| s >= PROGRESS_BYTES)?;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{wide_bar}] {percent:>3}% {eta:>4}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    bar.set_message(format!("reading {name}"));
    Some(bar)
}

/// Read a CodeCarbon log whose first bytes are `prefix` and whose rest is `rest` (`size`: the
/// whole file's, when known, for the progress bar), into `sink`.
pub fn read(
    path: &Path,
    prefix: Vec<u8>,
    rest: &mut (dyn Read + Send),
    size: Option<u64>,
    sink: &mut dyn Sink,
    warnings: &mut Vec<Warning>,
) -> Result<FileRead, Error> {
    let bar = progress(path, size);
    let result = read_with(path, prefix, rest, sink, warnings, bar.as_ref(), workers());
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

fn read_with(
    path: &Path,
    prefix: Vec<u8>,
    rest: &mut (dyn Read + Send),
    sink: &mut dyn Sink,
    warnings: &mut Vec<Warning>,
    bar: Option<&indicatif::ProgressBar>,
    threads: usize,
) -> Result<FileRead, Error> {
    let cannot_read = |err| cannot_read(path, err);
    let mut input = Input {
        buf: prefix,
        scan_at: 0,
        in_quotes: false,
        boundary: None,
        spare: Vec::new(),
        offset: 0,
        eof: false,
        rest,
    };
    // The header: the first record, after a byte-order mark.
    input.fill(3).map_err(cannot_read)?;
    if input.buf.starts_with("\u{feff}".as_bytes()) {
        input.consume(3);
    }
    let header_end = loop {
        let skip = input
            .buf
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let end = codecarbon::record_end(&input.buf, skip);
        if end < input.buf.len() || input.eof {
            break end;
        }
        if input.buf.len() > MAX_HEADER {
            return Err(Error::input(
                Problem::new(
                    Location::line(path, 1),
                    format!(
                        "the first record runs on for more than {} MiB: expected a CodeCarbon CSV header (is a quote not closed?)",
                        MAX_HEADER >> 20
                    ),
                )
                .with_help("pass a CodeCarbon emissions.csv (any release)"),
            ));
        }
        let want = input.buf.len() + CHUNK;
        input.fill(want).map_err(cannot_read)?;
    };
    let header_bytes = input.buf[..header_end].to_vec();
    let header_text = match std::str::from_utf8(&header_bytes) {
        Ok(t) => t,
        Err(e) => return Err(not_utf8(path, input.offset + e.valid_up_to() as u64)),
    };
    // As read whole: CRLF made LF before the blank lines before the header are skipped (the
    // byte-order mark is gone already; a second one is text, as it is to `normalize`).
    let header_text = header_text.replace("\r\n", "\n");
    let (header_text, _, first_line) = codecarbon::split_header(&header_text);
    let mut header = None;
    codecarbon::for_each_record(path, header_text, 1, false, |_, fields| {
        header = Some(Header::read(path, Some(fields), warnings)?);
        Ok::<(), Error>(())
    })
    .map_err(|err| input.prefer_utf8_error(path, err))?;
    let header = match header {
        Some(h) => h,
        None => Header::read(path, None, warnings)?,
    };
    input.consume((header_end + 1).min(input.buf.len()));
    sink.begin_file(path, header.layout());
    let rows = if sink.fold().is_some() {
        // Rows the fold does not take are delivered once the file is read (the fold is a
        // shared borrow of the sink while the threads run).
        let mut kept = Vec::new();
        let read = pump(
            path,
            &header,
            input,
            first_line,
            sink.fold(),
            &mut |r| kept.push(r),
            warnings,
            bar,
            threads,
        );
        sink.records(kept);
        read?
    } else {
        pump(
            path,
            &header,
            input,
            first_line,
            None,
            &mut |r| sink.record(r),
            warnings,
            bar,
            threads,
        )?
    };
    if rows == 0 {
        warnings.push(codecarbon::empty_log(path));
    }
    Ok(FileRead {
        layout: header.layout().to_owned(),
        rows,
    })
}

/// Read the records after the header: parse the chunks (on `threads` threads when there is more
/// than one chunk), fold plain rows into `fold`, hand every other row to `record` in file order.
/// Returns the number of rows.
#[allow(clippy::too_many_arguments)]
fn pump(
    path: &Path,
    header: &Header,
    mut input: Input<'_>,
    first_line: u64,
    fold: Option<&dyn Fold>,
    record: &mut dyn FnMut(RunRecord),
    warnings: &mut Vec<Warning>,
    bar: Option<&indicatif::ProgressBar>,
    threads: usize,
) -> Result<usize, Error> {
    let cannot_read = |err| cannot_read(path, err);
    let queues = fold.map(Queues::new);
    let queues = queues.as_ref();
    let mut rows = 0;
    let mut deliver = |batch: Batch, warnings: &mut Vec<Warning>| {
        rows += batch.rows;
        if let Some(bar) = bar {
            bar.inc(batch.text.len() as u64);
        }
        for r in batch.records {
            record(r);
        }
        warnings.extend(batch.warnings);
        batch.text.into_bytes()
    };

    input.fill(CHUNK).map_err(cannot_read)?;
    if input.eof || threads <= 1 {
        // Small file (or one thread): parse in place, chunk by chunk.
        let mut line = first_line;
        let mut seq = 0;
        while let Some(job) = input.next_job(path, &mut seq, &mut line)? {
            match parse_chunk(path, header, job, queues) {
                Ok(batch) => {
                    let bytes = deliver(batch, warnings);
                    input.recycle(bytes);
                }
                Err(err) => return Err(input.prefer_utf8_error(path, err)),
            }
        }
        return Ok(rows);
    }
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads);
    let job_rx = Mutex::new(job_rx);
    let (out_tx, out_rx) = mpsc::channel::<(u64, Result<Batch, Error>)>();
    let (failure, read_error) = std::thread::scope(|scope| {
        for _ in 0..threads {
            let out_tx = out_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || {
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let seq = job.seq;
                    if out_tx
                        .send((seq, parse_chunk(path, header, job, queues)))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(out_tx);
        // This thread cuts the file into chunks and hands them out, and delivers what the
        // workers made of them in file order, reusing their buffers. Chunks handed out and not
        // yet delivered are bounded, so that memory stays flat whatever the speed of each part
        // (rows wait in the queues only for chunks before them, which are among these).
        let most = 2 * threads + 2;
        let mut job_tx = Some(job_tx);
        let (mut seq, mut line) = (0u64, first_line);
        let mut out = 0usize;
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut failure: Option<Error> = None;
        let mut read_error = None;
        loop {
            while out < most
                && let Some(tx) = &job_tx
            {
                match input.next_job(path, &mut seq, &mut line) {
                    Ok(Some(job)) => {
                        out += 1;
                        if tx.send(job).is_err() {
                            job_tx = None;
                        }
                    }
                    Ok(None) => job_tx = None,
                    Err(err) => {
                        read_error = Some(err);
                        job_tx = None;
                    }
                }
            }
            if out == 0 {
                break;
            }
            let Ok((at, result)) = out_rx.recv() else {
                break;
            };
            pending.insert(at, result);
            while let Some(result) = pending.remove(&next) {
                next += 1;
                out -= 1;
                match result {
                    Ok(batch) if failure.is_none() => {
                        let bytes = deliver(batch, warnings);
                        input.recycle(bytes);
                    }
                    Ok(batch) => input.recycle(batch.text.into_bytes()),
                    Err(err) => {
                        // Nothing more is read; the chunks out are waited for.
                        job_tx = None;
                        match &failure {
                            None => failure = Some(err),
                            // After a damaged row, only a later chunk that is not UTF-8
                            // matters.
                            Some(f) if is_not_utf8(&err) && !is_not_utf8(f) => {
                                failure = Some(err);
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        drop(job_tx);
        (failure, read_error)
    });
    if let Some(err) = failure.or(read_error) {
        return Err(input.prefer_utf8_error(path, err));
    }
    Ok(rows)
}

/// Parse one chunk: check it is UTF-8, read its rows, fold its plain rows (when there is a
/// fold).
fn parse_chunk(
    path: &Path,
    header: &Header,
    job: Job,
    queues: Option<&Queues<'_>>,
) -> Result<Batch, Error> {
    // A NUL byte is refused as when a file is read whole (even in a column this tool ignores);
    // of a NUL and a byte that is not UTF-8, the first is told.
    let nul = memchr::memchr(0, &job.bytes);
    let text = match String::from_utf8(job.bytes) {
        Ok(text) => text,
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            return Err(match nul.filter(|&at| at < bad) {
                Some(at) => binary(path, job.offset + at as u64),
                None => not_utf8(path, job.offset + bad as u64),
            });
        }
    };
    if let Some(at) = nul {
        return Err(binary(path, job.offset + at as u64));
    }
    let mut plain = PlainRows::default();
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let mut rows = 0;
    codecarbon::for_each_record(path, &text, job.first_line, true, |line, fields| {
        let Some(row) = header.row(path, line, fields, &mut warnings)? else {
            return Ok::<(), Error>(());
        };
        check_row(path, &row)?;
        rows += 1;
        let kept =
            queues.is_some() && matches!(fields, Fields::Plain { .. }) && plain.add(&text, &row);
        if !kept {
            records.push(row.record(path, header.layout(), &mut warnings));
        }
        Ok(())
    })?;
    if let Some(queues) = queues {
        // Every chunk is handed over, rows or not: the chunks after it wait for it.
        let fold = queues.fold;
        let profiles = if plain.rows.is_empty() {
            Vec::new()
        } else {
            fold.profiles(&text, plain.names.items())
        };
        let shards = fold.shards().max(1);
        // Room for a fair share of the rows, and some: few shards need to grow.
        let share = plain.rows.len() / shards + plain.rows.len() / (4 * shards) + 4;
        let mut parts: Vec<Vec<PlainRow>> =
            (0..shards).map(|_| Vec::with_capacity(share)).collect();
        let mut kept_whole = false;
        for row in &plain.rows {
            let names = row.names as usize;
            match profiles.get(names).copied().flatten() {
                Some(profile) => {
                    let key = RunKey::of(row.run_id.of(&text));
                    let hash = key.hash();
                    if let Some(part) = parts.get_mut(shard_of(hash, fold.shards())) {
                        part.push(PlainRow {
                            key,
                            hash,
                            line: row.line,
                            energy: row.energy,
                            emissions: row.emissions,
                            duration: row.duration,
                            start: row.start,
                            profile,
                        });
                    }
                }
                None => {
                    if let Some(n) = plain.names.get(row.names) {
                        records.push(row.record(&text, n, path, header.layout()));
                        kept_whole = true;
                    }
                }
            }
        }
        if kept_whole {
            records.sort_by_key(|r| r.source.line);
        }
        queues.deposit(job.seq, parts);
    }
    Ok(Batch {
        text,
        rows,
        records,
        warnings,
    })
}

/// The plausibility checks of [`crate::record::check_plausible`], on a row.
fn check_row(path: &Path, row: &RowData<'_>) -> Result<(), Error> {
    // A row without a run id is counted as its own run, named after its place.
    let made;
    let run_id = match row.run_id {
        Some(id) => id,
        None => {
            made = Location::line(path, row.line).to_string();
            &made
        }
    };
    crate::record::check_figures(
        &|| Location::line(path, row.line),
        run_id,
        row.model,
        None,
        row.emissions,
        Some(row.energy),
        Some(row.duration),
    )
}

/// The file being read: a buffer of bytes not yet handed out, from `offset` in the file.
struct Input<'r> {
    buf: Vec<u8>,
    /// How far `buf` has been scanned for record boundaries, whether that point is inside
    /// quotes, and the last boundary found: a record that grows over many reads is scanned once.
    scan_at: usize,
    in_quotes: bool,
    boundary: Option<usize>,
    /// Buffers of chunks already parsed, to read the next ones into (no new pages to fault in).
    spare: Vec<Vec<u8>>,
    offset: u64,
    eof: bool,
    rest: &'r mut (dyn Read + Send),
}

impl Input<'_> {
    /// Read until the buffer holds `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> std::io::Result<()> {
        if self.eof || self.buf.len() >= want {
            return Ok(());
        }
        let need = (want - self.buf.len()) as u64;
        self.buf.reserve(want - self.buf.len());
        // `read_to_end` fills the spare capacity without zeroing it first, and retries
        // interrupted reads; it stops at `need` bytes or the end of the file.
        let n = (&mut *self.rest).take(need).read_to_end(&mut self.buf)?;
        if (n as u64) < need {
            self.eof = true;
        }
        Ok(())
    }

    /// Take back the buffer of a parsed chunk.
    fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare.len() < 4 && bytes.capacity() <= 4 * CHUNK {
            self.spare.push(bytes);
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.offset += n as u64;
    }

    /// The next chunk of whole records (`None` at the end of the file).
    fn next_job(
        &mut self,
        path: &Path,
        seq: &mut u64,
        line: &mut u64,
    ) -> Result<Option<Job>, Error> {
        let cannot_read = |err| cannot_read(path, err);
        self.fill(CHUNK).map_err(cannot_read)?;
        loop {
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = if self.eof {
                Some(self.buf.len())
            } else {
                self.last_boundary()
            };
            if let Some(cut) = cut {
                let mut rest = self.spare.pop().unwrap_or_default();
                rest.clear();
                rest.reserve(CHUNK);
                rest.extend_from_slice(&self.buf[cut..]);
                self.buf.truncate(cut);
                let bytes = std::mem::replace(&mut self.buf, rest);
                // What is left was scanned already (and holds no boundary).
                self.scan_at = self.buf.len();
                self.boundary = None;
                if self.eof {
                    self.in_quotes = false;
                }
                let job = Job {
                    seq: *seq,
                    offset: self.offset,
                    first_line: *line,
                    bytes,
                };
                self.offset += cut as u64;
                *line += memchr::memchr_iter(b'\n', &job.bytes).count() as u64;
                *seq += 1;
                return Ok(Some(job));
            }
            if self.buf.len() > MAX_RECORD {
                return Err(Error::input(
                    Problem::new(
                        Location::line(path, *line),
                        format!(
                            "the record starting here runs on for more than {} MiB: a quote is probably not closed",
                            MAX_RECORD >> 20
                        ),
                    )
                    .with_help("fix the row's quotes or remove it"),
                ));
            }
            // One record longer than a chunk: read on.
            let want = self.buf.len() + CHUNK;
            self.fill(want).map_err(cannot_read)?;
        }
    }

    /// The end of the last whole record in the buffer (just after its line feed), if any. Only
    /// the bytes not scanned before are looked at.
    fn last_boundary(&mut self) -> Option<usize> {
        let from = self.scan_at.min(self.buf.len());
        let bytes = &self.buf[from..];
        if !self.in_quotes && memchr::memchr(b'"', bytes).is_none() {
            if let Some(i) = memchr::memrchr(b'\n', bytes) {
                self.boundary = Some(from + i + 1);
            }
        } else {
            for i in memchr::memchr2_iter(b'"', b'\n', bytes) {
                if bytes[i] == b'"' {
                    self.in_quotes = !self.in_quotes;
                } else if !self.in_quotes {
                    self.boundary = Some(from + i + 1);
                }
            }
        }
        self.scan_at = self.buf.len();
        self.boundary
    }

    /// When a file is also not UTF-8 after `err`, that is the error to report (as when it is
    /// read whole): read the rest of it and look.
    fn prefer_utf8_error(&mut self, path: &Path, err: Error) -> Error {
        if is_not_utf8(&err) {
            return err;
        }
        let mut carry: Vec<u8> = Vec::new();
        let mut at = self.offset;
        loop {
            let mut block = std::mem::take(&mut self.buf);
            if block.is_empty() {
                if self.eof {
                    break;
                }
                if self.fill(CHUNK).is_err() {
                    break;
                }
                continue;
            }
            let mut bytes = std::mem::take(&mut carry);
            let base = at - bytes.len() as u64;
            at += block.len() as u64;
            bytes.append(&mut block);
            let nul = memchr::memchr(0, &bytes);
            match std::str::from_utf8(&bytes) {
                Ok(_) => {}
                Err(e) if e.error_len().is_none() && !self.eof => {
                    carry = bytes[e.valid_up_to()..].to_vec();
                }
                Err(e) if nul.is_none_or(|n| n > e.valid_up_to()) => {
                    return not_utf8(path, base + e.valid_up_to() as u64);
                }
                Err(_) => {}
            }
            if let Some(n) = nul {
                return binary(path, base + n as u64);
            }
        }
        if !carry.is_empty() {
            return not_utf8(path, at - carry.len() as u64);
        }
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "timestamp,project_name,run_id,duration,emissions,energy_consumed\n";

    /// Records, warnings and error of reading `bytes` with `threads` (the first `prefix` bytes
    /// given as already read).
    fn read_all(
        bytes: &[u8],
        prefix: usize,
        threads: usize,
    ) -> (Vec<RunRecord>, Vec<Warning>, Option<String>) {
        #[derive(Default)]
        struct Records(Vec<RunRecord>);
        impl Sink for Records {
            fn record(&mut self, r: RunRecord) {
                self.0.push(r);
            }
        }
        let mut sink = Records::default();
        let mut warnings = Vec::new();
        let mut rest = &bytes[prefix..];
        let result = read_with(
            Path::new("e.csv"),
            bytes[..prefix].to_vec(),
            &mut rest,
            &mut sink,
            &mut warnings,
            None,
            threads,
        );
        (sink.0, warnings, result.err().map(|e| e.to_string()))
    }

    /// A log of many chunks: runs with snapshots, a quoted name with a line end, a task-less
    /// row without a run id, a short row.
    fn big() -> String {
        let mut text = HEADER.to_owned();
        let mut n = 0u64;
        while text.len() < 5 * CHUNK {
            n += 1;
            match n % 1000 {
                // Run r{n} is also in plain rows (n = 2n, 2n + 1): an earlier snapshot of it.
                7 => text.push_str(&format!("\"2026\n01\",\"p{}\",r{n},1,1e-3,1\r\n", n % 3)),
                8 => text.push_str("2026,p,,1,2,3\n"),
                // Two snapshots of each run r{n / 2}.
                _ => text.push_str(&format!(
                    "2026-01-01T00:00:00,p{},r{},{n}.5,{n}e-3,{n}.25\n",
                    (n / 2) % 3,
                    n / 2
                )),
            }
        }
        text
    }

    #[test]
    fn threads_read_like_one() {
        let text = big();
        let one = read_all(text.as_bytes(), 100, 1);
        assert!(one.2.is_none(), "{:?}", one.2);
        assert!(one.0.len() > 10_000);
        for threads in [2, 3, 8] {
            let many = read_all(text.as_bytes(), 100, threads);
            assert_eq!(many.0, one.0, "{threads} threads");
            assert_eq!(many.1, one.1, "{threads} threads");
            assert_eq!(many.2, None);
        }
        // The quoted name keeps its line end, and the rows after it their line numbers.
        let quoted = one.0.iter().find(|r| r.run_id == "r7").unwrap();
        assert_eq!(quoted.model.as_deref(), Some("p1"));
        assert_eq!(quoted.timestamp.as_deref(), Some("2026\n01"));
        // Row 8 has no run id; row 9 is run r4, three lines after the quoted one.
        let after = one.0.iter().find(|r| r.run_id == "r4").unwrap();
        assert_eq!(after.source.line, Some(quoted.source.line.unwrap() + 3));
    }

    /// `text` read on `threads` threads into the check's ledger: the ledger, the read's warnings
    /// and its error.
    fn fold_into_ledger(
        text: &str,
        threads: usize,
    ) -> (crate::ledger::reduce::Reducer, Vec<Warning>, Option<String>) {
        let mut reducer = crate::ledger::reduce::Reducer::default();
        let mut warnings = Vec::new();
        let mut rest = text.as_bytes();
        let read = read_with(
            Path::new("e.csv"),
            Vec::new(),
            &mut rest,
            &mut reducer,
            &mut warnings,
            None,
            threads,
        );
        (reducer, warnings, read.err().map(|e| e.to_string()))
    }

    /// The check's ledger, folded on `threads` threads: its entries and warnings, as text.
    fn folded(text: &str, threads: usize) -> (String, Vec<String>) {
        let (reducer, warnings, err) = fold_into_ledger(text, threads);
        assert_eq!(err, None);
        let (entries, more) = reducer
            .finish(&crate::ledger::Attribution::default())
            .unwrap();
        let warnings = warnings
            .iter()
            .chain(&more)
            .map(ToString::to_string)
            .collect();
        (format!("{entries:#?}"), warnings)
    }

    #[test]
    fn a_fold_on_many_threads_is_the_fold_on_one() {
        // Snapshots of one run in neighbouring rows and chunks, runs also in quoted rows (kept
        // whole, so their slots are reconciled with them), a row without a run id.
        let text = big();
        let one = folded(&text, 1);
        // Run r7 is in plain rows and a quoted one: reconciled once, from its slot and record.
        assert_eq!(one.0.matches("run_id: \"r7\"").count(), 1);
        assert!(one.1.iter().any(|w| w.contains("runs have several rows")));
        for threads in [2, 3, 8] {
            let many = folded(&text, threads);
            assert_eq!(many.0, one.0, "{threads} threads");
            assert_eq!(many.1, one.1, "{threads} threads");
        }
    }

    /// With a fold, a damaged row in the middle of a file ends the read with its error (the
    /// chunks after it, waiting in the shards' queues for it, are dropped), on any thread count.
    #[test]
    fn a_damaged_row_ends_a_folded_read_with_its_error() {
        let text = big();
        let at = text.len() / 2;
        let at = at + text[at..].find('\n').unwrap() + 1;
        let line = text[..at].matches('\n').count() as u64 + 1;
        let damaged = format!("{}2026,p,rX,1,-2,3\n{}", &text[..at], &text[at..]);
        for threads in [1, 2, 3, 8] {
            let err = fold_into_ledger(&damaged, threads).2.unwrap_or_default();
            assert!(
                err.contains(&format!("e.csv:{line}: `emissions` is \"-2\"")),
                "{threads}: {err}"
            );
        }
    }

    #[test]
    fn the_first_damaged_row_is_reported_whichever_thread_read_it() {
        let text = big();
        let at = text.len() * 3 / 5;
        let at = at + text[at..].find('\n').unwrap() + 1;
        let line = text[..at].matches('\n').count() as u64 + 1;
        let damaged = format!("{}2026,p,rX,abc,2,3\n{}", &text[..at], &text[at..]);
        let later = format!("{}2026,p,rY,1,abc,3\n", damaged);
        for threads in [1, 2, 4] {
            let (_, _, err) = read_all(later.as_bytes(), 100, threads);
            let err = err.unwrap();
            assert!(
                err.contains(&format!("e.csv:{line}: `duration` is \"abc\"")),
                "{threads}: {err}"
            );
        }
        // A bad byte after the damaged row: the file is not UTF-8, which is what is reported.
        let mut bytes = later.into_bytes();
        let bad = bytes.len() - 2;
        bytes[bad] = 0xff;
        for threads in [1, 2, 4] {
            let (_, _, err) = read_all(&bytes, 100, threads);
            let err = err.unwrap();
            assert!(
                err.contains(&format!("invalid byte at offset {bad}")),
                "{threads}: {err}"
            );
        }
    }

    /// Stream and whole-text reading agree (found by fuzzing `codecarbon_stream`).
    fn same_as_whole(bytes: &[u8]) {
        let whole = match std::str::from_utf8(bytes) {
            Ok(text) => codecarbon::parse(Path::new("e.csv"), &crate::ingest::normalize(text))
                .map(|p| (p.records, p.warnings))
                .map_err(|e| e.to_string()),
            Err(_) => unreachable!("UTF-8 input"),
        };
        for prefix in [0, 1, 2, 5] {
            let (records, warnings, err) = read_all(bytes, prefix.min(bytes.len()), 1);
            match (&whole, err) {
                (Ok((r, w)), None) => {
                    assert_eq!(&records, r);
                    assert_eq!(&warnings, w);
                }
                (Err(a), Some(b)) => assert_eq!(a, &b),
                (a, b) => panic!("whole {a:?}, streamed {b:?}"),
            }
        }
    }

    #[test]
    fn fuzz_findings_read_as_whole() {
        // A lone CR before the header; two byte-order marks.
        same_as_whole(b"\r\r\n");
        same_as_whole("\u{feff}\u{feff}".as_bytes());
        same_as_whole(b"\r\r\nproject_name,duration,emissions,energy_consumed\n");
        // An implausible row without a run id is named after its place.
        let text = format!("{HEADER}2024,p,,1,1e13,3\n");
        same_as_whole(text.as_bytes());
        let (_, _, err) = read_all(text.as_bytes(), 0, 1);
        assert!(err.unwrap().contains("e.csv:2: run e.csv:2: CO2e 1e13 kg"));
        // CR CR LF inside a quoted field, and before a line end.
        same_as_whole(
            format!("{HEADER}\"20\r\r\n24\",p,r1,1,2,3\n2024,p,r2,1,2,3\r\r\n").as_bytes(),
        );
    }

    #[test]
    fn a_quote_left_open_is_refused_after_64_mib_not_read_on() {
        let mut text = format!("{HEADER}2026,\"p,r0,1,2,3\n");
        let row = "2026-01-01T00:00:00,p,r1,1.5,0.25,2.25\n";
        while text.len() <= MAX_RECORD + 3 * CHUNK {
            text.push_str(row);
        }
        let (_, _, err) = read_all(text.as_bytes(), 100, 2);
        let err = err.unwrap();
        assert!(
            err.contains("e.csv:2: the record starting here runs on for more than 64 MiB"),
            "{err}"
        );
    }
}
