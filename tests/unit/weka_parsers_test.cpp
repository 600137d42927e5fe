// The Weka parsers on the project's fixtures (tests/fixtures/weka), field by field: `weka stats` in its CLI,
// flattened and REST/JSON-RPC shapes, `weka status -J` and `weka fs -J` (CLI, REST, JSON-RPC).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/sources/weka/filesystems.h"
#include "agent/sources/weka/stats.h"
#include "agent/sources/weka/status.h"

using namespace ss::agent::weka;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SS_FIXTURES_DIR) + "/weka/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const StatValue* find(const std::vector<StatValue>& v, const std::string& cat, const std::string& stat) {
  for (const auto& s : v)
    if (s.category == cat && s.stat == stat) return &s;
  return nullptr;
}

constexpr int64_t kMinute1 = 1763697480000;  // 2025-11-21T03:58:00Z
constexpr int64_t kMinute2 = 1763697540000;  // 2025-11-21T03:59:00Z

void expect_newest_driver_values(const std::vector<StatValue>& v) {
  auto* ops = find(v, "ops_driver", "OPS");
  ASSERT_TRUE(ops);
  EXPECT_EQ(ops->value, 1510.5);
  EXPECT_EQ(ops->t_ms, kMinute2);
  auto* rl = find(v, "ops_driver", "READ_LATENCY");
  ASSERT_TRUE(rl);
  EXPECT_EQ(rl->value, 312.5);
  auto* ga = find(v, "ops_driver", "GETATTR_OPS");
  ASSERT_TRUE(ga);
  EXPECT_EQ(ga->value, 800);
  EXPECT_EQ(ga->t_ms, kMinute2);
  auto* wb = find(v, "ops_driver", "WRITE_BYTES");
  ASSERT_TRUE(wb);
  EXPECT_EQ(wb->value, 62914560);
  EXPECT_FALSE(find(v, "ops_driver", "READ_SIZES"));  // histogram
}

}  // namespace

TEST(WekaStats, CliRowsNewestMinutePerStat) {
  auto r = parse_stats(fixture("stats_cli.json"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->histograms, 1u);
  EXPECT_EQ(r->unknown_fields, 0u);
  auto v = newest_values(*r);
  expect_newest_driver_values(v);
  auto* create = find(v, "ops", "CREATE_OPS");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->value, 40);
  EXPECT_EQ(create->t_ms, kMinute2);
  // Both minutes were parsed; only the newest survives newest_values.
  size_t getattr_rows = 0;
  for (const auto& s : r->values) getattr_rows += s.stat == "GETATTR_OPS";
  EXPECT_EQ(getattr_rows, 2u);
}

TEST(WekaStats, RestTreeShape) {
  auto r = parse_stats(fixture("stats_rest_ops_driver.json"));
  ASSERT_TRUE(r) << r.error().message;
  expect_newest_driver_values(newest_values(*r));
  auto o = parse_stats(fixture("stats_rest_ops.json"));
  ASSERT_TRUE(o) << o.error().message;
  auto* mk = find(newest_values(*o), "ops", "MKDIR_OPS");
  ASSERT_TRUE(mk);
  EXPECT_EQ(mk->value, 5);
}

TEST(WekaStats, FlattenedRowsAndStringValues) {
  auto r = parse_stats(fixture("stats_flattened.json"));
  ASSERT_TRUE(r) << r.error().message;
  auto v = newest_values(*r);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(find(v, "ops", "READ_BYTES")->value, 4189934.5);
  EXPECT_EQ(find(v, "ops", "READS")->value, 12.5);
  EXPECT_EQ(find(v, "ops", "READS")->t_ms, kMinute2);
}

TEST(WekaStats, ParameterisedKeys) {
  auto r = parse_stats(fixture("stats_fs_params.json"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->values.size(), 2u);
  EXPECT_EQ(r->values[0].stat, "READS");
  EXPECT_EQ(r->values[0].param, "fS: 0");
  EXPECT_EQ(r->values[1].stat, "READ_LATENCY");
  EXPECT_EQ(r->values[1].param, "fS: 1");
  EXPECT_EQ(r->values[1].value, 450);
}

TEST(WekaStats, Errors) {
  auto r = parse_stats("[\n{\"category\": \"ops\",\n \"stat\": \"OPS\",, }\n]");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("weka stats: line 3"), std::string::npos) << r.error().message;
  auto no_time = parse_stats("[{\"category\":\"ops\",\"stat\":\"OPS\",\"value\":1,\"timestamp\":\"soon\"}]");
  ASSERT_FALSE(no_time);
  EXPECT_NE(no_time.error().message.find("row 1"), std::string::npos);
  EXPECT_FALSE(parse_stats("[{\"stat\":\"OPS\"}]"));
  EXPECT_FALSE(parse_stats("{\"all\":{\"ops\":{\"stats\":1}}}"));
  EXPECT_FALSE(parse_stats("42"));
  // Valid syntax, but beyond a double: nlohmann throws out_of_range rather than parse_error (found by fuzzing).
  auto huge = parse_stats("[{\"category\":\"ops\",\"stat\":\"OPS\",\"value\":1e999,\"timestamp\":1763697540}]");
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("weka stats: not usable JSON"), std::string::npos) << huge.error().message;
  EXPECT_FALSE(parse_status("{\"x\": -1e400}"));
  auto odd = parse_stats("[{\"category\":\"ops\",\"stat\":\"OPS\",\"value\":{\"x\":1},\"timestamp\":1763697540}]");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->unknown_fields, 1u);
}

