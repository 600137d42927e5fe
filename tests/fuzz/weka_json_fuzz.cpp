// libFuzzer target: the Weka JSON parsers (weka stats in its CLI, flattened and REST shapes; weka status -J;
// weka fs -J in its CLI, REST and JSON-RPC shapes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/sources/weka/filesystems.h"
#include "agent/sources/weka/stats.h"
#include "agent/sources/weka/status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = ss::agent::weka::parse_stats(text)) {
    for (const auto& v : ss::agent::weka::newest_values(*r)) {
      std::string op;
      (void)ss::agent::weka::classify_stat(v.stat, op);
    }
  }
  (void)ss::agent::weka::parse_status(text);
  (void)ss::agent::weka::parse_filesystems(text);
  return 0;
}
