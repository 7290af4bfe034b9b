"""Cold start at scale (issue 18): a whole state body to the first table served.

    python3 benches/harness/cold.py --binary target/release/mesos-dns [--tasks 100000] [--runs 3]

Not part of `run.sh`. synth.py's cluster of N tasks is written to a state
file; for each run our server starts on CPU 1 with one worker, reading that
file (`StateFile`: no HTTP transfer, so the figure is the server's own
work), and the harness asks for an A name of the cluster every 2 ms until it
answers. Reported per run: wall time from the process start to the first
answer, the server's CPU time (utime + stime, all threads) at that moment,
the server's own split of the load from its /metrics (read and parse,
generate, compile), and resident memory once the server has settled
(`--settle` seconds after the first answer, default 8: background work such
as the live record store's fill, the freeing of temporaries and the return
of free heap pages to the kernel, 5 s after the last publish, is done by
then) with the bytes per task, and the heap in use then as the server's
/metrics reports it (in use plus mapped blocks). One JSON line per run goes to
`<work>/cold-results.jsonl`.
"""
import argparse
import json
import os
import random
import subprocess
import time

import measure
import servers
import synth

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--settle", type=float, default=8)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--work", default=os.path.join(here, "..", "..", "target", "bench-harness",
                                                   "cold"))
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)
    a.binary = os.path.abspath(a.binary)
    os.makedirs(os.path.join(a.work, "master"), exist_ok=True)
    state_path = os.path.join(a.work, "master", "state-%d.json" % a.tasks)
    if not os.path.exists(state_path):
        state = synth.make_state(argparse.Namespace(
            tasks=a.tasks, frameworks=5, agents=1000, master_port=servers.MASTER_PORT),
            random.Random(1))
        with open(state_path, "w") as f:
            json.dump(state, f)
    with open(state_path) as f:
        state = json.load(f)
    recs = synth.records_of(state, servers.MASTER_PORT)
    probe = next(n for n in recs["As"] if n.startswith("mara-app-"))
    del state, recs
    conf_dir = os.path.join(a.work, "ours")
    os.makedirs(conf_dir, exist_ok=True)
    conf = os.path.join(conf_dir, "config.json")
    cfg = servers.ours_config(servers.PORTS["ours"], 1, 3600)
    del cfg["Masters"]
    cfg["StateFile"] = state_path
    with open(conf, "w") as f:
        json.dump(cfg, f, indent=1)
    out = os.path.join(a.work, "cold-results.jsonl")
    for run in range(a.runs):
        log = open(os.path.join(conf_dir, "server.log"), "ab")
        start = time.time()
        proc = subprocess.Popen(servers.boost() + ["taskset", "-c", "1", a.binary, "-config", conf],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        servers.prioritize(proc.pid)
        first, cpu, rss_first = None, None, None
        try:
            while time.time() < start + 120 and proc.poll() is None:
                r = servers.dns_query(servers.PORTS["ours"], probe, timeout=0.05)
                if r and r[0] == 0 and r[1] > 0:
                    first = time.time() - start
                    cpu = measure.proc_ticks([proc.pid]) / measure.HZ
                    rss_first = measure.memory_kb(proc.pid).get("VmRSS")
                    break
                time.sleep(0.002)
            time.sleep(a.settle)
            steps = measure.server_steps()
            heap = measure.heap_mb()
            mem = measure.memory_kb(proc.pid)
            rss, peak = mem.get("VmRSS"), mem.get("VmHWM")
        finally:
            proc.terminate()
            proc.wait()
            log.close()
        rec = {"tool": "cold", "tasks": a.tasks, "run": run,
               "state_mb": round(os.path.getsize(state_path) / 1e6, 1),
               "first_answer_s": round(first, 3) if first else None,
               "cpu_at_first_answer_s": cpu, "steps_ms": steps, "rss_kb": rss,
               "rss_at_first_answer_kb": rss_first, "peak_rss_kb": peak,
               "bytes_per_task": round(rss * 1024 / a.tasks) if rss else None,
               "heap_held_mb": round(heap["in_use"] + heap["mapped"]) if heap else None}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        mb = lambda kb: "%.0f" % (kb / 1024) if kb else "-"  # noqa: E731
        print("cold: %d tasks (%.1f MB state): first answer %s s after start, server CPU %s s; "
              "server steps %s ms; RSS %s MB at the first answer, %s MB settled = %s bytes/task "
              "(peak %s MB; heap in use %s MB)" % (
                  a.tasks, rec["state_mb"], rec["first_answer_s"], cpu, steps, mb(rss_first),
                  mb(rss), rec["bytes_per_task"], mb(peak), rec["heap_held_mb"]), flush=True)


if __name__ == "__main__":
    main()
