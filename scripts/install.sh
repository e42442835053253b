#!/bin/sh
# Install a released carbon-gate binary, verified against the release's SHA256SUMS.
#
#   install.sh --version vX.Y.Z [--to DIR] [--repository OWNER/NAME] [--target TRIPLE]
#
#   --version     the release tag (vX.Y.Z), or `latest`
#   --to          where the binary goes (default: $HOME/.local/bin); created when missing
#   --repository  the GitHub repository whose releases to use (default: $CARBON_GATE_REPOSITORY,
#                 else $GITHUB_ACTION_REPOSITORY when run by the action)
#   --target      the Rust target to install (default: from `uname -s` and `uname -m`; Linux gets
#                 the static musl build)
#
# Downloads <base>/<version>/carbon-gate-<target>.tar.gz (.zip on Windows) and
# <base>/<version>/SHA256SUMS, where <base> is $CARBON_GATE_RELEASES_URL (mirrors, GitHub
# Enterprise Server, tests) or https://github.com/<repository>/releases/download. The archive's
# SHA-256 must match its line in SHA256SUMS before anything is extracted; the binary must run
# (`--version`) before it is moved into DIR, in one rename. Any failure exits non-zero with the
# URL and the reason and leaves DIR as it was.
#
# Needs: curl or wget; sha256sum, shasum or openssl; tar (unzip on Windows). POSIX sh.
set -eu

version=${CARBON_GATE_VERSION:-}
to=${CARBON_GATE_INSTALL_DIR:-${HOME:-.}/.local/bin}
repository=${CARBON_GATE_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}
target=${CARBON_GATE_TARGET:-}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --version) [ $# -ge 2 ] || die "--version needs a value (vX.Y.Z or latest)"; version=$2; shift 2 ;;
    --version=*) version=${1#*=}; shift ;;
    --to) [ $# -ge 2 ] || die "--to needs a directory"; to=$2; shift 2 ;;
    --to=*) to=${1#*=}; shift ;;
    --repository) [ $# -ge 2 ] || die "--repository needs OWNER/NAME"; repository=$2; shift 2 ;;
    --repository=*) repository=${1#*=}; shift ;;
    --target) [ $# -ge 2 ] || die "--target needs a Rust target triple"; target=$2; shift 2 ;;
    --target=*) target=${1#*=}; shift ;;
    -h | --help)
      sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument \`$1\` (see --help)" ;;
  esac
done

[ -n "$version" ] || die "say which release to install: --version vX.Y.Z (or latest)"
case $version in
  latest) ;;
  v[0-9]*.[0-9]*.[0-9]*) ;;
  [0-9]*.[0-9]*.[0-9]*) version=v$version ;;
  *) die "--version \`$version\` is not a release tag (vX.Y.Z) or latest" ;;
esac
case $version in
  *[!A-Za-z0-9.+-]*) die "--version \`$version\` holds characters a release tag does not" ;;
esac

if [ -z "$target" ]; then
  os=$(uname -s)
  arch=$(uname -m)
  case $arch in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no release is built for the machine type \`$arch\` (x86_64 and aarch64 are): build from source with cargo install --locked" ;;
  esac
  case $os in
    Linux) target=$arch-unknown-linux-musl ;;
    Darwin) target=$arch-apple-darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT)
      # Windows on Arm runs the x86_64 build under emulation.
      target=x86_64-pc-windows-msvc ;;
    *) die "no release is built for \`$os\` (Linux, macOS and Windows are): build from source with cargo install --locked" ;;
  esac
fi
case $target in
  *[!A-Za-z0-9_.-]*) die "--target \`$target\` is not a Rust target triple" ;;
  *windows*) archive=carbon-gate-$target.zip; exe=carbon-gate.exe ;;
  *) archive=carbon-gate-$target.tar.gz; exe=carbon-gate ;;
esac

if [ -n "${CARBON_GATE_RELEASES_URL:-}" ]; then
  base=${CARBON_GATE_RELEASES_URL%/}/$version
else
  case $repository in
    */*) ;;
    *) die "say which repository's releases to use: --repository OWNER/NAME (or set CARBON_GATE_RELEASES_URL)" ;;
  esac
  if [ "$version" = latest ]; then
    base=https://github.com/$repository/releases/latest/download
  else
    base=https://github.com/$repository/releases/download/$version
  fi
fi

tmp=$(mktemp -d 2> /dev/null || mktemp -d -t carbon-gate)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# fetch URL FILE: download, or fail with the URL and the reason.
fetch() {
  if command -v curl > /dev/null 2>&1; then
    if ! curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 \
      --max-time 300 --proto '=https,http' --output "$2" "$1" 2> "$tmp/why"; then
      die "cannot download $1: $(tail -n 1 "$tmp/why")"
    fi
  elif command -v wget > /dev/null 2>&1; then
    if ! wget --quiet --tries=3 --timeout=60 --output-document="$2" "$1" 2> "$tmp/why"; then
      die "cannot download $1: wget failed ($(tail -n 1 "$tmp/why"))"
    fi
  else
    die "neither curl nor wget is installed"
  fi
}

sha256() {
  if command -v sha256sum > /dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum > /dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl > /dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  else
    die "no SHA-256 tool (sha256sum, shasum or openssl) to verify the download with"
  fi
}

say "installing carbon-gate $version ($target) from $base"
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS"
fetch "$base/$archive" "$tmp/$archive"

# sha256sum format: "<64 hex>  <name>" (or " *<name>" in binary mode).
expected=$(awk -v name="$archive" '($2 == name || $2 == "*" name) && length($1) == 64 { print tolower($1); exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || die "$base/SHA256SUMS has no line for $archive: not a complete release"
actual=$(sha256 "$tmp/$archive" | tr 'A-F' 'a-f')
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $base/$archive: SHA256SUMS says $expected, the download is $actual; nothing was installed"
fi

mkdir "$tmp/x"
case $archive in
  *.zip)
    command -v unzip > /dev/null 2>&1 || die "unzip is needed to unpack $archive"
    unzip -q -o "$tmp/$archive" "$exe" -d "$tmp/x" 2> "$tmp/why" \
      || die "$base/$archive has no $exe at its root: $(tail -n 1 "$tmp/why")"
    ;;
  *)
    tar -xzf "$tmp/$archive" -C "$tmp/x" "$exe" 2> "$tmp/why" \
      || die "$base/$archive has no $exe at its root: $(tail -n 1 "$tmp/why")"
    ;;
esac
bin=$tmp/x/$exe
if [ -h "$bin" ] || [ ! -f "$bin" ]; then
  die "$exe in $base/$archive is not a regular file"
fi
chmod 0755 "$bin"
if ! installed=$("$bin" --version 2> "$tmp/why"); then
  die "the $exe of $base/$archive does not run here: $(tail -n 1 "$tmp/why")"
fi

mkdir -p "$to"
# One rename into place: a reader sees the old binary or the new one, never half of one.
# The temporary file is created exclusively (mktemp), so a link planted under a predictable name
# cannot redirect the copy; the rename replaces a link at $to/$exe rather than writing through it.
staged=$(mktemp "$to/.$exe.XXXXXX") || die "cannot write into $to"
if ! cp "$bin" "$staged" || ! chmod 0755 "$staged"; then
  rm -f "$staged"
  die "cannot write into $to"
fi
if ! mv -f "$staged" "$to/$exe"; then
  rm -f "$staged"
  die "cannot move the binary into $to"
fi
say "installed $installed at $to/$exe"
echo "$installed"
