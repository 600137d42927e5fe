#include "collector/detect/gpu_tracker.h"

#include <algorithm>

namespace ss::collector::detect {

void GpuTracker::observe(const Observation& o) {
  GpuReading r;
  r.node = std::string(o.node);
  r.uuid = std::string(o.label("uuid"));
  r.gpu = std::string(o.label("gpu"));
  if (r.uuid.empty()) r.uuid = r.gpu;
  r.model = std::string(o.label("model"));
  r.job = std::string(o.label("job"));
  r.util = std::clamp(o.value, 0.0, 1.0);
  r.t_ms = o.t_ms;
  std::string key = r.node + '/' + r.uuid;
  pending_[o.bucket][key] = std::move(r);
}

void GpuTracker::evaluate(int64_t bucket, std::vector<Finding>&) {
  current_.clear();
  auto it = pending_.find(bucket);
  if (it != pending_.end()) {
    for (auto& [key, r] : it->second) {
      auto [h, fresh] = history_.try_emplace(key, History(history_buckets_));
      (void)fresh;
      h->second.add(r.util);
      current_.push_back(std::move(r));
    }
  }
  pending_.erase(pending_.begin(), pending_.upper_bound(bucket));
}

double GpuTracker::baseline(const std::string& node, const std::string& uuid) const {
  auto it = history_.find(node + '/' + uuid);
  if (it == history_.end() || it->second.size() == 0) return -1;
  return it->second.baseline().median;
}

}  // namespace ss::collector::detect
