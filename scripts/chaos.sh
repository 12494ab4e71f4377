#!/usr/bin/env bash
# labmesh chaos run (issue 20, docs/chaos.md): 500 jobs on 8 real agents on 127.0.0.1 (one-host,
# label+count and synchronous jobs of 3 with barriers, result files of random sizes), the
# coordinator killed -9 six times and agents killed -9 ten times at chosen moments (each
# restarted), then: every job final, no control run twice unless a retry says so, every uploaded
# file present with its control's hash, the results index agreeing with the files, and
# `labmesh-coordinator --check` clean. The driver is scripts/chaos.py; a small run of it (40
# jobs, 4 agents, 2 coordinator kills) is the ctest `chaos.small`.
#
# Usage: scripts/chaos.sh [chaos.py options: --jobs N --agents N --coordinator-kills N
#                          --agent-kills N --seed N --keep]
# Environment: LABMESH_SKIP_SETUP=1 (no scripts/setup.sh), LABMESH_SKIP_BUILD=1,
# LABMESH_BUILD_DIR (default build). Exit 0 when every check held.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}

if [[ ${LABMESH_SKIP_SETUP:-0} != 1 ]]; then
  "$root/scripts/setup.sh"
fi
if [[ ${LABMESH_SKIP_BUILD:-0} != 1 ]]; then
  source "$root/scripts/fast-build.sh"
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    configure "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build_dir" -j"$(nproc)" \
    --target labmesh-coordinator labmesh-agent labmesh labmesh-test labmesh-sync
fi
exec /usr/bin/python3 "$root/scripts/chaos.py" --build-dir "$build_dir" "$@"
