#!/usr/bin/env python3
"""Task changes on the event source at scale (issue 18): event to answer, and a
sustained stream, on the live record store and on the full path, in one run.

  events.py --binary target/release/mesos-dns [--tasks 100000] [--changes 1000]
            [--full-changes 10] [--rate 1000] [--sustain 60] [--full-sustain 20]
            [--qps 20000] [--paths live,full] [--settle 8] [--work DIR]

A fake master in this process (pinned to CPU 0 with the load) answers
`POST /api/v1` `SUBSCRIBE` with a chunked RecordIO stream: `SUBSCRIBED` with the
synthetic cluster of synth.py (N tasks, v1 shapes), a `HEARTBEAT` every 5 s, and
the events the harness injects, each timestamped when its write to the socket
returned. `/master/state` serves the same starting cluster; `RefreshSeconds` is
3600, so the polled safety net stays out of the measurement. The server runs on
CPU 1 (one worker) with `StateSource: "events"`, under a steady blast load (CPU 0)
whose every query carries its expected outcome. For each path:

- **one change**: M marker tasks `churn-<k>.marathon` are added in `TASK_STAGING`
  (no records), then one by one a `TASK_UPDATED` to `TASK_RUNNING` with an IP is
  written and `churn-<k>.marathon.mesos` is queried until it answers: event to
  answer p50/p99/max. Server CPU per change: its utime+stime over the changes
  minus the same wall time at the rate measured just before, under the same load,
  without changes (the idle baseline).
- **sustained**: `--rate` task changes per second for `--sustain` seconds, written
  in batches every 10 ms: `TASK_ADDED` of new running tasks `sus-<k>`, and once
  tasks are 5 s old, every other change a `TASK_KILLED` of the oldest, so the
  cluster then keeps its size. Every 20th added task is queried until it answers (probes are made in
  order, so one may start after its answer was already there: those samples are
  upper bounds). The load's lost and unexpected answers are counted over it.

The "full" path is today's full regeneration, forced with `HealthFilter: true`:
the live store does not support it (`Live::supports`), and with no health data
in the cluster it serves the same records. Memory: VmRSS and VmHWM right after
the sustained changes, and `settled_rss_mb` once no change has come for
`--settle` seconds, with `tasks_at_settle`, the tasks running then (the
cluster's, the markers and the sustained stream's last `--rate` x 2.5), and
the heap the server reports then (`settled_heap_held_mb`: in use, which is
what the records and tables hold; `settled_heap_free_mb`: free chunks, of
which only those sharing pages with chunks in use stay resident).
Results: one JSON line per path in <work>/events-results.jsonl, and a
summary on stdout.
"""
import argparse
import json
import os
import queue
import random
import signal
import socket
import socketserver
import subprocess
import threading
import time

import measure
import servers
import synth

HEARTBEAT_S = 5


def v1_task(t):
    ports = []
    p = t.get("resources", {}).get("ports")
    if p:
        for r in p.strip("[]").split(","):
            b, e = r.strip().split("-")
            ports.append({"name": "ports", "type": "RANGES", "role": "*",
                          "ranges": {"range": [{"begin": int(b), "end": int(e)}]}})
    return {
        "name": t["name"], "task_id": {"value": t["id"]},
        "framework_id": {"value": t["framework_id"]}, "agent_id": {"value": t["slave_id"]},
        "state": t["state"],
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}, "role": "*"}] + ports,
        "statuses": [v1_status(t["id"], t["slave_id"], s) for s in t.get("statuses", [])],
    }


