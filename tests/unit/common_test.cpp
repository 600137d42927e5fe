#include <gtest/gtest.h>

#include "common/config.h"
#include "common/exec.h"
#include "common/sample.h"
#include "common/time.h"

using namespace ss;

TEST(Time, ParsesDurations) {
  EXPECT_EQ(*parse_duration_ms("10s"), 10'000);
  EXPECT_EQ(*parse_duration_ms("250ms"), 250);
  EXPECT_EQ(*parse_duration_ms("1m30s"), 90'000);
  EXPECT_EQ(*parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(*parse_duration_ms("1.5s"), 1'500);
  EXPECT_EQ(*parse_duration_ms("15"), 15'000);
  EXPECT_FALSE(parse_duration_ms("").ok());
  EXPECT_FALSE(parse_duration_ms("10x").ok());
  EXPECT_FALSE(parse_duration_ms("s").ok());
  EXPECT_EQ(format_duration(90'000), "90s");
  EXPECT_EQ(format_duration(600'000), "10m");
}

TEST(Time, ParsesTimes) {
  EXPECT_EQ(*parse_time_ms("1763700000000", 0), 1763700000000);
  EXPECT_EQ(*parse_time_ms("2025-11-21T04:40:00Z", 0), 1763700000000);
  EXPECT_EQ(*parse_time_ms("2025-11-21T05:40:00+01:00", 0), 1763700000000);
  EXPECT_EQ(*parse_time_ms("2025-11-21T04:40:00.250Z", 0), 1763700000250);
  EXPECT_EQ(*parse_time_ms("now", 5000), 5000);
  EXPECT_EQ(*parse_time_ms("now-1s", 5000), 4000);
  EXPECT_FALSE(parse_time_ms("2025-11-21T04:40:00", 0).ok());
  EXPECT_FALSE(parse_time_ms("yesterday", 0).ok());
  EXPECT_EQ(format_rfc3339(1763700000000), "2025-11-21T04:40:00Z");
  EXPECT_EQ(format_rfc3339(1763700000250), "2025-11-21T04:40:00.250Z");
}

TEST(Labels, NormalizeSortsAndRejects) {
  Labels l{{"b", "1"}, {"a", "2"}};
  ASSERT_TRUE(normalize_labels(l).ok());
  EXPECT_EQ(l[0].first, "a");
  Labels dup{{"a", "1"}, {"a", "2"}};
  EXPECT_FALSE(normalize_labels(dup).ok());
  Labels bad{{"1a", "1"}};
  EXPECT_FALSE(normalize_labels(bad).ok());
  EXPECT_EQ(series_key("m", {{"a", "x\"y"}, {"b", "z"}}), "m{a=\"x\\\"y\",b=\"z\"}");
  EXPECT_TRUE(valid_node_name("gpu017.cluster-a_b"));
  EXPECT_FALSE(valid_node_name("gpu 17"));
  EXPECT_FALSE(valid_node_name(std::string(254, 'a')));
}

TEST(Config, RejectsUnknownKeysWithTheirPath) {
  auto node = config::load_string("sources:\n  lustre:\n    root: /x\n    tiemout: 5s\n");
  ASSERT_TRUE(node.ok());
  auto r = config::read([&] {
    config::Section top(*node, "");
    top.allow_only({"sources"});
    auto lustre = top.child("sources").child("lustre");
    lustre.allow_only({"root", "timeout"});
    return lustre.string("root", "/");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("sources.lustre.tiemout: unknown key", 0), 0u) << r.error().message;
}

TEST(Config, ReadsTypedValues) {
  auto node = config::load_string("a: 10s\nb: 64MiB\nc: true\nd: [x, y]\ne: 3\nf: nope\n");
  ASSERT_TRUE(node.ok());
  config::Section s(*node, "");
  EXPECT_EQ(s.duration_ms("a", 0), 10'000);
  EXPECT_EQ(s.bytes("b", 0), 64 << 20);
  EXPECT_TRUE(s.boolean("c", false));
  EXPECT_EQ(s.strings("d", {}), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(s.integer("e", 0), 3);
  EXPECT_EQ(s.integer("missing", 7), 7);
  auto bad = config::read([&] { return s.boolean("f", false); });
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f: expected true or false"), std::string::npos);
  EXPECT_FALSE(config::load_string("a: [").ok());
}

TEST(Exec, CapturesOutputAndExitCode) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->describe(), "exit code 3: err");
}

TEST(Exec, KillsAHangingCommandAndItsChildren) {
  ExecOptions o;
  o.timeout_ms = 300;
  auto r = run_command({"sh", "-c", "sleep 30 & sleep 30"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(r->elapsed_ms, 10'000);  // bounded, not a timing assertion on speed
}

TEST(Exec, ReportsAMissingProgram) {
  auto r = run_command({"/nonexistent/stormscope-test-binary"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
  auto out = run_for_output({"false"});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("exit code 1"), std::string::npos);
}
