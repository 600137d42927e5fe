// The GPU source against a fake libnvidia-ml (tests/fakes/fake_nvml.c), a fake nvidia-smi
// (tests/fixtures/gpu/nvidia-smi) and a dcgm-exporter page served on loopback; parsers on their own.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/sources/gpu/gpu_parse.h"
#include "agent/sources/gpu/gpu_source.h"
#include "tests/support/temp_dir.h"

using namespace ss;
using namespace ss::agent;
using namespace ss::agent::gpu;
namespace fs = std::filesystem;

namespace {

using ss::testing::TempDir;

constexpr double kMiB = 1024.0 * 1024.0;

// The fake library's steering functions, reached through the same file the source loads.
struct FakeNvml {
  void* lib = dlopen(SS_FAKE_NVML, RTLD_NOW);
  template <class F>
  F fn(const char* name) {
    return reinterpret_cast<F>(dlsym(lib, name));
  }
  FakeNvml() {
    if (!lib) ADD_FAILURE() << dlerror();
    fn<void (*)()>("fake_nvml_reset")();
  }
  ~FakeNvml() { dlclose(lib); }
  void count(unsigned n) { fn<void (*)(unsigned)>("fake_nvml_set_device_count")(n); }
  void init_result(int rc) { fn<void (*)(int)>("fake_nvml_set_init_result")(rc); }
  void util(unsigned i, unsigned pct) { fn<void (*)(unsigned, unsigned)>("fake_nvml_set_utilization")(i, pct); }
  void memory(unsigned i, unsigned long long b) {
    fn<void (*)(unsigned, unsigned long long)>("fake_nvml_set_memory_used")(i, b);
  }
  void process(unsigned i, unsigned pid, unsigned long long b) {
    fn<void (*)(unsigned, unsigned, unsigned long long)>("fake_nvml_add_process")(i, pid, b);
  }
  bool initialized() { return fn<int (*)()>("fake_nvml_initialized")() != 0; }
};

const Sample* find(const Collection& c, const std::string& name, const std::string& gpu) {
  for (const auto& s : c.samples())
    if (s.name == name && label_value(*s.labels, "gpu") == gpu) return &s;
  return nullptr;
}

GpuSourceOptions nvml_options(const TempDir& dir) {
  GpuSourceOptions o;
  o.backend = "nvml";
  o.nvml_library = SS_FAKE_NVML;
  o.proc_root = (dir.path / "proc").string();
  o.pods_dir = (dir.path / "pods").string();
  o.sample_in_thread = false;
  return o;
}

}  // namespace

