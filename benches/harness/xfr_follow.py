#!/usr/bin/env python3
"""One task change to NSD answering it: p50/p99 over N changes.

Usage: xfr_follow.py MESOS_DNS_BINARY STATE_DIR N, where STATE_DIR holds
master/state from `synth.py state STATE_DIR --tasks T` (it is changed in
place). Needs nsd on PATH; uses loopback ports 18073, 18074 and 18143.

Starts the release binary on a synthetic state (StateFile) with NSD as its
secondary (NOTIFY + IXFR), then N times moves one task to a new IP in the
state file, waits until our server answers the new address (t0), and times
until NSD answers it too (NOTIFY, IXFR, NSD's load)."""
import json, os, re, socket, struct, subprocess, sys, time

BIN, STATE_DIR, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
OURS, NSD = 18073, 18074
work = os.path.abspath(STATE_DIR)
json.dump({"StateFile": "master/state", "RefreshSeconds": 60, "Listener": "127.0.0.1", "Port": OURS,
           "HTTPListener": "127.0.0.1", "HttpPort": 18143, "ExternalOn": False, "DnsWorkers": 2,
           "TransferAllow": ["127.0.0.1"], "NotifySecondaries": [f"127.0.0.1:{NSD}"]},
          open(f"{work}/config.json", "w"))
nsd_dir = f"{work}/nsd"; os.makedirs(nsd_dir, exist_ok=True)
open(f"{nsd_dir}/nsd.conf", "w").write(f"""server:
  ip-address: 127.0.0.1@{NSD}
  port: {NSD}
  username: ""
  chroot: ""
  zonesdir: "{nsd_dir}"
  database: ""
  pidfile: "{nsd_dir}/nsd.pid"
  xfrdfile: "{nsd_dir}/xfrd.state"
  zonelistfile: "{nsd_dir}/zone.list"
  logfile: "{nsd_dir}/nsd.log"
  server-count: 1
  xfrd-reload-timeout: 0
remote-control:
  control-enable: no
zone:
  name: mesos
  zonefile: "mesos.zone"
  request-xfr: 127.0.0.1@{OURS} NOKEY
  allow-notify: 127.0.0.1 NOKEY
""")

def ask(port, name):
    q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    try:
        s.sendto(q, ("127.0.0.1", port)); r = s.recv(4096)
    except OSError:
        return set()
    an = struct.unpack(">H", r[6:8])[0]
    # answers: owner is a pointer (2 octets), then type, class, ttl, rdlen, rdata
    i, out = len(q), set()
    for _ in range(an):
        i += 2; rtype, _, _, rdlen = struct.unpack(">HHIH", r[i:i + 10]); i += 10
        if rtype == 1: out.add(socket.inet_ntoa(r[i:i + 4]))
        i += rdlen
    return out

import signal
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
ours = subprocess.Popen([BIN, "-config", f"{work}/config.json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
while not ask(OURS, "mara-app-1.marathon.mesos"): time.sleep(0.5)
nsd = subprocess.Popen(["nsd", "-d", "-c", f"{nsd_dir}/nsd.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.time()
while not ask(NSD, "mara-app-1.marathon.mesos"): time.sleep(0.2)
print(f"NSD loaded the zone by AXFR in {time.time() - t:.1f} s", flush=True)
path = f"{work}/master/state"
text = open(path).read()
ips = re.findall(r'\{"ip_address": "(10\.200\.[0-9.]+)"\}', text)
lat = []
try:
    for k in range(N):
        old = ips[k]
        new = f"10.254.{k // 250}.{k % 250 + 1}"
        text = text.replace('{"ip_address": "%s"}' % old, '{"ip_address": "%s"}' % new, 1)
        # the task's name: the app name before this IP in the task object
        at = text.index(new); name = re.findall(r'"name": "([^"]+)"', text[:at])[-1]
        fqdn = f"{name}.marathon.mesos" if name.startswith("mara") else None
        open(path + ".new", "w").write(text); os.rename(path + ".new", path)
        t = time.time()
        while new not in ask(OURS, fqdn):
            time.sleep(0.01)
            if time.time() - t > 20: raise SystemExit(f"ours never answered {new} for {fqdn}")
        t0 = time.time()
        while new not in ask(NSD, fqdn):
            time.sleep(0.002)
            if time.time() - t0 > 20: raise SystemExit(f"NSD never answered {new} for {fqdn}")
        lat.append(time.time() - t0)
finally:
    ours.terminate(); nsd.terminate()
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print(f"{len(lat)} changes: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]*1000:.1f} ms")
