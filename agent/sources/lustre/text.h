// Small, allocation-free text helpers shared by the Lustre parsers.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/text.h"

namespace ss::agent::lustre {

// Takes the next whitespace-separated token off the front of `s` ("" at the end).
inline std::string_view next_token(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  size_t j = i;
  while (j < s.size() && !is_space(s[j])) ++j;
  std::string_view tok = s.substr(i, j - i);
  s.remove_prefix(j);
  return tok;
}

// Takes the next line off the front of `s` (without its newline); false at the end.
inline bool next_line(std::string_view& s, std::string_view& line) {
  if (s.empty()) return false;
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos) {
    line = s;
    s = {};
  } else {
    line = s.substr(0, nl);
    s.remove_prefix(nl + 1);
  }
  return true;
}

inline std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::optional<int64_t> to_i64(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Takes an integer token off the front of `s` (after spaces), parsed where it lies rather than scanned as a
// token first: the counter lines of stats files are mostly numbers. nullopt, with `s` unchanged, when the
// next token is not one integer of type T.
template <class T>
std::optional<T> next_integer(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  T v{};
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data() + i, end, v);
  if (ec != std::errc() || (p != end && !is_space(*p))) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return v;
}

// "1510950459.781611519" with the fraction scaled by `frac_digits_per_second` (1e9 for secs.nsecs,
// 1e6 for secs.usecs, whose fraction is not zero-padded: ".20113" is 20113 µs).
inline std::optional<double> to_seconds(std::string_view whole, std::string_view frac, double frac_unit) {
  auto w = to_u64(whole);
  if (!w) return std::nullopt;
  if (frac.empty()) return static_cast<double>(*w);
  auto f = to_u64(frac);
  if (!f) return std::nullopt;
  return static_cast<double>(*w) + static_cast<double>(*f) / frac_unit;
}

}  // namespace ss::agent::lustre
