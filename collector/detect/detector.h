// What every detector shares: observations (counter increases and gauge values, already cleaned of resets
// and gaps and placed in data-time buckets), findings (one verdict per phenomenon per bucket) and the
// Detector interface. Detectors are pure logic over time-ordered data: no I/O, no clock.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/sample.h"

namespace ss::collector::detect {

// One counter increase (value over dt_s seconds, never negative) or one gauge value, in the bucket
// [bucket, bucket + interval) that holds its timestamp (a sample at exactly t counts for the interval
// that ends at t).
struct Observation {
  std::string_view node;
  std::string_view name;
  const Labels* labels = nullptr;  // without "node"
  bool counter = false;
  int64_t bucket = 0;
  int64_t t_ms = 0;
  double value = 0;  // gauge value, or counter increase
  double dt_s = 0;   // seconds the increase covers (counters)

  std::string_view label(std::string_view name) const { return label_value(*labels, name); }
  double rate() const { return dt_s > 0 ? value / dt_s : 0; }
};

enum class State {
  Anomalous,  // the phenomenon is present in this bucket
  Quiet,      // judged, and normal
  Unknown,    // cannot judge (the nodes or series it depends on did not report): neither opens nor closes
};

struct Culprit {
  std::string job, node, comm, path, user;
  double weight = 0;  // excess ops (or bytes) attributed in this bucket; the incident sums them
  double share = 0;   // of the incident's excess, filled by the incident manager
};

// A detector's verdict on one phenomenon in one bucket. `key` identifies the phenomenon
// (one incident per key at a time): "metadata_storm/ai0", "waittime_spike/ai0-OST0003", ...
struct Finding {
  std::string kind, key, fs, target;
  State state = State::Quiet;
  std::string severity = "warning";  // "warning" or "critical"
  std::string summary;
  nlohmann::json evidence = nlohmann::json::object();
  std::vector<std::string> nodes;
  std::vector<Culprit> culprits;
  double score = 0;  // magnitude used to keep the incident's peak
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view kind() const = 0;
  // Asked once per metric name; only wanted names are turned into observations.
  virtual bool wants(std::string_view metric_name) const = 0;
  // Asked per series of a wanted name, every batch (keep it cheap): false for series whose observations
  // the detector would ignore anyway, so that the engine keeps no state for them (a client's hundreds of
  // OST series are no metadata load).
  virtual bool wants_series(std::string_view /*metric_name*/, const Labels& /*labels*/) const { return true; }
  virtual bool wants_event(std::string_view /*kind*/) const { return false; }
  virtual void observe(const Observation& o) = 0;
  // A counter's first point, which gives no increase yet (value is the counter, dt_s 0): a series that
  // appears says something by its labels (a new job on a node).
  virtual void observe_start(const Observation& /*o*/) {}
  virtual void observe_event(std::string_view /*node*/, const Event& /*e*/, int64_t /*bucket*/) {}
  // Called once per bucket, in time order, after the bucket's data arrived (or its lateness expired).
  virtual void evaluate(int64_t bucket, std::vector<Finding>& out) = 0;
};

// Lustre target names carry their kind: "ai0-MDT0000", "ai0-OST0003" (also with "-mdc-…"/"-osc-…" suffixes).
inline bool is_mdt(std::string_view target) { return target.find("-MDT") != std::string_view::npos; }
inline bool is_ost(std::string_view target) { return target.find("-OST") != std::string_view::npos; }

std::string format_rate(double per_second);  // "48.2k", "2.1k", "950"
std::string format_bytes(double bytes);      // "140 GB", "3.2 MB"

}  // namespace ss::collector::detect
