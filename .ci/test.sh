#!/usr/bin/env bash
# The test command: starts the MLflow server the registry tests need (see .ci/mlflow.sh) and the
# PostgreSQL server the ledger store tests need (see .ci/postgres.sh), runs `cargo test --locked`
# (extra arguments are passed on), and stops both servers whatever happens.
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
# Each server is stopped on exit, whichever started (one may fail to start after the other did).
stop_servers() {
  local stop
  for stop in carbon_gate_mlflow_stop carbon_gate_postgres_stop; do
    if declare -F "$stop" > /dev/null; then
      "$stop"
    fi
  done
}
trap stop_servers EXIT
# shellcheck source=.ci/mlflow.sh
source .ci/mlflow.sh start
# shellcheck source=.ci/postgres.sh
source .ci/postgres.sh start
cargo test --locked "$@"
