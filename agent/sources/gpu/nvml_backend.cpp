#include "agent/sources/gpu/nvml_backend.h"

#include <dlfcn.h>

#include <fmt/format.h>

namespace ss::agent::gpu {

namespace {

// The NVML ABI (nvml.h), restated: a return code, an opaque device handle and three plain structs.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
struct nvmlProcessInfo_v1_t {  // nvmlDeviceGetComputeRunningProcesses (no suffix)
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessInfo_t {  // _v2 and _v3
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
constexpr nvmlReturn_t kSuccess = 0;
constexpr nvmlReturn_t kNotSupported = 3;
constexpr nvmlReturn_t kInsufficientSize = 7;
constexpr nvmlReturn_t kDriverNotLoaded = 9;
constexpr nvmlReturn_t kLibraryNotFound = 12;
constexpr unsigned long long kNotAvailable = 0xFFFFFFFFFFFFFFFFull;  // NVML_VALUE_NOT_AVAILABLE
constexpr unsigned int kNameSize = 96;

class NvmlBackend final : public GpuBackend {
 public:
  ~NvmlBackend() override {
    if (initialized_ && shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }

  std::string name() const override { return "nvml"; }

  bool load(const std::string& library, NvmlLoadError& error) {
    lib_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib_) {
      const char* e = dlerror();
      error = {true, fmt::format("cannot load {}: {}", library, e ? e : "unknown error")};
      return false;
    }
    auto sym = [&](const char* a, const char* b = nullptr) {
      void* p = dlsym(lib_, a);
      if (!p && b) p = dlsym(lib_, b);
      return p;
    };
    init_ = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlInit_v2", "nvmlInit"));
    shutdown_ = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlShutdown"));
    error_string_ = reinterpret_cast<const char* (*)(nvmlReturn_t)>(sym("nvmlErrorString"));
    count_ = reinterpret_cast<nvmlReturn_t (*)(unsigned int*)>(sym("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"));
    handle_ = reinterpret_cast<nvmlReturn_t (*)(unsigned int, nvmlDevice_t*)>(
        sym("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"));
    uuid_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int)>(sym("nvmlDeviceGetUUID"));
    name_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int)>(sym("nvmlDeviceGetName"));
    util_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*)>(sym("nvmlDeviceGetUtilizationRates"));
    memory_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>(sym("nvmlDeviceGetMemoryInfo"));
    procs_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*)>(
        sym("nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"));
    if (!procs_)
      procs_v1_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v1_t*)>(
          sym("nvmlDeviceGetComputeRunningProcesses"));
    if (!init_ || !count_ || !handle_ || !uuid_ || !name_ || !util_ || !memory_) {
      error = {false, fmt::format("{} lacks the NVML functions the GPU source needs", library)};
      return false;
    }
    nvmlReturn_t rc = init_();
    if (rc != kSuccess) {
      error = {rc == kDriverNotLoaded || rc == kLibraryNotFound, fmt::format("nvmlInit failed: {}", describe(rc))};
      return false;
    }
    initialized_ = true;
    return true;
  }

  Result<std::vector<GpuReading>> read() override {
    unsigned int n = 0;
    if (nvmlReturn_t rc = count_(&n); rc != kSuccess) return errorf("nvmlDeviceGetCount: {}", describe(rc));
    std::vector<GpuReading> out;
    for (unsigned int i = 0; i < n; ++i) {
      nvmlDevice_t dev = nullptr;
      if (nvmlReturn_t rc = handle_(i, &dev); rc != kSuccess)
        return errorf("nvmlDeviceGetHandleByIndex({}): {}", i, describe(rc));
      GpuReading r;
      r.index = i;
      char buf[kNameSize] = {};
      if (uuid_(dev, buf, kNameSize) == kSuccess) r.uuid = buf;
      buf[0] = 0;
      if (name_(dev, buf, kNameSize) == kSuccess) r.model = buf;
      nvmlUtilization_t u{};
      if (nvmlReturn_t rc = util_(dev, &u); rc == kSuccess)
        r.utilization = u.gpu / 100.0;
      else if (rc != kNotSupported)
        return errorf("nvmlDeviceGetUtilizationRates({}): {}", i, describe(rc));
      nvmlMemory_t m{};
      if (memory_(dev, &m) == kSuccess) r.memory_used_bytes = static_cast<double>(m.used);
      r.processes = processes(dev);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  std::string describe(nvmlReturn_t rc) const {
    const char* s = error_string_ ? error_string_(rc) : nullptr;
    return s ? fmt::format("{} (NVML error {})", s, rc) : fmt::format("NVML error {}", rc);
  }

  // The compute processes on one GPU; none when the driver will not tell (permissions, MIG).
  std::vector<GpuProcess> processes(nvmlDevice_t dev) {
    std::vector<GpuProcess> out;
    for (unsigned int capacity = 16; capacity <= 4096; capacity *= 4) {
      unsigned int count = capacity;
      nvmlReturn_t rc;
      if (procs_) {
        std::vector<nvmlProcessInfo_t> infos(capacity);
        rc = procs_(dev, &count, infos.data());
        if (rc == kSuccess)
          for (unsigned int k = 0; k < count && k < capacity; ++k) out.push_back(to_process(infos[k].pid, infos[k].usedGpuMemory));
      } else if (procs_v1_) {
        std::vector<nvmlProcessInfo_v1_t> infos(capacity);
        rc = procs_v1_(dev, &count, infos.data());
        if (rc == kSuccess)
          for (unsigned int k = 0; k < count && k < capacity; ++k) out.push_back(to_process(infos[k].pid, infos[k].usedGpuMemory));
      } else {
        return out;
      }
      if (rc != kInsufficientSize) return out;
    }
    return out;
  }

  static GpuProcess to_process(unsigned int pid, unsigned long long used) {
    return {static_cast<int>(pid), used == kNotAvailable ? 0.0 : static_cast<double>(used)};
  }

  void* lib_ = nullptr;
  bool initialized_ = false;
  nvmlReturn_t (*init_)() = nullptr;
  nvmlReturn_t (*shutdown_)() = nullptr;
  const char* (*error_string_)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*count_)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*uuid_)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*name_)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*util_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*procs_)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*) = nullptr;
  nvmlReturn_t (*procs_v1_)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v1_t*) = nullptr;
};

}  // namespace

std::unique_ptr<GpuBackend> open_nvml(const std::string& library, NvmlLoadError& error) {
  auto b = std::make_unique<NvmlBackend>();
  if (!b->load(library, error)) return nullptr;
  return b;
}

}  // namespace ss::agent::gpu
