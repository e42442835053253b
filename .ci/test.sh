#!/usr/bin/env bash
# The test command: starts the MLflow server the registry tests need (see .ci/mlflow.sh), runs
# `cargo test --locked` (extra arguments are passed on), and stops the server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
# tests/install.rs runs scripts/install.sh, which downloads with curl or wget.
if ! command -v curl > /dev/null && ! command -v wget > /dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl > /dev/null
  else
    echo "tests/install.rs needs curl or wget: install one" >&2
    exit 1
  fi
fi
# shellcheck source=.ci/mlflow.sh
source .ci/mlflow.sh start
trap 'carbon_gate_mlflow_stop' EXIT
cargo test --locked "$@"
