// `stormscope plan`: the checkpoint what-if calculator (tools/plan.h) on the command line.
#pragma once

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "tools/plan.h"
#include "common/result.h"

namespace ss::cli {

struct PlanOptions {
  std::string params;              // "70B"
  double bytes_per_param = 2;      // bf16
  std::string checkpoint_size;     // "140GB", instead of params
  int gpus = 0;
  std::string gpu_model = "H200";
  std::string pricing = "spot";
  double price = -1;               // $/GPU-hour; < 0: from the price table
  std::string interval = "10m";
  std::vector<std::string> write;  // "1GB/s", one table row each
  std::string target;              // "60s"
  double overhead = -1;            // storage overhead $/hour; < 0: none
  std::string gain;                // "8%" or "0.08"
  std::string utilization;         // measured effective utilization, "77%" or "0.77"
  std::string config;              // --prices: YAML file whose cost: section holds the price table
  bool json = false;
};

extern const char* const kPlanHelp;

// Defines plan's flags on `cmd`.
void define_plan_options(CLI::App& cmd, PlanOptions& options);

// Turns the options into the calculator's input (sizes, rates, prices looked up by model).
Result<collector::cost::PlanInput> plan_input(const PlanOptions& options);

// 0 on success, 2 on bad input (the message goes to `err`).
int run_plan(const PlanOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ss::cli
