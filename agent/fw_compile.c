/* SPDX-License-Identifier: MIT */
/*
 * The firewall's desired state: policy -> model (fw_config), model ->
 * libnftnl objects, model -> nft syntax, and the structural comparison of
 * a kernel dump with the model.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "errors.h"
#include "firewall.h"
#include "util.h"

/* ct state bits as nf_conntrack_common.h defines them (NF_CT_STATE_BIT). */
#define FW_CT_INVALID		0x01u
#define FW_CT_ESTABLISHED	0x02u
#define FW_CT_RELATED		0x04u
#define FW_CT_NEW		0x08u
#define FW_CT_UNTRACKED		0x40u

/* nft's datatypes for set keys (src/datatype.h TYPE_IPADDR, TYPE_IP6ADDR). */
#define FW_TYPE_IPADDR		7
#define FW_TYPE_IP6ADDR		8

/* The loopback device is ifindex 1 in every network namespace (LOOPBACK_IFINDEX). */
#define FW_LO_IFINDEX		1

struct fw_name {
	const char *name;
	int value;
};

static const struct fw_name fw_icmp_types[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 },
	{ "source-quench", 4 }, { "redirect", 5 }, { "echo-request", 8 },
	{ "router-advertisement", 9 }, { "router-solicitation", 10 },
	{ "time-exceeded", 11 }, { "parameter-problem", 12 },
	{ "timestamp-request", 13 }, { "timestamp-reply", 14 },
	{ "info-request", 15 }, { "info-reply", 16 },
	{ "address-mask-request", 17 }, { "address-mask-reply", 18 },
};

static const struct fw_name fw_icmpv6_types[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 },
	{ "time-exceeded", 3 }, { "parameter-problem", 4 },
	{ "echo-request", 128 }, { "echo-reply", 129 },
	{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 }, { "nd-router-solicit", 133 },
	{ "nd-router-advert", 134 }, { "nd-neighbor-solicit", 135 },
	{ "nd-neighbor-advert", 136 }, { "nd-redirect", 137 },
	{ "router-renumbering", 138 }, { "ind-neighbor-solicit", 141 },
	{ "ind-neighbor-advert", 142 }, { "mld2-listener-report", 143 },
};

static const struct fw_name fw_rate_units[] = {
	{ "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 },
};

static const char *fw_name_of(const struct fw_name *t, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

static int fw_value_of(const struct fw_name *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

/* ---- the policy ---- */

struct fw_service {
	char name[FW_NAME_MAX];
	const struct policy_entry *where;
	uint16_t ports[64][2];
	size_t n_ports;
	bool tcp, udp;
	bool has_rate;
	struct fw_rate rate;
	struct fw_set v4, v6;
};

static int fw_parse_verdict(const struct policy_entry *e, uint32_t *out,
			    struct policy_errors *errs)
{
	if (strcmp(e->value, "drop") == 0)
		*out = NF_DROP;
	else if (strcmp(e->value, "accept") == 0)
		*out = NF_ACCEPT;
	else
		return policy_error_at(errs, e,
				       "%s: \"%s\" is not a chain policy (accept or drop)",
				       e->key, e->value) ?: -EINVAL;
	return 0;
}

/* "3/minute" or "10/second burst 20". */
static int fw_parse_rate(const struct policy_entry *e, struct fw_rate *out,
			 struct policy_errors *errs)
{
	char unit[16], word[16];
	unsigned long rate, burst = 0;
	int n = 0, u;

	if (sscanf(e->value, "%lu/%15[a-z] %n", &rate, unit, &n) < 2 || n == 0)
		goto bad;
	if (e->value[n] != '\0') {
		int m = 0;

		if (sscanf(e->value + n, "%15s %lu %n", word, &burst, &m) < 2 ||
		    strcmp(word, "burst") != 0 || e->value[n + m] != '\0')
			goto bad;
		if (burst == 0 || burst > 1000000)
			goto bad;
	}
	u = fw_value_of(fw_rate_units, ARRAY_SIZE(fw_rate_units), unit);
	if (u < 0 || rate == 0 || rate > 1000000)
		goto bad;
	out->rate = rate;
	out->unit = (uint64_t)u;
	/* The default burst is the rate itself, so "3/minute" lets exactly
	 * three new connections through in a minute and drops the fourth
	 * (the kernel's own default burst, 5, would let five through). */
	out->burst = burst ? (uint32_t)burst : (uint32_t)rate;
	return 0;
bad:
	policy_error_at(errs, e,
			"%s: bad rate \"%s\" (N/second|minute|hour|day [burst M], N and M 1..1000000)",
			e->key, e->value);
	return -EINVAL;
}

static int fw_parse_icmp_list(const struct policy_entry *e, bool v6, int *out,
			      size_t max, size_t *n, struct policy_errors *errs)
{
	struct strv sv = { 0 };
	int ret;

	ret = strv_split(&sv, e->value, ", \t");
	if (ret < 0)
		return ret;
	*n = 0;
	for (size_t i = 0; i < sv.n; i++) {
		int t = v6 ? fw_value_of(fw_icmpv6_types, ARRAY_SIZE(fw_icmpv6_types), sv.v[i]) :
			     fw_value_of(fw_icmp_types, ARRAY_SIZE(fw_icmp_types), sv.v[i]);
		if (t < 0) {
			policy_error_at(errs, e, "%s: unknown %s type \"%s\"", e->key,
					v6 ? "ICMPv6" : "ICMP", sv.v[i]);
			ret = -EINVAL;
			continue;
		}
		if (*n >= max) {
			policy_error_at(errs, e, "%s: more than %zu types", e->key, max);
			ret = -EINVAL;
			break;
		}
		out[(*n)++] = t;
	}
	strv_free(&sv);
	return ret < 0 ? ret : 0;
}

static int fw_parse_prefix(const struct policy_entry *e, char *out,
			   struct policy_errors *errs)
{
	size_t len = strlen(e->value);

	/* nft prints the prefix between double quotes: keep it printable. */
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)e->value[i]) || e->value[i] == '"' ||
		    e->value[i] == '\\')
			goto bad;
	if (len == 0 || len >= FW_LOG_PREFIX_MAX - 1)
		goto bad;
	memcpy(out, e->value, len + 1);
	return 0;
bad:
	policy_error_at(errs, e,
			"%s: the log prefix must be 1..%d printable characters without quotes or backslashes",
			e->key, FW_LOG_PREFIX_MAX - 2);
	return -EINVAL;
}

/* foreign = report | ignore */
static int fw_parse_foreign(const struct policy_entry *e, enum fw_foreign_mode *out,
			    struct policy_errors *errs)
{
	if (strcmp(e->value, "report") == 0)
		*out = FW_FOREIGN_REPORT;
	else if (strcmp(e->value, "ignore") == 0)
		*out = FW_FOREIGN_IGNORE;
	else
		return policy_error_at(errs, e, "%s: \"%s\" is not report or ignore",
				       e->key, e->value) ?: -EINVAL;
	return 0;
}

static bool fw_table_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= FW_TABLE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

/*
 * foreign_allow = ip nat, ip filter, libvirt_network
 * Comma-separated tables, each "FAMILY NAME" or "NAME" (any family).
 */
