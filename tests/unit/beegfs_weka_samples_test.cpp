// Parses every applicable BeeGFS and Weka sample under ../shared/formats (real output from documentation,
// comments and test fixtures, plus BeeGFS layouts reconstructed from its format strings). Skips when the
// shared folder is absent. Samples pasted into comments carry "# " prefixes and shell prompts: those are
// removed here, the parsers themselves see only tool output.
#include <gtest/gtest.h>

#include "tests/support/skip.h"
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/sources/beegfs/clientstats.h"
#include "agent/sources/beegfs/serverstats.h"
#include "agent/sources/beegfs/targets.h"
#include "agent/sources/weka/filesystems.h"
#include "agent/sources/weka/stats.h"
#include "agent/sources/weka/status.h"

using namespace ss::agent;

namespace {

const std::string kFormats = std::string(SS_SHARED_DIR) + "/formats";

#define SKIP_WITHOUT_SHARED()                                                     \
  if (!std::filesystem::exists(kFormats))                                         \
  SS_SKIP_NO_SHARED_SAMPLES() << kFormats << " is absent"

std::string sample(const std::string& rel) {
  std::ifstream in(kFormats + "/" + rel);
  EXPECT_TRUE(in) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Removes comment prefixes ("# ", "  # ") and drops shell prompts and "cmd:" notes.
std::string tool_output(const std::string& text) {
  std::stringstream in(text), out;
  std::string line;
  while (std::getline(in, line)) {
    size_t i = line.find_first_not_of(' ');
    if (i != std::string::npos && line[i] == '#') {
      line = line.substr(i + 1);
      if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    }
    if (line.find("$ ") != std::string::npos && (line.starts_with("[") || line.starts_with("$"))) continue;
    if (line.find(" cmd: ") != std::string::npos) continue;
    out << line << "\n";
  }
  return out.str();
}

// "### title" sections of the reconstructed layout files.
std::vector<std::pair<std::string, std::string>> sections(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("### ")) out.emplace_back(line.substr(4), "");
    else if (!out.empty()) out.back().second += line + "\n";
  }
  return out;
}

double op(const beegfs::ClientOps& e, const std::string& name) {
  for (const auto& [n, v] : e.ops)
    if (n == name) return v;
  return -1;
}

}  // namespace

TEST(BeegfsSamples, BeegfsDf) {
  SKIP_WITHOUT_SHARED();
  struct Case {
    const char* file;
    size_t meta, storage;
    double first_total_gib;
  } cases[] = {{"beegfs/beegfs7x_beegfs-df_example_abci-docs.txt", 2, 4, 1489.7},
               {"beegfs/beegfs7x_beegfs-df_example_azurehpc-beegfs_pools.txt", 2, 4, 1787.6},
               {"beegfs/beegfs-df_example_legacy-Pool-header_githubfoam-sandbox.txt", 1, 1, 41.0}};
  for (const auto& c : cases) {
    auto r = beegfs::parse_ctl_targets(tool_output(sample(c.file)), "");
    ASSERT_TRUE(r) << c.file << ": " << r.error().message;
    size_t meta = 0, storage = 0;
    for (const auto& row : r->rows) (row.nodetype == "meta" ? meta : storage)++;
    EXPECT_EQ(meta, c.meta) << c.file;
    EXPECT_EQ(storage, c.storage) << c.file;
    EXPECT_DOUBLE_EQ(*r->rows[0].total_bytes, c.first_total_gib * 1073741824.0) << c.file;
    EXPECT_EQ(r->unknown_fields, 0u) << c.file;
  }
  auto azure = beegfs::parse_ctl_targets(tool_output(sample(cases[1].file)), "");
  ASSERT_TRUE(azure);
  EXPECT_EQ(azure->rows[2].target, "1");
  EXPECT_DOUBLE_EQ(*azure->rows[2].total_bytes, 4093.7 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*azure->rows[2].inodes_free, 409.6e6);
  auto legacy = beegfs::parse_ctl_targets(tool_output(sample(cases[2].file)), "");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->rows[1].cap_pool, "low");
  EXPECT_DOUBLE_EQ(*legacy->rows[1].free_bytes, 39.6 * 1073741824.0);
}

TEST(BeegfsSamples, ListTargetsWithMirrorGroupsAndLongNodes) {
  SKIP_WITHOUT_SHARED();
  auto r = beegfs::parse_ctl_targets(
      tool_output(sample("beegfs/beegfs7x_listtargets_meta_state_longnodes_spaceinfo_mirrorgroups_fredhutch_shcomment.txt")),
      "meta");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].target, "21");
  EXPECT_EQ(r->rows[0].reachability, "Offline");
  EXPECT_EQ(r->rows[0].consistency, "Good");
  EXPECT_DOUBLE_EQ(*r->rows[0].total_bytes, 662.9 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*r->rows[1].free_bytes, 531.8 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*r->rows[0].inodes, 1327.4e6);
  EXPECT_EQ(r->rows[1].node, "beegfs-meta thorium-meta-11 [ID: 11]");

  auto layouts = sections(sample("beegfs-reconstructed/RECONSTRUCTED_beegfs74_ctl_listtargets_state_pools_spaceinfo_longnodes.txt"));
  ASSERT_EQ(layouts.size(), 1u);
  auto rec = beegfs::parse_ctl_targets(layouts[0].second, "storage");
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_EQ(rec->rows.size(), 3u);
  EXPECT_EQ(rec->rows[1].reachability, "Probably-offline");
  EXPECT_EQ(rec->rows[1].cap_pool, "low");
  EXPECT_EQ(rec->rows[2].consistency, "Needs-resync");
  EXPECT_EQ(rec->rows[2].node, "beegfs-storage stor02 [ID: 2]");
  EXPECT_DOUBLE_EQ(*rec->rows[0].free_bytes, 40000.5 * 1073741824.0);
}

