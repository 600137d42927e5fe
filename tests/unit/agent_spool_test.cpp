#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/spool.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::agent;
namespace fs = std::filesystem;

namespace {

using ss::testing::TempDir;

std::unique_ptr<Spool> open_ok(const std::string& dir, SpoolOptions o = {}) {
  auto s = Spool::open(dir, o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

uint64_t append_next(Spool& s, const std::string& body) {
  auto seq = s.next_seq();
  EXPECT_TRUE(seq.ok());
  EXPECT_TRUE(s.append(*seq, body).ok());
  return *seq;
}

}  // namespace

TEST(AgentSpool, KeepsStreamAndSequenceAcrossRestarts) {
  TempDir d;
  std::string stream;
  {
    auto s = open_ok(d.str() + "/spool");
    stream = s->stream();
    EXPECT_EQ(stream.size(), 16u);
    EXPECT_EQ(append_next(*s, "one"), 1u);
    EXPECT_EQ(append_next(*s, "two"), 2u);
    s->remove(1);
    s->remove(2);  // everything sent: only the seq file remembers where we were
  }
  auto s = open_ok(d.str() + "/spool");
  EXPECT_EQ(s->stream(), stream);
  EXPECT_EQ(append_next(*s, "three"), 3u);
  // A new spool directory is a new stream.
  auto other = open_ok(d.str() + "/other");
  EXPECT_NE(other->stream(), stream);
  EXPECT_EQ(*other->next_seq(), 1u);
}

TEST(AgentSpool, ListsBatchesOldestFirstAndReadsThemBack) {
  TempDir d;
  {
    auto s = open_ok(d.path);
    for (std::string body : {"a", "bb", "ccc"}) append_next(*s, body);
  }
  auto s = open_ok(d.path);
  auto entries = s->entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].seq, 1u);
  EXPECT_EQ(entries[2].seq, 3u);
  EXPECT_EQ(s->stats().bytes, 6);
  EXPECT_EQ(s->oldest()->seq, 1u);
  EXPECT_EQ(*s->read(1), "a");
  s->remove(1);
  EXPECT_EQ(s->oldest()->seq, 2u);
  EXPECT_EQ(*s->read(3), "ccc");
  EXPECT_FALSE(s->read(1).ok());
}

TEST(AgentSpool, CrashMidWriteLeavesNoPartialBatch) {
  TempDir d;
  {
    auto s = open_ok(d.path);
    append_next(*s, "complete");
  }
  // What a crash between write and rename leaves: a temporary file, and a seq taken but never written.
  std::ofstream(d.str() + "/.tmp-batch-00000000000000000002.json.gz") << "trunc";
  std::ofstream(d.str() + "/seq") << "2\n";
  auto s = open_ok(d.path);
  auto entries = s->entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(*s->read(entries[0].seq), "complete");
  EXPECT_FALSE(fs::exists(d.str() + "/.tmp-batch-00000000000000000002.json.gz"));
  EXPECT_EQ(*s->next_seq(), 3u) << "a seq that may have been used is never reused";
}

TEST(AgentSpool, DropsOldestWhenFullAndCountsThem) {
  TempDir d;
  auto s = open_ok(d.path, SpoolOptions{1000, 100});
  std::string body(400, 'x');
  for (int i = 0; i < 5; ++i) append_next(*s, body);
  auto entries = s->entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].seq, 4u);
  EXPECT_EQ(entries[1].seq, 5u);
  auto st = s->stats();
  EXPECT_EQ(st.dropped_batches, 3u);
  EXPECT_EQ(st.bytes, 800);
  EXPECT_FALSE(fs::exists(d.str() + "/batch-00000000000000000001.json.gz"));
}

TEST(AgentSpool, SetsRejectedBatchesAside) {
  TempDir d;
  {
    auto s = open_ok(d.path, SpoolOptions{1 << 20, 2});
    for (int i = 0; i < 4; ++i) append_next(*s, "bad");
    for (uint64_t seq = 1; seq <= 3; ++seq) s->set_aside(seq);
    EXPECT_EQ(s->stats().rejected_batches, 3u);
    EXPECT_EQ(s->oldest()->seq, 4u);
    s->remove(4);
  }
  // Only the newest max_rejected_files are kept.
  EXPECT_FALSE(fs::exists(d.str() + "/rejected/batch-00000000000000000001.json.gz"));
  EXPECT_TRUE(fs::exists(d.str() + "/rejected/batch-00000000000000000003.json.gz"));
  fs::remove(d.str() + "/seq");  // even without the seq file, rejected batches keep their numbers taken
  auto s = open_ok(d.path);
  EXPECT_FALSE(s->oldest().has_value());
  EXPECT_EQ(*s->next_seq(), 4u);
}

TEST(AgentSpool, RefusesASecondAgentAndBadState) {
  TempDir d;
  auto s = open_ok(d.path);
  auto second = Spool::open(d.path);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);

  TempDir e;
  std::ofstream(e.str() + "/stream") << "not a stream id!\n";
  auto bad = Spool::open(e.path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("stream"), std::string::npos);
}

// The spool's disk fills (a 96 KiB tmpfs, far below spool_max_size): the oldest batches make room, are
// counted, and every new batch is still taken.
TEST(AgentSpool, DiskFullDropsOldestBatchesAndKeepsTakingNewOnes) {
  TempDir d;
  std::string mnt = d.str() + "/small";
  fs::create_directories(mnt);
  ASSERT_EQ(::system(("mount -t tmpfs -o size=96k tmpfs " + mnt).c_str()), 0) << "mounting a tmpfs needs root";
  {
    auto s = open_ok(mnt, SpoolOptions{1 << 30, 100});
    ASSERT_TRUE(s);
    std::string body(16 << 10, 'x');
    uint64_t last = 0;
    for (int i = 0; i < 20; ++i) last = append_next(*s, body);
    auto st = s->stats();
    EXPECT_GT(st.dropped_batches, 0u);
    EXPECT_EQ(st.batches + st.dropped_batches, 20u);
    auto entries = s->entries();
    ASSERT_FALSE(entries.empty());
    EXPECT_EQ(entries.back().seq, last);  // the newest is kept, the oldest went
    EXPECT_GT(entries.front().seq, 1u);
    auto newest = s->read(last);
    ASSERT_TRUE(newest.ok());
    EXPECT_EQ(*newest, body);
  }
  EXPECT_EQ(::system(("umount " + mnt).c_str()), 0);
}
