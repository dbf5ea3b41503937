/* SPDX-License-Identifier: MIT */
/*
 * The firewall layer without a kernel: policy -> model -> libnftnl
 * objects -> netlink messages -> parsed back the way a kernel dump is
 * parsed -> compared structurally; the nft-syntax rendering against
 * golden files; policy errors with file and line; and the comparison
 * reporting each kind of drift with its item id.  The real kernel is
 * exercised in tests/netns/firewall-*.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "testutil.h"
#include "errors.h"
#include "firewall.h"
#include "layers.h"
#include "policy.h"

#ifndef FW_GOLDEN_DIR
#error FW_GOLDEN_DIR must name tests/unit/golden
#endif

struct fixture {
	char *dir;
	struct policy *policy;
	struct policy_errors errs;
	struct fw_config cfg;
	bool loaded;
	struct findings out;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->loaded)
		fw_config_free(&f->cfg);
	findings_free(&f->out);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Load the shipped default policy, then `extra` as a second file. */
static int load(struct fixture *f, const char *extra)
{
	char shipped[] = FW_GOLDEN_DIR "/../../../policies/policy.d/30-firewall.conf";
	char path[4096];
	char *files[2] = { shipped, path };
	int ret;

	snprintf(path, sizeof(path), "%s/40-test.conf", f->dir);
	tu_write(f->dir, "40-test.conf", extra ? extra : "");
	ret = policy_load_files(&f->policy, files, 2, &f->errs);
	if (ret < 0)
		return ret;
	ret = fw_config_load(&f->cfg, NULL, f->policy, &f->errs);
	f->loaded = ret == 0;
	return ret;
}

/*
 * As the agent loads it: the core's checks of sections and keys, then
 * the layer's own.  Returns as layer_load().
 */
static int load_layer(struct fixture *f, const char *extra)
{
	char shipped[] = FW_GOLDEN_DIR "/../../../policies/policy.d/30-firewall.conf";
	struct jefe_env env = { .root = "/", .root_fd = -1, .policy_dir = TU_POLICY_DIR };
	char path[4096];
	char *files[2] = { shipped, path };
	void *state = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/40-test.conf", f->dir);
	tu_write(f->dir, "40-test.conf", extra);
	ret = policy_load_files(&f->policy, files, 2, &f->errs);
	if (ret < 0)
		return ret;
	ret = layer_policy_check_sections(f->policy, &f->errs);
	if (ret < 0)
		return ret;
	ret = layer_load(&layer_firewall_ops, &state, &env, f->policy, &f->errs);
	if (state)
		layer_firewall_ops.free(state);
	return ret;
}

static bool has_error(const struct fixture *f, const char *needle)
{
	return tu_error_contains(&f->errs, needle);
}

static char *render(const struct fw_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&text, &len);

	assert_non_null(mf);
	assert_int_equal(fw_render(cfg, mf), 0);
	fclose(mf);
	return text;
}

static void golden(const char *name, const char *text)
{
	char path[4096], *want;
	FILE *fp;
	long len;

	snprintf(path, sizeof(path), "%s/%s", FW_GOLDEN_DIR, name);
	if (getenv("FW_GOLDEN_UPDATE")) {
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(text, fp);
		fclose(fp);
	}
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot read golden file %s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	want = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(want, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	if (strcmp(want, text) != 0)
		print_message("rendered:\n%s\ngolden %s:\n%s\n", text, path, want);
	assert_string_equal(text, want);
	free(want);
}

static const char services[] =
	"[firewall]\n"
	"log = yes\n"
	"[firewall.service.web]\n"
	"ports = 80, 443, 8000-8080\n"
	"proto = tcp\n"
	"rate = 100/second burst 200\n"
	"sources = 10.0.0.0/8, 192.168.1.0/24, 192.168.0.0/24, 10.1.0.0/16, 2001:db8::/32, 203.0.113.7\n"
	"[firewall.service.dns]\n"
	"ports = 53\n"
	"proto = udp,tcp\n";

static void test_default_golden(void **state)
{
	struct fixture *f = *state;
	char *text;

	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->errs.n, 0);
	text = render(&f->cfg);
	golden("firewall-default.nft", text);
	free(text);
	assert_int_equal(f->cfg.chains[FW_CHAIN_INPUT].policy, NF_DROP);
	assert_int_equal(f->cfg.chains[FW_CHAIN_FORWARD].policy, NF_DROP);
	assert_int_equal(f->cfg.chains[FW_CHAIN_OUTPUT].policy, NF_ACCEPT);
}

