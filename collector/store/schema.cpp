#include "collector/store/chunk_store_impl.h"

#include <limits>

#include "collector/store/head_page.h"
#include "common/log.h"

namespace ss::collector::chunk_store_impl {

namespace {

// Version 1 is the row-per-point layout of the first store (no user_version, a `points` table);
// version 2 added chunks keyed (series_id, res, start), the batch log and per-series head state;
// version 3 splits chunks into final ones, appended in time order to a rowid table, and the open ones
// (`heads`, rewritten at every checkpoint), and adds series.first_t; version 4 moves the open raw chunks
// from `heads` into `head_pages` (collector/store/head_page.h) and writes the batch log in format 2;
// version 5 (kSchemaVersion) adds `raw_parts`: a long open raw chunk is cut, its older points written there
// until the window closes. The v2 tables are created on the way when upgrading a version 1 database, then
// converted like any v2 database, and so on.
const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
  type INTEGER NOT NULL, rolled_upto INTEGER NOT NULL DEFAULT 0, max_t INTEGER) STRICT;
CREATE TABLE IF NOT EXISTS chunks(
  series_id INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  count INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(series_id, res, start)) WITHOUT ROWID, STRICT;
CREATE INDEX IF NOT EXISTS chunks_by_end ON chunks(res, end);
CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, ts);
CREATE INDEX IF NOT EXISTS events_by_ts ON events(ts);
CREATE TABLE IF NOT EXISTS streams(
  node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
)sql";

// Final chunks never change: appending them (rowid order = the order windows close) keeps the big table's
// pages full; the small unique index finds them by time, then series. Open chunks live in `heads`.
const char* kUpgradeV2toV3 = R"sql(
ALTER TABLE series ADD COLUMN first_t INTEGER;
UPDATE series SET first_t = (SELECT min(start) FROM chunks WHERE series_id = series.id);
DROP INDEX IF EXISTS chunks_by_end;
ALTER TABLE chunks RENAME TO chunks_v2;
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY, res INTEGER NOT NULL, start INTEGER NOT NULL, series_id INTEGER NOT NULL,
  count INTEGER NOT NULL, data BLOB NOT NULL) STRICT;
CREATE UNIQUE INDEX chunks_by_time ON chunks(res, start, series_id);
CREATE TABLE heads(
  series_id INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(series_id, res, start)) WITHOUT ROWID, STRICT;
INSERT INTO heads SELECT c.series_id, 0, c.start, c.count, c.data FROM chunks_v2 c JOIN series s ON s.id = c.series_id
  WHERE c.res = 0 AND c.start >= s.rolled_upto;
INSERT INTO heads SELECT c.series_id, c.res, c.start, c.count, c.data FROM chunks_v2 c
  WHERE c.res > 0 AND c.start = (SELECT max(start) FROM chunks_v2 d WHERE d.series_id = c.series_id AND d.res = c.res);
INSERT INTO chunks(res, start, series_id, count, data)
  SELECT c.res, c.start, c.series_id, c.count, c.data FROM chunks_v2 c
  WHERE NOT EXISTS (SELECT 1 FROM heads h WHERE h.series_id = c.series_id AND h.res = c.res AND h.start = c.start)
  ORDER BY c.res, c.start, c.series_id;
DROP TABLE chunks_v2;
)sql";

// The series table loses its `key` column (the canonical text, with a unique index): the collector finds
// series by identity in memory, and every new series paid for the index. Open raw chunks move from
// `heads` to `head_pages` (upgrade_v3_to_v4()).
const char* kUpgradeV3toV4 = R"sql(
CREATE TABLE series_v4(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, type INTEGER NOT NULL,
  rolled_upto INTEGER NOT NULL DEFAULT 0, max_t INTEGER, first_t INTEGER) STRICT;
INSERT INTO series_v4 SELECT id, name, labels, type, rolled_upto, max_t, first_t FROM series ORDER BY id;
DROP TABLE series;
ALTER TABLE series_v4 RENAME TO series;
CREATE TABLE head_pages(page INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT;
)sql";

