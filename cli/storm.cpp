#include "cli/storm.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/duration_flag.h"
#include "common/time.h"
#include "cli/command.h"

namespace ss::cli {

void add_storm_flags(CLI::App& app, StormCommand& cmd) {
  CLI::App* sub = &app;
  sub->add_option("--dir", cmd.options.dir, "Directory to storm in (a tree is made in <dir>/storm; <dir> is made when missing); default: a new temporary directory");
  sub->add_option("--threads,-t", cmd.options.threads, "Threads")->capture_default_str()->check(CLI::Range(1, 1024));
  sub->add_option("--duration,-d", cmd.duration, "How long (10s, 500ms, 1m)")->capture_default_str();
  sub->add_option("--ops", cmd.ops, "Comma-separated ops each thread cycles through: stat, open, readdir, create "
                                    "(create+close+unlink), getppid (an unrelated system call)")
      ->capture_default_str();
  sub->add_option("--dirs", cmd.options.dirs, "Sub-directories in the tree")->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--files", cmd.options.files, "Files per sub-directory")->capture_default_str()->check(CLI::Range(1, 1000000));
  sub->add_flag("--keep", cmd.keep, "Keep the tree afterwards");
}

int run_storm_command(StormCommand& cmd) {
  auto duration = parse_duration_with_unit_ms(cmd.duration);
  if (!duration || *duration <= 0) {
    fmt::print(stderr, "storm: --duration: {}\n", duration ? "must be positive" : duration.error().message);
    return 2;
  }
  auto ops = parse_storm_ops(cmd.ops);
  if (!ops) {
    fmt::print(stderr, "{}\n", ops.error().message);
    return 2;
  }
  StormOptions o = cmd.options;
  o.duration_ms = *duration;
  o.ops = *ops;
  bool temporary = o.dir.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "stormscope-storm-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      fmt::print(stderr, "storm: cannot make a temporary directory: {}\n", std::strerror(errno));
      return 1;
    }
    o.dir = tmpl;
  }
  // A missing --dir is made (and removed again afterwards, unless --keep), as for the temporary one.
  bool made = false;
  if (!temporary) {
    std::error_code ec;
    made = std::filesystem::create_directories(o.dir, ec);
    if (ec) {
      fmt::print(stderr, "storm: cannot make the directory {}: {}\n", o.dir, ec.message());
      return 1;
    }
  }
  auto cleanup = [&] {
    if (cmd.keep) return;
    std::error_code ec;
    std::filesystem::remove_all(temporary || made ? std::filesystem::path(o.dir) : std::filesystem::path(o.dir) / "storm", ec);
  };
  if (auto r = prepare_storm_tree(o); !r) {
    fmt::print(stderr, "{}\n", r.error().message);
    cleanup();
    return 1;
  }
  auto result = run_storm(o);
  cleanup();
  if (!result) {
    fmt::print(stderr, "{}\n", result.error().message);
    return 1;
  }
  fmt::print("storm: {} threads, {:.2f} s in {}\n", o.threads, result->seconds, o.dir);
  fmt::print("{:<8} {:>12} {:>12}\n", "op", "ops", "ops/s");
  for (auto& [op, n] : result->ops) fmt::print("{:<8} {:>12} {:>12.0f}\n", storm_op_name(op), n, result->per_second(op));
  fmt::print("{:<8} {:>12} {:>12.0f}\n", "total", result->total(), result->total_per_second());
  fmt::print("cpu: {:.2f} s in the storm threads, {:.0f} ops per CPU-second\n", result->cpu_seconds,
             result->total_per_cpu_second());
  return 0;
}

Command storm_command() {
  return {"storm", "Generate a metadata storm (stat/open/getdents/create+unlink) and print ops/s",
          [](CLI::App& sub) -> CommandRun {
            auto cmd = std::make_shared<StormCommand>();
            add_storm_flags(sub, *cmd);
            return [cmd](const Globals&) { return run_storm_command(*cmd); };
          }};
}

}  // namespace ss::cli
