#!/usr/bin/env python3
"""Generate a deterministic eco2AI 0.3.x emission.csv (13 columns) for benchmarks.

usage: gen_eco2ai.py ROWS OUT.csv [--seed N] [--models M [--zipf S]]

Written as eco2AI 0.3.12 writes it (tests/fixtures/eco2ai/v0.3.12, pandas `to_csv(index=False)`):
the same header, a uuid4 `id` per tracker, `epoch` empty on the file's first row and `N/A` after
it (plain `start()`/`stop()` runs), `start_time` as `%Y-%m-%d %H:%M:%S`, figures as Python float
reprs (kWh with the PUE applied, kg, seconds), the CPU as `"<name>/<n> device(s), TDP:<w>"`
(quoted: it holds a comma), `" 0 device(s)"` for no GPU, `region/country` as an ISO code, `cost`
0. One row per run (every `id` distinct); runs belong to the four default projects or, with
`--models M`, to M projects (`model-000`…), uniformly or Zipf-skewed (`--zipf S`: project k
drawn with weight 1/(k+1)^S). Same arguments: byte-identical output.
"""
import argparse
import bisect
import csv
import random
import time

HEADER = [
    "id", "project_name", "experiment_description", "epoch", "start_time", "duration(s)",
    "power_consumption(kWh)", "CO2_emissions(kg)", "CPU_name", "GPU_name", "OS", "region/country",
    "cost",
]
PROJECTS = ["text-gen", "summarizer", "classifier", "embedder"]
DESCRIPTIONS = ["finetune", "eval", "sweep", "pretrain"]
# (ISO code, kg CO2e per kWh): a few grids so emissions are not a constant multiple of energy
GRIDS = [("FR", 0.056), ("DE", 0.381), ("SE", 0.041)]
CPUS = ["AMD EPYC/1 device(s), TDP:280.0", "Intel(R) Xeon(R) Gold 6248/2 device(s), TDP:150.0"]
GPUS = [" 0 device(s)", "NVIDIA A100-SXM4-40GB/1 device(s), TDP:400.0"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20260102)
    ap.add_argument("--models", type=int, default=0, help="number of projects (default: 4 named ones)")
    ap.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent of the project draw (0: uniform)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    projects = PROJECTS if args.models <= 0 else ["model-%03d" % k for k in range(args.models)]
    cumulative = None
    if args.zipf > 0:
        weights = [1.0 / (k + 1) ** args.zipf for k in range(len(projects))]
        total, acc, cumulative = sum(weights), 0.0, []
        for wgt in weights:
            acc += wgt / total
            cumulative.append(acc)
    t0 = 1_767_225_600  # 2026-01-01T00:00:00Z
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for n in range(args.rows):
            run_id = "%08x-%04x-4%03x-%04x-%012x" % (
                rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                0x8000 | rng.getrandbits(14), rng.getrandbits(48),
            )
            if cumulative is None:
                k = rng.randrange(len(projects))
            else:
                k = min(bisect.bisect_left(cumulative, rng.random()), len(projects) - 1)
            iso, intensity = GRIDS[rng.randrange(len(GRIDS))]
            gpu = rng.randrange(len(GPUS))
            seconds = rng.uniform(60.0, 36_000.0)
            watts = rng.uniform(20, 120) + (400.0 if gpu else 0.0) + 20.0
            energy = watts * seconds / 3.6e6
            w.writerow([
                run_id,
                projects[k],
                "%s %s" % (projects[k], DESCRIPTIONS[n % len(DESCRIPTIONS)]),
                "" if n == 0 else "N/A",
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + n * 7)),
                repr(seconds),
                repr(energy),
                repr(energy * intensity),
                CPUS[rng.randrange(len(CPUS))],
                GPUS[gpu],
                "Linux",
                iso,
                0,
            ])


if __name__ == "__main__":
    main()
