#include "collector/store/chunk_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "collector/store/chunk_codec.h"
#include "collector/store/head_page.h"
#include "collector/store/log_record.h"
#include "collector/store/series_catalog.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------- SQLite

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  Result<void> prepare(sqlite3* db, const char* sql) {
    sqlite3_finalize(s_);
    s_ = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      return errorf("sqlite: {}: {}", sqlite3_errmsg(db), sql);
    return {};
  }
  sqlite3_stmt* get() const { return s_; }
  void finalize() {
    sqlite3_finalize(s_);
    s_ = nullptr;
  }
  // Resets and clears bindings so the statement can be reused.
  sqlite3_stmt* fresh() const {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return s_;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

Result<void> exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return errorf("sqlite: {}: {}", msg, sql);
  }
  return {};
}

Result<sqlite3*> open_connection(const std::string& path, bool writer) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return errorf("cannot open database {}: {}", path, msg);
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

std::string text_column(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p) : std::string();
}

std::string_view blob_column(sqlite3_stmt* s, int i) {
  auto p = static_cast<const char*>(sqlite3_column_blob(s, i));
  return p ? std::string_view(p, sqlite3_column_bytes(s, i)) : std::string_view();
}

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

// ---------------------------------------------------------------------------------------------- helpers

int64_t floor_to(int64_t t, int64_t width) { return t - (((t % width) + width) % width); }

std::string labels_to_json(const Labels& labels) {
  json o = json::object();
  for (const auto& [k, v] : labels) o[k] = v;
  return o.dump();
}

Labels labels_from_json(const std::string& text) {
  Labels labels;
  json o = json::parse(text, nullptr, false);
  if (o.is_object())
    for (const auto& [k, v] : o.items()) labels.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return labels;
}

Labels with_node(const Labels& labels, const std::string& node) {
  Labels out;
  out.reserve(labels.size() + 1);
  bool placed = false;
  for (const auto& l : labels) {
    if (!placed && l.first > "node") {
      out.emplace_back("node", node);
      placed = true;
    }
    if (l.first != "node") out.push_back(l);
  }
  if (!placed) out.emplace_back("node", node);
  return out;
}

// labels_to_json(with_node(labels, node)) without copying the labels or building a JSON document: every
// new series pays it (millions in the first minute of a large cluster).
std::string labels_json_with_node(const Labels& labels, const std::string& node) {
  std::string out;
  out.reserve(16 + node.size() + labels.size() * 24);
  out += '{';
  bool placed = false, first = true;
  auto put = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  };
  for (const auto& l : labels) {
    if (!placed && l.first > "node") {
      put("node", node);
      placed = true;
    }
    if (l.first != "node") put(l.first, l.second);
  }
  if (!placed) put("node", node);
  out += '}';
  return out;
}

// One chunk in memory: the open head of a series, or a closed chunk waiting for the next checkpoint.
struct MemChunk {
  int64_t start = 0;
  ChunkEncoder enc;
  bool closed = false;  // final; leaves memory once written
  bool dirty = false;   // differs from the database row
  uint32_t part = 0;    // raw: the window's earlier parts are in `raw_parts` (cut_raw())
  MemChunk(int64_t s, int columns) : start(s), enc(columns) {}
};

// The raw chunks of a series, ascending by window start and part: usually one, the open window; for the
// out-of-order window after a boundary two; more when windows closed together or a cut part wait for the
// checkpoint. The first has its own allocation that stays put: a vector moved every series' chunk into a
// block twice the size at each boundary, and the millions of blocks it let go stayed in the heap, ~250
// bytes a series.
class RawChunks {
 public:
  size_t size() const { return first_ ? 1 + (more_ ? more_->size() : 0) : 0; }
  bool empty() const { return !first_; }
  MemChunk& operator[](size_t i) { return i == 0 ? *first_ : (*more_)[i - 1]; }
  const MemChunk& operator[](size_t i) const { return i == 0 ? *first_ : (*more_)[i - 1]; }
  MemChunk& back() { return (*this)[size() - 1]; }

  // The open chunk of window `start` (after its cut parts), added in its place when missing.
  MemChunk& at_window(int64_t start) {
    size_t n = size(), i = 0;
    while (i < n && ((*this)[i].start < start || ((*this)[i].start == start && (*this)[i].closed))) ++i;
    if (i < n && (*this)[i].start == start) return (*this)[i];
    if (n == 0) {
      first_ = std::make_unique<MemChunk>(start, 1);
      return *first_;
    }
    if (!more_) more_ = std::make_unique<std::vector<MemChunk>>();
    if (i > 0) return *more_->emplace(more_->begin() + static_cast<std::ptrdiff_t>(i - 1), start, 1);
    more_->insert(more_->begin(), std::move(*first_));  // a window before the first: it moves up
    *first_ = MemChunk(start, 1);
    return *first_;
  }
  // Puts c after chunk i.
  MemChunk& insert_after(size_t i, MemChunk&& c) {
    if (!more_) more_ = std::make_unique<std::vector<MemChunk>>();
    return *more_->insert(more_->begin() + static_cast<std::ptrdiff_t>(i), std::move(c));
  }
  // Removes the closed chunks; returns how many.
  size_t erase_closed() {
    size_t n = size(), kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if ((*this)[i].closed) continue;
      if (kept != i) (*this)[kept] = std::move((*this)[i]);  // into the first's own block when it closed
      ++kept;
    }
    if (kept == 0) first_.reset();
    if (kept <= 1) more_.reset();
    else more_->erase(more_->begin() + static_cast<std::ptrdiff_t>(kept - 1), more_->end());
    return n - kept;
  }

  template <class R, class C>
  struct Iter {
    C* c;
    size_t i;
    R& operator*() const { return (*c)[i]; }
    Iter& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const Iter& o) const { return i != o.i; }
  };
  Iter<MemChunk, RawChunks> begin() { return {this, 0}; }
  Iter<MemChunk, RawChunks> end() { return {this, size()}; }
  Iter<const MemChunk, const RawChunks> begin() const { return {this, 0}; }
  Iter<const MemChunk, const RawChunks> end() const { return {this, size()}; }

 private:
  std::unique_ptr<MemChunk> first_;
  std::unique_ptr<std::vector<MemChunk>> more_;
};

// Rollup resolutions: index 0 is 1 minute, 1 is 1 hour.
struct RollupRes {
  int res;  // `res` column value
  int64_t bucket_ms, chunk_ms;
};
constexpr RollupRes kRollups[2] = {{1, kMinuteMs, kMinuteChunkMs}, {2, kHourMs, kHourChunkMs}};

// How long one slice of a running checkpoint may hold the writer thread. Ingest groups wait meanwhile,
// and each HTTP thread has at most one batch in a group, so the slices must stay short for a thousand
// and more batches a second to get through while a checkpoint rolls up millions of closed windows
// (~10 us each): with 25 ms slices such a pass fell seconds behind at 500 batches/s.
constexpr int64_t kCheckpointSliceMs = 10;

// The open rollup chunks of a series (ascending; the last of each is open), in memory only while a
// checkpoint rolls a closed raw window up: read from `heads`, appended to, written back, dropped.
struct Rollups {
  std::vector<MemChunk> chunks[2];
};

// The chunk state of one series; its identity is in the catalog. Guarded against concurrent readers by
// the stripe lock of its id (lock_of); only the writer thread changes it.
struct SeriesState {
  RawChunks raw;                       // ascending by start; open windows, and closed ones not written yet
  std::unique_ptr<Rollups> rollups;    // open rollup chunks while a checkpoint rolls windows up
  int64_t closed_upto = 0;             // raw windows below this are closed: no point joins them any more
  int64_t rolled_upto = 0;             // raw windows below this are final and rolled up in the database
  int64_t max_t = INT64_MIN;           // newest point stored
  int64_t first_t = INT64_MAX;         // no point of the series is older (reads start here)
  int64_t last_seen_mono = 0;          // collector clock (monotonic ms) when points last arrived
  uint32_t id = 0;
  bool dirty = false;                  // has changes a checkpoint will write (on dirty_ or the running one's list)
  bool row_dirty = false;              // the `series` row is behind (closed windows, first_t, max_t of a closed series)
};

// Locks guarding series state against readers, shared by ids (a mutex per series cost 40 bytes each).
constexpr size_t kLockStripes = 1024;

enum class Outcome { Stored, TooOld, Duplicate, Conflict };

struct SnapshotChunk {
  int64_t start;
  int64_t part;  // of an open raw window; kFinal: the window's final chunk (or a rollup chunk)
  std::string bytes;
};
constexpr int64_t kFinal = -1;
using ChunkKey = std::pair<int64_t, int64_t>;  // window start, part
// A chunk a reader found in memory; `closing`: a raw chunk of a closed window, which the checkpoint that
// writes it writes as (part of) the window's one final chunk (finish_window()).
struct MemKey {
  ChunkKey key;
  bool closing = false;
};

// A batch waiting for the writer thread, with what the caller computed beforehand.
struct Pending {
  const Batch* batch;
  std::vector<uint64_t> hashes;  // SeriesCatalog::hash per batch series
  LogBatch log;                  // its points for the log record
  AppendOutcome outcome;
  std::optional<Error> error;
  bool done = false;
};

