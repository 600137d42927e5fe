// A fast 64-bit hash of a sequence of strings, for hash tables keyed by series identity (the collector
// hashes millions of label sets). Each string is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
// Not cryptographic; the seed gives independent hashes (two of them make a 128-bit identity).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ss {

class Hasher {
 public:
  explicit Hasher(uint64_t seed = 0) : h_(seed ^ kP0) {}

  Hasher& add(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    h_ = mix(h_ ^ n, kP1);
    for (; n >= 8; p += 8, n -= 8) h_ = mix(h_ ^ load(p, 8), kP2);
    if (n) h_ = mix(h_ ^ load(p, n), kP3);
    return *this;
  }
  Hasher& add(uint64_t v) {
    h_ = mix(h_ ^ v, kP1);
    return *this;
  }
  uint64_t finish() const { return mix(h_, kP0 ^ kP3); }

 private:
  // wyhash's multiply-fold: the 128-bit product of two 64-bit values, its halves xored.
  static uint64_t mix(uint64_t a, uint64_t b) {
    unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  static uint64_t load(const char* p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);  // little-endian hosts; the hash is never stored, only compared in-process
    return v;
  }
  static constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull,
                            kP2 = 0x8ebc6af09c88c6e3ull, kP3 = 0x589965cc75374cc3ull;
  uint64_t h_;
};

}  // namespace ss
