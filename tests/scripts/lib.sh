# Helpers for the shell-driven tests (sourced, not a test itself). Each test gets: $1 build dir, $2 source dir.

skip() { echo "SKIP: $*"; exit 77; }

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
