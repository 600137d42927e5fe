// The ingest wire codec (DESIGN.md §4): JSON batches, strictly validated.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sample.h"

namespace ss {

struct DecodeLimits {
  size_t max_series = 1'000'000;
  size_t max_points = 10'000'000;
  size_t max_labels_per_series = 64;
  size_t max_label_value_bytes = 4096;
  size_t max_events = 100'000;
};

// Parses and validates one batch. Errors name the place: "series[3].points[7][1]: not a number".
// Label "node" is reserved for the collector and rejected. Values may be numbers or the strings
// "NaN", "+Inf", "-Inf". Counter values must not be negative.
Result<Batch> decode_batch(std::string_view json, const DecodeLimits& limits = {});

// Serializes a batch; non-finite values become "NaN", "+Inf", "-Inf".
std::string encode_batch(const Batch& batch);

// Appends s as a JSON string (quoted, escaped; invalid UTF-8 becomes U+FFFD, so the text is always JSON).
void append_json_string(std::string& out, std::string_view s);

}  // namespace ss
