//! Impact Framework manifests: `ingest::impact_framework::parse`, read as a file named directly
//! and as one found in a directory walk (`quiet_if_never_run`).
#![no_main]
use std::path::Path;

use carbon_gate::ingest::impact_framework;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = carbon_gate_fuzz::text(data) else {
        return;
    };
    let file = Path::new("fuzz/manifest.out.yaml");
    let _ = impact_framework::parse(file, &text, false);
    let _ = impact_framework::parse(file, &text, true);
});
