"""One load run (dnsperf or blast) against a server, with CPU accounting on both sides.

The server's CPU time comes from its own /proc/<pid>/stat (utime + stime of the
server and every process it forked; threads are included), so "server CPU
microseconds per answered query" is what the server itself spent, kernel work
in its system calls included. "foreign" is CPU that neither the server nor the
load generator used (other jobs on the box, unattributed softirq): a run with
much of it is noisy, and the report shows it.
"""
import os
import re
import resource
import subprocess
import time
import urllib.request

import servers

HZ = os.sysconf("SC_CLK_TCK")


def proc_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            t += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return t


# The server's own split of its last state load, as /metrics gives it.
STEPS = {
    "read_parse": "mesosdns_state_fetch_duration_seconds",
    "generate": "mesosdns_state_generate_duration_seconds",
    "compile": "mesosdns_table_compile_duration_seconds",
}


def metric_lines():
    """The lines of our server's /metrics page ([] if it cannot be read)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % servers.HTTP_PORT,
                                    timeout=5) as r:
            return r.read().decode().splitlines()
    except OSError:
        return []


def server_steps():
    """The last state load's steps in ms, as our server reports them ({} if it cannot)."""
    got = {}
    for line in metric_lines():
        parts = line.split()
        for k, metric in STEPS.items():
            if len(parts) == 2 and parts[0] == metric:
                got[k] = round(float(parts[1]) * 1e3, 1)
    return got


def heap_mb():
    """The server's heap as its /metrics gives it, in MB: {"in_use", "free", "mapped"}
    ({} if it cannot). Memory held is in_use + mapped; resident memory above that is
    mostly free heap in pages shared with chunks in use."""
    got = {}
    for line in metric_lines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith('mesosdns_heap_bytes{state="'):
            got[parts[0].split('"')[1]] = round(float(parts[1]) / 1048576, 1)
    return got


def memory_kb(pid):
    """{"VmRSS": kB, "VmHWM": kB} of a process ({} once it is gone)."""
    r = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    r[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return r


def box_ticks():
    """(busy, total, steal) ticks over all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    total = sum(v[:8])
    return total - idle - steal, total, steal


_busy = False


def wait_idle(max_wait, need=0.9):
    """Wait until the box is at least NEED idle over one second (other jobs share it).

    After one wait that timed out, later waits give up after 2 s until the box has
    been seen idle again, so a busy box does not stretch the run by max_wait per run."""
    global _busy
    deadline = time.time() + (2 if _busy else max_wait)
    while True:
        b0, t0, _ = box_ticks()
        time.sleep(1)
        b1, t1, _ = box_ticks()
        idle = 1 - (b1 - b0) / max(1, t1 - t0)
        if idle >= need:
            _busy = False
            return True
        if time.time() >= deadline:
            _busy = True
            return False


def parse(out):
    def grab(rx, cast=float):
        m = re.search(rx, out)
        return cast(m.group(1)) if m else None

    r = {
        "sent": grab(r"Queries sent:\s+(\d+)", int),
        "completed": grab(r"Queries completed:\s+(\d+)", int),
        "lost": grab(r"Queries lost:\s+(\d+)", int),
        "qps": grab(r"Queries per second:\s+([\d.]+)"),
        "runtime": grab(r"Run time \(s\):\s+([\d.]+)"),
        "lat_avg_ms": grab(r"Average Latency \(s\):\s+([\d.]+)"),
        "lat_max_ms": grab(r"Average Latency \(s\):.*max ([\d.]+)"),
        "rcodes": grab(r"Response codes:\s+(.*)", str),
        "unexpected": grab(r"Unexpected answers:\s+(\d+)", int),
        # blast only: the latency under which 99% / 99.9% of the answers came
        "lat_p99_ms": grab(r"Latency percentiles.*p99 ([\d.]+)"),
        "lat_p999_ms": grab(r"Latency percentiles.*p99\.9 ([\d.]+)"),
        # blast only: its own longest pause, which a reply's latency may include
        "gen_pause_ms": grab(r"Longest generator pause \(s\):\s+([\d.]+)"),
    }
    for k in ("lat_avg_ms", "lat_max_ms", "lat_p99_ms", "lat_p999_ms", "gen_pause_ms"):
        if r[k] is not None:
            r[k] = round(r[k] * 1000, 3)
    return r


def run(server, tool, queries, duration, load_cpus, extra=(), blast=None, wait=20):
    """Runs TOOL against SERVER for DURATION seconds; returns the result dict."""
    port = server.port
    if tool == "blast":
        cmd = [blast, "-p", str(port), "-d", queries, "-l", str(duration),
               "-k", "8", "-w", "256", "-b", "32"]
    else:
        cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries,
               "-l", str(duration), "-c", "10", "-q", "200", "-t", "1",
               "-O", "suppress=timeout,unexpected"]
    cmd += list(extra)
    if load_cpus:
        cmd = ["taskset", "-c", load_cpus] + cmd
    cmd = servers.boost() + cmd
    idle = wait_idle(wait) if wait > 0 else None
    pids = server.pids()
    s0, (b0, t0, st0), w0 = proc_ticks(pids), box_ticks(), time.time()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    servers.prioritize(p.pid)
    try:  # dnsperf can hang when a server closes its TCP connections or goes away
        out = p.communicate(timeout=duration + 15)[0]
        hung = False
    except subprocess.TimeoutExpired:
        p.kill()
        out = p.communicate()[0]
        hung = True
    finally:  # never leave a load generator behind (e.g. on SIGTERM)
        if p.poll() is None:
            p.kill()
            p.wait()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1, (b1, t1, st1), w1 = proc_ticks(pids), box_ticks(), time.time()
    r = parse(out)
    wall = w1 - w0
    server_s = (s1 - s0) / HZ
    load_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    busy_s = (b1 - b0) / HZ
    r.update({
        "server": server.name, "tool": tool, "cmd": " ".join(cmd), "idle_before": idle,
        "server_cpu_pct": round(100 * server_s / wall, 1),
        "load_cpu_pct": round(100 * load_s / wall, 1),
        "foreign_cpu_pct": round(max(0.0, 100 * (busy_s - server_s - load_s) / wall), 1),
        "steal_pct": round(100 * (st1 - st0) / max(1, t1 - t0), 1),
        "server_us_per_q": round(server_s * 1e6 / r["completed"], 3) if r["completed"] else None,
    })
    if hung:
        r["error"] = "%s did not finish within %d s and was killed" % (tool, duration + 15)
    elif r["qps"] is None or p.returncode != 0:
        r["error"] = out[-2000:]
    return r
