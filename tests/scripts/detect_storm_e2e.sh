#!/usr/bin/env bash
# End to end on this node (root, eBPF): collector + agent with the vfs (eBPF) source + `stormscope storm`
# hammering one directory → a metadata_storm incident whose top culprit is the storm's process and directory,
# closed after the storm stops. Skips (77; a failure under scripts/test.sh) without root or a working vfs source.
# Usage: detect_storm_e2e.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
collector=$build/collector/stormscope-collector
agent=$build/agent/stormscope-agent
cli=$build/cli/stormscope
[ "$(id -u)" = 0 ] || skip "needs root for the eBPF probes"
command -v curl >/dev/null || skip "curl not installed"
command -v python3 >/dev/null || skip "python3 not installed"
for b in "$collector" "$agent" "$cli"; do [ -x "$b" ] || { echo "missing $b: build it first"; exit 1; }; done
dir=$(mktemp -d /tmp/ss_detect_e2e.XXXXXX)
cpid= apid= spid=
cleanup() {
  [ -z "$spid" ] || kill "$spid" 2>/dev/null || true
  [ -n "$apid" ] && kill "$apid" 2>/dev/null
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -n "${url:-}" ] && { echo "--- detect status"; curl -s "$url/api/v1/detect/status" | head -c 3000; echo; echo "--- incidents"; curl -s "$url/api/v1/incidents" | head -c 3000; echo; }; echo "--- collector"; tail -30 "$dir/clog"; echo "--- agent"; tail -30 "$dir/alog"; exit 1; }

# findmnt finds no mount above $dir where / is not a mount point (a chroot whose root was not bind-mounted).
fstype=$(findmnt -n -o FSTYPE --target "$dir") && mountpoint=$(findmnt -n -o TARGET --target "$dir") ||
  { echo "FAIL: findmnt finds no mount holding $dir: is / a mount point on this machine?"; exit 1; }
storm_dir=$dir/hammered
mkdir -p "$storm_dir"
cat >"$dir/collector.yaml" <<YAML
detect:
  interval: 1s
  lateness: 1s
  max_gap: 4s
  # The floor sits far above what this script's own polling (curl, python3 on /) does, far below the storm.
  metadata_storm: {window: 2m, min_history: 15s, min_excess: 50000, min_ratio: 2}
  incidents: {quiet: 5s, max_unknown: 30s}
YAML
cat >"$dir/agent.yaml" <<YAML
sources:
  vfs: {enabled: true, fstypes: [$fstype], hot_dirs: 10}
YAML

"$collector" --config "$dir/collector.yaml" --listen 127.0.0.1:0 --db "$dir/db.sqlite" >"$dir/clog" 2>&1 &
cpid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'ingest:  POST http://[0-9.:]*' "$dir/clog" | sed 's/.*POST //' || true)
  [ -n "$url" ] && break
  kill -0 "$cpid" 2>/dev/null || fail "collector exited"
  sleep 0.1
done
[ -n "$url" ] || fail "collector did not start"
"$agent" --config "$dir/agent.yaml" --collector "$url" --listen 127.0.0.1:0 --interval 1s --node e2e-storm \
  --spool "$dir/spool" >"$dir/alog" 2>&1 &
apid=$!

