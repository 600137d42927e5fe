#!/usr/bin/env bash
# Regenerates dashboards/*.json from dashboards/src/*.jsonnet (jsonnet from Debian's package).
# The JSON files are committed so that Grafana can provision them without jsonnet.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-.}
for src in src/*.jsonnet; do
  jsonnet -J src "$src" > "$out/$(basename "$src" .jsonnet).json"
done
