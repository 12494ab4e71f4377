#!/usr/bin/env bash
# Sets up (Debian packages), configures, builds and runs the whole test suite with ctest.
# Exits non-zero on any failure. LABMESH_BUILD_DIR picks the build directory (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
source scripts/fast-build.sh
build_dir=${LABMESH_BUILD_DIR:-build}
jobs=$(nproc)
# Optimised like a release but without debug info: the tests need no debugger, and debug info
# for this template-heavy code (msgpack, GoogleTest) is a large part of CI's build time. Unity
# batches: a library's files compile in groups of 8, so the heavy headers they share (msgpack,
# spdlog, the protocol) are parsed once per group instead of once per file - about half the
# libraries' build time. (Names in anonymous namespaces must therefore differ between the files
# of one library; the test binaries are not batched, tests/CMakeLists.txt says why.) Ninja,
# ccache and mold when present: scripts/fast-build.sh.
configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON
cmake --build "$build_dir" -j"$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 300
