// DESIGN.md §8: the eBPF VFS probes' cost, per attach mode, measured side by side in one run:
//  * a 2-thread stat() storm on a tmpfs (the calls the probes count) and a getppid() loop (a call they do not
//    count, which every process of a node makes in some form);
//  * without probes, with each mode's EMPTY programs (what the attach mechanism alone costs: the mode's floor,
//    which no program on those hooks can beat), and with the full vfs source (every feature on: counts,
//    latency histograms, file-system and job attribution, hot-directory samples drained by its thread);
//  * rates per CPU-second of the load's threads (steadier than wall clock on a shared machine), as ratios to
//    the same round's run without probes; medians of the rounds with their spread, and the load average.
// Then the added nanoseconds per call, and their weighted sum for a node whose system calls are
// --fs-share file-system calls: the measure the default mode is chosen by (docs/ebpf.md).
//
// Needs root. Runs in a private mount namespace: the tmpfs it storms in and tracefs (for the per-syscall
// mode and bpftrace) disappear with it.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "agent/sources/vfs/vfs_source.h"
#include "tools/storm_load.h"
#include "common/log.h"
#include "common/time.h"

using namespace ss;
using agent::vfs::AttachMode;

namespace {

// Approximately the stat family and the same work (count per cgroup and command + latency histogram).
const char* kBpftraceScript =
    "tracepoint:raw_syscalls:sys_enter /args->id == 4 || args->id == 5 || args->id == 6 || args->id == 262 || "
    "args->id == 332/ { @start[tid] = nsecs; }\n"
    "tracepoint:raw_syscalls:sys_exit /@start[tid]/ { @ops[cgroup, comm] = count(); "
    "@lat = hist(nsecs - @start[tid]); delete(@start[tid]); }\n";

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "0.853 [0.840-0.871]": median and the range over the rounds.
std::string spread(const std::vector<double>& v, int digits = 3) {
  if (v.empty()) return "-";
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.{}f} [{:.{}f}-{:.{}f}]", median(v), digits, *lo, digits, *hi, digits);
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double loadavg1() {
  std::ifstream in("/proc/loadavg");
  double v = 0;
  in >> v;
  return v;
}

struct Rate {
  double wall = 0, cpu = 0, ops = 0;  // per second, per CPU-second of the load's threads, calls made
};

// What runs during a measurement: nothing, empty programs, the full source, or bpftrace.
struct Config {
  std::string name;
  AttachMode mode = AttachMode::Auto;
  enum Kind { Empty, Full, Exact, Bpftrace } kind = Full;
};

struct Bench {
  cli::StormOptions storm;
  agent::AgentContext ctx;

  Rate run(cli::StormOp op, int threads) {
    cli::StormOptions o = storm;
    o.ops = {op};
    o.threads = threads;
    auto r = cli::run_storm(o);
    if (!r) {
      fmt::print(stderr, "{}\n", r.error().message);
      std::exit(1);
    }
    return {r->total_per_second(), r->total_per_cpu_second(), static_cast<double>(r->total())};
  }

  // Stat calls the source counted on the storm's tmpfs since `first`.
  double counted_stats(agent::Source& source) {
    agent::Collection c(now_ms());
    (void)source.collect(c);
    double n = 0;
    for (auto& s : c.samples())
      if (s.name == "vfs_ops_total" && label_value(*s.labels, "op") == "stat" && label_value(*s.labels, "mount") == storm.dir)
        n += s.value;
    return n;
  }

  // Runs `measure` with the configuration in place; false (and a message) when it cannot be put in place.
  bool with(const Config& c, const std::function<void(agent::Source*)>& measure) {
    if (c.kind == Config::Empty) {
      auto empty = agent::vfs::EmptyPrograms::attach(c.mode);
      if (!empty) {
        fmt::print(stderr, "  {}: {}\n", c.name, empty.error().message);
        return false;
      }
      measure(nullptr);
      return true;
    }
    if (c.kind == Config::Bpftrace) return with_bpftrace(measure);
    agent::VfsOptions vo;
    vo.probe.attach = c.mode;
    if (c.kind == Config::Exact) vo.probe.attributed_per_sec = 0;  // every path-based call read and attributed
    vo.probe.ignore_tgid = 0;  // the load's threads are this process
    auto source = agent::make_vfs_source(vo, ctx);
    agent::Collection first(now_ms());
    if (auto r = source->collect(first); !r) {
      fmt::print(stderr, "  {}: {}\n", c.name, r.error().message);
      return false;
    }
    measure(source.get());
    return true;
  }

