// Hot directories: path samples of metadata ops, aggregated per interval into the top directories per
// file system (fstype and fs name) with estimated op counts and the dominant job and command (the `vfs_hot_dirs` events
// of DESIGN.md §4). Pure: paths arrive resolved and absolute.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/sample.h"

namespace ss::agent::vfs {

// Lexically normalized absolute path ("//a/./b/../c" → "/a/c"); "" when `path` is not absolute.
std::string normalize_path(std::string_view path);
// The directory holding `path` ("/a/b" → "/a", "/a" → "/"); `path` must be normalized.
std::string parent_dir(std::string_view path);

struct HotDir {
  std::string path;
  uint64_t ops = 0;  // estimated metadata ops since the previous event
  std::string job;   // "" when unknown
  std::string comm;
};

// A file system: its type and its name (the `fstype` and `fs` labels).
using FsKey = std::pair<std::string, std::string>;

class HotDirs {
 public:
  explicit HotDirs(size_t max_dirs = 4096) : max_dirs_(max_dirs) {}

  void add(const FsKey& fs, const std::string& dir, const std::string& job, const std::string& comm, uint64_t weight);

  // The top `n` directories per file system since the previous take(), then starts a new interval.
  std::map<FsKey, std::vector<HotDir>> take(size_t n);

  // Events for `take(n)`, one per file system, labelled fstype and fs.
  static std::vector<Event> events(const std::map<FsKey, std::vector<HotDir>>& top, int64_t t_ms);

  uint64_t dropped() const { return dropped_; }

 private:
  struct Dir {
    uint64_t ops = 0;
    std::unordered_map<std::string, uint64_t> by_who;  // "job\0comm" → ops
  };
  size_t max_dirs_;
  size_t dirs_ = 0;
  uint64_t dropped_ = 0;
  std::map<FsKey, std::unordered_map<std::string, Dir>> by_fs_;
};

}  // namespace ss::agent::vfs
