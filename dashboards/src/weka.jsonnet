local g = import 'lib.libsonnet';

// Cluster-wide Weka statistics carry the cluster's name in `fs`; each file system's capacity carries its own
// name in `fs` and the cluster's in `cluster`.
g.dashboard(
  'stormscope-weka', 'Stormscope / WekaFS',
  'Weka operation rates and latencies (one-minute statistics), file-system capacity; per cluster.',
  [
    g.timeseries('Operations/s', 'Per operation, as weka stats reports it (per-second rate over each minute).', [['weka_op_rate{fs=~"$weka_cluster"}', '{{fs}} {{op}}']], 'ops'),
    g.timeseries('Latency', 'Mean latency per operation.', [['weka_op_latency_seconds{fs=~"$weka_cluster"}', '{{fs}} {{op}}']], 's'),
    g.bargauge('File-system fill', 'used / capacity per file system.', [['weka_fs_used_bytes{cluster=~"$weka_cluster"} / (weka_fs_capacity_bytes{cluster=~"$weka_cluster"} > 0)', '{{cluster}} {{fs}}']], w=24),
  ],
  [g.query_var('weka_cluster', 'Weka cluster', 'label_values(weka_op_rate, fs)', multi=true, all=true)],
)
