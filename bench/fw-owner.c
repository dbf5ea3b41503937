/* SPDX-License-Identifier: MIT */
/*
 * bench/fw-owner.c - what nf_tables table ownership (NFT_TABLE_F_OWNER,
 * kernel >= 5.12) and NFT_TABLE_F_PERSIST (kernel >= 6.9) do on the
 * running kernel.  An experiment behind the decision recorded in
 * docs/layers/firewall.md, not product code; bench/fw-owner.sh builds it
 * and runs it inside a private network namespace.
 *
 * Each line printed is one observation:
 *   1. another netlink socket (any other process) may read an owned table
 *      but not change it: add a rule, set it dormant, delete it;
 *   2. closing the owner's socket removes the table: how long after
 *      close() the table is gone (polled with GETTABLE);
 *   3. with PERSIST the table outlives its owner, and then any socket may
 *      claim it (NEWTABLE with OWNER) or delete it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#define F_PERSIST 0x4u	/* NFT_TABLE_F_PERSIST, newer than Debian 12's headers */

static uint32_t seq = 1;

static struct mnl_socket *sock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		exit(1);
	}
	return nl;
}

/* One batch with one message; returns the kernel's answer (0 or -errno). */
static int batch1(struct mnl_socket *nl, uint16_t type, uint16_t flags,
		  void (*payload)(struct nlmsghdr *, void *), void *arg)
{
	char buf[8192] = { 0 }, rbuf[8192];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf) / 2);
	uint32_t msg_seq;
	int ret = 0, n;

	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	msg_seq = seq++;
	payload(nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type, NFPROTO_INET,
				      flags | NLM_F_ACK, msg_seq), arg);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		return -errno;
	mnl_nlmsg_batch_stop(b);
	n = (int)mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(rbuf, (size_t)n, msg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		ret = -errno;
	return ret;
}

struct table_arg {
	const char *name;
	uint32_t flags;
	bool has_flags;
};

static void table_payload(struct nlmsghdr *nlh, void *arg)
{
	struct table_arg *a = arg;
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, a->name);
	if (a->has_flags)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, a->flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
}

static void chain_payload(struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, arg);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "input");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
}

static void rule_payload(struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, arg);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "input");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	nftnl_rule_add_expr(r, e);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

struct get_result {
	bool found;
	uint32_t flags;
	bool owned;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_result *g = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		g->found = true;
		g->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		g->owned = nftnl_table_is_set(t, NFTNL_TABLE_OWNER);
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* GETTABLE: 0 found, -ENOENT gone. */
static int table_get(struct mnl_socket *nl, const char *name, struct get_result *g)
{
	char buf[8192] = { 0 };
	struct table_arg a = { .name = name };
	struct nlmsghdr *nlh;
	uint32_t s = seq++;
	int n;

	memset(g, 0, sizeof(*g));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, s);
	table_payload(nlh, &a);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		n = mnl_cb_run(buf, (size_t)n, s, mnl_socket_get_portid(nl), get_cb, g);
	} while (n > 0);
	return n < 0 ? -errno : 0;
}

static const char *res(int ret)
{
	return ret == 0 ? "allowed" : strerror(-ret);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Owner makes table NAME (flags) with a drop input chain; returns its socket. */
static struct mnl_socket *make_owned(const char *name, uint32_t flags, int *ret)
{
	struct mnl_socket *owner = sock_open();
	struct table_arg a = { .name = name, .flags = flags, .has_flags = true };

	*ret = batch1(owner, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table_payload, &a);
	if (*ret == 0)
		*ret = batch1(owner, NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain_payload, (void *)name);
	return owner;
}

int main(void)
{
	struct mnl_socket *owner, *other = sock_open();
	struct table_arg dormant = { .name = "owned", .flags = NFT_TABLE_F_DORMANT, .has_flags = true };
	struct table_arg plain = { .name = "owned" };
	struct table_arg claim = { .name = "kept", .flags = NFT_TABLE_F_OWNER | F_PERSIST,
				   .has_flags = true };
	struct table_arg kept = { .name = "kept" };
	struct get_result g;
	double t0, t1;
	int ret, polls = 0;

	owner = make_owned("owned", NFT_TABLE_F_OWNER, &ret);
	if (ret < 0) {
		printf("owner: cannot create an owned table: %s\n", strerror(-ret));
		return 1;
	}
	ret = table_get(other, "owned", &g);
	printf("other socket: read the owned table: %s (flags 0x%x, owner attribute %s)\n",
	       res(ret), g.flags, g.owned ? "present" : "absent");
	printf("other socket: add a rule: %s\n",
	       res(batch1(other, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, rule_payload,
			  (void *)"owned")));
	printf("other socket: set it dormant: %s\n",
	       res(batch1(other, NFT_MSG_NEWTABLE, 0, table_payload, &dormant)));
	printf("other socket: delete it: %s\n",
	       res(batch1(other, NFT_MSG_DELTABLE, 0, table_payload, &plain)));
	printf("owner socket: add a rule: %s\n",
	       res(batch1(owner, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, rule_payload,
			  (void *)"owned")));

	t0 = now_us();
	mnl_socket_close(owner);
	t1 = now_us();
	while (table_get(other, "owned", &g) == 0 && g.found && polls < 100000)
		polls++;
	printf("owner closed: table %s after %d polls, %.0f us after close() returned "
	       "(close took %.0f us)\n", g.found ? "STILL THERE" : "gone", polls,
	       now_us() - t1, t1 - t0);

	owner = make_owned("kept", NFT_TABLE_F_OWNER | F_PERSIST, &ret);
	if (ret < 0) {
		printf("persist: refused by this kernel (%s): an owned table always goes "
		       "with its owner\n", strerror(-ret));
		mnl_socket_close(owner);
		mnl_socket_close(other);
		return 0;
	}
	mnl_socket_close(owner);
	ret = table_get(other, "kept", &g);
	printf("persist: after the owner closed: table %s (flags 0x%x, owner attribute %s)\n",
	       ret == 0 && g.found ? "kept" : "gone", g.flags, g.owned ? "present" : "absent");
	printf("persist: another socket claims the orphan: %s\n",
	       res(batch1(other, NFT_MSG_NEWTABLE, 0, table_payload, &claim)));
	owner = sock_open();
	printf("persist: a third socket changes the claimed table: %s\n",
	       res(batch1(owner, NFT_MSG_DELTABLE, 0, table_payload, &kept)));
	printf("persist: the claimant deletes it: %s\n",
	       res(batch1(other, NFT_MSG_DELTABLE, 0, table_payload, &kept)));
	mnl_socket_close(owner);
	mnl_socket_close(other);
	return 0;
}
