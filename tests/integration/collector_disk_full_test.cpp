// The collector's disk fills (a small tmpfs): ingest answers 503 with Retry-After, loses nothing it
// acknowledged, and takes batches again by itself once space returns.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collector/collector.h"
#include "common/codec.h"
#include "common/config.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::collector;

namespace {

constexpr int64_t kT0 = 1763700000000;

// 200 series of one point each: about 20 KB of JSON, a few KB in the store.
std::string batch(uint64_t seq) {
  Batch b;
  b.node = "n";
  b.seq = seq;
  for (int s = 0; s < 200; ++s) {
    Series x;
    x.name = "lustre_client_rpcs_total";
    x.type = SeriesType::Counter;
    x.labels = {{"target", fmt::format("ai0-OST{:04x}", s)}};
    x.points = {{kT0 + int64_t(seq) * 10'000, double(seq)}};
    b.series.push_back(std::move(x));
  }
  return encode_batch(b);
}

// Fills the file system with one file until a write fails.
void fill(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::string block(64 << 10, 'f');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

}  // namespace

TEST(CollectorDiskFull, Answers503LosesNothingAndRecovers) {
  ss::testing::TempDir d;
  std::string mnt = d.str() + "/small";
  std::filesystem::create_directories(mnt);
  ASSERT_EQ(::system(("mount -t tmpfs -o size=24m tmpfs " + mnt).c_str()), 0) << "mounting a tmpfs needs root";
  int64_t acked = 0;
  {
    auto root = config::load_string("{}");
    ASSERT_TRUE(root.ok());
    (*root)["listen"] = "127.0.0.1:0";
    (*root)["db"] = mnt + "/db.sqlite";
    auto cfg = read_collector_config(*root);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto c = Collector::start(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().message;
    httplib::Client cli("127.0.0.1", (*c)->port());
    cli.set_read_timeout(30, 0);
    uint64_t seq = 1;
    for (; seq <= 5; ++seq) {
      auto r = cli.Post("/api/v1/ingest", batch(seq), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      acked += 200;
    }
    fill(mnt + "/filler");
    // Batches keep coming while the disk is full: none may be acknowledged unless stored.
    int full_answers = 0;
    for (int i = 0; i < 40 && full_answers < 3; ++i, ++seq) {
      auto r = cli.Post("/api/v1/ingest", batch(seq), "application/json");
      ASSERT_TRUE(r);
      if (r->status == 200) {
        acked += 200;  // still fitted (SQLite had free pages)
        continue;
      }
      EXPECT_EQ(r->status, 503) << r->body;
      EXPECT_FALSE(r->get_header_value("Retry-After").empty());
      EXPECT_NE(r->body.find("disk"), std::string::npos) << r->body;
      ++full_answers;
    }
    ASSERT_EQ(full_answers, 3) << "the disk never filled";
    std::filesystem::remove(mnt + "/filler");
    // Space is back: the same batch goes through without a restart (retried as an agent would).
    bool stored = false;
    for (int i = 0; i < 100 && !stored; ++i) {
      auto r = cli.Post("/api/v1/ingest", batch(seq), "application/json");
      ASSERT_TRUE(r);
      stored = r->status == 200;
      if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(stored);
    acked += 200;
    (*c)->stop();
  }
  // Reopened, the store holds every acknowledged point.
  {
    auto root = config::load_string("{}");
    (*root)["listen"] = "127.0.0.1:0";
    (*root)["db"] = mnt + "/db.sqlite";
    auto cfg = read_collector_config(*root);
    auto c = Collector::start(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ((*c)->store().stats().points, acked);
    (*c)->stop();
  }
  EXPECT_EQ(::system(("umount " + mnt).c_str()), 0);
}
