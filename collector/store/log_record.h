// Records of the store's batch log (docs/storage.md, "Write path and durability"): the points of a group of
// acknowledged batches, by series id, kept until a checkpoint has them in chunks.
//
// Format 2 (written): byte 0x00, then per batch: its node, its stream (each a varint length and the bytes),
// varint seq, varint zigzag(base_t), varint entries; per entry: varint series id, varint points, per
// point: varint zigzag(t - previous t, the first from base_t) and the value: varint zigzag(i) << 1 for a
// value that is an integer i with |i| <= 2^53 (not -0.0), else varint 1 and the 8 bytes of the double,
// little-endian. A 10 s counter point costs 4-8 bytes. The batch's seq makes the record alone the proof
// that it was stored (duplicate detection after a crash): the `streams` table is written at checkpoints.
// Format 1 (read, from older collectors): per entry varint series id, varint length, a raw chunk.
// A format-1 record never starts with 0x00: series ids start at 1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/sample.h"

namespace ss::collector {

// One batch's points encoded before its series have ids (in the ingest thread).
struct LogBatch {
  int64_t base_t = 0;
  uint32_t entries = 0;         // series with points
  std::string bytes;            // per series: varint points, then the points
  std::vector<uint32_t> ends;   // per batch series: where its bytes end (equal to the previous: no points)
};

LogBatch encode_log_batch(const Batch& batch);

// Appends the batch to a record being built (the record starts with format_2_record_start()).
// `ids` holds the series id of every batch series.
std::string format_2_record_start();
void append_log_batch(std::string& record, const Batch& batch, const LogBatch& points, const std::vector<uint32_t>& ids);

// Calls points(series id, points) for every entry of a record of either format, in order, and
// batch(node, stream, seq) before the entries of each batch (format 2 only).
Result<void> read_log_record(
    std::string_view record, const std::function<void(uint64_t id, const std::vector<Point>& points)>& points,
    const std::function<void(std::string_view node, std::string_view stream, uint64_t seq)>& batch = nullptr);

}  // namespace ss::collector
