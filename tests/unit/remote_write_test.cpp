// Remote write out: the queue record codec, the disk queue (cursors, restart, torn tail, bound),
// write_relabel_configs, and the sender against an in-process receiver that fails and rejects on cue.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "collector/collector.h"
#include "collector/remote/disk_queue.h"
#include "collector/remote/queue_record.h"
#include "collector/remote/relabel.h"
#include "collector/remote/remote_write.h"
#include "collector/remote/wire.h"
#include "common/codec.h"
#include "common/config.h"
#include "tests/support/collector.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::collector;
using namespace ss::collector::remote;
using ss::testing::start_collector;
using ss::testing::TempDir;

namespace {

constexpr int64_t kT0 = 1763700000000;

Batch make_batch(const std::string& node, uint64_t seq, int points, double base = 0) {
  Batch b;
  b.node = node;
  b.seq = seq;
  for (const char* target : {"ai0-MDT0000", "ai0-OST0001"}) {
    Series s;
    s.name = "lustre_client_rpcs_total";
    s.type = SeriesType::Counter;
    s.labels = {{"fs", "ai0"}, {"target", target}};
    for (int i = 0; i < points; ++i) s.points.push_back({kT0 + int64_t(seq) * 600'000 + i * 10'000, base + seq * 100 + i});
    b.series.push_back(std::move(s));
  }
  return b;
}

// Polls until `done` or 60 s pass (a bound against hangs, not a timing assertion).
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace

TEST(QueueRecord, RoundTripsABatchWithItsNode) {
  Batch b = make_batch("gpu017", 3, 4);
  b.series[0].points[1].value = -0.25;
  std::vector<std::pair<std::string, Series>> got;
  auto r = decode_queue_record(encode_queue_record(b), [&](std::string_view node, const Series& s) {
    got.emplace_back(std::string(node), s);
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].first, "gpu017");
    EXPECT_EQ(got[i].second.name, b.series[i].name);
    EXPECT_EQ(got[i].second.labels, b.series[i].labels);
    EXPECT_EQ(got[i].second.points, b.series[i].points);
  }
  std::string bytes = encode_queue_record(b);
  for (size_t cut : {size_t(0), size_t(3), bytes.size() / 2, bytes.size() - 1})
    EXPECT_FALSE(decode_queue_record(bytes.substr(0, cut), [](std::string_view, const Series&) {}).ok()) << cut;
}

TEST(DiskQueue, EachConsumerReadsEverythingFromItsCursorAcrossRestarts) {
  TempDir d;
  DiskQueueOptions o{d.str() + "/q", 1 << 20, 4096, true};
  {
    auto q = DiskQueue::open(o, {"a", "b"});
    ASSERT_TRUE(q.ok()) << q.error().message;
    for (int i = 0; i < 100; ++i) ASSERT_TRUE((*q)->append(std::string(100, char('a' + i % 26)), 7).ok());
    auto recs = (*q)->read((*q)->cursor(0), 70);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), 10u);  // 10 records of 7 points reach 70
    ASSERT_TRUE((*q)->commit(0, recs->back().next).ok());
    EXPECT_EQ((*q)->dropped_points(0), 0u);
  }
  auto q = DiskQueue::open(o, {"a", "b"});
  ASSERT_TRUE(q.ok());
  auto a = (*q)->read((*q)->cursor(0), 100000);
  auto b = (*q)->read((*q)->cursor(1), 100000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 90u);
  ASSERT_EQ(b->size(), 100u);
  EXPECT_EQ(b->front().payload, std::string(100, 'a'));
  EXPECT_EQ(b->back().payload, std::string(100, char('a' + 99 % 26)));
  // Segments both consumers passed are deleted.
  int64_t before = (*q)->bytes_on_disk();
  ASSERT_TRUE((*q)->commit(0, a->back().next).ok());
  ASSERT_TRUE((*q)->commit(1, b->back().next).ok());
  EXPECT_LT((*q)->bytes_on_disk(), before);
  EXPECT_EQ((*q)->bytes_behind(0), 0);
  // A consumer added later starts at the end; a removed one no longer holds segments.
  q->reset();
  auto q2 = DiskQueue::open(o, {"a", "c"});
  ASSERT_TRUE(q2.ok());
  EXPECT_TRUE((*q2)->read((*q2)->cursor(1), 10)->empty());
  EXPECT_FALSE(std::filesystem::exists(o.dir + "/b.cursor"));
}

