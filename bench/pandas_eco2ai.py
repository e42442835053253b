#!/usr/bin/env python3
"""What a team would write instead of carbon-gate, with pandas, for eco2AI logs: the same check as
`carbon-gate check --policy bench/policy.yaml --format markdown emission.csv`, for bench/compare.sh.

Reads an eco2AI emission.csv (0.3.x: one row per tracker `id` for plain runs), keeps one row per
run `id` (the last one written), totals energy and CO2e per project, compares them with the limits
of bench/policy.yaml, prints a Markdown table and exits 1 when a fail limit is exceeded.
"""
import sys

import pandas as pd

# bench/policy.yaml
CO2E_WARN_KG = 500_000.0
CO2E_FAIL_KG = 1_000_000.0
ENERGY_FAIL_KWH = 1_000_000.0


def main(path):
    df = pd.read_csv(path)
    runs = df.drop_duplicates(subset="id", keep="last")
    totals = runs.groupby("project_name").agg(
        runs=("id", "size"),
        energy=("power_consumption(kWh)", "sum"),
        co2e=("CO2_emissions(kg)", "sum"),
    )
    failed = False
    print("| Model | Runs | Energy (kWh) | CO2e (kg) | Verdict |")
    print("|---|--:|--:|--:|---|")
    for project, row in totals.iterrows():
        if row.co2e > CO2E_FAIL_KG or row.energy > ENERGY_FAIL_KWH:
            verdict, failed = "fail", True
        elif row.co2e > CO2E_WARN_KG:
            verdict = "warn"
        else:
            verdict = "pass"
        print(f"| {project} | {row.runs} | {row.energy:.4g} | {row.co2e:.4g} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