static int fw_parse_tables(const struct policy_entry *e, struct fw_table_ref *out,
			   size_t max, size_t *n, struct policy_errors *errs)
{
	static const struct fw_name families[] = {
		{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 }, { "inet", NFPROTO_INET },
		{ "arp", NFPROTO_ARP }, { "bridge", NFPROTO_BRIDGE },
		{ "netdev", NFPROTO_NETDEV },
	};
	struct strv items = { 0 };
	int ret;

	ret = strv_split(&items, e->value, ",");
	if (ret < 0)
		return ret;
	*n = 0;
	for (size_t i = 0; i < items.n && ret == 0; i++) {
		struct strv words = { 0 };
		int fam = NFPROTO_UNSPEC;
		const char *name;

		ret = strv_split(&words, items.v[i], " \t");
		if (ret < 0)
			break;
		if (words.n == 2)
			fam = fw_value_of(families, ARRAY_SIZE(families), words.v[0]);
		name = words.n ? words.v[words.n - 1] : "";
		if (words.n == 0 || words.n > 2) {
			policy_error_at(errs, e, "%s: \"%s\" is not a table (NAME or FAMILY NAME)",
					e->key, items.v[i]);
			ret = -EINVAL;
		} else if (fam < 0) {
			policy_error_at(errs, e,
					"%s: unknown family \"%s\" (ip, ip6, inet, arp, bridge, netdev)",
					e->key, words.v[0]);
			ret = -EINVAL;
		} else if (!fw_table_name_ok(name)) {
			policy_error_at(errs, e,
					"%s: bad table name \"%s\" (1..%d of A-Z a-z 0-9 _ - .)",
					e->key, name, FW_TABLE_NAME_MAX - 1);
			ret = -EINVAL;
		} else if (*n == max) {
			policy_error_at(errs, e, "%s: more than %zu tables", e->key, max);
			ret = -EINVAL;
		} else {
			out[*n].family = (uint8_t)fam;
			snprintf(out[*n].name, sizeof(out[*n].name), "%s", name);
			(*n)++;
		}
		strv_free(&words);
	}
	strv_free(&items);
	return ret;
}

static int fw_parse_bool(const struct policy_entry *e, bool *out,
			 struct policy_errors *errs)
{
	return policy_parse_bool(e, out, errs);
}

static int fw_parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int fw_parse_ports(const struct policy_entry *e, struct fw_service *svc,
			  struct policy_errors *errs)
{
	struct strv sv = { 0 };
	int ret;

	ret = strv_split(&sv, e->value, ", \t");
	if (ret < 0)
		return ret;
	svc->n_ports = 0;
	if (sv.n == 0) {
		policy_error_at(errs, e, "ports: empty list");
		ret = -EINVAL;
	}
	for (size_t i = 0; i < sv.n; i++) {
		char *dash = strchr(sv.v[i], '-');
		uint16_t lo, hi;

		if (dash)
			*dash = '\0';
		if (fw_parse_port(sv.v[i], &lo) < 0 ||
		    fw_parse_port(dash ? dash + 1 : sv.v[i], &hi) < 0 ||
		    hi < lo) {
			if (dash)
				*dash = '-';
			policy_error_at(errs, e,
					"ports: bad port \"%s\" (1..65535, or a range LOW-HIGH)",
					sv.v[i]);
			ret = -EINVAL;
			continue;
		}
		if (svc->n_ports >= ARRAY_SIZE(svc->ports)) {
			policy_error_at(errs, e, "ports: more than %zu ports or ranges",
					ARRAY_SIZE(svc->ports));
			ret = -EINVAL;
			break;
		}
		svc->ports[svc->n_ports][0] = lo;
		svc->ports[svc->n_ports][1] = hi;
		svc->n_ports++;
	}
	strv_free(&sv);
	return ret < 0 ? ret : 0;
}

static int fw_set_push(struct fw_set *s, const struct fw_range *r)
{
	struct fw_range *v = array_grow(s->ranges, s->n_ranges, &s->cap_ranges, sizeof(*s->ranges));

	if (!v)
		return -ENOMEM;
	s->ranges = v;
	s->ranges[s->n_ranges++] = *r;
	return 0;
}

static size_t fw_addr_len(uint8_t family)
{
	return family == NFPROTO_IPV4 ? 4 : 16;
}

static int fw_range_cmp_v4(const void *a, const void *b)
{
	return memcmp(((const struct fw_range *)a)->lo,
		      ((const struct fw_range *)b)->lo, 4);
}

static int fw_range_cmp_v6(const void *a, const void *b)
{
	return memcmp(((const struct fw_range *)a)->lo,
		      ((const struct fw_range *)b)->lo, 16);
}

/* a + 1 == b, for big-endian numbers of len bytes. */
static bool fw_addr_next(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t t[16];

	memcpy(t, a, len);
	for (size_t i = len; i-- > 0;)
		if (++t[i] != 0)
			break;
	return memcmp(t, b, len) == 0 && memcmp(a, b, len) < 0;
}

/*
 * Sort and merge overlapping and adjacent ranges: the kernel refuses
 * overlapping intervals, and an adjacent pair would share a key between
 * the end of one and the start of the next.
 */
void fw_set_normalize(struct fw_set *s)
{
	size_t len = fw_addr_len(s->family), w = 0;

	if (s->n_ranges == 0)
		return;
	qsort(s->ranges, s->n_ranges, sizeof(*s->ranges),
	      len == 4 ? fw_range_cmp_v4 : fw_range_cmp_v6);
	for (size_t i = 1; i < s->n_ranges; i++) {
		struct fw_range *cur = &s->ranges[w];
		const struct fw_range *r = &s->ranges[i];

		if (memcmp(r->lo, cur->hi, len) <= 0 ||
		    fw_addr_next(cur->hi, r->lo, len)) {
			if (memcmp(r->hi, cur->hi, len) > 0)
				memcpy(cur->hi, r->hi, len);
		} else {
			s->ranges[++w] = *r;
		}
	}
	s->n_ranges = w + 1;
}

/* "10.0.0.0/8", "2001:db8::/32" or a bare address. */
int fw_cidr_parse(const char *s, uint8_t *family, struct fw_range *r,
			 const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long plen;
	size_t len;

	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, buf, r->lo) == 1) {
		*family = NFPROTO_IPV4;
	} else if (inet_pton(AF_INET6, buf, r->lo) == 1) {
		*family = NFPROTO_IPV6;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	len = fw_addr_len(*family);
	plen = len * 8;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || !isdigit((unsigned char)slash[1]) || *end != '\0' ||
		    plen > len * 8) {
			*why = "bad prefix length";
			return -EINVAL;
		}
	}
	memcpy(r->hi, r->lo, len);
	for (size_t bit = plen; bit < len * 8; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));

		if (r->lo[bit / 8] & m) {
			*why = "host bits set after the prefix";
			return -EINVAL;
		}
		r->hi[bit / 8] |= m;
	}
	return 0;
}

static int fw_parse_sources(const struct policy_entry *e, struct fw_service *svc,
			    struct policy_errors *errs)
{
	struct strv sv = { 0 };
	int ret;

	ret = strv_split(&sv, e->value, ", \t");
	if (ret < 0)
		return ret;
	if (sv.n == 0) {
		policy_error_at(errs, e, "sources: empty list");
		ret = -EINVAL;
	}
	for (size_t i = 0; i < sv.n; i++) {
		struct fw_range r;
		uint8_t fam;
		const char *why = NULL;
		int err;

		if (fw_cidr_parse(sv.v[i], &fam, &r, &why) < 0) {
			policy_error_at(errs, e, "sources: bad CIDR \"%s\": %s",
					sv.v[i], why);
			ret = -EINVAL;
			continue;
		}
		err = fw_set_push(fam == NFPROTO_IPV4 ? &svc->v4 : &svc->v6, &r);
		if (err < 0) {
			ret = err;
			break;
		}
	}
	strv_free(&sv);
	return ret < 0 ? ret : 0;
}

static int fw_parse_proto(const struct policy_entry *e, struct fw_service *svc,
			  struct policy_errors *errs)
{
	struct strv sv = { 0 };
	int ret;

	ret = strv_split(&sv, e->value, ", \t");
	if (ret < 0)
		return ret;
	svc->tcp = svc->udp = false;
	if (sv.n == 0)
		ret = -EINVAL;
	for (size_t i = 0; i < sv.n; i++) {
		if (strcmp(sv.v[i], "tcp") == 0)
			svc->tcp = true;
		else if (strcmp(sv.v[i], "udp") == 0)
			svc->udp = true;
		else
			ret = -EINVAL;
	}
	strv_free(&sv);
	if (ret == -EINVAL)
		policy_error_at(errs, e, "proto: \"%s\" is not tcp, udp or tcp,udp",
				e->value);
	return ret;
}

