// Scale (DESIGN.md §8): many simulated agents × 300 series every 10 s against a real stormscope-collector
// process, each agent on its own keep-alive connection as stormscope-agent keeps it. Prints batches
// acknowledged, request latency (p50/p99/max), the collector's peak RSS and CPU, and the load average.
//   bench_scale [--agents 10000] [--series 300] [--interval 10s] [--duration 10m] [--stall 0]
//               [--restart-at DURATION] [--no-gzip] [--window-close-after DURATION] [--step DURATION]
//               [--collector-bin PATH]
// Batches are written and compressed as agents do (BatchWriter, gzip at the fastest level). A failed
// batch is retried on a new connection after a full-jitter backoff (500 ms doubling to 60 s, as the
// agent), until it is acknowledged. --stall N keeps N more connections stalling, a quarter each: silent,
// a partial request line, headers trickled one line a second, a body that never completes (each reopened
// when the collector closes it). --restart-at restarts the collector (SIGTERM, start again on the same
// database) that far into the run: the reconnection storm. Connections come from 127.0.0.2–127.0.0.9 so
// that source ports do not run out; the open-file limit is raised to its hard maximum.
// Figures are for the collector: the load generator runs at nice 19 in one thread.
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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
#include <random>
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

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Options {
  int agents = 10000, series = 300, stall = 0;
  bool gzip = true;
  int64_t interval_ms = 10'000, rounds = 60, step_ms = 10'000, t0 = 0;
  int port = 0;
};

struct Stats {
  int64_t offered = 0, acked = 0, failed_attempts = 0, connects = 0, points = 0;
  std::vector<double> latency_ms;    // request sent -> 200, acknowledged attempts
  std::vector<double> ack_delay_ms;  // batch due -> acknowledged (includes retries)
  std::vector<int64_t> connects_per_s;
  int64_t stall_reopened[4] = {0, 0, 0, 0};
};

tcp::endpoint source_address(int i) {
  return tcp::endpoint(net::ip::make_address_v4(fmt::format("127.0.0.{}", 2 + i % 8)), 0);
}

// One simulated agent: its own connection, one batch per interval, retried until acknowledged.
class Agent {
 public:
  Agent(net::io_context& ioc, const Options& o, Stats& st, const std::vector<ss::Labels>& labels, int id,
        Clock::time_point start)
      : o_(o), st_(st), labels_(labels), id_(id), start_(start), socket_(ioc), timer_(ioc),
        rng_(static_cast<uint64_t>(id) * 7919 + 1) {}

  void begin() { schedule(); }

 private:
  Clock::time_point due() const {
    return start_ + std::chrono::milliseconds(round_ * o_.interval_ms + int64_t(id_) * o_.interval_ms / o_.agents);
  }