def v1_status(task_id, agent_id, s):
    v = {"task_id": {"value": task_id}, "agent_id": {"value": agent_id}, "state": s["state"],
         "source": "SOURCE_EXECUTOR", "timestamp": s["timestamp"], "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}
    if "container_status" in s:
        v["container_status"] = s["container_status"]
    return v


def subscribed(state):
    agents = [{"agent_info": {"hostname": s["hostname"], "port": 5051, "id": {"value": s["id"]}},
               "active": True, "version": "1.11.0", "pid": s["pid"]} for s in state["slaves"]]
    fws = [{"framework_info": {"user": "root", "name": f["name"], "hostname": f["hostname"],
                               "id": {"value": f["id"]}},
            "active": True, "connected": True, "recovered": False} for f in state["frameworks"]]
    tasks = [v1_task(t) for f in state["frameworks"] for t in f["tasks"]]
    return json.dumps({"type": "SUBSCRIBED", "subscribed": {
        "get_state": {"get_tasks": {"tasks": tasks}, "get_executors": {},
                      "get_frameworks": {"frameworks": fws}, "get_agents": {"agents": agents}},
        "heartbeat_interval_seconds": HEARTBEAT_S}}).encode()


def chunk(record):
    framed = b"%d\n" % len(record) + record
    return b"%x\r\n" % len(framed) + framed + b"\r\n"


class EventMaster:
    """The fake operator master; send() writes events to the open stream."""

    def __init__(self, port, first, state_body):
        # The reply is framed once, here: framing 84 MB in Python at the
        # request took about 0.1 s of the master's CPU, counted against the
        # server's first answer.
        self.first_reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" + chunk(first))
        self.state_body = state_body
        self.lock = threading.Lock()
        self.stream = None
        self.subscribes = 0
        self.subscribed_at = None  # when the first SUBSCRIBE request was read
        master = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                master.handle(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        threading.Thread(target=self.heartbeats, daemon=True).start()

    def handle(self, sock):
        f = sock.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                return
            method, path = (line.decode().split() + ["", ""])[:2]
            length = 0
            while True:
                h = f.readline()
                if not h or h in (b"\r\n", b"\n"):
                    break
                k, _, v = h.decode().partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            body = f.read(length) if length else b""
            if method == "POST" and path.startswith("/api/v1") and b"SUBSCRIBE" in body:
                if self.subscribed_at is None:
                    self.subscribed_at = time.time()
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self.lock:
                    sock.sendall(self.first_reply)
                    self.stream = sock
                    self.subscribes += 1
                while self.stream is sock:  # the stream lives while it is the current one
                    time.sleep(0.5)
                return
            if method == "GET" and path.split("?")[0] in ("/master/state", "/master/state.json", "/state"):
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                             % len(self.state_body) + self.state_body)
            else:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def send(self, records):
        """Writes the records (bytes) in one write; returns the time it returned."""
        data = b"".join(chunk(r) for r in records)
        with self.lock:
            if self.stream is None:
                raise RuntimeError("no open event stream")
            self.stream.sendall(data)
            return time.time()

    def send_raw(self, data):
        """Writes already framed records; returns the time the write returned."""
        with self.lock:
            if self.stream is None:
                raise RuntimeError("no open event stream")
            self.stream.sendall(data)
            return time.time()

    def heartbeats(self):
        while True:
            time.sleep(HEARTBEAT_S)
            try:
                if self.stream is not None:
                    self.send([b'{"type":"HEARTBEAT"}'])
            except OSError:
                self.stream = None

    def drop(self):
        with self.lock:
            if self.stream is not None:
                try:
                    self.stream.close()
                except OSError:
                    pass
            self.stream = None

    def close(self):
        self.drop()
        self.srv.shutdown()
        self.srv.server_close()


def task(fw, slave, name, k, state, ip=None):
    tid = "%s.0000cafe-0000-11e4-a088-%012d" % (name, k)
    st = {"state": state, "timestamp": 1800000000.0 + k}
    if ip:
        st["container_status"] = {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}
    return {"id": tid, "name": name, "framework_id": fw["id"], "slave_id": slave["id"],
            "state": state, "resources": {"ports": "[30000-30001]"}, "statuses": [st]}


def added(t):
    return json.dumps({"type": "TASK_ADDED", "task_added": {"task": v1_task(t)}}).encode()


def updated(t, state, k, ip=None):
    st = {"state": state, "timestamp": 1800000000.0 + k + 0.5}
    if ip:
        st["container_status"] = {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}
    return json.dumps({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": t["framework_id"]},
        "status": v1_status(t["id"], t["slave_id"], st), "state": state}}).encode()


def marker_ip(k):
    return "10.99.%d.%d" % ((k >> 8) & 255, k & 255 or 1)


def wait_answer(port, name, limit=30.0):
    """Polls NAME until it answers; returns the time of the answer or None."""
    deadline = time.time() + limit
    while time.time() < deadline:
        r = servers.dns_query(port, name, timeout=0.2)
        if r and r[0] == 0 and r[1] > 0:
            return time.time()
        time.sleep(0.0003)
    return None


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))] * 1e3, 2) if xs else None


class EventServer(servers.Server):
    """Our server on the event source; the master is the harness's own."""

    def __init__(self, work, probe, binary, full):
        super().__init__("ours", work, probe, binary)
        self.full = full

    def start_master(self):
        pass

    def command(self, workers):
        conf = os.path.join(self.dir, "config.json")
        c = servers.ours_config(self.port, workers, 3600)
        c["StateSource"] = "events"
        if self.full:
            c["HealthFilter"] = True
        with open(conf, "w") as f:
            json.dump(c, f, indent=1)
        return [self.binary, "-config", conf]


