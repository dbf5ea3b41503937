# The shipped default policy: the main file holds [agent], each layer
# ships its own file under policy.d (installed as-is, never overwritten
# by local files that sort after them).
jefeconfdir = $(sysconfdir)/jefe
dist_jefeconf_DATA = policies/jefe.conf
jefepolicydir = $(sysconfdir)/jefe/policy.d
dist_jefepolicy_DATA = policies/policy.d/10-sysctl.conf
