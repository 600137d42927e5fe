#include "agent/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/log.h"

namespace ss::agent {
namespace {

constexpr std::string_view kBatchPrefix = "batch-";
constexpr std::string_view kBatchSuffix = ".json.gz";
constexpr std::string_view kTempPrefix = ".tmp-";

std::string sys_error(std::string_view what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{sys_error("cannot open directory", dir)};
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error{sys_error("cannot fsync directory", dir)};
  return {};
}

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{sys_error("cannot read", path)};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool parse_u64(std::string_view s, uint64_t& out) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// batch-00000000000000000042.json.gz → 42
bool parse_batch_name(std::string_view name, uint64_t& seq) {
  if (!name.starts_with(kBatchPrefix) || !name.ends_with(kBatchSuffix)) return false;
  name.remove_prefix(kBatchPrefix.size());
  name.remove_suffix(kBatchSuffix.size());
  return parse_u64(name, seq);
}

std::string batch_name(uint64_t seq) { return fmt::format("{}{:020}{}", kBatchPrefix, seq, kBatchSuffix); }

std::string random_stream_id() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ dist(rd);
  return fmt::format("{:016x}", v);
}

}  // namespace

Result<void> write_file_durably(const std::string& dir, const std::string& name, std::string_view data) {
  std::string tmp = dir + "/" + std::string(kTempPrefix) + name;
  std::string final_path = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{sys_error("cannot create", tmp)};
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n == 0 ? ENOSPC : errno;
      auto e = sys_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = err;
      return Error{e};
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    auto e = sys_error("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = err;
    return Error{e};
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    auto e = sys_error("cannot rename into", final_path);
    ::unlink(tmp.c_str());
    errno = err;
    return Error{e};
  }
  return fsync_dir(dir);
}

Spool::Spool(std::string dir, SpoolOptions options) : dir_(std::move(dir)), options_(options) {}

Spool::~Spool() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, SpoolOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/rejected", ec);
  if (ec) return errorf("spool: cannot create {}: {}", dir, ec.message());
  std::unique_ptr<Spool> s(new Spool(dir, options));

  std::string lock_path = dir + "/lock";
  s->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd_ < 0) return Error{"spool: " + sys_error("cannot open", lock_path)};
  if (::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return errorf("spool: {} is in use by another agent (its lock file is held)", dir);

  // The stream id is made once, when the spool is new, and kept: together with the persisted seq it lets the
  // collector tell a retry from new data across restarts.
  std::string stream_path = dir + "/stream";
  if (::access(stream_path.c_str(), F_OK) == 0) {
    auto text = read_small_file(stream_path);
    if (!text) return Error{"spool: " + text.error().message};
    std::string id = *text;
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (id.empty() || id.size() > 64 || id.find_first_not_of("0123456789abcdefABCDEF._-") != std::string::npos)
      return errorf("spool: {} does not hold a valid stream id; remove the spool directory to start afresh",
                    stream_path);
    s->stream_ = id;
  } else {
    s->stream_ = random_stream_id();
    if (auto r = write_file_durably(dir, "stream", s->stream_ + "\n"); !r) return Error{"spool: " + r.error().message};
  }

  std::string seq_path = dir + "/seq";
  if (::access(seq_path.c_str(), F_OK) == 0) {
    auto text = read_small_file(seq_path);
    if (!text) return Error{"spool: " + text.error().message};
    if (!parse_u64(*text, s->last_seq_)) return errorf("spool: {} does not hold a number", seq_path);
  }

  for (std::string sub : {std::string(), std::string("/rejected")}) {
    for (const auto& e : std::filesystem::directory_iterator(dir + sub, ec)) {
      std::string name = e.path().filename().string();
      if (name.starts_with(kTempPrefix)) {
        // A write that a crash interrupted: the batch was never acknowledged to anyone, drop it.
        std::filesystem::remove(e.path(), ec);
        continue;
      }
      uint64_t seq = 0;
      if (!parse_batch_name(name, seq)) continue;
      s->last_seq_ = std::max(s->last_seq_, seq);
      if (sub.empty()) {
        auto size = static_cast<int64_t>(e.file_size(ec));
        s->batches_[seq] = size;
        s->bytes_ += size;
      }
    }
    if (ec) return errorf("spool: cannot list {}: {}", dir + sub, ec.message());
  }
  return s;
}

std::string Spool::batch_path(uint64_t seq) const { return dir_ + "/" + batch_name(seq); }

Result<uint64_t> Spool::next_seq() {
  std::lock_guard lk(mu_);
  uint64_t seq = last_seq_ + 1;
  if (auto r = write_making_room("seq", fmt::format("{}\n", seq)); !r) return Error{"spool: " + r.error().message};
  last_seq_ = seq;
  return seq;
}

Result<bool> Spool::drop_oldest(const char* why) {
  if (batches_.empty()) return false;
  auto oldest = batches_.begin();
  if (::unlink(batch_path(oldest->first).c_str()) != 0 && errno != ENOENT)
    return Error{"spool: " + sys_error("cannot remove", batch_path(oldest->first))};
  log::warn("spool {} {}: dropped batch {}", dir_, why, oldest->first);
  bytes_ -= oldest->second;
  batches_.erase(oldest);
  ++dropped_;
  return true;
}

Result<void> Spool::write_making_room(const std::string& name, std::string_view data) {
  for (;;) {
    auto r = write_file_durably(dir_, name, data);
    if (r || (errno != ENOSPC && errno != EDQUOT)) return r;
    auto dropped = drop_oldest("is on a full disk");
    if (!dropped) return dropped.error();
    if (!*dropped) return r;  // nothing left to make room with
  }
}