/* The keys of [firewall]: one line each, parsed by the core (policy.h). */
#define FW_OPT(o) ((struct fw_opts *)(o))
#define FW_FIELD(type, k, o) ((type *)((char *)(o) + (k)->offset))

static int fwk_verdict(const struct policy_key *k, const struct policy_entry *e, void *o,
		       struct policy_errors *errs)
{
	return fw_parse_verdict(e, FW_FIELD(uint32_t, k, o), errs);
}

static int fwk_bool(const struct policy_key *k, const struct policy_entry *e, void *o,
		    struct policy_errors *errs)
{
	return fw_parse_bool(e, FW_FIELD(bool, k, o), errs);
}

static int fwk_port(const struct policy_key *k, const struct policy_entry *e, void *o,
		    struct policy_errors *errs)
{
	int err = fw_parse_port(e->value, FW_FIELD(uint16_t, k, o));

	if (err < 0)
		policy_error_at(errs, e, "%s: bad port \"%s\" (1..65535)", e->key, e->value);
	return err;
}

static int fwk_rate(const struct policy_key *k, const struct policy_entry *e, void *o,
		    struct policy_errors *errs)
{
	return fw_parse_rate(e, FW_FIELD(struct fw_rate, k, o), errs);
}

static int fwk_icmp(const struct policy_key *k, const struct policy_entry *e, void *o,
		    struct policy_errors *errs)
{
	(void)k;
	return fw_parse_icmp_list(e, false, FW_OPT(o)->icmp, ARRAY_SIZE(FW_OPT(o)->icmp),
				  &FW_OPT(o)->n_icmp, errs);
}

static int fwk_icmpv6(const struct policy_key *k, const struct policy_entry *e, void *o,
		      struct policy_errors *errs)
{
	(void)k;
	return fw_parse_icmp_list(e, true, FW_OPT(o)->icmpv6, ARRAY_SIZE(FW_OPT(o)->icmpv6),
				  &FW_OPT(o)->n_icmpv6, errs);
}

static int fwk_prefix(const struct policy_key *k, const struct policy_entry *e, void *o,
		      struct policy_errors *errs)
{
	return fw_parse_prefix(e, FW_FIELD(char, k, o), errs);
}

static int fwk_foreign(const struct policy_key *k, const struct policy_entry *e, void *o,
		       struct policy_errors *errs)
{
	return fw_parse_foreign(e, FW_FIELD(enum fw_foreign_mode, k, o), errs);
}

static int fwk_tables(const struct policy_key *k, const struct policy_entry *e, void *o,
		      struct policy_errors *errs)
{
	(void)k;
	return fw_parse_tables(e, FW_OPT(o)->foreign_allow, FW_FOREIGN_ALLOW_MAX,
			       &FW_OPT(o)->n_foreign_allow, errs);
}

#define FO struct fw_opts
const struct policy_key fw_keys[] = {
	PK_CUSTOM("input_policy", FO, policy[FW_CHAIN_INPUT], fwk_verdict, "drop",
		  "verdict of incoming packets no rule accepts: accept or drop", ""),
	PK_CUSTOM("forward_policy", FO, policy[FW_CHAIN_FORWARD], fwk_verdict, "drop",
		  "verdict of forwarded packets: accept or drop", ""),
	PK_CUSTOM("output_policy", FO, policy[FW_CHAIN_OUTPUT], fwk_verdict, "accept",
		  "verdict of outgoing packets: accept or drop", ""),
	PK_CUSTOM("loopback", FO, loopback, fwk_bool, "yes", "accept everything on lo", ""),
	PK_CUSTOM("ssh", FO, ssh, fwk_bool, "yes",
		  "accept SSH on ssh_port, new connections rate-limited per source", ""),
	PK_CUSTOM("ssh_port", FO, ssh_port, fwk_port, "22", "the SSH port (1-65535)", ""),
	PK_CUSTOM("ssh_rate", FO, ssh_rate, fwk_rate, "3/minute",
		  "new SSH connections per source: N/second|minute|hour|day [burst M]", ""),
	PK_CUSTOM("echo", FO, echo, fwk_bool, "yes", "accept ping (echo-request), rate-limited", ""),
	PK_CUSTOM("echo_rate", FO, echo_rate, fwk_rate, "5/second",
		  "pings accepted: N/second|minute|hour|day [burst M]", ""),
	PK_CUSTOM("accept_ra", FO, accept_ra, fwk_bool, "yes",
		  "accept IPv6 router advertisements", ""),
	PK_CUSTOM("icmp_types", FO, icmp, fwk_icmp,
		  "destination-unreachable, time-exceeded, parameter-problem",
		  "ICMP types accepted", ""),
	/* What an IPv6 host needs: errors incl. packet-too-big (PMTU), and
	 * neighbour discovery; router advertisements only with accept_ra. */
	PK_CUSTOM("icmpv6_types", FO, icmpv6, fwk_icmpv6,
		  "destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
		  "nd-neighbor-solicit, nd-neighbor-advert",
		  "ICMPv6 types accepted", ""),
	PK_CUSTOM("log", FO, log, fwk_bool, "no", "log dropped packets, rate-limited", ""),
	PK_CUSTOM("log_rate", FO, log_rate, fwk_rate, "5/minute",
		  "log lines: N/second|minute|hour|day [burst M]", ""),
	PK_CUSTOM("log_prefix", FO, log_prefix, fwk_prefix, "jefe-drop: ",
		  "prefix of the log lines", ""),
	PK_CUSTOM("foreign", FO, foreign, fwk_foreign, "report",
		  "tables of other programs: report or ignore", ""),
	PK_CUSTOM("foreign_allow", FO, foreign_allow, fwk_tables, "",
		  "foreign tables (FAMILY NAME or NAME, comma-separated) that are not reported", ""),
	PK_END,
};
#undef FO

/* [firewall.service.NAME]: one table, parsed per service into its struct fw_service. */
static int fwk_ports(const struct policy_key *k, const struct policy_entry *e, void *svc,
		     struct policy_errors *errs)
{
	(void)k;
	return fw_parse_ports(e, svc, errs);
}

static int fwk_proto(const struct policy_key *k, const struct policy_entry *e, void *svc,
		     struct policy_errors *errs)
{
	(void)k;
	return fw_parse_proto(e, svc, errs);
}

static int fwk_service_rate(const struct policy_key *k, const struct policy_entry *e, void *svc,
			    struct policy_errors *errs)
{
	(void)k;
	((struct fw_service *)svc)->has_rate = true;
	return fw_parse_rate(e, &((struct fw_service *)svc)->rate, errs);
}

static int fwk_sources(const struct policy_key *k, const struct policy_entry *e, void *svc,
		       struct policy_errors *errs)
{
	(void)k;
	return fw_parse_sources(e, svc, errs);
}

#define FS struct fw_service
const struct policy_key fw_service_keys[] = {
	PK_CUSTOM("ports", FS, ports, fwk_ports, NULL,
		  "ports or ranges to open (22, 8000-8080); required", ""),
	PK_CUSTOM("proto", FS, tcp, fwk_proto, "tcp", "tcp, udp or tcp,udp", ""),
	PK_CUSTOM("rate", FS, rate, fwk_service_rate, NULL,
		  "new connections per source: N/second|minute|hour|day [burst M]; unset: none", ""),
	PK_CUSTOM("sources", FS, v4, fwk_sources, NULL,
		  "addresses or prefixes allowed; unset: everyone", ""),
	PK_END,
};
#undef FS

