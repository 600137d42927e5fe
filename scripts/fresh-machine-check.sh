#!/usr/bin/env bash
# First use on a fresh Debian 12, as the README tells it: a clean `debootstrap --variant=minbase bookworm` root
# made into a machine (/ a mount point, proc, sys, dev, cgroup2, bpffs, tracefs and debugfs mounted, as on a
# real machine or container), a fresh clone of this repository's HEAD in it, then the README's two commands:
# `scripts/run.sh` (with the Quick start's example commands run against it) and `scripts/test.sh`.
# Prints what each did and ends with a summary; exits 0 only when both worked.
#
# Usage (as root): scripts/fresh-machine-check.sh [WORK_DIR]
#   WORK_DIR        where the root is made (default: a new /var/tmp/stormscope-fresh.XXXXXX, removed at the end
#                   unless KEEP=1)
# Environment:
#   FRESH_CACHE     cache of the debootstrap tarball and of ccache (default /var/cache/stormscope); the first
#                   run downloads the base system once, later runs unpack it. The compile cache only makes
#                   re-runs faster: every package is still installed by the scripts themselves.
#   NO_CCACHE=1     compile from nothing (no cached objects).
#   DEBIAN_MIRROR   default http://deb.debian.org/debian
# It takes long: a full build and test run on the machine's cores (tens of minutes on 2 cores).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "fresh-machine-check: needs root (debootstrap, mounts, chroot)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse HEAD)
cache=${FRESH_CACHE:-/var/cache/stormscope}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=${1:-}
if [ -z "$work" ]; then
  work=$(mktemp -d /var/tmp/stormscope-fresh.XXXXXX)
  [ "${KEEP:-0}" = 1 ] || trap 'rm -rf --one-file-system "$work"' EXIT
