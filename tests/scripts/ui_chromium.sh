#!/usr/bin/env bash
# Incident pages in a real browser: a collector fed a simulated scenario with every incident kind serves
# /ui/ and one page per kind; headless Chromium (Debian's package) loads each with no console errors,
# every chart has data (data-points > 0), and a screenshot of each is kept in BUILD/ui-screenshots/.
# `stormscope report --html` writes a file with no external references that renders with the network
# cut off (a fresh network namespace: no interface but loopback, down). Usage: ui_chromium.sh BUILD SRC
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
for tool in chromium curl python3 unshare timeout; do
  command -v $tool >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs it)"
done
collector=$build/collector/stormscope-collector cli=$build/cli/stormscope
for b in "$collector" "$cli"; do [ -x "$b" ] || { echo "missing $b: build it first"; exit 1; }; done
work=$(mktemp -d /tmp/ss_ui_chromium.XXXXXX)
shots=$build/ui-screenshots
rm -rf "$shots" && mkdir -p "$shots"
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# One browser run: chromium MODE URL [extra flags]; a fresh profile each time, bounded in time.
browse() {
  local out=$1 url=$2; shift 2
  local profile
  profile=$(mktemp -d "$work/profile.XXXXXX")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 --virtual-time-budget=3000 "$@" "$url" >"$out" 2>"$out.log" || {
    cat "$out.log"; fail "chromium failed on $url"; }
}
# Console messages of a run (errors, CSP violations, uncaught exceptions), one per line.
console_errors() { grep -E 'CONSOLE[:(]|Uncaught|Refused to|Failed to load' "$1.log" || true; }

# The check must be able to fail: a page with a script error is caught.
printf '<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction()</script></body></html>' >"$work/broken.html"
browse "$work/broken.dom" "file://$work/broken.html" --dump-dom
[ -n "$(console_errors "$work/broken.dom")" ] || { cat "$work/broken.dom.log"; fail "a script error was not seen in the console log"; }

port=$(free_port)
"$collector" --listen 127.0.0.1:$port --db "$work/db.sqlite" >"$work/collector.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
wait_http "$base/healthz" 30 || { cat "$work/collector.log"; fail "collector did not start"; }

# Two simulated hours with incidents of every kind (the OST imbalance ramps up on the second file system).
"$cli" simulate --seed 7 --duration 2h --nodes 8 --scenario incidents -o "$work/sim.jsonl" --truth "$work/truth.json"
"$cli" replay --collector "$base" "$work/sim.jsonl" >/dev/null
deadline=$(( $(date +%s) + 120 ))
until curl -sf "$base/api/v1/detect/status" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["queued"]==0 else 1)'; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "detection did not catch up"
  sleep 0.5
done
curl -sf "$base/api/v1/incidents?limit=100000" >"$work/incidents.json"
ids=$(python3 - "$work/incidents.json" <<'PY'
import json, sys
inc = json.load(open(sys.argv[1]))["incidents"]
for kind in ["metadata_storm", "waittime_spike", "ost_imbalance", "checkpoint_stall"]:
    mine = [i for i in inc if i["kind"] == kind]
    if not mine:
        sys.exit(f"no {kind} incident from the simulation")
    # The costliest of the kind: the page with the most to show.
    print(kind, max(mine, key=lambda i: (i["cost_usd"], i["end"] or 0))["id"])
PY
) || fail "$ids"
echo "$ids"
range=$(python3 -c 'import json,sys; inc=json.load(open(sys.argv[1]))["incidents"]; print("from=%d&to=%d" % (min(i["start"] for i in inc) - 600000, max((i["end"] or i["last_seen"]) for i in inc) + 600000))' "$work/incidents.json")

check_page() {  # name url min_charts
  local name=$1 url=$2 min=$3
  # One run dumps the DOM after the script ran and takes the screenshot.
  browse "$work/$name.dom" "$url" --dump-dom --screenshot="$shots/$name.png" --window-size=1200,2200 --hide-scrollbars
  local errors
  errors=$(console_errors "$work/$name.dom")
  [ -z "$errors" ] || fail "$name: console errors: $errors"
  python3 - "$work/$name.dom" "$name" "$min" <<'PY' || fail "$name: see above"
import re, sys
dom, name, least = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
counts = [int(n) for n in re.findall(r'<figure class="chart" data-points="(\d+)"', dom)]
if len(counts) < least: sys.exit(f"{name}: {len(counts)} charts, expected at least {least}")
if any(n == 0 for n in counts): sys.exit(f"{name}: a chart without data: {counts}")
if "<script>alert" in dom: sys.exit(f"{name}: unescaped script")
local = dom.count('class="local"')
print(f"{name}: {len(counts)} charts, points {counts}; local times added: {local}")
if local == 0: sys.exit(f"{name}: the inline script did not add local times")
PY
  [ -s "$shots/$name.png" ] || fail "$name: no screenshot"
}

check_page list "$base/ui/?$range" 1
while read -r kind id; do
  check_page "$kind" "$base/ui/incidents/$id" 1
done <<<"$ids"
# The dark theme of one page.
storm=$(awk '$1=="metadata_storm"{print $2}' <<<"$ids")
browse "$work/dark.out" "$base/ui/incidents/$storm" --screenshot="$shots/metadata_storm-dark.png" --window-size=1200,2200 \
  --hide-scrollbars --force-dark-mode --blink-settings=preferredColorScheme=0
[ -s "$shots/metadata_storm-dark.png" ] || fail "no dark screenshot"

# A report file: no external references, and it renders with no network at all.
"$cli" report --collector "$base" "$storm" --html "$work/report.html"
python3 - "$work/report.html" <<'PY' || fail "report.html has external references"
import re, sys
html = open(sys.argv[1]).read()
refs = [m for m in re.findall(r'(?:src|href|action|url\()\s*=?\s*["\']?([^"\' )>]+)', html) if not m.startswith("#")]
external = [r for r in refs if re.match(r"(?i)(https?:)?//", r)]
if external or "<link" in html or "@import" in html: sys.exit(f"external references: {external[:5]}")
PY
cp "$work/report.html" "$shots/report.html"
profile=$(mktemp -d "$work/profile.XXXXXX")
timeout 120 unshare --net chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
  --enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom "file://$work/report.html" \
  >"$work/report.dom" 2>"$work/report.dom.log" || { cat "$work/report.dom.log"; fail "chromium without network failed"; }
errors=$(console_errors "$work/report.dom")
[ -z "$errors" ] || fail "report.html: console errors: $errors"
grep -q 'data-points="[1-9]' "$work/report.dom" || fail "report.html: no chart with data"
! grep -q 'data-points="0"' "$work/report.dom" || fail "report.html: a chart without data"
# The text report and a range summary.
"$cli" report --collector "$base" "$storm" >"$work/report.txt"
grep -q '[▁▂▃▄▅▆▇█]' "$work/report.txt" || fail "text report has no sparkline: $(cat "$work/report.txt")"
from=$(sed 's/from=\([0-9]*\).*/\1/' <<<"$range") to=$(sed 's/.*to=\([0-9]*\)/\1/' <<<"$range")
"$cli" report --collector "$base" --from "$from" --to "$to" >"$work/range.txt"
grep -q 'Worst offenders' "$work/range.txt" || fail "range report: $(cat "$work/range.txt")"
if "$cli" report --collector "$base" nosuchincident 2>"$work/err"; then fail "an unknown id must fail"; fi
echo "screenshots in $shots: $(ls "$shots" | tr '\n' ' ')"
echo "ui pages in chromium: ok"
