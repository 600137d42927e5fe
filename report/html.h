// HTML pieces every page shares: escaping, the document shell (inline CSS, light and dark themes), times
// shown in UTC with the reader's local time beside them, money and byte formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ss::report {

// Text for an HTML element or a quoted attribute: & < > " ' become entities.
std::string escape(std::string_view text);

// A complete, self-contained document: no request leaves the page (CSS and the one small script inline;
// the script only adds local times, everything reads without it).
std::string page(std::string_view title, std::string_view body);

// <time> in UTC ("2025-11-21 04:00:00 UTC"); the page's script adds the local time after it.
std::string time_html(int64_t ms);
std::string utc_text(int64_t ms);  // "2025-11-21 04:00:00 UTC"

std::string dollars(double usd);        // "$2.74", "$1,234"
std::string si(double v);               // "48.2k", "1.3M", "0.12"
std::string bytes_text(double bytes);   // "1.4 GB"

// A percent-encoded query-string value.
std::string url_encode(std::string_view text);

}  // namespace ss::report
