#include "collector/store/chunk_store_impl.h"

#include <algorithm>
#include <bit>

#include "common/log.h"
#include "common/time.h"

namespace ss::collector::chunk_store_impl {

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

void ChunkStore::mark_dirty(SeriesState& s) {
  if (s.dirty) return;
  s.dirty = true;
  auto id = static_cast<uint64_t>(s.id);
  if (id / 64 >= dirty_.size()) dirty_.resize(id / 64 + 1 + dirty_.size() / 2, 0);
  dirty_[id / 64] |= uint64_t(1) << (id % 64);
  ++dirty_count_;
}

}  // namespace ss::collector::chunk_store_impl
