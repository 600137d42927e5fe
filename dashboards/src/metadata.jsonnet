local g = import 'lib.libsonnet';
local md_ops = 'open|stat|readdir|create|unlink|mkdir|rmdir|rename|setattr|xattr';

g.dashboard(
  'stormscope-metadata', 'Stormscope / Metadata',
  'Metadata operation rates by file system, MDT, job and operation; their latency; the MDC wait that users feel.',
  [
    g.timeseries('Client metadata ops/s by operation', 'llite operations summed over all clients of the selected file systems.', [['sum by (op) (rate(lustre_client_llite_ops_total{fs=~"$fs"}[$__rate_interval]))', '{{op}}']], 'ops', stack=true),
    g.timeseries('MDT ops/s (server side)', 'md_stats of each MDT (agents on MDS nodes).', [['sum by (target) (rate(lustre_mdt_ops_total{fs=~"$fs"}[$__rate_interval]))', '{{target}}']], 'ops'),
    g.timeseries('Metadata ops/s by job (MDT job_stats)', 'Top jobs by metadata operations as the MDTs count them.', [['topk(10, sum by (job) (rate(lustre_job_ops_total{fs=~"$fs", target=~".+-MDT[0-9a-fA-F]+"}[$__rate_interval])))', '{{job}}']], 'ops'),
    g.timeseries('Metadata ops/s by client node (MDT exports)', 'Top client nodes by metadata operations as the MDTs count them (exports stats, opt-in: sources.lustre.exports.mdt); names the nodes behind a storm where job ids are not set.', [['topk(10, sum by (client) (rate(lustre_export_ops_total{fs=~"$fs", target=~".+-MDT[0-9a-fA-F]+"}[$__rate_interval])))', '{{client}}']], 'ops'),
    g.timeseries('Metadata ops/s by job (eBPF)', 'System calls that do metadata work, by job, as the agents\' probes count them.', [['topk(10, sum by (job) (rate(vfs_ops_total{op=~"' + md_ops + '"}[$__rate_interval])))', '{{job}}']], 'ops'),
    g.timeseries('Metadata ops/s by mount and operation (eBPF)', 'Per mount and operation, all nodes.', [['sum by (mount, op) (rate(vfs_ops_total{op=~"' + md_ops + '"}[$__rate_interval]))', '{{mount}} {{op}}']], 'ops'),
    g.timeseries('Mean MDC wait per RPC', 'Δ req_waittime / Δ RPCs for each MDT over all clients; above 100 ms users notice.', [['sum by (target) (rate(lustre_client_rpc_wait_seconds_total{fs=~"$fs", target=~".+-MDT[0-9a-fA-F]+"}[$__rate_interval])) / (sum by (target) (rate(lustre_client_rpcs_total{fs=~"$fs", target=~".+-MDT[0-9a-fA-F]+"}[$__rate_interval])) > 0)', '{{target}}']], 's'),
    g.heatmap('stat() latency', 'Distribution of stat-family system call latency on watched mounts (eBPF histogram).', 'sum by (le) (rate(vfs_op_duration_seconds_bucket{op="stat"}[$__rate_interval]))'),
    g.heatmap('open() latency', 'Distribution of open-family system call latency on watched mounts.', 'sum by (le) (rate(vfs_op_duration_seconds_bucket{op="open"}[$__rate_interval]))'),
    g.timeseries('p99 latency by operation', '99th percentile from the eBPF histograms.', [['histogram_quantile(0.99, sum by (op, le) (rate(vfs_op_duration_seconds_bucket[$__rate_interval])))', '{{op}}']], 's'),
    g.timeseries('MDS service queue wait', 'Mean request wait in the MDS service queues (mds.MDS.* stats).', [['sum by (service) (rate(lustre_service_request_wait_seconds_total{service=~"mds.*"}[$__rate_interval])) / (sum by (service) (rate(lustre_service_requests_total{service=~"mds.*"}[$__rate_interval])) > 0)', '{{service}}']], 's'),
  ],
  [g.fs_var],
)
