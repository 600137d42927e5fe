// The collector's HTTP API on loopback (ephemeral port, temporary database).
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <zlib.h>

#include <atomic>
#include <future>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "collector/collector.h"
#include "common/codec.h"
#include "collector/api/ingest.h"
#include "common/config.h"
#include "common/time.h"

using namespace ss;
using namespace ss::collector;
using json = nlohmann::json;

namespace {

constexpr int64_t kT0 = 1763700000000;

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Batch make_batch(const std::string& node, uint64_t seq, std::vector<Point> points, std::string target = "ai0-OST0001") {
  Batch b;
  b.node = node;
  b.seq = seq;
  Series s;
  s.name = "lustre_client_rpcs_total";
  s.type = SeriesType::Counter;
  s.labels = {{"fs", "ai0"}, {"target", std::move(target)}};
  s.points = std::move(points);
  b.series.push_back(std::move(s));
  return b;
}

class CollectorHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ss_collector_http_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    client_.reset();
    if (collector_) collector_->stop();
    collector_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(const std::string& yaml = "") {
    auto root = config::load_string(yaml);
    ASSERT_TRUE(root.ok()) << root.error().message;
    (*root)["listen"] = "127.0.0.1:0";
    (*root)["db"] = dir_ + "/db.sqlite";
    (*root)["http"]["threads"] = 8;
    auto cfg = read_collector_config(*root);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto c = Collector::start(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().message;
    collector_ = std::move(*c);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
    client_->set_read_timeout(10, 0);
  }

  httplib::Result post(const std::string& body, httplib::Headers headers = {}) {
    return client_->Post("/api/v1/ingest", headers, body, "application/json");
  }

  int64_t stored_points() { return collector_->store().stats().points; }

  json get_json(const std::string& path, int expect_status = 200) {
    auto r = client_->Get(path);
    EXPECT_TRUE(r) << "no answer to " << path;
    if (!r) return {};
    EXPECT_EQ(r->status, expect_status) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  std::string dir_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<httplib::Client> client_;
};

std::string enc(const std::string& s) { return httplib::detail::encode_query_param(s); }

}  // namespace

TEST_F(CollectorHttp, IngestsAndAnswersDuplicatesIdempotently) {
  start();
  std::string body = encode_batch(make_batch("gpu017", 1, {{kT0, 1}, {kT0 + 10000, 2}}));
  auto r = post(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body), (json{{"accepted", 2}, {"duplicate", false}}));
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto again = post(body);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body), (json{{"accepted", 0}, {"duplicate", true}}));
  EXPECT_EQ(stored_points(), 2);
}

