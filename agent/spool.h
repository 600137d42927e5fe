// The agent's spool: every batch is written to disk before it is sent, so a collector that is down for minutes,
// or restarted, loses nothing, and an agent restart neither loses nor reuses a sequence number.
//
// Layout of the directory:
//   stream                   random id made when the directory is created (the batches' `stream`)
//   seq                      the last sequence number handed out
//   batch-<seq>.json.gz      one batch each, exactly the gzip body that is POSTed
//   rejected/                batches the collector refused as malformed (400/413), kept for inspection
//   cursor-<collector>       per collector the agent ships to: the highest seq that collector is done with
//   lock                     flock()ed by the running agent so two agents never share a spool
// Files are written to a temporary name, fsynced and renamed, so a crash mid-write leaves either the whole
// batch or nothing (leftover temporary files are removed at open).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent {

struct SpoolOptions {
  int64_t max_bytes = 256ll << 20;  // total size of the batch files; the oldest are dropped beyond it
  size_t max_rejected_files = 100;  // rejected/ keeps the newest this many
};

struct SpoolEntry {
  uint64_t seq = 0;
  int64_t bytes = 0;
};

struct SpoolStats {
  int64_t bytes = 0;
  size_t batches = 0;
  uint64_t dropped_batches = 0;   // oldest batches dropped because the spool was full (since start)
  uint64_t rejected_batches = 0;  // batches moved to rejected/ (since start)
};

class Spool {
 public:
  static Result<std::unique_ptr<Spool>> open(const std::string& dir, SpoolOptions options = {});
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& stream() const { return stream_; }

  // Hands out the next sequence number; it is on disk before it is returned.
  Result<uint64_t> next_seq();

  // Stores one batch durably. When the spool would grow beyond max_bytes the oldest batches are dropped.
  Result<void> append(uint64_t seq, std::string_view body);

  // The batches waiting, oldest (lowest seq) first.
  std::optional<SpoolEntry> oldest() const;
  std::vector<SpoolEntry> entries() const;

  // An error when the batch is gone (dropped because the spool was full).
  Result<std::string> read(uint64_t seq) const;

  // The collector stored it.
  void remove(uint64_t seq);
  // The collector will never take it (malformed or too large): keep it aside for a human.
  void set_aside(uint64_t seq);

  // Readers, one per collector the agent ships to, each with its own cursor (the highest seq it is done
  // with, kept in cursor-<name>; a new reader starts before the oldest batch). A batch is deleted once every
  // reader is done with it, or set aside when one of them rejected it.
  size_t add_reader(const std::string& name);
  uint64_t reader_cursor(size_t reader) const;
  std::optional<SpoolEntry> next_after(uint64_t seq) const;
  size_t batches_after(uint64_t seq) const;
  void done(size_t reader, uint64_t seq, bool rejected);

  SpoolStats stats() const;

 private:
  Spool(std::string dir, SpoolOptions options);
  std::string batch_path(uint64_t seq) const;
  void remove_locked(uint64_t seq);
  void set_aside_locked(uint64_t seq);
  // Drops the oldest batch (counted); false when there is none. Called with mu_ held.
  Result<bool> drop_oldest(const char* why);
  // write_file_durably; when the disk is full, drops the oldest batches until the write fits.
  Result<void> write_making_room(const std::string& name, std::string_view data);

  std::string dir_;
  SpoolOptions options_;
  std::string stream_;
  int lock_fd_ = -1;

  mutable std::mutex mu_;
  uint64_t last_seq_ = 0;
  std::map<uint64_t, int64_t> batches_;  // seq → bytes
  int64_t bytes_ = 0;
  uint64_t dropped_ = 0;
  uint64_t rejected_ = 0;
  std::vector<std::string> readers_;
  std::vector<uint64_t> cursors_;
  std::vector<uint64_t> rejected_by_one_;  // seqs a reader rejected, set aside once all are done
};

// Writes `data` to dir/name through a temporary file, fsync and rename, then fsyncs the directory. On
// failure errno is that of the failed call (ENOSPC when the disk is full).
Result<void> write_file_durably(const std::string& dir, const std::string& name, std::string_view data);

}  // namespace ss::agent
