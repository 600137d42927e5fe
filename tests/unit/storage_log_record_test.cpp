#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fmt/format.h>

#include <limits>

#include "collector/store/chunk_codec.h"
#include "collector/store/log_record.h"
#include "collector/store/varint.h"

using namespace ss;
using namespace ss::collector;

namespace {

constexpr int64_t kT0 = 1763683200000;

struct Entry {
  uint64_t id;
  std::vector<Point> points;
};

std::vector<Entry> read_all(std::string_view record) {
  std::vector<Entry> out;
  auto r = read_log_record(record, [&](uint64_t id, const std::vector<Point>& pts) { out.push_back({id, pts}); });
  EXPECT_TRUE(r.ok()) << r.error().message;
  return out;
}

void expect_same_bits(const std::vector<Point>& got, const std::vector<Point>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].t_ms, want[i].t_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(want[i].value)) << i;
  }
}

}  // namespace

TEST(LogRecord, EveryValueAndTimestampComesBackBitForBit) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Point> values = {{kT0, 0},           {kT0 + 10000, -0.0},       {kT0 + 9000, 1},  // time goes back
                               {kT0 + 9000, -7},   {kT0 + 20000, 12.5},       {kT0 + 30000, 9007199254740992.0},
                               {kT0 + 30001, 9007199254740994.0}, {kT0 + 30002, -9007199254740992.0},
                               {kT0 + 40000, NAN}, {kT0 + 50000, inf},        {kT0 + 60000, -inf},
                               {kT0 + 70000, 1e300}, {kT0 - 3'600'000, 4.9e-324}, {1, 3}};
  Batch a;
  a.series.push_back({"x", SeriesType::Gauge, {}, values});
  a.series.push_back({"empty", SeriesType::Gauge, {}, {}});
  a.series.push_back({"one", SeriesType::Counter, {}, {{kT0 + 5, 123456789}}});
  Batch b;
  b.series.push_back({"later", SeriesType::Counter, {}, {{kT0 + 86'400'000, 2}}});
  std::string record = format_2_record_start();
  a.node = "gpu1";
  a.seq = 41;
  b.node = "gpu2";
  b.stream = "s-9";
  b.seq = 7;
  append_log_batch(record, a, encode_log_batch(a), {7, 8, 9});
  append_log_batch(record, b, encode_log_batch(b), {300000});
  Batch none;  // a batch without points still records its seq
  none.node = "gpu3";
  none.seq = 1;
  append_log_batch(record, none, encode_log_batch(none), {});
  std::vector<std::string> batches;
  ASSERT_TRUE(read_log_record(record, [](uint64_t, const std::vector<Point>&) {},
                              [&](std::string_view node, std::string_view stream, uint64_t seq) {
                                batches.push_back(fmt::format("{}/{}/{}", node, stream, seq));
                              }).ok());
  EXPECT_EQ(batches, (std::vector<std::string>{"gpu1//41", "gpu2/s-9/7", "gpu3//1"}));
  auto got = read_all(record);
  ASSERT_EQ(got.size(), 3u);  // the series without points has no entry
  EXPECT_EQ(got[0].id, 7u);
  expect_same_bits(got[0].points, values);
  EXPECT_EQ(got[1].id, 9u);
  expect_same_bits(got[1].points, {{kT0 + 5, 123456789}});
  EXPECT_EQ(got[2].id, 300000u);
  expect_same_bits(got[2].points, b.series[0].points);
}

TEST(LogRecord, ASeriesPointIsAFewBytes) {
  Batch a;
  for (int s = 0; s < 300; ++s) a.series.push_back({"c", SeriesType::Counter, {}, {{kT0, 1000.0 * s}}});
  std::string record = format_2_record_start();
  std::vector<uint32_t> ids(300);
  for (int s = 0; s < 300; ++s) ids[s] = 100000 + s;
  a.node = "gpu0001";
  a.stream = "0123456789abcdef";
  append_log_batch(record, a, encode_log_batch(a), ids);
  EXPECT_LE(record.size(), 40 + 300u * 8);  // per entry: id 3, count 1, time 1, value 1-3 bytes
  EXPECT_EQ(read_all(record).size(), 300u);
}

TEST(LogRecord, ReadsRecordsOfTheFirstFormat) {
  // Format 1: per entry varint id, varint length, a raw chunk.
  std::string record;
  for (uint64_t id : {3u, 200u}) {
    ChunkEncoder enc(1);
    enc.append(kT0, 1.5);
    enc.append(kT0 + 10000, static_cast<double>(id));
    put_varint(record, id);
    put_varint(record, enc.size());
    record.append(enc.bytes());
  }
  auto got = read_all(record);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].id, 200u);
  expect_same_bits(got[1].points, {{kT0, 1.5}, {kT0 + 10000, 200}});
}

TEST(LogRecord, TruncatedRecordsAreErrors) {
  Batch a;
  a.series.push_back({"x", SeriesType::Gauge, {}, {{kT0, 0.25}, {kT0 + 1, 2}}});
  std::string record = format_2_record_start();
  append_log_batch(record, a, encode_log_batch(a), {5});
  for (size_t n = 2; n < record.size(); ++n)
    EXPECT_FALSE(read_log_record(record.substr(0, n), [](uint64_t, const std::vector<Point>&) {}).ok()) << n;
}
