// Scale (DESIGN.md §8): many simulated agents × 300 series every 10 s for 10 minutes against a real
// stormscope-collector process. Prints the achieved ingest rate, the worst lag behind schedule (backlog),
// request latency, rejections and the collector's peak RSS (target: no backlog, RSS ≤ 2 GB).
//   bench_scale [--agents 10000] [--series 300] [--interval 10s] [--duration 10m] [--senders 16]
//               [--no-gzip] [--window-close-after DURATION] [--step DURATION] [--collector-bin PATH]
// Batches are written and compressed as agents do (BatchWriter, gzip at the fastest level), so the
// collector pays what it pays for real agents, inflating included. Timestamps start now; with
// --window-close-after they start so that every series' 2-hour raw window closes (and is rolled up) that
// long into the run, as happens to all series at once every 2 hours in production. --step makes the
// timestamps advance faster than the clock (--interval 1s --step 10s sends a 2-hour window of 10 s points
// in 12 minutes), to measure the memory of a raw window late in its 2 hours without waiting for them;
// --window-close-after is then in data time.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/shipper.h"
#include "collector/store/chunk_store.h"
#include "common/batch_writer.h"
#include "common/time.h"
#include "tests/support/ports.h"

namespace {

using Clock = std::chrono::steady_clock;

using ss::testing::free_port;

// Peak resident set of a process in bytes (VmHWM).
int64_t peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

// The labels of an agent's series: a Lustre client's targets × ops.
std::vector<ss::Labels> series_labels(int series) {
  static const char* kOps[] = {"ost_read", "ost_write", "ldlm_enqueue", "obd_ping", "ost_punch",
                               "ost_setattr", "ost_statfs", "ost_sync", "ost_get_info", "ldlm_cancel"};
  std::vector<ss::Labels> out;
  for (int s = 0; s < series; ++s)
    out.push_back({{"fs", "ai0"}, {"op", kOps[s % 10]}, {"target", fmt::format("ai0-OST{:04x}", s / 10)}});
  return out;
}

// One agent's batch with one point per series, written as the agent's shipper writes it.
std::string batch_body(int agent, uint64_t seq, const std::vector<ss::Labels>& labels, int64_t t_ms, bool gzip) {
  std::string b;
  b.reserve(labels.size() * 160);
  ss::BatchWriter w(b, fmt::format("sim{:05}", agent), "scale", seq);
  for (size_t s = 0; s < labels.size(); ++s) {
    ss::Point p{t_ms, double(seq * (s + 1))};
    w.series("lustre_client_ops_total", ss::SeriesType::Counter, labels[s], &p, 1);
  }
  w.finish();
  return gzip ? ss::agent::gzip_compress(b) : b;
}

// CPU time (user + system) a process has used so far, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)  // fields 14 and 15: utime, stime
    if (i >= 14) ticks += std::stod(f);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Collector at scale: simulated agents on a schedule against a real collector process"};
  int agents = 10000, series = 300, senders = 16;
  bool no_gzip = false;
  std::string close_after_s;
  std::string interval_s = "10s", duration_s = "10m", step_s;
  std::string bin = (std::filesystem::path(argv[0]).parent_path().parent_path() / "collector/stormscope-collector").string();
  app.add_option("--agents", agents, "simulated agents (default 10000)");
  app.add_option("--series", series, "series per agent (default 300)");
  app.add_option("--interval", interval_s, "each agent sends once per interval (default 10s)");
  app.add_option("--duration", duration_s, "how long (default 10m)");
  app.add_option("--senders", senders, "HTTP client threads (default 16)");
  app.add_flag("--no-gzip", no_gzip, "send bodies uncompressed (agents gzip them)");
  app.add_option("--window-close-after", close_after_s,
                 "start the timestamps so that the raw windows of all series close this long into the run");
  app.add_option("--step", step_s, "how far the timestamps advance per interval (default: the interval)");
  app.add_option("--collector-bin", bin, "the stormscope-collector binary");
  CLI11_PARSE(app, argc, argv);
  auto interval = ss::parse_duration_ms(interval_s), duration = ss::parse_duration_ms(duration_s);
  if (!interval || !duration || *interval <= 0) {
    std::cerr << "bad --interval or --duration\n";
    return 2;
  }
  auto step = step_s.empty() ? interval : ss::parse_duration_ms(step_s);
  if (!step || *step <= 0) {
    std::cerr << "bad --step\n";
    return 2;
  }
  int64_t t0 = ss::now_ms();
  if (!close_after_s.empty()) {
    // A window [w, w + 2 h) closes once a series' newest point passes w + 2 h + 5 min (the collector's
    // default out-of-order window): at least 5 min after the data crossed into the next window.
    constexpr int64_t kOutOfOrderMs = 5 * 60'000;
    auto after = ss::parse_duration_ms(close_after_s);
    if (!after || *after <= kOutOfOrderMs + *step || *after > ss::collector::kRawChunkMs) {
      std::cerr << "--window-close-after must be more than 5 minutes and an interval (the out-of-order window), "
                   "at most 2h\n";
      return 2;
    }
    int64_t w = t0 - t0 % ss::collector::kRawChunkMs;
    t0 = w + ss::collector::kRawChunkMs + kOutOfOrderMs - *after;
  }

