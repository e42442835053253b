#!/usr/bin/env bash
# Builds the container image's final stages without a Docker daemon or a registry, and runs it.
#
#   bash tests/container/build-and-run.sh
#
# The Dockerfile's builder image (rust:*-slim-bookworm) cannot be pulled here, so its stage is
# replayed on the host, which is the same Debian 12: `cargo build --release --locked` for
# <arch>-unknown-linux-musl with musl-gcc (musl-tools), from exactly the files the Docker build
# context holds (.dockerignore applied by buildah). The binary and the host's CA bundle then go
# into tests/container/Containerfile.builder-stub, to which the Dockerfile's own `runtime` and
# `action` stages are appended; buildah (vfs storage, chroot isolation) builds both, and runs
# the binary inside them. Prints the image size in bytes and MB.
#
# Installs what it lacks (apt: buildah, musl-tools, ca-certificates, binutils; rustup: the musl
# target); runs again without rebuilding what has not changed. Needs root for apt and buildah.
# Environment: CARGO_TARGET_DIR (default: target/ of this repository),
# CARBON_GATE_CONTAINER_WORK (scratch directory, default ${TMPDIR:-/tmp}/carbon-gate-container).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
started=$(date +%s)
work=${CARBON_GATE_CONTAINER_WORK:-${TMPDIR:-/tmp}/carbon-gate-container}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
image=localhost/carbon-gate
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
triple="$(uname -m)-unknown-linux-musl"

step() { echo "--- $*"; }
fail() {
  echo "build-and-run: FAIL: $*" >&2
  exit 1
}

export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
bh() { buildah --storage-driver vfs "$@"; }

containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    bh umount "$c" > /dev/null 2>&1 || true
    bh rm "$c" > /dev/null 2>&1 || true
  done
}
trap cleanup EXIT
# Not in $(...): the id must reach `containers` in this shell for the cleanup.
new_container() { # image -> $container (removed on exit)
  container=$(bh from --quiet "$1")
  containers+=("$container")
}

