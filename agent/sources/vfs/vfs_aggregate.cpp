#include "agent/sources/vfs/vfs_aggregate.h"

#include <algorithm>
#include <unordered_map>

namespace ss::agent::vfs {

namespace {
constexpr int kFirstBound = 10;  // 2^10 ns ≈ 1 µs
constexpr int kLastBound = 33;   // 2^33 ns ≈ 8.6 s

uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }
}  // namespace

const std::vector<double>& duration_bounds() {
  static const std::vector<double> bounds = [] {
    std::vector<double> b;
    for (int k = kFirstBound; k <= kLastBound; k++) b.push_back(static_cast<double>(1ULL << k) / 1e9);
    return b;
  }();
  return bounds;
}

void VfsAggregate::update(const std::vector<OpCounts>& counts, const std::function<std::string(uint64_t)>& job_of,
                          const std::function<const MountLabel*(uint32_t)>& mount_of) {
  struct Delta {
    const MountLabel* mount;
    std::string op;
    std::string job;
    OpCounts d;
  };
  std::vector<Delta> deltas;
  std::unordered_map<std::string, uint64_t> job_ops;
  std::unordered_map<uint64_t, std::string> jobs;  // cgroup id → job, resolved once per update
  for (const OpCounts& now : counts) {
    OpCounts d = now;
    auto it = last_.find(now.key);
    if (it != last_.end()) {
      const OpCounts& b = it->second;
      bool reset = now.count < b.count;  // the key was deleted and re-created meanwhile
      if (!reset) {
        d.count = delta(now.count, b.count);
        d.errors = delta(now.errors, b.errors);
        d.bytes = delta(now.bytes, b.bytes);
        d.sum_ns = delta(now.sum_ns, b.sum_ns);
        for (int i = 0; i < SS_HIST_BUCKETS; i++) d.hist[i] = delta(now.hist[i], b.hist[i]);
      }
    }
    last_[now.key] = now;
    if (d.count == 0 && d.sum_ns == 0) continue;
    const MountLabel* mount = mount_of(now.key.dev);
    std::string_view op = op_name(now.key.op);
    if (!mount || op.empty()) continue;
    auto [jit, fresh] = jobs.try_emplace(now.key.cgroup_id);
    if (fresh) jit->second = job_of(now.key.cgroup_id);
    if (!jit->second.empty()) job_ops[jit->second] += d.count;
    deltas.push_back({mount, std::string(op), jit->second, d});
  }

  // The top jobs of this interval keep their label.
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (auto& [job, n] : job_ops) ranked.emplace_back(n, job);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::unordered_map<std::string, bool> keep;
  for (size_t i = 0; i < ranked.size() && i < options_.top_jobs; i++) keep[ranked[i].second] = true;

  for (auto& [k, v] : ops_) v.idle++;
  for (auto& [k, v] : hist_) v.idle++;
  for (const Delta& x : deltas) {
    std::string job = x.job.empty() || keep.count(x.job) ? x.job : "other";
    if (x.d.count || x.d.bytes) {
      OpsValue& o = ops_[{x.mount->fstype, x.mount->fs, x.mount->mount, x.op, job}];
      o.ops += x.d.count;
      o.bytes += x.d.bytes;
      o.idle = 0;
    }
    HistValue& h = hist_[{x.mount->fstype, x.mount->fs, x.mount->mount, x.op}];
    h.errors += x.d.errors;
    h.sum_ns += x.d.sum_ns;
    for (int i = 0; i < SS_HIST_BUCKETS; i++) h.hist[i] += x.d.hist[i];
    h.idle = 0;
  }
  std::erase_if(ops_, [&](const auto& kv) { return kv.second.idle > options_.expire_intervals; });
  std::erase_if(hist_, [&](const auto& kv) { return kv.second.idle > options_.expire_intervals; });
}

void VfsAggregate::forget_keys(const std::vector<ss_op_key>& keys) {
  for (const ss_op_key& k : keys) last_.erase(k);
}

void VfsAggregate::emit(Collection& out) const {
  out.describe("vfs_ops_total", MetricKind::Counter, "File-system operations seen by the eBPF probes.");
  out.describe("vfs_bytes_total", MetricKind::Counter, "Bytes read and written, from the system calls' results.");
  out.describe("vfs_op_errors_total", MetricKind::Counter, "File-system operations that returned an error.");
  out.describe("vfs_op_duration_seconds", MetricKind::Histogram,
               "Duration of file-system system calls (timed on a sample at very high rates).");
  for (const auto& [k, v] : ops_) {
    const auto& [fstype, fs, mount, op, job] = k;
    Labels labels{{"fstype", fstype}, {"fs", fs}, {"mount", mount}, {"op", op}};
    if (!job.empty()) labels.emplace_back("job", job);
    out.add("vfs_ops_total", labels, static_cast<double>(v.ops));
    if (op == "read" || op == "write") out.add("vfs_bytes_total", labels, static_cast<double>(v.bytes));
  }
  for (const auto& [k, v] : hist_) {
    const auto& [fstype, fs, mount, op] = k;
    Labels labels{{"fstype", fstype}, {"fs", fs}, {"mount", mount}, {"op", op}};
    out.add("vfs_op_errors_total", labels, static_cast<double>(v.errors));
    std::vector<uint64_t> cumulative;
    uint64_t below = 0;
    int bucket = 0;
    for (int k2 = kFirstBound; k2 <= kLastBound; k2++) {
      for (; bucket < k2 && bucket < SS_HIST_BUCKETS; bucket++) below += v.hist[bucket];
      cumulative.push_back(below);
    }
    for (; bucket < SS_HIST_BUCKETS; bucket++) below += v.hist[bucket];
    cumulative.push_back(below);
    out.add_histogram("vfs_op_duration_seconds", labels, duration_bounds(), cumulative,
                      static_cast<double>(v.sum_ns) / 1e9);
  }
}

}  // namespace ss::agent::vfs
