// How the `ingest` and `check` fuzz targets read their first byte and which policy `check` uses:
// shared by the targets (through `carbon_gate_fuzz`) and by tests/fuzz_regressions.rs (through
// `include!`), so that a reproducer is replayed exactly as it was fuzzed.

/// The file names the `ingest` and `check` fuzz targets pick from with their first byte
/// (detection looks at names too).
pub const NAMES: [&str; 6] = [
    "emissions.csv",
    "emission.csv",
    "runs.ndjson",
    "manifest.out.yaml",
    "README.md",
    "31438.763924_2026-11-28T183835Z_carbontracker_output.log",
];

/// The policy of the `check` fuzz target: warn and fail limits on every model.
pub const CHECK_POLICY: &str = r#"version: 1
budgets:
  - name: everything
    model: "*"
    limits:
      co2e: { warn: "1 g", fail: "5 kg" }
      energy: { fail: "50 kWh" }
"#;
