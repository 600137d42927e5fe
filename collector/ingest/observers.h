// Ingest observers: functions other modules register to see every batch once it is durable (detectors
// judge on the samples' timestamps, so they follow ingest rather than a clock). Duplicates are not passed.
#pragma once

#include <functional>
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

  void add(Observer observer);
  void notify(const Batch& batch) const;

 private:
  mutable std::mutex mu_;
  std::vector<Observer> observers_;
};

}  // namespace ss::collector
