#!/usr/bin/env bash
# `stormscope replay` sends a JSON-lines file to a collector (a second replay is all duplicates, a bad line
# is reported with its number) and `stormscope query` reads it back. Usage: cli_replay_query.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
collector=$build/collector/stormscope-collector
cli=$build/cli/stormscope
for b in "$collector" "$cli"; do [ -x "$b" ] || { echo "missing $b: build it first"; exit 1; }; done

dir=$(mktemp -d /tmp/ss_cli_replay.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$collector" --listen 127.0.0.1:0 --db "$dir/db.sqlite" >"$dir/log" 2>&1 &
pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'ingest:  POST http://[0-9.:]*' "$dir/log" | sed 's/.*POST //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$dir/log"; fail "collector did not start"; }

# Three batches of one counter with a reset in the middle.
t0=1763700000000
for seq in 1 2 3; do
  v1=$(( seq == 3 ? 1 : seq * 10 )); v2=$(( seq == 3 ? 11 : seq * 10 + 5 ))
  printf '{"node":"gpu1","seq":%d,"series":[{"name":"lustre_client_rpcs_total","type":"counter","labels":{"fs":"ai0","target":"ai0-OST0000"},"points":[[%d,%d],[%d,%d]]}]}\n' \
    "$seq" $((t0 + (seq - 1) * 20000)) "$v1" $((t0 + (seq - 1) * 20000 + 10000)) "$v2"
done >"$dir/batches.jsonl"

out=$("$cli" replay --collector "$url" "$dir/batches.jsonl")
echo "$out"
grep -q 'replayed 3 batches.*6 points stored, 0 duplicates' <<<"$out" || fail "first replay: $out"
out=$("$cli" replay --collector "$url" "$dir/batches.jsonl")
grep -q '3 duplicates' <<<"$out" || fail "second replay should be all duplicates: $out"

printf '{"node":"gpu1","seq":4}\n{"node":"gpu1"}\n' >"$dir/bad.jsonl"
if err=$("$cli" replay --collector "$url" "$dir/bad.jsonl" 2>&1); then fail "a bad line must fail the replay"; fi
grep -q 'bad.jsonl:2: .*seq' <<<"$err" || fail "bad line not reported with its number: $err"

json=$("$cli" query --collector "$url" --from $t0 --to $((t0 + 60000)) --json 'lustre_client_rpcs_total{fs="ai0"}')
n=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["series"][0]["points"]))' <<<"$json")
[ "$n" = 6 ] || fail "expected 6 points back, got $n: $json"
table=$("$cli" query --collector "$url" --from 2025-11-21T04:40:00Z --to $((t0 + 60000)) --rate 'lustre_client_rpcs_total')
echo "$table"
grep -q '2025-11-21T04:40:50' <<<"$table" || fail "rate table lacks the point after the reset: $table"
grep -q '1 series, 5 points' <<<"$table" || fail "rate table: $table"
series=$("$cli" query --collector "$url" --series '{node="gpu1"}')
grep -q 'lustre_client_rpcs_total{fs="ai0",node="gpu1",target="ai0-OST0000"}' <<<"$series" || fail "series: $series"
if "$cli" query --collector "$url" 'x{a=' 2>"$dir/err"; then fail "a bad selector must fail"; fi
grep -q 'selector' "$dir/err" || fail "bad selector error: $(cat "$dir/err")"

# Large counters print in full in the table, not as 4.4482e+06.
printf '{"node":"gpu1","seq":9,"series":[{"name":"big_total","type":"counter","labels":{},"points":[[%d,4448213]]}]}\n' \
  $((t0 + 30000)) >"$dir/big.jsonl"
"$cli" replay --collector "$url" "$dir/big.jsonl" >/dev/null
table=$("$cli" query --collector "$url" --from $t0 --to $((t0 + 60000)) big_total)
grep -q ' 4448213$' <<<"$table" || fail "a large counter does not print in full: $table"

# Errors: a usage error exits 2 and says what was wrong.
expect_error() {  # expect_error STATUS PATTERN CMD...: the command exits STATUS and its stderr matches PATTERN
  local want=$1 pattern=$2 rc=0; shift 2
  "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  [ "$rc" = "$want" ] || fail "$*: exit status $rc, not $want: $(cat "$dir/err")"
  grep -q -- "$pattern" "$dir/err" || fail "$*: the error does not say '$pattern': $(cat "$dir/err")"
}
expect_error 2 'bogus' "$cli" query --bogus x
expect_error 2 'unknown subcommand "qeury"' "$cli" qeury x
expect_error 2 'missing unit' "$cli" plan --params 70B --gpus 32 --interval 10 --write 1GB/s
expect_error 2 'now-1h' "$cli" query --collector "$url" --from yesterday x
closed=$(free_port)
expect_error 1 "http://127.0.0.1:$closed/api/v1/series: cannot connect to 127.0.0.1:$closed: Connection refused" \
  "$cli" query --collector "http://127.0.0.1:$closed" --series x
expect_error 2 "http://127.0.0.1:$closed/api/v1/incidents: cannot connect" "$cli" incidents --collector "http://127.0.0.1:$closed"
code=$(curl -s -o "$dir/out" -w '%{http_code}' -G --data-urlencode 'match=big_total' -d rate=banana "$url/api/v1/query_range")
[ "$code" = 400 ] && grep -q 'rate=banana' "$dir/out" || fail "rate=banana answered $code: $(cat "$dir/out")"

# storm makes a missing --dir, and removes it afterwards.
"$cli" storm --dir "$dir/new/storm-here" --threads 1 --duration 200ms --ops stat >"$dir/out" || fail "storm: $(cat "$dir/out")"
[ ! -e "$dir/new/storm-here" ] || fail "storm left the directory it made"
echo "replay, query and errors: ok"
