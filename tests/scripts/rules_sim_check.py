#!/usr/bin/env python3
"""Checks Stormscope's alert rules against the simulator's ground truth (tests/scripts/rules_simulated.sh).

  rules_sim_check.py live-offset TRUTH.json
      prints the offset (ms from the simulation's start) of a moment inside the last injected metadata
      storm, on the sample grid, where the storm alerts must fire: the live part of the test ends the
      data there and shifts it to the wall clock.
  rules_sim_check.py levels RULES.yml OUT_DIR
      writes the recording rules as level files for backfilling in dependency order (see levels()).
  rules_sim_check.py verify URL TRUTH.json ALERTS.yml LIVE_MS
      LIVE_MS is the wall-clock moment the data ends at (ms). Checks, in the Prometheus at URL:
      - live: the rule manager fires the alerts of the incident in progress at LIVE_MS, with its labels,
        and no health alert;
      - history: each alert rule's expression, evaluated over the whole simulation (query_range), holds
        for its `for` duration during every injected incident long enough to be seen (with the incident's
        labels), and never holds that long outside the injected incidents (confounders included).
"""
import json
import sys
import urllib.parse
import urllib.request

import yaml

STEP_S = 15          # query_range step (the recording rules were backfilled at this interval)
LAG_MS = 6 * 60_000  # 5 m rate windows and 2 m ones trail an incident's end
STORAGE = ["StormscopeMetadataStorm", "StormscopeMetadataWaitHigh", "StormscopeWaittimeSpike",
           "StormscopeCheckpointStall", "StormscopeOSTNearlyFull", "StormscopeOSTImbalance"]
HEALTH = ["StormscopeAgentDown", "StormscopeSourceDown", "StormscopeCollectorDown",
          "StormscopeCollectorIngestFailing", "StormscopeAgentCannotShip"]


def expected_alerts(e):
    """(alertname, labels that must match) an injected incident must raise, or may raise ("also")."""
    kind = e["kind"]
    if kind == "metadata_storm":
        return [("StormscopeMetadataStorm", {"fstype": "lustre", "mount": "/lustre/" + e["fs"]}),
                ("StormscopeMetadataWaitHigh", {"fs": e["fs"], "target": e["target"]})]
    if kind == "waittime_spike":
        return [("StormscopeWaittimeSpike", {"fs": e["fs"], "target": e["target"]})]
    if kind == "checkpoint_stall":
        return [("StormscopeCheckpointStall", {"job": e["job"]})]
    if kind == "ost_imbalance":
        return [("StormscopeOSTImbalance", {"fs": e["fs"]})]
    return []


def allowed_alerts(e):
    """Alerts an entry explains (what it must raise, what it may rightly raise besides)."""
    out = expected_alerts(e)
    if e["kind"] == "metadata_storm":  # the MDT wait rises with the storm
        out.append(("StormscopeWaittimeSpike", {"fs": e["fs"], "target": e["target"]}))
    if e["kind"] == "waittime_spike" and "-MDT" in e["target"]:
        out.append(("StormscopeMetadataWaitHigh", {"fs": e["fs"], "target": e["target"]}))
    if e["kind"] == "ost_imbalance":
        out.append(("StormscopeOSTNearlyFull", {"fs": e["fs"], "target": e["target"]}))
    if e["kind"] in ("node_silent", "node_reboot"):  # an agent that does not answer is down
        out.append(("StormscopeAgentDown", {"instance": e["node"] + ":9479"}))
    return out


def matches(labels, want):
    return all(labels.get(k) == v for k, v in want.items())


def long_enough(e, for_s):
    """Whether the incident lasts the alert's `for`: a shorter one cannot fire it (the detectors see those)."""
    return e["end"] - e["start"] >= for_s * 1000


