// A time chart as data (what the collector reads from its store and the API sends) and as SVG drawn here,
// so a page needs no JavaScript to show it. Also sparklines for the terminal.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ss::report {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<int64_t, double>> points;  // (ms, value), in time order
};

struct ChartLine {  // a horizontal reference: a threshold (dashed red) or a baseline/target (dotted)
  std::string label;
  double value = 0;
  bool threshold = false;
};

struct Chart {
  std::string title;
  std::string unit;  // "ops/s", "ms", "%", "B/s", "bytes"
  int64_t from_ms = 0, to_ms = 0;
  int64_t mark_from_ms = 0, mark_to_ms = 0;  // the incident's window, shaded
  std::vector<ChartSeries> series;
  std::vector<ChartLine> lines;
  std::optional<std::pair<double, double>> band;  // baseline band (low, high)
  std::string band_label;
  std::string note;  // what the chart shows, one sentence

  size_t points() const;
};

nlohmann::json to_json(const Chart& c);
Result<Chart> chart_from_json(const nlohmann::json& j);

// <figure> with the title, an inline <svg> (data-points="N" counts the points drawn) and a legend.
std::string chart_svg(const Chart& c);

// "▁▂▅█▇▃▁" over `width` columns (means of the values that fall in each column); "" when empty.
std::string sparkline(const std::vector<double>& values, size_t width = 40);

// A value in the chart's unit: "48.2k ops/s", "310 ms", "93 %", "1.2 GB/s".
std::string format_value(double v, const std::string& unit);

}  // namespace ss::report
