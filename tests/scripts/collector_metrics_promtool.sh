#!/usr/bin/env bash
# The collector's /metrics passes `promtool check metrics` after it has ingested, answered queries and
# rejected a bad batch (so every family has samples). Usage: collector_metrics_promtool.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
bin=$build/collector/stormscope-collector
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
command -v curl >/dev/null || skip "curl not installed"
[ -x "$bin" ] || { echo "missing $bin: build stormscope-collector first"; exit 1; }

dir=$(mktemp -d /tmp/ss_metrics_promtool.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

"$bin" --listen 127.0.0.1:0 --db "$dir/db.sqlite" >"$dir/log" 2>&1 &
pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'ingest:  POST http://[0-9.:]*' "$dir/log" | sed 's/.*POST //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "collector did not start:"; cat "$dir/log"; exit 1; }

batch='{"node":"n1","seq":1,"series":[{"name":"lustre_client_rpcs_total","type":"counter","labels":{"fs":"ai0","target":"ai0-OST0000"},"points":[[1763700000000,1],[1763700010000,2]]},{"name":"gpu_utilization_ratio","type":"gauge","labels":{"gpu":"0","model":"NVIDIA H100 80GB HBM3","uuid":"GPU-0"},"points":[[1763700000000,0.5]]}]}'
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data "$batch" "$url/api/v1/ingest")
[ "$code" = 200 ] || { echo "ingest answered $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data '{"node":"n1"}' "$url/api/v1/ingest")
[ "$code" = 400 ] || { echo "bad batch answered $code"; exit 1; }
curl -sf -G --data-urlencode 'match=lustre_client_rpcs_total' "$url/api/v1/series" >/dev/null
curl -sf "$url/metrics" >"$dir/metrics"
grep -q '^stormscope_collector_ingest_points_total 3$' "$dir/metrics" || { echo "ingest counter missing"; cat "$dir/metrics"; exit 1; }
grep -q '^stormscope_gpu_price_dollars_per_hour{model="NVIDIA H100 80GB HBM3",pricing="spot"} 1.49$' "$dir/metrics" ||
  { echo "GPU price missing"; cat "$dir/metrics"; exit 1; }
if ! promtool check metrics <"$dir/metrics"; then
  echo "promtool check metrics failed on:"; cat "$dir/metrics"; exit 1
fi
keep_metrics collector "$dir/metrics"
echo "promtool check metrics: clean ($(grep -c '^# TYPE' "$dir/metrics") families)"
