#include "collector/store/chunk_store_impl.h"

#include <algorithm>
#include <filesystem>
#include <regex>

namespace ss::collector::chunk_store_impl {

Result<ChunkStore::Reader*> ChunkStore::acquire_reader() {
  {
    std::lock_guard lk(readers_mu_);
    if (!idle_readers_.empty()) {
      Reader* r = idle_readers_.back().release();
      idle_readers_.pop_back();
      return r;
    }
  }
  auto db = sqlite::open_connection(opt_.path, {});
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

namespace {

// Copies the in-memory chunks of one resolution overlapping [from, to] and notes the chunks (window, part)
// memory holds: memory is newer than the database for those. Memory is read before the database because a
// chunk leaves memory only after it is committed.
// `rollup` -1 is the raw chunks, 0 and 1 the rollups.
// Returns the series' closed_upto at the time of the copy.
int64_t snapshot(std::mutex& mu, const SeriesState& st, int rollup, int64_t window, int64_t from_ms, int64_t to_ms,
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
  return st.closed_upto;
}

int64_t closed_upto_of(std::mutex& mu, const SeriesState& st) {
  std::lock_guard lock(mu);
  return st.closed_upto;
}

}  // namespace

Result<std::vector<Point>> ChunkStore::read(int64_t series_id, int64_t from_ms, int64_t to_ms) {
  if (closed_) return Error{"store is closed"};
  SeriesState* st = find(series_id);
  if (!st) return errorf("unknown series {}", series_id);
  auto reader = acquire_reader();
  if (!reader.ok()) return reader.error();
  ReaderLease lease(*this, *reader);
  std::vector<SnapshotChunk> mem;
  std::vector<MemKey> mem_keys;
  Result<std::vector<SnapshotChunk>> stored = std::vector<SnapshotChunk>{};
  // A window that closes between the copy of memory and the database read is merged into its final chunk
  // and committed meanwhile: the copy holds only its open part, the final chunk looks older than memory,
  // and the points of its written parts would be missing. Closing moves closed_upto, so read again when it
  // moved. A series closes each window once, so this ends; the bound only guards against a writer that
  // closes windows faster than a read takes (a fast backfill).
  for (int attempt = 0;; ++attempt) {
    mem.clear();
    mem_keys.clear();
    int64_t first_t, max_t;
    const int64_t closed_upto =
        snapshot(lock_of(*st), *st, -1, kRawChunkMs, from_ms, to_ms, mem, mem_keys, first_t, max_t);
    // Only windows that can hold points of the series are looked up.
    stored = chunks_of(*lease, series_id, 0, floor_to(std::max(from_ms, first_t), kRawChunkMs),
                       std::min(to_ms, max_t));
    if (!stored.ok()) return stored.error();
    if (closed_upto_of(lock_of(*st), *st) == closed_upto) break;
    if (attempt == 16) return errorf("series {} kept closing windows while it was read; read again", series_id);
  }
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

}  // namespace ss::collector::chunk_store_impl
