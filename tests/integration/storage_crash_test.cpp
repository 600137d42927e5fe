// SIGKILL the real collector repeatedly while batches are posted; after every restart each acknowledged
// point must be stored exactly once (DESIGN.md §4: 200 only after the batch is durable).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "collector/store/store.h"
#include "common/codec.h"
#include "common/time.h"

using namespace ss;
using namespace ss::collector;

namespace {

const std::string kCollector = std::string(SS_BINARY_DIR) + "/collector/stormscope-collector";

struct Proc {
  pid_t pid = -1;
  int port = 0;
};

// Starts the collector on a free loopback port and waits until it logs the port it listens on.
Proc start_collector(const std::string& dir, int round) {
  std::string log = fmt::format("{}/collector.{}.log", dir, round);
  Proc p;
  p.pid = fork();
  if (p.pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    // The batches step 50 s each, far ahead of the clock: lift the clock-skew rule (ingest.max_future).
    std::string config = dir + "/collector.yml";
    std::ofstream(config) << "ingest:\n  max_future: 100000h\n";
    execl(kCollector.c_str(), kCollector.c_str(), "--listen", "127.0.0.1:0", "--db", (dir + "/db.sqlite").c_str(),
          "--threads", "8", "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::regex re("listening on [0-9.]+:([0-9]+)");
  for (int i = 0; i < 300 && p.port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(text, m, re)) p.port = std::stoi(m[1]);
  }
  return p;
}

void kill_hard(Proc& p) {
  kill(p.pid, SIGKILL);
  waitpid(p.pid, nullptr, 0);
}

Batch make_batch(uint64_t seq, int64_t t0) {
  Batch b;
  b.node = "crashnode";
  b.stream = "s1";
  b.seq = seq;
  for (int s = 0; s < 20; ++s) {
    Series series{"crash_metric", SeriesType::Counter, {{"i", std::to_string(s)}}, {}};
    for (int k = 0; k < 50; ++k)
      series.points.push_back({t0 + static_cast<int64_t>(seq * 50 + k) * 1000, static_cast<double>(seq * 50 + k)});
    b.series.push_back(std::move(series));
  }
  return b;
}

}  // namespace

TEST(StorageCrash, SigkillLosesNothingAcknowledgedAndDuplicatesNothing) {
  if (!std::filesystem::exists(kCollector)) GTEST_SKIP() << "collector binary not built: " << kCollector;
  char tmpl[] = "/tmp/ss_storage_crash_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  const int64_t t0 = (now_ms() / 1000) * 1000 - 3'600'000;
  std::mt19937 rng(42);
  uint64_t next_seq = 1, acked_batches = 0;
  int duplicates = 0;
  for (int round = 0; round < 5; ++round) {
    Proc p = start_collector(dir, round);
    ASSERT_GT(p.port, 0) << "collector did not start; see " << dir;
    httplib::Client cli("127.0.0.1", p.port);
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    // Post from a thread until the kill: the batch in flight at the kill is retried after the restart.
    std::atomic<bool> killed{false};
    std::thread poster([&] {
      while (!killed) {
        auto res = cli.Post("/api/v1/ingest", encode_batch(make_batch(next_seq, t0)), "application/json");
        if (!res || res->status != 200) continue;  // not acknowledged: send the same seq again
        if (res->body.find("\"duplicate\":true") != std::string::npos) ++duplicates;
        ++acked_batches;
        ++next_seq;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    kill_hard(p);
    killed = true;
    poster.join();
  }
  ASSERT_GT(acked_batches, 5u);
  // Read what survived with the store itself (it replays the log of the last killed process).
  StoreOptions o;
  o.path = dir + "/db.sqlite";
  auto store = open_store(o);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto series = (*store)->select("crash_metric", {});
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 20u);
  for (const auto& s : *series) {
    auto pts = (*store)->read(s.id, 0, INT64_MAX);
    ASSERT_TRUE(pts.ok());
    // Every acknowledged batch, each point once, in order; at most the one unacknowledged batch in flight
    // at the last kill may also be there.
    ASSERT_GE(pts->size(), acked_batches * 50) << label_value(s.labels, "i");
    ASSERT_LE(pts->size(), (acked_batches + 1) * 50);
    for (size_t k = 0; k < pts->size(); ++k) {
      ASSERT_EQ((*pts)[k].t_ms, t0 + static_cast<int64_t>(50 + k) * 1000) << "point " << k;
      ASSERT_EQ((*pts)[k].value, static_cast<double>(50 + k));
    }
  }
  (*store)->close();
  RecordProperty("acknowledged_batches", static_cast<int>(acked_batches));
  RecordProperty("duplicates_after_restart", duplicates);
  std::filesystem::remove_all(dir);
}
