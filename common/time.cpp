#include "common/time.h"

#include "common/duration_flag.h"

#include <charconv>
#include <chrono>
#include <ctime>

namespace ss {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Result<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return Error{"empty duration"};
  int64_t total = 0;
  size_t i = 0;
  bool bare = true;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (start == i) return errorf("duration \"{}\": expected a number at \"{}\"", text, text.substr(start));
    double num = 0;
    auto [p, ec] = std::from_chars(text.data() + start, text.data() + i, num);
    if (ec != std::errc() || p != text.data() + i) return errorf("duration \"{}\": bad number", text);
    size_t ustart = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z'))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit.empty()) {
      if (i != text.size() || !bare) return errorf("duration \"{}\": missing unit (ms, s, m, h, d)", text);
      mult = 1000;
    } else if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else if (unit == "w") mult = 7 * 86'400'000.0;
    else return errorf("duration \"{}\": unknown unit \"{}\" (ms, s, m, h, d, w)", text, unit);
    bare = false;
    total += static_cast<int64_t>(num * mult + 0.5);
  }
  return total;
}

Result<int64_t> parse_duration_with_unit_ms(std::string_view text) {
  if (!text.empty() && ((text.back() >= '0' && text.back() <= '9') || text.back() == '.'))
    return errorf("duration \"{}\": missing unit (ms, s, m, h, d: \"{}m\")", text, text);
  return parse_duration_ms(text);
}

std::string format_duration(int64_t ms) {
  if (ms % 86'400'000 == 0 && ms) return fmt::format("{}d", ms / 86'400'000);
  if (ms % 3'600'000 == 0 && ms) return fmt::format("{}h", ms / 3'600'000);
  if (ms % 60'000 == 0 && ms) return fmt::format("{}m", ms / 60'000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<int64_t> parse_time_ms(std::string_view text, int64_t now) {
  if (text.empty()) return Error{"empty time (now, now-1h, RFC 3339 or milliseconds since the epoch)"};
  if (text == "now") return now;
  if (text.starts_with("now-") || text.starts_with("now+")) {
    auto d = parse_duration_with_unit_ms(text.substr(4));
    if (!d) return errorf("time \"{}\": {} (now-1h, now-30m, now-2d)", text, d.error().message);
    return text[3] == '-' ? now - *d : now + *d;
  }
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc()) return errorf("time \"{}\" is out of range", text);
    return v;
  }
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto num = [&](size_t pos, size_t len, int& out) {
    if (pos + len > text.size()) return false;
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && p == text.data() + pos + len;
  };
  int Y, M, D, h, m, s;
  if (text.size() < 20 || !num(0, 4, Y) || text[4] != '-' || !num(5, 2, M) || text[7] != '-' || !num(8, 2, D) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !num(11, 2, h) || text[13] != ':' ||
      !num(14, 2, m) || text[16] != ':' || !num(17, 2, s) || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 ||
      m > 59 || s > 60)
    return errorf("time \"{}\" is none of now, now-1h (now minus a duration), RFC 3339 (2025-11-21T04:00:00Z) "
                  "or milliseconds since the epoch", text);
  size_t i = 19;
  int64_t frac_ms = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int64_t scale = 100;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      frac_ms += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  int64_t offset_min = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, oh) || text.size() <= i + 3 || text[i + 3] != ':' || !num(i + 4, 2, om))
      return errorf("time \"{}\": bad UTC offset", text);
    offset_min = (oh * 60 + om) * (text[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return errorf("time \"{}\": missing time zone (Z or ±HH:MM)", text);
  }
  if (i != text.size()) return errorf("time \"{}\": trailing characters", text);
  int64_t days = days_from_civil(Y, M, D);
  int64_t secs = days * 86400 + h * 3600 + m * 60 + s - offset_min * 60;
  return secs * 1000 + frac_ms;
}

std::string format_rfc3339(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  int64_t frac = ms - static_cast<int64_t>(secs) * 1000;
  if (frac)
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace ss
