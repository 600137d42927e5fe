#include "collector/cost/cost_module.h"

#include "collector/cost/cost_report.h"
#include "collector/cost/price_metrics.h"
#include "common/time.h"

namespace ss::collector {

Result<std::unique_ptr<RunningModule>> start_cost(const config::Section& section, CollectorContext& ctx) {
  auto config = cost::read_cost_config(section);
  if (!config) return config.error();
  Store& store = ctx.store;
  // The price of every GPU model seen: the models already stored, then those that arrive.
  auto gauges = std::make_shared<cost::PriceGauges>(config->prices, ctx.registry);
  for (const char* name : {"gpu_utilization_ratio", "gpu_memory_used_bytes"}) {
    auto series = store.select(name, {});
    if (!series) return series.error();
    for (const auto& s : *series) gauges->add_model(label_value(s.labels, "model"));
  }
  ctx.observers.add([gauges](const Batch& b) { gauges->observe(b); });
  ctx.router.get("/api/v1/cost", "/api/v1/cost",
                 [&store, cfg = std::move(*config)](const http::Request& req, http::Response& res) {
                   std::map<std::string, std::string> params;
                   for (const auto& [k, v] : req.params) {
                     if (params.count(k)) {
                       reply_error(res, 400, "parameter \"" + k + "\" given twice");
                       return;
                     }
                     params[k] = v;
                   }
                   auto answer = cost::handle_cost_request(store, cfg, params, now_ms());
                   res.status = answer.status;
                   res.set_content(answer.body, "application/json");
                 });
  return std::unique_ptr<RunningModule>();
}

}  // namespace ss::collector
