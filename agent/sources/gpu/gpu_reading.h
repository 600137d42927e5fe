// What one read of the GPUs returns, whichever backend (NVML, nvidia-smi, dcgm-exporter) produced it.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss::agent::gpu {

struct GpuProcess {
  int pid = 0;
  double used_memory_bytes = 0;  // 0 when the driver does not say
};

struct GpuReading {
  unsigned index = 0;
  std::string uuid;   // "GPU-5f7b…"
  std::string model;  // "NVIDIA H200"
  double utilization = NAN;        // 0..1, NaN when not reported
  double memory_used_bytes = NAN;  // NaN when not reported
  std::vector<GpuProcess> processes;
  std::string job;  // set when the backend knows it (dcgm-exporter's pod or HPC job labels)
};

// One way of reading the GPUs of this node.
class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual std::string name() const = 0;
  virtual Result<std::vector<GpuReading>> read() = 0;
};

}  // namespace ss::agent::gpu
