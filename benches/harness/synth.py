#!/usr/bin/env python3
"""Synthetic Mesos cluster for the benchmark: state, expected records, zone, queries.

Subcommands (all deterministic for a given --seed):

  state OUTDIR [--tasks N] [--frameworks F] [--agents A] [--master-port P]
      Writes OUTDIR/master/state (the JSON a Mesos master serves at /master/state)
      and OUTDIR/records.json: every A and SRV record mesos-dns generates from that
      state (BEHAVIOUR.md section 4), in the shape of /v1/axfr's "Records" object.
  zone RECORDS.json OUTFILE
      An RFC 1035 master file for `mesos.` with those records plus SOA and NS,
      for NSD and Knot. RECORDS.json may also be a whole /v1/axfr body.
  queries RECORDS.json OUTFILE [--count C] [--expect]
      A dnsperf query file: 70% A hits, 20% SRV hits, 10% NXDOMAIN, and half of
      the names in randomly mixed letter case.
  compare EXPECTED.json ACTUAL.json
      Compares two record sets (records.json or /v1/axfr bodies); exit 1 on a difference.

The cluster: F frameworks (marathon takes half the tasks), A agents, N running
tasks; tasks are instances of apps (1 to 3 instances per app), each with two
host ports and a container IP reported through NetworkInfo. Addresses are in
10.0.0.0/8 and are record data only: nothing is ever sent to them.
"""
import argparse
import hashlib
import json
import os
import random
import sys

DOMAIN = "mesos"
TAIL = "." + DOMAIN + "."
ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"
FRAMEWORKS = ["marathon", "chronos", "spark", "kafka", "cassandra", "jenkins", "aurora", "storm"]


def task_hash(task_id):
    """First 5 z-base-32 characters of SHA-1(task id) (BEHAVIOUR.md 4.2)."""
    top = int.from_bytes(hashlib.sha1(task_id.encode()).digest()[:4], "big") >> 7
    return "".join(ZBASE32[(top >> (5 * (4 - i))) & 31] for i in range(5))


def ip(net, i):
    return "10.%d.%d.%d" % (net, (i >> 8) & 255, i & 255)


def make_state(a, rng):
    port = a.master_port
    slaves = []
    for s in range(a.agents):
        slaves.append({
            "id": "c0ffee00-aaaa-4bbb-8ccc-%012d-S%d" % (s, s),
            "hostname": "agent-%d.example.com" % s,
            "pid": "slave(1)@%s:5051" % ip(10, s + 1),
            "resources": {"cpus": 16, "mem": 65536, "ports": "[31000-32000]"},
            "active": True,
        })
    nfw = min(a.frameworks, len(FRAMEWORKS))
    frameworks = []
    for f in range(nfw):
        frameworks.append({
            "id": "f00dbabe-0000-4000-8000-%012d-0000" % f,
            "name": FRAMEWORKS[f],
            "hostname": "scheduler-%d.example.com" % f,
            "pid": "scheduler-%d@%s:%d" % (f, ip(0, f + 1), 8080 + f),
            "active": True,
            "tasks": [],
        })
    # marathon gets half the tasks, the other frameworks share the rest
    weights = [nfw - 1 if f == 0 else 1 for f in range(nfw)] if nfw > 1 else [1]
    fw_of = rng.choices(range(nfw), weights=weights, k=a.tasks)
    per_fw = [fw_of.count(f) for f in range(nfw)]
    t = 0
    for f, fw in enumerate(frameworks):
        app = 0
        left = per_fw[f]
        while left > 0:
            instances = min(left, 1 + app % 3)
            name = "%s-app-%d" % (FRAMEWORKS[f][:4], app)
            for _ in range(instances):
                s = rng.randrange(a.agents)
                p = 31000 + 2 * (t % 400)
                fw["tasks"].append({
                    "id": "%s.%08x-%04x-11e4-a088-%012x" % (name, rng.getrandbits(32), t & 0xFFFF, t),
                    "name": name,
                    "framework_id": fw["id"],
                    "slave_id": slaves[s]["id"],
                    "state": "TASK_RUNNING",
                    "resources": {"cpus": 0.1, "mem": 128, "ports": "[%d-%d]" % (p, p + 1)},
                    "statuses": [{
                        "state": "TASK_RUNNING",
                        "timestamp": 1700000000.0 + t,
                        "container_status": {"network_infos": [
                            {"ip_addresses": [{"ip_address": ip(200 + (t >> 16), t & 0xFFFF)}]}]},
                    }],
                })
                t += 1
            left -= instances
            app += 1
    return {"leader": "master@127.0.0.1:%d" % port, "hostname": "127.0.0.1",
            "frameworks": frameworks, "slaves": slaves}


