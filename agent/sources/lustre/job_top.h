// Bounds job_stats cardinality: per target, the top-K jobs by ops in the last read keep their own series
// (their cumulative counters as Lustre prints them); every other job's increase goes into job="other".
//
// "other" is an accumulator of increases, so it never goes down when jobs move in and out of the top K or
// are dropped by Lustre's job_cleanup_interval; a job's own series shows a real reset when Lustre clears it.
// Ranking follows lljobstat (sum of `samples` over ops) but on increases, not lifetime totals.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/sources/lustre/job_stats_format.h"

namespace ss::agent::lustre {

class JobTopK {
 public:
  explicit JobTopK(size_t top_k, int64_t forget_after_ms = 30 * 60 * 1000)
      : top_k_(top_k), forget_after_ms_(forget_after_ms) {}

  struct Row {
    std::string job;  // the job id, or "other"
    std::string op;
    double value = 0;  // cumulative samples
  };

  // One read of the target's job_stats: add() every job, then finish().
  void add(const Job& job, int64_t now_ms);
  std::vector<Row> finish(int64_t now_ms);

  size_t tracked_jobs() const { return jobs_.size(); }

 private:
  struct JobState {
    std::vector<uint64_t> samples;   // cumulative, by op index
    std::vector<uint64_t> increase;  // since the previous read, by op index (totals on the first read)
    uint64_t total_increase = 0;
    int64_t last_seen_ms = 0;
    bool seen = false;  // in the current read
  };
  size_t op_index(const std::string& op);

  size_t top_k_;
  int64_t forget_after_ms_;
  std::vector<std::string> ops_;
  std::unordered_map<std::string, JobState> jobs_;
  std::vector<double> other_;  // by op index
};

}  // namespace ss::agent::lustre
