// Field-by-field checks of every Lustre parser on the project's own fixtures (tests/fixtures/lustre/),
// one per format family and version variant of shared/reference/lustre.md.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/sources/lustre/import_format.h"
#include "agent/sources/lustre/job_stats_format.h"
#include "agent/sources/lustre/lctl_format.h"
#include "agent/sources/lustre/names.h"
#include "agent/sources/lustre/rpc_stats_format.h"
#include "agent/sources/lustre/scalar_format.h"
#include "agent/sources/lustre/stats_format.h"

using namespace ss::agent::lustre;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SS_FIXTURES_DIR) + "/lustre/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_counter(const Stats& s, std::string_view name, int64_t count, std::string_view unit, bool has_sum,
                    int64_t min = 0, int64_t max = 0, int64_t sum = 0) {
  const StatsCounter* c = s.find(name);
  ASSERT_NE(c, nullptr) << name;
  EXPECT_EQ(c->count, count) << name;
  EXPECT_EQ(c->unit, unit) << name;
  EXPECT_EQ(c->has_sum, has_sum) << name;
  if (has_sum) {
    EXPECT_EQ(c->min, min) << name;
    EXPECT_EQ(c->max, max) << name;
    EXPECT_EQ(c->sum, sum) << name;
  }
}

}  // namespace

TEST(LustreStats, Osc210NsecsHeaderAndSevenTokenLines) {
  Stats s = parse_stats(fixture("stats_osc_2.10.txt"));
  EXPECT_EQ(s.skipped_lines, 0u);
  ASSERT_TRUE(s.header.snapshot_s);
  EXPECT_DOUBLE_EQ(*s.header.snapshot_s, 1700000000.000123456);
  EXPECT_FALSE(s.header.start_s);
  ASSERT_EQ(s.counters.size(), 8u);
  expect_counter(s, "req_waittime", 1200, "usecs", true, 50, 90000, 600000);
  EXPECT_TRUE(s.find("req_waittime")->has_sumsq);
  EXPECT_EQ(s.find("req_waittime")->sumsq, 900000000u);
  expect_counter(s, "req_active", 1200, "reqs", true, 1, 8, 2400);
  expect_counter(s, "read_bytes", 10, "bytes", true, 4096, 1048576, 5242880);
  expect_counter(s, "write_bytes", 20, "bytes", true, 4096, 4194304, 41943040);
  expect_counter(s, "ost_write", 20, "usecs", true, 200, 5000, 30000);
  expect_counter(s, "ldlm_extent_enqueue", 7, "reqs", true, 1, 1, 7);
  EXPECT_EQ(s.find("ost_punch"), nullptr);  // zero-count lines are not printed: absent means 0
}

TEST(LustreStats, Pre210UsecsHeaderCountOnlyNegativeSumsqAndBadLines) {
  Stats s = parse_stats(fixture("stats_pre2.10_usecs.txt"));
  ASSERT_TRUE(s.header.snapshot_s);
  EXPECT_DOUBLE_EQ(*s.header.snapshot_s, 1438693238.020113);  // ".20113" is 20113 µs, not 0.20113 s
  expect_counter(s, "open", 1000, "reqs", false);
  expect_counter(s, "close", 900, "reqs", false);
  expect_counter(s, "getattr", 5, "reqs", true, 1, 1, 5);
  EXPECT_FALSE(s.find("getattr")->has_sumsq);  // negative sumsq (overflow) is dropped, the line kept
  EXPECT_EQ(s.skipped_lines, 2u);
  EXPECT_EQ(s.counters.size(), 3u);
}

TEST(LustreStats, Mds215StartElapsedUsecsSecsAndLongNames) {
  Stats s = parse_stats(fixture("stats_mds_2.15.txt"));
  EXPECT_EQ(s.skipped_lines, 0u);
  EXPECT_DOUBLE_EQ(*s.header.snapshot_s, 1750000000.5);
  EXPECT_DOUBLE_EQ(*s.header.start_s, 1749990000.25);
  EXPECT_DOUBLE_EQ(*s.header.elapsed_s, 10000.25);
  expect_counter(s, "req_waittime", 40, "usecs", true, 1000, 5000, 100000);
  expect_counter(s, "req_qdepth", 40, "reqs", true, 0, 3, 20);
  expect_counter(s, "req_timeout", 40, "secs", true, 5, 10, 300);
  expect_counter(s, "reqbuf_avail", 90, "bufs", true, 63, 64, 5700);
  expect_counter(s, "mds_reint_open", 12, "reqs", true, 1, 1, 12);
  expect_counter(s, "llog_origin_handle_next_block", 3, "usecs", true, 10, 30, 60);
  expect_counter(s, "openclosetime", 9, "usecs", true, 1310, 72792200544, 87801149569);
  EXPECT_EQ(s.find("openclosetime")->sumsq, 5538044318550188265u);
}

