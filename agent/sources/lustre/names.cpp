#include "agent/sources/lustre/names.h"

#include <functional>

namespace ss::agent::lustre {

namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

// Called several times per device and cycle: the first letters are tested before any comparison.
std::string_view target_in(std::string_view dev) {
  if (!dev.empty() && (dev[0] == 'm' || dev[0] == 'f')) {
    for (std::string_view prefix : {"mdt-", "filter-"}) {
      // Server lock namespaces: "mdt-<fs>-MDT0000_UUID", "filter-<fs>-OST0000_UUID".
      if (dev.starts_with(prefix) && dev.ends_with("_UUID")) {
        dev.remove_prefix(prefix.size());
        break;
      }
    }
  }
  for (size_t pos = dev.find('-'); pos != std::string_view::npos; pos = dev.find('-', pos + 1)) {
    if (pos == 0 || pos + 3 >= dev.size()) continue;
    std::string_view rest = dev.substr(pos + 1);
    bool ost = rest[0] == 'O' && rest[1] == 'S' && rest[2] == 'T', mdt = rest[0] == 'M' && rest[1] == 'D' && rest[2] == 'T';
    if (!ost && !mdt) continue;
    size_t n = 3;
    while (n < rest.size() && is_hex(rest[n])) ++n;
    if (n < 7) continue;
    if (n < rest.size() && rest[n] != '-' && rest[n] != '_') continue;
    return dev.substr(0, pos + 1 + n);
  }
  return {};
}

std::optional<TargetName> target_of(std::string_view dev) {
  std::string_view target = target_in(dev);
  if (target.empty()) return std::nullopt;
  // "<fs>-OSTxxxx": the target's last dash ends the file-system name (which may contain dashes).
  return TargetName{std::string(target.substr(0, target.rfind('-'))), std::string(target)};
}

size_t target_hash(std::string_view device) {
  std::string_view target = target_in(device);
  return std::hash<std::string_view>{}(target.empty() ? device : target);
}

std::string llite_fsname(std::string_view instance) {
  size_t dash = instance.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == instance.size()) return std::string(instance);
  for (char c : instance.substr(dash + 1))
    if (!is_hex(c)) return std::string(instance);
  return std::string(instance.substr(0, dash));
}

}  // namespace ss::agent::lustre
