// Turns the probes' cumulative per-(cgroup, mount, op) counts into the exported series (DESIGN.md §3):
// vfs_ops_total{fstype,fs,mount,op,job}, vfs_bytes_total{fstype,fs,mount,op,job}, vfs_op_errors_total{fstype,fs,mount,op}
// and the histogram vfs_op_duration_seconds{fstype,fs,mount,op}. Pure: no BPF, no files.
//
// The kernel keys come and go (dead cgroups are dropped from the map), so this works on deltas and keeps its
// own cumulative counters. Job cardinality is bounded: per interval the top_jobs jobs by ops keep their label,
// the rest are counted as job="other"; series that have not moved for expire_intervals cycles are dropped.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "agent/source.h"
#include "agent/sources/vfs/vfs_probe.h"

namespace ss::agent::vfs {

struct MountLabel {
  std::string fstype;
  std::string mount;  // the mount point
  std::string fs;     // the file system's name (agent/fs_names.h)
};

struct AggregateOptions {
  size_t top_jobs = 20;
  int expire_intervals = 30;
};

// The bounds of vfs_op_duration_seconds (seconds): 2^10 ns … 2^33 ns.
const std::vector<double>& duration_bounds();

class VfsAggregate {
 public:
  explicit VfsAggregate(AggregateOptions options = {}) : options_(options) {}

  // Adds the deltas since the previous call. job_of: cgroup id → job ("" = unknown, label absent);
  // mount_of: file system (kernel dev) → labels, nullptr for mounts not exported.
  void update(const std::vector<OpCounts>& counts, const std::function<std::string(uint64_t)>& job_of,
              const std::function<const MountLabel*(uint32_t)>& mount_of);

  // Forgets the last-seen values of kernel keys that user space deletes from the map.
  void forget_keys(const std::vector<ss_op_key>& keys);

  // Describes the families and adds every live series to `out`.
  void emit(Collection& out) const;

  size_t series_count() const { return ops_.size() + hist_.size(); }

 private:
  using OpsKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;  // fstype, fs, mount, op, job
  using HistKey = std::tuple<std::string, std::string, std::string, std::string>;              // fstype, fs, mount, op
  struct OpsValue {
    uint64_t ops = 0, bytes = 0;
    int idle = 0;
  };
  struct HistValue {
    uint64_t errors = 0, sum_ns = 0;
    std::array<uint64_t, SS_HIST_BUCKETS> hist{};
    int idle = 0;
  };
  struct KeyLess {
    bool operator()(const ss_op_key& a, const ss_op_key& b) const {
      return std::tie(a.cgroup_id, a.dev, a.op) < std::tie(b.cgroup_id, b.dev, b.op);
    }
  };

  AggregateOptions options_;
  std::map<ss_op_key, OpCounts, KeyLess> last_;
  std::map<OpsKey, OpsValue> ops_;
  std::map<HistKey, HistValue> hist_;
};

}  // namespace ss::agent::vfs
