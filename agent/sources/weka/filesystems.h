// Parser for file-system capacity: `weka fs -J` (a list), REST `GET /api/v2/fileSystems` ({"data": [...]}) and
// JSON-RPC `filesystems_get_capacity` (an object keyed "FSId<n>"). Sizes are bytes (reference §B5, §B3).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::weka {

struct FileSystem {
  std::string id;    // bare number
  std::string name;
  std::optional<double> capacity_bytes;  // available_total (the file system's size), else total_budget
  std::optional<double> used_bytes;      // used_total
};

struct FileSystems {
  std::vector<FileSystem> items;
  size_t unknown_fields = 0;
};

Result<FileSystems> parse_filesystems(std::string_view text);

}  // namespace ss::agent::weka
