// Time helpers: wall clock in ms, durations ("10s", "1m30s", "250ms"), RFC 3339.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ss {

int64_t now_ms();
int64_t monotonic_ms();

// "250ms", "10s", "5m", "1h30m", "2d"; a bare number is seconds.
Result<int64_t> parse_duration_ms(std::string_view text);
std::string format_duration(int64_t ms);

// Integer milliseconds since the epoch, RFC 3339 ("2025-11-21T04:00:00Z", offsets and fractions allowed),
// "now", or "now-1h" style offsets relative to now_ms.
Result<int64_t> parse_time_ms(std::string_view text, int64_t now_ms);
std::string format_rfc3339(int64_t ms);

}  // namespace ss
