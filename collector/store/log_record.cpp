#include "collector/store/log_record.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "collector/store/chunk_codec.h"
#include "collector/store/varint.h"

namespace ss::collector {
namespace {

constexpr double kMaxExact = 9007199254740992.0;  // 2^53

void put_value(std::string& out, double v) {
  if (std::fabs(v) <= kMaxExact && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    put_varint(out, zigzag(static_cast<int64_t>(v)) << 1);
    return;
  }
  put_varint(out, 1);
  auto bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

bool get_value(std::string_view in, size_t& pos, double& v) {
  uint64_t head;
  if (!get_varint(in, pos, head)) return false;
  if (!(head & 1)) {
    v = static_cast<double>(unzigzag(head >> 1));
    return true;
  }
  if (head != 1 || in.size() - pos < 8) return false;
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= uint64_t(static_cast<uint8_t>(in[pos + i])) << (8 * i);
  pos += 8;
  v = std::bit_cast<double>(bits);
  return true;
}

Result<void> read_format_1(std::string_view in,
                           const std::function<void(uint64_t, const std::vector<Point>&)>& f) {
  std::vector<Point> pts;
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t id, len;
    if (!get_varint(in, pos, id) || !get_varint(in, pos, len) || len > in.size() - pos)
      return errorf("corrupt at byte {}", pos);
    auto rows = decode_rows(in.substr(pos, len));
    pos += len;
    if (!rows.ok()) return rows.error();
    pts.clear();
    for (const Row& r : *rows) pts.push_back({r.t_ms, r.v[0]});
    f(id, pts);
  }
  return {};
}

}  // namespace

LogBatch encode_log_batch(const Batch& batch) {
  LogBatch out;
  out.ends.reserve(batch.series.size());
  out.bytes.reserve(batch.point_count() * 8 + batch.series.size());
  for (const Series& s : batch.series)
    if (!s.points.empty()) {
      out.base_t = s.points[0].t_ms;
      break;
    }
  for (const Series& s : batch.series) {
    if (!s.points.empty()) {
      ++out.entries;
      put_varint(out.bytes, s.points.size());
      int64_t prev = out.base_t;
      for (const Point& p : s.points) {
        put_varint(out.bytes, zigzag(static_cast<int64_t>(static_cast<uint64_t>(p.t_ms) - static_cast<uint64_t>(prev))));
        put_value(out.bytes, p.value);
        prev = p.t_ms;
      }
    }
    out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
  }
  return out;
}

std::string format_2_record_start() { return std::string(1, '\0'); }

void append_log_batch(std::string& record, const Batch& b, const LogBatch& batch, const std::vector<uint32_t>& ids) {
  put_varint(record, b.node.size());
  record += b.node;
  put_varint(record, b.stream.size());
  record += b.stream;
  put_varint(record, b.seq);
  put_varint(record, zigzag(batch.base_t));
  put_varint(record, batch.entries);
  uint32_t begin = 0;
  for (size_t k = 0; k < batch.ends.size(); ++k) {
    uint32_t end = batch.ends[k];
    if (end == begin) continue;
    put_varint(record, ids[k]);
    record.append(batch.bytes, begin, end - begin);
    begin = end;
  }
}

Result<void> read_log_record(
    std::string_view in, const std::function<void(uint64_t id, const std::vector<Point>& points)>& f,
    const std::function<void(std::string_view node, std::string_view stream, uint64_t seq)>& on_batch) {
  if (in.empty() || in[0] != '\0') return read_format_1(in, f);
  std::vector<Point> pts;
  size_t pos = 1;
  auto corrupt = [&] { return errorf("corrupt at byte {}", pos); };
  auto text = [&](std::string_view& out) {
    uint64_t n;
    if (!get_varint(in, pos, n) || n > in.size() - pos) return false;
    out = in.substr(pos, n);
    pos += n;
    return true;
  };
  while (pos < in.size()) {
    std::string_view node, stream;
    uint64_t seq, base, entries;
    if (!text(node) || !text(stream) || !get_varint(in, pos, seq) || !get_varint(in, pos, base) ||
        !get_varint(in, pos, entries))
      return corrupt();
    if (on_batch) on_batch(node, stream, seq);
    for (uint64_t e = 0; e < entries; ++e) {
      uint64_t id, n;
      if (!get_varint(in, pos, id) || !get_varint(in, pos, n) || n > in.size() - pos) return corrupt();
      pts.clear();
      auto t = static_cast<uint64_t>(unzigzag(base));
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t dt;
        Point p;
        if (!get_varint(in, pos, dt) || !get_value(in, pos, p.value)) return corrupt();
        t += static_cast<uint64_t>(unzigzag(dt));
        p.t_ms = static_cast<int64_t>(t);
        pts.push_back(p);
      }
      f(id, pts);
    }
  }
  return {};
}

}  // namespace ss::collector
