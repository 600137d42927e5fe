#include "collector/store/chunk_codec.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace ss::collector {
namespace {

constexpr size_t kHeader = 5;  // u32 count + u8 columns

uint64_t bits_of(double v) { return std::bit_cast<uint64_t>(v); }
double double_of(uint64_t b) { return std::bit_cast<double>(b); }

// Delta-of-delta classes: prefix bits, then a signed field of this width; the last class stores 64 bits.
struct DodClass {
  uint64_t prefix;
  int prefix_len;
  int width;
};
constexpr DodClass kClasses[] = {{0b10, 2, 7}, {0b110, 3, 14}, {0b1110, 4, 20}, {0b1111, 4, 64}};

bool fits(int64_t v, int width) {
  if (width >= 64) return true;
  int64_t lo = -(int64_t(1) << (width - 1)), hi = (int64_t(1) << (width - 1)) - 1;
  return v >= lo && v <= hi;
}

constexpr double kPow10[8] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};

// v as an integer count of 10^-k, when that integer divided by 10^k gives v back bit for bit. Encoder
// and decoder both call this on the previous value, so they agree on its integer.
bool scaled(uint64_t bits, int k, int64_t& out) {
  double v = double_of(bits);
  double x = v * kPow10[k];
  if (!(std::fabs(x) < 4.0e15)) return false;  // also rejects NaN and infinities
  double r = std::nearbyint(x);
  int64_t i = static_cast<int64_t>(r);
  if (bits_of(static_cast<double>(i) / kPow10[k]) != bits) return false;  // -0.0 fails here too
  out = i;
  return true;
}

int64_t sign_extend(uint64_t v, int width) {
  if (width >= 64) return static_cast<int64_t>(v);
  uint64_t sign = uint64_t(1) << (width - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

}  // namespace

ChunkEncoder::ChunkEncoder(int columns) : columns_(columns < 1 ? 1 : columns > kMaxColumns ? kMaxColumns : columns) {
  out_.assign(kHeader, '\0');
  out_[4] = static_cast<char>(columns_);
  leading_.fill(-1);
  scale_.fill(-1);
}

void ChunkEncoder::put_bits(uint64_t value, int n) {
  while (n > 0) {
    if (free_bits_ == 0) {
      out_.push_back('\0');
      free_bits_ = 8;
    }
    int take = n < free_bits_ ? n : free_bits_;
    uint64_t chunk = (value >> (n - take)) & ((uint64_t(1) << take) - 1);
    out_.back() = static_cast<char>(static_cast<uint8_t>(out_.back()) | (chunk << (free_bits_ - take)));
    free_bits_ -= take;
    n -= take;
  }
}

void ChunkEncoder::put_class_coded(int64_t v) {
  for (const auto& k : kClasses) {
    if (!fits(v, k.width)) continue;
    put_bits(k.prefix, k.prefix_len);
    put_bits(static_cast<uint64_t>(v), k.width);
    return;
  }
}

void ChunkEncoder::put_value(int col, double v) {
  uint64_t b = bits_of(v);
  uint64_t prev = last_bits_[col];
  uint64_t x = b ^ prev;
  last_bits_[col] = b;
  if (x == 0) {
    put_bits(0, 1);
    return;
  }
  // Decimal path: the same scale as last time, else the smallest scale that fits both values.
  int64_t vi, pi;
  int k = scale_[col];
  if (k >= 0 && scaled(b, k, vi) && scaled(prev, k, pi)) {
    put_bits(0b10, 2);
    put_class_coded(static_cast<int64_t>(static_cast<uint64_t>(vi) - static_cast<uint64_t>(pi)));
    return;
  }
  for (k = 0; k < 8; ++k) {
    if (k == scale_[col] || !scaled(b, k, vi) || !scaled(prev, k, pi)) continue;
    put_bits(0b110, 3);
    put_bits(static_cast<uint64_t>(k), 3);
    put_class_coded(static_cast<int64_t>(static_cast<uint64_t>(vi) - static_cast<uint64_t>(pi)));
    scale_[col] = k;
    return;
  }
  put_bits(0b111, 3);
  int lead = std::countl_zero(x), trail = std::countr_zero(x);
  if (lead > 31) lead = 31;
  if (leading_[col] >= 0 && lead >= leading_[col] && trail >= trailing_[col]) {
    put_bits(0, 1);
    int sig = 64 - leading_[col] - trailing_[col];
    put_bits(x >> trailing_[col], sig);
    return;
  }
  int sig = 64 - lead - trail;
  put_bits(1, 1);
  put_bits(static_cast<uint64_t>(lead), 5);
  put_bits(static_cast<uint64_t>(sig & 63), 6);  // 64 significant bits are written as 0
  put_bits(x >> trail, sig);
  leading_[col] = lead;
  trailing_[col] = trail;
}

void ChunkEncoder::append(int64_t t, const double* values) {
  if (count_ == 0) {
    first_t_ = last_t_ = t;
    put_bits(static_cast<uint64_t>(t), 64);
    for (int c = 0; c < columns_; ++c) {
      last_bits_[c] = bits_of(values[c]);
      put_bits(last_bits_[c], 64);
    }
  } else {
    // Unsigned arithmetic wraps instead of overflowing; the 64-bit class carries any value.
    int64_t delta = static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(last_t_));
    int64_t dod = static_cast<int64_t>(static_cast<uint64_t>(delta) - static_cast<uint64_t>(last_delta_));
    if (dod == 0) put_bits(0, 1);
    else put_class_coded(dod);
    last_delta_ = delta;
    last_t_ = t;
    for (int c = 0; c < columns_; ++c) put_value(c, values[c]);
  }
  ++count_;
  for (int i = 0; i < 4; ++i) out_[i] = static_cast<char>((count_ >> (8 * i)) & 0xff);
}


