// GPU prices per model and pricing (spot, on-demand) in $/GPU-hour, read from the collector's `cost:`
// section. Model names as NVML reports them ("NVIDIA H100 80GB HBM3") are matched to table keys ("H100").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/result.h"

namespace ss::collector::cost {

enum class Pricing { Spot, OnDemand };

Result<Pricing> parse_pricing(std::string_view text);  // "spot", "on_demand" (or "on-demand")
std::string_view pricing_name(Pricing p);

struct GpuPrice {
  double spot_per_hour = 0;
  double on_demand_per_hour = 0;
  double per_hour(Pricing p) const { return p == Pricing::Spot ? spot_per_hour : on_demand_per_hour; }
};

struct PriceEntry {
  std::string model;  // table key, for example "H200"
  GpuPrice price;
};

class PriceTable {
 public:
  // The built-in table (docs/cost.md names the source of every figure).
  static PriceTable defaults();

  void set(std::string model, GpuPrice price);  // replaces an entry with the same key (any case)
  void set_unknown(GpuPrice price) { unknown_ = price; }

  // The entry whose key equals the model name or appears in it as a whole word ("H100" in
  // "NVIDIA H100 80GB HBM3", but not "H200" in "NVIDIA GH200"), the longest key winning; nullptr when none.
  const PriceEntry* find(std::string_view model) const;

  // The price of `model`, or the price for unknown models.
  GpuPrice price_of(std::string_view model) const;
  double per_gpu_hour(std::string_view model, Pricing p) const { return price_of(model).per_hour(p); }
  double per_gpu_second(std::string_view model, Pricing p) const { return per_gpu_hour(model, p) / 3600.0; }

  const std::vector<PriceEntry>& entries() const { return entries_; }
  GpuPrice unknown() const { return unknown_; }

 private:
  std::vector<PriceEntry> entries_;
  GpuPrice unknown_;
};

// Everything the `cost:` section configures.
struct CostConfig {
  PriceTable prices = PriceTable::defaults();
  Pricing pricing = Pricing::Spot;
  int64_t baseline_window_ms = 10 * 60'000;  // utilization this long before a window is its baseline
  int64_t max_gap_ms = 30'000;               // points further apart than this leave a gap, not idle time
  double default_baseline = 1.0;             // used when a GPU has no data before the window
};

// Reads the `cost:` section:
//   cost:
//     pricing: spot                 # or on_demand
//     prices:
//       H200: {spot: 1.924, on_demand: 4.62}
//     unknown_model: {spot: 1.924, on_demand: 4.62}
//     baseline_window: 10m
//     max_gap: 30s
//     default_baseline: 1.0
// Entries under `prices` add to or replace the built-in ones.
Result<CostConfig> read_cost_config(const config::Section& cost);

}  // namespace ss::collector::cost
