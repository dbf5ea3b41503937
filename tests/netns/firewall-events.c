/* SPDX-License-Identifier: MIT */
/*
 * The event filter of the firewall layer on the real kernel (run by
 * firewall-events.sh inside a private network namespace):
 *   - our own batch (the transaction socket's port id) is not a reason to
 *     recheck;
 *   - another process's change to table inet jefe is;
 *   - a change to another table is not, unless foreign = report asks
 *     for every table (a netdev or ip nat base chain matters then);
 *   - lost events (ENOBUFS) are: a full check must resync.
 * Usage: firewall-events NFT_SCRIPT_OTHER NFT_SCRIPT_BIG
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall.h"
#include "policy.h"

static int failures;

#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL: " __VA_ARGS__); \
		fputc('\n', stderr); \
		failures++; \
	} else { \
		printf("ok: " __VA_ARGS__); \
		putchar('\n'); \
	} \
} while (0)

static bool drain_any(struct fw_nl *ev, uint32_t own, bool any_table)
{
	bool relevant = false;
	int ret;

	/* events are queued synchronously by the time the command returns */
	ret = fw_nl_events_drain(ev, own, any_table, &relevant);
	if (ret < 0) {
		fprintf(stderr, "FAIL: drain: %s\n", strerror(-ret));
		exit(1);
	}
	return relevant;
}

static bool drain(struct fw_nl *ev, uint32_t own)
{
	return drain_any(ev, own, false);
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "FAIL: '%s' failed\n", cmd);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char *files[1], conf[] = "/tmp/jefe-fw-events.XXXXXX", err[512], cmd[4096];
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct fw_config cfg;
	struct fw_nl tx, ev;
	int fd, small = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NFT_SCRIPT_OTHER NFT_SCRIPT_BIG\n", argv[0]);
		return 2;
	}
	fd = mkstemp(conf);
	if (fd < 0 || write(fd, "[firewall]\n", 11) != 11)
		return 1;
	close(fd);
	files[0] = conf;
	if (policy_load_files(&p, files, 1, &errs) < 0 || fw_config_load(&cfg, NULL, p, &errs) < 0) {
		fprintf(stderr, "FAIL: policy: %s\n", errs.n ? errs.msgs[0] : "?");
		return 1;
	}
	unlink(conf);
	if (fw_nl_open(&tx) < 0 || fw_nl_events_open(&ev) < 0) {
		fprintf(stderr, "FAIL: netlink sockets\n");
		return 1;
	}

	EXPECT(fw_nl_replace(&tx, &cfg, true, err, sizeof(err)) == 0, "our batch applied %s", err);
	EXPECT(!drain(&ev, tx.portid), "our own batch (port id %u) is not a reason to recheck",
	       tx.portid);

	run("nft add rule inet jefe input accept");
	EXPECT(drain(&ev, tx.portid), "nft add rule inet jefe ... is");

	snprintf(cmd, sizeof(cmd), "nft -f %s", argv[1]);
	run(cmd);
	EXPECT(!drain(&ev, tx.portid), "a change to another table is not");

	run("nft add table netdev other");
	EXPECT(drain_any(&ev, tx.portid, true),
	       "with foreign = report, a change to any table (netdev other) is");
	EXPECT(fw_nl_replace(&tx, &cfg, true, err, sizeof(err)) == 0, "our batch applied %s", err);
	EXPECT(!drain_any(&ev, tx.portid, true),
	       "with foreign = report, our own batch still is not");

	run("nft flush ruleset");
	EXPECT(drain(&ev, tx.portid), "nft flush ruleset is");

	/* without the own-port-id filter our batch would count: prove that
	 * the filter, not luck, made the first answer */
	EXPECT(fw_nl_replace(&tx, &cfg, true, err, sizeof(err)) == 0, "our batch applied again %s", err);
	EXPECT(drain(&ev, 0), "the same batch counts when the port id is not ours");

	/* a tiny receive buffer and a big change elsewhere: events are lost */
	setsockopt(fw_nl_fd(&ev), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	snprintf(cmd, sizeof(cmd), "nft -f %s", argv[2]);
	run(cmd);
	EXPECT(drain(&ev, tx.portid), "lost events (ENOBUFS) ask for a recheck");

	fw_nl_close(&tx);
	fw_nl_close(&ev);
	fw_config_free(&cfg);
	policy_free(p);
	policy_errors_free(&errs);
	return failures ? 1 : 0;
}