TEST(LustreStats, Llite212RegsTypoAndThreeNumberLines) {
  Stats s = parse_stats(fixture("stats_llite_2.12_regs.txt"));
  EXPECT_EQ(s.skipped_lines, 0u);
  expect_counter(s, "read_bytes", 2, "bytes", true, 4096, 8192, 12288);
  EXPECT_FALSE(s.find("read_bytes")->has_sumsq);
  expect_counter(s, "write_bytes", 3, "bytes", true, 10, 30, 60);
  expect_counter(s, "open", 136, "reqs", false);  // "[regs]" normalised
  expect_counter(s, "ioctl", 4, "reqs", false);
  expect_counter(s, "getxattr_hits", 20, "reqs", false);
}

TEST(LustreStats, HeaderWithoutStartTimeAndBlankLines) {
  Stats s = parse_stats(fixture("stats_2.16_no_start_header.txt"));
  EXPECT_EQ(s.skipped_lines, 0u);
  EXPECT_DOUBLE_EQ(*s.header.snapshot_s, 1760000000.000000001);
  EXPECT_FALSE(s.header.start_s);
  EXPECT_FALSE(s.header.elapsed_s);
  expect_counter(s, "req_waittime", 7, "usecs", true, 3, 9, 42);
  expect_counter(s, "ost_statfs", 7, "usecs", true, 3, 9, 42);
}

TEST(LustreStats, RepeatedNamesAreKept) {
  Stats s = parse_stats(fixture("stats_obdfilter_2.10_dup.txt"));
  ASSERT_EQ(s.counters.size(), 4u);
  EXPECT_EQ(s.counters[1].name, "statfs");
  EXPECT_EQ(s.counters[1].count, 35359);
  EXPECT_EQ(s.counters[3].name, "statfs");
  EXPECT_EQ(s.counters[3].count, 124430);
}

TEST(LustreStats, UnitsNormalise) {
  EXPECT_EQ(normalize_unit("usec"), "usecs");
  EXPECT_EQ(normalize_unit("usecs"), "usecs");
  EXPECT_EQ(normalize_unit("regs"), "reqs");
  EXPECT_EQ(normalize_unit("sec"), "secs");
  EXPECT_EQ(normalize_unit("locks/s"), "locks/s");
}

TEST(LustreJobStats, V210IntegerSnapshotAndNoSpaceAfterColon) {
  size_t skipped = 99;
  auto jobs = parse_job_stats(fixture("job_stats_2.10_obdfilter.txt"), &skipped);
  EXPECT_EQ(skipped, 0u);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, "4711");
  EXPECT_DOUBLE_EQ(*jobs[0].snapshot_s, 1510782606);
  ASSERT_EQ(jobs[0].counters.size(), 4u);
  const JobCounter* w = jobs[0].find("write_bytes");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->samples, 25u);
  EXPECT_EQ(w->unit, "bytes");
  EXPECT_EQ(w->min, 1048576u);
  EXPECT_EQ(w->max, 16777216u);  // "max:16777216"
  EXPECT_EQ(w->sum, 26214400u);
  EXPECT_FALSE(w->has_sumsq);
  EXPECT_EQ(jobs[0].find("read_bytes")->sum, 16384u);
  EXPECT_EQ(jobs[0].find("punch")->samples, 2u);
  EXPECT_EQ(jobs[0].find("punch")->unit, "reqs");
  EXPECT_FALSE(jobs[0].find("punch")->has_sum);
  EXPECT_EQ(jobs[1].id, "dd.1000");
  EXPECT_EQ(jobs[1].find("write_bytes")->samples, 1u);
}

