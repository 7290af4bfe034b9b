#!/usr/bin/env python3
"""Times one AXFR: wall time at a raw reader, and the server's CPU.

Usage: axfr_time.py HOST PORT ZONE [SERVER_PID]

Reads the framed messages as they come (no parsing beyond the header), up
to the closing SOA, and prints messages, records, octets and seconds; with
SERVER_PID, the server's CPU time (user + system, from /proc) spent
meanwhile. A client that prints every record (kdig, dig) is much slower
than the server."""
import os
import socket
import struct
import sys
import time


def cpu(pid):
    if pid is None:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    host, port, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pid = int(sys.argv[4]) if len(sys.argv) > 4 else None
    q = struct.pack(">HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    for label in zone.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 252, 1)
    c0, t0 = cpu(pid), time.time()
    s = socket.create_connection((host, port))
    s.sendall(struct.pack(">H", len(q)) + q)
    f = s.makefile("rb", buffering=1 << 20)
    msgs = records = octets = soas = 0
    while soas < 2:
        head = f.read(2)
        if len(head) < 2:
            sys.exit("the connection closed before the closing SOA")
        (n,) = struct.unpack(">H", head)
        m = f.read(n)
        msgs, octets = msgs + 1, octets + n
        an = struct.unpack(">H", m[6:8])[0]
        records += an
        # Count SOAs: type 6 class 1 right after an owner that is a
        # pointer to the question (0xc00c), as the server writes them.
        soas += m.count(b"\xc0\x0c\x00\x06\x00\x01")
        if msgs == 1 and an == 1:
            break
    wall, used = time.time() - t0, cpu(pid) - c0
    print(f"{msgs} messages, {records} records, {octets} octets in {wall:.2f} s"
          + (f", server CPU {used:.2f} s" if pid else ""))


main()
