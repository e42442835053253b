//! The `check` command end to end on one fuzzed log: ingest, ledger, policy evaluation, the
//! mitigation what-if and every renderer. The first byte picks the file name (as in `ingest`) and
//! the output format; the policy is fixed (warn and fail limits on every model).
#![no_main]
use std::sync::OnceLock;

use carbon_gate::cli::Cli;
use clap::Parser as _;
use libfuzzer_sys::fuzz_target;

use carbon_gate_fuzz::NAMES;
const FORMATS: [&str; 3] = ["table", "json", "markdown"];

fn policy() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = carbon_gate_fuzz::scratch().join("policy.yaml");
        std::fs::write(&path, carbon_gate_fuzz::CHECK_POLICY).expect("write policy");
        path.to_string_lossy().into_owned()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    if std::str::from_utf8(bytes).is_err() {
        return; // refused by ingest before any parser; the `ingest` target covers that
    }
    let name = NAMES[usize::from(pick & 0x07) % NAMES.len()];
    let format = FORMATS[usize::from(pick >> 3) % FORMATS.len()];
    let log = carbon_gate_fuzz::write_fresh("check", name, bytes);
    let argv = [
        "carbon-gate",
        "check",
        "--policy",
        policy(),
        "--format",
        format,
        log.to_str().expect("utf-8 path"),
    ];
    let Ok(cli) = Cli::try_parse_from(argv) else {
        return;
    };
    let _ = carbon_gate::run(cli);
});