static void test_services_golden(void **state)
{
	struct fixture *f = *state;
	char *text;

	assert_int_equal(load(f, services), 0);
	text = render(&f->cfg);
	golden("firewall-services.nft", text);
	/* overlapping and adjacent sources merged: 10.1/16 is inside 10/8,
	 * 192.168.0/24 + 192.168.1/24 is 192.168.0.0/23 */
	assert_non_null(strstr(text, "elements = { 10.0.0.0/8, 192.168.0.0/23, 203.0.113.7 }"));
	assert_non_null(strstr(text, "ip6 saddr @web_v6 tcp dport 8000-8080 ct state new limit rate 100/second burst 200 packets accept"));
	assert_non_null(strstr(text, "limit rate 5/minute log prefix \"jefe-drop: \""));
	free(text);
}

static void test_policy_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_layer(f,
		"[firewall]\n"
		"input_policy = reject\n"			/* 2 */
		"icmpv6_types = nd-neighbor-solicit, nd-bogus\n"	/* 3 */
		"ssh_rate = 3/fortnight\n"			/* 4 */
		"colour = blue\n"				/* 5 */
		"mode = report\n"				/* 6: the core's key */
		"[firewall.service.web]\n"
		"ports = 80, 70000\n"				/* 8 */
		"sources = 10.0.0.1/8, 10.0.0.0/33, fe80::zz\n"	/* 9 */
		"proto = sctp\n"				/* 10 */
		"[firewall.service.noports]\n"
		"proto = tcp\n"					/* 12 */
		"[firewall.other]\n"				/* 13 */
		"x = 1\n"),
		-JEFE_EPOLICY);

	assert_true(has_error(f, "40-test.conf line 2: input_policy: \"reject\" is not a chain policy"));
	assert_true(has_error(f, "line 3: icmpv6_types: unknown ICMPv6 type \"nd-bogus\""));
	assert_true(has_error(f, "line 4: ssh_rate: bad rate \"3/fortnight\""));
	assert_true(has_error(f, "line 5: unknown key 'colour' in [firewall]"));
	assert_true(has_error(f, "line 8: ports: bad port \"70000\""));
	assert_true(has_error(f, "line 9: sources: bad CIDR \"10.0.0.1/8\": host bits set"));
	assert_true(has_error(f, "line 9: sources: bad CIDR \"10.0.0.0/33\": bad prefix length"));
	assert_true(has_error(f, "line 9: sources: bad CIDR \"fe80::zz\": not an IPv4 or IPv6 address"));
	assert_true(has_error(f, "line 10: proto: \"sctp\" is not tcp, udp or tcp,udp"));
	assert_true(has_error(f, "line 12: [firewall.service.noports] has no \"ports\" key"));
	assert_true(has_error(f, "line 13: unknown section [firewall.other]"));
	assert_int_equal(f->errs.n, 11);
}

/* Serialize like a batch message, parse back like a dump reply. */
static struct nftnl_rule *rule_roundtrip(struct nftnl_rule *r)
{
	char buf[8192];
	struct nlmsghdr *nlh;
	struct nftnl_rule *back = nftnl_rule_alloc();

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET,
				    NLM_F_CREATE, 7);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	assert_true(nlh->nlmsg_len > 64);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, back), 0);
	return back;
}

/*
 * libnftnl numbers the nests of the elements it builds 1, 2, 3...; the
 * kernel ignores the nest type on input and dumps every element as
 * NFTA_LIST_ELEM, which is what libnftnl's parser insists on.  Make the
 * message look like a dump.
 */
static void elems_as_dumped(struct nlmsghdr *nlh)
{
	struct nlattr *a, *el;
	size_t n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			el->nla_type = (uint16_t)((el->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
			n++;
		}
	}
	assert_true(n > 0);
}

