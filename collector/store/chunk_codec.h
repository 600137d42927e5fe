// Compressed chunks of time-ordered rows (Gorilla-style, Pelkonen et al., VLDB 2015): timestamps as
// delta-of-delta, each value column XORed with its previous value. Raw series use one column; rollups use
// five (count, sum, min, max, last). Floats round-trip bit for bit (NaN payloads, -0.0, infinities).
//
// Layout: 4-byte little-endian row count, 1-byte column count, then a bit stream (MSB first):
//   row 0: t as 64 bits, every column as 64 bits
//   row 1: delta t as a dod-class code, then every column's value code
//   row n: delta-of-delta t as a dod-class code, then every column's value code
// Value codes: '0' same bits as before; '10' + class-coded delta of v*10^k as an integer, with the
// column's current decimal scale k; '110' + 3-bit new k + delta; '111' + Gorilla XOR code. Counters and
// gauges with few decimals (most metrics) take the integer paths; any other double takes the XOR one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::collector {

inline constexpr int kMaxColumns = 5;

struct Row {
  int64_t t_ms = 0;
  std::array<double, kMaxColumns> v{};
};

class ChunkEncoder {
 public:
  explicit ChunkEncoder(int columns = 1);

  // Appends a row; t must not be below the previous row's t (equal is allowed).
  void append(int64_t t_ms, const double* values);
  void append(int64_t t_ms, double value) { append(t_ms, &value); }

  uint32_t count() const { return count_; }
  int columns() const { return columns_; }
  int64_t first_t() const { return first_t_; }
  int64_t last_t() const { return last_t_; }
  uint64_t last_bits(int col = 0) const { return last_bits_[col]; }
  // The encoded chunk.
  const std::string& bytes() const { return out_; }
  size_t size() const { return out_.size(); }

 private:
  void put_bits(uint64_t value, int n);
  void put_value(int col, double v);
  void put_class_coded(int64_t v);

  int columns_;
  uint32_t count_ = 0;
  int64_t first_t_ = 0, last_t_ = 0, last_delta_ = 0;
  std::array<uint64_t, kMaxColumns> last_bits_{};
  std::array<int, kMaxColumns> leading_{}, trailing_{}, scale_{};
  std::string out_;
  int free_bits_ = 0;  // unused low bits in out_.back()
};

class ChunkDecoder {
 public:
  // Fails when the header is short or names more columns than supported.
  static Result<ChunkDecoder> open(std::string_view bytes);

  uint32_t count() const { return count_; }
  int columns() const { return columns_; }
  // Decodes the next row; false at the end or on a truncated stream (then ok() is false).
  bool next(Row& row);
  bool ok() const { return ok_; }

 private:
  ChunkDecoder() = default;
  bool get_bits(int n, uint64_t& out);
  bool get_value(int col, double& v);
  bool get_class_coded(int64_t& v);

  std::string_view in_;
  size_t bit_pos_ = 0;
  uint32_t count_ = 0, read_ = 0;
  int columns_ = 1;
  bool ok_ = true;
  int64_t last_t_ = 0, last_delta_ = 0;
  std::array<uint64_t, kMaxColumns> last_bits_{};
  std::array<int, kMaxColumns> leading_{}, trailing_{}, scale_{};
};

// Decodes a whole chunk.
Result<std::vector<Row>> decode_rows(std::string_view bytes);

}  // namespace ss::collector
