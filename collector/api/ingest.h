// POST /api/v1/ingest (DESIGN.md §4): limits, bearer tokens, decode, durable append, observers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/codec.h"
#include "common/config.h"
#include "common/result.h"

namespace ss::collector {

struct IngestOptions {
  int64_t max_body_bytes = 16 << 20;      // on the wire (413 above)
  int64_t max_decoded_bytes = 64 << 20;   // after gzip; counted while inflating (413 above)
  int64_t max_pending_points = 4'000'000; // points decoded and waiting for the store (503 above)
  int64_t max_future_ms = 60'000;         // points and events further ahead of the collector's clock are dropped
  std::vector<std::string> tokens;        // bearer tokens; empty: no authentication
  DecodeLimits limits;
};

// Reads the `ingest:` section: max_body_bytes, max_decoded_bytes, max_pending_points, max_future, tokens,
// token_file.
IngestOptions read_ingest_options(const config::Section& section);

// The clock-skew rule: drops the points and events stamped after `latest` (a node whose clock runs ahead
// must not move data time, and so the detectors, into the future). Returns how many were dropped; series
// left without points are removed.
size_t drop_future(Batch& batch, int64_t latest);

}  // namespace ss::collector
