#include "agent/fs_names.h"

#include <fstream>
#include <sstream>

namespace ss::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "mgmt01:8010" → "mgmt01", "[fd00::1]:8010" → "fd00::1", "fd00::1" → "fd00::1".
std::string host_of(std::string_view addr) {
  if (addr.starts_with("[")) {
    auto close = addr.find(']');
    return std::string(addr.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto colon = addr.find(':');
  if (colon != std::string_view::npos && addr.find(':', colon + 1) == std::string_view::npos) addr = addr.substr(0, colon);
  return std::string(addr);
}

// The value of `key=value` in a comma-separated option list; false when the key is absent.
bool option_value(std::string_view options, std::string_view key, std::string& out) {
  while (!options.empty()) {
    auto comma = options.find(',');
    std::string_view opt = options.substr(0, comma);
    if (opt.size() > key.size() && opt.starts_with(key) && opt[key.size()] == '=') {
      out = std::string(opt.substr(key.size() + 1));
      return true;
    }
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string FsNames::name(std::string_view derived, std::string_view mount_point) const {
  if (!mount_point.empty())
    if (auto it = renames.find(std::string(mount_point)); it != renames.end()) return it->second;
  if (auto it = renames.find(std::string(derived)); it != renames.end()) return it->second;
  return std::string(derived);
}

std::string parse_beegfs_mgmt_host(std::string_view text) {
  std::string host;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto eq = line.find('=');
    if (eq == std::string_view::npos || trim(line.substr(0, eq)) != "sysMgmtdHost") continue;
    host = std::string(trim(line.substr(eq + 1)));  // the last assignment wins, as in BeeGFS
  }
  return host;
}

std::string beegfs_conf_of_mount(const Mount& m) {
  std::string path;
  if (option_value(m.super_options, "cfgFile", path) || option_value(m.options, "cfgFile", path)) return path;
  return {};
}

BeegfsAddress beegfs_address_of_args(const std::vector<std::string>& args) {
  BeegfsAddress a;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--mgmtd-addr" && i + 1 < args.size()) a.mgmt_host = host_of(args[++i]);
    else if (arg.starts_with("--mgmtd-addr=")) a.mgmt_host = host_of(arg.substr(13));
    else if (arg.starts_with("--sysMgmtdHost=")) a.mgmt_host = std::string(arg.substr(15));
    else if (arg.starts_with("--cfgFile=")) a.conf_path = std::string(arg.substr(10));
  }
  return a;
}

std::string mount_fs_name(const Mount& m, std::string_view beegfs_mgmt_host) {
  if (m.fstype == "lustre") {
    std::string name = lustre_fsname(m);
    if (!name.empty()) return name;
  } else if (m.fstype == "wekafs") {
    std::string_view s = m.source;
    while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
    auto slash = s.rfind('/');
    std::string_view name = slash == std::string_view::npos ? s : s.substr(slash + 1);
    if (!name.empty()) return std::string(name);
  } else if (m.fstype == "beegfs") {
    return beegfs_mgmt_host.empty() ? std::string(kUnknownBeegfs) : std::string(beegfs_mgmt_host);
  }
  std::string_view p = m.mount_point;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  auto slash = p.rfind('/');
  std::string_view last = slash == std::string_view::npos ? p : p.substr(slash + 1);
  return last.empty() ? std::string(p) : std::string(last);
}

std::string read_beegfs_mgmt_host(const std::string& conf_path) {
  std::ifstream in(conf_path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return parse_beegfs_mgmt_host(text.str());
}

std::string fs_of_mount(const Mount& m, const FsNames& names) {
  std::string host;
  if (m.fstype == "beegfs") {
    std::string conf = beegfs_conf_of_mount(m);
    host = read_beegfs_mgmt_host(conf.empty() ? std::string(kBeegfsClientConf) : conf);
  }
  return names.name(mount_fs_name(m, host), m.mount_point);
}

}  // namespace ss::agent
