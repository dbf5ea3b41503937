#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-events.sh - the NFNLGRP_NFTABLES filter on the real kernel, in a
# private network namespace (see firewall-events.c).
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/firewall-lib.sh"
fw_need
fw_enter_netns "$@"
prog=$builddir/tests/netns/firewall-events
[ -x "$prog" ] || fail "$prog not built"
T=$(mktemp -d "${TMPDIR:-/tmp}/jefe-fw.XXXXXX")
trap fw_cleanup EXIT
printf 'table ip other {\n\tchain c {\n\t\tcounter\n\t}\n}\n' > "$T/other.nft"
{
	printf 'table ip big {\n\tchain c {\n'
	i=0
	while [ $i -lt 2000 ]; do
		printf '\t\ttcp dport %d counter accept\n' $((i + 1))
		i=$((i + 1))
	done
	printf '\t}\n}\n'
} > "$T/big.nft"
"$prog" "$T/other.nft" "$T/big.nft"
echo "PASS: firewall-events"
