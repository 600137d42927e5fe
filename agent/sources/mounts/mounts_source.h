// The mount table source: reports which parallel file systems this node has mounted, as
// stormscope_mount_info{fstype,mount,source,fs} 1 (fs as agent/fs_names.h derives it), from the table read_mount_table() reads.
#pragma once

#include <memory>
#include <string>

#include "agent/mounts.h"
#include "agent/source.h"
#include "common/config.h"

namespace ss::agent {

// Reads and parses <proc_root>/self/mountinfo.
Result<MountTable> read_mount_table(const std::string& proc_root);

// sources.mounts: {enabled: true} (the default). nullptr when disabled.
Result<std::unique_ptr<Source>> make_mounts_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent
