//! `carbon-gate.yaml`: `config::load` reads a file, so the input is written to a fresh scratch
//! directory first (relative paths in it resolve against that directory).
#![no_main]
use carbon_gate::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if std::str::from_utf8(data).is_err() {
        return; // read_to_string refuses it with an Err before any parsing
    }
    let path = carbon_gate_fuzz::write_fresh("config", "carbon-gate.yaml", data);
    let _ = config::load(&path);
});
