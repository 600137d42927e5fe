#include "agent/sources/vfs/cgroup_jobs.h"

#include <filesystem>
#include <system_error>

#include <sys/stat.h>

#include "agent/mounts.h"

namespace ss::agent::vfs {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "kubepods-burstable-pod1f2e_33.slice" or "pod1f2e-33" → "1f2e-33"; "" when the component is no pod.
std::string pod_uid(std::string_view component) {
  if (component.ends_with(".slice")) component.remove_suffix(6);
  size_t at = component.rfind("pod");
  if (at == std::string_view::npos) return "";
  if (at != 0 && component[at - 1] != '-') return "";
  std::string uid(component.substr(at + 3));
  if (uid.size() < 8) return "";
  for (char& c : uid) {
    if (c == '_') c = '-';  // the systemd cgroup driver escapes '-' in the uid as '_'
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
    if (!hex) return "";
  }
  return uid;
}

}  // namespace

std::string job_from_cgroup_path(std::string_view path) {
  std::string unit;
  bool in_kubepods = false;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view c = path.substr(pos, end - pos);
    pos = end + 1;
    if (c.empty()) continue;
    if (c.starts_with("job_") && all_digits(c.substr(4))) return std::string(c.substr(4));
    if (c.starts_with("kubepods")) in_kubepods = true;
    if (in_kubepods) {
      std::string uid = pod_uid(c);
      if (!uid.empty()) return "pod/" + uid;
    }
    if (c.ends_with(".service") || c.ends_with(".scope")) unit = std::string(c);
  }
  return unit;
}

CgroupResolver::CgroupResolver(std::string root, size_t max_cgroups) : root_(std::move(root)), max_cgroups_(max_cgroups) {}

Result<void> CgroupResolver::refresh() {
  paths_.clear();
  if (root_.empty()) return ok();
  namespace fs = std::filesystem;
  struct stat st {};
  if (stat(root_.c_str(), &st) != 0) return errorf("cgroup root {}: cannot stat", root_);
  paths_[st.st_ino] = "/";
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return errorf("cgroup root {}: {}", root_, ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;  // a cgroup removed while walking ends this walk; the next cycle walks again
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (stat(it->path().c_str(), &st) != 0) continue;
    paths_[st.st_ino] = "/" + fs::relative(it->path(), root_, ec).string();
    if (paths_.size() >= max_cgroups_) break;
  }
  return ok();
}

const std::string* CgroupResolver::path_of(uint64_t cgroup_id) const {
  auto it = paths_.find(cgroup_id);
  return it == paths_.end() ? nullptr : &it->second;
}

std::string find_cgroup2_root(std::string_view mountinfo) {
  for (const Mount& m : parse_mountinfo(mountinfo).mounts)
    if (m.fstype == "cgroup2") return m.mount_point;
  return "";
}

}  // namespace ss::agent::vfs
