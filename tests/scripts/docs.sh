#!/usr/bin/env bash
# The user documentation stands alone and matches the code: every link between its pages resolves, no page
# cites DESIGN.md, and every metric name it lists is served on the agent's or the collector's /metrics by an
# end-to-end test (their scrapes, kept in BUILD_DIR/metrics-seen, come from the tests that ctest runs first
# as this test's fixture: tests/CMakeLists.txt). Usage: docs.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1 src=$2
command -v python3 >/dev/null || skip "python3 not installed"
python3 "$src/tests/scripts/check_docs.py" "$src" "$build/metrics-seen"