static void test_netlink_roundtrip(void **state)
{
	struct fixture *f = *state;
	const struct fw_chain *in;
	size_t n_expr_total = 0;

	assert_int_equal(load(f, services), 0);
	in = &f->cfg.chains[FW_CHAIN_INPUT];
	assert_true(in->n_rules > 20);
	for (size_t i = 0; i < in->n_rules; i++) {
		struct nftnl_rule *r = fw_rule_build(in, &in->rules[i]);
		struct nftnl_rule *back = rule_roundtrip(r);
		struct fw_rule changed = in->rules[i];
		struct nftnl_rule *other;
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(back);

		while (nftnl_expr_iter_next(it))
			n_expr_total++;
		nftnl_expr_iter_destroy(it);
		assert_string_equal(nftnl_rule_get_str(back, NFTNL_RULE_CHAIN), "input");
		assert_string_equal(nftnl_rule_get_str(back, NFTNL_RULE_TABLE), FW_TABLE);
		assert_true(fw_rule_equal(r, back));
		/* and back into the model: the same rule in nft syntax */
		{
			struct fw_rule dec;
			char t1[512], t2[512];

			assert_int_equal(fw_rule_decompile(back, &dec), 0);
			fw_rule_render(&in->rules[i], t1, sizeof(t1));
			fw_rule_render(&dec, t2, sizeof(t2));
			assert_string_equal(t1, t2);
		}
		/* and one changed field is a different rule */
		changed.verdict = changed.verdict == NF_ACCEPT ? NF_DROP : NF_ACCEPT;
		other = fw_rule_build(in, &changed);
		assert_false(fw_rule_equal(other, back));
		nftnl_rule_free(other);
		if (in->rules[i].has_limit) {
			changed = in->rules[i];
			changed.limit.burst++;
			other = fw_rule_build(in, &changed);
			assert_false(fw_rule_equal(other, back));
			nftnl_rule_free(other);
		}
		nftnl_rule_free(r);
		nftnl_rule_free(back);
	}
	assert_true(n_expr_total > in->n_rules * 3);

	/* chains keep hook, priority and policy */
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		char buf[8192];
		struct nftnl_chain *ch = fw_chain_build(&f->cfg.chains[c]);
		struct nftnl_chain *back = nftnl_chain_alloc();
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN,
							     NFPROTO_INET, 0, 1);

		nftnl_chain_nlmsg_build_payload(nlh, ch);
		assert_int_equal(nftnl_chain_nlmsg_parse(nlh, back), 0);
		assert_string_equal(nftnl_chain_get_str(back, NFTNL_CHAIN_NAME),
				    f->cfg.chains[c].name);
		assert_int_equal(nftnl_chain_get_u32(back, NFTNL_CHAIN_POLICY),
				 f->cfg.chains[c].policy);
		assert_int_equal(nftnl_chain_get_u32(back, NFTNL_CHAIN_HOOKNUM),
				 f->cfg.chains[c].hooknum);
		nftnl_chain_free(ch);
		nftnl_chain_free(back);
	}

	/* set elements: ranges -> interval elements -> message -> ranges */
	assert_int_equal(f->cfg.n_sets, 2);
	for (size_t i = 0; i < f->cfg.n_sets; i++) {
		const struct fw_set *s = &f->cfg.sets[i];
		char buf[8192];
		struct nftnl_set *ns = fw_set_elems_build(s, 0, s->n_ranges, true);
		struct nftnl_set *back = nftnl_set_alloc();
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM,
							     NFPROTO_INET, 0, 1);
		struct fw_range *ranges;
		size_t n;

		nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		elems_as_dumped(nlh);
		assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, back), 0);
		assert_int_equal(fw_set_ranges_from_elems(back, s->family, &ranges, &n), 0);
		assert_int_equal(n, s->n_ranges);
		assert_memory_equal(ranges, s->ranges, n * sizeof(*ranges));
		free(ranges);
		nftnl_set_free(ns);
		nftnl_set_free(back);
	}
}

/* A set as a dump shows it: attributes and elements in one object. */
static struct nftnl_set *kernel_set(const struct fw_set *s)
{
	struct nftnl_set *ks = fw_set_elems_build(s, 0, s->n_ranges, true);
	struct nftnl_set *proto = fw_set_build(s, 1);

	nftnl_set_set_u32(ks, NFTNL_SET_KEY_TYPE, nftnl_set_get_u32(proto, NFTNL_SET_KEY_TYPE));
	nftnl_set_set_u32(ks, NFTNL_SET_KEY_LEN, nftnl_set_get_u32(proto, NFTNL_SET_KEY_LEN));
	nftnl_set_set_u32(ks, NFTNL_SET_FLAGS, nftnl_set_get_u32(proto, NFTNL_SET_FLAGS));
	nftnl_set_free(proto);
	return ks;
}

