// Small helpers for Stormscope's Grafana dashboards (plain jsonnet; grafonnet is not packaged in Debian).
// Every panel queries the templated datasource ${datasource}; no datasource uid is hard-coded.
local ds = { type: 'prometheus', uid: '${datasource}' };

local target(expr, legend='', ref='A', format=null, instant=false) =
  { refId: ref, datasource: ds, expr: expr, legendFormat: legend, range: !instant, instant: instant }
  + (if format != null then { format: format } else {});

local refs = ['A', 'B', 'C', 'D', 'E', 'F'];

local targets(exprs) =
  [
    local e = exprs[i];
    if std.isString(e) then target(e, '', refs[i]) else target(e[0], e[1], refs[i])
    for i in std.range(0, std.length(exprs) - 1)
  ];

// Every dashboard marks the collector's open incidents (stormscope_incident_info, 1 while open) as
// annotations whose text links to the incident's page on the collector (the `collector` variable).
local incident_annotation = {
  name: 'Stormscope incidents',
  datasource: ds,
  enable: true,
  iconColor: 'red',
  // label_replace builds the page URL in the query, where Grafana replaces the variable.
  expr: 'label_replace(max by (id, kind, fs, target, severity, culprit_job) (stormscope_incident_info), "page", "${collector}/ui/incidents/$1", "id", "(.+)")',
  step: '60s',
  titleFormat: '{{kind}} on {{fs}} {{target}} ({{severity}})',
  textFormat: 'culprit job {{culprit_job}} — <a href="{{page}}" target="_blank">incident page</a>',
  tagKeys: 'kind,fs,severity',
  useValueForTime: false,
};

// Where the collector's pages are, as the browser reaches them (for incident links).
local collector_var = {
  name: 'collector',
  label: 'Collector URL',
  type: 'textbox',
  query: 'http://localhost:9480',
  current: { text: 'http://localhost:9480', value: 'http://localhost:9480' },
  options: [{ selected: true, text: 'http://localhost:9480', value: 'http://localhost:9480' }],
  hide: 0,
};

local base(type, title, description, exprs, unit, w, h) = {
  type: type,
  title: title,
  description: description,
  datasource: ds,
  targets: targets(exprs),
  fieldConfig: { defaults: { unit: unit }, overrides: [] },
  w:: w,
  h:: h,
};

{
  // [expr, legend] pairs or bare expressions.
  timeseries(title, description, exprs, unit='short', w=12, h=8, stack=false)::
    base('timeseries', title, description, exprs, unit, w, h) {
      fieldConfig+: { defaults+: { custom: { fillOpacity: if stack then 30 else 10, stacking: { mode: if stack then 'normal' else 'none' } } } },
      options: { legend: { displayMode: 'table', placement: 'right', calcs: ['mean', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    },

  stat(title, description, exprs, unit='short', w=6, h=4, thresholds=null)::
    base('stat', title, description, exprs, unit, w, h) {
      fieldConfig+: { defaults+: if thresholds == null then {} else {
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] + [{ color: t[1], value: t[0] } for t in thresholds] },
      } },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' },
    },

  bargauge(title, description, exprs, unit='percentunit', w=12, h=8)::
    base('bargauge', title, description, exprs, unit, w, h) {
      fieldConfig+: { defaults+: { min: 0, max: 1, thresholds: { mode: 'absolute', steps: [
        { color: 'green', value: null }, { color: 'orange', value: 0.8 }, { color: 'red', value: 0.9 },
      ] } } },
      options: { orientation: 'horizontal', displayMode: 'gradient', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },

  // A latency heatmap from the buckets of a Prometheus histogram.
  heatmap(title, description, expr, w=12, h=8)::
    base('heatmap', title, description, [[expr, '{{le}}']], 's', w, h) {
      targets: [target(expr, '{{le}}', 'A', 'heatmap')],
      options: { calculate: false, yAxis: { unit: 's' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges' } },
    },

  table(title, description, exprs, unit='short', w=24, h=8)::
    base('table', title, description, exprs, unit, w, h) {
      targets: [target(exprs[i][0], exprs[i][1], refs[i], 'table', true) for i in std.range(0, std.length(exprs) - 1)],
      options: { showHeader: true },
      transformations: [{ id: 'merge', options: {} }],
    },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [], w:: 24, h:: 1 },

  // Lays panels out left to right, wrapping at 24 columns, and numbers them.
  local place(acc, p) =
    local wrap = acc.x + p.w > 24;
    local x = if wrap then 0 else acc.x;
    local y = if wrap then acc.y + acc.rowh else acc.y;
    {
      x: x + p.w,
      y: y,
      rowh: if wrap then p.h else std.max(acc.rowh, p.h),
      panels: acc.panels + [p { id: std.length(acc.panels) + 1, gridPos: { x: x, y: y, w: p.w, h: p.h } }],
    },

  query_var(name, label, query, multi=false, all=false):: {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'StandardVariableQuery' },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: all,
    current: {},
    options: [],
    hide: 0,
  } + (if all then { allValue: '.*' } else {}),

  // __inputs makes Grafana's import ask for the Prometheus datasource (and put its uid where ${DS_PROMETHEUS}
  // stands: the datasource variable's default); __requires names the oldest Grafana that reads schemaVersion 39.
  dashboard(uid, title, description, panels, vars=[], tags=[])::
    {
      __inputs: [{
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: 'The Prometheus that scrapes the Stormscope agents and collector',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      }],
      __requires: [
        { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.3.0' },
        { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ],
      uid: uid,
      title: title,
      description: description,
      tags: ['stormscope'] + tags,
      schemaVersion: 39,
      version: 1,
      editable: true,
      graphTooltip: 1,
      refresh: '30s',
      time: { from: 'now-6h', to: 'now' },
      timezone: 'browser',
      templating: { list: [{
        name: 'datasource',
        label: 'Prometheus',
        type: 'datasource',
        query: 'prometheus',
        current: { text: '${DS_PROMETHEUS}', value: '${DS_PROMETHEUS}' },
        hide: 0,
        refresh: 1,
        options: [],
      }, collector_var] + vars },
      annotations: { list: [incident_annotation] },
      links: [
        { type: 'dashboards', tags: ['stormscope'], asDropdown: true, title: 'Stormscope', includeVars: true, keepTime: true },
        { type: 'link', title: 'Incident pages', url: '${collector}/ui/', targetBlank: true, icon: 'external link' },
      ],
      panels: std.foldl(place, panels, { x: 0, y: 0, rowh: 0, panels: [] }).panels,
    },

  fs_var:: self.query_var('fs', 'File system', 'label_values(lustre_target_capacity_bytes, fs)', multi=true, all=true),
  job_var:: self.query_var('job', 'Job', 'label_values(gpu_utilization_ratio, job)'),
  node_var:: self.query_var('node', 'Node', 'label_values(stormscope_agent_source_up, instance)'),
}
