#!/usr/bin/env bash
# Installs every Debian package that building, testing and running the demo of labmesh need.
# Idempotent: packages already present are skipped, and apt is only asked when one is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git ca-certificates curl procps
  # faster builds: scripts/test.sh and the demo use them when present
  ninja-build ccache mold
  # libraries
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev liblmdb-dev libcivetweb-dev libspdlog-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libsodium-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # web page assets and browser tests
  libjs-chart.js python3 python3-selenium chromium chromium-driver
  # inspection tools used by tests and benchmarks
  lmdb-utils
  # fuzzing (scripts/fuzz.sh: libFuzzer targets built with clang, ASan and UBSan)
  clang-16 libfuzzer-16-dev libclang-rt-16-dev
  # the protocol conformance test drives the coordinator from Python, from PROTOCOL.md alone
  python3-zmq python3-msgpack
  # metrics (docs/monitoring.md): the Prometheus text format from prometheus-cpp's core library;
  # the tests check /metrics with promtool and scrape it with a real Prometheus server
  prometheus-cpp-dev prometheus
  # Debian packages (scripts/package.sh: cpack's dpkg-shlibdeps needs file; the package test
  # checks them with lintian)
  dpkg-dev file lintian
  # Lab workflow (issue 22): libcurl sends webhooks and email; the notification tests' SMTP
  # server is aiosmtpd
  libcurl4-openssl-dev python3-aiosmtpd
  # schedules' time zones (docs/schedules.md): Howard Hinnant's date library on the system tzdata
  libhowardhinnant-date-dev tzdata
  # the real-VM test (tests/vm, docs/testing.md): debootstrap builds a Debian 12 image, QEMU boots
  # it (qemu-img makes each run's copy-on-write overlay)
  qemu-system-x86 qemu-utils debootstrap
  # the PostgreSQL store (libpq) and its tests (tests/support/pg_test_server.sh runs a throwaway
  # PostgreSQL 15 server)
  postgresql-15 libpq-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
