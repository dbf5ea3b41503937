# The agent's OpenRC services under the real OpenRC (Debian's openrc
# package in the VM's initramfs, booted by busybox init).
TESTS += tests/vm/openrc-boot.sh
dist_noinst_SCRIPTS += tests/vm/openrc-boot.sh
EXTRA_DIST += tests/vm/guest/openrc-init.sh tests/vm/guest/openrc-boot.sh
# services_status() under the VM's real OpenRC (copied in by openrc-boot.sh).
check_PROGRAMS += tests/vm/services-status
tests_vm_services_status_SOURCES = tests/vm/services-status.c
tests_vm_services_status_LDADD = $(JEFE_LDADD)