def start_blast(a, qf, port):
    p = subprocess.Popen(servers.boost() + ["taskset", "-c", "0", a.blast, "-p", str(port), "-d", qf,
                                            "-l", "900", "-Q", str(a.qps)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    servers.prioritize(p.pid)
    return p


def stop_blast(p):
    p.send_signal(signal.SIGINT)
    try:
        return measure.parse(p.communicate(timeout=30)[0])
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def one_path(a, path, state, first, body, qf, probe, log):
    full = path == "full"
    fw, slaves = state["frameworks"][0], state["slaves"]
    master = EventMaster(servers.MASTER_PORT, first, body)
    s = EventServer(os.path.join(a.work, "events-%s" % path), probe, a.binary, full)
    rec = {"path": path, "tasks": a.tasks, "qps": a.qps}
    blast = None
    try:
        t0 = time.time()
        s.start("1", 1, ready_timeout=300, poll=0.002)
        t1 = time.time()
        rec["first_answer_s"] = round(t1 - t0, 3)
        if master.subscribed_at is not None:
            rec["subscribe_to_answer_s"] = round(t1 - master.subscribed_at, 3)
        pid = s.proc.pid
        log("%s: first answer %.3f s after start, %s s after the SUBSCRIBE request" % (
            path, rec["first_answer_s"], rec.get("subscribe_to_answer_s")))

        # one change to the answer
        n = a.full_changes if full else a.changes
        marks = [task(fw, slaves[k % len(slaves)], "churn-%d" % k, k, "TASK_STAGING") for k in range(n)]
        for i in range(0, n, 200):
            master.send([added(t) for t in marks[i:i + 200]])
        sentinel = task(fw, slaves[0], "sentinel", 999999, "TASK_RUNNING", "10.98.0.1")
        master.send([added(sentinel)])
        if wait_answer(s.port, "sentinel.marathon.mesos", 120) is None:
            raise RuntimeError("the staging markers were not taken within 120 s")
        blast = start_blast(a, qf, s.port)
        time.sleep(1)
        c0, w0 = measure.proc_ticks([pid]), time.time()
        time.sleep(a.baseline)
        c1, w1 = measure.proc_ticks([pid]), time.time()
        idle_rate = (c1 - c0) / measure.HZ / (w1 - w0)
        lat, missed = [], 0
        c2, w2 = measure.proc_ticks([pid]), time.time()
        for k, t in enumerate(marks):
            written = master.send([updated(t, "TASK_RUNNING", k, marker_ip(k))])
            seen = wait_answer(s.port, "churn-%d.marathon.mesos" % k)
            if seen is None:
                missed += 1
            else:
                lat.append(seen - written)
            time.sleep(0.005)
        c3, w3 = measure.proc_ticks([pid]), time.time()
        load = stop_blast(blast)
        blast = None
        cpu = (c3 - c2) / measure.HZ - idle_rate * (w3 - w2)
        rec["one"] = {"changes": n, "missed": missed, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
                      "max_ms": round(max(lat) * 1e3, 2) if lat else None,
                      "cpu_ms_per_change": round(cpu * 1e3 / n, 3),
                      "idle_cpu_pct": round(100 * idle_rate, 1),
                      "load": {k: load.get(k) for k in ("completed", "lost", "unexpected", "lat_max_ms")}}
        log("%s: one change: %s" % (path, json.dumps(rec["one"])))

        # sustained
        dur = a.full_sustain if full else a.sustain
        if dur > 0:
            rec["sustained"] = sustained(a, master, s, fw, slaves, dur, qf, log, path)
        rss = {k.lower() + "_mb": round(v / 1024) for k, v in measure.memory_kb(pid).items()}
        rec.update(rss)
        # Settled: the changes have stopped for --settle seconds (the server
        # returns free heap pages to the kernel 5 s after its last publish).
        time.sleep(a.settle)
        rec["settled_rss_mb"] = round(measure.memory_kb(pid).get("VmRSS", 0) / 1024)
        rec["settled_bytes_per_task"] = round(rec["settled_rss_mb"] * 1048576 / a.tasks)
        heap = measure.heap_mb()
        if heap:
            rec["settled_heap_held_mb"] = round(heap.get("in_use", 0) + heap.get("mapped", 0))
            rec["settled_heap_free_mb"] = round(heap.get("free", 0))
        # Running then: the cluster, the markers, the sentinel and the
        # sustained stream's tasks still alive.
        rec["tasks_at_settle"] = a.tasks + n + 1 + rec.get("sustained", {}).get("alive_after", 0)
        rec["resubscribes"] = master.subscribes - 1
    finally:
        if blast is not None:
            stop_blast(blast)
        s.stop()
        master.close()
    return rec


def sustained(a, master, s, fw, slaves, dur, qf, log, path):
    probes = queue.Queue()
    lat, missed = [], [0]

    def prober():
        while True:
            item = probes.get()
            if item is None:
                return
            name, written = item
            seen = wait_answer(s.port, name, 5)
            if seen is None:
                missed[0] += 1
            else:
                lat.append(seen - written)

    th = threading.Thread(target=prober, daemon=True)
    th.start()
    # every batch made in advance: the writer only writes
    batches, alive, sent, k = [], [], 0, 0
    per_tick = max(1, a.rate // 100)
    lag = max(1, int(a.rate * 2.5))  # a task lives 5 s: the full path must see it at all
    for _ in range(int(dur * 100)):
        recs, probe = [], []
        for _ in range(per_tick):
            if sent % 2 == 0 or len(alive) < lag:
                t = task(fw, slaves[k % len(slaves)], "sus-%d" % k, 100000 + k, "TASK_RUNNING", marker_ip(k))
                recs.append(added(t))
                alive.append(t)
                if k % 20 == 0:
                    probe.append("sus-%d.marathon.mesos" % k)
                k += 1
            else:
                t = alive.pop(0)
                recs.append(updated(t, "TASK_KILLED", 100000 + k))
            sent += 1
        batches.append((b"".join(chunk(r) for r in recs), len(recs), probe))
    blast = start_blast(a, qf, s.port)
    time.sleep(1)
    sent = 0
    pid = s.proc.pid
    c0 = measure.proc_ticks([pid])
    start = time.time()
    nxt = start
    try:
        for data, count, probe in batches:
            written = master.send_raw(data)
            sent += count
            for name in probe:
                probes.put((name, written))
            nxt += 0.01
            time.sleep(max(0.0, nxt - time.time()))
        wall = time.time() - start
        cpu = (measure.proc_ticks([pid]) - c0) / measure.HZ
        probes.put(None)
        th.join(30)  # a path that falls far behind leaves probes unmade
        unprobed = max(0, probes.qsize() - 1)
        time.sleep(0.5)
    finally:
        load = stop_blast(blast)
    r = {"seconds": round(wall, 1), "changes": sent, "rate": round(sent / wall),
         "server_cpu_pct": round(100 * cpu / wall, 1), "samples": len(lat),
         "missed": missed[0], "unprobed": unprobed, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
         "max_ms": round(max(lat) * 1e3, 1) if lat else None, "alive_after": len(alive),
         "load": {k2: load.get(k2) for k2 in ("completed", "lost", "unexpected", "lat_p99_ms", "lat_max_ms")}}
    log("%s: sustained: %s" % (path, json.dumps(r)))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--binary", required=True)
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--full-changes", type=int, default=10)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--sustain", type=float, default=60)
    ap.add_argument("--full-sustain", type=float, default=20)
    ap.add_argument("--baseline", type=float, default=5)
    ap.add_argument("--qps", type=int, default=20000)
    ap.add_argument("--settle", type=float, default=8)
    ap.add_argument("--paths", default="live,full")
    ap.add_argument("--work", default=os.path.join(here, "..", "..", "target", "bench-harness"))
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)
    a.binary = os.path.abspath(a.binary)
    os.makedirs(a.work, exist_ok=True)
    os.sched_setaffinity(0, {0})  # the master and the probes beside the load
    if servers.boost():  # at the load's priority, as churn.py's fake master
        os.setpriority(os.PRIO_PROCESS, 0, -20)
        servers.prioritize(os.getpid())
    a.blast = os.path.join(a.work, "blast")
    if not os.path.exists(a.blast):
        subprocess.run(["cc", "-O2", "-Wall", "-o", a.blast, os.path.join(here, "blast.c")], check=True)

    def log(msg):
        print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)

    t0 = time.time()
    d = os.path.join(a.work, "events-%d" % a.tasks)
    os.makedirs(d, exist_ok=True)
    state = synth.make_state(argparse.Namespace(tasks=a.tasks, frameworks=5, agents=1000,
                                                master_port=servers.MASTER_PORT), random.Random(1))
    recs = synth.records_of(state, servers.MASTER_PORT)
    with open(os.path.join(d, "records.json"), "w") as f:
        json.dump(recs, f)
    qf = os.path.join(d, "queries.txt")
    synth.cmd_queries(argparse.Namespace(records=os.path.join(d, "records.json"), outfile=qf,
                                         count=100000, seed=2, expect=True))
    first, body = subscribed(state), json.dumps(state).encode()
    probe = next(n for n in recs["As"] if n.startswith("mara-app-"))
    log("%d tasks: SUBSCRIBED %.1f MB, made in %.1f s" % (a.tasks, len(first) / 1e6, time.time() - t0))
    out = os.path.join(a.work, "events-results.jsonl")
    for path in a.paths.split(","):
        rec = one_path(a, path, state, first, body, qf, probe, log)
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        log("%s: %s" % (path, json.dumps(rec)))
    log("done in %.0f s; results appended to %s" % (time.time() - t0, out))


if __name__ == "__main__":
    main()
