// The compressed-chunk store (docs/storage.md): per series, time-ordered chunks of Gorilla-coded points
// as SQLite blobs keyed by (series, resolution, window start); an in-memory head per series; an
// append-only log of acknowledged batches, replayed at start, makes every acknowledged point durable
// before the head is written; 1-minute and 1-hour rollups; retention by dropping whole chunks.
#pragma once

#include <memory>

#include "collector/store/store.h"
#include "common/config.h"

namespace ss::collector {

// Window of one chunk per resolution, and the bucket width of each rollup.
inline constexpr int64_t kRawChunkMs = 2 * 3'600'000;
inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kMinuteChunkMs = 86'400'000;
inline constexpr int64_t kHourChunkMs = 30 * 86'400'000LL;
// The database layout this code writes; older layouts are upgraded when opened.
inline constexpr int kSchemaVersion = 5;

Result<std::unique_ptr<Store>> open_chunk_store(const StoreOptions& options);

// Reads the collector's `retention:` section (raw, minute, hour as durations; out_of_order) into options.
Result<void> read_retention(const config::Section& section, StoreOptions& options);

}  // namespace ss::collector
