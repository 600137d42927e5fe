// The Lustre source: client statistics (osc, mdc, llite), server statistics (mdt, obdfilter, services,
// osd), lock counts and, opt-in, job_stats, turned into the Lustre metrics of DESIGN.md §3.
// Configuration: the `sources.lustre` section (docs/sources/lustre.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/source.h"
#include "agent/sources/lustre/job_top.h"
#include "agent/sources/lustre/reader.h"
#include "agent/sources/lustre/target_labels.h"
#include "common/config.h"

namespace ss::agent {

enum class Switch { Auto, On, Off };

struct LustreConfig {
  Switch enabled = Switch::Auto;  // auto: on when a Lustre tree exists under root
  lustre::ReaderOptions reader;
  bool client = true;
  Switch server = Switch::Auto;  // auto: when mdt/obdfilter/ost/mds directories exist
  // Slow parameters are re-read once per interval, a slice of the targets in each agent cycle.
  int64_t capacity_interval_ms = 60'000;  // kbytes*/files*
  int64_t state_interval_ms = 60'000;     // import, rpc_stats, lock counts; 0: every cycle
  int64_t discovery_interval_ms = 60'000;  // directories listed again for new devices; 0: every cycle
  int64_t agent_interval_ms = 10'000;     // the agent's cycle (AgentContext), not a key of this section
  // Per-client statistics on servers ({mdt,obdfilter}.*.exports.*.stats): which client nodes load a target,
  // also where job ids are not set. Opt-in: a server has one export per client per target.
  struct Exports {
    bool mdt = false, obdfilter = false;
    size_t top_k = 20;            // clients with their own series per target; the rest are client="other"
    int64_t interval_ms = 60'000;  // each target's exports are read once per interval, a slice per cycle
  } exports;
  struct JobStats {
    bool enabled = false;
    size_t top_k = 20;         // jobs with their own series per target; the rest are job="other"
    size_t max_jobs = 20'000;  // jobs parsed per target per read (the work cap)
    int64_t interval_ms = 0;   // 0: every cycle
  } job_stats;
};

// Reads `sources.lustre`; unknown keys and bad values are errors naming the key.
Result<LustreConfig> parse_lustre_config(const config::Section& section);

class LustreSource : public Source {
 public:
  explicit LustreSource(LustreConfig config);

  std::string_view name() const override { return "lustre"; }
  Result<void> collect(Collection& out) override;

  const LustreConfig& config() const { return config_; }
  bool lustre_present() const { return reader_.lustre_present(); }

 private:
  struct Mean {
    double count = 0, sum = 0;
  };
  struct CachedGauge {
    std::string_view name;  // a string literal
    LabelSet labels;
    double value;
    size_t slot = 0;  // the slice of the targets it belongs to
  };
  // A group of slow parameters and what was read of them, re-exported every cycle.
  struct SlowGroup {
    int64_t interval_ms = 0;
    bool read_once = false;
    std::vector<CachedGauge> cache;
  };
  // This cycle's share of a slow group's targets: `count` slices by a hash of the target name, of which
  // `index` is read now (all of them when `all`).
  struct Slice {
    size_t count = 1, index = 0;
    bool all = true;
    size_t slot(std::string_view device) const;
  };
  Slice slice_of(const SlowGroup& group, int64_t now) const;
  static void refresh(SlowGroup& group, const Slice& slice, std::vector<CachedGauge>&& fresh);
  void describe(Collection& out) const;
  void collect_job_stats(Collection& out, std::vector<std::string>& errors);

  LustreConfig config_;
  lustre::ParamReader reader_;
  std::map<std::string, Mean> previous_means_;  // service → last req_qdepth / req_active count and sum
  std::map<std::string, std::unique_ptr<lustre::JobTopK>> jobs_;  // per target
  int64_t last_job_read_ms_ = 0;
  std::vector<CachedGauge> job_rows_;  // re-exported between job_stats reads
  SlowGroup capacity_;  // kbytes*/files*
  SlowGroup state_;     // import, rpc_stats, lock counts
  SlowGroup exports_;   // per-client ops of the server targets
  std::map<std::string, std::unique_ptr<lustre::JobTopK>> export_tops_;  // "dir/target" → its top clients
  std::vector<std::pair<std::string, std::string>> server_targets_;     // (dir, device) read last cycle
  lustre::TargetLabels targets_;
  size_t last_sample_count_ = 0;  // to reserve the next cycle's samples at once
  uint64_t skipped_lines_ = 0;
  uint64_t jobs_truncated_ = 0;
};

// nullptr when switched off, or when `enabled: auto` and no Lustre tree is found.
Result<std::unique_ptr<Source>> make_lustre_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent
