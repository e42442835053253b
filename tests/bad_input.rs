//! Bad input of every kind: exit 2, one clear message naming the file (and line), no panic, and
//! nothing half-written to `--output`. Damaged logs are made from a real CodeCarbon 3.3.2 file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, run, write};

const REAL: &str = "codecarbon/v3.3.2/emissions.csv";

/// The real file with one field of its second run replaced (or the row truncated).
fn damaged(dir: &Path, name: &str, column: &str, value: Option<&str>) -> PathBuf {
    let text = std::fs::read_to_string(fixture(REAL)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    let mut fields: Vec<String> = lines[2].split(',').map(str::to_owned).collect();
    match value {
        Some(v) => fields[at] = v.to_owned(),
        None => fields.truncate(at),
    }
    lines[2] = fields.join(",");
    write(dir, name, &(lines.join("\n") + "\n"))
}

/// Run `check` with the example policy on `log`; expect exit 2 and return stderr.
fn check_fails(log: &Path) -> String {
    let (code, stdout, stderr) = run(&["check", "--policy", "policies/", log.to_str().unwrap()]);
    assert_eq!(
        code,
        2,
        "{}: stdout {stdout}\nstderr {stderr}",
        log.display()
    );
    assert_eq!(stdout, "");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_numbers_name_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    for (value, shown) in [
        ("abc", "abc"),
        ("-0.5", "-0.5"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("NaN", "NaN"),
    ] {
        let log = damaged(tmp.path(), "e.csv", "energy_consumed", Some(value));
        let stderr = check_fails(&log);
        assert_eq!(
            stderr,
            format!(
                "carbon-gate: error: bad input: {}:3: `energy_consumed` is \"{shown}\": expected a finite number of kWh, zero or more\n  help: this row is damaged; fix or remove it (a CodeCarbon release writes a number here)\n",
                log.display()
            )
        );
    }
    let log = damaged(tmp.path(), "e.csv", "emissions", Some(""));
    assert!(check_fails(&log).contains(":3: `emissions` is empty: expected a number of kg CO2e"));
}

#[test]
fn a_row_too_short_for_the_needed_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let log = damaged(tmp.path(), "e.csv", "emissions", None);
    let stderr = check_fails(&log);
    assert!(
        stderr.contains(":3: row has 5 fields but the header has 38: too short to hold the run's duration, emissions and energy"),
        "{stderr}"
    );
}

#[test]
fn empty_unknown_missing_unreadable_and_binary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(d, "empty.csv", ""),
            "file is empty: expected an emissions log",
        ),
        (
            write(d, "other.csv", "a,b,c\n1,2,3\n"),
            "other.csv: not an emissions log this tool recognizes",
        ),
        (
            d.join("missing.csv"),
            "missing.csv: cannot read: No such file or directory",
        ),
        (
            {
                let p = d.join("bin.csv");
                std::fs::write(&p, b"\xff\xfe\x00binary").unwrap();
                p
            },
            "not UTF-8 text (invalid byte at offset 0)",
        ),
    ];
    for (path, expected) in cases {
        let stderr = check_fails(&path);
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
    #[cfg(unix)]
    {
        let link = d.join("dangling.csv");
        std::os::unix::fs::symlink(d.join("nowhere"), &link).unwrap();
        assert!(check_fails(&link).contains("dangling.csv: cannot read"));
    }
}

#[test]
fn a_directory_without_logs() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "notes.txt", "not a log");
    write(tmp.path(), "metrics.csv", "epoch,loss\n1,0.5\n");
    let stderr = check_fails(tmp.path());
    assert!(
        stderr.contains("no emissions logs in this directory"),
        "{stderr}"
    );
}

#[test]
fn bom_and_crlf_are_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture(REAL)).unwrap();
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    let log = write(tmp.path(), "emissions.csv", &crlf);
    let report = common::run_json(&["ingest", "--format", "json", log.to_str().unwrap()], 0);
    assert_eq!(
        common::num(&report["totals"]["co2e_kg"]),
        3.343409678063297e-06
    );
    assert_eq!(report["records"][2]["source"]["line"], 4);
}