TEST(WekaStats, ClassifyStats) {
  std::string op;
  EXPECT_EQ(classify_stat("GETATTR_OPS", op), StatKind::OpRate);
  EXPECT_EQ(op, "getattr");
  EXPECT_EQ(classify_stat("FILEATOMICOPEN_LATENCY", op), StatKind::OpLatency);
  EXPECT_EQ(op, "fileatomicopen");
  EXPECT_EQ(classify_stat("READS", op), StatKind::OpRate);
  EXPECT_EQ(op, "read");
  EXPECT_EQ(classify_stat("WRITE_LATENCY", op), StatKind::OpLatency);
  EXPECT_EQ(op, "write");
  EXPECT_EQ(classify_stat("READ_BYTES", op), StatKind::Bytes);
  EXPECT_EQ(op, "read");
  EXPECT_EQ(classify_stat("OPS", op), StatKind::Total);
  EXPECT_EQ(classify_stat("READ_LATENCY_NO_QOS", op), StatKind::Ignored);
  EXPECT_EQ(classify_stat("GETATTR_QOS_DELAY", op), StatKind::Ignored);
  EXPECT_EQ(classify_stat("THROUGHPUT", op), StatKind::Ignored);
  EXPECT_EQ(classify_stat("FANCY_NEW_STAT", op), StatKind::Unknown);
}

TEST(WekaStatus, HealthFields) {
  for (const char* name : {"status.json", "status_rest.json"}) {
    auto r = parse_status(fixture(name));
    ASSERT_TRUE(r) << r.error().message;
    const auto& s = *r;
    EXPECT_EQ(s.name, "gpu-weka");
    EXPECT_EQ(s.release, "4.4.2.157");
    EXPECT_EQ(s.status, "REBUILDING");
    EXPECT_EQ(s.io_status, "STARTED");
    EXPECT_EQ(*s.active_alerts, 3);
    EXPECT_EQ(*s.drives_active, 35);
    EXPECT_EQ(*s.drives_total, 36);
    EXPECT_EQ(*s.io_nodes_active, 24);
    EXPECT_EQ(*s.io_nodes_total, 26);
    EXPECT_EQ(*s.rebuild_progress_percent, 42);
    EXPECT_EQ(*s.unavailable_percent, 0);
    EXPECT_EQ(*s.capacity_total_bytes, 176253136637952.0);
    ASSERT_EQ(s.protection.size(), 3u);
    EXPECT_EQ(s.protection[1].failures, 1);
    EXPECT_EQ(s.protection[1].percent, 19.5);
    ASSERT_EQ(s.hanging_ios.size(), 3u);
    EXPECT_EQ(s.hanging_ios[0].kind, "backend");
    EXPECT_FALSE(s.hanging_ios[0].detected);  // cleared after it was raised
    EXPECT_EQ(s.hanging_ios[1].kind, "driver_frontend");
    EXPECT_TRUE(s.hanging_ios[1].detected);   // raised after the last all-clear
    EXPECT_FALSE(s.hanging_ios[2].detected);  // never raised
  }
}

TEST(WekaStatus, Errors) {
  EXPECT_FALSE(parse_status("[]"));
  EXPECT_FALSE(parse_status("{\"name\": \"x\"}"));
  EXPECT_FALSE(parse_status("{\"status\":\"OK\",\"rebuild\":{\"protectionState\":[{\"percent\":1}]}}"));
  auto r = parse_status("{\n\"status\": \"OK\",\n\"rebuild\": \n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("weka status: line"), std::string::npos) << r.error().message;
}

TEST(WekaFs, CliRestAndJsonRpcShapes) {
  auto cli = parse_filesystems(fixture("fs_cli.json"));
  ASSERT_TRUE(cli) << cli.error().message;
  ASSERT_EQ(cli->items.size(), 2u);
  EXPECT_EQ(cli->unknown_fields, 1u);  // brand_new_field
  EXPECT_EQ(cli->items[1].id, "1");
  EXPECT_EQ(cli->items[1].name, "default");
  EXPECT_EQ(*cli->items[1].capacity_bytes, 2420000000000.0);
  EXPECT_EQ(*cli->items[1].used_bytes, 2720000000.0);
  EXPECT_EQ(cli->items[0].name, ".config_fs");
  EXPECT_EQ(*cli->items[0].used_bytes, 172030.0);
  for (const char* name : {"fs_rest.json", "fs_jrpc.json"}) {
    auto r = parse_filesystems(fixture(name));
    ASSERT_TRUE(r) << name << ": " << r.error().message;
    ASSERT_EQ(r->items.size(), 1u);
    EXPECT_EQ(r->items[0].id, "1");
    EXPECT_EQ(r->items[0].name, "default");
    EXPECT_EQ(*r->items[0].capacity_bytes, 2420000000000.0);
    EXPECT_EQ(*r->items[0].used_bytes, 2720000000.0);
    EXPECT_EQ(r->unknown_fields, 0u);
  }
}

TEST(WekaFs, Errors) {
  EXPECT_FALSE(parse_filesystems("[{\"name\":\"a\",\"used_total\":\"2.7 GB\"}]"));
  EXPECT_FALSE(parse_filesystems("[{\"used_total\":1}]"));
  EXPECT_FALSE(parse_filesystems("\"fs\""));
  EXPECT_FALSE(parse_filesystems("[1]"));
}
