#!/usr/bin/env bash
# Remote read: a Prometheus from Debian's package with `remote_read` pointing at the collector, holding no
# data of its own, runs every dashboard expression built on raw series (recording-rule outputs and the
# series Prometheus scrapes itself left out) over test data only the collector holds; each returns data,
# with the dashboards' instance="$node" matching the collector's node label.
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
for tool in prometheus curl python3; do
  command -v $tool >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs it)"
done
exec python3 "$src/tests/scripts/remote_stack.py" read "$build" "$src"
