#!/usr/bin/env bash
# Quick start: installs the dependencies, builds, then runs a collector (database under ./data/) and an agent
# on this node shipping to it, both in the foreground. Ctrl-C stops both cleanly: the agent first, so its last
# batch is in its spool (./data/spool) or already stored, then the collector.
#
# Environment: BUILD_DIR (default build), COLLECTOR_LISTEN (default 0.0.0.0:9480),
# AGENT_LISTEN (default 0.0.0.0:9479), AGENT_CONFIG (a YAML file for the agent, e.g. to switch sources on).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

BUILD_DIR=${BUILD_DIR:-build}
COLLECTOR_LISTEN=${COLLECTOR_LISTEN:-0.0.0.0:9480}
AGENT_LISTEN=${AGENT_LISTEN:-0.0.0.0:9479}
collector_port=${COLLECTOR_LISTEN##*:}
mkdir -p data

collector_pid= agent_pid=
stop_all() {
  trap - INT TERM
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then
    kill -TERM "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
  fi
}
trap 'echo; echo "run: stopping (agent, then collector)"; stop_all; exit 0' INT TERM

"$BUILD_DIR/collector/stormscope-collector" --listen "$COLLECTOR_LISTEN" --db data/stormscope.db &
collector_pid=$!

# The agent starts once the collector answers (it would spool and retry anyway, but the first lines read better).
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$collector_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$collector_pid" 2>/dev/null || { echo "run: the collector did not start" >&2; exit 1; }
  sleep 0.1
done

agent_args=(--collector "http://127.0.0.1:$collector_port" --listen "$AGENT_LISTEN" --spool data/spool)
# As root the agent also loads its eBPF probes (the vfs source), unless AGENT_CONFIG says otherwise.
if [ -z "${AGENT_CONFIG:-}" ] && [ "$(id -u)" = 0 ]; then
  AGENT_CONFIG=data/agent.yml
  printf 'sources:\n  vfs: {enabled: true}\n' > "$AGENT_CONFIG"
fi
[ -n "${AGENT_CONFIG:-}" ] && agent_args+=(--config "$AGENT_CONFIG")
"$BUILD_DIR/agent/stormscope-agent" "${agent_args[@]}" &
agent_pid=$!

host=$(hostname)
cat <<MSG
run: collector http://$host:$collector_port (API /api/v1/..., /metrics, /healthz; database data/stormscope.db)
run: agent     http://$host:${AGENT_LISTEN##*:}/metrics (shipping to the collector; spool data/spool)
run: try       curl -s 'http://127.0.0.1:$collector_port/api/v1/series?match=stormscope_agent_source_up'
run: Ctrl-C stops both.
MSG

# Ctrl-C reaches both processes directly (they stop on SIGINT) and this script's trap; if either one exits on
# its own, the other is stopped too.
status=0
wait -n "$collector_pid" "$agent_pid" || status=$?
stop_all
if [ "$status" -eq 0 ]; then
  echo "run: stopped"
else
  echo "run: a process exited with status $status; both are stopped" >&2
fi
exit "$status"