TEST(LustreJobStats, V2150UnindentedHeadersOnMonotonicClock) {
  size_t skipped = 0;
  auto jobs = parse_job_stats(fixture("job_stats_2.15.0_mdt.txt"), &skipped);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, "rsync.30026");
  EXPECT_NEAR(*jobs[0].snapshot_s, 1896247.780050045, 1e-6);
  EXPECT_NEAR(*jobs[0].start_s, 379440.150439687, 1e-6);
  EXPECT_NEAR(*jobs[0].elapsed_s, 1516807.629610358, 1e-6);
  const JobCounter* o = jobs[0].find("open");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->samples, 5051u);
  EXPECT_EQ(o->unit, "usecs");
  EXPECT_EQ(o->min, 8u);
  EXPECT_EQ(o->max, 1541u);
  EXPECT_EQ(o->sum, 236426u);
  EXPECT_EQ(o->sumsq, 19935112u);
  EXPECT_EQ(jobs[0].find("close")->samples, 0u);
  EXPECT_EQ(skipped, 1u);
}

TEST(LustreJobStats, V2152QuotedEscapedColonSlashAndSpaceIds) {
  auto jobs = parse_job_stats(fixture("job_stats_2.15.2_quoted.txt"));
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].id, "4711:alice:gpu017");
  EXPECT_NEAR(*jobs[0].elapsed_s, 10.087729891, 1e-9);
  EXPECT_EQ(jobs[0].find("open")->sum, 535u);
  EXPECT_EQ(jobs[1].id, "kworker/13:2.0");
  EXPECT_EQ(jobs[1].find("getattr")->samples, 9u);
  EXPECT_EQ(jobs[2].id, "my job\twith tab");
  EXPECT_EQ(jobs[3].id, "python job.0");
  EXPECT_EQ(jobs[3].find("mknod")->sum, 11u);
}

TEST(LustreJobStats, V216HistogramsAndLongOpNames) {
  auto out = parse_lctl_get_param(fixture("job_stats_2.16_hist.txt"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "obdfilter.ai0-OST0001.job_stats");
  auto jobs = parse_job_stats(out[0].value);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, "train.0");
  EXPECT_TRUE(jobs[0].find("read_bytes")->hist.empty());
  const JobCounter* w = jobs[0].find("write_bytes");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->samples, 6u);
  EXPECT_EQ(w->sumsq, 1599861835u);
  std::vector<std::pair<uint64_t, uint64_t>> hist{{32, 2}, {4096, 1}, {16384, 1}, {32768, 2}, {1 << 20, 0}};
  EXPECT_EQ(w->hist, hist);
  EXPECT_EQ(jobs[0].find("parallel_rename_file")->samples, 1u);
}

TEST(LustreJobStats, MasterEmptyFileHasNoJobs) {
  size_t skipped = 7;
  EXPECT_TRUE(parse_job_stats(fixture("job_stats_master_empty.txt"), &skipped).empty());
  EXPECT_EQ(skipped, 0u);
  EXPECT_TRUE(parse_job_stats("job_stats:\n").empty());
}

TEST(LustreJobStats, IncrementalFeedAnySplitAndStopAtCap) {
  std::string text = fixture("job_stats_2.15.2_quoted.txt");
  for (size_t step : {1u, 3u, 17u, 4096u}) {
    std::vector<std::string> ids;
    JobStatsParser p([&](Job&& j) {
      ids.push_back(j.id);
      return true;
    });
    for (size_t i = 0; i < text.size(); i += step) p.feed(std::string_view(text).substr(i, step));
    p.finish();
    ASSERT_EQ(ids.size(), 4u) << step;
    EXPECT_EQ(ids[2], "my job\twith tab");
  }
  size_t seen = 0;
  JobStatsParser capped([&](Job&&) { return ++seen < 2; });
  capped.feed(text);
  capped.finish();
  EXPECT_TRUE(capped.stopped());
  EXPECT_EQ(seen, 2u);
}

