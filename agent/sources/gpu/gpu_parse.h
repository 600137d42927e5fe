// Pure parsers of the GPU source: nvidia-smi CSV, dcgm-exporter's Prometheus text, and the job a
// process belongs to from its /proc/<pid>/cgroup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/gpu/gpu_reading.h"
#include "common/result.h"

namespace ss::agent::gpu {

// The --query-gpu fields the source asks nvidia-smi for, in this order (memory.used in MiB with nounits).
inline constexpr std::string_view kSmiGpuQuery = "index,uuid,name,utilization.gpu,memory.used";
inline constexpr std::string_view kSmiAppsQuery = "gpu_uuid,pid,used_memory";

// `nvidia-smi --query-gpu=<kSmiGpuQuery> --format=csv,noheader,nounits`. "[N/A]" and "[Not Supported]"
// values become NaN; a malformed line is an error naming it.
Result<std::vector<GpuReading>> parse_smi_gpus(std::string_view csv);

struct SmiApp {
  std::string gpu_uuid;
  GpuProcess process;
};
// `nvidia-smi --query-compute-apps=<kSmiAppsQuery> --format=csv,noheader,nounits`.
Result<std::vector<SmiApp>> parse_smi_apps(std::string_view csv);

// dcgm-exporter's /metrics: one reading per GPU from DCGM_FI_PROF_GR_ENGINE_ACTIVE (ratio), or from
// DCGM_FI_DEV_GPU_UTIL (percent) for GPUs without it, DCGM_FI_DEV_FB_USED (MiB), labels gpu, UUID,
// modelName; job from `hpc_job`, else `namespace`/`pod`.
Result<std::vector<GpuReading>> parse_dcgm_metrics(std::string_view text);

// What a cgroup path says about the job of a process.
struct JobRef {
  enum class Kind { None, Slurm, Pod, Unit };
  Kind kind = Kind::None;
  std::string value;  // Slurm job id, pod UID (with dashes), or systemd unit name
};

// The contents of /proc/<pid>/cgroup (v1 or v2): a Slurm `job_<id>` component wins, then a Kubernetes pod
// (kubepods…pod<uid>), then the innermost systemd unit (*.service, *.scope).
JobRef job_from_cgroup(std::string_view cgroup_file);

// A kubelet pod log directory name "<namespace>_<pod>_<uid>" as {uid, "namespace/pod"}; empty when not one.
std::pair<std::string, std::string> pod_from_log_dir(std::string_view dir_name);

}  // namespace ss::agent::gpu
