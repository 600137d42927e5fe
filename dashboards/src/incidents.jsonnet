local g = import 'lib.libsonnet';

// Links from a table's `id` column to the incident's page on the collector.
local id_links = {
  fieldConfig+: { overrides: [{
    matcher: { id: 'byName', options: 'id' },
    properties: [{ id: 'links', value: [{ title: 'Incident page', url: '${collector}/ui/incidents/${__value.raw}', targetBlank: true }] }],
  }] },
};

g.dashboard(
  'stormscope-incidents', 'Stormscope / Incidents',
  'The collector\'s incidents: what is open now, what incidents cost over the chosen range by kind and by culprit job, each linking to its page on the collector (set the Collector URL variable).',
  [
    g.stat('Open incidents', 'Incidents open now, all kinds.', ['sum(stormscope_incidents_active) or vector(0)'], 'short', thresholds=[[1, 'red']]),
    g.stat('Incident cost in range', 'GPU idle dollars attributed to incidents over the dashboard range.', ['sum(increase(stormscope_gpu_idle_cost_dollars_total[$__range])) or vector(0)'], 'currencyUSD'),
    g.stat('Incidents in range', 'Incidents that were open at some time in the range (as exported while open).', ['count(count by (id) (max_over_time(stormscope_incident_info[$__range]))) or vector(0)'], 'short'),
    g.stat('Critical open', 'Open incidents of severity critical.', ['count(stormscope_incident_info{severity="critical"}) or vector(0)'], 'short', thresholds=[[1, 'red']]),
    g.table('Open incidents', 'Each open incident; the id links to its page (summary, charts, culprits, victims, what to do).', [
      ['max by (id, kind, fs, target, severity, culprit_job) (stormscope_incident_info)', ''],
    ], 'short', w=24, h=7) + id_links,
    g.table('Incidents in range and their cost', 'Every incident open at some time in the range with the dollars it had reached (the page has the final figure).', [
      ['max by (id, kind, fs, target, culprit_job) (max_over_time(stormscope_incident_cost_dollars[$__range]))', ''],
    ], 'currencyUSD', w=24, h=8) + id_links,
    g.timeseries('Cost per kind', 'GPU idle dollars per hour attributed to incidents, by kind.', [['sum by (kind) (rate(stormscope_gpu_idle_cost_dollars_total[$__rate_interval])) * 3600', '{{kind}}']], 'currencyUSD', w=12),
    g.bargauge('Cost per culprit job in range', 'Dollars of the incidents each job was the top culprit of, over the range.', [['sum by (culprit_job) (max by (id, culprit_job) (max_over_time(stormscope_incident_cost_dollars[$__range])))', '{{culprit_job}}']], 'currencyUSD', w=12) {
      fieldConfig+: { defaults+: { max: null } },
    },
    g.timeseries('Open incidents by kind', 'Open incidents per kind and file system.', [['sum by (kind, fs) (stormscope_incidents_active)', '{{kind}} {{fs}}']], 'short', w=12),
    g.bargauge('Cost per kind in range', 'GPU idle dollars attributed to incidents over the range, by kind.', [['sum by (kind) (increase(stormscope_gpu_idle_cost_dollars_total[$__range]))', '{{kind}}']], 'currencyUSD', w=12) {
      fieldConfig+: { defaults+: { max: null } },
    },
  ],
  tags=['incidents'],
)
