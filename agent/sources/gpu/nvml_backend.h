// NVML loaded at run time with dlopen, so the agent has no build-time NVIDIA dependency and runs on
// nodes without a driver. Only the handful of entry points the GPU source needs are resolved.
#pragma once

#include <memory>
#include <string>

#include "agent/sources/gpu/gpu_reading.h"

namespace ss::agent::gpu {

struct NvmlLoadError {
  bool no_driver = false;  // library absent or driver not loaded: the node has no usable GPU driver
  std::string message;
};

// Loads `library` ("libnvidia-ml.so.1"), resolves its symbols and calls nvmlInit.
std::unique_ptr<GpuBackend> open_nvml(const std::string& library, NvmlLoadError& error);

}  // namespace ss::agent::gpu