step "tools"
missing=()
command -v buildah > /dev/null || missing+=(buildah)
command -v musl-gcc > /dev/null || missing+=(musl-tools)
command -v readelf > /dev/null || missing+=(binutils)
[ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || fail "not root: cannot apt-get install ${missing[*]}"
  echo "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
if ! rustup target list --installed | grep -qx "$triple"; then
  rustup target add "$triple"
fi
buildah --version
rustc --version

step "the Docker build context (.dockerignore applied)"
mkdir -p "$work"
bh rmi --force "$image-context:test" > /dev/null 2>&1 || true
bh bud --quiet --isolation chroot --layers=false -f tests/container/Containerfile.context \
  -t "$image-context:test" . > /dev/null
new_container "$image-context:test"
ctx_mount=$(bh mount "$container")
# A fixed path (and preserved mtimes), so cargo rebuilds only what changed.
rm -rf "$work/ctx"
cp -a "$ctx_mount/ctx" "$work/ctx"
bh rmi --force "$image-context:test" > /dev/null 2>&1 || true
for f in Cargo.toml Cargo.lock src/main.rs; do
  [ -e "$work/ctx/$f" ] || fail "the build context lacks $f (see .dockerignore)"
done
for f in target .git tests docs examples .ci; do
  [ ! -e "$work/ctx/$f" ] || fail "the build context holds $f (see .dockerignore)"
done
# Every top-level entry of the context must be copied by the builder stage.
copied=$(sed -n '/ AS builder$/,/^FROM /{/^COPY /{/--from=/!p}}' Dockerfile)
for entry in "$work"/ctx/* "$work"/ctx/.[!.]*; do
  [ -e "$entry" ] || continue
  name=$(basename "$entry")
  grep -Eq "(^COPY | )$name( |/|$)" <<< "$copied" \
    || fail "the context holds $name but no COPY of the builder stage copies it"
done
echo "context: $(cd "$work/ctx" && find . -type f | wc -l) files, $(du -sk "$work/ctx" | cut -f1) KiB"

step "static binary: cargo build --release --locked --target $triple"
# As in the Dockerfile's builder stage (keep these in step with it).
# CARBON_GATE_COMMIT is what the Dockerfile's `--build-arg REVISION` sets (the context has no .git).
commit=$(git rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
CARBON_GATE_COMMIT=$commit \
  CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_TARGET_DIR="$target_dir" \
  cargo build --release --locked --target "$triple" --manifest-path "$work/ctx/Cargo.toml"
bin="$target_dir/$triple/release/carbon-gate"
if readelf -lW "$bin" | grep -q 'INTERP'; then
  fail "$bin asks for a dynamic loader: not static"
fi
if readelf -dW "$bin" | grep -q '(NEEDED)'; then
  fail "$bin needs shared libraries: not static"
fi
"$bin" --version
bin_bytes=$(stat -c %s "$bin")
echo "binary: $bin_bytes bytes, static"

step "image: Dockerfile stages runtime and action on a host-built builder stub"
rm -rf "$work/final"
mkdir -p "$work/final"
cp "$bin" "$work/final/carbon-gate"
cp -L /etc/ssl/certs/ca-certificates.crt "$work/final/ca-certificates.crt"
{
  cat tests/container/Containerfile.builder-stub
  echo
  sed -n '/^FROM scratch AS runtime$/,$p' Dockerfile
} > "$work/final/Containerfile"
grep -q '^FROM scratch AS runtime$' "$work/final/Containerfile" \
  || fail "the Dockerfile has no 'FROM scratch AS runtime' stage"
for t in runtime action; do
  bh rmi --force "$image:$t" > /dev/null 2>&1 || true
done
bh bud --quiet --isolation chroot --layers=false --target runtime \
  --build-arg VERSION="$version" -t "$image:runtime" "$work/final" > /dev/null
bh bud --quiet --isolation chroot --layers=false \
  --build-arg VERSION="$version" -t "$image:action" "$work/final" > /dev/null

step "image configuration"
inspect() { bh inspect --type image --format "$2" "$1"; }
for t in runtime action; do
  echo "$t: user=$(inspect "$image:$t" '{{.OCIv1.Config.User}}')" \
    "entrypoint=$(inspect "$image:$t" '{{.OCIv1.Config.Entrypoint}}')"
  [ "$(inspect "$image:$t" '{{.OCIv1.Config.Entrypoint}}')" = "[/carbon-gate]" ] \
    || fail "$t: entrypoint is not [/carbon-gate]"
  [ "$(inspect "$image:$t" '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}')" = "$version" ] \
    || fail "$t: no org.opencontainers.image.version label $version"
done
[ "$(inspect "$image:runtime" '{{.OCIv1.Config.User}}')" = "65532:65532" ] \
  || fail "runtime: user is not 65532:65532"
[ "$(inspect "$image:action" '{{.OCIv1.Config.User}}')" = "0:0" ] \
  || fail "action: user is not 0:0"

step "run: carbon-gate --version"
new_container "$image:runtime"
rt=$container
out=$(bh run "$rt" -- /carbon-gate --version)
echo "$out"
[ "$out" = "carbon-gate $version (commit $commit)" ] \
  || fail "--version said '$out', not 'carbon-gate $version (commit $commit)'"

step "run: carbon-gate check --policy policies/ --model-version 2.1.0 examples/runs/ (as 65532)"
bh config --workingdir /data "$rt"
bh copy --quiet "$rt" policies /data/policies
bh copy --quiet "$rt" examples/runs /data/examples/runs
bh copy --quiet "$rt" examples/mixed /data/examples/mixed
bh run "$rt" -- /carbon-gate check --policy policies/ --model-version 2.1.0 examples/runs/ \
  || fail "check on the bundled example failed in the container"
bh run "$rt" -- /carbon-gate ingest examples/mixed/ > /dev/null \
  || fail "ingest examples/mixed/ failed in the container"
# /data belongs to root: the runtime image's user (65532) must not be able to write there.
if bh run "$rt" -- /carbon-gate check --policy policies/ --model-version 2.1.0 examples/runs/ \
  --output /data/report.txt > /dev/null 2>&1; then
  fail "runtime: wrote into a root-owned directory, so it does not run as 65532"
fi
echo "runtime: runs as non-root (cannot write into a root-owned directory)"

step "run: the action image (root, as GitHub runs it)"
new_container "$image:action"
ac=$container
bh config --workingdir /data "$ac"
bh copy --quiet "$ac" policies /data/policies
bh copy --quiet "$ac" examples/runs /data/examples/runs
bh run "$ac" -- /carbon-gate check --policy policies/ --model-version 2.1.0 examples/runs/ \
  --output /data/report.txt > /dev/null \
  || fail "action: check --output into /data failed as root"
echo "action: $(bh run "$ac" -- /carbon-gate --version)"

step "the release image: tests/container/Containerfile.prebuilt + the Dockerfile's runtime stage"
# As .github/workflows/release.yml assembles it, for this machine's architecture only (the
# workflow builds linux/amd64 and linux/arm64 with BuildKit, which sets TARGETARCH).
case $(uname -m) in
  x86_64) goarch=amd64 ;;
  aarch64) goarch=arm64 ;;
  *) fail "no release image for $(uname -m)" ;;
esac
rm -rf "$work/release"
mkdir -p "$work/release/linux-$goarch"
cp "$bin" "$work/release/linux-$goarch/carbon-gate"
cp -L /etc/ssl/certs/ca-certificates.crt "$work/release/"
{
  cat tests/container/Containerfile.prebuilt
  echo
  sed -n '/^FROM scratch AS runtime$/,$p' Dockerfile
} > "$work/release/Containerfile"
bh rmi --force "$image:release" > /dev/null 2>&1 || true
bh bud --quiet --isolation chroot --layers=false --target runtime --platform "linux/$goarch" \
  --build-arg TARGETARCH="$goarch" --build-arg VERSION="$version" \
  -t "$image:release" "$work/release" > /dev/null
new_container "$image:release"
out=$(bh run "$container" -- /carbon-gate --version)
[ "$out" = "carbon-gate $version (commit $commit)" ] || fail "release image: --version said '$out'"
[ "$(inspect "$image:release" '{{.OCIv1.Config.User}}')" = "65532:65532" ] \
  || fail "release image: user is not 65532:65532"
echo "release image (linux/$goarch): $out, user 65532"

step "image size"
size_of() { # image -> uncompressed bytes of its layers and config
  inspect "$1" '{{.Manifest}}' | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(sum(layer["size"] for layer in m["layers"]) + m["config"]["size"])'
}
rm -rf "$work/oci-runtime"
bh push --quiet "$image:runtime" "oci:$work/oci-runtime" > /dev/null
gz_bytes=$(python3 - "$work/oci-runtime" << 'EOF'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
digest = index["manifests"][0]["digest"].split(":", 1)[1]
manifest = json.loads((root / "blobs" / "sha256" / digest).read_text())
print(sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"])
EOF
)
bytes=$(size_of "$image:runtime")
mb() { python3 -c "print(f'{$1 / 1e6:.1f} MB ({$1 / 1048576:.1f} MiB)')"; }
bh images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep "^$image:" || true
echo "image size (runtime, uncompressed layers): $bytes bytes = $(mb "$bytes")"
echo "image size (runtime, gzip layers, as pushed): $gz_bytes bytes = $(mb "$gz_bytes")"
echo "binary: $bin_bytes bytes = $(mb "$bin_bytes")"

echo "build-and-run: OK in $(($(date +%s) - started)) s"
