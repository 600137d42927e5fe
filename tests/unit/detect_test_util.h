// Helpers for detector tests: batches built by hand and an engine that records every finding.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/detect/engine.h"
#include "common/sample.h"

namespace ss::test {

inline constexpr int64_t kT0 = 1763683200000;  // 2025-11-21T00:00:00Z
inline constexpr int64_t kI = 10'000;

inline Series counter(std::string name, Labels labels, int64_t t, double v) {
  Series s;
  s.name = std::move(name);
  s.type = SeriesType::Counter;
  normalize_labels(labels).ok();
  s.labels = std::move(labels);
  s.points.push_back({t, v});
  return s;
}

inline Series gauge(std::string name, Labels labels, int64_t t, double v) {
  Series s = counter(std::move(name), std::move(labels), t, v);
  s.type = SeriesType::Gauge;
  return s;
}

inline Batch batch(std::string node, std::vector<Series> series, std::vector<Event> events = {}) {
  static uint64_t seq = 0;
  Batch b;
  b.node = std::move(node);
  b.seq = ++seq;
  b.series = std::move(series);
  b.events = std::move(events);
  return b;
}

// Records findings by bucket.
struct Recorder {
  std::vector<std::pair<int64_t, collector::detect::Finding>> all;
  collector::detect::Engine::Sink sink() {
    return [this](int64_t b, std::vector<collector::detect::Finding>& f) {
      for (auto& x : f) all.push_back({b, x});
    };
  }
  std::vector<collector::detect::Finding> of(collector::detect::State s, std::string_view kind = "") const {
    std::vector<collector::detect::Finding> out;
    for (const auto& [b, f] : all)
      if (f.state == s && (kind.empty() || f.kind == kind)) out.push_back(f);
    return out;
  }
  int64_t first(collector::detect::State s) const {
    for (const auto& [b, f] : all)
      if (f.state == s) return b;
    return -1;
  }
  size_t count(collector::detect::State s) const { return of(s).size(); }
};

}  // namespace ss::test
