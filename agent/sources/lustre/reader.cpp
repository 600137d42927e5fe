#include "agent/sources/lustre/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/sources/lustre/lctl_format.h"
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

// Reads a whole (proc/sys/debugfs) file: their size is unknown until read. seq_file and sysfs reads fill
// the buffer unless the text ends, so a short read is the end and saves a second read() per file.
// A directory opened by mistake fails with EISDIR: `*is_dir` tells the caller to skip it quietly.
Result<void> read_fd(int fd, std::string& out, bool* is_dir) {
  out.clear();
  char chunk[16384];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
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

ParamReader::~ParamReader() { forget_listings(); }

const ParamReader::Listing& ParamReader::list(const std::string& dir) {
  auto [it, added] = listings_.try_emplace(dir);
  Listing& l = it->second;
  if (!added) return l;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    l.error = errno;
    return l;
  }
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') l.devices.emplace_back(e->d_name);
  l.fd = ::dup(::dirfd(d));  // kept for openat() after the stream is closed
  ::closedir(d);
  return l;
}

void ParamReader::forget_listings() {
  for (auto& [dir, l] : listings_)
    if (l.fd >= 0) ::close(l.fd);
  listings_.clear();
}

void ParamReader::for_each_file(const ParamRequest& req, bool& denied,
                                const std::function<bool(const std::string& device, int fd)>& fn) {
  std::string key = req.dir + "\n" + req.param;
  auto pref = preferred_.find(key);
  size_t first = pref == preferred_.end() ? 0 : pref->second;
  std::string rel;
  for (size_t k = 0; k < bases_.size(); ++k) {
    size_t b = k == 0 ? first : (k <= first ? k - 1 : k);
    const Listing& dir = list(bases_[b] + "/" + req.dir);
    if (dir.fd < 0) {
      if (denied_errno(dir.error)) denied = true;
      continue;
    }
    bool found = false, skipped = false;
    for (const std::string& device : dir.devices) {
      if (req.only && !req.only(device)) {
        skipped = true;
        continue;
      }
      rel.assign(device).append("/").append(req.param);
      int fd = ::openat(dir.fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        if (denied_errno(errno)) denied = true;
        continue;
      }
      if (fn(device, fd)) found = true;
      ::close(fd);
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

ParamReader::Batch ParamReader::read(const std::vector<ParamRequest>& requests) {
  Batch batch;
  batch.values.resize(requests.size());
  std::vector<size_t> need_lctl;
  for (size_t i = 0; i < requests.size(); ++i) {
    bool denied = false;
    for_each_file(requests[i], denied, [&](const std::string& device, int fd) {
      bool is_dir = false;
      if (auto r = read_fd(fd, buffer_, &is_dir); !r) {
        if (is_dir) return false;
        batch.errors.push_back(fmt::format("{}.{}: {}", requests[i].dir, device, r.error().message));
        return true;
      }
      batch.values[i].push_back(ParamValue{device, buffer_});
      return true;
    });
    if (denied) need_lctl.push_back(i);
  }
  forget_listings();  // devices come and go between cycles
  if (need_lctl.empty()) return batch;
  std::vector<std::string> patterns;
  for (size_t i : need_lctl) patterns.push_back(requests[i].lctl_pattern());
  ++batch.lctl_runs;
  auto out = run_lctl(patterns);
  if (!out) {
    batch.errors.push_back(out.error().message);
    return batch;
  }
  for (auto& p : parse_lctl_get_param(*out)) {
    for (size_t i : need_lctl) {
      std::string prefix = requests[i].lctl_pattern();
      prefix.resize(prefix.size() - requests[i].param.size() - 2);  // "ldlm.namespaces."
      auto dev = match_param(p.name, prefix, "." + requests[i].param);
      if (!dev) continue;
      if (requests[i].only && !requests[i].only(*dev)) break;
      bool have = false;
      for (const auto& v : batch.values[i]) have = have || v.device == *dev;
      if (!have) batch.values[i].push_back(ParamValue{std::string(*dev), std::move(p.value)});
      break;
    }
  }
  return batch;
}

Result<void> ParamReader::stream(const ParamRequest& req, const ChunkSink& sink) {
  bool denied = false;
  std::vector<std::string> problems;
  for_each_file(req, denied, [&](const std::string& device, int fd) {
    char chunk[65536];
    while (true) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EISDIR) return false;
      if (n < 0) problems.push_back(fmt::format("{}.{}: {}", req.dir, device, std::strerror(errno)));
      if (n <= 0) break;
      sink(device, std::string_view(chunk, static_cast<size_t>(n)));
    }
    sink(device, {});
    return true;
  });
  forget_listings();
  if (denied) {
    auto out = run_lctl({req.lctl_pattern()});
    if (!out) {
      problems.push_back(out.error().message);
    } else {
      std::string prefix = req.lctl_pattern();
      prefix.resize(prefix.size() - req.param.size() - 2);
      for (auto& p : parse_lctl_get_param(*out)) {
        auto dev = match_param(p.name, prefix, "." + req.param);
        if (!dev || (req.only && !req.only(*dev))) continue;
        sink(*dev, p.value);
        sink(*dev, {});
      }
    }
  }
  if (!problems.empty()) return Error{problems.front()};
  return ok();
}

}  // namespace ss::agent::lustre
