// File-system and target names out of Lustre device and namespace names.
//   "ai0-OST0003-osc-ffff88105db50000" → fs "ai0", target "ai0-OST0003"
//   "ai0-MDT0000-mdc-ffff…", "ai0-OST0003", "mdt-ai0-MDT0000_UUID", "filter-ai0-OST0003_UUID"
//   llite "ai0-ffff8b904341d000" → fs "ai0"
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ss::agent::lustre {

struct TargetName {
  std::string fs;
  std::string target;
};

// The first "<fs>-OSTxxxx" / "<fs>-MDTxxxx" (4+ hex digits) in a device or namespace name; nullopt for
// devices without one (MGS, MGC…, lov, lmv).
std::optional<TargetName> target_of(std::string_view device);

// The same target name as a view into `device`, "" when there is none (no allocation).
std::string_view target_in(std::string_view device);

// A hash of the device's target (of the device itself when it has none): the devices of one target (two
// mounts of a file system) hash alike, so slices of the targets keep them together.
size_t target_hash(std::string_view device);

// The file-system name of an llite instance: the name without its "-<hex>" per-mount suffix.
std::string llite_fsname(std::string_view instance);

}  // namespace ss::agent::lustre
