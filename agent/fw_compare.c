/* SPDX-License-Identifier: MIT */
/*
 * Compare a dump of table inet jefe with the desired state, structurally:
 * every attribute the kernel reports for the table, its chains and its
 * sets; rules expression by expression (fw_rule_equal); set elements as
 * address ranges.  Counters are never compared.  Whatever the policy did
 * not ask for (a chain, a set, a rule, an element, an object) is drift.
 * Each item gets one finding with a stable id:
 *
 *   table                              the table itself
 *   table flags                        dormant, owner...: none expected
 *   chain input                        a base chain of type filter
 *   chain input hook                   its hook
 *   chain input priority               its priority
 *   chain input policy                 its policy
 *   chain input device                 none expected
 *   chain input flags                  none expected (offload...)
 *   chain input rule 3                 the 3rd rule of the desired chain
 *   chain input unexpected rule handle 12   a rule nobody asked for
 *   chain NAME                         a chain nobody asked for
 *   set web_v4                         a set's key, flags, timeouts
 *   set web_v4 element 10.0.0.0/8      one range of a set
 *   object NAME, flowtable NAME        objects nobody asked for
 *   foreign:inet filter/input          another table's base chain
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "firewall.h"
#include "util.h"

/* nft's datatypes for set keys (src/datatype.h TYPE_IPADDR, TYPE_IP6ADDR). */
#define FW_SET_TYPE_IPADDR	7
#define FW_SET_TYPE_IP6ADDR	8

void fw_kernel_free(struct fw_kernel *k)
{
	for (size_t i = 0; i < k->n_chains; i++)
		nftnl_chain_free(k->chains[i]);
	for (size_t i = 0; i < k->n_rules; i++)
		nftnl_rule_free(k->rules[i]);
	free(k->rules);
	for (size_t i = 0; i < k->n_sets; i++)
		nftnl_set_free(k->sets[i]);
	for (size_t i = 0; i < k->n_foreign; i++)
		nftnl_chain_free(k->foreign[i]);
	free(k->foreign);
	free(k->foreign_tables);
	memset(k, 0, sizeof(*k));
}

struct fw_cmp {
	struct findings *out;
	int drift;
	int err;
};

static void fw_cmp_add(struct fw_cmp *c, const char *item, const char *expected,
		       const char *actual, enum finding_state state)
{
	struct finding f = {
		.layer = FW_LAYER,
		.item = item,
		.expected = expected,
		.actual = actual,
		.state = state,
		.action = FINDING_ACTION_NONE,
	};
	int ret = findings_add(c->out, &f);

	if (ret < 0 && !c->err)
		c->err = ret;
	if (state == FINDING_DRIFT)
		c->drift++;
}

static const char *fw_policy_name(uint32_t v)
{
	return v == NF_ACCEPT ? "accept" : v == NF_DROP ? "drop" : "?";
}

const char *fw_family_name(uint32_t family)
{
	switch (family) {
	case NFPROTO_IPV4:	return "ip";
	case NFPROTO_IPV6:	return "ip6";
	case NFPROTO_INET:	return "inet";
	case NFPROTO_ARP:	return "arp";
	case NFPROTO_BRIDGE:	return "bridge";
	case NFPROTO_NETDEV:	return "netdev";
	default:		return "?";
	}
}

const char *fw_hook_name(uint32_t family, uint32_t h)
{
	/* NF_INET_* (ip, ip6, inet, bridge), NF_NETDEV_*, NF_ARP_* */
	static const char *const inet[] = { "prerouting", "input", "forward",
					    "output", "postrouting", "ingress" };
	static const char *const netdev[] = { "ingress", "egress" };
	static const char *const arp[] = { "input", "output", "forward" };

	switch (family) {
	case NFPROTO_NETDEV:
		return h < ARRAY_SIZE(netdev) ? netdev[h] : "?";
	case NFPROTO_ARP:
		return h < ARRAY_SIZE(arp) ? arp[h] : "?";
	default:
		return h < ARRAY_SIZE(inet) ? inet[h] : "?";
	}
}

/* NFT_TABLE_F_PERSIST (kernel 6.9) is newer than the headers we build with. */
#define FW_TABLE_F_PERSIST	0x4u

