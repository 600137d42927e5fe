#include "agent/sources/lustre/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "agent/sources/lustre/lctl_format.h"
#include "agent/sources/lustre/names.h"
#include "common/exec.h"

namespace ss::agent::lustre {

std::string ParamRequest::lctl_pattern() const {
  std::string d = dir;
  for (char& c : d)
    if (c == '/') c = '.';
  return d + ".*." + param;
}

ParamReader::ParamReader(ReaderOptions options) : options_(std::move(options)) {
  std::string root = options_.root.empty() ? "/" : options_.root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root == "/") root.clear();
  // lctl's search order: sysfs, debugfs, procfs.
  bases_ = {root + "/sys/fs/lustre", root + "/sys/kernel/debug/lustre", root + "/proc/fs/lustre"};
  if (options_.keep_open != KeepOpen::Off) {
    // The descriptors are this reader's own need: raise the soft limit to the hard one (as Go programs do)
    // and keep at most half of what is left, so that the rest of the agent never runs short.
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
      if (nofile.rlim_cur < nofile.rlim_max) {
        rlimit raised{nofile.rlim_max, nofile.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) nofile = raised;
      }
      rlim_t spare = nofile.rlim_cur > 256 ? (nofile.rlim_cur - 256) / 2 : 0;
      keep_limit_ = static_cast<size_t>(std::min<rlim_t>(spare, 65'536));
    }
  }
}

bool ParamReader::lustre_present() const {
  struct stat st{};
  return ::stat(bases_[0].c_str(), &st) == 0 || ::stat(bases_[2].c_str(), &st) == 0;
}

bool ParamReader::has_dir(std::string_view dir) const {
  struct stat st{};
  for (const auto& b : bases_) {
    std::string p = b + "/" + std::string(dir);
    if (::stat(p.c_str(), &st) == 0) return true;
  }
  return false;
}

namespace {

bool denied_errno(int e) { return e == EACCES || e == EPERM; }

// Whether a file of this directory's file system gives fresh text when read again from offset 0 through a
// descriptor kept open, and can be kept open safely while Lustre removes the device.
bool kernel_files_keepable(int dir_fd) {
  struct statfs fs{};
  if (::fstatfs(dir_fd, &fs) != 0) return false;
  constexpr long kProc = 0x9fa0, kSysfs = 0x62656572, kDebugfs = 0x64626720;
  if (fs.f_type == kProc || fs.f_type == kSysfs) return true;
  if (fs.f_type != kDebugfs) return false;
  // Debugfs has protected open files against removal since Linux 4.7 (debugfs_file_get).
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 4 || (major == 4 && minor >= 7);
}

// Reads a whole (proc/sys/debugfs) file from offset 0: their size is unknown until read. seq_file and sysfs
// reads fill the buffer unless the text ends, so a short read is the end and saves a second read() per file.
// A directory opened by mistake fails with EISDIR: `*is_dir` tells the caller to skip it quietly.
Result<void> read_fd(int fd, std::string& out, bool* is_dir) {
  out.clear();
  char chunk[16384];
  while (true) {
    ssize_t n = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EISDIR && is_dir) *is_dir = true;
      return errorf("{}", std::strerror(errno));
    }
    out.append(chunk, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof chunk) return ok();
  }
}

}  // namespace

ParamReader::~ParamReader() {
  for (auto& [dir, l] : listings_)
    if (l.fd >= 0) ::close(l.fd);
  for (auto& [path, f] : kept_) ::close(f.fd);
}

ParamReader::Listing& ParamReader::list(const std::string& dir) {
  Listing& l = listings_[dir];
  if (!l.stale && reads_ - l.made < static_cast<uint64_t>(std::max<int64_t>(1, options_.relist_reads))) return l;
  l.made = reads_;
  l.stale = false;
  l.error = 0;
  if (l.fd >= 0) ::close(l.fd);
  l.fd = -1;
  size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    l.error = errno;
  } else {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string_view name = e->d_name;
      if (n == l.devices.size()) {
        l.devices.emplace_back(name);
        l.target_hashes.push_back(target_hash(name));
      } else if (l.devices[n] != name) {
        l.devices[n].assign(name);
        l.target_hashes[n] = target_hash(name);
      }
      ++n;
    }
    l.fd = ::dup(::dirfd(d));  // kept for openat() after the stream is closed
    ::closedir(d);
  }
  l.devices.resize(n);
  l.target_hashes.resize(n);
  l.keep_open = options_.keep_open == KeepOpen::On || (options_.keep_open == KeepOpen::Auto && l.fd >= 0 &&
                                                        kernel_files_keepable(l.fd));
  return l;
}

