// stormscope simulate: a simulated cluster's batches as JSON lines (for `stormscope replay`), as OpenMetrics
// text (what Prometheus would have scraped, for `promtool tsdb create-blocks-from openmetrics`), or sent to a
// collector directly, with the ground truth of what was injected (tools/sim/simulator.h).
#include <fstream>
#include <iostream>

#include "cli/client.h"
#include "cli/command.h"
#include "tools/sim/openmetrics.h"
#include "tools/sim/simulator.h"
#include "common/codec.h"
#include "common/duration_flag.h"
#include "common/time.h"

namespace ss::cli {
namespace {

struct SimulateArgs {
  collector::sim::SimOptions o;
  std::string duration = "4h", interval = "10s", start, out = "-", truth, format = "jsonl";
  bool send = false;
};

int run(const SimulateArgs& a, const Globals& g) {
  collector::sim::SimOptions o = a.o;
  auto d = parse_duration_with_unit_ms(a.duration);
  auto i = parse_duration_with_unit_ms(a.interval);
  if (!d || !i) {
    std::cerr << "stormscope simulate: " << (!d ? "--duration: " + d.error().message : "--interval: " + i.error().message) << "\n";
    return 2;
  }
  if (a.format != "jsonl" && a.format != "openmetrics") {
    std::cerr << "stormscope simulate: --format: \"" << a.format << "\" is not jsonl or openmetrics\n";
    return 2;
  }
  if (a.send && a.format != "jsonl") {
    std::cerr << "stormscope simulate: --send posts batches; --format applies to files only\n";
    return 2;
  }
  o.duration_ms = *d;
  o.interval_ms = *i;
  if (!a.start.empty()) {
    auto s = parse_time_ms(a.start, now_ms());
    if (!s) {
      std::cerr << "stormscope simulate: --start: " << s.error().message << "\n";
      return 2;
    }
    o.start_ms = *s;
  }
  if (auto v = collector::sim::validate(o); !v) {
    std::cerr << "stormscope simulate: " << v.error().message << "\n";
    return 2;
  }
  collector::sim::Simulator sim(o);
  size_t batches = 0, points = 0;
  std::string failure;
  if (a.send) {
    auto client = collector_client(g.collector, g.token);
    if (!client) {
      std::cerr << "stormscope simulate: " << client.error().message << "\n";
      return 2;
    }
    sim.run([&](const Batch& b) {
      if (!failure.empty()) return;
      auto r = (*client)->Post("/api/v1/ingest", encode_batch(b), "application/json");
      if (!r || r->status != 200) failure = describe_failure(r, g.collector, "/api/v1/ingest");
      ++batches;
      points += b.point_count();
    });
  } else {
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (a.out != "-") {
      file.open(a.out);
      if (!file) {
        std::cerr << "stormscope simulate: cannot write " << a.out << "\n";
        return 2;
      }
      out = &file;
    }
    collector::sim::OpenMetricsWriter openmetrics;
    sim.run([&](const Batch& b) {
      if (a.format == "openmetrics") openmetrics.add(b);
      else *out << encode_batch(b) << '\n';
      ++batches;
      points += b.point_count();
    });
    if (a.format == "openmetrics") openmetrics.write(*out);
    out->flush();
    if (!*out) failure = "writing " + a.out + " failed";
  }
  if (!failure.empty()) {
    std::cerr << "stormscope simulate: " << failure << "\n";
    return 1;
  }
  // The truth is complete only after the run (the onset of an OST imbalance is found while running).
  if (!a.truth.empty()) {
    std::ofstream t(a.truth);
    t << collector::sim::to_json(sim.truth()).dump(2) << '\n';
    if (!t) {
      std::cerr << "stormscope simulate: cannot write " << a.truth << "\n";
      return 2;
    }
  }
  int injected = 0, confounders = 0;
  for (const auto& e : sim.truth().entries) (e.confounder ? confounders : injected)++;
  std::cerr << fmt::format("simulate: {} batches, {} points, {} incidents injected, {} confounders{}\n", batches, points,
                           injected, confounders, a.truth.empty() ? "" : ", ground truth in " + a.truth);
  return 0;
}

}  // namespace

Command simulate_command() {
  return {"simulate", "Simulate a GPU cluster on Lustre with injected incidents (JSON lines or sent to a collector)",
          [](CLI::App& sub) -> CommandRun {
            auto a = std::make_shared<SimulateArgs>();
            sub.add_option("--seed", a->o.seed, "random seed: the same seed gives the same batches");
            sub.add_option("--duration", a->duration, "simulated time (default 4h)");
            sub.add_option("--interval", a->interval, "sample interval (default 10s)");
            sub.add_option("--start", a->start, "first timestamp, RFC 3339 or ms (default 2025-11-21T00:00:00Z)");
            sub.add_option("--nodes", a->o.nodes, "GPU nodes (default 16)");
            sub.add_option("--gpus", a->o.gpus_per_node, "GPUs per node (default 8)");
            sub.add_option("--scenario", a->o.scenario, "mixed, incidents, confounders or quiet (default mixed)");
            sub.add_option("--delivery", a->o.delivery,
                           "interval (each sample at once) or batched (1 to --max-batch samples per agent, out of "
                           "phase, and a 10-minute outage drained node after node)");
            sub.add_option("--max-batch", a->o.max_batch, "samples per batch at most, batched (default 12)");
            sub.add_option("--out,-o", a->out, "output file (default - : stdout)");
            sub.add_option("--format", a->format,
                           "jsonl (ingest batches, for replay) or openmetrics (as Prometheus scraped the agents)");
            sub.add_option("--truth", a->truth, "write the ground truth (JSON) to this file");
            sub.add_flag("--send", a->send, "POST the batches to --collector instead of writing them");
            return [a](const Globals& g) { return run(*a, g); };
          }};
}

}  // namespace ss::cli
