#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "agent/scheduler.h"

using namespace ss;
using namespace ss::agent;

namespace {

constexpr int64_t kT0 = 1763700000000;

std::optional<double> value_of(const Collection& c, const std::string& name, const Labels& labels) {
  std::optional<double> v;
  for (const auto& s : c.samples())
    if (s.name == name && *s.labels == labels) v = s.value;
  return v;
}

std::optional<double> value_of(const Outputs& outputs, const std::string& name, const Labels& labels) {
  std::optional<double> v;
  for (const auto& c : outputs)
    if (auto x = value_of(*c, name, labels)) v = x;
  return v;
}

class OkSource : public Source {
 public:
  explicit OkSource(std::string name, int64_t interval = 0) : name_(std::move(name)), interval_(interval) {}
  std::string_view name() const override { return name_; }
  int64_t interval_ms() const override { return interval_; }
  Result<void> collect(Collection& out) override {
    ++calls;
    out.describe("test_value", MetricKind::Gauge, "A test value.");
    out.add("test_value", {{"source", name_}}, 42);
    return {};
  }
  std::atomic<int> calls{0};

 private:
  std::string name_;
  int64_t interval_;
};

class FailingSource : public Source {
 public:
  std::string_view name() const override { return "failing"; }
  Result<void> collect(Collection& out) override {
    out.describe("test_partial", MetricKind::Gauge, "Partial output before the failure.");
    out.add("test_partial", {}, 1);
    return Error{"cannot read /proc/fs/lustre"};
  }
};

class ThrowingSource : public Source {
 public:
  std::string_view name() const override { return "throwing"; }
  Result<void> collect(Collection&) override { throw std::runtime_error("boom"); }
};

// Blocks in collect() until released, the way a hung `lctl` on a dead server would. The gate is shared so the
// test can still look at it after a scheduler left the source behind on its own thread.
struct Gate {
  std::atomic<int> calls{0}, returned{0};
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  void release() {
    std::lock_guard lk(mu);
    released = true;
    cv.notify_all();
  }
  bool wait_returned(int n) {
    for (int i = 0; i < 500 && returned.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return returned.load() >= n;
  }
};

class HangingSource : public Source {
 public:
  explicit HangingSource(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string_view name() const override { return "hanging"; }
  Result<void> collect(Collection& out) override {
    ++gate_->calls;
    std::unique_lock lk(gate_->mu);
    gate_->cv.wait(lk, [&] { return gate_->released; });
    out.describe("test_late", MetricKind::Gauge, "Produced after the hang.");
    out.add("test_late", {}, 7);
    ++gate_->returned;
    return {};
  }

 private:
  std::shared_ptr<Gate> gate_;
};

}  // namespace

TEST(AgentScheduler, AlignsCycleTimes) {
  EXPECT_EQ(align_up(1000, 1000), 1000);
  EXPECT_EQ(align_up(1001, 1000), 2000);
  EXPECT_EQ(align_up(kT0 + 3, 10'000), kT0 + 10'000);
}

TEST(AgentScheduler, MergesSourcesAndReportsThemUp) {
  auto a = std::make_unique<OkSource>("a");
  auto b = std::make_unique<OkSource>("b");
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(a));
  sources.push_back(std::move(b));
  Scheduler s(std::move(sources), {1000, 500, {}});
  Outputs c = s.run_cycle(kT0);
  EXPECT_EQ(value_of(c, "test_value", {{"source", "a"}}), 42);
  EXPECT_EQ(value_of(c, "test_value", {{"source", "b"}}), 42);
  ASSERT_EQ(c.size(), 2u);
  for (const auto& out : c)
    for (const auto& sample : out->samples()) EXPECT_EQ(sample.t_ms, kT0);
  Collection self(kT0);
  s.add_self_metrics(self);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_up", {{"source", "a"}}), 1);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_errors_total", {{"source", "b"}}), 0);
  EXPECT_TRUE(value_of(self, "stormscope_agent_source_duration_seconds", {{"source", "a"}}).has_value());
}

