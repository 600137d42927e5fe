// Detection quality on the simulator's scenarios (DESIGN.md §8: precision and recall ≥ 0.95, delay ≤ 2
// intervals). Each scenario is simulated, fed batch by batch through the collector's detection service
// (the same path as the ingest observer; with --collector, through a running collector over HTTP instead),
// and its incidents are matched with the ground truth. Prints per kind: injections, incidents, precision,
// recall, culprit accuracy (job, directory) and detection delay in intervals.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "collector/incidents/service.h"
#include "tools/sim/simulator.h"
#include "common/codec.h"
#include "common/time.h"

using namespace ss;
using namespace ss::collector;

namespace {

struct KindScore {
  int injected = 0, detected = 0, incidents = 0, true_incidents = 0;
  int culprit_cases = 0, job_right = 0, dir_right = 0;
  std::vector<double> delays;
};

bool same_phenomenon(const incidents::Incident& i, const sim::TruthEntry& e, const std::string& kind, int64_t slack) {
  if (i.start_ms > e.end_ms + slack) return false;
  if (i.end_ms && *i.end_ms < e.start_ms - slack) return false;
  if (!e.fs.empty() && !i.fs.empty() && i.fs != e.fs) return false;
  if (kind == "waittime_spike" && i.target != e.target) return false;
  if (kind == "checkpoint_stall" && i.key != "checkpoint_stall/" + e.job) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Detection precision, recall, culprit accuracy and delay on simulated scenarios"};
  int scenarios = 6, nodes = 16;
  double hours = 4;
  uint64_t first_seed = 1;
  std::string collector_url, token;
  bool verbose = false;
  app.add_option("--scenarios", scenarios, "number of scenarios (seeds)")->check(CLI::Range(1, 1000));
  app.add_option("--seed", first_seed, "seed of the first scenario");
  app.add_option("--hours", hours, "length of each scenario")->check(CLI::Range(1.5, 48.0));
  app.add_option("--nodes", nodes, "nodes per scenario")->check(CLI::Range(4, 2000));
  app.add_option("--collector", collector_url, "send through this collector (http://host:port) instead of in process");
  app.add_option("--token", token, "bearer token for --collector");
  app.add_flag("-v,--verbose", verbose, "print every injection and incident");
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, KindScore> score;
  for (const char* k : incidents::kKinds) score[k];
  int confounders = 0, confounder_hits = 0;
  double total_cost = 0, sim_seconds = 0, detect_seconds = 0;
  size_t batches = 0, points = 0;
  int64_t interval = 10'000;

  for (int s = 0; s < scenarios; ++s) {
    sim::SimOptions so;
    so.seed = first_seed + s;
    so.nodes = nodes;
    so.duration_ms = static_cast<int64_t>(hours * 3600'000);
    // Each scenario on its own day, so that one collector can take them all.
    so.start_ms += s * 2 * 86'400'000LL;
    interval = so.interval_ms;
    sim::Simulator simulator(so);
    std::vector<incidents::Incident> found;
    auto t0 = std::chrono::steady_clock::now();
    if (collector_url.empty()) {
      detect::DetectConfig dc;
      dc.engine.interval_ms = so.interval_ms;
      auto svc = incidents::DetectionService::create(dc, cost::CostConfig{}, ":memory:");
      if (!svc) {
        fmt::print(stderr, "bench_detect: {}\n", svc.error().message);
        return 1;
      }
      simulator.run([&](const Batch& b) {
        ++batches;
        points += b.point_count();
        (*svc)->on_batch(b);
      });
      (*svc)->flush();
      auto r = (*svc)->list({{"from", std::to_string(so.start_ms)}, {"to", std::to_string(so.start_ms + so.duration_ms)}, {"limit", "100000"}}, 0);
      auto j = nlohmann::json::parse(r.body);
      for (const auto& x : j["incidents"]) found.push_back(*incidents::incident_from_json(x));
    } else {
      httplib::Client cli(collector_url);
      cli.set_read_timeout(std::chrono::seconds(60));
      if (!token.empty()) cli.set_bearer_token_auth(token);
      bool failed = false;
      simulator.run([&](const Batch& b) {
        if (failed) return;
        ++batches;
        points += b.point_count();
        auto res = cli.Post("/api/v1/ingest", encode_batch(b), "application/json");
        if (!res || res->status != 200) {
          fmt::print(stderr, "bench_detect: ingest failed: {}\n", res ? res->body : httplib::to_string(res.error()));
          failed = true;
        }
      });
      if (failed) return 1;
      auto res = cli.Get(fmt::format("/api/v1/incidents?from={}&to={}&limit=100000", so.start_ms, so.start_ms + so.duration_ms));
      if (!res || res->status != 200) {
        fmt::print(stderr, "bench_detect: incident list failed\n");
        return 1;
      }
      for (const auto& x : nlohmann::json::parse(res->body)["incidents"]) found.push_back(*incidents::incident_from_json(x));
    }
    detect_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim_seconds += so.duration_ms / 1000.0;
    const auto& truth = simulator.truth();
    const int64_t slack = 3 * interval;

    for (const auto& e : truth.entries) {
      if (e.confounder) {
        ++confounders;
        bool hit = false;
        for (const auto& i : found)
          if (i.start_ms >= e.start_ms - slack && i.start_ms <= e.end_ms + slack) {
            bool explained = false;  // an incident of a real injection overlapping the confounder
            for (const auto& x : truth.entries)
              if (!x.confounder && (x.kind == i.kind || std::count(x.also.begin(), x.also.end(), i.kind)) &&
                  same_phenomenon(i, x, x.kind == i.kind ? i.kind : std::string(), slack))
                explained = true;
            hit = hit || !explained;
          }
        confounder_hits += hit;
        if (verbose) fmt::print("seed {} confounder {} {}..{} {} {}{}\n", so.seed, e.kind, format_rfc3339(e.start_ms), format_rfc3339(e.end_ms), e.node, e.note, hit ? "  <-- FALSE ALARM" : "");
        continue;
      }
      KindScore& ks = score[e.kind];
      ++ks.injected;
      const incidents::Incident* match = nullptr;
      for (const auto& i : found)
        if (i.kind == e.kind && same_phenomenon(i, e, e.kind, slack) && (!match || i.detected_ms < match->detected_ms)) match = &i;
      if (verbose)
        fmt::print("seed {} injected {} {}..{} fs={} target={} job={} path={} -> {}\n", so.seed, e.kind,
                   format_rfc3339(e.start_ms), format_rfc3339(e.end_ms), e.fs, e.target, e.job, e.path,
                   match ? match->summary : "MISSED");
      if (!match) continue;
      ++ks.detected;
      ks.delays.push_back(static_cast<double>(match->detected_ms - e.start_ms) / interval);
      if (e.kind == "metadata_storm" || e.kind == "checkpoint_stall") {
        ++ks.culprit_cases;
        const auto* top = match->culprits.empty() ? nullptr : &match->culprits.front();
        ks.job_right += top && top->job == e.job;
        ks.dir_right += top && (e.kind == "checkpoint_stall" || top->path == e.path);
      }
    }
    for (const auto& i : found) {
      KindScore& ks = score[i.kind];
      ++ks.incidents;
      total_cost += i.cost_usd;
      bool real = false;
      for (const auto& e : truth.entries) {
        if (e.confounder) continue;
        if (e.kind == i.kind && same_phenomenon(i, e, i.kind, slack)) real = true;
        if (std::count(e.also.begin(), e.also.end(), i.kind) && same_phenomenon(i, e, "", slack) &&
            (i.kind != "waittime_spike" || i.target == e.target))
          real = true;
      }
      ks.true_incidents += real;
      if (verbose && !real)
        fmt::print("seed {} FALSE {} {} {}\n", so.seed, i.kind, format_rfc3339(i.start_ms), i.summary);
    }
  }

  fmt::print("detection on {} simulated scenario(s), {} nodes, {:.1f} h each ({} batches, {} points, {:.1f} s to detect, {:.0f}x real time)\n",
             scenarios, nodes, hours, batches, points, detect_seconds, sim_seconds / std::max(detect_seconds, 1e-9));
  fmt::print("{:<18} {:>8} {:>9} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10}\n", "kind", "injected", "incidents", "precision",
             "recall", "culprit.job", "culprit.dir", "delay.mean", "delay.max");
  bool pass = true;
  for (const auto& [kind, ks] : score) {
    double precision = ks.incidents ? double(ks.true_incidents) / ks.incidents : 1.0;
    double recall = ks.injected ? double(ks.detected) / ks.injected : 1.0;
    double mean = 0, mx = 0;
    for (double d : ks.delays) mean += d / ks.delays.size(), mx = std::max(mx, d);
    std::string job = ks.culprit_cases ? fmt::format("{:.2f}", double(ks.job_right) / ks.culprit_cases) : "-";
    std::string dir = ks.culprit_cases ? fmt::format("{:.2f}", double(ks.dir_right) / ks.culprit_cases) : "-";
    fmt::print("{:<18} {:>8} {:>9} {:>9.2f} {:>7.2f} {:>10} {:>10} {:>10.2f} {:>10.1f}\n", kind, ks.injected, ks.incidents,
               precision, recall, job, dir, mean, mx);
    pass = pass && precision >= 0.95 && recall >= 0.95 && mx <= 2.0;
  }
  fmt::print("confounders: {} injected, {} raised an incident\n", confounders, confounder_hits);
  fmt::print("GPU idle cost attributed: ${:.2f}\n", total_cost);
  fmt::print("targets (precision, recall >= 0.95, delay <= 2 intervals): {}\n", pass ? "met" : "NOT met");
  return 0;
}