fi
mkdir -p "$work"
root=$work/root
say() { printf '\n== fresh-machine-check %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

command -v debootstrap >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap

mkdir -p "$cache"
tarball=$cache/bookworm-minbase.tgz
if [ ! -s "$tarball" ]; then
  say "downloading the base system into $tarball (once)"
  rm -rf "$work/tarball-root"
  debootstrap --variant=minbase --make-tarball="$tarball.tmp" bookworm "$work/tarball-root" "$mirror"
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work/tarball-root"
fi
say "making a clean Debian 12 root in $root"
[ ! -e "$root" ] || { echo "fresh-machine-check: $root exists; give an empty WORK_DIR" >&2; exit 2; }
debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "fresh-machine" > "$root/etc/hostname"

say "cloning $repo at $commit into /root/stormscope"
git clone -q --no-checkout "$repo" "$root/root/stormscope"
git -C "$root/root/stormscope" checkout -q --detach "$commit"

ccache_env=()
if [ "${NO_CCACHE:-0}" != 1 ]; then
  mkdir -p "$cache/ccache" "$root/var/cache/ccache"
  ccache_env=(CCACHE_DIR=/var/cache/ccache)
fi

# Everything below runs in a private mount namespace: the root's mounts vanish with it, and nothing
# mounted inside reaches this machine's mount table.
export root work cache
export ccache_bind=${ccache_env:+1}
exec_in_root() {
  # The root is bind-mounted onto itself so that / is a mount point inside, as on a real machine.
  unshare --mount --propagation private -- bash -euo pipefail -c '
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup" 2>/dev/null || true
    mount -t bpf bpf "$root/sys/fs/bpf"
    mount -t tracefs tracefs "$root/sys/kernel/tracing" 2>/dev/null || true
    mount -t debugfs debugfs "$root/sys/kernel/debug" 2>/dev/null || true
    mount --rbind /dev "$root/dev"
    [ -z "$ccache_bind" ] || mount --bind "$cache/ccache" "$root/var/cache/ccache"
    exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 TERM=dumb "$@"' exec_in_root "$@"
}

# 1. scripts/run.sh, then the Quick start's commands against it from a second shell, then Ctrl-C.
say "scripts/run.sh (installs dependencies, builds, starts a collector and an agent; log $work/run.log)"
started=$(date +%s)
exec_in_root "${ccache_env[@]}" bash -c 'echo $$ > /root/run.pid; cd /root/stormscope && exec scripts/run.sh' \
  >"$work/run.log" 2>&1 &
run_pid=$!
run_ok=0
until grep -q 'run: Ctrl-C stops both' "$work/run.log"; do
  if ! kill -0 "$run_pid" 2>/dev/null; then
    echo "scripts/run.sh exited before the collector and agent were up:"; tail -40 "$work/run.log"; break
  fi
  sleep 5
done
quick_start_status=1
if kill -0 "$run_pid" 2>/dev/null; then
  run_ok=1
  say "scripts/run.sh is up after $(( $(date +%s) - started )) s:"
  grep '^run:' "$work/run.log"
  # The Quick start's examples, exactly as the README has them, from a second shell in the same machine.
  cat > "$root/root/quick-start.sh" <<'SH'
set -u
cd /root/stormscope
step() { printf '\n$ %s\n' "$*"; "$@"; echo "(exit $?)"; }
sleep 20
step build/cli/stormscope query --series '{node="'$(hostname)'"}'
step build/cli/stormscope storm --dir /tmp/storm --threads 2 --duration 30s
ended=$(date +%s)
printf '\n$ build/cli/stormscope incidents   (repeated until the storm is listed, 120 s at most)\n'
while :; do
  out=$(build/cli/stormscope incidents 2>&1); rc=$?
  if grep -q /tmp/storm <<<"$out"; then echo "$out"; echo "(exit $rc; listed $(( $(date +%s) - ended )) s after the storm ended)"; break; fi
  if [ $(( $(date +%s) - ended )) -ge 120 ]; then echo "$out"; echo "(exit $rc; the storm is not listed 120 s after it ended)"; break; fi
  sleep 5
done
step build/cli/stormscope plan --params 70B --gpus 32 --interval 10m --write 1GB/s 10GB/s
SH
  # A second shell on the same machine: run.sh's mount namespace and root.
  nsenter --target "$(cat "$root/root/run.pid")" --mount --root --wd=/ /usr/bin/env -i HOME=/root \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 bash /root/quick-start.sh 2>&1 | tee "$work/quick-start.log"
  grep -q 'listed .* s after the storm ended' "$work/quick-start.log" && ! grep -q '^(exit [1-9]' "$work/quick-start.log" &&
    quick_start_status=0
  say "Ctrl-C to scripts/run.sh"
  kill -INT "$(cat "$root/root/run.pid")" 2>/dev/null || true
fi
run_status=0
wait "$run_pid" || run_status=$?
tail -5 "$work/run.log"

# 2. scripts/test.sh, as CI runs it.
say "scripts/test.sh (log $work/test.log)"
started=$(date +%s)
test_status=0
exec_in_root "${ccache_env[@]}" bash -c 'cd /root/stormscope && exec scripts/test.sh' >"$work/test.log" 2>&1 ||
  test_status=$?
test_seconds=$(( $(date +%s) - started ))
grep -E 'install-deps: installing' "$work/test.log" "$work/run.log" | sed 's/^[^:]*://' | cut -c1-300 || true
sed -n '/tests passed\|tests failed/,$p' "$work/test.log" | tail -60

say "summary (commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "scripts/run.sh:  $([ $run_ok = 1 ] && echo "collector and agent came up" || echo "did NOT come up"), exit $run_status after Ctrl-C"
echo "quick start:     $([ $quick_start_status = 0 ] && echo "every example worked, the storm was listed" || echo "FAILED (see above)")"
echo "scripts/test.sh: exit $test_status after ${test_seconds} s"
[ $run_ok = 1 ] && [ $run_status = 0 ] && [ $quick_start_status = 0 ] && [ $test_status = 0 ]
