// SPDX-License-Identifier: GPL-2.0
// VFS probes: count, size and time the file-system system calls per (cgroup, mount, op), and sample the paths
// of metadata ops for the hot-directory view. See docs/ebpf.md for the method and its limits.
//
// Three attach modes share one body: tp_btf sys_enter/sys_exit (generic, trusted regs), raw_tp (the same
// hooks with CO-RE reads) and per-syscall tracepoints (syscalls:sys_enter_<name>, needs tracefs). The loader
// enables the programs of one mode only.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfs.h"

#include <asm/unistd.h> /* __NR_* for the per-syscall programs (the loader fills nr_table from the same) */

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD -100
#define O_CREAT 0100
#define AT_REMOVEDIR 0x200
#define WINDOW_CALLS 1024 /* the sampling rates are re-evaluated every this many calls per CPU */

/* Filled by user space before load (frozen afterwards, so the verifier and JIT see constants). */
const volatile struct ss_nr_info nr_table[SS_NR_MAX] = {};
const volatile __u32 target_tgid = 0;      /* trace only this process (tests); 0 = all */
const volatile __u32 ignore_tgid = 0;      /* never trace this process (the agent itself) */
const volatile __u64 timed_per_sec = 0;    /* time at most this many calls per second per CPU; 0 = all */
const volatile __u64 samples_per_sec = 0;  /* path samples per second per CPU; 0 = none */
/* Path-based calls attributed one by one per second per CPU; above that a random 1-in-2^k sample is, with
 * weight 2^k (reading the path costs more than the rest of the probe). 0 = every call. */
const volatile __u64 attributed_per_sec = 0;
/* Path bytes read for attribution: user space sets the length of the longest mount point that can change the
 * answer (so usually few bytes are copied; the copy is the dearest step of a path-based call). */
volatile __u32 attr_bytes = SS_PATH_MAX;
/* Bumped by user space after every change of mount_prefixes, long_heads or watched: cached answers of older
 * generations are ignored. */
volatile __u32 mount_gen = 1;

/* Per-thread state from sys_enter to sys_exit, only for timed calls and calls with a byte count. */
struct entry {
  struct ss_op_key key;
  __u64 ts; /* 0 when this call is not timed */
  __u8 active;
  __u8 sized;
  __u8 time_shift;
  __u8 in_flight; /* counted in unsized_in_flight */
};

/* Entries of calls without a byte count that are active now, over all threads: while it is 0 (a storm's
 * untimed calls) the exit of such a call returns without looking task storage up. A thread killed inside a
 * call leaves its count behind, which only makes exits look up as they would without this. */
__u64 unsized_in_flight = 0;

/* A per-CPU rate limit: over each window of WINDOW_CALLS calls it measures the rate and picks the shift k
 * such that one call in 2^k stays under the limit. */
struct thinning {
  __u64 calls;
  __u64 window_start;
  __u32 shift;
};

struct cpu_state {
  __u64 rng;               /* xorshift state: a sample's randomness without a helper call */
  struct thinning timed;   /* timing */
  struct thinning sampled; /* hot-directory path samples */
  struct thinning paths;   /* attribution of path-based calls */
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct entry);
} entries SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ss_op_key);
  __type(value, struct ss_op_stats);
} stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 4096);
  __type(key, struct ss_path_key);
  __type(value, __u32);
} mount_prefixes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* dev */
  __type(value, __u32);
} watched SEC(".maps");

/* The first SS_ATTR_HEAD bytes of the mount points longer than that which can change an answer: a path
 * starting with one of them needs the long read; any other path's answer depends on its head only. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct ss_path_head);
  __type(value, __u8);
} long_heads SEC(".maps");

/* Per-CPU direct-mapped caches of attribution answers, so that a storm under one directory pays neither the
 * LPM trie nor the watched lookup: path head -> (dev, watched), and dev -> watched for fd-based calls. */
#define ATTR_SLOTS 64
#define DEV_SLOTS 16
struct attr_cache {
  struct {
    struct ss_path_head head;
    __u32 dev;
    __u32 tag; /* generation << 1 | watched; 0 = empty */
  } path[ATTR_SLOTS];
  struct {
    __u32 dev;
    __u32 tag;
  } dev[DEV_SLOTS];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct attr_cache);
} attr_caches SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cpu_state);
} cpu_states SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ss_path_key);
} scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SS_CTR_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 which) {
  __u64 *c = bpf_map_lookup_elem(&counters, &which);
  if (c) *c += 1;
}

