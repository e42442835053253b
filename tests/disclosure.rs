//! `carbon-gate report`: the Environmental Impact Disclosure (Markdown, JSON, HTML) for a measured
//! run, an estimated-only run and a run with unknown energy, and the Hugging Face card export.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

/// The three kinds of evidence: (name, arguments).
const CASES: &[(&str, &[&str])] = &[
    (
        "measured",
        &[
            "--policy",
            "policies",
            "--model-version",
            "2.1.0",
            "examples/runs/",
        ],
    ),
    (
        "estimated",
        &[
            "--config",
            "examples/tradeoff/carbon-gate.yaml",
            "--facts",
            "examples/tradeoff/facts.yaml",
        ],
    ),
    (
        "unknown_energy",
        &[
            "--policy",
            "policies",
            "--model-version",
            "1.0.0",
            "tests/fixtures/hf-cards/mapping-grams/README.md",
        ],
    ),
];

/// The GitHub Actions variables the header reads: removed, so that a run inside a workflow gives
/// the same document as anywhere else.
const CI_VARS: [&str; 3] = ["GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"];

fn report_env(format: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut all = vec!["report", "--today", "2026-11-28", "--format", format];
    all.extend_from_slice(args);
    let mut cmd = common::bin();
    for v in CI_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(&all).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn report(format: &str, args: &[&str]) -> (i32, String, String) {
    report_env(format, args, &[])
}

#[test]
fn snapshots_of_every_format_and_case() {
    for (name, args) in CASES {
        for format in ["markdown", "json", "html"] {
            let (code, stdout, stderr) = report(format, args);
            assert_eq!(code, 0, "{name} {format}: {stderr}");
            insta::assert_snapshot!(format!("disclosure_{name}_{format}"), stdout);
        }
    }
}

/// Every field group of the disclosure, for every model, in every case.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "A",
        &[
            "model_id",
            "version",
            "weights_sha256",
            "release_date",
            "eu_placement_date",
            "base_model",
            "provider_role",
            "modification_compute_ratio",
            "open_source_exemption_claimed",
            "systemic_risk_presumed",
        ],
    ),
    (
        "B",
        &[
            "training_compute_flop",
            "training_time_days",
            "training_hardware_days",
            "hardware_inventory",
            "compute_scope",
            "inference_compute_flop_benchmark",
        ],
    ),
    (
        "C",
        &[
            "training_energy_mwh",
            "energy_status",
            "energy_methodology",
            "energy_reserved_vs_used",
            "energy_boundary",
        ],
    ),
    (
        "D",
        &[
            "operational_location_based_co2e_kg",
            "operational_market_based_co2e_kg",
            "scope_classification",
            "embodied_co2e_kg",
            "total_co2e_kg",
            "carbon_aware_signal",
            "offsets",
        ],
    ),
    (
        "E",
        &[
            "sci_per_functional_unit",
            "baseline_delta",
            "carbon_budget",
            "gate_result",
            "eu_ai_act_applicability",
        ],
    ),
    (
        "F",
        &[
            "uncertainty_band",
            "defaults_used",
            "primary_data_share",
            "confidentiality",
        ],
    ),
];

#[test]
fn every_field_is_there_filled_or_null_with_a_reason_and_serves_a_provision() {
    for (name, args) in CASES {
        let (code, stdout, stderr) = report("json", args);
        assert_eq!(code, 0, "{stderr}");
        let d: Value = serde_json::from_str(&stdout).unwrap();
        let provisions: Vec<&str> = d["regulation"]["provisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        for m in d["models"].as_array().unwrap() {
            let sections = m["sections"].as_array().unwrap();
            let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
            assert_eq!(ids, ["A", "B", "C", "D", "E", "F"], "{name}");
            for (sid, keys) in REQUIRED {
                let s = sections.iter().find(|s| s["id"] == *sid).unwrap();
                let got: Vec<&str> = s["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["key"].as_str().unwrap())
                    .collect();
                assert_eq!(&got, keys, "{name} section {sid}");
                for f in s["fields"].as_array().unwrap() {
                    let serves = f["serves"].as_array().unwrap();
                    assert!(!serves.is_empty(), "{name} {}: serves nothing", f["key"]);
                    for id in serves {
                        assert!(provisions.contains(&id.as_str().unwrap()), "{id}");
                    }
                    match f["status"].as_str().unwrap() {
                        "null" => {
                            assert!(f["value"].is_null());
                            assert!(
                                f["note"].as_str().is_some_and(|n| n.len() > 10),
                                "{name} {}: null without a reason",
                                f["key"]
                            );
                        }
                        "filled" => assert!(!f["value"].is_null(), "{}", f["key"]),
                        other => panic!("status {other}"),
                    }
                }
            }
        }
    }
}

fn field<'a>(d: &'a Value, model: usize, key: &str) -> &'a Value {
    d["models"][model]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap())
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key}"))
}

