// The BeeGFS parsers on the project's fixtures (tests/fixtures/beegfs), field by field, for BeeGFS 7 (beegfs-ctl,
// beegfs-df) and BeeGFS 8 (beegfs CLI, ndjson), plus the malformed inputs they must reject with line numbers.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/sources/beegfs/clientstats.h"
#include "agent/sources/beegfs/history.h"
#include "agent/sources/beegfs/serverstats.h"
#include "agent/sources/beegfs/targets.h"

using namespace ss::agent::beegfs;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SS_FIXTURES_DIR) + "/beegfs/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double op(const ClientOps& e, const std::string& name) {
  for (const auto& [n, v] : e.ops)
    if (n == name) return v;
  return -1;
}

}  // namespace

TEST(BeegfsServerStats, CtlMetaHistoryMapsColumnsByName) {
  auto r = parse_ctl_serverstats(fixture("ctl_serverstats_meta_1.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 10u);
  EXPECT_EQ(r->unknown_fields, 0u);
  const auto& first = r->rows.front();
  EXPECT_EQ(first.time_s, 1763700000);
  EXPECT_EQ(first.requests, 100);
  EXPECT_EQ(first.queue_length, 0);
  EXPECT_EQ(first.busy_workers, 0);
  EXPECT_FALSE(first.has_disk);
  const auto& last = r->rows.back();
  EXPECT_EQ(last.time_s, 1763700009);
  EXPECT_EQ(last.requests, 109);
  EXPECT_EQ(last.queue_length, 0);  // 9 % 3
  EXPECT_EQ(last.busy_workers, 4);  // 9 % 5
}

TEST(BeegfsServerStats, CtlStorageHistoryInBytes) {
  auto r = parse_ctl_serverstats(fixture("ctl_serverstats_storage_1.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 10u);
  const auto& row = r->rows[3];
  EXPECT_EQ(row.time_s, 1763700003);
  EXPECT_EQ(row.write_bytes, 1003 * 1024.0);
  EXPECT_EQ(row.read_bytes, 203 * 1024.0);
  EXPECT_EQ(row.requests, 53);
  EXPECT_EQ(row.queue_length, 3);
  EXPECT_EQ(row.busy_workers, 2);
  EXPECT_TRUE(row.has_disk);
  EXPECT_FALSE(row.has_net);
}

TEST(BeegfsServerStats, CtlDetailsAddsNetworkColumns) {
  auto r = parse_ctl_serverstats(fixture("ctl_serverstats_storage_details.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[2].recv_bytes, 128 * 1024.0);
  EXPECT_EQ(r->rows[2].send_bytes, 256 * 1024.0);
  EXPECT_EQ(r->rows[2].requests, 52);
  EXPECT_TRUE(r->rows[2].has_net);
}

TEST(BeegfsServerStats, CtlPerServerTakesTimeFromBlockAndNames) {
  auto r = parse_ctl_serverstats(fixture("ctl_serverstats_perserver.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[1].time_s, 1763700009);
  EXPECT_EQ(r->rows[1].node, "2");
  EXPECT_EQ(r->rows[1].alias, "stor02");
  EXPECT_EQ(r->rows[1].write_bytes, 614400 * 1024.0);
  EXPECT_EQ(r->rows[1].requests, 1200);
  EXPECT_EQ(r->rows[1].busy_workers, 2);
}

TEST(BeegfsServerStats, CtlUnknownColumnsAreSkippedAndCounted) {
  auto r = parse_ctl_serverstats(" time_index   reqs  newcol   qlen bsy\n 1763700000      5      77      1   2\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->unknown_fields, 1u);
  EXPECT_EQ(r->rows[0].requests, 5);
  EXPECT_EQ(r->rows[0].queue_length, 1);
  EXPECT_EQ(r->rows[0].busy_workers, 2);
}

TEST(BeegfsServerStats, CtlErrorsNameCommandAndLine) {
  auto r = parse_ctl_serverstats(" time_index   reqs   qlen bsy\n 1763700000   12x      0   0\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("beegfs-ctl --serverstats: line 2"), std::string::npos) << r.error().message;
  auto short_row = parse_ctl_serverstats(" time_index   reqs   qlen bsy\n\n 1763700000   12\n");
  ASSERT_FALSE(short_row);
  EXPECT_NE(short_row.error().message.find("line 3"), std::string::npos);
  EXPECT_FALSE(parse_ctl_serverstats(" 1763700000 1 2 3\n"));  // data before a header
}

TEST(BeegfsServerStats, CliServerListing) {
  auto r = parse_cli_stats_server(fixture("cli_stats_server_meta.ndjson"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].node, "m:1");
  EXPECT_EQ(r->rows[0].alias, "meta01");
  EXPECT_EQ(r->rows[0].requests, 120);
  EXPECT_EQ(r->rows[0].queue_length, 5);
  EXPECT_EQ(r->rows[0].busy_workers, 2);
  EXPECT_EQ(r->rows[0].recv_bytes, 1024);
  EXPECT_EQ(r->rows[0].send_bytes, 2048);
  EXPECT_EQ(r->rows[0].time_s, 0);
  EXPECT_EQ(r->rows[1].node, "m:2");
}

TEST(BeegfsServerStats, CliHistoryWithTime) {
  auto r = parse_cli_stats_server(fixture("cli_stats_server_s1_history.ndjson"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 10u);
  EXPECT_EQ(r->unknown_fields, 0u);  // uid is known
  EXPECT_EQ(r->rows[9].time_s, 1763700009);
  EXPECT_EQ(r->rows[9].requests, 109);
  EXPECT_EQ(r->rows[9].write_bytes, 1009 * 1024.0);
  EXPECT_EQ(r->rows[9].read_bytes, 209 * 1024.0);
  EXPECT_EQ(r->rows[9].queue_length, 0);
  EXPECT_EQ(r->rows[9].busy_workers, 4);
}

TEST(BeegfsServerStats, CliRfc3339TimeEmptyCellsUnknownKeysAndErrors) {
  auto r = parse_cli_stats_server(
      "Total results for nodes: 1\n{\"time\":\"2025-11-21T04:00:00Z\",\"requests\":\"\",\"queue_length\":3,\"shiny\":\"1\"}\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->rows[0].time_s, 1763697600);
  EXPECT_EQ(r->rows[0].requests, 0);
  EXPECT_EQ(r->rows[0].queue_length, 3);
  EXPECT_EQ(r->unknown_fields, 1u);
  auto bad = parse_cli_stats_server("------- 0s -------\n{\"requests\":\"1.5k\"}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("beegfs stats server: line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_cli_stats_server("[{\"requests\": 1}, 5]\n"));
  EXPECT_FALSE(parse_cli_stats_server("{\"requests\": \n"));
}

TEST(BeegfsHistory, OverlappingWindowsAreCountedOnce) {
  ServerHistory h;
  auto c1 = parse_ctl_serverstats(fixture("ctl_serverstats_storage_1.txt"));
  auto c2 = parse_ctl_serverstats(fixture("ctl_serverstats_storage_1_cycle2.txt"));
  ASSERT_TRUE(c1 && c2);
  auto newest = h.absorb(c1->rows);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->time_s, 1763700009);
  double reqs1 = 0, wr1 = 0;
  for (int k = 0; k < 10; ++k) reqs1 += 50 + k, wr1 += (1000 + k) * 1024.0;
  EXPECT_EQ(h.totals().requests, reqs1);
  EXPECT_EQ(h.totals().write_bytes, wr1);
  h.absorb(c2->rows);  // seconds 5..14: only 10..14 are new
  double reqs2 = reqs1, rd2 = 0;
  for (int k = 10; k < 15; ++k) reqs2 += 50 + k;
  for (int k = 0; k < 15; ++k) rd2 += (200 + k) * 1024.0;
  EXPECT_EQ(h.totals().requests, reqs2);
  EXPECT_EQ(h.totals().read_bytes, rd2);
  EXPECT_EQ(h.totals().missed_seconds, 0);
  h.absorb(c2->rows);  // the same window again adds nothing
  EXPECT_EQ(h.totals().requests, reqs2);
  EXPECT_EQ(h.last_time_s(), 1763700014);
}

TEST(BeegfsHistory, GapsAreCountedAsMissedSeconds) {
  ServerHistory h;
  ServerStatsRow a, b;
  a.time_s = 100, a.requests = 1;
  b.time_s = 130, b.requests = 2;
  h.absorb({a});
  h.absorb({b});
  EXPECT_EQ(h.totals().requests, 3);
  EXPECT_EQ(h.totals().missed_seconds, 29);
}

TEST(BeegfsClientStats, CtlMetaByName) {
  auto r = parse_ctl_clientstats(fixture("ctl_clientstats_meta.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 2u);  // Sum: is left out
  const auto& a = r->entries[0];
  EXPECT_EQ(a.id, "10.0.0.12");
  EXPECT_EQ(a.sum, 979200);
  EXPECT_EQ(op(a, "close"), 255000);
  EXPECT_EQ(op(a, "mkdir"), 1200);
  EXPECT_EQ(op(a, "create"), 250000);
  EXPECT_EQ(op(a, "open"), 260000);
  EXPECT_EQ(op(a, "stat"), 90000);
  EXPECT_EQ(op(a, "unlnk"), 3000);
  EXPECT_EQ(op(a, "createli"), 120000);
  EXPECT_EQ(a.ops.size(), 7u);
  EXPECT_FALSE(a.has_bytes);
  const auto& b = r->entries[1];
  EXPECT_EQ(b.id, "10.0.0.11");
  EXPECT_EQ(op(b, "statli"), 7723);
  EXPECT_EQ(op(b, "revalli"), 17468);
  EXPECT_EQ(op(b, "schdrct"), 9);
  EXPECT_EQ(op(b, "rddir"), 488);
}

TEST(BeegfsClientStats, CtlStorageBytesInMiB) {
  auto r = parse_ctl_clientstats(fixture("ctl_clientstats_storage.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  const auto& e = r->entries[0];
  EXPECT_EQ(e.sum, 61957);
  EXPECT_EQ(op(e, "ops-rd"), 22385);
  EXPECT_EQ(op(e, "ops-wr"), 21504);
  EXPECT_EQ(op(e, "statfs"), 18048);
  EXPECT_EQ(op(e, "schdrct"), 20);
  EXPECT_TRUE(e.has_bytes);
  EXPECT_DOUBLE_EQ(e.read_bytes, 313.54 * 1048576);
  EXPECT_DOUBLE_EQ(e.write_bytes, 84 * 1048576.0);
}

TEST(BeegfsClientStats, CtlUserStatsWithExponentBytesAndUnknownUid) {
  auto meta = parse_ctl_clientstats(fixture("ctl_userstats_meta.txt"));
  ASSERT_TRUE(meta) << meta.error().message;
  ASSERT_EQ(meta->entries.size(), 2u);
  EXPECT_EQ(meta->entries[0].id, "1000");
  EXPECT_EQ(op(meta->entries[0], "create"), 250000);
  EXPECT_EQ(meta->entries[1].id, "-1");
  EXPECT_EQ(op(meta->entries[1], "statfs"), 12);
  auto stor = parse_ctl_clientstats(fixture("ctl_userstats_storage.txt"));
  ASSERT_TRUE(stor) << stor.error().message;
  EXPECT_DOUBLE_EQ(stor->entries[0].read_bytes, 3.28777e+08);
  EXPECT_DOUBLE_EQ(stor->entries[0].write_bytes, 8.80804e+07);
}

TEST(BeegfsClientStats, CtlIntervalModeKeepsFirstAbsoluteBatchAndSkipsRates) {
  auto r = parse_ctl_clientstats(fixture("ctl_clientstats_storage_interval.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].sum, 43907048);
  EXPECT_EQ(op(r->entries[0], "ops-rd"), 22385000);
  EXPECT_FALSE(r->entries[0].has_bytes);
  EXPECT_EQ(r->unknown_fields, 1u);  // MiB-rd/s is a rate, skipped
}

TEST(BeegfsClientStats, CtlLongIdGluedToFirstValue) {
  auto r = parse_ctl_clientstats("node-with-a-long-name.example.org56624 [sum]  56600 [stat]  24 [open]  \n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->entries[0].id, "node-with-a-long-name.example.org");
  EXPECT_EQ(r->entries[0].sum, 56624);
  EXPECT_EQ(op(r->entries[0], "stat"), 56600);
  auto bad = parse_ctl_clientstats("10.0.0.1        5 [sum]\nnode-with-a-long-name.example.org99 [sum]  5 [open]\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("beegfs-ctl --clientstats: line 2"), std::string::npos) << bad.error().message;
}

TEST(BeegfsClientStats, CtlMalformedPairs) {
  auto r = parse_ctl_clientstats("10.0.0.1        5 [sum]  x [open]  \n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_ctl_clientstats("10.0.0.1        5 [sum]  7\n"));
}

TEST(BeegfsClientStats, CliClientsMeta) {
  auto r = parse_cli_stats_clients(fixture("cli_stats_client_meta.ndjson"), "client");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 2u);
  const auto& a = r->entries[0];
  EXPECT_EQ(a.id, "10.0.0.12");
  EXPECT_EQ(a.sum, 979200);
  EXPECT_EQ(op(a, "create"), 250000);
  EXPECT_EQ(op(a, "createli"), 120000);
  EXPECT_EQ(op(a, "rddir"), -1);  // "" is a zero counter, not exported
  EXPECT_EQ(a.ops.size(), 7u);
  EXPECT_EQ(op(r->entries[1], "statli"), 7723);
  EXPECT_EQ(r->unknown_fields, 0u);
}

TEST(BeegfsClientStats, CliStorageAndUsers) {
  auto s = parse_cli_stats_clients(fixture("cli_stats_client_storage.ndjson"), "client");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->entries[0].id, "fd00::11");
  EXPECT_EQ(s->entries[0].read_bytes, 328776704);
  EXPECT_EQ(s->entries[0].write_bytes, 88080384);
  EXPECT_EQ(op(s->entries[0], "ops-rd"), 22385);
  auto u = parse_cli_stats_clients(fixture("cli_stats_user_meta.ndjson"), "user");
  ASSERT_TRUE(u) << u.error().message;
  ASSERT_EQ(u->entries.size(), 2u);
  EXPECT_EQ(u->entries[1].id, "-1");
  EXPECT_EQ(op(u->entries[1], "statfs"), 12);
  auto wrong_key = parse_cli_stats_clients(fixture("cli_stats_user_meta.ndjson"), "client");
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message.find("line 2"), std::string::npos) << wrong_key.error().message;
}

TEST(BeegfsTargets, CtlListTargetsWithState) {
  auto r = parse_ctl_targets(fixture("ctl_listtargets_storage.txt"), "storage");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  const auto& t = r->rows[0];
  EXPECT_EQ(t.nodetype, "storage");
  EXPECT_EQ(t.target, "101");
  EXPECT_EQ(t.reachability, "Online");
  EXPECT_EQ(t.consistency, "Good");
  EXPECT_DOUBLE_EQ(*t.total_bytes, 63000.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*t.free_bytes, 40000.5 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*t.inodes, 3200.0e6);
  EXPECT_DOUBLE_EQ(*t.inodes_free, 3100.2e6);
  EXPECT_EQ(r->rows[1].reachability, "Offline");
  EXPECT_EQ(r->rows[1].consistency, "Bad");
  auto m = parse_ctl_targets(fixture("ctl_listtargets_meta.txt"), "meta");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->rows[1].reachability, "Probably-offline");
  EXPECT_EQ(m->rows[1].consistency, "Needs-resync");
  EXPECT_EQ(m->rows[1].nodetype, "meta");
}

TEST(BeegfsTargets, BeegfsDfSectionsAndPools) {
  auto r = parse_ctl_targets(fixture("beegfs-df.txt"), "");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].nodetype, "meta");
  EXPECT_EQ(r->rows[0].target, "1");
  EXPECT_EQ(r->rows[0].cap_pool, "normal");
  EXPECT_DOUBLE_EQ(*r->rows[0].total_bytes, 1489.7 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*r->rows[0].free_bytes, 1322.7 * 1073741824.0);
  EXPECT_EQ(r->rows[2].nodetype, "storage");
  EXPECT_EQ(r->rows[2].target, "102");
  EXPECT_EQ(r->rows[2].cap_pool, "emergency");
  EXPECT_DOUBLE_EQ(*r->rows[2].free_bytes, 10.5 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*r->rows[2].inodes_free, 409.6e6);
  EXPECT_TRUE(r->rows[2].reachability.empty());
}

TEST(BeegfsTargets, CtlLongNodesTakeRestOfLine) {
  auto r = parse_ctl_targets(
      "TargetID     Reachability  Consistency        Total         Free    %      ITotal       IFree    %   NodeID\n"
      "========     ============  ===========        =====         ====    =      ======       =====    =   ======\n"
      "     101           Online         Good   63000.0GiB   40000.5GiB  63%     3200.0M     3100.2M  97%   "
      "beegfs-storage stor01 [ID: 1]\n",
      "storage");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->rows[0].node, "beegfs-storage stor01 [ID: 1]");
  auto bad = parse_ctl_targets("TargetID Total\n       1  lots\n", "meta");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("beegfs-ctl --listtargets: line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_ctl_targets("       1  1.0GiB\n", "meta"));
}

TEST(BeegfsTargets, CliTargetList) {
  auto r = parse_cli_targets(fixture("cli_target_list.ndjson"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->unknown_fields, 0u);
  const auto& m = r->rows[0];
  EXPECT_EQ(m.nodetype, "meta");
  EXPECT_EQ(m.target, "1");
  EXPECT_EQ(m.node, "m:1");
  EXPECT_EQ(m.reachability, "Online");
  EXPECT_EQ(m.consistency, "Good");
  EXPECT_EQ(m.cap_pool, "normal");
  EXPECT_EQ(*m.total_bytes, 30602483335168.0);
  EXPECT_EQ(*m.free_bytes, 5632914296832.0);
  EXPECT_EQ(*m.inodes, 468840448.0);
  EXPECT_EQ(*m.inodes_free, 462438162.0);
  EXPECT_EQ(r->rows[2].nodetype, "storage");
  EXPECT_EQ(r->rows[2].target, "102");
  EXPECT_EQ(r->rows[2].consistency, "Needs-resync");
  EXPECT_EQ(r->rows[2].cap_pool, "emergency");
}

TEST(BeegfsTargets, CliErrors) {
  auto r = parse_cli_targets("{\"id\":{\"num_id\":1},\"space\":\"x\",\"type\":2}\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("beegfs target list: line 1"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_cli_targets("{\"id\":{\"num_id\":1}}\n"));  // no node type
}

TEST(BeegfsListNodes, AliasesAndIds) {
  auto r = parse_ctl_listnodes(fixture("ctl_listnodes_meta.txt"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].alias, "meta01");
  EXPECT_EQ((*r)[0].id, "1");
  EXPECT_EQ((*r)[1].alias, "meta02");
  EXPECT_EQ((*r)[1].id, "2");
  auto detail = parse_ctl_listnodes("meta01 [ID: 1]\n   Reachable: <yes>\nNumber of nodes: 1\n");
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->size(), 1u);
  auto bad = parse_ctl_listnodes("meta01 [ID: 1]\nmeta02\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
}
