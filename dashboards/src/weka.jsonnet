local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-weka', 'Stormscope / WekaFS',
  'Weka operation rates and latencies (one-minute statistics), file-system capacity.',
  [
    g.timeseries('Operations/s', 'Per operation, as weka stats reports it (per-second rate over each minute).', [['weka_op_rate', '{{op}}']], 'ops'),
    g.timeseries('Latency', 'Mean latency per operation.', [['weka_op_latency_seconds', '{{op}}']], 's'),
    g.bargauge('File-system fill', 'used / capacity per file system.', [['weka_fs_used_bytes / (weka_fs_capacity_bytes > 0)', '{{fs}}']], w=24),
  ],
)