  // bpftrace in the background, writing to a file; waits until it has attached.
  bool with_bpftrace(const std::function<void(agent::Source*)>& measure) {
    std::string out = storm.dir + "/bpftrace.out";
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execlp("bpftrace", "bpftrace", "-e", kBpftraceScript, (char*)nullptr);
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool attached = false;
    while (!attached && std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(out);
      std::stringstream ss;
      ss << in.rdbuf();
      attached = ss.str().find("Attaching") != std::string::npos;
      int status;
      if (attached || waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!attached) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      fmt::print(stderr, "  bpftrace did not attach (see {})\n", out);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    measure(nullptr);
    kill(pid, SIGINT);
    waitpid(pid, nullptr, 0);
    return true;
  }
};

// Per configuration, per round: ratios to the round's no-probe rate (per CPU-second and wall clock), the
// added nanoseconds per call (per CPU-second), and the storm's counted / made.
struct Figures {
  std::vector<double> storm_cpu, storm_wall, storm_ns, ppid_cpu, ppid_wall, ppid_ns, ppid_vs_floor, storm_vs_floor,
      counted;
};

// Run statistics of the programs loaded since `before` (by id), summed by name.
std::map<std::string, agent::vfs::ProgramStats> programs_since(const std::set<uint32_t>& before) {
  std::map<std::string, agent::vfs::ProgramStats> out;
  for (const auto& p : agent::vfs::loaded_program_stats())
    if (!before.count(p.id)) {
      auto& o = out[p.name];
      o.name = p.name;
      o.runs += p.runs;
      o.run_ns += p.run_ns;
    }
  return out;
}

// "btf_sys_enter 1.2M runs 31 ns, ..." for the programs that ran between two snapshots, dearest first.
std::string program_costs(const std::map<std::string, agent::vfs::ProgramStats>& a,
                          const std::map<std::string, agent::vfs::ProgramStats>& b) {
  std::vector<agent::vfs::ProgramStats> ran;
  for (const auto& [name, p] : b) {
    auto it = a.find(name);
    uint64_t runs = p.runs - (it == a.end() ? 0 : it->second.runs);
    uint64_t ns = p.run_ns - (it == a.end() ? 0 : it->second.run_ns);
    if (runs) ran.push_back({0, name, runs, ns});
  }
  std::sort(ran.begin(), ran.end(), [](auto& x, auto& y) { return x.run_ns > y.run_ns; });
  std::string out;
  for (size_t i = 0; i < ran.size() && i < 4; i++)
    out += fmt::format("{}{} {:.2f}M runs {:.0f} ns", i ? ", " : "", ran[i].name, ran[i].runs / 1e6,
                       static_cast<double>(ran[i].run_ns) / static_cast<double>(ran[i].runs));
  return out.empty() ? "no runs" : out;
}

// kernel.bpf_stats_enabled, set for the run and restored afterwards (it slows every program run down).
struct BpfStatsSwitch {
  std::string before;
  explicit BpfStatsSwitch(bool on) {
    if (!on) return;
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    in >> before;
    std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << "1\n";
  }
  ~BpfStatsSwitch() {
    if (!before.empty()) std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << before << "\n";
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cost of the eBPF VFS probes per attach mode: stat() storm and an unrelated system call, beside "
               "each mode's empty programs (DESIGN.md §8: >= 0.85 of the no-probe storm rate)"};
  int rounds = 5;
  std::string duration = "3s";
  bool bpftrace = false, exact = false, bpf_stats = false;
  double fs_share = 0.05;
  std::vector<std::string> modes{"fentry", "tp_btf", "syscalls"};
  app.add_option("--rounds", rounds, "Rounds (each measures every configuration once)")->capture_default_str();
  app.add_option("--duration", duration, "Length of each run (storm and getppid loop)")->capture_default_str();
  app.add_option("--modes", modes, "Attach modes to measure (fentry, tp_btf, raw_tp, syscalls)")->capture_default_str();
  app.add_flag("--exact", exact, "Also measure each mode with exact_path_calls_per_cpu 0 (every path read)");
  app.add_flag("--bpftrace", bpftrace, "Also measure an equivalent bpftrace script on the storm");
  app.add_flag("--bpf-stats", bpf_stats,
               "Print each program's runs and ns per run (sets kernel.bpf_stats_enabled for the run and restores "
               "it; the statistics themselves slow every run, so the ratios of such a run read low)");
  app.add_option("--fs-share", fs_share,
                 "Share of a node's system calls that are file-system calls, for the weighted cost per call")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  log::set_level(log::Level::Warn);

  if (geteuid() != 0) {
    fmt::print(stderr, "vfs_overhead: needs root (BPF and mounts)\n");
    return 77;
  }
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    fmt::print(stderr, "vfs_overhead: private mount namespace: {}\n", std::strerror(errno));
    return 1;
  }
  mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr);  // private: for syscalls mode and bpftrace

