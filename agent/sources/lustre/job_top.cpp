#include "agent/sources/lustre/job_top.h"

#include <algorithm>

namespace ss::agent::lustre {

size_t JobTopK::op_index(const std::string& op) {
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i] == op) return i;
  ops_.push_back(op);
  other_.push_back(0);
  return ops_.size() - 1;
}

void JobTopK::add(const Job& job, int64_t now_ms) {
  if (job.id.empty()) return;
  auto [it, inserted] = jobs_.try_emplace(job.id);
  JobState& s = it->second;
  bool repeat = s.seen;  // the same id twice in one read (two job_stats files of one target): sum
  if (!repeat) {
    std::fill(s.increase.begin(), s.increase.end(), 0);
    s.total_increase = 0;
  }
  std::vector<uint64_t> cur(s.samples.size(), 0);
  std::vector<bool> present(s.samples.size(), false);
  for (const auto& c : job.counters) {
    // One rule for job_stats and exports: a read_bytes/write_bytes line's samples are the reads/writes that
    // moved the bytes. They count as op "read"/"write" where the job has no read/write line of its own (Lustre
    // 2.10's OST job_stats, exports' stats); where it has one (2.12+ job_stats), they are the same operations
    // again and do not count, or I/O-heavy jobs would rank twice as busy.
    std::string op = c.op;
    if (op == "read_bytes" || op == "write_bytes") {
      op.resize(op.size() - 6);
      if (job.find(op)) continue;
    }
    size_t i = op_index(op);
    if (s.samples.size() < ops_.size()) {
      s.samples.resize(ops_.size(), 0);
      s.increase.resize(ops_.size(), 0);
    }
    if (cur.size() < ops_.size()) {
      cur.resize(ops_.size(), 0);
      present.resize(ops_.size(), false);
    }
    cur[i] += c.samples;
    present[i] = true;
  }
  for (size_t i = 0; i < cur.size(); ++i) {
    if (!present[i]) continue;
    uint64_t inc;
    if (repeat) {
      inc = cur[i];
      s.samples[i] += cur[i];
    } else {
      // A job first seen after the first read did all its ops since it appeared; a smaller value than
      // last time is a reset (the job was cleared or dropped and re-created).
      inc = inserted || cur[i] < s.samples[i] ? cur[i] : cur[i] - s.samples[i];
      s.samples[i] = cur[i];
    }
    s.increase[i] += inc;
    s.total_increase += inc;
  }
  s.seen = true;
  s.last_seen_ms = now_ms;
}

std::vector<JobTopK::Row> JobTopK::finish(int64_t now_ms) {
  // Candidates: jobs with new ops, and the current top jobs even when idle, so that quiet intervals do
  // not make series flap; on equal increases the current top jobs keep their places.
  struct Candidate {
    uint64_t increase;
    bool was_top;
    const std::string* id;
  };
  std::vector<Candidate> ranked;
  for (auto& [id, s] : jobs_)
    if (s.seen && (s.total_increase > 0 || s.top)) ranked.push_back(Candidate{s.total_increase, s.top, &id});
  size_t k = std::min(top_k_, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k), ranked.end(),
                    [](const Candidate& a, const Candidate& b) {
                      if (a.increase != b.increase) return a.increase > b.increase;
                      if (a.was_top != b.was_top) return a.was_top;
                      return *a.id < *b.id;
                    });
  for (auto& [id, s] : jobs_) s.top = false;
  std::vector<Row> rows;
  std::vector<const std::string*> top;
  for (size_t i = 0; i < k; ++i) top.push_back(ranked[i].id);
  std::sort(top.begin(), top.end());
  for (size_t i = 0; i < k; ++i) {
    JobState& s = jobs_.at(*ranked[i].id);
    s.top = true;
    for (size_t op = 0; op < s.samples.size(); ++op)
      if (s.samples[op] > 0) rows.push_back(Row{*ranked[i].id, ops_[op], static_cast<double>(s.samples[op])});
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    JobState& s = it->second;
    if (s.seen && !std::binary_search(top.begin(), top.end(), &it->first))
      for (size_t op = 0; op < s.increase.size(); ++op) other_[op] += static_cast<double>(s.increase[op]);
    if (!s.seen && now_ms - s.last_seen_ms > forget_after_ms_) {
      it = jobs_.erase(it);
      continue;
    }
    s.seen = false;
    ++it;
  }
  for (size_t op = 0; op < other_.size(); ++op)
    if (other_[op] > 0) rows.push_back(Row{"other", ops_[op], other_[op]});
  return rows;
}

}  // namespace ss::agent::lustre
