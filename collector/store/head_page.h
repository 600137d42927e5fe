// The open raw chunks of a run of series ids stored together (schema version 4, table `head_pages`): a
// checkpoint rewrites one row per kHeadPageSeries series rather than one row per series, which made
// checkpoints of millions of series cost seconds of SQLite statements. Open chunks are read only when
// the store opens (readers find them in memory), so their rows need no per-series key.
//
// A page is a sequence of entries: varint (series id - first id of the page), varint zigzag(window
// start + part), varint row count, varint byte length, the chunk. Windows are aligned to kRawChunkMs, so
// the sum names both the window and the part (schema version 5: an open raw chunk that grew long is cut,
// its earlier parts are in `raw_parts`); entries of version 4 are part 0.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ss::collector {

inline constexpr uint32_t kHeadPageSeries = 256;

struct HeadPageEntry {
  uint32_t series_id = 0;
  int64_t start = 0;
  uint32_t count = 0;
  std::string_view chunk;
  uint32_t part = 0;  // the window's parts before it are in `raw_parts`
};

inline uint32_t head_page_of(uint32_t series_id) { return series_id / kHeadPageSeries; }

void put_head_page_entry(std::string& page, const HeadPageEntry& e);
// Calls f for every entry of page `page_no`; fails on a truncated page or an id outside the page.
Result<void> read_head_page(std::string_view page, uint32_t page_no, const std::function<void(const HeadPageEntry&)>& f);

}  // namespace ss::collector
