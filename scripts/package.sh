#!/usr/bin/env bash
# Builds the Debian packages (docs/packaging.md) with CPack:
#   labmesh-agent_VERSION_ARCH.deb and labmesh-coordinator_VERSION_ARCH.deb
#
#   scripts/package.sh [--build-dir DIR] [--output-dir DIR]
#
# A build directory that does not exist yet is configured and built first (Release, as
# scripts/test.sh builds); an existing one is packaged as it is, without building again (the
# package test packages the tree ctest runs in). VERSION is the project's LABMESH_VERSION, ARCH
# `dpkg --print-architecture`. The default DIR is build-pkg, the default output DIR the build
# directory. Prints the paths of the two packages.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "package.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--build-dir DIR] [--output-dir DIR]" >&2; exit 2; }

build_dir=build-pkg
output_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || usage; build_dir=$2; shift 2 ;;
    --output-dir) [[ $# -ge 2 ]] || usage; output_dir=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "package.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
for tool in cmake cpack dpkg dpkg-deb dpkg-shlibdeps file; do
  command -v "$tool" >/dev/null || die "'$tool' is needed (scripts/setup.sh installs it)"
done

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  source scripts/fast-build.sh
  configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DCMAKE_UNITY_BUILD=ON
  cmake --build "$build_dir" -j"$(nproc)" --target labmesh-agent labmesh-coordinator labmesh
fi
build_dir=$(cd "$build_dir" && pwd)
[[ -f "$build_dir/CPackConfig.cmake" ]] ||
  die "$build_dir has no CPackConfig.cmake: configure it again (cmake -S . -B $build_dir)"
for binary in agent/labmesh-agent agent/labmesh-test agent/labmesh-sync \
              coordinator/labmesh-coordinator cli/labmesh; do
  [[ -x "$build_dir/$binary" ]] || die "$build_dir/$binary is not built"
done

[[ -n "$output_dir" ]] || output_dir=$build_dir
mkdir -p "$output_dir"
output_dir=$(cd "$output_dir" && pwd)
version=$(sed -n 's/^LABMESH_VERSION:STRING=//p' "$build_dir/CMakeCache.txt")
arch=$(dpkg --print-architecture)
[[ -n "$version" ]] || die "no LABMESH_VERSION in $build_dir/CMakeCache.txt"

# cpack's own work tree stays out of the output directory.
work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && cpack --config "$build_dir/CPackConfig.cmake" -G DEB \
        -D CPACK_PACKAGE_DIRECTORY="$work" -D CPACK_DEBIAN_PACKAGE_ARCHITECTURE="$arch" \
        > "$work/cpack.log" 2>&1); then
  cat "$work/cpack.log" >&2
  die "cpack failed"
fi
for name in labmesh-agent labmesh-coordinator; do
  deb="${name}_${version}_${arch}.deb"
  [[ -f "$work/$deb" ]] || { cat "$work/cpack.log" >&2; die "cpack made no $deb"; }
  mv -f "$work/$deb" "$output_dir/$deb"
  echo "$output_dir/$deb"
done
