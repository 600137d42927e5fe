// The remote-write queue's record: one acknowledged batch's series as the collector stored them (labels
// with node, points), encoded in the ingest thread and decoded by each endpoint's sender.
//
// Format: varint node length, node; varint series; per series: varint name length, name, varint labels,
// per label two length-prefixed strings, varint points, per point varint zigzag(t - previous t, the first
// from 0) and the 8 bytes of the double, little-endian.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sample.h"

namespace ss::collector::remote {

std::string encode_queue_record(const Batch& batch);

// Calls series(node, one series) for each series of the record; the Series is reused between calls.
Result<void> decode_queue_record(std::string_view record,
                                 const std::function<void(std::string_view node, const Series& series)>& series);

}  // namespace ss::collector::remote
