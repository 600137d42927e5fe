// The collector's `cost:` module: reads the section (prices, baseline) and serves GET /api/v1/cost.
#pragma once

#include "collector/modules.h"

namespace ss::collector {

Result<std::unique_ptr<RunningModule>> start_cost(const config::Section& section, CollectorContext& ctx);

}  // namespace ss::collector
