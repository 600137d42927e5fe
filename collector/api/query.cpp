// GET /api/v1/series and GET /api/v1/query_range (docs/api.md).
#include <cmath>

#include "collector/api/selector.h"
#include "collector/modules.h"
#include "collector/query/range.h"
#include "common/time.h"

namespace ss::collector {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxSeries = 10'000;   // per answer; narrow the selector beyond that
constexpr int64_t kMaxSteps = 11'000;   // grid points per series, as Prometheus

json labels_json(const Labels& labels) {
  json o = json::object();
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

json value_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return v;
}

json series_json(const SeriesInfo& s) {
  return {{"id", s.id}, {"name", s.name}, {"type", series_type_name(s.type)}, {"labels", labels_json(s.labels)}};
}

// Every `match` parameter selects; the answer is their union (by series id), in id order.
Result<std::vector<SeriesInfo>> select_all(Store& store, const http::Request& req) {
  size_t n = req.get_param_value_count("match");
  if (n == 0) return Error{"parameter \"match\" is required, e.g. match=lustre_client_rpcs_total{fs=\"ai0\"}"};
  std::map<int64_t, SeriesInfo> found;
  for (size_t i = 0; i < n; ++i) {
    auto sel = parse_selector(req.get_param_value("match", i));
    if (!sel) return sel.error();
    auto r = store.select(sel->name, sel->matchers);
    if (!r) return r.error();
    for (auto& s : *r) found.emplace(s.id, std::move(s));
    if (found.size() > kMaxSeries)
      return errorf("more than {} series match; narrow the selector", kMaxSeries);
  }
  std::vector<SeriesInfo> out;
  out.reserve(found.size());
  for (auto& [id, s] : found) out.push_back(std::move(s));
  return out;
}

Result<int64_t> time_param(const http::Request& req, const char* name, int64_t def, int64_t now) {
  if (!req.has_param(name)) return def;
  auto t = parse_time_ms(req.get_param_value(name), now);
  if (!t) return errorf("parameter \"{}\": {}", name, t.error().message);
  return *t;
}

Result<bool> flag_value(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no" || v.empty()) return false;
  return Error{"expected true or false"};
}

class QueryApi final : public RunningModule {
 public:
  explicit QueryApi(CollectorContext& ctx) : store_(ctx.store) {
    ctx.router.get("/api/v1/series", "/api/v1/series",
                   [this](const http::Request& req, http::Response& res) { series(req, res); });
    ctx.router.get("/api/v1/query_range", "/api/v1/query_range",
                   [this](const http::Request& req, http::Response& res) { query_range(req, res); });
  }

 private:
  void series(const http::Request& req, http::Response& res) {
    auto found = select_all(store_, req);
    if (!found) return reply_error(res, 400, found.error().message);
    json list = json::array();
    for (const auto& s : *found) list.push_back(series_json(s));
    reply_json(res, 200, {{"series", std::move(list)}});
  }

  void query_range(const http::Request& req, http::Response& res) {
    std::vector<SeriesInfo> selected;
    if (req.has_param("id")) {
      int64_t id = std::atoll(req.get_param_value("id").c_str());
      auto all = store_.select("", {});
      if (!all) return reply_error(res, 500, all.error().message);
      for (auto& s : *all)
        if (s.id == id) selected.push_back(std::move(s));
      if (selected.empty()) return reply_error(res, 404, fmt::format("no series with id {}", id));
    } else {
      auto found = select_all(store_, req);
      if (!found) return reply_error(res, 400, found.error().message);
      selected = std::move(*found);
    }
    int64_t now = now_ms();
    RangeSpec spec;
    auto to = time_param(req, "to", now, now);
    if (!to) return reply_error(res, 400, to.error().message);
    auto from = time_param(req, "from", *to - 3600'000, now);
    if (!from) return reply_error(res, 400, from.error().message);
    spec.from_ms = *from;
    spec.to_ms = *to;
    if (spec.from_ms > spec.to_ms) return reply_error(res, 400, "\"from\" is after \"to\"");
    if (req.has_param("step")) {
      const std::string& text = req.get_param_value("step");
      bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      auto step = digits ? Result<int64_t>(std::atoll(text.c_str())) : parse_duration_ms(text);
      if (!step || *step <= 0)
        return reply_error(res, 400, "parameter \"step\": a positive duration (\"30s\") or milliseconds is expected");
      spec.step_ms = *step;
      if ((spec.to_ms - spec.from_ms) / spec.step_ms >= kMaxSteps)
        return reply_error(res, 400, fmt::format("more than {} steps per series; use a larger step", kMaxSteps));
      spec.lookback_ms = std::max<int64_t>(spec.lookback_ms, spec.step_ms);
    }
    if (req.has_param("rate")) {
      auto rate = flag_value(req.get_param_value("rate"));
      if (!rate) return reply_error(res, 400, "rate=" + req.get_param_value("rate") + ": " + rate.error().message);
      spec.rate = *rate;
    }
    if (spec.rate)
      for (const auto& s : selected)
        if (s.type != SeriesType::Counter)
          return reply_error(res, 400, fmt::format("rate=true needs counters; {} is a gauge",
                                                   series_key(s.name, s.labels)));
    json list = json::array();
    for (const auto& s : selected) {
      auto pts = store_.read(s.id, range_read_start(spec), spec.to_ms);
      if (!pts) return reply_error(res, 500, pts.error().message);
      json values = json::array();
      for (const auto& p : evaluate_range(*pts, spec)) values.push_back(json::array({p.t_ms, value_json(p.value)}));
      json one = series_json(s);
      one["points"] = std::move(values);
      list.push_back(std::move(one));
    }
    reply_json(res, 200,
               {{"from", spec.from_ms}, {"to", spec.to_ms}, {"step", spec.step_ms}, {"rate", spec.rate},
                {"series", std::move(list)}});
  }

  Store& store_;
};

}  // namespace

Result<std::unique_ptr<RunningModule>> start_query_api(const config::Section&, CollectorContext& ctx) {
  return std::unique_ptr<RunningModule>(std::make_unique<QueryApi>(ctx));
}

}  // namespace ss::collector
