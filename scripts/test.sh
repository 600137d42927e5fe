#!/usr/bin/env bash
# Installs, builds and runs every test: unit, integration, eBPF (as root), script tests
# (promtool, Prometheus, Alertmanager on loopback) and a short fuzzing run of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" || status=1
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}" || status=1
fi
exit $status
