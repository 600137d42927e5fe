// Writes an ingest batch's JSON (DESIGN.md §4) piece by piece, for callers whose series are in another shape
// than Batch (the agent writes straight from its samples). encode_batch uses it, so both write the same text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/sample.h"

namespace ss {

// Call series() for every series, then event() for every event, then finish().
class BatchWriter {
 public:
  BatchWriter(std::string& out, std::string_view node, std::string_view stream, uint64_t seq);
  void series(std::string_view name, SeriesType type, const Labels& labels, const Point* points, size_t n);
  void event(const Event& event);
  void finish();

 private:
  std::string& out_;
  size_t series_ = 0, events_ = 0;
};

}  // namespace ss
