#include "agent/sources/gpu/gpu_source.h"

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/sources/gpu/gpu_parse.h"
#include "agent/sources/gpu/nvml_backend.h"
#include "common/exec.h"
#include "common/log.h"

namespace ss::agent::gpu {

namespace {

class SmiBackend final : public GpuBackend {
 public:
  SmiBackend(std::string path, int64_t timeout_ms) : path_(std::move(path)) { exec_.timeout_ms = timeout_ms; }
  std::string name() const override { return "nvidia-smi"; }

  Result<std::vector<GpuReading>> read() override {
    auto gpus_text = run_for_output(
        {path_, fmt::format("--query-gpu={}", kSmiGpuQuery), "--format=csv,noheader,nounits"}, exec_);
    if (!gpus_text) return gpus_text.error();
    auto gpus = parse_smi_gpus(*gpus_text);
    if (!gpus) return gpus.error();
    // Processes are a nicety (the job label): a failure here keeps the utilization.
    auto apps_text = run_for_output(
        {path_, fmt::format("--query-compute-apps={}", kSmiAppsQuery), "--format=csv,noheader,nounits"}, exec_);
    if (apps_text) {
      auto apps = parse_smi_apps(*apps_text);
      if (apps)
        for (const auto& app : *apps)
          for (auto& g : *gpus)
            if (g.uuid == app.gpu_uuid) g.processes.push_back(app.process);
    }
    return gpus;
  }

 private:
  std::string path_;
  ExecOptions exec_;
};

class DcgmBackend final : public GpuBackend {
 public:
  DcgmBackend(std::string base, std::string path, int64_t timeout_ms)
      : client_(base), base_(std::move(base)), path_(std::move(path)) {
    auto sec = std::chrono::milliseconds(timeout_ms);
    client_.set_connection_timeout(sec);
    client_.set_read_timeout(sec);
  }
  std::string name() const override { return "dcgm"; }

  Result<std::vector<GpuReading>> read() override {
    auto res = client_.Get(path_);
    if (!res) return errorf("dcgm-exporter {}{}: {}", base_, path_, httplib::to_string(res.error()));
    if (res->status != 200) return errorf("dcgm-exporter {}{}: HTTP {}", base_, path_, res->status);
    return parse_dcgm_metrics(res->body);
  }

 private:
  httplib::Client client_;
  std::string base_, path_;
};

// Resolves pod UIDs to namespace/pod through kubelet's log directories, re-listing on a miss.
class PodNames {
 public:
  explicit PodNames(std::string dir) : dir_(std::move(dir)) {}
  std::string name_of(const std::string& uid) {
    auto it = names_.find(uid);
    if (it != names_.end()) return it->second;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      auto [u, name] = pod_from_log_dir(e.path().filename().string());
      if (!u.empty()) names_[u] = name;
    }
    it = names_.find(uid);
    return it != names_.end() ? it->second : uid;  // not derivable: the pod UID still tells pods apart
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> names_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Accumulator {
  unsigned index = 0;
  std::string uuid, model, job;
  double util_sum = 0;
  int util_samples = 0;
  double memory_bytes = NAN;
};

}  // namespace

struct GpuSource::State {
  GpuSourceOptions options;
  PodNames pods;
  std::mutex sample_mu;  // one sample at a time (the thread, or collect() before the first one)
  std::once_flag probed;
  std::unique_ptr<GpuBackend> backend;
  std::atomic<bool> quiet = false;  // no GPUs or no driver: reported once

  mutable std::mutex mu;
  std::map<std::string, Accumulator> gpus;  // by UUID, or "#<index>"
  int samples = 0;
  std::string last_error;
  bool last_read_failed = false;

  std::condition_variable cv;
  bool stopping = false;
  std::thread thread;

  explicit State(GpuSourceOptions o) : options(std::move(o)), pods(options.pods_dir) {}