// An open raw chunk that reached StoreOptions::raw_chunk_points is cut: its older points go to `raw_parts`
// (parts 0, 1, ... of the open window), so that memory does not hold whole 2-hour windows; the checkpoint
// that writes the closed window final puts its parts together again in `chunks` and deletes them. Keyed by
// series, they are found by one range seek; a table of their own frees whole pages when windows close
// (in `chunks` the deleted parts left half-empty pages between final chunks). Head page entries of
// version 4 read as part 0.
const char* kUpgradeV4toV5 = R"sql(
CREATE TABLE raw_parts(
  series_id INTEGER NOT NULL, start INTEGER NOT NULL, part INTEGER NOT NULL, count INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(series_id, start, part)) WITHOUT ROWID, STRICT;
)sql";

}  // namespace

Result<void> ChunkStore::migrate() {
  int version = 0;
  {
    Stmt s;
    if (auto r = s.prepare(db_, "PRAGMA user_version"); !r.ok()) return r;
    if (sqlite3_step(s.get()) == SQLITE_ROW) version = sqlite3_column_int(s.get(), 0);
  }
  if (version > kSchemaVersion)
    return errorf("database {} has schema version {}, newer than this collector's {}: upgrade the collector",
                  opt_.path, version, kSchemaVersion);
  if (version == kSchemaVersion) return {};
  bool has_points = false, has_series = false;
  {
    Stmt s;
    if (auto r = s.prepare(db_, "SELECT name FROM sqlite_master WHERE type='table'"); !r.ok()) return r;
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      std::string n = text_column(s.get(), 0);
      has_points = has_points || n == "points";
      has_series = has_series || n == "series";
    }
  }
  if (auto r = exec(db_, "BEGIN IMMEDIATE"); !r.ok()) return r;
  auto fail = [&](Result<void> r) {
    (void)exec(db_, "ROLLBACK");
    return r;
  };
  if (version < 3) {
    if (auto r = upgrade_to_v3(version, has_series, has_points); !r.ok()) return fail(r);
  }
  if (has_series && version == 3)
    log::info("store: upgrading {} from version 3 to {} (open raw chunks in pages)", opt_.path, kSchemaVersion);
  if (version < 4) {
    if (auto r = upgrade_v3_to_v4(); !r.ok()) return fail(r);
  }
  if (has_series && version == 4)
    log::info("store: upgrading {} from version 4 to {} (open raw chunks cut in parts)", opt_.path, kSchemaVersion);
  if (auto r = exec(db_, kUpgradeV4toV5); !r.ok()) return fail(r);
  std::string set_version = fmt::format("PRAGMA user_version={}", kSchemaVersion);
  if (auto r = exec(db_, set_version.c_str()); !r.ok()) return fail(r);
  return exec(db_, "COMMIT");
}

