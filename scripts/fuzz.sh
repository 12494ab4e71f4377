#!/usr/bin/env bash
# Builds every libFuzzer target of tests/fuzz (clang-16, AddressSanitizer + UBSan) in
# build-fuzz/ and runs each for SECONDS (default 60) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/, never written to) with its dictionary (tests/fuzz/dict/).
# Prints per target: executions, corpus size, crashes. Exits 1 when any target crashed, timed
# out, ran out of memory or failed to run; the input that did it is kept under
# build-fuzz/fuzz-runs/<target>/crashes/ and its path printed (reproduce with
# `build-fuzz/tests/fuzz/fuzz_<target> FILE`). docs/fuzzing.md describes the targets.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 20; scripts/fuzz.sh 600 tap
# Environment: LABMESH_FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build jobs, default nproc),
# FUZZ_RUNS (stop each target after this many executions instead of SECONDS, if sooner).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]  (SECONDS: a whole number above 0)" >&2
  exit 2
fi
shift $(($# > 0 ? 1 : 0))
for tool in clang-16 clang++-16; do
  if ! command -v $tool >/dev/null; then
    echo "fuzz.sh: $tool is missing (scripts/setup.sh installs clang-16 and libfuzzer-16-dev)" >&2
    exit 2
  fi
done

build_dir=${LABMESH_FUZZ_BUILD_DIR:-build-fuzz}
source scripts/fast-build.sh
# -O1 as libFuzzer's documentation advises for sanitized fuzzing; not a unity build
# (tests/fuzz/CMakeLists.txt says why).
CC=clang-16 CXX=clang++-16 configure "$build_dir" -DCMAKE_C_COMPILER=clang-16 \
  -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_UNITY_BUILD=OFF -DLABMESH_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j"${FUZZ_JOBS:-$(nproc)}" --target fuzz_all

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for dir in tests/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

failed=0
printf '%-14s %12s %10s %8s  %s\n' target executions exec/s crashes result
for target in "${targets[@]}"; do
  binary=$build_dir/tests/fuzz/fuzz_$target
  if [[ ! -x $binary || ! -d tests/fuzz/corpus/$target ]]; then
    echo "fuzz.sh: no target '$target' (tests/fuzz/fuzz_$target.cpp and corpus/$target/)" >&2
    exit 2
  fi
  run=$root/$build_dir/fuzz-runs/$target
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/crashes" "$run/tmp"
  cp tests/fuzz/corpus/"$target"/* "$run/corpus/"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$run/crashes/")
  [[ -n ${FUZZ_RUNS:-} ]] && args+=(-runs="$FUZZ_RUNS")
  [[ -f tests/fuzz/dict/$target.dict ]] && args+=(-dict="tests/fuzz/dict/$target.dict")
  status=0
  TMPDIR=$run/tmp "$binary" "${args[@]}" "$run/corpus" >"$run/log" 2>&1 || status=$?
  executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$run/log" | tail -1)
  speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$run/log" | tail -1)
  crashes=$(find "$run/crashes" -type f | wc -l)
  result=ok
  if [[ $status -ne 0 || $crashes -gt 0 ]]; then
    result="FAILED (exit $status; log $run/log)"
    failed=1
  fi
  printf '%-14s %12s %10s %8s  %s\n' "$target" "${executions:-?}" "${speed:-?}" "$crashes" \
    "$result"
  if [[ $result != ok ]]; then
    grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|promise broken|ALARM|out-of-memory' \
      "$run/log" | head -5 | sed 's/^/    /' || true
    find "$run/crashes" -type f | sed "s|^|    crash file: |"
  fi
  rm -rf "$run/tmp"
done
exit $failed
