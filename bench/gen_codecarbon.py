#!/usr/bin/env python3
"""Generate a deterministic CodeCarbon 3.3.x emissions.csv (38 columns) for benchmarks.

usage: gen_codecarbon.py ROWS OUT.csv [--seed N] [--snapshots K] [--models M [--zipf S]]
                         [--template tests/fixtures/codecarbon/v3.3.2/emissions.csv]

The header and the constant columns are copied from a real CodeCarbon 3.3.2 row. Each run gets
a distinct run_id (a UUID drawn from a seeded RNG) and writes 1 to 3 rows: `flush()` snapshots
(cumulative: later rows have more energy) and the final row, as CodeCarbon does, so a reader
must keep one row per run_id (the one with the most energy). Runs belong to a few projects.
`--snapshots K` makes every run write exactly K rows instead (few runs, many snapshots: the shape
of a long job that flushes often; `--snapshots 1`: one row per run). `--models M` spreads the runs
over M projects (`model-000`…) instead of the four default ones, uniformly or, with `--zipf S`,
Zipf-skewed (project k drawn with weight 1/(k+1)^S: a few busy models and a long tail, as in a
monorepo). Same arguments: byte-identical output.
"""
import argparse
import bisect
import csv
import os
import random
import sys
import time

PROJECTS = ["text-gen", "summarizer", "classifier", "embedder"]
# (country, iso, kg CO2e per kWh): a few grids so emissions are not a constant multiple of energy
GRIDS = [("France", "FRA", 0.056), ("Germany", "DEU", 0.381), ("Sweden", "SWE", 0.041)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--snapshots", type=int, default=0, help="rows per run (default: 1 to 3)")
    ap.add_argument("--models", type=int, default=0, help="number of projects (default: 4 named ones)")
    ap.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent of the project draw (0: uniform)")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument(
        "--template",
        default=os.path.join(here, "..", "tests", "fixtures", "codecarbon", "v3.3.2", "emissions.csv"),
    )
    args = ap.parse_args()
    with open(args.template, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        template = next(reader)
    if len(header) != 38:
        sys.exit(f"template header has {len(header)} columns, expected 38 (CodeCarbon 3.2.1-3.3.2)")
    col = {name: i for i, name in enumerate(header)}
    rng = random.Random(args.seed)
    projects = PROJECTS if args.models <= 0 else ["model-%03d" % k for k in range(args.models)]
    cumulative = None
    if args.zipf > 0:
        weights = [1.0 / (k + 1) ** args.zipf for k in range(len(projects))]
        total, acc, cumulative = sum(weights), 0.0, []
        for wgt in weights:
            acc += wgt / total
            cumulative.append(acc)
    written = 0
    t0 = 1_767_225_600  # 2026-01-01T00:00:00Z
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        while written < args.rows:
            run_id = "%08x-%04x-4%03x-%04x-%012x" % (
                rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                0x8000 | rng.getrandbits(14), rng.getrandbits(48),
            )
            if cumulative is None:
                project = projects[rng.randrange(len(projects))]
            else:
                project = projects[min(bisect.bisect_left(cumulative, rng.random()), len(projects) - 1)]
            country, iso, intensity = GRIDS[rng.randrange(len(GRIDS))]
            snapshots = args.snapshots or rng.randint(1, 3)
            snapshots = min(snapshots, args.rows - written)
            final_s = rng.uniform(60.0, 36_000.0)
            start = t0 + written * 7
            cpu_w, gpu_w, ram_w = rng.uniform(20, 120), rng.choice([0.0, 250.0, 400.0]), 20.0
            for k in range(1, snapshots + 1):
                dur = final_s * k / snapshots
                cpu_e, gpu_e, ram_e = (p * dur / 3.6e6 for p in (cpu_w, gpu_w, ram_w))
                energy = cpu_e + gpu_e + ram_e
                row = list(template)
                # Written when the snapshot was: the run's start plus its duration, as CodeCarbon
                # does (so the rows of a run agree on when it started).
                t = start + int(dur)
                row[col["timestamp"]] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
                row[col["project_name"]] = project
                row[col["run_id"]] = run_id
                row[col["duration"]] = repr(dur)
                row[col["emissions"]] = repr(energy * intensity)
                row[col["emissions_rate"]] = repr(energy * intensity / dur)
                row[col["cpu_power"]] = repr(cpu_w)
                row[col["gpu_power"]] = repr(gpu_w)
                row[col["ram_power"]] = repr(ram_w)
                row[col["cpu_energy"]] = repr(cpu_e)
                row[col["gpu_energy"]] = repr(gpu_e)
                row[col["ram_energy"]] = repr(ram_e)
                row[col["energy_consumed"]] = repr(energy)
                row[col["country_name"]] = country
                row[col["country_iso_code"]] = iso
                row[col["gpu_count"]] = "1" if gpu_w else "0"
                w.writerow(row)
                written += 1


if __name__ == "__main__":
    main()
