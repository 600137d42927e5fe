// metadata_storm (DESIGN.md §6): the metadata op rate of a file system far above its own robust baseline.
//
// Each source of metadata ops is a separate signal per file system, never summed with the others (they
// count the same ops twice): vfs (eBPF, per job), mdc (Lustre client ops on MDT targets), llite, mdt
// (server md_stats), beegfs (meta server requests, per client, per user), weka (metadata op rates).
// Every node keeps its own baseline (median and MAD of its trailing rates), so a node that stops
// reporting neither lowers the total nor, when it returns, raises it: only nodes present in a bucket
// and with enough history are compared, each with its own baseline.
//
// A storm is many times a node's own load, built within an interval or two; load growth (a cluster or a
// job doing 1.5-3x more over minutes, a day's swing, a new job) is not. So a node storms when its rate is
// at least min_ratio times its baseline and its excess above min_node_excess and k sigma; or, while the
// file system's MDC req_waittime is above mdc_wait_ms, when its rate is at least wait_min_ratio times both
// its baseline and its rate just before (a slow MDS without more ops is a waittime_spike; a slow MDS
// during gradual growth is no storm either). The file system storms when the storming nodes' summed
// excess is above min_excess and k · sqrt(Σ sigma²). Once storming it ends only below half those
// thresholds (and min_ratio halfway to 1), so a storm hovering at a threshold stays one incident.
// While a client node has too little history (a fresh collector), a rate above cold_min_rate storms.
// A job the probes see on a node for the first time (vfs_ops_total's job label) starts that node's client
// baselines afresh: its load is the node's new normal, not a storm against the idle node it replaced,
// and until the new baselines have min_history the node is judged against cold_min_rate.
// Culprits: per directory from vfs_hot_dirs (job, node, comm, path) by excess ops; else per job and node
// from vfs_ops_total; else per job from lustre_job_ops_total; else per client and user from BeeGFS.
//
// File systems are the agents' `fs` labels (a Lustre fsname, a BeeGFS instance, a Weka cluster or file
// system), so eBPF data joins the file system's own statistics; vfs series without `fs` (older agents) take
// it from `mounts` or the mount point's last component. BeeGFS is judged per meta server of an instance;
// Weka per cluster (its statistics are cluster-wide), where the eBPF parties of the cluster's file systems
// (learned from weka_fs_capacity_bytes{fs,cluster}) are the culprits.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/detect/detector.h"
#include "collector/detect/robust.h"

namespace ss::collector::detect {

struct MetadataStormParams {
  int64_t window_ms = 30 * 60'000;  // trailing baseline window
  int64_t min_history_ms = 5 * 60'000;
  double k = 6;               // MADs (as sigma) above the baseline
  double min_ratio = 5.0;     // a storming node at least this times its baseline
  double min_excess = 5000;   // ops/s of the storming nodes above their baselines, at least
  double min_node_excess = 1000;  // ops/s of one storming node above its baseline, at least
  double cold_min_rate = 20000;   // ops/s of a client node without history yet that storms
  double mdc_wait_ms = 100;   // mean MDC wait per RPC that signals a storm …
  double wait_min_ratio = 1.3;  // … for the nodes whose op rate is at least this times their baseline
  double min_wait_rpcs = 20;    // RPCs in a bucket for a mean wait to count
  std::set<std::string> vfs_ops = {"open", "stat", "readdir", "create", "unlink", "mkdir", "rmdir",
                                   "rename", "setattr", "xattr", "close"};
  std::map<std::string, std::string> mounts;  // mount point → fs name (default: the last path component)
  size_t max_culprits = 10;
};

class MetadataStorm : public Detector {
 public:
  MetadataStorm(MetadataStormParams params, int64_t interval_ms);
  std::string_view kind() const override { return "metadata_storm"; }
  bool wants(std::string_view name) const override;
  bool wants_series(std::string_view name, const Labels& labels) const override;
  bool wants_event(std::string_view kind) const override { return kind == "vfs_hot_dirs"; }
  void observe(const Observation& o) override;
  void observe_start(const Observation& o) override;
  void observe_event(std::string_view node, const Event& e, int64_t bucket) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  struct Signal {  // one source on one file system (or target) in one bucket
    std::string source, fs, target, series;
    std::map<std::string, double> by_node;  // ops/s
    std::map<std::string, double> by_op;
  };
  struct Wait {
    double wait_s = 0, rpcs = 0;
    std::map<std::string, std::pair<double, double>> by_node;
  };
  struct Party {  // a possible culprit's rate in one bucket
    Culprit who;
    double rate = 0;
  };
  struct Pending {
    std::map<std::string, Signal> signals;  // "source|fs|target"
    std::map<std::string, std::map<std::string, double>> queues;  // BeeGFS: fs → meta server → queue length
    std::map<std::string, Wait> waits;      // "fs|target"
    // culprit candidates per fs and source ("dirs", "jobs", "lustre_jobs", "beegfs_clients", "beegfs_users")
    std::map<std::string, std::map<std::string, std::map<std::string, Party>>> parties;
    std::map<std::string, std::set<std::string>> jobs;  // node → jobs the probes saw on it
  };
  struct Tracked {
    History history;
    int64_t last_bucket = 0;
  };

  std::string fs_of_mount(std::string_view mount) const;
  // The file system of a vfs series or event: `mounts`, else its `fs` label, else the mount's last component.
  std::string vfs_fs(std::string_view mount, std::string_view fs_label) const;
  // Adds a vfs party to its file system and, for a Weka file system, to its cluster.
  void add_vfs_party(Pending& p, std::string_view fstype, const std::string& fs, const std::string& source,
                     const Culprit& who, double rate);
  Pending& at(int64_t bucket) { return pending_[bucket]; }
  History& history(const std::string& key, int64_t bucket);
  void add_party(Pending& p, const std::string& fs, const std::string& source, Culprit who, double rate);
  void prune(int64_t bucket);
  void restart_baselines_for_new_jobs(const Pending& p, int64_t bucket);

  MetadataStormParams params_;
  int64_t interval_ms_;
  size_t window_buckets_, min_history_;
  std::map<int64_t, Pending> pending_;
  std::unordered_map<std::string, Tracked> tracked_;  // per signal/node, per culprit identity
  std::map<std::string, std::string> mount_fs_;       // learned from vfs labels, for hot dir paths
  std::map<std::string, std::string> weka_cluster_;   // Weka file system → its cluster's fs
  std::map<std::string, std::set<std::string>> storm_nodes_;  // fs → nodes of its last anomalous bucket
  std::map<std::string, std::map<std::string, int64_t>> node_jobs_;  // node → job → last bucket seen
  std::set<std::string> storming_;  // file systems whose last judged bucket stormed (hysteresis)
  int64_t buckets_seen_ = 0;
};

}  // namespace ss::collector::detect
