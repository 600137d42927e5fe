#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/ports.h"
#include "agent/shipper.h"
#include "common/codec.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::agent;
namespace fs = std::filesystem;

namespace {

using ss::testing::TempDir;

constexpr int64_t kT0 = 1763700000000;

// A stand-in collector: answers the statuses queued (then 200), and records what it stored.
class FakeCollector {
 public:
  FakeCollector() {
    server_.Post("/api/v1/ingest", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lk(mu_);
      ++requests;
      authorization.push_back(req.get_header_value("Authorization"));
      encoding.push_back(req.get_header_value("Content-Encoding"));
      int status = 200;
      if (!statuses.empty()) {
        status = statuses.front();
        statuses.pop_front();
      }
      res.status = status;
      if (status != 200) {
        res.set_content(R"({"error": "test says no"})", "application/json");
        return;
      }
      auto batch = decode_batch(req.body);  // cpp-httplib inflated the gzip body
      if (!batch) {
        res.status = 400;
        res.set_content(batch.error().message, "text/plain");
        return;
      }
      stored.push_back(*batch);
      res.set_content(fmt::format(R"({{"accepted": {}, "duplicate": false}})", batch->point_count()),
                      "application/json");
    });
  }
  ~FakeCollector() { stop(); }

  int start(int port = 0) {
    if (port == 0) port = server_.bind_to_any_port("127.0.0.1");
    else if (!server_.bind_to_port("127.0.0.1", port)) return -1;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return port;
  }
  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::vector<Batch> stored_batches() {
    std::lock_guard lk(mu_);
    return stored;
  }

  std::mutex mu_;
  std::deque<int> statuses;
  int requests = 0;
  std::vector<std::string> authorization, encoding;
  std::vector<Batch> stored;

 private:
  httplib::Server server_;
  std::thread thread_;
};

using ss::testing::free_port;

Collection cycle(int64_t t, double value) {
  Collection c(t);
  c.describe("test_bytes_total", MetricKind::Counter, "Bytes.");
  c.add("test_bytes_total", {{"fs", "ai0"}}, value);
  return c;
}

ShipperOptions options(int port, std::string token = "") {
  return ShipperOptions{{fmt::format("http://127.0.0.1:{}", port)}, std::move(token), "gpu017", 2000, 10, 50};
}

std::uint64_t metric(const Shipper& s, const std::string& name) {
  Collection c(kT0);
  s.add_metrics(c);
  for (const auto& sample : c.samples())
    if (sample.name == name) return static_cast<uint64_t>(sample.value);
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

}  // namespace

TEST(AgentShipper, MakesBatchesAndLeavesOutWhatTheCollectorWouldReject) {
  Collection c(kT0);
  c.describe("ok_total", MetricKind::Counter, "ok");
  c.describe("level", MetricKind::Gauge, "level");
  c.add("ok_total", {{"fs", "ai0"}}, 5);
  c.add_at("ok_total", {{"fs", "ai0"}}, 6, kT0 + 1000);
  c.add("ok_total", {{"fs", "ai1"}}, 1);
  c.add("level", {}, -3);  // negative gauges are fine
  c.add("ok_total", {{"fs", "ai2"}}, -1);            // negative counter
  c.add("ok_total", {{"node", "x"}}, 1);             // reserved label
  c.add("bad-name", {}, 1);                          // invalid metric name
  c.add_at("level", {{"fs", "ai0"}}, 1, 1763700000);  // seconds, not ms
  c.add_event(Event{"vfs_hot_dirs", kT0, {{"fstype", "lustre"}}, R"({"dirs": []})"});
  c.add_event(Event{"bad kind", kT0, {}, "{}"});
  c.add("ok_total", {{"fs", "ai1"}}, 2);  // the same series again at the same time: the last value wins
  size_t skipped = 0;
  // What we send always passes the collector's own validation.
  auto decoded = decode_batch(encode_cycle(Outputs{std::make_shared<const Collection>(c)}, "gpu017", "abc", 7, &skipped));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const Batch& b = *decoded;
  EXPECT_EQ(skipped, 5u);
  EXPECT_EQ(b.node, "gpu017");
  EXPECT_EQ(b.seq, 7u);
  EXPECT_EQ(b.stream, "abc");
  ASSERT_EQ(b.series.size(), 3u);
  EXPECT_EQ(b.series[0].name, "ok_total");
  EXPECT_EQ(b.series[0].labels, (Labels{{"fs", "ai0"}}));
  EXPECT_EQ(b.series[0].type, SeriesType::Counter);
  EXPECT_EQ(b.series[0].points, (std::vector<Point>{{kT0, 5}, {kT0 + 1000, 6}}));
  EXPECT_EQ(b.series[1].points, (std::vector<Point>{{kT0, 2}}));
  EXPECT_EQ(b.series[2].name, "level");
  EXPECT_EQ(b.series[2].type, SeriesType::Gauge);
  EXPECT_EQ(b.series[2].points, (std::vector<Point>{{kT0, -3}}));
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].kind, "vfs_hot_dirs");
  EXPECT_EQ(b.point_count(), 4u);
}

