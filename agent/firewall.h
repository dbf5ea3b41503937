/* SPDX-License-Identifier: MIT */
/*
 * The firewall layer's internals, shared by its three files:
 *
 *   fw_compile.c   policy -> desired model -> libnftnl objects; the nft-syntax
 *                  renderer; the structural comparison with a kernel dump
 *   fw_netlink.c   the nfnetlink socket: dumps, one atomic batch with a
 *                  sequence number per message and every ack read back,
 *                  and the NFNLGRP_NFTABLES event socket
 *   layer_firewall.c  the layer_ops glue (load/check/apply/watch/on_event)
 *
 * The agent owns exactly one table, inet jefe, and never changes another;
 * it reads the others' base chains to report them ([firewall] foreign).
 */
#ifndef JEFE_FIREWALL_H
#define JEFE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "finding.h"
#include "policy.h"

#define FW_TABLE		"jefe"
#define FW_LAYER		"firewall"
#define FW_NAME_MAX		32	/* chain, set and service names */
#define FW_LOG_PREFIX_MAX	64
#define FW_MAX_SERVICES		64

/* A packet rate limit: rate packets per unit seconds, burst packets. */
struct fw_rate {
	uint64_t rate;
	uint64_t unit;		/* 1, 60, 3600, 86400 */
	uint32_t burst;
};

/*
 * One rule of the desired state.  The matches are emitted in this order,
 * the same order nft(8) emits for the equivalent text, so `nft list`
 * shows exactly what fw_render prints: iif, nfproto, saddr lookup,
 * l4proto, icmp type, dport, ct state, limit, log, verdict.
 */
struct fw_rule {
	bool iif_lo;
	uint8_t nfproto;		/* 0, NFPROTO_IPV4 or NFPROTO_IPV6 */
	char saddr_set[FW_NAME_MAX];	/* "" or a set name (needs nfproto) */
	uint8_t l4proto;		/* 0 or IPPROTO_* */
	int icmp_type;			/* -1, or the type (l4proto icmp/icmpv6) */
	uint16_t dport_lo, dport_hi;	/* 0: no port match */
	uint32_t ct_state;		/* 0: none, else a NF_CT_STATE_* mask */
	bool has_limit;
	struct fw_rate limit;
	bool log;
	char log_prefix[FW_LOG_PREFIX_MAX];
	int verdict;			/* NF_ACCEPT, NF_DROP or -1 (none) */
};

/* An inclusive address range of a set, in network byte order. */
struct fw_range {
	uint8_t lo[16];
	uint8_t hi[16];
};

struct fw_set {
	char name[FW_NAME_MAX];
	uint8_t family;			/* NFPROTO_IPV4 or NFPROTO_IPV6 */
	struct fw_range *ranges;	/* sorted, merged, disjoint */
	size_t n_ranges;
	size_t cap_ranges;
};

enum fw_chain_id {
	FW_CHAIN_INPUT,
	FW_CHAIN_FORWARD,
	FW_CHAIN_OUTPUT,
	FW_CHAIN_COUNT,
};

struct fw_chain {
	const char *name;	/* "input", ... also the hook name */
	uint32_t hooknum;
	int32_t prio;
	uint32_t policy;	/* NF_ACCEPT or NF_DROP */
	struct fw_rule *rules;
	size_t n_rules;
	size_t cap_rules;
};

/* What to do about other tables' base chains ([firewall] foreign). */
enum fw_foreign_mode {
	FW_FOREIGN_REPORT,	/* each one is drift that jefe cannot fix */
	FW_FOREIGN_IGNORE,
};

#define FW_FOREIGN_ALLOW_MAX	32
#define FW_TABLE_NAME_MAX	64

/* One foreign_allow entry: "inet filter", or "filter" for any family. */
struct fw_table_ref {
	uint8_t family;		/* NFPROTO_UNSPEC: any family */
	char name[FW_TABLE_NAME_MAX];
};

/* The desired state compiled from the policy. */
struct fw_config {
	struct fw_chain chains[FW_CHAIN_COUNT];
	struct fw_set *sets;
	size_t n_sets;
	size_t cap_sets;
	enum fw_foreign_mode foreign;
	struct fw_table_ref foreign_allow[FW_FOREIGN_ALLOW_MAX];
	size_t n_foreign_allow;
};

/* layer_firewall.c: the desired ruleset in nft syntax, for humans. */
int firewall_render(void *state, FILE *out);

/* The settings of [firewall], filled by the core from fw_keys. */
struct fw_opts {
	uint32_t policy[FW_CHAIN_COUNT];
	bool loopback;
	bool ssh;
	uint16_t ssh_port;
	struct fw_rate ssh_rate;
	bool echo;
	struct fw_rate echo_rate;
	bool accept_ra;
	int icmp[32];
	size_t n_icmp;
	int icmpv6[32];
	size_t n_icmpv6;
	bool log;
	struct fw_rate log_rate;
	char log_prefix[FW_LOG_PREFIX_MAX];
	enum fw_foreign_mode foreign;
	struct fw_table_ref foreign_allow[FW_FOREIGN_ALLOW_MAX];
	size_t n_foreign_allow;
};

/* fw_compile.c: the key tables of [firewall] and [firewall.service.NAME]. */
extern const struct policy_key fw_keys[];
extern const struct policy_key fw_service_keys[];

/* opts: [firewall] as the core parsed it with fw_keys, or NULL to parse it here. */
int fw_config_load(struct fw_config *cfg, const void *opts, const struct policy *policy,
		   struct policy_errors *errs);
