#!/usr/bin/env python3
"""The side-by-side benchmark: mesos-dns (ours), NSD, Knot and the do-nothing responder.

Called by run.sh (which installs the tools and builds everything); see README.md.

Phases, each server in turn on 127.0.0.1 (the order rotates every round):
  one      server pinned to CPU 1 (one worker), load pinned to CPU 0: dnsperf and
           blast, ROUNDS rounds; then ROUNDS rounds of blast capped at 80% of each
           server's own median blast peak (lost queries, latency percentiles and
           maximum); then dnsperf over TCP.
  two      server on CPUs 0,1 with two workers, load unpinned: dnsperf -T 2 once,
           blast ROUNDS rounds.
  churn    our server refreshing every second under steady load while new states
           are swapped in: time from a fetched body to its records served (churn.py).
  perf     one blast run each for ours and NSD under perf's cpu-clock sampling:
           where the server's CPU goes, kernel included.
  callgrind  a fixed number of queries to each server under valgrind's callgrind:
           user-space instructions per answered query (repeatable on a noisy box),
           and our server's top functions.
Results: WORKDIR/results.jsonl (one JSON object per run); report.py turns it
into WORKDIR/summary.md.
"""
import argparse
import glob
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import churn  # noqa: E402
import measure  # noqa: E402
import servers  # noqa: E402
import synth  # noqa: E402


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def probe_name(work):
    with open(os.path.join(work, "cluster", "records.json")) as f:
        recs = json.load(f)
    return next(n for n in recs["As"] if n.startswith("mara-app-"))


def record(out, r, phase, rnd=0):
    r["phase"], r["round"] = phase, rnd
    with open(out, "a") as f:
        f.write(json.dumps(r) + "\n")
    log("%-5s %-4s %-13s qps=%8.0f avg=%6.3fms max=%7.3fms lost=%-5s srv=%5.1f%% us/q=%-6s foreign=%.0f%%%s" % (
        phase, r["server"], r["tool"], r["qps"] or 0, r["lat_avg_ms"] or 0, r["lat_max_ms"] or 0,
        r["lost"], r["server_cpu_pct"], r["server_us_per_q"], r["foreign_cpu_pct"],
        " ERROR " + r["error"][-300:] if "error" in r else ""))


def check_records(a, mk, out):
    """Our /v1/axfr against the records the naming rules of BEHAVIOUR.md give for the synthetic state.

    On a difference the zone is rewritten from our /v1/axfr, so NSD, Knot and the
    responder still serve exactly what our server serves; the report shows it."""
    s = mk("ours").start("1", 1)
    try:
        url = "http://127.0.0.1:%d/v1/axfr" % servers.HTTP_PORT
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
    except OSError as e:
        log("check: no /v1/axfr from our server (%s); the zone stays as the naming rules of BEHAVIOUR.md give it" % e)
        return
    finally:
        s.stop()
    path = os.path.join(a.work, "axfr.json")
    with open(path, "wb") as f:
        f.write(body)
    expected = synth.load_records(os.path.join(a.work, "cluster", "records.json"))
    actual = synth.load_records(path)
    diff = synth.differences(expected, actual)
    rec = {"server": "ours", "tool": "axfr-check", "phase": "check", "round": 0,
           "names_differ": len(diff), "examples": diff[:5]}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if diff:
        log("check: %d names differ between our /v1/axfr and the naming rules of BEHAVIOUR.md, e.g.\n  %s\n"
            "rewriting the zone from our /v1/axfr" % (len(diff), "\n  ".join(diff[:5])))
        synth.write_zone(actual, os.path.join(a.work, "mesos.zone"))
    else:
        log("check: our /v1/axfr matches the naming rules of BEHAVIOUR.md (%d A, %d SRV names)" % (
            len(expected["As"]), len(expected["SRVs"])))


def check_answers(a, running, out, count=300):
    """Every server's (rcode, answer count) against NSD's for the first COUNT queries."""
    ref = next((s for s in running if s.name == "nsd"), running[0])
    qs = []
    with open(os.path.join(a.work, "queries.txt")) as f:
        for line in f:
            name, qtype = line.split()
            qs.append((name, {"A": 1, "SRV": 33}[qtype]))
            if len(qs) >= count:
                break
    want = [servers.dns_query(ref.port, n, t) for n, t in qs]
    for s in running:
        if s is ref:
            continue
        got = [servers.dns_query(s.port, n, t) for n, t in qs]
        bad = [(q, w, g) for q, w, g in zip(qs, want, got) if w != g]
        rec = {"server": s.name, "tool": "answer-check", "phase": "check", "round": 0,
               "against": ref.name, "queries": len(qs), "differ": len(bad),
               "examples": ["%s type %d: %s (rcode, answers) %s, %s %s" % (q[0], q[1], ref.name, w, s.name, g)
                            for q, w, g in bad[:5]]}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        log("check: %s vs %s: %d of %d answers differ in rcode or answer count%s" % (
            s.name, ref.name, len(bad), len(qs), "".join("\n  " + e for e in rec["examples"])))


