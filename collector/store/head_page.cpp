#include "collector/store/head_page.h"

#include "collector/store/chunk_store.h"
#include "collector/store/varint.h"

namespace ss::collector {

void put_head_page_entry(std::string& page, const HeadPageEntry& e) {
  put_varint(page, e.series_id % kHeadPageSeries);
  put_varint(page, zigzag(e.start + e.part));
  put_varint(page, e.count);
  put_varint(page, e.chunk.size());
  page.append(e.chunk);
}

Result<void> read_head_page(std::string_view page, uint32_t page_no,
                            const std::function<void(const HeadPageEntry&)>& f) {
  size_t pos = 0;
  while (pos < page.size()) {
    uint64_t offset, start, count, len;
    if (!get_varint(page, pos, offset) || !get_varint(page, pos, start) || !get_varint(page, pos, count) ||
        !get_varint(page, pos, len) || len > page.size() - pos || offset >= kHeadPageSeries || count > UINT32_MAX)
      return errorf("head page {} is corrupt at byte {}", page_no, pos);
    HeadPageEntry e;
    e.series_id = page_no * kHeadPageSeries + static_cast<uint32_t>(offset);
    int64_t named = unzigzag(start);
    e.start = named - (((named % kRawChunkMs) + kRawChunkMs) % kRawChunkMs);
    e.part = static_cast<uint32_t>(named - e.start);
    e.count = static_cast<uint32_t>(count);
    e.chunk = page.substr(pos, len);
    pos += len;
    f(e);
  }
  return {};
}

}  // namespace ss::collector