  char tmpl[] = "/tmp/ss_bench_scale_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  int port = free_port();
  pid_t pid = fork();
  if (pid == 0) {
    std::string listen = fmt::format("127.0.0.1:{}", port), db = dir + "/scale.db";
    std::string threads = std::to_string(senders + 8);
    execl(bin.c_str(), bin.c_str(), "--listen", listen.c_str(), "--db", db.c_str(), "--threads", threads.c_str(),
          "--log-level", "warn", nullptr);
    _exit(127);
  }
  httplib::Client probe("127.0.0.1", port);
  for (int i = 0; i < 200 && !probe.Get("/healthz"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!probe.Get("/healthz")) {
    std::cerr << "collector did not start: " << bin << "\n";
    kill(pid, SIGKILL);
    return 1;
  }

  std::atomic<int64_t> points{0}, batches{0}, rejected{0}, worst_lag_ms{0};
  std::mutex lat_mu;
  std::vector<double> latencies_ms;
  auto start = Clock::now();
  const int64_t rounds = std::max<int64_t>(1, *duration / *interval);
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      // The senders stand for remote agents: they yield the CPU to the collector, which is what is measured.
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
      httplib::Client cli("127.0.0.1", port);
      const auto labels = series_labels(series);
      httplib::Headers headers;
      if (!no_gzip) headers.emplace("Content-Encoding", "gzip");
      cli.set_tcp_nodelay(true);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      std::vector<double> lat;
      for (int64_t r = 0; r < rounds; ++r)
        for (int a = s; a < agents; a += senders) {
          // Agents are spread evenly over the interval, as real agents' clocks are.
          auto due = start + std::chrono::milliseconds(r * *interval + int64_t(a) * *interval / agents);
          auto now = Clock::now();
          if (now < due) std::this_thread::sleep_until(due);
          int64_t lag = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - due).count();
          int64_t prev = worst_lag_ms.load();
          while (lag > prev && !worst_lag_ms.compare_exchange_weak(prev, lag)) {
          }
          std::string body = batch_body(a, uint64_t(r + 1), labels, t0 + r * *step, !no_gzip);
          auto sent = Clock::now();
          auto res = cli.Post("/api/v1/ingest", headers, body, "application/json");
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
          if (res && res->status == 200) {
            points += series;
            batches++;
          } else {
            rejected++;
          }
        }
      std::lock_guard lock(lat_mu);
      latencies_ms.insert(latencies_ms.end(), lat.begin(), lat.end());
    });
  // A line a minute, so that a run that falls behind shows it while it runs.
  std::atomic<bool> done{false};
  std::thread progress([&] {
    for (int minute = 1; !done; ++minute) {
      auto due = start + std::chrono::minutes(minute);
      while (!done && Clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (done) break;
      fmt::print("scale: {} min: {} points stored ({:.0f}/s), {} rejected, worst lag {} ms, collector RSS {:.0f} MB, "
                 "collector CPU {:.0f} s\n",
                 minute, points.load(), double(points.load()) / (60.0 * minute), rejected.load(), worst_lag_ms.load(),
                 peak_rss(pid) / 1048576.0, cpu_seconds(pid));
      std::fflush(stdout);
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  progress.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t rss = peak_rss(pid);
  double collector_cpu = cpu_seconds(pid), own_cpu = cpu_seconds(getpid());
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double q) { return latencies_ms.empty() ? 0 : latencies_ms[size_t(q * (latencies_ms.size() - 1))]; };
  double offered = double(agents) * series * 1000.0 / *interval;
  fmt::print("scale: {} agents x {} series every {} for {} ({} rounds), {} sender threads, {}\n", agents, series,
             interval_s, duration_s, rounds, senders, no_gzip ? "uncompressed" : "gzip");
  fmt::print("scale: offered {:.0f} points/s, stored {:.0f} points/s ({} points in {} batches, {} rejected)\n",
             offered, points / secs, points.load(), batches.load(), rejected.load());
  fmt::print("scale: worst lag behind schedule {} ms ({} interval) -> {}\n", worst_lag_ms.load(), interval_s,
             worst_lag_ms.load() < *interval ? "no backlog" : "BACKLOG");
  fmt::print("scale: request latency p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n", pct(0.5), pct(0.99), pct(1.0));
  fmt::print("scale: collector peak RSS {:.0f} MB (target <= 2048 MB)\n", rss / 1048576.0);
  // CPU per request says what the rate would cost on other hardware; the senders' share is the load
  // generator's, which real agents pay on their own nodes.
  fmt::print("scale: collector CPU {:.1f} s ({:.2f} ms per request, {:.2f} cores), senders {:.1f} s ({:.2f} cores)\n",
             collector_cpu, 1000.0 * collector_cpu / std::max<int64_t>(1, batches + rejected), collector_cpu / secs,
             own_cpu, own_cpu / secs);
  return rejected == 0 && worst_lag_ms < *interval ? 0 : 1;
}