TEST(DiskQueue, CutsATornRecordAtTheEnd) {
  TempDir d;
  DiskQueueOptions o{d.str() + "/q", 1 << 20, 1 << 18, false};
  {
    auto q = DiskQueue::open(o, {"a"});
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE((*q)->append("first", 1).ok());
    ASSERT_TRUE((*q)->append("second", 2).ok());
  }
  std::string seg = o.dir + "/0000000000000001.seg";
  auto size = std::filesystem::file_size(seg);
  std::filesystem::resize_file(seg, size - 3);  // a crash in the middle of the second record
  auto q = DiskQueue::open(o, {"a"});
  ASSERT_TRUE(q.ok());
  auto recs = (*q)->read({1, 0}, 100);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ(recs->front().payload, "first");
  ASSERT_TRUE((*q)->append("third", 3).ok());
  recs = (*q)->read({1, 0}, 100);
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ(recs->back().payload, "third");
}

TEST(DiskQueue, WhenFullDropsTheOldestSegmentAndCountsItsPoints) {
  TempDir d;
  DiskQueueOptions o{d.str() + "/q", 8192, 2048, false};
  auto q = DiskQueue::open(o, {"slow", "fast"});
  ASSERT_TRUE(q.ok());
  uint64_t appended = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE((*q)->append(std::string(200, 'x'), 5).ok());
    appended += 5;
    auto recs = (*q)->read((*q)->cursor(1), 1000);  // "fast" keeps up
    ASSERT_TRUE((*q)->commit(1, recs->back().next).ok());
  }
  EXPECT_LE((*q)->bytes_on_disk(), 8192);
  uint64_t readable = 0;
  auto left = (*q)->read((*q)->cursor(0), 1'000'000);
  ASSERT_TRUE(left.ok());
  for (const auto& r : *left) readable += r.points;
  EXPECT_GT((*q)->dropped_points(0), 0u);
  EXPECT_EQ((*q)->dropped_points(0) + readable, appended);  // every point either readable or counted
  EXPECT_EQ((*q)->dropped_points(1), 0u);
}

TEST(Relabel, RenamesNodeToInstanceAddsLabelsAndFilters) {
  auto yaml = config::load_string(R"Y(rules:
  - {source_labels: [node], target_label: instance}
  - {action: labeldrop, regex: node}
  - {target_label: cluster, replacement: a100}
  - {source_labels: [__name__, fs], separator: "@", regex: "(.*)_total@(.*)", target_label: family, replacement: "${1}-$2"}
  - {action: drop, source_labels: [target], regex: "ai0-OST.*"})Y");
  ASSERT_TRUE(yaml.ok());
  auto rules = config::read([&] { return read_relabel_rules((*yaml)["rules"], "rules"); });
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  Labels in{{"__name__", "lustre_client_rpcs_total"}, {"fs", "ai0"}, {"node", "gpu017"}, {"target", "ai0-MDT0000"}};
  auto out = relabel(in, *rules);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, (Labels{{"__name__", "lustre_client_rpcs_total"}, {"cluster", "a100"},
                          {"family", "lustre_client_rpcs-ai0"}, {"fs", "ai0"}, {"instance", "gpu017"},
                          {"target", "ai0-MDT0000"}}));
  in[3].second = "ai0-OST0001";
  EXPECT_FALSE(relabel(in, *rules));
}

TEST(Relabel, BadRulesAreClearErrors) {
  for (const char* bad : {"[{action: explode}]", "[{target_label: x, regex: \"(\"}]", "[{action: keep}]",
                          "[{replacement: x}]", "{a: b}"}) {
    auto yaml = config::load_string(std::string("rules: ") + bad);
    ASSERT_TRUE(yaml.ok()) << bad;
    auto rules = config::read([&] { return read_relabel_rules((*yaml)["rules"], "w"); });
    ASSERT_FALSE(rules.ok()) << bad;
    EXPECT_EQ(rules.error().message.rfind("w", 0), 0u) << rules.error().message;
  }
}

