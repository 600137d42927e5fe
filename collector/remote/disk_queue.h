// The remote-write queue: an append-only log of records in segment files on disk, read by several
// consumers (one per endpoint), each with its own cursor, so that what the collector acknowledged reaches
// every endpoint even when one is down for a long time, or the collector restarts in between.
//
// Bounded: when the segments exceed max_bytes, the oldest one is deleted and every consumer still inside
// it moves to the next, counting the points it skipped (dropped). A new consumer starts at the end.
// Files: <dir>/<16 hex digits>.seg, <dir>/<consumer>.cursor ("segment offset").
// Record: u32 payload bytes, u32 crc32 of the payload, u32 points, i64 enqueue time (ms), the payload;
// little-endian. A torn record at the end of the last segment (a crash mid-write) is cut off on open.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::collector::remote {

struct QueuePosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const QueuePosition&) const = default;
};

struct QueueRecord {
  QueuePosition next;       // where the record after this one starts
  int64_t enqueued_ms = 0;  // wall clock when appended
  uint32_t points = 0;
  std::string payload;
};

struct DiskQueueOptions {
  std::string dir;
  int64_t max_bytes = int64_t(1) << 30;
  int64_t segment_bytes = int64_t(64) << 20;
  bool sync = true;  // append() returns after fdatasync (grouped across concurrent callers)
};

class DiskQueue {
 public:
  ~DiskQueue();
  static Result<std::unique_ptr<DiskQueue>> open(const DiskQueueOptions& options, std::vector<std::string> consumers);

  // Appends one record; durable when it returns (with options.sync). Thread-safe.
  Result<void> append(std::string_view payload, uint32_t points);

  // Records from `from` on (at least one when there is one), until about max_points points are read.
  // A position in a deleted segment continues at the oldest kept one.
  Result<std::vector<QueueRecord>> read(QueuePosition from, size_t max_points);

  // Waits until a record after `from` exists, timeout_ms passes or close() is called.
  void wait(QueuePosition from, int64_t timeout_ms);

  QueuePosition cursor(size_t consumer) const;
  // Moves the consumer's cursor forward (never back) and saves it; deletes segments every cursor passed.
  Result<void> commit(size_t consumer, QueuePosition pos);

  // Points skipped for a consumer because the queue was full (since open), and bytes between its cursor
  // and the end; the enqueue time of the record at its cursor (0 when it is at the end).
  uint64_t dropped_points(size_t consumer) const;
  int64_t bytes_behind(size_t consumer) const;
  int64_t oldest_pending_ms(size_t consumer);
  int64_t bytes_on_disk() const;

  void close();  // wakes waiters; later appends fail

 private:
  struct Segment {
    uint64_t id;
    int64_t bytes;
  };
  DiskQueue() = default;
  Result<void> rotate_locked();
  void drop_oldest_locked();
  void trim_locked();
  QueuePosition end_locked() const { return {segments_.back().id, uint64_t(segments_.back().bytes)}; }
  std::string segment_path(uint64_t id) const;
  Result<void> save_cursor_locked(size_t consumer);
  uint64_t points_from_locked(uint64_t segment, uint64_t offset);

  DiskQueueOptions options_;
  std::vector<std::string> consumers_;
  mutable std::mutex mu_;
  std::condition_variable appended_, synced_cv_;
  std::vector<Segment> segments_;  // oldest first; the last is written
  int fd_ = -1;                    // of the last segment
  std::vector<QueuePosition> cursors_;
  std::vector<uint64_t> dropped_;
  int64_t total_bytes_ = 0;
  uint64_t written_ = 0, synced_ = 0;  // append counts, for grouping fsyncs
  bool syncing_ = false;
  bool closed_ = false;
};

}  // namespace ss::collector::remote
