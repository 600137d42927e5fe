// Compressed chunks of time-ordered rows: timestamps as delta-of-delta, values as deltas of their decimal
// integers (a counter is an integer, a gauge with three decimals is an integer of thousandths), each
// coded with an adaptive Golomb-Rice code (the parameter follows the recent mean, as in LOCO-I), with
// Gorilla's XOR code (Pelkonen et al., VLDB 2015) for doubles that are not short decimals. Raw series use
// one column; rollups use five (count, sum, min, max, last), and each rollup value is predicted from
// whichever of three earlier values (the previous row's same and last columns, this row's preceding
// column) has predicted it best so far, so `max == last` of a counter costs one bit. Floats round-trip bit for bit (NaN payloads, -0.0, infinities).
//
// Layout: 4-byte little-endian row count, 1 byte: 0x80 | column count (format 2), then a bit stream (MSB
// first): row 0 is t and every column as 64 bits; every further row is t's delta-of-delta, then each
// column's code (see chunk_codec.cpp). Format 1 (the byte is the bare column count: the class-coded
// Gorilla variant of schema version 2) is still decoded.
#pragma once

#include <array>
#include <cstdlib>
#include <memory>
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

// Adaptive Rice parameter: the smallest k with n * 2^k >= sum of recent values (halved every 32 values).
struct RiceState {
  uint64_t sum = 0;
  uint32_t n = 0;
  int k() const;
  void update(uint64_t z);
};

// The values of one row as the predictors see them.
struct RowValues {
  std::array<uint64_t, kMaxColumns> bits{};
  std::array<int, kMaxColumns> scale{};
  std::array<int64_t, kMaxColumns> ival{};
};

// Coding state of one value column, shared by encoder and decoder so both make the same choices. Kept
// small: a store holds one encoder per open chunk of every active series.
struct ColumnCore {
  uint64_t bits = 0;  // the previous value
  int64_t ival = 0;   // in decimal mode: bits as an integer of 10^-scale
  RiceState rice;
  int8_t scale = -1;  // decimal mode with this many decimals, or -1: XOR mode
  int8_t lead = -1, trail = 0;
};
// A column of a chunk of several columns (rollups), whose values are predicted from each other.
struct ColumnState : ColumnCore {
  std::array<uint32_t, 3> cost{};  // per predictor: recent residual sizes
};

class ChunkEncoder {
 public:
  explicit ChunkEncoder(int columns = 1);
  ChunkEncoder(ChunkEncoder&&) noexcept = default;
  ChunkEncoder& operator=(ChunkEncoder&&) noexcept = default;

  // Appends a row; t must not be below the previous row's t (equal is allowed).
  void append(int64_t t_ms, const double* values);
  void append(int64_t t_ms, double value) { append(t_ms, &value); }

  uint32_t count() const { return count_; }
  int columns() const { return columns_; }
  int64_t last_t() const { return last_t_; }
  int64_t first_t() const;  // the first row's t (count() > 0)
  uint64_t last_bits(int col = 0) const { return wide_ ? wide_->cols[col].bits : col0_.bits; }
  // Keeps the first `rows` rows, whose codes end `bits` into the stream (ChunkDecoder::bit_pos() after
  // them): a prefix of the stream is the chunk of those rows. For a chunk cut in two without encoding its
  // first part again; nothing may be appended afterwards (the coding state is the dropped rows').
  void truncate(uint32_t rows, size_t bits);
  // The encoded chunk.
  std::string_view bytes() const { return {out_.get(), size_}; }
  size_t size() const { return size_; }

 private:
  // What only chunks of several columns (rollups) need: the other columns and the row being written.
  struct Wide {
    std::array<ColumnState, kMaxColumns> cols{};
    RowValues row;
  };
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };

  void put_byte(char b);
  void put_bits(uint64_t value, int n);
  void put_rice(uint64_t z, RiceState& st);
  void put_escape(int code);
  template <class Column>
  void put_value(Column& c, int col, uint64_t b, const RowValues& prev, const RowValues& row);
  void put_first(ColumnCore& c, uint64_t b);
  void put_xor(ColumnCore& c, uint64_t b);

  // The bytes grow by a quarter at a time (malloc'd, so realloc can extend in place): an open chunk is
  // rarely full, and doubling would leave a third of millions of them empty on average.
  std::unique_ptr<char, Free> out_;
  uint32_t size_ = 0, capacity_ = 0;
  uint32_t count_ = 0;
  uint8_t columns_;
  uint8_t free_bits_ = 0;  // unused low bits in the last byte
  int64_t last_t_ = 0, last_delta_ = 0;
  RiceState t_rice_;
  ColumnCore col0_;             // the only column of a raw chunk
  std::unique_ptr<Wide> wide_;  // every column, for chunks of several
};

class ChunkDecoder {
 public:
  // Fails when the header is short or names more columns than supported.
  static Result<ChunkDecoder> open(std::string_view bytes);

  uint32_t count() const { return count_; }
  int columns() const { return columns_; }
  // Decodes the next row; false at the end or on a truncated stream (then ok() is false).
  bool next(Row& row);
  size_t bit_pos() const { return bit_pos_; }  // bits of the stream read so far
  bool ok() const { return ok_; }

 private:
  ChunkDecoder() = default;
  bool get_bits(int n, uint64_t& out);
  bool get_rice(RiceState& st, uint64_t& z, int& escape);
  bool get_value(int col, const RowValues& prev, uint64_t& out);
  bool get_xor(ColumnCore& c, uint64_t& out, int lead_bits = 6);  // the first format used 5 lead bits
  // Format 1.
  bool get_value_v1(int col, double& v);
  bool get_class_coded(int64_t& v);
  bool next_v1(Row& row);

  std::string_view in_;
  size_t bit_pos_ = 0;
  uint32_t count_ = 0, read_ = 0;
  int columns_ = 1;
  int format_ = 2;
  bool ok_ = true;
  int64_t last_t_ = 0, last_delta_ = 0;
  RiceState t_rice_;
  std::array<ColumnState, kMaxColumns> col_{};
  RowValues row_;
};

// Decodes a whole chunk.
Result<std::vector<Row>> decode_rows(std::string_view bytes);

}  // namespace ss::collector
