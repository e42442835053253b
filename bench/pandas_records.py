#!/usr/bin/env python3
"""What a team would write instead of carbon-gate, with pandas, for carbon-gate NDJSON records: the
same check as `carbon-gate check --policy bench/policy.yaml --format markdown runs.ndjson`, for
bench/compare.sh.

Reads NDJSON records (`pd.read_json(lines=True)`), keeps one record per `run_id` (the one with the
most energy), totals energy and CO2e per model and version, compares them with the limits of
bench/policy.yaml, prints a Markdown table and exits 1 when a fail limit is exceeded.
"""
import sys

import pandas as pd

# bench/policy.yaml
CO2E_WARN_KG = 500_000.0
CO2E_FAIL_KG = 1_000_000.0
ENERGY_FAIL_KWH = 1_000_000.0


def main(path):
    df = pd.read_json(path, lines=True)
    best = df.loc[df.groupby("run_id")["energy_kwh"].idxmax()]
    totals = best.groupby(["model", "version"]).agg(
        runs=("run_id", "size"), energy=("energy_kwh", "sum"), co2e=("co2e_kg", "sum")
    )
    failed = False
    print("| Model | Version | Runs | Energy (kWh) | CO2e (kg) | Verdict |")
    print("|---|---|--:|--:|--:|---|")
    for (model, version), row in totals.iterrows():
        if row.co2e > CO2E_FAIL_KG or row.energy > ENERGY_FAIL_KWH:
            verdict, failed = "fail", True
        elif row.co2e > CO2E_WARN_KG:
            verdict = "warn"
        else:
            verdict = "pass"
        print(f"| {model} | {version} | {row.runs} | {row.energy:.4g} | {row.co2e:.4g} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