/* A fake dump made of the desired objects after a netlink round trip. */
static void kernel_from_cfg(const struct fw_config *cfg, struct fw_kernel *k)
{
	uint64_t handle = 2;

	memset(k, 0, sizeof(*k));
	k->table = true;
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		const struct fw_chain *ch = &cfg->chains[c];

		k->chains[k->n_chains++] = fw_chain_build(ch);
		for (size_t i = 0; i < ch->n_rules; i++) {
			struct nftnl_rule *r = fw_rule_build(ch, &ch->rules[i]);

			k->rules = realloc(k->rules, (k->n_rules + 1) * sizeof(*k->rules));
			k->rules[k->n_rules] = rule_roundtrip(r);
			nftnl_rule_set_u64(k->rules[k->n_rules], NFTNL_RULE_HANDLE, handle++);
			k->n_rules++;
			nftnl_rule_free(r);
		}
	}
	for (size_t i = 0; i < cfg->n_sets; i++)
		k->sets[k->n_sets++] = kernel_set(&cfg->sets[i]);
}

static const struct finding *find(const struct findings *fs, const char *item)
{
	return tu_finding(fs, item);
}

static void test_compare(void **state)
{
	struct fixture *f = *state;
	struct fw_kernel k;
	struct nftnl_rule *extra;
	struct nftnl_expr *e;
	size_t victim;

	assert_int_equal(load(f, services), 0);

	/* the same state: no drift, one compliant finding per item */
	kernel_from_cfg(&f->cfg, &k);
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 0);
	assert_int_equal(find(&f->out, "table")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input rule 3")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain forward policy")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "set web_v4")->state, FINDING_COMPLIANT);
	assert_int_equal(findings_count(&f->out, FW_LAYER).drift, 0);
	findings_reset(&f->out);

	/* the 3rd rule (iif "lo" accept) deleted; a rule appended; a policy
	 * changed; a set element removed and another added */
	victim = 2;
	nftnl_rule_free(k.rules[victim]);
	memmove(&k.rules[victim], &k.rules[victim + 1],
		(k.n_rules - victim - 1) * sizeof(*k.rules));
	extra = nftnl_rule_alloc();
	nftnl_rule_set_str(extra, NFTNL_RULE_TABLE, FW_TABLE);
	nftnl_rule_set_str(extra, NFTNL_RULE_CHAIN, "input");
	nftnl_rule_set_u64(extra, NFTNL_RULE_HANDLE, 99);
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	nftnl_rule_add_expr(extra, e);
	k.rules[k.n_rules - 1] = extra;
	nftnl_chain_set_u32(k.chains[FW_CHAIN_OUTPUT], NFTNL_CHAIN_POLICY, NF_DROP);
	{
		/* web_v4 minus 203.0.113.7, plus 172.16.0.0/12 */
		struct fw_set s = f->cfg.sets[0];
		struct fw_range r[3];
		const char *why;
		uint8_t fam;

		assert_string_equal(s.name, "web_v4");
		memcpy(r, s.ranges, 2 * sizeof(r[0]));
		r[2] = r[1];
		assert_int_equal(fw_cidr_parse("172.16.0.0/12", &fam, &r[1], &why), 0);
		s.ranges = r;
		s.n_ranges = 3;
		nftnl_set_free(k.sets[0]);
		k.sets[0] = kernel_set(&s);
	}
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 5);
	assert_int_equal(find(&f->out, "set web_v4")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input rule 3")->state, FINDING_DRIFT);
	assert_string_equal(find(&f->out, "chain input rule 3")->expected, "iif \"lo\" accept");
	assert_string_equal(find(&f->out, "chain input rule 3")->actual, "missing");
	/* only that rule: the ones after it still match */
	assert_int_equal(find(&f->out, "chain input rule 4")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input unexpected rule handle 99")->state, FINDING_DRIFT);
	assert_string_equal(find(&f->out, "chain input unexpected rule handle 99")->actual, "accept");
	assert_int_equal(find(&f->out, "chain output policy")->state, FINDING_DRIFT);
	assert_string_equal(find(&f->out, "chain output policy")->actual, "drop");
	assert_int_equal(find(&f->out, "set web_v4 element 203.0.113.7")->state, FINDING_DRIFT);
	assert_int_equal(find(&f->out, "set web_v4 element 172.16.0.0/12")->state, FINDING_DRIFT);
	assert_string_equal(find(&f->out, "set web_v4 element 172.16.0.0/12")->expected, "absent");
	fw_kernel_free(&k);
	findings_reset(&f->out);

	/* no table at all: one item */
	memset(&k, 0, sizeof(k));
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 1);
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.v[0].item, "table");
	assert_string_equal(f->out.v[0].actual, "missing");
}

