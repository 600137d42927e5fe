// parse_selector never crashes, and what it accepts survives format_selector → parse_selector unchanged.
#include <cstdlib>
#include <string_view>

#include "collector/api/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = ss::collector::parse_selector(text);
  if (!s) return 0;
  auto again = ss::collector::parse_selector(ss::collector::format_selector(*s));
  if (!again || again->name != s->name || again->matchers.size() != s->matchers.size()) abort();
  for (size_t i = 0; i < s->matchers.size(); ++i) {
    const auto& a = s->matchers[i];
    const auto& b = again->matchers[i];
    if (a.label != b.label || a.op != b.op || a.value != b.value) abort();
  }
  return 0;
}