#[test]
fn figures_are_the_checks_figures() {
    // Measured: the CodeCarbon example; text-gen's two runs (exact totals as `check` gives them).
    let (_, stdout, _) = report("json", CASES[0].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let check = common::run_json(
        &[
            "check",
            "--policy",
            "policies",
            "--model-version",
            "2.1.0",
            "--format",
            "json",
            "examples/runs/",
        ],
        0,
    );
    for (i, m) in check["models"].as_array().unwrap().iter().enumerate() {
        assert_eq!(d["models"][i]["model"], m["model"]);
        let mwh = common::num(&field(&d, i, "training_energy_mwh")["value"]);
        assert_eq!(mwh, common::num(&m["totals"]["energy_kwh"]) / 1000.0);
        assert_eq!(
            field(&d, i, "total_co2e_kg")["value"],
            m["totals"]["co2e_kg"]
        );
        assert_eq!(field(&d, i, "energy_status")["value"], "measured");
    }
    // Estimated: the facts' FLOP; the ratio to the base model; the memo cites the stated reason.
    let (_, stdout, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(field(&d, 0, "training_compute_flop")["value"], 2.6e20);
    assert_eq!(
        common::num(&field(&d, 0, "modification_compute_ratio")["value"]),
        2.6e20 / 8.4e22
    );
    assert_eq!(
        field(&d, 0, "energy_status")["value"],
        "estimated_from_power_model"
    );
    assert_eq!(field(&d, 0, "training_energy_mwh")["display"], "0.29 MWh");
    let memo = &d["proportionality"][0];
    assert_eq!(memo["chosen"], "text-gen 2.1.0");
    assert_eq!(memo["chosen_is_recommended"], false);
    assert!(
        memo["conclusion"]
            .as_str()
            .unwrap()
            .contains("the distilled model misses the 0.9 f1"),
        "{memo}"
    );
    // Unknown energy: a model card has CO2e only.
    let (_, stdout, _) = report("json", CASES[2].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(field(&d, 0, "training_energy_mwh")["status"], "null");
    assert_eq!(field(&d, 0, "energy_status")["value"], "unknown");
    assert_eq!(common::num(&field(&d, 0, "total_co2e_kg")["value"]), 1.71);
}

#[test]
fn audit_trail_digests_every_input() {
    let (_, stdout, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let files = d["audit"]["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for p in [
        "examples/tradeoff/candidate.ndjson",
        "examples/tradeoff/baseline.ndjson",
        "examples/tradeoff/distilled.ndjson",
        "examples/tradeoff/candidate-metrics.json",
        "examples/tradeoff/policy.yaml",
        "examples/tradeoff/carbon-gate.yaml",
        "examples/tradeoff/facts.yaml",
    ] {
        let f = files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} not in {paths:?}"));
        assert_eq!(
            f["sha256"],
            carbon_gate::digest::file_sha256(std::path::Path::new(p)).unwrap()
        );
    }
    assert_eq!(d["audit"]["regulation_table"], "2026-11-28.2");
    assert!(
        d["audit"]["command"]
            .as_str()
            .unwrap()
            .starts_with("carbon-gate report --today 2026-11-28 --format json --config")
    );
}

#[test]
fn hf_card_round_trip_keeps_every_other_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let card = tmp.path().join("README.md");
    let original =
        std::fs::read_to_string("tests/fixtures/hf-cards/mapping-grams/README.md").unwrap();
    std::fs::write(&card, &original).unwrap();
    let args = [
        "report",
        "--format",
        "hf-card",
        "--card",
        card.to_str().unwrap(),
        "--policy",
        "policies",
        "--model",
        "text-gen",
        "--model-version",
        "2.1.0",
        "--phase",
        "fine-tuning",
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
    ];
    let (code, stdout, stderr) = common::run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    let updated = std::fs::read_to_string(&card).unwrap();
    // Everything before and after the block is the original, byte for byte.
    let (before, rest) = original.split_once("co2_eq_emissions:\n").unwrap();
    let after = &rest[rest.find("model-index:").unwrap()..];
    assert!(updated.starts_with(before));
    assert!(updated.ends_with(after));
    let block = &updated[before.len()..updated.len() - after.len()];
    assert_eq!(
        block,
        "co2_eq_emissions:\n  emissions: 0.00334341\n  source: \"CodeCarbon 3.3.2 (totalled by carbon-gate 0.1.0)\"\n  training_type: \"fine-tuning\"\n  geographical_location: \"FRA, DEU, SWE\"\n  hardware_used: \"AMD EPYC\"\n"
    );
    // The card is still valid YAML front matter with the value in grams.
    let front = updated.split("---\n").nth(1).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(front).unwrap();
    assert_eq!(
        yaml["co2_eq_emissions"]["emissions"].as_f64(),
        Some(0.00334341)
    );
    assert_eq!(yaml["license"].as_str(), Some("apache-2.0"));
    // Running again changes nothing.
    let (code, _, stderr) = common::run(&args);
    assert_eq!(code, 0);
    assert!(stderr.contains("(card unchanged)"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&card).unwrap(), updated);
}

/// `report --format hf-card --card <card>` for the CodeCarbon fixture, and the block it writes.
fn card_args(card: &std::path::Path) -> Vec<String> {
    [
        "report",
        "--format",
        "hf-card",
        "--card",
        card.to_str().unwrap(),
        "--policy",
        "policies",
        "--model",
        "text-gen",
        "--model-version",
        "2.1.0",
        "--phase",
        "fine-tuning",
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `geographical_location` names each place as every other output does (issue #20: one place of
/// a run, `record::Place::site`): the cloud region, else the country's ISO code, else its name.
const CARD_BLOCK: &str = "co2_eq_emissions:\n  emissions: 0.00334341\n  source: \"CodeCarbon 3.3.2 (totalled by carbon-gate 0.1.0)\"\n  training_type: \"fine-tuning\"\n  geographical_location: \"FRA, DEU, SWE\"\n  hardware_used: \"AMD EPYC\"\n";

fn run_card(card: &std::path::Path) -> (i32, String, String) {
    let args = card_args(card);
    common::run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Issue #18, item 12: a card starting with a byte-order mark keeps its one front matter.
#[test]
fn hf_card_with_a_byte_order_mark_is_edited_in_its_front_matter() {
    let tmp = tempfile::tempdir().unwrap();
    let card = tmp.path().join("README.md");
    let original = std::fs::read_to_string("tests/fixtures/hf-cards/crlf-bom/README.md").unwrap();
    assert!(original.starts_with("\u{feff}---\r\n"));
    std::fs::write(&card, &original).unwrap();
    let (code, _, stderr) = run_card(&card);
    assert_eq!(code, 0, "{stderr}");
    let updated = std::fs::read_to_string(&card).unwrap();
    let start = original.find("co2_eq_emissions:").unwrap();
    let end = start + original[start..].find("model-index:").unwrap();
    let want = format!(
        "{}{}{}",
        &original[..start],
        CARD_BLOCK.replace('\n', "\r\n"),
        &original[end..]
    );
    assert_eq!(updated, want);
    assert_eq!(updated.matches("---\r\n").count(), 2, "one front matter");
    // Running again changes nothing.
    let (code, _, stderr) = run_card(&card);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(card unchanged)"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&card).unwrap(), updated);
}

/// Issue #18, item 12: odd but valid YAML shapes of `co2_eq_emissions` are edited (every other
/// byte kept, twice in a row the same), and the shapes that cannot be edited safely are refused
/// with the line, leaving the card as it was.
#[test]
fn hf_card_odd_yaml_shapes_are_edited_exactly_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let card = tmp.path().join("README.md");
    let edited = [
        (
            "---\n\"co2_eq_emissions\": 5\nlicense: mit\n---\n# Card\n",
            format!("---\n{CARD_BLOCK}license: mit\n---\n# Card\n"),
        ),
        (
            "---\nco2_eq_emissions :\n  emissions: 5\ntags:\n- a\n---\n",
            format!("---\n{CARD_BLOCK}tags:\n- a\n---\n"),
        ),
        (
            "---\nco2_eq_emissions:\n- 5\n- 6\nlicense: mit\n---\n",
            format!("---\n{CARD_BLOCK}license: mit\n---\n"),
        ),
        (
            "---\nco2_eq_emissions:\n# grams, measured\n  emissions: 5 # by hand\nlicense: mit # SPDX\n---\n",
            format!("---\n# grams, measured\n# by hand\n{CARD_BLOCK}license: mit # SPDX\n---\n"),
        ),
    ];
    for (text, want) in &edited {
        std::fs::write(&card, text).unwrap();
        let (code, _, stderr) = run_card(&card);
        assert_eq!(code, 0, "{text:?}: {stderr}");
        let once = std::fs::read_to_string(&card).unwrap();
        assert_eq!(&once, want, "{text:?}");
        let (code, _, stderr) = run_card(&card);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(std::fs::read_to_string(&card).unwrap(), once, "{text:?}");
    }
    let refused = [
        (
            "---\nco2_eq_emissions: &co2\n  emissions: 5\nother: *co2\n---\n",
            ":2: co2_eq_emissions holds a YAML anchor (`&co2`)",
        ),
        (
            "---\nco2_eq_emissions: 1\nlicense: mit\nco2_eq_emissions: 2\n---\n",
            ":4: co2_eq_emissions is given twice (lines 2 and 4)",
        ),
        (
            "---\nlicense: mit\n\n# Card\n",
            ":1: the front matter that opens here is never closed",
        ),
        (
            "---\n{license: mit}\n---\n",
            ":3: the front matter would not stay valid YAML after the edit",
        ),
    ];
    for (text, says) in refused {
        std::fs::write(&card, text).unwrap();
        let (code, stdout, stderr) = run_card(&card);
        assert_eq!(code, 2, "{text:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(says), "{text:?}: {stderr}");
        assert!(stderr.contains("help: "), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(&card).unwrap(),
            text,
            "card left alone"
        );
    }
}

/// Issue #18, item 12: a card that is a symbolic link is refused (not followed, not replaced),
/// and an edited card keeps its permissions.
#[cfg(unix)]
#[test]
fn hf_card_link_is_refused_and_the_mode_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.md");
    let text = "---\nlicense: mit\n---\n# Card\n";
    std::fs::write(&real, text).unwrap();
    let link = tmp.path().join("README.md");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, _, stderr) = run_card(&link);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the model card is a symbolic link (to ")
            && stderr.contains("real.md): carbon-gate does not edit a card through a link"),
        "{stderr}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), text);
    // The real file, mode 0640, is edited and keeps its mode.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, _, stderr) = run_card(&real);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        format!("---\nlicense: mit\n{CARD_BLOCK}---\n# Card\n")
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
}

/// Issue #18, item 14: an argument holding blank lines, backticks and HTML stays inside the
/// "Re-run:" code span (shown with `⏎`), so nothing after it renders as live HTML.
#[cfg(unix)]
#[test]
fn rerun_line_holds_any_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp
        .path()
        .join("a``b\n\n<img src=x onerror=alert(1)>\n\nc.csv");
    std::fs::copy("tests/fixtures/codecarbon/v3.3.2/emissions.csv", &log).unwrap();
    let args = [
        "--policy",
        "policies",
        "--model-version",
        "2.1.0",
        log.to_str().unwrap(),
    ];
    let (code, md, stderr) = report("markdown", &args);
    assert_eq!(code, 0, "{stderr}");
    let last = md.lines().last().unwrap();
    assert!(
        last.starts_with("Re-run: ```carbon-gate report --today 2026-11-28 --format markdown"),
        "{last}"
    );
    assert!(
        last.ends_with("a``b⏎⏎<img src=x onerror=alert(1)>⏎⏎c.csv'```"),
        "{last}"
    );
    assert!(md.ends_with(&format!("{last}\n")));
    assert!(
        !md.lines().any(|l| l.trim_start().starts_with('<')),
        "a line of raw HTML:\n{md}"
    );
    let (code, html, stderr) = report("html", &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        html.contains("a``b⏎⏎&lt;img src=x onerror=alert(1)&gt;⏎⏎c.csv&#39;</code></p>"),
        "{html}"
    );
}

/// Issue #18, item 14: URLs in the facts are shown as text (GitHub does not link
/// `https&#58;//` or `www&#46;`), and a right-to-left override is shown as `\u{202e}`, in Markdown
/// and HTML. Issue #20: the disclosure's Markdown escapes with the check report's one escaper
/// (numeric character references, which also hold inside raw HTML; it used backslashes).
#[test]
fn facts_urls_and_bidi_controls_are_shown_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let facts = common::write(
        tmp.path(),
        "facts.yaml",
        "version: 1\nprovider: \"ACME https://evil.example/login www.evil.example \\u202Eexe.txt\"\nmodels:\n  text-gen:\n    base-model: \"https://huggingface.co/x\"\n",
    );
    let args = [
        "--policy",
        "policies",
        "--model-version",
        "2.1.0",
        "--facts",
        facts.to_str().unwrap(),
        "tests/fixtures/codecarbon/v3.3.2/emissions.csv",
    ];
    let (code, md, stderr) = report("markdown", &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        md.contains(
            "| Provider | ACME https&#58;//evil.example/login www&#46;evil.example &#92;u&#123;202e&#125;exe.txt |\n"
        ),
        "{md}"
    );
    assert!(md.contains("https&#58;//huggingface.co/x"), "{md}");
    assert!(!md.contains("https://evil") && !md.contains("https://huggingface"));
    assert!(!md.contains('\u{202e}'));
    let (code, html, stderr) = report("html", &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        html.contains(
            "<tr><th>Provider</th><td>ACME https://evil.example/login www.evil.example \\u{202e}exe.txt</td></tr>"
        ),
        "{html}"
    );
    assert!(!html.contains('\u{202e}') && !html.contains("<a "));
}

#[test]
fn a_card_holds_one_model() {
    let (code, _, stderr) = common::run(&[
        "report",
        "--format",
        "hf-card",
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a model card holds one model, the inputs hold 2 candidates"),
        "{stderr}"
    );
}

#[test]
fn bad_facts_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let facts = common::write(
        tmp.path(),
        "facts.yaml",
        "version: 1\nmodels:\n  text-gen:\n    training-flops: 3e21\n",
    );
    let (code, _, stderr) = common::run(&[
        "report",
        "--facts",
        facts.to_str().unwrap(),
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("facts.yaml:4:"), "{stderr}");
    assert!(
        stderr.contains("unknown field `training-flops`"),
        "{stderr}"
    );
    let facts = common::write(
        tmp.path(),
        "facts2.yaml",
        "version: 1\nmodels:\n  text-gen:\n    training-flop: -1\n",
    );
    let (code, _, stderr) = common::run(&[
        "report",
        "--facts",
        facts.to_str().unwrap(),
        "--policy",
        "policies",
        "examples/runs/",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("models.text-gen.training-flop"), "{stderr}");
}

#[test]
fn committed_schemas_match() {
    for (kind, file) in [
        ("facts", "docs/facts.schema.json"),
        ("disclosure", "docs/disclosure.schema.json"),
    ] {
        let (code, stdout, _) = common::run(&["schema", kind]);
        assert_eq!(code, 0);
        let committed = std::fs::read_to_string(file)
            .unwrap_or_else(|_| panic!("{file} missing: cargo run -- schema {kind} > {file}"));
        assert_eq!(
            stdout, committed,
            "{file} is stale: cargo run -- schema {kind} > {file}"
        );
    }
}

// Issue #22, item 12: the disclosure read as a compliance officer would.

/// The body of a rendered document: everything before the first appendix.
fn body(doc: &str) -> &str {
    let at = doc
        .find("Appendix A. Open items for the preparer")
        .expect("an Appendix A");
    &doc[..at]
}

/// Page 1 is the summary; the full disclosure follows a page break; the appendices follow another.
#[test]
fn summary_first_then_the_disclosure_then_the_appendices() {
    let (code, html, stderr) = report("html", CASES[1].1);
    assert_eq!(code, 0, "{stderr}");
    let pos = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in the HTML"))
    };
    let summary = pos("<h2 class=\"first\">Summary</h2>");
    let first_break = pos("<div class=\"page-break\"></div>");
    let disclosure = pos("<h2>Disclosure: text-gen 2.1.0</h2>");
    let a = pos("<h3>A. Identity and provenance</h3>");
    let appendix = pos("<h2>Appendix A. Open items for the preparer</h2>");
    assert!(summary < first_break && first_break < disclosure && disclosure < a && a < appendix);
    let second_break = html[first_break + 1..]
        .find("<div class=\"page-break\"></div>")
        .map(|i| i + first_break + 1)
        .unwrap();
    assert!(a < second_break && second_break < appendix);
    for later in [
        "<h2>Appendix B. Gate details</h2>",
        "<h2>Appendix C. Provisions cited</h2>",
        "<h2>Appendix D. Audit trail</h2>",
    ] {
        assert!(pos(later) > appendix, "{later}");
    }
    // The summary holds what a compliance officer hands on.
    let page1 = &html[summary..first_break];
    for want in [
        "<th>Model and version</th><td>text-gen 2.1.0</td>",
        "<th>Gate decision</th><td><strong>WARN</strong> — CO2e rose +11.1% vs the baseline",
        "<th>Training compute</th><td>640 GPU-hours on 8 × A100-SXM4-80GB · 2.6e20 FLOP</td>",
        "<th>Energy</th><td>294.4 kWh (0.29 MWh), estimated from hardware power × time; range 176.6 kWh – 320 kWh</td>",
        "Scope 2 (location-based) 0 kg · Scope 3 cat. 1 (cloud electricity) 16.5 kg · embodied (SCI) 8.447 kg · total 24.95 kg; range 13.55 kg – 38.74 kg",
        "<th>Energy mix used (grid)</th><td>56.039 g/kWh (aws:eu-west-3 Paris; range ×0.8–×1.2) — FR country value 2023 (Ember &amp; Energy Institute via Our World in Data",
        "<td>Art. 9 — risk management (high-risk AI systems)</td>",
        "<td>Art. 53(1)(a), Annex XI §1 points 1 and 2(d)–(e) — GPAI technical documentation</td>",
        "<td>Art. 11(1), Annex IV point 2(c) — technical documentation (high-risk AI systems)</td>",
        "<td>Weights (SHA-256), Placed on the EU market, Benchmarked inference compute</td>",
    ] {
        assert!(page1.contains(want), "page 1 lacks {want:?}:\n{page1}");
    }
    // The same order in Markdown.
    let (_, md, _) = report("markdown", CASES[1].1);
    let at = |needle: &str| md.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
    assert!(at("## Summary") < at("## Disclosure: text-gen 2.1.0"));
    assert!(
        at("### A. Identity and provenance") < at("## Appendix A. Open items for the preparer")
    );
    assert!(at("## Appendix A.") < at("## Appendix B. Gate details"));
    assert!(at("## Appendix C. Provisions cited") < at("## Appendix D. Audit trail"));
    // JSON gains the summary's figures; nothing is removed (the field test above).
    let (_, json, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&json).unwrap();
    let s = &d["models"][0]["summary"];
    assert_eq!(common::num(&s["gpu_hours"]), 640.0);
    assert_eq!(s["training_flop"], 2.6e20);
    assert_eq!(d["models"][0]["ai_act"].as_array().unwrap().len(), 3);
}

/// The developer's to-dos are not in the body: a null field there says "not provided" and
/// points to its open item; Appendix A and stderr list them with how to fill them.
#[test]
fn open_items_are_listed_apart_from_the_body() {
    for format in ["html", "markdown"] {
        let (code, doc, stderr) = report(format, CASES[1].1);
        assert_eq!(code, 0, "{stderr}");
        let b = body(&doc);
        for todo in ["not given", "facts file", "--facts", "add "] {
            assert!(!b.contains(todo), "{format}: {todo:?} in the body:\n{b}");
        }
        assert!(b.contains("open item 4 (Appendix A)"), "{format}");
        let appendix = &doc[b.len()..];
        assert!(appendix.contains("weights-sha256"), "{format}");
    }
    let (_, html, stderr) = report("html", CASES[1].1);
    assert!(
        html.contains("<td class=\"null\">not provided</td><td>open item 4 (Appendix A)</td>"),
        "{html}"
    );
    assert!(
        stderr.contains("carbon-gate: open item 4: text-gen 2.1.0: Weights (SHA-256): not given: add `weights-sha256` under `models: text-gen:` in the facts file (`--facts`)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("carbon-gate: open item 1: Preparer: not named"),
        "{stderr}"
    );
    let (_, json, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&json).unwrap();
    let items = d["open_items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[3]["field"], "weights_sha256");
    assert_eq!(items[3]["number"], 4);
}

/// No raw Markdown in the HTML: the tool's notes name keys in backticks, shown as code.
#[test]
fn the_html_shows_no_backticks() {
    for (name, args) in CASES {
        let (code, html, stderr) = report("html", args);
        assert_eq!(code, 0, "{stderr}");
        let before_rerun = html.split("Re-run: ").next().unwrap();
        assert!(
            !before_rerun.contains('`'),
            "{name}: a raw backtick in the HTML"
        );
    }
    let (_, html, _) = report("html", CASES[1].1);
    assert!(html.contains("<code>weights-sha256</code>"));
}

/// The gate's policy location is printed once, in Appendix B.
#[test]
fn the_gate_location_is_printed_once_in_an_appendix() {
    for format in ["html", "markdown"] {
        let (_, doc, _) = report(format, CASES[1].1);
        assert_eq!(doc.matches("policy.yaml:10:9").count(), 1, "{format}");
        assert_eq!(doc.matches("policy.yaml:5:12").count(), 1, "{format}");
        let b = doc.find("Appendix B. Gate details").unwrap();
        assert!(doc.find("policy.yaml:10:9").unwrap() > b, "{format}");
        assert!(doc.find("policy.yaml:5:12").unwrap() > b, "{format}");
    }
}

/// The header: a document id from the inputs, version, date, signatories (blank lines to sign,
/// or from the facts), and repository and commit from the CI environment, else the facts.
#[test]
fn the_header_names_the_document_and_where_its_figures_come_from() {
    let (_, html, _) = report("html", CASES[1].1);
    let (_, again, _) = report("html", CASES[1].1);
    assert_eq!(html, again, "the same inputs give the same document");
    let lead = "<th>Document id</th><td><strong>";
    let id_at = html.find(lead).unwrap() + lead.len();
    let id = &html[id_at..id_at + 23];
    assert!(
        id.len() == 23
            && id.starts_with("EID-")
            && id[4..].chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{id}"
    );
    for want in [
        "<tr><th>Version</th><td>1</td></tr>",
        "<tr><th>Date</th><td>2026-11-28</td></tr>",
        "<tr><th>Prepared by</th><td>______________________________ (name, date, signature)</td></tr>",
        "<tr><th>Approved by</th><td>______________________________ (name, date, signature)</td></tr>",
        "<tr><th>Repository and commit</th><td>repository not recorded, commit not recorded</td></tr>",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // The id is in every page's footer.
    assert!(html.contains(&format!("content:\"Environmental Impact Disclosure {id}\"")));
    // Facts give the particulars.
    let tmp = tempfile::tempdir().unwrap();
    let facts = common::write(
        tmp.path(),
        "facts.yaml",
        "version: 1\ndocument:\n  version: \"2.0\"\n  preparer: \"A. Preparer <b>, ML platform\"\n  approver: B. Approver\n  repository: https://git.example/org/models\n  commit: 0123456789abcdef0123456789abcdef01234567\n",
    );
    let args = [
        "--config",
        "examples/tradeoff/carbon-gate.yaml",
        "--facts",
        facts.to_str().unwrap(),
    ];
    let (code, html, stderr) = report("html", &args);
    assert_eq!(code, 0, "{stderr}");
    for want in [
        "<tr><th>Version</th><td>2.0</td></tr>",
        "<tr><th>Prepared by</th><td>A. Preparer &lt;b&gt;, ML platform</td></tr>",
        "<tr><th>Approved by</th><td>B. Approver</td></tr>",
        "<tr><th>Repository and commit</th><td>https://git.example/org/models at commit <code>0123456789abcdef0123456789abcdef01234567</code> (from the facts file)</td></tr>",
    ] {
        assert!(html.contains(want), "{want}\n{html}");
    }
    assert!(!stderr.contains("open item 1: Preparer"), "{stderr}");
    // The CI environment wins over the facts when it is well-formed…
    let sha = "fedcba9876543210fedcba9876543210fedcba98";
    let env = [
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "org/models"),
        ("GITHUB_SHA", sha),
    ];
    let (_, html, _) = report_env("html", &args, &env);
    assert!(html.contains(&format!("<tr><th>Repository and commit</th><td>https://github.com/org/models at commit <code>{sha}</code> (from the CI environment)</td></tr>")), "{html}");
    // …and is ignored when it is not.
    let bad = [
        ("GITHUB_SERVER_URL", "javascript:alert(1)"),
        ("GITHUB_REPOSITORY", "org/<models>"),
        ("GITHUB_SHA", "not-a-sha"),
    ];
    let (_, html, _) = report_env("html", &args, &bad);
    assert!(html.contains("(from the facts file)"), "{html}");
    assert!(!html.contains("javascript") && !html.contains("not-a-sha"));
    // A malformed commit in the facts is refused with its key.
    let facts = common::write(
        tmp.path(),
        "bad.yaml",
        "version: 1\ndocument:\n  commit: main\n",
    );
    let (code, _, stderr) = report(
        "html",
        &[
            "--config",
            "examples/tradeoff/carbon-gate.yaml",
            "--facts",
            facts.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("document.commit"), "{stderr}");
}

/// The defaults and inputs are a table with a source per row, not a paragraph.
#[test]
fn assumptions_are_a_table_with_sources() {
    let (_, html, _) = report("html", CASES[1].1);
    let at = html.find("<h3>Assumptions and their sources</h3>").unwrap();
    let table = &html[at..];
    assert!(table.contains("<table class=\"assumptions\"><thead><tr><th>Input</th><th>Value</th><th>Source</th></tr></thead>"));
    assert!(table.contains(
        "<tr><td>TDP</td><td>400 W (A100-SXM4-80GB)</td><td>NVIDIA A100 Tensor Core GPU Datasheet"
    ));
    assert!(table.contains("<tr><td>devices</td><td>8</td><td>command line</td></tr>"));
    assert!(!html.contains(" · TDP: 400 W"), "the old wall of text");
    let (_, json, _) = report("json", CASES[1].1);
    let d: Value = serde_json::from_str(&json).unwrap();
    let rows = d["models"][0]["assumptions"].as_array().unwrap();
    assert_eq!(
        rows,
        field(&d, 0, "defaults_used")["value"].as_array().unwrap()
    );
    assert_eq!(rows.len(), 11);
    // Measured evidence has none, and says so.
    let (_, html, _) = report("html", CASES[0].1);
    assert!(!html.contains("Assumptions and their sources"));
    assert!(html.contains("none: every figure was measured and logged by its tracker"));
}

/// The grid factor of a cloud region cites the dataset of the figure and AWS's own region
/// table, not the documentation of an unrelated AWS product.
#[test]
fn the_grid_region_cites_its_real_sources() {
    let table = std::fs::read_to_string("src/reference/cloud_regions.csv").unwrap();
    assert!(!table.contains("automated-security-response"));
    let paris = table
        .lines()
        .find(|l| l.starts_with("aws,eu-west-3,"))
        .unwrap();
    assert!(paris.contains("FR country value 2023 (Ember & Energy Institute via Our World in Data 'Carbon intensity of electricity generation', lifecycle)"), "{paris}");
    assert!(
        paris.contains("botocore 1.44.18, botocore/data/endpoints.json"),
        "{paris}"
    );
    let (_, json, _) = report("json", CASES[1].1);
    assert!(!json.contains("Automated Security Response"));
    let d: Value = serde_json::from_str(&json).unwrap();
    let grid = &d["models"][0]["summary"]["grid"][0];
    assert!(
        grid["source"]
            .as_str()
            .unwrap()
            .contains("Ember & Energy Institute via Our World in Data")
    );
}

/// Print: headings keep with their content, figures and small tables are not split, rows are
/// not split, and each page is numbered; the chart has a scale.
#[test]
fn print_styles_and_the_chart_scale() {
    let (_, html, _) = report("html", CASES[1].1);
    for want in [
        "h1,h2,h3{break-after:avoid",
        "table:not(:has(>thead)),.chart{break-inside:avoid",
        "tr{break-inside:avoid",
        ".page-break{break-after:page",
        "@page{size:A4",
        "counter(page) \" of \" counter(pages)",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // 24.95 kg on an axis from 0 to 25 in steps of 5, with its unit.
    for tick in ["0", "5", "10", "15", "20", "25"] {
        assert!(
            html.contains(&format!("text-anchor=\"middle\">{tick}</text>")),
            "tick {tick}"
        );
    }
    assert!(html.contains(">kg CO2e</text>"));
}