/* A chain through a NEWCHAIN message and back, as a dump would give it. */
static struct nftnl_chain *chain_roundtrip(struct nftnl_chain *c)
{
	char buf[8192];
	struct nftnl_chain *back = nftnl_chain_alloc();
	uint16_t family = nftnl_chain_is_set(c, NFTNL_CHAIN_FAMILY) ?
			  (uint16_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) : NFPROTO_INET;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, family, 0, 1);

	nftnl_chain_nlmsg_build_payload(nlh, c);
	assert_int_equal(nftnl_chain_nlmsg_parse(nlh, back), 0);
	nftnl_chain_free(c);
	return back;
}

/* A table's flags through a NEWTABLE message and back. */
static uint32_t table_flags_roundtrip(uint32_t flags)
{
	char buf[1024];
	struct nftnl_table *t = fw_table_build(), *back = nftnl_table_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWTABLE, NFPROTO_INET, 0, 1);
	uint32_t got;

	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	assert_int_equal(nftnl_table_nlmsg_parse(nlh, back), 0);
	got = nftnl_table_get_u32(back, NFTNL_TABLE_FLAGS);
	nftnl_table_free(t);
	nftnl_table_free(back);
	return got;
}

static struct nftnl_chain *kernel_chain(const struct fw_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(k->chains[i], NFTNL_CHAIN_NAME), name) == 0)
			return k->chains[i];
	fail_msg("no chain %s", name);
	return NULL;
}

static size_t count_prefix(const struct findings *fs, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->n; i++)
		n += strncmp(fs->v[i].item, prefix, strlen(prefix)) == 0;
	return n;
}

/*
 * Every attribute the kernel reports is compared, each under its own item:
 * table flags (dormant), a chain's type, hook, priority, device and flags,
 * a set's flags and timeout, objects and chains nobody asked for.
 */