TEST(AgentScheduler, FailingAndThrowingSourcesAreDownButOthersRun) {
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<FailingSource>());
  sources.push_back(std::make_unique<ThrowingSource>());
  sources.push_back(std::make_unique<OkSource>("ok"));
  Scheduler s(std::move(sources), {1000, 500, {}});
  for (int i = 0; i < 3; ++i) {
    Outputs c = s.run_cycle(kT0 + i * 1000);
    EXPECT_EQ(value_of(c, "test_value", {{"source", "ok"}}), 42);
    EXPECT_EQ(value_of(c, "test_partial", {}), 1) << "a failing source's partial output is kept";
  }
  Collection self(kT0);
  s.add_self_metrics(self);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_up", {{"source", "failing"}}), 0);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_up", {{"source", "throwing"}}), 0);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_up", {{"source", "ok"}}), 1);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_errors_total", {{"source", "failing"}}), 3);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_errors_total", {{"source", "throwing"}}), 3);
}

TEST(AgentScheduler, HangingSourceTimesOutAndIsNotRestartedUntilItReturns) {
  auto h = std::make_shared<Gate>();
  auto hanging = std::make_unique<HangingSource>(h);
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(hanging));
  sources.push_back(std::make_unique<OkSource>("ok"));
  Scheduler s(std::move(sources), {1000, 10'000, {{"hanging", 200}}});

  Outputs c1 = s.run_cycle(kT0);
  EXPECT_EQ(value_of(c1, "test_value", {{"source", "ok"}}), 42) << "the others are not held up";
  Collection self(kT0);
  s.add_self_metrics(self);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_up", {{"source", "hanging"}}), 0);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_errors_total", {{"source", "hanging"}}), 1);
  EXPECT_EQ(value_of(self, "stormscope_agent_source_duration_seconds", {{"source", "hanging"}}), 0.2);

  // Still stuck: the next cycle does not start a second call.
  Outputs c2 = s.run_cycle(kT0 + 1000);
  EXPECT_EQ(h->calls.load(), 1);
  EXPECT_FALSE(value_of(c2, "test_late", {}).has_value());
  Collection self2(kT0);
  s.add_self_metrics(self2);
  EXPECT_EQ(value_of(self2, "stormscope_agent_source_up", {{"source", "hanging"}}), 0);
  EXPECT_EQ(value_of(self2, "stormscope_agent_source_errors_total", {{"source", "hanging"}}), 1);

  // Once the stuck call returns, its late output is discarded and the source runs again.
  h->release();
  ASSERT_TRUE(h->wait_returned(1));
  // The worker marks itself idle just after collect() returns; until then cycles still skip it.
  Outputs c3;
  for (int i = 0; i < 200 && h->calls.load() < 2; ++i) {
    c3 = s.run_cycle(kT0 + 2000 + i * 1000);
    if (h->calls.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(h->calls.load(), 2);
  EXPECT_EQ(value_of(c3, "test_late", {}), 7);
  Collection self3(kT0);
  s.add_self_metrics(self3);
  EXPECT_EQ(value_of(self3, "stormscope_agent_source_up", {{"source", "hanging"}}), 1);
}

TEST(AgentScheduler, SourceWithLongerIntervalRunsOnlyWhenDue) {
  auto slow = std::make_unique<OkSource>("slow", 3000);
  OkSource* p = slow.get();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(slow));
  Scheduler s(std::move(sources), {1000, 500, {}});
  std::vector<bool> ran;
  for (int i = 0; i < 7; ++i) {
    Outputs c = s.run_cycle(kT0 + i * 1000);
    ran.push_back(value_of(c, "test_value", {{"source", "slow"}}).has_value());
  }
  EXPECT_EQ(ran, (std::vector<bool>{true, false, false, true, false, false, true}));
  EXPECT_EQ(p->calls.load(), 3);
  // The exporter still sees its last output between runs.
  EXPECT_EQ(value_of(s.latest(), "test_value", {{"source", "slow"}}), 42);
}

TEST(AgentScheduler, ShutsDownWithASourceStillHanging) {
  auto h = std::make_shared<Gate>();
  auto hanging = std::make_unique<HangingSource>(h);
  {
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::move(hanging));
    Scheduler s(std::move(sources), {1000, 30, {}});
    s.run_cycle(kT0);
  }  // the destructor must not wait for the stuck call
  h->release();  // the detached worker still owns the source: release it so the thread ends
  EXPECT_TRUE(h->wait_returned(1));
}
