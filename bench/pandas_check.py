#!/usr/bin/env python3
"""What a team would write instead of carbon-gate, with pandas: the same check as
`carbon-gate check --policy bench/policy.yaml --format markdown LOG`, for bench/compare.sh.

Reads a CodeCarbon emissions.csv, keeps one row per run_id (the cumulative snapshot with the most
energy), totals energy and CO2e per project, compares them with the limits of bench/policy.yaml,
prints a Markdown table and exits 1 when a fail limit is exceeded.
"""
import sys

import pandas as pd

from budget_table import print_table


def main(path):
    df = pd.read_csv(path)
    best = df.loc[df.groupby("run_id")["energy_consumed"].idxmax()]
    totals = best.groupby("project_name").agg(
        runs=("run_id", "size"), energy=("energy_consumed", "sum"), co2e=("emissions", "sum")
    )
    return print_table(
        ["Model"],
        (((p,), row.runs, row.energy, row.co2e) for p, row in totals.iterrows()),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
