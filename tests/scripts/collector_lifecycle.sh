#!/usr/bin/env bash
# stormscope-collector as a process: --help/--version, configuration errors, SIGKILL then restart keeps every
# acknowledged batch exactly once (resent batches are duplicates), SIGTERM exits cleanly.
# Usage: collector_lifecycle.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
bin=$build/collector/stormscope-collector
command -v curl >/dev/null || skip "curl not installed"
[ -x "$bin" ] || { echo "missing $bin: build it first"; exit 1; }
dir=$(mktemp -d /tmp/ss_collector_life.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$dir/log" ] && cat "$dir/log"; exit 1; }

"$bin" --version | grep -q '^stormscope-collector [0-9]' || fail "--version"
"$bin" --help | grep -q -- '--listen' || fail "--help"
printf 'listen: 127.0.0.1:0\nlisten_adress: x\n' >"$dir/bad.yml"
if "$bin" --config "$dir/bad.yml" 2>"$dir/err"; then fail "unknown key accepted"; fi
grep -q 'listen_adress: unknown key' "$dir/err" || fail "unknown key message: $(cat "$dir/err")"
printf 'ingest: {max_body: 1}\n' >"$dir/bad2.yml"
if "$bin" --config "$dir/bad2.yml" --listen 127.0.0.1:0 --db "$dir/x.db" 2>"$dir/err"; then fail "unknown ingest key accepted"; fi
grep -q 'ingest.max_body: unknown key' "$dir/err" || fail "ingest key message: $(cat "$dir/err")"
# A module's section is read before anything is made: status 2 and no database.
for section in 'detect: {metadata_storm: {kk: 1}}' 'cost: {pricing: banana}' 'retention: {raw: forever}' \
               'remote_read: {max_samples: 0}' 'remote_write: [{url: "http://127.0.0.1:9/w", bogus: 1}]'; do
  printf '%s\n' "$section" >"$dir/bad3.yml"
  rc=0; "$bin" --config "$dir/bad3.yml" --listen 127.0.0.1:0 --db "$dir/sub/never.db" 2>"$dir/err" || rc=$?
  [ "$rc" = 2 ] || fail "'$section': exit status $rc, not 2: $(cat "$dir/err")"
  [ ! -e "$dir/sub" ] || fail "'$section': the database directory was made before the error"
done
rc=0; "$bin" --bogus-flag 2>"$dir/err" || rc=$?
[ "$rc" = 2 ] || fail "a bad flag exits $rc, not 2"

start() {
  : >"$dir/log"
  "$bin" --listen 127.0.0.1:0 --db "$dir/db.sqlite" >"$dir/log" 2>&1 &
  pid=$!
  url=
  for _ in $(seq 100); do
    url=$(grep -o 'ingest:  POST http://[0-9.:]*' "$dir/log" | sed 's/.*POST //' || true)
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  fail "collector did not start"
}
post() { curl -s -XPOST --data "$1" "$url/api/v1/ingest"; }
batch() { printf '{"node":"n1","seq":%d,"series":[{"name":"m_total","type":"counter","labels":{},"points":[[%d,%d]]}]}' "$1" $((1763700000000 + $1 * 1000)) "$1"; }

start
# A second collector on the same port fails (status 2, saying why) instead of sharing it.
port=${url##*:}
rc=0; "$bin" --listen "127.0.0.1:$port" --db "$dir/other.db" >"$dir/err2" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a second collector on port $port: exit status $rc, not 2: $(cat "$dir/err2")"
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$dir/err2" || fail "port in use: $(cat "$dir/err2")"
[ ! -e "$dir/other.db" ] || fail "the second collector made its database before failing"
# Unknown routes answer JSON too.
body=$(curl -s -w ' %{http_code}' "$url/no/such/route")
[ "$body" = '{"error":"no such endpoint: GET /no/such/route (docs/api.md)"} 404' ] || fail "unknown route: $body"
for s in 1 2 3 4 5; do [ "$(post "$(batch $s)")" = '{"accepted":1,"duplicate":false}' ] || fail "batch $s"; done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
start
for s in 1 2 3 4 5; do [ "$(post "$(batch $s)")" = '{"accepted":0,"duplicate":true}' ] || fail "resent batch $s after SIGKILL"; done
[ "$(post "$(batch 6)")" = '{"accepted":1,"duplicate":false}' ] || fail "batch 6"
n=$(curl -s -G --data-urlencode 'match=m_total' -d from=1763700000000 -d to=1763700010000 "$url/api/v1/query_range" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["series"][0]["points"]))')
[ "$n" = 6 ] || fail "expected 6 points after restart, got $n"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "SIGTERM exit status $rc"
grep -q 'stopped; every acknowledged batch' "$dir/log" || fail "no clean stop message"
echo "collector lifecycle: ok"