// ---------------------------------------------------------------------------------------------- store

class ChunkStore final : public Store {
 public:
  explicit ChunkStore(StoreOptions o) : opt_(std::move(o)) {}
  ~ChunkStore() override { close(); }

  Result<void> open();

  Result<AppendOutcome> append(const Batch& batch) override;
  Result<std::vector<SeriesInfo>> select(const std::string& name, const std::vector<Matcher>& matchers) override;
  Result<std::vector<Point>> read(int64_t series_id, int64_t from_ms, int64_t to_ms) override;
  Result<std::vector<Bucket>> read_buckets(int64_t series_id, int64_t from_ms, int64_t to_ms,
                                           int64_t step_ms) override;
  Result<std::vector<StoredEvent>> read_events(const std::string& kind, int64_t from_ms, int64_t to_ms) override;
  Result<int64_t> apply_retention(int64_t now_ms) override;
  StoreStats stats() override;
  void close() override;

 private:
  struct Reader {
    sqlite3* db = nullptr;
    Stmt chunks, events_all, events_kind;
    ~Reader() {
      chunks.finalize();
      events_all.finalize();
      events_kind.finalize();
      sqlite3_close(db);
    }
    Reader() = default;
    Reader(const Reader&) = delete;
  };
  class ReaderLease;

  Result<void> migrate();
  Result<void> upgrade_to_v3(int version, bool has_series, bool has_points);
  Result<void> upgrade_v3_to_v4();
  Result<void> prepare_writer();
  // The writer connection's statements with their SQL: prepared by prepare_writer(), finalized by close().
  std::array<std::pair<Stmt*, const char*>, 15> writer_statements();
  Result<void> load_state();
  Result<void> replay_log();
  Result<Reader*> acquire_reader();
  void release_reader(Reader* r);

  void writer_loop();
  void process(std::vector<Pending*>& group);
  Result<void> commit_group(std::vector<Pending*>& group, std::vector<std::vector<uint32_t>>& ids);
  Result<uint32_t> resolve_series(uint64_t hash, const Series& s, const std::string& node);
  std::mutex& lock_of(const SeriesState& s) { return locks_[s.id % kLockStripes]; }
  SeriesState& add_state(uint32_t id);
  size_t apply_points(SeriesState& s, const Point* pts, size_t n);
  Outcome apply_point(SeriesState& s, int64_t t, double v);
  void close_windows(SeriesState& s);
  void ensure_rollups(SeriesState& s);
  void sweep_idle(int64_t wall_now, int64_t mono_now);
  void close_raw(SeriesState& s, MemChunk& c);
  void cut_raw(SeriesState& s);
  Result<const MemChunk*> finish_window(SeriesState& s, size_t last, std::deque<MemChunk>& merged);
  void add_rollup(SeriesState& s, int r, const Bucket& b);
  void mark_dirty(SeriesState& s);
  bool checkpoint_due(int64_t mono_now) const;
  void start_checkpoint();
  Result<void> checkpoint_slice(int64_t budget_ms);
  Result<void> checkpoint();
  Result<int64_t> retention_locked(int64_t now_ms);
  SeriesState* find(int64_t id);
  Result<std::vector<SnapshotChunk>> chunks_of(Reader& r, int64_t id, int res, int64_t from_start,
                                               int64_t to_start);

  StoreOptions opt_;
  sqlite3* db_ = nullptr;  // the writer connection, used only by the writer thread (and open/close)
  Stmt ins_series_, ins_log_, ins_event_, upsert_stream_, ins_chunk_, upsert_head_, del_head_, load_rollup_,
      upd_series_, del_log_, upsert_page_, del_page_, ins_part_, sel_parts_, del_parts_;

  SeriesCatalog catalog_;
  std::shared_mutex series_mu_;          // readers index series_; the writer takes it to add a block
  BlockArray<SeriesState> series_;       // by id; entry 0 unused
  std::atomic<uint32_t> published_{0};   // readers see series up to this id
  std::atomic<int64_t> series_count_{0};
  std::array<std::mutex, kLockStripes> locks_;
  std::unordered_map<std::string, uint64_t> stream_seq_;  // writer thread only; key node '\0' stream
  std::unordered_set<std::string> dirty_streams_;         // seqs the `streams` table is behind on
  bool replaying_ = false;                                // replay_log() runs

  // Writer thread only from here to the queue.
  // Series with changes no checkpoint has taken yet: a bit per series id, so that a checkpoint visits
  // them in id order (the `heads` key order) without sorting millions of entries.
  std::vector<uint64_t> dirty_;
  int64_t dirty_count_ = 0;
  int64_t last_log_id_ = 0;          // newest log record
  int64_t truncated_upto_ = 0;       // log records up to this one are deleted
  int64_t log_bytes_ = 0, log_points_ = 0;  // logged since the running (or last) checkpoint started
  int64_t log_limit_ = 4 << 20;      // log bytes that make a checkpoint due (see checkpoint_due())
  int64_t groups_ = 0, batches_ = 0;  // committed since the last checkpoint (its debug line says)
  int64_t last_checkpoint_ms_ = 0, last_retention_ms_ = 0;
  // The running checkpoint: a pass over the head pages in order, a slice at a time.
  struct CheckpointRun {
    bool active = false;
    uint32_t next_page = 0;
    int64_t log_upto = 0;  // the log is truncated up to here once every page is passed
    int64_t log_bytes = 0, log_points = 0;
    int64_t started_ms = 0, series = 0, pages = 0, finals = 0, slices = 0;
  } run_;
  std::string page_buf_;  // writer thread: the page being written

  std::mutex q_mu_;
  std::condition_variable q_cv_, done_cv_;
  std::vector<Pending*> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::mutex write_mu_;  // serializes the writer connection between the thread and apply_retention

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;

  std::atomic<int64_t> points_{0}, too_old_{0}, duplicate_{0}, conflicting_{0};
  std::atomic<bool> closed_{false};
};

class ChunkStore::ReaderLease {
 public:
  ReaderLease(ChunkStore& s, Reader* r) : s_(s), r_(r) {}
  ~ReaderLease() { s_.release_reader(r_); }
  Reader& operator*() { return *r_; }
  Reader* operator->() { return r_; }

 private:
  ChunkStore& s_;
  Reader* r_;
};

// ------------------------------------------------------------------------------------------ open/schema

