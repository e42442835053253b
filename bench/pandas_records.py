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

from budget_table import print_table


def main(path):
    df = pd.read_json(path, lines=True)
    best = df.loc[df.groupby("run_id")["energy_kwh"].idxmax()]
    totals = best.groupby(["model", "version"]).agg(
        runs=("run_id", "size"), energy=("energy_kwh", "sum"), co2e=("co2e_kg", "sum")
    )
    return print_table(
        ["Model", "Version"],
        (((m, v), row.runs, row.energy, row.co2e) for (m, v), row in totals.iterrows()),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
