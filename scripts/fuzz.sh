#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (./build-fuzz) and runs each for N seconds (default 60), one per core
# at a time. A crash fails the run and leaves the input in build-fuzz/crashes/
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! ls tests/fuzz/*_fuzz.cpp >/dev/null 2>&1; then
  echo "fuzz: no fuzz targets"
  exit 0
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSTORMSCOPE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzzers -j "$(nproc)"
mkdir -p build-fuzz/crashes
# Each target runs on one core for $seconds.
fuzz_one() {
  local name=$1 corpus=build-fuzz/corpus/$1 seeds=()
  mkdir -p "$corpus"
  [ -d "tests/fuzz/seeds/$name" ] && seeds+=("tests/fuzz/seeds/$name")
  build-fuzz/tests/fuzz/$name -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/crashes/$name- "$corpus" "${seeds[@]}" >build-fuzz/$name.log 2>&1
}
names=()
for src in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" .cpp)
  names+=("$name")
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
  rm -f "build-fuzz/$name.status"
  (if fuzz_one "$name"; then echo 0; else echo 1; fi >"build-fuzz/$name.status") &
done
wait
failed=0 ran=0
for name in "${names[@]}"; do
  if [ "$(cat "build-fuzz/$name.status")" = 0 ]; then
    echo "fuzz: $name ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' build-fuzz/$name.log | awk '{print $2}') runs)"
  else
    echo "fuzz: $name FAILED, see build-fuzz/$name.log"; tail -30 build-fuzz/$name.log; failed=$((failed+1))
  fi
  ran=$((ran+1))
done
echo "fuzz: $((ran-failed)) passed, $failed failed"
[ $failed -eq 0 ]
