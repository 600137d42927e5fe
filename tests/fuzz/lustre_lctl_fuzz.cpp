// libFuzzer target: `lctl get_param` framing, then every value through the parser its name suggests.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/sources/lustre/import_format.h"
#include "agent/sources/lustre/job_stats_format.h"
#include "agent/sources/lustre/lctl_format.h"
#include "agent/sources/lustre/stats_format.h"

using namespace ss::agent::lustre;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto params = parse_lctl_get_param(std::string_view(reinterpret_cast<const char*>(data), size));
  for (const auto& p : params) {
    if (p.name.empty()) __builtin_trap();
    (void)match_param(p.name, "osc.", ".stats");
    if (p.name.ends_with("job_stats")) (void)parse_job_stats(p.value);
    else if (p.name.ends_with("import")) (void)parse_import(p.value);
    else (void)parse_stats(p.value);
  }
  return 0;
}
