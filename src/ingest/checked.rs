//! The bytes of a log read piece by piece, checked as they pass, for the formats streamed one row
//! or line at a time (eco2AI CSV, carbon-gate NDJSON).
//!
//! [`Checked`] reads a file's first bytes (already read to detect its format) and then the rest,
//! and hands out the text every parser reads when the file is read whole ([`super::normalize`]):
//! the byte-order mark dropped, CRLF line ends made LF. It refuses what a whole read refuses, with
//! the same message and offset: a NUL byte (the first one in the file) and bytes that are not
//! UTF-8 (the first bad one). A whole read checks the whole file before parsing, so a bad byte
//! anywhere outranks a damaged row, and a NUL byte outranks a bad UTF-8 sequence:
//! [`Checked::conclude`] reads the rest of the file after a parser's error to report the same
//! error. A record is bounded ([`MAX_RECORD`]): a reader sets where the current record starts
//! ([`Pieces::mark`]), and no more than that many bytes after it are handed out.

use std::io::Read;
use std::path::Path;

use super::{binary, cannot_read, not_utf8};
use crate::error::Error;

/// A record (an eco2AI row, an NDJSON line) longer than this is refused: a quote is not closed,
/// or the file is no log, and the rest of it would otherwise be read into one record.
pub const MAX_RECORD: usize = 64 << 20;

/// Bytes read from the file at a time.
const READ: usize = 64 << 10;

const BOM: &[u8] = "\u{feff}".as_bytes();

/// Why no more bytes are handed out.
#[derive(Debug)]
enum Fault {
    /// A NUL byte at this offset of the file (the first).
    Nul(u64),
    /// Not UTF-8 from this offset of the file (the first bad byte).
    NotUtf8(u64),
    /// The file could not be read.
    Io(std::io::Error),
    /// A record runs on past [`MAX_RECORD`].
    TooLong,
}

/// What a parser needs of its input beyond `Read`: where a record starts, so that one record is
/// bounded, and whether the input stopped for that.
pub trait Pieces: Read {
    /// A record starts at this offset of the text handed out.
    fn mark(&mut self, _at: u64) {}
    /// Whether the input stopped because a record ran on past [`MAX_RECORD`].
    fn too_long(&self) -> bool {
        false
    }
}

/// Text read whole is checked already.
impl Pieces for &[u8] {}

/// A log's bytes, checked and normalized as they are read.
pub struct Checked<'r> {
    /// Bytes read and not yet checked (from the first bytes on, then what `rest` gives): at most
    /// the end of a UTF-8 sequence cut by a read, or a CR that may start a CRLF.
    raw: Vec<u8>,
    /// The offset of `raw[0]` in the file.
    raw_at: u64,
    rest: &'r mut (dyn Read + Send),
    eof: bool,
    /// Whether the start of the file was looked at for a byte-order mark.
    started: bool,
    /// Checked, normalized text not yet handed out, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
    fault: Option<Fault>,
    /// Bytes handed out, and how many may be (the current record's start and [`MAX_RECORD`]).
    served: u64,
    limit: u64,
}

impl<'r> Checked<'r> {
    /// The file whose first bytes are `first` (from offset 0) and whose other bytes `rest` gives.
    pub fn new(first: Vec<u8>, rest: &'r mut (dyn Read + Send)) -> Self {
        Checked {
            raw: first,
            raw_at: 0,
            rest,
            eof: false,
            started: false,
            out: Vec::new(),
            out_at: 0,
            fault: None,
            served: 0,
            limit: MAX_RECORD as u64,
        }
    }

    /// No bound on what is handed out (for a reader that bounds each record itself).
    pub fn unbounded(mut self) -> Self {
        self.limit = u64::MAX;
        self
    }

