# Man pages for every command and for the policy format (jefe.conf(5) is
# the one reference of the policy keys), and the design notes.
dist_man_MANS = docs/man/jefe.8 docs/man/jefe.conf.5
EXTRA_DIST += docs/ARCHITECTURE.md docs/BENCHMARKS.md docs/layers/firewall.md \
	docs/layers/files.md \
	docs/install-agent.md docs/fleet.md docs/live.md
