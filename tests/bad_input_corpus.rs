//! The bad-input corpus (tests/bad-inputs/cases, written by tests/bad-inputs/make.py) plus the
//! cases made here because they are too big or too odd to commit. Every case: exit 2, one
//! `carbon-gate: error:` message naming the file (and place), no panic, nothing written to
//! `--output`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

struct Case {
    name: String,
    dir: PathBuf,
    args: Vec<String>,
    expect: String,
}

fn committed() -> Vec<Case> {
    let root = Path::new("tests/bad-inputs/cases");
    let mut cases: Vec<Case> = std::fs::read_dir(root)
        .expect("corpus: run python3 tests/bad-inputs/make.py")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|dir| {
            let args = std::fs::read_to_string(dir.join("args")).unwrap();
            let expect = std::fs::read_to_string(dir.join("expect")).unwrap();
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                args: args.lines().map(str::to_owned).collect(),
                expect: expect.trim().to_owned(),
                dir,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

const POLICY: &str =
    "version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: \"1 kg\" } }\n";

/// Cases generated at run time into `root`.
fn generated(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, files: Vec<(&str, Vec<u8>)>, args: &[&str], expect: &str| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, bytes) in files {
            std::fs::write(dir.join(f), bytes).unwrap();
        }
        std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
        cases.push(Case {
            name: name.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            expect: expect.to_owned(),
            dir,
        });
    };
    let check = |file: &str| -> Vec<String> {
        [
            "check",
            "--policy",
            "{case}/policy.yaml",
            "--format",
            "json",
            &format!("{{case}}/{file}"),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let check_args = |file: &str| check(file);
    // A 10 MB single line.
    let mut long = b"timestamp,project_name,run_id,duration,emissions,energy_consumed\n".to_vec();
    long.extend(std::iter::repeat_n(b'7', 10 * 1024 * 1024));
    long.push(b'\n');
    let a = check_args("emissions.csv");
    add(
        "gen-10mb-line",
        vec![("emissions.csv", long)],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "emissions.csv",
    );
    // YAML alias bomb (billion laughs) as a policy and as a manifest.
    let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 1..10 {
        let prev = (b'a' + i - 1) as char;
        let cur = (b'a' + i) as char;
        bomb.push_str(&format!(
            "{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    add(
        "gen-alias-bomb-policy",
        vec![
            ("bomb.yaml", format!("version: 1\n{bomb}").into_bytes()),
            (
                "runs.ndjson",
                b"{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1}\n".to_vec(),
            ),
        ],
        &[
            "check",
            "--policy",
            "{case}/bomb.yaml",
            "--format",
            "json",
            "{case}/runs.ndjson",
        ],
        "bomb.yaml",
    );
    let a = check_args("manifest.yaml");
    add(
        "gen-alias-bomb-manifest",
        vec![(
            "manifest.yaml",
            format!(
                "name: text-gen\ninitialize:\n  plugins: {{}}\n{bomb}tree:\n  children: {{}}\n"
            )
            .into_bytes(),
        )],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "manifest.yaml",
    );
    // The same bomb and 100,000 levels of nesting in manifests longer than the 64 KiB read to
    // detect the format: read as a stream of YAML events.
    let padding = format!("description: \"{}\"\n", "x".repeat(70_000));
    let a = check_args("manifest.yaml");
    add(
        "gen-alias-bomb-manifest-streamed",
        vec![(
            "manifest.yaml",
            format!(
                "name: text-gen\n{padding}initialize:\n  plugins: {{}}\n{bomb}tree:\n  children: {{}}\n"
            )
            .into_bytes(),
        )],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "manifest.yaml",
    );
    add(
        "gen-deep-manifest-streamed",
        vec![(
            "manifest.yaml",
            format!(
                "name: text-gen\ninitialize:\n  plugins: {{}}\nexecution:\n  status: success\ntree:\n  children:\n    a: {}{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        )],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "manifest.yaml:8:",
    );
    // Deep nesting: 100,000 levels of YAML flow sequences and of JSON arrays.
    let depth = 100_000;
    add(
        "gen-deep-yaml-policy",
        vec![
            (
                "deep.yaml",
                format!(
                    "version: 1\nbudgets: {}{}\n",
                    "[".repeat(depth),
                    "]".repeat(depth)
                )
                .into_bytes(),
            ),
            (
                "runs.ndjson",
                b"{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1}\n".to_vec(),
            ),
        ],
        &[
            "check",
            "--policy",
            "{case}/deep.yaml",
            "--format",
            "json",
            "{case}/runs.ndjson",
        ],
        "deep.yaml",
    );
    let a = check_args("runs.json");
    add(
        "gen-deep-json",
        vec![(
            "runs.json",
            format!(
                "{{\"run_id\": \"r1\", \"co2e_kg\": 1, \"metrics\": {}{}}}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes(),
        )],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "runs.json",
    );
    // Ledger URLs a workflow could be given: refused before anything is read or written, the
    // password never shown (the message names the redacted URL).
    let run = b"{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1}\n".to_vec();
    for (name, url, expect) in [
        (
            "gen-ledger-other-scheme",
            "mysql://u:hunter2@h/db",
            "ledger `mysql://u:***@h/db`: `mysql:` is not a ledger",
        ),
        (
            "gen-ledger-control-character",
            "sqlite:a\nb",
            "has a control character",
        ),
        (
            "gen-ledger-bad-port",
            "postgres://u:hunter2@h:notaport/db",
            "ledger `postgres://u:***@h:notaport/db`: not a PostgreSQL URL",
        ),
        (
            "gen-ledger-directory",
            "sqlite:{case}",
            "is not a regular file",
        ),
    ] {
        let mut args = check("runs.ndjson");
        args.push("--ledger".to_owned());
        args.push(url.to_owned());
        add(
            name,
            vec![("runs.ndjson", run.clone())],
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            expect,
        );
    }
    cases
}

fn prepare_special(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    // A symlink loop inside a log directory, a dangling symlink named directly, and a
    // directory where the policy file should be.
    let dir = root.join("special-symlink-loop");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("b.csv", dir.join("logs/a.csv")).unwrap();
        std::os::unix::fs::symlink("a.csv", dir.join("logs/b.csv")).unwrap();
    }
    cases.push(Case {
        name: "special-symlink-loop".into(),
        args: [
            "check",
            "--policy",
            "{case}/policy.yaml",
            "--format",
            "json",
            "{case}/logs/a.csv",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        expect: "a.csv".into(),
        dir,
    });
    let dir = root.join("special-dangling-symlink");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("gone.csv", dir.join("emissions.csv")).unwrap();
    cases.push(Case {
        name: "special-dangling-symlink".into(),
        args: [
            "check",
            "--policy",
            "{case}/policy.yaml",
            "--format",
            "json",
            "{case}/emissions.csv",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        expect: "emissions.csv".into(),
        dir,
    });
    let dir = root.join("special-policy-is-a-directory");
    std::fs::create_dir_all(dir.join("policies/budgets.yaml")).unwrap();
    std::fs::write(
        dir.join("runs.ndjson"),
        "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1}\n",
    )
    .unwrap();
    cases.push(Case {
        name: "special-policy-is-a-directory".into(),
        args: [
            "check",
            "--policy",
            "{case}/policies/budgets.yaml",
            "--format",
            "json",
            "{case}/runs.ndjson",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        expect: "budgets.yaml".into(),
        dir,
    });
    cases
}

/// Writes a pull request can aim elsewhere with planted links (issue #17, item 8): refused,
/// nothing written through the link.
fn prepare_writes(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let dir = root.join("writes-ledger-is-a-symlink");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    std::fs::write(
        dir.join("runs.ndjson"),
        "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 0.1}\n",
    )
    .unwrap();
    std::fs::write(dir.join("victim"), "precious\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("victim", dir.join("ledger.jsonl")).unwrap();
    cases.push(Case {
        name: "writes-ledger-is-a-symlink".into(),
        args: [
            "check",
            "--policy",
            "{case}/policy.yaml",
            "--format",
            "json",
            "--ledger",
            "{case}/ledger.jsonl",
            "{case}/runs.ndjson",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        expect: "ledger.jsonl".into(),
        dir,
    });
    cases
}

/// A sparse file: `head`, then zeros up to `len` bytes (no disk used past `head`).
fn sparse(path: &Path, head: &[u8], len: u64) {
    std::fs::write(path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Inputs that must be refused after a bounded read (docs/reliability.md, "Threat model: bounded
/// reads"): endless devices, FIFOs, files of gigabytes.
fn prepare_bounded(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, prepare: &dyn Fn(&Path), file: &str, expect: &str| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
        prepare(&dir);
        cases.push(Case {
            name: name.to_owned(),
            args: [
                "check",
                "--policy",
                "{case}/policy.yaml",
                "--format",
                "json",
                &format!("{{case}}/{file}"),
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            expect: expect.to_owned(),
            dir,
        });
    };
    #[cfg(unix)]
    {
        let mkfifo = |path: &Path| {
            let ok = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .unwrap()
                .success();
            assert!(ok, "mkfifo {}", path.display());
        };
        add(
            "bounded-link-to-dev-zero",
            &|d| std::os::unix::fs::symlink("/dev/zero", d.join("zero.csv")).unwrap(),
            "zero.csv",
            "zero.csv: binary data",
        );
        add(
            "bounded-link-to-dev-urandom",
            &|d| std::os::unix::fs::symlink("/dev/urandom", d.join("random.csv")).unwrap(),
            "random.csv",
            "random.csv",
        );
        add(
            "bounded-fifo-without-writer",
            &|d| mkfifo(&d.join("pipe.csv")),
            "pipe.csv",
            "pipe.csv: cannot read: nothing to read for 1 s",
        );
        add(
            "bounded-carbontracker-companion-fifo",
            &|d| {
                std::fs::write(
                    d.join("1_2024-01-01T000000Z_carbontracker.log"),
                    "2024-01-01 00:00:00 - carbontracker version 2.0.0\n",
                )
                .unwrap();
                mkfifo(&d.join("1_2024-01-01T000000Z_carbontracker_output.log"));
            },
            "1_2024-01-01T000000Z_carbontracker.log",
            "carbontracker_output.log: cannot read the run's output log: a FIFO",
        );
    }
    add(
        "bounded-2gb-without-line-ends",
        &|d| sparse(&d.join("line.csv"), &vec![b'x'; 70_000], 2 << 30),
        "line.csv",
        "line.csv: not an emissions log this tool recognizes (decided from its first 64 KiB",
    );
    let json_head = || {
        let mut head =
            b"{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1, \"x\": \"".to_vec();
        head.extend(std::iter::repeat_n(b'x', 70_000));
        head
    };
    add(
        "bounded-json-over-the-cap",
        &|d| sparse(&d.join("runs.json"), &json_head(), (128 << 20) + 1),
        "runs.json",
        "runs.json: larger than the 128 MiB limit",
    );
    add(
        "bounded-json-over-the-cap-in-a-directory",
        &|d| {
            std::fs::create_dir(d.join("logs")).unwrap();
            sparse(&d.join("logs/runs.json"), &json_head(), 3 << 30);
        },
        "logs",
        "runs.json: larger than the 128 MiB limit",
    );
    add(
        "bounded-nul-after-the-prefix",
        &|d| {
            let mut text = json_head();
            text.extend_from_slice(b"\0\"}\n");
            std::fs::write(d.join("runs.json"), text).unwrap();
        },
        "runs.json",
        "runs.json: binary data (a NUL byte at offset 70058)",
    );
    // Streamed formats (eco2AI CSV, NDJSON records) past the prefix: one row or line is bounded,
    // and bad bytes anywhere are reported with their offset, a damaged row early or not.
    let eco2ai_head = |rows: usize| {
        let mut text = String::from(
            "id,project_name,experiment_description,epoch,start_time,duration(s),power_consumption(kWh),CO2_emissions(kg),CPU_name,GPU_name,OS,region/country,cost\n",
        );
        for n in 0..rows {
            text.push_str(&format!(
                "id-{n},text-gen,d,N/A,2026-11-28 18:43:18,1.5,0.5,0.25,\"AMD EPYC/1 device(s), TDP:500.0\", 0 device(s),Linux,FR,0\n"
            ));
        }
        text.into_bytes()
    };
    let ndjson_head = |rows: usize| {
        let mut text = String::new();
        for n in 0..rows {
            text.push_str(&format!(
                "{{\"run_id\": \"r{n}\", \"model\": \"text-gen\", \"co2e_kg\": 0.001}}\n"
            ));
        }
        text.into_bytes()
    };
    add(
        "bounded-eco2ai-quote-never-closed",
        &|d| {
            let mut text = eco2ai_head(2);
            text.extend_from_slice(b"id-x,\"");
            text.resize(text.len() + (65 << 20), b'x');
            std::fs::write(d.join("emission.csv"), text).unwrap();
        },
        "emission.csv",
        "emission.csv:4: the row starting here runs on for more than 64 MiB",
    );
    add(
        "bounded-ndjson-line-never-ends",
        &|d| {
            let mut text = ndjson_head(2);
            text.extend_from_slice(b"{\"run_id\": \"");
            text.resize(text.len() + (65 << 20), b'x');
            std::fs::write(d.join("runs.ndjson"), text).unwrap();
        },
        "runs.ndjson",
        "runs.ndjson:3: the line starting here runs on for more than 64 MiB",
    );
    add(
        "bounded-eco2ai-late-nul-after-a-damaged-row",
        &|d| {
            let mut text = eco2ai_head(2000);
            text.extend_from_slice(b"id-y,text-gen,d,N/A,2026,x,1,1,,,,,0\n");
            text.extend(eco2ai_head(2000).iter().skip(200));
            let at = text.len() - 10;
            text[at] = 0;
            std::fs::write(d.join("emission.csv"), text).unwrap();
        },
        "emission.csv",
        "emission.csv: binary data (a NUL byte at offset",
    );
    add(
        "bounded-ndjson-not-utf8-after-the-prefix",
        &|d| {
            let mut text = ndjson_head(3000);
            text.extend_from_slice(b"{\"run_id\": \"\xff\", \"co2e_kg\": 1}\n");
            std::fs::write(d.join("runs.ndjson"), text).unwrap();
        },
        "runs.ndjson",
        "runs.ndjson: not UTF-8 text (invalid byte at offset 175902)",
    );
    add(
        "bounded-eco2ai-3gb-of-zeros-after-the-rows",
        &|d| sparse(&d.join("emission.csv"), &eco2ai_head(1000), 3 << 30),
        "emission.csv",
        "emission.csv: binary data (a NUL byte at offset",
    );
    cases.push({
        let dir = root.join("bounded-policy-over-the-cap");
        std::fs::create_dir_all(&dir).unwrap();
        let mut policy = POLICY.to_owned();
        policy.push('#');
        policy.push_str(&"x".repeat(16 << 20));
        policy.push('\n');
        std::fs::write(dir.join("big.yaml"), policy).unwrap();
        std::fs::write(
            dir.join("runs.ndjson"),
            "{\"run_id\": \"r1\", \"model\": \"text-gen\", \"co2e_kg\": 1}\n",
        )
        .unwrap();
        Case {
            name: "bounded-policy-over-the-cap".into(),
            args: [
                "check",
                "--policy",
                "{case}/big.yaml",
                "--format",
                "json",
                "{case}/runs.ndjson",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            expect: "big.yaml: policy file larger than the 16 MiB limit".into(),
            dir,
        }
    });
    cases
}

fn run_case(c: &Case, out_dir: &Path) -> Option<String> {
    let case_dir = c.dir.to_string_lossy().into_owned();
    let mut args: Vec<String> = c
        .args
        .iter()
        .map(|a| a.replace("{case}", &case_dir))
        .collect();
    let output = out_dir.join(format!("{}.out", c.name));
    let writes_report = matches!(args[0].as_str(), "check" | "report" | "ingest" | "estimate");
    if writes_report {
        args.push("--output".into());
        args.push(output.to_string_lossy().into_owned());
    }
    let out = common::bin()
        .args(&args)
        // A FIFO named directly waits this long for its writer (bounded-fifo-without-writer).
        .env("CARBON_GATE_PIPE_TIMEOUT", "1")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit {:?}, want 2", out.status.code()));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_owned());
    }
    let errors = stderr.matches("error:").count();
    if errors != 1 {
        problems.push(format!("{errors} `error:` messages, want 1"));
    }
    if !stderr.contains(&c.expect) {
        problems.push(format!("the message does not name `{}`", c.expect));
    }
    if output.exists() {
        problems.push("something was written to --output".to_owned());
    }
    if stderr.contains("hunter2") {
        problems.push("a password was shown".to_owned());
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}: {}\n  stderr: {}",
            c.name,
            problems.join("; "),
            stderr.trim()
        )
    })
}

#[test]
fn every_bad_input_is_refused_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = committed();
    assert!(cases.len() >= 60, "corpus has {} cases", cases.len());
    cases.extend(generated(tmp.path()));
    cases.extend(prepare_special(tmp.path()));
    cases.extend(prepare_writes(tmp.path()));
    cases.extend(prepare_bounded(tmp.path()));
    let out_dir = tmp.path().join("outputs");
    std::fs::create_dir_all(&out_dir).unwrap();
    let failures: Vec<String> = cases.iter().filter_map(|c| run_case(c, &out_dir)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
