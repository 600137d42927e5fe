// What every agent source implements, and the Collection it fills in one cycle.
//
// A source separates I/O from parsing: collect() finds and reads (files, commands, BPF maps), hands the
// text to pure parsers, and adds the resulting samples here. It reports failure as a value; the scheduler
// turns that into stormscope_agent_source_up{source} 0 and an error counter, and never stops the agent.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/fs_names.h"
#include "common/result.h"
#include "common/sample.h"

namespace YAML {
class Node;
}

namespace ss::agent {

enum class MetricKind { Counter, Gauge, Histogram };

struct Family {
  MetricKind kind = MetricKind::Gauge;
  std::string help;
};

// Label pairs sorted by name, built once and shared by every sample that carries them (a Lustre target's
// {fs, target} serves its twenty-odd samples), so a cycle allocates per label set rather than per sample.
using LabelSet = std::shared_ptr<const Labels>;
LabelSet make_label_set(Labels labels);  // sorts

// Metric names are a small set fixed by the code. Each is stored once for the life of the process and samples
// carry a view of it, so a sample's name costs no allocation. Thread-safe.
std::string_view intern_name(std::string_view name);

struct Sample {
  // The family name, or <family>_bucket/_sum/_count for histograms. It must outlive the sample: a string
  // literal or a view from intern_name() (Collection::add interns; add_sample trusts the caller).
  std::string_view name;
  LabelSet labels;   // sorted, never null
  double value = 0;
  int64_t t_ms = 0;  // the cycle time unless the source knows the measurement's own time
  SeriesType type = SeriesType::Gauge;
};

class Collection {
 public:
  explicit Collection(int64_t t_ms) : t_ms_(t_ms) {}

  int64_t t_ms() const { return t_ms_; }

  // Declares a family before samples of it are added; help text is required by promtool.
  void describe(const std::string& family, MetricKind kind, std::string help);

  // Adds one sample of a described family (labels are sorted here). For histograms add
  // <family>_bucket{le=...} (cumulative), <family>_sum and <family>_count, or use add_histogram.
  void add(std::string_view name, Labels labels, double value);
  void add_at(std::string_view name, Labels labels, double value, int64_t t_ms);
  // The fast path for sources with many samples: no lookup, no sorting, no copy. The caller gives a name that
  // outlives the sample (see Sample::name), sorted labels and the family's type.
  void add_sample(Sample sample) { samples_.push_back(std::move(sample)); }

  // bucket_bounds: upper bounds in ascending order; cumulative_counts: one per bound, then +Inf.
  void add_histogram(const std::string& family, const Labels& labels, const std::vector<double>& bucket_bounds,
                     const std::vector<uint64_t>& cumulative_counts, double sum);

  void add_event(Event event) { events_.push_back(std::move(event)); }

  // Moves everything from `other` in (used by the scheduler to merge sources).
  void merge(Collection&& other);

  const std::map<std::string, Family, std::less<>>& families() const { return families_; }
  const std::vector<Sample>& samples() const { return samples_; }
  std::vector<Sample>& samples() { return samples_; }
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event>& events() { return events_; }

  // The family a sample name belongs to, or nullptr when it was never described.
  const Family* family_of(std::string_view sample_name, std::string* family_name = nullptr) const;

 private:
  int64_t t_ms_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<Sample> samples_;
  std::vector<Event> events_;
};

// Shared facts a source may need when it is built.
struct AgentContext {
  std::string node;           // this node's name
  int64_t interval_ms = 10'000;
  std::string proc_root = "/proc";  // for tests that fake /proc/self/mountinfo
  FsNames fs_names;                 // the `fs` label's renames (agent/fs_names.h)
};

class Source {
 public:
  virtual ~Source() = default;

  // Stable, short: "mounts", "lustre", "beegfs", "weka", "gpu", "vfs".
  virtual std::string_view name() const = 0;

  // How often this source wants to run; 0 means every agent cycle (Weka's statistics move once a minute).
  virtual int64_t interval_ms() const { return 0; }

  // One cycle: add samples and events to `out`. May add partial output and still return an error.
  virtual Result<void> collect(Collection& out) = 0;
};

}  // namespace ss::agent
