// The agent's own cost per cycle (DESIGN.md §8: ≤ 10 ms CPU per cycle with a Lustre client of 1,024 OSCs and
// 16 MDCs; RSS ≤ 25 MB): a synthetic source adds as many samples as such a client produces, and the bench
// measures the CPU of the scheduler cycle, the /metrics rendering and the batch (JSON, gzip, spool write).
// The sources' own reading and parsing is measured by their benches.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "agent/exporter.h"
#include "agent/scheduler.h"
#include "agent/shipper.h"
#include "agent/spool.h"
#include "common/codec.h"
#include "common/time.h"

using namespace ss;
using namespace ss::agent;

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

long max_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Samples in the shape of the Lustre client source: per target the RPC wait and count, ~12 op counters,
// read/write bytes and 5 capacity gauges.
class SyntheticLustre : public Source {
 public:
  SyntheticLustre(int oscs, int mdcs) : oscs_(oscs), mdcs_(mdcs) {}
  std::string_view name() const override { return "lustre"; }
  Result<void> collect(Collection& out) override {
    ++cycle_;
    out.describe("lustre_client_rpc_wait_seconds_total", MetricKind::Counter, "Wait.");
    out.describe("lustre_client_rpcs_total", MetricKind::Counter, "RPCs.");
    out.describe("lustre_client_ops_total", MetricKind::Counter, "Ops.");
    out.describe("lustre_client_bytes_total", MetricKind::Counter, "Bytes.");
    for (auto g : {"lustre_target_capacity_bytes", "lustre_target_available_bytes", "lustre_target_free_bytes",
                   "lustre_target_inodes", "lustre_target_inodes_free"})
      out.describe(g, MetricKind::Gauge, "Capacity.");
    static const char* ops[] = {"ost_read", "ost_write", "ost_punch", "ost_statfs", "ldlm_cancel", "obd_ping",
                                "ost_setattr", "ost_get_info", "ost_sync", "ldlm_enqueue", "mds_getattr", "mds_close"};
    for (int i = 0; i < oscs_ + mdcs_; ++i) {
      bool mdc = i >= oscs_;
      std::string target = mdc ? fmt::format("ai0-MDT{:04x}", i - oscs_) : fmt::format("ai0-OST{:04x}", i);
      Labels l{{"fs", "ai0"}, {"target", target}};
      double v = cycle_ * 100.0 + i;
      out.add("lustre_client_rpc_wait_seconds_total", l, v / 7);
      out.add("lustre_client_rpcs_total", l, v);
      for (auto op : ops) {
        Labels lo = l;
        lo.emplace_back("op", op);
        out.add("lustre_client_ops_total", std::move(lo), v);
      }
      for (auto op : {"read", "write"}) {
        Labels lo = l;
        lo.emplace_back("op", op);
        out.add("lustre_client_bytes_total", std::move(lo), v * 4096);
      }
      for (auto g : {"lustre_target_capacity_bytes", "lustre_target_available_bytes", "lustre_target_free_bytes",
                     "lustre_target_inodes", "lustre_target_inodes_free"})
        out.add(g, l, 1e12 + i);
    }
    return {};
  }

 private:
  int oscs_, mdcs_;
  int64_t cycle_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Agent per-cycle CPU: scheduler, /metrics rendering, batch encoding and spooling"};
  int oscs = 1024, mdcs = 16, cycles = 20;
  app.add_option("--oscs", oscs, "OSC targets (default 1024)");
  app.add_option("--mdcs", mdcs, "MDC targets (default 16)");
  app.add_option("--cycles", cycles, "cycles to measure (default 20)");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/ss_bench_agent_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto spool = Spool::open(dir + "/spool");
  if (!spool) {
    std::cerr << spool.error().message << "\n";
    return 1;
  }
  auto shipper = Shipper::create(**spool, ShipperOptions{"http://127.0.0.1:1", "", "bench", 1000, 500, 60'000});
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<SyntheticLustre>(oscs, mdcs));
  Scheduler scheduler(std::move(sources), {10'000, 5'000, {}});

  double t_cycle = 0, t_render = 0, t_ship = 0;
  size_t samples = 0, batch_bytes = 0, text_bytes = 0;
  int64_t t0 = align_up(now_ms(), 10'000);
  for (int i = -2; i < cycles; ++i) {  // two warm-up cycles
    int64_t t = t0 + (i + 2) * 10'000;
    double a = cpu_ms();
    Outputs c = scheduler.run_cycle(t);
    auto self = std::make_shared<Collection>(t);
    scheduler.add_self_metrics(*self);
    (*shipper)->add_metrics(*self);
    c.push_back(self);
    double b = cpu_ms();
    Outputs view = scheduler.latest();
    view.push_back(self);
    std::string text = render_prometheus(view);  // what one scrape costs
    double d = cpu_ms();
    auto seq = (*shipper)->enqueue(c);
    double e = cpu_ms();
    if (i == cycles - 1) {
      double p0 = cpu_ms();
      Batch batch = make_batch(c, "bench", "s", 1);
      double p1 = cpu_ms();
      std::string json = encode_batch(batch);
      double p2 = cpu_ms();
      std::string gz = gzip_compress(json);
      double p3 = cpu_ms();
      fmt::print("  of which: make_batch {:.2f} ms, JSON {:.2f} ms ({} KiB), gzip {:.2f} ms\n", p1 - p0, p2 - p1,
                 json.size() / 1024, p3 - p2);
    }
    if (!seq) {
      std::cerr << seq.error().message << "\n";
      return 1;
    }
    if (i >= 0) {
      t_cycle += b - a;
      t_render += d - b;
      t_ship += e - d;
    }
    samples = 0;
    for (const auto& o : c) samples += o->samples().size();
    batch_bytes = (*spool)->entries().back().bytes;
    text_bytes = text.size();
  }
  std::filesystem::remove_all(dir);
  double total = (t_cycle + t_render + t_ship) / cycles;
  fmt::print("agent cycle, {} OSCs + {} MDCs: {} samples per cycle, /metrics {} KiB, batch {} KiB gzip\n", oscs, mdcs,
             samples, text_bytes / 1024, batch_bytes / 1024);
  fmt::print("  CPU per cycle: sources+scheduler {:.2f} ms, one /metrics scrape {:.2f} ms, batch+gzip+spool {:.2f} ms\n",
             t_cycle / cycles, t_render / cycles, t_ship / cycles);
  fmt::print("  total {:.2f} ms per cycle (target <= 10 ms, sources' own parsing not included)\n", total);
  fmt::print("  max RSS {:.1f} MB (target <= 25 MB)\n", max_rss_kb() / 1024.0);
  return 0;
}
