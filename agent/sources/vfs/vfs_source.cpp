#include "agent/sources/vfs/vfs_source.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "agent/mounts.h"
#include "agent/sources/vfs/cgroup_jobs.h"
#include "agent/sources/vfs/hot_dirs.h"
#include "agent/sources/vfs/vfs_aggregate.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::agent {

using namespace vfs;

bool is_pseudo_fstype(std::string_view t) {
  static constexpr std::string_view pseudo[] = {
      "proc",     "sysfs",  "cgroup",   "cgroup2",     "devpts",    "mqueue",   "debugfs",  "tracefs",
      "securityfs", "pstore", "bpf",    "configfs",    "fusectl",   "hugetlbfs", "autofs",  "binfmt_misc",
      "devtmpfs", "nsfs",   "efivarfs", "rpc_pipefs", "selinuxfs", "sockfs",   "pipefs",  "anon_inodefs"};
  return std::find(std::begin(pseudo), std::end(pseudo), t) != std::end(pseudo);
}

Result<VfsOptions> parse_vfs_options(const config::Section& s) {
  return config::read([&] {
    s.allow_only({"enabled", "attach", "fstypes", "top_jobs", "hot_dirs", "hot_dir_samples_per_cpu",
                  "timed_calls_per_cpu", "exact_path_calls_per_cpu", "max_keys", "mount_tracefs", "exclude_self", "only_pid", "cgroup_root",
                  "retry"});
    VfsOptions o;
    o.enabled = s.boolean("enabled", false);
    auto mode = parse_attach_mode(s.string("attach", "auto"));
    if (!mode) s.fail("attach", mode.error().message);
    o.probe.attach = *mode;
    o.fstypes = s.strings("fstypes", {});
    auto non_negative = [&](std::string_view key, int64_t def, int64_t max) {
      int64_t v = s.integer(key, def);
      if (v < 0 || v > max) s.fail(key, fmt::format("must be between 0 and {}", max));
      return v;
    };
    o.top_jobs = static_cast<size_t>(non_negative("top_jobs", 20, 10'000));
    o.hot_dirs = static_cast<size_t>(non_negative("hot_dirs", 10, 1'000));
    o.probe.samples_per_sec = static_cast<uint64_t>(non_negative("hot_dir_samples_per_cpu", 1000, 1'000'000));
    if (o.hot_dirs == 0) o.probe.samples_per_sec = 0;
    o.probe.timed_per_sec = static_cast<uint64_t>(non_negative("timed_calls_per_cpu", 20000, 100'000'000));
    o.probe.attributed_per_sec = static_cast<uint64_t>(non_negative("exact_path_calls_per_cpu", 50000, 100'000'000));
    o.probe.max_keys = static_cast<uint32_t>(non_negative("max_keys", 16384, 1'000'000));
    if (o.probe.max_keys == 0) s.fail("max_keys", "must be positive");
    o.probe.mount_tracefs = s.boolean("mount_tracefs", true);
    if (s.boolean("exclude_self", true)) o.probe.ignore_tgid = static_cast<uint32_t>(getpid());
    o.probe.target_tgid = static_cast<uint32_t>(non_negative("only_pid", 0, 1 << 30));
    o.cgroup_root = s.string("cgroup_root", "");
    o.retry_ms = s.duration_ms("retry", 60'000);
    return o;
  });
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// What the sampler thread needs to label a path sample; replaced as a whole each cycle.
struct Labeling {
  std::unordered_map<uint32_t, MountLabel> mounts;  // dev → labels
  std::unordered_map<uint64_t, std::string> jobs;   // cgroup id → job
};

class VfsSource final : public Source {
 public:
  VfsSource(VfsOptions options, AgentContext ctx)
      : options_(std::move(options)), ctx_(std::move(ctx)), aggregate_({options_.top_jobs, 30}) {}

  ~VfsSource() override { stop_sampler(); }

  std::string_view name() const override { return "vfs"; }

  Result<void> collect(Collection& out) override {
    if (!probe_) {
      if (last_attempt_ms_ && monotonic_ms() - last_attempt_ms_ < options_.retry_ms) return last_error_;
      last_attempt_ms_ = monotonic_ms();
      auto probe = Probe::load(options_.probe);
      if (!probe) {
        last_error_ = probe.error();
        log::warn("vfs: {}", last_error_.message);
        return last_error_;
      }
      probe_ = std::move(probe.value());
      for (const std::string& why : probe_->fallbacks()) log::info("vfs: fell back: {}", why);
      log::info("vfs: probes attached ({} mode{})", attach_mode_name(probe_->mode()),
                probe_->missing_programs() ? fmt::format(", {} hooks absent from this kernel", probe_->missing_programs())
                                           : std::string());
      if (options_.hot_dirs > 0) start_sampler();
    }

    auto labeling = std::make_shared<Labeling>();
    std::string mountinfo = read_text(ctx_.proc_root + "/self/mountinfo");
    MountTable table = parse_mountinfo(mountinfo);
    std::vector<WatchedMount> mounts;
    for (const Mount& m : table.mounts) {
      bool watched = options_.fstypes.empty()
                         ? !is_pseudo_fstype(m.fstype)
                         : std::find(options_.fstypes.begin(), options_.fstypes.end(), m.fstype) != options_.fstypes.end();
      uint32_t dev = kernel_dev(m.major, m.minor);
      mounts.push_back({dev, m.mount_point, watched});
      if (!watched) continue;
      // One label per file system: the shortest mount point of its root, else its first mount; `fs` follows
      // the mount point chosen, since fs_names may rename a mount point.
      auto [it, fresh] = labeling->mounts.try_emplace(dev, MountLabel{m.fstype, m.mount_point, ""});
      if (fresh || (m.root == "/" && m.mount_point.size() < it->second.mount.size())) {
        it->second.mount = m.mount_point;
        it->second.fs = fs_of_mount(m, ctx_.fs_names);
      }
    }
    if (mounts != last_mounts_) {
      if (auto r = probe_->set_mounts(mounts); !r) return r;
      last_mounts_ = std::move(mounts);
    }

    if (!cgroups_) {
      std::string root = options_.cgroup_root.empty() ? find_cgroup2_root(mountinfo) : options_.cgroup_root;
      cgroups_ = std::make_unique<CgroupResolver>(root);
    }
    if (auto r = cgroups_->refresh(); !r) log::debug("vfs: {}", r.error().message);

    auto counts = probe_->read_counts();
    if (!counts) return counts.error();
    auto job_of = [&](uint64_t id) {
      const std::string* path = cgroups_->path_of(id);
      return path ? job_from_cgroup_path(*path) : std::string();
    };
    for (const OpCounts& c : *counts) labeling->jobs.try_emplace(c.key.cgroup_id, job_of(c.key.cgroup_id));
    aggregate_.update(*counts, job_of, [&](uint32_t dev) -> const MountLabel* {
      auto it = labeling->mounts.find(dev);
      return it == labeling->mounts.end() ? nullptr : &it->second;
    });
    // Entries of removed cgroups never change again: drop them so short-lived cgroups do not fill the map.
    if (!cgroups_->root().empty() && cgroups_->size() > 0) {
      std::vector<ss_op_key> dead;
      for (const OpCounts& c : *counts)
        if (!cgroups_->path_of(c.key.cgroup_id)) dead.push_back(c.key);
      probe_->forget(dead);
      aggregate_.forget_keys(dead);
    }
    aggregate_.emit(out);

    ProbeCounters pc = probe_->counters();
    out.describe("vfs_probe_info", MetricKind::Gauge, "The eBPF probes' attach mode (value 1).");
    out.add("vfs_probe_info", {{"mode", std::string(attach_mode_name(probe_->mode()))}}, 1);
    out.describe("vfs_probe_dropped_total", MetricKind::Counter,
                 "Probe records lost: reason=map_full (aggregation map full), samples (path ring buffer full).");
    out.add("vfs_probe_dropped_total", {{"reason", "map_full"}}, static_cast<double>(pc.map_full));
    out.add("vfs_probe_dropped_total", {{"reason", "samples"}}, static_cast<double>(pc.samples_lost));

    {
      std::lock_guard lock(mu_);
      labeling_ = labeling;
      if (options_.hot_dirs > 0)
        for (Event& e : HotDirs::events(hot_.take(options_.hot_dirs), out.t_ms())) out.add_event(std::move(e));
    }
    return ok();
  }

 private:
  void start_sampler() {
    stop_ = false;
    sampler_ = std::thread([this] { sample_loop(); });
  }

  void stop_sampler() {
    stop_ = true;
    if (sampler_.joinable()) sampler_.join();
  }

  void sample_loop() {
    std::function<void(const ss_path_sample&)> sink = [this](const ss_path_sample& s) { on_sample(s); };
    while (!stop_) {
      auto n = probe_->poll_samples(200, sink);
      if (!n) {
        log::warn("vfs: {}", n.error().message);
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      if (monotonic_ms() - cwd_cache_ms_ > 1000) {  // working directories change: keep them briefly
        cwd_cache_.clear();
        cwd_cache_ms_ = monotonic_ms();
      }
    }
  }

  // Resolves the sample to its directory (DESIGN: paths of the agent's mount namespace, see docs/ebpf.md).
  void on_sample(const ss_path_sample& s) {
    std::string path(s.path, strnlen(s.path, sizeof(s.path)));
    std::string proc = ctx_.proc_root + "/" + std::to_string(s.tgid);
    std::string dir;
    switch (s.base) {
      case SS_BASE_ABSOLUTE: dir = parent_dir(normalize_path(path)); break;
      case SS_BASE_CWD: {
        auto [it, fresh] = cwd_cache_.try_emplace(s.tgid);
        if (fresh) it->second = read_link(proc + "/cwd");
        if (it->second.empty() || path.empty()) return;
        dir = parent_dir(normalize_path(it->second + "/" + path));
        break;
      }
      case SS_BASE_DIRFD: {
        std::string base = read_link(proc + "/fd/" + std::to_string(s.fd));
        if (base.empty() || path.empty()) return;
        dir = parent_dir(normalize_path(base + "/" + path));
        break;
      }
      default: {
        std::string target = normalize_path(read_link(proc + "/fd/" + std::to_string(s.fd)));
        if (target.empty()) return;
        dir = s.op == SS_OP_READDIR ? target : parent_dir(target);
      }
    }
    if (dir.empty()) return;
    std::string comm(s.comm, strnlen(s.comm, sizeof(s.comm)));
    std::lock_guard lock(mu_);
    if (!labeling_) return;
    auto m = labeling_->mounts.find(s.dev);
    if (m == labeling_->mounts.end()) return;  // unmounted meanwhile
    auto j = labeling_->jobs.find(s.cgroup_id);
    hot_.add({m->second.fstype, m->second.fs}, dir, j == labeling_->jobs.end() ? "" : j->second, comm, s.weight);
  }

  VfsOptions options_;
  AgentContext ctx_;
  std::unique_ptr<Probe> probe_;
  Error last_error_{"vfs: probes not loaded yet"};
  int64_t last_attempt_ms_ = 0;
  std::vector<WatchedMount> last_mounts_;
  std::unique_ptr<CgroupResolver> cgroups_;
  VfsAggregate aggregate_;

  std::thread sampler_;
  std::atomic<bool> stop_{false};
  std::unordered_map<uint32_t, std::string> cwd_cache_;  // sampler thread only
  int64_t cwd_cache_ms_ = 0;
  std::mutex mu_;  // guards hot_ and labeling_
  HotDirs hot_;
  std::shared_ptr<const Labeling> labeling_;
};

}  // namespace

std::unique_ptr<Source> make_vfs_source(const VfsOptions& options, const AgentContext& ctx) {
  if (!options.enabled) return nullptr;
  return std::make_unique<VfsSource>(options, ctx);
}

Result<std::unique_ptr<Source>> make_vfs_source(const config::Section& section, const AgentContext& ctx) {
  auto options = parse_vfs_options(section);
  if (!options) return options.error();
  return make_vfs_source(*options, ctx);
}

}  // namespace ss::agent
