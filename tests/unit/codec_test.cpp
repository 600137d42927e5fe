#include <gtest/gtest.h>

#include <cmath>

#include "common/codec.h"

using namespace ss;

namespace {

const char* kGood = R"({
  "node": "gpu017", "seq": 42, "stream": "a1b2",
  "series": [
    {"name": "lustre_client_rpc_wait_seconds_total", "type": "counter",
     "labels": {"target": "ai0-MDT0000", "fs": "ai0"},
     "points": [[1763700000000, 12.5], [1763700010000, 12.9]]},
    {"name": "gpu_utilization_ratio", "type": "gauge", "labels": {}, "points": [[1763700000000, "NaN"]]}
  ],
  "events": [
    {"kind": "vfs_hot_dirs", "t": 1763700010000, "labels": {"fstype": "lustre"},
     "fields": {"dirs": [{"path": "/lustre/ai0/datasets/shard7", "ops": 120331, "job": "4711", "comm": "python"}]}}
  ]
})";

std::string error_of(const std::string& body) {
  auto r = decode_batch(body);
  EXPECT_FALSE(r.ok()) << "accepted: " << body;
  return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST(Codec, DecodesTheDesignExample) {
  auto r = decode_batch(kGood);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Batch& b = *r;
  EXPECT_EQ(b.node, "gpu017");
  EXPECT_EQ(b.seq, 42u);
  EXPECT_EQ(b.stream, "a1b2");
  ASSERT_EQ(b.series.size(), 2u);
  EXPECT_EQ(b.series[0].type, SeriesType::Counter);
  ASSERT_EQ(b.series[0].labels.size(), 2u);
  EXPECT_EQ(b.series[0].labels[0].first, "fs");  // sorted
  EXPECT_EQ(b.series[0].points[1], (Point{1763700010000, 12.9}));
  EXPECT_TRUE(std::isnan(b.series[1].points[0].value));
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].kind, "vfs_hot_dirs");
  EXPECT_NE(b.events[0].fields_json.find("shard7"), std::string::npos);
  EXPECT_EQ(b.point_count(), 3u);
}

TEST(Codec, RoundTrips) {
  auto r = decode_batch(kGood);
  ASSERT_TRUE(r.ok());
  auto again = decode_batch(encode_batch(*r));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->node, r->node);
  EXPECT_EQ(again->seq, r->seq);
  EXPECT_EQ(again->stream, r->stream);
  ASSERT_EQ(again->series.size(), r->series.size());
  EXPECT_EQ(again->series[0].points, r->series[0].points);
  EXPECT_EQ(again->series[0].labels, r->series[0].labels);
  EXPECT_TRUE(std::isnan(again->series[1].points[0].value));
  EXPECT_EQ(again->events[0].fields_json, r->events[0].fields_json);
}

TEST(Codec, InfinitiesTravelAsStrings) {
  Batch b;
  b.node = "n1";
  b.seq = 1;
  b.series.push_back({"x", SeriesType::Gauge, {}, {{1763700000000, INFINITY}, {1763700001000, -INFINITY}}});
  auto r = decode_batch(encode_batch(b));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->series[0].points[0].value, INFINITY);
  EXPECT_EQ(r->series[0].points[1].value, -INFINITY);
}

TEST(Codec, RejectsEveryMalformedShapeWithItsPlace) {
  struct Case {
    std::string body, where;
  } cases[] = {
      {"", "not valid JSON"},
      {"{\"node\": \"n\", ", "not valid JSON"},
      {"[]", "batch: expected a JSON object"},
      {R"({"seq": 1})", "missing field \"node\""},
      {R"({"node": "n"})", "missing field \"seq\""},
      {R"({"node": "", "seq": 1})", "node:"},
      {R"({"node": "bad node", "seq": 1})", "node:"},
      {R"({"node": 7, "seq": 1})", "node: expected a string"},
      {R"({"node": "n", "seq": -1})", "seq: must be a non-negative integer"},
      {R"({"node": "n", "seq": 1.5})", "seq: must be a non-negative integer"},
      {R"({"node": "n", "seq": "1"})", "seq: must be a non-negative integer"},
      {R"({"node": "n", "seq": 1, "stream": "a b"})", "stream:"},
      {R"({"node": "n", "seq": 1, "extra": 1})", "unknown field \"extra\""},
      {R"({"node": "n", "seq": 1, "series": {}})", "series: expected an array"},
      {R"({"node": "n", "seq": 1, "series": [1]})", "series[0]: expected an object"},
      {R"({"node": "n", "seq": 1, "series": [{"type": "gauge", "points": []}]})", "series[0]: missing field \"name\""},
      {R"({"node": "n", "seq": 1, "series": [{"name": "9x", "type": "gauge", "points": []}]})", "series[0].name"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "summary", "points": []}]})", "series[0].type"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [], "help": ""}]})",
       "series[0]: unknown field \"help\""},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "labels": [], "points": []}]})",
       "series[0].labels: expected an object"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "labels": {"a-b": "1"}, "points": []}]})",
       "series[0].labels: label name \"a-b\" is invalid"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "labels": {"__name__": "1"}, "points": []}]})",
       "reserved"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "labels": {"node": "other"}, "points": []}]})",
       "label \"node\" is reserved"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "labels": {"a": 1}, "points": []}]})",
       "series[0].labels.a: expected a string"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge"}]})", "missing field \"points\""},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1]]}]})",
       "series[0].points[0]: a point is [timestamp_ms, value]"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1763700000, 1]]}]})",
       "series[0].points[0][0]: timestamp 1763700000 is out of range"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1763700000000.5, 1]]}]})",
       "series[0].points[0][0]: timestamp must be an integer"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1763700000000, "x"]]}]})",
       "series[0].points[0][1]: value \"x\" is not a number"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1763700000000, null]]}]})",
       "series[0].points[0][1]: value must be a number"},
      {R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "counter", "points": [[1763700000000, -1]]}]})",
       "series[0].points[0][1]: counter value -1 is negative"},
      {R"({"node": "n", "seq": 1, "events": [{"kind": "x"}]})", "events[0]: missing field \"t\""},
      {R"({"node": "n", "seq": 1, "events": [{"kind": "bad kind", "t": 1763700000000}]})", "events[0].kind"},
      {R"({"node": "n", "seq": 1, "events": [{"kind": "k", "t": 1763700000000, "fields": []}]})",
       "events[0].fields: expected an object"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.body);
    EXPECT_NE(e.find(c.where), std::string::npos) << "body: " << c.body << "\nerror: " << e;
  }
}

TEST(Codec, EnforcesLimits) {
  DecodeLimits lim;
  lim.max_points = 2;
  auto r = decode_batch(
      R"({"node": "n", "seq": 1, "series": [{"name": "x", "type": "gauge", "points": [[1763700000000, 1], [1763700001000, 1], [1763700002000, 1]]}]})",
      lim);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("more than 2 points"), std::string::npos);
}
