// The sample model shared by agent, wire codec and collector (DESIGN.md §3, §4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ss {

// Label pairs, sorted by name, names unique. Use normalize_labels() after building by hand.
using Label = std::pair<std::string, std::string>;
using Labels = std::vector<Label>;

enum class SeriesType { Counter, Gauge };

struct Point {
  int64_t t_ms = 0;  // milliseconds since the epoch
  double value = 0;
  bool operator==(const Point&) const = default;
};

struct Series {
  std::string name;
  SeriesType type = SeriesType::Gauge;
  Labels labels;
  std::vector<Point> points;
};

// An event such as `vfs_hot_dirs`; fields are kept as JSON object text.
struct Event {
  std::string kind;
  int64_t t_ms = 0;
  Labels labels;
  std::string fields_json = "{}";
};

// One ingest batch (DESIGN.md §4).
struct Batch {
  std::string node;
  std::string stream;  // "" by default
  uint64_t seq = 0;
  std::vector<Series> series;
  std::vector<Event> events;

  size_t point_count() const;
};

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
bool valid_node_name(std::string_view node);
std::string_view series_type_name(SeriesType t);

// Sorts by label name; fails on an invalid or repeated name.
Result<void> normalize_labels(Labels& labels);

// Value of a label, or "" when absent.
std::string_view label_value(const Labels& labels, std::string_view name);

// Canonical text of a series identity: name{a="x",b="y"} with Prometheus escaping.
std::string series_key(std::string_view name, const Labels& labels);

// Prometheus label-value escaping (backslash, double quote, newline).
std::string escape_label_value(std::string_view v);

// Millisecond bounds that accept real timestamps and catch seconds sent as ms.
inline constexpr int64_t kMinTimestampMs = 946684800000;   // 2000-01-01
inline constexpr int64_t kMaxTimestampMs = 7258118400000;  // 2200-01-01

}  // namespace ss
