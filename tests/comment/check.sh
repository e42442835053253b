#!/usr/bin/env bash
# Renders the PR comment as a reviewer sees it and looks at it in headless Chromium (Debian's
# package), as tests/html/check.sh does for the disclosure.
#
#   bash tests/comment/check.sh [carbon-gate binary]
#
# For the bundled trade-off example (a candidate over its baseline's CO2e, a distilled
# alternative) and a failing case, it writes `carbon-gate check --format markdown`, turns it into
# a page close to GitHub's (tests/mermaid/render-comment.mjs: Markdown by `marked`, the chart by
# Mermaid 11), then in Chromium:
#   - the page loads without a console error and Mermaid draws the chart (no "Syntax error");
#   - the chart is a quadrant chart whose axes carry their value ranges and whose points carry
#     the rows' labels (the recommended one marked ★);
#   - the comment opens with the one-line verdict;
#   - a screenshot (PNG) is taken; its path is printed (KEEP=1 keeps the directory).
# Needs `npm ci --prefix tests/mermaid` first; installs chromium with apt when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/carbon-gate}
if ! command -v chromium > /dev/null; then
  echo "--- installing chromium (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/carbon-gate-comment.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --allow-file-access-from-files --virtual-time-budget=15000
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
fail=0
check() {
  local name=$1 want_code=$2; shift 2
  local code=0
  "$bin" check --format markdown "$@" > "$work/$name.md" 2> /dev/null || code=$?
  if [ "$code" != "$want_code" ]; then echo "FAIL $name: exit $code, want $want_code"; fail=1; return; fi
  node tests/mermaid/render-comment.mjs "$work/$name.md" "$work/$name.html"
  chromium "${flags[@]}" --dump-dom "file://$work/$name.html" > "$work/$name.dom" 2> "$work/$name.log" || true
  if grep -E "CONSOLE.*(rror|Uncaught)|Failed to load|net::ERR_" "$work/$name.log"; then
    echo "FAIL $name: the page logged errors (above)"; fail=1
  fi
  if ! grep -q 'data-drawn="yes"' "$work/$name.dom"; then
    echo "FAIL $name: Mermaid did not draw: $(grep -o 'data-drawn="[^"]*"' "$work/$name.dom" || echo 'no result')"; fail=1
  fi
  if grep -q "Syntax error" "$work/$name.dom"; then echo "FAIL $name: Mermaid syntax error"; fail=1; fi
  for want in 'aria-roledescription="quadrantChart"' "kg CO2e" "f1 0." "candidate 2.1.0" "★" \
      "<h2>" "carbon-gate: "; do
    if ! grep -qF "$want" "$work/$name.dom"; then echo "FAIL $name: the page lacks: $want"; fail=1; fi
  done
  chromium "${flags[@]}" --hide-scrollbars --window-size=1000,2600 \
    --screenshot="$work/$name.png" "file://$work/$name.html" > /dev/null 2>&1 || true
  if [ "$(head -c 4 "$work/$name.png" 2> /dev/null | tail -c 3)" = "PNG" ]; then
    echo "ok $name: the chart is drawn; screenshot $work/$name.png ($(wc -c < "$work/$name.png") bytes)"
  else
    echo "FAIL $name: no screenshot"; fail=1
  fi
}
check tradeoff 0 --config examples/tradeoff/carbon-gate.yaml
check over-budget 1 --config tests/fixtures/reports/over-budget/carbon-gate.yaml
exit $fail
