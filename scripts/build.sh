#!/usr/bin/env bash
# Installs dependencies (when missing) and builds everything into ./build (or $BUILD_DIR).
# Arguments are passed to cmake (e.g. -DSTORMSCOPE_EBPF=OFF); cmake keeps them for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
