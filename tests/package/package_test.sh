#!/usr/bin/env bash
# The Debian packages end to end (docs/packaging.md "The package test"):
#  1. scripts/package.sh packages the ctest build tree as it is (no rebuild);
#  2. their metadata and contents are checked with dpkg-deb, lintian finds no errors, the
#     systemd units pass `systemd-analyze verify` (skipped where it cannot run);
#  3. both are installed with `dpkg --root ROOT --force-script-chrootless` into a fresh tree,
#     so their maintainer scripts run (honouring DPKG_ROOT) without a chroot or a debootstrap;
#  4. the installed binaries print their version; the installed coordinator starts from its
#     installed config file (data dir, ports: 127.0.0.1 with ports the kernel picks) and two
#     installed agents from theirs: one enrols with the token, one waits until the installed
#     CLI accepts it;
#  5. the installed agent updates itself (a package of the tests' 9.9.9 build) into its state
#     directory, a restart hops to it, and a newer .deb (the recorded installed version made
#     older) takes over, after which the coordinator updates it again;
#  6. a reinstall (the upgrade path of the scripts) keeps the edited config; a purge removes
#     the state directories and the config.
#
#   package_test.sh --build-dir DIR
#
# Needs root (dpkg --root), dpkg-deb, lintian; exits 77 (ctest: skipped) when not root.
# Every wait has a deadline.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR" >&2; exit 2 ;;
  esac