Result<void> Spool::append(uint64_t seq, std::string_view body) {
  std::lock_guard lk(mu_);
  auto size = static_cast<int64_t>(body.size());
  while (bytes_ + size > options_.max_bytes) {
    auto dropped = drop_oldest(fmt::format("is full ({} bytes)", bytes_).c_str());
    if (!dropped) return dropped.error();
    if (!*dropped) break;
  }
  if (auto r = write_making_room(batch_name(seq), body); !r) return Error{"spool: " + r.error().message};
  batches_[seq] = size;
  bytes_ += size;
  last_seq_ = std::max(last_seq_, seq);
  return {};
}

std::optional<SpoolEntry> Spool::oldest() const {
  std::lock_guard lk(mu_);
  if (batches_.empty()) return std::nullopt;
  return SpoolEntry{batches_.begin()->first, batches_.begin()->second};
}

std::vector<SpoolEntry> Spool::entries() const {
  std::lock_guard lk(mu_);
  std::vector<SpoolEntry> out;
  for (const auto& [seq, bytes] : batches_) out.push_back({seq, bytes});
  return out;
}

Result<std::string> Spool::read(uint64_t seq) const {
  auto r = read_small_file(batch_path(seq));
  if (!r) return Error{"spool: " + r.error().message};
  return r;
}

void Spool::remove(uint64_t seq) {
  std::lock_guard lk(mu_);
  remove_locked(seq);
}

void Spool::remove_locked(uint64_t seq) {
  auto it = batches_.find(seq);
  if (it == batches_.end()) return;  // dropped meanwhile
  if (::unlink(batch_path(seq).c_str()) != 0 && errno != ENOENT)
    log::error("spool: {}", sys_error("cannot remove", batch_path(seq)));
  bytes_ -= it->second;
  batches_.erase(it);
}

void Spool::set_aside(uint64_t seq) {
  std::lock_guard lk(mu_);
  set_aside_locked(seq);
}

void Spool::set_aside_locked(uint64_t seq) {
  auto it = batches_.find(seq);
  if (it == batches_.end()) return;
  std::string to = dir_ + "/rejected/" + batch_name(seq);
  if (::rename(batch_path(seq).c_str(), to.c_str()) != 0 && errno != ENOENT)
    log::error("spool: {}", sys_error("cannot move aside", batch_path(seq)));
  bytes_ -= it->second;
  batches_.erase(it);
  ++rejected_;
  // Keep only the newest rejected batches: they are for a human to look at, not a second spool.
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/rejected", ec)) {
    uint64_t s = 0;
    if (parse_batch_name(e.path().filename().string(), s)) names.push_back(e.path().string());
  }
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i + options_.max_rejected_files < names.size(); ++i) std::filesystem::remove(names[i], ec);
}

size_t Spool::add_reader(const std::string& name) {
  std::lock_guard lk(mu_);
  uint64_t cursor = 0;
  std::string path = dir_ + "/cursor-" + name;
  if (::access(path.c_str(), F_OK) == 0) {
    auto text = read_small_file(path);
    if (!text || !parse_u64(*text, cursor)) log::warn("spool: {} is unreadable; sending every batch in the spool", path);
  }
  readers_.push_back(name);
  cursors_.push_back(cursor);
  return readers_.size() - 1;
}

uint64_t Spool::reader_cursor(size_t reader) const {
  std::lock_guard lk(mu_);
  return cursors_[reader];
}

std::optional<SpoolEntry> Spool::next_after(uint64_t seq) const {
  std::lock_guard lk(mu_);
  auto it = batches_.upper_bound(seq);
  if (it == batches_.end()) return std::nullopt;
  return SpoolEntry{it->first, it->second};
}

size_t Spool::batches_after(uint64_t seq) const {
  std::lock_guard lk(mu_);
  return static_cast<size_t>(std::distance(batches_.upper_bound(seq), batches_.end()));
}

void Spool::done(size_t reader, uint64_t seq, bool rejected) {
  std::lock_guard lk(mu_);
  if (seq <= cursors_[reader]) return;
  cursors_[reader] = seq;
  // Not fsynced: a cursor lost in a crash only sends batches again, which the collector answers as duplicates.
  std::string name = "cursor-" + readers_[reader];
  std::string tmp = dir_ + "/" + std::string(kTempPrefix) + name;
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%llu\n", static_cast<unsigned long long>(seq));
    std::fclose(f);
    if (::rename(tmp.c_str(), (dir_ + "/" + name).c_str()) != 0) log::error("spool: {}", sys_error("cannot rename", tmp));
  }
  if (rejected) rejected_by_one_.push_back(seq);
  uint64_t lowest = *std::min_element(cursors_.begin(), cursors_.end());
  while (!batches_.empty() && batches_.begin()->first <= lowest) {
    uint64_t s = batches_.begin()->first;
    auto r = std::find(rejected_by_one_.begin(), rejected_by_one_.end(), s);
    if (r != rejected_by_one_.end()) {
      rejected_by_one_.erase(r);
      set_aside_locked(s);
    } else {
      remove_locked(s);
    }
  }
  std::erase_if(rejected_by_one_, [&](uint64_t s) { return s <= lowest; });
}

SpoolStats Spool::stats() const {
  std::lock_guard lk(mu_);
  return SpoolStats{bytes_, batches_.size(), dropped_, rejected_};
}

}  // namespace ss::agent
