// SPDX-License-Identifier: GPL-2.0
// Empty programs on the hooks of each attach mode of vfs.bpf.c: what the attach mechanism alone costs (the
// mode's floor, which no program on those hooks can beat). Only bench_vfs_overhead loads them.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id) { return 0; }

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_sys_exit, struct pt_regs *regs, long ret) { return 0; }

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id) { return 0; }

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret) { return 0; }

#define SS_SYSCALL(nr, tp, nargs, op, fd, path, flags, flags_arg)                 \
  SEC("tracepoint/syscalls/sys_enter_" #tp) int sc_enter_##tp(void *ctx) { return 0; } \
  SEC("tracepoint/syscalls/sys_exit_" #tp) int sc_exit_##tp(void *ctx) { return 0; }
#include "vfs_syscalls.h"

/* fentry mode: an empty pair on each VFS function vfs.bpf.c hooks (refused where tracing programs are). */
#define FE_EMPTY(fn)                                                \
  SEC("fentry/" #fn) int fe_##fn(void *ctx) { return 0; }           \
  SEC("fexit/" #fn) int fe_##fn##_ret(void *ctx) { return 0; }
FE_EMPTY(vfs_getattr)
FE_EMPTY(vfs_open)
FE_EMPTY(iterate_dir)
FE_EMPTY(vfs_fsync_range)
FE_EMPTY(filp_flush)
FE_EMPTY(vfs_create)
FE_EMPTY(vfs_mknod)
FE_EMPTY(vfs_symlink)
FE_EMPTY(vfs_link)
FE_EMPTY(vfs_unlink)
FE_EMPTY(vfs_mkdir)
FE_EMPTY(vfs_rmdir)
FE_EMPTY(vfs_rename)
FE_EMPTY(notify_change)
FE_EMPTY(vfs_getxattr)
FE_EMPTY(vfs_setxattr)
FE_EMPTY(vfs_removexattr)
FE_EMPTY(vfs_listxattr)
FE_EMPTY(vfs_read)
FE_EMPTY(vfs_readv)
FE_EMPTY(vfs_write)
FE_EMPTY(vfs_writev)
