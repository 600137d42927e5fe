// The collector's time-series store, behind a small interface so that its internals can change
// (row table first, compressed chunks later) without touching ingest, API or detectors.
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
};

struct StoreOptions {
  std::string path;  // SQLite database file; its directory is created
};

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

  virtual StoreStats stats() = 0;

  // Flushes and closes; later calls fail. Called on clean shutdown.
  virtual void close() = 0;
};

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace ss::collector