TEST_F(CollectorHttp, AcceptsGzipBodies) {
  start();
  auto r = post(gzip(encode_batch(make_batch("n", 1, {{kT0, 1}}))), {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(stored_points(), 1);
}

TEST_F(CollectorHttp, MalformedBatchesGetThePreciseErrorAndStoreNothing) {
  start();
  Batch good = make_batch("n", 1, {{kT0, 1.5}});
  std::string bad_value = encode_batch(good);
  ASSERT_NE(bad_value.find("1.5"), std::string::npos) << bad_value;
  bad_value.replace(bad_value.find("1.5"), 3, "\"x\"");  // a point's value
  struct Case {
    std::string body;
    std::string error_part;
  } cases[] = {
      {"{not json", "not valid JSON"},
      {R"({"node":"n","series":[]})", "missing field \"seq\""},
      {bad_value, "series[0].points[0][1]"},
      {R"({"node":"bad node!","seq":1})", "node"},
  };
  for (const auto& c : cases) {
    auto r = post(c.body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << c.body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(c.error_part), std::string::npos) << j["error"];
  }
  auto garbage_gzip = post("definitely not gzip", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(garbage_gzip);
  EXPECT_EQ(garbage_gzip->status, 400);
  auto brotli = post("x", {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(brotli);
  EXPECT_EQ(brotli->status, 415);
  EXPECT_EQ(stored_points(), 0);
  EXPECT_EQ(collector_->store().stats().series, 0);
  // The same seq is still free: nothing of the bad batches was recorded.
  auto r = post(encode_batch(good));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(stored_points(), 1);
}

TEST_F(CollectorHttp, OversizedBodiesAndGzipBombsGet413AndStoreNothing) {
  start("ingest: {max_body_bytes: 65536, max_decoded_bytes: 1MiB}\n");
  // Plain body above the wire limit.
  Batch big = make_batch("n", 1, {});
  for (int i = 0; i < 5000; ++i) big.series[0].points.push_back({kT0 + i, double(i)});
  std::string plain = encode_batch(big);
  ASSERT_GT(plain.size(), 65536u);
  auto r = post(plain);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body;

  // A valid batch padded with whitespace: 32 MiB inflated from a few tens of KB on the wire.
  std::string bomb_json = encode_batch(make_batch("n", 1, {{kT0, 1}}));
  bomb_json.insert(1, std::string(32 << 20, ' '));
  std::string bomb = gzip(bomb_json);
  ASSERT_LT(bomb.size(), 65536u);
  auto b = post(bomb, {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 413) << b->body;
  EXPECT_NE(b->body.find("decompress"), std::string::npos) << b->body;
  EXPECT_EQ(stored_points(), 0);

  // The collector still works afterwards, and the seq was not used up.
  client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
  auto ok = post(encode_batch(make_batch("n", 1, {{kT0, 1}})));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(CollectorHttp, BearerTokensAreRequiredWhenConfigured) {
  start("ingest: {tokens: [s3cret, other]}\n");
  std::string body = encode_batch(make_batch("n", 1, {{kT0, 1}}));
  auto none = post(body);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_FALSE(none->get_header_value("WWW-Authenticate").empty());
  client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
  auto wrong = post(body, {{"Authorization", "Bearer s3cre"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(stored_points(), 0);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
  auto right = post(body, {{"Authorization", "Bearer other"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(stored_points(), 1);
}

TEST_F(CollectorHttp, SeriesAndQueryRangeWithCounterReset) {
  start();
  // 0, 10, 20 then a reset to 5, then 15: rates 1, 1, 0.5, 1 per second.
  ASSERT_EQ(post(encode_batch(make_batch("gpu1", 1, {{kT0, 0}, {kT0 + 10000, 10}, {kT0 + 20000, 20}})))->status, 200);
  ASSERT_EQ(post(encode_batch(make_batch("gpu1", 2, {{kT0 + 30000, 5}, {kT0 + 40000, 15}})))->status, 200);
  ASSERT_EQ(post(encode_batch(make_batch("gpu2", 1, {{kT0, 7}}, "ai0-MDT0000")))->status, 200);

  auto series = get_json("/api/v1/series?match=" + enc(R"(lustre_client_rpcs_total{fs="ai0",target=~"ai0-OST.*"})"));
  ASSERT_EQ(series["series"].size(), 1u) << series.dump();
  EXPECT_EQ(series["series"][0]["labels"], (json{{"fs", "ai0"}, {"node", "gpu1"}, {"target", "ai0-OST0001"}}));
  EXPECT_EQ(series["series"][0]["type"], "counter");
  EXPECT_EQ(get_json("/api/v1/series?match=lustre_client_rpcs_total")["series"].size(), 2u);
  EXPECT_EQ(get_json("/api/v1/series?match=" + enc(R"({node="gpu2"})"))["series"].size(), 1u);
  auto bad = client_->Get("/api/v1/series?match=" + enc("x{a="));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/series")->status, 400);

  std::string sel = enc(R"(lustre_client_rpcs_total{node="gpu1"})");
  auto raw = get_json(fmt::format("/api/v1/query_range?match={}&from={}&to={}", sel, kT0, kT0 + 40000));
  ASSERT_EQ(raw["series"].size(), 1u);
  EXPECT_EQ(raw["series"][0]["points"].size(), 5u);
  EXPECT_EQ(raw["series"][0]["points"][3], json::array({kT0 + 30000, 5.0}));

  auto rate = get_json(fmt::format("/api/v1/query_range?match={}&from={}&to={}&rate=true", sel, kT0, kT0 + 40000));
  json want = json::array({json::array({kT0 + 10000, 1.0}), json::array({kT0 + 20000, 1.0}),
                           json::array({kT0 + 30000, 0.5}), json::array({kT0 + 40000, 1.0})});
  EXPECT_EQ(rate["series"][0]["points"], want) << rate.dump();

  // On a 20 s grid, RFC 3339 bounds: the increase over each step, reset-adjusted.
  auto grid = get_json(fmt::format("/api/v1/query_range?match={}&from={}&to={}&step=20s&rate=true", sel,
                                   "2025-11-21T04:40:20Z", kT0 + 40000));
  EXPECT_EQ(grid["from"], kT0 + 20000);
  json want_grid = json::array({json::array({kT0 + 20000, 1.0}), json::array({kT0 + 40000, 0.75})});
  EXPECT_EQ(grid["series"][0]["points"], want_grid) << grid.dump();

  auto by_id = get_json(fmt::format("/api/v1/query_range?id={}&from={}&to={}",
                                    series["series"][0]["id"].get<int64_t>(), kT0, kT0 + 40000));
  EXPECT_EQ(by_id["series"][0]["points"].size(), 5u);

  // Errors: a gauge asked as rate is not our case here; bad times and steps are.
  EXPECT_EQ(client_->Get(fmt::format("/api/v1/query_range?match={}&from=yesterday", sel))->status, 400);
  EXPECT_EQ(client_->Get(fmt::format("/api/v1/query_range?match={}&step=-1", sel))->status, 400);
  EXPECT_EQ(client_->Get(fmt::format("/api/v1/query_range?match={}&from={}&to={}", sel, kT0 + 1, kT0))->status, 400);
}

TEST_F(CollectorHttp, MetricsAndHealthz) {
  start();
  ASSERT_EQ(post(encode_batch(make_batch("n", 1, {{kT0, 1}, {kT0 + 1, 2}})))->status, 200);
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("stormscope_collector_ingest_points_total 2"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("stormscope_collector_store_points 2"), std::string::npos);
  EXPECT_NE(m->body.find("stormscope_collector_ingest_requests_total{outcome=\"accepted\"} 1"), std::string::npos);
  EXPECT_NE(m->body.find("stormscope_collector_http_request_duration_seconds_bucket{handler=\"/api/v1/ingest\""),
            std::string::npos);
}

TEST_F(CollectorHttp, ObserversSeeDurableBatchesOnce) {
  start();
  std::atomic<int> seen{0};
  std::atomic<int64_t> points_in_store_when_seen{-1};
  collector_->observers().add([&](const Batch& b) {
    seen++;
    points_in_store_when_seen = collector_->store().stats().points;
    EXPECT_EQ(b.node, "n");
  });
  std::string body = encode_batch(make_batch("n", 1, {{kT0, 1}}));
  ASSERT_EQ(post(body)->status, 200);
  ASSERT_EQ(post(body)->status, 200);  // duplicate: not observed again
  EXPECT_EQ(seen.load(), 1);
  EXPECT_EQ(points_in_store_when_seen.load(), 1);
}

TEST_F(CollectorHttp, StopLosesNothingAcknowledged) {
  start();
  constexpr int kClients = 4;
  std::atomic<bool> go{true};
  std::vector<int64_t> acked(kClients, 0);
  std::vector<std::thread> threads;
  int port = collector_->port();
  for (int c = 0; c < kClients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(10, 0);
      for (uint64_t seq = 1; go && seq < 100000; ++seq) {
        std::vector<Point> pts;
        for (int i = 0; i < 50; ++i) pts.push_back({kT0 + int64_t(seq) * 1000 + i, 1.0});
        auto r = cli.Post("/api/v1/ingest", encode_batch(make_batch("node" + std::to_string(c), seq, pts)),
                          "application/json");
        if (!r) break;  // the server went away
        if (r->status == 200) acked[c] += 50;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  collector_->stop();
  go = false;
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (auto a : acked) total += a;
  EXPECT_GT(total, 0);
  // Reopen the database: every acknowledged point is there.
  StoreOptions options;
  options.path = dir_ + "/db.sqlite";
  auto store = open_store(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_GE((*store)->stats().points, total);
  for (int c = 0; c < kClients; ++c) {
    auto sel = (*store)->select("lustre_client_rpcs_total", {{"node", Matcher::Op::Eq, "node" + std::to_string(c)}});
    ASSERT_TRUE(sel.ok());
    int64_t n = 0;
    for (const auto& s : *sel) n += static_cast<int64_t>((*store)->read(s.id, 0, kT0 * 2)->size());
    EXPECT_GE(n, acked[c]) << "node" << c;
  }
  (*store)->close();
}

TEST_F(CollectorHttp, OverloadedWhilePointsArePendingGets503AndStoresNothing) {
  start("ingest: {max_pending_points: 1}\n");
  // The first batch is held by a slow observer, after it is durable but before it is answered.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  collector_->observers().add([&](const Batch&) {
    if (calls++ == 0) {
      entered.set_value();
      released.wait();
    }
  });
  int port = collector_->port();
  auto first = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", port);
    return c.Post("/api/v1/ingest", encode_batch(make_batch("a", 1, {{kT0, 1}})), "application/json");
  });
  entered.get_future().wait();
  auto second = post(encode_batch(make_batch("b", 1, {{kT0, 1}})));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503) << second->body;
  EXPECT_EQ(second->get_header_value("Retry-After"), "1");
  release.set_value();
  auto r = first.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(stored_points(), 1);
  // Once the queue is empty again, the refused batch goes through with the same seq.
  client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
  auto again = post(encode_batch(make_batch("b", 1, {{kT0, 1}})));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(stored_points(), 2);
}

TEST(CollectorStart, ModuleSectionErrorsStopTheStart) {
  auto root = config::load_string("listen: 127.0.0.1:0\ningest: {max_body: 1}\n");
  ASSERT_TRUE(root.ok());
  char tmpl[] = "/tmp/ss_collector_start_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  (*root)["db"] = std::string(tmpl) + "/db.sqlite";
  auto cfg = read_collector_config(*root);
  ASSERT_TRUE(cfg.ok());
  auto c = Collector::start(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("ingest.max_body: unknown key"), std::string::npos) << c.error().message;
  std::filesystem::remove_all(tmpl);
}

TEST_F(CollectorHttp, PointsFromAClockAheadAreDroppedAndCounted) {
  start("ingest: {max_future: 5m}\n");
  int64_t now = now_ms();
  Batch b = make_batch("ahead", 1, {{now - 1000, 1}, {now + 3 * 60'000, 2}, {now + 2 * 3'600'000, 3}});
  Event e;
  e.kind = "storm";
  e.t_ms = now + 3'600'000;
  b.events.push_back(e);
  auto r = post(encode_batch(b));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // Within max_future is taken; beyond it is not, and says so.
  EXPECT_EQ(json::parse(r->body), (json{{"accepted", 2}, {"duplicate", false}, {"dropped_future", 2}}));
  EXPECT_EQ(stored_points(), 2);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("stormscope_collector_ingest_future_points_total 2"), std::string::npos);
  // A batch entirely in the future still answers 200 (the agent must not retry it forever).
  auto all = post(encode_batch(make_batch("ahead", 2, {{now + 2 * 3'600'000, 1}})));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200) << all->body;
  EXPECT_EQ(stored_points(), 2);
}

TEST(IngestOptions, MaxFutureIsReadAndChecked) {
  auto root = config::load_string("max_future: 10m\n");
  ASSERT_TRUE(root.ok());
  auto o = config::read([&] { return read_ingest_options(config::Section(*root, "ingest")); });
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->max_future_ms, 600'000);
}
