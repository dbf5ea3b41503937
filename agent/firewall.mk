# Layer 3: the nftables firewall over netlink (libnftnl/libmnl).
libjefe_a_SOURCES += agent/layer_firewall.c agent/firewall.h \
	agent/fw_compile.c agent/fw_compare.c agent/fw_netlink.c
# after policies/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/30-firewall.conf

check_PROGRAMS += tests/unit/test_firewall
TESTS += tests/unit/test_firewall
tests_unit_test_firewall_SOURCES = tests/unit/test_firewall.c
tests_unit_test_firewall_CFLAGS = $(UNIT_CFLAGS) \
	-DFW_GOLDEN_DIR='"$(abs_top_srcdir)/tests/unit/golden"'
tests_unit_test_firewall_LDADD = $(UNIT_LDADD)
EXTRA_DIST += tests/unit/golden/firewall-default.nft \
	tests/unit/golden/firewall-services.nft

# Real kernel, private network namespaces (root); nft(8) is the witness.
FIREWALL_NETNS_TESTS = tests/netns/firewall-enforce.sh tests/netns/firewall-traffic.sh \
	tests/netns/firewall-daemon.sh tests/netns/firewall-nocap.sh \
	tests/netns/firewall-events.sh tests/netns/firewall-tamper.sh \
	tests/netns/firewall-foreign.sh
TESTS += $(FIREWALL_NETNS_TESTS)
check_PROGRAMS += tests/netns/firewall-events
tests_netns_firewall_events_SOURCES = tests/netns/firewall-events.c
tests_netns_firewall_events_LDADD = $(JEFE_LDADD)
EXTRA_DIST += $(FIREWALL_NETNS_TESTS) tests/netns/firewall-lib.sh \
	tests/netns/golden/firewall-default.json \
	tests/netns/golden/firewall-services.json
EXTRA_DIST += bench/firewall.sh bench/fw-owner.sh bench/fw-owner.c
