#!/bin/sh
# bench/vm-audit.sh - the audit layer on a real kernel (qemu VM, TCG):
# a full `jefe status --layer audit` with 100 rules loaded against the
# baseline `auditctl -l` measured in the same VM, and the time from
# `auditctl -D` to the daemon's drift line and to every rule being back.
#
# Usage: abs_top_builddir=$PWD abs_top_srcdir=SRC sh SRC/bench/vm-audit.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jefe-bench-audit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sh "$here/../tests/vm/run-vm.sh" --timeout 900 "$here/vm/audit.sh" >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; exit 1; }
grep 'rules loaded' "$tmp/out" | sed 's/.*NOTE //'
sed -n 's/.*NOTE BENCH //p' "$tmp/out" | awk '
	{ n[$1]++; v[$1, n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	END {
		for (i = 1; i <= k; i++) {
			name = order[i]; c = n[name]
			for (a = 1; a <= c; a++) s[a] = v[name, a]
			for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++)
				if (s[b] < s[a]) { t = s[a]; s[a] = s[b]; s[b] = t }
			med[name] = s[int((c + 1) / 2)]
			printf "%-36s median %6d ms  (%d samples)\n", name, med[name], c
		}
		if (med["auditctl_l_ms_per_run"] > 0)
			printf "ratio jefe status --layer audit / auditctl -l: %.2f\n",
				med["jefe_status_audit_ms_per_run"] / med["auditctl_l_ms_per_run"]
	}'