/// A policy file with `body`; `check` must exit 2 with `expected` in its message.
fn policy_fails(body: &str, expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let policy = write(tmp.path(), "budgets.yaml", body);
    let (code, stdout, stderr) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        &fixture(REAL),
    ]);
    assert_eq!(code, 2, "{body}: {stderr}");
    assert_eq!(stdout, "");
    let expected = expected.replace("{p}", &policy.display().to_string());
    assert!(
        stderr.contains(&expected),
        "{body}\nexpected: {expected}\ngot: {stderr}"
    );
    // The same problem from `policy validate`.
    let (code, _, again) = run(&["policy", "validate", policy.to_str().unwrap()]);
    assert_eq!((code, again), (2, stderr));
}

#[test]
fn bad_policies_are_located() {
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: \"1 kg\" }\n",
        "bad policy: {p}:5:1: did not find expected ',' or '}'",
    );
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    max_co2: 3\n    limits: { co2e: { fail: \"1 kg\" } }\n",
        "{p}:4:5: budgets[0]: unknown field `max_co2`, expected one of `name`, `description`, `model`, `versions`, `embodied`, `decide-on`, `block-on`, `accuracy`, `max-intensity`, `preferred-regions`, `limits`",
    );
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    versions: \">=2.x.y\"\n    limits: { co2e: { fail: \"1 kg\" } }\n",
        "{p}:4:15: `versions: >=2.x.y` is not a semver requirement",
    );
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: 120 } }\n",
        "{p}:4:29: `fail`: \"120\" has no unit: add one of mg, g, kg or t (CO2e), e.g. \"120 kg\"",
    );
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    limits: { energy: { fail: \"4 kg\" } }\n",
        "{p}:4:31: `fail`: \"4 kg\": unit \"kg\" is not accepted here; use Wh, kWh, MWh or GWh",
    );
    policy_fails(
        "version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { warn: \"2 t\", fail: \"120 kg\" } }\n",
        "{p}:4:29: warn limit 2 t is above the fail limit 120 kg: the warning could never show",
    );
    policy_fails("", "{p}: policy file is empty");
    policy_fails("version: 3\n", "{p}:1:10: unsupported policy version 3");
    policy_fails(
        "version: 1\nbudgets:\n  - model: \"a[\"\n    limits: { co2e: { fail: \"1 kg\" } }\n",
        "{p}:3:12: `model` is not a valid glob",
    );
}

#[test]
fn every_policy_problem_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.yaml",
        "version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: 1 } }\n",
    );
    write(
        tmp.path(),
        "b.yaml",
        "version: 1\nbudgets:\n  - model: b\n    limits: { energy: { fail: 2 } }\n",
    );
    let (code, _, stderr) = run(&["policy", "validate", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a.yaml:4:29"), "{stderr}");
    assert!(stderr.contains("b.yaml:4:31"), "{stderr}");
}

#[test]
fn missing_policy_and_bad_version_flag() {
    let (code, _, stderr) = run(&["check", "--policy", "no/such/dir", &fixture(REAL)]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no/such/dir: cannot read policy"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["check", "--model-version", "2.1", &fixture(REAL)]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("\"2.1\" is not a semver version"),
        "{stderr}"
    );
}

#[test]
fn nothing_is_half_written_to_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    let log = damaged(tmp.path(), "e.csv", "energy_consumed", Some("abc"));
    // No file appears on error…
    let (code, ..) = run(&[
        "check",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(!out.exists());
    // …and an earlier report is left as it was.
    std::fs::write(&out, "previous").unwrap();
    let (code, ..) = run(&[
        "check",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
    // An output path that cannot be written is an error too, not a silent success.
    let (code, _, stderr) = run(&[
        "check",
        "-o",
        tmp.path().join("no/such/dir/r.txt").to_str().unwrap(),
        &fixture(REAL),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot write"), "{stderr}");
}