TEST(LustreImport, V216QuotedNidsNidsStatsAndSections) {
  Import i = parse_import(fixture("import_2.16_quoted.txt"));
  EXPECT_EQ(i.name, "ai0-OST0002-osc-ffff8b904341d000");
  EXPECT_EQ(i.target, "ai0-OST0002_UUID");
  EXPECT_EQ(i.state, "REPLAY_LOCKS");
  EXPECT_EQ(import_state_code(i.state), 6);
  EXPECT_EQ(i.current_connection, "10.0.0.5@tcp");
  EXPECT_EQ(i.connection_attempts, 4u);
  EXPECT_EQ(i.idle_s, 7u);
  EXPECT_EQ(i.inflight, 5u);
  EXPECT_EQ(i.unregistering, 1u);
  EXPECT_EQ(i.timeouts, 17u);
  EXPECT_EQ(i.avg_waittime_us, 1234u);
  EXPECT_EQ(i.service_estimate_s, 31u);
  EXPECT_EQ(i.network_estimate_s, 2u);
  EXPECT_EQ(i.skipped_lines, 0u);
}

TEST(LustreImport, V210UsecUnitAndUnknownLine) {
  Import i = parse_import(fixture("import_2.10_mdc.txt"));
  EXPECT_EQ(i.state, "FULL");
  EXPECT_EQ(import_state_code("FULL"), 9);
  EXPECT_EQ(import_state_code("IDLE"), 11);
  EXPECT_EQ(import_state_code("bogus"), 0);
  EXPECT_EQ(i.inflight, 0u);
  EXPECT_EQ(i.avg_waittime_us, 408u);
  EXPECT_FALSE(i.idle_s);
  EXPECT_EQ(i.skipped_lines, 1u);
}

TEST(LustreRpcStats, Osc210TablesAndGauges) {
  RpcStats r = parse_rpc_stats(fixture("rpc_stats_osc_2.10.txt"));
  EXPECT_EQ(r.skipped_lines, 0u);
  EXPECT_DOUBLE_EQ(*r.header.snapshot_s, 1510950459.787901292);
  EXPECT_EQ(r.read_in_flight, 1u);
  EXPECT_EQ(r.write_in_flight, 6u);
  EXPECT_EQ(r.pending_write_pages, 1244u);
  EXPECT_EQ(r.pending_read_pages, 3u);
  ASSERT_EQ(r.pages_per_rpc.size(), 2u);
  EXPECT_EQ(r.pages_per_rpc[1].bucket, 1024u);
  EXPECT_EQ(r.pages_per_rpc[1].read, 5u);
  EXPECT_EQ(r.pages_per_rpc[1].write, 16389010u);
  ASSERT_EQ(r.rpcs_in_flight.size(), 2u);
  EXPECT_EQ(r.rpcs_in_flight[1].bucket, 15u);
  EXPECT_EQ(r.rpcs_in_flight[1].write, 171u);
  ASSERT_EQ(r.offset.size(), 2u);
  EXPECT_EQ(r.offset[1].bucket, 134217728u);
  EXPECT_EQ(r.offset[1].write, 8127518u);
  EXPECT_TRUE(r.modify_rpcs_in_flight.empty());
}

TEST(LustreRpcStats, Mdc212PaddedNsecsModifyThenReadWriteAndDio) {
  RpcStats r = parse_rpc_stats(fixture("rpc_stats_mdc_2.12_padded.txt"));
  EXPECT_NEAR(*r.header.snapshot_s, 1653661756.004002690, 1e-6);
  EXPECT_NEAR(*r.header.start_s, 1653600000.123456789, 1e-6);
  EXPECT_EQ(r.modify_in_flight, 2u);
  ASSERT_EQ(r.modify_rpcs_in_flight.size(), 3u);
  EXPECT_EQ(r.modify_rpcs_in_flight[1].bucket, 1u);
  EXPECT_EQ(r.modify_rpcs_in_flight[1].read, 90u);
  EXPECT_EQ(r.modify_rpcs_in_flight[2].bucket, 7u);
  EXPECT_EQ(r.modify_rpcs_in_flight[2].read, 53u);
  ASSERT_EQ(r.pages_per_rpc.size(), 1u);
  EXPECT_EQ(r.pages_per_rpc[0].read, 4u);
  EXPECT_EQ(r.pages_per_rpc[0].write, 2u);
  EXPECT_EQ(r.dio_in_flight, 3u);
  EXPECT_EQ(r.skipped_lines, 1u);
}

