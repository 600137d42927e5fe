#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "collector/store/chunk_codec.h"

using namespace ss::collector;

namespace {

uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }

// Encodes rows, decodes them and checks every timestamp and every value bit for bit.
void expect_round_trip(const std::vector<Row>& rows, int columns) {
  ChunkEncoder enc(columns);
  for (const auto& r : rows) enc.append(r.t_ms, r.v.data());
  auto got = decode_rows(enc.bytes());
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ((*got)[i].t_ms, rows[i].t_ms) << "row " << i;
    for (int c = 0; c < columns; ++c) ASSERT_EQ(bits((*got)[i].v[c]), bits(rows[i].v[c])) << "row " << i << " col " << c;
  }
}

double adversarial(std::mt19937_64& rng) {
  static const double special[] = {std::numeric_limits<double>::quiet_NaN(),
                                   -std::numeric_limits<double>::quiet_NaN(),
                                   std::bit_cast<double>(uint64_t(0x7ff0000000000001)),  // signalling NaN payload
                                   INFINITY,
                                   -INFINITY,
                                   0.0,
                                   -0.0,
                                   std::numeric_limits<double>::denorm_min(),
                                   std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::lowest(),
                                   1.0,
                                   1e300};
  switch (rng() % 6) {
    case 0: return special[rng() % std::size(special)];
    case 1: return std::bit_cast<double>(rng());  // any bit pattern
    case 2: return static_cast<double>(rng() % 1000);
    case 3: {  // decimals of varying scale, as gauges report them
      double scale = std::pow(10.0, static_cast<double>(rng() % 9));
      return std::round(std::uniform_real_distribution<double>(-1e5, 1e5)(rng) * scale) / scale;
    }
    case 4: return static_cast<double>(static_cast<int64_t>(rng() >> (rng() % 64)) - (int64_t(1) << 40));
    default: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
  }
}

}  // namespace

TEST(ChunkCodec, EmptyChunk) {
  ChunkEncoder enc;
  auto got = decode_rows(enc.bytes());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST(ChunkCodec, RegularSeriesCompressWell) {
  ChunkEncoder enc;
  double v = 0;
  for (int i = 0; i < 720; ++i) enc.append(1763700000000 + i * 10000, v += 5);
  EXPECT_LT(enc.bytes().size(), 720u * 2);  // far below 16 bytes per point
  // Gauges with three decimals and noise take the decimal path: well under the 8+ bytes XOR needs.
  ChunkEncoder gauge;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 720; ++i)
    gauge.append(1763700000000 + i * 10000, std::round((50 + std::normal_distribution<double>(0, 3)(rng)) * 1000) / 1000);
  EXPECT_LT(gauge.bytes().size(), 720u * 4);
  auto got = decode_rows(enc.bytes());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[719].v[0], 3600);
  EXPECT_EQ((*got)[719].t_ms, 1763700000000 + 719 * 10000);
}

TEST(ChunkCodec, AdversarialValuesAndTimestamps) {
  std::vector<Row> rows;
  const int64_t ts[] = {std::numeric_limits<int64_t>::min(), -1, 0, 0, 0, 1, std::numeric_limits<int64_t>::max(),
                        std::numeric_limits<int64_t>::max(), 5, 1763700000000, 1763700000000, 1763700010000,
                        1763700010003, 1763700019990, std::numeric_limits<int64_t>::min()};
  // The codec itself does not require order: wrapped deltas still round-trip.
  std::mt19937_64 rng(7);
  for (int64_t t : ts) {
    Row r;
    r.t_ms = t;
    for (auto& v : r.v) v = adversarial(rng);
    rows.push_back(r);
  }
  expect_round_trip(rows, 1);
  expect_round_trip(rows, 5);
}

TEST(ChunkCodec, RandomPropertyRoundTrips) {
  std::mt19937_64 rng(20261122);
  for (int iter = 0; iter < 400; ++iter) {
    int columns = 1 + static_cast<int>(rng() % kMaxColumns);
    size_t n = rng() % 600;
    std::vector<Row> rows(n);
    int64_t t = static_cast<int64_t>(rng() % 4000000000000ull);
    int mode = static_cast<int>(rng() % 4);
    for (size_t i = 0; i < n; ++i) {
      switch (mode) {
        case 0: t += 10000; break;                                        // regular
        case 1: t += 10000 + static_cast<int64_t>(rng() % 200) - 100; break;  // jitter
        case 2: t += static_cast<int64_t>(rng() % 3);  break;           // equal timestamps
        default: t += static_cast<int64_t>(rng() >> (rng() % 64)); break;   // huge deltas (wrapping)
      }
      rows[i].t_ms = t;
      for (int c = 0; c < columns; ++c)
        rows[i].v[c] = (mode == 0 && i > 0) ? rows[i - 1].v[c] + static_cast<double>(rng() % 3) : adversarial(rng);
    }
    expect_round_trip(rows, columns);
    if (HasFatalFailure()) return;
  }
}

