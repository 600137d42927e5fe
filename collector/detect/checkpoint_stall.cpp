#include "collector/detect/checkpoint_stall.h"

#include <fmt/format.h>

#include <algorithm>

namespace ss::collector::detect {

CheckpointStall::CheckpointStall(CheckpointStallParams params, int64_t interval_ms, const GpuTracker* gpus)
    : params_(std::move(params)), interval_ms_(std::max<int64_t>(interval_ms, 1)), gpus_(gpus) {
  window_buckets_ = std::max<int64_t>(params_.window_ms / interval_ms_, 3);
  min_history_ = std::clamp<int64_t>(params_.min_history_ms / interval_ms_, 1, window_buckets_);
}

std::string CheckpointStall::fs_of_mount(std::string_view mount) const {
  auto it = params_.mounts.find(std::string(mount));
  if (it != params_.mounts.end()) return it->second;
  while (mount.size() > 1 && mount.back() == '/') mount.remove_suffix(1);
  auto slash = mount.rfind('/');
  std::string_view name = slash == std::string_view::npos ? mount : mount.substr(slash + 1);
  return std::string(name.empty() ? mount : name);
}

void CheckpointStall::observe(const Observation& o) {
  if (o.name == "vfs_ops_total") {
    if (o.label("op") == "fsync") pending_[o.bucket].job_fsyncs[std::string(o.label("job"))] += o.value;
    return;
  }
  if (o.label("op") != "write") return;
  if (o.name == "vfs_bytes_total") {
    std::string job(o.label("job"));
    if (job.empty()) return;
    // The agents' fs label (Lustre, BeeGFS or Weka file system) unless `mounts` names the mount.
    std::string_view fs = o.label("fs");
    std::string name = fs.empty() || params_.mounts.count(std::string(o.label("mount"))) ? fs_of_mount(o.label("mount"))
                                                                                          : std::string(fs);
    pending_[o.bucket].job_fs[job][name] += o.rate();
  } else if (is_ost(o.label("target"))) {
    pending_[o.bucket].node_fs[std::string(o.node)][std::string(o.label("fs"))] += o.rate();
  }
}

void CheckpointStall::evaluate(int64_t bucket, std::vector<Finding>& out) {
  Writes w;
  if (auto it = pending_.find(bucket); it != pending_.end()) w = std::move(it->second);
  pending_.erase(pending_.begin(), pending_.upper_bound(bucket));
  const double interval_s = interval_ms_ / 1000.0;
  const int64_t window = static_cast<int64_t>(window_buckets_) * interval_ms_;

  std::map<std::string, std::vector<const GpuReading*>> by_job;
  for (const auto& r : gpus_->current())
    if (!r.job.empty()) by_job[r.job].push_back(&r);

  std::set<std::string> seen;
  for (auto& [job, readings] : by_job) {
    seen.insert(job);
    auto [jit, fresh_job] = jobs_.try_emplace(job);
    JobState& js = jit->second;
    if (fresh_job) js.write_history = History(window_buckets_);
    std::set<std::string> nodes;
    for (const auto* r : readings) {
      js.known_gpus[r->node + '/' + r->uuid] = bucket;
      nodes.insert(r->node);
    }
    for (auto it = js.known_gpus.begin(); it != js.known_gpus.end();)
      it = it->second < bucket - window ? js.known_gpus.erase(it) : std::next(it);

    // Write rate of the job: its own vfs bytes, else the osc bytes of its nodes.
    std::map<std::string, double> fs_rate;
    if (auto it = w.job_fs.find(job); it != w.job_fs.end()) {
      fs_rate = it->second;
    } else {
      for (const auto& n : nodes)
        if (auto it2 = w.node_fs.find(n); it2 != w.node_fs.end())
          for (const auto& [fs, r] : it2->second) fs_rate[fs] += r;
    }
    double write_rate = 0;
    for (const auto& [fs, r] : fs_rate) write_rate += r;
    bool have_write_baseline = js.write_history.size() >= min_history_;
    double write_base = have_write_baseline ? js.write_history.baseline().median : 0;
    bool burst = have_write_baseline && write_rate >= params_.burst_floor &&
                 write_rate >= params_.burst_ratio * write_base;
    if (burst) js.last_burst = bucket;
    bool burst_recent = js.last_burst >= bucket - interval_ms_;

    // GPUs of the job against their own baselines.
    size_t judged = 0, dropped = 0;
    double util_sum = 0, base_sum = 0;
    for (const auto* r : readings) {
      auto h = gpu_history_.find(r->node + '/' + r->uuid);
      if (h == gpu_history_.end() || h->second.size() < min_history_) continue;
      double base = h->second.baseline().median;
      if (base < params_.min_baseline_util) continue;
      ++judged;
      util_sum += r->util;
      base_sum += base;
      if (r->util < (1 - params_.drop) * base) ++dropped;
    }
    bool enough = readings.size() >= params_.min_reporting * js.known_gpus.size();
    bool together = judged > 0 && dropped >= params_.min_gpu_fraction * judged;
    bool anomalous = enough && together && burst_recent;

    if (!anomalous) {
      for (const auto* r : readings)
        gpu_history_.try_emplace(r->node + '/' + r->uuid, History(window_buckets_)).first->second.add(r->util);
      if (!burst) js.write_history.add(write_rate);
    }
    Finding f;
    f.kind = "checkpoint_stall";
    f.key = "checkpoint_stall/" + job;
    if (!anomalous) {
      if (js.anomalous || judged > 0) {
        f.state = enough ? State::Quiet : State::Unknown;
        if (js.anomalous || enough) out.push_back(std::move(f));
      }
      if (enough) js.anomalous = false;
      continue;
    }
    if (!js.anomalous && bucket - js.last_anomalous > params_.quiet_ms) {
      js.episode_start = bucket;
      js.episode_bytes = js.episode_stall_s = js.episode_fsyncs = 0;
      js.episode_fs_bytes.clear();
    }
    js.anomalous = true;
    js.last_anomalous = bucket;
    js.episode_bytes += write_rate * interval_s;
    js.episode_stall_s += interval_s;
    if (auto it = w.job_fsyncs.find(job); it != w.job_fsyncs.end()) js.episode_fsyncs += it->second;
    for (const auto& [fs, r] : fs_rate) js.episode_fs_bytes[fs] += r * interval_s;
    std::string fs;
    double most = -1;
    for (const auto& [name, b] : js.episode_fs_bytes)
      if (b > most) most = b, fs = name;

    double bandwidth = js.episode_stall_s > 0 ? js.episode_bytes / js.episode_stall_s : 0;
    double target_s = params_.target_stall_ms / 1000.0;
    double needed = target_s > 0 ? js.episode_bytes / target_s : 0;
    f.state = State::Anomalous;
    f.fs = fs;
    f.nodes.assign(nodes.begin(), nodes.end());
    f.score = js.episode_stall_s;
    f.severity = js.episode_stall_s > 2 * target_s ? "critical" : "warning";
    double mean_util = judged ? util_sum / judged : 0, mean_base = judged ? base_sum / judged : 0;
    f.summary = fmt::format(
        "checkpoint stall of job {} on {}: {} of {} GPUs at {:.0f}% (baseline {:.0f}%) for {:.0f} s while writing {} "
        "at {}/s; {}/s would keep it under {:.0f} s",
        job, fs.empty() ? "?" : fs, dropped, judged, 100 * mean_util, 100 * mean_base, js.episode_stall_s,
        format_bytes(js.episode_bytes), format_bytes(bandwidth), format_bytes(needed), target_s);
    Culprit c;
    c.job = job;
    c.weight = write_rate * interval_s;
    f.culprits.push_back(c);
    f.evidence = {{"bucket", bucket},
                  {"series", "gpu_utilization_ratio{job}, vfs_bytes_total{op=\"write\",job} or lustre_client_bytes_total{op=\"write\"}"},
                  {"job", job},
                  {"gpus_judged", judged},
                  {"gpus_dropped", dropped},
                  {"gpus_reporting", readings.size()},
                  {"gpus_known", js.known_gpus.size()},
                  {"mean_util", mean_util},
                  {"baseline_util", mean_base},
                  {"write_bytes_per_second", write_rate},
                  {"write_baseline", write_base},
                  {"stall_seconds", js.episode_stall_s},
                  {"bytes", js.episode_bytes},
                  {"fsyncs", js.episode_fsyncs},
                  {"effective_bandwidth", bandwidth},
                  {"bandwidth_for_target", needed},
                  {"target_stall_seconds", target_s}};
    out.push_back(std::move(f));
  }
  // Jobs in a stall whose GPUs all went silent: undecided (the manager closes them after its timeout).
  for (auto& [job, js] : jobs_) {
    if (seen.count(job) || !js.anomalous) continue;
    Finding f;
    f.kind = "checkpoint_stall";
    f.key = "checkpoint_stall/" + job;
    f.state = State::Unknown;
    out.push_back(std::move(f));
    if (bucket - js.last_anomalous > 10 * params_.quiet_ms) js.anomalous = false;
  }
  if (jobs_.size() > 4096) {  // forget jobs gone for a whole window
    for (auto it = jobs_.begin(); it != jobs_.end();)
      it = !it->second.anomalous && it->second.known_gpus.empty() ? jobs_.erase(it) : std::next(it);
  }
}

}  // namespace ss::collector::detect
