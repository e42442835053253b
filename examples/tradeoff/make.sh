#!/usr/bin/env bash
# Regenerate the estimate records of this example with carbon-gate itself (no tracker ran these
# hypothetical fine-tuning jobs: they are estimates from hardware × hours × region).
set -euo pipefail
cd "$(dirname "$0")"
cg() { cargo run --quiet --release -- "$@"; }
cg estimate --format record --run-id text-gen-2.0.0 --model text-gen --model-version 2.0.0 \
   --accelerator A100-SXM4-80GB --count 8 --hours 72 --region aws:eu-west-3 > baseline.ndjson
cg estimate --format record --run-id text-gen-2.1.0 --model text-gen --model-version 2.1.0 \
   --accelerator A100-SXM4-80GB --count 8 --hours 80 --region aws:eu-west-3 > candidate.ndjson
cg estimate --format record --run-id text-gen-distilled-1.0.0 --model text-gen-distilled \
   --model-version 1.0.0 --accelerator A100-SXM4-80GB --count 8 --hours 20 --region aws:eu-west-3 \
   > distilled.ndjson