int fw_table_flags_render(uint32_t flags, char *buf, size_t size)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ NFT_TABLE_F_DORMANT, "dormant" },
		{ NFT_TABLE_F_OWNER, "owner" },
		{ FW_TABLE_F_PERSIST, "persist" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		flags &= ~names[i].bit;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					len ? "," : "", names[i].name);
	}
	if (flags)
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s0x%x",
					len ? "," : "", flags);
	if (len == 0)
		len = (size_t)snprintf(buf, size, "none");
	return len < size ? 0 : -ENOSPC;
}

bool fw_item_is_foreign(const char *item)
{
	return strncmp(item, "foreign:", 8) == 0;
}

/* A chain's flags other than "base", in nft's words. */
static void fw_chain_flags_render(uint32_t flags, char *buf, size_t size)
{
	flags &= ~(uint32_t)NFT_CHAIN_BASE;
	if (flags == 0)
		snprintf(buf, size, "none");
	else if (flags == NFT_CHAIN_HW_OFFLOAD)
		snprintf(buf, size, "offload");
	else
		snprintf(buf, size, "0x%x", flags);
}

/* A chain's device(s): "none", "lo", or "eth0,eth1". */
static void fw_chain_dev_render(const struct nftnl_chain *kc, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (nftnl_chain_is_set(kc, NFTNL_CHAIN_DEV)) {
		snprintf(buf, size, "%s", nftnl_chain_get_str(kc, NFTNL_CHAIN_DEV));
		return;
	}
	if (nftnl_chain_is_set(kc, NFTNL_CHAIN_DEVICES)) {
		const char *const *devs = nftnl_chain_get_array(kc, NFTNL_CHAIN_DEVICES);

		for (size_t i = 0; devs && devs[i]; i++)
			len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
						len ? "," : "", devs[i]);
	}
	if (!buf[0])
		snprintf(buf, size, "none");
}

static void fw_compare_rules(struct fw_cmp *c, const struct fw_chain *ch,
			     struct nftnl_rule **kr, size_t m)
{
	size_t n = ch->n_rules;
	struct nftnl_rule **dr = calloc(n + 1, sizeof(*dr));
	unsigned short *lcs = calloc((n + 1) * (m + 1), sizeof(*lcs));
	bool *dmatch = calloc(n + 1, sizeof(*dmatch));
	bool *kmatch = calloc(m + 1, sizeof(*kmatch));
	char item[96], text[1024];
	struct fw_rule dec;
	bool same;

	if (!dr || !lcs || !dmatch || !kmatch) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dr[i] = fw_rule_build(ch, &ch->rules[i]);
		if (!dr[i]) {
			c->err = -ENOMEM;
			goto out;
		}
	}
	/*
	 * The usual case, nothing changed: the same rules in the same order.
	 * They match one to one, which is what the walk below finds for two
	 * equal lists, at n comparisons instead of the table's n * m.
	 */
	same = n == m;
	for (size_t i = 0; same && i < n; i++)
		same = fw_rule_equal(dr[i], kr[i]);
	for (size_t i = 0; same && i < n; i++)
		dmatch[i] = kmatch[i] = true;
	/*
	 * Longest common subsequence of the two rule lists: a deleted rule,
	 * a rule inserted by someone else or a changed rule then shows up as
	 * that rule only, not as every rule after it.
	 */
