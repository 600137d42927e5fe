# Helpers for the shell-driven tests (sourced, not a test itself). Each test gets: $1 build dir, $2 source dir.

# A failing command says where it failed: `set -e` alone ends a test without a word.
set -E
trap 'status=$?; echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \`$BASH_COMMAND\` exited $status" >&2' ERR

# skip REASON: exit 77, which ctest shows as skipped. Under scripts/test.sh (STORMSCOPE_STRICT_SKIPS=1) a missing
# package, tool or capability is a failure instead: only missing hardware may skip there (skip_no_hardware).
skip() {
  if [ "${STORMSCOPE_STRICT_SKIPS:-0}" = 1 ]; then
    echo "FAIL: this test would skip: $*"
    echo "(scripts/test.sh fails every skip except for missing hardware: install what it needs, scripts/install-deps.sh)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
skip_no_hardware() { echo "SKIP: [allowed skip: no such hardware] $*"; exit 77; }

# keep_metrics NAME FILE: keeps a /metrics scrape for the docs test, which checks that every metric the docs
# list is served somewhere (tests/scripts/docs.sh; the scrapes go to BUILD_DIR/metrics-seen/).
keep_metrics() {
  mkdir -p "$build/metrics-seen"
  cp "$2" "$build/metrics-seen/$1.prom"
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_http URL SECONDS: waits until URL answers 2xx.
wait_http() {
  local url=$1 deadline=$(( $(date +%s) + ${2:-20} ))
  until curl -sf -o /dev/null "$url"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for $url"; return 1; }
    sleep 0.1
  done
}

# Rules for a loopback Prometheus in $work/rules (alerts with for: 0s: Prometheus evaluates rules only at the
# present, and the tests' data ends now), and start_prometheus, which starts one on $work/prometheus.yml and
# $work/tsdb and sets prom_pid and url. Needs $work and $src.
setup_prometheus_rules() {
  mkdir "$work/rules"
  cp "$src"/rules/stormscope.rules.yml "$work/rules/"
  sed -E 's/^( *)for: .*/\1for: 0s/' "$src/rules/stormscope.alerts.yml" > "$work/rules/stormscope.alerts.yml"
  cat > "$work/prometheus.yml" <<YML
global: {evaluation_interval: 1s}
rule_files: ["$work/rules/*.yml"]
YML
}
start_prometheus() {
  local port
  port=$(free_port)
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address=127.0.0.1:$port --log.level=warn >"$work/prom.log" 2>&1 &
  prom_pid=$!
  url=http://127.0.0.1:$port
  wait_http "$url/-/ready" 30 || { cat "$work/prom.log"; exit 1; }
}

# The names of the rules Prometheus reports as unhealthy, with their errors (empty when all are ok).
unhealthy_rules() {
  curl -sf "$url/api/v1/rules" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["groups"]; bad=[x["name"]+": "+x.get("lastError","") for g in r for x in g["rules"] if x.get("health")!="ok"]; print("\n".join(bad))'
}
