#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""logsink.py SOCKET OUTFILE

A stand-in for syslogd in tests: bind a unix datagram socket at SOCKET and
append every datagram received (one syslog line of jefe-setup's
--log-socket, "<PRI>ident[pid]: message") to OUTFILE as one line, flushed
at once so a test can poll the file.  Runs until killed.
"""
import os
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: logsink.py SOCKET OUTFILE\n")
        return 2
    path, out = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(out, "a", buffering=1, encoding="utf-8") as f:
        while True:
            data = sock.recv(65536)
            # One datagram is one line: a newline inside would forge another.
            line = data.decode("utf-8", "replace").rstrip("\n").replace("\n", "\\n")
            f.write(line + "\n")
            f.flush()


if __name__ == "__main__":
    sys.exit(main())
