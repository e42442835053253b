//! eco2AI CSV: `ingest::eco2ai::parse` on arbitrary (normalized) text.
#![no_main]
use std::path::Path;

use carbon_gate::ingest::eco2ai;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = carbon_gate_fuzz::text(data) else {
        return;
    };
    let _ = eco2ai::parse(Path::new("fuzz/emission.csv"), &text);
});
