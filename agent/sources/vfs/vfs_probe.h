// Loads the VFS probes (ebpf/vfs.bpf.c) and reads what they aggregate. Only this file touches libbpf.
//
// Attach modes: fentry hooks the VFS functions themselves (only file-system calls pay; needs a kernel that
// allows tracing programs); tp_btf and raw_tp hook the generic sys_enter/sys_exit tracepoints (every system
// call of every task pays the hook and a filter); syscalls hooks syscalls:sys_enter_<name> per traced call
// (needs tracefs; every system call pays the kernel's syscall-tracing path, only traced calls run programs).
// See docs/ebpf.md for what each counts and costs.
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

enum class AttachMode { Auto, Fentry, TpBtf, RawTp, Syscalls };

// The tracepoint mode `auto` prefers after fentry, chosen by its cost on a GPU node's mix of system calls
// (docs/ebpf.md, "Choosing the mode").
inline constexpr AttachMode kDefaultTracepointMode = AttachMode::Syscalls;

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

// The kernel's run statistics of one loaded BPF program (counted only while kernel.bpf_stats_enabled is 1).
struct ProgramStats {
  uint32_t id = 0;
  std::string name;  // as the kernel keeps it (at most 15 characters)
  uint64_t runs = 0, run_ns = 0;
};

// Every BPF program loaded on the machine (bench_vfs_overhead --bpf-stats tells its own apart by id).
std::vector<ProgramStats> loaded_program_stats();

class Probe {
 public:
  // Opens, configures, loads and attaches. With AttachMode::Auto: fentry, then kDefaultTracepointMode, then
  // the others; a mode that fails leaves nothing loaded or attached. The error says what failed and why
  // (EPERM: not root / BPF not allowed / the kernel refuses the program type).
  static Result<std::unique_ptr<Probe>> load(const ProbeOptions& options);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  AttachMode mode() const { return mode_; }
  // How many programs the kernel had no hook for (a syscall tracepoint or VFS function it lacks).
  int missing_programs() const { return missing_programs_; }
  // Why the modes tried before mode() did not load (AttachMode::Auto), in order.
  const std::vector<std::string>& fallbacks() const { return fallbacks_; }

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
  int missing_programs_ = 0;
  std::vector<std::string> fallbacks_;
};

// Empty programs on the hooks of one mode (ebpf/vfs_floor.bpf.c): what the attach mechanism alone costs, the
// floor bench_vfs_overhead compares the probes with. Detached when destroyed.
class EmptyPrograms {
 public:
  static Result<std::unique_ptr<EmptyPrograms>> attach(AttachMode mode, bool mount_tracefs = true);
  ~EmptyPrograms();
  struct Impl;

 private:
  explicit EmptyPrograms(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ss::agent::vfs
