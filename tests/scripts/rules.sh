#!/usr/bin/env bash
# Alerting and recording rules: promtool check rules, then promtool's unit tests for every alert.
set -euo pipefail
src=$2
. "$src/tests/scripts/lib.sh"
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
promtool check rules "$src"/rules/*.yml
promtool test rules "$src"/rules/tests/*.yml
