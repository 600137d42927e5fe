local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-job', 'Stormscope / Checkpoints and jobs',
  'One job: its GPUs, what it writes and how fast, fsync latency, and what its idle GPUs cost.',
  [
    g.stat('GPU utilization', 'Mean over the job\'s GPUs.', ['avg(gpu_utilization_ratio{job="$job"})'], 'percentunit'),
    g.stat('GPUs', 'GPUs the job runs on.', ['count(gpu_utilization_ratio{job="$job"})'], 'short'),
    g.stat('Idle $/hour', 'Idle share of the job\'s GPUs at list price.', ['sum(job:gpu_idle_dollars:per_hour{job="$job"})'], 'currencyUSD'),
    g.stat('Write bytes/s', 'What the job writes now (eBPF).', ['sum(rate(vfs_bytes_total{job="$job", op="write"}[$__rate_interval]))'], 'Bps'),
    g.timeseries('GPU utilization', 'Per GPU; a checkpoint stall shows as all of them dropping together.', [['gpu_utilization_ratio{job="$job"}', '{{instance}} gpu{{gpu}}']], 'percentunit'),
    g.timeseries('Write and read bytes/s', 'The job\'s file-system traffic (eBPF), by mount.', [['sum by (mount, op) (rate(vfs_bytes_total{job="$job"}[$__rate_interval]))', '{{mount}} {{op}}']], 'Bps'),
    g.timeseries('fsync latency p99', 'From the eBPF histograms of fsync on the job\'s nodes.', [['histogram_quantile(0.99, sum by (mount, le) (rate(vfs_op_duration_seconds_bucket{op="fsync"}[$__rate_interval])))', '{{mount}}']], 's'),
    g.timeseries('Operations/s by kind', 'The job\'s system calls on watched mounts.', [['sum by (op) (rate(vfs_ops_total{job="$job"}[$__rate_interval]))', '{{op}}']], 'ops', stack=true),
    g.timeseries('Idle $/hour', 'What the idle share of the job\'s GPUs costs.', [['job:gpu_idle_dollars:per_hour{job="$job"}', 'idle $/h']], 'currencyUSD'),
    g.timeseries('GPU memory used', 'Per GPU.', [['gpu_memory_used_bytes and on (instance, uuid) gpu_utilization_ratio{job="$job"}', '{{instance}} gpu{{gpu}}']], 'bytes'),
  ],
  [g.job_var],
)
