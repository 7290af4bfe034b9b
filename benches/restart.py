#!/usr/bin/env python3
"""Restarts under load, and startup from a state snapshot (issue 21).

    benches/restart.py                 # both measurements (about 3 minutes)
    benches/restart.py --only restart  # or --only startup

restart: a dnsperf load (--qps, default 50,000 a second, for --duration 30 s,
    --tasks 10,000 state, synth.py queries) against mesos-dns restarted
    --restarts times (10) during the run, twice:
    - plain: the server binds its own sockets; a restart is SIGTERM, wait for
      the exit, start again (what `systemctl restart` does without a socket
      unit, and what mesos-dns always does);
    - activated: the sockets are held by tests/holder (socket-holder, the
      stand-in for deploy/mesos-dns.socket) and passed with LISTEN_FDS; the
      holder restarts the server the same way on SIGHUP; StateSnapshotFile
      is set, so the new process answers from the snapshot at once.
    Prints dnsperf's sent, completed and lost queries and its rate for each.
startup: a --big-tasks (100,000) state is loaded once with StateSnapshotFile
    set, to write the snapshot; then the server starts with the master down
    (Masters: a closed port) and the time from the process start to the first
    NOERROR answer with data for a task name is measured (--startups runs,
    median and each), beside the same time for a first live load of the same
    state from StateFile without a snapshot.

Needs dnsperf (Debian package dnsperf) and a release build
(`cargo build --release -p mesos-dns -p mesos-dns-tests --bins`, or --binary/--holder).
"""
import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYNTH = os.path.join(HERE, "harness", "synth.py")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(work, port, extra):
    c = {
        "Listener": "127.0.0.1", "Port": port, "HTTPListener": "127.0.0.1", "HttpPort": 0,
        "Domain": "mesos", "RefreshSeconds": 60, "ExternalOn": False, "DnsWorkers": 2,
        "EnumerationOn": True,
    }
    c.update(extra)
    path = os.path.join(work, "config-%d.json" % len(os.listdir(work)))
    with open(path, "w") as f:
        json.dump(c, f)
    return path