def records_of(state, master_port):
    """The A and SRV records mesos-dns generates (BEHAVIOUR.md 4.4-4.10) for this synthetic
    state. Names here are already valid labels, so sanitizing is the identity."""
    As, SRVs = {}, {}

    def add(m, name, value):
        m.setdefault(name, set()).add(value)

    for fw in state["frameworks"]:
        host, port = fw["pid"].split("@")[1].split(":")
        add(As, fw["name"] + TAIL, host)
        add(SRVs, "_framework._tcp." + fw["name"] + TAIL, "%s%s:%s" % (fw["name"], TAIL, port))
    slave_ip = {}
    for s in state["slaves"]:
        host, port = s["pid"].split("@")[1].split(":")
        slave_ip[s["id"]] = host
        add(As, "slave" + TAIL, host)
        add(SRVs, "_slave._tcp" + TAIL, "slave%s:%s" % (TAIL, port))
    add(As, "ns1" + TAIL, "127.0.0.1")  # Listener 127.0.0.1 (4.10)
    for n in ("leader", "master", "master0"):
        add(As, n + TAIL, "127.0.0.1")
    for proto in ("_tcp", "_udp"):
        add(SRVs, "_leader.%s%s" % (proto, TAIL), "leader%s:%d" % (TAIL, master_port))
    for fw in state["frameworks"]:
        fname = fw["name"]
        for t in fw["tasks"]:
            sid = t["slave_id"]
            if t["state"] != "TASK_RUNNING" or sid not in slave_ip:
                continue
            name = t["name"]
            canonical = "%s-%s-%s.%s" % (name, task_hash(t["id"]), sid.split("-")[-1].lower(), fname)
            arec = "%s.%s" % (name, fname)
            tips = [a["ip_address"] for st in t["statuses"][-1:]
                    for ni in st["container_status"]["network_infos"] for a in ni["ip_addresses"]]
            for v in tips:
                add(As, arec + TAIL, v)
                add(As, canonical + TAIL, v)
            add(As, arec + ".slave" + TAIL, slave_ip[sid])
            add(As, canonical + ".slave" + TAIL, slave_ip[sid])
            lo, hi = t["resources"]["ports"].strip("[]").split("-")
            for p in range(int(lo), int(hi) + 1):
                target = "%s.slave%s:%d" % (canonical, TAIL, p)
                for owner in ("%s.slave" % fname, fname):
                    for proto in ("_tcp", "_udp"):
                        add(SRVs, "_%s.%s.%s%s" % (name, proto, owner, TAIL), target)
    return {"As": {k: sorted(v) for k, v in sorted(As.items())}, "AAAAs": {},
            "SRVs": {k: sorted(v) for k, v in sorted(SRVs.items())}}


def load_records(path):
    with open(path) as f:
        r = json.load(f)
    r = r.get("Records", r)  # a whole /v1/axfr body, or just its Records
    return {k: {n.lower(): sorted(v) for n, v in (r.get(k) or {}).items()}
            for k in ("As", "AAAAs", "SRVs")}


def cmd_state(a):
    rng = random.Random(a.seed)
    state = make_state(a, rng)
    os.makedirs(os.path.join(a.outdir, "master"), exist_ok=True)
    with open(os.path.join(a.outdir, "master", "state"), "w") as f:
        json.dump(state, f)
    recs = records_of(state, a.master_port)
    with open(os.path.join(a.outdir, "records.json"), "w") as f:
        json.dump(recs, f, indent=0)
    n = sum(len(fw["tasks"]) for fw in state["frameworks"])
    print("state: %d tasks, %d frameworks, %d agents; %d A names, %d SRV names" % (
        n, len(state["frameworks"]), len(state["slaves"]), len(recs["As"]), len(recs["SRVs"])))


