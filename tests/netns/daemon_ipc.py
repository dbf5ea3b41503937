#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""daemon_ipc.py SOCKET ROLE - talk to a running jefe-setup the hard way.

Speaks the wire protocol of agent/ipc.h directly (not through ipc.c), so
the daemon's checks are tested against an independent encoder.

ROLE root:          good requests work; short, long, oversized, bad magic,
                    wrong version, bad command/flags/layer bit each get
                    the right error reply naming the field, and the
                    connection is closed; a view request (IPC_FLAG_VIEW)
                    gets the text or JSON `jefe` prints and its exit code
                    in the header; a
                    layer the policy lacks is an error, not an empty
                    "compliant" report; idle
                    and vanishing clients do not block or crash the daemon.
ROLE member:        a non-root peer whose primary group is the status group:
                    status works, enforce and reload get -EPERM.
ROLE supplementary: the status group only among the supplementary groups.
ROLE outsider:      not in the group: the socket's mode refuses to connect.
"""
import json
import socket
import struct
import sys
import time

MAGIC = 0x4A454645
VERSION = 3
STATUS, ENFORCE, RELOAD = 1, 2, 3
DRY_RUN, VIEW, JSON, VERBOSE, COLOR = 0x1, 0x4, 0x8, 0x10, 0x20
EPERM = 1
JEFE_EPROTO = 1025
JEFE_EVERSION = 1026
JEFE_ENOTINPOLICY = 1035
REQ = "<IHHII"
# The layer mask: bit i is the i-th layer of agent/layers.c.
SYSCTL, FILES, N_LAYERS = 1 << 0, 1 << 5, 6
HDR = "<IHHiI"

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def request(cmd, flags=0, layers=0, magic=MAGIC, version=VERSION):
    return struct.pack(REQ, magic, version, cmd, flags, layers)


def call(path, raw, timeout=10.0, with_exit=False):
    """Send raw bytes as one message; return (status, payload, closed_after)
    (and the header's exit code, with_exit)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # Blocking connect, as ipc_connect does: a full backlog waits, not EAGAIN.
    s.connect(path)
    s.settimeout(timeout)
    try:
        s.send(raw)
        hdr = s.recv(65536)
        if len(hdr) != struct.calcsize(HDR):
            raise ValueError("reply header of %d bytes" % len(hdr))
        magic, version, exit_code, status, length = struct.unpack(HDR, hdr)
        if magic != MAGIC or version != VERSION:
            raise ValueError("bad reply header %r" % (hdr,))
        payload = b""
        while len(payload) < length:
            chunk = s.recv(65536)
            if not chunk:
                raise ValueError("reply cut at %d of %d bytes" % (len(payload), length))
            payload += chunk
        # One request per connection: the daemon closes after replying.
        closed = s.recv(65536) == b""
        if with_exit:
            return status, payload.decode(), closed, exit_code
        return status, payload.decode(), closed
    finally:
        s.close()


def good_status(path, what):
    status, payload, closed = call(path, request(STATUS))
    check(status == 0, "%s: status answers 0 (got %d)" % (what, status))
    doc = json.loads(payload)
    check("findings" in doc and isinstance(doc["findings"], list),
          "%s: status payload is the report document" % what)
    check(closed, "%s: connection closed after the reply" % what)


def role_root(path):
    good_status(path, "first")
    good = request(STATUS)
    bad = [
        ("layer bit past the table", request(STATUS, layers=1 << N_LAYERS), -JEFE_EPROTO),
        ("layer bit 31", request(STATUS, layers=1 << 31), -JEFE_EPROTO),
        ("short (10 bytes)", good[:10], -JEFE_EPROTO),
        ("one byte short", good[:-1], -JEFE_EPROTO),
        ("one byte long", good + b"\0", -JEFE_EPROTO),
        ("oversized (100 kB)", good + b"\xff" * 100000, -JEFE_EPROTO),
        ("bad magic", request(STATUS, magic=0x4A454646), -JEFE_EPROTO),
        ("wrong version 1 (layer names)", request(STATUS, version=1), -JEFE_EVERSION),
        ("wrong version 0", request(STATUS, version=0), -JEFE_EVERSION),
        ("wrong version, bad command", request(99, version=7), -JEFE_EVERSION),
        ("command 0", request(0), -JEFE_EPROTO),
        ("command 99", request(99), -JEFE_EPROTO),
        ("unknown flags", request(ENFORCE, flags=0x40, layers=SYSCTL), -JEFE_EPROTO),
        ("view options without the view", request(ENFORCE, flags=JSON, layers=SYSCTL),
         -JEFE_EPROTO),
        ("wrong version 2 (no view)", request(STATUS, version=2), -JEFE_EVERSION),
        ("garbage", b"GET / HTTP/1.0\r\n\r\n", -JEFE_EPROTO),
    ]
    for what, raw, want in bad:
        status, payload, closed = call(path, raw)
        check(status == want, "%s: error %d (got %d, %r)" % (what, want, status, payload))
        check(closed, "%s: connection closed" % what)
        # The refusal names the field: length, magic, version, command, flags, layers.
        check(any(w in payload for w in ("bytes, expected", "magic 0x", "protocol version ",
                                          "command ", "flags 0x", "layers 0x")),
              "%s: the refusal names the field (%r)" % (what, payload))

    # The view `jefe` prints: text with its exit code, and the JSON document.
    status, text, closed, code = call(path, request(STATUS, VIEW), with_exit=True)
    check(status == 0 and text.startswith("LAYER ") and text.endswith("\n") and
          ("COMPLIANT:" in text) and code in (0, 2) and closed,
          "root: the text view (status %d, exit %d, %r...)" % (status, code, text[:40]))
    status, text, _, code2 = call(path, request(STATUS, VIEW | JSON), with_exit=True)
    doc = json.loads(text)
    check(status == 0 and code2 == code and "findings" in doc and text.endswith("}\n"),
          "root: the JSON view is the report document, same exit code (%d, %d)" % (code, code2))
    status, text, _, code3 = call(path, request(STATUS, VIEW | COLOR | VERBOSE, SYSCTL),
                                  with_exit=True)
    check(status == 0 and "\033[" in text and "compliant" in text,
          "root: the verbose coloured view of sysctl (%r...)" % text[:60])

    # Idle clients (more than the daemon parks) must not stall anyone.
    idle = []
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        idle.append(s)
    t0 = time.monotonic()
    good_status(path, "with 20 idle clients")
    check(time.monotonic() - t0 < 2.0, "idle clients do not delay a good request")
    for s in idle:
        s.settimeout(10)
    closed = sum(1 for s in idle if s.recv(16) == b"")
    check(closed == 20, "all 20 idle clients dropped by the daemon (%d)" % closed)
    for s in idle:
        s.close()

    # A client that sends and vanishes before the reply: EPIPE, not SIGPIPE.
    for _ in range(5):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        s.send(request(STATUS))
        s.close()

    status, payload, _ = call(path, request(ENFORCE, DRY_RUN, SYSCTL))
    check(status == 0, "root: enforce --dry-run --layer sysctl answers 0 (got %d)" % status)
    # The policy has no [files]: asking for that layer is an error naming the policy files.
    for cmd in (STATUS, ENFORCE):
        status, payload, _ = call(path, request(cmd, DRY_RUN if cmd == ENFORCE else 0,
                                                SYSCTL | FILES))
        check(status == -JEFE_ENOTINPOLICY and "layer files is not in the policy" in payload
              and "jefe.conf" in payload,
              "root: a layer not in the policy is refused (got %d %r)" % (status, payload))
    status, payload, _ = call(path, request(STATUS, 0, SYSCTL))
    doc = json.loads(payload)
    check(status == 0 and all(f.get("layer") == "sysctl" for f in doc["findings"]),
          "root: status --layer sysctl")
    status, payload, _ = call(path, request(RELOAD))
    check(status == 0, "root: reload answers 0 (got %d %r)" % (status, payload))
    good_status(path, "last")


def role_member(path, what):
    good_status(path, what)
    # --layer sysctl: even if authorization were broken, nothing beyond
    # the private network namespace could be touched.
    for name, raw in [("enforce", request(ENFORCE, 0, SYSCTL)),
                      ("enforce --dry-run", request(ENFORCE, DRY_RUN, SYSCTL)),
                      ("reload", request(RELOAD))]:
        status, payload, closed = call(path, raw)
        check(status == -EPERM, "%s: %s refused with -EPERM (got %d)" % (what, name, status))
        check(closed, "%s: %s connection closed" % (what, name))


def role_outsider(path):
    try:
        call(path, request(STATUS))
        check(False, "outsider: connect should be refused by the socket's mode")
    except PermissionError:
        check(True, "outsider: connect refused (EACCES)")


def main():
    path, role = sys.argv[1], sys.argv[2]
    if role == "root":
        role_root(path)
    elif role in ("member", "supplementary"):
        role_member(path, role)
    elif role == "outsider":
        role_outsider(path)
    else:
        sys.stderr.write("unknown role %s\n" % role)
        return 2
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