TEST(ChunkCodec, TruncatedChunksAreErrorsNotGarbage) {
  ChunkEncoder enc;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) enc.append(1763700000000 + i * 10000, adversarial(rng));
  std::string full(enc.bytes());
  for (size_t cut = 0; cut + 1 < full.size(); cut += 7) {
    auto got = decode_rows(std::string_view(full).substr(0, cut));
    EXPECT_FALSE(got.ok()) << "cut at " << cut;
  }
  std::string bad = full;
  bad[4] = 9;  // column count out of range
  EXPECT_FALSE(decode_rows(bad).ok());
}

// Chunks written by schema version 2 (format 1: class-coded Gorilla) still decode.
TEST(ChunkCodec, DecodesFormatOneChunks) {
  const char* hex = "0c000000010000019aa3b5ec000000000000000000e02710c210a10a10a10a10a10a10aaca10a10a10";
  std::string bytes;
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) bytes.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  auto got = decode_rows(bytes);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ((*got)[i].t_ms, 1763683200000 + i * 10000);
    EXPECT_EQ((*got)[i].v[0], (i * 7) % 50 + i);
  }
}

// Format 1's Gorilla XOR code (5 lead bits) for values no decimal scale holds: pi, 2pi, NaN, -0.0, 1e300,
// 1/3, +Inf, 2.5, e, as the schema-version-2 encoder wrote them.
TEST(ChunkCodec, DecodesFormatOneXorValues) {
  const char* hex = "09000000010000019aa3b5ec00400921fb54442d18e02710f58378bbff8487ed5110b46f01bfff783efe37e43c8800759de1fe"
                    "0f158b4eeaa9064ba012aaaaaaaaaaaab9ffa00000000000038000df85458a2bb480";
  std::string bytes;
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) bytes.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  auto got = decode_rows(bytes);
  ASSERT_TRUE(got.ok()) << got.error().message;
  const double want[] = {M_PI, M_PI * 2, NAN, -0.0, 1e300, 1.0 / 3, INFINITY, 2.5, M_E};
  ASSERT_EQ(got->size(), 9u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ((*got)[i].t_ms, 1763683200000 + i * 10000);
    EXPECT_EQ(std::bit_cast<uint64_t>((*got)[i].v[0]), std::bit_cast<uint64_t>(want[i])) << "row " << i;
  }
}

// Rollup rows of a counter (count, sum, min, max, last): max equals last and min follows the previous
// row's last, so those columns cost a few bits once the predictors have learnt it.
TEST(ChunkCodec, RollupColumnsPredictEachOther) {
  std::mt19937_64 rng(11);
  std::vector<Row> rows;
  double v = 1000;
  for (int i = 0; i < 1440; ++i) {
    Row r;
    r.t_ms = 1763683200000 + i * 60000;
    double sum = 0, mn = 0;
    for (int k = 0; k < 6; ++k) {
      v += static_cast<double>(rng() % 200);
      if (k == 0) mn = v;
      sum += v;
    }
    r.v = {6, sum, mn, v, v};
    rows.push_back(r);
  }
  expect_round_trip(rows, 5);
  ChunkEncoder enc(5);
  for (const auto& r : rows) enc.append(r.t_ms, r.v.data());
  EXPECT_LT(enc.bytes().size(), 1440u * 6);  // independent columns would need about 9 bytes a row
}

// A chunk cut in two (the store's cut raw chunks) keeps the prefix of its stream: truncated after k rows,
// it is byte for byte the chunk of those k rows, whatever codes (Rice, escapes, XOR) came before.
TEST(ChunkCodec, TruncatedAfterKRowsIsTheChunkOfKRows) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<int64_t, double>> rows;
  int64_t t = 1763683200000;
  double v = 100;
  for (int i = 0; i < 150; ++i) {
    t += 10000 + static_cast<int64_t>(rng() % 40) - 20;
    switch (rng() % 6) {
      case 0: v = std::bit_cast<double>(rng()); break;        // XOR mode
      case 1: v += static_cast<double>(rng() % 1'000'000); break;  // an escape
      default: v += 0.125 * static_cast<double>(rng() % 9); break;
    }
    rows.emplace_back(t, v);
  }
  ChunkEncoder whole(1);
  for (auto [rt, rv] : rows) whole.append(rt, rv);
  auto d = ChunkDecoder::open(whole.bytes());
  ASSERT_TRUE(d.ok());
  Row r;
  for (uint32_t k = 1; k < rows.size(); ++k) {
    ASSERT_TRUE(d->next(r));
    ChunkEncoder cut(1), first_k(1);
    for (auto [rt, rv] : rows) cut.append(rt, rv);
    for (uint32_t i = 0; i < k; ++i) first_k.append(rows[i].first, rows[i].second);
    cut.truncate(k, d->bit_pos());
    EXPECT_EQ(cut.count(), k);
    ASSERT_EQ(cut.bytes(), first_k.bytes()) << k;
    EXPECT_EQ(cut.first_t(), rows[0].first);
  }
}
