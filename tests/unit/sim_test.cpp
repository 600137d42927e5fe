#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "tools/sim/simulator.h"
#include "common/codec.h"

using namespace ss;
using namespace ss::collector::sim;

namespace {

SimOptions small(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.nodes = 6;
  o.gpus_per_node = 2;
  o.duration_ms = 2 * 3600'000;
  return o;
}

std::string all_lines(Simulator& s) {
  std::string out;
  s.run([&](const Batch& b) { out += encode_batch(b) + "\n"; });
  return out;
}

}  // namespace

TEST(Simulator, SameSeedSameBytes) {
  Simulator a(small(3)), b(small(3)), c(small(4));
  std::string x = all_lines(a), y = all_lines(b), z = all_lines(c);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  EXPECT_EQ(to_json(a.truth()).dump(), to_json(b.truth()).dump());
}

TEST(Simulator, BatchesAreValidIngestBatchesWithTheContractNames) {
  Simulator s(small(5));
  std::set<std::string> names;
  std::map<std::string, uint64_t> last_seq;
  size_t n = 0;
  s.run([&](const Batch& b) {
    auto decoded = decode_batch(encode_batch(b));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_GT(b.seq, last_seq[b.node]);
    last_seq[b.node] = b.seq;
    for (const auto& series : b.series) names.insert(series.name);
    ++n;
  });
  EXPECT_GT(n, 100u);
  for (const char* want : {"vfs_ops_total", "vfs_bytes_total", "lustre_client_ops_total", "lustre_client_rpcs_total",
                           "lustre_client_rpc_wait_seconds_total", "lustre_client_bytes_total", "lustre_mdt_ops_total",
                           "lustre_job_ops_total", "lustre_target_capacity_bytes", "lustre_target_available_bytes",
                           "gpu_utilization_ratio"})
    EXPECT_TRUE(names.count(want)) << want;
}

TEST(Simulator, GroundTruthHasEveryKindAndConfounders) {
  SimOptions o = small(1);
  o.duration_ms = 6 * 3600'000;
  Simulator s(o);
  s.run([](const Batch&) {});
  std::set<std::string> kinds;
  int confounders = 0;
  for (const auto& e : s.truth().entries) {
    if (e.confounder) ++confounders;
    else kinds.insert(e.kind);
    EXPECT_LE(e.start_ms, e.end_ms);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"metadata_storm", "waittime_spike", "checkpoint_stall", "ost_imbalance"}));
  EXPECT_GE(confounders, 4);
  auto back = ground_truth_from_json(to_json(s.truth()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back).dump(), to_json(s.truth()).dump());
}

TEST(Simulator, CountersOnlyGoDownAtInjectedResets) {
  SimOptions o = small(2);
  o.scenario = "confounders";
  Simulator s(o);
  std::map<std::string, double> last;
  int decreases = 0;
  s.run([&](const Batch& b) {
    for (const auto& series : b.series) {
      if (series.type != SeriesType::Counter) continue;
      std::string key = b.node + series_key(series.name, series.labels);
      auto it = last.find(key);
      if (it != last.end() && series.points[0].value < it->second) ++decreases;
      last[key] = series.points[0].value;
    }
  });
  bool has_reset = false;
  for (const auto& e : s.truth().entries) has_reset = has_reset || e.kind == "counter_reset" || e.kind == "node_reboot";
  EXPECT_EQ(decreases > 0, has_reset);
}

TEST(Simulator, RejectsBadOptions) {
  SimOptions o;
  o.nodes = 1;
  EXPECT_FALSE(validate(o).ok());
  o = {};
  o.scenario = "nope";
  EXPECT_FALSE(validate(o).ok());
  EXPECT_TRUE(validate(SimOptions{}).ok());
}

TEST(Simulator, BatchedDeliveryCarriesTheSameSamplesOutOfPhase) {
  auto points = [](const std::string& delivery, size_t& batches, size_t& most) {
    SimOptions o = small(6);
    o.delivery = delivery;
    Simulator s(o);
    std::set<std::tuple<std::string, std::string, int64_t, double>> all;
    std::map<std::string, uint64_t> last_seq;
    s.run([&](const Batch& b) {
      ++batches;
      EXPECT_GT(b.seq, last_seq[b.node]);
      last_seq[b.node] = b.seq;
      for (const auto& series : b.series) {
        most = std::max(most, series.points.size());
        for (const auto& p : series.points) all.insert({b.node, series_key(series.name, series.labels), p.t_ms, p.value});
      }
    });
    return all;
  };
  size_t each_batches = 0, each_most = 0, batched_batches = 0, batched_most = 0;
  auto each = points("interval", each_batches, each_most);
  auto batched = points("batched", batched_batches, batched_most);
  EXPECT_EQ(each, batched);
  EXPECT_EQ(each_most, 1u);
  EXPECT_EQ(batched_most, 12u);  // up to 12 samples a batch, also when the spools drain after the outage
  EXPECT_LT(batched_batches, each_batches / 2);
}

TEST(Simulator, GroundTruthPricesWhatTheInjectionsIdled) {
  SimOptions o = small(1);
  o.duration_ms = 6 * 3600'000;
  o.scenario = "incidents";
  Simulator s(o);
  s.run([](const Batch&) {});
  int priced = 0;
  for (const auto& e : s.truth().entries) {
    if (e.kind == "checkpoint_stall" || e.kind == "metadata_storm") {
      EXPECT_GT(e.cost_usd, 0) << e.kind << " " << e.note;
      EXPECT_NEAR(e.cost_usd, e.gpu_idle_seconds * 1.924 / 3600, 1e-9);
      ++priced;
    }
    if (e.kind == "metadata_storm") {
      EXPECT_FALSE(e.victims.empty());
    }
  }
  EXPECT_GE(priced, 2);
}
