#!/usr/bin/env bash
# Installs what vigil needs to build and test (Debian 12 packages, only those
# missing), then configures and builds it in build/. Idempotent: a second run
# installs nothing and rebuilds only what changed.
#
#   scripts/setup.sh           build dependencies, then build
#   scripts/setup.sh --test    also the programs the tests run against (promtool,
#                              Alertmanager, Chromium, collectd, kcat, curl, python3)
#   VIGIL_BUILD_DIR=dir        build somewhere else (default: build)
#   VIGIL_CMAKE_ARGS="..."     extra cmake arguments
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake pkg-config
    librdkafka-dev libgsl-dev libjansson-dev   # the mandated libraries
    libmicrohttpd-dev libcurl4-openssl-dev     # /metrics and Alertmanager
    libcmocka-dev                              # unit tests (found at configure time)
    libsnappy-dev                              # prometheus-remote-write messages
)
if [ "${1:-}" = "--test" ]; then
    packages+=(
        kcat curl python3                      # independent clients in the CLI tests
        prometheus                             # promtool; remote-write in and out
        prometheus-alertmanager                # the real Alertmanager
        prometheus-node-exporter               # a real scrape target (Prometheus → vigil)
        victoria-metrics                       # scores written back (remote-write output)
        chromium                               # renders the replay report
        collectd-core                          # a real write_kafka producer
    )
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_dir="${VIGIL_BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${VIGIL_BUILD_TYPE:-Release}" ${VIGIL_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j"$(nproc)" >&2
echo "setup: built $build_dir/vigil" >&2
