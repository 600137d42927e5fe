// The chunk store's insides, shared by the files that implement it (private to collector/store/):
// chunk_store.cpp   opening (the factory), the label encoding of the series and events tables
// schema.cpp        the schema and the upgrades from older versions
// open.cpp          loading the series and their open chunks, replaying the log, closing
// append.cpp        the write path: the group-commit writer thread, points into open chunks, closing windows
// checkpoint.cpp    writing chunks, rollups and head pages in slices, truncating the log; cutting long chunks
// retention.cpp     dropping old chunks; reading the `retention:` section
// read.cpp          the reader pool, reads of points, buckets, series and events, statistics
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector/store/chunk_codec.h"
#include "collector/store/chunk_store.h"
#include "collector/store/log_record.h"
#include "collector/store/series_catalog.h"
#include "collector/store/sqlite.h"

namespace ss::collector::chunk_store_impl {

using sqlite::blob_column;
using sqlite::exec;
using sqlite::Stmt;
using sqlite::text_column;

inline int64_t floor_to(int64_t t, int64_t width) { return t - (((t % width) + width) % width); }

// Labels as the JSON object of the `labels` columns (chunk_store.cpp).
std::string labels_to_json(const Labels& labels);
Labels labels_from_json(const std::string& text);
Labels with_node(const Labels& labels, const std::string& node);
std::string labels_json_with_node(const Labels& labels, const std::string& node);

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

// Resumes an encoder from a stored chunk by decoding and re-appending its rows (open.cpp).
Result<void> resume_chunk(std::string_view bytes, MemChunk& c, int64_t& max_t);

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

}  // namespace ss::collector::chunk_store_impl
