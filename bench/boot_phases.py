#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/boot_phases.py - one timed boot of the ISO under qemu TCG (BIOS,
1 vCPU), run by bench/boot.sh.

Power-on is qemu's start.  The serial console is read as it arrives and
every line is stamped with the host's clock; the phases before OpenRC come
from those stamps (firmware and GRUB's core until GRUB's first output,
GRUB until the kernel's first live line, the kernel's own printk times
until /init, the initramfs until OpenRC starts).  Once the console shows
sshd listening (OpenRC's line for the ssh service, or the login prompt),
one ssh connection (the firewall admits 3 new connections a
minute, so it is made once and multiplexed) polls `doas jefe status
--json` until every layer is compliant, then reads from the guest when
each OpenRC service was marked started (the mtime of its link in
/run/openrc/started, against /proc/uptime), which gives each runlevel's
end and each service's place in it.

Usage: boot_phases.py ISO KEY STATEDIR TIMEOUT
Prints "phase NAME AT TOOK" and "service RUNLEVEL NAME AT" lines (seconds
from power-on), "login AT", "compliant AT", "lastpid N" (the guest's last
PID when it answered compliant: the processes the boot started, a count
the host's load does not change), "deptree-rebuilt-at-boot yes|no" and
"total_ok 1" on success; exits 1 on a timeout or a failed check.  The
stamped console goes to STATEDIR/bench-boot.stamped.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Console:
    """The serial console, each line stamped on arrival (host clock)."""

    def __init__(self, stream, t0, log):
        self.t0 = t0
        self.lines = []          # (seconds from power-on, text)
        self.partial = b""
        self.lock = threading.Lock()
        self.log = log
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        while True:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                return
            now = time.monotonic() - self.t0
            self.log.write(chunk)
            self.log.flush()
            data = self.partial + chunk
            *done, self.partial = re.split(rb"\r?\n|\r", data)
            with self.lock:
                for raw in done:
                    self.lines.append((now, raw.decode("utf-8", "replace")))
                # a prompt ("login: ") has no newline after it
                if self.partial.endswith(b"login: "):
                    self.lines.append((now, self.partial.decode("utf-8", "replace")))
                    self.partial = b""

    def find(self, regex):
        with self.lock:
            for t, text in self.lines:
                if re.search(regex, text):
                    return t, text
        return None

    def all(self):
        with self.lock:
            return list(self.lines)


def ssh_cmd(key, port, ctl, *args):
    return ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR",
            "-o", "ControlMaster=auto", "-o", "ControlPersist=120",
            "-o", "ControlPath=" + ctl, "-i", key, "-p", str(port),
            "admin@127.0.0.1"] + list(args)


# Run in the guest once it is compliant: the clocks, and when each service
# of each runlevel was marked started.
GUEST_REPORT = r'''
read up _ </proc/uptime
echo "now $(date +%s.%N) $up"
for f in /run/openrc/started/*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	echo "started $(stat -c %.9Y "$f") ${f##*/}"
done
for l in sysinit boot default; do
	echo "runlevel $l $(ls /etc/runlevels/$l 2>/dev/null | tr '\n' ' ')"
done
'''


# sshd listens: OpenRC's line for the ssh service (its [ ok ] comes once
# sshd has bound its sockets), or the login prompt.  Services start in
# parallel, so another service's [ ok ] can end the ssh line on the
# console first: a refused try is retried after a second (run()).
SSH_READY = r"Starting ssh \.\.\. \[ ok \]|login: "

# One poll, run by the admin's login shell in the guest.
POLL = 'read -r _ _ _ _ p _ </proc/loadavg; echo "lastpid $p" >&2; doas jefe status --json'


def main():
    iso, key, state, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    port = free_port()
    ctl = os.path.join(state, "bench-boot-ssh-%d.ctl" % port)
    log = open(os.path.join(state, "bench-boot.serial"), "wb")
    t0 = time.monotonic()
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1",
         "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
         "-nic", "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:%d-:22" % port,
         "-cdrom", iso],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    con = Console(qemu.stdout, t0, log)
    ok = False
    try:
        ok = run(con, qemu, key, port, ctl, t0, timeout, state)
    finally:
        # the console as it arrived, each line stamped (seconds from power-on)
        with open(os.path.join(state, "bench-boot.stamped"), "w") as f:
            for t, text in con.all():
                f.write("%7.2f %s\n" % (t, text))
        subprocess.run(["ssh", "-o", "ControlPath=" + ctl, "-O", "exit", "x"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        qemu.send_signal(signal.SIGTERM)
        try:
            qemu.wait(10)
        except subprocess.TimeoutExpired:
            qemu.kill()
    return 0 if ok else 1


def wait_for(con, qemu, regex, deadline):
    while time.monotonic() < deadline:
        hit = con.find(regex)
        if hit:
            return hit
        if qemu.poll() is not None:
            print("error qemu exited before /%s/" % regex)
            return None
        time.sleep(0.05)
    print("error no /%s/ on the console in time" % regex)
    return None


def kernel_start(con):
    """Host time of the kernel's time 0: printk stamps replayed when the
    serial console registers arrive late, so take the line whose arrival
    minus its stamp is smallest (one printed live)."""
    best = None
    for t, text in con.all():
        m = re.search(r"\[\s*(\d+\.\d+)\]", text)
        if m:
            start = t - float(m.group(1))
            best = start if best is None else min(best, start)
    return best


def run(con, qemu, key, port, ctl, t0, timeout, state):
    deadline = t0 + timeout
    phases = []
    grub = wait_for(con, qemu, r"GNU GRUB|JefeLinux .*initramfs trace", deadline)
    if not grub:
        return False
    # The first ssh try waits for the console to show sshd listening:
    # OpenRC's line for the ssh service, or the getty's prompt, which
    # BusyBox init starts after the whole default runlevel (the ISO tests'
    # ISO_SSH_READY).  A try before sshd listens would spend one of the 3
    # new connections a minute the firewall admits.
    if not wait_for(con, qemu, SSH_READY, deadline):
        return False
    # ssh: one connection (a master), retried slowly until it is accepted.
    # Each poll also reads the guest's last PID (/proc/loadavg) before the
    # status: how many processes the boot started, whatever the host load.
    status = None
    last_pid = None
    polls = open(os.path.join(state, "bench-boot.polls"), "w")
    failures = 0
    while time.monotonic() < deadline:
        r = subprocess.run(ssh_cmd(key, port, ctl, POLL),
                           capture_output=True, text=True, timeout=120)
        # each try, for a boot that takes longer than it should
        polls.write("%7.2f rc %d %s\n" % (time.monotonic() - t0, r.returncode,
                                           (r.stderr.strip().splitlines() or [""])[-1][:200]))
        polls.flush()
        if r.returncode in (0, 2) and r.stdout.strip():
            try:
                doc = json.loads(r.stdout)
            except ValueError:
                doc = {}
            if doc.get("compliant") is True:
                status = time.monotonic() - t0
                m = re.search(r"^lastpid (\d+)$", r.stderr, re.M)
                last_pid = int(m.group(1)) if m else None
                break
        # A refused try (sshd not listening yet, see SSH_READY, or
        # re-executing itself for a reload once the background RSA host
        # key is made) is retried after a second, three times: the
        # firewall lets a burst of 5 new connections through, then 3 a
        # minute.  After that every 5 s, not to spend the minute's tries.
        failures += r.returncode not in (0, 2)
        time.sleep(1 if r.returncode in (0, 2) or failures <= 3 else 5)
    if status is None:
        print("error jefe status not compliant over ssh in time")
        return False
    login = wait_for(con, qemu, r"login: ", deadline)
    if not login:
        return False
    r = subprocess.run(ssh_cmd(key, port, ctl, "doas", "sh", "-s"), input=GUEST_REPORT,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        print("error guest report failed: " + r.stderr.strip())
        return False

    k0 = kernel_start(con)
    init = con.find(r"Run /init as init process")
    openrc = con.find(r"OpenRC [0-9.]+ is starting up")
    if k0 is None or not init or not openrc:
        print("error kernel/initramfs/OpenRC markers missing on the console")
        return False
    init_at = k0 + float(re.search(r"\[\s*(\d+\.\d+)\]", init[1]).group(1))
    phases.append(("firmware+grub-core", grub[0]))
    phases.append(("grub+kernel-load", k0))
    phases.append(("kernel", init_at))
    phases.append(("initramfs", openrc[0]))

    # guest clocks: CLOCK_REALTIME of each "started" link against uptime
    now_real = uptime = None
    started = {}
    levels = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "now":
            now_real, uptime = float(f[1]), float(f[2])
        elif f and f[0] == "started" and len(f) == 3:
            started[f[2]] = float(f[1])
        elif f and f[0] == "runlevel":
            levels[f[1]] = f[2:]
    boot_real = now_real - uptime     # the kernel's time 0, guest realtime
    at = {s: k0 + (t - boot_real) for s, t in started.items()}
    prev = openrc[0]
    for lvl in ("sysinit", "boot", "default"):
        svcs = [s for s in levels.get(lvl, []) if s in at]
        end = max([at[s] for s in svcs] + [prev])
        phases.append(("openrc-" + lvl, end))
        for s in sorted(svcs, key=lambda s: at[s]):
            print("service %s %s %.2f" % (lvl, s, at[s]))
        prev = end
    # services started that no runlevel names (pulled in as dependencies)
    named = {s for v in levels.values() for s in v}
    for s in sorted(set(at) - named, key=lambda s: at[s]):
        print("service dependency %s %.2f" % (s, at[s]))
    # the admin's answer over ssh may come before the serial getty's prompt
    phases += sorted([("login-prompt", login[0]), ("ssh-jefe-compliant", status)],
                     key=lambda p: p[1])
    last = 0.0
    for name, t in phases:
        print("phase %s %.2f %.2f" % (name, t, t - last))
        last = max(last, t)
    print("login %.2f" % login[0])
    print("compliant %.2f" % status)
    if last_pid is not None:
        print("lastpid %d" % last_pid)
    print("deptree-rebuilt-at-boot %s" % ("yes" if con.find(r"Caching service dependencies") else "no"))
    print("total_ok 1")
    return True


if __name__ == "__main__":
    sys.exit(main())
