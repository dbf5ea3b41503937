/* SPDX-License-Identifier: MIT */
/*
 * What the agent reads back from the kernel over netlink.  The first
 * byte picks the family.  Odd: nf_tables objects as a parsed dump hands
 * them over (a rule of up to 16 expressions with the input's attributes,
 * a set's elements), through our decompiler, renderer, comparison and
 * set reader.  Even: a stream of audit netlink messages, each
 * AUDIT_LIST_RULES payload checked for length as the audit layer does,
 * then formatted and compared.
 */
#include <linux/audit.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libaudit.h>

#include "audit_rules.h"
#include "firewall.h"
#include "fuzz.h"
#include "util.h"

#include <stdbool.h>

/*
 * nf_tables: libnftnl's message parser treats a malformed kernel message
 * as ABI breakage and exit()s, and passes an unnamed expression to strcmp
 * (corpus/netlink/crash-d9d8..., crash-4e4c...: the fuzzer's second and
 * third findings, both in libnftnl, reachable only by the kernel, the one
 * sender the agent's socket accepts).  What is ours is what happens after
 * that parser: so the harness builds the kernel objects from the input
 * through libnftnl's typed setters, the way a parsed dump hands them over,
 * and feeds them to our decompiler, renderer, comparison and set reader.
 */
enum attr_kind { K_U32, K_U8, K_STR, K_DATA };

struct expr_attr {
	uint16_t attr;
	enum attr_kind kind;
};

struct expr_kind {
	const char *name;
	struct expr_attr attrs[8];
	unsigned int n;
};

