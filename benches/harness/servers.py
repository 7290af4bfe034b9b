"""The DNS servers the benchmark runs side by side, each on 127.0.0.1 only.

  ours  mesos-dns (this project), reading a fake master's state over HTTP
  nsd   NSD, loading the equivalent zone file
  knot  Knot DNS, loading the same zone file
  resp  responder.c, the do-nothing floor (precompiled replies, UDP only)

Every server runs as a child of the harness in its own session; it is stopped by
its process group id, never by name.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import time

PORTS = {"ours": 25356, "nsd": 25353, "knot": 25354, "resp": 25360}
MASTER_PORT = 25380
HTTP_PORT = 25381


def dns_query(port, name, qtype=1, timeout=0.5):
    """One UDP query to 127.0.0.1:port; returns (rcode, ancount) or None on timeout."""
    qid = os.getpid() & 0xFFFF
    wire = b"".join(bytes([len(x)]) + x.encode() for x in name.rstrip(".").split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(msg, ("127.0.0.1", port))
            data = s.recv(65535)
        except OSError:
            return None
    if len(data) < 12 or struct.unpack(">H", data[:2])[0] != qid:
        return None
    flags, _, ancount = struct.unpack(">HHH", data[2:8])
    return flags & 15, ancount


def port_busy(port):
    """Whether something listens on 127.0.0.1:port (UDP or TCP; TIME_WAIT does not count)."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return True
    return False


def boost():
    """A `nice -n -20` prefix when allowed (root or CAP_SYS_NICE), else nothing.

    On a machine shared with other jobs, the server and the load generator then
    get nearly whole cores (CFS weight 88761 against 1024 for each ordinary task)
    without starving anyone the way a real-time priority would. With the kernel's
    autogroups (sched_autogroup_enabled), CPU is shared between sessions first, so
    each server and load generator runs in a session of its own whose autogroup
    gets the same niceness (prioritize())."""
    global _boost
    if _boost is None:
        ok = subprocess.run(["nice", "-n", "-20", "true"], capture_output=True).returncode == 0
        ok = ok and os.environ.get("BENCH_NO_BOOST") is None
        if ok:
            # nice(1) only warns when it cannot lower the niceness; check that it took
            out = subprocess.run(["nice", "-n", "-20", "nice"], capture_output=True, text=True).stdout
            ok = out.strip() == "-20"
        _boost = ["nice", "-n", "-20"] if ok else []
    return _boost


_boost = None


def prioritize(pid):
    """Gives the autogroup (session) of pid the boost niceness, when boosting."""
    if boost():
        try:
            with open("/proc/%d/autogroup" % pid, "w") as f:
                f.write("-20")
        except OSError:
            pass  # no autogroups, or not allowed: nice alone has to do


