#!/usr/bin/env python3
"""Checks the user documentation (README.md, docs/**/*.md):

1. every link between the pages resolves: the file exists and, with a #fragment, the page has that heading;
2. every metric name the docs list (a backticked `lustre_…`, `beegfs_…`, `weka_…`, `vfs_…`, `gpu_…` or
   `stormscope_…` name) is served on the agent's or the collector's /metrics in the end-to-end tests, whose
   scrapes are in the directory given (BUILD_DIR/metrics-seen, tests/support/metrics_seen.h, lib.sh).

Usage: check_docs.py SOURCE_DIR [METRICS_SEEN_DIR]   (without the second argument, links only)
"""
import glob, os, re, sys

src = sys.argv[1]
seen_dir = sys.argv[2] if len(sys.argv) > 2 else None
pages = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "**", "*.md"), recursive=True))
errors = []


def slug(heading):
    # GitHub's anchors: lower case, punctuation dropped (but - and _), spaces to -.
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out, counts = set(), {}
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            s = slug(re.sub(r"`", "", m.group(1)))
            n = counts.get(s, 0)
            counts[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


LINK = re.compile(r"\]\(([^)\s]+)\)")
for page in pages:
    text = open(page, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links in code blocks are not links
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        where = os.path.relpath(page, src)
        if not os.path.exists(dest):
            errors.append(f"{where}: link to {target}: {os.path.relpath(dest, src)} does not exist")
        elif frag and dest.endswith(".md") and frag not in anchors(dest):
            errors.append(f"{where}: link to {target}: no heading #{frag} in {os.path.relpath(dest, src)}")
    if "DESIGN.md" in text:
        errors.append(f"{os.path.relpath(page, src)}: cites DESIGN.md, which users do not have")

# Backticked names in the docs that are not metrics, and why.
NOT_METRICS = {
    "gpu_hours": "a field of /api/v1/cost",
    "gpu_idle_seconds": "a field of incidents and /api/v1/cost",
    "vfs_hot_dirs": "an event kind, not a metric",
    "beegfs_floor": "a parameter of detect.waittime_spike",
    "beegfs_min_queue": "a parameter of detect.waittime_spike",
    "weka_floor": "a parameter of detect.waittime_spike",
    "beegfs_fs": "a variable of the BeeGFS dashboard",
    "weka_cluster": "a variable of the Weka dashboard",
}
# The kernel functions docs/ebpf.md names (what fentry would attach to) look like vfs_ metrics but are not.
KERNEL_FUNCTION = re.compile(r"vfs_(getattr|open|read|write|readv|writev|fsync_range|create|mkdir|mknod|link|symlink"
                             r"|unlink|rmdir|rename)")
METRIC = re.compile(r"`((?:lustre|beegfs|weka|vfs|gpu|stormscope)_[a-z0-9_]+)(?:\{[^`]*\})?`")
if seen_dir:
    documented = {}
    for page in pages:
        for name in METRIC.findall(open(page, encoding="utf-8").read()):
            if name not in NOT_METRICS and not KERNEL_FUNCTION.fullmatch(name):
                documented.setdefault(name, os.path.relpath(page, src))
    served = set()
    scrapes = sorted(glob.glob(os.path.join(seen_dir, "*.prom")))
    if not scrapes:
        errors.append(f"no scrapes in {seen_dir}: the end-to-end tests that keep them did not run")
    for f in scrapes:
        for line in open(f, encoding="utf-8"):
            m = re.match(r"# TYPE (\S+)", line) or re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
            if m:
                served.add(m.group(1))
    for name, page in sorted(documented.items()):
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        if name not in served and base not in served:
            errors.append(f"{page}: `{name}` is served by no end-to-end test's /metrics "
                          f"({len(scrapes)} scrapes in {seen_dir})")
    print(f"{len(documented)} metric names in the docs, all served" if not any("is served" in e for e in errors) else "")

print(f"{len(pages)} pages checked")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