/* The sampling shift s such that rate >> s stays within limit_per_sec, from the time the last
 * WINDOW_CALLS calls took. */
static __always_inline __u32 shift_for(__u64 elapsed_ns, __u64 limit_per_sec) {
  if (elapsed_ns > 10000000000000ULL) elapsed_ns = 10000000000000ULL;
  __u64 budget = limit_per_sec * elapsed_ns;
  __u64 need = (__u64)WINDOW_CALLS * 1000000000ULL;
  __u32 s = 0;
  for (int i = 0; i < 16; i++) {
    if (need <= budget) break;
    need >>= 1;
    s++;
  }
  return s;
}

/* Counts a call and returns the current shift (0 while under the limit). */
static __always_inline __u32 thin(struct thinning *t, __u64 limit_per_sec) {
  t->calls++;
  if ((t->calls & (WINDOW_CALLS - 1)) == 0) {
    __u64 now = bpf_ktime_get_ns();
    t->shift = shift_for(now - t->window_start, limit_per_sec);
    t->window_start = now;
  }
  return t->shift & 31;
}

/* A per-CPU xorshift64: random enough to decorrelate the sample from a thread's call pattern, without
 * bpf_get_prandom_u32()'s helper call. */
static __always_inline __u32 next_random(struct cpu_state *st) {
  __u64 x = st->rng;
  if (!x) x = bpf_ktime_get_ns() | 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  st->rng = x;
  return (__u32)(x >> 32);
}

/* floor(log2(v)), 0 for 0; BPF has no count-leading-zeros instruction. */
static __always_inline __u32 log2_u64(__u64 v) {
  __u32 r = 0;
  if (v >> 32) { v >>= 32; r += 32; }
  if (v >> 16) { v >>= 16; r += 16; }
  if (v >> 8) { v >>= 8; r += 8; }
  if (v >> 4) { v >>= 4; r += 4; }
  if (v >> 2) { v >>= 2; r += 2; }
  if (v >> 1) r += 1;
  return r;
}

enum arg_mode { ARGS_BTF, ARGS_RAW, ARGS_ARRAY };

static __always_inline __u64 get_arg(enum arg_mode mode, void *ctx, __u32 i) {
  if (mode == ARGS_ARRAY) {
    const __u64 *a = ctx;
    switch (i) {
      case 0: return a[0];
      case 1: return a[1];
      case 2: return a[2];
      case 3: return a[3];
      case 4: return a[4];
      case 5: return a[5];
    }
    return 0;
  }
  /* No traced call needs a sixth argument (libbpf 1.1 has no PARM6 macros). */
  struct pt_regs *regs = ctx;
  if (mode == ARGS_BTF) {
    switch (i) {
      case 0: return PT_REGS_PARM1_SYSCALL(regs);
      case 1: return PT_REGS_PARM2_SYSCALL(regs);
      case 2: return PT_REGS_PARM3_SYSCALL(regs);
      case 3: return PT_REGS_PARM4_SYSCALL(regs);
      case 4: return PT_REGS_PARM5_SYSCALL(regs);
    }
    return 0;
  }
  switch (i) {
    case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
    case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
    case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
    case 3: return PT_REGS_PARM4_CORE_SYSCALL(regs);
    case 4: return PT_REGS_PARM5_CORE_SYSCALL(regs);
  }
  return 0;
}

/* The task is a BTF pointer: these are plain loads (faults read as 0), far cheaper than a helper call per
 * step. Only the fd table's variable index needs a probe read. */
static __always_inline __u32 dev_of(struct vfsmount *vfsmnt) {
  if (!vfsmnt) return 0;
  struct super_block *sb = vfsmnt->mnt_sb;
  return sb ? sb->s_dev : 0;
}

static __always_inline __u32 dev_of_fd(struct task_struct *task, int fd) {
  if (fd < 0) return 0;
  struct files_struct *files = task->files;
  if (!files) return 0;
  struct fdtable *fdt = files->fdt;
  if (!fdt || (unsigned int)fd >= fdt->max_fds) return 0;
  struct file **fds = fdt->fd;
  struct file *file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  if (!file) return 0;
  return BPF_CORE_READ(file, f_path.mnt, mnt_sb, s_dev); /* a plain pointer now: probe reads */
}

