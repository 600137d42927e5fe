// Parses every real sample under shared/formats/lustre/ (skips when shared/ is absent) and checks the key
// figures, for example req_waittime count and sum of every osc/mdc/service stats sample. Every file must be
// claimed by a rule below, so a new sample cannot go unparsed.
#include <gtest/gtest.h>

#include "tests/support/skip.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "agent/sources/lustre/import_format.h"
#include "agent/sources/lustre/job_stats_format.h"
#include "agent/sources/lustre/lctl_format.h"
#include "agent/sources/lustre/rpc_stats_format.h"
#include "agent/sources/lustre/scalar_format.h"
#include "agent/sources/lustre/stats_format.h"

using namespace ss::agent::lustre;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(SS_SHARED_DIR) / "formats" / "lustre";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Wait {
  int64_t count, sum;
};

// req_waittime (count, sum) of every stats sample that has one, keyed by file name (lctl captures with
// several parameters: "file:param").
const std::map<std::string, Wait> kWaittime = {
    {"osc_stats_2.10.1_proc.txt", {18215581, 110282569237}},
    {"osc_stats_2.16.1_lctl_n.txt", {304, 449789}},
    {"mdc_stats_2.10.1_proc.txt", {7604, 3103430}},
    {"mdc_stats_2.12_debugfs.txt", {568454, 342452119}},
    {"mdc_stats_2.16.1_lctl.txt", {31543, 44430818}},
    {"mds_MDS_mdt_stats_2.10.1_proc.txt", {57267, 4709981}},
    {"mds_MDS_mdt_stats_2.16.1_lctl_n.txt", {105101, 3367224}},
    {"ost_OSS_ost_io_stats_2.10.1_proc.txt", {4298835, 135895464}},
    {"ost_OSS_ost_stats_2.10.1_proc.txt", {2113, 92124}},
    {"ost_OSS_ost_stats_2.16.1_lctl_n.txt", {311, 14215}},
    {"lctl_mds_MDS_mdt_stats_2.14.0_ddn145.txt:mds.MDS.mdt.stats", {171898, 9524258}},
    {"lctl_ost_OSS_ost_and_ost_io_stats_2.14.0_ddn145.txt:ost.OSS.ost.stats", {21, 793}},
    {"lctl_ldlm_services_stats_2.14.0_ddn145.txt:ldlm.services.ldlm_canceld.stats", {70, 3308}},
    {"lctl_ldlm_services_stats_2.14.0_ddn145.txt:ldlm.services.ldlm_cbd.stats", {32, 2749}},
    {"lctl_client_ldlm_cbd_and_llite_stats_2.14.0.txt:ldlm.services.ldlm_cbd.stats", {41083956, 255153949}},
};

size_t count_job_ids(std::string_view text) {
  size_t n = 0;
  for (size_t p = text.find("- job_id:"); p != std::string_view::npos; p = text.find("- job_id:", p + 1)) ++n;
  return n;
}

// Checks one stats text: no skipped lines, a snapshot_time, and req_waittime when it is in kWaittime.
void check_stats(const std::string& key, std::string_view text, int& waittime_checked) {
  Stats s = parse_stats(text);
  EXPECT_EQ(s.skipped_lines, 0u) << key;
  EXPECT_TRUE(s.header.snapshot_s) << key;
  if (auto it = kWaittime.find(key); it != kWaittime.end()) {
    const StatsCounter* w = s.find("req_waittime");
    ASSERT_NE(w, nullptr) << key;
    EXPECT_EQ(w->count, it->second.count) << key;
    EXPECT_EQ(w->sum, it->second.sum) << key;
    EXPECT_EQ(w->unit, "usecs") << key;
    ++waittime_checked;
  }
}

}  // namespace

