//! CodeCarbon `emissions.csv`: `ingest::codecarbon::parse` on arbitrary (normalized) text.
#![no_main]
use std::path::Path;

use carbon_gate::ingest::codecarbon;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = carbon_gate_fuzz::text(data) else {
        return;
    };
    let _ = codecarbon::parse(Path::new("fuzz/emissions.csv"), &text);
});
