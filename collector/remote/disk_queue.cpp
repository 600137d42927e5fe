#include "collector/remote/disk_queue.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "common/time.h"

namespace ss::collector::remote {

namespace fs = std::filesystem;

namespace {

constexpr size_t kHeader = 20;

struct Header {
  uint32_t bytes = 0, crc = 0, points = 0;
  int64_t enqueued_ms = 0;
};

void put_header(char* out, const Header& h) {
  std::memcpy(out, &h.bytes, 4);
  std::memcpy(out + 4, &h.crc, 4);
  std::memcpy(out + 8, &h.points, 4);
  std::memcpy(out + 12, &h.enqueued_ms, 8);
}

Header get_header(const char* in) {
  Header h;
  std::memcpy(&h.bytes, in, 4);
  std::memcpy(&h.crc, in + 4, 4);
  std::memcpy(&h.points, in + 8, 4);
  std::memcpy(&h.enqueued_ms, in + 12, 8);
  return h;
}

uint32_t crc_of(std::string_view s) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

bool pread_all(int fd, char* buf, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return true;
}

// Reads the record at `off` of a segment of `size` bytes; false at the end or on a damaged record.
bool read_record(int fd, uint64_t off, int64_t size, Header& h, std::string* payload) {
  char head[kHeader];
  if (off + kHeader > uint64_t(size) || !pread_all(fd, head, kHeader, off)) return false;
  h = get_header(head);
  if (off + kHeader + h.bytes > uint64_t(size)) return false;
  if (!payload) return true;
  payload->resize(h.bytes);
  if (!pread_all(fd, payload->data(), h.bytes, off + kHeader)) return false;
  return crc_of(*payload) == h.crc;
}

void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

DiskQueue::~DiskQueue() {
  close();
  if (fd_ >= 0) ::close(fd_);
}

std::string DiskQueue::segment_path(uint64_t id) const { return fmt::format("{}/{:016x}.seg", options_.dir, id); }

Result<std::unique_ptr<DiskQueue>> DiskQueue::open(const DiskQueueOptions& options, std::vector<std::string> consumers) {
  if (options.segment_bytes <= 0 || options.max_bytes < 2 * options.segment_bytes)
    return errorf("remote-write queue: max bytes ({}) must be at least twice the segment size ({})",
                  options.max_bytes, options.segment_bytes);
  std::unique_ptr<DiskQueue> q(new DiskQueue());
  q->options_ = options;
  q->consumers_ = std::move(consumers);
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return errorf("remote-write queue: cannot create {}: {}", options.dir, ec.message());
  std::vector<uint64_t> ids;
  for (const auto& e : fs::directory_iterator(options.dir, ec)) {
    auto name = e.path().filename().string();
    if (name.size() == 20 && name.ends_with(".seg")) {
      ids.push_back(std::stoull(name.substr(0, 16), nullptr, 16));
    } else if (name.ends_with(".cursor") &&
               std::find(q->consumers_.begin(), q->consumers_.end(), name.substr(0, name.size() - 7)) ==
                   q->consumers_.end()) {
      fs::remove(e.path(), ec);  // an endpoint no longer configured must not hold segments
    }
  }
  if (ec) return errorf("remote-write queue: cannot list {}: {}", options.dir, ec.message());
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    auto size = static_cast<int64_t>(fs::file_size(q->segment_path(id), ec));
    if (ec) return errorf("remote-write queue: {}: {}", q->segment_path(id), ec.message());
    q->segments_.push_back({id, size});
    q->total_bytes_ += size;
  }
  if (q->segments_.empty()) {
    q->segments_.push_back({1, 0});
  } else {
    // Cut a torn record off the end of the last segment (a crash during a write).
    Segment& last = q->segments_.back();
    int fd = ::open(q->segment_path(last.id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errorf("remote-write queue: cannot open {}: {}", q->segment_path(last.id), strerror(errno));
    uint64_t off = 0;
    Header h;
    std::string payload;
    while (read_record(fd, off, last.bytes, h, &payload)) off += kHeader + h.bytes;
    ::close(fd);
    if (off != uint64_t(last.bytes)) {
      log::warn("remote-write queue: {} ends in a damaged record; {} bytes cut off", q->segment_path(last.id),
                last.bytes - int64_t(off));
      if (::truncate(q->segment_path(last.id).c_str(), static_cast<off_t>(off)) != 0)
        return errorf("remote-write queue: cannot truncate {}: {}", q->segment_path(last.id), strerror(errno));
      q->total_bytes_ -= last.bytes - int64_t(off);
      last.bytes = int64_t(off);
    }
  }
  q->fd_ = ::open(q->segment_path(q->segments_.back().id).c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (q->fd_ < 0) return errorf("remote-write queue: cannot open {}: {}", q->segment_path(q->segments_.back().id), strerror(errno));
  sync_dir(options.dir);

  std::lock_guard lock(q->mu_);
  for (const auto& name : q->consumers_) {
    QueuePosition pos = q->end_locked();  // a new endpoint starts with what is stored from now on
    std::ifstream in(options.dir + "/" + name + ".cursor");
    QueuePosition saved;
    if (in >> saved.segment >> saved.offset) {
      if (saved.segment < q->segments_.front().id) saved = {q->segments_.front().id, 0};
      pos = std::min(saved, pos);
    }
    q->cursors_.push_back(pos);
    q->dropped_.push_back(0);
    if (auto r = q->save_cursor_locked(q->cursors_.size() - 1); !r) return r.error();
  }
  q->trim_locked();
  return q;
}

Result<void> DiskQueue::save_cursor_locked(size_t c) {
  std::string path = options_.dir + "/" + consumers_[c] + ".cursor";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << cursors_[c].segment << ' ' << cursors_[c].offset << '\n';
    if (!out) return errorf("remote-write queue: cannot write {}", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return errorf("remote-write queue: cannot rename {}: {}", tmp, ec.message());
  return {};
}

Result<void> DiskQueue::rotate_locked() {
  if (::fdatasync(fd_) != 0) return errorf("remote-write queue: fdatasync: {}", strerror(errno));
  uint64_t id = segments_.back().id + 1;
  int fd = ::open(segment_path(id).c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errorf("remote-write queue: cannot create {}: {}", segment_path(id), strerror(errno));
  ::close(fd_);
  fd_ = fd;
  segments_.push_back({id, 0});
  sync_dir(options_.dir);
  return {};
}

uint64_t DiskQueue::points_from_locked(uint64_t segment, uint64_t offset) {
  auto it = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.id == segment; });
  if (it == segments_.end()) return 0;
  int fd = ::open(segment_path(segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t points = 0;
  Header h;
  for (uint64_t off = offset; read_record(fd, off, it->bytes, h, nullptr); off += kHeader + h.bytes) points += h.points;
  ::close(fd);
  return points;
}

void DiskQueue::drop_oldest_locked() {
  Segment oldest = segments_.front();
  for (size_t c = 0; c < cursors_.size(); ++c) {
    if (cursors_[c].segment > oldest.id) continue;
    dropped_[c] += points_from_locked(oldest.id, cursors_[c].segment == oldest.id ? cursors_[c].offset : 0);
    cursors_[c] = {segments_[1].id, 0};
    (void)save_cursor_locked(c);
  }
  log::warn("remote-write queue full ({} bytes): segment {} deleted before every endpoint sent it", total_bytes_,
            oldest.id);
  std::error_code ec;
  fs::remove(segment_path(oldest.id), ec);
  total_bytes_ -= oldest.bytes;
  segments_.erase(segments_.begin());
}

void DiskQueue::trim_locked() {
  uint64_t lowest = segments_.back().id;
  for (const auto& c : cursors_) lowest = std::min(lowest, c.segment);
  while (segments_.size() > 1 && segments_.front().id < lowest) {
    std::error_code ec;
    fs::remove(segment_path(segments_.front().id), ec);
    total_bytes_ -= segments_.front().bytes;
    segments_.erase(segments_.begin());
  }
}

Result<void> DiskQueue::append(std::string_view payload, uint32_t points) {
  std::string rec(kHeader + payload.size(), '\0');
  put_header(rec.data(), {static_cast<uint32_t>(payload.size()), crc_of(payload), points, now_ms()});
  std::memcpy(rec.data() + kHeader, payload.data(), payload.size());
  std::unique_lock lock(mu_);
  if (closed_) return Error{"remote-write queue is closed"};
  if (segments_.back().bytes >= options_.segment_bytes)
    if (auto r = rotate_locked(); !r) return r;
  while (total_bytes_ + int64_t(rec.size()) > options_.max_bytes && segments_.size() > 1) drop_oldest_locked();
  const char* p = rec.data();
  size_t left = rec.size();
  while (left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      // Keep the segment whole: cut what this record wrote so far.
      (void)::ftruncate(fd_, static_cast<off_t>(segments_.back().bytes));
      return errorf("remote-write queue: write to {}: {}", segment_path(segments_.back().id), strerror(errno));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  segments_.back().bytes += int64_t(rec.size());
  total_bytes_ += int64_t(rec.size());
  uint64_t ticket = ++written_;
  appended_.notify_all();
  if (!options_.sync) return {};
  // Group commit: one fdatasync covers every record written before it started.
  while (synced_ < ticket) {
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    syncing_ = true;
    uint64_t target = written_;
    int fd = ::dup(fd_);
    lock.unlock();
    int rc = fd >= 0 ? ::fdatasync(fd) : -1;
    int err = errno;
    if (fd >= 0) ::close(fd);
    lock.lock();
    syncing_ = false;
    synced_cv_.notify_all();
    if (rc != 0) return errorf("remote-write queue: fdatasync: {}", strerror(err));
    synced_ = std::max(synced_, target);
  }
  return {};
}

Result<std::vector<QueueRecord>> DiskQueue::read(QueuePosition from, size_t max_points) {
  std::vector<Segment> segs;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : segments_)
      if (s.id >= from.segment) segs.push_back(s);
  }
  std::vector<QueueRecord> out;
  size_t points = 0;
  for (const auto& s : segs) {
    uint64_t off = s.id == from.segment ? from.offset : 0;
    if (off >= uint64_t(s.bytes)) continue;
    int fd = ::open(segment_path(s.id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // deleted since (the queue was full): go on with the next
    Header h;
    QueueRecord r;
    while (points < max_points && read_record(fd, off, s.bytes, h, &r.payload)) {
      off += kHeader + h.bytes;
      r.next = {s.id, off};
      r.enqueued_ms = h.enqueued_ms;
      r.points = h.points;
      points += h.points;
      out.push_back(std::move(r));
    }
    bool damaged = off < uint64_t(s.bytes) && points < max_points;
    ::close(fd);
    if (damaged) {
      log::error("remote-write queue: damaged record in {} at {}; skipping the rest of the segment", segment_path(s.id), off);
      if (out.empty()) out.push_back(QueueRecord{{s.id, uint64_t(s.bytes)}, 0, 0, {}});
      break;
    }
    if (points >= max_points) break;
  }
  return out;
}

void DiskQueue::wait(QueuePosition from, int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  appended_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return closed_ || from < end_locked(); });
}

QueuePosition DiskQueue::cursor(size_t c) const {
  std::lock_guard lock(mu_);
  return cursors_[c];
}

Result<void> DiskQueue::commit(size_t c, QueuePosition pos) {
  std::lock_guard lock(mu_);
  if (pos <= cursors_[c]) return {};
  cursors_[c] = pos;
  auto r = save_cursor_locked(c);
  trim_locked();
  return r;
}

uint64_t DiskQueue::dropped_points(size_t c) const {
  std::lock_guard lock(mu_);
  return dropped_[c];
}

int64_t DiskQueue::bytes_behind(size_t c) const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& s : segments_)
    if (s.id > cursors_[c].segment) n += s.bytes;
    else if (s.id == cursors_[c].segment) n += s.bytes - int64_t(cursors_[c].offset);
  return n;
}

int64_t DiskQueue::oldest_pending_ms(size_t c) {
  auto recs = read(cursor(c), 1);
  return recs.ok() && !recs->empty() ? recs->front().enqueued_ms : 0;
}

int64_t DiskQueue::bytes_on_disk() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

void DiskQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  appended_.notify_all();
}

}  // namespace ss::collector::remote
