#include "agent/sources/weka/filesystems.h"

#include <set>

#include "agent/sources/weka/json_util.h"

namespace ss::agent::weka {

namespace {

constexpr std::string_view kCmd = "weka fs";

// Fields of the three shapes that are known but not exported.
const std::set<std::string, std::less<>> kKnown = {
    "uid", "group_id", "group_name", "is_ready", "status", "used_ssd", "available_ssd", "ssd_budget", "obs_buckets",
    "used_ssd_data", "used_ssd_metadata", "available_ssd_metadata", "free_ssd", "free_total", "metadata_budget",
    "used_total_data", "is_thinly_provisioned", "thin_provisioning_min_ssd_budget", "thin_provisioning_max_ssd_budget",
    "is_encrypted", "auth_required", "data_reduction", "is_creating", "is_removing", "auto_max_files", "max_files",
    "obs_mode", "is_tiered", "ssd_capacity", "total_capacity", "name_hash", "object_storage_bucket_names"};

Result<FileSystem> read_one(const nlohmann::json& o, const std::string& key_id, size_t index, size_t& unknown) {
  if (!o.is_object()) return errorf("{}: item {}: expected an object", kCmd, index + 1);
  FileSystem fs;
  fs.id = bare_id(key_id);
  std::optional<double> available, budget;
  for (const auto& [k, v] : o.items()) {
    if (k == "name" || k == "fs_name") fs.name = v.is_string() ? v.get<std::string>() : v.dump();
    else if (k == "fs_id" || k == "id") fs.id = bare_id(v.is_string() ? v.get<std::string>() : v.dump());
    else if (k == "available_total" || k == "total_budget" || k == "used_total") {
      auto n = number(v);
      if (!n) return errorf("{}: item {}: \"{}\" is not a number of bytes: {} (run it with -J)", kCmd, index + 1, k, v.dump());
      (k == "available_total" ? available : k == "total_budget" ? budget : fs.used_bytes) = *n;
    } else if (!kKnown.contains(k)) ++unknown;
  }
  if (fs.name.empty()) return errorf("{}: item {}: no file-system name", kCmd, index + 1);
  fs.capacity_bytes = available ? available : budget;
  return fs;
}

}  // namespace

Result<FileSystems> parse_filesystems(std::string_view text) {
  auto parsed = parse_json(text, kCmd);
  if (!parsed) return parsed.error();
  const auto& j = unwrap_data(*parsed);
  FileSystems out;
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      auto fs = read_one(j[i], "", i, out.unknown_fields);
      if (!fs) return fs.error();
      out.items.push_back(std::move(*fs));
    }
  } else if (j.is_object()) {
    size_t i = 0;
    for (const auto& [key, v] : j.items()) {
      auto fs = read_one(v, key, i++, out.unknown_fields);
      if (!fs) return fs.error();
      out.items.push_back(std::move(*fs));
    }
  } else {
    return errorf("{}: expected a list of file systems (run it with -J)", kCmd);
  }
  return out;
}

}  // namespace ss::agent::weka