  // Finds a backend on the first sample; a node without one is reported once.
  void probe() {
    const auto& o = options;
    std::string why;
    if (o.backend == "dcgm") {
      auto b = make_dcgm_backend(o.dcgm_url, o.timeout_ms);
      if (b) backend = std::move(*b);
      else why = b.error().message;
    }
    if (o.backend == "auto" || o.backend == "nvml") {
      NvmlLoadError err;
      backend = open_nvml(o.nvml_library, err);
      if (!backend) why = err.message;
    }
    if (!backend && (o.backend == "auto" || o.backend == "nvidia-smi")) {
      auto smi = make_smi_backend(o.nvidia_smi, o.timeout_ms);
      auto first = smi->read();
      if (first) backend = std::move(smi);
      else why += (why.empty() ? "" : "; ") + first.error().message;
    }
    if (!backend) {
      quiet = true;
      log::info("gpu: no NVIDIA GPU driver found ({}); the gpu source stays quiet", why);
      return;
    }
    auto readings = backend->read();
    if (readings && readings->empty()) {
      quiet = true;
      log::info("gpu: {} reports no GPUs on this node; the gpu source stays quiet", backend->name());
      return;
    }
    log::info("gpu: reading GPUs through {}", backend->name());
  }

  std::string job_of(const GpuReading& r) {
    if (!r.job.empty()) return r.job;
    std::map<std::string, double> weight;
    for (const auto& p : r.processes) {
      JobRef ref = job_from_cgroup(read_file(fmt::format("{}/{}/cgroup", options.proc_root, p.pid)));
      std::string job = ref.kind == JobRef::Kind::Pod ? pods.name_of(ref.value) : ref.value;
      if (!job.empty()) weight[job] += 1 + p.used_memory_bytes;  // the largest user of the GPU's memory
    }
    std::string best;
    double best_w = -1;
    for (const auto& [job, w] : weight)
      if (w > best_w) best = job, best_w = w;
    return best;
  }

  void sample() {
    std::lock_guard sampling(sample_mu);
    std::call_once(probed, [this] { probe(); });
    if (quiet || !backend) return;
    auto readings = backend->read();
    std::lock_guard lock(mu);
    if (!readings) {
      if (readings.error().message != last_error) log::warn("gpu: {}", readings.error().message);
      last_error = readings.error().message;
      last_read_failed = true;
      return;
    }
    last_read_failed = false;
    last_error.clear();
    ++samples;
    for (const auto& r : *readings) {
      Accumulator& a = gpus[r.uuid.empty() ? fmt::format("#{}", r.index) : r.uuid];
      a.index = r.index;
      a.uuid = r.uuid;
      a.model = r.model;
      a.job = job_of(r);
      if (!std::isnan(r.utilization)) {
        a.util_sum += r.utilization;
        ++a.util_samples;
      }
      if (!std::isnan(r.memory_used_bytes)) a.memory_bytes = r.memory_used_bytes;
    }
  }

