local g = import 'lib.libsonnet';

g.dashboard(
  'stormscope-overview', 'Stormscope / Cluster overview',
  'GPU utilization, what idle GPUs cost, active incidents and storage pressure across the cluster.',
  [
    g.stat('GPU utilization', 'Mean utilization of every GPU the agents see.', ['avg(gpu_utilization_ratio)'], 'percentunit', thresholds=[[0.5, 'orange'], [0.8, 'green']]),
    g.stat('Idle GPU $/hour', 'What the idle share of all GPUs costs per hour at the collector price table (spot).', ['sum(job:gpu_idle_dollars:per_hour)'], 'currencyUSD'),
    g.stat('Active incidents', 'Open incidents of the collector detectors.', ['sum(stormscope_incidents_active) or vector(0)'], 'short', thresholds=[[1, 'red']]),
    g.stat('Incident cost, 24 h', 'GPU idle dollars attributed to incidents over the last 24 hours.', ['sum(increase(stormscope_gpu_idle_cost_dollars_total[24h])) or vector(0)'], 'currencyUSD'),
    g.timeseries('GPU utilization by job', 'Mean GPU utilization of each job (agents report the mean over each interval, so short stalls show).', [['avg by (job) (gpu_utilization_ratio{job!=""})', '{{job}}']], 'percentunit'),
    g.timeseries('Idle GPU $/hour by job', '(1 − utilization) × price per GPU-hour, per job.', [['job:gpu_idle_dollars:per_hour', '{{job}}']], 'currencyUSD', stack=true),
    g.timeseries('Active incidents by kind', 'Open incidents per kind and file system.', [['sum by (kind, fs) (stormscope_incidents_active)', '{{kind}} {{fs}}']], 'short'),
    g.timeseries('Incident cost rate', 'GPU idle dollars per hour attributed to incidents, by kind.', [['sum by (kind) (rate(stormscope_gpu_idle_cost_dollars_total[$__rate_interval])) * 3600', '{{kind}}']], 'currencyUSD'),
    g.timeseries('Metadata ops/s by file system', 'Client-side metadata operations (llite) summed over all clients.', [['sum by (fs) (rate(lustre_client_llite_ops_total{fs=~"$fs"}[$__rate_interval]))', '{{fs}}']], 'ops'),
    g.timeseries('Mean wait per RPC, slowest targets', 'Δ req_waittime / Δ RPCs over all clients, the 10 slowest targets.', [['topk(10, sum by (fs, target) (rate(lustre_client_rpc_wait_seconds_total{fs=~"$fs"}[$__rate_interval])) / (sum by (fs, target) (rate(lustre_client_rpcs_total{fs=~"$fs"}[$__rate_interval])) > 0))', '{{target}}']], 's'),
    g.timeseries('OST fill spread', 'Fullest and emptiest OST of each file system (used / (used + available)).', [['fs:lustre_ost_fill:max{fs=~"$fs"}', 'max {{fs}}'], ['fs:lustre_ost_fill:min{fs=~"$fs"}', 'min {{fs}}']], 'percentunit'),
    g.timeseries('Agents and sources', 'Agents up and sources failing.', [['sum(up{job="stormscope-agent"})', 'agents up'], ['count(stormscope_agent_source_up == 0) or vector(0)', 'sources failing']], 'short'),
  ],
  [g.fs_var],
)