Result<void> ChunkStore::open() {
  std::error_code ec;
  auto dir = std::filesystem::path(opt_.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return errorf("cannot create directory {}: {}", dir.string(), ec.message());
  auto db = open_connection(opt_.path, true);
  if (!db.ok()) return db.error();
  db_ = *db;
  // 64 KiB pages keep chunk blobs (up to ~16 KiB) inside their B-tree leaf; with 4 KiB pages every blob
  // over ~1 KiB spills into a mostly empty overflow page. Takes effect only when the file is created.
  if (auto r = exec(db_, "PRAGMA page_size=65536"); !r.ok()) return r;
  if (auto r = exec(db_, "PRAGMA journal_mode=WAL"); !r.ok()) return r;
  if (auto r = exec(db_, opt_.sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !r.ok()) return r;
  if (auto r = exec(db_, "PRAGMA cache_size=-65536"); !r.ok()) return r;  // 64 MiB
  // After a checkpoint the -wal file is cut back to this size instead of keeping its largest size.
  if (auto r = exec(db_, "PRAGMA journal_size_limit=16777216"); !r.ok()) return r;
  if (auto r = migrate(); !r.ok()) return r;
  if (auto r = prepare_writer(); !r.ok()) return r;
  if (auto r = load_state(); !r.ok()) return r;
  if (auto r = replay_log(); !r.ok()) return r;
  if (auto r = checkpoint(); !r.ok()) return r;
  last_checkpoint_ms_ = last_retention_ms_ = monotonic_ms();
  writer_ = std::thread([this] { writer_loop(); });
  return {};
}

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

std::array<std::pair<Stmt*, const char*>, 15> ChunkStore::writer_statements() {
  return {{
      {&ins_series_, "INSERT INTO series(id, name, labels, type, first_t) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&ins_log_, "INSERT INTO log(data) VALUES(?1)"},
      {&ins_event_, "INSERT INTO events(ts, kind, node, labels, fields) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&upsert_stream_, "INSERT INTO streams(node, stream, seq) VALUES(?1, ?2, ?3) "
                        "ON CONFLICT(node, stream) DO UPDATE SET seq = excluded.seq"},
      {&ins_chunk_, "INSERT OR REPLACE INTO chunks(res, start, series_id, count, data) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&ins_part_, "INSERT OR REPLACE INTO raw_parts(series_id, start, part, count, data) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&sel_parts_, "SELECT data FROM raw_parts WHERE series_id = ?1 AND start = ?2 ORDER BY part"},
      {&del_parts_, "DELETE FROM raw_parts WHERE series_id = ?1 AND start = ?2"},
      {&upsert_head_, "INSERT OR REPLACE INTO heads(series_id, res, start, count, data) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&upsert_page_, "INSERT OR REPLACE INTO head_pages(page, data) VALUES(?1, ?2)"},
      {&del_page_, "DELETE FROM head_pages WHERE page = ?1"},
      {&del_head_, "DELETE FROM heads WHERE series_id = ?1 AND res = ?2 AND start = ?3"},
      {&load_rollup_, "SELECT start, data FROM heads WHERE series_id = ?1 AND res = ?2 ORDER BY start DESC LIMIT 1"},
      {&upd_series_, "UPDATE series SET rolled_upto = ?2, max_t = ?3, first_t = ?4 WHERE id = ?1"},
      {&del_log_, "DELETE FROM log WHERE id <= ?1"},
  }};
}

Result<void> ChunkStore::prepare_writer() {
  for (auto [stmt, sql] : writer_statements())
    if (auto r = stmt->prepare(db_, sql); !r.ok()) return r;
  return {};
}

// Resumes an encoder from a stored chunk by decoding and re-appending its rows.
Result<void> resume_chunk(std::string_view bytes, MemChunk& c, int64_t& max_t) {
  auto rows = decode_rows(bytes);
  if (!rows.ok()) return rows.error();
  for (const Row& row : *rows) {
    c.enc.append(row.t_ms, row.v.data());
    max_t = std::max(max_t, row.t_ms);
  }
  return {};
}

// Loads every series and its open raw windows; open rollup chunks are loaded when a window closes
// (ensure_rollups), so series that stopped sending cost no chunk memory.
Result<void> ChunkStore::load_state() {
  Stmt s, raw;
  if (auto r = s.prepare(db_, "SELECT id, name, labels, type, rolled_upto, max_t, first_t FROM series ORDER BY id");
      !r.ok())
    return r;
  int64_t now = monotonic_ms();
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s.get(), 0);
    if (id <= 0 || id >= int64_t{UINT32_MAX}) return errorf("series id {} is out of range", id);
    auto type = sqlite3_column_int(s.get(), 3) == 0 ? SeriesType::Counter : SeriesType::Gauge;
    catalog_.load(static_cast<uint32_t>(id), text_column(s.get(), 1), labels_from_json(text_column(s.get(), 2)), type);
    SeriesState& st = add_state(static_cast<uint32_t>(id));
    st.rolled_upto = st.closed_upto = sqlite3_column_int64(s.get(), 4);
    if (sqlite3_column_type(s.get(), 5) != SQLITE_NULL) st.max_t = sqlite3_column_int64(s.get(), 5);
    if (sqlite3_column_type(s.get(), 6) != SQLITE_NULL) st.first_t = sqlite3_column_int64(s.get(), 6);
    st.last_seen_mono = now;
    ++series_count_;
    published_ = static_cast<uint32_t>(id);
  }
  if (auto r = raw.prepare(db_, "SELECT page, data FROM head_pages ORDER BY page"); !r.ok()) return r;
  int64_t open_points = 0;
  while (sqlite3_step(raw.get()) == SQLITE_ROW) {
    int64_t page = sqlite3_column_int64(raw.get(), 0);
    if (page < 0 || page > UINT32_MAX / kHeadPageSeries) return errorf("head page {} is out of range", page);
    std::optional<Error> failed;
    auto r = read_head_page(blob_column(raw.get(), 1), static_cast<uint32_t>(page), [&](const HeadPageEntry& e) {
      SeriesState* st = failed ? nullptr : find(e.series_id);
      if (!st) {
        if (!failed) failed = errorf("open chunk of unknown series {}", e.series_id);
        return;
      }
      MemChunk& c = st->raw.at_window(e.start);
      c.part = e.part;
      if (auto r = resume_chunk(e.chunk, c, st->max_t); !r.ok())
        failed = errorf("series {} chunk {}: {}", e.series_id, e.start, r.error().message);
      open_points += e.count;
    });
    if (!r.ok()) return r.error();
    if (failed) return *failed;
  }
  Stmt str, pts;
  if (auto r = str.prepare(db_, "SELECT node, stream, seq FROM streams"); !r.ok()) return r;
  while (sqlite3_step(str.get()) == SQLITE_ROW)
    stream_seq_[text_column(str.get(), 0) + '\0' + text_column(str.get(), 1)] =
        static_cast<uint64_t>(sqlite3_column_int64(str.get(), 2));
  if (auto r = pts.prepare(db_, "SELECT (SELECT coalesce(sum(count), 0) FROM chunks WHERE res = 0) + "
                               "(SELECT coalesce(sum(count), 0) FROM raw_parts)");
      !r.ok())
    return r;
  if (sqlite3_step(pts.get()) == SQLITE_ROW) points_ = sqlite3_column_int64(pts.get(), 0) + open_points;
  return {};
}

// Loads the open rollup chunks of a series from `heads` when it has none in memory (writer thread).
void ChunkStore::ensure_rollups(SeriesState& s) {
  if (s.rollups) return;
  auto loaded = std::make_unique<Rollups>();
  for (int i = 0; i < 2; ++i) {
    sqlite3_stmt* q = load_rollup_.fresh();
    sqlite3_bind_int64(q, 1, s.id);
    sqlite3_bind_int(q, 2, kRollups[i].res);
    if (sqlite3_step(q) == SQLITE_ROW) {
      MemChunk c(sqlite3_column_int64(q, 0), kMaxColumns);
      int64_t ignored = INT64_MIN;
      if (auto r = resume_chunk(blob_column(q, 1), c, ignored); r.ok()) loaded->chunks[i].push_back(std::move(c));
      else log::error("store: series {} open rollup chunk is unreadable: {}", s.id, r.error().message);
    }
    sqlite3_reset(q);
  }
  s.rollups = std::move(loaded);  // the caller holds the series' lock
}

// Log record: per series entry, varint series id, varint byte length, a raw chunk of its points.
Result<void> ChunkStore::replay_log() {
  Stmt s;
  if (auto r = s.prepare(db_, "SELECT id, data FROM log ORDER BY id"); !r.ok()) return r;
  int64_t records = 0, points = 0;
  replaying_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{replaying_};
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    last_log_id_ = sqlite3_column_int64(s.get(), 0);
    int64_t unknown = 0;
    auto r = read_log_record(
        blob_column(s.get(), 1),
        [&](uint64_t id, const std::vector<Point>& pts) {
          SeriesState* st = find(static_cast<int64_t>(id));
          if (!st) {
            unknown = static_cast<int64_t>(id);
            return;
          }
          apply_points(*st, pts.data(), pts.size());
          points += static_cast<int64_t>(pts.size());
        },
        [&](std::string_view node, std::string_view stream, uint64_t seq) {
          std::string key = std::string(node) + '\0' + std::string(stream);
          uint64_t& last = stream_seq_[key];
          if (seq > last) {
            last = seq;
            dirty_streams_.insert(std::move(key));
          }
        });
    if (!r.ok()) return errorf("log record {} is {}", last_log_id_, r.error().message);
    if (unknown) return errorf("log record {} names unknown series {}", last_log_id_, unknown);
    ++records;
  }
  if (records) log::info("store: replayed {} log records ({} points) from {}", records, points, opt_.path);
  return {};
}

SeriesState* ChunkStore::find(int64_t id) {
  if (id <= 0 || id > published_) return nullptr;
  std::shared_lock lock(series_mu_);
  return &series_[static_cast<size_t>(id)];
}

// The state of a new series (writer thread); readers see it once published_ reaches its id.
SeriesState& ChunkStore::add_state(uint32_t id) {
  std::unique_lock lock(series_mu_, std::defer_lock);
  while (series_.size() <= id) {
    if (series_.full() && !lock.owns_lock()) lock.lock();
    auto next = static_cast<uint32_t>(series_.size());
    series_.emplace_back().id = next;
  }
  return series_[id];
}

// ------------------------------------------------------------------------------------------ write path

Result<AppendOutcome> ChunkStore::append(const Batch& batch) {
  if (closed_) return Error{"store is closed"};
  Pending p{&batch, {}, {}, {}, std::nullopt, false};
  // Series hashes are computed here, in the caller's thread, so the writer thread only looks them up.
  // So is the log record's encoding of the points: the writer thread, which every batch goes through,
  // only concatenates.
  p.hashes.reserve(batch.series.size());
  for (const auto& s : batch.series) p.hashes.push_back(SeriesCatalog::hash({s.name, s.labels, batch.node}));
  p.log = encode_log_batch(batch);
  std::unique_lock lk(q_mu_);
  if (stopping_) return Error{"store is closed"};
  queue_.push_back(&p);
  q_cv_.notify_one();
  done_cv_.wait(lk, [&] { return p.done; });
  if (p.error) return *p.error;
  return p.outcome;
}

void ChunkStore::writer_loop() {
  for (;;) {
    std::vector<Pending*> group;
    {
      std::unique_lock lk(q_mu_);
      // A running checkpoint goes on between groups instead of waiting for one.
      if (!run_.active)
        q_cv_.wait_for(lk, std::chrono::milliseconds(500), [&] { return !queue_.empty() || stopping_; });
      group.swap(queue_);
      if (group.empty() && stopping_) return;
    }
    std::lock_guard w(write_mu_);
    if (!group.empty()) process(group);
    int64_t now = monotonic_ms();
    if (!run_.active && checkpoint_due(now)) {
      sweep_idle(now_ms(), now);
      start_checkpoint();
      last_checkpoint_ms_ = now;
    }
    if (run_.active) {
      if (auto r = checkpoint_slice(kCheckpointSliceMs); !r.ok())
        log::error("store: checkpoint failed: {}", r.error().message);
    }
    if (!run_.active && now - last_retention_ms_ >= 600'000) {
      if (auto r = retention_locked(now_ms()); !r.ok()) log::error("store: retention failed: {}", r.error().message);
      last_retention_ms_ = now;
    }
  }
}

void ChunkStore::process(std::vector<Pending*>& group) {
  std::vector<std::vector<uint32_t>> ids(group.size());
  auto r = commit_group(group, ids);
  for (size_t i = 0; i < group.size(); ++i) {
    Pending& p = *group[i];
    if (!r.ok()) {
      p.error = r.error();
      continue;
    }
    if (p.outcome.duplicate) continue;
    size_t accepted = 0;
    for (uint32_t id : ids[i]) __builtin_prefetch(&series_[id]);  // as catalog_.prefetch()
    for (size_t k = 0; k < p.batch->series.size(); ++k) {
      const auto& pts = p.batch->series[k].points;
      accepted += apply_points(series_[ids[i][k]], pts.data(), pts.size());  // writer thread: no lock to index
    }
    p.outcome.accepted = accepted;
  }
  std::lock_guard lk(q_mu_);
  for (Pending* p : group) p->done = true;
  done_cv_.notify_all();
}

// Writes new series, stream sequence numbers, events and one log record for the whole group in one
// transaction; nothing in memory changes unless it commits.
Result<void> ChunkStore::commit_group(std::vector<Pending*>& group, std::vector<std::vector<uint32_t>>& ids) {
  if (auto r = exec(db_, "BEGIN IMMEDIATE"); !r.ok()) return r;
  std::unordered_map<std::string, uint64_t> seqs;
  std::string record;
  int64_t points = 0;
  const uint32_t published = published_;
  auto fail = [&](Error e) -> Result<void> {
    (void)exec(db_, "ROLLBACK");
    // Series new in this group never existed.
    catalog_.forget_after(published);
    std::unique_lock lock(series_mu_);
    series_.truncate(published + 1);
    return e;
  };
  for (size_t i = 0; i < group.size(); ++i) {
    Pending& p = *group[i];
    const Batch& b = *p.batch;
    std::string skey = b.node + '\0' + b.stream;
    uint64_t last = 0;
    bool known = false;
    if (auto it = seqs.find(skey); it != seqs.end()) last = it->second, known = true;
    else if (auto jt = stream_seq_.find(skey); jt != stream_seq_.end()) last = jt->second, known = true;
    if (known && b.seq <= last) {
      p.outcome.duplicate = true;
      continue;
    }
    // The seq is durable in the log record (format 2); `streams` follows at the next checkpoint, so a
    // commit touches the log's page only.
    seqs[skey] = b.seq;
    ids[i].resize(b.series.size());
    for (uint64_t h : p.hashes) catalog_.prefetch(h);
    for (size_t k = 0; k < b.series.size(); ++k) {
      auto id = resolve_series(p.hashes[k], b.series[k], b.node);
      if (!id.ok()) return fail(id.error());
      ids[i][k] = *id;
      points += static_cast<int64_t>(b.series[k].points.size());
    }
    if (record.empty()) record = format_2_record_start();
    append_log_batch(record, b, p.log, ids[i]);
    for (const Event& e : b.events) {
      std::string labels = labels_to_json(with_node(e.labels, b.node));
      sqlite3_stmt* s = ins_event_.fresh();
      sqlite3_bind_int64(s, 1, e.t_ms);
      sqlite3_bind_text(s, 2, e.kind.data(), static_cast<int>(e.kind.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 3, b.node.data(), static_cast<int>(b.node.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 4, labels.data(), static_cast<int>(labels.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 5, e.fields_json.data(), static_cast<int>(e.fields_json.size()), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) return fail(errorf("sqlite: storing event: {}", sqlite3_errmsg(db_)));
    }
  }
  int64_t log_id = 0;
  if (!record.empty()) {
    sqlite3_stmt* s = ins_log_.fresh();
    sqlite3_bind_blob(s, 1, record.data(), static_cast<int>(record.size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return fail(errorf("sqlite: writing log: {}", sqlite3_errmsg(db_)));
    log_id = sqlite3_last_insert_rowid(db_);
  }
  if (auto r = exec(db_, "COMMIT"); !r.ok()) return fail(r.error());
  if (log_id) last_log_id_ = log_id;
  log_bytes_ += static_cast<int64_t>(record.size());
  ++groups_;
  batches_ += static_cast<int64_t>(group.size());
  log_points_ += points;
  for (auto& [k, v] : seqs) {
    stream_seq_[k] = v;
    dirty_streams_.insert(k);
  }
  if (uint32_t last = catalog_.last_id(); last > published) {
    catalog_.publish(last);
    series_count_ += last - published;
    published_ = last;
  }
  return {};
}

Result<uint32_t> ChunkStore::resolve_series(uint64_t hash, const Series& s, const std::string& node) {
  SeriesCatalog::Identity identity{s.name, s.labels, node};
  if (uint32_t id = catalog_.find(hash, identity)) return id;
  uint32_t id = catalog_.add(hash, identity, s.type);
  SeriesState& st = add_state(id);
  std::string labels = labels_json_with_node(s.labels, node);
  sqlite3_stmt* q = ins_series_.fresh();
  sqlite3_bind_int64(q, 1, id);
  sqlite3_bind_text(q, 2, s.name.data(), static_cast<int>(s.name.size()), SQLITE_STATIC);
  sqlite3_bind_text(q, 3, labels.data(), static_cast<int>(labels.size()), SQLITE_STATIC);
  sqlite3_bind_int(q, 4, s.type == SeriesType::Counter ? 0 : 1);
  // A new series stores every point of its first batch, so its first_t is known now: no row update for
  // it at the next checkpoint.
  if (!s.points.empty()) {
    st.first_t = std::min_element(s.points.begin(), s.points.end(),
                                  [](const Point& a, const Point& b) { return a.t_ms < b.t_ms; })->t_ms;
    sqlite3_bind_int64(q, 5, st.first_t);
  }
  if (sqlite3_step(q) != SQLITE_DONE)
    return errorf("sqlite: storing series {}: {}", series_key(s.name, with_node(s.labels, node)), sqlite3_errmsg(db_));
  return id;
}

size_t ChunkStore::apply_points(SeriesState& s, const Point* pts, size_t n) {
  size_t stored = 0;
  {
    std::lock_guard lock(lock_of(s));
    for (size_t i = 0; i < n; ++i) {
      Outcome o = apply_point(s, pts[i].t_ms, pts[i].value);
      if (o == Outcome::Stored) ++stored;
      // A replayed record may hold points a checkpoint slice had already written: not news to count.
      else if (replaying_) continue;
      else if (o == Outcome::TooOld) ++too_old_;
      else if (o == Outcome::Duplicate) ++duplicate_;
      else ++conflicting_;
    }
    close_windows(s);
    s.last_seen_mono = monotonic_ms();
  }
  if (stored) mark_dirty(s);
  points_ += static_cast<int64_t>(stored);
  return stored;
}

Outcome ChunkStore::apply_point(SeriesState& s, int64_t t, double v) {
  if (t < s.closed_upto) return Outcome::TooOld;
  if (s.max_t != INT64_MIN && t < s.max_t - opt_.out_of_order_ms) return Outcome::TooOld;
  int64_t w = floor_to(t, kRawChunkMs);
  MemChunk& c = s.raw.at_window(w);
  // The window's older points are in written parts (cut_raw()): never again, even if the out-of-order
  // window grew between a crash and the log's replay.
  if (c.part > 0 && c.enc.count() > 0 && t < c.enc.first_t()) return Outcome::TooOld;
  uint64_t vb = std::bit_cast<uint64_t>(v);
  if (c.enc.count() == 0 || t > c.enc.last_t()) {
    c.enc.append(t, v);
  } else if (t == c.enc.last_t() && vb == c.enc.last_bits()) {
    return Outcome::Duplicate;
  } else {
    // Out of order within the window: merge into the decoded chunk and encode it again.
    auto rows = decode_rows(c.enc.bytes());
    if (!rows.ok()) return Outcome::Conflict;  // cannot happen: the encoder wrote it
    auto pos = std::lower_bound(rows->begin(), rows->end(), t, [](const Row& r, int64_t x) { return r.t_ms < x; });
    if (pos != rows->end() && pos->t_ms == t)
      return std::bit_cast<uint64_t>(pos->v[0]) == vb ? Outcome::Duplicate : Outcome::Conflict;
    Row nr;
    nr.t_ms = t;
    nr.v[0] = v;
    rows->insert(pos, nr);
    ChunkEncoder enc(1);
    for (const Row& r : *rows) enc.append(r.t_ms, r.v.data());
    c.enc = std::move(enc);
  }
  c.dirty = true;
  s.max_t = std::max(s.max_t, t);
  if (t < s.first_t) {
    s.first_t = t;
    s.row_dirty = true;
  }
  return Outcome::Stored;
}

// A raw window closes once no point can join it any more: the series has moved past its end by the
// out-of-order window. Only the series' own timestamps decide (never the wall clock), so backfilled or
// replayed old data is accepted exactly like live data; a series that stops keeps its last window open.
void ChunkStore::close_windows(SeriesState& s) {
  for (auto& c : s.raw) {
    if (c.closed) continue;
    if (s.max_t == INT64_MIN || c.start + kRawChunkMs + opt_.out_of_order_ms > s.max_t) break;
    close_raw(s, c);
  }
}

// Closing only marks the window: the checkpoint that writes it final computes its rollups, so a series
// keeps no rollup chunk in memory between checkpoints (millions of series close their windows together).
void ChunkStore::close_raw(SeriesState& s, MemChunk& c) {
  c.closed = true;
  c.dirty = true;
  s.closed_upto = c.start + kRawChunkMs;
  s.row_dirty = true;
}

// Cuts the newest open raw chunk once it holds raw_chunk_points: its points older than the out-of-order
// window can no longer change (an older point is too old), so they become a part, which the running
// checkpoint writes to `raw_parts`; the newer ones stay open as the next part. Cutting at checkpoints
// spreads the work over the checkpoint's slices (every series of a cluster reaches the size at about the
// same time), and the bytes leave memory as soon as they are committed. Writer thread, in a checkpoint.
void ChunkStore::cut_raw(SeriesState& s) {
  if (opt_.raw_chunk_points == 0 || s.raw.empty()) return;
  const size_t i = s.raw.size() - 1;
  MemChunk& c = s.raw[i];
  if (c.closed || c.enc.count() < opt_.raw_chunk_points) return;
  auto d = ChunkDecoder::open(c.enc.bytes());
  if (!d.ok()) return;
  // The part keeps the prefix of the stream (rows are in time order); only the open rows are encoded again.
  const int64_t keep_from = s.max_t - opt_.out_of_order_ms;
  MemChunk next(c.start, 1);
  uint32_t done = 0;
  size_t done_bits = 0;
  Row r;
  while (d->next(r)) {
    if (next.enc.count() == 0 && r.t_ms < keep_from) {
      ++done;
      done_bits = d->bit_pos();
    } else {
      next.enc.append(r.t_ms, r.v.data());
    }
  }
  if (!d->ok() || done == 0 || next.enc.count() == 0) return;
  next.part = c.part + 1;
  next.dirty = true;
  std::lock_guard l(lock_of(s));
  c.enc.truncate(done, done_bits);
  c.closed = c.dirty = true;
  s.raw.insert_after(i, std::move(next));
}

// Finishes a closed raw window whose last part is s.raw[last]: appends its 1-minute and 1-hour buckets to
// the open rollup chunks (loaded from `heads`) and returns its final chunk. A window that was cut becomes
// one chunk again, the very one it would have been uncut; its parts in `raw_parts` are read back for both
// and deleted. (Kept as final chunks, parts cost ~85 bytes each in the file — chunk header and first
// row, row, index entry — about 0.4 bytes a point at 150–200 points a part.) Checkpoint only.
Result<const MemChunk*> ChunkStore::finish_window(SeriesState& s, size_t last, std::deque<MemChunk>& merged) {
  const int64_t start = s.raw[last].start;
  size_t first = last;
  while (first > 0 && s.raw[first - 1].start == start) --first;
  std::vector<Point> pts;
  auto add = [&](std::string_view bytes) -> Result<void> {
    auto d = ChunkDecoder::open(bytes);
    if (!d.ok()) return d.error();
    Row r;
    while (d->next(r)) pts.push_back({r.t_ms, r.v[0]});
    if (!d->ok()) return errorf("series {} chunk {} is corrupt", s.id, start);
    return {};
  };
  const uint32_t written = s.raw[first].part;  // parts below this one are in `raw_parts`
  if (written > 0) {
    sqlite3_stmt* q = sel_parts_.fresh();
    sqlite3_bind_int64(q, 1, s.id);
    sqlite3_bind_int64(q, 2, start);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
      if (auto r = add(blob_column(q, 0)); !r.ok()) return r.error();
    if (rc != SQLITE_DONE) return errorf("sqlite: reading parts: {}", sqlite3_errmsg(db_));
    q = del_parts_.fresh();
    sqlite3_bind_int64(q, 1, s.id);
    sqlite3_bind_int64(q, 2, start);
    if (sqlite3_step(q) != SQLITE_DONE) return errorf("sqlite: deleting parts: {}", sqlite3_errmsg(db_));
  }
  for (size_t i = first; i <= last; ++i)
    if (auto r = add(s.raw[i].enc.bytes()); !r.ok()) return r.error();
  {
    std::lock_guard l(lock_of(s));  // readers look at the rollup chunks
    for (int i = 0; i < 2; ++i)
      for (const Bucket& b : aggregate_points(pts, start, start + kRawChunkMs - 1, kRollups[i].bucket_ms))
        add_rollup(s, i, b);
  }
  if (first == last && written == 0) return &s.raw[last];
  MemChunk& whole = merged.emplace_back(start, 1);
  for (const Point& p : pts) whole.enc.append(p.t_ms, p.value);
  return &whole;
}

void ChunkStore::add_rollup(SeriesState& s, int i, const Bucket& b) {
  ensure_rollups(s);
  auto& chunks = s.rollups->chunks[i];
  int64_t cw = floor_to(b.t_ms, kRollups[i].chunk_ms);
  if (chunks.empty() || chunks.back().start != cw) {
    if (!chunks.empty()) chunks.back().closed = true;
    chunks.emplace_back(cw, kMaxColumns);
  }
  MemChunk& c = chunks.back();
  if (c.enc.count() > 0 && b.t_ms <= c.enc.last_t()) return;  // rolled up before a restart
  double v[kMaxColumns] = {b.count, b.sum, b.min, b.max, b.last};
  c.enc.append(b.t_ms, v);
  c.dirty = true;
}

void ChunkStore::mark_dirty(SeriesState& s) {
  if (s.dirty) return;
  s.dirty = true;
  auto id = static_cast<uint64_t>(s.id);
  if (id / 64 >= dirty_.size()) dirty_.resize(id / 64 + 1 + dirty_.size() / 2, 0);
  dirty_[id / 64] |= uint64_t(1) << (id % 64);
  ++dirty_count_;
}

// Closes the open raw windows of series that stopped sending, on the collector's clock: a window is due
// once the wall clock is past its end plus the out-of-order window and the series has sent nothing for
// the out-of-order window (so a backfill in progress is not cut short). Runs just before a checkpoint,
// which commits the closed windows together with the log truncation, so recovery sees the same state.
void ChunkStore::sweep_idle(int64_t wall_now, int64_t mono_now) {
  const uint32_t last = published_;
  for (uint32_t id = 1; id <= last; ++id) {  // only the writer thread changes series_
    SeriesState& s = series_[id];
    if (s.raw.empty() || mono_now - s.last_seen_mono < opt_.out_of_order_ms) continue;
    bool closed = false;
    {
      std::lock_guard lock(lock_of(s));
      for (auto& c : s.raw) {
        if (c.closed) continue;
        if (c.start + kRawChunkMs + opt_.out_of_order_ms > wall_now) break;
        close_raw(s, c);
        closed = true;
      }
    }
    if (closed) mark_dirty(s);
  }
}

// A checkpoint writes every changed chunk and head state, then truncates the log, so that the database
// alone holds everything acknowledged. Its cost grows with the series it writes, the log's with the
// points: it is due after checkpoint_interval_ms, or earlier once the log is large both in bytes (1/16 of
// the database, 4..64 MiB) and per series to write (4 points each), so that a store with millions of
// series does not rewrite them all for a few points each.
bool ChunkStore::checkpoint_due(int64_t mono_now) const {
  if (mono_now - last_checkpoint_ms_ >= opt_.checkpoint_interval_ms) return true;
  return log_bytes_ > log_limit_ && log_points_ >= 4 * dirty_count_;
}

// A checkpoint passes over the head pages in order, a slice (its own transaction) at a time between ingest
// groups, and writes every page holding a dirty series: the page (every open raw chunk of its series, from
// memory), and for each dirty series its final chunks, open rollup chunks and series row. Every point up
// to the newest log record when the pass started was in a series that was dirty then, whose page comes
// later in the pass: after the last slice the log is truncated up to that record. Writing a series' state
// early is safe: replaying log records it already holds stores nothing twice (same timestamp and value: a
// duplicate; a closed window: too old). A series changed after the pass went by its page stays dirty.
void ChunkStore::start_checkpoint() {
  run_ = CheckpointRun{};
  run_.active = true;
  run_.log_upto = last_log_id_;
  run_.log_bytes = log_bytes_;
  run_.log_points = log_points_;
  run_.started_ms = monotonic_ms();
}

Result<void> ChunkStore::checkpoint_slice(int64_t budget_ms) {
  // A slice commits without an fsync of its own: what it writes is already in the log, which only the
  // last slice truncates, and the WAL's checksum chain discards a commit whose predecessors were lost,
  // so a power failure can only undo slices (and replay redoes them). The next ingest commit's fsync
  // makes them durable. An fsync per slice held ingest up while a pass rolled up millions of windows.
  if (opt_.sync_full) {
    if (auto r = exec(db_, "PRAGMA synchronous=NORMAL"); !r.ok()) return r;
  }
  struct FullAgain {
    ChunkStore& self;
    ~FullAgain() {
      if (self.opt_.sync_full) (void)exec(self.db_, "PRAGMA synchronous=FULL");
    }
  } full_again{*this};
  if (auto r = exec(db_, "BEGIN IMMEDIATE"); !r.ok()) return r;
  auto fail = [&](Error e) -> Result<void> {
    (void)exec(db_, "ROLLBACK");
    return e;
  };
  struct Final {
    int res;
    int64_t start, id;
    const MemChunk* c;
  };
  std::vector<Final> finals;
  std::deque<MemChunk> merged;  // final chunks of windows that were cut (finish_window())
  auto write = [&](Stmt& stmt, int64_t id, int res, const MemChunk& c) -> Result<void> {
    sqlite3_stmt* s = stmt.fresh();
    if (&stmt == &ins_part_) {  // (series_id, start, part, ...)
      sqlite3_bind_int64(s, 1, id);
      sqlite3_bind_int64(s, 2, c.start);
      sqlite3_bind_int64(s, 3, c.part);
    } else {
      bool head = &stmt == &upsert_head_;
      sqlite3_bind_int64(s, head ? 1 : 3, id);
      sqlite3_bind_int(s, head ? 2 : 1, res);
      sqlite3_bind_int64(s, head ? 3 : 2, c.start);
    }
    sqlite3_bind_int64(s, 4, c.enc.count());
    sqlite3_bind_blob(s, 5, c.enc.bytes().data(), static_cast<int>(c.enc.bytes().size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return errorf("sqlite: writing chunk: {}", sqlite3_errmsg(db_));
    return {};
  };
  // A dirty series: everything but its open raw chunks, which its page holds.
  auto write_series = [&](SeriesState& st) -> Result<void> {
    cut_raw(st);
    for (size_t i = 0; i < st.raw.size(); ++i) {
      const MemChunk& c = st.raw[i];
      if (!c.closed) continue;
      if (c.start >= st.closed_upto) {  // a cut part of an open window
        if (auto r = write(ins_part_, st.id, 0, c); !r.ok()) return r;
        continue;
      }
      if (i + 1 < st.raw.size() && st.raw[i + 1].start == c.start) continue;  // in its window's final chunk
      auto whole = finish_window(st, i, merged);
      if (!whole.ok()) return whole.error();
      finals.push_back({0, c.start, st.id, *whole});
    }
    for (int i = 0; st.rollups && i < 2; ++i)
      for (const MemChunk& c : st.rollups->chunks[i]) {
        if (!c.dirty || c.enc.count() == 0) continue;
        if (!c.closed) {
          if (auto r = write(upsert_head_, st.id, kRollups[i].res, c); !r.ok()) return r;
          continue;
        }
        finals.push_back({kRollups[i].res, c.start, st.id, &c});
        sqlite3_stmt* s = del_head_.fresh();
        sqlite3_bind_int64(s, 1, st.id);
        sqlite3_bind_int(s, 2, kRollups[i].res);
        sqlite3_bind_int64(s, 3, c.start);
        if (sqlite3_step(s) != SQLITE_DONE) return errorf("sqlite: removing open chunk: {}", sqlite3_errmsg(db_));
      }
    if (!st.row_dirty) return {};
    // max_t is also the newest point of the open raw chunk, which load_state() reads; the row needs it
    // when no window is open.
    sqlite3_stmt* s = upd_series_.fresh();
    sqlite3_bind_int64(s, 1, st.id);
    sqlite3_bind_int64(s, 2, st.closed_upto);  // rolled up by this write
    if (st.max_t != INT64_MIN) sqlite3_bind_int64(s, 3, st.max_t);
    if (st.first_t != INT64_MAX) sqlite3_bind_int64(s, 4, st.first_t);
    if (sqlite3_step(s) != SQLITE_DONE) return errorf("sqlite: writing series state: {}", sqlite3_errmsg(db_));
    return {};
  };
  auto dirty = [&](uint32_t id) { return id / 64 < dirty_.size() && (dirty_[id / 64] >> (id % 64) & 1); };
  const int64_t deadline = budget_ms > 0 ? monotonic_ms() + budget_ms : INT64_MAX;
  const uint32_t last_id = published_;
  const uint32_t last_page = head_page_of(last_id);
  std::vector<SeriesState*> written;
  uint32_t page = run_.next_page;
  for (; page <= last_page && (written.empty() || monotonic_ms() < deadline); ++page) {
    const uint32_t first = std::max<uint32_t>(page * kHeadPageSeries, 1);
    const uint32_t end = std::min(last_id + 1, (page + 1) * kHeadPageSeries);
    bool any = false;
    for (uint32_t w = first / 64; !any && w * 64 < end; ++w) any = w < dirty_.size() && dirty_[w] != 0;
    if (!any) continue;
    page_buf_.clear();
    for (uint32_t id = first; id < end; ++id) {
      SeriesState& st = series_[id];  // only the writer thread changes series_
      if (dirty(id)) {
        if (auto r = write_series(st); !r.ok()) return fail(r.error());
        written.push_back(&st);
      }
      for (const MemChunk& c : st.raw)
        if (!c.closed) put_head_page_entry(page_buf_, {id, c.start, c.enc.count(), c.enc.bytes(), c.part});
    }
    sqlite3_stmt* s = page_buf_.empty() ? del_page_.fresh() : upsert_page_.fresh();
    sqlite3_bind_int64(s, 1, page);
    if (!page_buf_.empty()) sqlite3_bind_blob(s, 2, page_buf_.data(), static_cast<int>(page_buf_.size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return fail(errorf("sqlite: writing head page: {}", sqlite3_errmsg(db_)));
    ++run_.pages;
  }
  std::sort(finals.begin(), finals.end(), [](const Final& a, const Final& b) {
    return std::tie(a.res, a.start, a.id) < std::tie(b.res, b.start, b.id);
  });
  for (const Final& f : finals)
    if (auto r = write(ins_chunk_, f.id, f.res, *f.c); !r.ok()) return fail(r.error());
  const bool last = page > last_page;
  if (last) {
    // The log records about to go carry the newest seqs; `streams` takes them over (and later ones).
    for (const std::string& k : dirty_streams_) {
      size_t sep = k.find('\0');
      sqlite3_stmt* s = upsert_stream_.fresh();
      sqlite3_bind_text(s, 1, k.data(), static_cast<int>(sep), SQLITE_STATIC);
      sqlite3_bind_text(s, 2, k.data() + sep + 1, static_cast<int>(k.size() - sep - 1), SQLITE_STATIC);
      sqlite3_bind_int64(s, 3, static_cast<int64_t>(stream_seq_[k]));
      if (sqlite3_step(s) != SQLITE_DONE) return fail(errorf("sqlite: storing seq: {}", sqlite3_errmsg(db_)));
    }
  }
  if (last && run_.log_upto > truncated_upto_) {
    sqlite3_stmt* s = del_log_.fresh();
    sqlite3_bind_int64(s, 1, run_.log_upto);
    if (sqlite3_step(s) != SQLITE_DONE) return fail(errorf("sqlite: truncating log: {}", sqlite3_errmsg(db_)));
  }
  if (auto r = exec(db_, "COMMIT"); !r.ok()) return fail(r.error());
  if (last) dirty_streams_.clear();
  for (SeriesState* st : written) {
    {
      std::lock_guard l(lock_of(*st));
      st->raw.erase_closed();
      // Written: the open rollup chunks leave memory until a window closes again.
      st->rollups.reset();
      st->rolled_upto = st->closed_upto;
    }
    st->dirty = false;
    st->row_dirty = false;
    dirty_[st->id / 64] &= ~(uint64_t(1) << (st->id % 64));
    --dirty_count_;
  }
  run_.next_page = page;
  run_.series += static_cast<int64_t>(written.size());
  run_.finals += static_cast<int64_t>(finals.size());
  ++run_.slices;
  if (!last) return {};
  run_.active = false;
  truncated_upto_ = std::max(truncated_upto_, run_.log_upto);
  // What was logged while the checkpoint ran is still in the log.
  log_bytes_ -= run_.log_bytes;
  log_points_ -= run_.log_points;
  // The log's pages are free after a checkpoint and stay in the file for reuse, so the log may grow to
  // 1/16 of the database (4..64 MiB) between checkpoints: the free pages cost at most that much space.
  Stmt pages;
  if (pages.prepare(db_, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size").ok() &&
      sqlite3_step(pages.get()) == SQLITE_ROW)
    log_limit_ = std::clamp<int64_t>(sqlite3_column_int64(pages.get(), 0) / 16, 4 << 20, 64 << 20);
  int64_t t_wal = monotonic_ms();
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  log::debug("store: checkpoint of {} series in {} head pages ({} final chunks, log {} KiB of {} batches in {} "
             "commits) in {} slices took {} ms, WAL checkpoint {} ms",
             run_.series, run_.pages, run_.finals, run_.log_bytes >> 10, batches_, groups_, run_.slices,
             t_wal - run_.started_ms, monotonic_ms() - t_wal);
  groups_ = batches_ = 0;
  return {};
}

// A whole checkpoint at once (open, close): finishes the running one, then passes once more when series
// changed behind it.
Result<void> ChunkStore::checkpoint() {
  for (int pass = 0; pass < 2; ++pass) {
    if (!run_.active) {
      if (dirty_count_ == 0 && last_log_id_ <= truncated_upto_ && dirty_streams_.empty()) return {};
      start_checkpoint();
    }
    while (run_.active)
      if (auto r = checkpoint_slice(0); !r.ok()) {
        run_.active = false;  // dirty series stay dirty for the next attempt
        return r;
      }
  }
  return {};
}

// ------------------------------------------------------------------------------------------ retention

Result<int64_t> ChunkStore::apply_retention(int64_t now) {
  if (closed_) return Error{"store is closed"};
  std::lock_guard w(write_mu_);
  return retention_locked(now);
}

Result<int64_t> ChunkStore::retention_locked(int64_t now) {
  const int64_t keep[3] = {opt_.retention.raw_ms, opt_.retention.minute_ms, opt_.retention.hour_ms};
  const int64_t window[3] = {kRawChunkMs, kMinuteChunkMs, kHourChunkMs};
  if (auto r = exec(db_, "BEGIN IMMEDIATE"); !r.ok()) return r.error();
  auto fail = [&](Error e) -> Result<int64_t> {
    (void)exec(db_, "ROLLBACK");
    return e;
  };
  int64_t removed = 0;
  for (int res = 0; res < 3; ++res) {
    if (keep[res] <= 0) continue;
    // A chunk goes only when its whole window is older than the cutoff: start + window <= cutoff. Final
    // chunks are the oldest keys of their resolution; an open chunk that old belongs to a series that
    // stopped long ago.
    int64_t last_start = now - keep[res] - window[res];
    for (const char* table : {"chunks", "heads"}) {
      Stmt count, del;
      if (res == 0) {
        auto sql = fmt::format("SELECT coalesce(sum(count), 0) FROM {} WHERE res = 0 AND start <= ?1", table);
        if (auto r = count.prepare(db_, sql.c_str()); !r.ok()) return fail(r.error());
        sqlite3_bind_int64(count.get(), 1, last_start);
        if (sqlite3_step(count.get()) == SQLITE_ROW) points_ -= sqlite3_column_int64(count.get(), 0);
      }
      auto sql = fmt::format("DELETE FROM {} WHERE res = ?1 AND start <= ?2", table);
      if (auto r = del.prepare(db_, sql.c_str()); !r.ok()) return fail(r.error());
      sqlite3_bind_int(del.get(), 1, res);
      sqlite3_bind_int64(del.get(), 2, last_start);
      if (sqlite3_step(del.get()) != SQLITE_DONE) return fail(errorf("sqlite: retention: {}", sqlite3_errmsg(db_)));
      removed += sqlite3_changes(db_);
    }
    if (res == 0) {
      Stmt ev;
      if (ev.prepare(db_, "DELETE FROM events WHERE ts < ?1").ok()) {
        sqlite3_bind_int64(ev.get(), 1, now - keep[res]);
        sqlite3_step(ev.get());
      }
    }
  }
  if (auto r = exec(db_, "COMMIT"); !r.ok()) return fail(r.error());
  return removed;
}

// ------------------------------------------------------------------------------------------ read path

Result<ChunkStore::Reader*> ChunkStore::acquire_reader() {
  {
    std::lock_guard lk(readers_mu_);
    if (!idle_readers_.empty()) {
      Reader* r = idle_readers_.back().release();
      idle_readers_.pop_back();
      return r;
    }
  }
  auto db = open_connection(opt_.path, false);
  if (!db.ok()) return db.error();
  auto r = std::make_unique<Reader>();
  r->db = *db;
  // Final chunks by point lookups of each window start (the key is time first), open ones and parts of
  // open raw windows by range; one statement, so a chunk moving from `heads` or `raw_parts` to `chunks`
  // in between is seen exactly once.
  if (auto p = r->chunks.prepare(r->db, "WITH RECURSIVE w(s) AS (SELECT ?3 UNION ALL SELECT s + ?5 FROM w "
                                        "WHERE s + ?5 <= ?4) "
                                        "SELECT start, -1, data FROM chunks WHERE res = ?2 AND start IN w "
                                        "AND series_id = ?1 UNION ALL "
                                        "SELECT start, -1, data FROM heads WHERE series_id = ?1 AND res = ?2 "
                                        "AND start BETWEEN ?3 AND ?4 UNION ALL "
                                        "SELECT start, part, data FROM raw_parts WHERE ?2 = 0 AND series_id = ?1 "
                                        "AND start BETWEEN ?3 AND ?4");
      !p.ok())
    return p.error();
  if (auto p = r->events_all.prepare(r->db, "SELECT ts, kind, node, labels, fields FROM events "
                                            "WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts, id");
      !p.ok())
    return p.error();
  if (auto p = r->events_kind.prepare(r->db, "SELECT ts, kind, node, labels, fields FROM events "
                                             "WHERE kind = ?3 AND ts BETWEEN ?1 AND ?2 ORDER BY ts, id");
      !p.ok())
    return p.error();
  return r.release();
}

void ChunkStore::release_reader(Reader* r) {
  std::lock_guard lk(readers_mu_);
  idle_readers_.emplace_back(r);
}

// Stored chunks of one resolution whose window start lies in [from_start, to_start] (from_start aligned).
Result<std::vector<SnapshotChunk>> ChunkStore::chunks_of(Reader& r, int64_t id, int res, int64_t from_start,
                                                         int64_t to_start) {
  std::vector<SnapshotChunk> out;
  if (to_start < from_start) return out;
  const int64_t window = res == 0 ? kRawChunkMs : kRollups[res - 1].chunk_ms;
  sqlite3_stmt* s = r.chunks.fresh();
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int(s, 2, res);
  sqlite3_bind_int64(s, 3, from_start);
  sqlite3_bind_int64(s, 4, to_start);
  sqlite3_bind_int64(s, 5, window);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto b = blob_column(s, 2);
    out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), std::string(b)});
  }
  if (rc != SQLITE_DONE) return errorf("sqlite: reading chunks: {}", sqlite3_errmsg(r.db));
  sqlite3_reset(s);  // ends the read transaction
  return out;
}

// Copies the in-memory chunks of one resolution overlapping [from, to] and notes the chunks (window, part)
// memory holds: memory is newer than the database for those. Memory is read before the database because a
// chunk leaves memory only after it is committed.
// `rollup` -1 is the raw chunks, 0 and 1 the rollups.
void snapshot(std::mutex& mu, const SeriesState& st, int rollup, int64_t window, int64_t from_ms, int64_t to_ms,
              std::vector<SnapshotChunk>& mem, std::vector<MemKey>& mem_keys, int64_t& first_t, int64_t& max_t) {
  std::lock_guard lock(mu);
  first_t = st.first_t;
  max_t = st.max_t;
  auto take = [&](const MemChunk& c) {
    mem_keys.push_back({{c.start, c.part}, rollup < 0 && c.closed && c.start < st.closed_upto});
    if (c.start <= to_ms && c.start + window > from_ms) mem.push_back({c.start, c.part, std::string(c.enc.bytes())});
  };
  if (rollup < 0) {
    for (const MemChunk& c : st.raw) take(c);
  } else if (st.rollups) {
    for (const MemChunk& c : st.rollups->chunks[rollup]) take(c);
  }
}

Result<std::vector<Point>> ChunkStore::read(int64_t series_id, int64_t from_ms, int64_t to_ms) {
  if (closed_) return Error{"store is closed"};
  SeriesState* st = find(series_id);
  if (!st) return errorf("unknown series {}", series_id);
  std::vector<SnapshotChunk> mem;
  std::vector<MemKey> mem_keys;
  int64_t first_t, max_t;
  snapshot(lock_of(*st), *st, -1, kRawChunkMs, from_ms, to_ms, mem, mem_keys, first_t, max_t);
  auto reader = acquire_reader();
  if (!reader.ok()) return reader.error();
  ReaderLease lease(*this, *reader);
  // Only windows that can hold points of the series are looked up.
  auto stored = chunks_of(*lease, series_id, 0, floor_to(std::max(from_ms, first_t), kRawChunkMs),
                          std::min(to_ms, max_t));
  if (!stored.ok()) return stored.error();
  for (auto& c : *stored) {
    if (c.part != kFinal) {  // a part of an open window, unless memory still holds it
      auto same = [&](const MemKey& m) { return m.key == ChunkKey{c.start, c.part}; };
      if (std::none_of(mem_keys.begin(), mem_keys.end(), same)) mem.push_back(std::move(c));
      continue;
    }
    auto k = std::find_if(mem_keys.begin(), mem_keys.end(), [&](const MemKey& m) { return m.key.first == c.start; });
    if (k == mem_keys.end()) {
      mem.push_back(std::move(c));
    } else if (k->closing) {
      // Written since the snapshot: the window's final chunk, in place of its parts in memory (its parts in
      // the database went in the same commit).
      std::erase_if(mem, [&](const SnapshotChunk& m) { return m.start == c.start; });
      mem.push_back(std::move(c));
    }
  }
  // Parts of a window hold disjoint, ascending time ranges.
  std::sort(mem.begin(), mem.end(),
            [](const auto& a, const auto& b) { return ChunkKey{a.start, a.part} < ChunkKey{b.start, b.part}; });
  std::vector<Point> out;
  for (const auto& c : mem) {
    auto d = ChunkDecoder::open(c.bytes);
    if (!d.ok()) return errorf("series {} chunk {}: {}", series_id, c.start, d.error().message);
    Row r;
    while (d->next(r))
      if (r.t_ms >= from_ms && r.t_ms <= to_ms) out.push_back({r.t_ms, r.v[0]});
    if (!d->ok()) return errorf("series {} chunk {} is corrupt", series_id, c.start);
  }
  return out;
}

Result<std::vector<Bucket>> ChunkStore::read_buckets(int64_t series_id, int64_t from_ms, int64_t to_ms,
                                                     int64_t step_ms) {
  if (step_ms <= 0) return Error{"step must be positive"};
  int ri = step_ms % kHourMs == 0 ? 1 : step_ms % kMinuteMs == 0 ? 0 : -1;
  if (ri < 0) return Store::read_buckets(series_id, from_ms, to_ms, step_ms);
  if (closed_) return Error{"store is closed"};
  SeriesState* st = find(series_id);
  if (!st) return errorf("unknown series {}", series_id);
  const RollupRes& rr = kRollups[ri];
  std::vector<SnapshotChunk> mem;
  std::vector<MemKey> mem_keys;
  int64_t rolled_upto;
  {
    std::lock_guard lock(lock_of(*st));
    rolled_upto = st->rolled_upto;
  }
  int64_t first_t, max_t;
  snapshot(lock_of(*st), *st, ri, rr.chunk_ms, from_ms, to_ms, mem, mem_keys, first_t, max_t);
  std::vector<Bucket> out;
  auto fold = [&](const Bucket& b) {
    int64_t t = floor_to(b.t_ms, step_ms);
    if (out.empty() || out.back().t_ms != t) {
      out.push_back(b);
      out.back().t_ms = t;
    } else {
      merge_bucket(out.back(), b);
    }
  };
  if (from_ms < rolled_upto) {
    auto reader = acquire_reader();
    if (!reader.ok()) return reader.error();
    ReaderLease lease(*this, *reader);
    auto stored = chunks_of(*lease, series_id, rr.res, floor_to(std::max(from_ms, first_t), rr.chunk_ms),
                            std::min(to_ms, max_t));
    if (!stored.ok()) return stored.error();
    for (auto& c : *stored)
      if (std::none_of(mem_keys.begin(), mem_keys.end(), [&](const MemKey& m) { return m.key.first == c.start; }))
        mem.push_back(std::move(c));  // rollup chunks: one per window
    std::sort(mem.begin(), mem.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (const auto& c : mem) {
      auto d = ChunkDecoder::open(c.bytes);
      if (!d.ok()) return errorf("series {} rollup chunk {}: {}", series_id, c.start, d.error().message);
      Row r;
      while (d->next(r)) {
        if (r.t_ms < from_ms || r.t_ms > to_ms || r.t_ms >= rolled_upto) continue;
        fold({r.t_ms, r.v[0], r.v[1], r.v[2], r.v[3], r.v[4]});
      }
    }
  }
  // Windows not rolled up yet (the last hours) come from raw points.
  if (to_ms >= rolled_upto) {
    auto pts = read(series_id, std::max(from_ms, rolled_upto), to_ms);
    if (!pts.ok()) return pts.error();
    for (const Point& p : *pts) fold({p.t_ms, 1, p.value, p.value, p.value, p.value});
  }
  return out;
}

Result<std::vector<SeriesInfo>> ChunkStore::select(const std::string& name, const std::vector<Matcher>& matchers) {
  if (closed_) return Error{"store is closed"};
  std::vector<std::pair<const Matcher*, std::regex>> compiled;
  compiled.reserve(matchers.size());
  for (const auto& m : matchers) {
    std::regex re;
    if (m.op == Matcher::Op::Re || m.op == Matcher::Op::Nre) {
      try {
        re = std::regex(m.value, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return errorf("matcher {}: invalid regular expression \"{}\": {}", m.label, m.value, e.what());
      }
    }
    compiled.emplace_back(&m, std::move(re));
  }
  auto matches = [&](const SeriesCatalog::View& s) {
    for (const auto& [m, re] : compiled) {
      std::string v(m->label == "__name__" ? s.name() : s.label(m->label));
      bool ok = true;
      switch (m->op) {
        case Matcher::Op::Eq: ok = v == m->value; break;
        case Matcher::Op::Neq: ok = v != m->value; break;
        case Matcher::Op::Re: ok = std::regex_match(v, re); break;
        case Matcher::Op::Nre: ok = !std::regex_match(v, re); break;
      }
      if (!ok) return false;
    }
    return true;
  };
  return catalog_.select(name, matches);
}

Result<std::vector<StoredEvent>> ChunkStore::read_events(const std::string& kind, int64_t from_ms, int64_t to_ms) {
  if (closed_) return Error{"store is closed"};
  auto reader = acquire_reader();
  if (!reader.ok()) return reader.error();
  ReaderLease lease(*this, *reader);
  sqlite3_stmt* s = kind.empty() ? lease->events_all.fresh() : lease->events_kind.fresh();
  sqlite3_bind_int64(s, 1, from_ms);
  sqlite3_bind_int64(s, 2, to_ms);
  if (!kind.empty()) sqlite3_bind_text(s, 3, kind.data(), static_cast<int>(kind.size()), SQLITE_STATIC);
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    StoredEvent e;
    e.event.t_ms = sqlite3_column_int64(s, 0);
    e.event.kind = text_column(s, 1);
    e.node = text_column(s, 2);
    e.event.labels = labels_from_json(text_column(s, 3));
    e.event.fields_json = text_column(s, 4);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return errorf("sqlite: reading events: {}", sqlite3_errmsg(lease->db));
  sqlite3_reset(s);
  return out;
}

StoreStats ChunkStore::stats() {
  StoreStats st;
  st.series = series_count_;
  st.points = points_;
  st.points_too_old = too_old_;
  st.points_duplicate = duplicate_;
  st.points_conflicting = conflicting_;
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto n = std::filesystem::file_size(opt_.path + suffix, ec);
    if (!ec) st.bytes_on_disk += static_cast<int64_t>(n);
  }
  return st;
}

void ChunkStore::close() {
  {
    std::lock_guard lk(q_mu_);
    if (stopping_ && !writer_.joinable() && !db_) return;
    stopping_ = true;
  }
  q_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (db_) {
    if (auto r = checkpoint(); !r.ok()) log::error("store: final checkpoint failed: {}", r.error().message);
    for (auto [stmt, sql] : writer_statements()) stmt->finalize();
    {
      std::lock_guard lk(readers_mu_);
      idle_readers_.clear();
    }
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  closed_ = true;
}

}  // namespace

Result<std::unique_ptr<Store>> open_chunk_store(const StoreOptions& options) {
  if (options.path.empty()) return Error{"store: no database path"};
  if (options.out_of_order_ms < 0 || options.out_of_order_ms > kHourMs)
    return errorf("store: out-of-order window {} ms must be between 0 and 1h", options.out_of_order_ms);
  auto store = std::make_unique<ChunkStore>(options);
  if (auto r = store->open(); !r.ok()) {
    store->close();
    return r.error();
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<void> read_retention(const config::Section& section, StoreOptions& options) {
  auto r = config::read([&]() {
    section.allow_only({"raw", "minute", "hour", "out_of_order", "raw_chunk_points"});
    options.retention.raw_ms = section.duration_ms("raw", options.retention.raw_ms);
    options.retention.minute_ms = section.duration_ms("minute", options.retention.minute_ms);
    options.retention.hour_ms = section.duration_ms("hour", options.retention.hour_ms);
    options.out_of_order_ms = section.duration_ms("out_of_order", options.out_of_order_ms);
    if (options.out_of_order_ms > kHourMs) section.fail("out_of_order", "must be at most 1h");
    int64_t cut = section.integer("raw_chunk_points", options.raw_chunk_points);
    if (cut < 0 || cut > 100'000) section.fail("raw_chunk_points", "must be between 0 (never cut) and 100000");
    options.raw_chunk_points = static_cast<uint32_t>(cut);
    for (auto [key, v] : {std::pair{"raw", options.retention.raw_ms}, {"minute", options.retention.minute_ms},
                          {"hour", options.retention.hour_ms}})
      if (v < 0) section.fail(key, "must not be negative (0 keeps forever)");
    return 0;
  });
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace ss::collector

namespace ss::collector {

// The collector's store is the chunk store.
Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) { return open_chunk_store(options); }

}  // namespace ss::collector
