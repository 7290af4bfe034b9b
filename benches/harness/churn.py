"""Record churn at scale: from a fetched state body to the new records being served.

For each cluster size N: our server polls the fake master every second (server on
CPU 1, one worker; the fake master beside the load on CPU 0) while blast sends a
steady load (CPU 0) whose every query carries its expected outcome. The harness then swaps in new states, each
adding one marker task `churn-<k>.marathon`, and for each swap measures the time
from the end of the state body's transfer (logged by the fake master) to the
first answer for the marker. Reported per N: first-load time (process start to
first answer), swap times (median, max), the server's own split of a swap from
its /metrics (read and parse, generate, compile; medians over the swaps), the
server's resident memory (now and peak), and for the load across all swaps: lost
queries, answers with a wrong rcode or no answer records, and max latency.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import time

import measure
import servers
import synth


def marker_task(fw, slave, k):
    return {
        "id": "churn-%d.0000cafe-0000-11e4-a088-%012d" % (k, k), "name": "churn-%d" % k,
        "framework_id": fw["id"], "slave_id": slave["id"], "state": "TASK_RUNNING",
        "resources": {"cpus": 0.1, "mem": 32, "ports": "[30000-30001]"},
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1800000000.0 + k,
                      "container_status": {"network_infos": [
                          {"ip_addresses": [{"ip_address": "10.99.0.%d" % (k % 250 + 1)}]}]}}],
    }


def write_state(path, text, marker):
    """The base state's JSON text with the marker task spliced in as the first
    task of the first framework; replaced atomically. Returns the time of the
    replace: writing tens of megabytes takes a while, and a transfer that
    opened the file during the write still served the old state."""
    i = text.index('"tasks": [') + len('"tasks": [')
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text[:i] + json.dumps(marker) + ", " + text[i:])
    os.replace(tmp, path)
    return time.time()


def run(a, mk, out, log, sizes, swaps=3, rate=20000):
    for n in sizes:
        d = os.path.join(a.work, "churn-%d" % n)
        os.makedirs(os.path.join(d, "master"), exist_ok=True)
        t0 = time.time()
        state = synth.make_state(argparse.Namespace(tasks=n, frameworks=5, agents=1000,
                                                    master_port=servers.MASTER_PORT), random.Random(1))
        text = json.dumps(state)
        recs = synth.records_of(state, servers.MASTER_PORT)
        with open(os.path.join(d, "records.json"), "w") as f:
            json.dump(recs, f)
        qf = os.path.join(d, "queries.txt")
        synth.cmd_queries(argparse.Namespace(records=os.path.join(d, "records.json"), outfile=qf,
                                             count=100000, seed=2, expect=True))
        state_path = os.path.join(d, "master", "state")
        fw, slave = state["frameworks"][0], state["slaves"][0]
        write_state(state_path, text, marker_task(fw, slave, 0))
        log("churn: %d tasks, %.1f MB state, generated in %.1f s" % (
            n, os.path.getsize(state_path) / 1e6, time.time() - t0))

        s = mk("ours")
        s.state_path, s.refresh_seconds = state_path, 1
        # The fake master serves the whole state every second: it runs on the
        # load's core, so the server's core holds only the server.
        s.master_cpus = "0"
        s.probe = next(n for n in recs["As"] if n.startswith("mara-app-"))
        s.served_log = os.path.join(d, "served.log")
        if os.path.exists(s.served_log):
            os.remove(s.served_log)
        start = time.time()
        s.start("1", 1, ready_timeout=120)
        first_load = time.time() - start
        blast, load, steps = None, {}, []
        try:
            idle = []
            for k in range(1, 3):
                idle.append(swap(s, state_path, text, fw, slave, k, log))
                steps.append(measure.server_steps())
            blast = subprocess.Popen(servers.boost() + ["taskset", "-c", "0", os.path.join(a.work, "blast"), "-p", str(s.port),
                                      "-d", qf, "-l", "600", "-Q", str(rate)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
            servers.prioritize(blast.pid)
            times = []
            for k in range(3, 3 + swaps):
                times.append(swap(s, state_path, text, fw, slave, k, log))
                steps.append(measure.server_steps())
                if times[-1] is None or times[-1] > 10:
                    log("churn: a swap took over 10 s; no more swaps at this size")
                    break
            mem = measure.memory_kb(s.proc.pid)
        finally:
            if blast is not None:
                blast.send_signal(signal.SIGINT)
                try:
                    load = measure.parse(blast.communicate(timeout=30)[0])
                finally:
                    if blast.poll() is None:
                        blast.kill()
                        blast.wait()
            s.stop()
        ok = [t for t in times if t is not None]
        rec = {"server": "ours", "tool": "churn", "phase": "churn", "round": 0, "tasks": n,
               "state_mb": round(os.path.getsize(state_path) / 1e6, 1),
               "first_load_s": round(first_load, 3),
               "swap_idle_s": [round(t, 3) if t is not None else None for t in idle],
               "swap_s": [round(t, 3) if t is not None else None for t in times],
               "swap_median_s": round(sorted(ok)[len(ok) // 2], 3) if ok else None,
               "swap_max_s": round(max(ok), 3) if ok else None,
               "steps_ms": {k: median([st[k] for st in steps if k in st]) for k in measure.STEPS},
               "rss_kb": mem.get("VmRSS"), "peak_rss_kb": mem.get("VmHWM"),
               "load_rate": rate, "load": load}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        log("churn: %d tasks: first load %.2f s, swaps without load %s s, under load %s s, server steps %s ms, "
            "RSS %s MB (peak %s MB); load: %s answered, %s lost, %s unexpected, max latency %s ms" % (
                n, first_load, rec["swap_idle_s"], rec["swap_s"], rec["steps_ms"], mb(mem.get("VmRSS")),
                mb(mem.get("VmHWM")),
                load.get("completed"), load.get("lost"), load.get("unexpected"), load.get("lat_max_ms")))


def swap(s, state_path, text, fw, slave, k, log):
    """Swaps in the state with marker k; returns seconds from the end of its transfer
    to the first answer for the marker, or None."""
    time.sleep(1.5)  # a few unchanged refreshes between swaps
    written = write_state(state_path, text, marker_task(fw, slave, k))
    name = "churn-%d.marathon.mesos" % k
    deadline, seen = written + 60, None
    while time.time() < deadline:
        r = servers.dns_query(s.port, name, timeout=0.2)
        if r and r[0] == 0 and r[1] > 0:
            seen = time.time()
            break
        time.sleep(0.002)
    fetch = served_after(s.served_log, written)
    if seen is None or fetch is None:
        log("churn: swap %d: marker not served within 60 s" % k)
        return None
    return seen - fetch


# The server's /metrics gauges for the steps of its last refresh.
def median(xs):
    return sorted(xs)[len(xs) // 2] if xs else None


def mb(kb):
    return "%.0f" % (kb / 1024) if kb else "-"


def served_after(path, t):
    """End time of the first state transfer that opened the file after t."""
    try:
        with open(path) as f:
            for line in f:
                opened, sent = map(float, line.split())
                if opened > t:
                    return sent
    except (OSError, ValueError):
        pass
    return None
