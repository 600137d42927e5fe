// Decimal scaling, shared by the chunk codec (values stored as integers of 10^-k) and the rollups' exact sums.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace ss::collector {

inline constexpr double kPow10[8] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};

// v as an integer count of 10^-k, when that integer divided by 10^k gives v back bit for bit (so NaN,
// infinities and -0.0 never scale).
inline bool as_decimal(double v, int k, int64_t& out) {
  double x = v * kPow10[k];
  if (!(std::fabs(x) < 4.0e15)) return false;
  auto i = static_cast<int64_t>(std::nearbyint(x));
  if (std::bit_cast<uint64_t>(static_cast<double>(i) / kPow10[k]) != std::bit_cast<uint64_t>(v)) return false;
  out = i;
  return true;
}

}  // namespace ss::collector