  Bench b;
  std::string dir = (std::filesystem::temp_directory_path() / "ss-vfs-bench-XXXXXX").string();
  if (!mkdtemp(dir.data()) || mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64m") != 0) {
    fmt::print(stderr, "vfs_overhead: tmpfs at {}: {}\n", dir, std::strerror(errno));
    return 1;
  }
  b.storm.dir = dir;
  b.storm.dirs = 4;
  b.storm.files = 64;
  auto ms = parse_duration_ms(duration);
  if (!ms || *ms <= 0) {
    fmt::print(stderr, "--duration: not a duration: {}\n", duration);
    return 2;
  }
  b.storm.duration_ms = *ms;
  if (auto r = cli::prepare_storm_tree(b.storm); !r) {
    fmt::print(stderr, "{}\n", r.error().message);
    return 1;
  }

  BpfStatsSwitch stats_switch(bpf_stats);
  std::vector<Config> configs;
  for (auto& m : modes) {
    auto p = agent::vfs::parse_attach_mode(m);
    if (!p || *p == AttachMode::Auto) {
      fmt::print(stderr, "--modes: {}\n", p ? "name a concrete mode" : p.error().message);
      return 2;
    }
    std::string name(attach_mode_name(*p));
    configs.push_back({name + "/empty", *p, Config::Empty});
    configs.push_back({name, *p, Config::Full});
    if (exact) configs.push_back({name + "/exact", *p, Config::Exact});
  }
  if (bpftrace) configs.push_back({"bpftrace", AttachMode::Auto, Config::Bpftrace});

  fmt::print("vfs_overhead: {} rounds of {} per run, {} CPUs; load average at start {}\n", rounds, duration,
             std::thread::hardware_concurrency(), loadavg());
  if (loadavg1() > 0.5)
    fmt::print("WARNING: the machine is not idle (1-minute load average {:.2f} > 0.5): the figures below are "
               "distorted by other work; ratios are taken side by side per round, but re-run on an idle machine\n",
               loadavg1());
  std::map<std::string, Figures> fig;
  std::vector<double> none_storm, none_ppid;
  std::vector<std::string> unavailable;
  for (int round = 1; round <= rounds; round++) {
    Rate base_storm = b.run(cli::StormOp::Stat, 2), base_ppid = b.run(cli::StormOp::Getppid, 1);
    none_storm.push_back(base_storm.cpu);
    none_ppid.push_back(base_ppid.cpu);
    std::string line = fmt::format("round {} (load {}): none stat {:.0f}/CPU-s getppid {:.0f}/CPU-s", round,
                                   loadavg(), base_storm.cpu, base_ppid.cpu);
    std::map<std::string, Rate> storm_of, ppid_of;
    std::string cost_lines;
    for (const Config& c : configs) {
      if (std::find(unavailable.begin(), unavailable.end(), c.name) != unavailable.end()) continue;
      std::set<uint32_t> before_ids;
      if (bpf_stats)
        for (const auto& p : agent::vfs::loaded_program_stats()) before_ids.insert(p.id);
      std::string costs;
      bool ran = b.with(c, [&](agent::Source* source) {
        double before = source ? b.counted_stats(*source) : 0;
        auto s0 = bpf_stats ? programs_since(before_ids) : decltype(programs_since(before_ids)){};
        storm_of[c.name] = b.run(cli::StormOp::Stat, 2);
        auto s1 = bpf_stats ? programs_since(before_ids) : s0;
        if (source) fig[c.name].counted.push_back((b.counted_stats(*source) - before) / storm_of[c.name].ops);
        if (c.kind != Config::Bpftrace) ppid_of[c.name] = b.run(cli::StormOp::Getppid, 1);
        if (bpf_stats)
          costs = fmt::format("    {}: stat storm: {}; getppid: {}\n", c.name, program_costs(s0, s1),
                              program_costs(s1, programs_since(before_ids)));
      });
      cost_lines += costs;
      if (!ran) {
        unavailable.push_back(c.name);
        continue;
      }
      Figures& f = fig[c.name];
      Rate s = storm_of[c.name];
      f.storm_cpu.push_back(s.cpu / base_storm.cpu);
      f.storm_wall.push_back(s.wall / base_storm.wall);
      f.storm_ns.push_back(1e9 / s.cpu - 1e9 / base_storm.cpu);
      line += fmt::format(", {} {:.3f}", c.name, s.cpu / base_storm.cpu);
      if (ppid_of.count(c.name)) {
        Rate p = ppid_of[c.name];
        f.ppid_cpu.push_back(p.cpu / base_ppid.cpu);
        f.ppid_wall.push_back(p.wall / base_ppid.wall);
        f.ppid_ns.push_back(1e9 / p.cpu - 1e9 / base_ppid.cpu);
        line += fmt::format("/{:.3f}", p.cpu / base_ppid.cpu);
      }
      std::string floor = std::string(attach_mode_name(c.mode)) + "/empty";
      if (c.kind != Config::Empty && storm_of.count(floor) && ppid_of.count(floor)) {
        f.storm_vs_floor.push_back(s.cpu / storm_of[floor].cpu);
        f.ppid_vs_floor.push_back(ppid_of[c.name].cpu / ppid_of[floor].cpu);
      }
    }
    fmt::print("{}  (ratios stat/getppid per CPU-s)\n{}", line, cost_lines);
    std::fflush(stdout);
  }