void ParamReader::forget_listings(std::string_view dir) {
  for (const auto& b : bases_)
    if (auto it = listings_.find(b + "/" + std::string(dir)); it != listings_.end()) it->second.stale = true;
}

void ParamReader::close_unused_files() {
  std::erase_if(kept_, [&](const auto& kv) {
    if (kv.second.read == reads_) return false;
    ::close(kv.second.fd);
    return true;
  });
}

void ParamReader::for_each_file(const ParamRequest& req, bool& denied,
                                const std::function<Outcome(const std::string& device, int fd, bool reused)>& fn) {
  std::string key = req.dir + "\n" + req.param;
  auto pref = preferred_.find(key);
  size_t first = pref == preferred_.end() ? 0 : pref->second;
  std::string rel, path;
  for (size_t k = 0; k < bases_.size(); ++k) {
    size_t b = k == 0 ? first : (k <= first ? k - 1 : k);
    std::string dir_path = bases_[b] + "/" + req.dir;
    Listing& dir = list(dir_path);
    if (dir.fd < 0) {
      if (denied_errno(dir.error)) denied = true;
      continue;
    }
    const bool keep = req.keep_open && dir.keep_open;
    bool found = false, skipped = false;
    const bool sliced = req.slice.count > 1;
    for (size_t d = 0; d < dir.devices.size(); ++d) {
      const std::string& device = dir.devices[d];
      if (sliced && dir.target_hashes[d] % req.slice.count != req.slice.index) {
        skipped = true;
        continue;
      }
      rel.assign(device).append("/").append(req.param);
      if (keep) {
        path.assign(dir_path).append("/").append(rel);
        if (auto it = kept_.find(path); it != kept_.end()) {
          Outcome o = fn(device, it->second.fd, true);
          if (o != Outcome::Failed) {
            it->second.read = reads_;
            found = found || o == Outcome::Read;
            continue;
          }
          ::close(it->second.fd);  // removed, perhaps re-added: open it again below
          kept_.erase(it);
          dir.stale = true;
        }
      }
      int fd = ::openat(dir.fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        if (denied_errno(errno)) denied = true;
        // A listed device that is gone: the listing is out of date. (Entries that never had the parameter,
        // such as the files beside the devices, fail with ENOTDIR every time and say nothing.)
        if (errno == ENOENT) dir.stale = true;
        continue;
      }
      Outcome o = fn(device, fd, false);
      if (o != Outcome::NotAFile) found = true;
      if (keep && o == Outcome::Read && kept_.size() < keep_limit_) kept_.emplace(path, KeptFile{fd, reads_});
      else ::close(fd);
    }
    // A parameter lives in one place per Lustre version: stop at the first base that has it. When the
    // filter left nothing to read here, the base that had it last time is still the right one.
    if (found || (skipped && pref != preferred_.end() && b == first)) {
      preferred_[key] = b;
      denied = false;
      return;
    }
  }
}

Result<std::string> ParamReader::run_lctl(const std::vector<std::string>& patterns) {
  if (options_.lctl.empty())
    return errorf("{} not readable (debugfs needs root) and the lctl fallback is off", patterns.front());
  ++lctl_runs_;
  std::vector<std::string> argv{options_.lctl, "get_param"};
  argv.insert(argv.end(), patterns.begin(), patterns.end());
  ExecOptions eo;
  eo.timeout_ms = options_.lctl_timeout_ms;
  auto r = run_command(argv, eo);
  if (!r) return errorf("running {}: {}", options_.lctl, r.error().message);
  // lctl exits non-zero when one pattern matches nothing; keep what it printed for the others.
  if (r->timed_out || r->signal != 0 || (r->exit_code != 0 && r->out.empty()))
    return errorf("{} get_param: {}", options_.lctl, r->describe());
  return std::move(r->out);
}

