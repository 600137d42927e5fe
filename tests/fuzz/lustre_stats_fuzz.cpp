// libFuzzer target: the Lustre generic stats parser must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/stats_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = ss::agent::lustre::parse_stats(text);
  for (const auto& c : s.counters)
    if (c.name.empty() || c.count < 0) __builtin_trap();
  return 0;
}
