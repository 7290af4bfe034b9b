#!/usr/bin/env python3
"""Turns bench.py's results.jsonl into a markdown summary: tables of medians,
ratios of our server against NSD, Knot and the do-nothing responder from the
same run, and the issue-8 goals checked against them.

  report.py WORKDIR        (reads WORKDIR/results.jsonl, writes WORKDIR/summary.md, prints it)
"""
import json
import os
import statistics
import sys

LABEL = {"ours": "mesos-dns-rs", "nsd": "NSD", "knot": "Knot DNS", "resp": "do-nothing responder"}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit="", nd=0):
    if x is None:
        return "-"
    if unit == "k":
        return "%.0fk" % (x / 1000)
    return ("%." + str(nd) + "f") % x


def ratio(x, y):
    return "%.2f×" % (x / y) if x and y else "-"


def paired(o, f, key):
    """The median over rounds of ours/theirs for KEY of the blast runs, or None."""
    rounds = sorted(set(o["b_round"]) & set(f["b_round"]))
    return med([o["b_round"][k][key] / f["b_round"][k][key] for k in rounds]) if rounds else None


def main():
    work = sys.argv[1]
    rs = [json.loads(line) for line in open(os.path.join(work, "results.jsonl"))]
    servers = [s for s in ("ours", "nsd", "knot", "resp") if any(r["server"] == s for r in rs)]

    def pick(server, phase, tool):
        return [r for r in rs if r["server"] == server and r["phase"] == phase and r["tool"] == tool]

    out = []
    machine = os.path.join(work, "machine.txt")
    if os.path.exists(machine):
        out += ["Machine: " + open(machine).read().strip(), ""]
    fig = {}
    for s in servers:
        d, b = pick(s, "one", "dnsperf"), pick(s, "one", "blast")
        cg = pick(s, "callgrind", "callgrind")
        fig[s] = {
            "dq": med([r["qps"] for r in d]), "bq": med([r["qps"] for r in b]),
            "dq_all": [r["qps"] or 0 for r in d], "bq_all": [r["qps"] or 0 for r in b],
            "lat": med([r["lat_avg_ms"] for r in d]),
            "max": max([r["lat_max_ms"] or 0 for r in d] or [None]) if d else None,
            "lost": sum(r["lost"] or 0 for r in d + b) if d + b else None,
            "dus": med([r["server_us_per_q"] for r in d]), "bus": med([r["server_us_per_q"] for r in b]),
            "foreign": max([r["foreign_cpu_pct"] for r in d + b] or [None]) if d + b else None,
            "ir": cg[0]["ir_per_q"] if cg else None,
            "n": len(d),
            # per round, for ratios paired by round (the servers of one round run
            # within a minute of each other, so they share the machine's mood)
            "b_round": {r["round"]: r for r in b if r["qps"] and r["server_us_per_q"]},
        }
    if any(f["n"] for f in fig.values()):
        out += ["### One server core (server on CPU 1, load on CPU 0; medians of %d rounds)" % max(
                    f["n"] for f in fig.values()), "",
                "| server | dnsperf QPS (min-max) | blast QPS (min-max) | avg latency ms | max latency ms "
                "| lost | server CPU µs/query (dnsperf / blast) | user instructions/query | foreign CPU % (worst) |",
                "|---|---|---|---|---|---|---|---|---|"]
        for s in servers:
            f = fig[s]
            rng = lambda xs: "%s-%s" % (fmt(min(xs), "k"), fmt(max(xs), "k")) if xs else "-"
            out.append("| %s | %s (%s) | %s (%s) | %s | %s | %s | %s / %s | %s | %s |" % (
                LABEL[s], fmt(f["dq"], "k"), rng(f["dq_all"]), fmt(f["bq"], "k"), rng(f["bq_all"]),
                fmt(f["lat"], nd=3), fmt(f["max"], nd=2), fmt(f["lost"]), fmt(f["dus"], nd=2),
                fmt(f["bus"], nd=2), fmt(f["ir"]), fmt(f["foreign"])))
        out.append("")
    elif any(f["ir"] for f in fig.values()):
        out += ["| server | user instructions/query |", "|---|---|"]
        out += ["| %s | %s |" % (LABEL[s], fmt(fig[s]["ir"])) for s in servers] + [""]

    f80 = {}
    for s in servers:
        rr = pick(s, "one", "blast@80%")
        if rr:
            f80[s] = {
                "rate": float(rr[0]["cmd"].split("-Q ")[-1].split()[0]),
                "qps": med([r["qps"] for r in rr]), "lost": sum(r["lost"] or 0 for r in rr),
                "avg": med([r["lat_avg_ms"] for r in rr]), "p99": med([r.get("lat_p99_ms") for r in rr]),
                "p999": med([r.get("lat_p999_ms") for r in rr]),
                "max": med([r["lat_max_ms"] for r in rr]), "max_all": [r["lat_max_ms"] for r in rr],
                "pause": max([r.get("gen_pause_ms") or 0 for r in rr]),
                "cpu": med([r["server_cpu_pct"] for r in rr]), "n": len(rr),
            }
    if f80:
        out += ["### At 80%% of each server's own blast peak (one core; medians of %d runs)" % max(
                    f["n"] for f in f80.values()), "",
                "| server | rate QPS | answered QPS | server CPU % | lost (all runs) | avg latency ms "
                "| p99 ms | p99.9 ms | max latency ms: median (each run) | blast's own longest pause ms |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for s, f in f80.items():
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s |" % (
                LABEL[s], fmt(f["rate"], "k"), fmt(f["qps"], "k"), fmt(f["cpu"], nd=0), f["lost"],
                fmt(f["avg"], nd=3), fmt(f["p99"], nd=2), fmt(f["p999"], nd=2), fmt(f["max"], nd=2),
                ", ".join(fmt(x, nd=1) for x in f["max_all"]), fmt(f["pause"], nd=2)))
        out.append("")
    tcp = [r for s in servers for r in pick(s, "one", "dnsperf-tcp")]
    two = [s for s in servers if pick(s, "two", "dnsperf") or pick(s, "two", "blast")]
    if tcp or two:
        out += ["### TCP (one core) and two workers (both cores, load unpinned)", "",
                "| server | TCP dnsperf QPS | TCP lost | TCP CPU µs/query | 2 workers dnsperf -T 2 QPS "
                "| 2 workers blast QPS (median) | 2 workers CPU µs/query (blast, median) |", "|---|---|---|---|---|---|---|"]
        for s in servers:
            t, d2, b2 = pick(s, "one", "dnsperf-tcp"), pick(s, "two", "dnsperf"), pick(s, "two", "blast")
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL[s], fmt(med([r["qps"] for r in t]), "k"), fmt(med([r["lost"] for r in t])),
                fmt(med([r["server_us_per_q"] for r in t]), nd=2), fmt(med([r["qps"] for r in d2]), "k"),
                fmt(med([r["qps"] for r in b2]), "k"), fmt(med([r["server_us_per_q"] for r in b2]), nd=2)))
        out.append("")

    ch = [r for r in rs if r["tool"] == "churn"]
    if ch:
        out += ["### Record churn (our server refreshing every second, 2 swaps idle, then up to 3 under a steady blast load)", "",
                "| tasks | state MB | first load s | swap s idle (max) | swap s under load (median / max) "
                "| server steps ms: read+parse / generate / compile "
                "| RSS MB (peak) | load QPS | answered | lost | wrong answers | p99.9 ms | max latency ms "
                "| blast's own longest pause ms |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in ch:
            ld = r["load"]
            idle = [t for t in r.get("swap_idle_s", []) if t is not None]
            st = r.get("steps_ms") or {}
            out.append("| %d | %s | %s | %s | %s / %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |" % (
                r["tasks"], r["state_mb"], fmt(r["first_load_s"], nd=2), fmt(max(idle) if idle else None, nd=3),
                fmt(r["swap_median_s"], nd=3),
                fmt(r["swap_max_s"], nd=3),
                " / ".join(fmt(st.get(k), nd=0) for k in ("read_parse", "generate", "compile")), fmt((r["rss_kb"] or 0) / 1024), fmt((r["peak_rss_kb"] or 0) / 1024),
                fmt(r["load_rate"], "k"), ld.get("completed"), ld.get("lost"), ld.get("unexpected"),
                fmt(ld.get("lat_p999_ms"), nd=2), fmt(ld.get("lat_max_ms"), nd=2), fmt(ld.get("gen_pause_ms"), nd=2)))
        out.append("")
    if "ours" in fig:
        o = fig["ours"]
        out += ["### Ratios: mesos-dns-rs against the others (same run)", "",
                "Medians' ratios, and in brackets the median of the ratios paired by round.", "",
                "| against | dnsperf QPS | blast QPS | CPU µs/query (blast) | user instructions/query |",
                "|---|---|---|---|---|"]
        for s in servers[1:]:
            f = fig[s]
            pq, pc = paired(o, f, "qps"), paired(o, f, "server_us_per_q")
            out.append("| %s | %s | %s (%s) | %s (%s) | %s |" % (
                LABEL[s], ratio(o["dq"], f["dq"]), ratio(o["bq"], f["bq"]),
                "%.2f×" % pq if pq else "-", ratio(o["bus"], f["bus"]), "%.2f×" % pc if pc else "-",
                ratio(o["ir"], f["ir"])))
        out.append("")
        goals = []
        n, k, z = fig.get("nsd", {}), fig.get("knot", {}), fig.get("resp", {})

        def goal(text, ok):
            goals.append("- [%s] %s" % ("x" if ok else " ", text))

        if n.get("bus") and o["bus"]:
            goal("CPU per answered query ≤ 0.85× NSD's (%.2f vs %.2f µs)" % (o["bus"], n["bus"]),
                 o["bus"] <= 0.85 * n["bus"])
        if z.get("bus") and o["bus"]:
            goal("CPU per answered query within 10%% of the do-nothing responder's (%.2f vs %.2f µs)" % (
                o["bus"], z["bus"]), o["bus"] <= 1.1 * z["bus"])
        if n.get("ir") and o["ir"]:
            goal("user instructions per query ≤ 0.5× NSD's (%d vs %d)" % (o["ir"], n["ir"]),
                 o["ir"] <= 0.5 * n["ir"])
        if n.get("bq") and o["bq"]:
            goal("blast QPS ≥ 1.15× NSD's (%s)" % ratio(o["bq"], n["bq"]), o["bq"] >= 1.15 * n["bq"])
        if k.get("bq") and o["bq"]:
            goal("blast QPS ≥ 1.3× Knot's (%s)" % ratio(o["bq"], k["bq"]), o["bq"] >= 1.3 * k["bq"])
        big = [r for r in ch if r["tasks"] >= 100000]
        if big:
            r = big[0]
            goal("100,000 tasks swapped in under 1 s with no query lost or answered wrongly "
                 "(max swap %s s, lost %s, wrong %s)" % (fmt(r["swap_max_s"], nd=3), r["load"].get("lost"),
                                                          r["load"].get("unexpected")),
                 r["swap_max_s"] is not None and r["swap_max_s"] < 1 and not r["load"].get("lost")
                 and not r["load"].get("unexpected"))
        if "ours" in f80:
            r = f80["ours"]
            floor = f80.get("resp")
            goal("no lost queries and max latency < 5 ms at 80%% of our peak (lost %s; max: median %s ms, "
                 "worst %s ms of %d runs%s)" % (
                     r["lost"], fmt(r["max"], nd=2), fmt(max(r["max_all"]), nd=2), r["n"],
                     "; the do-nothing responder's median %s ms" % fmt(floor["max"], nd=2) if floor else ""),
                 r["lost"] == 0 and (r["max"] or 99) < 5)
        if goals:
            out += ["### Issue 8 goals", ""] + goals + [""]
    prof = os.path.join(work, "profile-ours.txt")
    if os.path.exists(prof):
        lines = open(prof).read().splitlines()
        out += ["### Top user-space costs of mesos-dns-rs (callgrind: instructions per query, self cost)", "",
                "```"] + lines[1:16] + ["```", ""]
    for s, label in (("ours", "mesos-dns-rs"), ("nsd", "NSD")):
        prof = os.path.join(work, "profile-perf-%s.txt" % s)
        if os.path.exists(prof):
            parts = open(prof).read().split("# Total Lost Samples")
            rows = [[l.rstrip() for l in p.splitlines()[1:] if l.strip() and not l.startswith("#")] for p in parts[1:]]
            top = (rows[0][:4] + [""] + rows[1][:15]) if len(rows) == 2 else []
            out += ["### Where %s's CPU goes under blast load (perf cpu-clock samples, kernel included)" % label,
                    "", "```"] + top + ["```", ""]
    errs = [r for r in rs if r.get("error")]
    if errs:
        out += ["### Runs that failed", ""] + ["- %s %s %s: %s" % (r["phase"], r["server"], r["tool"],
                                                                 r["error"].strip().splitlines()[-1][:200])
                                              for r in errs] + [""]
    text = "\n".join(out)
    with open(os.path.join(work, "summary.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
