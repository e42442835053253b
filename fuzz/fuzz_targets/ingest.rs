//! The whole of `ingest::ingest` on one file: read, UTF-8 check, format detection, the chosen
//! parser. The first byte picks the file name (detection looks at names too, e.g. carbontracker)
//! and whether `--input-format` forces a format; the rest is the file's bytes.
#![no_main]
use std::path::PathBuf;

use carbon_gate::ingest::{self, Options};
use carbon_gate::record::Format;
use libfuzzer_sys::fuzz_target;

use carbon_gate_fuzz::NAMES;
const FORMATS: [Option<Format>; 7] = [
    None,
    Some(Format::Codecarbon),
    Some(Format::ImpactFramework),
    Some(Format::Eco2ai),
    Some(Format::Carbontracker),
    Some(Format::HfCard),
    Some(Format::Native),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick & 0x07) % NAMES.len()];
    // Mostly detection; a forced format one time in four.
    let format = if pick >> 6 == 0 {
        FORMATS[usize::from((pick >> 3) & 0x07) % FORMATS.len()]
    } else {
        None
    };
    let path = carbon_gate_fuzz::write_fresh("ingest", name, bytes);
    let options = Options {
        format,
        ..Options::default()
    };
    // The file named directly, and its directory walked.
    let _ = ingest::ingest(&[path.clone()], &options);
    let dir: PathBuf = path.parent().expect("parent").to_owned();
    let _ = ingest::ingest(&[dir], &options);
});
