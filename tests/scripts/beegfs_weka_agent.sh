#!/usr/bin/env bash
# The real stormscope-agent runs the beegfs and weka sources against the fake tools of tests/fake/storage and
# serves their metrics on /metrics (checked value by value, and by promtool); then the same agent setup with
# tools that hang and tools that fail: the hang is cut off by the timeout, both sources report
# stormscope_agent_source_up 0 with the reason in the log, and /metrics keeps being served.
# Usage: beegfs_weka_agent.sh <build-dir> <source-dir>
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
agent=$build/agent/stormscope-agent
fake=$src/tests/fake/storage
command -v curl >/dev/null || skip "curl is not installed"
command -v promtool >/dev/null || skip "promtool is not installed (package prometheus)"
[ -x "$agent" ] || skip "$agent is not built"
nvml=$build/tests/fakes/libfake-nvidia-ml.so
[ -f "$nvml" ] || skip "$nvml is not built"

work=$(mktemp -d /tmp/ss_beegfs_weka_agent_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/agent.yaml" <<YAML
interval: 2s
source_timeouts: {beegfs: 1500ms, weka: 1500ms}
fs_names: {mgmt01: scratch}   # the BeeGFS instance's management host (from its client configuration) renamed
sources:
  beegfs:
    tool: beegfs-ctl
    ctl_path: $fake/beegfs-ctl
    args: [--cfgFile=$src/tests/fixtures/beegfs/beegfs-client_scratch.conf]
    timeout: 1s
    cycle_timeout: 1200ms
  weka:
    cli_path: $fake/weka
    timeout: 1s
    cycle_timeout: 1200ms
  # The GPU source on the fake libnvidia-ml (two GPUs), so that its metrics are served end to end too.
  gpu: {backend: nvml, nvml_library: $nvml, sample_interval: 200ms}
YAML

# start_agent MODE: runs the agent with SS_FAKE_MODE=MODE and sets $port.
start_agent() {
  SS_FAKE_MODE=$1 "$agent" --config "$work/agent.yaml" --listen 127.0.0.1:0 --node mgmt01 --spool "$work/spool-$1" \
    >"$work/log-$1" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/log-$1" | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "FAIL: the agent did not print its endpoint"; cat "$work/log-$1"; exit 1; }
}

stop_agent() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}

# wait_metric REGEX: polls /metrics until a line matches.
wait_metric() {
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics" 2>/dev/null && grep -Eq "$1" "$work/metrics" && return 0
    sleep 0.1
  done
  echo "FAIL: no line matching $1 in /metrics"; cat "$work/metrics"; cat "$work/log-"*; exit 1
}

expect() {  # expect 'exact line prefix' value
  local line
  line=$(grep -F "$1 " "$work/metrics" | head -1 || true)
  [ -n "$line" ] || { echo "FAIL: $1 is missing"; cat "$work/metrics"; exit 1; }
  # The value is the first field after the series (an optional timestamp may follow).
  local got
  got=$(awk '{print $1}' <<<"${line#"$1"}")
  awk -v a="$got" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * (b < 0 ? -b : b) + 1e-12) }' \
    || { echo "FAIL: $1 is $got, expected $2"; exit 1; }
}

# --- 1. Working tools.
start_agent ok
wait_metric '^stormscope_agent_source_up\{source="beegfs"\} 1'
wait_metric '^stormscope_agent_source_up\{source="weka"\} 1'
expect 'beegfs_server_requests_total{fs="scratch",nodetype="meta",server="meta01"}' 1045
expect 'beegfs_server_requests_total{fs="scratch",nodetype="storage",server="stor01"}' 545
expect 'beegfs_server_bytes_total{fs="scratch",op="write",server="stor01"}' $(( (1000+1001+1002+1003+1004+1005+1006+1007+1008+1009) * 1024 ))
expect 'beegfs_server_busy_workers{fs="scratch",nodetype="meta",server="meta01"}' 4
expect 'beegfs_client_ops_total{client="10.0.0.12",fs="scratch",nodetype="meta",op="create"}' 250000
expect 'beegfs_user_ops_total{fs="scratch",nodetype="meta",op="mkdir",user="1000"}' 1200
expect 'beegfs_target_capacity_bytes{fs="scratch",nodetype="storage",target="101"}' 67645734912000
expect 'beegfs_target_reachable{fs="scratch",nodetype="meta",target="2"}' 0
expect 'weka_op_rate{fs="gpu-weka",op="getattr"}' 800
expect 'weka_op_latency_seconds{fs="gpu-weka",op="read"}' 0.0003125
expect 'weka_fs_capacity_bytes{cluster="gpu-weka",fs="default"}' 2420000000000
expect 'weka_protection_ratio{failures="1",fs="gpu-weka"}' 0.195
expect 'weka_hanging_ios{fs="gpu-weka",kind="driver_frontend"}' 1
expect 'weka_frontend_io_bytes_per_second{fs="gpu-weka",op="read"}' 31457280
wait_metric '^gpu_utilization_ratio\{'
promtool check metrics <"$work/metrics" || { echo "FAIL: promtool check metrics"; exit 1; }
keep_metrics agent_beegfs_weka "$work/metrics"
stop_agent

