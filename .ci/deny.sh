#!/usr/bin/env bash
# Licenses, bans and sources of every dependency (deny.toml), with a pinned cargo-deny installed
# from crates.io into ${CARBON_GATE_CI_TOOLS:-/tmp/carbon-gate-ci-tools}/cargo (a few minutes the
# first time). Advisories are not checked: the RustSec database is fetched from GitHub, which
# this project's machines cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DENY_VERSION=0.18.9
tools=${CARBON_GATE_CI_TOOLS:-${TMPDIR:-/tmp}/carbon-gate-ci-tools}
bin="$tools/cargo/bin/cargo-deny"
if ! "$bin" --version 2> /dev/null | grep -q "$CARGO_DENY_VERSION"; then
  echo "--- installing cargo-deny $CARGO_DENY_VERSION into $tools/cargo"
  cargo install cargo-deny --locked --quiet --version "$CARGO_DENY_VERSION" --root "$tools/cargo"
fi
"$bin" deny --log-level error check licenses bans sources
