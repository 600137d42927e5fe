// The collector's `cost:` module: reads the section (prices, baseline), serves GET /api/v1/cost and exports
// the price of every GPU model seen (stormscope_gpu_price_dollars_per_hour, cost/price_metrics.h).
#pragma once

#include "collector/modules.h"

namespace ss::collector {

Result<std::unique_ptr<RunningModule>> start_cost(const config::Section& section, CollectorContext& ctx);

}  // namespace ss::collector
