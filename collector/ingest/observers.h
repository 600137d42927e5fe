// Ingest observers: functions other modules register to see every batch once it is durable (detectors
// judge on the samples' timestamps, so they follow ingest rather than a clock). Duplicates are not passed.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/sample.h"

namespace ss::collector {

class IngestObservers {
 public:
  // Called on the HTTP worker thread of the ingest request, after COMMIT and before the 200 answer, with
  // the batch as decoded (series labels without "node": the node is batch.node). Keep it quick (copy or
  // enqueue) and thread-safe: several batches are observed at once. An exception is logged and ignored.
  using Observer = std::function<void(const Batch&)>;
  // For observers that keep the batch after the call (a queue): they share it instead of copying it.
  using SharedObserver = std::function<void(const std::shared_ptr<const Batch>&)>;

  void add(Observer observer);
  void add_shared(SharedObserver observer);
  void notify(const std::shared_ptr<const Batch>& batch) const;

 private:
  mutable std::mutex mu_;
  // Replaced, never changed, when an observer is added: notify() takes the list without copying it.
  std::shared_ptr<const std::vector<SharedObserver>> observers_ = std::make_shared<std::vector<SharedObserver>>();
};

}  // namespace ss::collector
