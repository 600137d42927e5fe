// The label sets of the Lustre targets, kept from cycle to cycle: a client with 1,024 OSCs exports the same
// ~8,000 {fs, target} and {fs, op, target} sets every cycle, and making them anew was a large part of the
// source's CPU. One lookup per target, then a short scan of its ops; targets not seen in a cycle are forgotten.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/source.h"

namespace ss::agent::lustre {

class TargetLabels {
 public:
  struct Target {
    std::string fs, target;
    LabelSet base;  // {fs, target}
    std::vector<std::pair<std::string, LabelSet>> by_op;  // op → {fs, op, target}
    uint64_t seen = 0;
    size_t next = 0;  // where the next op is looked for first

    // A stats file lists its ops in the same order every cycle, so the op after the last one found is almost
    // always the one asked for: one comparison instead of a scan.
    const LabelSet& op(std::string_view name) {
      for (size_t i = 0, n = by_op.size(); i < n; ++i) {
        size_t k = next + i < n ? next + i : next + i - n;
        if (by_op[k].first == name) {
          next = k + 1;
          return by_op[k].second;
        }
      }
      by_op.emplace_back(std::string(name), make_label_set({{"fs", fs}, {"op", std::string(name)}, {"target", target}}));
      next = by_op.size();
      return by_op.back().second;
    }
  };

  Target& get(std::string_view fs, std::string_view target) {
    auto [it, added] = targets_.try_emplace(std::string(target));
    Target& t = it->second;
    if (added || t.fs != fs) {
      t = Target{std::string(fs), std::string(target), make_label_set({{"fs", std::string(fs)}, {"target", std::string(target)}}), {}, 0, 0};
    }
    t.seen = cycle_;
    return t;
  }

  // Forgets the targets not asked for since the previous call.
  void end_cycle() {
    std::erase_if(targets_, [&](const auto& kv) { return kv.second.seen != cycle_; });
    ++cycle_;
  }

 private:
  std::unordered_map<std::string, Target> targets_;
  uint64_t cycle_ = 1;
};

}  // namespace ss::agent::lustre
