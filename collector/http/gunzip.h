// Inflates a gzip request body while counting: it stops before the output passes `limit`, so a small
// body that would inflate to gigabytes (a gzip bomb) never does so in memory.
#pragma once

#include <string>
#include <string_view>

namespace ss::collector::http {

enum class Gunzip { ok, too_large, invalid };

// Inflates `in` (one or more gzip members) into `out`.
Gunzip gunzip(std::string_view in, size_t limit, std::string& out);

}  // namespace ss::collector::http