Result<ChunkDecoder> ChunkDecoder::open(std::string_view bytes) {
  if (bytes.size() < kHeader) return errorf("chunk of {} bytes is shorter than its header", bytes.size());
  ChunkDecoder d;
  for (int i = 0; i < 4; ++i) d.count_ |= uint32_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  d.columns_ = static_cast<uint8_t>(bytes[4]);
  if (d.columns_ < 1 || d.columns_ > kMaxColumns) return errorf("chunk has {} columns", d.columns_);
  d.in_ = bytes.substr(kHeader);
  d.leading_.fill(-1);
  d.scale_.fill(-1);
  return d;
}

bool ChunkDecoder::get_bits(int n, uint64_t& out) {
  if (bit_pos_ + n > in_.size() * 8) return ok_ = false;
  size_t first = bit_pos_ >> 3;
  if (n > 0 && first + 9 <= in_.size()) {
    // Fast path: take the bits from one big-endian 64-bit load (plus one byte when they straddle it).
    int off = static_cast<int>(bit_pos_ & 7);
    uint64_t word = 0;
    for (int i = 0; i < 8; ++i) word = (word << 8) | static_cast<uint8_t>(in_[first + i]);
    uint64_t v = word << off;
    if (off + n > 64) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[first + 8])) >> (8 - off);
    out = v >> (64 - n);
    bit_pos_ += n;
    return true;
  }
  uint64_t v = 0;
  while (n > 0) {
    size_t byte = bit_pos_ >> 3;
    int used = bit_pos_ & 7, avail = 8 - used;
    int take = n < avail ? n : avail;
    uint64_t bits = (static_cast<uint8_t>(in_[byte]) >> (avail - take)) & ((1u << take) - 1);
    v = (take == 64 ? 0 : v << take) | bits;
    bit_pos_ += take;
    n -= take;
  }
  out = v;
  return true;
}

