// YAML configuration helpers. Every reader names the path of what it reads ("sources.lustre.timeout"),
// rejects unknown keys and wrong types, and reports the first problem as an Error.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::config {

// Thrown inside readers; load functions turn it into an Error at the module boundary.
struct Invalid {
  std::string message;
};

// Loads a YAML file; a missing or unparsable file is an error that names it.
Result<YAML::Node> load_file(const std::string& path);
Result<YAML::Node> load_string(const std::string& text);

// A view of one mapping in the file with its dotted path, for readers.
class Section {
 public:
  Section(YAML::Node node, std::string path);

  // Throws Invalid when the node holds a key not in `allowed`, or is not a mapping.
  void allow_only(std::initializer_list<std::string_view> allowed) const;

  bool has(std::string_view key) const;
  std::string string(std::string_view key, std::string def) const;
  bool boolean(std::string_view key, bool def) const;
  int64_t integer(std::string_view key, int64_t def) const;
  double number(std::string_view key, double def) const;
  int64_t duration_ms(std::string_view key, int64_t def) const;  // "10s", "250ms"
  int64_t bytes(std::string_view key, int64_t def) const;        // 1048576, "64MiB", "1GB"
  std::vector<std::string> strings(std::string_view key, std::vector<std::string> def) const;
  Section child(std::string_view key) const;  // an empty mapping when absent

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

 private:
  YAML::Node node_;
  std::string path_;
};

// Runs a reader that may throw Invalid and returns its result as a Result.
template <class F>
auto read(F&& reader) -> Result<decltype(reader())> {
  try {
    return reader();
  } catch (const Invalid& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{std::string("configuration: ") + e.what()};
  }
}

Result<int64_t> parse_bytes(std::string_view text);

}  // namespace ss::config
