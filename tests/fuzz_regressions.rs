//! Reproducers found by fuzzing (`fuzz/`, `docs/reliability.md#fuzzing`), replayed through the
//! real binary: a bad input must come back as an error (exit 2, one message naming the file),
//! never a panic, a hang or a crash.
//!
//! `tests/fuzz-regressions/<target>/<name>` holds each reproducer in the fuzz target's input
//! encoding; [`materialize`] turns it into the file(s) and command line the target exercises, so
//! a new reproducer is covered by [`every_reproducer_ends_without_a_panic`] just by being saved
//! there. Reproducers of bugs not fixed yet are listed in [`KNOWN_BUGS`] and have their own
//! `#[ignore = "bug: …"]` test that asserts the documented behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

const ROOT: &str = "tests/fuzz-regressions";

/// Reproducers of open bugs: skipped by the sweep, asserted by their own ignored test.
const KNOWN_BUGS: &[&str] = &[];

// NAMES and CHECK_POLICY: the fuzz targets' own (fuzz/src/encoding.rs).
include!("../fuzz/src/encoding.rs");
const CT_STEM: &str = "31438.763924_2026-11-28T183835Z";

/// What the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn carbon_gate(args: &[&str]) -> Run {
    let out = Command::cargo_bin("carbon-gate")
        .expect("binary built")
        .env_remove("CARBON_GATE_POLICY")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(30))
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Write the reproducer of `target` into `dir` as the fuzz target would see it and return the
/// command line to replay it, and the path the error message must name.
fn materialize(target: &str, bytes: &[u8], dir: &Path) -> (Vec<String>, PathBuf) {
    let write = |name: &str, data: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    match target {
        "carbontracker" => {
            let (output, standard) = match bytes.iter().position(|&b| b == 0) {
                Some(i) => (&bytes[..i], &bytes[i + 1..]),
                None => (bytes, &[][..]),
            };
            let log = write(&format!("{CT_STEM}_carbontracker_output.log"), output);
            write(&format!("{CT_STEM}_carbontracker.log"), standard);
            (vec!["ingest".into(), s(&log)], log)
        }
        "ingest" | "check" => {
            let (&pick, rest) = bytes.split_first().unwrap_or((&0, &[]));
            let log = write(NAMES[usize::from(pick & 0x07) % NAMES.len()], rest);
            if target == "ingest" {
                (vec!["ingest".into(), s(&log)], log)
            } else {
                let policy = write("policy.yaml", CHECK_POLICY.as_bytes());
                (
                    vec!["check".into(), "--policy".into(), s(&policy), s(&log)],
                    log,
                )
            }
        }
        "policy" => {
            let (first, second) = match bytes.iter().position(|&b| b == 0) {
                Some(i) => (&bytes[..i], &bytes[i + 1..]),
                None => (bytes, &[][..]),
            };
            let a = write("a.yaml", first);
            let mut args = vec!["policy".into(), "validate".into(), s(&a)];
            if !second.is_empty() {
                args.push(s(&write("b.yaml", second)));
            }
            (args, a)
        }
        // Quantity strings are read from policies; a reproducer is saved as a policy file.
        "units" => {
            let p = write("policy.yaml", bytes);
            (vec!["policy".into(), "validate".into(), s(&p)], p)
        }
        "config" => {
            let c = write("carbon-gate.yaml", bytes);
            (vec!["check".into(), "--config".into(), s(&c)], c)
        }
        format => {
            let (name, flag) = match format {
                "codecarbon" => ("emissions.csv", "codecarbon"),
                "eco2ai" => ("emission.csv", "eco2ai"),
                "impact_framework" => ("manifest.out.yaml", "impact-framework"),
                "hf_card" => ("README.md", "hf-card"),
                "native" => ("runs.ndjson", "native"),
                other => panic!("no replay for fuzz target {other}"),
            };
            let log = write(name, bytes);
            (
                vec![
                    "ingest".into(),
                    "--input-format".into(),
                    flag.into(),
                    s(&log),
                ],
                log,
            )
        }
    }
}

fn reproducers() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(targets) = std::fs::read_dir(ROOT) else {
        return out;
    };
    for target in targets.map(Result::unwrap) {
        if !target.path().is_dir() {
            continue;
        }
        let name = target.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(target.path())
            .unwrap()
            .map(Result::unwrap)
        {
            out.push((name.clone(), file.path()));
        }
    }
    out.sort();
    out
}

/// Every reproducer of a fixed bug: no panic, no signal, no hang; a refusal is exit 2 with a
/// message naming the file.
#[test]
fn every_reproducer_ends_without_a_panic() {
    for (target, path) in reproducers() {
        let rel = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
        if KNOWN_BUGS.contains(&rel.as_str()) {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let (args, file) = materialize(&target, &std::fs::read(&path).unwrap(), tmp.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = carbon_gate(&args);
        assert!(
            !run.stderr.contains("panicked"),
            "{rel}: panic\n{}",
            run.stderr
        );
        match run.code {
            Some(0 | 1) => {}
            Some(2) => assert!(
                run.stderr
                    .contains(file.file_name().unwrap().to_str().unwrap()),
                "{rel}: exit 2 without naming the file\n{}",
                run.stderr
            ),
            other => panic!(
                "{rel}: exit {other:?} (a crash or a signal)\nstdout {}\nstderr {}",
                run.stdout, run.stderr
            ),
        }
    }
}

/// `parse_quantity` checks that the number is finite *before* scaling it to the base unit, so
/// "1e308 t" (1e311 kg) passes as an infinite limit: `policy validate` says OK, the table shows
/// "fail inf t" and the JSON report writes the limit as `null` (no limit) — a budget that can
/// never fail. It must be refused like "inf t" is (exit 2, file:line:col).
#[test]
fn a_limit_that_overflows_to_infinity_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = PathBuf::from(ROOT).join("units/infinite-limit-after-unit-scaling.yaml");
    let (args, file) = materialize("units", &std::fs::read(path).unwrap(), tmp.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = carbon_gate(&args);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        run.code,
        Some(2),
        "stdout {}\nstderr {}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{}:5:", file.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1e308 t"), "{}", run.stderr);
}