done
[[ -n "$build_dir" ]] || { echo "usage: $0 --build-dir DIR" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: installing with dpkg --root needs root"
  exit 77
fi
command -v lintian >/dev/null || { echo "FAIL: lintian is not installed (scripts/setup.sh)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/labmesh-package-test.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$tmp"/*.log; do
    [[ -f "$log" ]] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
  done
  exit 1
}
step() { echo "== [${SECONDS}s] $*"; }
# wait_for SECONDS COMMAND...: runs COMMAND every 100 ms until it succeeds or time is up.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

step "package"
"$source_dir/scripts/package.sh" --build-dir "$build_dir" --output-dir "$tmp/debs" > "$tmp/debs.txt" ||
  fail "scripts/package.sh failed"
version=$(sed -n 's/^LABMESH_VERSION:STRING=//p' "$build_dir/CMakeCache.txt")
arch=$(dpkg --print-architecture)
agent_deb="$tmp/debs/labmesh-agent_${version}_${arch}.deb"
coord_deb="$tmp/debs/labmesh-coordinator_${version}_${arch}.deb"
[[ -f "$agent_deb" && -f "$coord_deb" ]] || fail "expected $agent_deb and $coord_deb"

step "metadata and contents"
field() { dpkg-deb -f "$1" "$2"; }
for deb in "$agent_deb" "$coord_deb"; do
  [[ $(field "$deb" Version) == "$version" ]] || fail "$deb: Version is not $version"
  [[ $(field "$deb" Architecture) == "$arch" ]] || fail "$deb: Architecture is not $arch"
  for f in Maintainer Section Priority Homepage Description; do
    [[ -n $(field "$deb" "$f") ]] || fail "$deb: no $f field"
  done
done
[[ $(field "$agent_deb" Package) == labmesh-agent ]] || fail "agent package name"
[[ $(field "$coord_deb" Package) == labmesh-coordinator ]] || fail "coordinator package name"
# Depends computed by dpkg-shlibdeps (libc, ZeroMQ, sodium, LMDB), plus the hand-listed ones.
agent_depends=$(field "$agent_deb" Depends)
coord_depends=$(field "$coord_deb" Depends)
for dep in libc6 libzmq5 libsodium23; do
  [[ "$agent_depends" == *"$dep "* || "$agent_depends" == *"$dep," ]] ||
    fail "agent Depends lacks $dep: $agent_depends"
done
for dep in libc6 libzmq5 liblmdb0 libjs-chart.js adduser; do
  [[ "$coord_depends" == *"$dep"* ]] || fail "coordinator Depends lacks $dep: $coord_depends"
done
echo "agent Depends: $agent_depends"
echo "coordinator Depends: $coord_depends"
dpkg-deb -c "$agent_deb" | awk '{print $1, $6}' > "$tmp/agent.contents"
dpkg-deb -c "$coord_deb" | awk '{print $1, $6}' > "$tmp/coord.contents"
has() { grep -qE "^$2 \./$3\$" "$1" || fail "$(basename "$1"): no $3 with mode $2"; }
has "$tmp/agent.contents" "-rwxr-xr-x" usr/bin/labmesh-agent
has "$tmp/agent.contents" "-rwxr-xr-x" usr/bin/labmesh-test
has "$tmp/agent.contents" "-rwxr-xr-x" usr/bin/labmesh-sync
has "$tmp/agent.contents" "-rw-------" etc/labmesh/agent.conf
for d in verify.d repair.d cleanup.d; do has "$tmp/agent.contents" "drwxr-xr-x" "etc/labmesh/$d/"; done
has "$tmp/agent.contents" "-rw-r--r--" lib/systemd/system/labmesh-agent.service
has "$tmp/agent.contents" "-rw-r--r--" usr/share/doc/labmesh-agent/copyright
has "$tmp/coord.contents" "-rwxr-xr-x" usr/bin/labmesh-coordinator
has "$tmp/coord.contents" "-rwxr-xr-x" usr/bin/labmesh
has "$tmp/coord.contents" "-rw-r-----" etc/labmesh/coordinator.conf
has "$tmp/coord.contents" "-rw-r--r--" lib/systemd/system/labmesh-coordinator.service
has "$tmp/coord.contents" "-rw-r--r--" usr/share/doc/labmesh-coordinator/copyright
if grep -q "labmesh-coordinator\|usr/bin/labmesh$" "$tmp/agent.contents"; then
  fail "the agent package holds coordinator files"
fi
[[ $(dpkg-deb -I "$agent_deb" conffiles) == /etc/labmesh/agent.conf ]] || fail "agent conffiles"
[[ $(dpkg-deb -I "$coord_deb" conffiles) == /etc/labmesh/coordinator.conf ]] ||
  fail "coordinator conffiles"
for script in postinst prerm postrm; do
  dpkg-deb -I "$agent_deb" "$script" > /dev/null || fail "agent package has no $script"
  dpkg-deb -I "$coord_deb" "$script" > /dev/null || fail "coordinator package has no $script"
done
dpkg-deb -x "$agent_deb" "$tmp/x"
file "$tmp/x/usr/bin/labmesh-agent" | grep -q ", stripped" || fail "labmesh-agent is not stripped"

step "lintian"
# As root lintian says so on stderr; its findings go to stdout. --fail-on error: warnings pass.
if ! lintian --fail-on error --tag-display-limit 0 "$agent_deb" "$coord_deb" \
       > "$tmp/lintian.out" 2> "$tmp/lintian.err"; then
  cat "$tmp/lintian.out" "$tmp/lintian.err"
  fail "lintian found errors"
fi
echo "lintian: no errors; other findings:"
sed 's/^/  /' "$tmp/lintian.out"

step "systemd-analyze verify"
# Both packages extracted into one tree with this system's units (the targets they refer to):
# verify there, so that the ExecStart binaries are the packages'. It warns on stderr and still
# exits 0 for unknown keys or bad values, so any output is a failure.
if command -v systemd-analyze >/dev/null && [[ -f /lib/systemd/system/sysinit.target ]]; then
  units="$tmp/units"
  dpkg-deb -x "$agent_deb" "$units"
  dpkg-deb -x "$coord_deb" "$units"
  cp -an /lib/systemd/system/. "$units/lib/systemd/system/"
  if ! systemd-analyze verify --root="$units" labmesh-agent.service labmesh-coordinator.service \
         > "$tmp/analyze.out" 2>&1 || [[ -s "$tmp/analyze.out" ]]; then
    cat "$tmp/analyze.out"
    fail "systemd-analyze verify"
  fi
  echo "units verified; coordinator: $(systemd-analyze security --offline=yes --root="$units" \
    labmesh-coordinator.service 2>/dev/null | grep -o 'Overall exposure level.*' || true)"
else
  echo "SKIP systemd-analyze verify: systemd is not installed here"
fi

step "install into a fresh root with dpkg --root"
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
# --force-script-chrootless: the maintainer scripts run on this system with DPKG_ROOT=root
# (they honour it); --force-depends: the libraries are this system's, not the tree's.
dpkg_root() {
  dpkg --root="$root" --log="$tmp/dpkg.log" --force-script-chrootless --force-depends \
    --force-not-root "$@"
}
dpkg_root -i "$agent_deb" "$coord_deb" > "$tmp/dpkg-install.log" 2>&1 ||
  fail "dpkg --root -i failed"
[[ -d "$root/var/lib/labmesh-agent" ]] || fail "postinst made no /var/lib/labmesh-agent"
[[ $(stat -c %a "$root/var/lib/labmesh-agent") == 700 ]] || fail "/var/lib/labmesh-agent not 0700"
[[ -d "$root/var/lib/labmesh" ]] || fail "postinst made no /var/lib/labmesh"
for unit in labmesh-agent labmesh-coordinator; do
  [[ -L "$root/etc/systemd/system/multi-user.target.wants/$unit.service" ]] ||
    fail "$unit.service is not enabled in the root"
done

step "installed binaries"
[[ $("$root/usr/bin/labmesh-agent" --version) == "$version" ]] || fail "agent --version"
[[ $("$root/usr/bin/labmesh-coordinator" --version) == "$version" ]] || fail "coordinator --version"
[[ $("$root/usr/bin/labmesh" --version) == "$version" ]] || fail "labmesh --version"

step "coordinator from its installed config"
conf="$root/etc/labmesh/coordinator.conf"
set_key() {  # set_key FILE KEY VALUE: replaces `KEY = ...` (commented or not) or appends it
  local file=$1 key=$2 value=$3
  if grep -qE "^#? *$key *=" "$file"; then
    sed -i -E "s|^#? *$key *=.*|$key = \"$value\"|" "$file"
  else
    echo "$key = \"$value\"" >> "$file"
  fi
}
set_key "$conf" data-dir "$root/var/lib/labmesh"
set_key "$conf" agent-listen "tcp://127.0.0.1:*"
set_key "$conf" api-listen "tcp://127.0.0.1:*"
set_key "$conf" http-listen "127.0.0.1:0"
set_key "$conf" enroll-token "package-test-token"
# Fast heartbeats (and so fast work requests and updates), as the e2e cluster uses.
set_key "$conf" heartbeat-interval "300ms"
"$root/usr/bin/labmesh-coordinator" --config "$conf" > "$tmp/coordinator.log" 2>&1 &
pids+=($!)
endpoints="$root/var/lib/labmesh/coordinator.endpoints"
wait_for 30 test -s "$endpoints" || fail "the coordinator did not start"
agent_endpoint=$(sed -n 's/^agent=//p' "$endpoints")
api=$(sed -n 's/^api=//p' "$endpoints")
token_file="$root/var/lib/labmesh/keys/admin.token"
wait_for 10 test -s "$token_file" || fail "no admin token"
cli() { "$root/usr/bin/labmesh" --api "$api" --token "$(cat "$token_file")" "$@"; }

step "agents from their installed config"
cp "$root/var/lib/labmesh/keys/coordinator.pub" "$root/etc/labmesh/coordinator.pub"
aconf="$root/etc/labmesh/agent.conf"
set_key "$aconf" coordinator "$agent_endpoint"
set_key "$aconf" coordinator-key "$root/etc/labmesh/coordinator.pub"
set_key "$aconf" work-dir "$root/var/lib/labmesh-agent"
set_key "$aconf" peer-listen "tcp://127.0.0.1:0"
for d in verify repair cleanup; do set_key "$aconf" "$d-dir" "$root/etc/labmesh/$d.d"; done
cp "$aconf" "$tmp/agent-pending.conf"
set_key "$aconf" enroll-token "package-test-token"
set_key "$aconf" hostname "pkg-token"
set_key "$tmp/agent-pending.conf" hostname "pkg-pending"
set_key "$tmp/agent-pending.conf" work-dir "$tmp/pending-work"
"$root/usr/bin/labmesh-agent" --config "$aconf" > "$tmp/agent-token.log" 2>&1 &
pids+=($!)
"$root/usr/bin/labmesh-agent" --config "$tmp/agent-pending.conf" > "$tmp/agent-pending.log" 2>&1 &
pids+=($!)
host_is() {  # host_is NAME STATUS [VERSION]
  cli --json host list 2>/dev/null | python3 -c '
import json, sys
hosts = {h["hostname"]: h for h in json.load(sys.stdin)}
h = hosts.get(sys.argv[1])
sys.exit(0 if h and h["status"] == sys.argv[2] and h["agent_version"] == sys.argv[3] else 1)
' "$1" "$2" "${3:-$version}"
}
wait_for 30 host_is pkg-token Ready || fail "the agent with the token did not become Ready"
echo "pkg-token enrolled with the token"
wait_for 30 sh -c "\"$root/usr/bin/labmesh\" --api '$api' --token \"\$(cat '$token_file')\" host pending | grep -q pkg-pending" ||
  fail "the agent without a token is not pending"
cli host accept pkg-pending > /dev/null || fail "host accept failed"
wait_for 30 host_is pkg-pending Ready || fail "the accepted agent did not become Ready"
echo "pkg-pending enrolled by host accept"
if ! grep -q "\"installed_version\": \"$version\"" \
       "$root/var/lib/labmesh-agent/update/state.json" 2>/dev/null; then
  fail "the agent did not record its installed version in state.json"
fi

step "the installed agent updates itself; a restart hops to it; a newer package takes over"
# The self-update package: the tests' second agent build (it reports 9.9.9) with the helpers.
new_agent="$build_dir/tests/agent/new-agent/labmesh-agent"
[[ -x "$new_agent" ]] || fail "$new_agent is not built (target agent_update_new_agent)"
v2=$("$new_agent" --version)
mkdir -p "$tmp/v2"
cp "$new_agent" "$root/usr/bin/labmesh-test" "$root/usr/bin/labmesh-sync" "$tmp/v2/"
"$source_dir/scripts/package-agent.sh" --build-dir "$tmp/v2" --output "$tmp/v2.tar.gz" \
  > /dev/null || fail "package-agent.sh failed"
cli package upload "$tmp/v2.tar.gz" --version "$v2" > /dev/null || fail "package upload failed"
cli package desire "$v2" > /dev/null || fail "package desire failed"
state_dir="$root/var/lib/labmesh-agent"
wait_for 60 host_is pkg-token Ready "$v2" || fail "the installed agent did not update to $v2"
[[ -x "$state_dir/versions/$v2/labmesh-agent" ]] || fail "no versions/$v2 in the state directory"
[[ $(readlink "$state_dir/current") == "versions/$v2" ]] || fail "current does not point at $v2"
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait_for 20 sh -c "! kill -0 $1 2>/dev/null" || fail "process $1 did not stop on TERM"
}
# A service restart (or a reboot) starts the package's binary, which hops to `current`.
stop_pid "${pids[1]}"
"$root/usr/bin/labmesh-agent" --config "$aconf" > "$tmp/agent-token-2.log" 2>&1 &
pids[1]=$!
wait_for 30 grep -q "points at another agent" "$tmp/agent-token-2.log" ||
  fail "the restarted agent did not hop to current"
wait_for 30 host_is pkg-token Ready "$v2" || fail "the restarted agent is not Ready on $v2"
# A newer package: as if the .deb installed before had been 0.0.9. apt installs it (the
# upgrade path of the scripts) and its postinst restarts the service.
stop_pid "${pids[1]}"
python3 - "$state_dir/update/state.json" <<'PY' || fail "cannot edit state.json"
import json, sys
state = json.load(open(sys.argv[1]))
state["installed_version"] = "0.0.9"
json.dump(state, open(sys.argv[1], "w"))
PY
dpkg_root -i "$agent_deb" > "$tmp/dpkg-newer.log" 2>&1 || fail "dpkg -i of the newer package failed"
"$root/usr/bin/labmesh-agent" --config "$aconf" > "$tmp/agent-token-3.log" 2>&1 &
pids[1]=$!
wait_for 30 grep -q "the package wins" "$tmp/agent-token-3.log" ||
  fail "the newer package did not take over from the self-update"
# It registered on the package's version, so the coordinator updates it again to the desired
# one: a second Update task, completed.
update_tasks_completed() {
  cli --json host history pkg-token 2>/dev/null | python3 -c '
import json, sys
tasks = [t for t in json.load(sys.stdin) if t["type"] == "task" and t["name"] == "Update"]
sys.exit(0 if len(tasks) == int(sys.argv[1]) and all(t["status"] == "Completed" for t in tasks) else 1)
' "$1"
}
wait_for 60 update_tasks_completed 2 || fail "the coordinator did not update the agent again"
wait_for 30 host_is pkg-token Ready "$v2" || fail "the agent is not back on $v2"
grep -q "\"installed_version\": \"$version\"" "$state_dir/update/state.json" ||
  fail "state.json does not record the package's version"

for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do
  wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || fail "process $pid did not stop on TERM"
done
pids=()

step "reinstall (upgrade path) keeps the edited config"
dpkg_root -i "$agent_deb" "$coord_deb" > "$tmp/dpkg-upgrade.log" 2>&1 || fail "dpkg reinstall failed"
grep -q "package-test-token" "$aconf" || fail "the upgrade replaced the edited agent.conf"
grep -q "package-test-token" "$conf" || fail "the upgrade replaced the edited coordinator.conf"
[[ -d "$root/var/lib/labmesh-agent/keys" ]] || fail "the upgrade lost the agent's keys"

step "purge removes state and config"
dpkg_root --purge labmesh-agent labmesh-coordinator > "$tmp/dpkg-purge.log" 2>&1 || fail "dpkg --purge failed"
for gone in var/lib/labmesh-agent var/lib/labmesh etc/labmesh/agent.conf etc/labmesh/coordinator.conf \
            usr/bin/labmesh-agent etc/systemd/system/multi-user.target.wants/labmesh-agent.service; do
  [[ ! -e "$root/$gone" && ! -L "$root/$gone" ]] || fail "/$gone is still there after the purge"
done
echo "PASS"
