#!/usr/bin/env python3
"""Writes OpenMetrics test data for every metric family of DESIGN.md §3 (agent and collector), as
Prometheus would have scraped it from two GPU nodes, an MDS/OSS and a collector: 2 h 15 m at 15 s,
ending at --end (seconds). The last 12 minutes hold a metadata storm on ai0 (llite getattr ×20, MDC
wait 300 ms) and a checkpoint stall of job 4711, so that alert rules have something to fire on.

The collector's GPU prices are not invented here: `--gpu-batch` prints an ingest batch (DESIGN.md §4) with
the GPU series of the data, and `--prices FILE` takes the `stormscope_gpu_price_dollars_per_hour` lines a
real collector exported after ingesting it (tests/scripts/dashboards.sh does both).

Usage: promdata.py --gpu-batch > batch.json
       promdata.py --end UNIX_SECONDS [--prices METRICS_FILE] > data.om"""
import argparse
import json
import math
import random
import re
import sys

STEP = 15
DURATION = 2 * 3600 + 15 * 60
STORM = 12 * 60


GPU_MODELS = {"gpu017": "NVIDIA H200", "gpu018": "NVIDIA H100 80GB HBM3"}


def gpu_batch():
    """The GPU series of the data as an agent ships them, one point each, for a real collector to price."""
    series = []
    for node, model in GPU_MODELS.items():
        series.append({"name": "gpu_utilization_ratio", "type": "gauge",
                       "labels": {"gpu": "0", "uuid": f"GPU-{node}-0", "model": model},
                       "points": [[1763700000000, 0.9]]})
    return {"node": "promdata", "seq": 1, "series": series}


