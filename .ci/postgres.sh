#!/usr/bin/env bash
# Start (or stop) the throwaway PostgreSQL server the ledger store tests run against.
#
#   source .ci/postgres.sh start   finds initdb and pg_ctl (PATH, else /usr/lib/postgresql/*/bin;
#                                  as root with apt-get, installs Debian's `postgresql` when
#                                  neither has them), creates a cluster in a fresh temporary
#                                  directory (trust authentication, superuser carbon_gate, UTF8),
#                                  starts it on a free port of 127.0.0.1 (its socket in that
#                                  directory too), creates the database carbon_gate_test, and
#                                  exports CARBON_GATE_TEST_POSTGRES (the URL),
#                                  CARBON_GATE_POSTGRES_PID (the postmaster's process id) and
#                                  CARBON_GATE_POSTGRES_DATA (the directory); with the openssl
#                                  CLI (installed as root with apt-get when missing), the server
#                                  also speaks TLS (ssl=on, a throwaway CA and a certificate for
#                                  localhost and 127.0.0.1 made in that directory; plain
#                                  connections still accepted) and CARBON_GATE_TEST_POSTGRES_CA
#                                  is exported (the CA's PEM file); without openssl, no TLS and
#                                  no CARBON_GATE_TEST_POSTGRES_CA
#   source .ci/postgres.sh stop    stops it by its process id and removes the directory
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the system user
# carbon_gate_pg (created when missing) and initdb and pg_ctl run as that user.

