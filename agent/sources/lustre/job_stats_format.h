// mdt.*.job_stats and obdfilter.*.job_stats, every variant from 2.10 to 2.16 and master:
//
//   job_stats:
//   - job_id:          "foo:bar"                       (quoted with \xHH escapes from 2.15.2)
//     snapshot_time:   1749555518.685497069 secs.nsecs (integer seconds ≤ 2.14)
//   snapshot_time   : 1896247.78 secs.nsecs            (2.15.0/2.15.1: un-indented, monotonic clock)
//     open:            { samples: 4, unit: usecs, min: 80, max:182, sum: 535, sumsq: 79601 }
//     write_bytes:     { samples: 6, unit: bytes, …, hist: { 32: 2, 4K: 1 } }   (2.16)
//
// The text is not valid YAML before 2.15.2 (`max:16777216`), so this is a line parser. It is incremental:
// feed() takes chunks of any size and hands each finished job to a sink, so a 100 MB file with tens of
// thousands of jobs is parsed in one job's worth of memory, and the sink can stop the parse (work cap).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ss::agent::lustre {

struct JobCounter {
  std::string op;
  uint64_t samples = 0;
  std::string unit;  // normalised like stats units
  bool has_sum = false;
  uint64_t min = 0, max = 0, sum = 0;
  bool has_sumsq = false;
  uint64_t sumsq = 0;
  std::vector<std::pair<uint64_t, uint64_t>> hist;  // 2.16 `hist:` map: (bucket lower bound in bytes, count)
};

struct Job {
  std::string id;  // unquoted and unescaped
  std::optional<double> snapshot_s, start_s, elapsed_s;
  std::vector<JobCounter> counters;

  const JobCounter* find(std::string_view op) const;
};

class JobStatsParser {
 public:
  // Receives each complete job; returns false to stop parsing (the rest of the input is ignored).
  using Sink = std::function<bool(Job&&)>;

  explicit JobStatsParser(Sink sink) : sink_(std::move(sink)) {}

  void feed(std::string_view chunk);
  void finish();  // flushes the last line and the last job

  bool stopped() const { return stopped_; }
  size_t jobs() const { return jobs_; }
  size_t skipped_lines() const { return skipped_; }

 private:
  void line(std::string_view line);
  void emit();

  Sink sink_;
  std::string partial_;
  std::optional<Job> job_;
  bool stopped_ = false;
  size_t jobs_ = 0;
  size_t skipped_ = 0;
};

// Whole-text convenience for tests and small files.
std::vector<Job> parse_job_stats(std::string_view text, size_t* skipped_lines = nullptr);

// Parses "{ samples: 1, unit: bytes, min: 4096, … }" into `out`; false when it is not a counter.
bool parse_job_counter_value(std::string_view value, JobCounter& out);

// A job id as printed: strips the quotes of 2.15.2+ and decodes \xHH, \\ and \".
std::string unquote_job_id(std::string_view raw);

}  // namespace ss::agent::lustre