TEST(LustreSharedSamples, EveryFileParsesWithItsKeyFigures) {
  if (!fs::is_directory(kDir)) SS_SKIP_NO_SHARED_SAMPLES() << kDir << " is absent";
  int files = 0, waittime_checked = 0, jobs_checked = 0;
  std::map<std::string, std::string> lctl_values;  // param name → value, from every lctl_* sample
  for (const auto& entry : fs::directory_iterator(kDir)) {
    const std::string name = entry.path().filename().string();
    if (name == "SOURCES.md") continue;
    const std::string text = slurp(entry.path());
    ++files;
    SCOPED_TRACE(name);
    // `lctl get_param` captures with names: unwrap the framing first.
    bool framed = name.starts_with("lctl_") || name.ends_with("_lctl.txt");
    if (framed) {
      auto params = parse_lctl_get_param(text);
      ASSERT_FALSE(params.empty());
      for (auto& p : params) {
        lctl_values[p.name] = p.value;
        if (p.name.ends_with(".job_stats")) {
          size_t skipped = 0;
          auto jobs = parse_job_stats(p.value, &skipped);
          EXPECT_EQ(jobs.size(), count_job_ids(p.value));
          EXPECT_EQ(skipped, 0u);
          ++jobs_checked;
        } else if (p.name.ends_with("stats") && !p.name.ends_with("brw_stats")) {
          check_stats(kWaittime.count(name) ? name : name + ":" + p.name, p.value, waittime_checked);
        }
      }
      continue;
    }
    if (name.find("job_stats") != std::string::npos) {
      size_t skipped = 0;
      auto jobs = parse_job_stats(text, &skipped);
      EXPECT_EQ(jobs.size(), count_job_ids(text));
      EXPECT_EQ(skipped, 0u);
      for (const auto& j : jobs) {
        EXPECT_FALSE(j.id.empty());
        EXPECT_FALSE(j.counters.empty());
      }
      ++jobs_checked;
    } else if (name.find("import") != std::string::npos) {
      Import i = parse_import(text);
      EXPECT_EQ(i.skipped_lines, 0u);
      EXPECT_TRUE(i.state == "FULL" || i.state == "IDLE") << i.state;
      EXPECT_TRUE(i.inflight && i.timeouts && i.avg_waittime_us);
      if (name == "osc_import_2.10.1_proc.txt") {
        EXPECT_EQ(i.target, "lustrefs-OST0000_UUID");
        EXPECT_EQ(i.inflight, 8u);
        EXPECT_EQ(i.avg_waittime_us, 6054u);
        EXPECT_EQ(i.current_connection, "172.20.20.5@o2ib");
      }
      if (name.find("IDLE") != std::string::npos) {
        EXPECT_EQ(i.idle_s, 159490u);
        EXPECT_EQ(i.avg_waittime_us, 655647u);
      }
    } else if (name.find("rpc_stats") != std::string::npos) {
      RpcStats r = parse_rpc_stats(text);
      EXPECT_EQ(r.skipped_lines, 0u);
      EXPECT_TRUE(r.header.snapshot_s);
      if (name.starts_with("osc_")) {
        EXPECT_EQ(r.write_in_flight, 6u);
        EXPECT_EQ(r.pending_write_pages, 1244u);
        EXPECT_EQ(r.pages_per_rpc.size(), 11u);
        EXPECT_EQ(r.rpcs_in_flight.size(), 16u);
        EXPECT_EQ(r.offset.size(), 29u);
        EXPECT_EQ(r.pages_per_rpc.back().write, 16389010u);
      } else {
        EXPECT_EQ(r.modify_in_flight, 0u);
        ASSERT_EQ(r.modify_rpcs_in_flight.size(), 8u);
        EXPECT_EQ(r.modify_rpcs_in_flight[7].read, 53u);
      }
    } else if (name.find("kbytes") != std::string::npos || name.find("files") != std::string::npos ||
               name.find("lock_count") != std::string::npos) {
      EXPECT_TRUE(parse_scalar(text));
      if (name.find("kbytestotal") != std::string::npos) {
        EXPECT_EQ(parse_scalar(text), 47168367616u);
      }
      if (name.find("filesfree") != std::string::npos) {
        EXPECT_EQ(parse_scalar(text), 45927028u);
      }
      if (name.find("mdt_MDT0000_lock_count") != std::string::npos) {
        EXPECT_EQ(parse_scalar(text), 2u);
      }
    } else if (name.find("stats") != std::string::npos && name.find("brw_stats") == std::string::npos) {
      check_stats(name, text, waittime_checked);
    } else if (name.starts_with("lfs_df") || name.starts_with("lljobstat") || name.find("brw_stats") != std::string::npos) {
      // Not read by the agent: lfs df and lljobstat are command outputs it replaces with the files they
      // read; brw_stats histograms are not exported. Claimed here so a new sample cannot slip through.
    } else {
      ADD_FAILURE() << "no rule for sample " << name;
    }
  }
  EXPECT_EQ(files, 61);
  EXPECT_EQ(waittime_checked, static_cast<int>(kWaittime.size()));
  EXPECT_EQ(jobs_checked, 6);

  // Figures from the lctl captures, by parameter.
  EXPECT_EQ(parse_scalar(lctl_values.at("osd-ldiskfs.fs-OST0000.kbytestotal")), 4108388u);
  EXPECT_EQ(parse_scalar(lctl_values.at("osd-ldiskfs.fs-MDT0000.filesfree")), 1885355u);
  EXPECT_EQ(parse_scalar(lctl_values.at("ldlm.namespaces.mdt-fs-MDT0000_UUID.lock_count")), 24u);
  EXPECT_EQ(parse_stats(lctl_values.at("mdt.fs-MDT0000.md_stats")).find("statfs")->count, 113929);
  EXPECT_EQ(parse_stats(lctl_values.at("obdfilter.fs-OST0001.stats")).find("get_info")->sum, 214302);
  EXPECT_TRUE(lctl_values.count("mdt.fs-MDT0000.exports.10.73.20.12@tcp.stats"));
  EXPECT_TRUE(lctl_values.count("mdt.lustre-MDT0000.exports.172.31.38.176@tcp.stats"));
  Stats cbd = parse_stats(lctl_values.at("ldlm.services.ldlm_cbd.stats"));
  EXPECT_TRUE(cbd.find("req_waittime"));
  Stats llite214 = parse_stats(lctl_values.at("llite.ai400x2-ff47bce9ca35d800.stats"));
  EXPECT_EQ(llite214.find("open")->count, 35955554);
  EXPECT_EQ(llite214.find("open")->unit, "usecs");
  EXPECT_EQ(parse_stats(lctl_values.at("llite.lustre-ffff8b904341d000.stats")).find("openclosetime")->sumsq,
            5538044318550188265u);
}
