// The GPU source: samples utilization and memory of every GPU once a second in its own thread and
// exports, each agent cycle, the mean utilization over the interval (so that short stalls are not
// aliased away) as gpu_utilization_ratio{gpu,uuid,model,job} and gpu_memory_used_bytes{gpu,uuid,model}.
// Backends: NVML (dlopen), else nvidia-smi; or a dcgm-exporter endpoint. `job` comes from the cgroups of
// the processes on the GPU. A node without GPUs or driver says so once and stays quiet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/source.h"
#include "agent/sources/gpu/gpu_reading.h"
#include "common/config.h"

namespace ss::agent::gpu {

struct GpuSourceOptions {
  std::string backend = "auto";                     // auto (NVML, then nvidia-smi), nvml, nvidia-smi, dcgm
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string nvidia_smi = "nvidia-smi";
  std::string dcgm_url;                              // http://127.0.0.1:9400/metrics
  int64_t timeout_ms = 5'000;                        // per nvidia-smi run or dcgm scrape
  int64_t sample_interval_ms = 1'000;
  std::string proc_root = "/proc";
  std::string pods_dir = "/var/log/pods";            // kubelet's <namespace>_<pod>_<uid> directories
  bool sample_in_thread = true;                      // false: only sample_once() samples (tests)
};

class GpuSource final : public Source {
 public:
  explicit GpuSource(GpuSourceOptions options);
  ~GpuSource() override;

  std::string_view name() const override { return "gpu"; }
  Result<void> collect(Collection& out) override;

  // Takes one sample of every GPU (the thread calls this every sample_interval_ms).
  void sample_once();

  // The backend in use ("nvml", "nvidia-smi", "dcgm"), or "" before the first sample / without GPUs.
  std::string backend_name() const;
  // Samples taken since the last collect().
  int pending_samples() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The backend reading nvidia-smi (two commands per read), exposed for tests.
std::unique_ptr<GpuBackend> make_smi_backend(const std::string& path, int64_t timeout_ms);
// The backend scraping a dcgm-exporter endpoint.
Result<std::unique_ptr<GpuBackend>> make_dcgm_backend(const std::string& url, int64_t timeout_ms);

// sources.gpu: {enabled, backend, nvml_library, nvidia_smi, dcgm_url, timeout, sample_interval, pods_dir}.
Result<std::unique_ptr<Source>> make_gpu_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent::gpu

namespace ss::agent {
using gpu::make_gpu_source;
}
