// The what-if calculator of the reference article (DESIGN.md §7), behind `stormscope plan`:
//   checkpoint seconds   = checkpoint bytes / aggregate write throughput
//   GPU idle fraction    = checkpoint seconds / checkpoint interval (at most 1)
//   idle $/hour          = GPUs · $/GPU-hour · idle fraction
//   required throughput  = checkpoint bytes / target checkpoint seconds
//   break-even hours     = storage overhead $/hour / (GPUs · $/GPU-hour · utilization gain)
// Pure: numbers in, numbers out; the display rules that match the article's rounding are here too.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss::collector::cost {

struct PlanInput {
  double checkpoint_bytes = 0;
  double parameters = 0;          // informational when checkpoint_bytes came from parameters
  double bytes_per_parameter = 0;
  int gpus = 0;
  std::string gpu_model;
  std::string pricing;            // "spot", "on_demand" or "custom"
  double price_per_gpu_hour = 0;
  double interval_seconds = 0;    // checkpoint interval
  std::vector<double> write_bytes_per_second;  // one row each, in the order given
  std::optional<double> target_checkpoint_seconds;
  std::optional<double> storage_overhead_per_hour;
  std::optional<double> utilization_gain;      // fraction, 0.08 for 8 %
  std::optional<double> measured_utilization;  // effective utilization seen, 0.77 for 77 %
};

struct PlanRow {
  double write_bytes_per_second = 0;
  double checkpoint_seconds = 0;
  double idle_fraction = 0;  // capped at 1: checkpoints back to back
  double effective_utilization = 0;
  double idle_dollars_per_hour = 0;
  double idle_gpu_hours_per_hour = 0;
  // Against the first row, when storage overhead is given and no explicit gain: the gain this row brings
  // over the first and its break-even hours.
  std::optional<double> gain_over_first;
  std::optional<double> break_even_hours;
};

struct BreakEven {
  double overhead_per_hour = 0;
  double gain = 0;
  double recovered_per_hour = 0;  // cluster $/hour · gain
  std::optional<double> hours;    // absent when nothing is recovered
  double net_per_hour = 0;        // recovered − overhead, once past break-even
};

struct PlanResult {
  PlanInput input;
  double cluster_dollars_per_hour = 0;
  std::vector<PlanRow> rows;
  std::optional<double> required_bytes_per_second;  // for the target checkpoint time
  std::optional<double> measured_idle_dollars_per_hour;  // cluster $/hour · (1 − measured utilization)
  std::optional<BreakEven> break_even;                  // with an explicit utilization gain
};

// Validates the input (positive sizes, counts, interval, throughputs; fractions within 0..1).
Result<PlanResult> compute_plan(const PlanInput& input);

double break_even_hours(double overhead_per_hour, double gpu_dollars_per_hour, double utilization_gain);

// Display rules, chosen to print figures the way the article does.
std::string format_seconds(double s);        // 140, 127, 7, 3.7, 1.2 (whole seconds from 100 up)
std::string format_percent(double fraction); // 23 %, 21 %, 1.2 %, 0.6 % (whole percent from 10 % up)
std::string format_rate(double bytes_per_second);  // "2.3 GB/s", "120 GB/s", "500 MB/s"
std::string format_size(double bytes);             // "140 GB"
std::string format_dollars(double d);               // "$14.16"

std::string render_plan_table(const PlanResult& plan);
nlohmann::json plan_to_json(const PlanResult& plan);

// "70B", "405b", "1.5T", "7e9", "13M" parameters.
Result<double> parse_count(std::string_view text);
// "1GB/s", "1.1 GB/s", "500MB/s", "2GiB/s", or a size per second without "/s".
Result<double> parse_rate(std::string_view text);

}  // namespace ss::collector::cost
