//! carbontracker logs. The parser reads the run's sibling files, so the input carries two files
//! split at the first NUL byte: the output log (`…_carbontracker_output.log`, the figures) and the
//! standard log (`…_carbontracker.log`, the epochs). Both are written to a fresh scratch
//! directory; `carbontracker::parse` reads the run through the output log and through the
//! standard log, and `epoch_series` (used by `check --predict`) reads the standard log.
#![no_main]
use carbon_gate::ingest::carbontracker;
use libfuzzer_sys::fuzz_target;

const STEM: &str = "31438.763924_2026-11-28T183835Z";

fuzz_target!(|data: &[u8]| {
    let (output, standard) = carbon_gate_fuzz::split2(data);
    let Some(output_text) = carbon_gate_fuzz::text(output) else {
        return;
    };
    let output_path = carbon_gate_fuzz::write_fresh(
        "carbontracker",
        &format!("{STEM}_carbontracker_output.log"),
        output_text.as_bytes(),
    );
    let standard_path = output_path.with_file_name(format!("{STEM}_carbontracker.log"));
    std::fs::write(&standard_path, standard).expect("write standard log");
    let _ = carbontracker::detect(&output_path, &output_text);
    let _ = carbontracker::parse(&output_path, &output_text);
    if let Ok(standard_text) = std::str::from_utf8(standard) {
        let _ = carbontracker::parse(&standard_path, standard_text);
    }
    let _ = carbontracker::epoch_series(&output_path);
});
