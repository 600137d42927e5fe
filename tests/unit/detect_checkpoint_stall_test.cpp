#include <gtest/gtest.h>

#include "collector/detect/checkpoint_stall.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

// Job 42 on two nodes with 4 GPUs each at 90 %, writing 2 MB/s normally.
struct Rig {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  std::map<std::string, double> written;
  int64_t t = kT0;
  Rig() {
    auto gpus = std::make_unique<GpuTracker>(180);
    GpuTracker* g = gpus.get();
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::move(gpus));
    d.push_back(std::make_unique<CheckpointStall>(CheckpointStallParams{}, kI, g));
    engine = std::make_unique<Engine>(EngineOptions{}, std::move(d), rec.sink());
  }
  void step(double util, double write_bps, std::set<std::string> absent = {}, int gpus_reporting = 4) {
    t += kI;
    for (std::string n : {"n1", "n2"}) {
      written[n] += write_bps / 2 * 10;
      if (absent.count(n)) continue;
      std::vector<Series> s;
      for (int g = 0; g < gpus_reporting; ++g)
        s.push_back(gauge("gpu_utilization_ratio", {{"gpu", std::to_string(g)}, {"uuid", n + "-" + std::to_string(g)}, {"model", "NVIDIA H200"}, {"job", "42"}}, t, util));
      s.push_back(counter("vfs_bytes_total", {{"fstype", "lustre"}, {"mount", "/lustre/ai0"}, {"op", "write"}, {"job", "42"}}, t, written[n]));
      engine->ingest(batch(n, s));
    }
  }
  void warm() {
    for (int i = 0; i < 30; ++i) step(0.9, 2e6);
  }
};

}  // namespace

TEST(CheckpointStall, GpusDropWhileTheJobWritesABurst) {
  Rig r;
  r.warm();
  for (int i = 0; i < 6; ++i) r.step(0.05, 1e9);
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  const auto& f = hits.back();
  EXPECT_EQ(f.key, "checkpoint_stall/42");
  EXPECT_EQ(f.fs, "ai0");
  EXPECT_EQ(f.nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(f.evidence["gpus_dropped"], 8);
  EXPECT_NEAR(f.evidence["effective_bandwidth"].get<double>(), 1e9, 1e7);
  EXPECT_GT(f.evidence["bytes"].get<double>(), 4e9);
  EXPECT_NE(f.summary.find("checkpoint stall of job 42"), std::string::npos) << f.summary;
  // the bandwidth that would keep the stall under 60 s
  EXPECT_NEAR(f.evidence["bandwidth_for_target"].get<double>(), f.evidence["bytes"].get<double>() / 60, 1);
}

TEST(CheckpointStall, AGpuDropAloneIsNoCheckpoint) {
  // Job end or an evaluation phase: the GPUs drop, nothing is written.
  Rig r;
  r.warm();
  for (int i = 0; i < 10; ++i) r.step(0.0, 2e6);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(CheckpointStall, AWriteBurstWithBusyGpusIsNoStall) {
  Rig r;
  r.warm();
  for (int i = 0; i < 10; ++i) r.step(0.9, 2e9);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(CheckpointStall, GpusThatStopReportingAreNotIdle) {
  // Only 1 of 4 GPUs per node reports (the others' exporter died), and it is busy: no stall, no verdict.
  Rig r;
  r.warm();
  for (int i = 0; i < 6; ++i) r.step(0.9, 1e9, {}, 1);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  // A node that stops reporting while the other writes: its GPUs are not counted as idle.
  for (int i = 0; i < 6; ++i) r.step(0.9, 1e9, {"n2"});
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(CheckpointStall, IdleGpusCannotDrop) {
  Rig r;
  for (int i = 0; i < 30; ++i) r.step(0.05, 2e6);  // a job that never used its GPUs
  for (int i = 0; i < 6; ++i) r.step(0.0, 1e9);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}
