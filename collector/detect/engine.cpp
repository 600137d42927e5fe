#include "collector/detect/engine.h"

#include <fmt/format.h>

#include <cmath>

namespace ss::collector::detect {

namespace {
// More buckets than this between data points means the data jumped (a replay of another day):
// the empty stretch is skipped instead of judged bucket by bucket.
constexpr int64_t kMaxEmptyBuckets = 8640;
}  // namespace

std::string format_rate(double v) {
  double a = std::fabs(v);
  if (a >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f}k", v / 1e3);
  if (a >= 10) return fmt::format("{:.0f}", v);
  return fmt::format("{:.2g}", v);
}

std::string format_bytes(double v) {
  double a = std::fabs(v);
  if (a >= 1e12) return fmt::format("{:.1f} TB", v / 1e12);
  if (a >= 1e9) return fmt::format("{:.1f} GB", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f} MB", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f} kB", v / 1e3);
  return fmt::format("{:.0f} B", v);
}

Engine::Engine(EngineOptions options, std::vector<std::unique_ptr<Detector>> detectors, Sink sink)
    : options_(options), detectors_(std::move(detectors)), sink_(std::move(sink)) {
  if (options_.interval_ms <= 0) options_.interval_ms = 10'000;
}

Detector* Engine::detector(std::string_view kind) const {
  for (const auto& d : detectors_)
    if (d->kind() == kind) return d.get();
  return nullptr;
}

int64_t Engine::bucket_of(int64_t t_ms) const {
  int64_t i = options_.interval_ms;
  int64_t x = t_ms - 1;
  int64_t q = x / i;
  if (x % i != 0 && x < 0) --q;
  return q * i;
}

uint32_t Engine::wanted_mask(const std::string& name) {
  auto it = wants_.find(name);
  if (it != wants_.end()) return it->second;
  uint32_t mask = 0;
  for (size_t i = 0; i < detectors_.size() && i < 32; ++i)
    if (detectors_[i]->wants(name)) mask |= 1u << i;
  wants_.emplace(name, mask);
  return mask;
}

// The detectors of `by_name` (those that want the metric) that also want this series.
uint32_t Engine::wanted_series(const Series& s, uint32_t by_name) const {
  uint32_t mask = by_name;
  for (size_t i = 0; i < detectors_.size() && i < 32; ++i)
    if ((mask & (1u << i)) && !detectors_[i]->wants_series(s.name, s.labels)) mask &= ~(1u << i);
  return mask;
}

void Engine::observe_series(const std::string& node, const Series& s, uint32_t wanted) {
  SeriesId key = series_id(node, s.name, s.labels);
  Observation o;
  o.node = node;
  o.name = s.name;
  o.labels = &s.labels;
  o.counter = s.type == SeriesType::Counter;
  auto deliver = [&](const Point& p, bool start = false) {
    o.t_ms = p.t_ms;
    o.bucket = bucket_of(p.t_ms);
    if (next_bucket_ != INT64_MIN && o.bucket < next_bucket_) {
      if (!start) ++stats_.late_points;
      return;
    }
    if (!start) ++stats_.observations;
    for (size_t i = 0; i < detectors_.size(); ++i)
      if (wanted & (1u << i)) start ? detectors_[i]->observe_start(o) : detectors_[i]->observe(o);
  };
  if (o.counter) {
    auto [state, fresh] = counters_.try_emplace(key);
    CounterState& st = *state;
    for (const Point& p : s.points) {
      if (!std::isfinite(p.value)) continue;
      if (!fresh && p.t_ms <= st.t_ms) continue;  // a repeat or an older point
      bool had = !fresh;
      CounterState prev = st;
      st = {p.t_ms, p.value};
      fresh = false;
      if (!had) {  // the first point only sets the base
        o.value = p.value;
        o.dt_s = 0;
        deliver(p, true);
        continue;
      }
      if (p.value < prev.value) {
        ++stats_.counter_resets;  // never an unsigned wrap or a negative rate: skip the interval
        continue;
      }
      if (p.t_ms - prev.t_ms > options_.max_gap_ms) {
        ++stats_.gaps;  // the increase over a gap would look like a burst in one bucket
        continue;
      }
      o.value = p.value - prev.value;
      o.dt_s = (p.t_ms - prev.t_ms) / 1000.0;
      deliver(p);
    }
  } else {
    auto [last, fresh] = gauge_last_.try_emplace(key);
    if (fresh) *last = INT64_MIN;
    for (const Point& p : s.points) {
      if (!std::isfinite(p.value) || p.t_ms <= *last) continue;
      *last = p.t_ms;
      o.value = p.value;
      o.dt_s = 0;
      deliver(p);
    }
  }
}

