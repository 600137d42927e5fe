#!/usr/bin/env bash
# Remote write out, against the real receivers from Debian's packages on loopback: a collector forwards
# what agents ship to Prometheus 2.42 (--web.enable-remote-write-receiver) and to VictoriaMetrics at once.
# Prometheus is stopped for tens of seconds (the same code path as minutes: the sender retries with
# backoff and the batches wait in the disk queue), the collector is restarted meanwhile, then Prometheus
# comes back: every point arrives with the relabelled labels and its value, none is missing, none is sent
# twice, and VictoriaMetrics, whose endpoint stayed up, never waited for the other.
set -euo pipefail
build=$1 src=$2
. "$src/tests/scripts/lib.sh"
for tool in prometheus victoria-metrics curl python3; do
  command -v $tool >/dev/null || skip "$tool not installed (scripts/install-deps.sh installs it)"
done
exec python3 "$src/tests/scripts/remote_stack.py" write "$build" "$src"
