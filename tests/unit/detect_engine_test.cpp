#include <gtest/gtest.h>

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

TEST(DetectEngine, JudgesBucketsInOrderOnDataTimeAfterTheLateness) {
  Fixture f;
  f.feed("a", kT0, 0);  // a sample at t0 closes the bucket [t0 - 10s, t0)
  EXPECT_TRUE(f.probe->judged.empty());
  f.feed("a", kT0 + kI, 1);  // that bucket's lateness (one interval) has passed
  ASSERT_EQ(f.probe->judged.size(), 1u);
  EXPECT_EQ(f.probe->judged.front(), kT0 - kI);
  f.feed("b", kT0 + 2 * kI, 1);
  EXPECT_EQ(f.probe->judged.back(), kT0);
  f.feed("a", kT0 + 6 * kI, 2);
  for (size_t i = 1; i < f.probe->judged.size(); ++i) EXPECT_EQ(f.probe->judged[i], f.probe->judged[i - 1] + kI);
  EXPECT_EQ(f.probe->judged.back(), kT0 + 4 * kI);
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
