#!/usr/bin/env python3
"""What a team would write instead of carbon-gate, with pandas, for eco2AI logs: the same check as
`carbon-gate check --policy bench/policy.yaml --format markdown emission.csv`, for bench/compare.sh.

Reads an eco2AI emission.csv (0.3.x: one row per tracker `id` for plain runs), keeps one row per
run `id` (the last one written), totals energy and CO2e per project, compares them with the limits
of bench/policy.yaml, prints a Markdown table and exits 1 when a fail limit is exceeded.
"""
import sys

import pandas as pd

from budget_table import print_table


def main(path):
    df = pd.read_csv(path)
    runs = df.drop_duplicates(subset="id", keep="last")
    totals = runs.groupby("project_name").agg(
        runs=("id", "size"),
        energy=("power_consumption(kWh)", "sum"),
        co2e=("CO2_emissions(kg)", "sum"),
    )
    return print_table(
        ["Model"],
        (((p,), row.runs, row.energy, row.co2e) for p, row in totals.iterrows()),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
