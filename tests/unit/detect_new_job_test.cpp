// Metadata storms on a cluster shaped by hand, unlike the simulator's: a job whose data loader does
// thousands of small-file opens and stats per node (the simulator's jobs do a few hundred), starting on
// nodes that were idle, seen both by the eBPF probes (vfs_ops_total, with the job) and by the Lustre
// client (lustre_client_ops_total on the MDT, without it). A new job is no storm; a storm by a job that
// has run for a while still opens in its first interval, and one by a job that just started opens once it
// passes the cold floor.
#include <gtest/gtest.h>

#include "collector/detect/metadata_storm.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

struct Node {
  std::string name, job;
  double rate = 0;        // stat+open per second, normal load
  double vfs = 0, mdc = 0;  // cumulative counters
};

struct Rig {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  std::vector<Node> nodes;
  int64_t t = kT0;

  Rig() {
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<MetadataStorm>(MetadataStormParams{}, kI));
    engine = std::make_unique<Engine>(EngineOptions{}, std::move(d), rec.sink());
    // Three nodes of job 5501 at 4,000 ops/s each; three idle nodes (a few ops/s from system daemons).
    for (int i = 1; i <= 6; ++i)
      nodes.push_back({fmt::format("gx{:03}", i), i <= 3 ? "5501" : "", i <= 3 ? 4000.0 : 4.0});
  }
  void step(const std::map<std::string, double>& extra = {}) {
    t += kI;
    for (auto& n : nodes) {
      double r = n.rate + (extra.count(n.name) ? extra.at(n.name) : 0);
      n.vfs += r * 10;
      n.mdc += r * 10 * 1.1;  // the client sees the same ops plus a few of its own
      engine->ingest(batch(n.name, {counter("vfs_ops_total", {{"fstype", "lustre"}, {"mount", "/mnt/vast"}, {"op", "stat"}, {"job", n.job}}, t, n.vfs),
                                    counter("lustre_client_ops_total", {{"fs", "vast"}, {"target", "vast-MDT0000"}, {"op", "getattr"}}, t, n.mdc)}));
    }
  }
};

}  // namespace

TEST(MetadataStormNewJob, AJobStartingOnIdleNodesIsNoStorm) {
  Rig r;
  for (int i = 0; i < 60; ++i) r.step();
  ASSERT_EQ(r.rec.count(State::Anomalous), 0u);
  // Job 5502 starts on the three idle nodes: 6,000 ops/s each at once, and stays.
  for (int i = 3; i < 6; ++i) {
    r.nodes[i].job = "5502";
    r.nodes[i].rate = 6000;
  }
  for (int i = 0; i < 120; ++i) r.step();
  auto hits = r.rec.of(State::Anomalous);
  EXPECT_EQ(hits.size(), 0u) << (hits.empty() ? "" : hits[0].summary);
}

TEST(MetadataStormNewJob, AStormByARunningJobOpensInItsFirstInterval) {
  Rig r;
  for (int i = 0; i < 60; ++i) r.step();
  int64_t first = r.t;
  for (int i = 0; i < 6; ++i) r.step({{"gx002", 40000}});  // 11x the node's load, at once
  EXPECT_EQ(r.rec.first(State::Anomalous), first);
}

TEST(MetadataStormNewJob, AStormByAJobThatJustStartedOpensAboveTheColdFloor) {
  Rig r;
  for (int i = 0; i < 60; ++i) r.step();
  r.nodes[4].job = "5503";
  r.nodes[4].rate = 3000;
  r.step();
  r.step();
  int64_t first = r.t;
  for (int i = 0; i < 6; ++i) r.step({{"gx005", 45000}});
  EXPECT_EQ(r.rec.first(State::Anomalous), first);
}
