#!/usr/bin/env python3
"""Checks Stormscope's Grafana dashboards.

  check_dashboards.py structure DASH.json...          structure and project rules; exit 1 on any problem
  check_dashboards.py rules-file OUT.yml DASH.json...  every PromQL expression (variables replaced) as a
                                                       recording rule, for `promtool check rules`
  check_dashboards.py live URL TIME DASH.json...       run every expression against Prometheus at TIME;
                                                       each must succeed and return data
"""
import json
import re
import sys
import urllib.parse
import urllib.request

BUILTINS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__range_ms",
            "__dashboard", "__from", "__to", "__name", "__org", "__user", "timeFilter", "__timeFilter"}
# Values the variables take when expressions are parsed or run against the test data.
SUBST = {"__rate_interval": "5m", "__interval": "15s", "__range": "1h", "fs": "ai0", "job": "4711",
         "node": "gpu017:9479", "collector": "http://127.0.0.1:9480", "beegfs_fs": "scratch", "weka_cluster": "prod"}
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def panels_of(d):
    for p in d.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def exprs_of(d):
    for p in panels_of(d):
        for t in p.get("targets", []):
            if "expr" in t:
                yield p, t["expr"]
    # Annotation queries run against Prometheus too (the incidents every dashboard marks).
    for a in d.get("annotations", {}).get("list", []):
        if "expr" in a:
            yield {"title": "annotation " + a.get("name", "?")}, a["expr"]


def substitute(expr):
    def rep(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return SUBST.get(name, name)
    return VAR_RE.sub(rep, expr)


def undefined_vars(title, expr, variables):
    errors = []
    for m in VAR_RE.finditer(expr):
        name = m.group(1) or m.group(2) or m.group(3)
        if name.isdigit():  # $1: a label_replace capture group, not a variable
            continue
        if name not in variables and name not in BUILTINS:
            errors.append(f"panel {title!r}: variable ${name} is not defined")
    return errors


def check_structure(path):
    errors = []
    d = json.load(open(path))
    for key in ("uid", "title", "schemaVersion", "panels", "templating"):
        if key not in d:
            errors.append(f"missing {key}")
    uid = d.get("uid", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        errors.append(f"uid {uid!r} is not 1-40 characters of [A-Za-z0-9_-]")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds_vars = [v for v in variables.values() if v.get("type") == "datasource"]
    if len(ds_vars) != 1 or ds_vars[0].get("query") != "prometheus":
        errors.append("needs exactly one datasource variable of type prometheus")
    ds_name = ds_vars[0]["name"] if ds_vars else "datasource"
    # Importing asks for the datasource (docs/grafana.md): an input DS_PROMETHEUS, the variable's default.
    inputs = [i for i in d.get("__inputs", []) if i.get("type") == "datasource" and i.get("pluginId") == "prometheus"]
    if [i.get("name") for i in inputs] != ["DS_PROMETHEUS"]:
        errors.append("needs one __inputs entry DS_PROMETHEUS of type datasource, plugin prometheus")
    if ds_vars and ds_vars[0].get("current", {}).get("value") != "${DS_PROMETHEUS}":
        errors.append("the datasource variable's current value must be ${DS_PROMETHEUS}")
    ids = set()
    for p in panels_of(d):
        title = p.get("title", "?")
        pid = p.get("id")
        if not isinstance(pid, int) or pid in ids:
            errors.append(f"panel {title!r}: id {pid!r} missing or repeated")
        ids.add(pid)
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in ("x", "y", "w", "h")):
            errors.append(f"panel {title!r}: gridPos needs integer x, y, w, h")
        elif gp["x"] < 0 or gp["w"] < 1 or gp["x"] + gp["w"] > 24:
            errors.append(f"panel {title!r}: gridPos x+w = {gp['x'] + gp['w']} is outside 24 columns")
        if p.get("type") == "row":
            continue
        if not p.get("description"):
            errors.append(f"panel {title!r}: no description")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            errors.append(f"panel {title!r}: no unit")
        if not p.get("targets"):
            errors.append(f"panel {title!r}: no targets")
        for obj in [p] + p.get("targets", []):
            uid_ = obj.get("datasource", {}).get("uid")
            if uid_ not in (f"${{{ds_name}}}", f"${ds_name}"):
                errors.append(f"panel {title!r}: datasource uid {uid_!r} is not the template variable")
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            errors += undefined_vars(title, expr, variables)
            if re.search(r"\b(rate|irate|increase)\([^\[]*\[\d+[smh]\]\)", expr) and "[24h]" not in expr and "[1h]" not in expr:
                errors.append(f"panel {title!r}: rate() with a fixed window; use $__rate_interval")
    for a in d.get("annotations", {}).get("list", []):
        if a.get("datasource", {}).get("uid") not in (f"${{{ds_name}}}", f"${ds_name}"):
            errors.append(f"annotation {a.get('name')!r}: datasource is not the template variable")
        errors += undefined_vars("annotation " + a.get("name", "?"), a.get("expr", ""), variables)
    for v in variables.values():
        if v.get("type") == "query":
            q = v.get("query", {})
            q = q.get("query") if isinstance(q, dict) else q
            if not re.fullmatch(r"label_values\([^,()]+(\{[^}]*\})?, *\w+\)", q or ""):
                errors.append(f"variable {v['name']}: query {q!r} is not label_values(selector, label)")
            if v.get("datasource", {}).get("uid") != f"${{{ds_name}}}":
                errors.append(f"variable {v['name']}: datasource is not the template variable")
    return [f"{path}: {e}" for e in errors]


def rules_file(out, paths):
    n = 0
    with open(out, "w") as f:
        f.write("groups:\n")
        for path in paths:
            d = json.load(open(path))
            f.write(f"  - name: {json.dumps(d['uid'])}\n    rules:\n")
            for p, expr in exprs_of(d):
                n += 1
                f.write(f"      - record: dashboard_expr_{n}\n")
                f.write(f"        expr: {json.dumps(substitute(expr))}\n")
                f.write(f"        labels: {{panel: {json.dumps(p.get('title', ''))}}}\n")


def live(url, at, paths):
    errors, count = [], 0
    for path in paths:
        d = json.load(open(path))
        for p, expr in exprs_of(d):
            q = substitute(expr)
            body = urllib.parse.urlencode({"query": q, "time": at}).encode()
            try:
                with urllib.request.urlopen(url + "/api/v1/query", body, timeout=30) as r:
                    res = json.load(r)
            except urllib.error.HTTPError as e:
                res = json.load(e)
            count += 1
            if res.get("status") != "success":
                errors.append(f"{path}: panel {p.get('title')!r}: {res.get('error')} in {q}")
            elif not res["data"]["result"]:
                errors.append(f"{path}: panel {p.get('title')!r}: no data for {q}")
    print(f"live: {count} expressions run, {len(errors)} problems")
    return errors


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "structure":
        errors = [e for p in args for e in check_structure(p)]
        print(f"structure: {len(args)} dashboards, {len(errors)} problems")
    elif mode == "rules-file":
        rules_file(args[0], args[1:])
        errors = []
    elif mode == "live":
        errors = live(args[0], args[1], args[2:])
    else:
        sys.exit(f"unknown mode {mode}")
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
