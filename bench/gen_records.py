#!/usr/bin/env python3
"""Generate deterministic carbon-gate records as NDJSON (one JSON record per line) for benchmarks.

usage: gen_records.py ROWS OUT.ndjson [--seed N] [--models M [--zipf S]] [--versions V]

Each line is one measured whole run, in the fields of `carbon-gate schema record`
(docs/record.schema.json): a distinct `run_id` (a uuid drawn from a seeded RNG), `model` (the
four default projects or, with `--models M`, `model-000`…, uniformly or Zipf-skewed with
`--zipf S`), `version` (one of V semver versions, default 3), `phase`, `timestamp`,
`duration_s`, `energy_kwh`, `co2e_kg`, `place`, `hardware` and `method: measured`, as a tool
exporting its runs would write them (`json.dumps`, keys in schema order). Same arguments:
byte-identical output.
"""
import argparse
import bisect
import json
import random
import time

PROJECTS = ["text-gen", "summarizer", "classifier", "embedder"]
PHASES = ["training", "fine-tuning", "inference", "evaluation"]
GRIDS = [("FR", 0.056), ("DE", 0.381), ("SE", 0.041)]
HARDWARE = [
    {"cpu": "AMD EPYC 7B13", "gpu": None, "gpu_count": None},
    {"cpu": "AMD EPYC 7B13", "gpu": "NVIDIA A100-SXM4-40GB", "gpu_count": 1.0},
    {"cpu": "Intel(R) Xeon(R) Gold 6248", "gpu": "NVIDIA H100 80GB HBM3", "gpu_count": 8.0},
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20260103)
    ap.add_argument("--models", type=int, default=0, help="number of models (default: 4 named ones)")
    ap.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent of the model draw (0: uniform)")
    ap.add_argument("--versions", type=int, default=3, help="versions per model (1.0.0, 1.1.0, …)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    models = PROJECTS if args.models <= 0 else ["model-%03d" % k for k in range(args.models)]
    versions = ["1.%d.0" % v for v in range(max(args.versions, 1))]
    cumulative = None
    if args.zipf > 0:
        weights = [1.0 / (k + 1) ** args.zipf for k in range(len(models))]
        total, acc, cumulative = sum(weights), 0.0, []
        for wgt in weights:
            acc += wgt / total
            cumulative.append(acc)
    t0 = 1_767_225_600  # 2026-01-01T00:00:00Z
    with open(args.out, "w") as f:
        for n in range(args.rows):
            run_id = "%08x-%04x-4%03x-%04x-%012x" % (
                rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                0x8000 | rng.getrandbits(14), rng.getrandbits(48),
            )
            if cumulative is None:
                k = rng.randrange(len(models))
            else:
                k = min(bisect.bisect_left(cumulative, rng.random()), len(models) - 1)
            iso, intensity = GRIDS[rng.randrange(len(GRIDS))]
            hardware = HARDWARE[rng.randrange(len(HARDWARE))]
            seconds = rng.uniform(60.0, 36_000.0)
            watts = rng.uniform(20, 120) + 20.0 + 400.0 * (hardware["gpu_count"] or 0.0)
            energy = watts * seconds / 3.6e6
            record = {
                "run_id": run_id,
                "model": models[k],
                "version": versions[rng.randrange(len(versions))],
                "phase": PHASES[n % len(PHASES)],
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + n * 7)),
                "duration_s": seconds,
                "energy_kwh": energy,
                "co2e_kg": energy * intensity,
                "place": {"country_iso": iso},
                "hardware": hardware,
                "method": "measured",
            }
            f.write(json.dumps(record, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
