//! CodeCarbon `emissions.csv`, differential: the chunked reader `ingest::stream::read` (the file
//! handed over as a prefix already read plus a reader that returns at most `step` bytes per call)
//! against `ingest::codecarbon::parse` on the whole text (UTF-8 checked, then `ingest::normalize`).
//!
//! Input encoding: the first byte picks the prefix length (low nibble) and the read step (high
//! nibble); the rest is the file's raw bytes.
//!
//! Asserted: both `Ok` with the same records, warnings, layout and row count; or both `Err` with
//! the same message. When the bytes are not UTF-8 the stream must be `Err` naming the offset of
//! the first bad byte (what `ingest` reports for a file read whole).
//!
//! `CARBON_GATE_FUZZ_LAX_ERRORS=1` skips the error-message comparison (both `Err` is enough), to
//! keep fuzzing past a known message mismatch.
#![no_main]
use std::io::Read;
use std::path::Path;

use carbon_gate::ingest::{self, Sink, codecarbon, stream};
use carbon_gate::record::RunRecord;
use libfuzzer_sys::fuzz_target;

/// Prefix lengths (capped at the input's length).
const PREFIX: [usize; 16] = [
    0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 100, 255, 1000, 4096, usize::MAX,
];
/// Bytes per `read` call.
const STEP: [usize; 16] = [
    1, 2, 3, 4, 5, 7, 8, 16, 64, 255, 4096, 65535, 262_143, 262_144, 262_145, usize::MAX,
];

/// Returns at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Collects records (no fold: every row is handed over as a record).
#[derive(Default)]
struct Records {
    records: Vec<RunRecord>,
    begun: usize,
}

impl Sink for Records {
    fn begin_file(&mut self, _path: &Path, _layout: &str) {
        self.begun += 1;
    }
    fn record(&mut self, record: RunRecord) {
        self.records.push(record);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let path = Path::new("fuzz/emissions.csv");
    let prefix = PREFIX[usize::from(choice & 0x0f)].min(bytes.len());
    let step = STEP[usize::from(choice >> 4)];

    let mut reader = Trickle {
        data: &bytes[prefix..],
        step,
    };
    let mut sink = Records::default();
    let mut warnings = Vec::new();
    let streamed = stream::read(
        path,
        bytes[..prefix].to_vec(),
        &mut reader,
        None,
        &mut sink,
        &mut warnings,
    );

    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = format!("invalid byte at offset {}", e.valid_up_to());
            match streamed {
                Ok(_) => panic!("not UTF-8 ({at}) but the stream read it: {:?}", sink.records),
                Err(err) => {
                    let msg = err.to_string();
                    assert!(
                        msg.contains("not UTF-8") && msg.contains(&at),
                        "not UTF-8 ({at}) but the stream said: {msg}"
                    );
                }
            }
            return;
        }
    };
    let whole = codecarbon::parse(path, &ingest::normalize(text));
    match (streamed, whole) {
        (Ok(read), Ok(parsed)) => {
            assert_eq!(sink.begun, 1, "begin_file calls");
            assert_eq!(sink.records, parsed.records, "records differ");
            assert_eq!(warnings, parsed.warnings, "warnings differ");
            assert_eq!(read.layout, parsed.layout, "layout differs");
            assert_eq!(read.rows, parsed.records.len(), "row count differs");
        }
        (Err(s), Err(w)) => {
            if std::env::var_os("CARBON_GATE_FUZZ_LAX_ERRORS").is_none() {
                assert_eq!(s.to_string(), w.to_string(), "error messages differ");
            }
        }
        (Ok(read), Err(w)) => panic!(
            "stream Ok ({} rows, {:?}) but whole-text parse Err: {w}",
            read.rows, sink.records
        ),
        (Err(s), Ok(parsed)) => panic!(
            "stream Err ({s}) but whole-text parse Ok: {:?}",
            parsed.records
        ),
    }
});