static bool fw_service_name_ok(const char *s)
{
	size_t n = strlen(s);

	/* The set names are NAME_v4/NAME_v6: keep them short and plain. */
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int fw_service_parse(struct fw_service *svc, const struct policy *p,
			    const char *section, struct policy_errors *errs)
{
	const struct policy_entry *ports;
	size_t it = 0;
	int ret;

	svc->v4.family = NFPROTO_IPV4;
	svc->v6.family = NFPROTO_IPV6;
	svc->where = policy_next(p, section, &it);
	ret = policy_keys_load(p, section, fw_service_keys, svc, errs);
	if (ret == -ENOMEM)
		return ret;
	ports = policy_get(p, section, "ports");
	if (!ports && svc->where) {
		policy_error_at(errs, svc->where, "[%s] has no \"ports\" key", section);
		ret = -JEFE_EPOLICY;
	}
	snprintf(svc->v4.name, sizeof(svc->v4.name), "%.24s_v4", svc->name);
	snprintf(svc->v6.name, sizeof(svc->v6.name), "%.24s_v6", svc->name);
	fw_set_normalize(&svc->v4);
	fw_set_normalize(&svc->v6);
	return ret;
}

static int fw_chain_push(struct fw_chain *c, const struct fw_rule *r)
{
	struct fw_rule *v = array_grow(c->rules, c->n_rules, &c->cap_rules, sizeof(*c->rules));

	if (!v)
		return -ENOMEM;
	c->rules = v;
	c->rules[c->n_rules++] = *r;
	return 0;
}

static struct fw_rule fw_rule_new(void)
{
	struct fw_rule r;

	memset(&r, 0, sizeof(r));
	r.icmp_type = -1;
	r.verdict = -1;
	return r;
}

static int fw_config_add_set(struct fw_config *cfg, struct fw_set *s)
{
	struct fw_set *v = array_grow(cfg->sets, cfg->n_sets, &cfg->cap_sets, sizeof(*cfg->sets));

	if (!v)
		return -ENOMEM;
	cfg->sets = v;
	cfg->sets[cfg->n_sets++] = *s;
	memset(s, 0, sizeof(*s));	/* ownership moved */
	return 0;
}

/* The rules of one service: per protocol, per source family, per port. */
static int fw_service_compile(struct fw_config *cfg, struct fw_service *svc)
{
	struct fw_chain *in = &cfg->chains[FW_CHAIN_INPUT];
	const uint8_t protos[2] = { IPPROTO_TCP, IPPROTO_UDP };
	const bool use[2] = { svc->tcp, svc->udp };
	bool any_src = svc->v4.n_ranges || svc->v6.n_ranges;
	int ret;

	for (int pi = 0; pi < 2; pi++) {
		if (!use[pi])
			continue;
		for (int fi = 0; fi < 3; fi++) {
			const struct fw_set *set = fi == 1 ? &svc->v4 : fi == 2 ? &svc->v6 : NULL;

			/* fi 0: no source restriction, only when no sources */
			if ((fi == 0) == any_src)
				continue;
			if (set && set->n_ranges == 0)
				continue;
			for (size_t i = 0; i < svc->n_ports; i++) {
				struct fw_rule r = fw_rule_new();

				if (set) {
					r.nfproto = set->family;
					snprintf(r.saddr_set, sizeof(r.saddr_set), "%s", set->name);
				}
				r.l4proto = protos[pi];
				r.dport_lo = svc->ports[i][0];
				r.dport_hi = svc->ports[i][1];
				r.ct_state = FW_CT_NEW;
				r.has_limit = svc->has_rate;
				r.limit = svc->rate;
				r.verdict = NF_ACCEPT;
				ret = fw_chain_push(in, &r);
				if (ret < 0)
					return ret;
			}
		}
	}
	if (svc->v4.n_ranges && (ret = fw_config_add_set(cfg, &svc->v4)) < 0)
		return ret;
	if (svc->v6.n_ranges && (ret = fw_config_add_set(cfg, &svc->v6)) < 0)
		return ret;
	return 0;
}

static int fw_config_compile(struct fw_config *cfg, const struct fw_opts *o)
{
	struct fw_chain *in = &cfg->chains[FW_CHAIN_INPUT];
	struct fw_rule r;
	int ret = 0;

	r = fw_rule_new();
	r.ct_state = FW_CT_ESTABLISHED | FW_CT_RELATED;
	r.verdict = NF_ACCEPT;
	ret |= fw_chain_push(in, &r);
	r.ct_state = FW_CT_INVALID;
	r.verdict = NF_DROP;
	ret |= fw_chain_push(in, &r);
	if (o->loopback) {
		r = fw_rule_new();
		r.iif_lo = true;
		r.verdict = NF_ACCEPT;
		ret |= fw_chain_push(in, &r);
	}
	/* ND and RA are untracked by conntrack (noct_valid_new), so they are
	 * not caught by "ct state invalid drop" above. */
	for (size_t i = 0; i < o->n_icmpv6; i++) {
		r = fw_rule_new();
		r.l4proto = IPPROTO_ICMPV6;
		r.icmp_type = o->icmpv6[i];
		r.verdict = NF_ACCEPT;
		ret |= fw_chain_push(in, &r);
	}
	if (o->accept_ra) {
		bool listed = false;

		for (size_t i = 0; i < o->n_icmpv6; i++)
			listed |= o->icmpv6[i] == 134;
		if (!listed) {
			r = fw_rule_new();
			r.l4proto = IPPROTO_ICMPV6;
			r.icmp_type = 134;
			r.verdict = NF_ACCEPT;
			ret |= fw_chain_push(in, &r);
		}
	}
	for (size_t i = 0; i < o->n_icmp; i++) {
		r = fw_rule_new();
		r.nfproto = NFPROTO_IPV4;
		r.l4proto = IPPROTO_ICMP;
		r.icmp_type = o->icmp[i];
		r.verdict = NF_ACCEPT;
		ret |= fw_chain_push(in, &r);
	}
	if (o->echo) {
		r = fw_rule_new();
		r.nfproto = NFPROTO_IPV4;
		r.l4proto = IPPROTO_ICMP;
		r.icmp_type = 8;
		r.has_limit = true;
		r.limit = o->echo_rate;
		r.verdict = NF_ACCEPT;
		ret |= fw_chain_push(in, &r);
		r.nfproto = 0;
		r.l4proto = IPPROTO_ICMPV6;
		r.icmp_type = 128;
		ret |= fw_chain_push(in, &r);
	}
	if (o->ssh) {
		r = fw_rule_new();
		r.l4proto = IPPROTO_TCP;
		r.dport_lo = r.dport_hi = o->ssh_port;
		r.ct_state = FW_CT_NEW;
		r.has_limit = true;
		r.limit = o->ssh_rate;
		r.verdict = NF_ACCEPT;
		ret |= fw_chain_push(in, &r);
	}
	return ret < 0 ? -ENOMEM : 0;
}

static int fw_config_add_log(struct fw_config *cfg, const struct fw_opts *o)
{
	struct fw_rule r = fw_rule_new();
	int ret = 0;

	r.has_limit = true;
	r.limit = o->log_rate;
	r.log = true;
	memcpy(r.log_prefix, o->log_prefix, sizeof(r.log_prefix));
	/* Only where the chain drops: the rule sits just before the policy. */
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		if (cfg->chains[c].policy == NF_DROP)
			ret |= fw_chain_push(&cfg->chains[c], &r);
	return ret < 0 ? -ENOMEM : 0;
}

static int fw_service_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fw_service *)a)->name,
		      ((const struct fw_service *)b)->name);
}

int fw_config_load(struct fw_config *cfg, const void *opts, const struct policy *p,
		   struct policy_errors *errs)
{
	static const char prefix[] = FW_LAYER ".service.";
	struct fw_service *svcs;
	struct fw_opts o;
	size_t n_svcs = 0;
	int ret, err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->chains[FW_CHAIN_INPUT] = (struct fw_chain){ .name = "input", .hooknum = NF_INET_LOCAL_IN };
	cfg->chains[FW_CHAIN_FORWARD] = (struct fw_chain){ .name = "forward", .hooknum = NF_INET_FORWARD };
	cfg->chains[FW_CHAIN_OUTPUT] = (struct fw_chain){ .name = "output", .hooknum = NF_INET_LOCAL_OUT };