static const struct expr_kind expr_kinds[] = {
	{ "meta", { { NFTNL_EXPR_META_KEY, K_U32 }, { NFTNL_EXPR_META_DREG, K_U32 },
		    { NFTNL_EXPR_META_SREG, K_U32 } }, 3 },
	{ "cmp", { { NFTNL_EXPR_CMP_SREG, K_U32 }, { NFTNL_EXPR_CMP_OP, K_U32 },
		   { NFTNL_EXPR_CMP_DATA, K_DATA } }, 3 },
	{ "payload", { { NFTNL_EXPR_PAYLOAD_BASE, K_U32 }, { NFTNL_EXPR_PAYLOAD_OFFSET, K_U32 },
		       { NFTNL_EXPR_PAYLOAD_LEN, K_U32 }, { NFTNL_EXPR_PAYLOAD_DREG, K_U32 } }, 4 },
	/* No chain name: the kernel sends one only with jump/goto, which the
	 * agent never uses, and libnftnl frees it only then. */
	{ "immediate", { { NFTNL_EXPR_IMM_DREG, K_U32 }, { NFTNL_EXPR_IMM_VERDICT, K_U32 },
			 { NFTNL_EXPR_IMM_DATA, K_DATA } }, 3 },
	{ "ct", { { NFTNL_EXPR_CT_KEY, K_U32 }, { NFTNL_EXPR_CT_DREG, K_U32 },
		  { NFTNL_EXPR_CT_DIR, K_U8 } }, 3 },
	{ "bitwise", { { NFTNL_EXPR_BITWISE_SREG, K_U32 }, { NFTNL_EXPR_BITWISE_DREG, K_U32 },
		       { NFTNL_EXPR_BITWISE_LEN, K_U32 }, { NFTNL_EXPR_BITWISE_MASK, K_DATA },
		       { NFTNL_EXPR_BITWISE_XOR, K_DATA } }, 5 },
	{ "lookup", { { NFTNL_EXPR_LOOKUP_SREG, K_U32 }, { NFTNL_EXPR_LOOKUP_SET, K_STR },
		      { NFTNL_EXPR_LOOKUP_FLAGS, K_U32 } }, 3 },
	{ "limit", { { NFTNL_EXPR_LIMIT_RATE, K_U32 }, { NFTNL_EXPR_LIMIT_UNIT, K_U32 },
		     { NFTNL_EXPR_LIMIT_BURST, K_U32 }, { NFTNL_EXPR_LIMIT_TYPE, K_U32 },
		     { NFTNL_EXPR_LIMIT_FLAGS, K_U32 } }, 5 },
	{ "log", { { NFTNL_EXPR_LOG_PREFIX, K_STR }, { NFTNL_EXPR_LOG_LEVEL, K_U32 },
		   { NFTNL_EXPR_LOG_FLAGS, K_U32 } }, 3 },
	{ "counter", { { 0, K_U32 } }, 0 },
};

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t rd_u8(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static uint32_t rd_u32(struct reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | rd_u8(r);
	return v;
}

/* Up to max bytes, the length taken from the input. */
static size_t rd_bytes(struct reader *r, uint8_t *out, size_t max)
{
	size_t n = rd_u8(r) % (max + 1);

	for (size_t i = 0; i < n; i++)
		out[i] = rd_u8(r);
	return n;
}

static void fuzz_nft_rule(struct reader *rd)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	unsigned int n_exprs = rd_u8(rd) % 16;
	struct fw_rule model;
	char buf[4096];

	if (!r)
		abort();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "jefe");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "input");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (unsigned int i = 0; i < n_exprs && rd->left; i++) {
		const struct expr_kind *k = &expr_kinds[rd_u8(rd) % ARRAY_SIZE(expr_kinds)];
		struct nftnl_expr *e = nftnl_expr_alloc(k->name);
		unsigned int n_attrs = k->n ? rd_u8(rd) % (k->n + 1) : 0;

		if (!e)
			abort();
		unsigned int set = 0;

		for (unsigned int j = 0; j < n_attrs; j++) {
			unsigned int idx = rd_u8(rd) % k->n;
			const struct expr_attr *a = &k->attrs[idx];
			uint8_t data[17];
			size_t len;

			/*
			 * Each attribute once, and an immediate's data or its
			 * verdict, never both, as the kernel sends them: they
			 * share a union in libnftnl 1.2.4, which leaks strings
			 * set in ways no dump produces (corpus/netlink/
			 * leak-c801..., the fifth finding).
			 */
			if (set & (1u << idx))
				continue;
			if (a->attr == NFTNL_EXPR_IMM_DATA && (set & 2))
				continue;
			if (a->attr == NFTNL_EXPR_IMM_VERDICT && strcmp(k->name, "immediate") == 0 &&
			    (set & 4))
				continue;
			set |= 1u << idx;

			switch (a->kind) {
			case K_U32:
				nftnl_expr_set_u32(e, a->attr, rd_u32(rd));
				break;
			case K_U8:
				nftnl_expr_set_u8(e, a->attr, rd_u8(rd));
				break;
			case K_STR:
				len = rd_bytes(rd, data, sizeof(data) - 1);
				data[len] = '\0';
				nftnl_expr_set_str(e, a->attr, (const char *)data);
				break;
			case K_DATA:
				len = rd_bytes(rd, data, 16);
				if (len)
					nftnl_expr_set(e, a->attr, data, (uint32_t)len);
				break;
			}
		}
		nftnl_rule_add_expr(r, e);
	}
	(void)fw_rule_decompile(r, &model);
	(void)fw_nftnl_rule_render(r, buf, sizeof(buf));
	(void)fw_rule_equal(r, r);
	nftnl_rule_free(r);
}

static void fuzz_nft_set(struct reader *rd)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint8_t family = rd_u8(rd) & 1 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	unsigned int n = rd_u8(rd) % 32;
	struct fw_range *ranges = NULL;
	size_t n_ranges = 0;

	if (!s)
		abort();
	nftnl_set_set_str(s, NFTNL_SET_NAME, "fuzz");
	for (unsigned int i = 0; i < n && rd->left; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint8_t key[16];
		size_t len = rd_bytes(rd, key, 16);

		if (!e)
			abort();
		if (len)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
		if (rd_u8(rd) & 1)
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		nftnl_set_elem_add(s, e);
	}
	if (fw_set_ranges_from_elems(s, family, &ranges, &n_ranges) == 0)
		free(ranges);
	nftnl_set_free(s);
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
		/* An nlmsg_len past INT_MAX also loops mnl_nlmsg_next(). */
	if (!(data[0] & 1) && !fuzz_frames_ok(data + 1, size - 1))
		return 0;
	if (data[0] & 1) {
		struct reader rd = { data + 1, size - 1 };

		fuzz_nft_rule(&rd);
		fuzz_nft_set(&rd);
		return 0;
	}
	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len))
		fuzz_audit_msg(nlh);
	return 0;
}
