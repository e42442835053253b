#!/usr/bin/env python3
"""The same check as bench/pandas_check.py with the Python standard library only (csv, math):
one row per run_id (most energy), totals per project (math.fsum, exact like carbon-gate), limits
of bench/policy.yaml, a Markdown table, exit 1 on a fail limit. For bench/compare.sh.
"""
import csv
import math
import sys

from budget_table import print_table


def main(path):
    best = {}  # run_id -> (energy kWh, emissions kg, project)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        i_run = header.index("run_id")
        i_project = header.index("project_name")
        i_energy = header.index("energy_consumed")
        i_co2e = header.index("emissions")
        for row in reader:
            if not row:
                continue
            energy = float(row[i_energy])
            seen = best.get(row[i_run])
            if seen is None or energy >= seen[0]:
                best[row[i_run]] = (energy, float(row[i_co2e]), row[i_project])
    per_project = {}
    for energy, co2e, project in best.values():
        p = per_project.setdefault(project, ([], []))
        p[0].append(energy)
        p[1].append(co2e)
    rows = []
    for project in sorted(per_project):
        energies, co2es = per_project[project]
        rows.append(((project,), len(energies), math.fsum(energies), math.fsum(co2es)))
    return print_table(["Model"], rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
