#include "collector/remote/queue_record.h"

#include <cstring>

#include "collector/store/varint.h"

namespace ss::collector::remote {

namespace {
void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

bool get_string(std::string_view in, size_t& pos, std::string& s) {
  uint64_t n;
  if (!get_varint(in, pos, n) || n > in.size() - pos) return false;
  s.assign(in.substr(pos, n));
  pos += n;
  return true;
}
}  // namespace

std::string encode_queue_record(const Batch& batch) {
  std::string out;
  out.reserve(64 + batch.point_count() * 10);
  put_string(out, batch.node);
  put_varint(out, batch.series.size());
  for (const auto& s : batch.series) {
    put_string(out, s.name);
    put_varint(out, s.labels.size());
    for (const auto& [k, v] : s.labels) {
      put_string(out, k);
      put_string(out, v);
    }
    put_varint(out, s.points.size());
    int64_t prev = 0;
    for (const auto& p : s.points) {
      put_varint(out, zigzag(p.t_ms - prev));
      prev = p.t_ms;
      char bytes[8];
      std::memcpy(bytes, &p.value, 8);
      out.append(bytes, 8);
    }
  }
  return out;
}

Result<void> decode_queue_record(std::string_view in,
                                 const std::function<void(std::string_view node, const Series& series)>& each) {
  size_t pos = 0;
  std::string node;
  uint64_t n_series;
  if (!get_string(in, pos, node) || !get_varint(in, pos, n_series)) return Error{"queue record: truncated header"};
  Series s;
  for (uint64_t i = 0; i < n_series; ++i) {
    uint64_t n_labels, n_points;
    if (!get_string(in, pos, s.name) || !get_varint(in, pos, n_labels) || n_labels > in.size())
      return errorf("queue record: series {} truncated", i);
    s.labels.resize(n_labels);
    for (auto& [k, v] : s.labels)
      if (!get_string(in, pos, k) || !get_string(in, pos, v)) return errorf("queue record: series {} labels truncated", i);
    if (!get_varint(in, pos, n_points) || n_points > (in.size() - pos) / 9 + 1)
      return errorf("queue record: series {} points truncated", i);
    s.points.resize(n_points);
    int64_t prev = 0;
    for (auto& p : s.points) {
      uint64_t z;
      if (!get_varint(in, pos, z) || in.size() - pos < 8) return errorf("queue record: series {} points truncated", i);
      p.t_ms = prev + unzigzag(z);
      prev = p.t_ms;
      std::memcpy(&p.value, in.data() + pos, 8);
      pos += 8;
    }
    each(node, s);
  }
  if (pos != in.size()) return Error{"queue record: bytes after the last series"};
  return {};
}

}  // namespace ss::collector::remote
