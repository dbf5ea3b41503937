/* SPDX-License-Identifier: MIT */
/*
 * Compare a dump of table inet jefe with the desired state, structurally:
 * chains by type/hook/priority/policy, rules expression by expression
 * (fw_rule_equal), sets by key type and by their address ranges.  Each
 * item gets one finding with a stable id:
 *
 *   table                              the table itself
 *   chain input                        a chain's type, hook, priority
 *   chain input policy                 its policy
 *   chain input rule 3                 the 3rd rule of the desired chain
 *   chain input unexpected rule handle 12   a rule nobody asked for
 *   set web_v4                         a set's type and flags
 *   set web_v4 element 10.0.0.0/8      one range of a set
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "firewall.h"
#include "util.h"

void fw_kernel_free(struct fw_kernel *k)
{
	for (size_t i = 0; i < k->n_chains; i++)
		nftnl_chain_free(k->chains[i]);
	for (size_t i = 0; i < k->n_rules; i++)
		nftnl_rule_free(k->rules[i]);
	free(k->rules);
	for (size_t i = 0; i < k->n_sets; i++)
		nftnl_set_free(k->sets[i]);
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

static const char *fw_hook_name(uint32_t h)
{
	static const char *const names[] = { "prerouting", "input", "forward",
					     "output", "postrouting" };

	return h < ARRAY_SIZE(names) ? names[h] : "?";
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
	 * Longest common subsequence of the two rule lists: a deleted rule,
	 * a rule inserted by someone else or a changed rule then shows up as
	 * that rule only, not as every rule after it.
	 */
#define L(i, j) lcs[(i) * (m + 1) + (j)]
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			L(i, j) = fw_rule_equal(dr[i], kr[j]) ? L(i + 1, j + 1) + 1 :
				  L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	for (size_t i = 0, j = 0; i < n && j < m;) {
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
	size_t m = 0;

	for (size_t i = 0; i < k->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(k->chains[i], NFTNL_CHAIN_NAME), ch->name) == 0)
			kc = k->chains[i];
	snprintf(item, sizeof(item), "chain %s", ch->name);
	snprintf(exp, sizeof(exp), "type filter hook %s priority %d", fw_hook_name(ch->hooknum),
		 ch->prio);
	if (!kc) {
		fw_cmp_add(c, item, exp, "missing", FINDING_DRIFT);
		return;
	}
	if (!nftnl_chain_is_set(kc, NFTNL_CHAIN_HOOKNUM)) {
		snprintf(act, sizeof(act), "regular chain");
	} else {
		const char *type = nftnl_chain_is_set(kc, NFTNL_CHAIN_TYPE) ?
				   nftnl_chain_get_str(kc, NFTNL_CHAIN_TYPE) : "?";

		snprintf(act, sizeof(act), "type %s hook %s priority %d", type,
			 fw_hook_name(nftnl_chain_get_u32(kc, NFTNL_CHAIN_HOOKNUM)),
			 nftnl_chain_get_s32(kc, NFTNL_CHAIN_PRIO));
	}
	fw_cmp_add(c, item, exp, act, strcmp(exp, act) == 0 ? FINDING_COMPLIANT : FINDING_DRIFT);

	snprintf(item, sizeof(item), "chain %s policy", ch->name);
	fw_cmp_add(c, item, fw_policy_name(ch->policy),
		   nftnl_chain_is_set(kc, NFTNL_CHAIN_POLICY) ?
		   fw_policy_name(nftnl_chain_get_u32(kc, NFTNL_CHAIN_POLICY)) : "none",
		   nftnl_chain_is_set(kc, NFTNL_CHAIN_POLICY) &&
		   nftnl_chain_get_u32(kc, NFTNL_CHAIN_POLICY) == ch->policy ?
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

static void fw_compare_set(struct fw_cmp *c, const struct fw_set *s,
			   const struct fw_kernel *k)
{
	struct nftnl_set *ks = NULL;
	struct fw_range *kr = NULL;
	size_t nk = 0, len = s->family == NFPROTO_IPV4 ? 4 : 16;
	uint32_t type = s->family == NFPROTO_IPV4 ? 7 : 8;
	char item[256], text[128], exp[64], act[160];
	int ret;

	for (size_t i = 0; i < k->n_sets; i++)
		if (strcmp(nftnl_set_get_str(k->sets[i], NFTNL_SET_NAME), s->name) == 0)
			ks = k->sets[i];
	snprintf(item, sizeof(item), "set %s", s->name);
	snprintf(exp, sizeof(exp), "type %s flags interval",
		 s->family == NFPROTO_IPV4 ? "ipv4_addr" : "ipv6_addr");
	if (!ks) {
		fw_cmp_add(c, item, exp, "missing", FINDING_DRIFT);
		return;
	}
	if (nftnl_set_get_u32(ks, NFTNL_SET_KEY_TYPE) != type ||
	    nftnl_set_get_u32(ks, NFTNL_SET_KEY_LEN) != len ||
	    !(nftnl_set_get_u32(ks, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL)) {
		snprintf(act, sizeof(act), "key type %u len %u flags 0x%x",
			 nftnl_set_get_u32(ks, NFTNL_SET_KEY_TYPE),
			 nftnl_set_get_u32(ks, NFTNL_SET_KEY_LEN),
			 nftnl_set_get_u32(ks, NFTNL_SET_FLAGS));
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
			fw_range_render(&s->ranges[i++], s->family, text, sizeof(text));
			snprintf(item, sizeof(item), "set %s element %s", s->name, text);
			fw_cmp_add(c, item, "present", "missing", FINDING_DRIFT);
		} else {
			fw_range_render(&kr[j++], s->family, text, sizeof(text));
			snprintf(item, sizeof(item), "set %s element %s", s->name, text);
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

int fw_compare(const struct fw_config *cfg, const struct fw_kernel *k,
	       struct findings *out)
{
	struct fw_cmp c = { .out = out };
	char item[96];

	if (!k->table) {
		fw_cmp_add(&c, "table", "table inet " FW_TABLE, "missing", FINDING_DRIFT);
		return c.err ? c.err : c.drift;
	}
	fw_cmp_add(&c, "table", "table inet " FW_TABLE, "table inet " FW_TABLE,
		   FINDING_COMPLIANT);
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
	return c.err ? c.err : c.drift;
}
