#!/usr/bin/env python3
"""The system-call mix of a training-like load, for bench_vfs_overhead --fs-share (docs/ebpf.md, "Choosing
the mode"). Runs a CPU-only stand-in for a training job (a PyTorch-style data loader: worker processes read
sample files, decode a little and batch through a multiprocessing queue; a training loop takes batches,
computes, and writes a checkpoint every 200 steps) while bpftrace counts its system calls by number, then
prints them split into the calls the vfs probes trace (ebpf/vfs_syscalls.h) and the rest.

Usage (root, x86-64, bpftrace installed): sudo python3 bench/syscall_mix.py [seconds] [data dir]
"""
import ctypes, multiprocessing as mp, os, random, re, subprocess, sys, time, zlib, array

COMM = "ss-mix"
HERE = os.path.dirname(os.path.abspath(__file__))


def set_comm():
    ctypes.CDLL(None).prctl(15, COMM.encode(), 0, 0, 0)  # PR_SET_NAME: bpftrace filters on it


def worker(files, q, wid):
    set_comm()
    rnd = random.Random(wid)
    batch = []
    while True:
        with open(rnd.choice(files), "rb") as f:
            data = f.read()
        batch.append(zlib.crc32(data) ^ sum(array.array("B", data[:4096])))
        if len(batch) == 32:
            q.put(batch)
            batch = []


def load(root, seconds):
    set_comm()
    os.makedirs(root, exist_ok=True)
    files = []
    for i in range(2000):
        p = os.path.join(root, "s%05d.bin" % i)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(os.urandom(random.randint(16, 128) * 1024))
        files.append(p)
    q = mp.Queue(maxsize=8)
    for w in range(2):
        mp.Process(target=worker, args=(files, q, w), daemon=True).start()
    end, step = time.time() + seconds, 0
    while time.time() < end:
        q.get()
        x = 0
        for _ in range(20000):  # the step a GPU would compute
            x += 1
        step += 1
        if step % 200 == 0:
            tmp = os.path.join(root, "ckpt.tmp")
            with open(tmp, "wb") as f:
                f.write(os.urandom(1 << 20))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(root, "ckpt"))
    return step


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 15
    root = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp/ss-syscall-mix"
    names = {}
    with open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") as f:
        for m in re.finditer(r"#define __NR_(\w+) (\d+)", f.read()):
            names[int(m.group(2))] = m.group(1)
    with open(os.path.join(HERE, "..", "ebpf", "vfs_syscalls.h")) as f:
        traced = set(re.findall(r"^SS_SYSCALL\((\w+),", f.read(), re.M))
    script = 'tracepoint:raw_syscalls:sys_enter /comm == "%s"/ { @[args->id] = count(); }' % COMM
    # tracefs in a private mount namespace, so the host's mounts are untouched.
    tracer = subprocess.Popen(["unshare", "-m", "sh", "-c",
                               "mount -t tracefs tracefs /sys/kernel/tracing && exec bpftrace -e '%s'" % script],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(5)  # attach
    steps = load(root, seconds)
    tracer.send_signal(2)
    out, _ = tracer.communicate(timeout=60)
    counts = {int(k): int(v) for k, v in re.findall(r"@\[(\d+)\]: (\d+)", out)}
    if not counts:
        sys.exit("no counts from bpftrace:\n" + out)
    total = sum(counts.values())
    fs = sum(v for k, v in counts.items() if names.get(k) in traced)
    print("%d steps in %.0f s; %d system calls, %.0f/s" % (steps, seconds, total, total / seconds))
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:12]:
        name = names.get(k, str(k))
        print("  %-14s %8d  %5.1f%%  %s" % (name, v, 100.0 * v / total, "traced" if name in traced else ""))
    print("file-system (traced) share: %.3f" % (fs / total))


if __name__ == "__main__":
    main()
