# The agent's OpenRC services under the real OpenRC (Debian's openrc
# package in the VM's initramfs, booted by busybox init).
TESTS += tests/vm/openrc-boot.sh
dist_noinst_SCRIPTS += tests/vm/openrc-boot.sh
EXTRA_DIST += tests/vm/guest/openrc-init.sh tests/vm/guest/openrc-boot.sh
