// Shared set-up of the eBPF tests: root check, a private mount namespace with a fresh tmpfs, mount → dev
// lookup, and a cgroup v2 directory where the host allows one. Every missing capability is a loud skip, which
// scripts/test.sh turns into a failure (tests/support/test_main.cpp).
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "agent/mounts.h"
#include "agent/sources/vfs/cgroup_jobs.h"
#include "agent/sources/vfs/vfs_probe.h"

namespace ss::test {

inline std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<agent::vfs::WatchedMount> all_mounts_watched() {
  std::vector<agent::vfs::WatchedMount> out;
  for (const auto& m : agent::parse_mountinfo(read_all("/proc/self/mountinfo")).mounts)
    out.push_back({agent::vfs::kernel_dev(m.major, m.minor), m.mount_point, true});
  return out;
}

// The kernel dev of the file system `path` is on, by its mount id (statx) in the mount table.
inline uint32_t dev_of_path(const std::string& path) {
  struct statx sx {};
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &sx) != 0) return 0;
  for (const auto& m : agent::parse_mountinfo(read_all("/proc/self/mountinfo")).mounts)
    if (static_cast<uint64_t>(m.mount_id) == sx.stx_mnt_id) return agent::vfs::kernel_dev(m.major, m.minor);
  return 0;
}

// Private mount namespace + tmpfs: made once per test program (unshare needs a single-threaded process).
class VfsEnv {
 public:
  static VfsEnv& get() {
    static VfsEnv env;
    return env;
  }
  // Empty when usable, else why not (the caller skips with it).
  const std::string& skip_reason() const { return skip_; }
  const std::string& tmpfs() const { return tmpfs_; }

 private:
  VfsEnv() {
    if (geteuid() != 0) {
      skip_ = "the eBPF tests need root (BPF, mounts)";
      return;
    }
    if (unshare(CLONE_NEWNS) != 0) {
      skip_ = std::string("no private mount namespace: ") + std::strerror(errno);
      return;
    }
    // Nothing mounted here may reach the host's mount table. Where / is a mount point, making it private
    // (recursively) is enough. Where it is not (a chroot), / cannot be named (EINVAL): every mount that can be
    // seen is made private, and the test's directory, which lies on the unseen one, is bind-mounted onto
    // itself and made private before the tmpfs goes on it.
    bool root_private = mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    if (!root_private) {
      if (errno != EINVAL) {
        skip_ = std::string("cannot make / private in a new mount namespace: ") + std::strerror(errno);
        return;
      }
      for (const auto& m : agent::parse_mountinfo(read_all("/proc/self/mountinfo")).mounts)
        mount(nullptr, m.mount_point.c_str(), nullptr, MS_REC | MS_PRIVATE, nullptr);
    }
    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr);  // for the syscalls mode; private here
    std::string dir = (std::filesystem::temp_directory_path() / "ss-vfs-test-XXXXXX").string();
    if (!mkdtemp(dir.data())) {
      skip_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    if (!root_private) {
      if (mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
          mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
        skip_ = "cannot bind-mount " + dir + " onto itself: " + std::strerror(errno);
        umount2(dir.c_str(), MNT_DETACH);
        rmdir(dir.c_str());
        return;
      }
      self_bound_ = true;
    }
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16m") != 0) {
      skip_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
      if (self_bound_) umount2(dir.c_str(), MNT_DETACH);
      rmdir(dir.c_str());
      return;
    }
    tmpfs_ = dir;
  }
  ~VfsEnv() {
    if (!tmpfs_.empty()) {
      umount2(tmpfs_.c_str(), MNT_DETACH);
      if (self_bound_) umount2(tmpfs_.c_str(), MNT_DETACH);  // the bind under it; its copy on the host goes too
      rmdir(tmpfs_.c_str());
    }
  }
  std::string skip_;
  std::string tmpfs_;
  bool self_bound_ = false;
};

// A cgroup v2 directory for the test (removed by the destructor), or a reason why there is none.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& leaf) {
    root_ = agent::vfs::find_cgroup2_root(read_all("/proc/self/mountinfo"));
    if (root_.empty()) {
      skip_ = "no cgroup2 mount on this host";
      return;
    }
    top_ = root_ + "/ss-vfs-test-" + std::to_string(getpid());
    if (mkdir(top_.c_str(), 0755) != 0) {
      skip_ = "cannot create a cgroup under " + root_ + ": " + std::strerror(errno);
      top_.clear();
      return;
    }
    path_ = top_ + "/" + leaf;
    if (mkdir(path_.c_str(), 0755) != 0) {
      skip_ = "cannot create a cgroup " + path_ + ": " + std::strerror(errno);
      path_.clear();
      return;
    }
    struct stat st {};
    stat(path_.c_str(), &st);
    id_ = st.st_ino;
  }
  ~TestCgroup() {
    if (!path_.empty()) rmdir(path_.c_str());
    if (!top_.empty()) rmdir(top_.c_str());
  }
  const std::string& skip_reason() const { return skip_; }
  const std::string& root() const { return root_; }
  const std::string& path() const { return path_; }
  uint64_t id() const { return id_; }
  // Moves process `pid` into the cgroup.
  bool add(pid_t pid) const {
    std::ofstream procs(path_ + "/cgroup.procs");
    procs << pid << "\n";
    procs.flush();
    return procs.good();
  }

 private:
  std::string root_, top_, path_, skip_;
  uint64_t id_ = 0;
};

#define SS_SKIP_WITHOUT_VFS_ENV()                                                          \
  do {                                                                                     \
    if (!ss::test::VfsEnv::get().skip_reason().empty())                                    \
      GTEST_SKIP() << "SKIPPED: " << ss::test::VfsEnv::get().skip_reason();                \
  } while (0)

}  // namespace ss::test