static __always_inline __u32 dev_of_cwd(struct task_struct *task) {
  struct fs_struct *fs = task->fs;
  return fs ? dev_of(fs->pwd.mnt) : 0;
}

static __always_inline __u32 cache_tag(__u32 gen, int watched) { return gen << 1 | (watched ? 1 : 0); }

/* Whether dev is watched, through the CPU's dev cache. */
static __always_inline int is_watched(struct attr_cache *c, __u32 gen, __u32 dev) {
  __u32 i = (dev ^ dev >> 20) & (DEV_SLOTS - 1);
  if (c->dev[i].dev == dev && c->dev[i].tag >> 1 == gen) return c->dev[i].tag & 1;
  __u32 *w = bpf_map_lookup_elem(&watched, &dev);
  int on = w && *w;
  c->dev[i].dev = dev;
  c->dev[i].tag = cache_tag(gen, on);
  return on;
}

/* The mount whose point is the longest prefix of the first len bytes in key->data. */
static __always_inline __u32 trie_lookup(struct ss_path_key *key, __u32 len) {
  key->prefixlen = len * 8;
  __u32 *id = bpf_map_lookup_elem(&mount_prefixes, key);
  return id ? *id : 0;
}

/* The mount of an absolute path: longest prefix in mount_prefixes over the first attr_bytes bytes. A
 * fixed-size copy: bytes past the string's end cannot create a false match (mount-point prefixes hold no
 * NUL). Near an unmapped page the copy fails; then the string copy. */
static __always_inline __u32 dev_of_long_path(const char *path) {
  __u32 zero = 0;
  struct ss_path_key *key = bpf_map_lookup_elem(&scratch, &zero);
  if (!key) return 0;
  __u32 len = attr_bytes;
  if (len == 0 || len > SS_PATH_MAX) len = SS_PATH_MAX;
  if (bpf_probe_read_user(key->data, len, path) != 0) {
    long n = bpf_probe_read_user_str(key->data, len, path);
    len = n > 1 ? (__u32)(n - 1) : 0;
  }
  return len ? trie_lookup(key, len) : 0;
}

/* Zeroes a head's bytes after the string's end, which a fixed-size copy fills with whatever follows, so that
 * a short path always makes the same cache key. (v - 0x01..) & ~v & 0x80.. marks the first zero byte exactly. */
static __always_inline void clear_after_nul(struct ss_path_head *h) {
  int ended = 0;
  for (int i = 0; i < SS_ATTR_HEAD / 8; i++) {
    __u64 v = h->w[i];
    if (ended) {
      h->w[i] = 0;
      continue;
    }
    __u64 z = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
    if (z) {
      h->w[i] = v & (((z & -z) >> 7) - 1);
      ended = 1;
    }
  }
}

/* Attribution of an absolute path whose head is `head`: from the CPU's cache, else the trie (and then the
 * cache, unless the head leads into a longer mount point). */
static __always_inline __u32 dev_of_head(struct attr_cache *c, __u32 gen, const struct ss_path_head *head,
                                         const char *path, int *watched) {
  __u64 h = head->w[0] * 0x9E3779B97F4A7C15ULL ^ head->w[1];
  __u32 i = (h ^ h >> 29) & (ATTR_SLOTS - 1);
  if (c->path[i].tag >> 1 == gen && c->path[i].head.w[0] == head->w[0] && c->path[i].head.w[1] == head->w[1]) {
    *watched = c->path[i].tag & 1;
    return c->path[i].dev;
  }
  if (bpf_map_lookup_elem(&long_heads, head)) {
    __u32 dev = dev_of_long_path(path);
    *watched = is_watched(c, gen, dev);
    return dev;
  }
  __u32 zero = 0;
  struct ss_path_key *key = bpf_map_lookup_elem(&scratch, &zero);
  if (!key) return 0;
  __builtin_memcpy(key->data, head, sizeof(*head));
  __u32 dev = trie_lookup(key, sizeof(*head));
  *watched = is_watched(c, gen, dev);
  c->path[i].head = *head;
  c->path[i].dev = dev;
  c->path[i].tag = cache_tag(gen, *watched);
  return dev;
}

