#include <gtest/gtest.h>

#include <map>

#include "collector/detect/engine.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

// Records every observation it gets and reports one Quiet finding per bucket.
class Probe : public Detector {
 public:
  std::vector<Observation> seen;  // labels point into batches gone by now: see `x`
  std::vector<std::string> x;
  std::vector<int64_t> judged;
  std::string_view kind() const override { return "probe"; }
  bool wants(std::string_view n) const override { return n == "c_total" || n == "g"; }
  bool wants_series(std::string_view, const Labels& labels) const override { return label_value(labels, "x") != "skip"; }
  void observe(const Observation& o) override {
    seen.push_back(o);
    x.emplace_back(o.label("x"));
  }
  void evaluate(int64_t b, std::vector<Finding>&) override { judged.push_back(b); }
};

struct Fixture {
  Probe* probe;
  std::unique_ptr<Engine> engine;
  Fixture(EngineOptions o = {}) {
    auto p = std::make_unique<Probe>();
    probe = p.get();
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::move(p));
    engine = std::make_unique<Engine>(o, std::move(d), nullptr);
  }
  void feed(const std::string& node, int64_t t, double v) { engine->ingest(batch(node, {counter("c_total", {}, t, v)})); }
};

}  // namespace

TEST(DetectEngine, CounterIncreasesLandInTheBucketTheyEnd) {
  Fixture f;
  f.feed("a", kT0, 100);
  f.feed("a", kT0 + kI, 150);
  ASSERT_EQ(f.probe->seen.size(), 1u);
  EXPECT_EQ(f.probe->seen[0].bucket, kT0);  // the interval (t0, t0+10s]
  EXPECT_DOUBLE_EQ(f.probe->seen[0].value, 50);
  EXPECT_DOUBLE_EQ(f.probe->seen[0].rate(), 5);
}

TEST(DetectEngine, CounterResetIsNeitherAWrapNorANegativeRate) {
  Fixture f;
  f.feed("a", kT0, 1e6);
  f.feed("a", kT0 + kI, 1e6 + 100);
  f.feed("a", kT0 + 2 * kI, 7);  // remount: the counter starts again
  f.feed("a", kT0 + 3 * kI, 107);
  ASSERT_EQ(f.probe->seen.size(), 2u);
  for (const auto& o : f.probe->seen) {
    EXPECT_GE(o.value, 0);
    EXPECT_LT(o.value, 1000);  // never 2^64 - something, never the whole counter
  }
  EXPECT_DOUBLE_EQ(f.probe->seen[1].value, 100);
  EXPECT_EQ(f.engine->stats().counter_resets, 1u);
}

TEST(DetectEngine, IncreaseOverAGapIsNotPutInOneBucket) {
  Fixture f;
  f.feed("a", kT0, 0);
  f.feed("a", kT0 + kI, 10);
  f.feed("a", kT0 + 20 * kI, 100000);  // back after 190 s of silence
  f.feed("a", kT0 + 21 * kI, 100010);
  ASSERT_EQ(f.probe->seen.size(), 2u);
  EXPECT_DOUBLE_EQ(f.probe->seen[1].value, 10);
  EXPECT_EQ(f.engine->stats().gaps, 1u);
}

TEST(DetectEngine, JudgesABucketOnceEveryNodeDeliveredPastIt) {
  Fixture f;
  f.feed("a", kT0, 0);  // a sample at t0 closes the bucket [t0 - 10s, t0)
  ASSERT_EQ(f.probe->judged.size(), 1u);  // a is the only node: complete
  EXPECT_EQ(f.probe->judged.front(), kT0 - kI);
  f.feed("b", kT0, 0);
  f.feed("a", kT0 + kI, 1);
  f.feed("a", kT0 + 2 * kI, 1);
  EXPECT_EQ(f.probe->judged.size(), 1u);  // b has not delivered [t0, t0 + 10s) yet
  f.feed("b", kT0 + 2 * kI, 1);
  ASSERT_EQ(f.probe->judged.size(), 3u);
  for (size_t i = 1; i < f.probe->judged.size(); ++i) EXPECT_EQ(f.probe->judged[i], f.probe->judged[i - 1] + kI);
  EXPECT_EQ(f.engine->stats().incomplete_buckets, 0u);
}

TEST(DetectEngine, ANodeFarBehindInDataTimeIsGivenUpOn) {
  EngineOptions o;
  o.lateness_ms = 3 * kI;
  Fixture f(o);
  f.feed("a", kT0, 0);
  f.feed("b", kT0, 0);
  for (int i = 1; i <= 6; ++i) f.feed("a", kT0 + i * kI, i);  // b stops
  // Buckets up to a's newest were judged once a was `lateness` ahead of b; the first ones without b count.
  EXPECT_EQ(f.probe->judged.back(), kT0 + 5 * kI);
  EXPECT_GE(f.engine->stats().incomplete_buckets, 1u);
  EXPECT_LE(f.engine->stats().incomplete_buckets, 4u);
  // b returns: awaited again.
  f.feed("b", kT0 + 7 * kI, 7);
  f.feed("a", kT0 + 8 * kI, 8);
  EXPECT_EQ(f.probe->judged.back(), kT0 + 6 * kI);
}

