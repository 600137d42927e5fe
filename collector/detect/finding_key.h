// The key of a phenomenon, one incident per key at a time: "kind/subject" ("metadata_storm/ai0",
// "waittime_spike/ai0-OST0003"). A subject that is a mount point (the eBPF probes' file systems) joins with ':'
// instead, so a storm on / is "metadata_storm:/" rather than "metadata_storm//".
#pragma once

#include <string>
#include <string_view>

namespace ss::collector::detect {

inline std::string finding_key(std::string_view kind, std::string_view subject) {
  return std::string(kind) + (subject.starts_with('/') ? ":" : "/") + std::string(subject);
}

}  // namespace ss::collector::detect