const ParamReader::Batch& ParamReader::read(const std::vector<ParamRequest>& requests) {
  Batch& batch = batch_;
  batch.errors.clear();
  batch.values.resize(requests.size());
  // values[i] holds last cycle's entries: the first used[i] are this cycle's, assigned in place.
  std::vector<size_t> used(requests.size(), 0);
  // The slot request i's next value takes (its strings keep last cycle's capacity); ++used[i] counts it.
  auto next_slot = [&](size_t i) -> ParamValue& {
    auto& list = batch.values[i];
    if (used[i] == list.size()) list.emplace_back();
    return list[used[i]];
  };
  std::vector<size_t> need_lctl;
  ++reads_;
  for (size_t i = 0; i < requests.size(); ++i) {
    bool denied = false;
    for_each_file(requests[i], denied, [&](const std::string& device, int fd, bool reused) {
      // Read straight into the slot, and count it only once the read succeeded.
      ParamValue& slot = next_slot(i);
      bool is_dir = false;
      auto r = read_fd(fd, slot.text, &is_dir);
      // A kept file of a removed device fails (EIO, ENODEV) or reads empty: the caller reopens it.
      if (reused && (!r || slot.text.empty())) return Outcome::Failed;
      if (!r) {
        if (is_dir) return Outcome::NotAFile;
        batch.errors.push_back(fmt::format("{}.{}: {}", requests[i].dir, device, r.error().message));
        return Outcome::Failed;
      }
      slot.device.assign(device);
      ++used[i];
      return Outcome::Read;
    });
    if (denied) need_lctl.push_back(i);
  }
  close_unused_files();
  if (!need_lctl.empty()) {
    std::vector<std::string> patterns;
    for (size_t i : need_lctl) patterns.push_back(requests[i].lctl_pattern());
    auto out = run_lctl(patterns);
    if (!out) batch.errors.push_back(out.error().message);
    for (auto& p : out ? parse_lctl_get_param(*out) : std::vector<LctlParam>{}) {
      for (size_t i : need_lctl) {
        const ParamRequest& req = requests[i];
        std::string prefix = req.lctl_pattern();
        prefix.resize(prefix.size() - req.param.size() - 2);  // "ldlm.namespaces."
        auto dev = match_param(p.name, prefix, "." + req.param);
        if (!dev) continue;
        if (req.slice.count > 1 && target_hash(*dev) % req.slice.count != req.slice.index) break;
        bool have = false;
        for (size_t k = 0; k < used[i]; ++k) have = have || batch.values[i][k].device == *dev;
        if (!have) {
          ParamValue& slot = next_slot(i);
          slot.device.assign(*dev);
          slot.text.assign(p.value);
          ++used[i];
        }
        break;
      }
    }
  }
  for (size_t i = 0; i < requests.size(); ++i) batch.values[i].resize(used[i]);
  return batch;
}

Result<void> ParamReader::stream(const ParamRequest& req, const ChunkSink& sink) {
  forget_listings(req.dir);  // read rarely and in full: always from a fresh listing
  bool denied = false;
  std::vector<std::string> problems;
  for_each_file(req, denied, [&](const std::string& device, int fd, bool) {
    char chunk[65536];
    while (true) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EISDIR) return Outcome::NotAFile;
      if (n < 0) problems.push_back(fmt::format("{}.{}: {}", req.dir, device, std::strerror(errno)));
      if (n <= 0) break;
      sink(device, std::string_view(chunk, static_cast<size_t>(n)));
    }
    sink(device, {});
    return Outcome::Read;
  });
  if (denied) {
    auto out = run_lctl({req.lctl_pattern()});
    if (!out) {
      problems.push_back(out.error().message);
    } else {
      std::string prefix = req.lctl_pattern();
      prefix.resize(prefix.size() - req.param.size() - 2);
      for (auto& p : parse_lctl_get_param(*out)) {
        auto dev = match_param(p.name, prefix, "." + req.param);
        if (!dev || (req.slice.count > 1 && target_hash(*dev) % req.slice.count != req.slice.index)) continue;
        sink(*dev, p.value);
        sink(*dev, {});
      }
    }
  }
  if (!problems.empty()) return Error{problems.front()};
  return ok();
}

}  // namespace ss::agent::lustre
