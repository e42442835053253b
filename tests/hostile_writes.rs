//! Issue #17, writes and injection: what a pull request that plants symbolic links, odd file
//! names or YAML tags in the checkout can make the gate write or print. Exit-2 cases are in the
//! bad-input corpus too (tests/bad_input_corpus.rs, tests/bad-inputs/make.py); these are the
//! attacks whose outcome is not (only) an exit code. docs/reliability.md, "Threat model: writes
//! and injection", has the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

const POLICY: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"1 kg\" } }\n";
const LOG: &str = "tests/fixtures/codecarbon/v3.3.2/emissions.csv";

/// A directory with `policy.yaml` and a file `victim` that must never change.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let policy = common::write(tmp.path(), "policy.yaml", POLICY);
    let victim = common::write(tmp.path(), "victim", "precious\n");
    (tmp, policy, victim)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `check --format json LOG` with `extra` arguments; returns (exit, stdout, stderr).
fn check(policy: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--policy", s(policy), "--format", "json", LOG];
    args.extend_from_slice(extra);
    common::run(&args)
}

#[cfg(unix)]
#[test]
fn output_does_not_follow_a_link_planted_at_the_old_temporary_name() {
    let (tmp, policy, victim) = setup();
    // The name the writer used to create without checking: `.<name>.carbon-gate.tmp`.
    std::os::unix::fs::symlink(&victim, tmp.path().join(".report.json.carbon-gate.tmp")).unwrap();
    let target = tmp.path().join("report.json");
    let (code, _, stderr) = check(&policy, &["--output", s(&target)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert!(report["verdict"].is_string(), "{report}");
    // The planted link is left alone; no temporary file of ours is left behind.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".carbon-gate-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[cfg(unix)]
#[test]
fn output_replaces_a_link_at_the_target_instead_of_writing_through_it() {
    let (tmp, policy, victim) = setup();
    let target = tmp.path().join("carbon-report.md");
    std::os::unix::fs::symlink(&victim, &target).unwrap();
    let (code, _, stderr) = check(&policy, &["--output", s(&target)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
}

#[cfg(unix)]
#[test]
fn output_to_dev_null_writes_the_device_and_leaves_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let (_tmp, policy, _) = setup();
    let (code, stdout, stderr) = check(&policy, &["--output", "/dev/null"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    let meta = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_writes_into_the_pipe() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let (tmp, policy, _) = setup();
    let fifo = tmp.path().join("report.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let got = std::fs::File::open(&reader_path).and_then(|mut f| f.read_to_string(&mut text));
        let _ = tx.send(got.map(|_| text));
    });
    let out = common::bin()
        .args([
            "check",
            "--policy",
            s(&policy),
            "--format",
            "json",
            LOG,
            "--output",
            s(&fifo),
        ])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced by a regular file"
    );
    let text = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the report reached the pipe")
        .unwrap();
    assert!(text.contains("\"verdict\""), "{text}");
}

#[cfg(unix)]
#[test]
fn ledger_refuses_a_link_and_appends_nothing() {
    let (tmp, policy, victim) = setup();
    let ledger = tmp.path().join("ledger.jsonl");
    std::os::unix::fs::symlink(&victim, &ledger).unwrap();
    let (code, _, stderr) = check(&policy, &["--ledger", s(&ledger)]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        stderr.contains("ledger.jsonl") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    // A regular ledger is appended to, line after line.
    let real = tmp.path().join("real.jsonl");
    let mut counts = Vec::new();
    for _ in 0..2 {
        let (code, _, stderr) = check(&policy, &["--ledger", s(&real)]);
        assert_eq!(code, 0, "{stderr}");
        counts.push(std::fs::read_to_string(&real).unwrap().lines().count());
    }
    assert!(counts[0] > 0 && counts[1] == 2 * counts[0], "{counts:?}");
}

/// A card that is a link is refused (issue #18, item 12): replacing the link would leave the real
/// card unchanged, writing through it would edit a file elsewhere. Nothing is touched.
#[cfg(unix)]
#[test]
fn card_update_refuses_a_linked_card_and_touches_nothing() {
    let (tmp, policy, victim) = setup();
    let card = tmp.path().join("README.md");
    std::os::unix::fs::symlink(&victim, &card).unwrap();
    std::os::unix::fs::symlink(&victim, tmp.path().join(".README.md.carbon-gate.tmp")).unwrap();
    let (code, _, stderr) = common::run(&[
        "report",
        "--policy",
        s(&policy),
        "--format",
        "hf-card",
        "--card",
        s(&card),
        "--model",
        "text-gen",
        LOG,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        std::fs::symlink_metadata(&card)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// Run `check` (table format, to standard output) with `stdout` as given.
fn check_with_stdout(policy: &Path, stdout: std::process::Stdio) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("carbon-gate");
    std::process::Command::new(bin)
        .env("NO_COLOR", "1")
        .env_remove("CARBON_GATE_POLICY")
        .args(["check", "--policy", s(policy), LOG])
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

fn assert_lost_report(out: &std::process::Output, code: i32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("carbon-gate: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("carbon-gate: error: cannot write the report to standard output: "),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_report_lost_on_a_full_device_is_an_error() {
    let (_tmp, policy, _) = setup();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = check_with_stdout(&policy, full.into());
    assert_lost_report(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("No space left on device"));
}

#[cfg(unix)]
#[test]
fn a_report_lost_in_a_closed_pipe_is_an_error() {
    let (_tmp, policy, _) = setup();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = check_with_stdout(&policy, writer.into());
    assert_lost_report(&out, 2);
}

#[cfg(unix)]
#[test]
fn a_lost_report_of_a_failing_check_exits_2_not_1() {
    let (tmp, _, _) = setup();
    let strict = common::write(
        tmp.path(),
        "strict.yaml",
        "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"1 mg\" } }\n",
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = check_with_stdout(&strict, full.into());
    assert_lost_report(&out, 2);
    // The verdict line is still on standard error.
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAIL"));
}

/// `check --github` (comments off) in `cwd`, with the Actions files in `runner`, `RUNNER_TEMP`
/// unset and the system temporary directory at `tmpdir`.
fn github_check(
    policy: &Path,
    cwd: &Path,
    runner: &Path,
    tmpdir: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let log = std::fs::canonicalize(LOG).unwrap();
    let out = common::bin()
        .current_dir(cwd)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_STEP_SUMMARY", runner.join("summary.md"))
        .env("GITHUB_OUTPUT", runner.join("output.txt"))
        .env_remove("RUNNER_TEMP")
        .env("TMPDIR", tmpdir)
        .args(["check", "--policy", s(policy), "--github"])
        .args(["--comment-behavior", "off"])
        .args(extra)
        .arg(log)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn without_runner_temp_the_json_report_goes_to_a_fresh_temporary_file() {
    let (tmp, policy, victim) = setup();
    let cwd = tmp.path().join("checkout");
    let runner = tmp.path().join("runner");
    let tmpdir = tmp.path().join("tmp");
    for d in [&cwd, &runner, &tmpdir] {
        std::fs::create_dir(d).unwrap();
    }
    // A checkout that plants a link where the report used to go.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, cwd.join("carbon-gate-report.json")).unwrap();
    let (code, _, stderr) = github_check(&policy, &cwd, &runner, &tmpdir, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        std::fs::symlink_metadata(cwd.join("carbon-gate-report.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let made = names(&tmpdir);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        made[0].starts_with("carbon-gate-report-") && made[0].ends_with(".json"),
        "{made:?}"
    );
    let path = tmpdir.join(&made[0]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(report["verdict"].is_string());
    // Named in the step outputs and on standard error.
    let outputs = std::fs::read_to_string(runner.join("output.txt")).unwrap();
    assert!(outputs.contains(path.to_str().unwrap()), "{outputs}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    // And never in the source tree (the committed one is gone).
    assert!(!Path::new("carbon-gate-report.json").exists());
}

#[test]
fn a_dry_run_writes_nothing_at_all() {
    let (tmp, policy, _) = setup();
    let cwd = tmp.path().join("checkout");
    let runner = tmp.path().join("runner");
    let tmpdir = tmp.path().join("tmp");
    for d in [&cwd, &runner, &tmpdir] {
        std::fs::create_dir(d).unwrap();
    }
    let json = tmp.path().join("report.json");
    let (code, stdout, stderr) = github_check(
        &policy,
        &cwd,
        &runner,
        &tmpdir,
        &["--dry-run", "--report-json", s(&json)],
    );
    assert_eq!(code, 0, "{stderr}");
    for d in [&cwd, &runner, &tmpdir] {
        assert!(names(d).is_empty(), "{d:?}: {:?}", names(d));
    }
    assert!(!json.exists());
    assert!(
        stderr.contains(&format!(
            "dry run: would write the JSON report to {}",
            s(&json)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("dry run: would append the job summary to "));
    assert!(!stdout.lines().any(|l| l.starts_with("::")), "{stdout}");
}

/// No line that the GitHub runner would take as a workflow command: after leading whitespace a
/// line must not start with `::`, and `##[` (the older syntax, parsed anywhere in a line) must
/// not appear. `own` lists prefixes of the tool's own annotations, allowed on standard output.
fn assert_no_command(what: &str, text: &str, own: &[&str]) {
    for line in text.lines() {
        let t = line.trim_start();
        let ours = own.iter().any(|p| t.starts_with(p)) && t.contains("title=carbon-gate");
        assert!(
            ours || !t.starts_with("::"),
            "{what}: a line starts a workflow command: {line:?}\n{text}"
        );
        assert!(
            !line.contains("##["),
            "{what}: `##[` in a line: {line:?}\n{text}"
        );
    }
}

const EVIL: &str = "x\n::stop-commands::pwned\n::error::pwned ##[warning]pwned.csv";

#[cfg(unix)]
#[test]
fn file_names_and_field_values_cannot_inject_workflow_commands() {
    let (tmp, policy, _) = setup();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(LOG, logs.join(EVIL)).unwrap();
    // A native record whose run id and hardware carry the same payload.
    std::fs::write(
        logs.join("runs.ndjson"),
        "{\"run_id\": \"r1\\n::error::pwned ##[error]pwned\", \"model\": \"text-gen\", \"co2e_kg\": 0.001, \"energy_kwh\": 0.01, \"hardware\": \"##[add-mask]pwned\\n::error::pwned\"}\n",
    )
    .unwrap();
    for format in ["table", "markdown", "json"] {
        for extra in [&[][..], &["--explain"][..]] {
            if format != "table" && !extra.is_empty() {
                continue;
            }
            let mut args = vec![
                "check",
                "--policy",
                s(&policy),
                "--format",
                format,
                s(&logs),
            ];
            args.extend_from_slice(extra);
            let out = common::bin()
                .env("GITHUB_ACTIONS", "true")
                .args(&args)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.code() == Some(0) || out.status.code() == Some(2),
                "{format}: {stderr}"
            );
            assert_no_command(&format!("{format} stdout"), &stdout, &[]);
            assert_no_command(&format!("{format} stderr"), &stderr, &[]);
            if format == "json" && out.status.success() {
                let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
                assert!(v["verdict"].is_string());
            }
        }
    }
}

/// `ingest --format json` streams every row to standard output (it does not hold the report):
/// the same defusing holds across the writes, and the report is the same JSON as the one written
/// to `--output`.
#[cfg(unix)]
#[test]
fn a_streamed_ingest_report_cannot_inject_workflow_commands() {
    let (tmp, _, _) = setup();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(LOG, logs.join(EVIL)).unwrap();
    std::fs::write(
        logs.join("runs.ndjson"),
        "{\"run_id\": \"r1 ##[error]pwned ###[x ##\", \"model\": \"text-gen\", \"co2e_kg\": 0.001, \"energy_kwh\": 0.01}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = common::run(&["ingest", "--format", "json", s(&logs)]);
    assert_eq!(code, 0, "{stderr}");
    assert_no_command("ingest stdout", &stdout, &[]);
    assert_no_command("ingest stderr", &stderr, &[]);
    let streamed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let out = tmp.path().join("ingest.json");
    let (code, stdout, stderr) =
        common::run(&["ingest", "--format", "json", "--output", s(&out), s(&logs)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(streamed, written);
    let ids: Vec<&str> = written["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["run_id"].as_str())
        .collect();
    assert!(ids.contains(&"r1 ##[error]pwned ###[x ##"), "{ids:?}");
}

#[cfg(unix)]
#[test]
fn an_error_naming_a_hostile_file_is_one_escaped_line() {
    let (tmp, policy, _) = setup();
    let bad = tmp.path().join(EVIL);
    std::fs::write(&bad, "timestamp,project_name,run_id,duration,emissions,energy_consumed\n2026-01-01T00:00:00,p,r,1,abc,1\n").unwrap();
    let (code, stdout, stderr) = common::run(&["check", "--policy", s(&policy), s(&bad)]);
    assert_eq!(code, 2, "{stderr}");
    assert_no_command("stdout", &stdout, &[]);
    assert_no_command("stderr", &stderr, &[]);
    let error: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("carbon-gate: error:"))
        .collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("x\\n::stop-commands::pwned\\n::error::pwned ##\\[warning]pwned.csv"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn with_github_only_the_tools_own_annotations_are_commands() {
    let (tmp, _, _) = setup();
    // A warn-level budget so that an annotation is due.
    let policy = common::write(
        tmp.path(),
        "warn.yaml",
        "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { warn: \"0.0001 mg\", fail: \"1 kg\" } }\n",
    );
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(LOG, logs.join(EVIL)).unwrap();
    let runner = tmp.path().join("runner");
    std::fs::create_dir(&runner).unwrap();
    let (code, stdout, stderr) = github_check(&policy, tmp.path(), &runner, &runner, &[s(&logs)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.lines().any(|l| l.starts_with("::warning ")),
        "{stdout}"
    );
    assert_no_command("stdout", &stdout, &["::warning ", "::error ", "::notice "]);
    assert_no_command("stderr", &stderr, &[]);
    // The annotation's file property carries the name escaped, on the same line.
    for l in stdout.lines().filter(|l| l.starts_with("::")) {
        assert!(!l.contains('\u{200b}'));
    }
}