  void run() {
    std::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      sample();
      lock.lock();
      if (quiet) return;
      cv.wait_for(lock, std::chrono::milliseconds(options.sample_interval_ms), [&] { return stopping; });
    }
  }
};

GpuSource::GpuSource(GpuSourceOptions options) : state_(std::make_unique<State>(std::move(options))) {
  if (state_->options.sample_in_thread) state_->thread = std::thread([s = state_.get()] { s->run(); });
}

GpuSource::~GpuSource() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

void GpuSource::sample_once() { state_->sample(); }

std::string GpuSource::backend_name() const {
  std::lock_guard sampling(state_->sample_mu);
  return state_->backend && !state_->quiet ? state_->backend->name() : "";
}

int GpuSource::pending_samples() const {
  std::lock_guard lock(state_->mu);
  return state_->samples;
}

Result<void> GpuSource::collect(Collection& out) {
  State& s = *state_;
  // The first cycle may come before the thread's first sample; a thread-less source samples here.
  if (!s.options.sample_in_thread || pending_samples() == 0) s.sample();
  if (s.quiet) return ok();

  out.describe("gpu_utilization_ratio", MetricKind::Gauge,
               "GPU utilization (fraction of time a kernel ran), mean of the per-second samples over the interval");
  out.describe("gpu_memory_used_bytes", MetricKind::Gauge, "GPU memory in use, at the last sample of the interval");
  std::lock_guard lock(s.mu);
  for (const auto& [key, a] : s.gpus) {
    Labels labels{{"gpu", std::to_string(a.index)}, {"model", a.model}, {"uuid", a.uuid}};
    if (!std::isnan(a.memory_bytes)) out.add("gpu_memory_used_bytes", labels, a.memory_bytes);
    if (a.util_samples > 0) {
      if (!a.job.empty()) labels.push_back({"job", a.job});
      out.add("gpu_utilization_ratio", std::move(labels), a.util_sum / a.util_samples);
    }
  }
  bool nothing = s.samples == 0;
  s.gpus.clear();  // GPUs that vanish (reset, driver reload) stop being exported
  s.samples = 0;
  if (nothing && s.last_read_failed) return Error{fmt::format("gpu: {}", s.last_error)};
  return ok();
}

std::unique_ptr<GpuBackend> make_smi_backend(const std::string& path, int64_t timeout_ms) {
  return std::make_unique<SmiBackend>(path, timeout_ms);
}

Result<std::unique_ptr<GpuBackend>> make_dcgm_backend(const std::string& url, int64_t timeout_ms) {
  // "http://host:port/path": httplib takes the scheme+authority and the path separately.
  auto scheme = url.find("://");
  if (url.empty() || scheme == std::string::npos) return errorf("dcgm_url \"{}\" is not an http:// URL", url);
  auto slash = url.find('/', scheme + 3);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  std::string path = slash == std::string::npos ? "/metrics" : url.substr(slash);
  return std::unique_ptr<GpuBackend>(std::make_unique<DcgmBackend>(base, path, timeout_ms));
}

Result<std::unique_ptr<Source>> make_gpu_source(const config::Section& section, const AgentContext& ctx) {
  return config::read([&]() -> std::unique_ptr<Source> {
    section.allow_only({"enabled", "backend", "nvml_library", "nvidia_smi", "dcgm_url", "timeout",
                        "sample_interval", "pods_dir"});
    if (!section.boolean("enabled", true)) return nullptr;
    GpuSourceOptions o;
    o.backend = section.string("backend", o.backend);
    if (o.backend != "auto" && o.backend != "nvml" && o.backend != "nvidia-smi" && o.backend != "dcgm")
      section.fail("backend", fmt::format("unknown backend \"{}\" (auto, nvml, nvidia-smi, dcgm)", o.backend));
    o.nvml_library = section.string("nvml_library", o.nvml_library);
    o.nvidia_smi = section.string("nvidia_smi", o.nvidia_smi);
    o.dcgm_url = section.string("dcgm_url", o.dcgm_url);
    if (o.backend == "dcgm" && o.dcgm_url.empty()) section.fail("dcgm_url", "is required with backend: dcgm");
    if (!o.dcgm_url.empty() && !o.dcgm_url.starts_with("http://"))
      section.fail("dcgm_url", fmt::format("\"{}\" is not an http:// URL", o.dcgm_url));
    o.timeout_ms = section.duration_ms("timeout", o.timeout_ms);
    if (o.timeout_ms == 0) section.fail("timeout", "must be longer than 0");
    o.sample_interval_ms = section.duration_ms("sample_interval", o.sample_interval_ms);
    if (o.sample_interval_ms < 100) section.fail("sample_interval", "must be at least 100ms");
    o.pods_dir = section.string("pods_dir", o.pods_dir);
    o.proc_root = ctx.proc_root;
    return std::make_unique<GpuSource>(std::move(o));
  });
}

}  // namespace ss::agent::gpu
