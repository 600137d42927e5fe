#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "collector/store/chunk_store.h"
#include "collector/store/chunk_codec.h"
#include "collector/store/head_page.h"
#include "collector/store/log_record.h"
#include "collector/store/varint.h"
#include "common/time.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::collector;

namespace {

using ss::testing::TempDir;

constexpr int64_t kT0 = 1763683200000;  // 2025-11-21T00:00:00Z, aligned to every window

StoreOptions options_in(const TempDir& d, const std::string& name = "store.db") {
  StoreOptions o;
  o.path = d.str() + "/" + name;
  o.sync_full = false;
  o.checkpoint_interval_ms = 3'600'000;  // only explicit close() checkpoints: the log carries the rest
  return o;
}

std::unique_ptr<Store> open_or_die(const StoreOptions& o) {
  auto s = open_chunk_store(o);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

Batch batch(const std::string& node, uint64_t seq, std::vector<Series> series) {
  Batch b;
  b.node = node;
  b.seq = seq;
  b.series = std::move(series);
  return b;
}

Series gauge(const std::string& name, std::vector<Point> pts, Labels labels = {}) {
  return Series{name, SeriesType::Gauge, std::move(labels), std::move(pts)};
}

int64_t id_of(Store& s, const std::string& name) {
  auto sel = s.select(name, {});
  EXPECT_TRUE(sel.ok());
  EXPECT_EQ(sel->size(), 1u) << name;
  return sel->empty() ? -1 : (*sel)[0].id;
}

// Runs one INSERT of a hand-built old database: `blob` is its last parameter, after `start` as ?1 if given.
void insert_row(sqlite3* db, const char* sql, std::optional<int64_t> start, std::string_view blob) {
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &ins, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  if (start) sqlite3_bind_int64(ins, 1, *start);
  sqlite3_bind_blob(ins, start ? 2 : 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(ins);
}

// Open raw chunks in the database (head pages), of the series named `name` or of all.
int open_raw_chunks(const std::string& path, const std::string& name = "") {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::set<int64_t> ids;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id FROM series WHERE ?1 = '' OR name = ?1", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) ids.insert(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  int n = 0;
  sqlite3_prepare_v2(db, "SELECT page, data FROM head_pages", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string_view data(static_cast<const char*>(sqlite3_column_blob(st, 1)), sqlite3_column_bytes(st, 1));
    auto r = read_head_page(data, static_cast<uint32_t>(sqlite3_column_int64(st, 0)),
                            [&](const HeadPageEntry& e) { n += ids.count(e.series_id) ? 1 : 0; });
    EXPECT_TRUE(r.ok()) << r.error().message;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Copies the database files while the store is open and idle: the state a SIGKILL would leave.
void crash_copy(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    std::filesystem::copy_file(from + suffix, to + suffix, std::filesystem::copy_options::overwrite_existing, ec);
  }
}

}  // namespace

TEST(ChunkStore, AppendsReadsAndDeduplicatesBatches) {
  TempDir d;
  auto s = open_or_die(options_in(d));
  ASSERT_TRUE(s);
  Batch b = batch("gpu1", 1, {gauge("temp", {{kT0, 1.5}, {kT0 + 10000, NAN}, {kT0 + 20000, -0.0}}, {{"fs", "ai0"}})});
  Event e;
  e.kind = "vfs_hot_dirs";
  e.t_ms = kT0;
  e.fields_json = R"({"dirs":[]})";
  b.events.push_back(e);
  auto r = s->append(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->accepted, 3u);
  EXPECT_FALSE(r->duplicate);
  auto again = s->append(b);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->accepted, 0u);

  auto sel = s->select("temp", {{"node", Matcher::Op::Eq, "gpu1"}, {"fs", Matcher::Op::Re, "ai.*"}});
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  EXPECT_EQ(label_value((*sel)[0].labels, "node"), "gpu1");
  auto pts = s->read((*sel)[0].id, kT0, kT0 + 20000);
  ASSERT_TRUE(pts.ok()) << pts.error().message;
  ASSERT_EQ(pts->size(), 3u);
  EXPECT_EQ((*pts)[0].value, 1.5);
  EXPECT_TRUE(std::isnan((*pts)[1].value));
  EXPECT_TRUE(std::signbit((*pts)[2].value));
  auto part = s->read((*sel)[0].id, kT0 + 5000, kT0 + 15000);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->size(), 1u);
  auto ev = s->read_events("vfs_hot_dirs", kT0, kT0);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].node, "gpu1");
  EXPECT_EQ(s->stats().points, 3);
  EXPECT_EQ(s->stats().series, 1);
  EXPECT_FALSE(s->read(999, kT0, kT0).ok());
}

TEST(ChunkStore, MergesOutOfOrderDropsDuplicatesRejectsOld) {
  TempDir d;
  auto o = options_in(d);
  o.out_of_order_ms = 60'000;
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  uint64_t seq = 0;
  auto put = [&](std::vector<Point> pts) {
    auto r = s->append(batch("n", ++seq, {gauge("g", std::move(pts))}));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->accepted : 0;
  };
  EXPECT_EQ(put({{kT0 + 100000, 1}, {kT0 + 120000, 3}}), 2u);
  EXPECT_EQ(put({{kT0 + 110000, 2}}), 1u);            // out of order, within the window: merged
  EXPECT_EQ(put({{kT0 + 110000, 2}}), 0u);            // exact duplicate: dropped
  EXPECT_EQ(put({{kT0 + 120000, 3}}), 0u);            // duplicate of the newest point
  EXPECT_EQ(put({{kT0 + 110000, 9}}), 0u);            // same time, other value: conflict
  EXPECT_EQ(put({{kT0 + 30000, 0}}), 0u);             // older than the window allows
  EXPECT_EQ(put({{kT0 + 7'200'000 - 1000, 5}}), 1u);  // end of the first raw window
  EXPECT_EQ(put({{kT0 + 7'200'000 - 2000, 4}}), 1u);  // out of order again, still merged
  auto pts = s->read(id_of(*s, "g"), 0, INT64_MAX);
  ASSERT_TRUE(pts.ok());
  std::vector<Point> want = {{kT0 + 100000, 1}, {kT0 + 110000, 2}, {kT0 + 120000, 3},
                             {kT0 + 7'198'000, 4}, {kT0 + 7'199'000, 5}};
  EXPECT_EQ(*pts, want);
  auto st = s->stats();
  EXPECT_EQ(st.points_duplicate, 2);
  EXPECT_EQ(st.points_conflicting, 1);
  EXPECT_EQ(st.points_too_old, 1);
}

