#include "collector/store/chunk_store_impl.h"

#include <algorithm>
#include <tuple>

#include "collector/store/head_page.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector::chunk_store_impl {

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

namespace {

// The chunk-writing statements of writer_statements(), each bound in its own SQL's column order.
// ins_chunk_: (res, start, series_id, count, data)
sqlite3_stmt* bind_chunk(const Stmt& stmt, int res, int64_t series_id, const MemChunk& c) {
  sqlite3_stmt* s = stmt.fresh();
  sqlite3_bind_int(s, 1, res);
  sqlite3_bind_int64(s, 2, c.start);
  sqlite3_bind_int64(s, 3, series_id);
  sqlite3_bind_int64(s, 4, c.enc.count());
  sqlite3_bind_blob(s, 5, c.enc.bytes().data(), static_cast<int>(c.enc.bytes().size()), SQLITE_STATIC);
  return s;
}

// ins_part_: (series_id, start, part, count, data)
sqlite3_stmt* bind_part(const Stmt& stmt, int64_t series_id, const MemChunk& c) {
  sqlite3_stmt* s = stmt.fresh();
  sqlite3_bind_int64(s, 1, series_id);
  sqlite3_bind_int64(s, 2, c.start);
  sqlite3_bind_int64(s, 3, c.part);
  sqlite3_bind_int64(s, 4, c.enc.count());
  sqlite3_bind_blob(s, 5, c.enc.bytes().data(), static_cast<int>(c.enc.bytes().size()), SQLITE_STATIC);
  return s;
}

// upsert_head_: (series_id, res, start, count, data)
sqlite3_stmt* bind_head(const Stmt& stmt, int64_t series_id, int res, const MemChunk& c) {
  sqlite3_stmt* s = stmt.fresh();
  sqlite3_bind_int64(s, 1, series_id);
  sqlite3_bind_int(s, 2, res);
  sqlite3_bind_int64(s, 3, c.start);
  sqlite3_bind_int64(s, 4, c.enc.count());
  sqlite3_bind_blob(s, 5, c.enc.bytes().data(), static_cast<int>(c.enc.bytes().size()), SQLITE_STATIC);
  return s;
}

}  // namespace

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
  auto write = [&](sqlite3_stmt* s) -> Result<void> {
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
        if (auto r = write(bind_part(ins_part_, st.id, c)); !r.ok()) return r;
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
          if (auto r = write(bind_head(upsert_head_, st.id, kRollups[i].res, c)); !r.ok()) return r;
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
    if (auto r = write(bind_chunk(ins_chunk_, f.res, f.id, *f.c)); !r.ok()) return fail(r.error());
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

}  // namespace ss::collector::chunk_store_impl
