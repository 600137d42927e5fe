// The `vfs` source: eBPF probes on the file-system system calls (ebpf/vfs.bpf.c), exported as vfs_ops_total,
// vfs_bytes_total, vfs_op_errors_total, vfs_op_duration_seconds and `vfs_hot_dirs` events.
// Configured by `sources.vfs` (docs/ebpf.md). Loading needs root; until it succeeds every cycle reports the
// reason as an error (source_up 0) and retries now and then, and the agent goes on.
#pragma once

#include <memory>

#include "agent/source.h"
#include "agent/sources/vfs/vfs_probe.h"
#include "common/config.h"

namespace ss::agent {

struct VfsOptions {
  bool enabled = true;
  vfs::ProbeOptions probe;
  std::vector<std::string> fstypes;  // watched file-system types; empty = every non-pseudo file system
  size_t top_jobs = 20;
  size_t hot_dirs = 10;  // directories per vfs_hot_dirs event; 0 = no events (and no path samples)
  std::string cgroup_root;  // "" = the cgroup2 mount from the mount table
  int64_t retry_ms = 60'000;
};

Result<VfsOptions> parse_vfs_options(const config::Section& section);

// nullptr when `enabled: false`. Never fails because BPF is unavailable: that shows at collect().
Result<std::unique_ptr<Source>> make_vfs_source(const config::Section& section, const AgentContext& ctx);
std::unique_ptr<Source> make_vfs_source(const VfsOptions& options, const AgentContext& ctx);

// Pseudo file systems (proc, sysfs, cgroup, ...) that are never watched by default.
bool is_pseudo_fstype(std::string_view fstype);

}  // namespace ss::agent
