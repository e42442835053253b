#!/usr/bin/env bash
# Start (or stop) the MLflow tracking server the registry tests run against.
#
#   source .ci/mlflow.sh start   installs MLflow (pinned) into a venv outside the repository,
#                                starts `mlflow server` on 127.0.0.1 with a SQLite backend and a
#                                local artifact store, waits for /health, and exports
#                                CARBON_GATE_MLFLOW_URI and CARBON_GATE_MLFLOW_PID
#   source .ci/mlflow.sh stop    stops it by its process id
#
# MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false and --workers 1 keep it small (otherwise it spawns
# eight job workers and takes ~2 GB). Artifacts are proxied (--artifacts-destination), so runs get
# `mlflow-artifacts:` URIs and the tests upload emissions logs through the server like a client.
MLFLOW_VERSION=3.17.2

carbon_gate_mlflow_start() {
  local tools venv data port i
  tools=${CARBON_GATE_CI_TOOLS:-${TMPDIR:-/tmp}/carbon-gate-ci-tools}
  venv="$tools/mlflow-venv"
  if [ "$(cat "$venv/.pins" 2> /dev/null)" != "mlflow==$MLFLOW_VERSION" ]; then
    echo "--- installing mlflow==$MLFLOW_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
    echo "mlflow==$MLFLOW_VERSION" > "$venv/.pins"
  fi
  data=$(mktemp -d "${TMPDIR:-/tmp}/carbon-gate-mlflow.XXXXXX")
  port=${CARBON_GATE_MLFLOW_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  echo "--- starting MLflow $MLFLOW_VERSION on 127.0.0.1:$port (data in $data)"
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false "$venv/bin/mlflow" server \
    --host 127.0.0.1 --port "$port" --workers 1 \
    --backend-store-uri "sqlite:///$data/mlflow.db" \
    --artifacts-destination "$data/artifacts" \
    > "$data/server.log" 2>&1 &
  CARBON_GATE_MLFLOW_PID=$!
  CARBON_GATE_MLFLOW_LOG="$data/server.log"
  export CARBON_GATE_MLFLOW_PID CARBON_GATE_MLFLOW_LOG
  for i in $(seq 1 120); do
    if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).read().strip()==b'OK' else 1)" 2> /dev/null; then
      export CARBON_GATE_MLFLOW_URI="http://127.0.0.1:$port"
      echo "--- MLflow is up after ${i}s: $CARBON_GATE_MLFLOW_URI (pid $CARBON_GATE_MLFLOW_PID)"
      return 0
    fi
    if ! kill -0 "$CARBON_GATE_MLFLOW_PID" 2> /dev/null; then
      break
    fi
    sleep 1
  done
  echo "MLflow did not start; its log:" >&2
  cat "$data/server.log" >&2
  return 1
}

carbon_gate_mlflow_stop() {
  if [ -n "${CARBON_GATE_MLFLOW_PID:-}" ]; then
    # The server's workers are its children: stop them with it.
    pkill -TERM -P "$CARBON_GATE_MLFLOW_PID" 2> /dev/null || true
    kill -TERM "$CARBON_GATE_MLFLOW_PID" 2> /dev/null || true
    wait "$CARBON_GATE_MLFLOW_PID" 2> /dev/null || true
    echo "--- MLflow stopped (pid $CARBON_GATE_MLFLOW_PID)"
    unset CARBON_GATE_MLFLOW_PID CARBON_GATE_MLFLOW_URI
  fi
}

case "${1:-}" in
  start) carbon_gate_mlflow_start ;;
  stop) carbon_gate_mlflow_stop ;;
  *)
    echo "usage: source .ci/mlflow.sh start|stop" >&2
    # `return` when sourced, `exit` when run.
    # shellcheck disable=SC2317
    return 2 2> /dev/null || exit 2
    ;;
esac
