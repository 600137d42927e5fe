#!/usr/bin/env bash
# End to end on loopback: an agent ships to a collector on a free port; the collector is killed (SIGKILL)
# and restarted on the same port while the agent runs; afterwards the agent's series has a point for every
# interval, with no gap across the outage, each stored once. Usage: collector_agent_e2e.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
collector=$build/collector/stormscope-collector
agent=$build/agent/stormscope-agent
command -v curl >/dev/null || skip "curl not installed"
command -v python3 >/dev/null || skip "python3 not installed"
for b in "$collector" "$agent"; do [ -x "$b" ] || { echo "missing $b: build it first"; exit 1; }; done
dir=$(mktemp -d /tmp/ss_e2e.XXXXXX)
cpid= apid=
cleanup() {
  [ -n "$apid" ] && kill "$apid" 2>/dev/null
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- collector"; cat "$dir/clog" 2>/dev/null; echo "--- agent"; tail -20 "$dir/alog"; exit 1; }

start_collector() {  # $1: listen address
  : >"$dir/clog"
  "$collector" --listen "$1" --db "$dir/db.sqlite" >>"$dir/clog" 2>&1 &
  cpid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'ingest:  POST http://[0-9.:]*' "$dir/clog" | sed 's/.*POST //' || true)
    [ -n "$url" ] && return 0
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  fail "collector did not start on $1"
}
# Timestamps of the agent's mounts source_up series (one series whatever other sources run), one per line.
points() {
  curl -s -G --data-urlencode 'match=stormscope_agent_source_up{node="e2e1",source="mounts"}' -d from=now-10m --data-urlencode to=now+1m \
    "$url/api/v1/query_range" | python3 -c '
import json, sys
d = json.load(sys.stdin)
if "series" not in d: sys.exit("query failed: %s" % d)
for s in d["series"]:
    for t, v in s["points"]: print(t)'
}

start_collector 127.0.0.1:0
port=${url##*:}
"$agent" --collector "$url" --listen 127.0.0.1:0 --interval 1s --node e2e1 --spool "$dir/spool" >"$dir/alog" 2>&1 &
apid=$!
for _ in $(seq 50); do [ "$(points | wc -l)" -ge 3 ] && break; sleep 0.2; done
[ "$(points | wc -l)" -ge 3 ] || fail "no points from the agent arrived"
echo "agent points arrive: $(points | wc -l)"

kill -9 "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=
sleep 3  # the agent spools meanwhile
start_collector "127.0.0.1:$port"
before=$(date +%s%3N)
# Wait until the agent has caught up past the outage.
for _ in $(seq 75); do
  last=$(points | tail -1)
  [ -n "$last" ] && [ "$last" -gt "$before" ] && break
  sleep 0.2
done
[ "${last:-0}" -gt "$before" ] || fail "the agent did not catch up after the restart"
points >"$dir/ts"
python3 - "$dir/ts" <<'PY' || fail "points lost or repeated"
import sys
ts = [int(x) for x in open(sys.argv[1]).read().split()]
assert len(ts) == len(set(ts)), "a timestamp is stored twice"
gaps = [b - a for a, b in zip(ts, ts[1:])]
worst = max(gaps)
print(f"{len(ts)} points over {(ts[-1] - ts[0]) / 1000:.1f} s, largest gap {worst} ms")
assert worst <= 2500, f"gap of {worst} ms: points were lost across the collector restart"
PY
echo "end to end with collector restart: ok"
