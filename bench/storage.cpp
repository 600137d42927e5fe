// Storage benchmark (DESIGN.md §8): ingest points/s over HTTP end to end (durable before 200) beside a
// plain SQLite insert loop in the same run, bytes per point on disk for generated counters, noisy gauges
// and histograms, one-series query latency over 24 h (raw) and 30 days (rollups), idle and during ingest.
//
//   bench_storage [--seconds 5] [--clients 2] [--dir /tmp/x] [--keep]
//
// The HTTP handler here is the ingest path's core (decode_batch, then Store::append, then 200); the
// collector's own handler adds authentication and gzip in front of the same two calls.
#include <httplib.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "collector/store/chunk_store.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/time.h"

using namespace ss;
using namespace ss::collector;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr int64_t kDay = 86'400'000;

// Realistic series: counters with bursty integer increments, gauges with noise, histogram buckets.
struct Generator {
  std::mt19937_64 rng;
  std::vector<double> state;
  explicit Generator(size_t n, uint64_t seed) : rng(seed), state(n, 0) {}
  static const char* kind(size_t i) { return i % 10 < 4 ? "counter" : i % 10 < 7 ? "gauge" : "histogram"; }
  double next(size_t i) {
    double& s = state[i];
    switch (i % 10) {
      case 0: case 1: case 2: case 3:  // counters: ops, bytes, rpcs
        s += static_cast<double>(rng() % (i % 4 == 0 ? 50000 : 200));
        return s;
      case 4: case 5: case 6:  // gauges with noise: utilization, latency, queue depth
        return std::round((50 + 20 * std::sin(static_cast<double>(s++) / 360.0) +
                           std::normal_distribution<double>(0, 3)(rng)) * 1000) / 1000;
      default:  // histogram component series: cumulative bucket counts that grow slowly
        s += static_cast<double>(rng() % 4 == 0 ? rng() % 5 : 0);
        return s;
    }
  }
};

std::string series_json(std::string& out, size_t i, const std::vector<Point>& pts) {
  const char* k = Generator::kind(i);
  bool counter = k[0] != 'g';
  fmt::format_to(std::back_inserter(out), R"({{"name":"bench_{}_{}","type":"{}","labels":{{"fs":"ai0","i":"{}"{}}},"points":[)",
                 k, i % 37, counter ? "counter" : "gauge", i, k[0] == 'h' ? R"(,"le":"0.5")" : "");
  for (size_t p = 0; p < pts.size(); ++p)
    fmt::format_to(std::back_inserter(out), "{}[{},{}]", p ? "," : "", pts[p].t_ms, pts[p].value);
  out += "]}";
  return out;
}

// Bodies of `series` series x `per_series` points, consecutive seqs, for one client node.
std::vector<std::string> make_bodies(const std::string& node, size_t count, size_t series, size_t per_series,
                                     int64_t t0, uint64_t seed) {
  Generator g(series, seed);
  std::vector<std::string> bodies;
  int64_t t = t0;
  for (size_t b = 0; b < count; ++b) {
    std::string out = fmt::format(R"({{"node":"{}","seq":{},"series":[)", node, b + 1);
    std::vector<std::vector<Point>> pts(series);
    for (size_t k = 0; k < per_series; ++k, t += 10000)
      for (size_t i = 0; i < series; ++i) pts[i].push_back({t + static_cast<int64_t>(g.rng() % 20), g.next(i)});
    for (size_t i = 0; i < series; ++i) {
      if (i) out += ',';
      series_json(out, i, pts[i]);
    }
    out += "]}";
    bodies.push_back(std::move(out));
  }
  return bodies;
}