def rotated(running, rnd):
    """The servers in round RND's order: each round starts one server later."""
    k = rnd % len(running)
    return running[k:] + running[:k]


def start_all(names, mk, cpus, workers):
    """Starts every server; on a failure stops those already started."""
    running = []
    try:
        for n in names:
            running.append(mk(n).start(cpus, workers))
    except BaseException:
        for s in running:
            s.stop()
        raise
    return running


def phase_one(a, names, mk, out):
    q = os.path.join(a.work, "queries.txt")
    blast = os.path.join(a.work, "blast")
    running = start_all(names, mk, "1", 1)
    try:
        check_answers(a, running, out)
        peaks = {}
        for rnd in range(a.rounds):
            order = rotated(running, rnd)
            for s in order:
                for tool in ("dnsperf", "blast"):
                    r = measure.run(s, tool, q, a.duration, "0", blast=blast, wait=a.wait_idle)
                    record(out, r, "one", rnd)
                    if tool == "blast" and r["qps"]:
                        peaks.setdefault(s.name, []).append(r["qps"])
        # 80% of each server's own median peak: lost queries and latency. A maximum
        # is one sample's worst case, so this too runs every round, in turn.
        rates = {s.name: int(0.8 * statistics.median(peaks[s.name])) for s in running if s.name in peaks}
        for rnd in range(a.rounds):
            order = rotated(running, rnd)
            for s in order:
                if s.name in rates:
                    r = measure.run(s, "blast", q, a.duration, "0", extra=["-Q", str(rates[s.name])],
                                    blast=blast, wait=a.wait_idle)
                    r["tool"] = "blast@80%"
                    record(out, r, "one", rnd)
        for s in running:
            if s.name != "resp":  # the responder has no TCP
                r = measure.run(s, "dnsperf", q, a.duration, "0", extra=["-m", "tcp"],
                                wait=a.wait_idle)
                r["tool"] = "dnsperf-tcp"
                record(out, r, "one")
    finally:
        for s in running:
            s.stop()


def phase_two(a, names, mk, out):
    q = os.path.join(a.work, "queries.txt")
    blast = os.path.join(a.work, "blast")
    running = start_all(names, mk, "0,1", 2)
    try:
        for s in running:
            record(out, measure.run(s, "dnsperf", q, a.duration, None, extra=["-T", "2"],
                                    wait=a.wait_idle), "two")
        # blast every round: how the kernel's SO_REUSEPORT hash spreads blast's
        # sockets over the two workers changes from run to run (an even split or
        # 4:1), and with it a single run's figure by up to 25%
        for rnd in range(a.rounds):
            order = rotated(running, rnd)
            for s in order:
                record(out, measure.run(s, "blast", q, a.duration, None, blast=blast,
                                        wait=a.wait_idle), "two", rnd)
    finally:
        for s in running:
            s.stop()


def perf_profile(a, name, mk, out):
    """Where the server's CPU goes under blast load, kernel included: perf's
    cpu-clock sampling of the server's processes (perf stat's instruction counter
    is often missing on VMs; sampling works)."""
    if subprocess.run(["perf", "--version"], capture_output=True).returncode != 0:
        log("perf: not installed; skipping the sampled profile")
        return
    data = os.path.join(a.work, "perf-%s.data" % name)
    s = mk(name).start("1", 1)
    try:
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-o", data,
                                "-p", ",".join(map(str, s.pids())), "--", "sleep", str(a.duration)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        r = measure.run(s, "blast", os.path.join(a.work, "queries.txt"), a.duration, "0",
                        blast=os.path.join(a.work, "blast"), wait=a.wait_idle)
        err = rec.communicate(timeout=60)[1]
    finally:
        s.stop()
    r["tool"] = "blast+perf"
    record(out, r, "perf")
    if rec.returncode != 0:
        log("perf record failed: %s" % err.strip()[-300:])
        return
    path = os.path.join(a.work, "profile-perf-%s.txt" % name)
    with open(path, "w") as f:
        for fields in ("overhead,dso", "overhead,dso,sym"):
            f.write(subprocess.run(["perf", "report", "-i", data, "--stdio", "-F", fields],
                                   capture_output=True, text=True).stdout)
    log("perf: %s profile in %s" % (name, path))


