// Finds and reads Lustre parameters the way `lctl get_param` does: under /sys/fs/lustre,
// /sys/kernel/debug/lustre and /proc/fs/lustre (which of them holds a parameter depends on the version),
// all below a configurable root so that tests and users can point it at a copied tree. Devices are
// discovered by listing directories, never named in advance. Where a file exists but cannot be read
// (debugfs is root-only), the parameters go to one `lctl get_param` call per cycle, with a timeout.
// Files read every cycle can be kept open and re-read from offset 0 (see KeepOpen). No parsing happens here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace ss::agent::lustre {

// dir.*.param: "osc" + "stats" is osc.*.stats; "ldlm/namespaces" + "lock_count" is ldlm.namespaces.*.lock_count.
struct ParamRequest {
  std::string dir;
  std::string param;
  // A slice of the targets: with count > 1, only the devices whose target_hash() % count is index are read
  // (the source spreads slow parameters over several cycles).
  struct Slice {
    size_t count = 1, index = 0;
  } slice;
  // Read every cycle: worth keeping its files open between reads (ReaderOptions::keep_open).
  bool keep_open = false;

  std::string lctl_pattern() const;  // "ldlm.namespaces.*.lock_count"
};

struct ParamValue {
  std::string device;  // the '*' of the pattern: "ai0-OST0000-osc-ffff8810…", "ost_io"
  std::string text;
};

// Opening a file costs two thirds of reading a small one (path walk, open, close). Kernel files (procfs,
// sysfs, debugfs) produce fresh text on every read from offset 0, so their descriptors can be kept.
// Files of an ordinary file system cannot: a copy replaced by rename would be read stale forever.
// Debugfs before Linux 4.7 is not safe to hold open while Lustre removes a device (no removal protection).
enum class KeepOpen {
  Auto,  // kernel file systems (debugfs from Linux 4.7); never files of an ordinary file system
  On,    // every file of a keep_open request (a copied tree whose files are rewritten in place)
  Off,
};

struct ReaderOptions {
  std::string root = "/";
  std::string lctl = "lctl";  // empty: never run lctl
  int64_t lctl_timeout_ms = 5'000;
  KeepOpen keep_open = KeepOpen::Auto;
  // Directories are listed again every this many read() calls (1: every read), and at once after a
  // listed device's file failed to open or a kept file failed: devices come and go rarely, and listing a
  // directory of a thousand devices costs about as much as opening a few hundred files.
  int64_t relist_reads = 1;
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
  };

  // Reads every request, files first, then one lctl call for what the files could not give. The batch is
  // the reader's and valid until the next read(): its strings are reused from cycle to cycle, so a steady
  // cycle allocates nothing for them.
  const Batch& read(const std::vector<ParamRequest>& requests);

  // Streams each device's file in chunks (job_stats can be 100 MB): sink(device, chunk) per chunk, then
  // sink(device, "") at the end of each device. Falls back to lctl like read().
  using ChunkSink = std::function<void(std::string_view device, std::string_view chunk)>;
  Result<void> stream(const ParamRequest& request, const ChunkSink& sink);

  // True when dir (for example "osc", "mdt") exists in any of the three trees.
  bool has_dir(std::string_view dir) const;

  // True when a Lustre tree (sys or proc) exists under the root.
  bool lustre_present() const;

  // Files kept open between reads now.
  size_t open_files() const { return kept_.size(); }

  // lctl runs since the start, by read() and stream() alike.
  uint64_t lctl_runs() const { return lctl_runs_; }

  const ReaderOptions& options() const { return options_; }

 private:
  // The entries of a directory, listed once per read() or stream() however many parameters it serves.
  // Listings are kept for relist_reads reads (stream() always lists afresh) and made again into the same
  // strings; the directory stays open for openat() meanwhile.
  struct Listing {
    uint64_t made = 0;  // the read_ it was made in
    bool stale = true;  // list again before using it
    int fd = -1;        // -1: the directory could not be opened
    int error = 0;
    bool keep_open = false;  // its files may be kept open (KeepOpen and the file system it is on)
    std::vector<std::string> devices;
    std::vector<size_t> target_hashes;  // target_hash() of each device, for slices
  };
  Listing& list(const std::string& dir);
  void forget_listings(std::string_view dir);  // dir is listed again in every base at its next use

  // Opens the parameter file of every device in the first base directory that has it; `denied` is set
  // when nothing was found and something was not accessible (debugfs as non-root).
  // fn reads from offset 0 and says how it went; `reused` says the descriptor was kept from an earlier read,
  // and a kept descriptor that fails is reopened once (the device may have been removed and re-added).
  enum class Outcome { Read, NotAFile, Failed };
  void for_each_file(const ParamRequest& request, bool& denied,
                     const std::function<Outcome(const std::string& device, int fd, bool reused)>& fn);
  void close_unused_files();
  Result<std::string> run_lctl(const std::vector<std::string>& patterns);

  ReaderOptions options_;
  std::vector<std::string> bases_;           // root-joined sys, debugfs, proc
  std::map<std::string, size_t> preferred_;  // request key → base index that had it last time
  std::map<std::string, Listing> listings_;  // path → entries
  Batch batch_;
  uint64_t lctl_runs_ = 0;
  struct KeptFile {
    int fd;
    uint64_t read;  // the read() that last used it
  };
  std::unordered_map<std::string, KeptFile> kept_;  // path → descriptor
  size_t keep_limit_ = 0;                           // at most this many, from RLIMIT_NOFILE
  uint64_t reads_ = 0;
};

}  // namespace ss::agent::lustre
