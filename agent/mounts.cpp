#include "agent/mounts.h"

#include <charconv>

namespace ss::agent {
namespace {

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <class T>
bool to_num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

MountTable parse_mountinfo(std::string_view text) {
  // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
  MountTable t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto f = fields(line);
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    Mount m;
    size_t colon = f.size() > 2 ? f[2].find(':') : std::string_view::npos;
    if (dash == 0 || dash + 2 >= f.size() || colon == std::string_view::npos || !to_num(f[0], m.mount_id) ||
        !to_num(f[1], m.parent_id) || !to_num(f[2].substr(0, colon), m.major) ||
        !to_num(f[2].substr(colon + 1), m.minor)) {
      ++t.skipped_lines;
      continue;
    }
    m.root = unescape(f[3]);
    m.mount_point = unescape(f[4]);
    m.options = std::string(f[5]);
    m.fstype = std::string(f[dash + 1]);
    m.source = unescape(f[dash + 2]);
    if (dash + 3 < f.size()) m.super_options = std::string(f[dash + 3]);
    t.mounts.push_back(std::move(m));
  }
  return t;
}

bool is_watched_fstype(std::string_view t) {
  return t == "lustre" || t == "beegfs" || t == "wekafs" || t == "nfs" || t == "nfs4";
}

std::string lustre_fsname(const Mount& m) {
  auto p = m.source.rfind(":/");
  if (p == std::string::npos) return {};
  std::string name = m.source.substr(p + 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

}  // namespace ss::agent
