// The collector's time-series store, behind a small interface so that ingest, the API and the detectors
// never depend on the chunk store's internals.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sample.h"

namespace ss::collector {

// One label matcher of a selector: name="v", name!="v", name=~"re", name!~"re".
struct Matcher {
  enum class Op { Eq, Neq, Re, Nre };
  std::string label;
  Op op = Op::Eq;
  std::string value;
};

struct SeriesInfo {
  int64_t id = 0;
  std::string name;
  Labels labels;  // including "node"
  SeriesType type = SeriesType::Gauge;
};

struct StoredEvent {
  std::string node;
  Event event;
};

struct AppendOutcome {
  size_t accepted = 0;     // points stored
  bool duplicate = false;  // the (node, stream, seq) was already stored; nothing was stored again
};

struct StoreStats {
  int64_t series = 0;
  int64_t points = 0;
  int64_t bytes_on_disk = 0;
  // Points not stored, by reason (counted since the store was opened).
  int64_t points_too_old = 0;     // older than the out-of-order window allows
  int64_t points_duplicate = 0;   // same timestamp and value as a stored point
  int64_t points_conflicting = 0; // same timestamp as a stored point, different value
};

// Aggregate of the points of one series in [t_ms, t_ms + step).
struct Bucket {
  int64_t t_ms = 0;
  double count = 0, sum = 0, min = 0, max = 0, last = 0;
  bool operator==(const Bucket&) const = default;
};

// How long each resolution is kept (the collector's `retention:` section); 0 keeps forever.
struct RetentionOptions {
  int64_t raw_ms = 15 * 86'400'000LL;
  int64_t minute_ms = 90 * 86'400'000LL;
  int64_t hour_ms = 730 * 86'400'000LL;
};

struct StoreOptions {
  StoreOptions() = default;
  StoreOptions(std::string p) : path(std::move(p)) {}  // NOLINT: open_store({path}) stays valid
  std::string path;  // SQLite database file; its directory is created
  RetentionOptions retention;
  int64_t out_of_order_ms = 5 * 60'000;    // how far behind a series' newest point a point may arrive
  int64_t checkpoint_interval_ms = 60'000; // how often in-memory heads are written and the log truncated
  bool sync_full = true;                   // fsync every commit (false: survive process crashes only)
  // An open raw chunk of this many points is cut at the next checkpoint: its points older than the
  // out-of-order window are written (a part of the window, joined again when it closes), the rest stay
  // open, so that memory holds about this many points a series at most rather than a whole 2-hour window
  // (120, as Prometheus' head chunks: 20 minutes at 10 s; 3 M series stay under 2 GB). 0: never cut.
  uint32_t raw_chunk_points = 120;
};

// Folds `later` (a bucket or a single point as {t, 1, v, v, v, v}) into `into`; `later` holds newer points.
void merge_bucket(Bucket& into, const Bucket& later);

// Points in [from_ms, to_ms] aggregated into buckets aligned to multiples of step_ms; empty buckets omitted.
std::vector<Bucket> aggregate_points(const std::vector<Point>& points, int64_t from_ms, int64_t to_ms, int64_t step_ms);

class Store {
 public:
  virtual ~Store() = default;

  // Stores the batch, adding label node=<batch.node> to every series and event. Returns only after the
  // batch is durable; a batch whose (node, stream, seq) is not above the last stored one is a duplicate.
  // Safe to call from many threads (calls are grouped into shared transactions).
  virtual Result<AppendOutcome> append(const Batch& batch) = 0;

  // Series whose name is `name` (any name when empty) and whose labels satisfy every matcher.
  virtual Result<std::vector<SeriesInfo>> select(const std::string& name, const std::vector<Matcher>& matchers) = 0;

  // Points of one series with from_ms <= t <= to_ms, in time order.
  virtual Result<std::vector<Point>> read(int64_t series_id, int64_t from_ms, int64_t to_ms) = 0;

  // Events of a kind (any kind when empty) with from_ms <= t <= to_ms, in time order.
  virtual Result<std::vector<StoredEvent>> read_events(const std::string& kind, int64_t from_ms, int64_t to_ms) = 0;

  // Aggregates per step (buckets aligned to multiples of step_ms, empty ones omitted). Stores with rollups
  // answer long ranges from them; the default aggregates raw points.
  virtual Result<std::vector<Bucket>> read_buckets(int64_t series_id, int64_t from_ms, int64_t to_ms,
                                                   int64_t step_ms) {
    if (step_ms <= 0) return Error{"step must be positive"};
    auto points = read(series_id, from_ms, to_ms);
    if (!points.ok()) return points.error();
    return aggregate_points(*points, from_ms, to_ms, step_ms);
  }

  // Drops data older than the retention of its resolution, relative to now_ms; returns chunks removed.
  virtual Result<int64_t> apply_retention(int64_t now_ms) {
    (void)now_ms;
    return int64_t{0};
  }

  virtual StoreStats stats() = 0;

  // Flushes and closes; later calls fail. Called on clean shutdown.
  virtual void close() = 0;
};

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace ss::collector
