#!/usr/bin/env bash
# Sets up (Debian packages), configures, builds and runs the test suite with ctest.
# Exits non-zero on any failure. LABMESH_BUILD_DIR picks the build directory.
#
#   scripts/test.sh                     the whole suite, optimised build in build/
#   scripts/test.sh --sanitize address  the whole suite under ASan + UBSan, in build-asan/
#   scripts/test.sh --sanitize thread   the tests that run threads in one process (ctest labels
#                                       coordinator, agent, webui) under TSan, in build-tsan/
#
# docs/testing.md says what each sanitizer run covers and how a report is caught.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=
while [[ $# -gt 0 ]]; do
  case $1 in
    --sanitize)
      [[ $# -ge 2 ]] || { echo "test.sh: --sanitize needs address or thread" >&2; exit 2; }
      sanitize=$2
      shift 2
      ;;
    --sanitize=*) sanitize=${1#--sanitize=}; shift ;;
    *) echo "test.sh: unknown argument '$1' (usage: test.sh [--sanitize address|thread])" >&2
       exit 2 ;;
  esac
done
case $sanitize in
  ""|address|thread) ;;
  *) echo "test.sh: --sanitize takes address or thread, not '$sanitize'" >&2; exit 2 ;;
esac

bash scripts/setup.sh
source scripts/fast-build.sh
jobs=$(nproc)

if [[ -z $sanitize ]]; then
  build_dir=${LABMESH_BUILD_DIR:-build}
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
  exit 0
fi

# --- Sanitizer runs --------------------------------------------------------------------------
# The same unity build at -O1 without debug info (CMakeLists.txt's LABMESH_SANITIZE adds the
# -fsanitize flags and -fno-omit-frame-pointer), so the sanitizer builds cost about what the
# plain one does.
if [[ $sanitize == address ]]; then
  build_dir=${LABMESH_BUILD_DIR:-build-asan}
  targets=(all)
  # e2e_pg.* (the e2e flows on the PostgreSQL store) runs the same processes as e2e.*; the
  # store's PostgreSQL code is under ASan in store_pg.*.
  ctest_select=(-LE '^e2e_postgresql$')
else
  build_dir=${LABMESH_BUILD_DIR:-build-tsan}
  # Only the binaries of the tests whose threads share memory in one process (and what they
  # spawn: add_dependencies brings the helpers along): the coordinator's loop with its results
  # intake thread and the API callers (coordinator's in-process TestCluster), civetweb's workers
  # against the API (webui), the agent's loop and its reapers (agent). The e2e tests run the
  # same code as separate processes; under TSan they add about 20 minutes on 2 cores, so they
  # are left to the plain and ASan runs (docs/testing.md).
  targets=(coordinator_tests agent_tests webui_tests)
  ctest_select=(-L '^(coordinator|agent|webui)$')
fi
configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DLABMESH_SANITIZE="$sanitize"
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}"

# Every instrumented process - the test binaries and the coordinators, agents, CLIs and helpers
# they spawn - inherits these options and writes any report to its own file in $report_dir
# (log_path: <dir>/report.<program>.<pid>), so a report in a daemon that a test kills or whose
# exit status nobody reads is not lost: the run fails at the end when the directory holds one.
# A report also ends the process with exit code 66 (halt_on_error), which fails a test binary at
# once. Chromium and Python are not instrumented and ignore the options.
# GCC's UBSan runtime ignores log_path and writes to stderr: tests/support's Process and
# RunCommand copy a child's output holding a UBSan report into the same directory
# (LABMESH_SANITIZER_REPORT_DIR); a test binary's own report fails its test with the output.
report_dir=$(cd "$build_dir" && pwd)/sanitizer-reports
rm -rf "$report_dir"
mkdir -p "$report_dir"
export LABMESH_SANITIZER_REPORT_DIR=$report_dir
common="log_path=$report_dir/report:log_exe_name=1:exitcode=66:halt_on_error=1"
common+=":print_stacktrace=1"
export ASAN_OPTIONS="$common:detect_leaks=1"
ASAN_OPTIONS+=":detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="$common"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="$common:second_deadlock_stack=1:history_size=4"
TSAN_OPTIONS+=":suppressions=$PWD/tests/sanitizers/tsan.supp:print_suppressions=0"
# Deadlines in the tests (tests/support/process.hpp's WaitFor and RunCommand) are multiplied by
# this: the instrumented code runs 2-10x slower than at -O2.
export LABMESH_TEST_TIME_SCALE=${LABMESH_TEST_TIME_SCALE:-4}

status=0
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 900 "${ctest_select[@]}" \
  || status=$?

shopt -s nullglob
reports=("$report_dir"/report.*)
if [[ ${#reports[@]} -gt 0 ]]; then
  echo "test.sh: ${#reports[@]} sanitizer report(s) in $report_dir:" >&2
  for report in "${reports[@]}"; do
    echo "===== $report" >&2
    cat "$report" >&2
  done
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "test.sh: the $sanitize sanitizer run failed" >&2
else
  echo "test.sh: the $sanitize sanitizer run passed, no reports"
fi
exit $status