TEST(RemoteWriteConfig, ReadsPrometheusKeysAndRejectsMistakes) {
  auto yaml = config::load_string(R"(remote_write:
  - url: https://mimir.example/api/v1/push
    headers: {X-Scope-OrgID: gpu}
    basic_auth: {username: u, password: p}
    tls_config: {insecure_skip_verify: true}
    remote_timeout: 10s
    queue_config: {max_samples_per_send: 500, batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 10s,
                   retry_on_http_429: false, max_backlog_bytes: 64MiB}
    write_relabel_configs: [{target_label: cluster, replacement: a}])");
  ASSERT_TRUE(yaml.ok());
  auto eps = config::read([&] { return read_remote_write((*yaml)["remote_write"]); });
  ASSERT_TRUE(eps.ok()) << eps.error().message;
  ASSERT_EQ(eps->size(), 1u);
  const auto& e = eps->front();
  EXPECT_EQ(e.name, "mimir.example_api_v1_push");
  EXPECT_EQ(e.headers.at(0), (std::pair<std::string, std::string>{"X-Scope-OrgID", "gpu"}));
  EXPECT_EQ(e.max_samples_per_send, 500u);
  EXPECT_EQ(e.max_backoff_ms, 10'000);
  EXPECT_FALSE(e.retry_on_http_429);
  EXPECT_EQ(e.max_backlog_bytes, 64 << 20);
  EXPECT_EQ(e.relabel.size(), 1u);
  for (const char* bad : {"[{url: ftp://x}]", "[{url: http://x, shards: 3}]", "[{url: http://x, queue_config: {capacity: 1}}]",
                          "[{url: http://x}, {url: http://x}]", "[{url: http://x, bearer_token: t, basic_auth: {username: u}}]",
                          "{url: http://x}"}) {
    auto y = config::load_string(std::string("remote_write: ") + bad);
    ASSERT_TRUE(y.ok()) << bad;
    auto r = config::read([&] { return read_remote_write((*y)["remote_write"]); });
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("remote_write"), std::string::npos) << r.error().message;
  }
}

namespace {

// A remote-write receiver on loopback: answers `fail_with` to the first `failures` requests, then 200.
struct Receiver {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::map<std::string, std::map<int64_t, double>> samples;  // by labels text
  size_t duplicates = 0;
  std::atomic<int> failures{0};
  int fail_with = 503;
  std::atomic<int> requests{0};
  std::string last_headers;

  Receiver() {
    server.Post("/api/v1/write", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      if (failures > 0) {
        --failures;
        res.status = fail_with;
        return;
      }
      prometheus::WriteRequest w;
      auto r = parse_snappy_message(req.body, w);
      if (!r.ok()) {
        res.status = 400;
        return;
      }
      std::lock_guard lock(mu);
      last_headers = req.get_header_value("Content-Encoding") + "|" + req.get_header_value("Content-Type") + "|" +
                     req.get_header_value("X-Prometheus-Remote-Write-Version");
      for (const auto& ts : w.timeseries()) {
        std::string key;
        std::string prev;
        for (const auto& l : ts.labels()) {
          EXPECT_LT(prev, l.name()) << "labels must be sorted and unique";
          prev = l.name();
          key += l.name() + "=" + l.value() + ",";
        }
        for (const auto& s : ts.samples())
          if (!samples[key].emplace(s.timestamp(), s.value()).second) ++duplicates;
      }
      res.status = 204;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  size_t total() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& [k, v] : samples) n += v.size();
    return n;
  }
};

void ingest(Collector& c, const Batch& b) {
  httplib::Client client("127.0.0.1", c.port());
  auto r = client.Post("/api/v1/ingest", encode_batch(b), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
}

double metric(Collector& c, const std::string& line_prefix) {
  httplib::Client client("127.0.0.1", c.port());
  auto r = client.Get("/metrics");
  if (!r) return -1;
  size_t at = r->body.find("\n" + line_prefix);
  if (at == std::string::npos) return -1;
  size_t sp = r->body.find(' ', at + 1 + line_prefix.size());
  return std::stod(r->body.substr(sp + 1, r->body.find('\n', sp) - sp - 1));
}

}  // namespace

TEST(RemoteWrite, RetriesServerErrorsAndDeliversEveryPointOnceAcrossARestart) {
  TempDir d;
  Receiver rx;
  rx.failures = 5;
  std::string yaml = fmt::format(R"(remote_write:
  - url: http://127.0.0.1:{}/api/v1/write
    name: rx
    queue_config: {{max_samples_per_send: 7, batch_send_deadline: 10ms, min_backoff: 5ms, max_backoff: 20ms}}
    write_relabel_configs: [{{source_labels: [node], target_label: instance}}, {{action: labeldrop, regex: node}}])",
                                 rx.port);
  size_t shipped = 0;
  {
    auto c = start_collector(d.str(), yaml);
    ASSERT_TRUE(c);
    for (uint64_t seq = 1; seq <= 5; ++seq) {
      ingest(*c, make_batch("gpu017", seq, 6));
      shipped += 12;
    }
    ASSERT_TRUE(eventually([&] { return rx.total() == shipped; })) << rx.total() << " of " << shipped;
    rx.failures = 1'000'000;  // the receiver is down; batches wait in the queue through a restart
    for (uint64_t seq = 6; seq <= 8; ++seq) {
      ingest(*c, make_batch("gpu018", seq, 6));
      shipped += 12;
    }
    ASSERT_TRUE(eventually([&] { return metric(*c, "stormscope_remote_write_pending_bytes{") > 0; }));
    c->stop();
  }
  rx.failures = 0;
  auto c = start_collector(d.str(), yaml);
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return rx.total() == shipped; })) << rx.total() << " of " << shipped;
  EXPECT_EQ(rx.duplicates, 0u);
  std::lock_guard lock(rx.mu);
  EXPECT_EQ(rx.last_headers, "snappy|application/x-protobuf|0.1.0");
  ASSERT_TRUE(rx.samples.count("__name__=lustre_client_rpcs_total,fs=ai0,instance=gpu018,target=ai0-OST0001,"));
  EXPECT_EQ(rx.samples["__name__=lustre_client_rpcs_total,fs=ai0,instance=gpu018,target=ai0-OST0001,"].at(
                kT0 + 7 * 600'000 + 20'000),
            702);
}