TEST(BeegfsSamples, ListNodes) {
  SKIP_WITHOUT_SHARED();
  auto mgmt = beegfs::parse_ctl_listnodes(tool_output(sample("beegfs/beegfs7x_listnodes_mgmt_reachable_fredhutch_shcomment.txt")));
  ASSERT_TRUE(mgmt) << mgmt.error().message;
  ASSERT_EQ(mgmt->size(), 1u);
  EXPECT_EQ((*mgmt)[0].alias, "thorium-mgmt-a");
  EXPECT_EQ((*mgmt)[0].id, "1");
  auto nic = beegfs::parse_ctl_listnodes(tool_output(sample("beegfs/beegfs_ctl_listnodes_nicdetails_example_githubfoam-sandbox.txt")));
  ASSERT_TRUE(nic) << nic.error().message;
  ASSERT_EQ(nic->size(), 3u);
  EXPECT_EQ((*nic)[0].alias, "meta01");
  EXPECT_EQ((*nic)[2].alias, "4F34-5DE9100E-client01");
}

TEST(BeegfsSamples, ClientStats71) {
  SKIP_WITHOUT_SHARED();
  auto meta = beegfs::parse_ctl_clientstats(
      tool_output(sample("beegfs/beegfs71_clientstats_meta_interval0_perinterval_fredhutch_shcomment.txt")));
  ASSERT_TRUE(meta) << meta.error().message;
  ASSERT_EQ(meta->entries.size(), 1u);
  const auto& m = meta->entries[0];
  EXPECT_EQ(m.id, "23.174.134.23");
  EXPECT_EQ(m.sum, 56624);
  EXPECT_EQ(op(m, "stat"), 30911);
  EXPECT_EQ(op(m, "revalli"), 17468);
  EXPECT_EQ(op(m, "nodeinf"), 0);  // 7.1's extra op, read by name
  EXPECT_EQ(op(m, "mirror"), 0);
  double total = 0;
  for (const auto& [n, v] : m.ops) total += v;
  EXPECT_EQ(total, m.sum);  // sum counts every op

  auto stor = beegfs::parse_ctl_clientstats(
      tool_output(sample("beegfs/beegfs71_clientstats_storage_interval0_perinterval_fredhutch_shcomment.txt")));
  ASSERT_TRUE(stor) << stor.error().message;
  const auto& s = stor->entries[0];
  EXPECT_EQ(s.sum, 61957);
  EXPECT_EQ(op(s, "ops-rd"), 22385);
  EXPECT_DOUBLE_EQ(s.read_bytes, 313.54 * 1048576);
  EXPECT_DOUBLE_EQ(s.write_bytes, 84 * 1048576.0);
  total = 0;
  for (const auto& [n, v] : s.ops) total += v;
  EXPECT_EQ(total, s.sum);
}

TEST(BeegfsSamples, ReconstructedClientStatsLayouts) {
  SKIP_WITHOUT_SHARED();
  auto parts = sections(sample("beegfs-reconstructed/RECONSTRUCTED_beegfs74_ctl_clientstats_layouts.txt"));
  ASSERT_EQ(parts.size(), 4u);
  for (const auto& [title, text] : parts) {
    auto r = beegfs::parse_ctl_clientstats(text);
    ASSERT_TRUE(r) << title << ": " << r.error().message;
    ASSERT_FALSE(r->entries.empty()) << title;
  }
  auto meta = beegfs::parse_ctl_clientstats(parts[0].second);
  ASSERT_EQ(meta->entries.size(), 2u);
  EXPECT_EQ(op(meta->entries[0], "createli"), 120000);
  auto interval = beegfs::parse_ctl_clientstats(parts[1].second);
  ASSERT_EQ(interval->entries.size(), 1u);  // first (absolute) batch only
  EXPECT_EQ(interval->entries[0].sum, 43907048);
  auto bytes = beegfs::parse_ctl_clientstats(parts[2].second);
  EXPECT_DOUBLE_EQ(bytes->entries[0].read_bytes, 3.28777e+08);
  auto all = beegfs::parse_ctl_clientstats(parts[3].second);
  EXPECT_EQ(all->entries[0].ops.size(), 38u);  // 39 meta ops of 7.2+, sum kept apart
}