	/* The core parsed [firewall] for the layer; alone (tests), parse it here. */
	memset(&o, 0, sizeof(o));
	if (opts) {
		memcpy(&o, opts, sizeof(o));
		ret = 0;
	} else {
		ret = policy_keys_load(p, FW_LAYER, fw_keys, &o, errs);
		if (ret == -ENOMEM)
			return ret;
	}

	svcs = calloc(FW_MAX_SERVICES, sizeof(*svcs));
	if (!svcs)
		return -ENOMEM;
	/* Every section "firewall.*": only firewall.service.NAME exists. */
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct policy_entry *e = &p->entries[i];
		const char *name;
		bool seen = false;

		if (strncmp(e->section, FW_LAYER ".", strlen(FW_LAYER) + 1) != 0)
			continue;
		if (strncmp(e->section, prefix, strlen(prefix)) != 0)
			continue;	/* the core reports sections no layer takes */
		name = e->section + strlen(prefix);
		for (size_t j = 0; j < n_svcs; j++)
			seen |= strcmp(svcs[j].name, name) == 0;
		if (seen)
			continue;
		if (!fw_service_name_ok(name)) {
			policy_error_at(errs, e,
					"bad service name \"%s\" (1..20 of a-z 0-9 _ -)", name);
			ret = -JEFE_EPOLICY;
			/* remember it so its other keys do not repeat the error */
		}
		if (n_svcs == FW_MAX_SERVICES) {
			policy_error_at(errs, e, "more than %d services", FW_MAX_SERVICES);
			ret = -JEFE_EPOLICY;
			break;
		}
		snprintf(svcs[n_svcs].name, sizeof(svcs[n_svcs].name), "%.*s",
			 FW_NAME_MAX - 4, name);
		err = fw_service_parse(&svcs[n_svcs], p, e->section, errs);
		n_svcs++;
		if (err == -ENOMEM) {
			ret = err;
			goto out;
		}
		if (err < 0)
			ret = -JEFE_EPOLICY;
	}
	if (ret < 0)
		goto out;

	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		cfg->chains[c].policy = o.policy[c];
	cfg->foreign = o.foreign;
	memcpy(cfg->foreign_allow, o.foreign_allow, sizeof(cfg->foreign_allow));
	cfg->n_foreign_allow = o.n_foreign_allow;
	ret = fw_config_compile(cfg, &o);
	/* Services in name order, so the ruleset does not depend on the
	 * order of the policy files. */
	qsort(svcs, n_svcs, sizeof(*svcs), fw_service_name_cmp);
	for (size_t i = 0; ret == 0 && i < n_svcs; i++)
		ret = fw_service_compile(cfg, &svcs[i]);
	if (ret == 0 && o.log)
		ret = fw_config_add_log(cfg, &o);
out:
	for (size_t i = 0; i < n_svcs; i++) {
		free(svcs[i].v4.ranges);
		free(svcs[i].v6.ranges);
	}
	free(svcs);
	if (ret < 0)
		fw_config_free(cfg);
	return ret;
}

void fw_config_free(struct fw_config *cfg)
{
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		free(cfg->chains[c].rules);
		cfg->chains[c].rules = NULL;
		cfg->chains[c].n_rules = cfg->chains[c].cap_rules = 0;
	}
	for (size_t i = 0; i < cfg->n_sets; i++)
		free(cfg->sets[i].ranges);
	free(cfg->sets);
	cfg->sets = NULL;
	cfg->n_sets = cfg->cap_sets = 0;
}

/* ---- rendering in nft syntax ---- */

static const char *fw_verdict_name(uint32_t v)
{
	return v == NF_ACCEPT ? "accept" : v == NF_DROP ? "drop" : "?";
}

static const char *fw_unit_name(uint64_t unit)
{
	const char *n = fw_name_of(fw_rate_units, ARRAY_SIZE(fw_rate_units), (int)unit);

	return n ? n : "?";
}

struct fw_buf {
	char *p;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void fw_buf_add(struct fw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->len < b->size ? b->size - b->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

int fw_rule_render(const struct fw_rule *r, char *buf, size_t size)
{
	struct fw_buf b = { buf, size, 0 };
	const char *l4 = r->l4proto == IPPROTO_TCP ? "tcp" :
			 r->l4proto == IPPROTO_UDP ? "udp" : NULL;

	if (size)
		buf[0] = '\0';
	if (r->iif_lo)
		fw_buf_add(&b, "iif \"lo\" ");
	if (r->saddr_set[0])
		fw_buf_add(&b, "%s saddr @%s ",
			   r->nfproto == NFPROTO_IPV4 ? "ip" : "ip6", r->saddr_set);
	if (r->icmp_type >= 0) {
		bool v6 = r->l4proto == IPPROTO_ICMPV6;
		const char *t = v6 ?
			fw_name_of(fw_icmpv6_types, ARRAY_SIZE(fw_icmpv6_types), r->icmp_type) :
			fw_name_of(fw_icmp_types, ARRAY_SIZE(fw_icmp_types), r->icmp_type);

		if (t)
			fw_buf_add(&b, "%s type %s ", v6 ? "icmpv6" : "icmp", t);
		else
			fw_buf_add(&b, "%s type %d ", v6 ? "icmpv6" : "icmp", r->icmp_type);
	} else if (r->dport_lo && l4) {
		if (r->dport_lo == r->dport_hi)
			fw_buf_add(&b, "%s dport %u ", l4, r->dport_lo);
		else
			fw_buf_add(&b, "%s dport %u-%u ", l4, r->dport_lo, r->dport_hi);
	} else if (r->l4proto) {
		fw_buf_add(&b, "meta l4proto %u ", r->l4proto);
	}
	if (r->ct_state) {
		static const struct fw_name st[] = {
			{ "invalid", FW_CT_INVALID }, { "established", FW_CT_ESTABLISHED },
			{ "related", FW_CT_RELATED }, { "new", FW_CT_NEW },
			{ "untracked", FW_CT_UNTRACKED },
		};
		const char *sep = "";

		fw_buf_add(&b, "ct state ");
		for (size_t i = 0; i < ARRAY_SIZE(st); i++)
			if (r->ct_state & (uint32_t)st[i].value) {
				fw_buf_add(&b, "%s%s", sep, st[i].name);
				sep = ",";
			}
		fw_buf_add(&b, " ");
	}
	if (r->has_limit) {
		fw_buf_add(&b, "limit rate %llu/%s ", (unsigned long long)r->limit.rate,
			   fw_unit_name(r->limit.unit));
		/* nft leaves out its default burst of 5 packets */
		if (r->limit.burst != 5)
			fw_buf_add(&b, "burst %u packets ", r->limit.burst);
	}
	if (r->log)
		fw_buf_add(&b, "log prefix \"%s\" ", r->log_prefix);
	if (r->verdict >= 0)
		fw_buf_add(&b, "%s ", fw_verdict_name((uint32_t)r->verdict));
	if (b.len && b.len <= size)
		buf[b.len - 1] = '\0';
	return b.len < size ? 0 : -ENOSPC;
}

/* As a prefix when it is one, else LOW-HIGH, the way nft prints intervals. */
int fw_range_render(const struct fw_range *r, uint8_t family, char *buf, size_t size)
{
	size_t len = fw_addr_len(family);
	int af = family == NFPROTO_IPV4 ? AF_INET : AF_INET6;
	char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
	size_t plen = 0;
	bool prefix = true;

	/* count leading equal bits, then require lo all zeros and hi all ones */
	while (plen < len * 8) {
		uint8_t m = (uint8_t)(0x80u >> (plen % 8));

		if ((r->lo[plen / 8] & m) != (r->hi[plen / 8] & m))
			break;
		plen++;
	}
	for (size_t bit = plen; bit < len * 8; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));

		if ((r->lo[bit / 8] & m) || !(r->hi[bit / 8] & m))
			prefix = false;
	}
	inet_ntop(af, r->lo, lo, sizeof(lo));
	inet_ntop(af, r->hi, hi, sizeof(hi));
	if (prefix && plen == len * 8)
		snprintf(buf, size, "%s", lo);
	else if (prefix)
		snprintf(buf, size, "%s/%zu", lo, plen);
	else
		snprintf(buf, size, "%s-%s", lo, hi);
	return 0;
}

