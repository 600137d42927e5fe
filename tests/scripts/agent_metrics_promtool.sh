#!/usr/bin/env bash
# The real agent's /metrics passes `promtool check metrics`, carries the mount table of a fake /proc, and the
# agent stops cleanly on SIGTERM. Usage: agent_metrics_promtool.sh <build-dir> <source-dir>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1 src=$2
agent=$build/agent/stormscope-agent
command -v promtool >/dev/null || skip "promtool is not installed (package prometheus)"
command -v curl >/dev/null || skip "curl is not installed"
[ -x "$agent" ] || skip "$agent is not built"

work=$(mktemp -d /tmp/ss_agent_promtool_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/agent.yaml" <<YAML
proc_root: $src/tests/fixtures/agent/proc
interval: 200ms
sources:
  mounts: {enabled: true}
YAML
"$agent" --config "$work/agent.yaml" --listen 127.0.0.1:0 --node test-node >"$work/log" 2>&1 &
pid=$!

port=
for _ in $(seq 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the agent did not print its endpoint"; cat "$work/log"; exit 1; }

for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics" && grep -q '^stormscope_mount_info' "$work/metrics" && break
  sleep 0.1
done
grep -q '^stormscope_mount_info{fs="ai0",fstype="lustre",mount="/lustre/ai0",source="10.0.0.1@o2ib:10.0.0.2@o2ib:/ai0"} 1$' \
  "$work/metrics" || { echo "FAIL: no lustre mount in /metrics"; cat "$work/metrics"; exit 1; }
grep -q '^stormscope_mount_info{fs="scratch",fstype="lustre",mount="/mnt/scratch \\"q\\"",source="mgs@tcp:/scratch"} 1$' \
  "$work/metrics" || { echo "FAIL: label value not escaped"; cat "$work/metrics"; exit 1; }
grep -q '^stormscope_agent_source_up{source="mounts"} 1$' "$work/metrics" \
  || { echo "FAIL: mounts source not up"; cat "$work/metrics"; exit 1; }
if ! promtool check metrics <"$work/metrics"; then
  echo "FAIL: promtool check metrics"; cat "$work/metrics"; exit 1
fi
keep_metrics agent_mounts "$work/metrics"
curl -sf "http://127.0.0.1:$port/healthz" | grep -q ok || { echo "FAIL: /healthz"; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || { echo "FAIL: the agent exited with $status on SIGTERM"; cat "$work/log"; exit 1; }
echo "ok: /metrics passes promtool; the agent stopped cleanly"