static __always_inline void emit_sample(struct cpu_state *st, __u32 tgid, __u32 dev, __u8 op, __u8 base, int fd,
                                        const char *path, __u32 weight_shift) {
  __u32 shift = thin(&st->sampled, samples_per_sec);
  if (st->sampled.calls & ((1ULL << shift) - 1)) return;
  struct ss_path_sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
  if (!s) {
    bump(SS_CTR_SAMPLES_LOST);
    return;
  }
  s->cgroup_id = bpf_get_current_cgroup_id();
  s->tgid = tgid;
  s->dev = dev;
  s->weight = 1U << ((shift + weight_shift) & 31);
  s->fd = fd;
  s->op = op;
  s->base = base;
  bpf_get_current_comm(s->comm, sizeof(s->comm));
  s->path[0] = 0;
  if (path) bpf_probe_read_user_str(s->path, sizeof(s->path), path);
  bpf_ringbuf_submit(s, 0);
}

/* Counts one call of a watched file system, exactly (with its sample weight), so that most calls need no
 * per-thread state: only timed calls and calls with a byte count carry an entry to the exit (task storage
 * cost about 7% of a stat() when paid per call). Then the hot-directory sample of metadata ops. */
static __always_inline void record(struct cpu_state *st, struct task_struct *task, __u32 tgid, __u32 dev, __u8 op,
                                   int sized, __u32 weight_shift, __u8 base, int fd, const char *path) {
  struct ss_op_key key = {.cgroup_id = bpf_get_current_cgroup_id(), .dev = dev, .op = op};
  struct ss_op_stats *s = bpf_map_lookup_elem(&stats, &key);
  if (!s) {
    static const struct ss_op_stats empty = {};
    if (bpf_map_update_elem(&stats, &key, &empty, BPF_NOEXIST) && bpf_map_lookup_elem(&stats, &key) == 0) {
      bump(SS_CTR_MAP_FULL);
      return;
    }
    s = bpf_map_lookup_elem(&stats, &key);
    if (!s) return;
  }
  s->count += 1ULL << weight_shift;

  __u32 time_shift = timed_per_sec ? thin(&st->timed, timed_per_sec) : 0; /* 0: time every call */
  int timed = (st->timed.calls & ((1ULL << time_shift) - 1)) == 0;
  if (timed || sized) {
    struct entry *e = bpf_task_storage_get(&entries, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (e) {
      int carried = e->active && e->in_flight; /* an exit that never ran keeps its count */
      if (!carried && !sized) __sync_fetch_and_add(&unsized_in_flight, 1);
      e->in_flight = carried || !sized;
      e->key = key;
      e->active = 1;
      e->sized = sized != 0;
      e->time_shift = time_shift + weight_shift < 31 ? time_shift + weight_shift : 31;
      e->ts = timed ? bpf_ktime_get_ns() : 0;
    }
  }

  if (samples_per_sec && SS_OP_IS_META(op) && (path || fd >= 0))
    emit_sample(st, tgid, dev, op, base, fd, path, weight_shift);
}

static __always_inline int on_enter(enum arg_mode mode, void *ctx, long nr) {
  if ((unsigned long)nr >= SS_NR_MAX) return 0;
  __u8 op = nr_table[nr].op;
  if (!op) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (target_tgid && tgid != target_tgid) return 0;
  if (ignore_tgid && tgid == ignore_tgid) return 0;
  __u32 zero = 0;
  struct cpu_state *st = bpf_map_lookup_elem(&cpu_states, &zero);
  if (!st) return 0;

  /* Above attributed_per_sec, only a random sample of the path-based calls is read and counted (with its
   * weight): the rest return here, at a tenth of the cost. Random, so that a thread alternating between two
   * mounts is not always caught on the same one. */
  __u8 path_arg = nr_table[nr].path_arg;
  __u32 weight_shift = 0;
  if (attributed_per_sec && path_arg != SS_ARG_NONE) {
    weight_shift = thin(&st->paths, attributed_per_sec);
    if (weight_shift && (next_random(st) & ((1U << weight_shift) - 1))) return 0;
  }

  __u8 flags = nr_table[nr].flags;
  if (flags & (SS_NR_CREAT_FLAGS | SS_NR_RMDIR_FLAGS | SS_NR_HOW_FLAGS)) {
    __u64 f = get_arg(mode, ctx, nr_table[nr].flags_arg);
    if (flags & SS_NR_HOW_FLAGS) {
      __u64 how_flags = 0;
      bpf_probe_read_user(&how_flags, sizeof(how_flags), (void *)f); /* struct open_how starts with flags */
      f = how_flags;
    }
    if ((flags & (SS_NR_CREAT_FLAGS | SS_NR_HOW_FLAGS)) && (f & O_CREAT)) op = SS_OP_CREATE;
    if ((flags & SS_NR_RMDIR_FLAGS) && (f & AT_REMOVEDIR)) op = SS_OP_RMDIR;
  }

  /* File-system attribution: fd-based calls through the file's mount; absolute paths through the longest
   * watched mount-point prefix; relative paths through the dirfd's or the working directory's mount. */
  struct attr_cache *cache = bpf_map_lookup_elem(&attr_caches, &zero);
  if (!cache) return 0;
  __u32 gen = mount_gen;
  struct task_struct *task = bpf_get_current_task_btf();
  __u8 fd_arg = nr_table[nr].fd_arg;
  int fd = fd_arg == SS_ARG_NONE ? AT_FDCWD : (int)get_arg(mode, ctx, fd_arg);
  const char *path = path_arg == SS_ARG_NONE ? 0 : (const char *)get_arg(mode, ctx, path_arg);
  __u32 dev = 0;
  int on = 0;
  __u8 base;
  struct ss_path_head head = {};
  if (path && bpf_probe_read_user(&head, sizeof(head), path) != 0) {
    /* Near an unmapped page: the string copy of what is there (a short path). */
    bpf_probe_read_user_str(&head, sizeof(head), path);
  }
  clear_after_nul(&head);
  if (path && (head.w[0] & 0xff) == '/') {
    dev = dev_of_head(cache, gen, &head, path, &on);
    base = SS_BASE_ABSOLUTE;
  } else {
    if (path) {
      dev = fd == AT_FDCWD ? dev_of_cwd(task) : dev_of_fd(task, fd);
      base = fd == AT_FDCWD ? SS_BASE_CWD : SS_BASE_DIRFD;
    } else {
      dev = dev_of_fd(task, fd);
      base = SS_BASE_FD;
    }
    on = is_watched(cache, gen, dev);
  }
  if (!on) return 0;
  record(st, task, tgid, dev, op, flags & SS_NR_BYTES, weight_shift, base, fd, path);
  return 0;
}

/* The exit of a call that record() gave an entry: its error, bytes and time. */
static __always_inline int finish(long ret, int sized) {
  if (!sized && !*(volatile __u64 *)&unsized_in_flight) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct entry *e = bpf_task_storage_get(&entries, task, 0, 0);
  if (!e || !e->active) return 0;
  e->active = 0;
  if (e->in_flight) {
    e->in_flight = 0;
    __sync_fetch_and_add(&unsized_in_flight, -1);
  }
  struct ss_op_stats *s = bpf_map_lookup_elem(&stats, &e->key);
  if (!s) return 0;
  __u64 ts = e->ts;
  __u64 weight = 1ULL << (e->time_shift & 31);
  /* Errors are exact for calls with a byte count, else estimated from the timed sample. */
  if (ret < 0)
    s->errors += e->sized ? 1 : weight;
  else if (e->sized)
    s->bytes += ret;
  if (ts) {
    __u64 ns = bpf_ktime_get_ns() - ts;
    __u32 b = log2_u64(ns);
    if (b >= SS_HIST_BUCKETS) b = SS_HIST_BUCKETS - 1;
    s->hist[b] += weight;
    s->sum_ns += ns * weight;
  }
  return 0;
}

static __always_inline int on_exit(long nr, long ret) {
  if ((unsigned long)nr >= SS_NR_MAX || !nr_table[nr].op) return 0;
  return finish(ret, nr_table[nr].flags & SS_NR_BYTES);
}

/* --- generic hooks: every system call passes here, so the first test is the syscall number --- */

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR_BTF(regs) ((regs)->orig_ax)
#define SYSCALL_NR_CORE(regs) BPF_CORE_READ((regs), orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR_BTF(regs) ((regs)->syscallno)
#define SYSCALL_NR_CORE(regs) BPF_CORE_READ((regs), syscallno)
#else
#error "syscall number access not written for this architecture"
#endif

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id) { return on_enter(ARGS_BTF, regs, id); }

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_sys_exit, struct pt_regs *regs, long ret) { return on_exit(SYSCALL_NR_BTF(regs), ret); }

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id) { return on_enter(ARGS_RAW, regs, id); }

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret) { return on_exit(SYSCALL_NR_CORE(regs), ret); }

