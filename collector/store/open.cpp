#include "collector/store/chunk_store_impl.h"

#include <filesystem>

#include "collector/store/head_page.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector::chunk_store_impl {

Result<void> ChunkStore::open() {
  std::error_code ec;
  auto dir = std::filesystem::path(opt_.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return errorf("cannot create directory {}: {}", dir.string(), ec.message());
  auto db = sqlite::open_connection(opt_.path, {.create = true});
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

}  // namespace ss::collector::chunk_store_impl
