local g = import 'lib.libsonnet';

// Every BeeGFS series carries `fs`, the BeeGFS instance (its management host unless the agent names it), so
// one dashboard serves several instances; server and target ids repeat between instances.
local sel = 'fs=~"$beegfs_fs"';

g.dashboard(
  'stormscope-beegfs', 'Stormscope / BeeGFS',
  'BeeGFS servers (requests, queues, busy workers, bytes), the clients and users behind the load, target fill; per BeeGFS instance (fs).',
  [
    g.timeseries('Server requests/s', 'Per meta and storage server.', [['sum by (fs, nodetype, server) (rate(beegfs_server_requests_total{' + sel + '}[$__rate_interval]))', '{{fs}} {{nodetype}} {{server}}']], 'reqps'),
    g.timeseries('Queue length', 'Requests waiting in each server\'s queue; a growing queue is the first sign of a storm.', [['beegfs_server_queue_length{' + sel + '}', '{{fs}} {{nodetype}} {{server}}']], 'short'),
    g.timeseries('Busy workers', 'Worker threads busy per server.', [['beegfs_server_busy_workers{' + sel + '}', '{{fs}} {{nodetype}} {{server}}']], 'short'),
    g.timeseries('Storage bytes/s', 'Read and write bytes per storage server.', [['sum by (fs, server, op) (rate(beegfs_server_bytes_total{' + sel + '}[$__rate_interval]))', '{{fs}} {{server}} {{op}}']], 'Bps'),
    g.timeseries('Top clients by meta ops/s', 'Clients with the most metadata operations.', [['topk(10, sum by (fs, client) (rate(beegfs_client_ops_total{nodetype="meta", ' + sel + '}[$__rate_interval])))', '{{fs}} {{client}}']], 'ops'),
    g.timeseries('Top users by meta ops/s', 'Users with the most metadata operations.', [['topk(10, sum by (fs, user) (rate(beegfs_user_ops_total{nodetype="meta", ' + sel + '}[$__rate_interval])))', '{{fs}} {{user}}']], 'ops'),
    g.bargauge('Target fill', '1 − free / capacity per target.', [['fs_nodetype_target:beegfs_target_fill:ratio{' + sel + '}', '{{fs}} {{nodetype}} {{target}}']], w=24),
  ],
  [g.query_var('beegfs_fs', 'BeeGFS instance', 'label_values(beegfs_server_requests_total, fs)', multi=true, all=true)],
)
