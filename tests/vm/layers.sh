#!/bin/sh
# Every layer on a real kernel, in a qemu VM: the default policy enforced
# and read back by independent witnesses, then jefe-setup repairing each
# layer after tampering (guest/layers.sh has the details).
here=$(cd "$(dirname "$0")" && pwd)
src=${abs_top_srcdir:-$(cd "$here/../.." && pwd)}
ov=$src/image-build/overlay/etc
# The command line carries what the modules layer requires and only a
# reboot can add (cmdline_required); lockdown starts at integrity so the
# agent has to raise it to confidentiality.
# The files the files layer only checks (it never edits them) come as the
# image ships them, so the first enforce can end compliant.
exec sh "$here/run-vm.sh" --timeout 900 \
	--append "lockdown=integrity slab_nomerge init_on_alloc=1 page_alloc.shuffle=1" \
	--extra-file "$ov/security/limits.d/10-jefe-core.conf:/etc/security/limits.d/10-jefe-core.conf" \
	--extra-file "$ov/profile:/etc/profile" \
	--extra-file "$ov/chrony/chrony.conf:/etc/chrony/chrony.conf" \
	"$here/guest/layers.sh"
