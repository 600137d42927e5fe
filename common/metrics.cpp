#include "common/metrics.h"

#include <array>

namespace ss::metrics {

namespace {
#define SS_METRIC_ENTRY(name, kind, labels, help) name,
constexpr std::array kCatalog{SS_METRICS(SS_METRIC_ENTRY)};
#undef SS_METRIC_ENTRY
}  // namespace

std::span<const Metric> catalog() { return kCatalog; }

const Metric* find(std::string_view name) {
  for (const Metric& m : kCatalog)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace ss::metrics
