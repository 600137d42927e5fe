#include "collector/cost/price_metrics.h"

#include "common/log.h"

namespace ss::collector::cost {

bool is_gpu_series(std::string_view name) { return name == "gpu_utilization_ratio" || name == "gpu_memory_used_bytes"; }

PriceGauges::PriceGauges(const PriceTable& prices, prometheus::Registry& registry)
    : prices_(prices),
      family_(prometheus::BuildGauge()
                  .Name("stormscope_gpu_price_dollars_per_hour")
                  .Help("Price of one GPU-hour the cost model charges, per GPU model seen and pricing "
                        "(cost.prices, or cost.unknown_model when no entry matches).")
                  .Register(registry)) {}

void PriceGauges::add_model(std::string_view model) {
  if (model.empty()) return;
  std::lock_guard lock(mu_);
  if (shown_.count(model)) return;
  if (shown_.size() >= kMaxModels) {
    if (!warned_) log::warn("cost: more than {} GPU models seen; prices of further models are not exported", kMaxModels);
    warned_ = true;
    return;
  }
  std::string name(model);
  for (Pricing p : {Pricing::Spot, Pricing::OnDemand})
    family_.Add({{"model", name}, {"pricing", std::string(pricing_name(p))}}).Set(prices_.per_gpu_hour(name, p));
  shown_.insert(std::move(name));
}

void PriceGauges::observe(const Batch& batch) {
  for (const auto& s : batch.series)
    if (is_gpu_series(s.name)) add_model(label_value(s.labels, "model"));
}

size_t PriceGauges::models() const {
  std::lock_guard lock(mu_);
  return shown_.size();
}

}  // namespace ss::collector::cost