# The vfs source must be up (BPF attached); otherwise this machine cannot run the test. Attaching the
# per-syscall tracepoints (the default mode) takes seconds, longer than a 1 s cycle: the first cycles report
# the source down while it loads, so wait for it to come up.
up=
for _ in $(seq 120); do
  up=$(curl -s -G --data-urlencode 'match=stormscope_agent_source_up{source="vfs"}' -d from=now-1m --data-urlencode to=now+1m \
    "$url/api/v1/query_range" | python3 -c '
import json, sys
d = json.load(sys.stdin)
vals = [v for s in d.get("series", []) for t, v in s["points"]]
print(vals[-1] if vals else "")' || true)
  [ "${up%.*}" = 1 ] && break
  sleep 0.5
done
[ -n "$up" ] || fail "no stormscope_agent_source_up{source=\"vfs\"} from the agent"
[ "${up%.*}" = 1 ] || { grep -i vfs "$dir/alog" | tail -3; skip "the vfs (eBPF) source is not up on this machine (agent log above)"; }

echo "baseline: 25 s of normal activity on $mountpoint ($fstype)"
sleep 25
# While the incident is open the collector serves it as stormscope_incident_info and its cost so far: keep
# the last scrape that has it (docs/incidents.md; the docs test checks these names are served).
(
  while :; do
    curl -sf "$url/metrics" >"$dir/scrape.prom" && grep -q '^stormscope_incident_info{.*kind="metadata_storm"' "$dir/scrape.prom" &&
      mv "$dir/scrape.prom" "$dir/collector_open.prom"
    sleep 1
  done
) &
spid=$!
echo "storm: 15 s of stat/open in $storm_dir"
"$cli" storm --dir "$storm_dir" --threads 2 --duration 15s --ops stat,open >"$dir/storm.out" 2>&1 || fail "storm failed: $(cat "$dir/storm.out")"
cat "$dir/storm.out"

incident() {
  curl -s "$url/api/v1/incidents?kind=metadata_storm&from=now-10m&to=now%2B1m" | python3 -c '
import json, sys
d = json.load(sys.stdin)["incidents"]
if not d: sys.exit(0)
i = max(d, key=lambda x: x["peak"])
c = i["culprits"][0] if i["culprits"] else {}
print(json.dumps({"id": i["id"], "end": i["end"], "path": c.get("path", ""), "comm": c.get("comm", ""),
                  "job": c.get("job", ""), "share": c.get("share", 0), "summary": i["summary"]}))'
}
found=
for _ in $(seq 60); do
  found=$(incident)
  [ -n "$found" ] && break
  sleep 0.5
done
[ -n "$found" ] || fail "no metadata_storm incident"
echo "incident: $found"
python3 - "$found" "$storm_dir" <<'PY' || fail "wrong culprit"
import json, sys
i, d = json.loads(sys.argv[1]), sys.argv[2]
assert i["path"].startswith(d), f"top culprit path {i['path']!r} is not under {d}"
assert i["comm"].startswith("stormscope"), f"top culprit process {i['comm']!r} is not stormscope"
PY
closed=
storm_end=$(date +%s)
for _ in $(seq 40); do
  closed=$(incident | python3 -c 'import json,sys; l=sys.stdin.read().strip(); print(json.loads(l)["end"] or "") if l else print("")')
  [ -n "$closed" ] && break
  sleep 0.5
done
[ -n "$closed" ] || fail "the incident did not close after the storm stopped"
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=
[ -s "$dir/collector_open.prom" ] || fail "no stormscope_incident_info{kind=\"metadata_storm\"} on the collector's /metrics while the incident was open"
grep -q '^stormscope_incident_cost_dollars{' "$dir/collector_open.prom" || fail "no stormscope_incident_cost_dollars beside stormscope_incident_info"
echo "closed at $closed, $(( $(date +%s) - storm_end )) s after the check began: ok"

# The scrapes of this run (the vfs source's metrics, the detector's) for the docs test.
agent_metrics=$(grep -o 'metrics at http://[^ ]*/metrics' "$dir/alog" | head -1 | sed 's/metrics at //')
[ -n "$agent_metrics" ] || fail "the agent did not print its metrics URL"
curl -sf "$agent_metrics" >"$dir/agent.prom" || fail "cannot scrape $agent_metrics"
curl -sf "$url/metrics" >"$dir/collector.prom" || fail "cannot scrape $url/metrics"
keep_metrics agent_vfs "$dir/agent.prom"
keep_metrics collector_detect "$dir/collector.prom"
keep_metrics collector_incident_open "$dir/collector_open.prom"
