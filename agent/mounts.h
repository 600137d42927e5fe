// The mount table (/proc/self/mountinfo), parsed purely; sources use it to find their file systems.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ss::agent {

struct Mount {
  int mount_id = 0;
  int parent_id = 0;
  unsigned major = 0, minor = 0;
  std::string root;         // root of the mount within its file system
  std::string mount_point;  // unescaped (\040 → space)
  std::string options;      // per-mount options
  std::string fstype;       // "lustre", "beegfs", "wekafs", "nfs4", "tmpfs", ...
  std::string source;       // "10.0.0.1@o2ib:/ai0", "beegfs_nodev", ...
  std::string super_options;
};

struct MountTable {
  std::vector<Mount> mounts;
  size_t skipped_lines = 0;  // malformed lines, counted not fatal
};

MountTable parse_mountinfo(std::string_view text);

// The parallel/network file-system types Stormscope watches ("lustre", "beegfs", "wekafs", "nfs", "nfs4").
bool is_watched_fstype(std::string_view fstype);

// Lustre mounts name the file system after the last ':/' of the source ("mgs@tcp:/ai0" → "ai0").
std::string lustre_fsname(const Mount& m);

}  // namespace ss::agent
