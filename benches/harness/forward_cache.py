#!/usr/bin/env python3
"""Cached forwarded names and PTR answers against authoritative ones (issue 20).

    python3 benches/harness/forward_cache.py [--rounds R] [--duration S] [--tasks N]
                                             [--binary PATH] [--work DIR]

One run, on one server core (CPU 1) with the load on the other (CPU 0), blast as the
load generator (see README.md in this directory for the method):

- ext/ours: 1,000 names of `ext.example.` (half in mixed case), asked of our server,
  which forwards them to NSD once and then answers them from its forward cache;
- ext/nsd: the same queries asked of NSD, authoritative for `ext.example.`;
- a/ours and ptr/ours: A queries for the task names of a synthetic cluster, and PTR
  queries for their addresses, both answered by our server from its table.

Rounds rotate the order; the figures are medians. It prints the QPS of each, the ratio
ext/ours : ext/nsd (issue 20's goal: at least 0.9) and ptr/ours : a/ours, and checks
with /metrics that the ext queries were cache hits. Needs nsd, gcc, taskset and 2 CPUs
(benches/harness/run.sh installs them); uses 127.0.0.1 ports 25353, 25356, 25380-25381.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure  # noqa: E402
import servers  # noqa: E402

EXT = "ext.example"
EXT_NAMES = 1000
NSD_EXT_ZONE = """zone:
  name: {ext}
  zonefile: "{file}"