TEST(AgentShipper, EncodesTheCycleAsEncodeBatchWouldEncodeTheSameSeries) {
  Collection c(kT0);
  c.describe("a_total", MetricKind::Counter, "a");
  c.describe("g", MetricKind::Gauge, "g");
  c.add("a_total", {{"target", "ai0-OST0001"}, {"fs", "ai0"}}, 1.5);
  c.add("g", {{"q", "quote\" and \\ backslash"}}, std::numeric_limits<double>::infinity());
  c.add_at("a_total", {{"fs", "ai0"}, {"target", "ai0-OST0001"}}, 0.5, kT0 - 10'000);  // earlier point, after
  Batch want;
  want.node = "n1";
  want.seq = 3;
  want.series.push_back(Series{"a_total", SeriesType::Counter, {{"fs", "ai0"}, {"target", "ai0-OST0001"}}, {{kT0 - 10'000, 0.5}, {kT0, 1.5}}});
  want.series.push_back(Series{"g", SeriesType::Gauge, {{"q", "quote\" and \\ backslash"}}, {{kT0, std::numeric_limits<double>::infinity()}}});
  EXPECT_EQ(encode_cycle(Outputs{std::make_shared<const Collection>(c)}, "n1", "", 3), encode_batch(want));
}

TEST(AgentShipper, RejectsBadCollectorUrls) {
  TempDir d;
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  for (std::string url : {"collector:9480", "ftp://x", "http://", "http://x/?a=b"}) {
    ShipperOptions o;
    o.collector_urls = {url};
    EXPECT_FALSE(Shipper::create(**spool, o).ok()) << url;
  }
}

TEST(AgentShipper, RetriesServerErrorsAndUnauthorizedWithTheToken) {
  TempDir d;
  FakeCollector collector;
  collector.statuses = {503, 401, 500};
  int port = collector.start();
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  auto shipper = Shipper::create(**spool, options(port, "s3cret"));
  ASSERT_TRUE(shipper.ok());
  (*shipper)->start();
  ASSERT_TRUE((*shipper)->enqueue(cycle(kT0, 1)).ok());
  ASSERT_TRUE((*shipper)->wait_until_drained(10'000));
  auto stored = collector.stored_batches();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].seq, 1u);
  EXPECT_EQ(stored[0].node, "gpu017");
  EXPECT_EQ(stored[0].stream, (*spool)->stream());
  EXPECT_EQ(stored[0].series.at(0).points.at(0), (Point{kT0, 1}));
  {
    std::lock_guard lk(collector.mu_);
    EXPECT_EQ(collector.requests, 4);
    for (const auto& a : collector.authorization) EXPECT_EQ(a, "Bearer s3cret");
    for (const auto& e : collector.encoding) EXPECT_EQ(e, "gzip");
  }
  EXPECT_EQ(metric(**shipper, "stormscope_agent_ship_failures_total"), 3u);
  EXPECT_EQ(metric(**shipper, "stormscope_agent_batches_shipped_total"), 1u);
  EXPECT_EQ(metric(**shipper, "stormscope_agent_points_shipped_total"), 1u);
  EXPECT_GT(metric(**shipper, "stormscope_agent_last_ship_success_timestamp_seconds"), 0u);
  (*shipper)->stop();
}

TEST(AgentShipper, SetsAsideWhatTheCollectorRefusesAndGoesOn) {
  TempDir d;
  FakeCollector collector;
  collector.statuses = {400, 413};
  int port = collector.start();
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  auto shipper = Shipper::create(**spool, options(port));
  ASSERT_TRUE(shipper.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + i * 10'000, i)).ok());
  (*shipper)->start();
  ASSERT_TRUE((*shipper)->wait_until_drained(10'000));
  auto stored = collector.stored_batches();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].seq, 3u);
  EXPECT_TRUE(fs::exists(d.str() + "/rejected/batch-00000000000000000001.json.gz"));
  EXPECT_TRUE(fs::exists(d.str() + "/rejected/batch-00000000000000000002.json.gz"));
  EXPECT_EQ(metric(**shipper, "stormscope_agent_batches_rejected_total"), 2u);
  EXPECT_EQ(metric(**shipper, "stormscope_agent_ship_failures_total"), 0u);
}

TEST(AgentShipper, DeliversEverythingInOrderAfterAnOutage) {
  TempDir d;
  int port = free_port();
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  auto shipper = Shipper::create(**spool, options(port));
  ASSERT_TRUE(shipper.ok());
  (*shipper)->start();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + i * 10'000, i)).ok());
  // Nobody listens: the batches wait in the spool while the shipper retries.
  for (int i = 0; i < 500 && metric(**shipper, "stormscope_agent_ship_failures_total") < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(metric(**shipper, "stormscope_agent_ship_failures_total"), 2u);
  EXPECT_EQ((*spool)->stats().batches, 5u);

  FakeCollector collector;
  ASSERT_EQ(collector.start(port), port);
  ASSERT_TRUE((*shipper)->wait_until_drained(10'000));
  auto stored = collector.stored_batches();
  ASSERT_EQ(stored.size(), 5u);
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq, i + 1);
    EXPECT_EQ(stored[i].series.at(0).points.at(0), (Point{kT0 + static_cast<int64_t>(i) * 10'000, double(i)}));
  }
  (*shipper)->stop();
}

TEST(AgentShipper, UnsentBatchesSurviveARestartOfTheAgent) {
  TempDir d;
  int port = free_port();
  {
    auto spool = Spool::open(d.path);
    ASSERT_TRUE(spool.ok());
    auto shipper = Shipper::create(**spool, options(port));
    ASSERT_TRUE(shipper.ok());
    (*shipper)->start();
    ASSERT_TRUE((*shipper)->enqueue(cycle(kT0, 1)).ok());
    ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + 10'000, 2)).ok());
    (*shipper)->stop();
  }
  FakeCollector collector;
  ASSERT_EQ(collector.start(port), port);
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  auto shipper = Shipper::create(**spool, options(port));
  ASSERT_TRUE(shipper.ok());
  (*shipper)->start();
  ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + 20'000, 3)).ok());
  ASSERT_TRUE((*shipper)->wait_until_drained(10'000));
  auto stored = collector.stored_batches();
  ASSERT_EQ(stored.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(stored[i].seq, i + 1);
  EXPECT_EQ(stored[0].stream, stored[2].stream);
}

// Two collectors: each gets every batch from its own spool cursor; one that is down holds back only itself,
// and the spool keeps a batch until both stored it, across an agent restart.
TEST(AgentShipper, ShipsEveryBatchToEachOfTwoCollectors) {
  TempDir d;
  FakeCollector up;
  int up_port = up.start();
  int down_port = free_port();
  auto both = [&] {
    ShipperOptions o = options(up_port);
    o.collector_urls.push_back(fmt::format("http://127.0.0.1:{}", down_port));
    return o;
  };
  {
    auto spool = Spool::open(d.path);
    ASSERT_TRUE(spool.ok());
    auto shipper = Shipper::create(**spool, both());
    ASSERT_TRUE(shipper.ok()) << shipper.error().message;
    (*shipper)->start();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + i * 10'000, i)).ok());
    auto pending = [&] {
      Collection m(kT0);
      (*shipper)->add_metrics(m);
      std::map<std::string, double> out;
      for (const auto& s : m.samples())
        if (s.name == "stormscope_agent_ship_pending_batches") out[std::string(label_value(*s.labels, "collector"))] = s.value;
      return out;
    };
    std::string up_url = fmt::format("http://127.0.0.1:{}", up_port), down_url = fmt::format("http://127.0.0.1:{}", down_port);
    for (int i = 0; i < 1000 && pending()[up_url] > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(up.stored_batches().size(), 4u);  // the collector that is up did not wait for the other
    EXPECT_EQ((*spool)->stats().batches, 4u);   // kept for the one that is down
    EXPECT_EQ(pending()[up_url], 0);
    EXPECT_EQ(pending()[down_url], 4);
    (*shipper)->stop();
  }
  FakeCollector late;
  ASSERT_EQ(late.start(down_port), down_port);
  auto spool = Spool::open(d.path);
  ASSERT_TRUE(spool.ok());
  auto shipper = Shipper::create(**spool, both());
  ASSERT_TRUE(shipper.ok());
  (*shipper)->start();
  ASSERT_TRUE((*shipper)->enqueue(cycle(kT0 + 40'000, 4)).ok());
  ASSERT_TRUE((*shipper)->wait_until_drained(10'000));
  EXPECT_EQ((*spool)->stats().batches, 0u);
  auto a = up.stored_batches(), b = late.stored_batches();
  ASSERT_EQ(a.size(), 5u);  // nothing twice to the one that was up (its cursor survived the restart)
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a[i].seq, i + 1);
    EXPECT_EQ(b[i].seq, i + 1);
  }
  (*shipper)->stop();
}
