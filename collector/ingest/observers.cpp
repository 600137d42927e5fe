#include "collector/ingest/observers.h"

#include <exception>

#include "common/log.h"

namespace ss::collector {

void IngestObservers::add(Observer observer) {
  std::lock_guard lock(mu_);
  observers_.push_back(std::move(observer));
}

void IngestObservers::notify(const Batch& batch) const {
  std::vector<Observer> copy;
  {
    std::lock_guard lock(mu_);
    if (observers_.empty()) return;
    copy = observers_;
  }
  for (const auto& o : copy) {
    try {
      o(batch);
    } catch (const std::exception& e) {
      log::error("ingest observer failed on batch {}/{}: {}", batch.node, batch.seq, e.what());
    }
  }
}

}  // namespace ss::collector
