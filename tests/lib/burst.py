#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""burst.py LOG PATH SAMPLES LAYER - does a burst on one layer delay
jefe-setup's detection of a change on another?  Used by
tests/root/daemon-burst.sh (asserts) and bench/daemon-burst.sh (figures).

jefe-setup runs with --debug, sshd and the firewall enforced.  Detection of
a firewall tamper (`nft add rule inet jefe input tcp dport P accept`, from
the moment nft returned) is the daemon's `checked layer=firewall by=event`
line, logged at the end of the pass that found and repaired it (a drift
line may be folded into a `contested` summary; this line never is),
timed from the start of the nft process (nft's own run is included).

1. SAMPLES firewall tampers with nothing else going on (the baseline);
2. the same while another thread makes 1,000 tampers of LAYER (chmod 0666
   / 0644 of PATH in turn, each an inotify event: sshd_config for the sshd
   layer, whose every check runs `sshd -T` and whose repairs run it again;
   /etc/shadow for the files layer).

Exit 1 when a firewall tamper is not detected within 10 s, when the daemon
never saw the burst, or when nft still shows a tamper afterwards.
"""
import os
import subprocess
import sys
import threading
import time

TIMEOUT_S = 10.0
LAYER = None
# The daemon's own part of each detection, from its debug line: from the
# loop's seeing the netlink event to the end of the pass (waited= + ms=).
IN_DAEMON = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Log:
    def __init__(self, path):
        self.f = open(path, "r", errors="replace")
        self.f.seek(0, os.SEEK_END)
        self.buf = ""

    def lines(self):
        self.buf += self.f.read()
        out = self.buf.split("\n")
        self.buf = out.pop()
        return out

    def wait(self, needle, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines():
                if needle in line:
                    in_daemon(line)
                    return time.monotonic()
            time.sleep(0.001)
        return None


def in_daemon(line):
    f = dict(w.split("=", 1) for w in line.split() if w.startswith(("ms=", "waited=")))
    if "ms" in f and "waited" in f:
        IN_DAEMON.append(int(f["ms"]) + int(f["waited"]))


def nft(*args):
    r = subprocess.run(["nft"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail("nft %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def tamper_firewall(log, port):
    log.lines()  # forget what came before
    t1 = time.monotonic()
    nft("add", "rule", "inet", "jefe", "input", "tcp", "dport", str(port), "accept")
    t2 = log.wait("checked layer=firewall by=event", TIMEOUT_S)
    if t2 is None:
        fail("the firewall tamper (dport %d) was not detected within %d s" % (port, TIMEOUT_S))
    # The independent witness: nft no longer shows the stray rule.
    end = time.monotonic() + TIMEOUT_S
    while "dport %d " % port in nft("list", "chain", "inet", "jefe", "input"):
        if time.monotonic() > end:
            fail("the stray rule (dport %d) is still there" % port)
        time.sleep(0.01)
    return (t2 - t1) * 1e3


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    logpath, path, samples, layer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    log = Log(logpath)
    mode0 = os.stat(path).st_mode & 0o7777
    global LAYER
    LAYER = "layer=%s " % layer
    base = []
    for k in range(samples):
        base.append(tamper_firewall(log, 4000 + k))
        time.sleep(0.2)

    # Long enough for every sample; 1,000 tampers spread over it.
    duration = samples * 0.6 + 1.0
    done = [0]
    stop = threading.Event()

    def burst():
        gap = duration / 1000
        for n in range(1000):
            os.chmod(path, 0o666 if n % 2 == 0 else 0o644)
            done[0] += 1
            if stop.is_set():
                break
            time.sleep(gap)

    base_in = IN_DAEMON[:]
    del IN_DAEMON[:]
    log.lines()
    seen_sshd = [0]
    th = threading.Thread(target=burst)
    th.start()
    time.sleep(0.3)
    during = []
    for k in range(samples):
        # Lines read while waiting are lost to the count below: count them here.
        t = tamper_firewall_counting(log, 5000 + k, seen_sshd)
        during.append(t)
        time.sleep(0.3)
    th.join()
    os.chmod(path, mode0)
    # The layer did see the burst: drift, repair or contested lines.
    end = time.monotonic() + 3
    while time.monotonic() < end:
        seen_sshd[0] += sum(1 for l in log.lines() if "layer=%s " % layer in l)
        time.sleep(0.05)
    if seen_sshd[0] == 0:
        fail("the daemon logged nothing about the %s burst" % layer)
    if os.environ.get("BURST_DUMP"):
        print(open(logpath).read()[-6000:])

    print("burst: %d %s tampers (chmod %s) over %.1f s, %d %s lines logged"
          % (done[0], layer, path, duration, seen_sshd[0], layer))
    print("firewall tamper -> detected, alone:        p50 %.1f ms, max %.1f ms (n=%d)"
          % (pct(base, 0.5), max(base), len(base)))
    print("firewall tamper -> detected, during burst: p50 %.1f ms, max %.1f ms (n=%d)"
          % (pct(during, 0.5), max(during), len(during)))
    print("delay added by the burst: p50 %.1f ms, max %.1f ms (goal <= 50 ms)"
          % (pct(during, 0.5) - pct(base, 0.5), max(during) - pct(base, 0.5)))
    if base_in and IN_DAEMON:
        print("in the daemon (event seen -> pass done), alone: p50 %d ms, max %d ms;"
              " during burst: p50 %d ms, max %d ms"
              % (pct(base_in, 0.5), max(base_in), pct(IN_DAEMON, 0.5), max(IN_DAEMON)))


def tamper_firewall_counting(log, port, seen):
    for line in log.lines():
        if LAYER in line:
            seen[0] += 1
    t1 = time.monotonic()
    nft("add", "rule", "inet", "jefe", "input", "tcp", "dport", str(port), "accept")
    end = t1 + TIMEOUT_S
    t2 = None
    while t2 is None and time.monotonic() < end:
        for line in log.lines():
            if LAYER in line:
                seen[0] += 1
            if t2 is None and "checked layer=firewall by=event" in line:
                t2 = time.monotonic()
                in_daemon(line)
        time.sleep(0.001)
    if t2 is None:
        fail("during the burst, the firewall tamper (dport %d) was not detected within %d s"
             % (port, TIMEOUT_S))
    end = time.monotonic() + TIMEOUT_S
    while "dport %d " % port in nft("list", "chain", "inet", "jefe", "input"):
        if time.monotonic() > end:
            fail("the stray rule (dport %d) is still there" % port)
        time.sleep(0.01)
    return (t2 - t1) * 1e3


main()
