#include "cli/plan.h"

#include <charconv>
#include <iostream>
#include <memory>

#include "cli/command.h"

#include "collector/cost/prices.h"
#include "common/config.h"
#include "common/duration_flag.h"
#include "common/time.h"

namespace ss::cli {

namespace cost = collector::cost;

namespace {

// "8%", "8 %" or "0.08".
Result<double> parse_fraction(std::string_view text, std::string_view what) {
  std::string t(text);
  bool percent = false;
  while (!t.empty() && (t.back() == ' ' || t.back() == '%')) {
    percent = percent || t.back() == '%';
    t.pop_back();
  }
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    return errorf("--{}: \"{}\" is not a fraction (0.08 or 8%)", what, text);
  return percent ? v / 100 : v;
}

}  // namespace

const char* const kPlanHelp =
    "What-if calculator: GPU idle time and cost of checkpoints at given storage write throughputs, the "
    "throughput a target checkpoint time needs, and the break-even of faster storage (docs/cost.md)";

void define_plan_options(CLI::App& cmd, PlanOptions& o) {
  cmd.add_option("--params", o.params, "Model parameters (70B, 405B, 7e9); the checkpoint is params x bytes-per-param");
  cmd.add_option("--bytes-per-param", o.bytes_per_param, "Bytes per parameter in the checkpoint (2 for bf16)")
      ->capture_default_str();
  cmd.add_option("--checkpoint-size", o.checkpoint_size, "Checkpoint size instead of --params (140GB, 1.5TB)");
  cmd.add_option("--gpus", o.gpus, "GPUs that wait while the checkpoint is written")->required();
  cmd.add_option("--gpu-model", o.gpu_model, "GPU model, priced through the table")->capture_default_str();
  cmd.add_option("--pricing", o.pricing, "spot or on_demand")->capture_default_str();
  cmd.add_option("--price", o.price, "$/GPU-hour, instead of the table's price");
  cmd.add_option("--interval", o.interval, "Checkpoint interval (10m, 30m, 1h)")->capture_default_str();
  cmd.add_option("--write", o.write, "Aggregate storage write throughput, one table row each (1GB/s 20GB/s)")
      ->required();
  cmd.add_option("--target", o.target, "Target checkpoint time: prints the throughput it needs (60s)");
  cmd.add_option("--overhead", o.overhead, "Storage overhead $/hour of the faster storage (for break-even)");
  cmd.add_option("--gain", o.gain, "Utilization gain of the faster storage (8% or 0.08)");
  cmd.add_option("--utilization", o.utilization, "Measured effective GPU utilization (77% or 0.77): its idle $/hour");
  cmd.add_option("--prices", o.config, "YAML file whose cost: section sets the price table (the collector's file)");
  cmd.add_flag("--json", o.json, "Print JSON instead of a table");
}

Command plan_command() {
  return {"plan", kPlanHelp, [](CLI::App& sub) -> CommandRun {
            auto options = std::make_shared<PlanOptions>();
            define_plan_options(sub, *options);
            return [options](const Globals&) { return run_plan(*options, std::cout, std::cerr); };
          }};
}

Result<cost::PlanInput> plan_input(const PlanOptions& o) {
  cost::PlanInput in;
  if (o.params.empty() == o.checkpoint_size.empty())
    return Error{"give the model size with either --params or --checkpoint-size"};
  if (!o.params.empty()) {
    auto n = cost::parse_count(o.params);
    if (!n) return errorf("--params: {}", n.error().message);
    if (!(o.bytes_per_param > 0)) return Error{"--bytes-per-param must be above 0"};
    in.parameters = *n;
    in.bytes_per_parameter = o.bytes_per_param;
    in.checkpoint_bytes = *n * o.bytes_per_param;
  } else {
    auto b = cost::parse_rate(o.checkpoint_size);  // a size is a rate without "/s"
    if (!b) return errorf("--checkpoint-size: \"{}\" is not a size (for example 140GB)", o.checkpoint_size);
    in.checkpoint_bytes = *b;
  }
  in.gpus = o.gpus;
  in.gpu_model = o.gpu_model;

  cost::CostConfig cfg;
  if (!o.config.empty()) {
    auto node = config::load_file(o.config);
    if (!node) return node.error();
    auto c = config::read([&] { return cost::read_cost_config(config::Section((*node)["cost"], "cost")); });
    if (!c) return c.error();
    if (!c->ok()) return c->error();
    cfg = std::move(c->value());
  }
  if (o.price >= 0) {
    in.pricing = "custom";
    in.price_per_gpu_hour = o.price;
  } else {
    auto pricing = cost::parse_pricing(o.pricing);
    if (!pricing) return errorf("--pricing: {}", pricing.error().message);
    in.pricing = std::string(cost::pricing_name(*pricing));
    in.price_per_gpu_hour = cfg.prices.per_gpu_hour(o.gpu_model, *pricing);
  }

  auto interval = parse_duration_with_unit_ms(o.interval);
  if (!interval) return errorf("--interval: {}", interval.error().message);
  in.interval_seconds = static_cast<double>(*interval) / 1000.0;
  for (const auto& w : o.write) {
    auto r = cost::parse_rate(w);
    if (!r) return errorf("--write: {}", r.error().message);
    in.write_bytes_per_second.push_back(*r);
  }
  if (!o.target.empty()) {
    auto t = parse_duration_with_unit_ms(o.target);
    if (!t) return errorf("--target: {}", t.error().message);
    in.target_checkpoint_seconds = static_cast<double>(*t) / 1000.0;
  }
  if (o.overhead >= 0) in.storage_overhead_per_hour = o.overhead;
  if (!o.gain.empty()) {
    auto g = parse_fraction(o.gain, "gain");
    if (!g) return g.error();
    if (!in.storage_overhead_per_hour) return Error{"--gain needs --overhead (the storage overhead $/hour)"};
    in.utilization_gain = *g;
  }
  if (!o.utilization.empty()) {
    auto u = parse_fraction(o.utilization, "utilization");
    if (!u) return u.error();
    in.measured_utilization = *u;
  }
  return in;
}

int run_plan(const PlanOptions& o, std::ostream& out, std::ostream& err) {
  auto in = plan_input(o);
  if (!in) {
    err << "stormscope plan: " << in.error().message << "\n";
    return 2;
  }
  auto plan = cost::compute_plan(*in);
  if (!plan) {
    err << "stormscope plan: " << plan.error().message << "\n";
    return 2;
  }
  if (o.json)
    out << cost::plan_to_json(*plan).dump(2) << "\n";
  else
    out << cost::render_plan_table(*plan);
  return 0;
}

}  // namespace ss::cli
