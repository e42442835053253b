#!/usr/bin/env bash
# The test command: starts the MLflow server the registry tests need (see .ci/mlflow.sh), runs
# `cargo test --locked` (extra arguments are passed on), and stops the server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/mlflow.sh
source .ci/mlflow.sh start
trap 'carbon_gate_mlflow_stop' EXIT
cargo test --locked "$@"
