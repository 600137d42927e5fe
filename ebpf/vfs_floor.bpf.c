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
