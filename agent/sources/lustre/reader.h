// Finds and reads Lustre parameters the way `lctl get_param` does: under /sys/fs/lustre,
// /sys/kernel/debug/lustre and /proc/fs/lustre (which of them holds a parameter depends on the version),
// all below a configurable root so that tests and users can point it at a copied tree. Devices are
// discovered by listing directories, never named in advance. Where a file exists but cannot be read
// (debugfs is root-only), the parameters go to one `lctl get_param` call per cycle, with a timeout.
// No parsing happens here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::lustre {

// dir.*.param: "osc" + "stats" is osc.*.stats; "ldlm/namespaces" + "lock_count" is ldlm.namespaces.*.lock_count.
struct ParamRequest {
  std::string dir;
  std::string param;
  // When set, only the devices it accepts are read (the source spreads slow parameters over several cycles).
  std::function<bool(std::string_view device)> only;

  std::string lctl_pattern() const;  // "ldlm.namespaces.*.lock_count"
};

struct ParamValue {
  std::string device;  // the '*' of the pattern: "ai0-OST0000-osc-ffff8810…", "ost_io"
  std::string text;
};

struct ReaderOptions {
  std::string root = "/";
  std::string lctl = "lctl";  // empty: never run lctl
  int64_t lctl_timeout_ms = 5'000;
};

class ParamReader {
 public:
  explicit ParamReader(ReaderOptions options);
  ~ParamReader();
  ParamReader(const ParamReader&) = delete;
  ParamReader& operator=(const ParamReader&) = delete;

  struct Batch {
    std::vector<std::vector<ParamValue>> values;  // one list per request, in request order
    std::vector<std::string> errors;              // unreadable files, lctl failures (partial results kept)
    int lctl_runs = 0;
  };

  // Reads every request, files first, then one lctl call for what the files could not give.
  Batch read(const std::vector<ParamRequest>& requests);

  // Streams each device's file in chunks (job_stats can be 100 MB): sink(device, chunk) per chunk, then
  // sink(device, "") at the end of each device. Falls back to lctl like read().
  using ChunkSink = std::function<void(std::string_view device, std::string_view chunk)>;
  Result<void> stream(const ParamRequest& request, const ChunkSink& sink);

  // True when dir (for example "osc", "mdt") exists in any of the three trees.
  bool has_dir(std::string_view dir) const;

  // True when a Lustre tree (sys or proc) exists under the root.
  bool lustre_present() const;

  const ReaderOptions& options() const { return options_; }

 private:
  // The entries of a directory, listed once per read() or stream() however many parameters it serves.
  struct Listing {
    int fd = -1;  // -1: the directory could not be opened
    int error = 0;
    std::vector<std::string> devices;
  };
  const Listing& list(const std::string& dir);
  void forget_listings();

  // Opens the parameter file of every device in the first base directory that has it; `denied` is set
  // when nothing was found and something was not accessible (debugfs as non-root).
  // fn returns false when the "file" turned out not to be one (a directory).
  void for_each_file(const ParamRequest& request, bool& denied,
                     const std::function<bool(const std::string& device, int fd)>& fn);
  Result<std::string> run_lctl(const std::vector<std::string>& patterns);

  ReaderOptions options_;
  std::vector<std::string> bases_;           // root-joined sys, debugfs, proc
  std::map<std::string, size_t> preferred_;  // request key → base index that had it last time
  std::map<std::string, Listing> listings_;  // path → entries, during one read() or stream()
  std::string buffer_;
};

}  // namespace ss::agent::lustre
