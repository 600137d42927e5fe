local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-node', 'Stormscope / Node',
  'One node: its agent\'s sources, system calls on watched mounts, GPUs and Lustre client view.',
  [
    g.table('Sources', 'Whether each source of the agent works (1) or fails (0).', [['max by (source) (stormscope_agent_source_up{instance="$node"})', 'up']], 'short', w=8),
    g.timeseries('Metadata ops/s by operation', 'System calls on watched mounts (eBPF).', [['sum by (op) (rate(vfs_ops_total{instance="$node"}[$__rate_interval]))', '{{op}}']], 'ops', w=16),
    g.timeseries('GPU utilization', 'Per GPU of this node.', [['gpu_utilization_ratio{instance="$node"}', 'gpu{{gpu}} {{job}}']], 'percentunit'),
    g.timeseries('Mean wait per RPC from this node', 'Per target, as this client sees it.', [['topk(10, rate(lustre_client_rpc_wait_seconds_total{instance="$node"}[$__rate_interval]) / (rate(lustre_client_rpcs_total{instance="$node"}[$__rate_interval]) > 0))', '{{target}}']], 's'),
    g.timeseries('Lustre client bytes/s', 'osc read and write bytes of this node.', [['sum by (op) (rate(lustre_client_bytes_total{instance="$node"}[$__rate_interval]))', '{{op}}']], 'Bps'),
    g.timeseries('Operation latency p99', 'From the eBPF histograms of this node.', [['histogram_quantile(0.99, sum by (op, le) (rate(vfs_op_duration_seconds_bucket{instance="$node"}[$__rate_interval])))', '{{op}}']], 's'),
  ],
  [g.node_var],
)
