/* Types shared by the VFS probes (vfs.bpf.c) and their user-space loader (agent/sources/vfs/).
 * Plain C with __u64-style types so both clang -target bpf (vmlinux.h) and g++ (<linux/types.h>) read it. */
#ifndef STORMSCOPE_EBPF_VFS_H
#define STORMSCOPE_EBPF_VFS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The op set of DESIGN.md §3; 0 means "not traced". Keep in step with vfs_op_name() in the loader. */
enum ss_vfs_op {
  SS_OP_NONE = 0,
  SS_OP_OPEN,
  SS_OP_STAT,
  SS_OP_READDIR,
  SS_OP_CREATE,
  SS_OP_UNLINK,
  SS_OP_MKDIR,
  SS_OP_RMDIR,
  SS_OP_RENAME,
  SS_OP_SETATTR,
  SS_OP_XATTR,
  SS_OP_CLOSE,
  SS_OP_READ,
  SS_OP_WRITE,
  SS_OP_FSYNC,
  SS_OP_COUNT
};

/* Metadata ops feed the hot-directory samples. */
#define SS_OP_IS_META(op) ((op) >= SS_OP_OPEN && (op) <= SS_OP_XATTR)

#define SS_NR_MAX 512            /* syscall numbers at or above this are not traced */
#define SS_ARG_NONE 0xff         /* "no such argument": dirfd AT_FDCWD, or no path */
#define SS_HIST_BUCKETS 40       /* log2(ns) buckets: bucket i holds [2^i, 2^(i+1)) ns, the last one the rest */
#define SS_PATH_MAX 256          /* bytes of a path read for attribution and samples (LPM key limit) */

/* How the BPF side handles one syscall number; user space fills the table from <sys/syscall.h>. */
enum ss_nr_flags {
  SS_NR_CREAT_FLAGS = 1, /* flags argument: O_CREAT turns open into create */
  SS_NR_RMDIR_FLAGS = 2, /* flags argument: AT_REMOVEDIR turns unlink into rmdir */
  SS_NR_HOW_FLAGS = 4,   /* openat2: flags live in struct open_how at the flags argument */
  SS_NR_BYTES = 8,       /* a positive return value counts as bytes */
};

struct ss_nr_info {
  __u8 op;       /* enum ss_vfs_op */
  __u8 fd_arg;   /* index of the fd / dirfd argument, SS_ARG_NONE for the current directory */
  __u8 path_arg; /* index of the path argument, SS_ARG_NONE for fd-based calls */
  __u8 flags;    /* enum ss_nr_flags */
  __u8 flags_arg;
  __u8 pad[3];
};

/* Aggregation key: per (cgroup, file system, op). A file system is its superblock's device number in the
 * kernel's encoding (major << 20 | minor), the same for every mount of it in every mount namespace. */
struct ss_op_key {
  __u64 cgroup_id;
  __u32 dev;
  __u32 op;
};

/* Per-CPU value; user space sums the CPUs. hist and sum_ns are weighted by the timing sample rate, so
 * sum(hist) estimates count (and equals it while every call is timed). */
struct ss_op_stats {
  __u64 count;
  __u64 errors;
  __u64 bytes;
  __u64 sum_ns;
  __u64 hist[SS_HIST_BUCKETS];
};

/* LPM-trie key: mount points (with a trailing '/') of the agent's mount table, for absolute paths; value: dev. */
struct ss_path_key {
  __u32 prefixlen; /* in bits */
  __u8 data[SS_PATH_MAX];
};

/* The first bytes of an absolute path: the key of the per-CPU attribution cache and of long_heads. */
#define SS_ATTR_HEAD 16
struct ss_path_head {
  __u64 w[SS_ATTR_HEAD / 8];
};

/* Hot-directory sample; `weight` estimates how many metadata ops it stands for. */
enum ss_sample_base {
  SS_BASE_ABSOLUTE = 0, /* path is absolute */
  SS_BASE_CWD = 1,      /* path is relative to the thread's working directory */
  SS_BASE_DIRFD = 2,    /* path is relative to directory fd `fd` */
  SS_BASE_FD = 3,       /* fd-based call on `fd` (getdents: the directory itself) */
};

struct ss_path_sample {
  __u64 cgroup_id;
  __u32 tgid;
  __u32 dev;
  __u32 weight;
  __s32 fd;
  __u8 op;
  __u8 base;
  __u8 pad[6];
  char comm[16];
  char path[SS_PATH_MAX];
};

/* Counters of the probe itself (array map, index by enum). */
enum ss_probe_counter {
  SS_CTR_MAP_FULL = 0,   /* an aggregation update failed (map full) */
  SS_CTR_SAMPLES_LOST,   /* ring buffer full */
  SS_CTR_NO_ENTRY,       /* sys_exit without entry state */
  SS_CTR_COUNT
};

#endif