# --- 1b. The BeeGFS 8 tool (`beegfs`), whose server stats have the network bytes too.
# BeeGFS 8 names its management host with --mgmtd-addr: the same instance, so the same fs.
cp "$work/agent.yaml" "$work/agent7.yaml"
sed -i 's|tool: beegfs-ctl|tool: beegfs\n    cli_path: '"$fake"'/beegfs|; s|args: \[--cfgFile=.*\]|args: [--mgmtd-addr, "mgmt01:8010"]|' "$work/agent.yaml"
start_agent ok
wait_metric '^beegfs_server_network_bytes_total\{'
# The sums of meta01's history (tests/fixtures/beegfs/cli_stats_server_m1_history.ndjson), as with beegfs-ctl.
expect 'beegfs_server_requests_total{fs="scratch",nodetype="meta",server="meta01"}' 1045
expect 'beegfs_server_network_bytes_total{fs="scratch",nodetype="meta",op="received",server="meta01"}' 46080
expect 'beegfs_server_network_bytes_total{fs="scratch",nodetype="meta",op="sent",server="meta01"}' 92160
promtool check metrics <"$work/metrics" || { echo "FAIL: promtool check metrics (BeeGFS 8)"; exit 1; }
keep_metrics agent_beegfs8 "$work/metrics"
stop_agent
cp "$work/agent7.yaml" "$work/agent.yaml"

# --- 2. Tools that hang: cut off, reported down with the reason, /metrics still served.
start_agent hang
wait_metric '^stormscope_agent_source_errors_total\{source="beegfs"\} [1-9]'
wait_metric '^stormscope_agent_source_errors_total\{source="weka"\} [1-9]'
grep -Eq '^stormscope_agent_source_up\{source="beegfs"\} 0' "$work/metrics" || { echo "FAIL: beegfs not down"; exit 1; }
grep -Eq '^stormscope_agent_source_up\{source="weka"\} 0' "$work/metrics" || { echo "FAIL: weka not down"; exit 1; }
grep -q 'source beegfs failed: .*beegfs-ctl .*--listnodes --nodetype=meta: timed out' "$work/log-hang" \
  || { echo "FAIL: no timeout reason for beegfs in the log"; cat "$work/log-hang"; exit 1; }
grep -q 'source weka failed: .*weka .*timed out' "$work/log-hang" \
  || { echo "FAIL: no timeout reason for weka in the log"; cat "$work/log-hang"; exit 1; }
# The next BeeGFS cycle runs again (it is retried, not stuck): a second error is counted.
wait_metric '^stormscope_agent_source_errors_total\{source="beegfs"\} [2-9]'
stop_agent
if pgrep -f "$fake/hang" >/dev/null; then echo "FAIL: a hung fake tool was left running"; exit 1; fi

# --- 3. Tools that fail.
start_agent fail
wait_metric '^stormscope_agent_source_errors_total\{source="beegfs"\} [1-9]'
grep -Eq '^stormscope_agent_source_up\{source="beegfs"\} 0' "$work/metrics" || { echo "FAIL: beegfs not down"; exit 1; }
grep -q 'source beegfs failed: .*exit code 3: Error: communication with management node failed' "$work/log-fail" \
  || { echo "FAIL: no failure reason in the log"; cat "$work/log-fail"; exit 1; }
stop_agent
echo "ok: beegfs and weka metrics on the agent's /metrics; hangs cut off and failures reported"