TEST(DetectEngine, ANodeSilentOnTheWallClockIsGivenUpOn) {
  EngineOptions o;
  o.silent_after_ms = 60'000;
  Fixture f(o);
  const int64_t wall = 5'000'000;
  f.engine->ingest(batch("a", {counter("c_total", {}, kT0, 0)}), wall);
  f.engine->ingest(batch("b", {counter("c_total", {}, kT0, 0)}), wall);
  f.engine->ingest(batch("a", {counter("c_total", {}, kT0 + kI, 1)}), wall + 10'000);
  size_t before = f.probe->judged.size();
  f.engine->tick(wall + 50'000);
  EXPECT_EQ(f.probe->judged.size(), before);  // b may still come
  f.engine->tick(wall + 61'000);
  EXPECT_EQ(f.probe->judged.back(), kT0);
}

TEST(DetectEngine, BatchedOutOfPhaseDeliveryMissesNothing) {
  // Three nodes, 24 samples each: once one batch per sample, once in batches of 12, 5 and 1 out of phase
  // (after each node's first sample: a node the engine has not heard of yet is not waited for).
  auto run = [](bool batched) {
    Fixture f;
    std::map<std::string, std::vector<Point>> q;
    const std::map<std::string, size_t> size = {{"a", 12}, {"b", 5}, {"c", 1}};
    for (int i = 0; i <= 24; ++i)
      for (std::string n : {"a", "b", "c"}) {
        q[n].push_back({kT0 + i * kI, i * (n == "a" ? 10.0 : 1.0)});
        if (!batched || i == 0 || q[n].size() >= size.at(n) || i == 24) {
          Series s = counter("c_total", {}, 0, 0);
          s.points = q[n];
          f.engine->ingest(batch(n, {s}));
          q[n].clear();
        }
      }
    f.engine->flush();
    EXPECT_EQ(f.engine->stats().late_points, 0u);
    EXPECT_EQ(f.engine->stats().incomplete_buckets, 0u);
    return std::make_pair(f.probe->judged, f.probe->seen.size());
  };
  auto each = run(false), batched = run(true);
  EXPECT_EQ(each.first, batched.first);
  EXPECT_EQ(each.second, batched.second);
  EXPECT_EQ(batched.second, 72u);
}

TEST(DetectEngine, LateDataIsCountedNotJudged) {
  Fixture f;
  f.feed("a", kT0, 0);
  f.feed("a", kT0 + 10 * kI, 0);
  size_t before = f.probe->seen.size();
  f.feed("b", kT0 + kI, 5);  // the first point of b: no increase yet
  f.feed("b", kT0 + 2 * kI, 10);
  EXPECT_EQ(f.probe->seen.size(), before);
  EXPECT_GE(f.engine->stats().late_points, 1u);
}

TEST(DetectEngine, OlderPointsOfASeriesAreIgnored) {
  Fixture f;
  f.feed("a", kT0, 0);
  f.feed("a", kT0 + kI, 10);
  f.feed("a", kT0 + kI, 10);      // a retry of the same point
  f.feed("a", kT0 + kI / 2, 5);   // out of order
  EXPECT_EQ(f.probe->seen.size(), 1u);
}

TEST(DetectEngine, GaugesAreObservedAsValues) {
  Fixture f;
  f.engine->ingest(batch("a", {gauge("g", {{"x", "1"}}, kT0 + kI, 0.5)}));
  ASSERT_EQ(f.probe->seen.size(), 1u);
  EXPECT_FALSE(f.probe->seen[0].counter);
  EXPECT_DOUBLE_EQ(f.probe->seen[0].value, 0.5);
  EXPECT_EQ(f.probe->x[0], "1");
}

TEST(DetectEngine, SeriesADetectorDoesNotWantGetNoObservations) {
  Fixture f;
  for (int i = 0; i < 3; ++i)
    f.engine->ingest(batch("a", {counter("c_total", {{"x", "skip"}}, kT0 + i * kI, i * 10.0),
                                 counter("c_total", {{"x", "keep"}}, kT0 + i * kI, i * 10.0)}));
  ASSERT_EQ(f.probe->seen.size(), 2u);
  for (const auto& x : f.probe->x) EXPECT_EQ(x, "keep");
  EXPECT_EQ(f.engine->stats().observations, 2u);
}

TEST(DetectEngine, SameLabelsOnAnotherNodeOrMetricAreAnotherSeries) {
  Fixture f;
  f.engine->ingest(batch("a", {counter("c_total", {{"x", "1"}}, kT0, 100)}));
  f.engine->ingest(batch("b", {counter("c_total", {{"x", "1"}}, kT0, 5)}));
  f.engine->ingest(batch("a", {counter("c_total", {{"x", "1"}}, kT0 + kI, 150), gauge("g", {{"x", "1"}}, kT0 + kI, 3)}));
  f.engine->ingest(batch("b", {counter("c_total", {{"x", "1"}}, kT0 + kI, 7)}));
  ASSERT_EQ(f.probe->seen.size(), 3u);
  EXPECT_DOUBLE_EQ(f.probe->seen[0].value, 50);  // a: 100 -> 150, not b's 5 as the base
  EXPECT_DOUBLE_EQ(f.probe->seen[2].value, 2);   // b: 5 -> 7
  EXPECT_EQ(f.engine->stats().counter_resets, 0u);
}
