// POST /api/v1/read on a real collector: Prometheus' matchers on the store's selectors, `instance` for
// `node`, sorted labels, raw points, and minute rollups where the raw points aged out.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>

#include "collector/collector.h"
#include "collector/remote/wire.h"
#include "common/codec.h"
#include "common/config.h"
#include "tests/support/collector.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::collector;
using ss::testing::start_collector;
using ss::testing::TempDir;

namespace {

constexpr int64_t kT0 = 1763700000000;

Batch batch(const std::string& node, uint64_t seq, int64_t from, int n, int64_t step = 10'000) {
  Batch b;
  b.node = node;
  b.seq = seq;
  for (const char* target : {"ai0-MDT0000", "ai0-OST0001"}) {
    Series s;
    s.name = "lustre_client_rpcs_total";
    s.type = SeriesType::Counter;
    s.labels = {{"fs", "ai0"}, {"target", target}};
    for (int i = 0; i < n; ++i) s.points.push_back({from + i * step, double(i)});
    b.series.push_back(std::move(s));
  }
  return b;
}

void ingest(Collector& c, const Batch& b) {
  ASSERT_TRUE(c.store().append(b).ok());
}

using Matchers = std::vector<std::tuple<prometheus::LabelMatcher::Type, std::string, std::string>>;

struct Answer {
  int status = 0;
  std::string error;
  prometheus::ReadResponse response;
};

Answer read(Collector& c, int64_t from, int64_t to, const Matchers& matchers) {
  prometheus::ReadRequest req;
  auto* q = req.add_queries();
  q->set_start_timestamp_ms(from);
  q->set_end_timestamp_ms(to);
  for (const auto& [type, name, value] : matchers) {
    auto* m = q->add_matchers();
    m->set_type(type);
    m->set_name(name);
    m->set_value(value);
  }
  req.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  req.add_accepted_response_types(prometheus::ReadRequest::SAMPLES);
  httplib::Client client("127.0.0.1", c.port());
  client.set_read_timeout(30, 0);
  httplib::Headers h{{"Content-Encoding", "snappy"}, {"X-Prometheus-Remote-Read-Version", "0.1.0"}};
  auto r = client.Post("/api/v1/read", h, remote::snappy_message(req), "application/x-protobuf");
  Answer a;
  if (!r) return a;
  a.status = r->status;
  if (r->status != 200) {
    a.error = r->body;
    return a;
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "snappy");
  auto ok = remote::parse_snappy_message(r->body, a.response);
  EXPECT_TRUE(ok.ok());
  return a;
}

std::string labels_of(const prometheus::TimeSeries& ts) {
  std::string out;
  for (const auto& l : ts.labels()) out += l.name() + "=" + l.value() + ",";
  return out;
}

}  // namespace

TEST(RemoteRead, AnswersMatchersWithInstanceForNode) {
  TempDir d;
  auto c = start_collector(d.str());
  ASSERT_TRUE(c);
  ingest(*c, batch("gpu017", 1, kT0, 30));
  ingest(*c, batch("gpu018", 1, kT0, 30));
  using T = prometheus::LabelMatcher;
  auto a = read(*c, kT0, kT0 + 100'000,
                {{T::EQ, "__name__", "lustre_client_rpcs_total"}, {T::EQ, "instance", "gpu017"}, {T::RE, "target", "ai0-OST.*"}});
  ASSERT_EQ(a.status, 200) << a.error;
  ASSERT_EQ(a.response.results_size(), 1);
  ASSERT_EQ(a.response.results(0).timeseries_size(), 1);
  const auto& ts = a.response.results(0).timeseries(0);
  EXPECT_EQ(labels_of(ts), "__name__=lustre_client_rpcs_total,fs=ai0,instance=gpu017,node=gpu017,target=ai0-OST0001,");
  ASSERT_EQ(ts.samples_size(), 11);  // kT0 .. kT0+100 s at 10 s
  EXPECT_EQ(ts.samples(3).timestamp(), kT0 + 30'000);
  EXPECT_EQ(ts.samples(3).value(), 3);
  // Name by regular expression, negative matchers.
  a = read(*c, kT0, kT0 + 100'000, {{T::RE, "__name__", "lustre_.*_total"}, {T::NEQ, "node", "gpu017"},
                                    {T::NRE, "target", ".*OST.*"}});
  ASSERT_EQ(a.status, 200) << a.error;
  ASSERT_EQ(a.response.results(0).timeseries_size(), 1);
  EXPECT_EQ(labels_of(a.response.results(0).timeseries(0)),
            "__name__=lustre_client_rpcs_total,fs=ai0,instance=gpu018,node=gpu018,target=ai0-MDT0000,");
  // Nothing matches: an empty result, not an error.
  a = read(*c, kT0, kT0 + 100'000, {{T::EQ, "__name__", "nope"}});
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.response.results(0).timeseries_size(), 0);
  // A bad regular expression and a body that is not snappy are clear 400s.
  a = read(*c, kT0, kT0 + 100'000, {{T::RE, "target", "("}});
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.error.find("regular expression"), std::string::npos) << a.error;
  httplib::Client client("127.0.0.1", c->port());
  auto r = client.Post("/api/v1/read", "garbage", "application/x-protobuf");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("snappy"), std::string::npos) << r->body;
}