TEST(BeegfsSamples, ReconstructedServerStatsLayouts) {
  SKIP_WITHOUT_SHARED();
  auto parts = sections(sample("beegfs-reconstructed/RECONSTRUCTED_beegfs74_ctl_serverstats_layouts.txt"));
  ASSERT_EQ(parts.size(), 5u);
  for (const auto& [title, text] : parts) {
    auto r = beegfs::parse_ctl_serverstats(text);
    ASSERT_TRUE(r) << title << ": " << r.error().message;
    EXPECT_EQ(r->unknown_fields, 0u) << title;
  }
  auto meta = beegfs::parse_ctl_serverstats(parts[0].second);
  ASSERT_EQ(meta->rows.size(), 10u);
  EXPECT_EQ(meta->rows[9].time_s, 1700000009);
  EXPECT_EQ(meta->rows[9].requests, 1533);
  EXPECT_EQ(meta->rows[5].busy_workers, 11);
  auto details = beegfs::parse_ctl_serverstats(parts[2].second);
  EXPECT_EQ(details->rows[9].send_bytes, 1152 * 1024.0);
  EXPECT_EQ(details->rows[9].write_bytes, 60416 * 1024.0);
  auto per = beegfs::parse_ctl_serverstats(parts[3].second);
  ASSERT_EQ(per->rows.size(), 3u);
  EXPECT_EQ(per->rows[2].alias, "stor03");
  EXPECT_EQ(per->rows[2].time_s, 1700000009);
  auto per_meta = beegfs::parse_ctl_serverstats(parts[4].second);
  EXPECT_EQ(per_meta->rows[1].node, "2");
  EXPECT_EQ(per_meta->rows[1].requests, 1200);
}

TEST(BeegfsSamples, Beegfs8JsonFixtures) {
  SKIP_WITHOUT_SHARED();
  auto srv = beegfs::parse_cli_stats_server(sample("beegfs/beegfs8_stats_server_output-json_raw_FIXTURE_pokgak-beegfs-mon-prom.json"));
  ASSERT_TRUE(srv) << srv.error().message;
  ASSERT_EQ(srv->rows.size(), 2u);
  EXPECT_EQ(srv->rows[0].node, "m:1");
  EXPECT_EQ(srv->rows[0].requests, 100);
  EXPECT_EQ(srv->rows[1].write_bytes, 131072);
  EXPECT_EQ(srv->rows[1].queue_length, 10);
  auto tgt = beegfs::parse_cli_targets(sample("beegfs/beegfs8_target_list_state_capacity_output-json_raw_FIXTURE_pokgak-beegfs-mon-prom.json"));
  ASSERT_TRUE(tgt) << tgt.error().message;
  ASSERT_EQ(tgt->rows.size(), 2u);
  EXPECT_EQ(tgt->rows[0].nodetype, "meta");
  EXPECT_EQ(*tgt->rows[0].total_bytes, 30602483335168.0);
  EXPECT_EQ(tgt->rows[1].nodetype, "storage");
  EXPECT_EQ(*tgt->rows[1].inodes_free, 3000569763.0);
}

TEST(WekaSamples, Status) {
  SKIP_WITHOUT_SHARED();
  auto r = weka::parse_status(sample("weka/weka_status_--json_4.4.2-k8s_weka-operator-doc.json"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "OK");
  EXPECT_EQ(r->release, "4.4.2.157-k8s.2");
  EXPECT_EQ(*r->active_alerts, 34);
  EXPECT_EQ(*r->drives_total, 36);
  ASSERT_EQ(r->protection.size(), 3u);
  EXPECT_EQ(r->protection[0].percent, 100);
  ASSERT_EQ(r->hanging_ios.size(), 3u);
  for (const auto& h : r->hanging_ios) EXPECT_FALSE(h.detected) << h.kind;  // all cleared in the sample

  // The 4.1 subset is the `weka_status` object of an Azure function answer whose closing brace the doc lost.
  auto azure = nlohmann::json::parse(sample("weka/weka_status_subset_4.1.0_azure-function-status-response_docs.txt") + "}");
  auto sub = weka::parse_status(azure["weka_status"].dump());
  ASSERT_TRUE(sub) << sub.error().message;
  EXPECT_EQ(sub->release, "4.1.0.71");
  EXPECT_EQ(*sub->drives_active, 6);
  EXPECT_TRUE(sub->hanging_ios.empty());
}

TEST(WekaSamples, FlattenedStatsAndTextTables) {
  SKIP_WITHOUT_SHARED();
  auto r = weka::parse_stats(sample("weka/weka_jrpc_stats_show_flattened_oldformat_EXAMPLE_weka-export-collector-docstring.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->values.size(), 2u);
  EXPECT_EQ(r->values[0].stat, "READ_BYTES");
  EXPECT_DOUBLE_EQ(r->values[0].value, 4189934.933333333);
  EXPECT_EQ(r->values[0].t_ms, 1629127380000);
  // The human table of `weka fs` is not what the source asks for: a clear error, not garbage.
  auto fs = weka::parse_filesystems(sample("weka/weka_fs_4.4.1_operator-hardware-maintenance_docs.txt"));
  ASSERT_FALSE(fs);
  EXPECT_NE(fs.error().message.find("weka fs: line 1"), std::string::npos) << fs.error().message;
}
