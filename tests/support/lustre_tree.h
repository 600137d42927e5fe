// Writes a synthetic Lustre client tree (2.12+ layout: stats in debugfs, import and rpc_stats in procfs,
// kbytes*/files* and lock namespaces in sysfs) under a root directory, for end-to-end tests and the
// benchmark. Every value is a function of the target index, so tests can check exported values exactly.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace ss::lustre_tree {

struct LustreClientSpec {
  std::string fs = "ai0";
  int osts = 8;
  int mdts = 1;
  std::string instance = "ffff9a1b2c3d4000";
  int disconnected_ost = -1;  // this OST's import is DISCONN
};

// Figures of OST/MDT number i (0-based), as written.
inline uint64_t tree_rpcs(int i) { return 1000 + static_cast<uint64_t>(i); }
inline uint64_t tree_wait_us(int i) { return tree_rpcs(i) * 1500; }
inline uint64_t tree_write_bytes(int i) { return (static_cast<uint64_t>(i) + 1) << 20; }
inline uint64_t tree_kbytes_total(int i) { return 1'000'000 + static_cast<uint64_t>(i); }
inline uint64_t tree_inflight(int i) { return static_cast<uint64_t>(i % 8); }

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

inline std::string target_name(const std::string& fs, const char* kind, int i) {
  return fmt::format("{}-{}{:04x}", fs, kind, i);
}

inline void write_lustre_client_tree(const std::filesystem::path& root, const LustreClientSpec& s) {
  namespace fs = std::filesystem;
  const fs::path sys = root / "sys/fs/lustre", dbg = root / "sys/kernel/debug/lustre", proc = root / "proc/fs/lustre";
  auto one_device = [&](const char* kind, const char* type, int i) {
    std::string target = target_name(s.fs, kind, i);
    std::string dev = fmt::format("{}-{}-{}", target, type, s.instance);
    bool osc = std::string(type) == "osc";
    std::string stats = fmt::format(
        "snapshot_time             1760000000.000000001 secs.nsecs\n"
        "start_time                1750000000.000000001 secs.nsecs\n"
        "elapsed_time              10000000.000000000 secs.nsecs\n"
        "req_waittime              {} samples [usecs] 100 9000 {} 99999999\n"
        "req_active                {} samples [reqs] 1 8 {} 5000\n",
        tree_rpcs(i), tree_wait_us(i), tree_rpcs(i), tree_rpcs(i) * 2);
    if (osc)
      stats += fmt::format(
          "ldlm_extent_enqueue       {} samples [reqs] 1 1 {} {}\n"
          "read_bytes                3 samples [bytes] 4096 4096 12288 50331648\n"
          "write_bytes               {} samples [bytes] 1048576 1048576 {} 1\n"
          "ost_write                 {} samples [usecs] 200 4000 {} 1\n"
          "obd_ping                  10 samples [usecs] 50 90 600 40000\n",
          i + 1, i + 1, i + 1, i + 1, tree_write_bytes(i), i + 1, (i + 1) * 1000);
    else
      stats += fmt::format(
          "ldlm_ibits_enqueue        {} samples [reqs] 1 1 {} {}\n"
          "mds_getattr               {} samples [usecs] 90 900 {} 1\n"
          "mds_close                 5 samples [usecs] 100 300 1000 1\n",
          i + 7, i + 7, i + 7, i + 11, (i + 11) * 200);
    write_text(dbg / type / dev / "stats", stats);
    std::string state = (osc && i == s.disconnected_ost) ? "DISCONN" : (i % 5 == 4 ? "IDLE" : "FULL");
    write_text(proc / type / dev / "import",
               fmt::format("import:\n    name: {}\n    target: {}_UUID\n    state: {}\n"
                           "    connection:\n       failover_nids: [ 10.0.0.1@o2ib ]\n"
                           "       current_connection: 10.0.0.1@o2ib\n       connection_attempts: 1\n"
                           "    rpcs:\n       inflight: {}\n       unregistering: 0\n       timeouts: {}\n"
                           "       avg_waittime: 1500 usecs\n"
                           "    service_estimates:\n       services: 1 sec\n       network: 1 sec\n",
                           dev, target, state, tree_inflight(i), i % 3));
    if (osc)
      write_text(proc / type / dev / "rpc_stats",
                 fmt::format("snapshot_time:            1760000000.000000001 secs.nsecs\n"
                             "start_time:               1750000000.000000001 secs.nsecs\n"
                             "elapsed_time:             10000000.000000000 secs.nsecs\n"
                             "read RPCs in flight:  0\nwrite RPCs in flight: {}\n"
                             "pending write pages:  {}\npending read pages:   0\n\n"
                             "\t\t\tread\t\t\twrite\npages per rpc         rpcs   % cum % |       rpcs   % cum %\n"
                             "1:\t\t         0   0   0   |          1  50  50\n"
                             "1024:\t\t         0   0   0   |          1  50 100\n",
                             i % 9, i * 256));
    else
      write_text(proc / type / dev / "rpc_stats",
                 fmt::format("snapshot_time:            1760000000.000000001 secs.nsecs\n"
                             "modify_RPCs_in_flight:  {}\n\n\t\t\tmodify\n"
                             "rpcs in flight        rpcs   %% cum %%\n0:\t\t         4 100 100\n",
                             i % 3));
    if (!osc)
      write_text(proc / type / dev / "md_stats",
                 fmt::format("snapshot_time             1760000000.000000001 secs.nsecs\n"
                             "close                     {} samples [reqs]\n"
                             "intent_lock               {} samples [reqs]\n",
                             i + 3, 100 * (i + 1)));
    write_text(sys / type / dev / "kbytestotal", fmt::format("{}\n", tree_kbytes_total(i)));
    write_text(sys / type / dev / "kbytesavail", fmt::format("{}\n", tree_kbytes_total(i) / 2));
    write_text(sys / type / dev / "kbytesfree", fmt::format("{}\n", tree_kbytes_total(i) / 2 + 10));
    write_text(sys / type / dev / "filestotal", fmt::format("{}\n", 5000 + i));
    write_text(sys / type / dev / "filesfree", fmt::format("{}\n", 4000 + i));
    write_text(sys / "ldlm/namespaces" / dev / "lock_count", fmt::format("{}\n", 10 * i));
  };
  for (int i = 0; i < s.osts; ++i) one_device("OST", "osc", i);
  for (int i = 0; i < s.mdts; ++i) one_device("MDT", "mdc", i);
  std::string llite = fmt::format("{}-{}", s.fs, s.instance);
  write_text(dbg / "llite" / llite / "stats",
             "snapshot_time             1760000000.000000001 secs.nsecs\n"
             "start_time                1750000000.000000001 secs.nsecs\n"
             "elapsed_time              10000000.000000000 secs.nsecs\n"
             "read_bytes                3 samples [bytes] 28 40 96 3168\n"
             "write_bytes               45 samples [bytes] 27 8192 176653 915510425\n"
             "read                      3 samples [usecs] 31 2104 4188 8642586\n"
             "write                     45 samples [usecs] 9 1370 10405 10725723\n"
             "ioctl                     273 samples [reqs]\n"
             "open                      45 samples [usecs] 3 3964 18140 38165090\n"
             "getattr                   215 samples [usecs] 1 5960 119527 417009569\n");
  write_text(sys / "llite" / llite / "kbytestotal", "1\n");  // llite has kbytes* too; not a target
  write_text(sys / "ldlm/namespaces" / "MGC10.0.0.1@o2ib" / "lock_count", "3\n");
}

}  // namespace ss::lustre_tree
