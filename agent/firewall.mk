# Layer 3: the nftables firewall over netlink (libnftnl/libmnl).
libjefe_a_SOURCES += agent/layer_firewall.c agent/firewall.h \
	agent/fw_compile.c agent/fw_compare.c agent/fw_netlink.c
# after policies/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/30-firewall.conf