static void test_compare_attributes(void **state)
{
	struct fixture *f = *state;
	struct fw_kernel k;
	struct nftnl_chain *c;
	struct nftnl_set *ks;
	const struct finding *x;

	assert_int_equal(load(f, services), 0);
	kernel_from_cfg(&f->cfg, &k);
	for (size_t i = 0; i < k.n_chains; i++) {
		/* the kernel marks base chains NFT_CHAIN_BASE: not a drift */
		nftnl_chain_set_u32(k.chains[i], NFTNL_CHAIN_FLAGS, NFT_CHAIN_BASE);
		k.chains[i] = chain_roundtrip(k.chains[i]);
	}
	k.table_flags = table_flags_roundtrip(0);
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 0);
	assert_string_equal(find(&f->out, "table flags")->actual, "none");
	assert_int_equal(find(&f->out, "chain input hook")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input priority")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input device")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain input flags")->state, FINDING_COMPLIANT);
	assert_string_equal(find(&f->out, "chain input")->actual, "base chain type filter");
	findings_reset(&f->out);

	k.table_flags = table_flags_roundtrip(NFT_TABLE_F_DORMANT);
	assert_int_equal(k.table_flags, NFT_TABLE_F_DORMANT);
	c = kernel_chain(&k, "input");
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 10);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	c = kernel_chain(&k, "forward");
	nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, "lo");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FLAGS, NFT_CHAIN_BASE | NFT_CHAIN_HW_OFFLOAD);
	c = kernel_chain(&k, "output");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "route");
	for (size_t i = 0; i < k.n_chains; i++)
		k.chains[i] = chain_roundtrip(k.chains[i]);
	/* web_v6 made again with a timeout: its elements would expire */
	ks = k.sets[1];
	assert_string_equal(nftnl_set_get_str(ks, NFTNL_SET_NAME), "web_v6");
	nftnl_set_set_u32(ks, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
	nftnl_set_set_u64(ks, NFTNL_SET_TIMEOUT, 60000);
	/* a chain, a set and a counter object nobody asked for */
	c = fw_chain_build(&f->cfg.chains[FW_CHAIN_INPUT]);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "sneaky");
	nftnl_chain_unset(c, NFTNL_CHAIN_HOOKNUM);
	k.chains[k.n_chains++] = c;
	snprintf(k.extra_objs[k.n_extra_objs++], sizeof(k.extra_objs[0]), "object c1");

	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 9);
	x = find(&f->out, "table flags");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->expected, "none");
	assert_string_equal(x->actual, "dormant");
	assert_string_equal(find(&f->out, "chain input priority")->actual, "10");
	assert_string_equal(find(&f->out, "chain input hook")->expected, "input");
	assert_string_equal(find(&f->out, "chain input hook")->actual, "forward");
	assert_int_equal(find(&f->out, "chain input policy")->state, FINDING_COMPLIANT);
	assert_string_equal(find(&f->out, "chain forward device")->actual, "lo");
	assert_string_equal(find(&f->out, "chain forward flags")->actual, "offload");
	assert_string_equal(find(&f->out, "chain output")->actual, "base chain type route");
	x = find(&f->out, "set web_v6");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->expected, "type ipv6_addr len 16 flags interval");
	assert_string_equal(x->actual,
			    "type ipv6_addr len 16 flags interval,timeout timeout 60000ms");
	assert_int_equal(find(&f->out, "set web_v4")->state, FINDING_COMPLIANT);
	assert_int_equal(find(&f->out, "chain sneaky")->state, FINDING_DRIFT);
	assert_int_equal(find(&f->out, "object c1")->state, FINDING_DRIFT);
	fw_kernel_free(&k);
}

static void reload(struct fixture *f, const char *extra, int want)
{
	if (f->loaded)
		fw_config_free(&f->cfg);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	f->policy = NULL;
	f->loaded = false;
	assert_int_equal(load(f, extra), want);
}

/* Another table's base chain in the dump. */
static void add_foreign(struct fw_kernel *k, uint32_t family, const char *table,
			const char *name, const char *type, uint32_t hook, int32_t prio,
			const char *dev)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if (dev)
		nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev);
	k->foreign = realloc(k->foreign, (k->n_foreign + 1) * sizeof(*k->foreign));
	k->foreign[k->n_foreign++] = chain_roundtrip(c);
}

/*
 * Other tables' base chains: drift items "foreign:FAMILY TABLE/CHAIN" that
 * do not count as repairable drift; foreign_allow by name or by family
 * and name; foreign = ignore.
 */
static void test_compare_foreign(void **state)
{
	struct fixture *f = *state;
	struct fw_kernel k;
	const struct finding *x;

	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->cfg.foreign, FW_FOREIGN_REPORT);
	assert_int_equal(f->cfg.n_foreign_allow, 0);
	kernel_from_cfg(&f->cfg, &k);
	add_foreign(&k, NFPROTO_IPV4, "nat", "prerouting", "nat", NF_INET_PRE_ROUTING, -100, NULL);
	add_foreign(&k, NFPROTO_NETDEV, "edge", "in", "filter", 0, 0, "lo");
	add_foreign(&k, NFPROTO_INET, "filter", "input", "filter", NF_INET_LOCAL_IN, 0, NULL);
	k.foreign_tables = calloc(1, sizeof(*k.foreign_tables));
	k.foreign_tables[0] = (struct fw_foreign_table){ NFPROTO_INET, "filter", NFT_TABLE_F_DORMANT };
	k.n_foreign_tables = 1;

	/* our table is compliant: 0 to repair, 3 foreign drift findings */
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 0);
	assert_int_equal(count_prefix(&f->out, "foreign:"), 3);
	assert_int_equal(findings_count(&f->out, FW_LAYER).drift, 3);
	x = find(&f->out, "foreign:ip nat/prerouting");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_true(fw_item_is_foreign(x->item));
	assert_false(fw_item_is_foreign("chain input"));
	assert_string_equal(x->actual, "type nat hook prerouting priority -100 policy accept");
	assert_string_equal(find(&f->out, "foreign:netdev edge/in")->actual,
			    "type filter hook ingress device lo priority 0 policy accept");
	assert_string_equal(find(&f->out, "foreign:inet filter/input")->actual,
			    "type filter hook input priority 0 policy accept (table dormant)");
	findings_reset(&f->out);

	/* "nat" in any family, "inet filter" only in inet */
	reload(f, "[firewall]\nforeign_allow = nat, inet filter, ip edge\n", 0);
	assert_int_equal(f->cfg.n_foreign_allow, 3);
	assert_int_equal(f->cfg.foreign_allow[0].family, NFPROTO_UNSPEC);
	assert_string_equal(f->cfg.foreign_allow[1].name, "filter");
	assert_int_equal(f->cfg.foreign_allow[1].family, NFPROTO_INET);
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 0);
	assert_int_equal(count_prefix(&f->out, "foreign:"), 1);
	assert_int_equal(find(&f->out, "foreign:netdev edge/in")->state, FINDING_DRIFT);
	findings_reset(&f->out);

	reload(f, "[firewall]\nforeign = ignore\n", 0);
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 0);
	assert_int_equal(count_prefix(&f->out, "foreign:"), 0);
	findings_reset(&f->out);

	/* with our table missing, the foreign chains are still reported
	 * (foreign = report) and still not counted */
	reload(f, NULL, 0);
	k.table = false;
	assert_int_equal(fw_compare(&f->cfg, &k, &f->out), 1);
	assert_int_equal(count_prefix(&f->out, "foreign:"), 3);
	fw_kernel_free(&k);
}

