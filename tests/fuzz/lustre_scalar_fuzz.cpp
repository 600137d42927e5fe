// libFuzzer target: single-value parameters and the device-name helpers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/names.h"
#include "agent/sources/lustre/scalar_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ss::agent::lustre::parse_scalar(text);
  if (auto t = ss::agent::lustre::target_of(text))
    if (t->fs.empty() || t->target.size() <= t->fs.size()) __builtin_trap();
  (void)ss::agent::lustre::llite_fsname(text);
  return 0;
}
