// The catalog of metric names: every family the agent's sources export, and the collector's own families that
// rules and dashboards read, with kind, labels and help text. The names are a contract (rules, dashboards,
// detectors and users rely on them). tests/unit/common_metrics_test.cpp checks that rules/ and dashboards/
// read no other names (besides those the rules record). The sources, detectors and simulator still type the
// names; they move onto these constants next (branch `catalog` has that change, not yet built through).
#pragma once

#include <span>
#include <string_view>

namespace ss {

enum class MetricKind { Counter, Gauge, Histogram };

namespace metrics {

struct Metric {
  std::string_view name;
  MetricKind kind;
  std::string_view labels;  // space-separated; the collector adds `node` to every series it stores
  std::string_view help;
};

// X(name, kind, labels, help), one line per family.
#define SS_METRICS(X) \
  /* vfs (eBPF probes; agent/sources/vfs) */ \
  X(vfs_ops_total, Counter, "fstype mount op job", "File-system operations seen by the eBPF probes.") \
  X(vfs_bytes_total, Counter, "fstype mount op job", "Bytes read and written, from the system calls' results.") \
  X(vfs_op_errors_total, Counter, "fstype mount op", "File-system operations that returned an error.") \
  X(vfs_op_duration_seconds, Histogram, "fstype mount op", \
    "Duration of file-system system calls (timed on a sample at very high rates).") \
  X(vfs_probe_info, Gauge, "mode", "The eBPF probes' attach mode (value 1).") \
  X(vfs_probe_dropped_total, Counter, "reason", \
    "Probe records lost: reason=map_full (aggregation map full), samples (path ring buffer full).") \
  /* Lustre (agent/sources/lustre) */ \
  X(lustre_client_rpc_wait_seconds_total, Counter, "fs target", \
    "Time client RPCs waited for their reply (osc/mdc stats req_waittime sum)") \
  X(lustre_client_rpcs_total, Counter, "fs target", "Client RPCs sent (osc/mdc stats req_waittime count)") \
  X(lustre_client_ops_total, Counter, "fs target op", "Client RPCs per opcode (osc/mdc stats)") \
  X(lustre_client_op_wait_seconds_total, Counter, "fs target op", \
    "Round-trip time of client RPCs per opcode (osc/mdc stats)") \
  X(lustre_client_bytes_total, Counter, "fs target op", \
    "Bytes moved by client bulk RPCs (osc stats read_bytes/write_bytes)") \
  X(lustre_client_md_ops_total, Counter, "fs target op", "Client metadata operations per target (mdc md_stats)") \
  X(lustre_client_llite_ops_total, Counter, "fs op", "File-system operations on the client mount (llite stats)") \
  X(lustre_client_llite_op_seconds_total, Counter, "fs op", \
    "Time spent in file-system operations on the client mount (llite stats, 2.14+)") \
  X(lustre_client_llite_bytes_total, Counter, "fs op", \
    "Bytes read and written through the client mount (llite stats)") \
  X(lustre_client_import_state, Gauge, "fs target", \
    "Connection state to the target in Lustre's numbering: 1 CLOSED, 2 NEW, 3 DISCONN, 4 CONNECTING, 5 " \
    "REPLAY, 6 REPLAY_LOCKS, 7 REPLAY_WAIT, 8 RECOVER, 9 FULL, 10 EVICTED, 11 IDLE, 0 unknown") \
  X(lustre_client_import_healthy, Gauge, "fs target", "1 when the connection to the target is FULL or IDLE") \
  X(lustre_client_rpcs_in_flight, Gauge, "fs target", "RPCs in flight to the target now (import rpcs.inflight)") \
  X(lustre_client_rpc_timeouts_total, Counter, "fs target", "RPC timeouts to the target (import rpcs.timeouts)") \
  X(lustre_client_io_rpcs_in_flight, Gauge, "fs target op", "Read, write and modify RPCs in flight now (rpc_stats)") \
  X(lustre_client_pending_pages, Gauge, "fs target op", "Dirty or read pages waiting for an RPC (rpc_stats)") \
  X(lustre_target_capacity_bytes, Gauge, "fs target", "Size of the target (kbytestotal)") \
  X(lustre_target_available_bytes, Gauge, "fs target", "Space available to users on the target (kbytesavail)") \
  X(lustre_target_free_bytes, Gauge, "fs target", "Free space on the target including reserved blocks (kbytesfree)") \
  X(lustre_target_inodes, Gauge, "fs target", "Inodes or objects of the target (filestotal)") \
  X(lustre_target_inodes_free, Gauge, "fs target", "Free inodes or objects of the target (filesfree)") \
  X(lustre_mdt_ops_total, Counter, "fs target op", "Metadata operations served by the MDT (mdt md_stats)") \
  X(lustre_mdt_op_seconds_total, Counter, "fs target op", \
    "Service time of metadata operations on the MDT (mdt md_stats, 2.14+)") \
  X(lustre_mdt_bytes_total, Counter, "fs target op", \
    "Bytes read and written on the MDT (Data-on-MDT, mdt md_stats)") \
  X(lustre_ost_bytes_total, Counter, "fs target op", "Bytes read and written on the OST (obdfilter stats)") \
  X(lustre_ost_ops_total, Counter, "fs target op", "Operations served by the OST (obdfilter stats)") \
  X(lustre_ost_op_seconds_total, Counter, "fs target op", \
    "Service time of operations on the OST (obdfilter stats, 2.14+)") \
  X(lustre_service_requests_total, Counter, "service", \
    "Requests handled by the server service (ost.OSS.*, mds.MDS.*, ldlm.services.* req_waittime count)") \
  X(lustre_service_request_wait_seconds_total, Counter, "service", \
    "Time requests waited in the service's queue before handling (req_waittime sum)") \
  X(lustre_service_queue_depth, Gauge, "service", \
    "Mean incoming queue depth seen by requests in the last interval (req_qdepth)") \
  X(lustre_service_active_requests, Gauge, "service", \
    "Mean requests being handled, seen by requests in the last interval (req_active)") \
  X(lustre_service_ops_total, Counter, "service op", "Requests per opcode handled by the service") \
  X(lustre_service_op_seconds_total, Counter, "service op", "Handling time per opcode in the service") \
  X(lustre_ldlm_locks, Gauge, "namespace fs target", \
    "Locks held in the lock namespace (ldlm.namespaces.*.lock_count)") \
  X(lustre_export_ops_total, Counter, "fs target client op", \
    "Operations per client node on the target (exports stats; top-K clients by recent ops, the rest as " \
    "client=\"other\")") \
  X(lustre_job_ops_total, Counter, "fs target job op", \
    "Operations per job on the target (job_stats; top-K jobs by recent ops, the rest as job=\"other\")") \
  X(stormscope_lustre_skipped_lines_total, Counter, "", \
    "Lines of Lustre statistics the parsers did not understand (skipped, not fatal)") \
  X(stormscope_lustre_job_stats_truncated_total, Counter, "", \
    "job_stats reads cut short by the per-cycle work cap (max_jobs)") \
  X(stormscope_lustre_lctl_runs_total, Counter, "", \
    "lctl get_param runs for parameters whose files were not readable") \
  X(stormscope_lustre_open_files, Gauge, "", "Lustre parameter files kept open between cycles (keep_open)") \
  /* BeeGFS (agent/sources/beegfs) */ \
  X(beegfs_server_requests_total, Counter, "nodetype server", "Requests finished by a BeeGFS server.") \
  X(beegfs_server_queue_length, Gauge, "nodetype server", "Queued requests on a BeeGFS server (newest second).") \
  X(beegfs_server_busy_workers, Gauge, "nodetype server", "Busy worker threads of a BeeGFS server (newest second).") \
  X(beegfs_server_bytes_total, Counter, "server op", "Bytes a BeeGFS storage server read from or wrote to disk.") \
  X(beegfs_server_network_bytes_total, Counter, "nodetype server op", "Bytes a BeeGFS server received or sent.") \
  X(beegfs_server_stats_missed_seconds_total, Counter, "nodetype server", \
    "Seconds of server statistics that left the servers' 60 s window between two reads (not counted).") \
  X(beegfs_client_ops_total, Counter, "nodetype client op", \
    "Operations of a client on the BeeGFS servers of a node type.") \
  X(beegfs_client_bytes_total, Counter, "nodetype client op", \
    "Bytes a client read from or wrote to the BeeGFS storage servers.") \
  X(beegfs_user_ops_total, Counter, "nodetype user op", \
    "Operations of a user (UID) on the BeeGFS servers of a node type.") \
  X(beegfs_user_bytes_total, Counter, "nodetype user op", \
    "Bytes a user (UID) read from or wrote to the BeeGFS storage servers.") \
  X(beegfs_target_capacity_bytes, Gauge, "nodetype target", "Size of a BeeGFS target.") \
  X(beegfs_target_free_bytes, Gauge, "nodetype target", "Free space of a BeeGFS target.") \
  X(beegfs_target_inodes, Gauge, "nodetype target", "Inodes of a BeeGFS target.") \
  X(beegfs_target_inodes_free, Gauge, "nodetype target", "Free inodes of a BeeGFS target.") \
  X(beegfs_target_reachable, Gauge, "nodetype target", \
    "1 when the target is Online, 0 when Probably-offline or Offline.") \
  X(beegfs_target_consistent, Gauge, "nodetype target", "1 when the target is Good, 0 when Needs-resync or Bad.") \
  X(beegfs_tool_info, Gauge, "tool version", "The BeeGFS tool the agent uses (value 1).") \
  /* Weka (agent/sources/weka) */ \
  X(weka_op_rate, Gauge, "op", "Weka client (ops_driver) operations per second, mean over the minute.") \
  X(weka_op_latency_seconds, Gauge, "op", "Weka client (ops_driver) mean operation latency over the minute.") \
  X(weka_io_bytes_per_second, Gauge, "op", \
    "Weka client (ops_driver) read/write bytes per second, mean over the minute.") \
  X(weka_ops_rate, Gauge, "", "All Weka client (ops_driver) operations per second, mean over the minute.") \
  X(weka_frontend_op_rate, Gauge, "op", "Weka frontend (ops: POSIX, NFS, SMB, S3) operations per second.") \
  X(weka_frontend_op_latency_seconds, Gauge, "op", "Weka frontend (ops) mean operation latency.") \
  X(weka_frontend_io_bytes_per_second, Gauge, "op", "Weka frontend (ops) read/write bytes per second.") \
  X(weka_frontend_ops_rate, Gauge, "", "All Weka frontend (ops) operations per second.") \
  X(weka_fs_capacity_bytes, Gauge, "fs", "Size of a Weka file system.") \
  X(weka_fs_used_bytes, Gauge, "fs", "Used bytes of a Weka file system.") \
  X(weka_cluster_status_ok, Gauge, "", "1 when weka status reports OK.") \
  X(weka_io_started, Gauge, "", "1 when the cluster's IO status is STARTED.") \
  X(weka_protection_ratio, Gauge, "failures", \
    "Share of data that can survive `failures` more failures (rebuild.protectionState).") \
  X(weka_rebuild_progress_ratio, Gauge, "", "Rebuild progress, 0..1.") \
  X(weka_unavailable_data_ratio, Gauge, "", "Share of data that is unavailable.") \
  X(weka_hanging_ios, Gauge, "kind", \
    "1 while Weka reports hanging IOs of a kind (its last event is newer than the all-clear).") \
  X(weka_active_alerts, Gauge, "", "Active Weka alerts.") \
  X(weka_drives_active, Gauge, "", "Active Weka drives.") \
  X(weka_drives, Gauge, "", "Weka drives, active or not.") \
  X(weka_io_processes_active, Gauge, "", "Active Weka IO processes (io_nodes).") \
  X(weka_io_processes, Gauge, "", "Weka IO processes (io_nodes), active or not.") \
  X(weka_info, Gauge, "cluster release", "Weka cluster name and release (value 1).") \
  X(stormscope_agent_unknown_fields_total, Counter, "source command", \
    "Fields a parser did not understand and skipped, by source and command.") \
  /* GPU (agent/sources/gpu) */ \
  X(gpu_utilization_ratio, Gauge, "gpu uuid model job", \
    "GPU utilization (fraction of time a kernel ran), mean of the per-second samples over the interval") \
  X(gpu_memory_used_bytes, Gauge, "gpu uuid model", "GPU memory in use, at the last sample of the interval") \
  /* Mounts (agent/sources/mounts) */ \
  X(stormscope_mount_info, Gauge, "fstype mount source", \
    "1 for every mounted parallel or network file system (lustre, beegfs, wekafs, nfs).") \
  /* The agent itself (scheduler, shipper) */ \
  X(stormscope_agent_spool_bytes, Gauge, "", "Bytes of batches waiting in the spool.") \
  X(stormscope_agent_batches_shipped_total, Counter, "", "Batches the collector acknowledged as stored.") \
  X(stormscope_agent_ship_failures_total, Counter, "", \
    "Attempts to send a batch that failed and will be retried (no connection, 401, 5xx).") \
  X(stormscope_agent_source_up, Gauge, "source", \
    "1 when the source's last run succeeded; 0 when it failed, timed out, is stuck or has not run yet.") \
  /* The collector's own families that rules and dashboards read (the rest are described where they are */ \
  /* registered, collector/ and agent/shipper.cpp) */ \
  X(stormscope_incident_info, Gauge, "id kind fs target severity culprit_job", \
    "1 for each open incident, labelled with its id (the page is /ui/incidents/<id>), kind, file system, target, " \
    "severity and top culprit job; gone once it closes.") \
  X(stormscope_incident_cost_dollars, Gauge, "id kind fs target culprit_job", \
    "GPU idle dollars of each open incident so far (the final figure is on its page and in the API once it " \
    "closes).") \
  X(stormscope_incidents_active, Gauge, "kind fs", "Open incidents, by kind and file system.") \
  X(stormscope_gpu_idle_cost_dollars_total, Counter, "kind fs", \
    "GPU idle dollars attributed to incidents since the collector started.") \
  X(stormscope_collector_ingest_requests_total, Counter, "outcome", \
    "Ingest requests by outcome (accepted, duplicate, invalid, unauthorized, too_large, overloaded, " \
    "failed).") \
  X(stormscope_gpu_price_dollars_per_hour, Gauge, "model pricing", \
    "Price of one GPU-hour the cost model charges, per GPU model seen and pricing (cost.prices, or " \
    "cost.unknown_model when no entry matches).") \

#define SS_METRIC_CONSTANT(name, kind, labels, help) \
  inline constexpr Metric name{#name, MetricKind::kind, labels, help};
SS_METRICS(SS_METRIC_CONSTANT)
#undef SS_METRIC_CONSTANT

// Every family above, in catalog order.
std::span<const Metric> catalog();

// The family named `name`, or nullptr.
const Metric* find(std::string_view name);

}  // namespace metrics
}  // namespace ss