TEST(GpuParse, NvidiaSmiGpus) {
  auto r = parse_smi_gpus(
      "0, GPU-aaaa, NVIDIA H200, 87, 120512\n"
      "1, GPU-bbbb, NVIDIA H100 80GB HBM3, [Not Supported], [N/A]\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].index, 0u);
  EXPECT_EQ((*r)[0].uuid, "GPU-aaaa");
  EXPECT_EQ((*r)[0].model, "NVIDIA H200");
  EXPECT_DOUBLE_EQ((*r)[0].utilization, 0.87);
  EXPECT_DOUBLE_EQ((*r)[0].memory_used_bytes, 120512 * kMiB);
  EXPECT_EQ((*r)[1].model, "NVIDIA H100 80GB HBM3");
  EXPECT_TRUE(std::isnan((*r)[1].utilization));
  EXPECT_TRUE(std::isnan((*r)[1].memory_used_bytes));
  EXPECT_TRUE(parse_smi_gpus("").ok());
  auto bad = parse_smi_gpus("0, GPU-aaaa, NVIDIA H200, 87\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_smi_gpus("x, GPU-aaaa, NVIDIA H200, 87, 1\n").ok());
}

TEST(GpuParse, NvidiaSmiApps) {
  auto r = parse_smi_apps("GPU-aaaa, 4242, 1024\nGPU-bbbb, 77, [N/A]\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].gpu_uuid, "GPU-aaaa");
  EXPECT_EQ((*r)[0].process.pid, 4242);
  EXPECT_DOUBLE_EQ((*r)[0].process.used_memory_bytes, 1024 * kMiB);
  EXPECT_EQ((*r)[1].process.pid, 77);
  EXPECT_DOUBLE_EQ((*r)[1].process.used_memory_bytes, 0);
  EXPECT_TRUE(parse_smi_apps("No running processes found\n")->empty());
  EXPECT_FALSE(parse_smi_apps("GPU-aaaa, pid, 1\n").ok());
}

TEST(GpuParse, DcgmExporterPrefersGraphicsEngineActivity) {
  auto r = parse_dcgm_metrics(
      "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
      "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-aaaa\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\","
      "Hostname=\"n1\",container=\"train\",namespace=\"ml\",pod=\"trainer-0\"} 87\n"
      "DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"0\",UUID=\"GPU-aaaa\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\","
      "Hostname=\"n1\",container=\"train\",namespace=\"ml\",pod=\"trainer-0\"} 0.912500\n"
      "DCGM_FI_DEV_FB_USED{gpu=\"0\",UUID=\"GPU-aaaa\",modelName=\"NVIDIA H100 80GB HBM3\"} 70000\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-bbbb\",modelName=\"NVIDIA H100 80GB HBM3\",hpc_job=\"4711\"} 42\n"
      "DCGM_FI_DEV_GPU_TEMP{gpu=\"1\",UUID=\"GPU-bbbb\"} 55\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].uuid, "GPU-aaaa");
  EXPECT_EQ((*r)[0].index, 0u);
  EXPECT_EQ((*r)[0].model, "NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ((*r)[0].utilization, 0.9125);  // not 0.87
  EXPECT_DOUBLE_EQ((*r)[0].memory_used_bytes, 70000 * kMiB);
  EXPECT_EQ((*r)[0].job, "ml/trainer-0");
  EXPECT_EQ((*r)[1].index, 1u);
  EXPECT_DOUBLE_EQ((*r)[1].utilization, 0.42);
  EXPECT_TRUE(std::isnan((*r)[1].memory_used_bytes));
  EXPECT_EQ((*r)[1].job, "4711");
  EXPECT_FALSE(parse_dcgm_metrics("DCGM_FI_DEV_GPU_UTIL{gpu=\"0 87\n").ok());
}

TEST(GpuParse, JobFromCgroup) {
  auto slurm2 = job_from_cgroup("0::/system.slice/slurmstepd.scope/job_4711/step_0/user/task_0\n");
  EXPECT_EQ(slurm2.kind, JobRef::Kind::Slurm);
  EXPECT_EQ(slurm2.value, "4711");
  auto slurm1 = job_from_cgroup(
      "12:memory:/slurm/uid_1000/job_815/step_batch\n11:cpuset:/slurm/uid_1000/job_815/step_batch\n"
      "1:name=systemd:/system.slice/slurmd.service\n");
  EXPECT_EQ(slurm1.kind, JobRef::Kind::Slurm);
  EXPECT_EQ(slurm1.value, "815");
  auto pod_systemd = job_from_cgroup(
      "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7d1c3a2e_5b1f_4c8e_9a0b_1234567890ab.slice/"
      "cri-containerd-0123abcd.scope\n");
  EXPECT_EQ(pod_systemd.kind, JobRef::Kind::Pod);
  EXPECT_EQ(pod_systemd.value, "7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab");
  auto pod_cgroupfs = job_from_cgroup("0::/kubepods/besteffort/pod7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab/0123abcd\n");
  EXPECT_EQ(pod_cgroupfs.kind, JobRef::Kind::Pod);
  EXPECT_EQ(pod_cgroupfs.value, "7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab");
  auto unit = job_from_cgroup("0::/system.slice/train-llama.service\n");
  EXPECT_EQ(unit.kind, JobRef::Kind::Unit);
  EXPECT_EQ(unit.value, "train-llama.service");
  EXPECT_EQ(job_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n").value, "session-3.scope");
  EXPECT_EQ(job_from_cgroup("0::/\n").kind, JobRef::Kind::None);
  EXPECT_EQ(job_from_cgroup("").kind, JobRef::Kind::None);
  EXPECT_EQ(job_from_cgroup("0::/slurm/job_abc/step_0\n").kind, JobRef::Kind::None);

  auto [uid, name] = pod_from_log_dir("ml_trainer-0_7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab");
  EXPECT_EQ(uid, "7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab");
  EXPECT_EQ(name, "ml/trainer-0");
  EXPECT_TRUE(pod_from_log_dir("not-a-pod").first.empty());
}

TEST(GpuSource, NvmlExportsTheMeanOfTheSamplesValueByValue) {
  FakeNvml fake;
  TempDir dir;
  dir.write("proc/4242/cgroup", "0::/system.slice/slurmstepd.scope/job_4711/step_0/user/task_0\n");
  dir.write("proc/4243/cgroup",
            "0::/kubepods.slice/kubepods-pod7d1c3a2e_5b1f_4c8e_9a0b_1234567890ab.slice/cri-containerd-01.scope\n");
  dir.write("proc/4244/cgroup", "0::/system.slice/notebook.service\n");
  fs::create_directories(dir.path / "pods" / "ml_trainer-0_7d1c3a2e-5b1f-4c8e-9a0b-1234567890ab");
  fake.process(0, 4242, 80ull << 30);
  fake.process(1, 4243, 60ull << 30);
  fake.process(1, 4244, 1ull << 30);  // the smaller user of GPU 1 does not name its job
  fake.memory(0, 80ull << 30);
  fake.memory(1, 61ull << 30);

  GpuSource source(nvml_options(dir));
  fake.util(0, 20);
  fake.util(1, 100);
  source.sample_once();
  EXPECT_EQ(source.backend_name(), "nvml");
  EXPECT_TRUE(fake.initialized());
  fake.util(0, 40);
  source.sample_once();
  fake.util(0, 90);  // collect() of a thread-less source takes the third sample itself
  Collection c(1763700000000);
  ASSERT_TRUE(source.collect(c).ok());

  const Sample* u0 = find(c, "gpu_utilization_ratio", "0");
  ASSERT_NE(u0, nullptr);
  EXPECT_DOUBLE_EQ(u0->value, (0.20 + 0.40 + 0.90) / 3);
  EXPECT_EQ(*u0->labels, (Labels{{"gpu", "0"}, {"job", "4711"}, {"model", "NVIDIA H200"},
                                {"uuid", "GPU-00000000-1111-2222-3333-000000000000"}}));
  const Sample* u1 = find(c, "gpu_utilization_ratio", "1");
  ASSERT_NE(u1, nullptr);
  EXPECT_DOUBLE_EQ(u1->value, 1.0);
  EXPECT_EQ(label_value(*u1->labels, "job"), "ml/trainer-0");
  EXPECT_EQ(label_value(*u1->labels, "model"), "NVIDIA H100 80GB HBM3");
  const Sample* m0 = find(c, "gpu_memory_used_bytes", "0");
  ASSERT_NE(m0, nullptr);
  EXPECT_DOUBLE_EQ(m0->value, static_cast<double>(80ull << 30));
  EXPECT_EQ(*m0->labels, (Labels{{"gpu", "0"}, {"model", "NVIDIA H200"},
                                {"uuid", "GPU-00000000-1111-2222-3333-000000000000"}}));
  EXPECT_DOUBLE_EQ(find(c, "gpu_memory_used_bytes", "1")->value, static_cast<double>(61ull << 30));
  EXPECT_EQ(c.samples().size(), 4u);
  ASSERT_NE(c.family_of("gpu_utilization_ratio"), nullptr);

  // The next interval starts afresh: only its own samples count.
  fake.util(0, 10);
  Collection next(1763700010000);
  ASSERT_TRUE(source.collect(next).ok());
  EXPECT_DOUBLE_EQ(find(next, "gpu_utilization_ratio", "0")->value, 0.10);
}

TEST(GpuSource, ManyProcessesGrowTheBuffer) {
  FakeNvml fake;
  TempDir dir;
  for (unsigned pid = 100; pid < 130; ++pid) {
    dir.write(fmt::format("proc/{}/cgroup", pid), fmt::format("0::/slurm/job_{}/step_0\n", pid < 129 ? 1 : 2));
    fake.process(0, pid, pid < 129 ? 1 : (100ull << 30));  // one process holds nearly all memory
  }
  fake.count(1);
  fake.util(0, 50);
  GpuSource source(nvml_options(dir));
  Collection c(1763700000000);
  ASSERT_TRUE(source.collect(c).ok());
  EXPECT_EQ(label_value(*find(c, "gpu_utilization_ratio", "0")->labels, "job"), "2");
}

TEST(GpuSource, WithoutDriverOrGpusItStaysQuiet) {
  TempDir dir;
  auto o = nvml_options(dir);
  o.backend = "auto";
  o.nvml_library = (dir.path / "libnvidia-ml.so.1").string();  // absent
  o.nvidia_smi = (dir.path / "nvidia-smi").string();           // absent
  GpuSource none(o);
  for (int i = 0; i < 3; ++i) {
    Collection c(1763700000000);
    EXPECT_TRUE(none.collect(c).ok());
    EXPECT_TRUE(c.samples().empty());
  }
  EXPECT_EQ(none.backend_name(), "");

  FakeNvml fake;
  fake.init_result(9);  // NVML_ERROR_DRIVER_NOT_LOADED
  GpuSource no_driver(nvml_options(dir));
  Collection c1(1763700000000);
  EXPECT_TRUE(no_driver.collect(c1).ok());
  EXPECT_TRUE(c1.samples().empty());

  fake.init_result(0);
  fake.count(0);
  GpuSource no_gpus(nvml_options(dir));
  Collection c2(1763700000000);
  EXPECT_TRUE(no_gpus.collect(c2).ok());
  EXPECT_TRUE(c2.samples().empty());
  EXPECT_EQ(no_gpus.backend_name(), "");
}

TEST(GpuSource, NvidiaSmiFallbackValueByValue) {
  TempDir dir;
  dir.write("proc/4242/cgroup", "0::/system.slice/slurmstepd.scope/job_31337/step_0\n");
  GpuSourceOptions o;
  o.backend = "auto";
  o.nvml_library = (dir.path / "absent.so").string();
  o.nvidia_smi = std::string(SS_FIXTURES_DIR) + "/gpu/nvidia-smi";
  o.proc_root = (dir.path / "proc").string();
  o.pods_dir = (dir.path / "pods").string();
  o.sample_in_thread = false;
  GpuSource source(o);
  Collection c(1763700000000);
  ASSERT_TRUE(source.collect(c).ok());
  EXPECT_EQ(source.backend_name(), "nvidia-smi");
  const Sample* u0 = find(c, "gpu_utilization_ratio", "0");
  ASSERT_NE(u0, nullptr);
  EXPECT_DOUBLE_EQ(u0->value, 0.87);
  EXPECT_EQ(*u0->labels, (Labels{{"gpu", "0"}, {"job", "31337"}, {"model", "NVIDIA H200"},
                                {"uuid", "GPU-aaaaaaaa-0000-0000-0000-000000000000"}}));
  EXPECT_DOUBLE_EQ(find(c, "gpu_memory_used_bytes", "0")->value, 120512 * kMiB);
  const Sample* u1 = find(c, "gpu_utilization_ratio", "1");
  ASSERT_NE(u1, nullptr);
  EXPECT_DOUBLE_EQ(u1->value, 0.03);
  EXPECT_EQ(label_value(*u1->labels, "job"), "");  // pid 4243 has no cgroup file here: no job label
  EXPECT_DOUBLE_EQ(find(c, "gpu_memory_used_bytes", "1")->value, 0);
  // GPU 2 reports neither value: nothing is made up for it.
  EXPECT_EQ(find(c, "gpu_utilization_ratio", "2"), nullptr);
  EXPECT_EQ(find(c, "gpu_memory_used_bytes", "2"), nullptr);
}

TEST(GpuSource, NvidiaSmiFailureIsAnErrorOnlyOnceItWorked) {
  TempDir dir;
  dir.write("smi", "#!/bin/sh\n[ -e \"$(dirname \"$0\")/broken\" ] && { echo boom >&2; exit 3; }\n"
                   "echo '0, GPU-x, NVIDIA H200, 50, 10'\n");
  fs::permissions(dir.path / "smi", fs::perms::owner_all);
  GpuSourceOptions o;
  o.backend = "nvidia-smi";
  o.nvidia_smi = (dir.path / "smi").string();
  o.proc_root = (dir.path / "proc").string();
  o.sample_in_thread = false;
  GpuSource source(o);
  Collection ok1(1763700000000);
  ASSERT_TRUE(source.collect(ok1).ok());
  EXPECT_DOUBLE_EQ(find(ok1, "gpu_utilization_ratio", "0")->value, 0.5);
  dir.write("broken", "");
  Collection bad(1763700010000);
  auto r = source.collect(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("boom"), std::string::npos) << r.error().message;
  EXPECT_TRUE(bad.samples().empty());
}

TEST(GpuSource, DcgmExporterOnLoopback) {
  httplib::Server server;
  server.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-d\",modelName=\"NVIDIA H200\",hpc_job=\"99\"} 40\n"
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"0\",UUID=\"GPU-d\",modelName=\"NVIDIA H200\",hpc_job=\"99\"} 0.25\n"
        "DCGM_FI_DEV_FB_USED{gpu=\"0\",UUID=\"GPU-d\",modelName=\"NVIDIA H200\"} 1024\n",
        "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));

  GpuSourceOptions o;
  o.backend = "dcgm";
  o.dcgm_url = fmt::format("http://127.0.0.1:{}/metrics", port);
  o.sample_in_thread = false;
  {
    GpuSource source(o);
    Collection c(1763700000000);
    ASSERT_TRUE(source.collect(c).ok());
    EXPECT_EQ(source.backend_name(), "dcgm");
    const Sample* u = find(c, "gpu_utilization_ratio", "0");
    ASSERT_NE(u, nullptr);
    EXPECT_DOUBLE_EQ(u->value, 0.25);
    EXPECT_EQ(*u->labels, (Labels{{"gpu", "0"}, {"job", "99"}, {"model", "NVIDIA H200"}, {"uuid", "GPU-d"}}));
    EXPECT_DOUBLE_EQ(find(c, "gpu_memory_used_bytes", "0")->value, 1024 * kMiB);
  }
  server.stop();
  t.join();
}

TEST(GpuSource, SamplesInItsOwnThread) {
  FakeNvml fake;
  TempDir dir;
  fake.count(1);
  fake.util(0, 60);
  auto o = nvml_options(dir);
  o.sample_in_thread = true;
  o.sample_interval_ms = 20;
  GpuSource source(o);
  for (int i = 0; i < 500 && source.pending_samples() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(source.pending_samples(), 3);
  Collection c(1763700000000);
  ASSERT_TRUE(source.collect(c).ok());
  EXPECT_DOUBLE_EQ(find(c, "gpu_utilization_ratio", "0")->value, 0.60);
}

TEST(GpuSource, Configuration) {
  AgentContext ctx;
  auto make = [&](const std::string& yaml) {
    auto node = config::load_string(yaml);
    return make_gpu_source(config::Section((*node)["gpu"], "sources.gpu"), ctx);
  };
  auto off = make("gpu: {enabled: false}\n");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->get(), nullptr);
  auto unknown = make("gpu: {backend: nvml, libary: x}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("sources.gpu.libary"), std::string::npos) << unknown.error().message;
  auto no_url = make("gpu: {backend: dcgm}\n");
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.error().message.find("dcgm_url"), std::string::npos);
  EXPECT_FALSE(make("gpu: {backend: rocm}\n").ok());
  EXPECT_FALSE(make("gpu: {sample_interval: 10ms}\n").ok());
  auto on = make(std::string("gpu: {backend: nvml, nvml_library: ") + SS_FAKE_NVML + ", sample_interval: 1s}\n");
  ASSERT_TRUE(on.ok()) << on.error().message;
  ASSERT_NE(on->get(), nullptr);
  EXPECT_EQ((*on)->name(), "gpu");
}