/* --- per-syscall tracepoints: only the traced calls pay, each a little more --- */

struct sc_enter_ctx {
  __u64 common;
  int nr;
  int pad;
  __u64 args[6];
};

struct sc_exit_ctx {
  __u64 common;
  int nr;
  int pad;
  long ret;
};

/* Copies only the arguments the tracepoint has: its context is no larger, and attach checks that. The
 * syscall number is a constant of each program, so the verifier folds its nr_table entry (read-only once
 * loaded) into constants and drops the branches that do not apply. */
#define SC_TRACE(nr, name, nargs)                                                         \
  SEC("tracepoint/syscalls/sys_enter_" #name)                                             \
  int sc_enter_##name(struct sc_enter_ctx *ctx) {                                         \
    __u64 a[6] = {};                                                                      \
    if (nargs > 0) a[0] = ctx->args[0];                                                   \
    if (nargs > 1) a[1] = ctx->args[1];                                                   \
    if (nargs > 2) a[2] = ctx->args[2];                                                   \
    if (nargs > 3) a[3] = ctx->args[3];                                                   \
    if (nargs > 4) a[4] = ctx->args[4];                                                   \
    if (nargs > 5) a[5] = ctx->args[5];                                                   \
    return on_enter(ARGS_ARRAY, a, nr);                                                   \
  }                                                                                       \
  SEC("tracepoint/syscalls/sys_exit_" #name)                                              \
  int sc_exit_##name(struct sc_exit_ctx *ctx) { return on_exit(nr, ctx->ret); }

#define SS_SYSCALL(nr, tp, nargs, op, fd, path, flags, flags_arg) SC_TRACE(__NR_##nr, tp, nargs)
#include "vfs_syscalls.h"

/* --- fentry/fexit on the VFS functions: only calls that reach a file system pay, other system calls nothing.
 * Kernels that refuse tracing programs (EPERM at load, as the development kernel does) fall back to the
 * tracepoints. What differs from the system-call view is in docs/ebpf.md: calls that fail before reaching
 * the file system (a lookup's ENOENT) are not seen, and the file system is known exactly from the objects. */

static __always_inline int vfs_enter(__u8 op, __u32 dev, int sized) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (target_tgid && tgid != target_tgid) return 0;
  if (ignore_tgid && tgid == ignore_tgid) return 0;
  __u32 zero = 0;
  struct cpu_state *st = bpf_map_lookup_elem(&cpu_states, &zero);
  struct attr_cache *cache = bpf_map_lookup_elem(&attr_caches, &zero);
  if (!st || !cache || !is_watched(cache, mount_gen, dev)) return 0;
  record(st, bpf_get_current_task_btf(), tgid, dev, op, sized, 0, SS_BASE_FD, -1, 0);
  return 0;
}