  void schedule() {
    if (round_ >= o_.rounds) return;
    ++st_.offered;
    timer_.expires_at(due());
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) attempt();
    });
  }

  void attempt() {
    body_ = batch_body(id_, uint64_t(round_ + 1), labels_, o_.t0 + round_ * o_.step_ms, o_.gzip);
    if (socket_.is_open()) return send();
    beast::error_code ec;
    socket_.open(tcp::v4(), ec);
    if (!ec) socket_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) socket_.bind(source_address(id_), ec);
    if (ec) return fail();
    ++st_.connects;
    int64_t sec = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start_).count();
    if (sec >= 0) {
      if (st_.connects_per_s.size() <= size_t(sec)) st_.connects_per_s.resize(size_t(sec) + 1);
      ++st_.connects_per_s[size_t(sec)];
    }
    socket_.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), static_cast<unsigned short>(o_.port)),
                          [this](beast::error_code e) {
                            if (e) return fail();
                            socket_.set_option(tcp::no_delay(true), e);
                            send();
                          });
  }

  void send() {
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target("/api/v1/ingest");
    req_.version(11);
    req_.set(bhttp::field::host, "127.0.0.1");
    req_.set(bhttp::field::content_type, "application/json");
    if (o_.gzip) req_.set(bhttp::field::content_encoding, "gzip");
    req_.body() = body_;
    req_.keep_alive(true);
    req_.prepare_payload();
    sent_ = Clock::now();
    bhttp::async_write(socket_, req_, [this](beast::error_code ec, size_t) {
      if (ec) return fail();
      res_.emplace();
      res_->body_limit(1 << 20);
      bhttp::async_read(socket_, buf_, *res_, [this](beast::error_code e, size_t) {
        if (e) return fail();
        auto& r = res_->get();
        if (r.result_int() != 200) return fail();
        auto now = Clock::now();
        st_.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - sent_).count());
        st_.ack_delay_ms.push_back(std::chrono::duration<double, std::milli>(now - due()).count());
        ++st_.acked;
        st_.points += o_.series;
        backoff_ms_ = 0;
        if (!r.keep_alive()) close();
        ++round_;
        schedule();
      });
    });
  }

  void close() {
    beast::error_code ignored;
    socket_.close(ignored);
    buf_.clear();
  }

  // As the agent: full-jitter exponential backoff, on a new connection.
  void fail() {
    ++st_.failed_attempts;
    close();
    backoff_ms_ = backoff_ms_ == 0 ? 500 : std::min<int64_t>(60'000, backoff_ms_ * 2);
    int64_t wait = std::uniform_int_distribution<int64_t>(0, backoff_ms_)(rng_);
    timer_.expires_after(std::chrono::milliseconds(wait));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) attempt();
    });
  }

  const Options& o_;
  Stats& st_;
  const std::vector<ss::Labels>& labels_;
  int id_;
  Clock::time_point start_;
  tcp::socket socket_;
  net::steady_timer timer_;
  std::mt19937_64 rng_;
  beast::flat_buffer buf_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> res_;
  std::string body_;
  Clock::time_point sent_;
  int64_t round_ = 0;
  int64_t backoff_ms_ = 0;
};

// A client that stalls (kind 0 silent, 1 partial request line, 2 trickled headers, 3 unfinished body),
// reopened whenever the collector closes it.
class Staller {
 public:
  Staller(net::io_context& ioc, const Options& o, Stats& st, int id)
      : o_(o), st_(st), id_(id), kind_(id % 4), socket_(ioc), timer_(ioc) {}
  void begin() { open(); }
  void stop() {
    stopped_ = true;
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void open() {
    if (stopped_) return;
    beast::error_code ec;
    socket_.close(ec);
    socket_.open(tcp::v4(), ec);
    if (!ec) socket_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) socket_.bind(source_address(id_ + 3), ec);
    socket_.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), static_cast<unsigned short>(o_.port)),
                          [this](beast::error_code e) {
                            if (e) return reopen_later();
                            static const std::string kSend[4] = {
                                "", "GET /heal", "GET /healthz HTTP/1.1\r\n",
                                "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"node\":"};
                            if (!kSend[kind_].empty()) write(kSend[kind_]);
                            if (kind_ == 2) trickle();
                            watch();
                          });
  }
  void write(const std::string& s) {
    auto data = std::make_shared<std::string>(s);
    net::async_write(socket_, net::buffer(*data), [data](beast::error_code, size_t) {});
  }
  void trickle() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec || stopped_ || !socket_.is_open()) return;
      write("X-Slow: 1\r\n");
      trickle();
    });
  }
  // Reads (and drops) until the collector closes the connection.
  void watch() {
    socket_.async_read_some(net::buffer(scratch_), [this](beast::error_code ec, size_t) {
      if (!ec) return watch();
      if (stopped_) return;
      ++st_.stall_reopened[kind_];
      timer_.cancel();
      reopen_later();
    });
  }
  void reopen_later() {
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) open();
    });
  }

  const Options& o_;
  Stats& st_;
  int id_, kind_;
  tcp::socket socket_;
  net::steady_timer timer_;
  char scratch_[4096];
  bool stopped_ = false;
};

