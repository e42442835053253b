#!/usr/bin/env bash
# The install step of action.yml (a composite action): puts the carbon-gate binary that matches the
# action's own ref on PATH, from the runner's tool cache when an earlier job left it there.
#
#   ref vX.Y.Z                 the release vX.Y.Z
#   ref vX or vX.Y             the release the action's Cargo.toml names (the major tag points at
#                              the newest release of that major)
#   input `version`            that release, whatever the ref
#   any other ref (a branch,   no release to install: `cargo install --locked --path` of the
#   a commit SHA)              action's own checkout, said in the log (minutes, not seconds)
#
# Releases are installed with scripts/install.sh (checksum-verified) into
# $RUNNER_TOOL_CACHE/carbon-gate/<version>/<arch> with a `<arch>.complete` marker, the layout of
# @actions/tool-cache. Environment (set by the runner, or by action.yml): GITHUB_ACTION_PATH,
# ACTION_REF, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT,
# GITHUB_ACTION_REPOSITORY, INPUT_VERSION; CARBON_GATE_RELEASES_URL for mirrors and tests.
set -euo pipefail

started=$SECONDS
action=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this as a step of action.yml}
ref=${ACTION_REF:-${GITHUB_ACTION_REF:-}}
wanted=${INPUT_VERSION:-}
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action/Cargo.toml" | head -n 1)

fail() {
  echo "::error title=carbon-gate setup::$*"
  exit 1
}

case ${RUNNER_OS:-} in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fail "unsupported runner OS \`${RUNNER_OS:-}\` (Linux, macOS and Windows are supported)" ;;
esac
case ${RUNNER_ARCH:-} in
  X64) arch=x64 triple_arch=x86_64 ;;
  ARM64) arch=arm64 triple_arch=aarch64 ;;
  *) fail "unsupported runner architecture \`${RUNNER_ARCH:-}\` (X64 and ARM64 are supported)" ;;
esac
case $os in
  linux) target=$triple_arch-unknown-linux-musl exe=carbon-gate ;;
  darwin) target=$triple_arch-apple-darwin exe=carbon-gate ;;
  # Windows on Arm runs the x86_64 build under emulation.
  windows) target=x86_64-pc-windows-msvc exe=carbon-gate.exe ;;
esac

version=
if [[ -n $wanted ]]; then
  version=${wanted#v}
elif [[ $ref =~ ^v([0-9]+)\.[0-9]+\.[0-9]+$ ]]; then
  version=${ref#v}
elif [[ $ref =~ ^v([0-9]+)(\.[0-9]+)?$ ]]; then
  version=$crate_version
  if [[ ${crate_version%%.*} != "${BASH_REMATCH[1]}" ]]; then
    echo "::warning title=carbon-gate setup::the action's ref is $ref but its Cargo.toml says $crate_version; installing $crate_version"
  fi
fi
if [[ -n $version && ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
  fail "\`$version\` is not a release version (X.Y.Z)"
fi

if [[ -n $version ]]; then
  cache=${RUNNER_TOOL_CACHE:?RUNNER_TOOL_CACHE is not set}/carbon-gate/$version
  dir=$cache/$arch
  if [[ -f $cache/$arch.complete && -x $dir/$exe ]]; then
    echo "carbon-gate $version ($target) found in the tool cache: $dir"
  else
    rm -rf "$dir" "$cache/$arch.complete"
    sh "$action/scripts/install.sh" --version "v$version" --to "$dir" --target "$target" > /dev/null
    touch "$cache/$arch.complete"
  fi
else
  echo "::notice title=carbon-gate setup::\`${ref:-(no ref)}\` is not a release tag: building carbon-gate from source (cargo install --locked --path $action); this takes minutes — use a release tag (@v1) to install the prebuilt, checksum-verified binary in seconds"
  command -v cargo > /dev/null || fail "cargo is not installed on this runner: use a release tag of the action (@v1), or install Rust first"
  root=${RUNNER_TEMP:?RUNNER_TEMP is not set}/carbon-gate-from-source
  cargo install --locked --path "$action" --root "$root"
  dir=$root/bin
fi

"$dir/$exe" --version
echo "$dir" >> "${GITHUB_PATH:?GITHUB_PATH is not set}"
echo "path=$dir/$exe" >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
echo "carbon-gate ready in $((SECONDS - started)) s"
