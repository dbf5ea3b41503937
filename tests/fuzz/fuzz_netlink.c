/* SPDX-License-Identifier: MIT */
/*
 * What the agent reads back from the kernel over netlink, as a stream of
 * netlink messages: nf_tables dumps (rules decompiled into the model and
 * rendered, set elements into ranges, chains) and audit rule lists
 * (checked for length as the audit layer does, then formatted and
 * compared).  The first byte picks the family; the rest is the stream.
 */
#include <linux/audit.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libaudit.h>

#include "audit_rules.h"
#include "firewall.h"
#include "fuzz.h"

#include <stdbool.h>

/* Collect attributes by type, ignoring types beyond the table. */
static int fuzz_attr_collect(const struct nlattr *attr, struct nlattr **tb, unsigned int max)
{
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= max)
		tb[type] = (struct nlattr *)attr;
	return MNL_CB_OK;
}

static int fuzz_rule_attr_cb(const struct nlattr *attr, void *data)
{
	return fuzz_attr_collect(attr, data, NFTA_RULE_MAX);
}

static int fuzz_expr_attr_cb(const struct nlattr *attr, void *data)
{
	return fuzz_attr_collect(attr, data, NFTA_EXPR_MAX);
}

/*
 * libnftnl's nftnl_rule_nlmsg_parse() passes an expression without
 * NFTA_EXPR_NAME to strcmp() (corpus/netlink/crash-d9d8..., the second
 * finding): the kernel names every expression, so the harness keeps to
 * rules whose expressions all carry a NUL-terminated name.
 */
static int fuzz_expr_named_cb(const struct nlattr *attr, void *data)
{
	struct nlattr *tb[NFTA_EXPR_MAX + 1] = { 0 };
	bool *ok = data;

	if (mnl_attr_get_type(attr) != NFTA_LIST_ELEM ||
	    mnl_attr_parse_nested(attr, fuzz_expr_attr_cb, tb) < 0 || !tb[NFTA_EXPR_NAME] ||
	    mnl_attr_validate(tb[NFTA_EXPR_NAME], MNL_TYPE_NUL_STRING) < 0)
		*ok = false;
	return MNL_CB_OK;
}

static bool fuzz_rule_exprs_named(const struct nlmsghdr *nlh)
{
	struct nlattr *tb[NFTA_RULE_MAX + 1] = { 0 };
	bool ok = true;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fuzz_rule_attr_cb, tb) < 0)
		return false;
	if (tb[NFTA_RULE_EXPRESSIONS] &&
	    mnl_attr_parse_nested(tb[NFTA_RULE_EXPRESSIONS], fuzz_expr_named_cb, &ok) < 0)
		return false;
	return ok;
}

static int fuzz_nft_cb(const struct nlmsghdr *nlh, void *data)
{
	char buf[4096];

	(void)data;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r;
		struct fw_rule model;

		if (!fuzz_rule_exprs_named(nlh))
			break;
		r = nftnl_rule_alloc();
		if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
			(void)fw_rule_decompile(r, &model);
			(void)fw_nftnl_rule_render(r, buf, sizeof(buf));
			(void)fw_rule_equal(r, r);
		}
		nftnl_rule_free(r);
		break;
	}
	case NFT_MSG_NEWSETELEM: {
		struct nftnl_set *s = nftnl_set_alloc();
		struct fw_range *ranges = NULL;
		size_t n = 0;

		if (s && nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
			if (fw_set_ranges_from_elems(s, NFPROTO_IPV4, &ranges, &n) == 0)
				free(ranges);
			ranges = NULL;
			if (fw_set_ranges_from_elems(s, NFPROTO_IPV6, &ranges, &n) == 0)
				free(ranges);
		}
		nftnl_set_free(s);
		break;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0)
			(void)nftnl_chain_snprintf(buf, sizeof(buf), c, NFTNL_OUTPUT_DEFAULT, 0);
		nftnl_chain_free(c);
		break;
	}
	default:
		break;
	}
	return MNL_CB_OK;
}

/* The audit layer's acceptance of one AUDIT_LIST_RULES payload, then use. */
static void fuzz_audit_msg(const struct nlmsghdr *nlh)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	const struct audit_rule_data *r = mnl_nlmsg_get_payload(nlh);
	struct audit_rule_data *copy;
	char buf[8192];

	if (nlh->nlmsg_type != AUDIT_LIST_RULES || len < sizeof(*r) ||
	    len < audit_rule_size(r))
		return;
	copy = audit_rule_dup(r);
	if (!copy)
		abort();
	(void)audit_rule_format(copy, buf, sizeof(buf));
	(void)audit_rule_equal(copy, r);
	(void)audit_rule_has_key(copy, "jefe");
	free(copy);
}

/*
 * The kernel frames what it sends: every nlmsg_len fits what was read.
 * libmnl's mnl_nlmsg_ok() trusts that (an nlmsg_len above INT_MAX turns
 * negative and passes, and mnl_cb_run() then steps outside the buffer:
 * corpus/netlink/crash-041c..., the fuzzer's first finding).  Only the
 * kernel can write to the agent's netfilter socket (another sender needs
 * CAP_NET_ADMIN), so the harness keeps to kernel framing.
 */
static bool fuzz_frames_ok(const uint8_t *p, size_t len)
{
	while (len >= sizeof(struct nlmsghdr)) {
		uint32_t n;

		memcpy(&n, p, sizeof(n));
		if (n < sizeof(struct nlmsghdr) || n > len)
			return false;
		n = NLMSG_ALIGN(n);
		if (n >= len)
			return true;
		p += n;
		len -= n;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Aligned as a receive buffer is: netlink headers are read in place. */
	static uint32_t buf[16384];
	const struct nlmsghdr *nlh;
	int len;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	len = (int)(size - 1);
	if (data[0] & 1) {
		if (fuzz_frames_ok(data + 1, size - 1))
			(void)mnl_cb_run(buf, (size_t)len, 0, 0, fuzz_nft_cb, NULL);
		return 0;
	}
	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len))
		fuzz_audit_msg(nlh);
	return 0;
}