"""


def ext_zone(path):
    with open(path, "w") as f:
        f.write("$ORIGIN %s.\n$TTL 3600\n" % EXT)
        f.write("@ IN SOA ns1.%s. root.%s. 1 3600 600 86400 3600\n" % (EXT, EXT))
        f.write("@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n" % EXT)
        for i in range(EXT_NAMES):
            f.write("host-%d IN A 192.0.%d.%d\n" % (i, 2 + i // 250, 1 + i % 250))


def mixed(rng, name):
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


def query_files(work, records, count, rng):
    """ext.txt, a.txt and ptr.txt: COUNT lines each, half of the names in mixed case."""
    with open(records) as f:
        As = json.load(f)["As"]
    tasks = [(n, ips) for n, ips in sorted(As.items()) if n.count(".") == 3]  # t.fw.mesos.
    ext = ["host-%d.%s" % (i, EXT) for i in range(EXT_NAMES)]
    addrs = sorted({ip for _, ips in tasks for ip in ips})
    ptr = [".".join(reversed(ip.split("."))) + ".in-addr.arpa" for ip in addrs]
    files = {}
    for kind, names, qtype in (("ext", ext, "A"), ("a", [n for n, _ in tasks], "A"),
                               ("ptr", ptr, "PTR")):
        path = os.path.join(work, kind + ".txt")
        with open(path, "w") as f:
            for _ in range(count):
                n = rng.choice(names)
                f.write("%s %s\n" % (mixed(rng, n) if rng.random() < 0.5 else n, qtype))
        files[kind] = (path, names, qtype)
    return files


def ours_config(port, workers, refresh_seconds):
    c = base_ours_config(port, workers, refresh_seconds)
    c.update({"ExternalOn": True, "Resolvers": ["127.0.0.1:%d" % servers.PORTS["nsd"]],
              "Timeout": 5, "ForwardCacheSize": 100000})
    return c


base_ours_config = servers.ours_config
servers.ours_config = ours_config


def metric(name):
    url = "http://127.0.0.1:%d/metrics" % servers.HTTP_PORT
    with urllib.request.urlopen(url, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--binary")
    ap.add_argument("--work")
    ap.add_argument("--wait-idle", type=int, default=10)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(HERE))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    work = os.path.abspath(a.work or os.path.join(target, "bench-forward-cache"))
    os.makedirs(work, exist_ok=True)
    binary = a.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "mesos-dns"], cwd=root,
                       check=True)
        binary = os.path.join(target, "release", "mesos-dns")
    blast = os.path.join(work, "blast")
    subprocess.run(["cc", "-O2", "-Wall", "-o", blast, os.path.join(HERE, "blast.c")], check=True)
    synth = os.path.join(HERE, "synth.py")
    cluster = os.path.join(work, "cluster")
    subprocess.run(["python3", synth, "state", cluster, "--tasks", str(a.tasks),
                    "--master-port", str(servers.MASTER_PORT)], check=True)
    records = os.path.join(cluster, "records.json")
    subprocess.run(["python3", synth, "zone", records, os.path.join(work, "mesos.zone")],
                   check=True)
    ext_file = os.path.join(work, "ext.zone")
    ext_zone(ext_file)
    servers.NSD_CONF += NSD_EXT_ZONE.format(ext=EXT, file=ext_file)
    files = query_files(work, records, 100000, random.Random(1))

    nsd = servers.Server("nsd", work, "leader.mesos")
    ours = servers.Server("ours", work, "leader.mesos", binary)
    running = []
    results = {}
    try:
        # Both on CPU 1 with one worker; only the one measured is loaded.
        running.append(nsd.start("1", 1))
        running.append(ours.start("1", 1))
        for n in files["ext"][1]:  # warm the cache: one forward per name
            r = servers.dns_query(ours.port, n)
            if not r or r[0] != 0 or r[1] != 1:
                raise RuntimeError("ours: no answer for %s through NSD: %s" % (n, r))
        for kind in ("a", "ptr"):
            n = files[kind][1][0]
            r = servers.dns_query(ours.port, n, 12 if kind == "ptr" else 1)
            if not r or r[0] != 0 or r[1] < 1:
                raise RuntimeError("ours: no %s answer for %s: %s" % (kind, n, r))
        hits0 = metric("mesosdns_dns_forward_cache_hits_total") or 0
        miss0 = metric("mesosdns_dns_forward_cache_misses_total") or 0
        runs = [("ext", ours), ("ext", nsd), ("a", ours), ("ptr", ours)]
        for rnd in range(a.rounds):
            for kind, server in runs[rnd % len(runs):] + runs[:rnd % len(runs)]:
                r = measure.run(server, "blast", files[kind][0], a.duration, "0", blast=blast,
                                wait=a.wait_idle)
                key = "%s/%s" % (kind, server.name)
                results.setdefault(key, []).append(r)
                print("round %d %-9s %8.0f QPS  %s us/q  rcodes %s%s" % (
                    rnd + 1, key, r["qps"] or 0, r["server_us_per_q"], r["rcodes"],
                    "  ERROR " + r["error"][:200] if r.get("error") else ""), flush=True)
        hits = (metric("mesosdns_dns_forward_cache_hits_total") or 0) - hits0
        misses = (metric("mesosdns_dns_forward_cache_misses_total") or 0) - miss0
    finally:
        for s in running:
            s.stop()

    med = {k: statistics.median(r["qps"] or 0 for r in v) for k, v in results.items()}
    cpu = {k: statistics.median(r["server_us_per_q"] or 0 for r in v) for k, v in results.items()}
    summary = {
        "median_qps": med, "median_server_us_per_q": cpu,
        "ext_ours_over_nsd": round(med["ext/ours"] / med["ext/nsd"], 3),
        "ptr_over_a": round(med["ptr/ours"] / med["a/ours"], 3),
        "cache_hits": hits, "cache_misses": misses,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "rounds": a.rounds, "duration": a.duration,
    }
    with open(os.path.join(work, "forward_cache.json"), "w") as f:
        json.dump({"summary": summary, "runs": results}, f, indent=1)
    print()
    print("| load | server | median QPS | server µs/query |")
    print("|---|---|---|---|")
    for k in ("ext/ours", "ext/nsd", "a/ours", "ptr/ours"):
        kind, name = k.split("/")
        print("| %s | %s | %.0f | %s |" % (
            {"ext": "cached external A", "a": "task A", "ptr": "task PTR"}[kind], name,
            med[k], cpu[k]))
    print()
    print("cached forwarded / NSD authoritative: %.3f (goal >= 0.9)" % summary["ext_ours_over_nsd"])
    print("PTR / A: %.3f" % summary["ptr_over_a"])
    print("forward cache during the runs: %d hits, %d misses" % (hits, misses))
    print("(results: %s)" % os.path.join(work, "forward_cache.json"))


if __name__ == "__main__":
    main()