    /// Check and normalize the next bytes of the file into `out`: false when nothing more comes
    /// (the end of the file, or a fault).
    fn refill(&mut self) -> bool {
        loop {
            if self.fault.is_some() || (self.eof && self.raw.is_empty()) {
                return false;
            }
            if !self.eof && self.raw.len() < READ {
                match (&mut *self.rest)
                    .take(READ as u64)
                    .read_to_end(&mut self.raw)
                {
                    Ok(n) => self.eof = n < READ,
                    Err(err) => {
                        self.fault = Some(Fault::Io(err));
                        return false;
                    }
                }
            }
            if !self.started {
                if self.raw.len() < BOM.len() && !self.eof {
                    continue;
                }
                self.started = true;
                if self.raw.starts_with(BOM) {
                    self.raw.drain(..BOM.len());
                    self.raw_at += BOM.len() as u64;
                }
            }
            // The first NUL byte of the file outranks everything; then the first bad UTF-8.
            let (mut end, bad) = match std::str::from_utf8(&self.raw) {
                Ok(_) => (self.raw.len(), None),
                Err(e) if e.error_len().is_none() && !self.eof => (e.valid_up_to(), None),
                Err(e) => (e.valid_up_to(), Some(e.valid_up_to())),
            };
            if let Some(at) = memchr::memchr(0, &self.raw) {
                self.fault = Some(Fault::Nul(self.raw_at + at as u64));
                end = end.min(at);
            } else if let Some(at) = bad {
                self.fault = Some(Fault::NotUtf8(self.raw_at + at as u64));
            }
            // A CR at the end of what was read may be the first half of a CRLF.
            if end == self.raw.len() && !self.eof && self.raw.last() == Some(&b'\r') {
                end -= 1;
            }
            push_lf(&mut self.out, &self.raw[..end]);
            self.raw.drain(..end);
            self.raw_at += end as u64;
            if end > 0 || self.fault.is_some() {
                return end > 0;
            }
        }
    }

    /// The first line of the text (without its line end), for a parser that decides something
    /// from it (as `text.lines().next()` does when a file is read whole). At most
    /// [`MAX_RECORD`] bytes of it are looked at.
    pub fn first_line(&mut self) -> String {
        loop {
            let ready = &self.out[self.out_at..];
            if let Some(end) = memchr::memchr(b'\n', ready) {
                let line = &ready[..end];
                return String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line))
                    .into_owned();
            }
            if ready.len() > MAX_RECORD || !self.refill() {
                return String::from_utf8_lossy(&self.out[self.out_at..]).into_owned();
            }
        }
    }

    /// The error to report for `err`, a parser's error (or the input's own) while reading this
    /// file: as when the file is read whole, a NUL byte anywhere in the file outranks a bad UTF-8
    /// sequence anywhere, which outranks a damaged record; so the rest of the file is read and
    /// checked first. A record that ran on past [`MAX_RECORD`] is reported as `err` at once.
    pub fn conclude(&mut self, path: &Path, err: Error) -> Error {
        while self.fault.is_none() && !(self.eof && self.raw.is_empty()) {
            self.out.clear();
            self.out_at = 0;
            self.refill();
        }
        match self.fault.take() {
            None | Some(Fault::TooLong) => err,
            Some(Fault::Nul(at)) => binary(path, at),
            Some(Fault::Io(io)) => cannot_read(path, io),
            Some(Fault::NotUtf8(at)) => match self.find_nul() {
                Ok(Some(nul)) => binary(path, nul),
                Ok(None) => not_utf8(path, at),
                Err(io) => cannot_read(path, io),
            },
        }
    }

    /// The offset of the first NUL byte in the bytes not checked yet.
    fn find_nul(&mut self) -> std::io::Result<Option<u64>> {
        loop {
            if let Some(at) = memchr::memchr(0, &self.raw) {
                return Ok(Some(self.raw_at + at as u64));
            }
            if self.eof {
                return Ok(None);
            }
            self.raw_at += self.raw.len() as u64;
            self.raw.clear();
            let n = (&mut *self.rest)
                .take(READ as u64)
                .read_to_end(&mut self.raw)?;
            self.eof = n < READ;
        }
    }
}

/// `bytes` onto `out`, CRLF made LF (as `str::replace("\r\n", "\n")` does, left to right).
fn push_lf(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut from = 0;
    for at in memchr::memmem::find_iter(bytes, b"\r\n") {
        out.extend_from_slice(&bytes[from..at]);
        from = at + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

impl Read for Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
            self.refill();
        }
        let ready = self.out.len() - self.out_at;
        if ready == 0 {
            return match &self.fault {
                None => Ok(0),
                Some(_) => Err(std::io::Error::other(
                    "the log stopped at a bad byte (reported with its offset)",
                )),
            };
        }
        let room = self.limit.saturating_sub(self.served);
        if room == 0 && !buf.is_empty() {
            self.fault = Some(Fault::TooLong);
            return Err(std::io::Error::other(format!(
                "a record runs on for more than {} MiB",
                MAX_RECORD >> 20
            )));
        }
        let n = buf.len().min(ready).min(room as usize);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        self.served += n as u64;
        Ok(n)
    }
}

