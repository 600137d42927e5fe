#include "collector/store/chunk_store_impl.h"

#include <fmt/format.h>

namespace ss::collector::chunk_store_impl {

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

}  // namespace ss::collector::chunk_store_impl

namespace ss::collector {

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
