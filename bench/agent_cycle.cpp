// The whole agent cycle (DESIGN.md §8: Lustre client with 1,024 OSCs + 16 MDCs, ≤ 10 ms CPU per cycle for the
// Lustre collection, RSS ≤ 25 MB): the real Lustre source on a generated client tree run by the scheduler,
// the agent's own metrics, the batch (JSON straight from the samples, gzip, spool write) and one /metrics
// scrape per cycle. Prints CPU per cycle for each part (mean, p50, max) and the process's peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>

#include "agent/exporter.h"
#include "agent/scheduler.h"
#include "agent/shipper.h"
#include "agent/sources/lustre/lustre_source.h"
#include "agent/spool.h"
#include "common/time.h"
#include "bench/process_stats.h"
#include "tests/support/lustre_tree.h"

using namespace ss;
using namespace ss::agent;

using ss::bench::cpu_ms;
using ss::bench::status_kib;

namespace {

struct Stat {
  std::vector<double> ms;
  std::string text() const {
    auto s = ss::bench::spread(ms);
    return fmt::format("mean {:.2f} ms, p50 {:.2f} ms, max {:.2f} ms", s.mean, s.p50, s.max);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The agent's CPU per cycle: Lustre source, batch (JSON, gzip, spool) and a /metrics scrape"};
  int oscs = 1024, mdcs = 16, cycles = 30;
  app.add_option("--oscs", oscs, "OSC targets (default 1024)");
  app.add_option("--mdcs", mdcs, "MDC targets (default 16)");
  app.add_option("--cycles", cycles, "cycles to measure (default 30)");
  CLI11_PARSE(app, argc, argv);

  std::string tmpl = (std::filesystem::temp_directory_path() / "ss_bench_agent_XXXXXX").string();
  std::filesystem::path dir = ::mkdtemp(tmpl.data());
  lustre_tree::LustreClientSpec spec;
  spec.osts = oscs;
  spec.mdts = mdcs;
  lustre_tree::write_lustre_client_tree(dir / "root", spec);

  auto spool = Spool::open((dir / "spool").string());
  if (!spool) {
    std::cerr << spool.error().message << "\n";
    return 1;
  }
  // The collector URL is never contacted: the sender thread is not started, batches stay in the spool.
  auto shipper = Shipper::create(**spool, ShipperOptions{{"http://127.0.0.1:1"}, "", "bench", 1000, 500, 60'000});
  AgentContext ctx;
  ctx.interval_ms = 10'000;
  // keep_open: the tree stands for procfs and debugfs, whose files keep_open: auto keeps open.
  auto yaml = YAML::Load(fmt::format("root: {}\nlctl: ''\nenabled: true\nkeep_open: true\n", (dir / "root").string()));
  auto lustre = make_lustre_source(config::Section(yaml, "sources.lustre"), ctx);
  if (!lustre || !*lustre) {
    std::cerr << "no Lustre source: " << (lustre ? "not found" : lustre.error().message) << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(*lustre));
  Scheduler scheduler(std::move(sources), {10'000, 5'000, {}});

  Stat sources_ms, ship_ms, scrape_ms, total_ms;
  size_t samples = 0, batch_bytes = 0, text_bytes = 0;
  int64_t t0 = align_up(now_ms(), 10'000);
  for (int i = -2; i < cycles; ++i) {  // two warm-up cycles
    int64_t t = t0 + (i + 2) * 10'000;
    // The scheduler runs the source in its worker thread: process CPU time counts it.
    double a = cpu_ms();
    Outputs c = scheduler.run_cycle(t);
    auto self = std::make_shared<Collection>(t);
    scheduler.add_self_metrics(*self);
    (*shipper)->add_metrics(*self);
    c.push_back(self);
    double b = cpu_ms();
    auto seq = (*shipper)->enqueue(c);
    double d = cpu_ms();
    Outputs view = scheduler.latest();
    view.push_back(self);
    std::string text = render_prometheus(view);  // what one scrape costs
    double e = cpu_ms();
    if (!seq) {
      std::cerr << seq.error().message << "\n";
      return 1;
    }
    if (i >= 0) {
      sources_ms.ms.push_back(b - a);
      ship_ms.ms.push_back(d - b);
      scrape_ms.ms.push_back(e - d);
      total_ms.ms.push_back(e - a);
    }
    samples = 0;
    for (const auto& o : c) samples += o->samples().size();
    batch_bytes = (*spool)->entries().back().bytes;
    text_bytes = text.size();
  }
  long hwm = status_kib("VmHWM"), rss = status_kib("VmRSS");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  fmt::print("agent cycle, Lustre client tree {} OSCs + {} MDCs, {} cycles: {} samples per cycle, batch {} KiB gzip, "
             "/metrics {} KiB\n",
             oscs, mdcs, cycles, samples, batch_bytes / 1024, text_bytes / 1024);
  fmt::print("  Lustre source (scheduler, defaults): {}  [target <= 10 ms]\n", sources_ms.text());
  fmt::print("  batch (JSON from the samples, gzip, spool write): {}\n", ship_ms.text());
  fmt::print("  one /metrics scrape: {}\n", scrape_ms.text());
  fmt::print("  whole cycle: {}\n", total_ms.text());
  fmt::print("  rss {:.1f} MB, peak {:.1f} MB  [target <= 25 MB]\n", rss / 1024.0, hwm / 1024.0);
  return 0;
}
