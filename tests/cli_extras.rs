//! The first hour's small things (issue #22): shell completions, manual pages, `--quiet`, the
//! `promote --registry-version` spelling, `report` without `--color`, an ambiguous accelerator,
//! `schedule` times to the second, and tables on a terminal without a size.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::run;

#[test]
fn completions_for_every_shell_know_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, stderr) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in ["check", "promote", "policy", "registry-version"] {
            assert!(stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let (code, _, stderr) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn the_manual_page_is_roff_and_every_command_has_one() {
    let (code, stdout, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(".ie"),
        "{}",
        &stdout[..stdout.len().min(200)]
    );
    assert!(stdout.contains(".TH carbon-gate 1"), "no title");
    assert!(
        stdout.contains("Exit codes: 0 pass"),
        "the exit codes are in the page"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let (code, _, stderr) = run(&["man", "--output-dir", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    for page in [
        "carbon-gate.1",
        "carbon-gate-check.1",
        "carbon-gate-promote.1",
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let check = std::fs::read_to_string(out.join("carbon-gate-check.1")).unwrap();
    assert!(
        check.contains(".TH carbon-gate-check 1"),
        "the page is titled by the command"
    );
    assert!(
        check.contains("\\-\\-policy"),
        "check's options are in its page"
    );
}

#[cfg(unix)]
#[test]
fn manual_pages_are_not_written_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, "keep").unwrap();
    let out = dir.path().join("man1");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&target, out.join("carbon-gate.1")).unwrap();
    let (code, _, stderr) = run(&["man", "--output-dir", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(
        !out.join("carbon-gate.1").is_symlink(),
        "the link itself is replaced"
    );
}

const EXAMPLE: &[&str] = &[
    "check",
    "--policy",
    "policies/",
    "--model-version",
    "2.1.0",
    "examples/runs/",
];

#[test]
fn quiet_check_prints_the_verdict_line_only() {
    let mut args = vec!["--quiet"];
    args.extend(EXAMPLE);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "carbon-gate: WARN: text-gen 2.1.0: CO2e 1.044 mg exceeds the warn limit of 1 mg (+4.44%); fails above 5 mg (policies/carbon-budgets.yaml:16:21)\n"
    );
    // After the command too, and the report still goes to --output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    let mut args = EXAMPLE.to_vec();
    args.extend(["-q", "--format", "json", "--output", file.to_str().unwrap()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("\"verdict\"")
    );
}

#[test]
fn quiet_keeps_what_a_command_exists_to_print_and_drops_warnings() {
    // A log warning (an empty log) is dropped; the schema, which is the command's product, stays.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("emissions.csv");
    std::fs::copy("tests/fixtures/codecarbon/v3.3.2/emissions.csv", &log).unwrap();
    let (_, _, loud) = run(&["ingest", log.to_str().unwrap(), "--format", "json"]);
    let (code, stdout, quiet) = run(&["-q", "ingest", log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"records\""));
    assert!(
        quiet.lines().all(|l| !l.starts_with("warning: ")),
        "{quiet}"
    );
    assert!(quiet.lines().count() <= loud.lines().count());
    let (code, stdout, _) = run(&["-q", "schema", "policy"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"$schema\""));
}

#[test]
fn promote_takes_the_registry_version_under_both_spellings() {
    for flag in ["--registry-version", "--version"] {
        // Nothing listens on port 9: the arguments are accepted and the registry call fails (3).
        let (code, _, stderr) = run(&[
            "promote",
            "--tracking-uri",
            "http://127.0.0.1:9",
            "--model",
            "m",
            flag,
            "1",
            "--policy",
            "policies/",
        ]);
        assert_eq!(code, 3, "{flag}: {stderr}");
        assert!(!stderr.contains("unexpected argument"), "{stderr}");
    }
}

#[test]
fn report_has_no_color_option() {
    let (code, _, stderr) = run(&["report", "--color", "always", "examples/runs/"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unexpected argument '--color'"), "{stderr}");
}

/// `estimate` of one device for 10 hours in France on `accelerator`.
fn estimate_on(accelerator: &str) -> (i32, String, String) {
    run(&[
        "estimate",
        "--accelerator",
        accelerator,
        "--count",
        "1",
        "--hours",
        "10",
        "--country",
        "FR",
    ])
}

#[test]
fn an_accelerator_family_name_asks_which_board() {
    let (code, stdout, stderr) = estimate_on("A100");
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("accelerator \"A100\" stands for 4 boards (power per board in brackets): A100-SXM4-80GB (400 W), A100-SXM4-40GB (400 W), A100-PCIE-40GB (250 W), A100-PCIE-80GB (300 W)"),
        "{stderr}"
    );
    assert!(stderr.contains("--accelerator A100-SXM4-80GB"), "{stderr}");
    // A board's own name is not ambiguous.
    let (code, _, stderr) = estimate_on("A100-PCIE-40GB");
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn schedule_times_are_to_the_second() {
    let (code, stdout, stderr) = run(&[
        "schedule",
        "--location",
        "FR",
        "--duration",
        "2 h",
        "--energy",
        "10 kWh",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut times = Vec::new();
    collect_times(&plan, &mut times);
    assert!(!times.is_empty(), "{stdout}");
    for t in times {
        // `2026-12-05T21:42:53Z`: no fraction of a second.
        assert!(!t.contains('.'), "{t}");
    }
}

fn collect_times(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if s.len() >= 20 && s.as_bytes()[10] == b'T' => {
            out.push(s.clone());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_times(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_times(x, out)),
        _ => {}
    }
}

/// A pseudo-terminal that reports no size (0 columns) used to squeeze the table into
/// one-character columns; tables now fall back to 100 columns.
#[cfg(target_os = "linux")]
#[test]
fn a_terminal_without_a_size_gets_a_readable_table() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let command = format!(
        "stty cols 0 rows 0; {} check --policy policies/ --model-version 2.1.0 examples/runs/",
        env!("CARGO_BIN_EXE_carbon-gate")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("summarizer"), "{text}");
    assert!(text.contains("Energy limit"), "{text}");
}

/// Logs named beside `--config` were silently not read; now the command says so and stops.
#[test]
fn logs_named_beside_a_configuration_are_refused_not_ignored() {
    let (code, stdout, stderr) = run(&[
        "check",
        "--config",
        "examples/tradeoff/carbon-gate.yaml",
        "examples/runs/",
    ]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("the logs named on the command line (examples/runs/) would not be read"),
        "{stderr}"
    );
}

/// The first hour without a flag (issue #22): a repository holding only CodeCarbon's log;
/// `check` shows the totals, `init` writes budgets from them, `check` passes. In CI the log must
/// be named.
#[test]
fn from_an_empty_repository_to_a_passing_check_without_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::copy(
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
        dir.path().join("emissions.csv"),
    )
    .unwrap();
    let step = |args: &[&str], ci: Option<&str>| {
        let mut cmd = common::bin();
        cmd.current_dir(dir.path()).args(args).env_remove("CI");
        if let Some(ci) = ci {
            cmd.env("CI", ci);
        }
        common::outcome(&mut cmd)
    };
    let (code, stdout, stderr) = step(&["check"], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("[no-policy]") && stdout.contains("[default-log]"),
        "{stdout}"
    );
    let (code, _, stderr) = step(&["init"], None);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = step(&["check"], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("PASS: 2 models within budget"), "{stderr}");
    assert!(stdout.contains("[default-log]"), "{stdout}");
    let (code, _, stderr) = step(&["check"], Some("true"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("give the emissions logs to check"),
        "{stderr}"
    );
}