def query(name, qid):
    labels = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split("."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", 1, 1)


def answered(sock, port, name, qid):
    """True if NAME A gets NOERROR with at least one answer within 2 ms."""
    try:
        sock.sendto(query(name, qid), ("127.0.0.1", port))
        data = sock.recv(4096)
    except OSError:
        return False
    if len(data) < 12:
        return False
    # Any reply counts, not only the one to this ID: every query asks the
    # same question, and an answer may come after the next query is sent.
    _, flags, _, an = struct.unpack(">HHHH", data[:8])
    return flags & 0xF == 0 and an > 0


def first_answer(cmd, port, name, limit=120.0):
    """Seconds from starting CMD to the first good answer for NAME; the process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.002)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    qid = 0
    while time.monotonic() - t0 < limit:
        qid = (qid + 1) & 0xFFFF
        if answered(sock, port, name, qid):
            return time.monotonic() - t0, p
    return None, p


def stop(p):
    p.terminate()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def first_task_name(records):
    with open(records) as f:
        rec = json.load(f)
    rec = rec.get("Records", rec)
    names = sorted(n for n in rec.get("As", {}) if n.count(".") >= 3 and "slave" not in n)
    return names[len(names) // 2]


def wait_answer(port, name, limit=60.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.05)
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if answered(sock, port, name, 1):
            return True
        time.sleep(0.01)
    return False


def dnsperf(port, queries, a):
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries, "-l", str(a.duration),
           "-Q", str(a.qps), "-c", "4", "-q", "50000", "-t", "5", "-b", "4096"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse(out):
    got = {}
    for line in out.splitlines():
        line = line.strip()
        for key, label in (("sent", "Queries sent:"), ("completed", "Queries completed:"),
                           ("lost", "Queries lost:"), ("qps", "Queries per second:")):
            if line.startswith(label):
                got[key] = float(line[len(label):].split()[0])
    return got


def restart_run(a, work, mode, state, name, queries):
    port = free_port()
    if mode == "plain":
        cfg = config(work, port, {"StateFile": state})
        start = lambda: subprocess.Popen([a.binary, "-config", cfg], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        proc = start()
    else:
        snap = os.path.join(work, "snap-restart")
        cfg = config(work, port, {"StateFile": state, "StateSnapshotFile": snap})
        proc = subprocess.Popen([a.holder, "127.0.0.1:%d" % port, "--", a.binary, "-config", cfg],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_answer(port, name):
        stop(proc)
        sys.exit("restart %s: no answer from the server" % mode)
    load = dnsperf(port, queries, a)
    gap = a.duration / (a.restarts + 1)
    for _ in range(a.restarts):
        time.sleep(gap)
        if mode == "plain":
            stop(proc)
            proc = start()
        else:
            proc.send_signal(1)  # SIGHUP: the holder restarts the server
    out, _ = load.communicate()
    stop(proc)
    r = parse(out)
    print("restart %-9s %2d restarts in %d s: sent %d, completed %d, lost %d (%.3f%%), %.0f qps"
          % (mode, a.restarts, a.duration, r.get("sent", 0), r.get("completed", 0), r.get("lost", 0),
             100.0 * r.get("lost", 0) / max(1, r.get("sent", 1)), r.get("qps", 0)), flush=True)


def synth(work, tasks, count):
    d = os.path.join(work, "state-%d" % tasks)
    if not os.path.exists(os.path.join(d, "records.json")):
        subprocess.run([sys.executable, SYNTH, "state", d, "--tasks", str(tasks)], check=True,
                       stdout=subprocess.DEVNULL)
    q = os.path.join(d, "queries.txt")
    if count and not os.path.exists(q):
        subprocess.run([sys.executable, SYNTH, "queries", os.path.join(d, "records.json"), q,
                        "--count", str(count)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(d, "master", "state"), os.path.join(d, "records.json"), q


def startup(a, work):
    state, records, _ = synth(a.work, a.big_tasks, 0)
    name = first_task_name(records)
    snap = os.path.join(work, "snap-big")
    port = free_port()
    cfg = config(work, port, {"StateFile": state, "StateSnapshotFile": snap})
    live = []
    for _ in range(a.startups):
        if os.path.exists(snap):
            os.remove(snap)
        t, p = first_answer([a.binary, "-config", cfg], port, name)
        # Wait for the snapshot of this load, written by its own thread.
        deadline = time.monotonic() + 60
        while not os.path.exists(snap) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop(p)
        live.append(t)
    size = os.path.getsize(snap)
    down = config(work, port, {"Masters": ["127.0.0.1:9"], "StateSnapshotFile": snap})
    from_snap = []
    for _ in range(a.startups):
        t, p = first_answer([a.binary, "-config", down], port, name)
        stop(p)
        from_snap.append(t)
    ms = lambda v: "%.0f ms" % (v * 1000) if v is not None else "none"
    print("startup %d tasks, snapshot %.1f MB: first answer from the snapshot (master down) %s "
          "(runs: %s); from a first live load of the state file, no snapshot %s (runs: %s)"
          % (a.big_tasks, size / 1e6, ms(statistics.median(from_snap)),
             ", ".join(ms(t) for t in from_snap), ms(statistics.median(live)),
             ", ".join(ms(t) for t in live)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["restart", "startup"])
    ap.add_argument("--qps", type=int, default=50000)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--restarts", type=int, default=10)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--big-tasks", type=int, default=100000)
    ap.add_argument("--startups", type=int, default=5)
    ap.add_argument("--modes", default="plain,activated")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "mesos-dns"))
    ap.add_argument("--holder", default=os.path.join(ROOT, "target", "release", "socket-holder"))
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench-restart"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=a.work)
    if a.only != "startup":
        state, records, queries = synth(a.work, a.tasks, 100000)
        name = first_task_name(records)
        for mode in a.modes.split(","):
            restart_run(a, work, mode, state, name, queries)
    if a.only != "restart":
        startup(a, work)


if __name__ == "__main__":
    main()
