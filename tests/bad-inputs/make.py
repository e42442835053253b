#!/usr/bin/env python3
"""Write the bad-input corpus: one directory per case under tests/bad-inputs/cases/.

Each case holds its input files and `args`: the carbon-gate arguments, one per line, where
`{case}` is the case directory. tests/bad_input_corpus.rs runs every case with
`--output <tmp>/report` added to commands that write a report, and asserts: exit 2, one
`carbon-gate: error:` message naming the file (`expect` holds the text it must contain), no
panic, and nothing written to --output. Cases too big or too odd to commit (10 MB single line,
YAML alias bombs, deep nesting, symlink loops, directories where a file is expected) are made by
the test itself. Re-run: python3 tests/bad-inputs/make.py
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")

CC_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
)
# A real CodeCarbon 3.3.2 row (tests/fixtures/codecarbon/v3.3.2/emissions.csv, line 2) with
# fields to substitute: {duration}, {emissions}, {energy}.
CC_ROW = (
    "2026-11-28T18:22:22,text-gen,313c1367-092a-4f65-b9ea-f923d28dd3d7,"
    "5b0fa12a-3dd7-45bb-9766-cc326314d9f1,{duration},{emissions},3.3692014633439964e-07,"
    "1.2533732176517338,0.0,20.0,9.486246139522591e-07,0.0,1.1114016994444696e-05,{energy},0.0,"
    "France,FRA,,,,Linux-6.18.44-fc-v669-x86_64-with-glibc2.36,3.11.7,3.3.2,2,AMD EPYC,0,,,,"
    "23.540576934814453,machine,50.2,0,2.2,0.5255050659179688,N,1.0,0.0"
)
GOOD = dict(duration="2.0063459560000183", emissions="6.759783730929571e-07",
            energy="1.2062641608396955e-05")

ECO_HEADER = ("id,project_name,experiment_description,epoch,start_time,duration(s),"
              "power_consumption(kWh),CO2_emissions(kg),CPU_name,GPU_name,OS,region/country,cost")
ECO_ROW = ("c1c85363-81ad-486c-a996-3a6ca73b09c0,text-gen,gpt2-small finetune,,2026-11-28 18:43:18,"
           "2.6769049167633057,{power},{co2},\"AMD EPYC/1 device(s), TDP:500.0\", 0 device(s),Linux,FR,0")

POLICY_OK = 'version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: "1 kg" } }\n'

cases = {}


def case(name, files, args, expect):
    cases[name] = (files, args, expect)


def cc(**kw):
    v = dict(GOOD)
    v.update(kw)
    return CC_HEADER + "\n" + CC_ROW.format(**v) + "\n"


def check(file):
    return ["check", "--policy", "{case}/policy.yaml", "--format", "json", "{case}/" + file]


# --- CodeCarbon CSV -------------------------------------------------------------------------
for name, kw in [
    ("cc-energy-text", dict(energy="abc")),
    ("cc-energy-nan", dict(energy="NaN")),
    ("cc-energy-inf", dict(energy="inf")),
    ("cc-energy-negative", dict(energy="-1.0")),
    ("cc-emissions-negative", dict(emissions="-0.5")),
    ("cc-emissions-1e308", dict(emissions="1e308")),
    ("cc-emissions-1e309", dict(emissions="1e309")),
    ("cc-duration-negative", dict(duration="-3")),
    ("cc-duration-text", dict(duration="two seconds")),
    ("cc-emissions-empty", dict(emissions="")),
    ("cc-energy-hex", dict(energy="0x1p-3")),
    ("cc-emissions-comma-decimal", dict(emissions="\"6,7e-07\"")),
]:
    case(name, {"emissions.csv": cc(**kw), "policy.yaml": POLICY_OK}, check("emissions.csv"),
         "emissions.csv:2")
case("cc-duplicate-header", {"emissions.csv": CC_HEADER.replace("energy_consumed", "emissions") + "\n"
                             + CC_ROW.format(**GOOD) + "\n", "policy.yaml": POLICY_OK},
     check("emissions.csv"), "emissions.csv")
case("cc-missing-columns", {"emissions.csv": "timestamp,project_name,run_id,duration\n"
                            "2026-11-28T18:22:22,text-gen,r1,2.0\n", "policy.yaml": POLICY_OK},
     check("emissions.csv"), "emissions.csv")
case("cc-unterminated-quote", {"emissions.csv": CC_HEADER + "\n"
                               + CC_ROW.format(**GOOD).replace("AMD EPYC", "\"AMD EPYC") + "\n",
                               "policy.yaml": POLICY_OK}, check("emissions.csv"), "emissions.csv")
case("cc-nul-bytes", {"emissions.csv": cc().replace("text-gen", "text\0gen"),
                      "policy.yaml": POLICY_OK}, check("emissions.csv"), "emissions.csv")
case("cc-latin1", {"emissions.csv": cc().replace("France", "Fran\xe7e").encode("latin-1"),
                   "policy.yaml": POLICY_OK}, check("emissions.csv"), "emissions.csv")
case("cc-utf16", {"emissions.csv": cc().encode("utf-16"), "policy.yaml": POLICY_OK},
     check("emissions.csv"), "emissions.csv")
case("cc-truncated-mid-number", {"emissions.csv": CC_HEADER + "\n" + CC_ROW.format(**GOOD)[:120],
                                 "policy.yaml": POLICY_OK}, check("emissions.csv"), "emissions.csv")
case("cc-empty-file", {"emissions.csv": "", "policy.yaml": POLICY_OK}, check("emissions.csv"),
     "emissions.csv")
case("cc-only-bom", {"emissions.csv": "\ufeff", "policy.yaml": POLICY_OK}, check("emissions.csv"),
     "emissions.csv")
case("cc-binary", {"emissions.csv": bytes(range(256)) * 4, "policy.yaml": POLICY_OK},
     check("emissions.csv"), "emissions.csv")

# --- eco2AI -------------------------------------------------------------------------------------
case("eco2ai-power-text", {"emission.csv": ECO_HEADER + "\n" + ECO_ROW.format(power="lots", co2="1e-9") + "\n",
                           "policy.yaml": POLICY_OK}, check("emission.csv"), "emission.csv:2")
case("eco2ai-co2-negative", {"emission.csv": ECO_HEADER + "\n" + ECO_ROW.format(power="2.5e-08", co2="-1") + "\n",
                             "policy.yaml": POLICY_OK}, check("emission.csv"), "emission.csv:2")
case("eco2ai-nan", {"emission.csv": ECO_HEADER + "\n" + ECO_ROW.format(power="nan", co2="nan") + "\n",
                    "policy.yaml": POLICY_OK}, check("emission.csv"), "emission.csv:2")

# --- carbontracker ------------------------------------------------------------------------------
CT_OK = ("2026-11-28 18:38:41 - CarbonTracker: \nActual consumption for 3 epoch(s):\n\tTime:\t0:00:05\n"
         "\tEnergy:\t{energy}\n\tCO2eq:\t{co2}\n\tThis is equivalent to:\n\t0.0004 km travelled by car\n")
for name, energy, co2 in [
    ("ct-energy-no-unit", "0.0001", "0.05 g"),
    ("ct-energy-text", "much kWh", "0.05 g"),
    ("ct-co2-negative", "0.0001 kWh", "-0.05 g"),
    ("ct-energy-nan", "nan kWh", "0.05 g"),
]:
    case(name, {"1_2026-11-28T183835Z_carbontracker_output.log": CT_OK.format(energy=energy, co2=co2),
                "policy.yaml": POLICY_OK},
         ["check", "--model", "text-gen", "--policy", "{case}/policy.yaml", "--format", "json",
          "{case}/1_2026-11-28T183835Z_carbontracker_output.log"], "carbontracker_output.log:")
case("ct-block-cut", {"1_2026-11-28T183835Z_carbontracker_output.log":
                      "2026-11-28 18:38:41 - CarbonTracker: \nActual consumption for 3 epoch(s):\n\tTime:\t0:00:05\n",
                      "policy.yaml": POLICY_OK},
     ["check", "--model", "text-gen", "--policy", "{case}/policy.yaml", "--format", "json",
      "{case}/1_2026-11-28T183835Z_carbontracker_output.log"], "carbontracker_output.log")

# --- Impact Framework ---------------------------------------------------------------------------
IF = ("name: text-gen\ninitialize:\n  plugins: {{}}\ntree:\n  children:\n    train:\n      outputs:\n"
      "        - timestamp: '2026-11-28T00:00:00Z'\n          duration: 3600\n          energy: {energy}\n"
      "          carbon: 12\n")
case("if-energy-text", {"manifest.yaml": IF.format(energy="'lots'"), "policy.yaml": POLICY_OK},
     check("manifest.yaml"), "manifest.yaml")
case("if-energy-negative", {"manifest.yaml": IF.format(energy="-1"), "policy.yaml": POLICY_OK},
     check("manifest.yaml"), "manifest.yaml")
case("if-tab-indent", {"manifest.yaml": IF.format(energy="1").replace("  children", "\tchildren"),
                       "policy.yaml": POLICY_OK}, check("manifest.yaml"), "manifest.yaml")
case("if-energy-nan", {"manifest.yaml": IF.format(energy=".nan"), "policy.yaml": POLICY_OK},
     check("manifest.yaml"), "manifest.yaml")

# --- Hugging Face model cards -------------------------------------------------------------------
for name, value in [
    ("hf-emissions-text", "co2_eq_emissions: lots\n"),
    ("hf-emissions-negative", "co2_eq_emissions:\n  emissions: -5\n"),
    ("hf-emissions-nan", "co2_eq_emissions:\n  emissions: .nan\n"),
    ("hf-emissions-list", "co2_eq_emissions: [1, 2]\n"),
]:
    case(name, {"README.md": "---\nlicense: mit\n" + value + "---\n# Card\n", "policy.yaml": POLICY_OK},
         ["check", "--model", "text-gen", "--policy", "{case}/policy.yaml", "--format", "json",
          "{case}/README.md"], "README.md")
case("hf-front-matter-broken-yaml", {"README.md": "---\nco2_eq_emissions: {emissions: [\n---\n",
                                     "policy.yaml": POLICY_OK},
     ["check", "--model", "text-gen", "--policy", "{case}/policy.yaml", "--format", "json",
      "{case}/README.md"], "README.md")

# --- carbon-gate JSON / NDJSON ------------------------------------------------------------------
for name, text, at in [
    ("json-co2e-string", '{"run_id": "r1", "co2e_kg": "12"}\n', "runs.ndjson:1"),
    ("json-missing-run-id", '{"co2e_kg": 12}\n', "runs.ndjson"),
    ("json-nan-literal", '{"run_id": "r1", "co2e_kg": NaN}\n', "runs.ndjson:1"),
    ("json-1e999", '{"run_id": "r1", "co2e_kg": 1e999}\n', "runs.ndjson:1"),
    ("json-negative", '{"run_id": "r1", "co2e_kg": -1}\n', "runs.ndjson:1"),
    ("json-second-line-broken", '{"run_id": "r1", "co2e_kg": 1}\n{"run_id": "r2", "co2e_kg": \n', "runs.ndjson:2"),
    ("json-unknown-method", '{"run_id": "r1", "co2e_kg": 1, "method": "guess"}\n', "runs.ndjson:1"),
    ("json-bad-version", '{"run_id": "r1", "co2e_kg": 1, "model": "m", "version": {"major": 1}}\n', "runs.ndjson:1"),
]:
    case(name, {"runs.ndjson": text, "policy.yaml": POLICY_OK}, check("runs.ndjson"), at)

# --- Policy files -------------------------------------------------------------------------------
def policy_case(name, text, expect):
    case(name, {"policy.yaml": text, "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
         check("runs.ndjson"), expect)


policy_case("policy-unknown-key", 'version: 1\nbudgets:\n  - model: a\n    max_co2: 3\n    limits: { co2e: { fail: "1 kg" } }\n', "policy.yaml:4:5")
policy_case("policy-wrong-type", "version: 1\nbudgets:\n  - model: a\n    limits: 5\n", "policy.yaml:4")
policy_case("policy-semver-garbage", 'version: 1\nbudgets:\n  - model: a\n    versions: banana\n    limits: { co2e: { fail: "1 kg" } }\n', "policy.yaml:4")
policy_case("policy-unit-typo", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: "120 kgs" } }\n', "policy.yaml:4")
policy_case("policy-no-unit", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: 120 } }\n', "policy.yaml:4")
policy_case("policy-negative-limit", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: "-1 kg" } }\n', "policy.yaml:4")
policy_case("policy-nan-limit", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: "NaN kg" } }\n', "policy.yaml:4")
policy_case("policy-warn-above-fail", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { warn: "2 kg", fail: "1 kg" } }\n', "policy.yaml:4")
policy_case("policy-version-2", 'version: 2\nbudgets: []\n', "policy.yaml")
policy_case("policy-empty", "", "policy.yaml")
policy_case("policy-tabs", 'version: 1\nbudgets:\n\t- model: a\n', "policy.yaml:3")
policy_case("policy-bad-glob", 'version: 1\nbudgets:\n  - model: "text-[a"\n    limits: { co2e: { fail: "1 kg" } }\n', "policy.yaml:3")
policy_case("policy-duplicate-key", 'version: 1\nversion: 1\nbudgets: []\n', "policy.yaml")
policy_case("policy-bad-exception-date", 'version: 1\nbudgets:\n  - model: a\n    limits: { co2e: { fail: "1 kg" } }\nexceptions:\n  - model: a\n    rule: budget-exceeded\n    reason: r\n    expires: next week\n    approved-by: me\n', "policy.yaml:9")
policy_case("policy-unknown-region", 'version: 1\nbudgets:\n  - model: a\n    preferred-regions: [mars:olympus-1]\n    limits: { co2e: { fail: "1 kg" } }\n', "policy.yaml:4")
policy_case("policy-intensity-unit", 'version: 1\nbudgets:\n  - model: a\n    max-intensity: "200 kg"\n', "policy.yaml:4")

# --- Budgets over time (issue #23): teams, periods, trajectory ------------------------------------
PERIOD = 'version: 1\nperiods:\n  - name: {name}\n    {scope}\n    every: {every}\n    limits: {{ co2e: {{ fail: "1 t" }} }}\n'
policy_case("policy-period-unknown-team", PERIOD.format(name="q", scope="teams: [nlp]", every="quarter"),
            "policy.yaml:4:13: period `q` names team `nlp`, which no policy file defines")
policy_case("policy-period-every-weekly", PERIOD.format(name="q", scope="models: [a]", every="weekly"),
            "policy.yaml:5:12: periods[0].every: unknown variant `weekly`, expected one of `month`, `quarter`, `year`")
policy_case("policy-period-huge-name", PERIOD.format(name="n" * 5000, scope="models: [a]", every="year"),
            "policy.yaml:3:11: the period name is 5000 characters long; the limit is 200")
policy_case("policy-period-huge-glob", PERIOD.format(name="q", scope='models: ["' + "a*" * 3000 + '"]', every="year"),
            "policy.yaml:4:14: `models[0]` is 6000 characters long; the limit is 1000")
policy_case("policy-period-no-limits", 'version: 1\nperiods:\n  - { name: q, models: [a], every: month }\n',
            "policy.yaml:3:13: period `q` has no limits")
policy_case("policy-trajectory-150-percent",
            'version: 1\ntrajectory:\n  models: ["*"]\n  base-year: 2025\n  base: "40 t"\n  reduction-per-year: "150%"\n',
            "policy.yaml:6:23: `reduction-per-year: 150%` is more than 100%")
policy_case("policy-trajectory-base-year-1900",
            'version: 1\ntrajectory:\n  models: ["*"]\n  base-year: 1900\n  base: "40 t"\n  reduction-per-year: "4.2%"\n',
            "policy.yaml:4:14: `base-year: 1900` is outside 1990–2100")

# --- Config (carbon-gate.yaml) ------------------------------------------------------------------
def config_case(name, text, expect):
    case(name, {"carbon-gate.yaml": text, "policy.yaml": POLICY_OK,
                "runs.ndjson": '{"run_id": "r1", "co2e_kg": 1}\n'},
         ["check", "--config", "{case}/carbon-gate.yaml", "--policy", "{case}/policy.yaml",
          "--format", "json"], expect)


config_case("config-unknown-key", "version: 1\ncandidates:\n  - model: m\n    logz: [runs.ndjson]\n", "carbon-gate.yaml:4")
config_case("config-bad-semver", "version: 1\ncandidates:\n  - model: m\n    version: one\n    logs: [runs.ndjson]\n", "carbon-gate.yaml:4")
config_case("config-missing-log", "version: 1\ncandidates:\n  - model: m\n    version: 1.0.0\n    logs: [nope.ndjson]\n", "nope.ndjson")
config_case("config-wrong-type", "version: 1\ncandidates: yes\n", "carbon-gate.yaml:2")

# --- Metrics ------------------------------------------------------------------------------------
case("metrics-nan", {"metrics.json": '{"accuracy": NaN}', "policy.yaml": POLICY_OK,
                     "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["check", "--policy", "{case}/policy.yaml", "--metrics", "{case}/metrics.json", "--format", "json",
      "{case}/runs.ndjson"], "metrics.json")
case("metrics-text", {"metrics.json": '{"accuracy": "high"}', "policy.yaml": POLICY_OK,
                      "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["check", "--policy", "{case}/policy.yaml", "--metrics", "{case}/metrics.json", "--format", "json",
      "{case}/runs.ndjson"], "metrics.json")

# --- Facts (report) -----------------------------------------------------------------------------
case("facts-unknown-key", {"facts.yaml": "version: 1\nprovider-roel: deployer\n", "policy.yaml": POLICY_OK,
                           "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["report", "--facts", "{case}/facts.yaml", "--policy", "{case}/policy.yaml", "{case}/runs.ndjson"],
     "facts.yaml:2")
case("facts-bad-date", {"facts.yaml": "version: 1\nmodels:\n  text-gen:\n    release-date: soon\n",
                        "policy.yaml": POLICY_OK,
                        "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["report", "--facts", "{case}/facts.yaml", "--policy", "{case}/policy.yaml", "{case}/runs.ndjson"],
     "facts.yaml")

# --- YAML tags (issue #17, item 15): refused where they are, never dropped ----------------------
policy_case("policy-tag-binary", 'version: 1\nbudgets:\n  - model: !!binary dGV4dC1nZW4=\n    limits: { co2e: { fail: "1 kg" } }\n', "policy.yaml:3:12")
policy_case("policy-tag-custom", 'version: 1\nbudgets:\n  - model: text-gen\n    limits: !relaxed { co2e: { fail: "1 kg" } }\n', "policy.yaml:4:13")
policy_case("policy-tag-str-limit", 'version: 1\nbudgets:\n  - model: text-gen\n    limits: { co2e: { fail: !!str "1 kg" } }\n', "policy.yaml:4:29")
config_case("config-tag-include", "version: 1\ncandidates:\n  - model: m\n    logs: !include [runs.ndjson]\n", "carbon-gate.yaml:4:11")
case("facts-tag", {"facts.yaml": "version: !!int 1\n", "policy.yaml": POLICY_OK,
                   "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["report", "--facts", "{case}/facts.yaml", "--policy", "{case}/policy.yaml", "{case}/runs.ndjson"],
     "facts.yaml:1:10")
case("metrics-tag", {"metrics.yaml": "accuracy: !!float 0.9\n", "policy.yaml": POLICY_OK,
                     "runs.ndjson": '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'},
     ["check", "--policy", "{case}/policy.yaml", "--metrics", "{case}/metrics.yaml", "--format", "json",
      "{case}/runs.ndjson"], "metrics.yaml:1:11")
case("if-tag", {"manifest.yaml": IF.format(energy="!!float 1"), "policy.yaml": POLICY_OK},
     check("manifest.yaml"), "manifest.yaml:10:19")
case("hf-front-matter-tag", {"README.md": "---\nlicense: mit\nco2_eq_emissions: !!str 5\n---\n# Card\n",
                             "policy.yaml": POLICY_OK},
     ["check", "--model", "text-gen", "--policy", "{case}/policy.yaml", "--format", "json",
      "{case}/README.md"], "README.md:3:19")

# --- Evidence integrity (issue #17): rows of one run that are not snapshots of it -----------------
def cc_rows(*rows):
    return CC_HEADER + "\n" + "".join(CC_ROW.format(**dict(GOOD, **r)) + "\n" for r in rows)


case("evidence-forged-snapshot-less-co2e",
     {"emissions.csv": cc_rows({}, dict(energy="1.3e-05", emissions="1e-15", duration="2.5")),
      "policy.yaml": POLICY_OK}, check("emissions.csv"), "emissions.csv:3")
case("evidence-forged-snapshot-other-file",
     {"a/emissions.csv": cc(), "b/emissions.csv": cc(energy="1.3e-05", emissions="1e-15"),
      "policy.yaml": POLICY_OK},
     ["check", "--policy", "{case}/policy.yaml", "--format", "json", "{case}/a", "{case}/b"],
     "conflicting evidence")
case("evidence-forged-ndjson-record",
     {"emissions.csv": cc(),
      "runs.ndjson": '{"run_id": "313c1367-092a-4f65-b9ea-f923d28dd3d7", "format": "codecarbon", '
                     '"model": "text-gen", "energy_kwh": 1.3e-05, "co2e_kg": 1e-15, "duration_s": 2.5}\n',
      "policy.yaml": POLICY_OK},
     ["check", "--policy", "{case}/policy.yaml", "--format", "json", "{case}/emissions.csv",
      "{case}/runs.ndjson"], "conflicting evidence")
case("evidence-decoy-model",
     {"emissions.csv": cc_rows({}).replace("\n", "\n", 1) + CC_ROW.format(**dict(GOOD, energy="1.3e-05", emissions="7e-07", duration="2.5")).replace("text-gen", "decoy") + "\n",
      "policy.yaml": POLICY_OK}, check("emissions.csv"), "conflicting attribution")
case("evidence-other-start",
     {"emissions.csv": cc_rows({}) + CC_ROW.format(**dict(GOOD, energy="1.3e-05", emissions="7e-07", duration="2.5")).replace("2026-11-28T18:22:22", "2026-11-29T09:00:00") + "\n",
      "policy.yaml": POLICY_OK}, check("emissions.csv"), "start")
case("names-zero-width-space",
     {"emissions.csv": cc().replace("text-gen", "text-gen\u200b"), "policy.yaml": POLICY_OK},
     check("emissions.csv"), "U+200B")
case("names-bidi-override",
     {"runs.ndjson": '{"run_id": "r1", "model": "text-\u202egen", "co2e_kg": 1}\n', "policy.yaml": POLICY_OK},
     check("runs.ndjson"), "U+202E")
case("names-cli-model-control",
     {"runs.ndjson": '{"run_id": "r1", "model": "m", "co2e_kg": 1}\n', "policy.yaml": POLICY_OK},
     ["check", "--policy", "{case}/policy.yaml", "--model", "m\u0007", "--format", "json",
      "{case}/runs.ndjson"], "model name cannot be used")
case("no-runs-header-only", {"emissions.csv": CC_HEADER + "\n", "policy.yaml": POLICY_OK},
     check("emissions.csv"), "no runs found")
case("no-runs-cr-only-line-ends", {"emissions.csv": cc().replace("\n", "\r"), "policy.yaml": POLICY_OK},
     check("emissions.csv"), "carriage return alone")
case("policy-model-zero-width",
     {"runs.ndjson": '{"run_id": "r1", "model": "m", "co2e_kg": 1}\n',
      "policy.yaml": 'version: 1\nbudgets:\n  - model: "m\u200b"\n    limits: { co2e: { fail: "1 kg" } }\n'},
     check("runs.ndjson"), "policy.yaml")
case("policy-conflicting-evidence-unknown",
     {"runs.ndjson": '{"run_id": "r1", "model": "m", "co2e_kg": 1}\n',
      "policy.yaml": POLICY_OK + "conflicting-evidence: smaller\n"},
     check("runs.ndjson"), "policy.yaml")
case("policy-changed-baseline-unknown",
     {"runs.ndjson": '{"run_id": "r1", "model": "m", "co2e_kg": 1}\n',
      "policy.yaml": POLICY_OK + "changed-baseline: ignore\n"},
     check("runs.ndjson"), "policy.yaml")
case("policy-evidence-metrics",
     {"runs.ndjson": '{"run_id": "r1", "model": "m", "co2e_kg": 1}\n',
      "policy.yaml": POLICY_OK + "evidence: metrics\n"},
     check("runs.ndjson"), "policy.yaml")
case("cli-promote-max-artifact-zero", {"policy.yaml": POLICY_OK},
     ["promote", "--tracking-uri", "http://127.0.0.1:9", "--model", "m", "--version", "1",
      "--policy", "{case}/policy.yaml", "--max-artifact-mib", "0"], "--max-artifact-mib")

# --- Command line -------------------------------------------------------------------------------
case("cli-version-garbage", {"policy.yaml": POLICY_OK, "runs.ndjson": '{"run_id": "r1", "co2e_kg": 1}\n'},
     ["check", "--policy", "{case}/policy.yaml", "--model-version", "v1.banana", "--format", "json",
      "{case}/runs.ndjson"], "v1.banana")
case("cli-missing-log", {"policy.yaml": POLICY_OK},
     ["check", "--policy", "{case}/policy.yaml", "--format", "json", "{case}/missing.csv"], "missing.csv")
case("cli-estimate-unit-typo", {}, ["estimate", "--power", "300 Wattz", "--hours", "1", "--country", "FR"], "300 Wattz")

# --- schedule (issue #18, items 9-10): a file at --cache that is not a forecast cache is refused,
# not overwritten; it is read before any API is asked (the address below is never contacted).
SCHEDULE_API = ["schedule", "--source", "carbon-aware-sdk", "--api-url", "http://127.0.0.1:9",
                "--location", "westeurope", "--energy", "1 kWh", "--duration", "1 h",
                "--cache", "{case}/cache.json"]
for name, text in [
    ("schedule-cache-not-json", "#!/bin/sh\necho this is a script, not a cache\n"),
    ("schedule-cache-other-json", '{"name": "carbon-gate", "version": "1.0.0"}\n'),
    ("schedule-cache-entries-not-a-list", '{"entries": {"key": "x"}}\n'),
]:
    case(name, {"cache.json": text}, SCHEDULE_API,
         "cache.json: it is not a carbon-gate forecast cache")
case("schedule-cache-minutes-out-of-range", {}, SCHEDULE_API + ["--cache-minutes", "9223372036854775807"],
     "--cache-minutes 9223372036854775807 is out of range")
case("schedule-now-past-9999", {},
     ["schedule", "--location", "FR", "--energy", "1 kWh", "--duration", "2 h",
      "--now", "9999-12-31T23:00:00Z"], "past the year 9999")
case("schedule-energy-implausible", {},
     ["schedule", "--location", "FR", "--energy", "1e300 kWh", "--duration", "2 h"],
     "is not plausible")


# --- Model card export (issue #18, item 12) -----------------------------------------------------
RUN_TEXT_GEN = '{"run_id": "r1", "model": "text-gen", "co2e_kg": 1}\n'
CARD_ARGS = ["report", "--format", "hf-card", "--card", "{case}/README.md", "--policy", "{case}/policy.yaml",
             "--model", "text-gen", "{case}/runs.ndjson"]
for name, card, expect in [
    ("card-anchor-in-block", "---\nco2_eq_emissions: &co2\n  emissions: 5\nother: *co2\n---\n",
     "README.md:2: co2_eq_emissions holds a YAML anchor"),
    ("card-duplicate-block", "---\nco2_eq_emissions: 1\nlicense: mit\nco2_eq_emissions: 2\n---\n",
     "README.md:4: co2_eq_emissions is given twice"),
    ("card-unclosed-front-matter", "---\nlicense: mit\n\n# Card\n",
     "README.md:1: the front matter that opens here is never closed"),
    ("card-invalid-yaml", "---\nlicense: [mit\n---\n", "README.md:3: the front matter is not valid YAML"),
    ("card-complex-key", "---\n? co2_eq_emissions\n: 1\n---\n", "README.md:2: co2_eq_emissions is written in a form"),
    ("card-flow-front-matter", "---\n{license: mit}\n---\n", "README.md:3: the front matter would not stay valid YAML"),
    ("card-bom-anchor", "\ufeff---\r\nco2_eq_emissions: &c 1\r\nx: *c\r\n---\r\n",
     "README.md:2: co2_eq_emissions holds a YAML anchor"),
]:
    case(name, {"README.md": card, "runs.ndjson": RUN_TEXT_GEN, "policy.yaml": POLICY_OK}, CARD_ARGS, expect)

# --- Estimates (issue #18, item 13) -------------------------------------------------------------
EST = ["estimate", "--format", "record", "--accelerator", "A100-SXM4-80GB", "--country", "FR"]
for name, args, expect in [
    ("estimate-utilization-negative", ["--count", "8", "--hours", "10", "--utilization=-1"], "--utilization -1 is out of range"),
    ("estimate-utilization-nan", ["--count", "8", "--hours", "10", "--utilization", "NaN"], "--utilization NaN is out of range"),
    ("estimate-utilization-inf", ["--count", "8", "--hours", "10", "--utilization", "inf"], "--utilization inf is out of range"),
    ("estimate-utilization-above-one", ["--count", "8", "--hours", "10", "--utilization", "2"], "--utilization 2 is out of range"),
    ("estimate-pue-huge", ["--count", "8", "--hours", "10", "--pue", "1e300"], "--pue 1e300 is out of range"),
    ("estimate-count-huge", ["--count", "1e12", "--hours", "10"], "--count 1e12 is out of range"),
    ("estimate-hours-over-a-century", ["--count", "1", "--hours", "1082990"], "--hours 1082990 is out of range"),
    ("estimate-device-hours-nan", ["--device-hours", "NaN"], "--device-hours NaN is out of range"),
    ("estimate-implausible-energy", ["--count", "1e7", "--hours", "800000"], "`ingest` would refuse this estimate"),
]:
    case(name, {}, EST + args, expect)

# --- Echoed text (issue #18, item 14) -----------------------------------------------------------
case("text-run-id-bidi-override", {}, EST + ["--count", "8", "--hours", "10", "--run-id", "r1\u202egpj.exe"],
     "holds control or invisible characters")
case("text-run-id-zero-width", {}, EST + ["--count", "8", "--hours", "10", "--run-id", "r\u200b1"],
     "holds control or invisible characters")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for name, (files, args, expect) in sorted(cases.items()):
        d = os.path.join(OUT, name)
        os.makedirs(d)
        for fname, content in files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            kw = {} if isinstance(content, bytes) else {"encoding": "utf-8", "newline": ""}
            os.makedirs(os.path.dirname(os.path.join(d, fname)), exist_ok=True)
            with open(os.path.join(d, fname), mode, **kw) as f:
                f.write(content)
        with open(os.path.join(d, "args"), "w", encoding="utf-8") as f:
            f.write("\n".join(args) + "\n")
        with open(os.path.join(d, "expect"), "w", encoding="utf-8") as f:
            f.write(expect + "\n")
    print(f"{len(cases)} cases in {OUT}")


if __name__ == "__main__":
    main()