pid_t start_collector(const std::string& bin, int port, const std::string& db) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string listen = fmt::format("127.0.0.1:{}", port);
    execl(bin.c_str(), bin.c_str(), "--listen", listen.c_str(), "--db", db.c_str(), "--log-level", "warn", nullptr);
    _exit(127);
  }
  httplib::Client probe("127.0.0.1", port);
  for (int i = 0; i < 400; ++i) {
    if (probe.Get("/healthz")) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Collector at scale: simulated agents, one connection each, against a real collector process"};
  Options o;
  bool no_gzip = false;
  std::string close_after_s, restart_s;
  std::string interval_s = "10s", duration_s = "10m", step_s;
  std::string bin = (std::filesystem::path(argv[0]).parent_path().parent_path() / "collector/stormscope-collector").string();
  app.add_option("--agents", o.agents, "simulated agents, one connection each (default 10000)");
  app.add_option("--series", o.series, "series per agent (default 300)");
  app.add_option("--interval", interval_s, "each agent sends once per interval (default 10s)");
  app.add_option("--duration", duration_s, "how long (default 10m)");
  app.add_option("--stall", o.stall, "connections that stall beside the agents (default 0)");
  app.add_option("--restart-at", restart_s, "restart the collector this far into the run");
  app.add_flag("--no-gzip", no_gzip, "send bodies uncompressed (agents gzip them)");
  app.add_option("--window-close-after", close_after_s,
                 "start the timestamps so that the raw windows of all series close this long into the run");
  app.add_option("--step", step_s, "how far the timestamps advance per interval (default: the interval)");
  app.add_option("--collector-bin", bin, "the stormscope-collector binary");
  CLI11_PARSE(app, argc, argv);
  o.gzip = !no_gzip;
  auto interval = ss::parse_duration_ms(interval_s), duration = ss::parse_duration_ms(duration_s);
  if (!interval || !duration || *interval <= 0 || o.agents <= 0) {
    std::cerr << "bad --interval, --duration or --agents\n";
    return 2;
  }
  auto step = step_s.empty() ? interval : ss::parse_duration_ms(step_s);
  if (!step || *step <= 0) {
    std::cerr << "bad --step\n";
    return 2;
  }
  std::optional<int64_t> restart_at;
  if (!restart_s.empty()) {
    auto r = ss::parse_duration_ms(restart_s);
    if (!r || *r <= 0 || *r >= *duration) {
      std::cerr << "--restart-at must be within the run\n";
      return 2;
    }
    restart_at = *r;
  }
  o.interval_ms = *interval;
  o.step_ms = *step;
  o.rounds = std::max<int64_t>(1, *duration / *interval);
  o.t0 = ss::now_ms();
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
    int64_t w = o.t0 - o.t0 % ss::collector::kRawChunkMs;
    o.t0 = w + ss::collector::kRawChunkMs + kOutOfOrderMs - *after;
  }

  // One descriptor per agent and per stalling client, in this process and in the collector (inherited).
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < rlim_t(o.agents + o.stall + 1000)) {
    std::cerr << "the open-file limit (" << nofile.rlim_cur << ") is too low for " << o.agents + o.stall
              << " connections; raise it (ulimit -n)\n";
    return 2;
  }

  char tmpl[] = "/tmp/ss_bench_scale_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  std::string db = dir + "/scale.db";
  o.port = free_port();
  pid_t pid = start_collector(bin, o.port, db);
  if (pid < 0) {
    std::cerr << "collector did not start: " << bin << "\n";
    return 1;
  }
  std::string load_before = loadavg();

  Stats st;
  net::io_context ioc;
  const auto labels = series_labels(o.series);
  auto start = Clock::now();
  std::vector<std::unique_ptr<Agent>> agents;
  for (int a = 0; a < o.agents; ++a) agents.push_back(std::make_unique<Agent>(ioc, o, st, labels, a, start));
  std::vector<std::unique_ptr<Staller>> stallers;
  for (int i = 0; i < o.stall; ++i) stallers.push_back(std::make_unique<Staller>(ioc, o, st, i));
  for (auto& a : agents) a->begin();
  for (auto& s : stallers) s->begin();

  std::atomic<int64_t> peak_rss_total{0};
  std::atomic<bool> done{false};
  int64_t restart_ms = -1, back_ms = -1;
  // Progress once a minute; the restart, when asked for, from this thread (the agents' loop keeps running).
  std::thread side([&] {
    for (int minute = 1; !done; ++minute) {
      auto due = start + std::chrono::minutes(minute);
      while (!done && Clock::now() < due) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (restart_at && restart_ms < 0 && Clock::now() >= start + std::chrono::milliseconds(*restart_at)) {
          peak_rss_total = std::max<int64_t>(peak_rss_total, peak_rss(pid));
          restart_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
          kill(pid, SIGTERM);
          waitpid(pid, nullptr, 0);
          pid = start_collector(bin, o.port, db);
          back_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
          if (pid < 0) {
            std::cerr << "collector did not restart\n";
            std::exit(1);
          }
        }
      }
      if (done) break;
      fmt::print("scale: {} min: {} of {} batches acknowledged, {} failed attempts, collector RSS {:.0f} MB, "
                 "CPU {:.0f} s, load {}\n",
                 minute, st.acked, st.offered, st.failed_attempts, peak_rss(pid) / 1048576.0, cpu_seconds(pid),
                 loadavg());
      std::fflush(stdout);
    }
  });
  std::thread io([&] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
    // Stop the stalling clients once every agent's last batch is due and acknowledged (or a minute later).
    net::steady_timer end(ioc);
    std::function<void()> check = [&] {
      end.expires_after(std::chrono::milliseconds(200));
      end.async_wait([&](beast::error_code) {
        bool all = st.acked >= int64_t(o.agents) * o.rounds;
        bool late = Clock::now() > start + std::chrono::milliseconds(o.rounds * o.interval_ms + 60'000);
        if (all || late) {
          for (auto& s : stallers) s->stop();
          ioc.stop();
          return;
        }
        check();
      });
    };
    check();
    ioc.run();
  });
  io.join();
  done = true;
  side.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t rss = std::max<int64_t>(peak_rss_total, peak_rss(pid));
  double collector_cpu = cpu_seconds(pid), own_cpu = cpu_seconds(getpid());
  std::string metrics;
  if (auto m = httplib::Client("127.0.0.1", o.port).Get("/metrics")) metrics = m->body;
  std::string load_after = loadavg();
  agents.clear();
  stallers.clear();
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);

  auto pct = [](std::vector<double>& v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[size_t(q * double(v.size() - 1))];
  };
  int64_t expected = int64_t(o.agents) * o.rounds;
  double p99 = pct(st.latency_ms, 0.99);
  fmt::print("scale: {} agents (one connection each) x {} series every {} for {} ({} rounds), {}, {} stalling "
             "connections\n",
             o.agents, o.series, interval_s, duration_s, o.rounds, o.gzip ? "gzip" : "uncompressed", o.stall);
  fmt::print("scale: {} of {} batches acknowledged ({} points, {:.0f} points/s), {} failed attempts retried, {} "
             "connects\n",
             st.acked, expected, st.points, double(st.points) / secs, st.failed_attempts, st.connects);
  fmt::print("scale: request latency p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms (target p99 <= 1000 ms)\n",
             pct(st.latency_ms, 0.5), p99, pct(st.latency_ms, 1.0));
  fmt::print("scale: due -> acknowledged p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n", pct(st.ack_delay_ms, 0.5),
             pct(st.ack_delay_ms, 0.99), pct(st.ack_delay_ms, 1.0));
  fmt::print("scale: collector peak RSS {:.0f} MB (target <= 2048 MB)\n", rss / 1048576.0);
  fmt::print("scale: collector CPU {:.1f} s ({:.2f} ms per batch, {:.2f} cores); load generator {:.1f} s\n",
             collector_cpu, 1000.0 * collector_cpu / double(std::max<int64_t>(1, st.acked)), collector_cpu / secs,
             own_cpu);
  if (o.stall)
    fmt::print("scale: stalling clients closed by the collector: silent {}, partial line {}, trickled headers {}, "
               "unfinished body {}\n",
               st.stall_reopened[0], st.stall_reopened[1], st.stall_reopened[2], st.stall_reopened[3]);
  if (restart_at) {
    int64_t peak = 0, peak_at = 0, after = 0;
    for (size_t s = size_t(back_ms / 1000); s < st.connects_per_s.size(); ++s) {
      after += st.connects_per_s[s];
      if (st.connects_per_s[s] > peak) peak = st.connects_per_s[s], peak_at = int64_t(s);
    }
    fmt::print("scale: restart at {:.1f} s, serving again at {:.1f} s; {} connects after it, peak {} per second "
               "(at {} s)\n",
               restart_ms / 1000.0, back_ms / 1000.0, after, peak, peak_at);
  }
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("stormscope_collector_http_connections", 0) == 0) fmt::print("scale: {}\n", line);
  fmt::print("scale: load average before {}, after {} (2 cores)\n", load_before, load_after);
  return st.acked == expected && p99 <= 1000 && rss <= (int64_t(2) << 30) ? 0 : 1;
}
