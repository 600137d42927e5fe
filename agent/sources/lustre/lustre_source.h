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
#include "common/config.h"

namespace ss::agent {

enum class Switch { Auto, On, Off };

struct LustreConfig {
  Switch enabled = Switch::Auto;  // auto: on when a Lustre tree exists under root
  lustre::ReaderOptions reader;
  bool client = true;
  Switch server = Switch::Auto;  // auto: when mdt/obdfilter/ost/mds directories exist
  int64_t capacity_interval_ms = 60'000;
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
    std::string name;
    Labels labels;
    double value;
  };
  void describe(Collection& out) const;
  void collect_job_stats(Collection& out, std::vector<std::string>& errors);

  LustreConfig config_;
  lustre::ParamReader reader_;
  std::map<std::string, Mean> previous_means_;  // service → last req_qdepth / req_active count and sum
  std::map<std::string, std::unique_ptr<lustre::JobTopK>> jobs_;  // per target
  int64_t last_job_read_ms_ = 0;
  std::vector<CachedGauge> job_rows_;  // re-exported between job_stats reads
  std::vector<CachedGauge> capacity_;  // kbytes*/files*, refreshed every capacity_interval
  int64_t last_capacity_ms_ = 0;
  bool capacity_read_ = false;
  uint64_t skipped_lines_ = 0;
  uint64_t jobs_truncated_ = 0;
  uint64_t lctl_runs_ = 0;
};

// nullptr when switched off, or when `enabled: auto` and no Lustre tree is found.
Result<std::unique_ptr<Source>> make_lustre_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent
