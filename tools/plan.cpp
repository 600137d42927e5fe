#include "tools/plan.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/config.h"
#include "common/time.h"

namespace ss::collector::cost {

namespace {

// One decimal, without a trailing ".0"; whole numbers from `whole_from` up.
std::string short_number(double v, double whole_from) {
  std::string s = std::abs(v) >= whole_from ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

// The percentage the table shows, rounded as format_percent rounds it.
double shown_percent(double fraction) {
  double pct = fraction * 100;
  return pct >= 10 ? std::round(pct) : std::round(pct * 10) / 10;
}

std::string with_unit(double v, const char* const units[], int n) {
  int i = 0;
  while (i + 1 < n && std::abs(v) >= 1000) {
    v /= 1000;
    ++i;
  }
  return short_number(v, 100) + " " + units[i];
}

Result<double> parse_number_prefix(std::string_view text, size_t& used) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p == text.data()) return errorf("\"{}\" does not start with a number", text);
  used = static_cast<size_t>(p - text.data());
  return v;
}

}  // namespace

double break_even_hours(double overhead_per_hour, double gpu_dollars_per_hour, double utilization_gain) {
  return overhead_per_hour / (gpu_dollars_per_hour * utilization_gain);
}

Result<PlanResult> compute_plan(const PlanInput& in) {
  if (!(in.checkpoint_bytes > 0)) return Error{"the checkpoint size must be above 0 bytes"};
  if (in.gpus <= 0) return Error{"the GPU count must be at least 1"};
  if (!(in.price_per_gpu_hour >= 0)) return Error{"the GPU price must not be negative"};
  if (!(in.interval_seconds > 0)) return Error{"the checkpoint interval must be longer than 0"};
  if (in.write_bytes_per_second.empty()) return Error{"give at least one storage write throughput"};
  for (double r : in.write_bytes_per_second)
    if (!(r > 0)) return Error{"every write throughput must be above 0"};
  if (in.target_checkpoint_seconds && !(*in.target_checkpoint_seconds > 0))
    return Error{"the target checkpoint time must be longer than 0"};
  if (in.storage_overhead_per_hour && !(*in.storage_overhead_per_hour >= 0))
    return Error{"the storage overhead must not be negative"};
  if (in.utilization_gain && !(*in.utilization_gain > 0 && *in.utilization_gain <= 1))
    return Error{"the utilization gain must be a fraction above 0 and at most 1 (0.08 for 8 %)"};
  if (in.measured_utilization && !(*in.measured_utilization >= 0 && *in.measured_utilization <= 1))
    return Error{"the measured utilization must be a fraction within 0..1 (0.77 for 77 %)"};

  PlanResult out;
  out.input = in;
  out.cluster_dollars_per_hour = in.gpus * in.price_per_gpu_hour;
  for (double rate : in.write_bytes_per_second) {
    PlanRow row;
    row.write_bytes_per_second = rate;
    row.checkpoint_seconds = in.checkpoint_bytes / rate;
    row.idle_fraction = std::min(1.0, row.checkpoint_seconds / in.interval_seconds);
    row.effective_utilization = 1 - row.idle_fraction;
    row.idle_dollars_per_hour = out.cluster_dollars_per_hour * row.idle_fraction;
    row.idle_gpu_hours_per_hour = in.gpus * row.idle_fraction;
    out.rows.push_back(row);
  }
  if (in.target_checkpoint_seconds) out.required_bytes_per_second = in.checkpoint_bytes / *in.target_checkpoint_seconds;
  if (in.measured_utilization)
    out.measured_idle_dollars_per_hour = out.cluster_dollars_per_hour * (1 - *in.measured_utilization);
  if (in.storage_overhead_per_hour && in.utilization_gain) {
    BreakEven b;
    b.overhead_per_hour = *in.storage_overhead_per_hour;
    b.gain = *in.utilization_gain;
    b.recovered_per_hour = out.cluster_dollars_per_hour * b.gain;
    if (b.recovered_per_hour > 0) b.hours = b.overhead_per_hour / b.recovered_per_hour;
    b.net_per_hour = b.recovered_per_hour - b.overhead_per_hour;
    out.break_even = b;
  } else if (in.storage_overhead_per_hour && out.rows.size() > 1) {
    const PlanRow& first = out.rows.front();
    for (size_t i = 1; i < out.rows.size(); ++i) {
      PlanRow& row = out.rows[i];
      row.gain_over_first = first.idle_fraction - row.idle_fraction;
      double recovered = out.cluster_dollars_per_hour * *row.gain_over_first;
      if (recovered > 0) row.break_even_hours = *in.storage_overhead_per_hour / recovered;
    }
  }
  return out;
}

std::string format_seconds(double s) { return short_number(s, 100) + " s"; }

std::string format_percent(double fraction) { return short_number(shown_percent(fraction), 10) + " %"; }

std::string format_rate(double bytes_per_second) {
  static const char* const units[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  return with_unit(bytes_per_second, units, 5);
}

std::string format_size(double bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  return with_unit(bytes, units, 6);
}

std::string format_dollars(double d) { return fmt::format("${:.2f}", d); }

std::string render_plan_table(const PlanResult& plan) {
  const PlanInput& in = plan.input;
  std::string out;
  std::string what = format_size(in.checkpoint_bytes);
  if (in.parameters > 0)
    what += fmt::format(" ({} parameters x {} bytes)", short_number(in.parameters / 1e9, 100) + "B",
                        short_number(in.bytes_per_parameter, 100));
  out += fmt::format("checkpoint {} every {}, {} x {} at ${}/GPU-hour ({}) = {}/hour\n\n", what,
                     format_duration(static_cast<int64_t>(std::llround(in.interval_seconds * 1000))), in.gpus, in.gpu_model.empty() ? "GPU" : in.gpu_model,
                     fmt::format("{:g}", in.price_per_gpu_hour), in.pricing,
                     format_dollars(plan.cluster_dollars_per_hour));

  bool per_row_break_even = false;
  for (const auto& r : plan.rows) per_row_break_even = per_row_break_even || r.gain_over_first.has_value();
  std::vector<std::vector<std::string>> cells{{"write throughput", "checkpoint", "GPU idle", "effective util",
                                               "idle GPU-h/h", "idle $/hour"}};
  if (per_row_break_even) {
    cells[0].push_back("gain vs first");
    cells[0].push_back("break-even");
  }
  for (const auto& r : plan.rows) {
    std::vector<std::string> line{format_rate(r.write_bytes_per_second), format_seconds(r.checkpoint_seconds),
                                  format_percent(r.idle_fraction),
                                  short_number(100 - shown_percent(r.idle_fraction), 1e9) + " %",
                                  fmt::format("{:.2f}", r.idle_gpu_hours_per_hour),
                                  format_dollars(r.idle_dollars_per_hour)};
    if (per_row_break_even) {
      line.push_back(r.gain_over_first ? short_number(*r.gain_over_first * 100, 1e9) + " pt" : "-");
      line.push_back(r.break_even_hours ? fmt::format("{:.2f} h", *r.break_even_hours) : "-");
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) text += fmt::format("{:<{}}", line[i], width[i] + (i + 1 < line.size() ? 2 : 0));
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }

  if (plan.required_bytes_per_second)
    out += fmt::format("\nrequired aggregate write throughput for a {} checkpoint: {}\n",
                       format_seconds(*in.target_checkpoint_seconds), format_rate(*plan.required_bytes_per_second));
  if (plan.measured_idle_dollars_per_hour)
    out += fmt::format("\nat the measured {} effective utilization, {}/hour of GPU time is idle\n",
                       short_number(*in.measured_utilization * 100, 1e9) + " %",
                       format_dollars(*plan.measured_idle_dollars_per_hour));
  if (plan.break_even) {
    const BreakEven& b = *plan.break_even;
    out += fmt::format("\nbreak-even: {}/hour storage overhead against {} recovered ({} gain x {}/hour): ",
                       format_dollars(b.overhead_per_hour), format_dollars(b.recovered_per_hour) + "/hour",
                       short_number(b.gain * 100, 1e9) + " %", format_dollars(plan.cluster_dollars_per_hour));
    if (b.hours)
      out += fmt::format("{:.2f} hours ({:.0f} minutes), then {}/hour net\n", *b.hours, *b.hours * 60,
                         format_dollars(b.net_per_hour));
    else
      out += "never (nothing recovered)\n";
  }
  return out;
}

nlohmann::json plan_to_json(const PlanResult& plan) {
  const PlanInput& in = plan.input;
  nlohmann::json j;
  j["checkpoint_bytes"] = in.checkpoint_bytes;
  if (in.parameters > 0) {
    j["parameters"] = in.parameters;
    j["bytes_per_parameter"] = in.bytes_per_parameter;
  }
  j["gpus"] = in.gpus;
  j["gpu_model"] = in.gpu_model;
  j["pricing"] = in.pricing;
  j["price_per_gpu_hour"] = in.price_per_gpu_hour;
  j["cluster_dollars_per_hour"] = plan.cluster_dollars_per_hour;
  j["interval_seconds"] = in.interval_seconds;
  j["rows"] = nlohmann::json::array();
  for (const auto& r : plan.rows) {
    nlohmann::json row{{"write_bytes_per_second", r.write_bytes_per_second},
                       {"checkpoint_seconds", r.checkpoint_seconds},
                       {"idle_fraction", r.idle_fraction},
                       {"effective_utilization", r.effective_utilization},
                       {"idle_gpu_hours_per_hour", r.idle_gpu_hours_per_hour},
                       {"idle_dollars_per_hour", r.idle_dollars_per_hour}};
    if (r.gain_over_first) row["gain_over_first"] = *r.gain_over_first;
    if (r.break_even_hours) row["break_even_hours"] = *r.break_even_hours;
    j["rows"].push_back(row);
  }
  if (plan.required_bytes_per_second) {
    j["target_checkpoint_seconds"] = *in.target_checkpoint_seconds;
    j["required_write_bytes_per_second"] = *plan.required_bytes_per_second;
  }
  if (plan.measured_idle_dollars_per_hour) {
    j["measured_utilization"] = *in.measured_utilization;
    j["measured_idle_dollars_per_hour"] = *plan.measured_idle_dollars_per_hour;
  }
  if (plan.break_even) {
    const BreakEven& b = *plan.break_even;
    j["break_even"] = {{"storage_overhead_per_hour", b.overhead_per_hour},
                       {"utilization_gain", b.gain},
                       {"recovered_per_hour", b.recovered_per_hour},
                       {"hours", b.hours ? nlohmann::json(*b.hours) : nlohmann::json(nullptr)},
                       {"net_per_hour", b.net_per_hour}};
  } else if (in.storage_overhead_per_hour) {
    j["storage_overhead_per_hour"] = *in.storage_overhead_per_hour;
  }
  return j;
}

Result<double> parse_count(std::string_view text) {
  size_t used = 0;
  auto v = parse_number_prefix(text, used);
  if (!v) return errorf("\"{}\" is not a count (for example 70B)", text);
  std::string_view suffix = text.substr(used);
  double mult = 1;
  if (suffix.empty()) mult = 1;
  else if (suffix == "k" || suffix == "K") mult = 1e3;
  else if (suffix == "M" || suffix == "m") mult = 1e6;
  else if (suffix == "B" || suffix == "b" || suffix == "G") mult = 1e9;
  else if (suffix == "T" || suffix == "t") mult = 1e12;
  else return errorf("\"{}\": unknown suffix \"{}\" (K, M, B, T)", text, suffix);
  if (!(*v > 0)) return errorf("\"{}\" must be above 0", text);
  return *v * mult;
}

Result<double> parse_rate(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.ends_with("/s")) t.remove_suffix(2);
  // Sizes parse to whole bytes: keep the fraction of "1.1GB" by scaling the number first.
  size_t used = 0;
  auto num = parse_number_prefix(t, used);
  if (!num) return errorf("\"{}\" is not a throughput (for example 1GB/s or 500MB/s)", text);
  auto unit = config::parse_bytes(fmt::format("1{}", t.substr(used)));
  if (!unit) return errorf("\"{}\" is not a throughput (for example 1GB/s or 500MB/s): {}", text, unit.error().message);
  double rate = *num * static_cast<double>(*unit);
  if (!(rate > 0)) return errorf("\"{}\": a throughput must be above 0", text);
  return rate;
}

}  // namespace ss::collector::cost
