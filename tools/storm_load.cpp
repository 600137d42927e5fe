#include "tools/storm_load.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <time.h>

namespace ss::cli {

namespace {

constexpr StormOp kAllOps[] = {StormOp::Stat, StormOp::Open, StormOp::Readdir, StormOp::Create, StormOp::Getppid};

std::string dir_path(const StormOptions& o, int d) { return o.dir + "/storm/d" + std::to_string(d); }
std::string file_path(const StormOptions& o, int d, int f) { return dir_path(o, d) + "/f" + std::to_string(f); }

Error sys_error(std::string_view what, const std::string& path) {
  return errorf("storm: {} {}: {}", what, path, std::strerror(errno));
}

}  // namespace

std::string_view storm_op_name(StormOp op) {
  switch (op) {
    case StormOp::Stat: return "stat";
    case StormOp::Open: return "open";
    case StormOp::Readdir: return "readdir";
    case StormOp::Create: return "create";
    case StormOp::Getppid: return "getppid";
  }
  return "?";
}

Result<StormOp> parse_storm_op(std::string_view text) {
  for (StormOp op : kAllOps)
    if (text == storm_op_name(op)) return op;
  return errorf("unknown storm op '{}' (stat, open, readdir, create, getppid)", text);
}

Result<std::vector<StormOp>> parse_storm_ops(std::string_view list) {
  std::vector<StormOp> ops;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    auto op = parse_storm_op(list.substr(pos, end - pos));
    if (!op) return op.error();
    ops.push_back(*op);
    pos = end + 1;
  }
  return ops;
}

uint64_t StormResult::total() const {
  uint64_t n = 0;
  for (auto& [op, c] : ops) n += c;
  return n;
}
double StormResult::per_second(StormOp op) const {
  auto it = ops.find(op);
  return it == ops.end() || seconds <= 0 ? 0 : static_cast<double>(it->second) / seconds;
}
double StormResult::total_per_second() const { return seconds <= 0 ? 0 : static_cast<double>(total()) / seconds; }
double StormResult::total_per_cpu_second() const {
  return cpu_seconds <= 0 ? 0 : static_cast<double>(total()) / cpu_seconds;
}

namespace {
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

Result<void> prepare_storm_tree(const StormOptions& o) {
  if (o.threads < 1 || o.dirs < 1 || o.files < 1) return Error{"storm: threads, dirs and files must be positive"};
  std::string root = o.dir + "/storm";
  if (mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir", root);
  for (int d = 0; d < o.dirs; d++) {
    std::string dir = dir_path(o, d);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir", dir);
    for (int f = 0; f < o.files; f++) {
      std::string file = file_path(o, d, f);
      int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return sys_error("create", file);
      close(fd);
    }
  }
  return ok();
}

Result<StormResult> run_storm(const StormOptions& o) {
  if (o.ops.empty()) return Error{"storm: no ops"};
  if (o.threads < 1 || o.threads > 1024) return Error{"storm: threads must be between 1 and 1024"};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> failure;
  std::vector<std::map<StormOp, uint64_t>> counts(o.threads);
  std::vector<double> cpu(o.threads);

  auto worker = [&](int t) {
    // Paths are built up front so the loop measures system calls, not string formatting.
    std::vector<std::string> files, dirs;
    for (int d = 0; d < o.dirs; d++) {
      dirs.push_back(dir_path(o, d));
      for (int f = 0; f < o.files; f++) files.push_back(file_path(o, d, f));
    }
    std::string scratch = dir_path(o, t % o.dirs) + "/new_t" + std::to_string(t);
    std::vector<uint64_t> n(std::size(kAllOps));
    alignas(8) char buf[8192];
    struct stat st;
    size_t i = static_cast<size_t>(t) * 7919;
    double cpu_start = thread_cpu_seconds();
    auto fail = [&](Error e) {
      std::lock_guard lock(mu);
      if (!failure) failure = std::move(e);
      stop = true;
    };
    while (!stop.load(std::memory_order_relaxed)) {
      for (StormOp op : o.ops) {
        const std::string& file = files[i++ % files.size()];
        switch (op) {
          case StormOp::Stat:
            if (stat(file.c_str(), &st) != 0) return fail(sys_error("stat", file));
            break;
          case StormOp::Open: {
            int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) return fail(sys_error("open", file));
            close(fd);
            break;
          }
          case StormOp::Readdir: {
            const std::string& dir = dirs[i % dirs.size()];
            int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) return fail(sys_error("open", dir));
            while (syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 0) {
            }
            close(fd);
            break;
          }
          case StormOp::Create: {
            int fd = open(scratch.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) return fail(sys_error("create", scratch));
            close(fd);
            if (unlink(scratch.c_str()) != 0) return fail(sys_error("unlink", scratch));
            break;
          }
          case StormOp::Getppid:
            syscall(SYS_getppid);
            break;
        }
        n[static_cast<size_t>(op)]++;
      }
    }
    cpu[t] = thread_cpu_seconds() - cpu_start;
    for (size_t k = 0; k < n.size(); k++)
      if (n[k]) counts[t][kAllOps[k]] = n[k];
  };

  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; t++) threads.emplace_back(worker, t);
  {
    // Sleep in short steps so a failing thread ends the run early.
    auto deadline = start + std::chrono::milliseconds(o.duration_ms);
    while (!stop && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(20),
                                                                     deadline - std::chrono::steady_clock::now()));
    stop = true;
  }
  for (auto& th : threads) th.join();
  auto end = std::chrono::steady_clock::now();
  if (failure) return *failure;
  StormResult r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  for (double c : cpu) r.cpu_seconds += c;
  for (auto& per_thread : counts)
    for (auto& [op, c] : per_thread) r.ops[op] += c;
  return r;
}

}  // namespace ss::cli