TEST(RemoteWrite, DropsAndCountsWhatTheReceiverRejectsWithoutRetrying) {
  TempDir d;
  Receiver rx;
  rx.fail_with = 400;
  rx.failures = 1;
  std::string yaml = fmt::format(R"(remote_write:
  - url: http://127.0.0.1:{}/api/v1/write
    name: rx
    queue_config: {{batch_send_deadline: 10ms, min_backoff: 5ms, max_backoff: 20ms}})",
                                 rx.port);
  auto c = start_collector(d.str(), yaml);
  ASSERT_TRUE(c);
  ingest(*c, make_batch("gpu017", 1, 3));
  ASSERT_TRUE(eventually([&] {
    return metric(*c, "stormscope_remote_write_samples_dropped_total{reason=\"rejected\",remote_name=\"rx\"") == 6;
  }));
  ingest(*c, make_batch("gpu017", 2, 3));
  ASSERT_TRUE(eventually([&] { return rx.total() == 6; }));
  EXPECT_EQ(rx.requests.load(), 2);  // the rejected request was not sent again
}

TEST(RemoteWrite, TooManyRequestsIsRetried) {
  TempDir d;
  Receiver rx;
  rx.fail_with = 429;
  rx.failures = 3;
  std::string yaml = fmt::format(R"(remote_write:
  - url: http://127.0.0.1:{}/api/v1/write
    queue_config: {{batch_send_deadline: 10ms, min_backoff: 5ms, max_backoff: 20ms}})",
                                 rx.port);
  auto c = start_collector(d.str(), yaml);
  ASSERT_TRUE(c);
  ingest(*c, make_batch("gpu017", 1, 3));
  ASSERT_TRUE(eventually([&] { return rx.total() == 6; }));
  EXPECT_EQ(rx.requests.load(), 4);
}

TEST(RemoteWire, RejectsWhatIsNotSnappyProtobuf) {
  prometheus::ReadRequest r;
  EXPECT_FALSE(parse_snappy_message("not snappy at all", r).ok());
  std::string garbage;
  std::string raw = "\xff\xff\xff\xff garbage";
  snappy_message(r);  // an empty message compresses
  prometheus::WriteRequest w;
  auto* ts = w.add_timeseries();
  ts->add_labels()->set_name("__name__");
  std::string body = snappy_message(w);
  prometheus::WriteRequest back;
  ASSERT_TRUE(parse_snappy_message(body, back).ok());
  EXPECT_EQ(back.timeseries(0).labels(0).name(), "__name__");
  EXPECT_FALSE(parse_snappy_message(body.substr(0, body.size() - 2), back).ok());
}
