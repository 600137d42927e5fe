// encode_batch writes JSON text directly; whatever the agent sends must decode to the same batch.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/codec.h"

using namespace ss;

TEST(AgentCodecEncode, RoundTripsEscapesNumbersAndEvents) {
  Batch b;
  b.node = "gpu017";
  b.stream = "0123abcd";
  b.seq = std::numeric_limits<uint64_t>::max();
  b.series.push_back(Series{"stormscope_mount_info", SeriesType::Gauge,
                            {{"mount", "/mnt/a \"q\" \\ b\n\t\r\x01 ü €  😀"}, {"source", "s"}},
                            {{1763700000000, 1}, {1763700010000, -0.0}, {1763700020000, 1e300}, {1763700030000, 0.1}}});
  b.series.push_back(Series{"x_total", SeriesType::Counter, {}, {{1763700000000, 123456789012345.0}}});
  b.series.push_back(Series{"g", SeriesType::Gauge, {}, {{1763700000000, std::nan("")},
                                                         {1763700010000, std::numeric_limits<double>::infinity()},
                                                         {1763700020000, -std::numeric_limits<double>::infinity()}}});
  b.events.push_back(Event{"vfs_hot_dirs", 1763700000000, {{"fstype", "lustre"}},
                           R"({"dirs": [{"path": "/l/ai0", "ops": 5}]})"});
  std::string text = encode_batch(b);
  auto d = decode_batch(text);
  ASSERT_TRUE(d.ok()) << d.error().message << "\n" << text;
  EXPECT_EQ(d->node, b.node);
  EXPECT_EQ(d->stream, b.stream);
  EXPECT_EQ(d->seq, b.seq);
  ASSERT_EQ(d->series.size(), 3u);
  EXPECT_EQ(d->series[0].labels, b.series[0].labels);
  EXPECT_EQ(d->series[0].points, b.series[0].points);
  EXPECT_EQ(d->series[1].type, SeriesType::Counter);
  EXPECT_EQ(d->series[1].points, b.series[1].points);
  EXPECT_TRUE(std::isnan(d->series[2].points[0].value));
  EXPECT_EQ(d->series[2].points[1].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(d->series[2].points[2].value, -std::numeric_limits<double>::infinity());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_NE(d->events[0].fields_json.find("/l/ai0"), std::string::npos);
}

TEST(AgentCodecEncode, InvalidUtf8BecomesReplacementCharacters) {
  Batch b;
  b.node = "n1";
  b.seq = 1;
  // A lone continuation byte, a truncated sequence, an overlong encoding and a surrogate.
  b.series.push_back(Series{"m", SeriesType::Gauge, {{"path", "a\x80z\xE2\x82\xC0\x80\xED\xA0\x80"}}, {{1763700000000, 1}}});
  b.events.push_back(Event{"k", 1763700000000, {}, "not json"});
  auto d = decode_batch(encode_batch(b));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->series[0].labels[0].second.substr(0, 5), "a\xEF\xBF\xBDz");
  EXPECT_EQ(d->events[0].fields_json, "{}");
}
