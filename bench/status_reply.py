#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""status_reply.py SOCKET PID N - the daemon's side of `jefe status`.

N full status requests over SOCKET from this one process (no process
start per request, unlike the CLI): round trip p50/p90 (connect, request,
whole reply), the reply's size, and jefe-setup's CPU time per request
from /proc/PID/stat.  Three kinds, N each: the text view `jefe status`
asks for (IPC_FLAG_VIEW: the daemon prints the table), the JSON view of
`jefe status --json`, and the compact report document (no view flag).
The wire format is agent/ipc.h's.
"""
import os
import socket
import struct
import sys
import time

MAGIC, VERSION, STATUS = 0x4A454645, 3, 1
VIEW, JSON = 0x4, 0x8
REQ, HDR = "<IHHII", "<IHHiI"  # flags, layer mask (0: all)


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def call(path, flags):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(10)
    s.send(struct.pack(REQ, MAGIC, VERSION, STATUS, flags, 0))
    hdr = s.recv(65536)
    magic, version, _, status, length = struct.unpack(HDR, hdr)
    if magic != MAGIC or status != 0:
        sys.exit("FAIL: reply status %d" % status)
    got = 0
    while got < length:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("FAIL: reply cut")
        got += len(chunk)
    s.close()
    return got


def measure(path, pid, n, flags, what):
    for _ in range(10):
        call(path, flags)
    c0 = cpu_s(pid)
    lat = []
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        size = call(path, flags)
        lat.append((time.perf_counter() - t0) * 1e3)
    c1 = cpu_s(pid)
    lat.sort()
    print("daemon reply to a full status, %s (%d requests from one process): p50 %.3f ms, "
          "p90 %.3f ms, %d bytes; jefe-setup CPU %.3f ms per request"
          % (what, n, lat[n // 2], lat[int(n * 0.9)], size, (c1 - c0) * 1e3 / n))


def main():
    path, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    measure(path, pid, n, VIEW, "the text view (jefe status)")
    measure(path, pid, n, VIEW | JSON, "the JSON view (jefe status --json)")
    measure(path, pid, n, 0, "the report document")


main()
