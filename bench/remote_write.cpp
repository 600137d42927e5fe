// Remote write beside ingest (docs/remote.md, docs/scale.md): the collector's HTTP ingest rate (durable
// before 200) with and without remote write to a receiver, measured in alternating rounds of one run, and
// the remote-write throughput: samples the receiver decoded per second, from the first batch to the last
// sample. The receiver runs in this process on loopback and decodes every request (snappy + protobuf),
// so it competes for the same cores as a real receiver on the same machine would.
//   bench_remote_write [--rounds 3] [--clients 4] [--series 1000] [--points 10] [--batches 25]
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "collector/collector.h"
#include "collector/remote/wire.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"

using namespace ss;

namespace {

constexpr int64_t kT0 = 1763700000000;

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Plan {
  int clients = 4, series = 1000, points = 10, batches = 25;
  int64_t total() const { return int64_t(clients) * series * points * batches; }
};

Batch make_batch(int client, uint64_t seq, const Plan& p) {
  Batch b;
  b.node = fmt::format("bench{:03}", client);
  b.stream = "bench";
  b.seq = seq;
  int64_t base = kT0 + int64_t(seq - 1) * p.points * 10'000;
  for (int s = 0; s < p.series; ++s) {
    Series x;
    x.name = s % 2 ? "lustre_client_rpc_wait_seconds_total" : "lustre_client_rpcs_total";
    x.type = SeriesType::Counter;
    x.labels = {{"fs", "ai0"}, {"target", fmt::format("ai0-OST{:04x}", s / 2)}};
    for (int i = 0; i < p.points; ++i) x.points.push_back({base + i * 10'000, double(seq * 1000 + i) + s * 0.25});
    b.series.push_back(std::move(x));
  }
  return b;
}

struct Receiver {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::atomic<int64_t> samples{0};
  std::atomic<int64_t> last_ns{0};
  Receiver() {
    server.Post("/api/v1/write", [this](const httplib::Request& req, httplib::Response& res) {
      prometheus::WriteRequest w;
      if (!collector::remote::parse_snappy_message(req.body, w).ok()) {
        res.status = 400;
        return;
      }
      int64_t n = 0;
      for (const auto& ts : w.timeseries()) n += ts.samples_size();
      samples += n;
      last_ns = Clock::now().time_since_epoch().count();
      res.status = 204;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
};

struct Round {
  double ingest_rate = 0;  // points/s acknowledged
  double rw_rate = 0;      // samples/s decoded by the receiver, first batch to last sample
  double rw_during = 0;    // share of the points the receiver had when ingest finished
};

Round run(const Plan& plan, const std::vector<std::vector<std::string>>& bodies, const std::string& dir,
          Receiver* rx) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string yaml = rx ? fmt::format("remote_write: [{{url: 'http://127.0.0.1:{}/api/v1/write', "
                                      "queue_config: {{max_samples_per_send: 10000, batch_send_deadline: 100ms}}}}]",
                                      rx->port)
                        : "";
  auto root = *config::load_string(yaml);
  root["listen"] = "127.0.0.1:0";
  root["db"] = dir + "/db.sqlite";
  root["http"]["threads"] = plan.clients + 4;
  root["log_level"] = "warn";
  auto cfg = collector::read_collector_config(root);
  if (!cfg) throw std::runtime_error(cfg.error().message);
  auto c = collector::Collector::start(*cfg);
  if (!c) throw std::runtime_error(c.error().message);
  int64_t before = rx ? rx->samples.load() : 0;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < plan.clients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", (*c)->port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(120, 0);
      for (const auto& body : bodies[i]) {
        auto r = cli.Post("/api/v1/ingest", body, "application/json");
        if (!r || r->status != 200) failures++;
      }
    });
  for (auto& t : threads) t.join();
  Round out;
  double ingest_s = since(start);
  out.ingest_rate = double(plan.total()) / ingest_s;
  if (failures) throw std::runtime_error(fmt::format("{} ingest requests failed", failures.load()));
  if (rx) {
    out.rw_during = double(rx->samples - before) / double(plan.total());
    while (rx->samples - before < plan.total()) {
      if (since(start) > 600) throw std::runtime_error("remote write did not deliver everything in 10 minutes");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double rw_s = std::chrono::duration<double>(Clock::time_point(Clock::duration(rx->last_ns.load())) - start).count();
    out.rw_rate = double(plan.total()) / rw_s;
  }
  (*c)->stop();
  return out;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string spread(std::vector<double> v) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.0f}..{:.0f}", *lo, *hi);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Collector ingest with and without remote write, alternating rounds, and remote-write throughput"};
  Plan plan;
  int rounds = 3;
  app.add_option("--rounds", rounds, "rounds of each mode (default 3)");
  app.add_option("--clients", plan.clients, "concurrent HTTP clients (default 4)");
  app.add_option("--series", plan.series, "series per batch (default 1000)");
  app.add_option("--points", plan.points, "points per series per batch (default 10)");
  app.add_option("--batches", plan.batches, "batches per client (default 25)");
  CLI11_PARSE(app, argc, argv);
  log::set_level(log::Level::Warn);
  char tmpl[] = "/tmp/ss_bench_rw_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  std::vector<std::vector<std::string>> bodies(plan.clients);
  for (int c = 0; c < plan.clients; ++c)
    for (int i = 1; i <= plan.batches; ++i) bodies[c].push_back(encode_batch(make_batch(c, uint64_t(i), plan)));
  Receiver rx;
  std::vector<double> plain, with, rw, during;
  std::cout << fmt::format("plan: {} clients x {} batches x {} series x {} points = {} points per round; load {}\n",
                           plan.clients, plan.batches, plan.series, plan.points, plan.total(), loadavg());
  for (int r = 0; r < rounds; ++r) {
    auto a = run(plan, bodies, dir + "/a", nullptr);
    auto b = run(plan, bodies, dir + "/b", &rx);
    plain.push_back(a.ingest_rate);
    with.push_back(b.ingest_rate);
    rw.push_back(b.rw_rate);
    during.push_back(b.rw_during * 100);
    std::cout << fmt::format("round {}: ingest alone {:.0f} points/s; with remote write {:.0f} points/s, remote "
                             "write {:.0f} samples/s ({:.0f} % delivered when ingest ended); load {}\n",
                             r + 1, a.ingest_rate, b.ingest_rate, b.rw_rate, b.rw_during * 100, loadavg());
  }
  double ratio = median(with) / median(plain);
  std::cout << fmt::format("ingest alone:              median {:.0f} points/s (spread {})\n", median(plain), spread(plain));
  std::cout << fmt::format("ingest with remote write:  median {:.0f} points/s (spread {})\n", median(with), spread(with));
  std::cout << fmt::format("remote-write throughput:   median {:.0f} samples/s (spread {}), {:.0f} % delivered when "
                           "ingest ended\n", median(rw), spread(rw), median(during));
  std::cout << fmt::format("ratio with/alone: {:.2f} (target >= 0.80); load {}\n", ratio, loadavg());
  std::filesystem::remove_all(dir);
  return 0;
}
