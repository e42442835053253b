//! carbon-gate JSON / NDJSON records: `ingest::native::parse`.
#![no_main]
use std::path::Path;

use carbon_gate::ingest::native;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = carbon_gate_fuzz::text(data) else {
        return;
    };
    let _ = native::detect(&text);
    let _ = native::parse(Path::new("fuzz/runs.ndjson"), &text);
});