  fmt::print("\nMedians of {} rounds [min-max], rates per CPU-second of the load's threads, ratio to no probes in the "
             "same round.\nno probes: stat storm (2 threads) {:.0f}/CPU-s ({:.0f} ns a call), getppid {:.0f}/CPU-s "
             "({:.0f} ns a call)\n",
             rounds, median(none_storm), 1e9 / median(none_storm), median(none_ppid), 1e9 / median(none_ppid));
  fmt::print("{:<16} {:<22} {:<22} {:>9} {:>9}  {:<22} {:<22} {}\n", "configuration", "stat storm", "getppid",
             "+ns stat", "+ns ppid", "stat / floor", "getppid / floor", "counted / made stat");
  for (const Config& c : configs) {
    if (!fig.count(c.name)) continue;
    const Figures& f = fig[c.name];
    fmt::print("{:<16} {:<22} {:<22} {:>9.0f} {:>9.0f}  {:<22} {:<22} {}\n", c.name, spread(f.storm_cpu),
               spread(f.ppid_cpu), median(f.storm_ns), median(f.ppid_ns), spread(f.storm_vs_floor),
               spread(f.ppid_vs_floor), f.counted.empty() ? "-" : spread(f.counted, 4));
  }
  for (const std::string& n : unavailable) fmt::print("{:<16} not measured: it does not load here\n", n);

  fmt::print("\nTargets (full programs, every feature on): stat storm >= 0.85 of no probes; getppid >= 0.95 of the "
             "mode's floor; counted within 5% of made.\n");
  for (const Config& c : configs) {
    if (c.kind != Config::Full || !fig.count(c.name)) continue;
    const Figures& f = fig[c.name];
    double storm = median(f.storm_cpu), ppid = median(f.ppid_vs_floor), counted = median(f.counted);
    fmt::print("  {:<10} stat {:.3f} {}; getppid/floor {:.3f} {}; counted {:.4f} {}\n", c.name, storm,
               storm >= 0.85 ? "met" : "NOT met", ppid, f.ppid_vs_floor.empty() ? "(no floor)" : ppid >= 0.95 ? "met" : "NOT met",
               counted, std::abs(counted - 1) <= 0.05 ? "met" : "NOT met");
  }

  // The default mode: the one adding the fewest nanoseconds to an average system call of the node.
  fmt::print("\nWeighted cost for a node whose system calls are {:.1f}% file-system calls (--fs-share {}):\n",
             fs_share * 100, fs_share);
  for (const Config& c : configs) {
    if (c.kind != Config::Full || !fig.count(c.name)) continue;
    const Figures& f = fig[c.name];
    double fs = median(f.storm_ns), other = median(f.ppid_ns);
    fmt::print("  {:<10} {:.1f} ns added per system call ({:.0f} ns x {:.3f} + {:.0f} ns x {:.3f})\n", c.name,
               fs_share * fs + (1 - fs_share) * other, fs, fs_share, other, 1 - fs_share);
  }
  for (size_t i = 0; i < configs.size(); i++)
    for (size_t j = i + 1; j < configs.size(); j++) {
      const Config &a = configs[i], &c = configs[j];
      if (a.kind != Config::Full || c.kind != Config::Full || !fig.count(a.name) || !fig.count(c.name)) continue;
      double fa = median(fig[a.name].storm_ns), oa = median(fig[a.name].ppid_ns);
      double fc = median(fig[c.name].storm_ns), oc = median(fig[c.name].ppid_ns);
      double denom = (fa - oa) - (fc - oc);
      if (denom != 0) {
        double share = (oc - oa) / denom;
        if (share > 0 && share < 1)
          fmt::print("  {} and {} cost the same at {:.1f}% file-system calls\n", a.name, c.name, share * 100);
      }
    }
  fmt::print("\nload average at end {}{}\n", loadavg(),
             loadavg1() > 0.5 ? "  (machine busy: re-run on an idle machine for the figures of record)" : "");

  umount2(dir.c_str(), MNT_DETACH);
  rmdir(dir.c_str());
  return 0;
}
