// Loads the VFS probes (ebpf/vfs.bpf.c) and reads what they aggregate. Only this file touches libbpf.
//
// Attach modes: tp_btf and raw_tp hook the generic sys_enter/sys_exit tracepoints (every system call of
// every task pays a small filter cost); syscalls hooks syscalls:sys_enter_<name> per traced call (needs
// tracefs; only traced calls pay, each somewhat more). See docs/ebpf.md for the measured costs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ebpf/vfs.h"

namespace ss::agent::vfs {

enum class AttachMode { Auto, TpBtf, RawTp, Syscalls };

std::string_view attach_mode_name(AttachMode mode);
Result<AttachMode> parse_attach_mode(std::string_view text);

// The DESIGN.md §3 op label of an ss_vfs_op, "" for SS_OP_NONE or out of range.
std::string_view op_name(uint32_t op);

struct ProbeOptions {
  AttachMode attach = AttachMode::Auto;
  uint32_t target_tgid = 0;        // trace only this process (tests); 0 = every process
  uint32_t ignore_tgid = 0;        // never trace this process (the agent itself)
  uint64_t timed_per_sec = 20000;  // per CPU, calls timed before timing switches to a sample; 0 = time all
  uint64_t samples_per_sec = 1000; // per CPU, hot-directory path samples; 0 = none
  uint64_t attributed_per_sec = 50000;  // per CPU, path-based calls attributed one by one; 0 = all
  uint32_t max_keys = 16384;       // (cgroup, mount, op) entries in the kernel map
  bool mount_tracefs = true;       // syscalls mode: mount tracefs at /sys/kernel/tracing when absent
};

// Summed over CPUs; cumulative since load.
struct OpCounts {
  ss_op_key key{};
  uint64_t count = 0, errors = 0, bytes = 0, sum_ns = 0;
  std::array<uint64_t, SS_HIST_BUCKETS> hist{};
};

// Kernel encoding of a device number (what the probes report): major << 20 | minor.
inline uint32_t kernel_dev(unsigned major, unsigned minor) { return (major << 20) | minor; }

struct WatchedMount {
  uint32_t dev = 0;  // kernel_dev(major, minor) of the mounted file system
  std::string mount_point;
  bool watched = false;  // counted; unwatched mounts are still in the prefix table so paths under them skip
  bool operator==(const WatchedMount&) const = default;
};

struct ProbeCounters {
  uint64_t map_full = 0, samples_lost = 0;
};

class Probe {
 public:
  // Opens, configures, loads and attaches. With AttachMode::Auto: the measured default first, then the
  // others in order of preference. The error says what failed and why (EPERM: not root / BPF not allowed).
  static Result<std::unique_ptr<Probe>> load(const ProbeOptions& options);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  AttachMode mode() const { return mode_; }
  // How many per-syscall tracepoints were missing (syscalls mode on kernels without some calls).
  int missing_tracepoints() const { return missing_tracepoints_; }

  // Replaces the mount-point prefix table and the watched file systems (pass the whole mount table, in
  // mountinfo order: a later mount on the same point hides an earlier one).
  Result<void> set_mounts(const std::vector<WatchedMount>& mounts);

  Result<std::vector<OpCounts>> read_counts() const;
  // Drops entries of cgroups that are gone (their final counts must have been read already).
  void forget(const std::vector<ss_op_key>& keys);
  ProbeCounters counters() const;

  // Waits up to timeout_ms for path samples and hands each to `sink`; returns how many, or an error.
  Result<int> poll_samples(int timeout_ms, const std::function<void(const ss_path_sample&)>& sink);

 struct Impl;  // defined in vfs_probe.cpp (libbpf types stay there)

 private:
  explicit Probe(std::unique_ptr<Impl> impl, AttachMode mode);
  std::unique_ptr<Impl> impl_;
  AttachMode mode_;
  int missing_tracepoints_ = 0;
};

}  // namespace ss::agent::vfs
