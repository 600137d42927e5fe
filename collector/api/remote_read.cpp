// POST /api/v1/read: Prometheus remote read (SAMPLES responses), so that a Prometheus with `remote_read`
// pointing here answers PromQL over the collector's whole history (docs/remote.md). Matchers map onto the
// store's selectors; `instance` can stand for the collector's `node` label (remote_read.instance_from_node),
// so dashboards written for scraped agents (instance="$node") match. Where raw points have aged out, the
// minute (then hour) rollups answer with each bucket's last value at the bucket's end.
#include <prometheus/counter.h>

#include "collector/modules.h"
#include "collector/remote/wire.h"
#include "common/log.h"

namespace ss::collector {
namespace {

constexpr int64_t kMinuteMs = 60'000, kHourMs = 3'600'000;

struct RemoteReadOptions {
  bool instance_from_node = true;
  int64_t max_samples = 20'000'000;  // per request, as Prometheus' --storage.remote.read-sample-limit
};

class RemoteReadApi final : public RunningModule {
 public:
  RemoteReadApi(RemoteReadOptions o, CollectorContext& ctx)
      : o_(o),
        store_(ctx.store),
        samples_(prometheus::BuildCounter()
                     .Name("stormscope_collector_remote_read_samples_total")
                     .Help("Samples answered to remote-read requests, by resolution (raw, minute, hour).")
                     .Register(ctx.registry)) {
    ctx.router.post("/api/v1/read", "/api/v1/read",
                    [this](const http::Request& req, http::Response& res) { handle(req, res); });
  }

 private:
  void handle(const http::Request& req, http::Response& res) {
    prometheus::ReadRequest rr;
    if (auto r = remote::parse_snappy_message(req.body, rr); !r)
      return reply_error(res, 400, "remote read: " + r.error().message);
    if (rr.accepted_response_types_size() > 0) {
      bool samples = false;
      for (int t : rr.accepted_response_types()) samples = samples || t == prometheus::ReadRequest::SAMPLES;
      if (!samples) return reply_error(res, 400, "remote read: only the SAMPLES response type is implemented");
    }
    prometheus::ReadResponse out;
    size_t budget = static_cast<size_t>(o_.max_samples);
    for (const auto& q : rr.queries()) {
      auto r = answer(q, *out.add_results(), budget);
      if (!r) return reply_error(res, r.error().message.starts_with("more than") ? 413 : 400, "remote read: " + r.error().message);
    }
    res.status = 200;
    res.set_header("Content-Encoding", "snappy");
    res.set_content(remote::snappy_message(out), "application/x-protobuf");
  }

  Result<void> answer(const prometheus::Query& q, prometheus::QueryResult& result, size_t& budget) {
    std::string name;
    std::vector<Matcher> matchers;
    for (const auto& m : q.matchers()) {
      Matcher x;
      x.label = o_.instance_from_node && m.name() == "instance" ? "node" : m.name();
      x.value = m.value();
      switch (m.type()) {
        case prometheus::LabelMatcher::EQ: x.op = Matcher::Op::Eq; break;
        case prometheus::LabelMatcher::NEQ: x.op = Matcher::Op::Neq; break;
        case prometheus::LabelMatcher::RE: x.op = Matcher::Op::Re; break;
        case prometheus::LabelMatcher::NRE: x.op = Matcher::Op::Nre; break;
        default: return errorf("matcher on {}: unknown type {}", m.name(), int(m.type()));
      }
      if (x.label == "__name__" && x.op == Matcher::Op::Eq && name.empty() && valid_metric_name(x.value)) name = x.value;
      else matchers.push_back(std::move(x));
    }
    auto series = store_.select(name, matchers);
    if (!series) return series.error();
    int64_t from = q.start_timestamp_ms(), to = q.end_timestamp_ms();
    for (const auto& s : *series) {
      auto points = store_.read(s.id, from, to);
      if (!points) return points.error();
      // Raw points start late (aged out, or the series began later): the rollups may hold the time before.
      std::vector<Point> older;
      int64_t raw_from = points->empty() ? to + 1 : points->front().t_ms;
      const char* resolution = "raw";
      if (raw_from > from + 2 * kMinuteMs) {
        for (int64_t step : {kMinuteMs, kHourMs}) {
          auto buckets = store_.read_buckets(s.id, from, raw_from - 1, step);
          if (!buckets) return buckets.error();
          for (const auto& b : *buckets) older.push_back({std::min(b.t_ms + step - 1, raw_from - 1), b.last});
          if (!older.empty()) {
            resolution = step == kMinuteMs ? "minute" : "hour";
            break;
          }
        }
      }
      size_t n = older.size() + points->size();
      if (n == 0) continue;
      if (n > budget) return errorf("more than {} samples in one request; narrow the query or its range", o_.max_samples);
      budget -= n;
      auto* ts = result.add_timeseries();
      Labels labels = s.labels;
      labels.emplace_back("__name__", s.name);
      if (o_.instance_from_node && label_value(labels, "instance").empty())
        labels.emplace_back("instance", std::string(label_value(labels, "node")));
      std::sort(labels.begin(), labels.end());
      for (const auto& [k, v] : labels) {
        auto* l = ts->add_labels();
        l->set_name(k);
        l->set_value(v);
      }
      for (const auto* part : {&older, &*points})
        for (const auto& p : *part) {
          auto* smp = ts->add_samples();
          smp->set_timestamp(p.t_ms);
          smp->set_value(p.value);
        }
      samples_.Add({{"resolution", "raw"}}).Increment(double(points->size()));
      if (!older.empty()) samples_.Add({{"resolution", resolution}}).Increment(double(older.size()));
    }
    return {};
  }

  RemoteReadOptions o_;
  Store& store_;
  prometheus::Family<prometheus::Counter>& samples_;
};

RemoteReadOptions read_remote_read_options(const config::Section& s) {
  s.allow_only({"instance_from_node", "max_samples"});
  RemoteReadOptions o;
  o.instance_from_node = s.boolean("instance_from_node", o.instance_from_node);
  o.max_samples = s.integer("max_samples", o.max_samples);
  if (o.max_samples < 1) s.fail("max_samples", "must be positive");
  return o;
}

}  // namespace

Result<void> check_remote_read_section(const config::Section& s) {
  read_remote_read_options(s);  // throws config::Invalid
  return ok();
}

Result<std::unique_ptr<RunningModule>> start_remote_read_api(const config::Section& s, CollectorContext& ctx) {
  return std::unique_ptr<RunningModule>(std::make_unique<RemoteReadApi>(read_remote_read_options(s), ctx));
}

}  // namespace ss::collector
