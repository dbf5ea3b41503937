# jefe-setup end to end on the real kernel: a private network and mount
# namespace, a temporary root, a test syslog listener.  Needs root; fails
# (never skips) without it.
TESTS += tests/netns/daemon-sysctl.sh tests/netns/daemon-ipc.sh tests/netns/daemon-report.sh \
	tests/netns/daemon-contested.sh tests/netns/daemon-flood.sh tests/netns/daemon-notify.sh \
	tests/netns/daemon-fleet.sh tests/netns/daemon-live.sh tests/netns/daemon-view.sh
EXTRA_DIST += tests/netns/daemon-sysctl.sh tests/netns/daemon-ipc.sh tests/netns/daemon-report.sh \
	tests/netns/daemon-contested.sh tests/netns/daemon-flood.sh tests/netns/daemon_flood.py \
	tests/netns/daemon-notify.sh tests/netns/daemon-fleet.sh tests/netns/report_check.py \
	tests/netns/daemon_ipc.py tests/lib/daemon-env.sh tests/lib/logsink.py \
	tests/netns/daemon-live.sh tests/netns/daemon-view.sh tests/netns/fake_daemon.py
dist_man8_MANS = docs/man/jefe-setup.8
EXTRA_DIST += bench/daemon-latency.sh bench/daemon_latency.py
EXTRA_DIST += bench/status.sh bench/status_reply.py bench/interleave.py bench/daemon-idle.sh bench/daemon-burst.sh
