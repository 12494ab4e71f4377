#!/usr/bin/env bash
# Hostile results (issue 20): the parsers' memory and time on inputs far over their limits, the
# way the coordinator's results intake meets them (ParseResultsDir on an entry's directory),
# each case in a process of its own so its peak RSS (VmHWM) is its own:
#   line-100mb   a 100 MB single-line TAP file (over 64 MiB: skipped unread) and a 60 MB
#                single-line status.log (read and parsed: one long line)
#   tap-10m      a TAP stream of 10,000,000 lines (`ok`): cut at 100,000 results
#   tap-comments 10,000,000 comment lines (`#`), then a test: cut at 1,000,000 lines
#   keyval-1m    a keyval file of 1,000,000 distinct keys: cut at 10,000 keys
#   junit-1m     JUnit with 1,000,000 nameless testcases: cut at 100,000 results, 50 warnings
#   junit-laughs billion laughs plus an external entity: nothing expanded or read
#   files-150k   150,000 small files: the walk stops at 100,000 names
# Prints one line per case: results, warnings, time, peak RSS (figures, not checks: the
# machines are shared). The limits: docs/results-parsers.md, "Limits".
#
# Builds labmesh-hostilebench in LABMESH_BUILD_DIR (build/) when it is missing.
# Environment: LABMESH_BUILD_DIR, LABMESH_BENCH_KEEP=1 (keep the inputs, ~350 MB, in $TMPDIR).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LABMESH_BUILD_DIR:-$root/build}
log() { echo "bench-hostile: $*" >&2; }
die() { log "$*"; exit 1; }

bench_bin=$build_dir/tests/bench/labmesh-hostilebench
if [[ ! -x $bench_bin ]]; then
  log "building labmesh-hostilebench in $build_dir"
  cmake --build "$build_dir" --target labmesh-hostilebench >&2 || die "cannot build labmesh-hostilebench"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-bench-hostile.XXXXXX")
cleanup() {
  if [[ ${LABMESH_BENCH_KEEP:-0} == 1 ]]; then log "inputs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# N copies of a line (yes is killed by SIGPIPE when head has enough: not an error here).
repeat() { yes "$1" | head -n "$2" || true; }

log "making the inputs in $work"
mkdir -p "$work/line-100mb" "$work/tap-10m" "$work/tap-comments" "$work/keyval-1m/t" \
         "$work/junit-1m" "$work/junit-laughs" "$work/files-150k"
head -c 100000000 /dev/zero | tr '\0' 'x' > "$work/line-100mb/big.tap"
{ printf 'GOOD\t----\tlong\ttimestamp=1\t'; head -c 60000000 /dev/zero | tr '\0' 'y'; echo; } \
  > "$work/line-100mb/status.log"
repeat ok 10000000 > "$work/tap-10m/flood.tap"
{ repeat '#' 10000000; echo 'ok 1 - after the noise'; } > "$work/tap-comments/noise.tap"
seq 1 1000000 | sed 's/^/key/; s/$/=value/' > "$work/keyval-1m/t/keyval"
{ echo '<testsuite name="s">'; repeat '<testcase/>' 1000000; echo '</testsuite>'; } \
  > "$work/junit-1m/flood.xml"
{
  echo '<?xml version="1.0"?>'
  echo '<!DOCTYPE lolz ['
  echo '<!ENTITY lol "lol">'
  prev=lol
  for i in 1 2 3 4 5 6 7 8 9; do
    printf '<!ENTITY lol%s "' "$i"
    for _ in 0 1 2 3 4 5 6 7 8 9; do printf '&%s;' "$prev"; done
    echo '">'
    prev=lol$i
  done
  echo '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
  echo '<testsuite name="s"><testcase classname="c" name="laughs">'
  echo '<failure message="&lol9; &xxe;">&lol9;</failure></testcase></testsuite>'
} > "$work/junit-laughs/lolz.xml"
/usr/bin/python3 - "$work/files-150k" <<'PY'
import os, sys
base = sys.argv[1]
for d in range(150):
    os.mkdir(os.path.join(base, "d%03d" % d))
    for f in range(1000):
        open(os.path.join(base, "d%03d" % d, "f%04d.tap" % f), "w").close()
PY

log "parsing each case in its own process"
"$bench_bin" "$work/line-100mb" "$work/tap-10m" "$work/tap-comments" "$work/keyval-1m" \
             "$work/junit-1m" "$work/junit-laughs" "$work/files-150k"
