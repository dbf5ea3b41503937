#!/bin/sh
# SPDX-License-Identifier: MIT
# live-commit-luks.sh - live-commit.sh with a LUKS2 JEFE_DATA partition:
# the boot asks for its passphrase (typed on the serial line here, a wrong
# one first), the rest is the same round trip and power cut.
JEFE_COMMIT_LUKS=yes
. "$abs_top_srcdir/tests/iso/live-commit.sh"