TEST(ChunkStore, RecoversAcknowledgedPointsFromTheLogAfterACrash) {
  TempDir d;
  auto o = options_in(d);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::mt19937_64 rng(1);
  std::map<std::string, std::vector<Point>> want;
  uint64_t seq = 0;
  // Five hours of data: some raw windows close (and roll up) before the crash, the rest is only in the log.
  for (int step = 0; step < 1800; step += 60) {
    std::vector<Series> series;
    for (int k = 0; k < 5; ++k) {
      std::vector<Point> pts;
      for (int i = step; i < step + 60; ++i) pts.push_back({kT0 + i * 10000, static_cast<double>(rng() % 1000)});
      std::string name = "m" + std::to_string(k);
      want[name].insert(want[name].end(), pts.begin(), pts.end());
      series.push_back(gauge(name, std::move(pts)));
    }
    auto r = s->append(batch("n", ++seq, std::move(series)));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->accepted, 300u);
  }
  crash_copy(o.path, d.str() + "/crashed.db");
  auto o2 = options_in(d, "crashed.db");
  auto c = open_or_die(o2);
  ASSERT_TRUE(c);
  for (auto& [name, pts] : want) {
    auto got = c->read(id_of(*c, name), 0, INT64_MAX);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, pts) << name;
  }
  EXPECT_EQ(c->stats().points, 5 * 1800);
  // The stream's seq survived: a retried batch is a duplicate.
  auto dup = c->append(batch("n", seq, {gauge("m0", {{kT0 + 1800 * 10000, 1}})}));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  // And after a clean close the state is identical.
  c->close();
  auto c2 = open_or_die(o2);
  auto got = c2->read(id_of(*c2, "m3"), 0, INT64_MAX);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want["m3"]);
}

// A checkpoint writes series a slice at a time and truncates the log only after the last slice, so a
// crash in between leaves log records whose points the database already holds. Replaying them must store
// nothing twice, count nothing, and leave raw points and rollups as they were.
TEST(ChunkStore, ReplayingRecordsACheckpointAlreadyWroteChangesNothing) {
  TempDir d;
  auto o = options_in(d);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::map<std::string, std::vector<Point>> want;
  uint64_t seq = 0;
  // Five hours: two raw windows close (rolled up, final), the third stays open.
  for (int step = 0; step < 1800; step += 90) {
    std::vector<Series> series;
    for (int k = 0; k < 4; ++k) {
      std::vector<Point> pts;
      for (int i = step; i < step + 90; ++i) pts.push_back({kT0 + i * 10000, static_cast<double>(i * (k + 1))});
      std::string name = "m" + std::to_string(k);
      want[name].insert(want[name].end(), pts.begin(), pts.end());
      series.push_back(gauge(name, std::move(pts)));
    }
    ASSERT_TRUE(s->append(batch("n", ++seq, std::move(series))).ok());
  }
  // The log as a crash before any checkpoint would leave it.
  crash_copy(o.path, d.str() + "/logged.db");
  s->close();  // checkpoint: every series written, the log truncated
  s.reset();
  // Put the log back beside the written state: a crash after the last slice but before the truncation.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  std::string attach = "ATTACH '" + d.str() + "/logged.db' AS logged";
  ASSERT_EQ(sqlite3_exec(db, attach.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO log SELECT * FROM logged.log", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_stmt* n = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM log", -1, &n, nullptr);
  ASSERT_EQ(sqlite3_step(n), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(n, 0), static_cast<int>(seq));
  sqlite3_finalize(n);
  sqlite3_close(db);

  auto r = open_or_die(o);
  ASSERT_TRUE(r);
  for (auto& [name, pts] : want) {
    int64_t id = id_of(*r, name);
    auto got = r->read(id, 0, INT64_MAX);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, pts) << name;
    auto hours = r->read_buckets(id, kT0, kT0 + 4 * 3'600'000 - 1, 3'600'000);
    ASSERT_TRUE(hours.ok());
    EXPECT_EQ(*hours, aggregate_points(pts, kT0, kT0 + 4 * 3'600'000 - 1, 3'600'000)) << name;
  }
  auto st = r->stats();
  EXPECT_EQ(st.points, 4 * 1800);
  EXPECT_EQ(st.points_duplicate, 0);
  EXPECT_EQ(st.points_too_old, 0);
  EXPECT_EQ(st.points_conflicting, 0);
  // The stream goes on where it was.
  auto next = r->append(batch("n", seq + 1, {gauge("m0", {{kT0 + 1800 * 10000, 1}})}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->accepted, 1u);
}

TEST(ChunkStore, RollupsEqualAggregatesOfRawPoints) {
  TempDir d;
  auto o = options_in(d);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::mt19937_64 rng(2);
  uint64_t seq = 0;
  double counter = 0;
  std::vector<Point> all;
  // Three days with jittered timestamps and integer-valued noise (so sums are exact in any order).
  for (int64_t i = 0; i < 3 * 8640; i += 360) {
    std::vector<Point> pts;
    for (int64_t k = i; k < i + 360; ++k) {
      counter += static_cast<double>(rng() % 100);
      pts.push_back({kT0 + k * 10000 + static_cast<int64_t>(rng() % 50), counter});
    }
    all.insert(all.end(), pts.begin(), pts.end());
    ASSERT_TRUE(s->append(batch("n", ++seq, {{"c_total", SeriesType::Counter, {}, pts}})).ok());
  }
  int64_t id = id_of(*s, "c_total");
  int64_t from = kT0, to = kT0 + 2 * 86'400'000 - 1;  // rolled up: the windows closed long ago
  for (int64_t step : {int64_t{60'000}, int64_t{300'000}, int64_t{3'600'000}, int64_t{86'400'000}}) {
    auto got = s->read_buckets(id, from, to, step);
    ASSERT_TRUE(got.ok()) << got.error().message;
    auto want = aggregate_points(all, from, to, step);
    EXPECT_EQ(*got, want) << "step " << step;
  }
  // Across the boundary between rolled-up and raw windows, and after a restart.
  s->close();
  s = open_or_die(o);
  auto got = s->read_buckets(id, kT0, INT64_MAX / 2, 3'600'000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, aggregate_points(all, kT0, INT64_MAX / 2, 3'600'000));
  // Steps that are not whole minutes come from raw points.
  got = s->read_buckets(id, kT0, kT0 + 86'400'000, 45'000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, aggregate_points(all, kT0, kT0 + 86'400'000, 45'000));
}

