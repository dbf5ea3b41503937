#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report_check.py - the checks of tests/netns/daemon-fleet.sh.

schema SCHEMA HOSTNAME MACHINE_ID DIGEST FILE...: every FILE is a jefe
  report valid against the JSON Schema (draft 2020-12), and says the host
  and policy digest it should.
metric FILE NAME LABELS: print the value of one sample (LABELS as written
  in the file, e.g. 'layer="sysctl"').
contrib PROM DASHBOARD RULES: every jefe_ metric the dashboard's exprs and
  the alert rules use is one the daemon wrote to PROM.
"""
import json
import re
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_schema(schema_file, hostname, machine_id, digest, files):
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        fail("python3-jsonschema is not installed (Draft202012Validator)")
    schema = json.load(open(schema_file))
    Draft202012Validator.check_schema(schema)
    v = Draft202012Validator(schema)
    for f in files:
        try:
            doc = json.load(open(f))
        except ValueError as e:
            fail("%s: not JSON: %s" % (f, e))
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            fail("%s: %s at %s" % (f, errors[0].message, list(errors[0].path)))
        if doc["host"] != {"hostname": hostname, "machine_id": machine_id}:
            fail("%s: host %s" % (f, doc["host"]))
        if doc["policy_digest"] != digest:
            fail("%s: policy_digest %s, jefe policy show says %s" % (f, doc["policy_digest"], digest))
        if not doc["layers"]:
            fail("%s: no layers" % f)
        print("# %s: valid (%s, %d layers, %d findings)" % (f, doc["kind"], len(doc["layers"]), len(doc["findings"])))


def samples(prom):
    out = {}
    for line in open(prom):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line.strip())
        if not m:
            fail("%s: bad line %r" % (prom, line))
        out[(m.group(1), (m.group(2) or "{}")[1:-1])] = float(m.group(3))
    return out


def metric(prom, name, labels):
    s = samples(prom)
    if (name, labels) not in s:
        fail("%s: no sample %s{%s}" % (prom, name, labels))
    v = s[(name, labels)]
    print(int(v) if v == int(v) else v)


def contrib(prom, dashboard, rules):
    written = {name for name, _ in samples(prom)}
    exprs = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in ("expr", "query") and isinstance(v, str):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(json.load(open(dashboard)))
    exprs += re.findall(r'^\s*expr:\s*(.+)$', open(rules).read(), re.M)
    used = set()
    for e in exprs:
        used |= set(re.findall(r'\b(jefe_[a-zA-Z0-9_]*)', e))
    if not used:
        fail("no jefe_ metric found in the dashboard and rules")
    unknown = sorted(used - written)
    if unknown:
        fail("used but never written by jefe-setup: %s" % ", ".join(unknown))
    print("# contrib: %d exprs use %s, all written" % (len(exprs), ", ".join(sorted(used))))


cmd = sys.argv[1]
if cmd == "schema":
    check_schema(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
elif cmd == "metric":
    metric(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "contrib":
    contrib(sys.argv[2], sys.argv[3], sys.argv[4])
else:
    fail("unknown command " + cmd)
