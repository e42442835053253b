//! Hostile inputs that must not exhaust time or memory (issue #17, items 12-14): endless devices,
//! huge files without line ends, FIFOs in log directories and named directly, symbolic links out
//! of a log directory, and policies with very many budgets. Each case is refused (or skipped
//! with a warning) after a bounded read; see docs/reliability.md, "Threat model: bounded reads".
//! The exit-2 cases are in the bad-input corpus as well (tests/bad_input_corpus.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const POLICY: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"1 kg\" } }\n";

const LOG: &str = "timestamp,project_name,run_id,duration,emissions,energy_consumed\n\
                   2026-01-01T00:00:00,text-gen,r1,10,0.002,0.01\n";

/// A temporary directory with `policy.yaml` and `logs/emissions.csv`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("policy.yaml"), POLICY).unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("emissions.csv"), LOG).unwrap();
    (tmp, logs)
}

/// Run `check --format json` on `paths` with the policy in `dir`, with `env`; at most 60 s (the
/// attacks hang or take minutes without the bounds; with them, each case takes well under a
/// second, the 20,000-model log a few seconds in a debug build).
fn check(dir: &Path, paths: &[&Path], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = common::bin();
    cmd.arg("check")
        .arg("--policy")
        .arg(dir.join("policy.yaml"))
        .args(["--format", "json"])
        .args(paths)
        .timeout(Duration::from_secs(60));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The warnings of a JSON report: (code, file).
fn warnings(stdout: &str) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap();
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap_or_default().to_owned(),
                w["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// The runs counted for text-gen in a JSON report.
fn runs(stdout: &str) -> u64 {
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap();
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "text-gen")
        .map_or(0, |m| m["totals"]["runs"].as_u64().unwrap())
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A sparse file: `head`, then zeros up to `len` bytes (nothing is written past `head`).
fn sparse(path: &Path, head: &[u8], len: u64) {
    std::fs::write(path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[cfg(unix)]
#[test]
fn endless_devices_named_directly_are_refused_after_the_prefix() {
    let (tmp, _) = setup();
    for (device, expected) in [
        ("/dev/zero", "binary data (a NUL byte at offset 0)"),
        ("/dev/urandom", "/dev/urandom: "),
    ] {
        let started = Instant::now();
        let (code, _, stderr) = check(tmp.path(), &[Path::new(device)], &[]);
        assert_eq!(code, Some(2), "{device}: {stderr}");
        assert!(stderr.contains(expected), "{device}: {stderr}");
        assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{device}");
    }
}

#[cfg(unix)]
#[test]
fn a_link_to_a_device_named_directly_is_refused_and_in_a_directory_skipped() {
    let (tmp, logs) = setup();
    std::os::unix::fs::symlink("/dev/zero", logs.join("zero.csv")).unwrap();
    let (code, _, stderr) = check(tmp.path(), &[&logs.join("zero.csv")], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("zero.csv: binary data"), "{stderr}");
    // In the directory: not followed (it points outside), said so, and the log is counted.
    let (code, stdout, stderr) = check(tmp.path(), &[&logs], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(runs(&stdout), 1);
    let w = warnings(&stdout);
    assert!(
        w.iter()
            .any(|(c, f)| c == "skipped-link-outside" && f.ends_with("logs/zero.csv")),
        "{w:?}"
    );
    assert!(
        stderr.contains("/dev/zero"),
        "the warning names the target: {stderr}"
    );
}

/// A 2 GB file (sparse: no disk used) whose first 64 KiB are text without a line end, and one
/// that starts as a carbon-gate JSON document: both refused without reading them whole.
#[test]
fn huge_files_are_refused_after_a_bounded_read() {
    let (tmp, logs) = setup();
    let line = logs.join("line.csv");
    sparse(&line, &vec![b'x'; 70_000], 2 << 30);
    let started = Instant::now();
    let (code, _, stderr) = check(tmp.path(), &[&line], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "line.csv: not an emissions log this tool recognizes (decided from its first 64 KiB"
        ),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // In a directory: skipped with a warning, the rest not read either.
    let (code, stdout, stderr) = check(tmp.path(), &[&logs], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        warnings(&stdout)
            .iter()
            .any(|(c, f)| c == "skipped-file" && f.ends_with("line.csv")),
        "{stdout}"
    );
    std::fs::remove_file(&line).unwrap();

    let json = logs.join("runs.json");
    let mut head =
        b"{\"run_id\": \"r2\", \"model\": \"text-gen\", \"co2e_kg\": 1, \"pad\": \"".to_vec();
    head.extend(std::iter::repeat_n(b'x', 70_000));
    sparse(&json, &head, (128 << 20) + 1);
    for path in [&json, &logs] {
        let (code, _, stderr) = check(tmp.path(), &[path], &[]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("runs.json: larger than the 128 MiB limit for a log read whole"),
            "{stderr}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// The same files, but with a NUL byte after the first 64 KiB of a document read whole.
#[test]
fn a_nul_byte_anywhere_in_a_document_is_refused() {
    let (tmp, logs) = setup();
    let json = logs.join("runs.json");
    let mut text =
        b"{\"run_id\": \"r2\", \"model\": \"text-gen\", \"co2e_kg\": 1, \"pad\": \"".to_vec();
    text.extend(std::iter::repeat_n(b'x', 100_000));
    text.extend_from_slice(b"\0\"}\n");
    std::fs::write(&json, &text).unwrap();
    let (code, _, stderr) = check(tmp.path(), &[&json], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "runs.json: binary data (a NUL byte at offset {})",
            text.len() - 4
        )),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_log_directory_is_skipped_with_a_warning() {
    let (tmp, logs) = setup();
    mkfifo(&logs.join("stuck.csv"));
    std::os::unix::fs::symlink("stuck.csv", logs.join("link-to-fifo.csv")).unwrap();
    let (code, stdout, stderr) = check(tmp.path(), &[&logs], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(runs(&stdout), 1);
    let skipped: Vec<String> = warnings(&stdout)
        .into_iter()
        .filter(|(c, _)| c == "skipped-not-regular")
        .map(|(_, f)| f)
        .collect();
    assert_eq!(skipped.len(), 2, "one warning per entry: {skipped:?}");
    assert!(skipped[0].ends_with("link-to-fifo.csv") && skipped[1].ends_with("stuck.csv"));
    assert!(
        stderr.contains("a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_named_directly_is_read_with_a_timeout() {
    let (tmp, logs) = setup();
    let fifo = logs.join("pipe.csv");
    mkfifo(&fifo);
    // No writer: refused when the timeout passes.
    let started = Instant::now();
    let (code, _, stderr) = check(tmp.path(), &[&fifo], &[("CARBON_GATE_PIPE_TIMEOUT", "0.5")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pipe.csv: cannot read: nothing to read for 0.5 s"),
        "{stderr}"
    );
    assert!(stderr.contains("CARBON_GATE_PIPE_TIMEOUT"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A writer: read like a file.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, LOG).unwrap())
    };
    let (code, stdout, stderr) = check(tmp.path(), &[&fifo], &[]);
    writer.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(runs(&stdout), 1);
}

#[cfg(unix)]
#[test]
fn links_out_of_a_log_directory_are_not_followed_unless_named() {
    let (tmp, logs) = setup();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("other.csv"), LOG.replace("r1", "r9")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("other.csv"), logs.join("other.csv")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, logs.join("more")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", logs.join("env.csv")).unwrap();
    // Inside the directory: followed (a loop back to it is walked once).
    std::fs::create_dir(logs.join("sub")).unwrap();
    std::fs::write(logs.join("sub/e.csv"), LOG.replace("r1", "r2")).unwrap();
    std::os::unix::fs::symlink("sub/e.csv", logs.join("inside.csv")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("sub/up")).unwrap();
    let (code, stdout, stderr) = check(tmp.path(), &[&logs], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(runs(&stdout), 2, "r1 and r2, not r9");
    let outside: Vec<String> = warnings(&stdout)
        .into_iter()
        .filter(|(c, _)| c == "skipped-link-outside")
        .map(|(_, f)| f)
        .collect();
    assert_eq!(outside.len(), 3, "{outside:?}");
    for name in ["env.csv", "more", "other.csv"] {
        assert!(
            outside.iter().any(|f| f.ends_with(name)),
            "{name}: {outside:?}"
        );
    }
    assert!(stderr.contains("environ"), "{stderr}");
    // Named on the command line, the link is read.
    let (code, stdout, stderr) = check(tmp.path(), &[&logs, &logs.join("other.csv")], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(runs(&stdout), 3);
}

#[cfg(unix)]
#[test]
fn a_carbontracker_log_whose_companion_is_a_fifo_is_refused() {
    let (tmp, logs) = setup();
    let dir = logs.join("ct");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("1_2024-01-01T000000Z_carbontracker.log"),
        "2024-01-01 00:00:00 - carbontracker version 2.0.0\n",
    )
    .unwrap();
    mkfifo(&dir.join("1_2024-01-01T000000Z_carbontracker_output.log"));
    let named = dir.join("1_2024-01-01T000000Z_carbontracker.log");
    let (code, _, stderr) = check(tmp.path(), &[&named], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("carbontracker_output.log: cannot read the run's output log: a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
}

/// A policy of `n` budgets: exact models `m0`…, a glob every tenth (`g7-*`), a version range
/// every third, and an exception per hundred budgets.
fn many_budgets(n: usize) -> String {
    let mut text = String::from("version: 1\nbudgets:\n");
    for i in 0..n {
        if i % 10 == 7 {
            text.push_str(&format!("  - model: \"g{i}-*\"\n"));
        } else {
            text.push_str(&format!("  - model: m{i}\n"));
        }
        if i % 3 == 0 {
            text.push_str("    versions: \">=1.0.0, <2.0.0\"\n");
        }
        text.push_str("    limits: { co2e: { warn: \"1 kg\", fail: \"5 kg\" }, energy: { fail: \"50 kWh\" } }\n");
    }
    text.push_str("exceptions:\n");
    for i in (0..n).step_by(100) {
        text.push_str(&format!(
            "  - {{ model: m{i}, rule: budget-exceeded, reason: r, approved-by: a, expires: 2099-01-01 }}\n"
        ));
    }
    text
}

/// Many budgets, many models: `policy validate` and `check` finish in near-linear time (the
/// unreachable-budget lint compared every budget with every earlier one, and each model was
/// matched against every budget: 8,000 budgets took ~30 s in a debug build, 16,000 ~100 s).
#[test]
fn many_budgets_and_many_models_are_handled_in_near_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.yaml");
    std::fs::write(&policy, many_budgets(8_000)).unwrap();
    let mut runs = String::new();
    for i in 0..2_000 {
        runs.push_str(&format!(
            "{{\"run_id\": \"r{i}\", \"model\": \"m{}\", \"co2e_kg\": 0.5, \"energy_kwh\": 1}}\n",
            i * 4 + 1
        ));
    }
    let log = tmp.path().join("runs.ndjson");
    std::fs::write(&log, runs).unwrap();
    let started = Instant::now();
    let out = common::bin()
        .args(["policy", "validate"])
        .arg(&policy)
        .timeout(Duration::from_secs(25))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A version every budget's range covers (a versioned budget's model checked without a
    // version would fail closed: `uncovered-version`).
    let out = common::bin()
        .arg("check")
        .arg("--policy")
        .arg(&policy)
        .args(["--format", "json", "--model-version", "1.5.0"])
        .arg(&log)
        .timeout(Duration::from_secs(25))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["models"].as_array().unwrap().len(), 2_000);
    assert!(started.elapsed() < Duration::from_secs(40));
}

#[test]
fn a_policy_over_the_size_cap_is_refused_before_it_is_parsed() {
    let (tmp, logs) = setup();
    let policy = tmp.path().join("policy.yaml");
    let mut text = POLICY.to_owned();
    text.push('#');
    text.push_str(&"x".repeat(16 << 20));
    text.push('\n');
    std::fs::write(&policy, text).unwrap();
    let (code, _, stderr) = check(tmp.path(), &[&logs], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("policy.yaml: policy file larger than the 16 MiB limit"),
        "{stderr}"
    );
}

/// A configuration or metrics file committed as a link to a device: read at most 16 MiB, then
/// refused.
#[cfg(unix)]
#[test]
fn a_config_or_metrics_file_that_is_a_device_is_refused() {
    let (tmp, logs) = setup();
    let link = tmp.path().join("carbon-gate.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for flag in ["--config", "--metrics"] {
        let out = common::bin()
            .arg("check")
            .arg("--policy")
            .arg(tmp.path().join("policy.yaml"))
            .arg(flag)
            .arg(&link)
            .arg(&logs)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains("carbon-gate.yaml: cannot read")
                && stderr.contains("larger than the 16 MiB limit"),
            "{flag}: {stderr}"
        );
    }
}

/// `report` (the disclosure) digests every input after reading it: a FIFO named as a log was read
/// once, and opening it again for the digest waited for a second writer for ever.
#[cfg(unix)]
#[test]
fn a_fifo_log_is_not_opened_again_for_its_digest() {
    let (tmp, logs) = setup();
    let fifo = logs.join("pipe.csv");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, LOG).unwrap())
    };
    let out = common::bin()
        .args([
            "report",
            "--today",
            "2026-11-28",
            "--format",
            "json",
            "--policy",
        ])
        .arg(tmp.path().join("policy.yaml"))
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("pipe.csv: cannot read to take its digest: a FIFO (named pipe)"),
        "{stderr}"
    );
}

/// A log of 20,000 models (each its own group): the trade-off step looked up each model's group
/// in a list and then every group's members in all models, quadratic in the models (30 s with an
/// optimized build before; ~5 s in a debug build now, mostly writing the JSON).
#[test]
fn a_log_of_many_models_is_checked_in_near_linear_time() {
    let (tmp, _) = setup();
    let mut runs = String::new();
    for i in 0..20_000 {
        runs.push_str(&format!(
            "{{\"run_id\": \"r{i}\", \"model\": \"m{i}\", \"co2e_kg\": 0.5, \"energy_kwh\": 1}}\n"
        ));
    }
    let log = tmp.path().join("runs.ndjson");
    std::fs::write(&log, runs).unwrap();
    let (code, stdout, stderr) = check(tmp.path(), &[&log], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["models"].as_array().unwrap().len(), 20_000);
}

/// A `--baseline` check report was read whole, twice (`read_to_string`): a 1.5 GiB sparse file
/// that starts like a check report took 8.6 s and 1.6 GB before "not a carbon-gate check report".
/// It is read within a 128 MiB cap now; a larger file is not a report and is read as a log
/// (refused after its first 64 KiB: 0.02 s, 22 MB). The GitHub event file is capped at 32 MiB the
/// same way (not tested: an oversized event file was, and is, ignored; only memory differs).
#[test]
fn a_huge_baseline_report_is_not_read_whole() {
    let (tmp, logs) = setup();
    let base = tmp.path().join("base.json");
    sparse(&base, b"{\"schema_version\": 1, \"models\": [", 1536 << 20);
    let mut cmd = common::bin();
    cmd.arg("check")
        .arg("--policy")
        .arg(tmp.path().join("policy.yaml"))
        .arg("--baseline")
        .arg(&base)
        .arg(&logs)
        .timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("base.json: binary data (a NUL byte at offset 33)"),
        "{stderr}"
    );
}