void fw_config_free(struct fw_config *cfg);
/* nft syntax, as `nft list table inet jefe` prints it. */
int fw_render(const struct fw_config *cfg, FILE *out);
int fw_rule_render(const struct fw_rule *r, char *buf, size_t size);
/* "10.0.0.0/8", "2001:db8::/32" or an address; *why says what is wrong. */
int fw_cidr_parse(const char *s, uint8_t *family, struct fw_range *r,
		  const char **why);
/* Sort and merge a set's ranges (the kernel refuses overlaps). */
void fw_set_normalize(struct fw_set *s);
int fw_range_render(const struct fw_range *r, uint8_t family, char *buf,
		    size_t size);

struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;

struct nftnl_table *fw_table_build(void);
struct nftnl_chain *fw_chain_build(const struct fw_chain *c);
struct nftnl_rule *fw_rule_build(const struct fw_chain *c, const struct fw_rule *r);
/* The set without elements; fw_set_elems_build adds ranges [from, to). */
struct nftnl_set *fw_set_build(const struct fw_set *s, uint32_t set_id);
struct nftnl_set *fw_set_elems_build(const struct fw_set *s, size_t from,
				     size_t to, bool leading_end);

/* Structural comparison: true when the rules are the same expression by expression. */
bool fw_rule_equal(const struct nftnl_rule *a, const struct nftnl_rule *b);
/* A kernel rule back into the model when it only uses our patterns; -EINVAL else. */
int fw_rule_decompile(const struct nftnl_rule *nr, struct fw_rule *r);
/* A kernel rule in libnftnl's debug form, on one line. */
int fw_nftnl_rule_render(const struct nftnl_rule *r, char *buf, size_t size);
/* Kernel set elements -> sorted ranges.  Returns 0 or -errno. */
int fw_set_ranges_from_elems(struct nftnl_set *s, uint8_t family,
			     struct fw_range **out, size_t *n);

/* What one dump of table inet jefe (and, with foreign = report, every
 * other table's base chains) found. */
struct fw_kernel {
	bool table;
	uint32_t table_flags;		/* NFT_TABLE_F_* as the kernel reports them */
	bool table_owned;		/* NFTA_TABLE_OWNER present */
	uint32_t table_owner;
	struct nftnl_chain *chains[16];
	size_t n_chains;
	struct nftnl_rule **rules;	/* in kernel order, all chains */
	size_t n_rules;
	size_t cap_rules;
	struct nftnl_set *sets[FW_MAX_SERVICES * 2 + 4];
	size_t n_sets;
	/* Objects nobody asked for: stateful objects and flowtables, by name. */
	char extra_objs[8][FW_TABLE_NAME_MAX + 16];
	size_t n_extra_objs;
	/* Base chains of other tables, and those tables' flags. */
	struct nftnl_chain **foreign;
	size_t n_foreign, cap_foreign;
	struct fw_foreign_table {
		uint8_t family;
		char name[FW_TABLE_NAME_MAX];
		uint32_t flags;
	} *foreign_tables;
	size_t n_foreign_tables, cap_foreign_tables;
};

void fw_kernel_free(struct fw_kernel *k);

/*
 * Compare the kernel with the desired state; one finding per item.
 * Returns the number of drift findings in table inet jefe (>= 0), the
 * ones a batch can repair, or -errno.  Other tables' base chains
 * (items "foreign:FAMILY TABLE/CHAIN", fw_item_is_foreign) are drift
 * findings too but are not counted: jefe never changes other tables.
 */
int fw_compare(const struct fw_config *cfg, const struct fw_kernel *k,
	       struct findings *out);
bool fw_item_is_foreign(const char *item);
/* "ip", "inet", ... for an NFPROTO_* value; "?" for others. */
const char *fw_family_name(uint32_t family);
/* nft's hook name for a family's hook number ("prerouting", "ingress"). */
const char *fw_hook_name(uint32_t family, uint32_t hooknum);
/* "dormant,owner" or "none"; a bit without a name as 0x.. */
int fw_table_flags_render(uint32_t flags, char *buf, size_t size);

/* fw_netlink.c */
struct fw_nl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

int fw_nl_open(struct fw_nl *nl);
int fw_nl_fd(const struct fw_nl *nl);
void fw_nl_close(struct fw_nl *nl);
/* Probe nf_tables (NFT_MSG_GETGEN): 0, -EPERM, -EOPNOTSUPP... */
int fw_nl_probe(struct fw_nl *nl);
/* with_foreign: also every other table's base chains (foreign = report). */
int fw_nl_dump(struct fw_nl *nl, struct fw_kernel *k, bool with_foreign);

/*
 * Send the batch that replaces table inet jefe with cfg.  commit false:
 * no end marker, the kernel validates and discards.  On a kernel error,
 * errmsg names the object that caused it.
 */
int fw_nl_replace(struct fw_nl *nl, const struct fw_config *cfg, bool commit,
		  char *errmsg, size_t errsize);

/* Event socket subscribed to NFNLGRP_NFTABLES. */
int fw_nl_events_open(struct fw_nl *ev);
/*
 * Drain: *relevant when a change from another portid touched inet jefe,
 * or (any_table, for foreign = report) any table at all.
 */
int fw_nl_events_drain(struct fw_nl *ev, uint32_t own_portid, bool any_table,
		       bool *relevant);

#endif