int fw_render(const struct fw_config *cfg, FILE *out)
{
	char line[512];
	bool first = true;

	fprintf(out, "table inet %s {\n", FW_TABLE);
	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct fw_set *s = &cfg->sets[i];

		if (!first)
			fputc('\n', out);
		first = false;
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", s->name,
			s->family == NFPROTO_IPV4 ? "ipv4_addr" : "ipv6_addr");
		fprintf(out, "\t\telements = { ");
		for (size_t j = 0; j < s->n_ranges; j++) {
			fw_range_render(&s->ranges[j], s->family, line, sizeof(line));
			fprintf(out, "%s%s", j ? ", " : "", line);
		}
		fprintf(out, " }\n\t}\n");
	}
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		const struct fw_chain *ch = &cfg->chains[c];

		if (!first)
			fputc('\n', out);
		first = false;
		fprintf(out, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy %s;\n",
			ch->name, ch->name, fw_verdict_name(ch->policy));
		for (size_t i = 0; i < ch->n_rules; i++) {
			fw_rule_render(&ch->rules[i], line, sizeof(line));
			fprintf(out, "\t\t%s\n", line);
		}
		fprintf(out, "\t}\n");
	}
	fprintf(out, "}\n");
	return ferror(out) ? -EIO : 0;
}

/* ---- libnftnl objects ---- */

struct nftnl_table *fw_table_build(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	return t;
}

struct nftnl_chain *fw_chain_build(const struct fw_chain *c)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (!ch)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, FW_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, c->hooknum);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, c->policy);
	return ch;
}

static int fw_expr_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static struct nftnl_expr *fw_expr_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *fw_expr_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

static struct nftnl_expr *fw_expr_payload(uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return e;
}

static int fw_rule_add_exprs(struct nftnl_rule *nr, const struct fw_rule *r)
{
	struct nftnl_expr *e;
	int ret = 0;

	if (r->iif_lo) {
		uint32_t idx = FW_LO_IFINDEX;

		ret |= fw_expr_add(nr, fw_expr_meta(NFT_META_IIF));
		ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_EQ, &idx, sizeof(idx)));
	}
	if (r->nfproto) {
		uint8_t v = r->nfproto;

		ret |= fw_expr_add(nr, fw_expr_meta(NFT_META_NFPROTO));
		ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_EQ, &v, 1));
	}
	if (r->saddr_set[0]) {
		bool v4 = r->nfproto == NFPROTO_IPV4;

		ret |= fw_expr_add(nr, fw_expr_payload(NFT_PAYLOAD_NETWORK_HEADER,
						       v4 ? 12 : 8, v4 ? 4 : 16));
		e = nftnl_expr_alloc("lookup");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, r->saddr_set);
		}
		ret |= fw_expr_add(nr, e);
	}
	if (r->l4proto) {
		uint8_t v = r->l4proto;

		ret |= fw_expr_add(nr, fw_expr_meta(NFT_META_L4PROTO));
		ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_EQ, &v, 1));
	}
	if (r->icmp_type >= 0) {
		uint8_t v = (uint8_t)r->icmp_type;

		ret |= fw_expr_add(nr, fw_expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1));
		ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_EQ, &v, 1));
	}
	if (r->dport_lo) {
		uint16_t lo = htons(r->dport_lo), hi = htons(r->dport_hi);

		ret |= fw_expr_add(nr, fw_expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
		if (r->dport_lo == r->dport_hi) {
			ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_EQ, &lo, 2));
		} else {
			/* cmp compares with memcmp: big-endian order is numeric order */
			ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_GTE, &lo, 2));
			ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_LTE, &hi, 2));
		}
	}
	if (r->ct_state) {
		uint32_t mask = r->ct_state, zero = 0;

		e = nftnl_expr_alloc("ct");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		}
		ret |= fw_expr_add(nr, e);
		e = nftnl_expr_alloc("bitwise");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
		}
		ret |= fw_expr_add(nr, e);
		ret |= fw_expr_add(nr, fw_expr_cmp(NFT_CMP_NEQ, &zero, 4));
	}
	if (r->has_limit) {
		e = nftnl_expr_alloc("limit");
		if (e) {
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, r->limit.rate);
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, r->limit.unit);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, r->limit.burst);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
		}
		ret |= fw_expr_add(nr, e);
	}
	if (r->log) {
		e = nftnl_expr_alloc("log");
		if (e) {
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, r->log_prefix);
			/* the kernel reports the level it uses, warn (4), even when
			 * none was given: set it so the dump compares equal */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, 4);
		}
		ret |= fw_expr_add(nr, e);
	}
	if (r->verdict >= 0) {
		e = nftnl_expr_alloc("immediate");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)r->verdict);
		}
		ret |= fw_expr_add(nr, e);
	}
	return ret < 0 ? -ENOMEM : 0;
}

struct nftnl_rule *fw_rule_build(const struct fw_chain *c, const struct fw_rule *r)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();

	if (!nr)
		return NULL;
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, FW_TABLE);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, c->name);
	if (fw_rule_add_exprs(nr, r) < 0) {
		nftnl_rule_free(nr);
		return NULL;
	}
	return nr;
}

struct nftnl_set *fw_set_build(const struct fw_set *s, uint32_t set_id)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (!ns)
		return NULL;
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, FW_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, set_id);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE,
			  s->family == NFPROTO_IPV4 ? FW_TYPE_IPADDR : FW_TYPE_IP6ADDR);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, (uint32_t)fw_addr_len(s->family));
	return ns;
}

static int fw_elem_add(struct nftnl_set *ns, const uint8_t *key, size_t len, bool end)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return -ENOMEM;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(ns, e);
	return 0;
}

/*
 * An interval [lo, hi] is two elements: lo, and hi + 1 flagged as an
 * interval end (none when hi is the last address).  nft also adds an end
 * element at 0 before the first interval; do the same so `nft list` shows
 * the set the way nft would have made it.
 */
struct nftnl_set *fw_set_elems_build(const struct fw_set *s, size_t from,
				     size_t to, bool leading_end)
{
	size_t len = fw_addr_len(s->family);
	struct nftnl_set *ns = nftnl_set_alloc();
	static const uint8_t zero[16];
	int ret = 0;

	if (!ns)
		return NULL;
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, FW_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	if (leading_end && s->n_ranges && memcmp(s->ranges[0].lo, zero, len) != 0)
		ret |= fw_elem_add(ns, zero, len, true);
	for (size_t i = from; i < to; i++) {
		const struct fw_range *r = &s->ranges[i];
		uint8_t end[16];
		bool wrap = true;

		ret |= fw_elem_add(ns, r->lo, len, false);
		memcpy(end, r->hi, len);
		for (size_t b = len; b-- > 0;)
			if (++end[b] != 0) {
				wrap = false;
				break;
			}
		if (!wrap)
			ret |= fw_elem_add(ns, end, len, true);
	}
	if (ret < 0) {
		nftnl_set_free(ns);
		return NULL;
	}
	return ns;
}

/* ---- structural comparison ---- */

/* The attributes that make an expression's meaning, per type. */
struct fw_expr_attrs {
	const char *name;
	uint16_t attrs[8];
	size_t n;
};