// The plain SQLite baseline: row per point, PK(series_id, ts), scrape (time) order, 10k rows per commit.
double sqlite_insert_loop(const std::string& path, double max_seconds, size_t series) {
  sqlite3* db;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE points(series_id INTEGER, ts INTEGER, value REAL, PRIMARY KEY(series_id, ts))"
                   " WITHOUT ROWID, STRICT;", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins;
  sqlite3_prepare_v2(db, "INSERT INTO points VALUES(?1, ?2, ?3)", -1, &ins, nullptr);
  Generator g(series, 1);
  auto start = Clock::now();
  size_t rows = 0;
  int64_t t = 1763683200000;
  while (seconds_since(start) < max_seconds) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int k = 0; k < 10000; ++k, ++rows) {
      size_t i = rows % series;
      if (i == 0) t += 10000;
      sqlite3_bind_int64(ins, 1, static_cast<int64_t>(i));
      sqlite3_bind_int64(ins, 2, t);
      sqlite3_bind_double(ins, 3, g.next(i));
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double rate = static_cast<double>(rows) / seconds_since(start);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

struct HttpResult {
  double points_per_s = 0;
  size_t requests = 0, failures = 0;
};

HttpResult http_ingest(Store& store, int clients, double seconds, size_t series, size_t per_series, int64_t t0,
                       const std::string& node_prefix) {
  httplib::Server svr;
  svr.set_tcp_nodelay(true);
  svr.new_task_queue = [] { return new httplib::ThreadPool(8); };
  svr.set_payload_max_length(64 << 20);
  svr.Post("/api/v1/ingest", [&](const httplib::Request& req, httplib::Response& res) {
    auto batch = decode_batch(req.body);
    if (!batch.ok()) {
      res.status = 400;
      res.set_content(fmt::format(R"({{"error":"{}"}})", batch.error().message), "application/json");
      return;
    }
    auto out = store.append(*batch);
    if (!out.ok()) {
      res.status = 503;
      return;
    }
    res.set_content(fmt::format(R"({{"accepted":{},"duplicate":{}}})", out->accepted, out->duplicate),
                    "application/json");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  std::thread server([&] { svr.listen_after_bind(); });
  // Enough bodies for ~1.5M points/s per run; generated before the clock starts.
  size_t per_body = series * per_series;
  size_t count = static_cast<size_t>(1'500'000.0 * seconds / clients / static_cast<double>(per_body)) + 2;
  std::vector<std::vector<std::string>> bodies(clients);
  for (int c = 0; c < clients; ++c)
    bodies[c] = make_bodies(fmt::format("{}{}", node_prefix, c), count, series, per_series, t0, 100 + c);
  std::atomic<size_t> points{0}, requests{0}, failures{0};
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      // The clients stand for agents on other machines: on this 2-core box they yield the CPU to the
      // collector's own threads (its HTTP handlers, writer and, below, queries) rather than compete with them.
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
      httplib::Client cli("127.0.0.1", port);
      cli.set_tcp_nodelay(true);
      cli.set_keep_alive(true);
      cli.set_read_timeout(30, 0);
      for (const auto& body : bodies[c]) {
        if (stop) break;
        auto r = cli.Post("/api/v1/ingest", body, "application/json");
        ++requests;
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        points += per_body;
      }
    });
  while (seconds_since(start) < seconds && requests < count * clients) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = seconds_since(start);
  svr.stop();
  server.join();
  return {static_cast<double>(points) / elapsed, requests, failures};
}

struct QueryTimes {
  double day_raw_ms = 0, month_hour_ms = 0, month_10m_ms = 0;
  size_t day_points = 0, month_buckets = 0;
};

QueryTimes time_queries(Store& store, const std::vector<int64_t>& ids, int64_t now, int rounds) {
  QueryTimes q;
  auto start = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    auto b = store.read_buckets(ids[r % ids.size()], now - kDay, now, 10'000);
    if (b.ok()) q.day_points = b->size();
  }
  q.day_raw_ms = seconds_since(start) * 1000 / rounds;
  start = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    auto b = store.read_buckets(ids[r % ids.size()], now - 30 * kDay, now, 3'600'000);
    if (b.ok()) q.month_buckets = b->size();
  }
  q.month_hour_ms = seconds_since(start) * 1000 / rounds;
  start = Clock::now();
  for (int r = 0; r < rounds; ++r) (void)store.read_buckets(ids[r % ids.size()], now - 30 * kDay, now, 600'000);
  q.month_10m_ms = seconds_since(start) * 1000 / rounds;
  return q;
}

int64_t sqlite_int(const std::string& path, const char* sql) {
  sqlite3* db;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Stormscope storage benchmark"};
  double seconds = 5;
  int clients = 2;
  std::string dir;
  bool keep = false;
  size_t footprint_series = 300;
  int footprint_days = 5;
  app.add_option("--seconds", seconds, "length of each ingest run");
  app.add_option("--clients", clients, "concurrent HTTP clients (keep-alive)");
  app.add_option("--dir", dir, "where the databases go (default: a new directory under /tmp)");
  app.add_option("--footprint-series", footprint_series, "series in the bytes-per-point data set");
  app.add_option("--footprint-days", footprint_days, "days of data per series in the bytes-per-point data set");
  app.add_flag("--keep", keep, "keep the databases");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty()) {
    char tmpl[] = "/tmp/ss_bench_storage_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ss::log::set_level(ss::log::Level::Warn);
  int64_t now = floor(static_cast<double>(now_ms()) / 3'600'000) * 3'600'000;
  fmt::print("storage benchmark in {} (2-core machine shared with other work: compare ratios)\n\n", dir);

  // 1. The baseline, in the same run.
  double plain = sqlite_insert_loop(dir + "/plain.db", seconds, 1000);
  fmt::print("plain SQLite insert loop (row per point, PK(series,ts), time order, 10k rows/commit, sync FULL): "
             "{:>10.0f} points/s\n", plain);

  // 2. Decode alone, one thread.
  {
    auto bodies = make_bodies("decode", 20, 1000, 10, now, 9);
    size_t pts = 0, bytes = 0;
    auto start = Clock::now();
    for (int rep = 0; rep < 5; ++rep)
      for (const auto& b : bodies) {
        auto r = decode_batch(b);
        pts += r.ok() ? r->point_count() : 0;
        bytes += b.size();
      }
    double s = seconds_since(start);
    fmt::print("JSON decode alone, 1 thread:                                         {:>10.0f} points/s ({:.0f} MB/s)\n",
               static_cast<double>(pts) / s, static_cast<double>(bytes) / s / 1e6);
  }

  // 3. Footprint and query data: 2 days of mixed series, and 30 days for a few long series.
  StoreOptions o;
  o.path = dir + "/chunks.db";
  // A checkpoint after every batch (10 minutes of data), as a live collector checkpoints every minute: the
  // files then hold what a live collector's hold (head pages rewritten, raw chunks cut as they grow).
  o.checkpoint_interval_ms = 0;
  auto opened = open_chunk_store(o);
  if (!opened.ok()) {
    fmt::print(stderr, "cannot open store: {}\n", opened.error().message);
    return 1;
  }
  auto& store = **opened;
  size_t footprint_points = 0;
  {
    Generator g(footprint_series, 5);
    uint64_t seq = 0;
    auto start = Clock::now();
    for (int64_t t = now - footprint_days * kDay; t < now; t += 60 * 10000) {
      Batch b;
      b.node = "footprint";
      b.seq = ++seq;
      for (size_t i = 0; i < footprint_series; ++i) {
        const char* k = Generator::kind(i);
        Series s{fmt::format("fp_{}", k), k[0] == 'g' ? SeriesType::Gauge : SeriesType::Counter,
                 {{"i", std::to_string(i)}}, {}};
        for (int64_t p = 0; p < 60; ++p) s.points.push_back({t + p * 10000 + static_cast<int64_t>(g.rng() % 20), g.next(i)});
        footprint_points += s.points.size();
        b.series.push_back(std::move(s));
      }
      (void)store.append(b);
    }
    Generator lg(8, 6);
    for (int64_t t = now - 30 * kDay; t < now; t += 360 * 10000) {
      Batch b;
      b.node = "long";
      b.seq = ++seq;
      for (size_t i = 0; i < 8; ++i) {
        Series s{"long_series", SeriesType::Gauge, {{"i", std::to_string(i)}}, {}};
        for (int64_t p = 0; p < 360; ++p) s.points.push_back({t + p * 10000, lg.next(4 + i % 3)});
        b.series.push_back(std::move(s));
      }
      (void)store.append(b);
    }
    fmt::print("store append, no HTTP, 1 thread (footprint set):                      {:>10.0f} points/s\n",
               static_cast<double>(footprint_points + 8 * 30 * 8640) / seconds_since(start));
  }
  store.close();  // the final checkpoint, then wal_checkpoint(TRUNCATE): the -wal file is empty
  {
    // Final and open chunks alike, by kind of series.
    const char* all = "(SELECT series_id, res, count, data FROM chunks UNION ALL "
                      "SELECT series_id, res, count, data FROM heads)";
    auto q = [&](const std::string& what, const std::string& where) {
      return sqlite_int(o.path, fmt::format("SELECT {} FROM {} c JOIN series s ON s.id = c.series_id WHERE {}",
                                            what, all, where).c_str());
    };
    auto raw = q("sum(length(data))", "res = 0 AND s.name LIKE 'fp_%'");
    auto roll = q("sum(length(data))", "res > 0 AND s.name LIKE 'fp_%'");
    auto per_point = [&](const std::string& name, const char* res) {
      auto bytes = q("sum(length(data))", fmt::format("{} AND s.name = '{}'", res, name));
      auto pts = q("sum(count)", fmt::format("res = 0 AND s.name = '{}'", name));
      return static_cast<double>(bytes) / static_cast<double>(pts);
    };
    auto page = sqlite_int(o.path, "PRAGMA page_size");
    auto pages = sqlite_int(o.path, "PRAGMA page_count") - sqlite_int(o.path, "PRAGMA freelist_count");
    std::error_code ec;
    auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(o.path, ec));
    auto wal = std::filesystem::file_size(o.path + "-wal", ec);
    if (!ec) file_bytes += static_cast<int64_t>(wal);
    int64_t all_points = static_cast<int64_t>(footprint_points) + 8 * 30 * 8640;
    fmt::print("\nbytes per point, {} series x {} days at 10 s with +-20 ms jitter ({} points; 40% counters, 30% noisy "
               "gauges, 30% histogram buckets), plus 8 series x 30 days:\n", footprint_series, footprint_days,
               footprint_points);
    fmt::print("  raw chunk data:            {:.2f}   (counters {:.2f}, noisy gauges {:.2f}, histogram buckets {:.2f})\n",
               static_cast<double>(raw) / static_cast<double>(footprint_points), per_point("fp_counter", "res = 0"),
               per_point("fp_gauge", "res = 0"), per_point("fp_histogram", "res = 0"));
    fmt::print("  1m + 1h rollup data:       {:.2f}   (counters {:.2f}, noisy gauges {:.2f}, histogram buckets {:.2f}) "
               "more per raw point\n", static_cast<double>(roll) / static_cast<double>(footprint_points),
               per_point("fp_counter", "res > 0"), per_point("fp_gauge", "res > 0"),
               per_point("fp_histogram", "res > 0"));
    fmt::print("  whole database file:       {:.2f}   ({:.1f} MB, db + wal after checkpoint, for {} points; pages in "
               "use {:.2f})\n", static_cast<double>(file_bytes) / static_cast<double>(all_points),
               static_cast<double>(file_bytes) / 1e6, all_points,
               static_cast<double>(page * pages) / static_cast<double>(all_points));
  }

  opened = open_chunk_store(o);
  if (!opened.ok()) return 1;
  auto& s2 = **opened;
  std::vector<int64_t> ids;
  auto long_series = s2.select("long_series", {});
  if (!long_series.ok() || long_series->empty()) {
    fmt::print(stderr, "the 30-day series are missing\n");
    return 1;
  }
  for (const auto& si : *long_series) ids.push_back(si.id);
  auto idle = time_queries(s2, ids, now, 200);
  fmt::print("\nquery one series, idle: 24 h at 10 s steps {:.3f} ms ({} buckets); 30 d at 1 h through rollups "
             "{:.3f} ms ({} buckets); 30 d at 10 min {:.3f} ms\n",
             idle.day_raw_ms, idle.day_points, idle.month_hour_ms, idle.month_buckets, idle.month_10m_ms);

  // 4. HTTP ingest alone, then again with a query loop running.
  auto http = http_ingest(s2, clients, seconds, 1000, 20, now + kDay, "http-a-");
  fmt::print("\nHTTP ingest end to end (decode + durable append before 200), {} clients x 1000 series x 20 points "
             "per request: {:>10.0f} points/s ({} requests, {} failed)\n", clients, http.points_per_s, http.requests,
             http.failures);
  fmt::print("  ratio to the plain SQLite insert loop: {:.1f}x\n", http.points_per_s / plain);
  std::atomic<bool> stop{false};
  QueryTimes busy;
  std::thread q([&] {
    int n = 0;
    QueryTimes sum;
    while (!stop) {
      auto t = time_queries(s2, ids, now, 20);
      sum.day_raw_ms += t.day_raw_ms;
      sum.month_hour_ms += t.month_hour_ms;
      sum.month_10m_ms += t.month_10m_ms;
      ++n;
    }
    if (n) busy = {sum.day_raw_ms / n, sum.month_hour_ms / n, sum.month_10m_ms / n, 0, 0};
  });
  auto http2 = http_ingest(s2, clients, seconds, 1000, 20, now + 2 * kDay, "http-b-");
  stop = true;
  q.join();
  fmt::print("HTTP ingest with a query loop running: {:>10.0f} points/s\n", http2.points_per_s);
  fmt::print("query one series during ingest: 24 h {:.3f} ms ({:.1f}x idle); 30 d rollups {:.3f} ms ({:.1f}x idle); "
             "30 d at 10 min {:.3f} ms ({:.1f}x)\n",
             busy.day_raw_ms, busy.day_raw_ms / idle.day_raw_ms, busy.month_hour_ms,
             busy.month_hour_ms / idle.month_hour_ms, busy.month_10m_ms, busy.month_10m_ms / idle.month_10m_ms);
  s2.close();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
