local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-osts', 'Stormscope / OSTs',
  'Fill and balance of the OSTs, write load per OST, and the wait clients see on each target.',
  [
    g.bargauge('OST fill', 'used / (used + available), as lfs df shows it.', [['fs_target:lustre_ost_fill:ratio{fs=~"$fs"}', '{{target}}']], w=12, h=12),
    g.timeseries('Fill: max, median, min', 'Per file system; an imbalance alert fires when max − min > 25 points or max > 90 % with median < 70 %.', [['fs:lustre_ost_fill:max{fs=~"$fs"}', 'max {{fs}}'], ['fs:lustre_ost_fill:median{fs=~"$fs"}', 'median {{fs}}'], ['fs:lustre_ost_fill:min{fs=~"$fs"}', 'min {{fs}}']], 'percentunit', w=12, h=12),
    g.timeseries('Write bytes/s per OST', 'osc write bytes summed over all clients.', [['sum by (target) (rate(lustre_client_bytes_total{fs=~"$fs", op="write", target=~".+-OST[0-9a-fA-F]+"}[$__rate_interval]))', '{{target}}']], 'Bps'),
    g.timeseries('Write skew', 'Busiest OST against the mean OST write rate (1 = even).', [['fs:lustre_ost_write_skew:ratio{fs=~"$fs"}', '{{fs}}']], 'short'),
    g.timeseries('Mean wait per RPC by OST', 'Δ req_waittime / Δ RPCs over all clients.', [['sum by (target) (rate(lustre_client_rpc_wait_seconds_total{fs=~"$fs", target=~".+-OST[0-9a-fA-F]+"}[$__rate_interval])) / (sum by (target) (rate(lustre_client_rpcs_total{fs=~"$fs", target=~".+-OST[0-9a-fA-F]+"}[$__rate_interval])) > 0)', '{{target}}']], 's'),
    g.timeseries('OSS bytes/s (server side)', 'obdfilter read and write bytes per OST.', [['sum by (target, op) (rate(lustre_ost_bytes_total{fs=~"$fs"}[$__rate_interval]))', '{{target}} {{op}}']], 'Bps'),
    g.table('Targets', 'Capacity, free space and inodes of every target.', [
      ['max by (fs, target) (lustre_target_capacity_bytes{fs=~"$fs"})', 'capacity'],
      ['max by (fs, target) (lustre_target_available_bytes{fs=~"$fs"})', 'available'],
      ['max by (fs, target) (lustre_target_inodes_free{fs=~"$fs"})', 'inodes free'],
    ], 'bytes'),
  ],
  [g.fs_var],
)