def callgrind(a, name, mk, out):
    """User-space instructions per answered query under callgrind."""
    cg = os.path.join(a.work, "callgrind", name)
    os.makedirs(cg, exist_ok=True)
    for f in glob.glob(os.path.join(cg, "cg.*")):
        os.remove(f)
    wrap = ["valgrind", "--tool=callgrind", "--trace-children=yes",
            "--callgrind-out-file=%s/cg.%%p" % cg]
    qf = os.path.join(cg, "queries.txt")
    with open(os.path.join(a.work, "queries.txt")) as src, open(qf, "w") as dst:
        for i, line in enumerate(src):
            if i >= a.cg_queries:
                break
            dst.write(line)
    s = mk(name).start(None, 1, wrap=wrap, ready_timeout=300)
    try:
        time.sleep(1)
        pids = s.pids()
        for p in pids:
            subprocess.run(["callgrind_control", "-z", str(p)], capture_output=True)
        r = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(s.port), "-d", qf, "-n", "1",
                            "-Q", str(a.cg_rate), "-c", "10", "-t", "5",
                            "-O", "suppress=timeout,unexpected"],
                           capture_output=True, text=True, timeout=a.cg_queries / a.cg_rate + 120)
        res = measure.parse(r.stdout)
        for p in pids:
            subprocess.run(["callgrind_control", "-d", str(p)], capture_output=True)
        time.sleep(1)
        ir, files = 0, []
        for p in pids:
            dumps = sorted(glob.glob("%s/cg.%d.*" % (cg, p)), key=lambda x: int(x.rsplit(".", 1)[1]))
            if dumps:
                files.append(dumps[-1])
                ir += summary_ir(dumps[-1])
    finally:
        s.stop()
    done = res["completed"] or 0
    rec = {"server": name, "tool": "callgrind", "queries": a.cg_queries, "completed": done,
           "lost": res["lost"], "ir": ir, "ir_per_q": round(ir / done) if done else None,
           "files": [os.path.relpath(f, a.work) for f in files], "qps": None,
           "lat_avg_ms": None, "lat_max_ms": None, "server_cpu_pct": 0, "server_us_per_q": None,
           "foreign_cpu_pct": 0}
    if files and name == "ours" and done:
        costs = {}
        for f in files:
            for fn, ir_fn in self_costs(f).items():
                costs[fn] = costs.get(fn, 0) + ir_fn
        prof = os.path.join(a.work, "profile-ours.txt")
        with open(prof, "w") as f:
            f.write("user-space instructions per answered query, by function (self cost), %d queries\n" % done)
            for fn, ir_fn in sorted(costs.items(), key=lambda x: -x[1])[:40]:
                f.write("%8.0f  %5.1f%%  %s\n" % (ir_fn / done, 100.0 * ir_fn / max(1, ir), fn))
        rec["profile"] = os.path.relpath(prof, a.work)
    rec["phase"], rec["round"] = "callgrind", 0
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    log("callgrind %-4s completed=%s/%s Ir=%d Ir/query=%s" % (name, done, a.cg_queries, ir, rec["ir_per_q"]))


def self_costs(path):
    """Instructions per function, not counting callees, from one callgrind dump.

    Cost lines after a `calls=` line are a callee's inclusive cost and are skipped;
    names are compressed as `(id) name` on first use, `(id)` afterwards."""
    names, cost, cur, skip = {}, {}, None, False
    with open(path) as f:
        for line in f:
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m and m.group(2) is not None:
                names[m.group(1)] = m.group(2)
            if line.startswith("fn="):
                cur, skip = (m.group(1) if m else line[3:].strip()), False
            elif line.startswith("calls="):
                skip = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if skip:
                    skip = False
                    continue
                fields = line.split()
                if len(fields) > 1 and cur is not None:
                    cost[cur] = cost.get(cur, 0) + int(fields[1])
    return {names.get(k, k): v for k, v in cost.items()}


def summary_ir(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(2))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--servers", default="ours,nsd,knot,resp")
    ap.add_argument("--binary", help="our mesos-dns binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--phases", default="one,two,callgrind")
    ap.add_argument("--cg-queries", type=int, default=5000)
    ap.add_argument("--cg-rate", type=int, default=1000)
    ap.add_argument("--churn-tasks", default="10000,100000",
                    help="cluster sizes for the churn phase")
    ap.add_argument("--wait-idle", type=float, default=15,
                    help="seconds to wait for an idle box before each run (0: don't)")
    a = ap.parse_args()
    # on SIGTERM, unwind through the finally blocks that stop the servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [n for n in a.servers.split(",") if n]
    probe = probe_name(a.work)
    out = os.path.join(a.work, "results.jsonl")
    if os.path.exists(out):
        os.rename(out, out + ".previous")

    def mk(n):
        return servers.Server(n, a.work, probe, binary=a.binary)

    phases = a.phases.split(",")
    if "ours" in names:
        check_records(a, mk, out)
    if "one" in phases:
        phase_one(a, names, mk, out)
    if "two" in phases:
        phase_two(a, names, mk, out)
    if "perf" in phases:
        for n in names:
            if n in ("ours", "nsd"):
                perf_profile(a, n, mk, out)
    if "callgrind" in phases:
        for n in names:
            callgrind(a, n, mk, out)
    if "churn" in phases and "ours" in names:
        churn.run(a, mk, out, log, [int(x) for x in a.churn_tasks.split(",") if x])


if __name__ == "__main__":
    main()
