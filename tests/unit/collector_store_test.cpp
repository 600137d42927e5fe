// Tests of the Store interface: any implementation behind open_store() must pass them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "collector/store/store.h"

using namespace ss;
using namespace ss::collector;

namespace {

constexpr int64_t kT0 = 1763700000000;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ss_store_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    open();
  }
  void TearDown() override {
    if (store_) store_->close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    auto s = open_store({dir_ + "/sub/db.sqlite"});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void reopen() {
    store_->close();
    store_.reset();
    open();
  }

  static Batch batch(const std::string& node, uint64_t seq, int n_points, int64_t t0 = kT0, std::string stream = "") {
    Batch b;
    b.node = node;
    b.seq = seq;
    b.stream = std::move(stream);
    Series s;
    s.name = "lustre_client_rpcs_total";
    s.type = SeriesType::Counter;
    s.labels = {{"fs", "ai0"}, {"target", "ai0-OST0001"}};
    for (int i = 0; i < n_points; ++i) s.points.push_back({t0 + i * 10000, double(i)});
    b.series.push_back(s);
    Series g;
    g.name = "gpu_utilization_ratio";
    g.labels = {{"gpu", "0"}};
    g.points.push_back({t0, 0.5});
    b.series.push_back(g);
    return b;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace

TEST_F(StoreTest, AppendsAndReadsBackWithTheNodeLabel) {
  auto r = store_->append(batch("gpu017", 1, 5));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->accepted, 6u);
  EXPECT_FALSE(r->duplicate);

  auto sel = store_->select("lustre_client_rpcs_total", {});
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  const SeriesInfo& s = sel->front();
  EXPECT_EQ(s.type, SeriesType::Counter);
  Labels want{{"fs", "ai0"}, {"node", "gpu017"}, {"target", "ai0-OST0001"}};
  EXPECT_EQ(s.labels, want);

  auto pts = store_->read(s.id, kT0 + 10000, kT0 + 30000);
  ASSERT_TRUE(pts.ok());
  std::vector<Point> expect{{kT0 + 10000, 1}, {kT0 + 20000, 2}, {kT0 + 30000, 3}};
  EXPECT_EQ(*pts, expect);
}

TEST_F(StoreTest, RepeatedSeqIsADuplicateAndStoresNothing) {
  ASSERT_TRUE(store_->append(batch("n1", 5, 3)).ok());
  auto again = store_->append(batch("n1", 5, 3, kT0 + 1000000));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->accepted, 0u);
  auto older = store_->append(batch("n1", 4, 3, kT0 + 2000000));
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older->duplicate);
  EXPECT_EQ(store_->stats().points, 4);

  // Another stream of the same node, or another node, has its own sequence.
  auto other_stream = store_->append(batch("n1", 1, 3, kT0 + 3000000, "s2"));
  ASSERT_TRUE(other_stream.ok());
  EXPECT_FALSE(other_stream->duplicate);
  auto other_node = store_->append(batch("n2", 1, 3));
  ASSERT_TRUE(other_node.ok());
  EXPECT_FALSE(other_node->duplicate);
}

TEST_F(StoreTest, SeqAndDataSurviveReopen) {
  ASSERT_TRUE(store_->append(batch("n1", 7, 4)).ok());
  reopen();
  auto again = store_->append(batch("n1", 7, 4));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  auto next = store_->append(batch("n1", 8, 2, kT0 + 100000));
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->duplicate);
  auto sel = store_->select("lustre_client_rpcs_total", {{"node", Matcher::Op::Eq, "n1"}});
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  auto pts = store_->read(sel->front().id, 0, kT0 * 2);
  ASSERT_TRUE(pts.ok());
  EXPECT_EQ(pts->size(), 6u);
  EXPECT_EQ(store_->stats().series, 2);
  EXPECT_EQ(store_->stats().points, 8);
  EXPECT_GT(store_->stats().bytes_on_disk, 0);
}

