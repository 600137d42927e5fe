// Which file system a series belongs to: the `fs` label of the BeeGFS, Weka and vfs series, derived the same
// way on every node so that the collector can join a client's system calls with the file system's own
// statistics (docs/configuration.md, "File-system names"):
//   Lustre  the fsname (mount source "mgs@tcp:/ai0" → "ai0", the name in the target names)
//   Weka    the file-system name (mount source "backend01/default" → "default", as `weka fs` lists it);
//           cluster-wide statistics carry the cluster's name
//   BeeGFS  the instance's management host (sysMgmtdHost of the client configuration a mount names in
//           cfgFile=, or that the admin tools are pointed at); "beegfs" when it cannot be found
//   other   the last component of the mount point
// The agent's `fs_names` mapping renames: a key that is a mount point renames that mount, any other key
// renames the derived name wherever it appears (a BeeGFS management host, a Weka cluster).
// Parsing is pure; read_beegfs_mgmt_host and fs_of_mount read the client configuration file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/mounts.h"

namespace ss::agent {

// The name of a BeeGFS instance whose management host is unknown, and of a Weka cluster whose name is.
inline constexpr std::string_view kUnknownBeegfs = "beegfs";
inline constexpr std::string_view kUnknownWeka = "weka";
// Where both BeeGFS admin tools and the client read their configuration by default.
inline constexpr std::string_view kBeegfsClientConf = "/etc/beegfs/beegfs-client.conf";

struct FsNames {
  std::map<std::string, std::string> renames;  // the agent's fs_names: mount point or derived name → name

  // `derived` renamed: by the mount point when it is a key, else by `derived` itself.
  std::string name(std::string_view derived, std::string_view mount_point = {}) const;
};

// sysMgmtdHost of a beegfs-client.conf ("sysMgmtdHost = mgmt01" → "mgmt01"); "" when absent or empty.
std::string parse_beegfs_mgmt_host(std::string_view conf_text);

// The client configuration a BeeGFS mount names (cfgFile= in its options); "" when none.
std::string beegfs_conf_of_mount(const Mount& m);

// What the BeeGFS admin tools' arguments point at: the management host of --mgmtd-addr HOST[:PORT]
// (BeeGFS 8) or --sysMgmtdHost=HOST, else the --cfgFile=PATH (BeeGFS 7), else neither.
struct BeegfsAddress {
  std::string mgmt_host;
  std::string conf_path;
};
BeegfsAddress beegfs_address_of_args(const std::vector<std::string>& args);

// The derived name of a mount (before renames); `beegfs_mgmt_host` is the management host of a BeeGFS mount
// ("" when unknown). Pure.
std::string mount_fs_name(const Mount& m, std::string_view beegfs_mgmt_host);

// Reads a BeeGFS client configuration for its management host; "" when unreadable or absent.
std::string read_beegfs_mgmt_host(const std::string& conf_path);

// The `fs` of a mount: mount_fs_name with a BeeGFS mount's configuration read, renamed by `names`.
std::string fs_of_mount(const Mount& m, const FsNames& names);

}  // namespace ss::agent
