local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-beegfs', 'Stormscope / BeeGFS',
  'BeeGFS servers (requests, queues, busy workers, bytes), the clients and users behind the load, target fill.',
  [
    g.timeseries('Server requests/s', 'Per meta and storage server.', [['sum by (nodetype, server) (rate(beegfs_server_requests_total[$__rate_interval]))', '{{nodetype}} {{server}}']], 'reqps'),
    g.timeseries('Queue length', 'Requests waiting in each server\'s queue; a growing queue is the first sign of a storm.', [['beegfs_server_queue_length', '{{nodetype}} {{server}}']], 'short'),
    g.timeseries('Busy workers', 'Worker threads busy per server.', [['beegfs_server_busy_workers', '{{nodetype}} {{server}}']], 'short'),
    g.timeseries('Storage bytes/s', 'Read and write bytes per storage server.', [['sum by (server, op) (rate(beegfs_server_bytes_total[$__rate_interval]))', '{{server}} {{op}}']], 'Bps'),
    g.timeseries('Top clients by meta ops/s', 'Clients with the most metadata operations.', [['topk(10, sum by (client) (rate(beegfs_client_ops_total{nodetype="meta"}[$__rate_interval])))', '{{client}}']], 'ops'),
    g.timeseries('Top users by meta ops/s', 'Users with the most metadata operations.', [['topk(10, sum by (user) (rate(beegfs_user_ops_total{nodetype="meta"}[$__rate_interval])))', '{{user}}']], 'ops'),
    g.bargauge('Target fill', '1 − free / capacity per target.', [['nodetype_target:beegfs_target_fill:ratio', '{{nodetype}} {{target}}']], w=24),
  ],
)
