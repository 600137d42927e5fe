#!/usr/bin/env bash
# Installs dependencies (when missing) and builds everything into ./build (or $BUILD_DIR).
# Arguments are passed to cmake (e.g. -DSTORMSCOPE_EBPF=OFF); cmake keeps them for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
# Line tables only (-g1) at the optimization users run (-O2): full debug info is a quarter of the compile time,
# and backtraces need file:line, not variables. Set on the first configure only, so scripts/run.sh and
# scripts/test.sh share one build (the same flags), and flags given later stay until changed.
defaults=()
[ -f "$BUILD_DIR/CMakeCache.txt" ] ||
  defaults=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "${defaults[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