void Engine::ingest(const Batch& batch, int64_t wall_ms) {
  int64_t batch_max = INT64_MIN;
  for (const Series& s : batch.series)
    for (const Point& p : s.points) batch_max = std::max(batch_max, p.t_ms);
  for (const Event& e : batch.events) batch_max = std::max(batch_max, e.t_ms);
  if (batch_max == INT64_MIN) return;
  if (next_bucket_ == INT64_MIN) {
    // Start judging at the earliest bucket this first batch holds.
    int64_t batch_min = INT64_MAX;
    for (const Series& s : batch.series)
      for (const Point& p : s.points) batch_min = std::min(batch_min, p.t_ms);
    for (const Event& e : batch.events) batch_min = std::min(batch_min, e.t_ms);
    next_bucket_ = bucket_of(batch_min);
  }
  for (const Series& s : batch.series) {
    uint32_t wanted = wanted_mask(s.name);
    if (wanted) wanted = wanted_series(s, wanted);
    if (wanted) observe_series(batch.node, s, wanted);
  }
  for (const Event& e : batch.events) {
    int64_t b = bucket_of(e.t_ms);
    if (b < next_bucket_) {
      ++stats_.late_points;
      continue;
    }
    for (auto& d : detectors_)
      if (d->wants_event(e.kind)) d->observe_event(batch.node, e, b);
  }
  max_t_ = std::max(max_t_, batch_max);
  NodeState& n = nodes_[batch.node];
  if (n.awaited) awaited_.erase({n.newest, batch.node});
  n.newest = std::max(n.newest, batch_max);
  n.wall = wall_ms;
  n.awaited = true;
  awaited_.insert({n.newest, batch.node});
  judge_complete(wall_ms);
}

void Engine::tick(int64_t wall_ms) { judge_complete(wall_ms); }

// Judges buckets in order while each is complete: every awaited node delivered past its end. The
// awaited node furthest behind is the first of `awaited_`; it is given up on when it is `lateness`
// behind the newest data or silent for `silent_after` (wall clock), and awaited again when it returns.
void Engine::judge_complete(int64_t wall_ms) {
  if (next_bucket_ == INT64_MIN) return;
  int64_t last = next_bucket_ - options_.interval_ms;
  while (last + 2 * options_.interval_ms <= max_t_) {
    int64_t end = last + 2 * options_.interval_ms;  // of the bucket after `last`
    bool waiting = false;
    while (!awaited_.empty() && awaited_.begin()->first < end) {
      auto [newest, name] = *awaited_.begin();
      NodeState& n = nodes_[name];
      bool behind = max_t_ - newest >= options_.lateness_ms;
      bool silent = wall_ms > 0 && n.wall > 0 && wall_ms - n.wall >= options_.silent_after_ms;
      if (!behind && !silent) {
        waiting = true;
        break;
      }
      awaited_.erase(awaited_.begin());
      n.awaited = false;
      given_up_.push_back({newest, name});
    }
    if (waiting) break;
    int64_t bucket = end - options_.interval_ms;
    // Incomplete: a node given up on had reported within max_gap before this bucket.
    bool incomplete = false;
    std::erase_if(given_up_, [&](const auto& g) {
      const NodeState& n = nodes_[g.second];
      if (n.awaited || n.newest < bucket - options_.max_gap_ms) return true;  // back, or long gone
      incomplete = incomplete || n.newest < end;
      return false;
    });
    stats_.incomplete_buckets += incomplete;
    last = bucket;
  }
  judge_until(last);
}

void Engine::advance(int64_t watermark_ms) {
  if (next_bucket_ == INT64_MIN) return;
  // Bucket b is complete when b + interval <= watermark.
  int64_t last = bucket_of(watermark_ms + 1) - options_.interval_ms;
  judge_until(last);
}

void Engine::flush() {
  if (next_bucket_ == INT64_MIN || max_t_ == INT64_MIN) return;
  judge_until(bucket_of(max_t_));
}

void Engine::judge_until(int64_t last_bucket) {
  if (last_bucket < next_bucket_) return;
  if ((last_bucket - next_bucket_) / options_.interval_ms > kMaxEmptyBuckets) {
    // Jump over a long empty stretch, but still judge the buckets near its end.
    next_bucket_ = last_bucket - kMaxEmptyBuckets * options_.interval_ms;
  }
  std::vector<Finding> findings;
  for (int64_t b = next_bucket_; b <= last_bucket; b += options_.interval_ms) {
    findings.clear();
    for (auto& d : detectors_) d->evaluate(b, findings);
    ++stats_.buckets;
    next_bucket_ = b + options_.interval_ms;
    if (sink_) sink_(b, findings);
  }
}

}  // namespace ss::collector::detect
