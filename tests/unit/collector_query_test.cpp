// Selector parsing, range evaluation and the collector's configuration reader (all pure).
#include <gtest/gtest.h>

#include <cmath>

#include "collector/api/selector.h"
#include "collector/config.h"
#include "collector/query/range.h"
#include "common/config.h"

using namespace ss;
using namespace ss::collector;

TEST(Selector, ParsesNamesAndMatchers) {
  auto s = parse_selector(R"(lustre_client_rpcs_total{fs="ai0", target=~"ai0-OST.*",job!="",op!~'open|stat'})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "lustre_client_rpcs_total");
  ASSERT_EQ(s->matchers.size(), 4u);
  EXPECT_EQ(s->matchers[0].label, "fs");
  EXPECT_EQ(s->matchers[0].op, Matcher::Op::Eq);
  EXPECT_EQ(s->matchers[1].op, Matcher::Op::Re);
  EXPECT_EQ(s->matchers[1].value, "ai0-OST.*");
  EXPECT_EQ(s->matchers[2].op, Matcher::Op::Neq);
  EXPECT_EQ(s->matchers[3].op, Matcher::Op::Nre);
  EXPECT_EQ(s->matchers[3].value, "open|stat");

  EXPECT_EQ(parse_selector("up")->name, "up");
  EXPECT_EQ(parse_selector(" up { } ")->name, "up");
  auto by_label = parse_selector(R"({node="gpu1"})");
  ASSERT_TRUE(by_label.ok());
  EXPECT_TRUE(by_label->name.empty());
  EXPECT_EQ(parse_selector(R"({__name__="up",a="b"})")->name, "up");
  // No metric name: it stays a matcher (matching nothing) and formats to what parses back (found by fuzzing).
  auto odd_name = parse_selector(R"({__name__='a b'})");
  ASSERT_TRUE(odd_name.ok());
  EXPECT_TRUE(odd_name->name.empty());
  EXPECT_EQ(format_selector(*odd_name), R"({__name__="a b"})");
  EXPECT_TRUE(parse_selector(format_selector(*odd_name)).ok());
  EXPECT_EQ(parse_selector(R"(x{path="a\"b\\c"})")->matchers[0].value, "a\"b\\c");
  EXPECT_EQ(format_selector(*parse_selector(R"(x{a=~"b.*"})")), R"(x{a=~"b.*"})");
}

TEST(Selector, RejectsWithThePlace) {
  for (const char* bad : {"", "{}", "x{a}", "x{a=b}", "x{a=\"b\"", "x{a=\"b", "x{1a=\"b\"}", "x y", "x{a==\"b\"}"}) {
    auto r = parse_selector(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(parse_selector("x{a=b}").error().message.find("character 5"), std::string::npos)
      << parse_selector("x{a=b}").error().message;
}

TEST(Range, RawPointsWithinBounds) {
  std::vector<Point> pts{{0, 1}, {10, 2}, {20, 3}};
  RangeSpec spec{.from_ms = 5, .to_ms = 20};
  EXPECT_EQ(range_read_start(spec), 5);
  EXPECT_EQ(evaluate_range(pts, spec), (std::vector<Point>{{10, 2}, {20, 3}}));
}

TEST(Range, RatesHandleCounterResets) {
  // 100 → 200 over 10 s, reset to 50, then 150.
  std::vector<Point> pts{{0, 100}, {10000, 200}, {20000, 50}, {30000, 150}};
  RangeSpec spec{.from_ms = 0, .to_ms = 30000, .rate = true};
  EXPECT_EQ(evaluate_range(pts, spec), (std::vector<Point>{{10000, 10}, {20000, 5}, {30000, 10}}));
  // On a 10 s grid: at 20000 the increase since 10000 is 50 (after the reset); at 30000 it is 100.
  RangeSpec grid{.from_ms = 20000, .to_ms = 30000, .step_ms = 10000, .rate = true};
  auto out = evaluate_range(pts, grid);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_DOUBLE_EQ(out[0].value, 5.0);
  EXPECT_DOUBLE_EQ(out[1].value, 10.0);
  RangeSpec wide{.from_ms = 20000, .to_ms = 30000, .step_ms = 20000, .rate = true};
  auto w = evaluate_range(pts, wide);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_DOUBLE_EQ(w[0].value, 150.0 / 20.0);  // 100 before the reset + 50 after, over 20 s
  EXPECT_LE(range_read_start(wide), 0);
}

TEST(Range, GridUsesTheNewestPointWithinTheLookback) {
  std::vector<Point> pts{{0, 1}, {1000, 2}, {500000, 3}};
  RangeSpec spec{.from_ms = 0, .to_ms = 600000, .step_ms = 100000};
  auto out = evaluate_range(pts, spec);
  // 0 → 1; 100000..300000 → 2 (within 5 min of 1000); 400000 → nothing (stale); 500000, 600000 → 3.
  std::vector<Point> want{{0, 1}, {100000, 2}, {200000, 2}, {300000, 2}, {500000, 3}, {600000, 3}};
  EXPECT_EQ(out, want);
}

TEST(Range, NoRateAcrossAGapLongerThanTheLookback) {
  std::vector<Point> pts{{0, 1}, {1000000, 5}};
  RangeSpec spec{.from_ms = 0, .to_ms = 1000000, .rate = true};
  EXPECT_TRUE(evaluate_range(pts, spec).empty());
}

TEST(CollectorConfig, ReadsKeysAndRejectsUnknownOnes) {
  auto root = config::load_string(
      "listen: 127.0.0.1:9999\ndb: /var/lib/x.db\nlog_level: debug\nhttp: {threads: 16, keepalive_timeout: 1m}\n"
      "ingest: {max_body_bytes: 1MiB, tokens: [a]}\n");
  ASSERT_TRUE(root.ok());
  auto c = read_collector_config(*root);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->http.host, "127.0.0.1");
  EXPECT_EQ(c->http.port, 9999);
  EXPECT_EQ(c->http.threads, 16);
  EXPECT_EQ(c->http.keepalive_timeout_ms, 60000);
  EXPECT_EQ(c->db_path, "/var/lib/x.db");

  auto unknown = read_collector_config(*config::load_string("listne: 1.2.3.4:5\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("listne"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("ingest"), std::string::npos);  // the known keys are listed
  EXPECT_FALSE(read_collector_config(*config::load_string("http: {thread: 4}\n")).ok());
  EXPECT_FALSE(read_collector_config(*config::load_string("listen: nowhere\n")).ok());
  EXPECT_FALSE(read_collector_config(*config::load_string("listen: \":99999\"\n")).ok());
  EXPECT_FALSE(read_collector_config(*config::load_string("log_level: loud\n")).ok());

  HttpOptions h;
  ASSERT_TRUE(parse_listen(":9480", h).ok());
  EXPECT_EQ(h.host, "0.0.0.0");
  ASSERT_TRUE(parse_listen("[::1]:80", h).ok());
  EXPECT_EQ(h.host, "::1");
  EXPECT_EQ(h.port, 80);
}