static const struct fw_expr_attrs fw_expr_table[] = {
	{ "meta", { NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_DREG, NFTNL_EXPR_META_SREG }, 3 },
	{ "cmp", { NFTNL_EXPR_CMP_SREG, NFTNL_EXPR_CMP_OP, NFTNL_EXPR_CMP_DATA }, 3 },
	{ "payload", { NFTNL_EXPR_PAYLOAD_BASE, NFTNL_EXPR_PAYLOAD_OFFSET,
		       NFTNL_EXPR_PAYLOAD_LEN, NFTNL_EXPR_PAYLOAD_DREG,
		       NFTNL_EXPR_PAYLOAD_SREG }, 5 },
	{ "bitwise", { NFTNL_EXPR_BITWISE_SREG, NFTNL_EXPR_BITWISE_DREG,
		       NFTNL_EXPR_BITWISE_LEN, NFTNL_EXPR_BITWISE_MASK,
		       NFTNL_EXPR_BITWISE_XOR, NFTNL_EXPR_BITWISE_OP }, 6 },
	{ "ct", { NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_DREG, NFTNL_EXPR_CT_DIR,
		  NFTNL_EXPR_CT_SREG }, 4 },
	{ "lookup", { NFTNL_EXPR_LOOKUP_SREG, NFTNL_EXPR_LOOKUP_DREG,
		      NFTNL_EXPR_LOOKUP_SET, NFTNL_EXPR_LOOKUP_FLAGS }, 4 },
	{ "limit", { NFTNL_EXPR_LIMIT_RATE, NFTNL_EXPR_LIMIT_UNIT,
		     NFTNL_EXPR_LIMIT_BURST, NFTNL_EXPR_LIMIT_TYPE,
		     NFTNL_EXPR_LIMIT_FLAGS }, 5 },
	{ "immediate", { NFTNL_EXPR_IMM_DREG, NFTNL_EXPR_IMM_VERDICT,
			 NFTNL_EXPR_IMM_CHAIN, NFTNL_EXPR_IMM_DATA }, 4 },
	{ "log", { NFTNL_EXPR_LOG_PREFIX, NFTNL_EXPR_LOG_GROUP,
		   NFTNL_EXPR_LOG_LEVEL, NFTNL_EXPR_LOG_FLAGS,
		   NFTNL_EXPR_LOG_SNAPLEN, NFTNL_EXPR_LOG_QTHRESHOLD }, 6 },
};

static bool fw_all_zero(const void *p, uint32_t len)
{
	const uint8_t *b = p;

	for (uint32_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* An attribute the kernel reports with its default (0) equals an unset one. */
static bool fw_expr_equal(const struct nftnl_expr *a, const struct nftnl_expr *b)
{
	const char *name = nftnl_expr_get_str(a, NFTNL_EXPR_NAME);
	const struct fw_expr_attrs *t = NULL;

	if (strcmp(name, nftnl_expr_get_str(b, NFTNL_EXPR_NAME)) != 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(fw_expr_table); i++)
		if (strcmp(fw_expr_table[i].name, name) == 0)
			t = &fw_expr_table[i];
	if (!t)
		return false;	/* not one we make: never equal to ours */
	for (size_t i = 0; i < t->n; i++) {
		uint16_t at = t->attrs[i];
		uint32_t la = 0, lb = 0;
		const void *da = nftnl_expr_is_set(a, at) ? nftnl_expr_get(a, at, &la) : NULL;
		const void *db = nftnl_expr_is_set(b, at) ? nftnl_expr_get(b, at, &lb) : NULL;

		if (!da && !db)
			continue;
		if (!da || !db) {
			if (!fw_all_zero(da ? da : db, da ? la : lb))
				return false;
			continue;
		}
		/*
		 * Attribute numbers are per expression (LOG_PREFIX has the
		 * number of META_KEY and CMP_SREG...): a string only for its
		 * own expression, else strcmp() ran over a cmp's 16 data
		 * bytes (fuzz_netlink, corpus/netlink/crash-b693...).
		 */
		if ((at == NFTNL_EXPR_LOG_PREFIX && strcmp(name, "log") == 0) ||
		    (at == NFTNL_EXPR_LOOKUP_SET && strcmp(name, "lookup") == 0) ||
		    (at == NFTNL_EXPR_IMM_CHAIN && strcmp(name, "immediate") == 0)) {
			if (strcmp(da, db) != 0)
				return false;
			continue;
		}
		if (la != lb || memcmp(da, db, la) != 0)
			return false;
	}
	return true;
}

bool fw_rule_equal(const struct nftnl_rule *a, const struct nftnl_rule *b)
{
	struct nftnl_expr_iter *ia, *ib;
	struct nftnl_expr *ea, *eb;
	bool eq = true;

	ia = nftnl_expr_iter_create(a);
	ib = nftnl_expr_iter_create(b);
	if (!ia || !ib) {
		eq = false;
		goto out;
	}
	for (;;) {
		ea = nftnl_expr_iter_next(ia);
		eb = nftnl_expr_iter_next(ib);
		if (!ea || !eb) {
			eq = !ea && !eb;
			break;
		}
		if (!fw_expr_equal(ea, eb)) {
			eq = false;
			break;
		}
	}
out:
	if (ia)
		nftnl_expr_iter_destroy(ia);
	if (ib)
		nftnl_expr_iter_destroy(ib);
	return eq;
}

/*
 * The way back: a kernel rule into the model, when it is made of the
 * patterns fw_rule_build emits (any rule we made, and simple ones like
 * `nft add rule inet jefe input tcp dport 8080 accept`), so a drift item
 * can show it in nft syntax.  -EINVAL for anything else.
 */
struct fw_dec {
	struct nftnl_expr *e[32];
	size_t n, i;
};

static bool fw_dec_is(struct fw_dec *d, const char *name)
{
	return d->i < d->n &&
	       strcmp(nftnl_expr_get_str(d->e[d->i], NFTNL_EXPR_NAME), name) == 0;
}

static bool fw_dec_meta(struct fw_dec *d, uint32_t key)
{
	return fw_dec_is(d, "meta") &&
	       nftnl_expr_get_u32(d->e[d->i], NFTNL_EXPR_META_KEY) == key;
}

/* the next expression is cmp OP with len bytes of data: copy them out */
static bool fw_dec_cmp(struct fw_dec *d, uint32_t op, void *out, uint32_t len)
{
	const void *data;
	uint32_t dlen = 0;

	if (!fw_dec_is(d, "cmp") || nftnl_expr_get_u32(d->e[d->i], NFTNL_EXPR_CMP_OP) != op)
		return false;
	data = nftnl_expr_get(d->e[d->i], NFTNL_EXPR_CMP_DATA, &dlen);
	if (!data || dlen != len)
		return false;
	memcpy(out, data, len);
	d->i++;
	return true;
}

static bool fw_dec_payload(struct fw_dec *d, uint32_t base, uint32_t off, uint32_t len)
{
	if (!fw_dec_is(d, "payload") ||
	    nftnl_expr_get_u32(d->e[d->i], NFTNL_EXPR_PAYLOAD_BASE) != base ||
	    nftnl_expr_get_u32(d->e[d->i], NFTNL_EXPR_PAYLOAD_OFFSET) != off ||
	    nftnl_expr_get_u32(d->e[d->i], NFTNL_EXPR_PAYLOAD_LEN) != len)
		return false;
	d->i++;
	return true;
}

static int fw_dec_collect(struct nftnl_expr *e, void *data)
{
	struct fw_dec *d = data;

	if (d->n == ARRAY_SIZE(d->e))
		return -1;
	d->e[d->n++] = e;
	return 0;
}

int fw_rule_decompile(const struct nftnl_rule *nr, struct fw_rule *r)
{
	struct fw_dec d = { .n = 0 };
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	*r = fw_rule_new();
	if (nftnl_expr_foreach((struct nftnl_rule *)nr, fw_dec_collect, &d) < 0)
		return -EINVAL;
	if (fw_dec_meta(&d, NFT_META_IIF)) {
		d.i++;
		if (!fw_dec_cmp(&d, NFT_CMP_EQ, &u32, 4) || u32 != FW_LO_IFINDEX)
			return -EINVAL;
		r->iif_lo = true;
	}
	if (fw_dec_meta(&d, NFT_META_NFPROTO)) {
		d.i++;
		if (!fw_dec_cmp(&d, NFT_CMP_EQ, &u8, 1) ||
		    (u8 != NFPROTO_IPV4 && u8 != NFPROTO_IPV6))
			return -EINVAL;
		r->nfproto = u8;
	}
	if (r->nfproto && fw_dec_payload(&d, NFT_PAYLOAD_NETWORK_HEADER,
					 r->nfproto == NFPROTO_IPV4 ? 12 : 8,
					 r->nfproto == NFPROTO_IPV4 ? 4 : 16)) {
		const char *set;

		if (!fw_dec_is(&d, "lookup") ||
		    !(set = nftnl_expr_get_str(d.e[d.i], NFTNL_EXPR_LOOKUP_SET)) ||
		    (nftnl_expr_is_set(d.e[d.i], NFTNL_EXPR_LOOKUP_FLAGS) &&
		     nftnl_expr_get_u32(d.e[d.i], NFTNL_EXPR_LOOKUP_FLAGS) != 0))
			return -EINVAL;
		snprintf(r->saddr_set, sizeof(r->saddr_set), "%s", set);
		d.i++;
	}
	if (fw_dec_meta(&d, NFT_META_L4PROTO)) {
		d.i++;
		if (!fw_dec_cmp(&d, NFT_CMP_EQ, &u8, 1))
			return -EINVAL;
		r->l4proto = u8;
	}
	if ((r->l4proto == IPPROTO_ICMP || r->l4proto == IPPROTO_ICMPV6) &&
	    fw_dec_payload(&d, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) {
		if (!fw_dec_cmp(&d, NFT_CMP_EQ, &u8, 1))
			return -EINVAL;
		r->icmp_type = u8;
	}
	if ((r->l4proto == IPPROTO_TCP || r->l4proto == IPPROTO_UDP) &&
	    fw_dec_payload(&d, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) {
		if (fw_dec_cmp(&d, NFT_CMP_EQ, &u16, 2)) {
			r->dport_lo = r->dport_hi = ntohs(u16);
		} else if (fw_dec_cmp(&d, NFT_CMP_GTE, &u16, 2)) {
			r->dport_lo = ntohs(u16);
			if (!fw_dec_cmp(&d, NFT_CMP_LTE, &u16, 2))
				return -EINVAL;
			r->dport_hi = ntohs(u16);
		} else {
			return -EINVAL;
		}
		if (r->dport_lo == 0 || r->dport_hi < r->dport_lo)
			return -EINVAL;
	}
	if (fw_dec_is(&d, "ct") && nftnl_expr_get_u32(d.e[d.i], NFTNL_EXPR_CT_KEY) == NFT_CT_STATE) {
		const void *mask;
		uint32_t len = 0, zero = 0;

		d.i++;
		if (!fw_dec_is(&d, "bitwise") ||
		    !(mask = nftnl_expr_get(d.e[d.i], NFTNL_EXPR_BITWISE_MASK, &len)) || len != 4)
			return -EINVAL;
		memcpy(&r->ct_state, mask, 4);
		d.i++;
		if (!fw_dec_cmp(&d, NFT_CMP_NEQ, &u32, 4) || u32 != zero || r->ct_state == 0)
			return -EINVAL;
	}
	if (fw_dec_is(&d, "limit")) {
		const struct nftnl_expr *e = d.e[d.i++];

		if (nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) != NFT_LIMIT_PKTS ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS) != 0)
			return -EINVAL;
		r->has_limit = true;
		r->limit.rate = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE);
		r->limit.unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
		r->limit.burst = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST);
		if (!fw_name_of(fw_rate_units, ARRAY_SIZE(fw_rate_units), (int)r->limit.unit))
			return -EINVAL;
	}
	if (fw_dec_is(&d, "log")) {
		const char *prefix = nftnl_expr_is_set(d.e[d.i], NFTNL_EXPR_LOG_PREFIX) ?
				     nftnl_expr_get_str(d.e[d.i], NFTNL_EXPR_LOG_PREFIX) : NULL;

		if (!prefix || strlen(prefix) >= sizeof(r->log_prefix))
			return -EINVAL;
		r->log = true;
		strcpy(r->log_prefix, prefix);
		d.i++;
	}
	if (fw_dec_is(&d, "immediate") &&
	    nftnl_expr_get_u32(d.e[d.i], NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
		int v = (int)nftnl_expr_get_u32(d.e[d.i], NFTNL_EXPR_IMM_VERDICT);

		if (v != NF_ACCEPT && v != NF_DROP)
			return -EINVAL;
		r->verdict = v;
		d.i++;
	}
	/* something left over (or a rule of nothing): not one of ours */
	return d.i == d.n && d.n > 0 ? 0 : -EINVAL;
}

int fw_nftnl_rule_render(const struct nftnl_rule *r, char *buf, size_t size)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	struct fw_buf b = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	if (!it)
		return -ENOMEM;
	while ((e = nftnl_expr_iter_next(it))) {
		char tmp[256];

		nftnl_expr_snprintf(tmp, sizeof(tmp), e, NFTNL_OUTPUT_DEFAULT, 0);
		fw_buf_add(&b, "%s[ %s %s]", b.len ? " " : "",
			   nftnl_expr_get_str(e, NFTNL_EXPR_NAME), tmp);
	}
	nftnl_expr_iter_destroy(it);
	return 0;
}