TEST(LustreRpcStats, Mdc216LiteralPercentHeader) {
  RpcStats r = parse_rpc_stats(fixture("rpc_stats_mdc_2.16_percent.txt"));
  EXPECT_EQ(r.skipped_lines, 0u);
  EXPECT_EQ(r.modify_in_flight, 0u);
  ASSERT_EQ(r.modify_rpcs_in_flight.size(), 2u);
  EXPECT_EQ(r.modify_rpcs_in_flight[0].read, 8u);
  EXPECT_EQ(r.modify_rpcs_in_flight[1].read, 2u);
}

TEST(LustreScalar, Values) {
  EXPECT_EQ(parse_scalar("47168367616\n"), 47168367616u);
  EXPECT_EQ(parse_scalar(" 2 "), 2u);
  EXPECT_FALSE(parse_scalar(""));
  EXPECT_FALSE(parse_scalar("12 KiB"));
  EXPECT_FALSE(parse_scalar("-1"));
}

TEST(LustreLctl, V215OneLineBlockNidNamesAndLongValues) {
  auto p = parse_lctl_get_param(fixture("lctl_2.15_framing.txt"));
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].name, "osc.ai0-OST0000-osc-ffff9a1b2c3d4000.kbytesavail");
  EXPECT_EQ(p[0].value, "4038040");
  EXPECT_EQ(p[1].name, "osc.ai0-OST0000-osc-ffff9a1b2c3d4000.stats");
  Stats s = parse_stats(p[1].value);
  EXPECT_EQ(s.skipped_lines, 0u);
  EXPECT_EQ(s.find("req_waittime")->sum, 44430818);
  EXPECT_EQ(match_param(p[2].name, "mdt.ai0-MDT0000.exports.", ".stats"), "10.73.20.12@tcp");
  EXPECT_EQ(parse_stats(p[2].value).find("statfs")->count, 113927);
  auto jobs = parse_job_stats(p[3].value);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, "a=b");
  EXPECT_EQ(parse_import(p[4].value).state, "FULL");
  EXPECT_EQ(p[5].value, "0123456789012345678901234567890123456789");
}

TEST(LustreLctl, V216HeaderPrefixedLinesAndEmptyValues) {
  auto p = parse_lctl_get_param(fixture("lctl_2.16_H.txt"));
  ASSERT_EQ(p.size(), 4u);
  Stats mdc = parse_stats(p[0].value);
  EXPECT_EQ(mdc.skipped_lines, 0u);
  EXPECT_EQ(mdc.counters.size(), 2u);
  EXPECT_EQ(mdc.find("req_waittime")->count, 31543);
  EXPECT_EQ(mdc.find("mds_close")->sum, 58948);
  EXPECT_EQ(parse_stats(p[1].value).find("req_waittime")->count, 304);
  EXPECT_EQ(match_param(p[2].name, "ldlm.namespaces.", ".lock_count"), "ai0-MDT0000-mdc-ffff8b904341d000");
  EXPECT_EQ(p[2].value, "245");
  EXPECT_EQ(p[3].value, "");
  EXPECT_FALSE(match_param("osc.stats", "osc.", ".stats"));
}

TEST(LustreNames, TargetsFileSystemsAndNamespaces) {
  auto t = target_of("ai0-OST0003-osc-ffff88105db50000");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->fs, "ai0");
  EXPECT_EQ(t->target, "ai0-OST0003");
  EXPECT_EQ(target_of("ai0-MDT0000-mdc-ffff8b904341d000")->target, "ai0-MDT0000");
  EXPECT_EQ(target_of("my-fs-OST001a")->fs, "my-fs");
  EXPECT_EQ(target_of("mdt-ai0-MDT0000_UUID")->target, "ai0-MDT0000");
  EXPECT_EQ(target_of("filter-ai0-OST0001_UUID")->fs, "ai0");
  EXPECT_EQ(target_of("ai0-OST0001_UUID")->target, "ai0-OST0001");
  EXPECT_FALSE(target_of("MGS"));
  EXPECT_FALSE(target_of("MGC10.0.0.1@tcp"));
  EXPECT_FALSE(target_of("ai0-OSTX"));
  EXPECT_EQ(llite_fsname("lustre-ffff8b904341d000"), "lustre");
  EXPECT_EQ(llite_fsname("my-fs-ffff8b904341d000"), "my-fs");
  EXPECT_EQ(llite_fsname("plain"), "plain");
}