def read_prices(path):
    """(labels, value) of each stormscope_gpu_price_dollars_per_hour line of a /metrics text."""
    out = []
    for line in open(path):
        m = re.match(r'stormscope_gpu_price_dollars_per_hour\{(.*)\} (\S+)$', line.strip())
        if m:
            out.append((dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))), float(m.group(2))))
    if not out:
        raise SystemExit(f"{path}: no stormscope_gpu_price_dollars_per_hour lines")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--end", type=int)
    ap.add_argument("--gpu-batch", action="store_true")
    ap.add_argument("--prices")
    args = ap.parse_args()
    if args.gpu_batch:
        print(json.dumps(gpu_batch()))
        return
    if args.end is None:
        ap.error("--end is required")
    prices = read_prices(args.prices) if args.prices else []
    end = args.end - args.end % STEP
    start = end - DURATION
    rnd = random.Random(7)
    families = {}  # name -> (type, {labels_text: [(t, v)]})

    def lab(d):
        return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}"

    def add(family, typ, sample, labels, t, v):
        fam = families.setdefault(family, (typ, {}))
        fam[1].setdefault(sample + lab(labels), []).append((t, v))

    nodes = ["gpu017:9479", "gpu018:9479"]
    server = "mds01:9479"
    osts = [f"ai0-OST{i:04x}" for i in range(4)]
    acc = {}

    def counter(family, labels, t, rate, sample=None):
        key = (sample or family + "_total") + lab(labels)
        acc[key] = acc.get(key, 0.0) + rate * STEP
        add(family, "counter", sample or family + "_total", labels, t, round(acc[key], 6))

    for t in range(start, end + 1, STEP):
        storm = t > end - STORM
        day = 1 + 0.2 * math.sin(t / 3600)
        for inst in nodes:
            node = inst.split(":")[0]
            job = "4711" if node == "gpu017" else "4712"
            base = dict(instance=inst, job=job)
            for op, r in [("getattr", 400), ("open", 300), ("close", 300), ("readdir", 20)]:
                mult = 20 if storm and op == "getattr" and node == "gpu017" else 1
                counter("lustre_client_llite_ops", dict(instance=inst, fs="ai0", op=op), t, r * day * mult)
            rpcs_mdt = 800 * day * (10 if storm else 1)
            wait_mdt = 0.3 if storm else 0.004
            counter("lustre_client_rpcs", dict(instance=inst, fs="ai0", target="ai0-MDT0000"), t, rpcs_mdt)
            counter("lustre_client_rpc_wait_seconds", dict(instance=inst, fs="ai0", target="ai0-MDT0000"), t, rpcs_mdt * wait_mdt)
            counter("lustre_client_ops", dict(instance=inst, fs="ai0", target="ai0-MDT0000", op="mds_getattr"), t, rpcs_mdt * 0.6)
            for i, ost in enumerate(osts):
                counter("lustre_client_rpcs", dict(instance=inst, fs="ai0", target=ost), t, 200 * day)
                counter("lustre_client_rpc_wait_seconds", dict(instance=inst, fs="ai0", target=ost), t, 200 * day * 0.01)
                counter("lustre_client_ops", dict(instance=inst, fs="ai0", target=ost, op="ost_write"), t, 50)
                w = (2e9 if storm and node == "gpu017" else 5e7) * (3 if i == 0 else 1)
                counter("lustre_client_bytes", dict(instance=inst, fs="ai0", target=ost, op="write"), t, w)
                counter("lustre_client_bytes", dict(instance=inst, fs="ai0", target=ost, op="read"), t, 2e8)
            for tgt in osts + ["ai0-MDT0000"]:
                cap = 100e12 if "OST" in tgt else 4e12
                fill = {0: 0.93}.get(osts.index(tgt) if tgt in osts else -1, 0.55)
                add("lustre_target_capacity_bytes", "gauge", "lustre_target_capacity_bytes", dict(instance=inst, fs="ai0", target=tgt), t, cap)
                add("lustre_target_free_bytes", "gauge", "lustre_target_free_bytes", dict(instance=inst, fs="ai0", target=tgt), t, cap * (1 - fill))
                add("lustre_target_available_bytes", "gauge", "lustre_target_available_bytes", dict(instance=inst, fs="ai0", target=tgt), t, cap * (1 - fill) * 0.95)
                add("lustre_target_inodes", "gauge", "lustre_target_inodes", dict(instance=inst, fs="ai0", target=tgt), t, 1e9)
                add("lustre_target_inodes_free", "gauge", "lustre_target_inodes_free", dict(instance=inst, fs="ai0", target=tgt), t, 6e8)
            # eBPF
            for op, r in [("stat", 2000), ("open", 800), ("readdir", 30), ("create", 5), ("unlink", 5), ("close", 800), ("read", 3000), ("write", 500), ("fsync", 1)]:
                mult = 25 if storm and op == "stat" and node == "gpu017" else 1
                lbl = dict(instance=inst, fstype="lustre", mount="/lustre/ai0", op=op, job=job)
                counter("vfs_ops", lbl, t, r * mult * day)
                hl = dict(instance=inst, fstype="lustre", mount="/lustre/ai0", op=op)
                total = 0.0
                for le, share in [("1e-05", 0.2), ("0.0001", 0.5), ("0.001", 0.2), ("0.01", 0.07), ("0.1", 0.03), ("+Inf", 0.0)]:
                    total += share
                    counter("vfs_op_duration_seconds", dict(hl, le=le), t, r * mult * total, sample="vfs_op_duration_seconds_bucket")
                counter("vfs_op_duration_seconds", hl, t, r * mult * 0.0005, sample="vfs_op_duration_seconds_sum")
                counter("vfs_op_duration_seconds", hl, t, r * mult, sample="vfs_op_duration_seconds_count")
            for op, r in [("read", 5e8), ("write", 1.5e9 if storm and node == "gpu017" else 2e7)]:
                counter("vfs_bytes", dict(instance=inst, fstype="lustre", mount="/lustre/ai0", op=op, job=job), t, r)
            # GPUs
            for g in range(4):
                util = 0.12 if storm and node == "gpu017" else 0.9 + rnd.uniform(-0.05, 0.05)
                gl = dict(instance=inst, gpu=str(g), uuid=f"GPU-{node}-{g}", model=GPU_MODELS[node], job=job)
                add("gpu_utilization_ratio", "gauge", "gpu_utilization_ratio", gl, t, round(util, 4))
                add("gpu_memory_used_bytes", "gauge", "gpu_memory_used_bytes", dict(instance=inst, gpu=str(g), uuid=f"GPU-{node}-{g}", model=GPU_MODELS[node]), t, 80e9)
            for src in ["mounts", "lustre", "gpu", "vfs"]:
                add("stormscope_agent_source_up", "gauge", "stormscope_agent_source_up", dict(instance=inst, job="stormscope-agent", source=src), t, 1)
            add("up", "gauge", "up", dict(instance=inst, job="stormscope-agent"), t, 1)
        # MDS/OSS node
        for op, r in [("getattr", 800), ("open", 600), ("close", 600), ("mkdir", 2)]:
            counter("lustre_mdt_ops", dict(instance=server, fs="ai0", target="ai0-MDT0000", op=op), t, r * (15 if storm and op == "getattr" else 1))
        for ost in osts:
            for op in ["read", "write"]:
                counter("lustre_ost_bytes", dict(instance=server, fs="ai0", target=ost, op=op), t, 1e8)
        for svc in ["mds.MDS.mdt", "ost.OSS.ost_io"]:
            counter("lustre_service_requests", dict(instance=server, service=svc), t, 1000)
            counter("lustre_service_request_wait_seconds", dict(instance=server, service=svc), t, 1000 * (0.2 if storm and svc.startswith("mds") else 0.002))
        for job, r in [("4711", 900 * (20 if storm else 1)), ("4712", 300)]:
            counter("lustre_job_ops", dict(instance=server, fs="ai0", target="ai0-MDT0000", job=job, op="getattr"), t, r)
        for client, r in [("10.0.0.17@tcp", 900 * (20 if storm else 1)), ("other", 300)]:
            counter("lustre_export_ops", dict(instance=server, fs="ai0", target="ai0-MDT0000", client=client, op="getattr"), t, r)
        add("stormscope_agent_source_up", "gauge", "stormscope_agent_source_up", dict(instance=server, job="stormscope-agent", source="lustre"), t, 1)
        add("up", "gauge", "up", dict(instance=server, job="stormscope-agent"), t, 1)
        # BeeGFS and Weka (a second site): every series names its instance or cluster in fs
        for nt, srv in [("meta", "meta01"), ("storage", "stor01")]:
            b = dict(instance=server, fs="scratch", nodetype=nt)
            counter("beegfs_server_requests", dict(b, server=srv), t, 5000)
            add("beegfs_server_queue_length", "gauge", "beegfs_server_queue_length", dict(b, server=srv), t, rnd.randint(0, 5))
            add("beegfs_server_busy_workers", "gauge", "beegfs_server_busy_workers", dict(b, server=srv), t, rnd.randint(1, 8))
            counter("beegfs_client_ops", dict(b, client="10.0.0.17", op="stat"), t, 300)
            counter("beegfs_user_ops", dict(b, user="1000", op="stat"), t, 300)
            add("beegfs_target_capacity_bytes", "gauge", "beegfs_target_capacity_bytes", dict(b, target="101"), t, 1e13)
            add("beegfs_target_free_bytes", "gauge", "beegfs_target_free_bytes", dict(b, target="101"), t, 4e12)
            add("beegfs_target_inodes", "gauge", "beegfs_target_inodes", dict(b, target="101"), t, 1e9)
            add("beegfs_target_inodes_free", "gauge", "beegfs_target_inodes_free", dict(b, target="101"), t, 5e8)
        for op in ["read", "write"]:
            counter("beegfs_server_bytes", dict(instance=server, fs="scratch", server="stor01", op=op), t, 3e8)
        for op in ["read", "write", "getattr", "lookup"]:
            add("weka_op_rate", "gauge", "weka_op_rate", dict(instance=server, fs="prod", op=op), t, 1000)
            add("weka_op_latency_seconds", "gauge", "weka_op_latency_seconds", dict(instance=server, fs="prod", op=op), t, 0.0004)
        add("weka_fs_capacity_bytes", "gauge", "weka_fs_capacity_bytes", dict(instance=server, fs="default", cluster="prod"), t, 1e14)
        add("weka_fs_used_bytes", "gauge", "weka_fs_used_bytes", dict(instance=server, fs="default", cluster="prod"), t, 4e13)
        # Collector
        col = dict(instance="collector:9480", job="stormscope-collector")
        add("up", "gauge", "up", col, t, 1)
        add("stormscope_incidents_active", "gauge", "stormscope_incidents_active", dict(col, kind="metadata_storm", fs="ai0"), t, 1 if storm else 0)
        counter("stormscope_gpu_idle_cost_dollars", dict(col, kind="metadata_storm", fs="ai0"), t, 0.004 if storm else 0)
        if storm:  # the storm's incident while it is open, as the collector exports it
            inc = dict(col, id="metadata_storm-19aa4e6c8a8-5d2ab1c7", kind="metadata_storm", fs="ai0",
                       target="ai0-MDT0000", culprit_job="4711")
            add("stormscope_incident_info", "gauge", "stormscope_incident_info", dict(inc, severity="critical"), t, 1)
            add("stormscope_incident_cost_dollars", "gauge", "stormscope_incident_cost_dollars", inc, t,
                0.004 * (t - (end - STORM)) / 15)
        for labels, price in prices:
            add("stormscope_gpu_price_dollars_per_hour", "gauge", "stormscope_gpu_price_dollars_per_hour", dict(col, **labels), t, price)

    out = sys.stdout
    for name, (typ, series) in families.items():
        out.write(f"# TYPE {name} {typ if typ != 'counter' else 'counter'}\n")
        for key, points in series.items():
            for t, v in points:
                out.write(f"{key} {v} {t}\n")
    out.write("# EOF\n")


if __name__ == "__main__":
    main()
