#!/bin/sh
# bench/fw-owner.sh - builds bench/fw-owner.c and runs it in a private
# network namespace (the host's ruleset is never touched): what table
# ownership (NFT_TABLE_F_OWNER) and NFT_TABLE_F_PERSIST do on this kernel.
# The figures and the decision are in docs/layers/firewall.md.
#
#   bench/fw-owner.sh          (run as root)
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root (it makes a network namespace)" >&2; exit 1; }
for c in cc pkg-config unshare; do
	command -v "$c" >/dev/null || { echo "$c is not installed" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -O2 -Wall -o "$tmp/fw-owner" "$srcdir/bench/fw-owner.c" $(pkg-config --cflags --libs libnftnl libmnl)
echo "# kernel $(uname -r)"
for i in 1 2 3; do
	echo "# run $i"
	unshare --net -- "$tmp/fw-owner"
done
