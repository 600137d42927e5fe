// The gauge stormscope_gpu_price_dollars_per_hour{model, pricing} on the collector's /metrics: the price the
// cost model charges for each GPU model it has seen, so that Prometheus rules can price idle GPUs the same
// way (rules/stormscope.rules.yml, job:gpu_idle_dollars:per_hour joins it on `model`).
#pragma once

#include <mutex>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <set>
#include <string>
#include <string_view>

#include "collector/cost/prices.h"
#include "common/sample.h"

namespace ss::collector::cost {

// The GPU series whose `model` label names a model (DESIGN.md §3).
bool is_gpu_series(std::string_view name);

class PriceGauges {
 public:
  // At most this many models are exported; later ones are logged once and left out (a bound on what a
  // misbehaving agent can add to /metrics).
  static constexpr size_t kMaxModels = 256;

  PriceGauges(const PriceTable& prices, prometheus::Registry& registry);

  // Adds the series of one model (one per pricing, valued as the cost model prices it); an empty name, a
  // model already shown, or one over the bound is ignored. Thread-safe.
  void add_model(std::string_view model);
  // Adds the models named by the GPU series of a batch.
  void observe(const Batch& batch);

  size_t models() const;

 private:
  PriceTable prices_;
  prometheus::Family<prometheus::Gauge>& family_;
  mutable std::mutex mu_;
  std::set<std::string, std::less<>> shown_;
  bool warned_ = false;
};

}  // namespace ss::collector::cost
