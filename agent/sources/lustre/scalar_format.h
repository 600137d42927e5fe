// Single-value parameters: kbytestotal/kbytesfree/kbytesavail (KiB), filestotal/filesfree, lock_count.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ss::agent::lustre {

// One unsigned decimal integer, surrounding whitespace allowed; nullopt for anything else.
std::optional<uint64_t> parse_scalar(std::string_view text);

}  // namespace ss::agent::lustre