struct fw_elem_acc {
	struct fw_key { uint8_t k[16]; bool end; } *v;
	size_t n, cap;
	size_t len;
	int err;
};

static int fw_elem_collect(struct nftnl_set_elem *e, void *data)
{
	struct fw_elem_acc *acc = data;
	uint32_t klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);

	if (!key || klen != acc->len) {
		acc->err = -JEFE_ENETLINK;
		return -1;
	}
	void *v = array_grow(acc->v, acc->n, &acc->cap, sizeof(*acc->v));

	if (!v) {
		acc->err = -ENOMEM;
		return -1;
	}
	acc->v = v;
	memset(&acc->v[acc->n], 0, sizeof(acc->v[acc->n]));
	memcpy(acc->v[acc->n].k, key, klen);
	acc->v[acc->n].end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	acc->n++;
	return 0;
}

static int fw_key_cmp(const void *a, const void *b)
{
	const struct fw_key *x = a, *y = b;
	int c = memcmp(x->k, y->k, 16);

	/* an end sorts before a start on the same key */
	return c ? c : (int)y->end - (int)x->end;
}

int fw_set_ranges_from_elems(struct nftnl_set *s, uint8_t family,
			     struct fw_range **out, size_t *n)
{
	struct fw_elem_acc acc = { .len = fw_addr_len(family) };
	struct fw_set tmp = { .family = family };

	*out = NULL;
	*n = 0;
	nftnl_set_elem_foreach(s, fw_elem_collect, &acc);
	if (acc.err) {
		free(acc.v);
		return acc.err;
	}
	/* An empty set has no array: qsort(NULL, 0) is undefined (UBSan, fuzz_netlink). */
	if (acc.n > 1)
		qsort(acc.v, acc.n, sizeof(*acc.v), fw_key_cmp);
	/* a start opens a range; the next end closes it at end - 1; a range
	 * without an end runs to the last address; ends with no open range
	 * (nft's leading end at 0) carry nothing */
	for (size_t i = 0; i < acc.n; i++) {
		struct fw_range r;

		if (acc.v[i].end)
			continue;
		memset(&r, 0, sizeof(r));
		memcpy(r.lo, acc.v[i].k, acc.len);
		if (i + 1 < acc.n && acc.v[i + 1].end) {
			memcpy(r.hi, acc.v[i + 1].k, acc.len);
			for (size_t b = acc.len; b-- > 0;)
				if (r.hi[b]-- != 0)
					break;
			i++;
		} else {
			memset(r.hi, 0xff, acc.len);
		}
		if (fw_set_push(&tmp, &r) < 0) {
			free(acc.v);
			free(tmp.ranges);
			return -ENOMEM;
		}
	}
	free(acc.v);
	*out = tmp.ranges;
	*n = tmp.n_ranges;
	return 0;
}