/* An int, ssize_t or ERR_PTR return value as an error number (0 for success). */
static __always_inline long as_error(__u64 ret) {
  int lo = (int)ret;
  __u64 hi = ret >> 32;
  return lo < 0 && lo >= -4095 && (hi == 0 || hi == 0xffffffff) ? lo : 0;
}

static __always_inline __u32 dev_of_file(struct file *f) { return f ? dev_of(f->f_path.mnt) : 0; }
static __always_inline __u32 dev_of_dentry(struct dentry *d) { return d && d->d_sb ? d->d_sb->s_dev : 0; }
static __always_inline __u32 dev_of_inode(struct inode *i) { return i && i->i_sb ? i->i_sb->s_dev : 0; }

#define FE_PAIR(fn, args, ret_args, enter)                        \
  SEC("fentry/" #fn) int BPF_PROG(fe_##fn, args) { return enter; } \
  SEC("fexit/" #fn) int BPF_PROG(fe_##fn##_ret, ret_args, long ret) { return finish(as_error(ret), 0); }
#define ARGS(...) __VA_ARGS__
#define SIZED_RET(fn, args, ret_args, op, file)                                                     \
  SEC("fentry/" #fn) int BPF_PROG(fe_##fn, args) { return vfs_enter(op, dev_of_file(file), 1); }      \
  SEC("fexit/" #fn) int BPF_PROG(fe_##fn##_ret, ret_args, long ret) { return finish(ret, 1); }

FE_PAIR(vfs_getattr, ARGS(const struct path *path), ARGS(const struct path *path, void *st, __u32 mask, __u32 fl),
        vfs_enter(SS_OP_STAT, path ? dev_of(path->mnt) : 0, 0))
FE_PAIR(vfs_open, ARGS(const struct path *path, struct file *file), ARGS(const struct path *path, struct file *file),
        vfs_enter(file && (file->f_flags & O_CREAT) ? SS_OP_CREATE : SS_OP_OPEN, path ? dev_of(path->mnt) : 0, 0))
FE_PAIR(iterate_dir, ARGS(struct file *file), ARGS(struct file *file, void *dctx),
        vfs_enter(SS_OP_READDIR, dev_of_file(file), 0))
FE_PAIR(vfs_fsync_range, ARGS(struct file *file), ARGS(struct file *file, long long a, long long b, int d),
        vfs_enter(SS_OP_FSYNC, dev_of_file(file), 0))
FE_PAIR(filp_flush, ARGS(struct file *file), ARGS(struct file *file, void *id), vfs_enter(SS_OP_CLOSE, dev_of_file(file), 0))
FE_PAIR(vfs_create, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d, __u16 m, bool e),
        vfs_enter(SS_OP_CREATE, dev_of_inode(dir), 0))
FE_PAIR(vfs_mknod, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d, __u16 m, __u32 dv),
        vfs_enter(SS_OP_CREATE, dev_of_inode(dir), 0))
FE_PAIR(vfs_symlink, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d, void *n),
        vfs_enter(SS_OP_CREATE, dev_of_inode(dir), 0))
FE_PAIR(vfs_link, ARGS(struct dentry *old), ARGS(struct dentry *old, void *idmap, void *dir, void *d, void *dl),
        vfs_enter(SS_OP_CREATE, dev_of_dentry(old), 0))
FE_PAIR(vfs_unlink, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d, void *dl),
        vfs_enter(SS_OP_UNLINK, dev_of_inode(dir), 0))