#define L(i, j) lcs[(i) * (m + 1) + (j)]
	for (size_t i = n; !same && i-- > 0;)
		for (size_t j = m; j-- > 0;)
			L(i, j) = fw_rule_equal(dr[i], kr[j]) ? L(i + 1, j + 1) + 1 :
				  L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	for (size_t i = 0, j = 0; !same && i < n && j < m;) {
		if (fw_rule_equal(dr[i], kr[j])) {
			dmatch[i++] = kmatch[j++] = true;
		} else if (L(i + 1, j) >= L(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef L
	for (size_t i = 0; i < n; i++) {
		snprintf(item, sizeof(item), "chain %s rule %zu", ch->name, i + 1);
		fw_rule_render(&ch->rules[i], text, sizeof(text));
		fw_cmp_add(c, item, text, dmatch[i] ? text : "missing",
			   dmatch[i] ? FINDING_COMPLIANT : FINDING_DRIFT);
	}
	for (size_t j = 0; j < m; j++) {
		if (kmatch[j])
			continue;
		snprintf(item, sizeof(item), "chain %s unexpected rule handle %llu",
			 ch->name, (unsigned long long)nftnl_rule_get_u64(kr[j], NFTNL_RULE_HANDLE));
		if (fw_rule_decompile(kr[j], &dec) == 0)
			fw_rule_render(&dec, text, sizeof(text));
		else
			fw_nftnl_rule_render(kr[j], text, sizeof(text));
		fw_cmp_add(c, item, "absent", text, FINDING_DRIFT);
	}
out:
	if (dr)
		for (size_t i = 0; i < n; i++)
			if (dr[i])
				nftnl_rule_free(dr[i]);
	free(dr);
	free(lcs);
	free(dmatch);
	free(kmatch);
}

static void fw_compare_chain(struct fw_cmp *c, const struct fw_chain *ch,
			     const struct fw_kernel *k)
{
	struct nftnl_chain *kc = NULL;
	struct nftnl_rule **kr;
	char item[96], exp[128], act[128];
	const char *type;
	size_t m = 0;

	for (size_t i = 0; i < k->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(k->chains[i], NFTNL_CHAIN_NAME), ch->name) == 0)
			kc = k->chains[i];
	snprintf(item, sizeof(item), "chain %s", ch->name);
	if (!kc) {
		fw_cmp_add(c, item, "base chain type filter", "missing", FINDING_DRIFT);
		return;
	}
	if (!nftnl_chain_is_set(kc, NFTNL_CHAIN_HOOKNUM)) {
		fw_cmp_add(c, item, "base chain type filter", "regular chain", FINDING_DRIFT);
	} else {
		type = nftnl_chain_is_set(kc, NFTNL_CHAIN_TYPE) ?
		       nftnl_chain_get_str(kc, NFTNL_CHAIN_TYPE) : "?";
		snprintf(act, sizeof(act), "base chain type %s", type);
		fw_cmp_add(c, item, "base chain type filter", act,
			   strcmp(type, "filter") == 0 ? FINDING_COMPLIANT : FINDING_DRIFT);

		/* hook and priority cannot be changed in place: a changed one
		 * means the chain was deleted and made again by someone */
		snprintf(item, sizeof(item), "chain %s hook", ch->name);
		snprintf(act, sizeof(act), "%s", fw_hook_name(NFPROTO_INET,
			 nftnl_chain_get_u32(kc, NFTNL_CHAIN_HOOKNUM)));
		fw_cmp_add(c, item, fw_hook_name(NFPROTO_INET, ch->hooknum), act,
			   nftnl_chain_get_u32(kc, NFTNL_CHAIN_HOOKNUM) == ch->hooknum ?
			   FINDING_COMPLIANT : FINDING_DRIFT);

		snprintf(item, sizeof(item), "chain %s priority", ch->name);
		snprintf(exp, sizeof(exp), "%d", ch->prio);
		snprintf(act, sizeof(act), "%d", nftnl_chain_get_s32(kc, NFTNL_CHAIN_PRIO));
		fw_cmp_add(c, item, exp, act, strcmp(exp, act) == 0 ?
			   FINDING_COMPLIANT : FINDING_DRIFT);
	}

	snprintf(item, sizeof(item), "chain %s policy", ch->name);
	fw_cmp_add(c, item, fw_policy_name(ch->policy),
		   nftnl_chain_is_set(kc, NFTNL_CHAIN_POLICY) ?
		   fw_policy_name(nftnl_chain_get_u32(kc, NFTNL_CHAIN_POLICY)) : "none",
		   nftnl_chain_is_set(kc, NFTNL_CHAIN_POLICY) &&
		   nftnl_chain_get_u32(kc, NFTNL_CHAIN_POLICY) == ch->policy ?
		   FINDING_COMPLIANT : FINDING_DRIFT);

	snprintf(item, sizeof(item), "chain %s device", ch->name);
	fw_chain_dev_render(kc, act, sizeof(act));
	fw_cmp_add(c, item, "none", act, strcmp(act, "none") == 0 ?
		   FINDING_COMPLIANT : FINDING_DRIFT);

	snprintf(item, sizeof(item), "chain %s flags", ch->name);
	fw_chain_flags_render(nftnl_chain_is_set(kc, NFTNL_CHAIN_FLAGS) ?
			      nftnl_chain_get_u32(kc, NFTNL_CHAIN_FLAGS) : 0, act, sizeof(act));
	fw_cmp_add(c, item, "none", act, strcmp(act, "none") == 0 ?
		   FINDING_COMPLIANT : FINDING_DRIFT);

	kr = calloc(k->n_rules + 1, sizeof(*kr));
	if (!kr) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < k->n_rules; i++)
		if (strcmp(nftnl_rule_get_str(k->rules[i], NFTNL_RULE_CHAIN), ch->name) == 0)
			kr[m++] = k->rules[i];
	fw_compare_rules(c, ch, kr, m);
	free(kr);
}

