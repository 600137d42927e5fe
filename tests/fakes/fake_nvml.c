/* A stand-in for libnvidia-ml.so.1 with the same symbol names and signatures, for the GPU source's tests.
 * Tests steer it through the fake_nvml_* functions (dlopen the same file to reach them). */
#include <string.h>
#include <stdio.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;
typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

#define MAX_DEVICES 8
#define MAX_PROCS 64

struct nvmlDevice_st {
  unsigned int util;
  unsigned long long used;
  unsigned int nprocs;
  unsigned int pids[MAX_PROCS];
  unsigned long long proc_mem[MAX_PROCS];
};

static struct nvmlDevice_st devices[MAX_DEVICES];
static unsigned int device_count = 2;
static nvmlReturn_t init_result = 0;
static int initialized = 0;

/* The index follows from the handle, so the library needs no set-up before first use. */
static unsigned int index_of(nvmlDevice_t d) { return (unsigned int)(d - devices); }

void fake_nvml_reset(void) {
  memset(devices, 0, sizeof devices);
  device_count = 2;
  init_result = 0;
}
void fake_nvml_set_device_count(unsigned int n) { device_count = n < MAX_DEVICES ? n : MAX_DEVICES; }
void fake_nvml_set_init_result(int rc) { init_result = rc; }
void fake_nvml_set_utilization(unsigned int i, unsigned int percent) { devices[i].util = percent; }
void fake_nvml_set_memory_used(unsigned int i, unsigned long long bytes) { devices[i].used = bytes; }
void fake_nvml_add_process(unsigned int i, unsigned int pid, unsigned long long bytes) {
  struct nvmlDevice_st* d = &devices[i];
  if (d->nprocs < MAX_PROCS) {
    d->pids[d->nprocs] = pid;
    d->proc_mem[d->nprocs] = bytes;
    d->nprocs++;
  }
}
int fake_nvml_initialized(void) { return initialized; }

nvmlReturn_t nvmlInit_v2(void) {
  if (init_result == 0) initialized = 1;
  return init_result;
}
nvmlReturn_t nvmlShutdown(void) {
  initialized = 0;
  return 0;
}
const char* nvmlErrorString(nvmlReturn_t rc) {
  switch (rc) {
    case 0: return "Success";
    case 9: return "Driver Not Loaded";
    case 3: return "Not Supported";
    default: return "Unknown Error";
  }
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!initialized) return 1; /* NVML_ERROR_UNINITIALIZED */
  *count = device_count;
  return 0;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (!initialized) return 1;
  if (index >= device_count) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *device = &devices[index];
  return 0;
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* uuid, unsigned int length) {
  snprintf(uuid, length, "GPU-00000000-1111-2222-3333-%012u", index_of(d));
  return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int length) {
  snprintf(name, length, "%s", index_of(d) == 0 ? "NVIDIA H200" : "NVIDIA H100 80GB HBM3");
  return 0;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  u->gpu = d->util;
  u->memory = d->util / 2;
  return 0;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  m->total = 150754820096ULL;
  m->used = d->used;
  m->free = m->total - d->used;
  return 0;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_t* infos) {
  if (*count < d->nprocs) {
    *count = d->nprocs;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  for (unsigned int k = 0; k < d->nprocs; ++k) {
    infos[k].pid = d->pids[k];
    infos[k].usedGpuMemory = d->proc_mem[k];
    infos[k].gpuInstanceId = 0xFFFFFFFFu;
    infos[k].computeInstanceId = 0xFFFFFFFFu;
  }
  *count = d->nprocs;
  return 0;
}