def get(url, path, params):
    with urllib.request.urlopen(url + path + "?" + urllib.parse.urlencode(params), timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise SystemExit(f"{path} {params}: {body}")
    return body["data"]


def runs(values, for_s, step_s):
    """[start_ms, end_ms] stretches where a series is present at consecutive steps for at least for_s."""
    out, begin, last = [], None, None
    for t, _ in values:
        t = int(float(t) * 1000)
        if begin is not None and t - last > step_s * 1000:
            out.append((begin, last))
            begin = None
        if begin is None:
            begin = t
        last = t
    if begin is not None:
        out.append((begin, last))
    return [(b, e) for b, e in out if e - b >= for_s * 1000]


def live_offset(truth):
    opts = truth["options"]
    storms = [e for e in truth["entries"] if e["kind"] == "metadata_storm" and not e["confounder"]
              and e["end"] - e["start"] >= 6 * 60_000]
    if not storms:
        raise SystemExit("the simulation has no metadata storm of 6 minutes or more: pick another seed")
    e = storms[-1]
    # Five minutes in: the 5 m rate window lies inside the storm.
    at = e["start"] + 5 * 60_000 - opts["start"]
    return at - at % opts["interval_ms"] + opts["interval_ms"]


def verify(url, truth, alerts_file, live_ms):
    problems = []
    rules = {r["alert"]: r for g in yaml.safe_load(open(alerts_file))["groups"] for r in g["rules"] if "alert" in r}
    for_s = {name: parse_duration(r.get("for", "0s")) for name, r in rules.items()}
    loaded = {r["name"]: r for g in get(url, "/api/v1/rules", {"type": "alert"})["groups"] for r in g["rules"]}
    missing = set(rules) - set(loaded)
    if missing:
        problems.append(f"alert rules not loaded in Prometheus: {sorted(missing)}")
    entries = truth["entries"]
    start = truth["options"]["start"]
    end = min(live_ms, start + truth["options"]["duration_ms"])

    # Live: the rule manager (rules loaded with `for: 0s`, the data ends now).
    firing = [a["labels"] for a in get(url, "/api/v1/alerts", {})["alerts"] if a["state"] == "firing"]
    print("firing now:", sorted({a["alertname"] for a in firing}))
    active = [e for e in entries if e["start"] <= live_ms <= e["end"] and not e["confounder"]]
    if not active:
        problems.append("no injected incident is in progress at the end of the data")
    for e in active:
        for name, want in expected_alerts(e):
            if not any(a["alertname"] == name and matches(a, want) for a in firing):
                problems.append(f"live: {name}{want} not firing during {e['kind']} ({e['note']})")
            else:
                print(f"live: {name}{want} fires for {e['kind']} ({e['note']})")
    recent = [e for e in entries if e["start"] <= live_ms and e["end"] + LAG_MS >= live_ms]
    for a in firing:
        if not any(a["alertname"] == n and matches(a, w) for e in recent for n, w in allowed_alerts(e)):
            problems.append(f"live: {a['alertname']} {a} fires with no injected cause")

    # History: every alert rule evaluated over the whole run.
    held = {}  # alertname -> [(labels, begin_ms, end_ms)]
    for name, r in loaded.items():
        data = get(url, "/api/v1/query_range", {"query": r["query"], "start": start / 1000, "end": end / 1000,
                                                 "step": STEP_S})
        # An alert's labels are its series' without __name__: one alert across `a or b` (the OST rules).
        series = {}
        for s in data["result"]:
            labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
            series.setdefault(tuple(sorted(labels.items())), []).extend(s["values"])
        for key, values in series.items():
            values.sort(key=lambda v: float(v[0]))
            for b, e in runs(values, for_s.get(name, 0), STEP_S):
                held.setdefault(name, []).append((dict(key), b, e))
    for name, stretches in sorted(held.items()):
        for m, b, f in stretches:
            labels = {k: v for k, v in m.items() if k in ("fs", "target", "job", "mount", "instance")}
            print(f"held: {name}{labels} +{(b - start) / 60000:.1f}..+{(f - start) / 60000:.1f} min")
    checked = {}
    for e in entries:
        if e["confounder"] or e["start"] > end - 10 * 60_000:
            continue
        for name, want in expected_alerts(e):
            if not long_enough(e, for_s.get(name, 0)):
                print(f"history: {e['kind']} at +{(e['start'] - start) // 60000} min lasts "
                      f"{(e['end'] - e['start']) // 1000} s, too short for {name} (for {for_s.get(name, 0)} s): not required")
                continue
            checked[e["kind"]] = checked.get(e["kind"], 0) + 1
            hits = [(b, f) for m, b, f in held.get(name, []) if matches(m, want)
                    and b <= e["end"] + LAG_MS and f >= e["start"]]
            where = f"{e['kind']} at +{(e['start'] - start) // 60000} min ({e['note']})"
            if hits:
                print(f"history: {name}{want} fires for {where}")
            else:
                problems.append(f"history: {name}{want} does not fire for {where}")
    for kind in ("metadata_storm", "waittime_spike", "checkpoint_stall", "ost_imbalance"):
        if not checked.get(kind):
            problems.append(f"history: no {kind} long enough to check: pick another seed or a longer run")
    for name, stretches in held.items():
        for m, b, f in stretches:
            if name in HEALTH and not any(any(n == name and matches(m, w) for n, w in allowed_alerts(e))
                                          for e in entries if e["confounder"]):
                problems.append(f"history: health alert {name}{m} fires")
                continue
            causes = [e for e in entries if e["start"] <= f and e["end"] + LAG_MS >= b
                      and any(n == name and matches(m, w) for n, w in allowed_alerts(e))]
            if not causes:
                problems.append(f"history: {name}{m} fires at +{(b - start) // 60000}..+{(f - start) // 60000} min "
                                f"with no injected cause")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


def parse_duration(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total, num = 0.0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit():
            num += c
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else c
        total += int(num) * units[unit]
        num = ""
        i += len(unit)
    return total


def levels(rules_file, out_dir):
    """Splits recording rules into files by dependency depth (level1.yml: rules on scraped series only,
    level2.yml: rules on level-1 records, ...): `promtool tsdb create-blocks-from rules` evaluates every rule
    against the Prometheus it is given, so a rule on another recorded series needs that series backfilled
    first. Prints the file names in order."""
    import re
    rules = [r for g in yaml.safe_load(open(rules_file))["groups"] for r in g["rules"] if "record" in r]
    names = {r["record"] for r in rules}
    depth = {}

    def level(r):
        if r["record"] not in depth:
            deps = [n for n in names if n != r["record"] and re.search(r"(?<![\w:])" + re.escape(n) + r"(?![\w:])", r["expr"])]
            depth[r["record"]] = 1 + max((level(next(x for x in rules if x["record"] == d)) for d in deps), default=0)
        return depth[r["record"]]

    by_level = {}
    for r in rules:
        by_level.setdefault(level(r), []).append(r)
    for n in sorted(by_level):
        path = f"{out_dir}/level{n}.yml"
        with open(path, "w") as f:
            yaml.safe_dump({"groups": [{"name": f"level{n}", "rules": by_level[n]}]}, f, sort_keys=False)
        print(path)
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "levels":
        return levels(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "live-offset":
        print(live_offset(json.load(open(sys.argv[2]))))
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "verify":
        return verify(sys.argv[2], json.load(open(sys.argv[3])), sys.argv[4], int(sys.argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
