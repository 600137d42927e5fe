// libFuzzer target: the Lustre generic stats parser must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/stats_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using ss::agent::lustre::HeaderTimes;
  auto s = ss::agent::lustre::parse_stats(text);
  for (const auto& c : s.counters)
    if (c.name.empty() || c.count < 0) __builtin_trap();
  // The source skips the header times: the counters must come out the same.
  auto skipped = ss::agent::lustre::parse_stats(text, HeaderTimes::Skip);
  if (skipped.counters.size() != s.counters.size() || skipped.skipped_lines != s.skipped_lines) __builtin_trap();
  for (size_t i = 0; i < s.counters.size(); ++i)
    if (skipped.counters[i].name != s.counters[i].name || skipped.counters[i].sum != s.counters[i].sum) __builtin_trap();
  return 0;
}
