#!/usr/bin/env bash
# Stormscope's alert rules on the simulator's incidents, in a Prometheus from Debian's package on loopback:
# `stormscope simulate --format openmetrics` (a mixed scenario: incidents among confounders, with ground
# truth) is backfilled with promtool, shifted so that it ends now inside a metadata storm. The rule manager
# must fire that storm's alerts (rules loaded with `for: 0s`: Prometheus evaluates rules on the wall clock
# only), and every alert rule, evaluated over the whole simulated history with its real `for`, must fire for
# each injected incident with its labels and never without an injected cause (tests/scripts/rules_sim_check.py).
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
for tool in promtool prometheus curl python3; do
  command -v $tool >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs it)"
done
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"
stormscope=$build/cli/stormscope
[ -x "$stormscope" ] || skip "$stormscope not built"
work=$(mktemp -d)
prom_pid=
cleanup() { [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
check="python3 $src/tests/scripts/rules_sim_check.py"
sim=("$stormscope" simulate --seed "${SS_RULES_SIM_SEED:-3}" --scenario mixed --nodes 4 --gpus 2 --duration 3h --interval 10s)

# The schedule is relative to --start: find where the last long storm is, then start the run so that the
# data ends there, a few seconds ago.
"${sim[@]}" --start 2025-11-21T00:00:00Z -o /dev/null --truth "$work/schedule.json" 2>/dev/null
offset=$($check live-offset "$work/schedule.json")
live_ms=$(( ($(date +%s) - 5) * 1000 ))
"${sim[@]}" --start $(( live_ms - offset )) --format openmetrics -o "$work/sim.om" --truth "$work/truth.json"
awk -v cut="$(( live_ms / 1000 ))" '/^#/ || $NF + 0 <= cut' "$work/sim.om" > "$work/data.om"
promtool tsdb create-blocks-from openmetrics "$work/data.om" "$work/tsdb" >/dev/null

setup_prometheus_rules
# The alerts compare recorded series with their own history: backfill the recording rules over the run
# (what a site does after installing the rules), level by level (rules on recorded series need those
# first), restarting Prometheus on the completed data each time.
mkdir "$work/levels"
first_s=$(( (live_ms - offset) / 1000 ))
for level in $($check levels "$src/rules/stormscope.rules.yml" "$work/levels"); do
  start_prometheus
  promtool tsdb create-blocks-from rules --start=$first_s --end=$(( live_ms / 1000 )) --url="$url" \
    --eval-interval=15s --output-dir="$work/recorded" "$level" >"$work/backfill.log" 2>&1 ||
    { cat "$work/backfill.log"; exit 1; }
  kill "$prom_pid"; wait "$prom_pid" 2>/dev/null || true
  mv "$work"/recorded/* "$work/tsdb/"
done
start_prometheus

# Let the rule manager evaluate every group a few times on the live clock.
deadline=$(( $(date +%s) + 30 ))
until curl -sf "$url/api/v1/rules" | python3 -c 'import json,sys; g=json.load(sys.stdin)["data"]["groups"]; sys.exit(0 if g and all(x.get("lastEvaluation","0001").startswith("0001") is False for x in g) else 1)'; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "rules were not evaluated"; cat "$work/prom.log"; exit 1; }
  sleep 0.5
done
sleep 3
health=$(unhealthy_rules)
[ -z "$health" ] || { echo "rules failing in Prometheus:"; echo "$health"; exit 1; }

$check verify "$url" "$work/truth.json" "$src/rules/stormscope.alerts.yml" "$live_ms"
echo "rules on simulated incidents: ok"