TEST(RemoteRead, InstanceMappingCanBeTurnedOffAndSamplesAreLimited) {
  TempDir d;
  auto c = start_collector(d.str(), "remote_read: {instance_from_node: false, max_samples: 50}");
  ASSERT_TRUE(c);
  ingest(*c, batch("gpu017", 1, kT0, 30));
  using T = prometheus::LabelMatcher;
  auto a = read(*c, kT0, kT0 + 1'000'000, {{T::EQ, "instance", "gpu017"}});
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.response.results(0).timeseries_size(), 0);
  a = read(*c, kT0, kT0 + 1'000'000, {{T::EQ, "node", "gpu017"}});
  EXPECT_EQ(a.status, 413);
  EXPECT_NE(a.error.find("more than 50 samples"), std::string::npos) << a.error;
  a = read(*c, kT0, kT0 + 200'000, {{T::EQ, "node", "gpu017"}});
  ASSERT_EQ(a.status, 200) << a.error;
  ASSERT_EQ(a.response.results(0).timeseries_size(), 2);
  EXPECT_EQ(labels_of(a.response.results(0).timeseries(0)).find("instance"), std::string::npos);
}

TEST(RemoteRead, ReadsRollupsWhereRawPointsAgedOut) {
  TempDir d;
  constexpr int64_t kDay = 86'400'000;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t t0 = now - now % kDay - 6 * kDay;
  // Six days of one point a minute, stored with the default retention (raw points for 15 days).
  {
    auto c = start_collector(d.str());
    ASSERT_TRUE(c);
    for (int day = 0; day < 6; ++day) ingest(*c, batch("gpu017", uint64_t(day + 1), t0 + day * kDay, 1440, 60'000));
    c->stop();  // writes every chunk and its rollups
  }
  // The collector now keeps raw points for two days: its retention (run every 10 minutes; here at once)
  // drops the older raw windows.
  auto c = start_collector(d.str(), "retention: {raw: 2d}");
  ASSERT_TRUE(c);
  auto removed = c->store().apply_retention(now);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  auto series = c->store().select("lustre_client_rpcs_total", {{"target", Matcher::Op::Eq, "ai0-MDT0000"}});
  ASSERT_TRUE(series.ok() && series->size() == 1);
  ASSERT_TRUE(c->store().read(series->front().id, t0, t0 + kDay)->empty()) << "raw points older than 2 days kept";
  using T = prometheus::LabelMatcher;
  auto a = read(*c, t0, t0 + 6 * kDay, {{T::EQ, "target", "ai0-MDT0000"}});
  ASSERT_EQ(a.status, 200) << a.error;
  ASSERT_EQ(a.response.results(0).timeseries_size(), 1);
  const auto& ts = a.response.results(0).timeseries(0);
  // Every minute of the six days is answered once, in time order: from rollups first, then raw points.
  ASSERT_EQ(ts.samples_size(), 6 * 1440);
  for (int i = 1; i < ts.samples_size(); ++i) ASSERT_LT(ts.samples(i - 1).timestamp(), ts.samples(i).timestamp()) << i;
  EXPECT_EQ(ts.samples(0).value(), 0);
  EXPECT_EQ(ts.samples(1439).value(), 1439);  // the last minute of the first day, from its rollup bucket
  EXPECT_EQ(ts.samples(1439).timestamp(), t0 + 1440 * 60'000 - 1);
  EXPECT_EQ(ts.samples(6 * 1440 - 1).value(), 1439);
  EXPECT_EQ(ts.samples(6 * 1440 - 1).timestamp(), t0 + 5 * kDay + 1439 * 60'000);  // raw
}