TEST(ChunkStore, RetentionDropsExactlyTheChunksThatAreDue) {
  TempDir d;
  auto o = options_in(d);
  o.retention.raw_ms = 2 * 86'400'000LL;
  o.retention.minute_ms = 4 * 86'400'000LL;
  o.retention.hour_ms = 0;  // forever
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::vector<Point> all;
  uint64_t seq = 0;
  for (int64_t i = 0; i < 6 * 8640; i += 720) {
    std::vector<Point> pts;
    for (int64_t k = i; k < i + 720; ++k) pts.push_back({kT0 + k * 10000, static_cast<double>(k % 7)});
    all.insert(all.end(), pts.begin(), pts.end());
    ASSERT_TRUE(s->append(batch("n", ++seq, {gauge("g", pts)})).ok());
  }
  s->close();  // writes every chunk
  s = open_or_die(o);
  int64_t id = id_of(*s, "g");
  int64_t now = kT0 + 6 * 86'400'000LL + 3'600'000;  // raw cutoff falls inside a 2 h window
  auto removed = s->apply_retention(now);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_GT(*removed, 0);
  int64_t raw_cutoff = now - o.retention.raw_ms;
  int64_t first_kept = raw_cutoff - (raw_cutoff - kT0) % kRawChunkMs;  // start of the window holding the cutoff
  auto raw = s->read(id, 0, INT64_MAX);
  ASSERT_TRUE(raw.ok());
  std::vector<Point> want;
  for (const Point& p : all)
    if (p.t_ms >= first_kept) want.push_back(p);
  EXPECT_EQ(*raw, want);
  // Minute rollups: whole days (their chunk window) older than the cutoff are gone; hours stay.
  int64_t minute_cutoff = now - o.retention.minute_ms;
  auto minutes = s->read_buckets(id, 0, kT0 + 4 * 86'400'000LL - 1, 60'000);
  ASSERT_TRUE(minutes.ok());
  ASSERT_FALSE(minutes->empty());
  EXPECT_EQ(minutes->front().t_ms, minute_cutoff - (minute_cutoff - kT0) % kMinuteChunkMs);
  auto hours = s->read_buckets(id, 0, kT0 + 4 * 86'400'000LL - 1, 3'600'000);
  ASSERT_TRUE(hours.ok());
  ASSERT_FALSE(hours->empty());
  EXPECT_EQ(hours->front().t_ms, kT0);
  EXPECT_EQ(s->stats().points, static_cast<int64_t>(want.size()));
  auto again = s->apply_retention(now);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST(ChunkStore, UpgradesARowPerPointDatabase) {
  TempDir d;
  auto o = options_in(d);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
CREATE TABLE series(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
  type INTEGER NOT NULL) STRICT;
CREATE TABLE points(series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,
  PRIMARY KEY(series_id, ts)) WITHOUT ROWID, STRICT;
CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE TABLE streams(node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
INSERT INTO series VALUES(1, 'g{node="n"}', 'g', '{"node":"n"}', 1);
INSERT INTO streams VALUES('n', '', 7);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<Point> want;
  for (int i = 0; i < 2000; ++i) {
    want.push_back({kT0 + i * 10000, i * 0.5});
    std::string sql = fmt::format("INSERT INTO points VALUES(1, {}, {})", want.back().t_ms, want.back().value);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  auto got = s->read(id_of(*s, "g"), 0, INT64_MAX);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, want);
  auto dup = s->append(batch("n", 7, {gauge("g", {{kT0 + 2000 * 10000, 1}})}));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  auto more = s->append(batch("n", 8, {gauge("g", {{kT0 + 2000 * 10000, 1}})}));
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->accepted, 1u);
  s->close();
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), kSchemaVersion);
  sqlite3_finalize(st);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto newer = open_chunk_store(o);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("newer"), std::string::npos);
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// A schema version 2 database (chunks keyed by series first, format 1 chunk encoding) as the previous
// collector wrote it: one closed and rolled-up raw window, one open window, open minute and hour chunks.
TEST(ChunkStore, UpgradesAVersionTwoDatabase) {
  TempDir d;
  auto o = options_in(d);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const char* v2 = R"sql(
PRAGMA user_version=2;
CREATE TABLE series(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
  type INTEGER NOT NULL, rolled_upto INTEGER NOT NULL DEFAULT 0, max_t INTEGER) STRICT;
CREATE TABLE chunks(series_id INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  count INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(series_id, res, start)) WITHOUT ROWID, STRICT;
CREATE INDEX chunks_by_end ON chunks(res, end);
CREATE TABLE log(id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE INDEX events_by_kind ON events(kind, ts);
CREATE INDEX events_by_ts ON events(ts);
CREATE TABLE streams(node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
INSERT INTO series VALUES(1, 'c_total{node="n"}', 'c_total', '{"node":"n"}', 0, 1763690400000, 1763690510000);
INSERT INTO streams VALUES('n', '', 3);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  // Format 1 chunks (class-coded Gorilla), as bytes: values (i*7)%50 + i for i < 12, then 100 + i.
  struct {
    int res;
    int64_t start, end, count;
    const char* hex;
  } chunks[] = {
      {0, kT0, kT0 + kRawChunkMs, 12,
       "0c000000010000019aa3b5ec000000000000000000e02710c210a10a10a10a10a10a10aaca10a10a10"},
      {0, kT0 + kRawChunkMs, kT0 + 2 * kRawChunkMs, 12,
       "0c000000010000019aa423c9004059000000000000e02710c202a02a02a02a02a02a02a02a02a02a02"},
      {1, kT0, kT0 + kMinuteChunkMs, 2,
       "02000000050000019aa3b5ec004018000000000000405e000000000000000000000000000040440000000000004044000000000000"
       "e0ea60618058c21d84430bf0"},
      {2, 1762560000000, 1762560000000 + kHourChunkMs, 1,
       "01000000050000019aa3b5ec00402800000000000040748000000000000000000000000000404c0000000000004043000000000000"},
  };
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO chunks VALUES(1, ?1, ?2, ?3, ?4, ?5)", -1, &ins, nullptr), SQLITE_OK);
  for (const auto& c : chunks) {
    std::string blob = unhex(c.hex);
    sqlite3_bind_int(ins, 1, c.res);
    sqlite3_bind_int64(ins, 2, c.start);
    sqlite3_bind_int64(ins, 3, c.end);
    sqlite3_bind_int64(ins, 4, c.count);
    sqlite3_bind_blob(ins, 5, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);

  std::vector<Point> want;
  for (int i = 0; i < 12; ++i) want.push_back({kT0 + i * 10000, static_cast<double>((i * 7) % 50 + i)});
  for (int i = 0; i < 12; ++i) want.push_back({kT0 + kRawChunkMs + i * 10000, static_cast<double>(100 + i)});
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  int64_t id = id_of(*s, "c_total");
  auto got = s->read(id, 0, INT64_MAX);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, want);
  EXPECT_EQ(s->stats().points, 24);
  // The first window's minute buckets come from its (upgraded) rollup chunk and match the raw points.
  std::vector<Point> first(want.begin(), want.begin() + 12);
  auto minutes = s->read_buckets(id, kT0, kT0 + kRawChunkMs - 1, 60'000);
  ASSERT_TRUE(minutes.ok()) << minutes.error().message;
  EXPECT_EQ(*minutes, aggregate_points(first, kT0, kT0 + kRawChunkMs - 1, 60'000));
  auto dup = s->append(batch("n", 3, {{"c_total", SeriesType::Counter, {}, {{kT0 + 3 * kRawChunkMs, 1}}}}));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  // New points close the open window: its rollups join the upgraded open minute and hour chunks.
  std::vector<Point> more;
  for (int i = 0; i < 3; ++i) more.push_back({kT0 + 2 * kRawChunkMs + i * 3'600'000, 200.0 + i});
  auto r = s->append(batch("n", 4, {{"c_total", SeriesType::Counter, {}, more}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 3u);
  want.insert(want.end(), more.begin(), more.end());
  s->close();
  s = open_or_die(o);
  got = s->read(id, 0, INT64_MAX);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want);
  for (int64_t step : {int64_t{60'000}, int64_t{3'600'000}}) {
    auto b = s->read_buckets(id, kT0, kT0 + 2 * kRawChunkMs - 1, step);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, aggregate_points(want, kT0, kT0 + 2 * kRawChunkMs - 1, step)) << "step " << step;
  }
  s->close();
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM chunks WHERE res = 0), (SELECT count(*) FROM heads WHERE res = 0), "
                         "(SELECT user_version FROM pragma_user_version)", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2);  // both old windows are final
  EXPECT_EQ(sqlite3_column_int(st, 1), 0);  // open raw chunks are in head pages now
  EXPECT_EQ(sqlite3_column_int(st, 2), kSchemaVersion);
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ(open_raw_chunks(o.path), 2);  // the two windows of the new points are open
}

// Version 3 kept open raw chunks as rows of `heads` and wrote log records of format 1: both are read
// after the upgrade (a collector stopped by a crash leaves its log to the next version).
TEST(ChunkStore, UpgradesAVersionThreeDatabaseWithItsLog) {
  TempDir d;
  auto o = options_in(d);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const char* v3 = R"sql(
PRAGMA page_size=65536;
PRAGMA user_version=3;
CREATE TABLE series(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
  type INTEGER NOT NULL, rolled_upto INTEGER NOT NULL DEFAULT 0, max_t INTEGER, first_t INTEGER) STRICT;
CREATE TABLE chunks(id INTEGER PRIMARY KEY, res INTEGER NOT NULL, start INTEGER NOT NULL, series_id INTEGER NOT NULL,
  count INTEGER NOT NULL, data BLOB NOT NULL) STRICT;
CREATE UNIQUE INDEX chunks_by_time ON chunks(res, start, series_id);
CREATE TABLE heads(series_id INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(series_id, res, start)) WITHOUT ROWID, STRICT;
CREATE TABLE log(id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE INDEX events_by_kind ON events(kind, ts);
CREATE INDEX events_by_ts ON events(ts);
CREATE TABLE streams(node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
INSERT INTO series VALUES(1, 'g{node="n"}', 'g', '{"node":"n"}', 1, 0, NULL, 1763683200000);
INSERT INTO series VALUES(300, 'h{node="n"}', 'h', '{"node":"n"}', 1, 0, NULL, 1763683200000);
INSERT INTO streams VALUES('n', '', 2);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v3, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<Point> want_g, want_h;
  ChunkEncoder head(1);
  for (int i = 0; i < 5; ++i) {
    head.append(kT0 + i * 10000, i * 1.5);
    want_g.push_back({kT0 + i * 10000, i * 1.5});
  }
  std::string record;  // format 1: per entry varint id, varint length, a raw chunk
  for (uint64_t id : {1u, 300u}) {
    ChunkEncoder enc(1);
    for (int i = 5; i < 8; ++i) enc.append(kT0 + i * 10000, i * 2.0);
    put_varint(record, id);
    put_varint(record, enc.size());
    record.append(enc.bytes());
    for (int i = 5; i < 8; ++i) (id == 1 ? want_g : want_h).push_back({kT0 + i * 10000, i * 2.0});
  }
  insert_row(db, "INSERT INTO heads VALUES(1, 0, ?1, 5, ?2)", kT0, head.bytes());
  insert_row(db, "INSERT INTO log VALUES(1, ?1)", std::nullopt, record);
  sqlite3_close(db);

  for (int round = 0; round < 2; ++round) {  // as upgraded, then as written by this version
    auto s = open_or_die(o);
    ASSERT_TRUE(s);
    auto g = s->read(id_of(*s, "g"), 0, INT64_MAX);
    auto h = s->read(id_of(*s, "h"), 0, INT64_MAX);
    ASSERT_TRUE(g.ok() && h.ok());
    EXPECT_EQ(*g, want_g);
    EXPECT_EQ(*h, want_h);
    EXPECT_EQ(s->stats().points, 11);
    auto dup = s->append(batch("n", 2, {gauge("g", {{kT0 + 100000, 1}})}));
    ASSERT_TRUE(dup.ok());
    EXPECT_TRUE(dup->duplicate);
  }
  EXPECT_EQ(open_raw_chunks(o.path), 2);
}

// A series that stops sending has its open window closed (and rolled up) by the sweep on the collector's
// clock, so it holds no chunk in memory; its points stay readable.
TEST(ChunkStore, ClosesTheWindowsOfSeriesThatStopped) {
  TempDir d;
  auto o = options_in(d);
  o.out_of_order_ms = 200;
  o.checkpoint_interval_ms = 50;
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  // Data from yesterday: its windows ended long ago on the wall clock.
  std::vector<Point> pts;
  for (int i = 0; i < 30; ++i) pts.push_back({kT0 + i * 10000, static_cast<double>(i)});
  ASSERT_TRUE(s->append(batch("n", 1, {gauge("idle", pts)})).ok());
  // Data an hour ahead of the wall clock (an agent's clock skew): its window stays open during the test.
  ASSERT_TRUE(s->append(batch("n", 2, {gauge("live", {{now_ms() + 3'600'000, 1}})})).ok());
  // Raw chunks of a series in the database: final (`chunks`; `heads` holds open rollup chunks only).
  auto raw_chunks = [&](const char* table, const std::string& name) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, fmt::format("SELECT count(*) FROM {} h JOIN series s ON s.id = h.series_id "
                                       "WHERE h.res = 0 AND s.name = ?1", table).c_str(), -1, &st, nullptr);
    sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  };
  for (int i = 0; i < 200 && raw_chunks("chunks", "idle") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(raw_chunks("chunks", "idle"), 1);
  EXPECT_EQ(open_raw_chunks(o.path, "idle"), 0);
  EXPECT_EQ(open_raw_chunks(o.path, "live"), 1);
  EXPECT_EQ(raw_chunks("chunks", "live"), 0);
  EXPECT_EQ(raw_chunks("heads", "live"), 0);
  auto got = s->read(id_of(*s, "idle"), 0, INT64_MAX);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, pts);
  auto minutes = s->read_buckets(id_of(*s, "idle"), kT0, kT0 + kRawChunkMs - 1, 60'000);
  ASSERT_TRUE(minutes.ok());
  EXPECT_EQ(*minutes, aggregate_points(pts, kT0, kT0 + kRawChunkMs - 1, 60'000));
  // The window is final: a late point is too old, and the series can go on in a new window.
  auto late = s->append(batch("n", 3, {gauge("idle", {{kT0 + 300'000 + 5, 9}, {kT0 + 3 * kRawChunkMs, 2}})}));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->accepted, 1u);
  EXPECT_EQ(s->stats().points_too_old, 1);
}

TEST(ChunkStore, ReadersRunWhileTheWriterAppends) {
  TempDir d;
  auto o = options_in(d);
  o.checkpoint_interval_ms = 50;  // checkpoints while readers read
  o.raw_chunk_points = 25;        // and cut open chunks, and put cut windows together again
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  // Recent timestamps, so no window is old enough to be closed by the clock while the test runs.
  const int64_t t0 = now_ms() - 600'000;
  ASSERT_TRUE(s->append(batch("n", 1, {gauge("g", {{t0, 0}})})).ok());
  int64_t id = id_of(*s, "g");
  std::atomic<bool> stop{false};
  std::vector<std::string> failures;  // the reader's own, read after join
  std::thread reader([&] {
    size_t last = 0;
    while (!stop && failures.size() < 5) {
      auto pts = s->read(id, 0, INT64_MAX);
      if (!pts.ok()) {
        failures.push_back("read failed: " + pts.error().message);
        continue;
      }
      if (pts->size() < last) failures.push_back(fmt::format("{} points after {}", pts->size(), last));
      last = pts->size();
      // Every point once: no point missing or seen twice while chunks move from memory to the database.
      for (size_t i = 0; i < pts->size(); ++i)
        if ((*pts)[i].t_ms != t0 + static_cast<int64_t>(i) * 10000) {
          failures.push_back(fmt::format("point {} of {} is at t0{:+} s", i, pts->size(),
                                         ((*pts)[i].t_ms - t0) / 1000));
          break;
        }
    }
  });
  for (int i = 1; i < 3000; ++i)
    ASSERT_TRUE(s->append(batch("n", static_cast<uint64_t>(i) + 1, {gauge("g", {{t0 + i * 10000, 1.0 * i}})})).ok());
  stop = true;
  reader.join();
  EXPECT_TRUE(failures.empty()) << fmt::format("{}", fmt::join(failures, "\n"));
  auto pts = s->read(id, 0, INT64_MAX);
  ASSERT_TRUE(pts.ok());
  EXPECT_EQ(pts->size(), 3000u);
}

TEST(ChunkStore, ReadsRetentionConfig) {
  auto yaml = config::load_string("raw: 7d\nminute: 30d\nhour: 0\nout_of_order: 2m\nraw_chunk_points: 0\n");
  ASSERT_TRUE(yaml.ok());
  StoreOptions o;
  ASSERT_TRUE(read_retention(config::Section(*yaml, "retention"), o).ok());
  EXPECT_EQ(o.retention.raw_ms, 7 * 86'400'000LL);
  EXPECT_EQ(o.retention.minute_ms, 30 * 86'400'000LL);
  EXPECT_EQ(o.retention.hour_ms, 0);
  EXPECT_EQ(o.out_of_order_ms, 120'000);
  EXPECT_EQ(o.raw_chunk_points, 0u);
  auto negative = config::load_string("raw_chunk_points: -5\n");
  auto neg = read_retention(config::Section(*negative, "retention"), o);
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.error().message.find("raw_chunk_points"), std::string::npos) << neg.error().message;
  auto bad = config::load_string("raw: 7d\nweekly: 1y\n");
  auto r = read_retention(config::Section(*bad, "retention"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("weekly"), std::string::npos);
}

// Labels are stored as JSON text written by hand (not by a JSON library): any value comes back.
TEST(ChunkStore, LabelValuesOfAnyTextSurviveReopen) {
  TempDir d;
  auto o = options_in(d);
  Labels labels = {{"a", "quote \" backslash \\ newline \n tab \t"}, {"b", "\x01\x1f control"},
                   {"c", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}, {"z", ""}};
  {
    auto s = open_or_die(o);
    ASSERT_TRUE(s->append(batch("gpu-1.a_b", 1, {gauge("m", {{kT0, 1}}, labels)})).ok());
    s->close();
  }
  auto s = open_or_die(o);
  auto sel = s->select("m", {{"c", Matcher::Op::Eq, labels[2].second}});
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  Labels want = labels;
  want.insert(want.begin() + 3, {"node", "gpu-1.a_b"});
  EXPECT_EQ((*sel)[0].labels, want);
  // The same identity is the same series after the restart.
  auto r = s->append(batch("gpu-1.a_b", 2, {gauge("m", {{kT0 + 10000, 2}}, labels)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s->stats().series, 1);
  EXPECT_EQ(s->read((*sel)[0].id, 0, INT64_MAX)->size(), 2u);
}

// A batch's seq is durable in its log record, points or not: a retry after a crash is a duplicate, and
// the `streams` table has it after the next checkpoint.
TEST(ChunkStore, SeqsSurviveACrashThroughTheLog) {
  TempDir d;
  auto o = options_in(d);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  Batch events_only = batch("n1", 5, {});
  Event e;
  e.kind = "vfs_hot_dirs";
  e.t_ms = kT0;
  events_only.events.push_back(e);
  ASSERT_TRUE(s->append(events_only).ok());
  Batch points = batch("n2", 9, {gauge("g", {{kT0, 1}})});
  points.stream = "s1";
  ASSERT_TRUE(s->append(points).ok());
  crash_copy(o.path, d.str() + "/crashed.db");
  auto o2 = options_in(d, "crashed.db");
  for (int round = 0; round < 2; ++round) {  // replayed from the log, then from `streams` after close
    auto c = open_or_die(o2);
    ASSERT_TRUE(c);
    auto again = c->append(events_only);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate) << round;
    auto again2 = c->append(points);
    ASSERT_TRUE(again2.ok());
    EXPECT_TRUE(again2->duplicate) << round;
    Batch other_stream = points;
    other_stream.stream = "s2";  // same node, another stream: its own sequence
    if (round == 0) {
      EXPECT_FALSE(c->append(other_stream)->duplicate);
    }
    c->close();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o2.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT group_concat(node || '/' || stream || '/' || seq, ' ') FROM "
                         "(SELECT * FROM streams ORDER BY node, stream)", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "n1//5 n2/s1/9 n2/s2/9");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Closing a raw window only marks it: its rollups are computed by the checkpoint that writes it final,
// so no rollup chunk waits in memory. Until then reads aggregate the closed window's raw points.
TEST(ChunkStore, WindowsClosedBetweenCheckpointsAreRolledUpByTheCheckpoint) {
  TempDir d;
  auto o = options_in(d);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::vector<Point> all;
  uint64_t seq = 0;
  auto day = [&](int64_t first_step) {
    std::vector<Point> pts;
    for (int64_t k = first_step; k < first_step + 8640; ++k) pts.push_back({kT0 + k * 10000, static_cast<double>(k % 97)});
    all.insert(all.end(), pts.begin(), pts.end());
    ASSERT_TRUE(s->append(batch("n", ++seq, {gauge("g", pts)})).ok());
  };
  auto rollup_rows = [&] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM heads WHERE res > 0) + (SELECT count(*) FROM chunks WHERE res > 0)",
                       -1, &st, nullptr);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  };
  auto check = [&](const char* when) {
    int64_t id = id_of(*s, "g");
    for (int64_t step : {int64_t{60'000}, int64_t{3'600'000}}) {
      auto got = s->read_buckets(id, kT0, INT64_MAX / 2, step);
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_EQ(*got, aggregate_points(all, kT0, INT64_MAX / 2, step)) << when << ", step " << step;
    }
  };
  day(0);  // eleven windows close
  check("closed, not checkpointed");
  EXPECT_EQ(rollup_rows(), 0);
  s->close();
  s = open_or_die(o);
  EXPECT_GT(rollup_rows(), 0);
  check("after the checkpoint");
  day(8640);  // twelve more close: rolled up partly in the database, partly not yet
  check("mixed");
}

// A late point may open a window before the series' first open one; windows stay in order through
// closes, checkpoints and a restart.
TEST(ChunkStore, ALatePointOpensAnEarlierWindowInItsPlace) {
  TempDir d;
  auto o = options_in(d);
  o.out_of_order_ms = 3'600'000;
  std::vector<Point> want = {{kT0 + kRawChunkMs - 300'000, 1}, {kT0 + kRawChunkMs + 600'000, 2}};
  {
    auto s = open_or_die(o);
    ASSERT_EQ(s->append(batch("n", 1, {gauge("g", {want[1]})}))->accepted, 1u);  // the second window first
    ASSERT_EQ(s->append(batch("n", 2, {gauge("g", {want[0]})}))->accepted, 1u);  // then the first, 15 min late
    EXPECT_EQ(*s->read(id_of(*s, "g"), 0, INT64_MAX), want);
    s->close();
  }
  auto s = open_or_die(o);
  EXPECT_EQ(*s->read(id_of(*s, "g"), 0, INT64_MAX), want);
  EXPECT_EQ(open_raw_chunks(o.path, "g"), 2);
  // A point far ahead closes both: each window is written final, in order.
  want.push_back({kT0 + 3 * kRawChunkMs + 3'600'000, 3});
  ASSERT_EQ(s->append(batch("n", 3, {gauge("g", {want[2]})}))->accepted, 1u);
  s->close();
  s = open_or_die(o);
  EXPECT_EQ(*s->read(id_of(*s, "g"), 0, INT64_MAX), want);
  EXPECT_EQ(open_raw_chunks(o.path, "g"), 1);
}

// ------------------------------------------------------------------------ cut raw chunks (version 5)

namespace {

// Raw chunks in the database: written parts of open windows, and the largest open chunk.
struct RawLayout {
  int written_parts = 0;      // rows of raw_parts
  int64_t largest_open = 0;   // rows of the largest open raw chunk (head pages)
  uint32_t largest_open_part = 0;
};

RawLayout raw_layout(const std::string& path) {
  RawLayout out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM raw_parts", -1, &st, nullptr);
  if (sqlite3_step(st) == SQLITE_ROW) out.written_parts = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT page, data FROM head_pages", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string_view data(static_cast<const char*>(sqlite3_column_blob(st, 1)), sqlite3_column_bytes(st, 1));
    auto r = read_head_page(data, static_cast<uint32_t>(sqlite3_column_int64(st, 0)), [&](const HeadPageEntry& e) {
      out.largest_open = std::max<int64_t>(out.largest_open, e.count);
      out.largest_open_part = std::max(out.largest_open_part, e.part);
    });
    EXPECT_TRUE(r.ok()) << r.error().message;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// A minute of points of three series: a regular gauge, a counter with jittered timestamps, and a gauge
// whose points of the minute arrive in reverse order (out of order within the out-of-order window) with
// a duplicate.
std::vector<Series> minute_of(int64_t minute, std::map<std::string, std::vector<Point>>& want) {
  std::vector<Series> out;
  std::vector<Point> reg, jit, rev;
  for (int64_t i = 0; i < 6; ++i) {
    int64_t t = kT0 + minute * 60'000 + i * 10'000;
    reg.push_back({t, static_cast<double>((minute * 7 + i * 3) % 50)});
    jit.push_back({t + (minute * 13 + i * 7) % 40, static_cast<double>(minute * 100 + i * 17)});
    rev.push_back({t, 0.25 * static_cast<double>(minute * 6 + i)});
  }
  for (auto [name, pts] : {std::pair{"reg", reg}, {"jit", jit}, {"rev", rev}})
    want[name].insert(want[name].end(), pts.begin(), pts.end());
  std::reverse(rev.begin(), rev.end());
  rev.push_back(rev.front());
  out.push_back(gauge("reg", reg));
  out.push_back({"jit", SeriesType::Counter, {}, jit});
  out.push_back(gauge("rev", rev));
  return out;
}

// The final raw chunks in the database by series name and window.
std::map<std::pair<std::string, int64_t>, std::string> final_raw_chunks(const std::string& path) {
  std::map<std::pair<std::string, int64_t>, std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT s.name, c.start, c.data FROM chunks c JOIN series s ON s.id = c.series_id "
                         "WHERE c.res = 0", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    out[{reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_int64(st, 1)}] =
        std::string(static_cast<const char*>(sqlite3_column_blob(st, 2)), sqlite3_column_bytes(st, 2));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

StoreOptions cutting(const TempDir& d, const std::string& name, uint32_t points) {
  auto o = options_in(d, name);
  o.checkpoint_interval_ms = 0;  // a checkpoint after every batch, as a live collector's every minute
  o.raw_chunk_points = points;
  return o;
}

void expect_same_answers(Store& a, Store& b, const std::map<std::string, std::vector<Point>>& want,
                         int64_t to) {
  for (const auto& [name, pts] : want) {
    int64_t ia = id_of(a, name), ib = id_of(b, name);
    auto got = a.read(ia, 0, INT64_MAX);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, pts) << name;
    // Ranges that start and end inside parts.
    for (int64_t from : {kT0 + 7 * 60'000 + 5'000, kT0 + 95 * 60'000, kT0 + 150 * 60'000})
      EXPECT_EQ(*a.read(ia, from, from + 47 * 60'000), *b.read(ib, from, from + 47 * 60'000)) << name << " " << from;
    for (int64_t step : {int64_t{60'000}, int64_t{600'000}, int64_t{3'600'000}}) {
      auto x = a.read_buckets(ia, kT0, to, step), y = b.read_buckets(ib, kT0, to, step);
      ASSERT_TRUE(x.ok() && y.ok());
      EXPECT_EQ(*x, *y) << name << " step " << step;
      EXPECT_EQ(*x, aggregate_points(pts, kT0, to, step)) << name << " step " << step;
    }
  }
}

}  // namespace

// An open raw chunk that grows past raw_chunk_points is cut at a checkpoint: its points older than the
// out-of-order window become a final part, so the open chunk (in memory and in the head pages) stays small.
// Reads see every point once across parts and memory; rollups equal those of a store that never cuts.
TEST(ChunkStore, CutsLongOpenRawChunksIntoPartsAndReadsThemOnce) {
  TempDir d;
  auto cut = open_or_die(cutting(d, "cut.db", 40));
  auto whole = open_or_die(cutting(d, "whole.db", 0));
  ASSERT_TRUE(cut && whole);
  std::map<std::string, std::vector<Point>> want;
  int64_t largest_open = 0;
  uint64_t seq = 0;
  // Five hours, a batch a minute: two windows close (rolled up) and the third is open.
  for (int64_t m = 0; m < 300; ++m) {
    std::map<std::string, std::vector<Point>> ignored;
    auto series = minute_of(m, want);
    ASSERT_TRUE(cut->append(batch("n", ++seq, series)).ok());
    ASSERT_TRUE(whole->append(batch("n", seq, minute_of(m, ignored))).ok());
    if (m % 10 == 9) {
      // Readers see the same points while parts move out of memory.
      for (const auto& [name, pts] : want) EXPECT_EQ(*cut->read(id_of(*cut, name), 0, INT64_MAX), pts) << m;
      largest_open = std::max(largest_open, raw_layout(d.str() + "/cut.db").largest_open);
    }
  }
  // The open chunk: at most the cut size plus a batch, and never a whole window (720 points).
  EXPECT_LE(largest_open, 40 + 6 + 1);
  EXPECT_GT(raw_layout(d.str() + "/cut.db").largest_open_part, 2u);
  EXPECT_EQ(raw_layout(d.str() + "/whole.db").written_parts, 0);
  // The open window's earlier parts are written (raw_parts); the closed windows were cut too, and are one
  // final chunk each again, the very one the store that never cuts wrote.
  EXPECT_GE(raw_layout(d.str() + "/cut.db").written_parts, 3 * 2);
  auto whole_chunks = final_raw_chunks(d.str() + "/whole.db");
  EXPECT_EQ(whole_chunks.size(), 3u * 2);
  EXPECT_EQ(final_raw_chunks(d.str() + "/cut.db"), whole_chunks);
  EXPECT_EQ(cut->stats().points, 3 * 300 * 6);
  EXPECT_EQ(cut->stats().points_duplicate, whole->stats().points_duplicate);
  expect_same_answers(*cut, *whole, want, kT0 + 300 * 60'000);
  // After a clean close and reopen, and once every window has closed.
  cut->close();
  cut = open_or_die(cutting(d, "cut.db", 40));
  expect_same_answers(*cut, *whole, want, kT0 + 300 * 60'000);
  std::map<std::string, std::vector<Point>> ignored;
  auto far = minute_of(600, ignored);
  ASSERT_TRUE(cut->append(batch("n", ++seq, far)).ok());
  ASSERT_TRUE(whole->append(batch("n", seq, far)).ok());
  auto wider = want;
  for (auto& [name, pts] : ignored) wider[name].insert(wider[name].end(), pts.begin(), pts.end());
  expect_same_answers(*cut, *whole, wider, kT0 + 601 * 60'000);
}

// A crash in the middle of a window whose earlier parts are written: recovery replays the log onto the
// open part and stores nothing twice, also when the log still holds points a written part has (a crash
// after a checkpoint's slices but before its log truncation), and also when the out-of-order window is
// wider after the restart.
TEST(ChunkStore, RecoversACutWindowAfterACrash) {
  TempDir d;
  auto o = cutting(d, "live.db", 40);
  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  std::map<std::string, std::vector<Point>> want;
  uint64_t seq = 0;
  for (int64_t m = 0; m < 100; ++m) ASSERT_TRUE(s->append(batch("n", ++seq, minute_of(m, want))).ok());
  // No checkpoint from here on: later batches are in the log only.
  s->close();
  auto quiet = options_in(d, "live.db");
  quiet.raw_chunk_points = 40;
  s = open_or_die(quiet);
  for (int64_t m = 100; m < 110; ++m) ASSERT_TRUE(s->append(batch("n", ++seq, minute_of(m, want))).ok());
  crash_copy(quiet.path, d.str() + "/crashed.db");
  // Every point of the log once more after a checkpoint wrote (and cut) it all: the log put back.
  s->close();
  s.reset();
  crash_copy(quiet.path, d.str() + "/replayed.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((d.str() + "/replayed.db").c_str(), &db), SQLITE_OK);
    std::string attach = "ATTACH '" + d.str() + "/crashed.db' AS crashed";
    ASSERT_EQ(sqlite3_exec(db, attach.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO log SELECT * FROM crashed.log", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  for (const char* name : {"crashed.db", "replayed.db"})
    for (int64_t out_of_order : {int64_t{300'000}, int64_t{3'600'000}}) {
      SCOPED_TRACE(std::string(name) + " out of order " + std::to_string(out_of_order));
      std::filesystem::remove(d.str() + "/copy.db-wal");
      crash_copy(d.str() + "/" + name, d.str() + "/copy.db");
      auto oc = cutting(d, "copy.db", 40);
      oc.out_of_order_ms = out_of_order;
      auto c = open_or_die(oc);
      ASSERT_TRUE(c);
      EXPECT_GT(raw_layout(oc.path).largest_open_part, 0u);
      for (const auto& [series, pts] : want) EXPECT_EQ(*c->read(id_of(*c, series), 0, INT64_MAX), pts) << series;
      EXPECT_EQ(c->stats().points, 3 * 110 * 6);
      EXPECT_EQ(c->stats().points_too_old, 0);
      // The window goes on and closes; its rollups cover every part.
      auto all = want;
      for (int64_t m = 110; m < 200; ++m) ASSERT_TRUE(c->append(batch("n", seq + 1 + m, minute_of(m, all))).ok());
      for (const auto& [series, pts] : all) {
        int64_t id = id_of(*c, series);
        EXPECT_EQ(*c->read(id, 0, INT64_MAX), pts) << series;
        EXPECT_EQ(*c->read_buckets(id, kT0, kT0 + kRawChunkMs - 1, 60'000),
                  aggregate_points(pts, kT0, kT0 + kRawChunkMs - 1, 60'000)) << series;
        EXPECT_EQ(*c->read_buckets(id, kT0, kT0 + kRawChunkMs - 1, 3'600'000),
                  aggregate_points(pts, kT0, kT0 + kRawChunkMs - 1, 3'600'000)) << series;
      }
      c->close();
    }
}

// Version 4 keyed final chunks by (res, start, series) and wrote head page entries without a part: opened
// by version 5, its chunks are part 0 and its open chunks go on and are cut like any.
TEST(ChunkStore, UpgradesAVersionFourDatabase) {
  TempDir d;
  auto o = cutting(d, "v4.db", 40);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const char* v4 = R"sql(
PRAGMA page_size=65536;
PRAGMA user_version=4;
CREATE TABLE series(id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, type INTEGER NOT NULL,
  rolled_upto INTEGER NOT NULL DEFAULT 0, max_t INTEGER, first_t INTEGER) STRICT;
CREATE TABLE chunks(id INTEGER PRIMARY KEY, res INTEGER NOT NULL, start INTEGER NOT NULL, series_id INTEGER NOT NULL,
  count INTEGER NOT NULL, data BLOB NOT NULL) STRICT;
CREATE UNIQUE INDEX chunks_by_time ON chunks(res, start, series_id);
CREATE TABLE heads(series_id INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(series_id, res, start)) WITHOUT ROWID, STRICT;
CREATE TABLE head_pages(page INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
CREATE TABLE log(id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE INDEX events_by_kind ON events(kind, ts);
CREATE INDEX events_by_ts ON events(ts);
CREATE TABLE streams(node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
INSERT INTO series VALUES(1, 'reg', '{"node":"n"}', 1, 1763690400000, NULL, 1763683200000);
INSERT INTO streams VALUES('n', '', 1);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v4, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  // The first window final (without rollups: this test reads raw points), 30 minutes of the second open.
  std::vector<Point> want;
  ChunkEncoder final_chunk(1), open(1);
  for (int64_t i = 0; i < 720 + 180; ++i) {
    Point p{kT0 + i * 10'000, static_cast<double>(i % 17)};
    (i < 720 ? final_chunk : open).append(p.t_ms, p.value);
    want.push_back(p);
  }
  insert_row(db, "INSERT INTO chunks(res, start, series_id, count, data) VALUES(0, ?1, 1, 720, ?2)", kT0,
             final_chunk.bytes());
  std::string page;  // version 4's entry: offset, zigzag(start), rows, length, chunk
  put_varint(page, 1);
  put_varint(page, static_cast<uint64_t>(kT0 + kRawChunkMs) << 1);
  put_varint(page, 180);
  put_varint(page, open.size());
  page.append(open.bytes());
  insert_row(db, "INSERT INTO head_pages VALUES(0, ?1)", std::nullopt, page);
  sqlite3_close(db);

  auto s = open_or_die(o);
  ASSERT_TRUE(s);
  int64_t id = id_of(*s, "reg");
  EXPECT_EQ(*s->read(id, 0, INT64_MAX), want);
  EXPECT_EQ(s->stats().points, 900);
  for (int64_t i = 900; i < 1500; i += 6) {
    std::vector<Point> pts;
    for (int64_t k = i; k < i + 6; ++k) pts.push_back({kT0 + k * 10'000, static_cast<double>(k % 17)});
    want.insert(want.end(), pts.begin(), pts.end());
    ASSERT_EQ(s->append(batch("n", 2 + static_cast<uint64_t>(i), {gauge("reg", pts)}))->accepted, 6u);
  }
  EXPECT_EQ(*s->read(id, 0, INT64_MAX), want);
  EXPECT_EQ(*s->read(id, kT0 + kRawChunkMs + 600'000, kT0 + kRawChunkMs + 1'500'000),
            std::vector<Point>(want.begin() + 720 + 60, want.begin() + 720 + 151));
  // The upgraded open chunk went on, was cut, and its window closed.
  EXPECT_GT(raw_layout(o.path).written_parts, 0);
  EXPECT_EQ(*s->read_buckets(id, kT0 + kRawChunkMs, kT0 + 2 * kRawChunkMs - 1, 60'000),
            aggregate_points(want, kT0 + kRawChunkMs, kT0 + 2 * kRawChunkMs - 1, 60'000));
  s->close();
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version), "
                         "(SELECT count(*) FROM chunks WHERE res = 0 AND start = ?1)", -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, kT0);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), kSchemaVersion);
  EXPECT_EQ(sqlite3_column_int(st, 1), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(HeadPage, EntriesNameTheirPart) {
  std::string page;
  put_head_page_entry(page, {3 * kHeadPageSeries + 7, -kRawChunkMs * 5, 2, "ab", 4});
  put_head_page_entry(page, {3 * kHeadPageSeries + 9, kT0, 1, "c", 0});
  std::vector<HeadPageEntry> got;
  ASSERT_TRUE(read_head_page(page, 3, [&](const HeadPageEntry& e) { got.push_back(e); }).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].series_id, 3 * kHeadPageSeries + 7);
  EXPECT_EQ(got[0].start, -kRawChunkMs * 5);
  EXPECT_EQ(got[0].part, 4u);
  EXPECT_EQ(got[0].chunk, "ab");
  EXPECT_EQ(got[1].start, kT0);
  EXPECT_EQ(got[1].part, 0u);
}