impl Pieces for Checked<'_> {
    fn mark(&mut self, at: u64) {
        self.limit = at.saturating_add(MAX_RECORD as u64);
    }

    fn too_long(&self) -> bool {
        matches!(self.fault, Some(Fault::TooLong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(first: &[u8], rest: &[u8]) -> Result<Vec<u8>, String> {
        let mut rest = rest;
        let mut checked = Checked::new(first.to_vec(), &mut rest);
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            match checked.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {
                    let err = Error::input(crate::error::Problem::new(
                        crate::error::Location::file("f"),
                        "parser",
                    ));
                    return Err(checked.conclude(Path::new("f"), err).to_string());
                }
            }
        }
    }

    #[test]
    fn normalizes_as_a_whole_read_does() {
        let bytes = "\u{feff}\u{feff}a\r\nb\r\r\nc\r".as_bytes();
        let whole = super::super::normalize(std::str::from_utf8(bytes).unwrap()).into_owned();
        for cut in 0..bytes.len() {
            let read = text(&bytes[..cut], &bytes[cut..]).unwrap();
            assert_eq!(String::from_utf8(read).unwrap(), whole, "cut at {cut}");
        }
    }

    #[test]
    fn bad_bytes_are_reported_at_their_offset() {
        let err = text(b"ab", b"c\xe2\x82").unwrap_err();
        assert!(err.contains("invalid byte at offset 3"), "{err}");
        let err = text(b"ab\xff", b"c\0").unwrap_err();
        assert!(err.contains("NUL byte at offset 4"), "{err}");
        let err = text(b"\xef\xbb\xbfab\xffc", b"").unwrap_err();
        assert!(err.contains("invalid byte at offset 5"), "{err}");
    }

    use crate::diagnostic::Warning;
    use crate::record::{Format, RunRecord};

    use crate::ingest::tests::Trickle;

    /// Records, warnings, layout and count of a read, or its error.
    type Outcome = Result<(Vec<RunRecord>, Vec<Warning>, String, usize), String>;

    /// Reading `bytes` whole, as `open` and `read_one` do once the prefix passed.
    fn whole(format: Format, bytes: &[u8]) -> Outcome {
        let path = Path::new("runs.log");
        if let Some(at) = memchr::memchr(0, bytes) {
            return Err(binary(path, at as u64).to_string());
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| not_utf8(path, e.valid_up_to() as u64).to_string())?;
        let text = super::super::normalize(text);
        let parsed = match format {
            Format::Eco2ai => super::super::eco2ai::parse(path, &text),
            _ => super::super::native::parse(path, &text),
        }
        .map_err(|e| e.to_string())?;
        crate::record::check_plausible(&parsed.records).map_err(|e| e.to_string())?;
        let n = parsed.records.len();
        Ok((parsed.records, parsed.warnings, parsed.layout, n))
    }

    /// Reading `bytes` streamed: the first `split` bytes as the prefix, the rest `step` bytes at
    /// a time.
    fn streamed(format: Format, bytes: &[u8], split: usize, step: usize) -> Outcome {
        let path = Path::new("runs.log");
        let split = split.min(bytes.len());
        let mut rest = Trickle {
            bytes: &bytes[split..],
            step,
        };
        let mut sink = super::super::Collect::default();
        let mut warnings = Vec::new();
        let first = bytes[..split].to_vec();
        let (layout, n) = match format {
            Format::Eco2ai => {
                super::super::eco2ai::stream(path, first, &mut rest, &mut sink, &mut warnings)
                    .map_err(|e| e.to_string())?
            }
            _ => match super::super::native::stream(path, first, &mut rest, &mut sink)
                .map_err(|e| e.to_string())?
            {
                super::super::native::Streamed::Lines(layout, n) => (layout, n),
                super::super::native::Streamed::Whole(mut read) => {
                    rest.read_to_end(&mut read).unwrap();
                    return whole(format, &read);
                }
            },
        };
        Ok((sink.records, warnings, layout, n))
    }

    fn same(format: Format, name: &str, bytes: &[u8]) {
        let expected = whole(format, bytes);
        for split in [0, 1, 5, 100, bytes.len() / 2, bytes.len()] {
            for step in [1, 3, 7, 4096, usize::MAX] {
                if step < 4 && bytes.len() > 200_000 {
                    continue;
                }
                let got = streamed(format, bytes, split, step);
                assert!(
                    got == expected,
                    "{name}: split {split}, step {step}:\n{got:?}\nwhole:\n{expected:?}"
                );
            }
        }
    }

    fn fixtures(dir: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.to_string_lossy().ends_with(ext) {
                    found.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        found.sort();
        found
    }

    /// An eco2AI 0.3.12 log of `rows` plain runs over several projects, then training runs
    /// (0.3.1+ epochs, and a 0.3.0 summary row), with CRLF line ends when `crlf`.
    fn eco2ai_log(rows: usize, crlf: bool) -> Vec<u8> {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!(
            "\u{feff}id,project_name,experiment_description,epoch,start_time,duration(s),power_consumption(kWh),CO2_emissions(kg),CPU_name,GPU_name,OS,region/country,cost{end}"
        );
        for n in 0..rows {
            text.push_str(&format!(
                "id-{n},model-{},\"desc, \"\"{n}\"\"\",N/A,2026-11-28 18:43:{:02},{n}.5,0.{n},0.00{n},\"AMD EPYC/1 device(s), TDP:500.0\", 0 device(s),Linux,FR,0{end}",
                n % 7,
                n % 60
            ));
        }
        for (id, epochs) in [
            ("t1", ["epoch: 1, a", "epoch: 2, a", "epoch: 2, a"]),
            ("t2", ["epoch: 1, b", "epoch: 2, b", "epoch: 3, b"]),
        ] {
            for e in epochs {
                text.push_str(&format!(
                    "{id},model-x,train,\"{e}\",2026-11-28 18:43:00,1.5,0.5,0.25,cpu,,Linux,Berlin/DE,0{end}"
                ));
            }
            text.push_str(&format!("plain-after-{id},model-y,,,2026,1,1,1,,,,,0{end}"));
        }
        text.into_bytes()
    }

    /// NDJSON made from the records of the `ingest` JSON example, with blank lines, CRLF and a
    /// BOM, repeated to `copies` times.
    fn ndjson(copies: usize) -> Vec<u8> {
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string("examples/mixed/carbon-gate/eco2ai-runs.json").unwrap(),
        )
        .unwrap();
        let records = doc["records"].as_array().unwrap();
        let mut text = String::from("\u{feff}\n  \n");
        for k in 0..copies {
            for (i, r) in records.iter().enumerate() {
                let mut r = r.clone();
                r["run_id"] = format!("run-{k}-{i}").into();
                r["model"] = format!("m-{}", k % 5).into();
                text.push_str(&serde_json::to_string(&r).unwrap());
                text.push_str(if k % 3 == 0 { "\r\n" } else { "\n" });
                if k % 11 == 0 {
                    text.push_str("\n \t\n");
                }
            }
        }
        text.into_bytes()
    }

    #[test]
    fn eco2ai_fixtures_stream_as_they_read_whole() {
        let files = fixtures("tests/fixtures/eco2ai", ".csv");
        assert!(files.len() >= 7, "{}", files.len());
        for (name, bytes) in files {
            same(Format::Eco2ai, &name, &bytes);
        }
        same(
            Format::Eco2ai,
            "examples",
            &std::fs::read("examples/mixed/eco2ai/emission.csv").unwrap(),
        );
    }

    #[test]
    fn generated_eco2ai_streams_as_it_reads_whole() {
        for crlf in [false, true] {
            let log = eco2ai_log(3000, crlf);
            assert!(log.len() > 2 * super::READ);
            same(Format::Eco2ai, "generated", &log);
            let read = whole(Format::Eco2ai, &log).unwrap();
            assert_eq!(read.3, 3000 + 8);
            assert_eq!(read.1.len(), 1, "{:?}", read.1);
        }
    }

    #[test]
    fn ndjson_streams_as_it_reads_whole() {
        let doc = std::fs::read("examples/mixed/carbon-gate/eco2ai-runs.json").unwrap();
        same(Format::Native, "document", &doc);
        for (name, bytes) in fixtures("tests/fixtures", ".json") {
            if bytes.windows(8).any(|w| w == b"\"run_id\"") {
                same(Format::Native, &name, &bytes);
            }
        }
        let lines = ndjson(600);
        assert!(lines.len() > 4 * super::READ);
        same(Format::Native, "generated", &lines);
        assert_eq!(whole(Format::Native, &lines).unwrap().3, 600 * 2);
        // The same records as a JSON array, and one record over several lines: read whole.
        let text = String::from_utf8(ndjson(3)).unwrap();
        let array = format!(
            "[{}]",
            text.trim()
                .replace("\r\n", "\n")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join(",\n")
        );
        same(Format::Native, "array", array.as_bytes());
        same(
            Format::Native,
            "pretty",
            b"{\n\"run_id\": \"a\",\n\"co2e_kg\": 1}\n",
        );
        same(
            Format::Native,
            "one line, records",
            b"{\"schema_version\": 1, \"records\": []}\n\n",
        );
    }

    /// Damage anywhere in a streamed file: the same error as read whole (a bad byte late
    /// outranks a damaged row early; a NUL outranks bad UTF-8; a bad line outranks a bad figure,
    /// which outranks an implausible one).
    #[test]
    fn damage_is_reported_as_when_read_whole() {
        let log = eco2ai_log(2000, false);
        let text = String::from_utf8(log.clone()).unwrap();
        let late = log.len() - 40;
        let mut cases: Vec<(Format, Vec<u8>)> = Vec::new();
        for (at, byte) in [(late, 0xffu8), (late, 0), (late, 0xc3)] {
            let mut b = log.clone();
            b[at] = byte;
            cases.push((Format::Eco2ai, b.clone()));
            // And a damaged row early.
            let early = String::from_utf8_lossy(&b).replacen(",0.7,0.007,", ",x,0.007,", 1);
            let mut early = early.into_bytes();
            early[at] = byte;
            cases.push((Format::Eco2ai, early));
        }
        let mut both = log.clone();
        both[late] = 0xff;
        both[late + 5] = 0;
        cases.push((Format::Eco2ai, both));
        cases.push((
            Format::Eco2ai,
            text.replacen(",0.9,", ",-1,", 1).into_bytes(),
        ));
        cases.push((
            Format::Eco2ai,
            text.replacen("id-5,", "id-5,extra,", 1).into_bytes(),
        ));
        cases.push((
            Format::Eco2ai,
            text.replacen(",0.003,", ",1e30,", 1)
                .replacen("id-1500,", "id-1500,x,", 1)
                .into_bytes(),
        ));
        cases.push((
            Format::Eco2ai,
            text.replacen(",0.003,", ",1e30,", 1).into_bytes(),
        ));
        cases.push((
            Format::Eco2ai,
            text.replacen("id-1500,", "id-1500\n", 1).into_bytes(),
        ));
        let lines = String::from_utf8(ndjson(300)).unwrap();
        let bad_figure = lines.replacen("\"co2e_kg\":", "\"co2e_kg\":-", 1);
        cases.push((Format::Native, bad_figure.clone().into_bytes()));
        let mut late_json = bad_figure.clone();
        late_json.push_str("{\"run_id\": 1}\n");
        cases.push((Format::Native, late_json.into_bytes()));
        let implausible = lines.replacen("\"co2e_kg\":", "\"co2e_kg\":1e30,\"x\":", 1);
        cases.push((
            Format::Native,
            implausible.replace(",\"x\":", ",\"pue\":").into_bytes(),
        ));
        let mut nul = lines.clone().into_bytes();
        let n = nul.len() - 10;
        nul[n] = 0;
        cases.push((Format::Native, nul));
        let mut cut = lines.clone().into_bytes();
        cut.extend_from_slice(b"{\"run_id\": \"z\", \"co2e_kg\": 1, \"model\": \"\xe2\x82");
        cases.push((Format::Native, cut));
        for (i, (format, bytes)) in cases.iter().enumerate() {
            let expected = whole(*format, bytes);
            assert!(expected.is_err(), "case {i} reads");
            for step in [7, usize::MAX] {
                let got = streamed(*format, bytes, 100, step);
                assert_eq!(got, expected, "case {i}, step {step}");
            }
        }
    }

    #[test]
    fn a_record_that_never_ends_is_refused_after_64_mib() {
        let mut csv = eco2ai_log(3, false);
        csv.extend_from_slice(b"id,\"");
        csv.resize(MAX_RECORD + (1 << 20), b'x');
        let err = streamed(Format::Eco2ai, &csv, 1000, usize::MAX).unwrap_err();
        assert!(
            err.contains("runs.log:13: the row starting here runs on for more than 64 MiB"),
            "{err}"
        );
        let mut lines = ndjson(2);
        let at = lines.len();
        lines.extend_from_slice(b"{\"run_id\": \"");
        lines.resize(at + MAX_RECORD + (1 << 20), b'x');
        let err = streamed(Format::Native, &lines, 1000, usize::MAX).unwrap_err();
        assert!(
            err.contains("runs.log:11: the line starting here runs on for more than 64 MiB"),
            "{err}"
        );
    }
}