carbon_gate_postgres_bin() {
  local dir
  if command -v initdb > /dev/null && command -v pg_ctl > /dev/null; then
    # Debian links them from /usr/lib/postgresql/N/bin, where psql is too.
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# A throwaway CA and a server certificate signed by it (localhost and 127.0.0.1), in $1/tls, the
# key 0600 and owned by user $2 (when set). Fails (and makes nothing) without the openssl CLI.
carbon_gate_postgres_certs() {
  local dir=$1/tls owner=${2:-} ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  if ! command -v openssl > /dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
    echo "--- installing openssl (for the server's TLS certificate)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl > /dev/null || true
  fi
  if ! command -v openssl > /dev/null; then
    echo "--- openssl not found: PostgreSQL runs without TLS (CARBON_GATE_TEST_POSTGRES_CA not set)" >&2
    return 1
  fi
  mkdir -p "$dir"
  printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' > "$dir/server.ext"
  if ! { openssl req -x509 "${ec[@]}" -days 3 -subj "/CN=carbon-gate test CA" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$dir/ca.key" -out "$dir/ca.crt" &&
    openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAcreateserial -days 3 -extfile "$dir/server.ext" -out "$dir/server.crt"; } > "$dir/openssl.log" 2>&1; then
    echo "openssl could not make the test certificates: PostgreSQL runs without TLS; its log:" >&2
    cat "$dir/openssl.log" >&2
    rm -rf "$dir"
    return 1
  fi
  # PostgreSQL refuses a key others can read, or one it does not own.
  chmod 600 "$dir/server.key" "$dir/ca.key"
  if [ -n "$owner" ]; then
    chown -R "$owner" "$dir"
  fi
}

carbon_gate_postgres_start() {
  local bin data port i run_as pidfile psql owner tls
  if ! bin=$(carbon_gate_postgres_bin); then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
      echo "--- installing PostgreSQL (Debian package postgresql)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql > /dev/null
    fi
    if ! bin=$(carbon_gate_postgres_bin); then
      echo "PostgreSQL's initdb and pg_ctl were not found: install PostgreSQL (the server)" >&2
      return 1
    fi
  fi
  data=$(mktemp -d "${TMPDIR:-/tmp}/carbon-gate-postgres.XXXXXX")
  run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id -u carbon_gate_pg > /dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin carbon_gate_pg
    fi
    chown carbon_gate_pg "$data"
    # The directory is in TMPDIR, which the user must be able to reach.
    run_as=(runuser -u carbon_gate_pg --)
  fi
  chmod 700 "$data"
  owner=
  if [ "$(id -u)" -eq 0 ]; then
    owner=carbon_gate_pg
  fi
  tls=
  unset CARBON_GATE_TEST_POSTGRES_CA
  if carbon_gate_postgres_certs "$data" "$owner"; then
    tls=" -c ssl=on -c ssl_cert_file=$data/tls/server.crt -c ssl_key_file=$data/tls/server.key"
  fi
  port=${CARBON_GATE_POSTGRES_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  echo "--- starting PostgreSQL ($("$bin/pg_ctl" --version)) on 127.0.0.1:$port (data in $data)"
  if ! "${run_as[@]}" "$bin/initdb" --pgdata="$data/cluster" --auth=trust --username=carbon_gate \
    --encoding=UTF8 --locale=C --no-sync > "$data/initdb.log" 2>&1; then
    echo "initdb failed; its log:" >&2
    cat "$data/initdb.log" >&2
    return 1
  fi
  # fsync off: a test cluster need not survive a power cut, and the tests commit a lot.
  if ! "${run_as[@]}" "$bin/pg_ctl" --pgdata="$data/cluster" --log="$data/server.log" \
    --options="-h 127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200$tls" \
    --wait --timeout=60 start > /dev/null; then
    echo "PostgreSQL did not start; its log:" >&2
    cat "$data/server.log" >&2
    return 1
  fi
  psql="$bin/psql"
  if [ ! -x "$psql" ]; then
    psql=$(command -v psql || echo psql)
  fi
  pidfile="$data/cluster/postmaster.pid"
  CARBON_GATE_POSTGRES_PID=$(head -n 1 "$pidfile")
  CARBON_GATE_POSTGRES_DATA=$data
  export CARBON_GATE_POSTGRES_PID CARBON_GATE_POSTGRES_DATA
  for i in $(seq 1 60); do
    if "$psql" -h 127.0.0.1 -p "$port" -U carbon_gate -d postgres -qAt \
      -c "CREATE DATABASE carbon_gate_test" > "$data/psql.log" 2>&1; then
      export CARBON_GATE_TEST_POSTGRES="postgres://carbon_gate@127.0.0.1:$port/carbon_gate_test"
      echo "--- PostgreSQL is up after ${i}s: $CARBON_GATE_TEST_POSTGRES (pid $CARBON_GATE_POSTGRES_PID)"
      if [ -n "$tls" ]; then
        export CARBON_GATE_TEST_POSTGRES_CA="$data/tls/ca.crt"
        echo "--- TLS on too (sslmode=require), its CA in $CARBON_GATE_TEST_POSTGRES_CA"
      fi
      return 0
    fi
    sleep 1
  done
  echo "PostgreSQL did not accept connections (psql: $(cat "$data/psql.log")); its log:" >&2
  cat "$data/server.log" >&2
  carbon_gate_postgres_stop
  return 1
}

carbon_gate_postgres_stop() {
  local i
  if [ -n "${CARBON_GATE_POSTGRES_PID:-}" ]; then
    # SIGINT: PostgreSQL's fast shutdown (active sessions are ended, then it exits).
    kill -INT "$CARBON_GATE_POSTGRES_PID" 2> /dev/null || true
    # Not our child when pg_ctl started it: wait until it has gone.
    for i in $(seq 1 60); do
      kill -0 "$CARBON_GATE_POSTGRES_PID" 2> /dev/null || break
      sleep 0.5
    done
    if kill -0 "$CARBON_GATE_POSTGRES_PID" 2> /dev/null; then
      echo "PostgreSQL (pid $CARBON_GATE_POSTGRES_PID) still runs after 30 s: killing it" >&2
      kill -KILL "$CARBON_GATE_POSTGRES_PID" 2> /dev/null || true
    fi
    echo "--- PostgreSQL stopped (pid $CARBON_GATE_POSTGRES_PID)"
    unset CARBON_GATE_POSTGRES_PID CARBON_GATE_TEST_POSTGRES CARBON_GATE_TEST_POSTGRES_CA
  fi
  if [ -n "${CARBON_GATE_POSTGRES_DATA:-}" ]; then
    rm -rf "$CARBON_GATE_POSTGRES_DATA"
    unset CARBON_GATE_POSTGRES_DATA
  fi
}

case "${1:-}" in
  start) carbon_gate_postgres_start ;;
  stop) carbon_gate_postgres_stop ;;
  *)
    echo "usage: source .ci/postgres.sh start|stop" >&2
    # `return` when sourced, `exit` when run.
    # shellcheck disable=SC2317
    return 2 2> /dev/null || exit 2
    ;;
esac
