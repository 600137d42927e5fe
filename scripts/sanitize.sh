#!/usr/bin/env bash
# Builds the project with sanitizers into its own build directories and runs the tests there:
#   build-asan: AddressSanitizer + UndefinedBehaviorSanitizer, the whole ctest suite;
#   build-tsan: ThreadSanitizer, the collector's concurrent paths (HTTP server, ingest, store, detect).
# Usage: scripts/sanitize.sh [asan|tsan|all] (default all). Exits non-zero on any finding or failure.
# Too slow for CI's budget on 2 cores (two more full builds); run it before landing concurrency changes.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTORMSCOPE_EBPF=OFF
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
status=0

if [[ $which == asan || $which == all ]]; then
  flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
  cmake -S . -B build-asan "${common[@]}" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build build-asan
  # detect_leaks: tests that fork and _exit leave what the child owned; leaks are not what this run checks.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 || status=1
fi

if [[ $which == tsan || $which == all ]]; then
  flags="-O1 -g -fsanitize=thread"
  cmake -S . -B build-tsan "${common[@]}" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
  targets=(unit_collector_server_test unit_collector_http_test unit_agent_shipper_test)
  cmake --build build-tsan --target "${targets[@]}"
  for t in "${targets[@]}"; do
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "build-tsan/tests/$t" || status=1
  done
fi
exit $status
