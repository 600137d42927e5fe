#include "collector/ingest/observers.h"

#include <exception>

#include "common/log.h"

namespace ss::collector {

void IngestObservers::add(Observer observer) {
  add_shared([o = std::move(observer)](const std::shared_ptr<const Batch>& b) { o(*b); });
}

void IngestObservers::add_shared(SharedObserver observer) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<SharedObserver>>(*observers_);
  next->push_back(std::move(observer));
  observers_ = std::move(next);
}

void IngestObservers::notify(const std::shared_ptr<const Batch>& batch) const {
  std::shared_ptr<const std::vector<SharedObserver>> list;
  {
    std::lock_guard lock(mu_);
    list = observers_;
  }
  for (const auto& o : *list) {
    try {
      o(batch);
    } catch (const std::exception& e) {
      log::error("ingest observer failed on batch {}/{}: {}", batch->node, batch->seq, e.what());
    }
  }
}

}  // namespace ss::collector