// Inside migrate()'s transaction.
Result<void> ChunkStore::upgrade_to_v3(int version, bool has_series, bool has_points) {
  if (has_series && version < 2) {
    // Version 1: add the head-state columns before CREATE IF NOT EXISTS leaves `series` alone.
    if (auto r = exec(db_, "ALTER TABLE series ADD COLUMN rolled_upto INTEGER NOT NULL DEFAULT 0"); !r.ok())
      return r;
    if (auto r = exec(db_, "ALTER TABLE series ADD COLUMN max_t INTEGER"); !r.ok()) return r;
  }
  if (auto r = exec(db_, kSchemaV2); !r.ok()) return r;
  if (has_points && version < 2) {
    // Rows of version 1 become raw chunks; rollups follow as the windows close after the upgrade.
    log::info("store: upgrading {} from row-per-point (version {}) to chunks (version {})", opt_.path, version,
              kSchemaVersion);
    Stmt sel, ins;
    if (auto r = sel.prepare(db_, "SELECT series_id, ts, value FROM points ORDER BY series_id, ts"); !r.ok())
      return r;
    if (auto r = ins.prepare(db_, "INSERT OR REPLACE INTO chunks(series_id, res, start, end, count, data) "
                                  "VALUES(?1, 0, ?2, ?3, ?4, ?5)");
        !r.ok())
      return r;
    int64_t cur_series = -1, cur_start = 0;
    std::optional<ChunkEncoder> enc;
    auto flush = [&]() -> Result<void> {
      if (!enc || enc->count() == 0) return {};
      sqlite3_stmt* s = ins.fresh();
      sqlite3_bind_int64(s, 1, cur_series);
      sqlite3_bind_int64(s, 2, cur_start);
      sqlite3_bind_int64(s, 3, cur_start + kRawChunkMs);
      sqlite3_bind_int64(s, 4, enc->count());
      sqlite3_bind_blob(s, 5, enc->bytes().data(), static_cast<int>(enc->bytes().size()), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) return errorf("sqlite: upgrading points: {}", sqlite3_errmsg(db_));
      return {};
    };
    while (sqlite3_step(sel.get()) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(sel.get(), 0), t = sqlite3_column_int64(sel.get(), 1);
      double v = sqlite3_column_type(sel.get(), 2) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                                   : sqlite3_column_double(sel.get(), 2);
      int64_t w = floor_to(t, kRawChunkMs);
      if (id != cur_series || w != cur_start) {
        if (auto r = flush(); !r.ok()) return r;
        cur_series = id;
        cur_start = w;
        enc.emplace(1);
      }
      enc->append(t, v);
    }
    if (auto r = flush(); !r.ok()) return r;
    sel.finalize();
    ins.finalize();
    if (auto r = exec(db_, "DROP TABLE points"); !r.ok()) return r;
  }
  if (has_series && version == 2)
    log::info("store: upgrading {} from version 2 to {} (final chunks in time order, open chunks apart)",
              opt_.path, kSchemaVersion);
  return exec(db_, kUpgradeV2toV3);
}

// Inside migrate()'s transaction: the open raw chunks of `heads` become head pages. (Log records of
// format 1 stay: replay reads both formats.)
Result<void> ChunkStore::upgrade_v3_to_v4() {
  if (auto r = exec(db_, kUpgradeV3toV4); !r.ok()) return r;
  Stmt sel, ins;
  if (auto r = sel.prepare(db_, "SELECT series_id, start, count, data FROM heads WHERE res = 0 ORDER BY series_id, start");
      !r.ok())
    return r;
  if (auto r = ins.prepare(db_, "INSERT INTO head_pages(page, data) VALUES(?1, ?2)"); !r.ok()) return r;
  std::string page;
  int64_t page_no = -1;
  auto flush = [&]() -> Result<void> {
    if (page.empty()) return {};
    sqlite3_stmt* s = ins.fresh();
    sqlite3_bind_int64(s, 1, page_no);
    sqlite3_bind_blob(s, 2, page.data(), static_cast<int>(page.size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return errorf("sqlite: upgrading open chunks: {}", sqlite3_errmsg(db_));
    page.clear();
    return {};
  };
  while (sqlite3_step(sel.get()) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(sel.get(), 0);
    if (id <= 0 || id >= int64_t{UINT32_MAX}) return errorf("open chunk of series {} is out of range", id);
    auto series = static_cast<uint32_t>(id);
    if (head_page_of(series) != page_no) {
      if (auto r = flush(); !r.ok()) return r;
      page_no = head_page_of(series);
    }
    put_head_page_entry(page, {series, sqlite3_column_int64(sel.get(), 1),
                               static_cast<uint32_t>(sqlite3_column_int64(sel.get(), 2)), blob_column(sel.get(), 3)});
  }
  if (auto r = flush(); !r.ok()) return r;
  sel.finalize();
  ins.finalize();
  return exec(db_, "DELETE FROM heads WHERE res = 0");
}

}  // namespace ss::collector::chunk_store_impl
