// The hand-written batch decoder against nlohmann's JSON grammar: whatever it accepts is valid JSON,
// mutated bodies never crash it, and generated batches survive encode/decode exactly.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "common/codec.h"

using namespace ss;

namespace {

Batch random_batch(std::mt19937_64& rng) {
  Batch b;
  b.node = "gpu" + std::to_string(rng() % 100);
  b.seq = rng();
  if (rng() % 2) b.stream = "s" + std::to_string(rng() % 1000);
  size_t ns = rng() % 6;
  for (size_t i = 0; i < ns; ++i) {
    Series s;
    s.name = "m_" + std::to_string(rng() % 50);
    s.type = rng() % 2 ? SeriesType::Counter : SeriesType::Gauge;
    size_t nl = rng() % 4;
    for (size_t k = 0; k < nl; ++k) {
      static const char* pieces[] = {"v", "\"", "\\", "\n", "\t", "/", "é", "€", "😀", "", "x y"};
      std::string v;
      for (size_t c = rng() % 5; c > 0; --c) v += pieces[rng() % std::size(pieces)];
      s.labels.emplace_back("l" + std::to_string(k), v);
    }
    size_t np = rng() % 20;
    int64_t t = kMinTimestampMs + static_cast<int64_t>(rng() % 1000000000000);
    for (size_t k = 0; k < np; ++k) {
      double v;
      switch (rng() % 5) {
        case 0: v = static_cast<double>(rng() % 100000); break;
        case 1: v = std::uniform_real_distribution<double>(0, 1e18)(rng); break;
        case 2: v = std::numeric_limits<double>::denorm_min() * static_cast<double>(rng() % 7); break;
        case 3: v = rng() % 2 ? INFINITY : NAN; break;
        default: v = std::uniform_real_distribution<double>(0, 1)(rng); break;
      }
      if (s.type == SeriesType::Gauge && rng() % 3 == 0) v = -v;
      s.points.push_back({t += static_cast<int64_t>(rng() % 20000), v});
    }
    b.series.push_back(std::move(s));
  }
  return b;
}

}  // namespace

TEST(CodecJson, GeneratedBatchesRoundTripExactly) {
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < 500; ++iter) {
    Batch b = random_batch(rng);
    auto r = decode_batch(encode_batch(b));
    ASSERT_TRUE(r.ok()) << r.error().message << "\n" << encode_batch(b);
    EXPECT_EQ(r->node, b.node);
    EXPECT_EQ(r->seq, b.seq);
    EXPECT_EQ(r->stream, b.stream);
    ASSERT_EQ(r->series.size(), b.series.size());
    for (size_t i = 0; i < b.series.size(); ++i) {
      EXPECT_EQ(r->series[i].labels, b.series[i].labels);
      ASSERT_EQ(r->series[i].points.size(), b.series[i].points.size());
      for (size_t k = 0; k < b.series[i].points.size(); ++k) {
        const Point &got = r->series[i].points[k], &want = b.series[i].points[k];
        EXPECT_EQ(got.t_ms, want.t_ms);
        if (std::isnan(want.value)) EXPECT_TRUE(std::isnan(got.value));
        else EXPECT_EQ(std::bit_cast<uint64_t>(got.value), std::bit_cast<uint64_t>(want.value));
      }
    }
  }
}

TEST(CodecJson, AcceptsOnlyValidJsonUnderMutation) {
  std::mt19937_64 rng(12);
  const std::string alphabet = "{}[],:\"\\ 0123456789.eE+-tfnul\xc3\xa9\xff";
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string body = encode_batch(random_batch(rng));
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      size_t pos = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: body.erase(pos, 1 + rng() % 3); break;
        default: body.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    auto r = decode_batch(body);
    if (r.ok()) {
      ++accepted;
      EXPECT_TRUE(nlohmann::json::accept(body)) << "accepted invalid JSON: " << body;
    } else if (!nlohmann::json::accept(body)) {
      EXPECT_NE(r.error().message.find("JSON"), std::string::npos) << body << "\n" << r.error().message;
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations keep the batch valid
}

TEST(CodecJson, EscapesAndSurrogates) {
  auto r = decode_batch(
      R"({"node":"n","seq":0,"series":[{"name":"x","type":"gauge","labels":{"a":"\u00e9\ud83d\ude00\n\/"},"points":[]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->series[0].labels[0].second, "é😀\n/");
  EXPECT_FALSE(decode_batch(R"({"node":"n","seq":0,"stream":"\ud83d"})").ok());
  EXPECT_FALSE(decode_batch("{\"node\":\"n\xff\",\"seq\":0}").ok());
  EXPECT_FALSE(decode_batch(R"({"node":"n","seq":0} x)").ok());
  EXPECT_FALSE(decode_batch(R"({"node":"n","seq":01})").ok());
  auto dup = decode_batch(R"({"node":"n","seq":0,"series":[{"name":"x","type":"gauge","labels":{"a":"1","a":"2"},"points":[]}]})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("appears twice"), std::string::npos);
}

// The string scanner reads eight bytes at a time: every length, with a character that needs care at
// every position, must round-trip (or, for invalid UTF-8, be rejected) exactly as one byte at a time.
TEST(CodecJson, StringsOfEveryLengthAndSpecialPosition) {
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x82\xac"};
  for (size_t len = 0; len <= 24; ++len)
    for (size_t pos = 0; pos <= len; ++pos)
      for (const auto& sp : specials) {
        std::string value(len, 'v');
        value.insert(pos, sp);
        Batch b;
        b.node = "n";
        b.series.push_back(Series{"m", SeriesType::Gauge, {{"k", value}}, {}});
        auto r = decode_batch(encode_batch(b));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->series[0].labels[0].second, value) << len << " " << pos;
        // A raw invalid byte at the same place is an error, wherever it sits.
        std::string raw = value;
        raw.replace(pos, sp.size(), "\xff");
        std::string body = R"({"node":"n","seq":0,"series":[{"name":"m","type":"gauge","labels":{"k":")" + raw +
                           R"("},"points":[]}]})";
        EXPECT_FALSE(decode_batch(body).ok()) << len << " " << pos;
      }
}
