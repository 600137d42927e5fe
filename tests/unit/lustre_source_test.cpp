// End to end through the Source interface: a generated client tree with many targets and the written
// MDS+OSS tree (tests/fixtures/lustre/tree_mds_oss) read through the configurable root, with the exported
// metrics checked by name, labels and value; counter resets, job_stats bounds, lctl fallback, config errors.
#include <gtest/gtest.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "agent/sources/lustre/job_top.h"
#include "agent/sources/lustre/lustre_source.h"
#include "tests/support/lustre_tree.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::agent;
namespace fs = std::filesystem;

namespace {

using ss::testing::TempDir;

std::optional<double> value(const Collection& c, std::string_view name, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::optional<double> found;
  for (const auto& s : c.samples()) {
    if (s.name != name || *s.labels != labels) continue;
    EXPECT_FALSE(found) << "duplicate series " << series_key(name, labels);
    found = s.value;
  }
  return found;
}

size_t series_count(const Collection& c, std::string_view name) {
  size_t n = 0;
  for (const auto& s : c.samples()) n += s.name == name;
  return n;
}

LustreConfig config_for(const fs::path& root) {
  auto node = YAML::Load(fmt::format("root: {}\nlctl: ''\nenabled: true\n", root.string()));
  auto cfg = parse_lustre_config(config::Section(node, "sources.lustre"));
  EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message);
  return *cfg;
}

Collection collect(LustreSource& src, int64_t t_ms = 1'763'700'000'000) {
  Collection c(t_ms);
  auto r = src.collect(c);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return c;
}

void every_sample_is_described(const Collection& c) {
  for (const auto& s : c.samples()) EXPECT_NE(c.family_of(s.name), nullptr) << s.name;
}

}  // namespace

