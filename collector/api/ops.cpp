// GET /metrics (the collector's own metrics, Prometheus text format) and GET /healthz.
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include "collector/modules.h"

namespace ss::collector {
namespace {

class OpsApi final : public RunningModule {
 public:
  explicit OpsApi(CollectorContext& ctx)
      : store_(ctx.store),
        registry_(ctx.registry),
        series_(prometheus::BuildGauge()
                    .Name("stormscope_collector_store_series")
                    .Help("Series in the store.")
                    .Register(ctx.registry)
                    .Add({})),
        points_(prometheus::BuildGauge()
                    .Name("stormscope_collector_store_points")
                    .Help("Points in the store.")
                    .Register(ctx.registry)
                    .Add({})),
        bytes_(prometheus::BuildGauge()
                   .Name("stormscope_collector_store_size_bytes")
                   .Help("Size of the store on disk (database and write-ahead log).")
                   .Register(ctx.registry)
                   .Add({})) {
    prometheus::BuildGauge()
        .Name("stormscope_collector_build_info")
        .Help("Version of the running collector (always 1).")
        .Register(ctx.registry)
        .Add({{"version", STORMSCOPE_VERSION}})
        .Set(1);
    ctx.router.get("/metrics", "/metrics", [this](const http::Request&, http::Response& res) {
      StoreStats st = store_.stats();
      series_.Set(static_cast<double>(st.series));
      points_.Set(static_cast<double>(st.points));
      bytes_.Set(static_cast<double>(st.bytes_on_disk));
      res.set_content(prometheus::TextSerializer().Serialize(registry_.Collect()),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    ctx.router.get("/healthz", "/healthz", [](const http::Request&, http::Response& res) {
      reply_json(res, 200, {{"status", "ok"}});
    });
  }

 private:
  Store& store_;
  prometheus::Registry& registry_;
  prometheus::Gauge& series_;
  prometheus::Gauge& points_;
  prometheus::Gauge& bytes_;
};

}  // namespace

Result<std::unique_ptr<RunningModule>> start_ops_api(const config::Section&, CollectorContext& ctx) {
  return std::unique_ptr<RunningModule>(std::make_unique<OpsApi>(ctx));
}

}  // namespace ss::collector
