// libFuzzer target: the osc/mdc rpc_stats parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/rpc_stats_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ss::agent::lustre::parse_rpc_stats(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
