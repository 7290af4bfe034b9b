#!/usr/bin/env python3
"""Hostile-client figures: memory and /health latency of a mesos-dns binary.

Usage (from the repository root, after `cargo build --release -p mesos-dns`):

    python3 benches/hostile/measure.py --bin target/release/mesos-dns

Starts the binary on loopback over a synthetic state (benches/harness/synth.py,
10,000 tasks on 1,000 agents by default), a fresh process per scenario, and
prints one line per figure:

- idle RSS after the first load;
- peak RSS while 100 clients read /v1/enumerate slowly (1 KiB per 100 ms,
  4 KiB receive buffers, each from its own 127.0.1.x address);
- peak RSS while 500 DNS-over-TCP clients pipeline queries for
  `slave.mesos` (1,000 A records, a 16 KB answer) and never read;
- /health status and latency (20 requests) while 300 idle HTTP
  connections are open, from 300 addresses;
- the size of a forwarded UDP reply to a 40-octet query with EDNS 65535
  (and without EDNS), from a stub upstream on loopback that answers 150 A
  records (about 2.4 KB).

Every wait is bounded; nothing leaves loopback. Linux only (/proc).
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTH = os.path.join(HERE, "..", "harness", "synth.py")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss(pid, seconds, during=None):
    peak = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if during:
            during()
        peak = max(peak, rss_kib(pid))
        time.sleep(0.1)
    return peak


class Stub:
    """A UDP upstream answering every query with `count` A records."""

    def __init__(self, count=150):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.addr = self.sock.getsockname()
        self.count = count
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            i = 12
            while i < len(q) and q[i] != 0:
                i += 1 + q[i]
            qend = i + 5
            head = bytearray(q[:12])
            head[2] |= 0x80
            head[3] = 0x80
            head[4:12] = struct.pack(">HHHH", 1, self.count, 0, 0)
            body = b"".join(
                b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x1e\x00\x04" + bytes([192, 0, 2, n % 256])
                for n in range(self.count))
            self.sock.sendto(bytes(head) + q[12:qend] + body, peer)


def query(name, qtype=1, edns=None, qid=0x1234):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", qtype, 1)
    if edns:
        q += b"\x00" + struct.pack(">HHIH", 41, edns, 0, 0)
    return q


class Server:
    def __init__(self, binary, state, resolver, workdir):
        cfg = {
            "StateFile": state, "Port": 0, "HttpPort": 0,
            "Listener": "127.0.0.1", "HTTPListener": "127.0.0.1",
            "EnumerationOn": True, "DnsWorkers": 2, "RefreshSeconds": 600,
            "Resolvers": ["%s:%d" % resolver], "Timeout": 2,
        }
        path = os.path.join(workdir, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([binary, "-config", path], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.dns = self.http = None
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            if "DNS on " in line:
                host, port = line.split("DNS on ")[1].split()[0].rsplit(":", 1)
                self.dns = (host, int(port))
            if "HTTP API on http://" in line:
                hp = line.split("http://")[1].split("/")[0]
                host, port = hp.rsplit(":", 1)
                self.http = (host, int(port))
            if "first state load" in line or time.monotonic() > deadline:
                break
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        time.sleep(1.0)
        self.idle = rss_kib(self.proc.pid)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def connect_from(src, dst, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(dst)
    return s


def slow_readers(srv, n=100):
    socks = []
    for i in range(n):
        s = connect_from("127.0.1.%d" % (i + 1), srv.http, rcvbuf=4096)
        s.sendall(b"GET /v1/enumerate HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setblocking(False)
        socks.append(s)
    statuses = {}

    def read_a_little():
        for s in socks:
            try:
                data = s.recv(1024)
                if data.startswith(b"HTTP/1.1 "):
                    code = data[9:12].decode()
                    statuses[code] = statuses.get(code, 0) + 1
            except (BlockingIOError, ConnectionError):
                pass

    peak = peak_rss(srv.proc.pid, 5, read_a_little)
    for s in socks:
        s.close()
    return peak, statuses


def unread_pipelines(srv, n=500, queries=300):
    framed = b""
    for i in range(queries):
        q = query("slave.mesos", qid=i)
        framed += struct.pack(">H", len(q)) + q
    socks = []
    for i in range(n):
        s = connect_from("127.0.%d.%d" % (8 + i // 250, i % 250 + 1), srv.dns, rcvbuf=4096)
        s.setblocking(False)
        try:
            s.send(framed)
        except BlockingIOError:
            pass
        socks.append(s)
    peak = peak_rss(srv.proc.pid, 5)
    for s in socks:
        s.close()
    return peak


def health_under_idle(srv, n=300, probes=20):
    idle = [connect_from("127.0.%d.%d" % (20 + i // 250, i % 250 + 1), srv.http) for i in range(n)]
    time.sleep(0.5)
    results = []
    for _ in range(probes):
        t0 = time.monotonic()
        status = "none"
        try:
            s = connect_from("127.0.0.1", srv.http)
            s.settimeout(2)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            status = data[9:12].decode() or "closed"
            s.close()
        except OSError as e:
            status = type(e).__name__
        results.append((status, (time.monotonic() - t0) * 1000))
        time.sleep(0.05)
    for s in idle:
        s.close()
    codes = {}
    for st, _ in results:
        codes[st] = codes.get(st, 0) + 1
    lat = sorted(ms for _, ms in results)
    return codes, lat[len(lat) // 2], lat[-1]


def forwarded_sizes(srv):
    out = {}
    for label, edns in (("EDNS 65535", 65535), ("no EDNS", None)):
        q = query("example.org", edns=edns)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(q, srv.dns)
        try:
            r = s.recv(65535)
            out[label] = (len(q), len(r), bool(r[2] & 0x02))
        except socket.timeout:
            out[label] = (len(q), 0, False)
        s.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tasks", type=int, default=10000)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, SYNTH, "state", work, "--tasks", str(a.tasks)],
                       check=True, stdout=subprocess.DEVNULL)
        state = os.path.join(work, "master", "state")
        stub = Stub()
        rows = []

        def run(name, fn):
            srv = Server(binary, state, stub.addr, work)
            try:
                rows.append((name, srv.idle, fn(srv)))
            finally:
                srv.close()

        run("slow /v1/enumerate readers", slow_readers)
        run("unread TCP pipelines", unread_pipelines)
        run("health under idle HTTP", health_under_idle)
        run("forwarded reply", forwarded_sizes)
        stub.stop = True
    for name, idle, result in rows:
        if name == "slow /v1/enumerate readers":
            peak, statuses = result
            print("100 slow /v1/enumerate readers: idle %.0f MiB, peak %.0f MiB (%.1fx); heads %s"
                  % (idle / 1024, peak / 1024, peak / idle, statuses))
        elif name == "unread TCP pipelines":
            print("500 unread TCP pipelines: idle %.0f MiB, peak %.0f MiB (%.1fx)"
                  % (idle / 1024, result / 1024, result / idle))
        elif name == "health under idle HTTP":
            codes, p50, worst = result
            print("/health with 300 idle HTTP connections: %s, p50 %.1f ms, max %.1f ms"
                  % (codes, p50, worst))
        else:
            for label, (qlen, rlen, tc) in result.items():
                print("forwarded reply, %d-octet query, %s: %d octets%s"
                      % (qlen, label, rlen, ", TC" if tc else ""))


if __name__ == "__main__":
    main()
