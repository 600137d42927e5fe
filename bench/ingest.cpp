// Collector ingest, HTTP end to end (DESIGN.md §8: ≥ 1,000,000 points/s, durable before 200), measured
// side by side with a plain SQLite insert loop of the same rows into the same table layout.
//   bench_ingest [--clients 4] [--series 1000] [--points 10] [--batches 25] [--gzip]
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "collector/collector.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"

using namespace ss;

namespace {

constexpr int64_t kT0 = 1763700000000;
constexpr int64_t kInterval = 10000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One agent's batch: `series` OSC-like counters, `points` consecutive 10 s samples each.
Batch make_batch(int client, uint64_t seq, int series, int points) {
  Batch b;
  b.node = fmt::format("bench{:03}", client);
  b.stream = "bench";
  b.seq = seq;
  b.series.reserve(series);
  int64_t t_base = kT0 + int64_t(seq - 1) * points * kInterval;
  for (int s = 0; s < series; ++s) {
    Series x;
    x.name = s % 2 ? "lustre_client_rpc_wait_seconds_total" : "lustre_client_rpcs_total";
    x.type = SeriesType::Counter;
    x.labels = {{"fs", "ai0"}, {"target", fmt::format("ai0-OST{:04x}", s / 2)}};
    for (int p = 0; p < points; ++p)
      x.points.push_back({t_base + p * kInterval, double(seq * 1000 + p) + s * 0.25});
    b.series.push_back(std::move(x));
  }
  return b;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Plan {
  int clients = 4, series = 1000, points = 10, batches = 25;
  bool gzip = false;
  int64_t total_points() const { return int64_t(clients) * batches * series * points; }
};

// Bodies are encoded before the clock starts so the clients' JSON work does not count against the server.
std::vector<std::vector<std::string>> encode_all(const Plan& plan) {
  std::vector<std::vector<std::string>> bodies(plan.clients);
  for (int c = 0; c < plan.clients; ++c)
    for (int i = 1; i <= plan.batches; ++i) {
      std::string body = encode_batch(make_batch(c, i, plan.series, plan.points));
      bodies[c].push_back(plan.gzip ? gzip(body) : std::move(body));
    }
  return bodies;
}

struct HttpResult {
  double seconds = 0;
  int64_t acked_points = 0;
  int64_t stored_points = 0;
  size_t body_bytes = 0;
  int failures = 0;
};

HttpResult run_http(const Plan& plan, const std::string& dir) {
  auto bodies = encode_all(plan);
  HttpResult out;
  for (const auto& c : bodies)
    for (const auto& b : c) out.body_bytes += b.size();
  auto root = *config::load_string("");
  root["listen"] = "127.0.0.1:0";
  root["db"] = dir + "/http.db";
  root["http"]["threads"] = plan.clients + 4;
  root["log_level"] = "warn";
  auto cfg = collector::read_collector_config(root);
  if (!cfg) throw std::runtime_error(cfg.error().message);
  auto started = collector::Collector::start(*cfg);
  if (!started) throw std::runtime_error(started.error().message);
  auto& collector = *started;
  int port = collector->port();

  std::atomic<int64_t> acked{0};
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < plan.clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_tcp_nodelay(true);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      httplib::Headers headers;
      if (plan.gzip) headers.emplace("Content-Encoding", "gzip");
      for (const auto& body : bodies[c]) {
        auto r = cli.Post("/api/v1/ingest", headers, body, "application/json");
        if (!r || r->status != 200) {
          failures++;
          std::cerr << "ingest failed: " << (r ? r->body : httplib::to_string(r.error())) << "\n";
          continue;
        }
        acked += nlohmann::json::parse(r->body).value("accepted", int64_t(0));
      }
    });
  for (auto& t : threads) t.join();
  out.seconds = seconds_since(start);
  out.acked_points = acked;
  out.failures = failures;
  out.stored_points = collector->store().stats().points;
  collector->stop();
  return out;
}

// The same rows, in the same order, into the same layout: one prepared INSERT, one transaction per batch.
double run_plain_sqlite(const Plan& plan, const std::string& dir, int64_t& rows) {
  sqlite3* db = nullptr;
  std::string path = dir + "/plain.db";
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
  auto exec = [&](const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db));
  };
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA temp_store=MEMORY");
  exec("PRAGMA cache_size=-131072");
  exec("CREATE TABLE points(series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, "
       "PRIMARY KEY(series_id, ts)) WITHOUT ROWID, STRICT");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO points VALUES(?1, ?2, ?3)", -1, &ins, nullptr);
  // Batches arrive interleaved from the clients; replay them round-robin the same way.
  std::vector<std::vector<Batch>> batches(plan.clients);
  for (int c = 0; c < plan.clients; ++c)
    for (int i = 1; i <= plan.batches; ++i) batches[c].push_back(make_batch(c, i, plan.series, plan.points));
  rows = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < plan.batches; ++i)
    for (int c = 0; c < plan.clients; ++c) {
      exec("BEGIN");
      int64_t sid = int64_t(c) * plan.series;
      for (const auto& s : batches[c][i].series) {
        ++sid;
        for (const auto& p : s.points) {
          sqlite3_bind_int64(ins, 1, sid);
          sqlite3_bind_int64(ins, 2, p.t_ms);
          sqlite3_bind_double(ins, 3, p.value);
          sqlite3_step(ins);
          sqlite3_reset(ins);
          ++rows;
        }
      }
      exec("COMMIT");
    }
  double secs = seconds_since(start);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Collector ingest over HTTP (durable before 200) versus a plain SQLite insert loop"};
  Plan plan;
  app.add_option("--clients", plan.clients, "concurrent HTTP clients (agents), default 4");
  app.add_option("--series", plan.series, "series per batch, default 1000");
  app.add_option("--points", plan.points, "points per series per batch, default 10");
  app.add_option("--batches", plan.batches, "batches per client, default 25");
  app.add_flag("--gzip", plan.gzip, "send gzip bodies");
  CLI11_PARSE(app, argc, argv);
  log::set_level(log::Level::Warn);

  char tmpl[] = "/tmp/ss_bench_ingest_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  int rc = 0;
  try {
    std::cout << fmt::format("plan: {} clients × {} batches × {} series × {} points = {} points{}\n", plan.clients,
                             plan.batches, plan.series, plan.points, plan.total_points(),
                             plan.gzip ? " (gzip)" : "");
    HttpResult http = run_http(plan, dir);
    int64_t rows = 0;
    double plain_s = run_plain_sqlite(plan, dir, rows);
    double http_rate = double(http.acked_points) / http.seconds;
    double plain_rate = double(rows) / plain_s;
    std::cout << fmt::format("http ingest:  {:>12.0f} points/s  ({} points acknowledged durable in {:.2f} s, "
                             "{:.1f} MB of bodies, {} failures; store holds {})\n",
                             http_rate, http.acked_points, http.seconds, http.body_bytes / 1e6, http.failures,
                             http.stored_points);
    std::cout << fmt::format("plain sqlite: {:>12.0f} points/s  ({} rows in {:.2f} s, one transaction per batch)\n",
                             plain_rate, rows, plain_s);
    std::cout << fmt::format("ratio http/plain: {:.2f}   (target: ≥ 1,000,000 points/s end to end)\n",
                             http_rate / plain_rate);
    if (http.failures || http.acked_points != plan.total_points() || http.stored_points != plan.total_points()) {
      std::cout << "ERROR: not every point was acknowledged and stored\n";
      rc = 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_ingest: " << e.what() << "\n";
    rc = 1;
  }
  std::filesystem::remove_all(dir);
  return rc;
}
