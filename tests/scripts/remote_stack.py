#!/usr/bin/env python3
"""Drives the remote-write and remote-read tests (tests/scripts/remote_*.sh) against real servers on
loopback: the collector, Prometheus and VictoriaMetrics from Debian's packages.

  remote_stack.py write BUILD SRC   remote write to Prometheus and VictoriaMetrics, with an outage
  remote_stack.py read BUILD SRC    Prometheus remote_read from the collector; dashboard expressions
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(url, data=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def wait_for(what, check, seconds):
    deadline = time.time() + seconds
    while True:
        try:
            v = check()
            if v:
                return v
        except Exception:  # noqa: BLE001 - a server still starting answers with errors
            pass
        if time.time() > deadline:
            raise SystemExit(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)


class Stack:
    def __init__(self, build, src):
        self.build, self.src = build, src
        self.work = tempfile.mkdtemp(prefix="ss-remote-")
        self.procs = {}

    def start(self, name, argv, ready_url):
        log = open(os.path.join(self.work, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(f"{name} at {ready_url}", lambda: http(ready_url) is not None, 60)
        except SystemExit:
            self.dump(name)
            raise

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def dump(self, name):
        path = os.path.join(self.work, name + ".log")
        if os.path.exists(path):
            sys.stderr.write(f"--- {name} log ---\n" + open(path, errors="replace").read()[-4000:] + "\n")

    def close(self):
        for name in list(self.procs):
            self.stop(name)
        shutil.rmtree(self.work, ignore_errors=True)

    def collector(self, port, config_text):
        cfg = os.path.join(self.work, "collector.yml")
        with open(cfg, "w") as f:
            f.write(config_text)
        self.start("collector", [os.path.join(self.build, "collector/stormscope-collector"), "--config", cfg,
                                 "--listen", f"127.0.0.1:{port}", "--db", os.path.join(self.work, "db/stormscope.db")],
                   f"http://127.0.0.1:{port}/healthz")

    def prometheus(self, port, config_text, *flags, name="prometheus"):
        cfg = os.path.join(self.work, name + ".yml")
        with open(cfg, "w") as f:
            f.write(config_text)
        self.start(name, ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={self.work}/{name}-tsdb",
                          f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", *flags],
                   f"http://127.0.0.1:{port}/-/ready")


def metrics(url):
    """{(name, frozenset(labels)): value} of a /metrics text."""
    out = {}
    for line in http(url + "/metrics").decode().splitlines():
        m = re.match(r'([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
            out[(m.group(1), labels)] = float(m.group(4))
    return out


def keep_metrics(stack, name, url):
    """Keeps a /metrics scrape for the docs test, which checks that every documented metric is served
    (tests/scripts/docs.sh; keep_metrics in lib.sh does the same for the shell tests)."""
    os.makedirs(os.path.join(stack.build, "metrics-seen"), exist_ok=True)
    with open(os.path.join(stack.build, "metrics-seen", name + ".prom"), "wb") as f:
        f.write(http(url + "/metrics"))


def metric_sum(ms, name, **want):
    return sum(v for (n, l), v in ms.items() if n == name and all((k, w) in l for k, w in want.items()))


def prom_query(url, query, at=None):
    params = {"query": query}
    if at is not None:
        params["time"] = str(at)
    res = json.loads(http(url + "/api/v1/query", urllib.parse.urlencode(params).encode()))
    if res.get("status") != "success":
        raise SystemExit(f"{url}: {query}: {res}")
    return res["data"]["result"]


# --- the batches agents ship (DESIGN §4), with values that say where they come from -------------------

NODES = ["gpu017", "gpu018"]
SERIES = [("lustre_client_rpcs_total", "counter", {"fs": "ai0", "target": "ai0-MDT0000"}),
          ("gpu_utilization_ratio", "gauge", {"gpu": "0", "uuid": "GPU-x", "model": "NVIDIA H200"}),
          ("vfs_ops_total", "counter", {"fstype": "lustre", "mount": "/lustre/ai0", "op": "stat", "job": "4711"})]


def batch(node, seq, t0, points):
    """One batch of every series of SERIES: points at t0, t0+10 s, ...; value = seq*1000 + i (+0.5 gauges)."""
    series = []
    for name, typ, labels in SERIES:
        pts = [[t0 + i * 10_000, seq * 1000 + i + (0.5 if typ == "gauge" else 0)] for i in range(points)]
        series.append({"name": name, "type": typ, "labels": labels, "points": pts})
    return {"node": node, "stream": "test", "seq": seq, "series": series}


def ship(collector, batches):
    for b in batches:
        res = json.loads(http(collector + "/api/v1/ingest", json.dumps(b).encode(), {"Content-Type": "application/json"}))
        if res.get("duplicate") or res.get("accepted") != sum(len(s["points"]) for s in b["series"]):
            raise SystemExit(f"ingest answered {res} for batch {b['node']}/{b['seq']}")


def expected(batches):
    """{(name, node): {t_ms: value}} of what was shipped."""
    out = {}
    for b in batches:
        for s in b["series"]:
            d = out.setdefault((s["name"], b["node"]), {})
            for t, v in s["points"]:
                d[t] = v
    return out


def received(url, name, node, start, end, label="instance"):
    """{t_ms: value} of one series in a Prometheus-API receiver (query_range at 10 s steps hits every point)."""
    q = f'{name}{{{label}="{node}",cluster="lab"}}'
    params = urllib.parse.urlencode({"query": q, "start": start / 1000, "end": end / 1000, "step": "10s"})
    res = json.loads(http(url + "/api/v1/query_range?" + params))
    if res.get("status") != "success":
        raise SystemExit(f"{url}: {q}: {res}")
    return res["data"]["result"]


def check_arrived(url, want, start, end, who):
    problems = []
    for (name, node), points in want.items():
        got = received(url, name, node, start, end)
        if len(got) != 1:
            problems.append(f"{who}: {name} of {node}: {len(got)} series, expected 1: {[g['metric'] for g in got]}")
            continue
        metric = got[0]["metric"]
        if "node" in metric or metric.get("cluster") != "lab":
            problems.append(f"{who}: {name} of {node}: labels not relabelled: {metric}")
        values = {int(round(float(t) * 1000)): float(v) for t, v in got[0]["values"]}
        missing = [t for t in points if t not in values]
        wrong = [t for t in points if t in values and values[t] != points[t]]
        if missing or wrong:
            problems.append(f"{who}: {name} of {node}: {len(missing)} points missing, {len(wrong)} with wrong values "
                            f"(of {len(points)})")
    return problems


def test_write(stack):
    prom_port, vm_port, col_port = free_port(), free_port(), free_port()
    prom, vm, col = (f"http://127.0.0.1:{p}" for p in (prom_port, vm_port, col_port))
    stack.prometheus(prom_port, "global: {scrape_interval: 1h}\n", "--web.enable-remote-write-receiver")
    stack.start("victoria", ["victoria-metrics", f"-storageDataPath={stack.work}/vm", f"-httpListenAddr=127.0.0.1:{vm_port}",
                             "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=ERROR"], vm + "/health")
    relabel = """
    write_relabel_configs:
      - {source_labels: [node], target_label: instance}
      - {action: labeldrop, regex: node}
      - {target_label: cluster, replacement: lab}"""
    queue = "    queue_config: {batch_send_deadline: 200ms, min_backoff: 100ms, max_backoff: 2s}"
    config = f"""remote_write:
  - url: {prom}/api/v1/write
    name: prometheus
{queue}{relabel}
  - url: {vm}/api/v1/write
    name: victoria
{queue}{relabel}
"""
    stack.collector(col_port, config)
    now = int(time.time() * 1000)
    t0 = now - 40 * 60_000
    # 12 batches per node before the outage, 12 during it; each batch 6 points of each series (one minute).
    first = [batch(n, seq, t0 + seq * 60_000, 6) for seq in range(1, 13) for n in NODES]
    second = [batch(n, seq, t0 + seq * 60_000, 6) for seq in range(13, 25) for n in NODES]
    ship(col, first)
    n_first = sum(len(s["points"]) for b in first for s in b["series"])
    wait_for("Prometheus to receive the first batches",
             lambda: metric_sum(metrics(col), "stormscope_remote_write_samples_total", remote_name="prometheus") == n_first, 60)
    problems = check_arrived(prom, expected(first), t0, now, "prometheus (before the outage)")

    # The receiver goes away; agents go on shipping; the collector restarts in the middle.
    stack.stop("prometheus")
    ship(col, second[:12])
    wait_for("the sender to retry", lambda: metric_sum(metrics(col), "stormscope_remote_write_requests_total",
                                                       remote_name="prometheus", code="error") > 0, 30)
    ms = metrics(col)
    if metric_sum(ms, "stormscope_remote_write_pending_bytes", remote_name="prometheus") <= 0:
        problems.append("pending bytes not reported while Prometheus is down")
    if metric_sum(ms, "stormscope_remote_write_samples_total", remote_name="prometheus") != n_first:
        problems.append("samples counted as sent while Prometheus was down")
    stack.stop("collector")
    stack.collector(col_port, config)
    ship(col, second[12:])
    time.sleep(15)  # down for tens of seconds: the sender backs off to max_backoff and keeps trying
    ms = metrics(col)
    lag = metric_sum(ms, "stormscope_remote_write_lag_seconds", remote_name="prometheus")
    if lag < 10:
        problems.append(f"lag {lag} s while Prometheus has been down over 15 s")
    n_second = sum(len(s["points"]) for b in second for s in b["series"])
    # VictoriaMetrics' endpoint stayed up: it got everything meanwhile, from its own cursor.
    if metric_sum(ms, "stormscope_remote_write_lag_seconds", remote_name="victoria") > 5:
        problems.append("victoria's endpoint waited for the one that was down")
    stack.prometheus(prom_port, "global: {scrape_interval: 1h}\n", "--web.enable-remote-write-receiver")
    wait_for("the backlog to drain", lambda: metric_sum(metrics(col), "stormscope_remote_write_pending_bytes",
                                                        remote_name="prometheus") == 0, 90)
    ms = metrics(col)
    sent_after = metric_sum(ms, "stormscope_remote_write_samples_total", remote_name="prometheus")
    if sent_after != n_second:
        problems.append(f"after the restart the collector sent {sent_after} samples to Prometheus, expected {n_second} "
                        "(more: sent twice; fewer: lost)")
    keep_metrics(stack, "collector_remote_write", col)
    dropped = metric_sum(ms, "stormscope_remote_write_samples_dropped_total")
    if dropped:
        problems.append(f"{dropped} samples dropped")
    end = int(time.time() * 1000)
    problems += check_arrived(prom, expected(first + second), t0, end, "prometheus")
    problems += check_arrived(vm, expected(first + second), t0, end, "victoriametrics")
    # Prometheus appended each sample once: its head holds exactly the shipped count.
    appended = metric_sum(metrics(prom), "prometheus_tsdb_head_samples_appended_total")
    print(f"prometheus appended {appended} samples since its restart (sent {n_second}); "
          f"victoria lag {metric_sum(ms, 'stormscope_remote_write_lag_seconds', remote_name='victoria')} s")
    return problems


# --- remote read: Prometheus answers PromQL from data only the collector holds ----------------------------

# Series that are not the agents': Prometheus' own `up` and the collector's self-metrics, which Prometheus
# scrapes and the collector does not store (the agents' stormscope_agent_* metrics are shipped).
NOT_SHIPPED = re.compile(r'\b(up|stormscope_(?!agent_)\w+)\b')
RECORDED = re.compile(r'[a-zA-Z_]\w*:[a-zA-Z_][\w:]*')


def openmetrics_to_batches(text):
    """Ingest batches (one per node and family) of promdata.py's OpenMetrics, as agents ship them: the
    scrape's instance becomes the node, Prometheus' job label of the agent is not part of the data."""
    types, by = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            _, _, fam, typ = line.split()
            types[fam] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r'(\w+)\{(.*)\} (\S+) (\d+)$', line)
        name, labels, v, t = m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2))), float(m.group(3)), int(m.group(4))
        if NOT_SHIPPED.fullmatch(name):
            continue
        node = labels.pop("instance").split(":")[0]
        if labels.get("job") in ("stormscope-agent", "stormscope-collector"):
            labels.pop("job")
        key = (node, name, tuple(sorted(labels.items())))
        by.setdefault(key, []).append([t * 1000, v])
    batches, seq = {}, {}
    for (node, name, labels), points in by.items():
        typ = "counter" if name.endswith(("_total", "_bucket", "_sum", "_count")) else "gauge"
        b = batches.setdefault((node, name), {"node": node, "stream": "promdata", "seq": 0, "series": []})
        b["series"].append({"name": name, "type": typ, "labels": dict(labels), "points": points})
    out = []
    for (node, _), b in sorted(batches.items()):
        seq[node] = seq.get(node, 0) + 1
        b["seq"] = seq[node]
        out.append(b)
    return out


def test_read(stack):
    sys.path.insert(0, os.path.join(stack.src, "tests/scripts"))
    import check_dashboards as cd  # the dashboards' expressions and the values their variables take
    col_port, prom_port = free_port(), free_port()
    col, prom = f"http://127.0.0.1:{col_port}", f"http://127.0.0.1:{prom_port}"
    stack.collector(col_port, "")
    end = int(time.time()) - 60
    om = subprocess.run([sys.executable, os.path.join(stack.src, "tests/scripts/promdata.py"), "--end", str(end)],
                        check=True, capture_output=True, text=True).stdout
    batches = openmetrics_to_batches(om)
    ship(col, batches)
    shipped = {s["name"] for b in batches for s in b["series"]}
    # A Prometheus that scrapes nothing: everything it answers comes through remote read.
    stack.prometheus(prom_port, f"""global: {{scrape_interval: 1h}}