static void test_foreign_errors(void **state)
{
	struct fixture *f = *state;

	reload(f, "[firewall]\n"
		  "foreign = sometimes\n"			/* 2 */
		  "foreign_allow = ip nat, ipx filter\n",	/* 3 */
	       -JEFE_EPOLICY);
	assert_true(has_error(f, "line 2: foreign: \"sometimes\" is not report or ignore"));
	assert_true(has_error(f, "line 3: foreign_allow: unknown family \"ipx\""));
	assert_int_equal(f->errs.n, 2);
	reload(f, "[firewall]\nforeign_allow = inet a b\n", -JEFE_EPOLICY);
	assert_true(has_error(f, "line 2: foreign_allow: \"inet a b\" is not a table"));
	reload(f, "[firewall]\nforeign_allow = ip nat/x\n", -JEFE_EPOLICY);
	assert_true(has_error(f, "line 2: foreign_allow: bad table name \"nat/x\""));
	/* empty: nothing allowed */
	reload(f, "[firewall]\nforeign_allow =\n", 0);
	assert_int_equal(f->cfg.n_foreign_allow, 0);
}

static void test_ranges(void **state)
{
	struct fw_set s = { .family = NFPROTO_IPV6 };
	struct fw_range r;
	char text[128];
	const char *why;
	uint8_t fam;

	(void)state;
	assert_int_equal(fw_cidr_parse("2001:db8::/32", &fam, &r, &why), 0);
	assert_int_equal(fam, NFPROTO_IPV6);
	fw_range_render(&r, fam, text, sizeof(text));
	assert_string_equal(text, "2001:db8::/32");
	s.ranges = &r;
	s.n_ranges = 1;
	/* ::/0 has no end element (the range runs to the last address) */
	assert_int_equal(fw_cidr_parse("::/0", &fam, &r, &why), 0);
	{
		struct nftnl_set *e = fw_set_elems_build(&s, 0, 1, true);
		struct fw_range *back;
		size_t n;

		assert_int_equal(fw_set_ranges_from_elems(e, NFPROTO_IPV6, &back, &n), 0);
		assert_int_equal(n, 1);
		fw_range_render(&back[0], NFPROTO_IPV6, text, sizeof(text));
		assert_string_equal(text, "::/0");
		free(back);
		nftnl_set_free(e);
	}
	/* a range that is not a prefix renders as LOW-HIGH */
	assert_int_equal(fw_cidr_parse("10.0.0.0/24", &fam, &r, &why), 0);
	r.hi[3] = 0x7f;
	r.lo[3] = 0x01;
	fw_range_render(&r, NFPROTO_IPV4, text, sizeof(text));
	assert_string_equal(text, "10.0.0.1-10.0.0.127");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netlink_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_errors, setup, teardown),
		cmocka_unit_test(test_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
