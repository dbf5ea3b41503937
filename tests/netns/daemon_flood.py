#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""daemon_flood.py SOCKET SECONDS - flood a running jefe-setup with status
requests, one after another as fast as it answers, for SECONDS.

Speaks the wire protocol of agent/ipc.h directly (as daemon_ipc.py does).
Prints one JSON object: how many requests were answered with a report,
how many were refused as rate limited (with the first refusal's text),
and how many got anything else.
"""
import json
import socket
import struct
import sys
import time

MAGIC = 0x4A454645
VERSION = 3
STATUS = 1
JEFE_ERATE = 1032
REQ = "<IHHII"
HDR = "<IHHiI"


def call(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(10.0)
    try:
        s.send(struct.pack(REQ, MAGIC, VERSION, STATUS, 0, 0))
        hdr = s.recv(65536)
        _, _, _, status, length = struct.unpack(HDR, hdr)
        payload = b""
        while len(payload) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            payload += chunk
        return status, payload.decode("utf-8", "replace")
    finally:
        s.close()


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    ok = limited = other = 0
    first_refusal = None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, payload = call(path)
        if status == 0:
            ok += 1
        elif status == -JEFE_ERATE:
            limited += 1
            if first_refusal is None:
                first_refusal = payload
        else:
            other += 1
    print(json.dumps({"ok": ok, "limited": limited, "other": other,
                      "first_refusal": first_refusal, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
