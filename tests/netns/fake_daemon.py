#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fake_daemon.py SOCKET MODE - answer one `jefe` request as a broken or
older jefe-setup would, then exit.  Speaks agent/ipc.h's wire format.

MODE old:        a protocol 2 daemon: refuses the version 3 request with
                 its own version in the header.
MODE exit:       a view reply whose header says exit code 5.
MODE nul:        a view payload with a NUL byte in it.
MODE newline:    a view payload that does not end in a newline.
MODE long:       a payload message longer than the header announced.
MODE magic:      a reply header with another magic.
"""
import os
import socket
import struct
import sys

MAGIC = 0x4A454645
HDR = "<IHHiI"
JEFE_EVERSION = 1026


def main():
    path, mode = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    conn.settimeout(10)
    conn.recv(65536)
    try:
        reply(conn, mode)
    except BrokenPipeError:
        pass    # the client stops reading at the first field it refuses
    conn.close()
    srv.close()
    os.unlink(path)


def reply(conn, mode):
    body = b"LAYER      STATE\n"
    if mode == "old":
        text = b"protocol version 3, expected 2"
        conn.send(struct.pack(HDR, MAGIC, 2, 0, -JEFE_EVERSION, len(text)))
        conn.send(text)
    elif mode == "exit":
        conn.send(struct.pack(HDR, MAGIC, 3, 5, 0, len(body)))
        conn.send(body)
    elif mode == "nul":
        body = b"LAYER\0 STATE\n"
        conn.send(struct.pack(HDR, MAGIC, 3, 0, 0, len(body)))
        conn.send(body)
    elif mode == "newline":
        body = b"LAYER      STATE"
        conn.send(struct.pack(HDR, MAGIC, 3, 0, 0, len(body)))
        conn.send(body)
    elif mode == "long":
        conn.send(struct.pack(HDR, MAGIC, 3, 0, 0, 4))
        conn.send(body)
    elif mode == "magic":
        conn.send(struct.pack(HDR, MAGIC + 1, 3, 0, 0, len(body)))
        conn.send(body)
    else:
        sys.exit("unknown mode " + mode)


main()
