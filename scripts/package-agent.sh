#!/usr/bin/env bash
# Builds an agent package (docs/update.md "The package"): a reproducible .tar.gz holding
# labmesh-agent, labmesh-sync, labmesh-test and MANIFEST at the archive's root.
#
#   scripts/package-agent.sh [--build-dir DIR] [--output FILE]
#
# Each binary is taken from DIR/agent/NAME (a build tree) or else DIR/NAME (a plain directory).
# The version is what the packaged labmesh-agent --version prints. The default DIR is `build`,
# the default FILE DIR/labmesh-agent-VERSION.tar.gz. Prints the output path and its SHA-256.
# The same binaries give the same archive bytes (sorted names, owner 0, mtime 0, gzip -n).
set -euo pipefail

die() { echo "package-agent.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--build-dir DIR] [--output FILE]" >&2; exit 2; }

build_dir=build
output=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || usage; build_dir=$2; shift 2 ;;
    --output) [[ $# -ge 2 ]] || usage; output=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "package-agent.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

[[ -d "$build_dir" ]] || die "build directory '$build_dir' does not exist"
for tool in tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' is needed"
done

find_binary() {
  local name=$1
  if [[ -f "$build_dir/agent/$name" && -x "$build_dir/agent/$name" ]]; then
    echo "$build_dir/agent/$name"
  elif [[ -f "$build_dir/$name" && -x "$build_dir/$name" ]]; then
    echo "$build_dir/$name"
  else
    die "no executable $name in $build_dir/agent/ or $build_dir/"
  fi
}

names=(labmesh-agent labmesh-sync labmesh-test)
declare -A paths
for name in "${names[@]}"; do paths[$name]=$(find_binary "$name"); done

version=$("${paths[labmesh-agent]}" --version 2>/dev/null) ||
  die "${paths[labmesh-agent]} --version failed"
version=${version//[[:space:]]/}
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$ ]] ||
  die "${paths[labmesh-agent]} --version printed '$version', not a version"

[[ -n "$output" ]] || output="$build_dir/labmesh-agent-$version.tar.gz"

staging=$(mktemp -d "${TMPDIR:-/tmp}/package-agent.XXXXXX")
trap 'rm -rf "$staging"' EXIT
{
  echo "labmesh-agent-package 1"
  echo "version $version"
  for name in "${names[@]}"; do
    cp "${paths[$name]}" "$staging/$name"
    chmod 0755 "$staging/$name"
    echo "sha256 $(sha256sum "$staging/$name" | cut -d' ' -f1) $name"
  done
} > "$staging/MANIFEST"
chmod 0644 "$staging/MANIFEST"

mkdir -p "$(dirname "$output")"
tmp_out="$output.tmp.$$"
tar --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "$staging" MANIFEST "${names[@]}" | gzip -n -9 > "$tmp_out" ||
  { rm -f "$tmp_out"; die "cannot write $output"; }
mv -f "$tmp_out" "$output"
echo "$output"
sha256sum "$output" | cut -d' ' -f1
