#!/usr/bin/env bash
# Dashboards: generated JSON matches its jsonnet source; structure and project rules; every PromQL
# expression parsed by Prometheus's own parser (promtool); then a Prometheus from Debian's package on
# loopback, loaded with backfilled test data (tests/scripts/promdata.py) and Stormscope's rules, runs
# every dashboard expression (each must succeed and return data) and fires the storm alerts.
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
for tool in jsonnet promtool prometheus curl python3; do
  command -v $tool >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs it)"
done
collector=$build/collector/stormscope-collector
[ -x "$collector" ] || skip "$collector not built"
work=$(mktemp -d)
prom_pid= collector_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null
  [ -n "$collector_pid" ] && kill "$collector_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
check="python3 $src/tests/scripts/check_dashboards.py"
dashboards=("$src"/dashboards/*.json)

mkdir "$work/gen"
bash "$src/dashboards/generate.sh" "$work/gen"
for f in "${dashboards[@]}"; do
  diff -q "$f" "$work/gen/$(basename "$f")" || { echo "$f is stale: run dashboards/generate.sh"; exit 1; }
done

$check structure "${dashboards[@]}"
$check rules-file "$work/exprs.yml" "${dashboards[@]}"
promtool check rules "$work/exprs.yml"

# Backfilled data ends 15 s ago; rules are evaluated every second with `for` set to 0 so that the
# alerts fire on the data as soon as Prometheus starts.
end=$(( $(date +%s) - 15 ))
# The GPU prices as the real collector exports them for the data's GPU models.
cport=$(free_port)
"$collector" --listen 127.0.0.1:$cport --db "$work/collector/db.sqlite" >"$work/collector.log" 2>&1 &
collector_pid=$!
wait_http "http://127.0.0.1:$cport/healthz" 30 || { cat "$work/collector.log"; exit 1; }
python3 "$src/tests/scripts/promdata.py" --gpu-batch |
  curl -sf -o /dev/null -XPOST -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$cport/api/v1/ingest"
curl -sf "http://127.0.0.1:$cport/metrics" > "$work/collector.metrics"
kill "$collector_pid"; wait "$collector_pid" 2>/dev/null || true; collector_pid=
python3 "$src/tests/scripts/promdata.py" --end "$end" --prices "$work/collector.metrics" > "$work/data.om"
promtool tsdb create-blocks-from openmetrics "$work/data.om" "$work/tsdb" >/dev/null
setup_prometheus_rules
start_prometheus
# The alerts compare recorded series with their own history, so backfill the recording rules over the
# test data (what a site does after installing the rules), then restart on the completed data.
promtool tsdb create-blocks-from rules --start=$(( end - 8100 )) --end=$end --url="$url" \
  --eval-interval=15s --output-dir="$work/recorded" "$src/rules/stormscope.rules.yml" >"$work/backfill.log" 2>&1 ||
  { cat "$work/backfill.log"; exit 1; }
kill "$prom_pid"; wait "$prom_pid" 2>/dev/null || true
mv "$work"/recorded/* "$work/tsdb/"
start_prometheus

# Recording rules run on the live clock: wait until the recorded series the dashboards use exist.
deadline=$(( $(date +%s) + 30 ))
until curl -sf "$url/api/v1/query" --data-urlencode 'query=job:gpu_idle_dollars:per_hour' | grep -q '"value"'; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "recording rules produced nothing"; cat "$work/prom.log"; exit 1; }
  sleep 0.5
done
sleep 2

health=$(unhealthy_rules)
[ -z "$health" ] || { echo "rules failing in Prometheus:"; echo "$health"; exit 1; }

$check live "$url" "$(date +%s)" "${dashboards[@]}"

firing=$(curl -sf "$url/api/v1/alerts" | python3 -c 'import json,sys; print(" ".join(sorted({a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"] if a["state"]=="firing"})))')
echo "firing on the simulated storm: $firing"
for alert in StormscopeMetadataStorm StormscopeMetadataWaitHigh StormscopeCheckpointStall StormscopeOSTImbalance StormscopeIncidentActive; do
  [[ " $firing " == *" $alert "* ]] || { echo "$alert did not fire"; exit 1; }
done
for alert in StormscopeAgentDown StormscopeCollectorDown StormscopeSourceDown; do
  [[ " $firing " != *" $alert "* ]] || { echo "$alert fired on healthy data"; exit 1; }
done
echo "dashboards: ok"