def descendants(pid):
    """pid and every process below it (NSD forks its serving children)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    s = f.read()
                parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


class Server:
    """One server process; start() returns when it answers the probe name."""

    def __init__(self, name, work, probe, binary=None):
        self.name, self.work, self.probe, self.binary = name, work, probe, binary
        self.port = PORTS[name]
        self.proc = None
        self.master = None
        self.state_path = os.path.join(work, "cluster", "master", "state")
        self.refresh_seconds = 3600  # one load at start: churn is measured apart
        self.served_log = None
        self.master_cpus = None  # CPUs for the fake master (None: anywhere)
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)

    def command(self, workers):
        """The server's argv with its config written for WORKERS threads/processes."""
        zone = os.path.join(self.work, "mesos.zone")
        if self.name == "nsd":
            conf = os.path.join(self.dir, "nsd.conf")
            with open(conf, "w") as f:
                f.write(NSD_CONF.format(port=self.port, workers=workers, dir=self.dir, zone=zone,
                                        reuse="yes" if workers > 1 else "no"))
            return ["nsd", "-d", "-c", conf]
        if self.name == "knot":
            conf = os.path.join(self.dir, "knot.conf")
            os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
            with open(conf, "w") as f:
                f.write(KNOT_CONF.format(port=self.port, workers=workers, dir=self.dir, zone=zone))
            return ["knotd", "-c", conf]
        if self.name == "resp":
            return [os.path.join(self.work, "responder"), "-z", zone, "-p", str(self.port),
                    "-n", str(workers)]
        conf = os.path.join(self.dir, "config.json")
        with open(conf, "w") as f:
            json.dump(ours_config(self.port, workers, self.refresh_seconds), f, indent=1)
        return [self.binary, "-config", conf]

    def start(self, cpus, workers, wrap=(), ready_timeout=60, poll=0.2):
        """Starts the server and returns once it answers the probe name, asking
        every `poll` seconds (each query waits at most `poll` too, at least
        50 ms), so the return is at most about `poll` after the first answer."""
        if port_busy(self.port):
            raise RuntimeError("%s: port %d on 127.0.0.1 is in use" % (self.name, self.port))
        if self.name == "ours":
            self.start_master()
        argv = list(wrap) + self.command(workers)
        if cpus:
            argv = boost() + ["taskset", "-c", cpus] + argv
        self.log = os.path.join(self.dir, "server.log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        if cpus:
            prioritize(self.proc.pid)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()  # and its fake master, which would hold the port
                raise RuntimeError("%s exited with %s; log: %s\n%s" % (
                    self.name, code, self.log, tail(self.log)))
            r = dns_query(self.port, self.probe, timeout=max(poll, 0.05))
            if r and r[0] == 0 and r[1] > 0:
                break
            time.sleep(poll)
        else:
            self.stop()
            raise RuntimeError("%s: no answer for %s within %d s; log: %s\n%s" % (
                self.name, self.probe, ready_timeout, self.log, tail(self.log)))
        if self.name == "knot" and cpus and not wrap:
            # knotd pins each worker thread to a CPU of its own choosing; pin them back
            time.sleep(0.3)
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(self.proc.pid)],
                           stdout=subprocess.DEVNULL, check=True)
        return self

    def start_master(self):
        if self.master is None:
            if port_busy(MASTER_PORT):
                raise RuntimeError("fake master: port %d on 127.0.0.1 is in use" % MASTER_PORT)
            here = os.path.dirname(os.path.abspath(__file__))
            argv = ["python3", os.path.join(here, "fake_master.py"), str(MASTER_PORT),
                    self.state_path] + ([self.served_log] if self.served_log else [])
            if self.master_cpus:
                # Beside the load, at its priority: the master is part of the
                # test bench, not of the server being measured.
                argv = boost() + ["taskset", "-c", self.master_cpus] + argv
            self.master = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
            if self.master_cpus:
                prioritize(self.master.pid)
            for _ in range(50):
                if port_busy(MASTER_PORT):
                    return
                time.sleep(0.1)
            raise RuntimeError("fake master did not start")

    def pids(self):
        return descendants(self.proc.pid) if self.proc else []

    def stop(self):
        for p in (self.proc, self.master):
            if p is not None and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
        self.proc = self.master = None
        for _ in range(50):
            if not port_busy(self.port):
                return
            time.sleep(0.1)


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def ours_config(port, workers, refresh_seconds):
    """mesos-dns config.json for our server: the fake master, loopback only."""
    return {
        "Masters": ["127.0.0.1:%d" % MASTER_PORT],
        "Port": port,
        "Listener": "127.0.0.1",
        "HTTPListener": "127.0.0.1",
        "HttpPort": HTTP_PORT,
        "Domain": "mesos",
        "RefreshSeconds": refresh_seconds,
        "StateTimeoutSeconds": 60,
        "TTL": 60,
        "SOAMinttl": 60,
        "ExternalOn": False,
        "IPSources": ["netinfo", "mesos", "host"],
        # extension key of mesos-dns-rs: DNS worker threads
        "DnsWorkers": workers,
    }


NSD_CONF = """server:
  ip-address: 127.0.0.1@{port}
  server-count: {workers}
  reuseport: {reuse}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{dir}"
  database: ""
  zonelistfile: "{dir}/zone.list"
  xfrdfile: "{dir}/xfrd.state"
  xfrdir: "{dir}"
  pidfile: "{dir}/nsd.pid"
  logfile: "{dir}/nsd.log"
  verbosity: 0
  hide-version: yes
  # Debian builds NSD with response rate limiting; its default drops a benchmark's load
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: mesos
  zonefile: "{zone}"
"""

KNOT_CONF = """server:
  rundir: "{dir}"
  pidfile: "{dir}/knot.pid"
  listen: 127.0.0.1@{port}
  udp-workers: {workers}
  tcp-workers: {workers}
  background-workers: 1
log:
  - target: stderr
    any: warning
database:
  storage: "{dir}/db"
template:
  - id: default
    storage: "{dir}"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: mesos
    file: "{zone}"
"""
