// stormscope replay: sends a JSON-lines file of ingest batches to a collector, in order, with retries.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/client.h"
#include "cli/command.h"
#include "common/codec.h"
#include "common/time.h"

namespace ss::cli {
namespace {

struct ReplayArgs {
  std::string file;
  int retries = 10;
  bool keep_going = false;
  bool quiet = false;
};

struct Totals {
  size_t sent = 0, duplicates = 0, skipped = 0, points = 0;
};

int run(const ReplayArgs& a, const Globals& g) {
  auto client = collector_client(g.collector, g.token);
  if (!client) {
    std::cerr << "stormscope replay: " << client.error().message << "\n";
    return 2;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  size_t total_lines = 0;
  if (a.file != "-") {
    file.open(a.file);
    if (!file) {
      std::cerr << "stormscope replay: cannot read " << a.file << "\n";
      return 2;
    }
    for (std::string line; std::getline(file, line);) total_lines += !line.empty();
    file.clear();
    file.seekg(0);
    in = &file;
  }
  bool progress = !a.quiet && isatty(STDERR_FILENO);
  Totals t;
  int64_t last_progress = 0;
  auto show = [&](bool final) {
    if (!progress) return;
    std::string of = total_lines ? fmt::format("/{}", total_lines) : "";
    std::cerr << fmt::format("\rreplay: {}{} batches, {} points stored, {} duplicates, {} skipped{}", t.sent, of,
                             t.points, t.duplicates, t.skipped, final ? "\n" : "")
              << std::flush;
  };
  size_t line_no = 0;
  for (std::string line; std::getline(*in, line);) {
    ++line_no;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // Validate locally first: a bad line is reported with its number, not as a collector's 400.
    auto batch = decode_batch(line);
    if (!batch) {
      std::cerr << (progress ? "\n" : "") << fmt::format("{}:{}: {}\n", a.file, line_no, batch.error().message);
      if (!a.keep_going) return 1;
      ++t.skipped;
      continue;
    }
    int delay_ms = 200;
    for (int attempt = 0;; ++attempt) {
      auto r = (*client)->Post("/api/v1/ingest", line, "application/json");
      if (r && r->status == 200) {
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        ++t.sent;
        if (j.is_object() && j.value("duplicate", false)) ++t.duplicates;
        if (j.is_object()) t.points += j.value("accepted", size_t(0));
        break;
      }
      bool retryable = !r || r->status >= 500 || r->status == 429;
      if (!retryable || attempt >= a.retries) {
        std::cerr << (progress ? "\n" : "")
                  << fmt::format("{}:{}: {}{}\n", a.file, line_no, describe_failure(r, g.collector, "/api/v1/ingest"),
                                 retryable ? fmt::format(" (gave up after {} retries)", a.retries) : "");
        if (!a.keep_going || retryable) return 1;
        ++t.skipped;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms = std::min(delay_ms * 2, 5000);
    }
    if (int64_t now = monotonic_ms(); now - last_progress >= 200) {
      last_progress = now;
      show(false);
    }
  }
  show(true);
  std::cout << fmt::format("replayed {} batches to {}: {} points stored, {} duplicates, {} skipped\n", t.sent,
                           g.collector, t.points, t.duplicates, t.skipped);
  return t.skipped ? 1 : 0;
}

}  // namespace

Command replay_command() {
  return {"replay", "Send a JSON-lines file of ingest batches to a collector", [](CLI::App& sub) -> CommandRun {
            auto a = std::make_shared<ReplayArgs>();
            sub.add_option("file", a->file, "JSON-lines file, one ingest batch (docs/ingest.md) per line; - for stdin")
                ->required();
            sub.add_option("--retries", a->retries, "retries per batch on 5xx or no answer, with backoff (default 10)");
            sub.add_flag("--keep-going", a->keep_going, "skip invalid or rejected batches instead of stopping");
            sub.add_flag("--quiet", a->quiet, "no progress line");
            return [a](const Globals& g) { return run(*a, g); };
          }};
}

}  // namespace ss::cli
