#include "collector/store/chunk_codec.h"
#include "collector/store/decimal.h"
#include "collector/store/varint.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <new>
#include <type_traits>
#include <algorithm>

namespace ss::collector {
namespace {

constexpr size_t kHeader = 5;  // u32 count + u8 format and columns
constexpr uint8_t kFormat2 = 0x80;
constexpr int kMaxUnary = 20;  // a Rice quotient this large is an escape

uint64_t bits_of(double v) { return std::bit_cast<uint64_t>(v); }
double double_of(uint64_t b) { return std::bit_cast<double>(b); }

// Delta-of-delta classes: prefix bits, then a signed field of this width; the last class stores 64 bits.
struct DodClass {
  uint64_t prefix;
  int prefix_len;
  int width;
};
constexpr DodClass kClasses[] = {{0b10, 2, 7}, {0b110, 3, 14}, {0b1110, 4, 20}, {0b1111, 4, 64}};

// Encoder and decoder both call this on the previous value, so they agree on its integer.
bool scaled(uint64_t bits, int k, int64_t& out) { return as_decimal(double_of(bits), k, out); }

int64_t sign_extend(uint64_t v, int width) {
  if (width >= 64) return static_cast<int64_t>(v);
  uint64_t sign = uint64_t(1) << (width - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}


constexpr int kPredictors = 3;

// Value j of a row as an integer at scale k: the stored integer when the scales agree, else converted.
bool value_at(const RowValues& r, int j, int k, int64_t& out) {
  if (r.scale[j] == k) {
    out = r.ival[j];
    return true;
  }
  return scaled(r.bits[j], k, out);
}

// Predictor p of column c (rollups): 0 the previous row's c, 1 the previous row's last column (a
// counter's min follows the last value before it), 2 this row's column c - 1 (a counter's last equals its
// max). Returns false when the predictor does not apply or has no value at scale k.
bool predictor(int p, int c, int columns, int k, const RowValues& prev, const RowValues& row, int64_t& out) {
  switch (p) {
    case 0: return value_at(prev, c, k, out);
    case 1: return c != columns - 1 && value_at(prev, columns - 1, k, out);
    default: return c > 0 && value_at(row, c - 1, k, out);
  }
}

// The predictor with the lowest recent cost among those with a value (ties: the lowest number).
int choose(const ColumnState& cs, int c, int columns, const RowValues& prev, const RowValues& row, int64_t& pred) {
  int best = 0;
  pred = cs.ival;  // decimal mode keeps the previous value exact at its scale
  if (columns == 1) return 0;
  for (int p = 1; p < kPredictors; ++p) {
    int64_t v;
    if (cs.cost[p] < cs.cost[best] && predictor(p, c, columns, cs.scale, prev, row, v)) best = p, pred = v;
  }
  return best;
}

// After a decimal value: every predictor's cost decays and grows by the size of its residual.
void update_costs(ColumnState& cs, int c, int columns, int64_t vi, const RowValues& prev, const RowValues& row) {
  if (columns == 1) return;
  for (int p = 0; p < kPredictors; ++p) {
    int64_t v;
    uint32_t size = predictor(p, c, columns, cs.scale, prev, row, v)
                        ? static_cast<uint32_t>(std::bit_width(zigzag(static_cast<int64_t>(
                              static_cast<uint64_t>(vi) - static_cast<uint64_t>(v)))))
                        : 64;
    cs.cost[p] = cs.cost[p] - (cs.cost[p] >> 3) + size;
  }
}

// The values of the previous row, as the columns hold them before a row is coded.
RowValues snapshot_columns(const ColumnState* cols, int columns) {
  RowValues r;
  for (int c = 0; c < columns; ++c) {
    r.bits[c] = cols[c].bits;
    r.scale[c] = cols[c].scale;
    r.ival[c] = cols[c].ival;
  }
  return r;
}

void note_value(RowValues& r, int c, const ColumnState& cs) {
  r.bits[c] = cs.bits;
  r.scale[c] = cs.scale;
  r.ival[c] = cs.ival;
}

// The smallest number of decimals (0..7) at which v is exact, or -1.
int decimal_scale(uint64_t bits, int64_t& vi) {
  for (int k = 0; k < 8; ++k)
    if (scaled(bits, k, vi)) return k;
  return -1;
}
}  // namespace

int RiceState::k() const {
  int k = 0;
  while ((uint64_t(n) << k) < sum) ++k;  // sum < 2^45 and n >= 1 once sum > 0: k stays below 46
  return k;
}

void RiceState::update(uint64_t z) {
  sum += z < (uint64_t(1) << 40) ? z : uint64_t(1) << 40;
  if (++n >= 32) {
    sum >>= 1;
    n >>= 1;
  }
}

// ------------------------------------------------------------------------------------------ encoder
//
// Format 2 codes, per row after the first:
//   t: row 1 the delta (6-bit width w, then w bits of zigzag); later rows the delta-of-delta as a Rice code.
//   Rice code of an unsigned z with parameter k: q = z >> k ones (q < 20), a zero, the k low bits of z;
//   20 ones are an escape followed by 2 bits: 00 a big z (6-bit width-1, then the bits), 01 a new decimal
//   scale (3 bits) and the value's integer (64 bits), 10 the switch to XOR mode and an XOR code.
//   A column in decimal mode (scale k) codes zigzag(v*10^k - prediction) as a Rice code.
//   A column in XOR mode codes '0' same value, '10' XOR code, '11' switch to decimal: scale (3) + integer (64).
//   XOR code: '0' + the bits inside the previous window, or '1' + 6-bit leading zeros + 6-bit length + bits.

ChunkEncoder::ChunkEncoder(int columns)
    : columns_(static_cast<uint8_t>(columns < 1 ? 1 : columns > kMaxColumns ? kMaxColumns : columns)) {
  if (columns_ > 1) wide_ = std::make_unique<Wide>();
  for (size_t i = 0; i < kHeader; ++i) put_byte('\0');
  out_.get()[4] = static_cast<char>(kFormat2 | columns_);
}

void ChunkEncoder::put_byte(char b) {
  if (size_ == capacity_) {
    // malloc hands out 16-byte steps with 8 bytes of its own: ask for sizes that fill them.
    uint32_t want = std::max<uint32_t>(capacity_ + capacity_ / 4, 24);
    want = ((want + 8 + 15) & ~15u) - 8;
    char* p = static_cast<char*>(std::realloc(out_.get(), want));
    if (!p) throw std::bad_alloc();
    (void)out_.release();
    out_.reset(p);
    capacity_ = want;
  }
  out_.get()[size_++] = b;
}

void ChunkEncoder::put_bits(uint64_t value, int n) {
  while (n > 0) {
    if (free_bits_ == 0) {
      put_byte('\0');
      free_bits_ = 8;
    }
    int take = n < free_bits_ ? n : free_bits_;
    uint64_t chunk = (value >> (n - take)) & ((uint64_t(1) << take) - 1);
    char& last = out_.get()[size_ - 1];
    last = static_cast<char>(static_cast<uint8_t>(last) | (chunk << (free_bits_ - take)));
    free_bits_ = static_cast<uint8_t>(free_bits_ - take);
    n -= take;
  }
}

void ChunkEncoder::put_rice(uint64_t z, RiceState& st) {
  int k = st.k();
  uint64_t q = z >> k;
  if (q < kMaxUnary) {
    put_bits(((uint64_t(1) << q) - 1) << 1, static_cast<int>(q) + 1);
    if (k) put_bits(z, k);
  } else {
    put_escape(0);
    int w = std::bit_width(z);  // >= 1: z >= 20
    put_bits(static_cast<uint64_t>(w - 1), 6);
    put_bits(z, w);
  }
  st.update(z);
}

void ChunkEncoder::put_escape(int code) {
  put_bits((uint64_t(1) << kMaxUnary) - 1, kMaxUnary);
  put_bits(static_cast<uint64_t>(code), 2);
}

void ChunkEncoder::put_xor(ColumnCore& c, uint64_t b) {
  uint64_t x = b ^ c.bits;
  c.bits = b;
  int lead = std::countl_zero(x), trail = std::countr_zero(x);
  if (c.lead >= 0 && lead >= c.lead && trail >= c.trail) {
    put_bits(0, 1);
    put_bits(x >> c.trail, 64 - c.lead - c.trail);
    return;
  }
  int sig = 64 - lead - trail;
  put_bits(1, 1);
  put_bits(static_cast<uint64_t>(lead), 6);
  put_bits(static_cast<uint64_t>(sig & 63), 6);  // 64 significant bits are written as 0
  put_bits(x >> trail, sig);
  c.lead = static_cast<int8_t>(lead);
  c.trail = static_cast<int8_t>(trail);
}

// Column is ColumnCore for the one column of a raw chunk (predicted by its previous value only) and
// ColumnState for rollups (three predictors).
template <class Column>
void ChunkEncoder::put_value(Column& c, int col, uint64_t b, const RowValues& prev, const RowValues& row) {
  int64_t vi;
  if (c.scale >= 0) {
    if (scaled(b, c.scale, vi)) {
      int64_t pred = c.ival;
      if constexpr (std::is_same_v<Column, ColumnState>) choose(c, col, columns_, prev, row, pred);
      put_rice(zigzag(static_cast<int64_t>(static_cast<uint64_t>(vi) - static_cast<uint64_t>(pred))), c.rice);
      if constexpr (std::is_same_v<Column, ColumnState>) update_costs(c, col, columns_, vi, prev, row);
      c.bits = b;
      c.ival = vi;
      return;
    }
    int k = decimal_scale(b, vi);
    if (k >= 0) {
      put_escape(1);
      put_bits(static_cast<uint64_t>(k), 3);
      put_bits(static_cast<uint64_t>(vi), 64);
      c.scale = static_cast<int8_t>(k);
      c.bits = b;
      c.ival = vi;
      return;
    }
    put_escape(2);
    c.scale = -1;
    put_xor(c, b);
    return;
  }
  if (b == c.bits) {
    put_bits(0, 1);
    return;
  }
  int k = decimal_scale(b, vi);
  if (k >= 0) {
    put_bits(0b11, 2);
    put_bits(static_cast<uint64_t>(k), 3);
    put_bits(static_cast<uint64_t>(vi), 64);
    c.scale = static_cast<int8_t>(k);
    c.bits = b;
    c.ival = vi;
    return;
  }
  put_bits(0b10, 2);
  put_xor(c, b);
}

void ChunkEncoder::put_first(ColumnCore& c, uint64_t b) {
  put_bits(b, 64);
  c.bits = b;
  c.scale = static_cast<int8_t>(decimal_scale(b, c.ival));
}

// Row 0's t is the first 64 bits of the stream, after the header.
int64_t ChunkEncoder::first_t() const {
  uint64_t t = 0;
  for (size_t i = 0; i < 8; ++i) t = t << 8 | static_cast<uint8_t>(out_.get()[kHeader + i]);
  return static_cast<int64_t>(t);
}

void ChunkEncoder::append(int64_t t, const double* values) {
  if (count_ == 0) {
    last_t_ = t;
    put_bits(static_cast<uint64_t>(t), 64);
    if (!wide_) put_first(col0_, bits_of(values[0]));
    for (int c = 0; wide_ && c < columns_; ++c) put_first(wide_->cols[c], bits_of(values[c]));
  } else {
    // Unsigned arithmetic wraps instead of overflowing.
    int64_t delta = static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(last_t_));
    if (count_ == 1) {
      uint64_t z = zigzag(delta);
      int w = std::bit_width(z);
      put_bits(static_cast<uint64_t>(w), 7);
      put_bits(z, w);
    } else {
      put_rice(zigzag(static_cast<int64_t>(static_cast<uint64_t>(delta) - static_cast<uint64_t>(last_delta_))),
               t_rice_);
    }
    last_delta_ = delta;
    last_t_ = t;
    if (!wide_) {
      static const RowValues kUnused{};  // one column has no other values to predict from
      put_value(col0_, 0, bits_of(values[0]), kUnused, kUnused);
    } else {
      ColumnState* cols = wide_->cols.data();
      RowValues prev = snapshot_columns(cols, columns_);
      for (int c = 0; c < columns_; ++c) {
        put_value(cols[c], c, bits_of(values[c]), prev, wide_->row);
        note_value(wide_->row, c, cols[c]);
      }
    }
  }
  ++count_;
  for (int i = 0; i < 4; ++i) out_.get()[i] = static_cast<char>((count_ >> (8 * i)) & 0xff);
}

void ChunkEncoder::truncate(uint32_t rows, size_t bits) {
  size_ = static_cast<uint32_t>(kHeader + (bits + 7) / 8);
  free_bits_ = static_cast<uint8_t>((8 - bits % 8) % 8);
  if (free_bits_) out_.get()[size_ - 1] = static_cast<char>(out_.get()[size_ - 1] & (0xff << free_bits_));
  count_ = rows;
  for (int i = 0; i < 4; ++i) out_.get()[i] = static_cast<char>((count_ >> (8 * i)) & 0xff);
}

// ------------------------------------------------------------------------------------------ decoder

Result<ChunkDecoder> ChunkDecoder::open(std::string_view bytes) {
  if (bytes.size() < kHeader) return errorf("chunk of {} bytes is shorter than its header", bytes.size());
  ChunkDecoder d;
  for (int i = 0; i < 4; ++i) d.count_ |= uint32_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  uint8_t fc = static_cast<uint8_t>(bytes[4]);
  d.format_ = fc & kFormat2 ? 2 : 1;
  d.columns_ = fc & ~kFormat2;
  if (d.columns_ < 1 || d.columns_ > kMaxColumns) return errorf("chunk has {} columns", d.columns_);
  d.in_ = bytes.substr(kHeader);
  return d;
}

bool ChunkDecoder::get_bits(int n, uint64_t& out) {
  if (bit_pos_ + n > in_.size() * 8) return ok_ = false;
  size_t first = bit_pos_ >> 3;
  if (n > 0 && first + 9 <= in_.size()) {
    // Fast path: take the bits from one big-endian 64-bit load (plus one byte when they straddle it).
    int off = static_cast<int>(bit_pos_ & 7);
    uint64_t word;
    std::memcpy(&word, in_.data() + first, 8);
    if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
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

bool ChunkDecoder::get_rice(RiceState& st, uint64_t& z, int& escape) {
  int k = st.k();
  uint64_t q = 0, b;
  escape = -1;
  while (q < kMaxUnary) {
    if (!get_bits(1, b)) return false;
    if (b == 0) break;
    ++q;
  }
  if (q == kMaxUnary) {
    if (!get_bits(2, b)) return false;
    escape = static_cast<int>(b);
    if (escape != 0) return true;
    uint64_t w;
    if (!get_bits(6, w) || !get_bits(static_cast<int>(w) + 1, z)) return false;
  } else {
    uint64_t low = 0;
    if (k && !get_bits(k, low)) return false;
    z = (q << k) | low;
  }
  st.update(z);
  return true;
}

bool ChunkDecoder::get_xor(ColumnCore& c, uint64_t& out, int lead_bits) {
  uint64_t bit, x;
  if (!get_bits(1, bit)) return false;
  if (bit == 0) {
    if (c.lead < 0) return ok_ = false;
    if (!get_bits(64 - c.lead - c.trail, x)) return false;
    x <<= c.trail;
  } else {
    uint64_t lead, sig;
    if (!get_bits(lead_bits, lead) || !get_bits(6, sig)) return false;
    if (sig == 0) sig = 64;
    if (lead + sig > 64) return ok_ = false;
    if (!get_bits(static_cast<int>(sig), x)) return false;
    int trail = static_cast<int>(64 - lead - sig);
    x = trail >= 64 ? 0 : x << trail;
    c.lead = static_cast<int8_t>(lead);
    c.trail = static_cast<int8_t>(trail);
  }
  c.bits ^= x;
  out = c.bits;
  return true;
}

bool ChunkDecoder::get_value(int col, const RowValues& prev, uint64_t& out) {
  ColumnState& c = col_[col];
  uint64_t b;
  auto literal = [&]() {  // scale (3 bits) and the value's integer (64 bits)
    uint64_t k, vi;
    if (!get_bits(3, k) || !get_bits(64, vi)) return false;
    c.scale = static_cast<int8_t>(k);
    c.ival = static_cast<int64_t>(vi);
    c.bits = bits_of(static_cast<double>(c.ival) / kPow10[k]);
    out = c.bits;
    return true;
  };
  if (c.scale >= 0) {
    uint64_t z;
    int escape;
    if (!get_rice(c.rice, z, escape)) return false;
    if (escape == 1) return literal();
    if (escape == 2) {
      c.scale = -1;
      return get_xor(c, out);
    }
    if (escape == 3) return ok_ = false;
    int64_t pred;
    choose(c, col, columns_, prev, row_, pred);
    int64_t vi = static_cast<int64_t>(static_cast<uint64_t>(pred) + static_cast<uint64_t>(unzigzag(z)));
    if (!(std::fabs(static_cast<double>(vi)) < 4.0e15)) return ok_ = false;
    update_costs(c, col, columns_, vi, prev, row_);
    c.ival = vi;
    c.bits = bits_of(static_cast<double>(vi) / kPow10[c.scale]);
    out = c.bits;
    return true;
  }
  if (!get_bits(1, b)) return false;
  if (b == 0) {
    out = c.bits;
    return true;
  }
  if (!get_bits(1, b)) return false;
  return b ? literal() : get_xor(c, out);
}

bool ChunkDecoder::next(Row& row) {
  if (!ok_ || read_ >= count_) return false;
  if (format_ == 1) return next_v1(row);
  uint64_t b;
  if (read_ == 0) {
    if (!get_bits(64, b)) return false;
    last_t_ = static_cast<int64_t>(b);
    for (int c = 0; c < columns_; ++c) {
      if (!get_bits(64, col_[c].bits)) return false;
      col_[c].scale = static_cast<int8_t>(decimal_scale(col_[c].bits, col_[c].ival));
      row.v[c] = double_of(col_[c].bits);
    }
  } else {
    if (read_ == 1) {
      uint64_t w, z = 0;
      if (!get_bits(7, w) || w > 64 || (w && !get_bits(static_cast<int>(w), z))) return ok_ = false;
      last_delta_ = unzigzag(z);
    } else {
      uint64_t z;
      int escape;
      if (!get_rice(t_rice_, z, escape)) return false;
      if (escape > 0) return ok_ = false;
      last_delta_ = static_cast<int64_t>(static_cast<uint64_t>(last_delta_) + static_cast<uint64_t>(unzigzag(z)));
    }
    last_t_ = static_cast<int64_t>(static_cast<uint64_t>(last_t_) + static_cast<uint64_t>(last_delta_));
    RowValues prev = snapshot_columns(col_.data(), columns_);
    for (int c = 0; c < columns_; ++c) {
      uint64_t b;
      if (!get_value(c, prev, b)) return false;
      note_value(row_, c, col_[c]);
      row.v[c] = double_of(b);
    }
  }
  row.t_ms = last_t_;
  ++read_;
  return true;
}

// ------------------------------------------------------------------------------------------ format 1

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

bool ChunkDecoder::get_value_v1(int col, double& v) {
  uint64_t bit;
  if (!get_bits(1, bit)) return false;
  if (bit == 0) {
    v = double_of(col_[col].bits);
    return true;
  }
  if (!get_bits(1, bit)) return false;
  bool decimal = bit == 0;  // '10': the column's current scale
  if (!decimal) {
    if (!get_bits(1, bit)) return false;
    if (bit == 0) {  // '110': a new scale
      uint64_t k;
      if (!get_bits(3, k)) return false;
      col_[col].scale = static_cast<int8_t>(k);
      decimal = true;
    }
  }
  if (decimal) {
    int64_t prev, delta;
    if (col_[col].scale < 0 || !scaled(col_[col].bits, col_[col].scale, prev)) return ok_ = false;
    if (!get_bits(1, bit) || bit != 1 || !get_class_coded(delta)) return ok_ = false;
    int64_t vi = static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(delta));
    v = static_cast<double>(vi) / kPow10[col_[col].scale];
    col_[col].bits = bits_of(v);
    return true;
  }
  // '111': Gorilla XOR code, with a 5-bit leading-zero count in this format.
  uint64_t out;
  if (!get_xor(col_[col], out, 5)) return false;
  v = double_of(out);
  return true;
}

bool ChunkDecoder::next_v1(Row& row) {
  uint64_t b;
  if (read_ == 0) {
    if (!get_bits(64, b)) return false;
    last_t_ = static_cast<int64_t>(b);
    for (int c = 0; c < columns_; ++c) {
      if (!get_bits(64, col_[c].bits)) return false;
      row.v[c] = double_of(col_[c].bits);
    }
  } else {
    int64_t dod = 0;
    if (!get_bits(1, b)) return false;
    if (b == 1 && !get_class_coded(dod)) return false;
    last_delta_ = static_cast<int64_t>(static_cast<uint64_t>(last_delta_) + static_cast<uint64_t>(dod));
    last_t_ = static_cast<int64_t>(static_cast<uint64_t>(last_t_) + static_cast<uint64_t>(last_delta_));
    for (int c = 0; c < columns_; ++c)
      if (!get_value_v1(c, row.v[c])) return false;
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
