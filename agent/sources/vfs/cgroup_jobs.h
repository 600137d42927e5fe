// Cgroup → job: the probes see a cgroup v2 id (the inode number of the cgroup's directory); this maps it
// to the cgroup path by walking the cgroup2 mount, and the path to a job id (DESIGN.md §3: bare ids).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace ss::agent::vfs {

// Pure. "/slurm/uid_1000/job_4711/step_0" → "4711" (Slurm, v1 or v2 layout);
// ".../kubepods-burstable-pod1f2e_33.slice/cri-containerd-ab.scope" → "pod/1f2e-33" (the pod uid: the
// namespace and name are not in the cgroup path); ".../nginx.service" → "nginx.service" (the innermost
// systemd unit); "" for the root cgroup and anything else.
std::string job_from_cgroup_path(std::string_view path);

class CgroupResolver {
 public:
  // root: the cgroup2 mount point ("/sys/fs/cgroup" on v2 nodes, "/sys/fs/cgroup/unified" on hybrid ones);
  // "" when the node has no cgroup2 mount (every id then resolves to no job).
  explicit CgroupResolver(std::string root, size_t max_cgroups = 100'000);

  // Walks the hierarchy again (ids of removed cgroups disappear, new ones appear).
  Result<void> refresh();

  // The path below the root ("/" for the root cgroup), or nullptr when the id is unknown.
  const std::string* path_of(uint64_t cgroup_id) const;

  const std::string& root() const { return root_; }
  size_t size() const { return paths_.size(); }

 private:
  std::string root_;
  size_t max_cgroups_;
  std::unordered_map<uint64_t, std::string> paths_;
};

// The cgroup2 mount point from /proc/self/mountinfo text, "" when there is none.
std::string find_cgroup2_root(std::string_view mountinfo);

}  // namespace ss::agent::vfs