static void fw_buf_addf(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fw_buf_addf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

/*
 * Everything the kernel reports about a set but its elements, in one
 * line: the same words for the desired set and the dumped one, so the
 * two compare as strings.  Attributes the policy never sets (data of a
 * map, timeouts, a size, a memory policy, per-element expressions) only
 * appear when present.
 */
static void fw_set_describe(const struct nftnl_set *ks, char *buf, size_t size)
{
	static const char *const flag_names[] = { "anonymous", "constant", "interval", "map",
						  "timeout", "dynamic", "object", "concat",
						  "expr" };
	uint32_t type = nftnl_set_get_u32(ks, NFTNL_SET_KEY_TYPE);
	uint32_t flags = nftnl_set_is_set(ks, NFTNL_SET_FLAGS) ?
			 nftnl_set_get_u32(ks, NFTNL_SET_FLAGS) : 0;
	size_t len = 0;
	bool first = true;

	if (type == FW_SET_TYPE_IPADDR)
		fw_buf_addf(buf, size, &len, "type ipv4_addr");
	else if (type == FW_SET_TYPE_IP6ADDR)
		fw_buf_addf(buf, size, &len, "type ipv6_addr");
	else
		fw_buf_addf(buf, size, &len, "type %u", type);
	fw_buf_addf(buf, size, &len, " len %u flags ", nftnl_set_get_u32(ks, NFTNL_SET_KEY_LEN));
	for (size_t b = 0; b < 32; b++) {
		if (!(flags & (1u << b)))
			continue;
		if (b < ARRAY_SIZE(flag_names))
			fw_buf_addf(buf, size, &len, "%s%s", first ? "" : ",", flag_names[b]);
		else
			fw_buf_addf(buf, size, &len, "%s0x%x", first ? "" : ",", 1u << b);
		first = false;
	}
	if (first)
		fw_buf_addf(buf, size, &len, "none");
	if (nftnl_set_is_set(ks, NFTNL_SET_DATA_TYPE))
		fw_buf_addf(buf, size, &len, " data type %u len %u",
			    nftnl_set_get_u32(ks, NFTNL_SET_DATA_TYPE),
			    nftnl_set_get_u32(ks, NFTNL_SET_DATA_LEN));
	if (nftnl_set_is_set(ks, NFTNL_SET_OBJ_TYPE))
		fw_buf_addf(buf, size, &len, " object type %u",
			    nftnl_set_get_u32(ks, NFTNL_SET_OBJ_TYPE));
	if (nftnl_set_is_set(ks, NFTNL_SET_TIMEOUT) && nftnl_set_get_u64(ks, NFTNL_SET_TIMEOUT))
		fw_buf_addf(buf, size, &len, " timeout %llums",
			    (unsigned long long)nftnl_set_get_u64(ks, NFTNL_SET_TIMEOUT));
	if (nftnl_set_is_set(ks, NFTNL_SET_GC_INTERVAL) &&
	    nftnl_set_get_u32(ks, NFTNL_SET_GC_INTERVAL))
		fw_buf_addf(buf, size, &len, " gc-interval %ums",
			    nftnl_set_get_u32(ks, NFTNL_SET_GC_INTERVAL));
	if (nftnl_set_is_set(ks, NFTNL_SET_DESC_SIZE) && nftnl_set_get_u32(ks, NFTNL_SET_DESC_SIZE))
		fw_buf_addf(buf, size, &len, " size %u", nftnl_set_get_u32(ks, NFTNL_SET_DESC_SIZE));
	if (nftnl_set_is_set(ks, NFTNL_SET_POLICY) &&
	    nftnl_set_get_u32(ks, NFTNL_SET_POLICY) != NFT_SET_POL_PERFORMANCE)
		fw_buf_addf(buf, size, &len, " policy memory");
	if (nftnl_set_is_set(ks, NFTNL_SET_EXPR) || nftnl_set_is_set(ks, NFTNL_SET_EXPRESSIONS))
		fw_buf_addf(buf, size, &len, " with element expressions");
}

static void fw_compare_set(struct fw_cmp *c, const struct fw_set *s,
			   const struct fw_kernel *k)
{
	struct nftnl_set *ks = NULL, *want;
	struct fw_range *kr = NULL;
	size_t nk = 0, len = s->family == NFPROTO_IPV4 ? 4 : 16;
	char item[256], text[400], exp[160], act[320], range[128];
	int ret;

	for (size_t i = 0; i < k->n_sets; i++)
		if (strcmp(nftnl_set_get_str(k->sets[i], NFTNL_SET_NAME), s->name) == 0)
			ks = k->sets[i];
	want = fw_set_build(s, 0);
	if (!want) {
		c->err = -ENOMEM;
		return;
	}
	fw_set_describe(want, exp, sizeof(exp));
	nftnl_set_free(want);
	snprintf(item, sizeof(item), "set %s", s->name);
	if (!ks) {
		fw_cmp_add(c, item, exp, "missing", FINDING_DRIFT);
		return;
	}
	fw_set_describe(ks, act, sizeof(act));
	if (strcmp(exp, act) != 0) {
		fw_cmp_add(c, item, exp, act, FINDING_DRIFT);
		return;
	}
	ret = fw_set_ranges_from_elems(ks, s->family, &kr, &nk);
	if (ret < 0) {
		c->err = ret;
		return;
	}
	/* both lists are sorted and disjoint: one merge walk */
	for (size_t i = 0, j = 0; i < s->n_ranges || j < nk;) {
		int cmp;

		if (i == s->n_ranges)
			cmp = 1;
		else if (j == nk)
			cmp = -1;
		else if ((cmp = memcmp(s->ranges[i].lo, kr[j].lo, len)) == 0)
			cmp = memcmp(s->ranges[i].hi, kr[j].hi, len);
		if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		if (cmp < 0) {
			fw_range_render(&s->ranges[i++], s->family, range, sizeof(range));
			snprintf(item, sizeof(item), "set %s element %s", s->name, range);
			fw_cmp_add(c, item, "present", "missing", FINDING_DRIFT);
		} else {
			fw_range_render(&kr[j++], s->family, range, sizeof(range));
			snprintf(item, sizeof(item), "set %s element %s", s->name, range);
			fw_cmp_add(c, item, "absent", "present", FINDING_DRIFT);
		}
	}
	free(kr);
	/* The set's type, and its elements in one finding: a set of 10,000
	 * sources must not make 10,000 compliant lines.  Differing elements
	 * were reported one by one above. */
	snprintf(item, sizeof(item), "set %s", s->name);
	snprintf(act, sizeof(act), "%s, %zu ranges", exp, nk);
	snprintf(text, sizeof(text), "%s, %zu ranges", exp, s->n_ranges);
	fw_cmp_add(c, item, text, act, FINDING_COMPLIANT);
}

static bool fw_foreign_allowed(const struct fw_config *cfg, uint32_t family,
			       const char *table)
{
	for (size_t i = 0; i < cfg->n_foreign_allow; i++) {
		const struct fw_table_ref *a = &cfg->foreign_allow[i];

		if ((a->family == NFPROTO_UNSPEC || a->family == family) &&
		    strcmp(a->name, table) == 0)
			return true;
	}
	return false;
}

/*
 * Another table's base chain sees the same packets as ours: a `meta mark
 * set`, a `notrack`, a dnat in prerouting that steers traffic to a port
 * we accept, a netdev ingress drop or accept.  jefe never changes other
 * tables, so each is drift it reports but cannot fix; foreign_allow names
 * the tables an admin accepts (Docker's, libvirt's).
 */
static void fw_compare_foreign(struct fw_cmp *c, const struct fw_config *cfg,
			       const struct fw_kernel *k)
{
	char item[FW_TABLE_NAME_MAX + 160], act[256], dev[128], tflags[64];

	for (size_t i = 0; i < k->n_foreign; i++) {
		const struct nftnl_chain *kc = k->foreign[i];
		uint32_t family = nftnl_chain_get_u32(kc, NFTNL_CHAIN_FAMILY);
		const char *table = nftnl_chain_get_str(kc, NFTNL_CHAIN_TABLE);
		uint32_t flags = 0;
		size_t len = 0;

		if (fw_foreign_allowed(cfg, family, table))
			continue;
		for (size_t t = 0; t < k->n_foreign_tables; t++)
			if (k->foreign_tables[t].family == family &&
			    strcmp(k->foreign_tables[t].name, table) == 0)
				flags = k->foreign_tables[t].flags;
		snprintf(item, sizeof(item), "foreign:%s %s/%s", fw_family_name(family), table,
			 nftnl_chain_get_str(kc, NFTNL_CHAIN_NAME));
		fw_buf_addf(act, sizeof(act), &len, "type %s hook %s",
			    nftnl_chain_is_set(kc, NFTNL_CHAIN_TYPE) ?
			    nftnl_chain_get_str(kc, NFTNL_CHAIN_TYPE) : "?",
			    fw_hook_name(family, nftnl_chain_get_u32(kc, NFTNL_CHAIN_HOOKNUM)));
		fw_chain_dev_render(kc, dev, sizeof(dev));
		if (strcmp(dev, "none") != 0)
			fw_buf_addf(act, sizeof(act), &len, " device %s", dev);
		fw_buf_addf(act, sizeof(act), &len, " priority %d",
			    nftnl_chain_get_s32(kc, NFTNL_CHAIN_PRIO));
		if (nftnl_chain_is_set(kc, NFTNL_CHAIN_POLICY))
			fw_buf_addf(act, sizeof(act), &len, " policy %s",
				    fw_policy_name(nftnl_chain_get_u32(kc, NFTNL_CHAIN_POLICY)));
		if (flags) {
			fw_table_flags_render(flags, tflags, sizeof(tflags));
			fw_buf_addf(act, sizeof(act), &len, " (table %s)", tflags);
		}
		fw_cmp_add(c, item, "absent (or its table in foreign_allow)", act,
			   FINDING_DRIFT);
	}
}

int fw_compare(const struct fw_config *cfg, const struct fw_kernel *k,
	       struct findings *out)
{
	struct fw_cmp c = { .out = out };
	char item[96], text[64];
	int own;

	if (!k->table) {
		fw_cmp_add(&c, "table", "table inet " FW_TABLE, "missing", FINDING_DRIFT);
		goto foreign;
	}
	fw_cmp_add(&c, "table", "table inet " FW_TABLE, "table inet " FW_TABLE,
		   FINDING_COMPLIANT);
	/* A dormant table keeps every rule but registers no hook: the whole
	 * firewall is off while each chain and rule still compares equal. */
	fw_table_flags_render(k->table_flags, text, sizeof(text));
	fw_cmp_add(&c, "table flags", "none", text,
		   k->table_flags == 0 ? FINDING_COMPLIANT : FINDING_DRIFT);
	for (size_t i = 0; i < cfg->n_sets; i++)
		fw_compare_set(&c, &cfg->sets[i], k);
	for (size_t i = 0; i < k->n_sets; i++) {
		const char *name = nftnl_set_get_str(k->sets[i], NFTNL_SET_NAME);
		bool known = false;

		for (size_t j = 0; j < cfg->n_sets; j++)
			known |= strcmp(cfg->sets[j].name, name) == 0;
		if (!known) {
			snprintf(item, sizeof(item), "set %s", name);
			fw_cmp_add(&c, item, "absent", "present", FINDING_DRIFT);
		}
	}
	for (int i = 0; i < FW_CHAIN_COUNT; i++)
		fw_compare_chain(&c, &cfg->chains[i], k);
	for (size_t i = 0; i < k->n_chains; i++) {
		const char *name = nftnl_chain_get_str(k->chains[i], NFTNL_CHAIN_NAME);
		bool known = false;

		for (int j = 0; j < FW_CHAIN_COUNT; j++)
			known |= strcmp(cfg->chains[j].name, name) == 0;
		if (!known) {
			snprintf(item, sizeof(item), "chain %s", name);
			fw_cmp_add(&c, item, "absent", "present", FINDING_DRIFT);
		}
	}
	for (size_t i = 0; i < k->n_extra_objs; i++)
		fw_cmp_add(&c, k->extra_objs[i], "absent", "present", FINDING_DRIFT);
foreign:
	own = c.drift;
	if (cfg->foreign == FW_FOREIGN_REPORT)
		fw_compare_foreign(&c, cfg, k);
	return c.err ? c.err : own;
}