bool ChunkDecoder::get_class_coded(int64_t& v) {
  // The caller has read the leading 1 of the prefix; further ones (at most 3) pick the class.
  uint64_t b;
  int ones = 1;
  while (ones < 4) {
    if (!get_bits(1, b)) return false;
    if (b == 0) break;
    ++ones;
  }
  int width = kClasses[ones - 1].width;
  if (!get_bits(width, b)) return false;
  v = sign_extend(b, width);
  return true;
}

bool ChunkDecoder::get_value(int col, double& v) {
  uint64_t bit;
  if (!get_bits(1, bit)) return false;
  if (bit == 0) {
    v = double_of(last_bits_[col]);
    return true;
  }
  if (!get_bits(1, bit)) return false;
  bool decimal = bit == 0;  // '10': the column's current scale
  if (!decimal) {
    if (!get_bits(1, bit)) return false;
    if (bit == 0) {  // '110': a new scale
      uint64_t k;
      if (!get_bits(3, k)) return false;
      scale_[col] = static_cast<int>(k);
      decimal = true;
    }
  }
  if (decimal) {
    int64_t prev, delta;
    if (scale_[col] < 0 || !scaled(last_bits_[col], scale_[col], prev)) return ok_ = false;
    if (!get_bits(1, bit) || bit != 1 || !get_class_coded(delta)) return ok_ = false;
    int64_t vi = static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(delta));
    v = static_cast<double>(vi) / kPow10[scale_[col]];
    last_bits_[col] = bits_of(v);
    return true;
  }
  // '111': Gorilla XOR code.
  if (!get_bits(1, bit)) return false;
  uint64_t x;
  if (bit == 0) {
    if (leading_[col] < 0) return ok_ = false;
    int sig = 64 - leading_[col] - trailing_[col];
    if (!get_bits(sig, x)) return false;
    x <<= trailing_[col];
  } else {
    uint64_t lead, sig;
    if (!get_bits(5, lead) || !get_bits(6, sig)) return false;
    if (sig == 0) sig = 64;
    if (lead + sig > 64) return ok_ = false;
    if (!get_bits(static_cast<int>(sig), x)) return false;
    int trail = static_cast<int>(64 - lead - sig);
    x = trail >= 64 ? 0 : x << trail;
    leading_[col] = static_cast<int>(lead);
    trailing_[col] = trail;
  }
  last_bits_[col] ^= x;
  v = double_of(last_bits_[col]);
  return true;
}

bool ChunkDecoder::next(Row& row) {
  if (!ok_ || read_ >= count_) return false;
  uint64_t b;
  if (read_ == 0) {
    if (!get_bits(64, b)) return false;
    last_t_ = static_cast<int64_t>(b);
    for (int c = 0; c < columns_; ++c) {
      if (!get_bits(64, last_bits_[c])) return false;
      row.v[c] = double_of(last_bits_[c]);
    }
  } else {
    int64_t dod = 0;
    if (!get_bits(1, b)) return false;
    if (b == 1 && !get_class_coded(dod)) return false;
    last_delta_ = static_cast<int64_t>(static_cast<uint64_t>(last_delta_) + static_cast<uint64_t>(dod));
    last_t_ = static_cast<int64_t>(static_cast<uint64_t>(last_t_) + static_cast<uint64_t>(last_delta_));
    for (int c = 0; c < columns_; ++c)
      if (!get_value(c, row.v[c])) return false;
  }
  row.t_ms = last_t_;
  ++read_;
  return true;
}

Result<std::vector<Row>> decode_rows(std::string_view bytes) {
  auto d = ChunkDecoder::open(bytes);
  if (!d.ok()) return d.error();
  std::vector<Row> rows;
  rows.reserve(d->count());
  Row r;
  while (d->next(r)) rows.push_back(r);
  if (!d->ok() || rows.size() != d->count())
    return errorf("chunk is truncated: {} of {} rows decoded", rows.size(), d->count());
  return rows;
}

}  // namespace ss::collector