remote_read:
  - url: {col}/api/v1/read
    read_recent: true
""")
    problems, ran, skipped = [], 0, []
    subst = dict(cd.SUBST, node="gpu017")  # the collector presents its node label as instance
    for path in sorted(os.path.join(stack.src, "dashboards", f) for f in os.listdir(os.path.join(stack.src, "dashboards"))
                       if f.endswith(".json")):
        d = json.load(open(path))
        for panel, expr in cd.exprs_of(d):
            q = cd.VAR_RE.sub(lambda m: subst.get(m.group(1) or m.group(2) or m.group(3), m.group(0)), expr)
            if RECORDED.search(q) or NOT_SHIPPED.search(q):
                skipped.append(q)
                continue
            ran += 1
            try:
                result = prom_query(prom, q, end)
            except SystemExit as e:
                problems.append(f"{os.path.basename(path)}: {panel.get('title')!r}: {e}")
                continue
            if not result:
                problems.append(f"{os.path.basename(path)}: {panel.get('title')!r}: no data for {q}")
    # Over the whole history, not only the last minutes: a range query across the 2 h 15 m of data.
    r = json.loads(http(prom + "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": 'sum(rate(lustre_client_rpcs_total{instance="gpu017"}[5m]))', "start": end - 7800, "end": end, "step": "60"})))
    points = r["data"]["result"][0]["values"] if r.get("status") == "success" and r["data"]["result"] else []
    if len(points) < 120:
        problems.append(f"range query over the history: {len(points)} points, expected about 130")
    keep_metrics(stack, "collector_remote_read", col)
    print(f"read: {len(batches)} batches of {len(shipped)} metric names shipped; {ran} dashboard expressions on raw "
          f"series run through remote read, {len(skipped)} left out (recording-rule outputs or series Prometheus scrapes "
          f"itself: {'; '.join(skipped)})")
    if ran < 40:
        problems.append(f"only {ran} expressions ran")
    return problems


def main():
    mode, build, src = sys.argv[1:4]
    stack = Stack(build, src)
    try:
        problems = {"write": test_write, "read": test_read}[mode](stack)
    except BaseException:
        for name in list(stack.procs):
            stack.dump(name)
        stack.close()
        raise
    if problems:
        for name in list(stack.procs):
            stack.dump(name)
    stack.close()
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    print(f"{mode}: {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
