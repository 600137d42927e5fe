#include "agent/sources/vfs/hot_dirs.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace ss::agent::vfs {

std::string normalize_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return "";
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view c = path.substr(pos, end - pos);
    pos = end + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (std::string_view c : parts) {
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

std::string parent_dir(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

void HotDirs::add(const FsKey& fs, const std::string& dir, const std::string& job, const std::string& comm,
                  uint64_t weight) {
  auto& dirs = by_fs_[fs];
  auto it = dirs.find(dir);
  if (it == dirs.end()) {
    if (dirs_ >= max_dirs_) {
      dropped_ += weight;
      return;
    }
    it = dirs.emplace(dir, Dir{}).first;
    dirs_++;
  }
  it->second.ops += weight;
  std::string who = job;
  who += '\0';
  who += comm;
  it->second.by_who[who] += weight;
}

std::map<FsKey, std::vector<HotDir>> HotDirs::take(size_t n) {
  std::map<FsKey, std::vector<HotDir>> out;
  for (auto& [fs, dirs] : by_fs_) {
    std::vector<HotDir> list;
    for (auto& [path, d] : dirs) {
      HotDir h{path, d.ops, "", ""};
      uint64_t best = 0;
      for (auto& [who, ops] : d.by_who)
        if (ops > best || (ops == best && who < h.job + '\0' + h.comm)) {
          best = ops;
          size_t sep = who.find('\0');
          h.job = who.substr(0, sep);
          h.comm = who.substr(sep + 1);
        }
      list.push_back(std::move(h));
    }
    std::sort(list.begin(), list.end(), [](const HotDir& a, const HotDir& b) {
      return a.ops != b.ops ? a.ops > b.ops : a.path < b.path;
    });
    if (list.size() > n) list.resize(n);
    if (!list.empty()) out[fs] = std::move(list);
  }
  by_fs_.clear();
  dirs_ = 0;
  return out;
}

std::vector<Event> HotDirs::events(const std::map<FsKey, std::vector<HotDir>>& top, int64_t t_ms) {
  std::vector<Event> events;
  for (const auto& [fs, dirs] : top) {
    nlohmann::json list = nlohmann::json::array();
    for (const HotDir& d : dirs) {
      nlohmann::json j = {{"path", d.path}, {"ops", d.ops}, {"comm", d.comm}};
      if (!d.job.empty()) j["job"] = d.job;
      list.push_back(std::move(j));
    }
    Event e;
    e.kind = "vfs_hot_dirs";
    e.t_ms = t_ms;
    e.labels = {{"fs", fs.second}, {"fstype", fs.first}};
    // Paths and commands are bytes, not necessarily UTF-8: replace what is not.
    e.fields_json = nlohmann::json{{"dirs", list}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace ss::agent::vfs
