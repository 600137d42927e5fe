// A duration typed by a person (a command-line flag, the offset of now-1h): its unit is required, since "10"
// could as well mean minutes. Configuration files keep parse_duration_ms's bare seconds (common/time.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace ss {

Result<int64_t> parse_duration_with_unit_ms(std::string_view text);

}  // namespace ss