def cmd_zone(a):
    print("zone: %d records -> %s" % (write_zone(load_records(a.records), a.outfile), a.outfile))


def write_zone(r, outfile):
    """Writes records r (load_records' shape) as a zone file; returns the record count."""
    out = ["$TTL 60",
           "mesos. 60 IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60",
           "mesos. 60 IN NS ns1.mesos."]
    for name, vals in r["As"].items():
        out += ["%s 60 IN A %s" % (name, v) for v in vals]
    for name, vals in r["AAAAs"].items():
        out += ["%s 60 IN AAAA %s" % (name, v) for v in vals]
    for name, vals in r["SRVs"].items():
        for v in vals:
            target, port = v.rsplit(":", 1)
            out.append("%s 60 IN SRV 0 1 %s %s" % (name, port, target))
    with open(outfile, "w") as f:
        f.write("\n".join(out) + "\n")
    return len(out)


def mixed_case(rng, name):
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def cmd_queries(a):
    r = load_records(a.records)
    rng = random.Random(a.seed)
    # small RRsets only: a 1,000-address slave.mesos answer measures truncation, not lookup
    a_names = sorted(n for n, v in r["As"].items() if len(v) <= 8 and n.endswith(TAIL))
    srv_names = sorted(n for n, v in r["SRVs"].items() if len(v) <= 8 and n.endswith(TAIL))
    fws = sorted({n.split(".")[-3] for n in srv_names if n.startswith("_framework.")} or {"marathon"})
    lines = []
    for kind in rng.choices("ASN", weights=[70, 20, 10], k=a.count):
        if kind == "A":
            q, t = rng.choice(a_names), "A"
        elif kind == "S":
            q, t = rng.choice(srv_names), "SRV"
        else:
            q, t = "nx-%d.%s%s" % (rng.randrange(10 ** 9), rng.choice(fws), TAIL), "A"
        if rng.random() < 0.5:
            q = mixed_case(rng, q)
        lines.append("%s %s%s" % (q.rstrip("."), t, {"N": " NXDOMAIN", "A": " NOERROR", "S": " NOERROR"}[kind]
                                   if a.expect else ""))
    with open(a.outfile, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("queries: %d (A names %d, SRV names %d) -> %s" % (
        len(lines), len(a_names), len(srv_names), a.outfile))


def differences(x, y):
    """The names whose record sets differ between x and y, as printable lines."""
    return ["%s %s: expected %s, got %s" % (k, name, x[k].get(name), y[k].get(name))
            for k in ("As", "AAAAs", "SRVs") for name in sorted(set(x[k]) | set(y[k]))
            if x[k].get(name) != y[k].get(name)]


def cmd_compare(a):
    x, y = load_records(a.expected), load_records(a.actual)
    diff = differences(x, y)
    bad = len(diff)
    print("\n".join(diff[:10]))
    print("compare: %d names differ (%d A, %d SRV names expected)" % (
        bad, len(x["As"]), len(x["SRVs"])))
    sys.exit(1 if bad else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("state")
    s.add_argument("outdir")
    s.add_argument("--tasks", type=int, default=10000)
    s.add_argument("--frameworks", type=int, default=5)
    s.add_argument("--agents", type=int, default=1000)
    s.add_argument("--master-port", type=int, default=15380)
    z = sub.add_parser("zone")
    z.add_argument("records")
    z.add_argument("outfile")
    q = sub.add_parser("queries")
    q.add_argument("records")
    q.add_argument("outfile")
    q.add_argument("--count", type=int, default=100000)
    q.add_argument("--expect", action="store_true",
                   help="add the expected outcome (NOERROR/NXDOMAIN) to each line, for blast")
    c = sub.add_parser("compare")
    c.add_argument("expected")
    c.add_argument("actual")
    a = ap.parse_args()
    {"state": cmd_state, "zone": cmd_zone, "queries": cmd_queries, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
