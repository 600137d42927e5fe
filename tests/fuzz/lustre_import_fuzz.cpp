// libFuzzer target: the osc/mdc import parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/import_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto i = ss::agent::lustre::parse_import(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)ss::agent::lustre::import_state_code(i.state);
  return 0;
}
