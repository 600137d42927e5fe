// Small, allocation-free text helpers shared by the parsers.
#pragma once

#include <string_view>

namespace ss {

// ' ', or '\t' '\n' '\v' '\f' '\r' (9 to 13): two comparisons for the character loops of every parser.
inline bool is_space(char c) { return c == ' ' || static_cast<unsigned char>(c - '\t') <= '\r' - '\t'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace ss
