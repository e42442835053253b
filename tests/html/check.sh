#!/usr/bin/env bash
# Opens the disclosure's HTML in headless Chromium (Debian's package) and checks that it loads
# without errors and prints.
#
#   bash tests/html/check.sh [carbon-gate binary]
#
# For the three evidence cases of tests/disclosure.rs (measured, estimated, unknown energy) it
# writes `carbon-gate report --format html`, then, in Chromium:
#   - loads it with console logging on: no console error, no refused or failed load (the page
#     declares `Content-Security-Policy: default-src 'none'`, so any external resource would be
#     refused and logged — the file must be self-contained);
#   - dumps the DOM: the title, every section A–F and the chart's SVG are there;
#   - prints it to PDF: a PDF comes out.
# Installs chromium with apt when it is missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/carbon-gate}
if ! command -v chromium > /dev/null; then
  echo "--- installing chromium (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/carbon-gate-html.XXXXXX")
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
fail=0
check() {
  local name=$1; shift
  local html="$work/$name.html"
  "$bin" report --today 2026-11-28 --format html --output "$html" "$@" 2> /dev/null
  chromium "${flags[@]}" --dump-dom "file://$html" > "$work/$name.dom" 2> "$work/$name.log" || true
  if grep -E "CONSOLE|Refused to|Failed to load|Uncaught|net::ERR_" "$work/$name.log"; then
    echo "FAIL $name: the page logged errors (above)"; fail=1
  fi
  for want in "<h1>Environmental Impact Disclosure</h1>" "<svg" "A. Identity and provenance" \
      "B. Compute" "C. Energy" "D. Emissions" "E. Intensity and gate decision" \
      "F. Uncertainty, defaults and confidentiality" "Audit trail"; do
    if ! grep -qF "$want" "$work/$name.dom"; then
      echo "FAIL $name: the rendered page has no '$want'"; fail=1
    fi
  done
  chromium "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$work/$name.pdf" "file://$html" \
    2> /dev/null > /dev/null || true
  if [ "$(head -c 4 "$work/$name.pdf" 2> /dev/null)" != "%PDF" ]; then
    echo "FAIL $name: printing to PDF gave no PDF"; fail=1
  else
    echo "ok $name: loads without errors, $(wc -c < "$work/$name.dom") bytes of DOM, prints to a $(wc -c < "$work/$name.pdf")-byte PDF"
  fi
}
check measured --policy policies --model-version 2.1.0 examples/runs/
check estimated --config examples/tradeoff/carbon-gate.yaml --facts examples/tradeoff/facts.yaml
check unknown_energy --policy policies --model-version 1.0.0 tests/fixtures/hf-cards/mapping-grams/README.md
exit $fail
