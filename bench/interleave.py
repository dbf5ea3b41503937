#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""interleave.py RUNS WARMUP CMD... - whole-process wall time of each CMD,
run round-robin (run 1 of every command, then run 2, ...) so that a machine
whose load changes during the measurement (builds of others on the same
cores) weighs on every command alike; hyperfine runs one command's runs in
a block.  Prints one JSON object: {"results": [{"command", "median",
"p90", "min"}]} in seconds, like hyperfine's --export-json.  A command's
exit status is ignored (jefe exits 2 on drift); its output is discarded.
"""
import json
import shlex
import subprocess
import sys
import time


def main():
    runs, warmup, cmds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    argvs = [shlex.split(c) for c in cmds]
    times = [[] for _ in cmds]
    for r in range(warmup + runs):
        for k, argv in enumerate(argvs):
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t = time.perf_counter() - t0
            if r >= warmup:
                times[k].append(t)
    out = []
    for c, t in zip(cmds, times):
        t.sort()
        out.append({"command": c, "median": t[len(t) // 2], "p90": t[int(len(t) * 0.9)],
                    "min": t[0]})
    json.dump({"results": out}, sys.stdout)


main()