FE_PAIR(vfs_mkdir, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d, __u16 m),
        vfs_enter(SS_OP_MKDIR, dev_of_inode(dir), 0))
FE_PAIR(vfs_rmdir, ARGS(void *idmap, struct inode *dir), ARGS(void *idmap, struct inode *dir, void *d),
        vfs_enter(SS_OP_RMDIR, dev_of_inode(dir), 0))
FE_PAIR(vfs_rename, ARGS(struct renamedata *rd), ARGS(struct renamedata *rd),
        vfs_enter(SS_OP_RENAME, rd ? dev_of_dentry(rd->old_dentry) : 0, 0))
FE_PAIR(notify_change, ARGS(void *idmap, struct dentry *d), ARGS(void *idmap, struct dentry *d, void *a, void *dl),
        vfs_enter(SS_OP_SETATTR, dev_of_dentry(d), 0))
FE_PAIR(vfs_getxattr, ARGS(void *idmap, struct dentry *d), ARGS(void *idmap, struct dentry *d, void *n, void *v, __u64 s),
        vfs_enter(SS_OP_XATTR, dev_of_dentry(d), 0))
FE_PAIR(vfs_setxattr, ARGS(void *idmap, struct dentry *d),
        ARGS(void *idmap, struct dentry *d, void *n, void *v, __u64 s, int f), vfs_enter(SS_OP_XATTR, dev_of_dentry(d), 0))
FE_PAIR(vfs_removexattr, ARGS(void *idmap, struct dentry *d), ARGS(void *idmap, struct dentry *d, void *n),
        vfs_enter(SS_OP_XATTR, dev_of_dentry(d), 0))
FE_PAIR(vfs_listxattr, ARGS(struct dentry *d), ARGS(struct dentry *d, void *l, __u64 s),
        vfs_enter(SS_OP_XATTR, dev_of_dentry(d), 0))
SIZED_RET(vfs_read, ARGS(struct file *file), ARGS(struct file *file, void *b, __u64 c, void *p), SS_OP_READ, file)
SIZED_RET(vfs_readv, ARGS(struct file *file), ARGS(struct file *file, void *v, __u64 n, void *p, int f), SS_OP_READ, file)
SIZED_RET(vfs_write, ARGS(struct file *file), ARGS(struct file *file, void *b, __u64 c, void *p), SS_OP_WRITE, file)
SIZED_RET(vfs_writev, ARGS(struct file *file), ARGS(struct file *file, void *v, __u64 n, void *p, int f), SS_OP_WRITE, file)