TEST(LustreSourceClient, ManyTargetsEndToEnd) {
  TempDir root;
  lustre_tree::LustreClientSpec spec;
  spec.osts = 96;
  spec.mdts = 4;
  spec.disconnected_ost = 5;
  lustre_tree::write_lustre_client_tree(root.path, spec);
  LustreSource src(config_for(root.path));
  Collection c = collect(src);
  every_sample_is_described(c);

  EXPECT_EQ(series_count(c, "lustre_client_rpcs_total"), 100u);
  EXPECT_EQ(series_count(c, "lustre_client_rpc_wait_seconds_total"), 100u);
  for (int i : {0, 42, 95}) {
    Labels l{{"fs", "ai0"}, {"target", lustre_tree::target_name("ai0", "OST", i)}};
    EXPECT_EQ(value(c, "lustre_client_rpcs_total", l), lustre_tree::tree_rpcs(i));
    EXPECT_NEAR(*value(c, "lustre_client_rpc_wait_seconds_total", l), lustre_tree::tree_wait_us(i) * 1e-6, 1e-9);
    Labels w = l;
    w.emplace_back("op", "write");
    EXPECT_EQ(value(c, "lustre_client_bytes_total", w), lustre_tree::tree_write_bytes(i));
    w.back().second = "read";
    EXPECT_EQ(value(c, "lustre_client_bytes_total", w), 12288);
    Labels op = l;
    op.emplace_back("op", "ost_write");
    EXPECT_EQ(value(c, "lustre_client_ops_total", op), i + 1);
    EXPECT_NEAR(*value(c, "lustre_client_op_wait_seconds_total", op), (i + 1) * 1000 * 1e-6, 1e-12);
    op.back().second = "ldlm_extent_enqueue";
    EXPECT_EQ(value(c, "lustre_client_ops_total", op), i + 1);
    op.back().second = "req_active";
    EXPECT_FALSE(value(c, "lustre_client_ops_total", op));
    EXPECT_EQ(value(c, "lustre_target_capacity_bytes", l), lustre_tree::tree_kbytes_total(i) * 1024.0);
    EXPECT_EQ(value(c, "lustre_target_available_bytes", l), (lustre_tree::tree_kbytes_total(i) / 2) * 1024.0);
    EXPECT_EQ(value(c, "lustre_target_free_bytes", l), (lustre_tree::tree_kbytes_total(i) / 2 + 10) * 1024.0);
    EXPECT_EQ(value(c, "lustre_target_inodes", l), 5000 + i);
    EXPECT_EQ(value(c, "lustre_target_inodes_free", l), 4000 + i);
    EXPECT_EQ(value(c, "lustre_client_rpcs_in_flight", l), lustre_tree::tree_inflight(i));
    EXPECT_EQ(value(c, "lustre_client_rpc_timeouts_total", l), i % 3);
    EXPECT_EQ(value(c, "lustre_client_import_state", l), i % 5 == 4 ? 11 : 9);
    EXPECT_EQ(value(c, "lustre_client_import_healthy", l), 1);
    Labels io = l;
    io.emplace_back("op", "write");
    EXPECT_EQ(value(c, "lustre_client_io_rpcs_in_flight", io), i % 9);
    EXPECT_EQ(value(c, "lustre_client_pending_pages", io), i * 256);
    std::string dev = lustre_tree::target_name("ai0", "OST", i) + "-osc-" + spec.instance;
    EXPECT_EQ(value(c, "lustre_ldlm_locks", {{"namespace", dev}, {"fs", "ai0"}, {"target", l[1].second}}), 10 * i);
  }
  Labels bad{{"fs", "ai0"}, {"target", "ai0-OST0005"}};
  EXPECT_EQ(value(c, "lustre_client_import_state", bad), 3);  // DISCONN
  EXPECT_EQ(value(c, "lustre_client_import_healthy", bad), 0);

  Labels mdt{{"fs", "ai0"}, {"target", "ai0-MDT0002"}};
  EXPECT_EQ(value(c, "lustre_client_rpcs_total", mdt), lustre_tree::tree_rpcs(2));
  EXPECT_EQ(value(c, "lustre_client_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "mds_getattr"}}), 13);
  EXPECT_EQ(value(c, "lustre_client_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "ldlm_ibits_enqueue"}}), 9);
  EXPECT_EQ(value(c, "lustre_client_md_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "intent_lock"}}), 300);
  EXPECT_EQ(value(c, "lustre_client_md_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "close"}}), 5);
  EXPECT_EQ(value(c, "lustre_client_io_rpcs_in_flight", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "write"}}), std::nullopt);
  EXPECT_EQ(value(c, "lustre_client_io_rpcs_in_flight", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "modify"}}), 2);
  EXPECT_FALSE(value(c, "lustre_client_pending_pages", {{"fs", "ai0"}, {"target", "ai0-MDT0002"}, {"op", "modify"}}));

  EXPECT_EQ(value(c, "lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "open"}}), 45);
  EXPECT_EQ(value(c, "lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "read"}}), 3);  // the latency line
  EXPECT_EQ(value(c, "lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "ioctl"}}), 273);
  EXPECT_NEAR(*value(c, "lustre_client_llite_op_seconds_total", {{"fs", "ai0"}, {"op", "getattr"}}), 0.119527, 1e-12);
  EXPECT_EQ(value(c, "lustre_client_llite_bytes_total", {{"fs", "ai0"}, {"op", "write"}}), 176653);
  EXPECT_EQ(value(c, "lustre_ldlm_locks", {{"namespace", "MGC10.0.0.1@o2ib"}}), 3);
  EXPECT_EQ(value(c, "stormscope_lustre_skipped_lines_total", {}), 0);
  EXPECT_EQ(series_count(c, "lustre_mdt_ops_total"), 0u);  // not a server
}

TEST(LustreSourceClient, StatsClearedShowsAsResetNeverNegative) {
  TempDir root;
  lustre_tree::LustreClientSpec spec;
  spec.osts = 2;
  lustre_tree::write_lustre_client_tree(root.path, spec);
  LustreSource src(config_for(root.path));
  Labels l{{"fs", "ai0"}, {"target", "ai0-OST0001"}};
  EXPECT_EQ(value(collect(src), "lustre_client_rpcs_total", l), 1001);
  // `lctl set_param osc.*.stats=clear`: the counters restart from zero; the series drops to the new
  // value (a reset Prometheus and the collector recognise), no delta is invented.
  auto stats = root.path / "sys/kernel/debug/lustre/osc/ai0-OST0001-osc-ffff9a1b2c3d4000/stats";
  lustre_tree::write_text(stats, "snapshot_time 1760000010.0 secs.nsecs\nreq_waittime 4 samples [usecs] 1 2 6 10\n");
  Collection c = collect(src, 1'763'700'010'000);
  EXPECT_EQ(value(c, "lustre_client_rpcs_total", l), 4);
  EXPECT_NEAR(*value(c, "lustre_client_rpc_wait_seconds_total", l), 6e-6, 1e-15);
  // Lines that disappear (count back to 0) are not exported rather than exported as a fake value.
  EXPECT_FALSE(value(c, "lustre_client_ops_total", {{"fs", "ai0"}, {"target", "ai0-OST0001"}, {"op", "ost_write"}}));
  for (const auto& s : c.samples()) EXPECT_GE(s.value, 0) << s.name;
}

TEST(LustreSourceClient, SlowFilesAreReadASliceAtATimeAndExportedEveryCycle) {
  TempDir root;
  lustre_tree::LustreClientSpec spec;
  spec.osts = 40;
  lustre_tree::write_lustre_client_tree(root.path, spec);
  LustreConfig cfg = config_for(root.path);
  cfg.capacity_interval_ms = 30'000;  // three slices on a 10 s agent
  cfg.state_interval_ms = 30'000;
  cfg.agent_interval_ms = 10'000;
  LustreSource src(cfg);
  const int64_t t0 = 1'763'700'000'000;
  auto sys = root.path / "sys/fs/lustre/osc";
  auto proc = root.path / "proc/fs/lustre/osc";
  auto device = [&](int i) { return lustre_tree::target_name("ai0", "OST", i) + "-osc-" + spec.instance; };
  auto target = [](int i) { return Labels{{"fs", "ai0"}, {"target", lustre_tree::target_name("ai0", "OST", i)}}; };

  Collection first = collect(src, t0);  // the first cycle reads every target
  EXPECT_EQ(series_count(first, "lustre_target_capacity_bytes"), 41u);
  EXPECT_EQ(series_count(first, "lustre_client_import_state"), 41u);

  for (int i = 0; i < 40; ++i) {
    lustre_tree::write_text(sys / device(i) / "kbytestotal", "7\n");
    auto import = proc / device(i) / "import";
    std::ifstream in(import);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    size_t at = text.find("state: ") + 7;
    text.replace(at, text.find('\n', at) - at, "EVICTED");
    lustre_tree::write_text(import, text);
  }
  fs::remove_all(sys / device(39));  // a target whose capacity files vanish loses its series within the interval
  size_t updated_before = 0;
  for (int cycle = 1; cycle <= 3; ++cycle) {
    Collection c = collect(src, t0 + cycle * 10'000);
    every_sample_is_described(c);
    size_t updated = 0, evicted = 0;
    for (int i = 0; i < 39; ++i) {
      auto cap = value(c, "lustre_target_capacity_bytes", target(i));
      ASSERT_TRUE(cap) << "cycle " << cycle << " target " << i;  // re-exported between reads
      if (*cap == 7 * 1024.0) ++updated;
      else EXPECT_EQ(*cap, lustre_tree::tree_kbytes_total(i) * 1024.0);
      auto state = value(c, "lustre_client_import_state", target(i));
      ASSERT_TRUE(state);
      evicted += *state == 10;  // EVICTED
    }
    EXPECT_GE(updated, updated_before);
    if (cycle == 1) {
      EXPECT_LT(updated, 39u) << "one slice per cycle, not all targets at once";
    }
    updated_before = updated;
    if (cycle == 3) {
      EXPECT_EQ(updated, 39u);
      EXPECT_EQ(evicted, 40u - 1u);
      EXPECT_FALSE(value(c, "lustre_target_capacity_bytes", target(39)));
      EXPECT_EQ(series_count(c, "lustre_target_capacity_bytes"), 40u);
    }
  }
}

TEST(LustreSourceClient, TwoMountsOfOneFileSystemSumPerTarget) {
  TempDir root;
  lustre_tree::LustreClientSpec a, b;
  a.osts = b.osts = 1;
  b.instance = "ffff000000000001";
  lustre_tree::write_lustre_client_tree(root.path, a);
  lustre_tree::write_lustre_client_tree(root.path, b);
  LustreSource src(config_for(root.path));
  Collection c = collect(src);
  EXPECT_EQ(value(c, "lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}), 2000);
  EXPECT_EQ(value(c, "lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "open"}}), 90);
  EXPECT_EQ(value(c, "lustre_target_capacity_bytes", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}), 1'000'000 * 1024.0);
}

namespace {

LustreConfig server_config(const fs::path& root, int top_k) {
  auto node = YAML::Load(fmt::format("root: {}\nlctl: ''\njob_stats: {{enabled: true, top_k: {}}}\n", root.string(), top_k));
  auto cfg = parse_lustre_config(config::Section(node, "sources.lustre"));
  EXPECT_TRUE(cfg.ok());
  return *cfg;
}

fs::path copy_server_tree(const fs::path& to) {
  fs::copy(fs::path(SS_FIXTURES_DIR) / "lustre/tree_mds_oss", to, fs::copy_options::recursive);
  return to;
}

}  // namespace

TEST(LustreSourceServer, MdsOssTreeEndToEnd) {
  TempDir root;
  copy_server_tree(root.path);
  LustreSource src(server_config(root.path, 2));
  Collection c = collect(src);
  every_sample_is_described(c);
  Labels mdt{{"fs", "ai0"}, {"target", "ai0-MDT0000"}};
  auto with_op = [](Labels l, std::string op) {
    l.emplace_back("op", std::move(op));
    return l;
  };
  EXPECT_EQ(value(c, "lustre_mdt_ops_total", with_op(mdt, "open")), 45);
  EXPECT_EQ(value(c, "lustre_mdt_ops_total", with_op(mdt, "getattr")), 130);
  EXPECT_NEAR(*value(c, "lustre_mdt_op_seconds_total", with_op(mdt, "mknod")), 3796e-6, 1e-12);
  Labels ost0{{"fs", "ai0"}, {"target", "ai0-OST0000"}}, ost1{{"fs", "ai0"}, {"target", "ai0-OST0001"}};
  EXPECT_EQ(value(c, "lustre_ost_bytes_total", with_op(ost0, "write")), 32854);
  EXPECT_EQ(value(c, "lustre_ost_bytes_total", with_op(ost0, "read")), 4096);
  EXPECT_EQ(value(c, "lustre_ost_ops_total", with_op(ost0, "statfs")), 13000);
  EXPECT_NEAR(*value(c, "lustre_ost_op_seconds_total", with_op(ost0, "write")), 181e-6, 1e-12);
  EXPECT_EQ(value(c, "lustre_ost_bytes_total", with_op(ost1, "write")), 16552048697344.0);
  EXPECT_EQ(value(c, "lustre_ost_ops_total", with_op(ost1, "statfs")), 35359 + 124430);  // 2.10 prints it twice
  EXPECT_FALSE(value(c, "lustre_ost_op_seconds_total", with_op(ost1, "punch")));      // count-only [reqs]

  EXPECT_EQ(value(c, "lustre_service_requests_total", {{"service", "mdt"}}), 105101);
  EXPECT_NEAR(*value(c, "lustre_service_request_wait_seconds_total", {{"service", "mdt"}}), 3.367224, 1e-9);
  EXPECT_EQ(value(c, "lustre_service_requests_total", {{"service", "ost_io"}}), 4298835);
  EXPECT_NEAR(*value(c, "lustre_service_request_wait_seconds_total", {{"service", "ost_io"}}), 135.895464, 1e-9);
  EXPECT_EQ(value(c, "lustre_service_requests_total", {{"service", "ldlm_canceld"}}), 70);
  EXPECT_EQ(value(c, "lustre_service_ops_total", {{"service", "mdt"}, {"op", "mds_reint_open"}}), 58);
  EXPECT_NEAR(*value(c, "lustre_service_op_seconds_total", {{"service", "ost_io"}, {"op", "ost_write"}}), 13836.421716, 1e-6);
  EXPECT_FALSE(value(c, "lustre_service_queue_depth", {{"service", "mdt"}}));  // needs two reads

  EXPECT_EQ(value(c, "lustre_target_capacity_bytes", mdt), 2602832 * 1024.0);
  EXPECT_EQ(value(c, "lustre_target_available_bytes", ost1), 1000 * 1024.0);
  EXPECT_EQ(value(c, "lustre_target_inodes_free", ost0), 40592);
  EXPECT_EQ(series_count(c, "lustre_target_capacity_bytes"), 3u);  // MGS has no target name
  EXPECT_EQ(value(c, "lustre_ldlm_locks", {{"namespace", "mdt-ai0-MDT0000_UUID"}, {"fs", "ai0"}, {"target", "ai0-MDT0000"}}), 24);

  // job_stats, top 2 by ops: 4711 (500) and train:bob (250); ls.0 and vim.1000 go to "other".
  auto job = [&](std::string j, std::string op) { return with_op({{"fs", "ai0"}, {"target", "ai0-MDT0000"}, {"job", std::move(j)}}, std::move(op)); };
  EXPECT_EQ(value(c, "lustre_job_ops_total", job("4711", "open")), 400);
  EXPECT_EQ(value(c, "lustre_job_ops_total", job("4711", "getattr")), 100);
  EXPECT_FALSE(value(c, "lustre_job_ops_total", job("4711", "close")));  // zero counters are not exported
  EXPECT_EQ(value(c, "lustre_job_ops_total", job("train:bob", "getattr")), 200);
  EXPECT_FALSE(value(c, "lustre_job_ops_total", job("ls.0", "open")));
  EXPECT_EQ(value(c, "lustre_job_ops_total", job("other", "open")), 4);
  EXPECT_EQ(value(c, "lustre_job_ops_total", job("other", "getattr")), 6);
  EXPECT_EQ(value(c, "lustre_job_ops_total",
                  with_op({{"fs", "ai0"}, {"target", "ai0-OST0000"}, {"job", "4711"}}, "write")), 64575)
      << "2.10's OST job_stats has only write_bytes: its samples are the writes";
  EXPECT_EQ(series_count(c, "lustre_client_rpcs_total"), 0u);  // not a client

  // Second read: the MDT service saw 1000 more requests with a summed queue depth of 3000 → mean 3;
  // ls.0 becomes the busiest job and takes a top-2 place, 4711 falls back into "other".
  auto dbg = root.path / "sys/kernel/debug/lustre/mds/MDS/mdt/stats";
  std::string s;
  {
    std::ifstream in(dbg);
    s.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto replace = [&](std::string& text, const std::string& from, const std::string& to) {
    auto p = text.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    text.replace(p, from.size(), to);
  };
  replace(s, "req_qdepth                105101 samples [reqs] 0 4 1000 2000",
          "req_qdepth                106101 samples [reqs] 0 9 4000 2000");
  lustre_tree::write_text(dbg, s);
  auto js_path = root.path / "proc/fs/lustre/mdt/ai0-MDT0000/job_stats";
  std::string js;
  {
    std::ifstream in(js_path);
    js.assign(std::istreambuf_iterator<char>(in), {});
  }
  replace(js, "open:            { samples:         400,", "open:            { samples:         401,");
  replace(js, "open:            { samples:           3,", "open:            { samples:        1003,");
  replace(js, "getattr:         { samples:         200,", "getattr:         { samples:         300,");
  lustre_tree::write_text(js_path, js);
  Collection c2 = collect(src, 1'763'700'010'000);
  EXPECT_EQ(value(c2, "lustre_service_queue_depth", {{"service", "mdt"}}), 3.0);
  EXPECT_EQ(value(c2, "lustre_service_active_requests", {{"service", "mdt"}}), 0.0);  // req_active did not move
  EXPECT_EQ(value(c2, "lustre_job_ops_total", job("ls.0", "open")), 1003);
  EXPECT_EQ(value(c2, "lustre_job_ops_total", job("train:bob", "getattr")), 300);
  EXPECT_FALSE(value(c2, "lustre_job_ops_total", job("4711", "open")));
  // "other" only grows: it had ls.0 + vim (4 opens); now 4711's one new open joins it.
  EXPECT_EQ(value(c2, "lustre_job_ops_total", job("other", "open")), 5);
  EXPECT_EQ(value(c2, "lustre_job_ops_total", job("other", "getattr")), 6);
}

TEST(LustreSourceServer, ExportsGiveTopClientsPerTargetAndOther) {
  TempDir root;
  const std::string mdt = "proc/fs/lustre/mdt/ai0-MDT0000/";
  root.write(mdt + "md_stats", "snapshot_time 1.0 secs.nsecs\nopen 1 samples [usecs] 1 1 1 1\n");
  auto client = [&](const std::string& nid, int open, int getattr) {
    root.write(mdt + "exports/" + nid + "/stats",
               fmt::format("snapshot_time 1.0 secs.nsecs\nopen {} samples [usecs] 1 9 9 9\n"
                           "getattr {} samples [usecs] 1 9 9 9\nread_bytes 3 samples [bytes] 1 9 9 9\n",
                           open, getattr));
  };
  client("10.0.0.1@tcp", 100, 50);
  client("10.0.0.2@tcp", 5, 0);
  root.write(mdt + "exports/clear", "");  // the write-only file beside the clients
  auto node = YAML::Load(fmt::format("root: {}\nlctl: ''\nenabled: true\nexports: {{mdt: true, top_k: 1, interval: 0s}}\n",
                                     root.str()));
  auto cfg = parse_lustre_config(config::Section(node, "sources.lustre"));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  LustreSource src(*cfg);
  auto ops = [](const Collection& c, const std::string& client, const std::string& op) {
    return value(c, "lustre_export_ops_total", {{"client", client}, {"fs", "ai0"}, {"op", op}, {"target", "ai0-MDT0000"}});
  };
  // The first cycle learns the targets; their exports are read from the next.
  EXPECT_EQ(series_count(collect(src), "lustre_export_ops_total"), 0u);
  auto second = collect(src, 1'763'700'010'000);
  every_sample_is_described(second);
  EXPECT_EQ(ops(second, "10.0.0.1@tcp", "open"), 100);
  EXPECT_EQ(ops(second, "10.0.0.1@tcp", "getattr"), 50);
  EXPECT_EQ(ops(second, "other", "open"), 5) << "the client outside the top 1 goes into other";
  EXPECT_EQ(ops(second, "10.0.0.1@tcp", "read"), 3) << "a read_bytes line without a read line counts as reads";
  EXPECT_FALSE(ops(second, "10.0.0.1@tcp", "read_bytes"));
  EXPECT_FALSE(ops(second, "clear", "open"));

  client("10.0.0.2@tcp", 505, 0);  // now the busiest: it takes the place
  auto third = collect(src, 1'763'700'020'000);
  EXPECT_EQ(ops(third, "10.0.0.2@tcp", "open"), 505);
  EXPECT_FALSE(ops(third, "10.0.0.1@tcp", "open"));
  EXPECT_GE(ops(third, "other", "open").value_or(0), 5) << "other never goes down";
}

TEST(LustreSourceServer, JobStatsWorkCapStopsTheRead) {
  TempDir root;
  copy_server_tree(root.path);
  auto node = YAML::Load(fmt::format("root: {}\nlctl: ''\njob_stats: {{enabled: true, top_k: 10, max_jobs: 2}}\n", root.path.string()));
  auto cfg = parse_lustre_config(config::Section(node, "sources.lustre"));
  ASSERT_TRUE(cfg.ok());
  LustreSource src(*cfg);
  Collection c = collect(src);
  auto job = [&](std::string j) {
    return value(c, "lustre_job_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0000"}, {"job", std::move(j)}, {"op", "open"}});
  };
  EXPECT_EQ(job("4711"), 400);
  EXPECT_EQ(job("train:bob"), 50);
  EXPECT_FALSE(job("ls.0"));  // beyond the cap: not parsed this cycle
  EXPECT_FALSE(job("other"));
  EXPECT_EQ(value(c, "stormscope_lustre_job_stats_truncated_total", {}), 1);
}

namespace {

// The fallback needs a debugfs the agent cannot read. As root, permissions do not stop us, so the check
// runs in a child process (a gtest death-test fork) that drops to nobody first.
void become_unprivileged() {
  if (::geteuid() != 0) return;
  if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
    std::fprintf(stderr, "cannot drop privileges\n");
    std::exit(3);
  }
}

#define CHILD_CHECK(cond)                                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
      std::exit(1);                                                   \
    }                                                                 \
  } while (0)

// A tree only root can enter in debugfs, readable elsewhere by anyone.
void prepare_denied_tree(const fs::path& root, int osts) {
  lustre_tree::LustreClientSpec spec;
  spec.osts = osts;
  lustre_tree::write_lustre_client_tree(root, spec);
  fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(root / "sys/kernel/debug", fs::perms::none);
}

}  // namespace

TEST(LustreSourceFallback, UnreadableDebugfsGoesToLctl) {
  // "fast": the child is forked where it stands and shares the parent's TempDir, which the parent removes
  // ("threadsafe" re-ran the test from its start in the child, whose own TempDir was never removed).
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir root;
  prepare_denied_tree(root.path, 2);
  // A fake lctl that records its arguments and prints 2.16 -H style output for one osc.
  auto lctl = root.path / "lctl";
  auto args = root.path / "args";
  lustre_tree::write_text(args, "");
  fs::permissions(args, fs::perms::all);
  lustre_tree::write_text(lctl, fmt::format(
      "#!/bin/sh\necho \"$@\" > {}\n"
      "echo 'osc.ai0-OST0000-osc-ffff9a1b2c3d4000.stats=snapshot_time 1.0 secs.nsecs'\n"
      "echo 'osc.ai0-OST0000-osc-ffff9a1b2c3d4000.stats=req_waittime 77 samples [usecs] 1 2 770 9'\n"
      "echo 'llite.ai0-ffff9a1b2c3d4000.stats='\necho 'open 5 samples [usecs] 1 2 9 9'\n",
      args.string()));
  fs::permissions(lctl, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  auto node = YAML::Load(fmt::format("root: {}\nlctl: {}\nlctl_timeout: 5s\n", root.path.string(), lctl.string()));
  auto cfg = parse_lustre_config(config::Section(node, "sources.lustre"));
  ASSERT_TRUE(cfg.ok());
  EXPECT_EXIT(
      {
        become_unprivileged();
        LustreSource src(*cfg);
        Collection c(1'763'700'000'000);
        auto r = src.collect(c);
        if (!r.ok()) std::fprintf(stderr, "collect: %s\n", r.error().message.c_str());
        CHILD_CHECK(r.ok());
        CHILD_CHECK(value(c, "lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}) == 77);
        CHILD_CHECK(value(c, "lustre_client_llite_ops_total", {{"fs", "ai0"}, {"op", "open"}}) == 5);
        CHILD_CHECK(value(c, "lustre_client_import_state", {{"fs", "ai0"}, {"target", "ai0-OST0001"}}) == 9);
        CHILD_CHECK(value(c, "stormscope_lustre_lctl_runs_total", {}) == 1);
        std::ifstream in(args);
        std::string line;
        std::getline(in, line);
        if (line != "get_param osc.*.stats mdc.*.stats llite.*.stats") std::fprintf(stderr, "lctl args: %s\n", line.c_str());
        CHILD_CHECK(line == "get_param osc.*.stats mdc.*.stats llite.*.stats");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  fs::permissions(root.path / "sys/kernel/debug", fs::perms::owner_all);
}

TEST(LustreSourceFallback, LctlOffReportsTheUnreadableParameter) {
  // "fast": the child is forked where it stands and shares the parent's TempDir, which the parent removes
  // ("threadsafe" re-ran the test from its start in the child, whose own TempDir was never removed).
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir root;
  prepare_denied_tree(root.path, 1);
  LustreConfig cfg = config_for(root.path);
  EXPECT_EXIT(
      {
        become_unprivileged();
        LustreSource src(cfg);
        Collection c(1'763'700'000'000);
        auto r = src.collect(c);
        CHILD_CHECK(!r.ok());
        std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
        // Partial output is kept: import comes from procfs.
        CHILD_CHECK(value(c, "lustre_client_import_state", {{"fs", "ai0"}, {"target", "ai0-OST0000"}}) == 9);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "osc\\.\\*\\.stats not readable \\(debugfs needs root\\) and the lctl fallback is off");
  fs::permissions(root.path / "sys/kernel/debug", fs::perms::owner_all);
}

TEST(LustreConfig, DefaultsErrorsAndAuto) {
  auto parse = [](const std::string& yaml) {
    return parse_lustre_config(config::Section(YAML::Load(yaml.empty() ? "{}" : yaml), "sources.lustre"));
  };
  auto d = parse("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->enabled, Switch::Auto);
  EXPECT_EQ(d->reader.root, "/");
  EXPECT_EQ(d->reader.lctl, "lctl");
  EXPECT_EQ(d->reader.lctl_timeout_ms, 5000);
  EXPECT_FALSE(d->job_stats.enabled);
  EXPECT_EQ(d->job_stats.top_k, 20u);
  EXPECT_EQ(d->reader.keep_open, lustre::KeepOpen::Auto);
  EXPECT_EQ(parse("keep_open: false\n")->reader.keep_open, lustre::KeepOpen::Off);
  EXPECT_EQ(d->discovery_interval_ms, 60'000);
  EXPECT_FALSE(parse("discovery_interval: soon\n").ok());
  EXPECT_FALSE(d->exports.mdt);
  EXPECT_FALSE(parse("exports: {top_k: -1}\n").ok());
  EXPECT_FALSE(parse("exports: {nids: true}\n").ok());
  auto bad_keep = parse("keep_open: sometimes\n");
  ASSERT_FALSE(bad_keep.ok());
  EXPECT_NE(bad_keep.error().message.find("sources.lustre.keep_open"), std::string::npos) << bad_keep.error().message;
  auto bad = parse("rooot: /x\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("sources.lustre.rooot: unknown key"), std::string::npos) << bad.error().message;
  auto bad_job = parse("job_stats: {top_k: many}\n");
  ASSERT_FALSE(bad_job.ok());
  EXPECT_NE(bad_job.error().message.find("sources.lustre.job_stats.top_k"), std::string::npos);
  EXPECT_FALSE(parse("enabled: maybe\n").ok());
  EXPECT_FALSE(parse("root: relative/path\n").ok());
  EXPECT_FALSE(parse("job_stats: {max_jobs: 0}\n").ok());

  TempDir empty;
  AgentContext ctx;
  auto off = make_lustre_source(config::Section(YAML::Load(fmt::format("root: {}", empty.path.string())), "sources.lustre"), ctx);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->get(), nullptr);  // auto and no Lustre tree
  auto disabled = make_lustre_source(config::Section(YAML::Load("enabled: false"), "sources.lustre"), ctx);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->get(), nullptr);
  lustre_tree::write_lustre_client_tree(empty.path, {});
  auto on = make_lustre_source(config::Section(YAML::Load(fmt::format("root: {}", empty.path.string())), "sources.lustre"), ctx);
  ASSERT_TRUE(on.ok());
  ASSERT_NE(on->get(), nullptr);
  EXPECT_EQ((*on)->name(), "lustre");
}

TEST(LustreJobTopK, IdleTopJobsKeepTheirSeriesAndOtherNeverDrops) {
  using lustre::Job;
  using lustre::JobCounter;
  auto job = [](std::string id, uint64_t opens) {
    Job j;
    j.id = std::move(id);
    JobCounter c;
    c.op = "open";
    c.samples = opens;
    j.counters.push_back(c);
    return j;
  };
  lustre::JobTopK top(1);
  auto read = [&](std::vector<Job> jobs, int64_t t) {
    for (const auto& j : jobs) top.add(j, t);
    std::map<std::string, double> rows;
    for (auto& r : top.finish(t)) rows[r.job] = r.value;
    return rows;
  };
  auto r1 = read({job("a", 10), job("b", 5)}, 1);
  EXPECT_EQ(r1, (std::map<std::string, double>{{"a", 10}, {"other", 5}}));
  auto r2 = read({job("a", 10), job("b", 5)}, 2);  // nobody moved: "a" keeps its place
  EXPECT_EQ(r2, r1);
  auto r3 = read({job("a", 11), job("b", 9)}, 3);  // b +4 beats a +1
  EXPECT_EQ(r3, (std::map<std::string, double>{{"b", 9}, {"other", 6}}));
  auto r4 = read({job("a", 2), job("b", 9)}, 4);  // a was cleared and re-created: +2, b idle
  EXPECT_EQ(r4, (std::map<std::string, double>{{"a", 2}, {"other", 6}}));  // a's +2 > b's 0; b's 0 adds nothing
  auto r5 = read({job("c", 1)}, 4 + 31 * 60 * 1000);  // a and b vanished; c is new
  EXPECT_EQ(r5, (std::map<std::string, double>{{"c", 1}, {"other", 6}}));
  EXPECT_EQ(top.tracked_jobs(), 1u);  // a and b forgotten after 30 minutes unseen
}

TEST(LustreJobTopK, BytesLinesCountAsReadsAndWritesOnlyWithoutTheirOwnLine) {
  using lustre::Job;
  using lustre::JobCounter;
  auto job = [](std::string id, std::vector<std::pair<std::string, uint64_t>> counters) {
    Job j;
    j.id = std::move(id);
    for (auto& [op, n] : counters) {
      JobCounter c;
      c.op = op;
      c.samples = n;
      j.counters.push_back(c);
    }
    return j;
  };
  lustre::JobTopK top(2);
  // 2.16: write (6) and write_bytes (6 samples) are the same six writes. 2.10: write_bytes alone.
  top.add(job("new", {{"write", 6}, {"write_bytes", 6}, {"read_bytes", 0}, {"read", 0}, {"punch", 1}}), 1);
  top.add(job("old", {{"write_bytes", 25}, {"read_bytes", 3}, {"punch", 2}}), 1);
  std::map<std::pair<std::string, std::string>, double> rows;
  for (auto& r : top.finish(1)) rows[{r.job, r.op}] = r.value;
  EXPECT_EQ(rows, (std::map<std::pair<std::string, std::string>, double>{
                      {{"new", "write"}, 6}, {{"new", "punch"}, 1}, {{"old", "write"}, 25}, {{"old", "read"}, 3},
                      {{"old", "punch"}, 2}}));
}
