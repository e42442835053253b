//! Hugging Face model cards: `ingest::hf_card::parse` with every `--hf-units` choice.
#![no_main]
use std::path::Path;

use carbon_gate::ingest::{HfUnits, hf_card};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = carbon_gate_fuzz::text(data) else {
        return;
    };
    let file = Path::new("fuzz/README.md");
    for units in [HfUnits::Auto, HfUnits::G, HfUnits::Kg] {
        let _ = hf_card::parse(file, &text, units);
    }
});