TEST_F(StoreTest, SelectsByMatchers) {
  for (int i = 0; i < 4; ++i) {
    Batch b;
    b.node = "n" + std::to_string(i);
    b.seq = 1;
    Series s;
    s.name = "lustre_client_rpcs_total";
    s.type = SeriesType::Counter;
    s.labels = {{"fs", i < 2 ? "ai0" : "ai1"}, {"target", fmt::format("{}-OST000{}", i < 2 ? "ai0" : "ai1", i)}};
    s.points = {{kT0, 1}};
    b.series.push_back(s);
    ASSERT_TRUE(store_->append(b).ok());
  }
  auto count = [&](const std::string& name, std::vector<Matcher> m) {
    auto r = store_->select(name, m);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->size() : size_t(99);
  };
  EXPECT_EQ(count("lustre_client_rpcs_total", {}), 4u);
  EXPECT_EQ(count("", {}), 4u);
  EXPECT_EQ(count("no_such_metric", {}), 0u);
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"fs", Matcher::Op::Eq, "ai0"}}), 2u);
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"fs", Matcher::Op::Neq, "ai0"}}), 2u);
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"target", Matcher::Op::Re, "ai0-OST.*"}}), 2u);
  // Regular expressions are anchored, as in Prometheus.
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"target", Matcher::Op::Re, "OST"}}), 0u);
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"target", Matcher::Op::Nre, ".*000[01]"}}), 2u);
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"fs", Matcher::Op::Eq, "ai1"}, {"node", Matcher::Op::Eq, "n3"}}), 1u);
  // A missing label matches the empty value.
  EXPECT_EQ(count("lustre_client_rpcs_total", {{"job", Matcher::Op::Eq, ""}}), 4u);
  EXPECT_FALSE(store_->select("x", {{"a", Matcher::Op::Re, "("}}).ok());
}

TEST_F(StoreTest, KeepsNaNAndInfinities) {
  Batch b;
  b.node = "n";
  b.seq = 1;
  Series s;
  s.name = "weird";
  s.points = {{kT0, std::nan("")}, {kT0 + 1, INFINITY}, {kT0 + 2, -INFINITY}};
  b.series.push_back(s);
  ASSERT_TRUE(store_->append(b).ok());
  auto sel = store_->select("weird", {});
  ASSERT_EQ(sel->size(), 1u);
  auto pts = store_->read(sel->front().id, kT0, kT0 + 10);
  ASSERT_EQ(pts->size(), 3u);
  EXPECT_TRUE(std::isnan((*pts)[0].value));
  EXPECT_EQ((*pts)[1].value, INFINITY);
  EXPECT_EQ((*pts)[2].value, -INFINITY);
}

TEST_F(StoreTest, StoresEvents) {
  Batch b = batch("gpu017", 1, 1);
  b.events.push_back({"vfs_hot_dirs", kT0 + 5, {{"fstype", "lustre"}}, R"({"dirs":[{"path":"/a","ops":3}]})"});
  b.events.push_back({"other", kT0 + 1, {}, "{}"});
  ASSERT_TRUE(store_->append(b).ok());
  auto all = store_->read_events("", kT0, kT0 + 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].event.kind, "other");  // time order
  auto hot = store_->read_events("vfs_hot_dirs", kT0, kT0 + 10);
  ASSERT_EQ(hot->size(), 1u);
  EXPECT_EQ(hot->front().node, "gpu017");
  EXPECT_EQ(label_value(hot->front().event.labels, "fstype"), "lustre");
  EXPECT_EQ(label_value(hot->front().event.labels, "node"), "gpu017");
  EXPECT_EQ(hot->front().event.fields_json, R"({"dirs":[{"path":"/a","ops":3}]})");
  EXPECT_TRUE(store_->read_events("vfs_hot_dirs", kT0 + 6, kT0 + 10)->empty());
}

TEST_F(StoreTest, ConcurrentAppendsAreAllDurableAndCounted) {
  constexpr int kThreads = 8, kBatches = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kBatches; ++i) {
        auto r = store_->append(batch("node" + std::to_string(t), i, 10, kT0 + i * 1000000));
        if (!r.ok() || r->accepted != 11 || r->duplicate) failures++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->stats().points, kThreads * kBatches * 11);
  EXPECT_EQ(store_->stats().series, kThreads * 2);
  reopen();
  EXPECT_EQ(store_->stats().points, kThreads * kBatches * 11);
}

TEST_F(StoreTest, RepeatedTimestampIsStoredOnce) {
  Batch b = batch("n", 1, 2);
  b.series[0].points.push_back(b.series[0].points[0]);
  auto r = store_->append(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 3u);  // 2 + the gauge; the repeated timestamp is not stored twice
  EXPECT_EQ(store_->stats().points, 3);
}

TEST_F(StoreTest, FailsAfterClose) {
  store_->close();
  EXPECT_FALSE(store_->append(batch("n", 1, 1)).ok());
  EXPECT_FALSE(store_->read(1, 0, kT0).ok());
}
