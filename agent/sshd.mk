# Layer 4: sshd configuration.
libjefe_a_SOURCES += agent/layer_sshd.c agent/sshd_conf.c agent/sshd_conf.h
dist_jefepolicy_DATA += policies/policy.d/40-sshd.conf
