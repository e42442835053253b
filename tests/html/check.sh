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
#   - prints it to PDF: a PDF comes out; with pdftotext/pdfinfo (poppler-utils) it counts the
#     pages and checks that page 1 is the one-page summary (the "Summary" heading, no section
#     A-F) and that the body before the appendices (summary + the model's disclosure) is at most
#     5 pages for the bundled example (`estimated`);
#   - takes a PNG screenshot of page 1 at A4 width (--screenshot) and reports its path and size
#     (kept with KEEP=1; the temp dir is removed otherwise).
# Installs chromium and poppler-utils with apt when they are missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/carbon-gate}
missing=()
command -v chromium > /dev/null || missing+=(chromium)
command -v pdftotext > /dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  echo "--- installing ${missing[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/carbon-gate-html.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "--- keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
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
      "F. Uncertainty, defaults and confidentiality" "Summary" "Document id" \
      "Appendix A. Open items for the preparer" "Appendix D. Audit trail"; do
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
    pages "$name"
  fi
  # Page 1 as a picture: an A4 page is 794 × 1123 CSS pixels at 96 dpi.
  chromium "${flags[@]}" --hide-scrollbars --window-size=794,1123 \
    --screenshot="$work/$name-page1.png" "file://$html" 2> /dev/null > /dev/null || true
  if [ "$(head -c 4 "$work/$name-page1.png" 2> /dev/null | tail -c 3)" = "PNG" ]; then
    echo "ok $name: screenshot of page 1: $work/$name-page1.png ($(wc -c < "$work/$name-page1.png") bytes)"
  else
    echo "FAIL $name: no screenshot"; fail=1
  fi
}
# The printed PDF: page count, page 1 is the summary, the body before the appendices is short.
pages() {
  local name=$1 pdf="$work/$1.pdf" n first_appendix
  n=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  local page1
  page1=$(pdftotext -f 1 -l 1 "$pdf" -)
  if ! grep -q "^Summary$" <<< "$page1" || grep -qE "^[A-F]\. " <<< "$page1"; then
    echo "FAIL $name: page 1 is not the summary:"; head -20 <<< "$page1"; fail=1
  fi
  first_appendix=0
  for ((p = 1; p <= n; p++)); do
    if pdftotext -f "$p" -l "$p" "$pdf" - | grep -q "^Appendix A. Open items for the preparer"; then
      first_appendix=$p; break
    fi
  done
  if [ "$first_appendix" = 0 ]; then
    echo "FAIL $name: no page starts Appendix A"; fail=1; return
  fi
  local body=$((first_appendix - 1))
  echo "ok $name: $n printed pages; page 1 is the summary; summary and disclosure take $body page(s), the appendices start on page $first_appendix"
  if [ "$name" = estimated ] && [ "$body" -gt 5 ]; then
    echo "FAIL $name: the body before the appendices is $body pages (at most 5)"; fail=1
  fi
}
check measured --policy policies --model-version 2.1.0 examples/runs/
check estimated --config examples/tradeoff/carbon-gate.yaml --facts examples/tradeoff/facts.yaml
check unknown_energy --policy policies --model-version 1.0.0 tests/fixtures/hf-cards/mapping-grams/README.md
exit $fail
