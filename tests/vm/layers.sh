#!/bin/sh
# Every layer on a real kernel, in a qemu VM: the default policy enforced
# and read back by independent witnesses, then jefe-setup repairing each
# layer after tampering (guest/layers.sh has the details).
here=$(cd "$(dirname "$0")" && pwd)
# The command line carries what the modules layer requires and only a
# reboot can add (cmdline_required); lockdown starts at integrity so the
# agent has to raise it to confidentiality.
exec sh "$here/run-vm.sh" --timeout 900 \
	--append "lockdown=integrity slab_nomerge init_on_alloc=1 page_alloc.shuffle=1" \
	"$here/guest/layers.sh"
