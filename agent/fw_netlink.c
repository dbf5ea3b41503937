/* SPDX-License-Identifier: MIT */
/*
 * nfnetlink for the firewall layer, the way nftables' src/mnl.c does it:
 * a private socket with its own port id, a sequence number per message,
 * NETLINK_EXT_ACK on, NLM_F_ACK on every message of a batch and every
 * ack read back and mapped to the object that caused it.  Every wait is
 * bounded by a poll() timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "errors.h"
#include "firewall.h"
#include "util.h"

#define FW_NL_TIMEOUT_MS	5000
/* Dump replies come in skbs of up to 32 KiB (libmnl >= 1.0.5 calls this
 * FW_NL_RCV_SIZE; Debian 12 has 1.0.4). */
#define FW_NL_RCV_SIZE		32768
/* Ranges per NEWSETELEM message: well below the 64 KiB netlink message cap. */
#define FW_ELEMS_PER_MSG	1000

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

static int fw_nl_socket(struct fw_nl *nl, unsigned int rcvbuf)
{
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	/* Close-on-exec: it must not leak into `sshd -T` and the other children. */
	nl->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->nl)
		return -errno;
	if (mnl_socket_bind(nl->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl->nl);
		nl->nl = NULL;
		return ret;
	}
	nl->portid = mnl_socket_get_portid(nl->nl);
	/* Both are best effort: an old kernel still acks, just less precisely. */
	mnl_socket_setsockopt(nl->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	/* The socket is ours alone (its own port id): start anywhere. */
	nl->seq = 1;
	return 0;
}

int fw_nl_open(struct fw_nl *nl)
{
	return fw_nl_socket(nl, 1u << 20);
}

int fw_nl_fd(const struct fw_nl *nl)
{
	return mnl_socket_get_fd(nl->nl);
}

void fw_nl_close(struct fw_nl *nl)
{
	if (nl->nl)
		mnl_socket_close(nl->nl);
	nl->nl = NULL;
	nl->portid = 0;
}

static int fw_nl_recv(struct fw_nl *nl, void *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl->nl), .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	n = mnl_socket_recvfrom(nl->nl, buf, size);
	if (n < 0)
		return -errno;
	return (int)n;
}

/* Send one request and run cb on every reply until the dump ends or the ack. */
static int fw_nl_talk(struct fw_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	char *buf;
	int ret, n;

	buf = malloc(FW_NL_RCV_SIZE);
	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(nl->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = fw_nl_recv(nl, buf, FW_NL_RCV_SIZE, FW_NL_TIMEOUT_MS);
		if (n < 0) {
			ret = n;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret < 0)
			ret = -errno;
	} while (ret > 0);
out:
	free(buf);
	return ret;
}

struct fw_dump {
	struct fw_kernel *k;
	struct nftnl_set *set;	/* GETSETELEM: the set the elements go to */
	int err;
};

static int fw_dump_table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	d->k->table = true;
	/* the kernel always sends NFTA_TABLE_FLAGS; dormant is one of them */
	d->k->table_flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ?
			    nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) : 0;
	d->k->table_owned = nftnl_table_is_set(t, NFTNL_TABLE_OWNER);
	d->k->table_owner = d->k->table_owned ? nftnl_table_get_u32(t, NFTNL_TABLE_OWNER) : 0;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* Every table of every family: only the foreign ones are kept. */
static int fw_dump_tables_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct fw_kernel *k = d->k;
	struct nftnl_table *t = nftnl_table_alloc();
	struct fw_foreign_table *ft;
	uint32_t family;
	const char *name;

	if (!t) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_table_nlmsg_parse(nlh, t) < 0 || !nftnl_table_is_set(t, NFTNL_TABLE_NAME)) {
		nftnl_table_free(t);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
	family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	if (family == NFPROTO_INET && strcmp(name, FW_TABLE) == 0) {
		nftnl_table_free(t);
		return MNL_CB_OK;
	}
	void *v = array_grow(k->foreign_tables, k->n_foreign_tables, &k->cap_foreign_tables,
			     sizeof(*k->foreign_tables));

	if (!v) {
		nftnl_table_free(t);
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	k->foreign_tables = v;
	ft = &k->foreign_tables[k->n_foreign_tables++];
	ft->family = (uint8_t)family;
	snprintf(ft->name, sizeof(ft->name), "%s", name);
	ft->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ?
		    nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) : 0;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* Every chain of every family: the base chains outside inet jefe are kept. */
static int fw_dump_foreign_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct fw_kernel *k = d->k;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE)) {
		nftnl_chain_free(c);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	if ((strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), FW_TABLE) == 0 &&
	     nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) == NFPROTO_INET) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	void *v = array_grow(k->foreign, k->n_foreign, &k->cap_foreign, sizeof(*k->foreign));

	if (!v) {
		nftnl_chain_free(c);
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	k->foreign = v;
	k->foreign[k->n_foreign++] = c;
	return MNL_CB_OK;
}

static int fw_obj_attr_cb(const struct nlattr *attr, void *data)
{
	const char **tn = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* NFTA_OBJ_TABLE/NAME and NFTA_FLOWTABLE_TABLE/NAME are 1 and 2 */
	if ((type == NFTA_OBJ_TABLE || type == NFTA_OBJ_NAME) &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		tn[type - NFTA_OBJ_TABLE] = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/*
 * A stateful object or a flowtable in table inet jefe: the policy never
 * makes one, so each is drift by name (a flowtable is how a rule could
 * move flows past the hooks).
 */
static int fw_dump_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct fw_kernel *k = d->k;
	const char *tn[2] = { NULL, NULL };
	const char *kind = NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWFLOWTABLE ?
			   "flowtable" : "object";

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fw_obj_attr_cb, tn) < 0 ||
	    !tn[0] || !tn[1]) {
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	if (strcmp(tn[0], FW_TABLE) != 0 || k->n_extra_objs == ARRAY_SIZE(k->extra_objs))
		return MNL_CB_OK;
	snprintf(k->extra_objs[k->n_extra_objs++], sizeof(k->extra_objs[0]), "%s %.*s", kind,
		 FW_TABLE_NAME_MAX - 1, tn[1]);
	return MNL_CB_OK;
}

static int fw_dump_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE)) {
		nftnl_chain_free(c);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), FW_TABLE) != 0 ||
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) != NFPROTO_INET ||
	    d->k->n_chains == ARRAY_SIZE(d->k->chains)) {
		/* another table's, or more chains than we care to list: the
		 * ones listed are enough to report drift */
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	d->k->chains[d->k->n_chains++] = c;
	return MNL_CB_OK;
}

static int fw_dump_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct fw_kernel *k = d->k;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_TABLE)) {
		nftnl_rule_free(r);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), FW_TABLE) != 0 ||
	    nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) != NFPROTO_INET) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	void *v = array_grow(k->rules, k->n_rules, &k->cap_rules, sizeof(*k->rules));

	if (!v) {
		nftnl_rule_free(r);
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	k->rules = v;
	k->rules[k->n_rules++] = r;
	return MNL_CB_OK;
}

static int fw_dump_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 || !nftnl_set_is_set(s, NFTNL_SET_NAME) ||
	    !nftnl_set_is_set(s, NFTNL_SET_TABLE)) {
		nftnl_set_free(s);
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), FW_TABLE) != 0 ||
	    d->k->n_sets == ARRAY_SIZE(d->k->sets)) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	d->k->sets[d->k->n_sets++] = s;
	return MNL_CB_OK;
}

static int fw_dump_elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_dump *d = data;

	if (nftnl_set_elems_nlmsg_parse(nlh, d->set) < 0) {
		d->err = -JEFE_ENETLINK;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * One request for table inet jefe's objects (family inet, filtered to
 * our table), or with family NFPROTO_UNSPEC a dump of every family's
 * objects with no filter.
 */
static int fw_nl_get_family(struct fw_nl *nl, uint16_t cmd, uint16_t family, uint16_t flags,
			    const char *set, mnl_cb_t cb, struct fw_dump *d)
{
	/* zeroed: libmnl 1.0.4 leaves attribute padding as it finds it */
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf, cmd, family, flags, nl->seq++);
	if (family == NFPROTO_UNSPEC)
		cmd = 0;	/* no table filter */
	switch (cmd) {
	case NFT_MSG_GETTABLE: {
		struct nftnl_table *t = fw_table_build();

		if (!t)
			return -ENOMEM;
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		break;
	}
	case NFT_MSG_GETCHAIN:
	case NFT_MSG_GETRULE:
	case NFT_MSG_GETOBJ:
	case NFT_MSG_GETFLOWTABLE:
		/* NFTA_{CHAIN,RULE,OBJ,FLOWTABLE}_TABLE are all attribute 1 */
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, FW_TABLE);
		break;
	case NFT_MSG_GETSET:
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, FW_TABLE);
		break;
	case NFT_MSG_GETSETELEM:
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, FW_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
		break;
	default:
		break;
	}
	ret = fw_nl_talk(nl, nlh, cb, d);
	if (d->err)
		return d->err;
	return ret < 0 ? ret : 0;
}

static int fw_nl_get(struct fw_nl *nl, uint16_t cmd, uint16_t flags,
		     const char *set, mnl_cb_t cb, struct fw_dump *d)
{
	return fw_nl_get_family(nl, cmd, NFPROTO_INET, flags, set, cb, d);
}

static int fw_gen_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NFTA_GEN_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

static int fw_gen_cb(const struct nlmsghdr *nlh, void *data)
{
	if (data)
		mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fw_gen_attr_cb, data);
	return MNL_CB_OK;
}

/* The ruleset's generation: it changes with every committed transaction. */
static int fw_nl_genid(struct fw_nl *nl, uint32_t *genid)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, nl->seq++);
	return fw_nl_talk(nl, nlh, fw_gen_cb, genid);
}

int fw_nl_probe(struct fw_nl *nl)
{
	uint32_t genid;

	return fw_nl_genid(nl, &genid);
}

static int fw_nl_dump_once(struct fw_nl *nl, struct fw_kernel *k, bool with_foreign)
{
	struct fw_dump d = { .k = k };
	int ret;

	memset(k, 0, sizeof(*k));
	if (with_foreign) {
		ret = fw_nl_get_family(nl, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, NULL,
				       fw_dump_tables_cb, &d);
		if (ret < 0)
			goto fail;
		ret = fw_nl_get_family(nl, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP, NULL,
				       fw_dump_foreign_chain_cb, &d);
		if (ret < 0)
			goto fail;
	}
	ret = fw_nl_get(nl, NFT_MSG_GETTABLE, NLM_F_ACK, NULL, fw_dump_table_cb, &d);
	if (ret == -ENOENT)
		return 0;	/* no table: that is drift, not an error */
	if (ret < 0)
		goto fail;
	ret = fw_nl_get(nl, NFT_MSG_GETOBJ, NLM_F_DUMP, NULL, fw_dump_obj_cb, &d);
	if (ret < 0)
		goto fail;
	ret = fw_nl_get(nl, NFT_MSG_GETFLOWTABLE, NLM_F_DUMP, NULL, fw_dump_obj_cb, &d);
	if (ret < 0)
		goto fail;
	ret = fw_nl_get(nl, NFT_MSG_GETCHAIN, NLM_F_DUMP, NULL, fw_dump_chain_cb, &d);
	if (ret < 0)
		goto fail;
	ret = fw_nl_get(nl, NFT_MSG_GETRULE, NLM_F_DUMP, NULL, fw_dump_rule_cb, &d);
	if (ret < 0)
		goto fail;
	ret = fw_nl_get(nl, NFT_MSG_GETSET, NLM_F_DUMP, NULL, fw_dump_set_cb, &d);
	if (ret < 0)
		goto fail;
	for (size_t i = 0; i < k->n_sets; i++) {
		d.set = k->sets[i];
		ret = fw_nl_get(nl, NFT_MSG_GETSETELEM, NLM_F_DUMP,
				nftnl_set_get_str(k->sets[i], NFTNL_SET_NAME),
				fw_dump_elem_cb, &d);
		if (ret < 0)
			goto fail;
	}
	return 0;
fail:
	fw_kernel_free(k);
	return ret;
}

/*
 * The dump takes several requests; a transaction committed in between
 * would give a picture that never existed (and a false drift report).
 * The generation id before and after tells: retry a few times.
 */
int fw_nl_dump(struct fw_nl *nl, struct fw_kernel *k, bool with_foreign)
{
	uint32_t g0 = 0, g1 = 0;
	int ret;

	for (int tries = 0; tries < 5; tries++) {
		if ((ret = fw_nl_genid(nl, &g0)) < 0)
			return ret;
		if ((ret = fw_nl_dump_once(nl, k, with_foreign)) < 0)
			return ret;
		if ((ret = fw_nl_genid(nl, &g1)) < 0) {
			fw_kernel_free(k);
			return ret;
		}
		if (g0 == g1)
			return 0;
		fw_kernel_free(k);
	}
	return -EAGAIN;
}

/* ---- the batch ---- */

/* Which object a sequence number belongs to, to name it in an error. */
struct fw_msgref {
	uint32_t seq;
	size_t off;		/* of its nlmsghdr in the batch buffer */
	char what[160];
};

struct fw_batch {
	char *buf;
	size_t size;
	struct mnl_nlmsg_batch *b;
	struct fw_msgref *refs;
	size_t n_refs, cap_refs;
	uint32_t begin_seq;
	int err;
};

static struct nlmsghdr *fw_batch_hdr(struct fw_nl *nl, struct fw_batch *fb, uint16_t cmd,
				     uint16_t flags, const char *what)
{
	struct nlmsghdr *nlh;

	if (fb->err)
		return NULL;
	void *v = array_grow(fb->refs, fb->n_refs, &fb->cap_refs, sizeof(*fb->refs));

	if (!v) {
		fb->err = -ENOMEM;
		return NULL;
	}
	fb->refs = v;
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(fb->b), cmd, NFPROTO_INET,
				    flags | NLM_F_ACK, nl->seq);
	fb->refs[fb->n_refs].seq = nl->seq++;
	fb->refs[fb->n_refs].off = (size_t)((char *)nlh - fb->buf);
	snprintf(fb->refs[fb->n_refs].what, sizeof(fb->refs[0].what), "%s", what);
	fb->n_refs++;
	return nlh;
}

static void fw_batch_next(struct fw_batch *fb)
{
	if (!fb->err && !mnl_nlmsg_batch_next(fb->b))
		fb->err = -ENOSPC;	/* the size estimate was wrong */
}

static size_t fw_batch_estimate(const struct fw_config *cfg)
{
	size_t sz = 16384;

	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		sz += cfg->chains[c].n_rules * 1024 + 512;
	for (size_t i = 0; i < cfg->n_sets; i++)
		sz += 1024 + cfg->sets[i].n_ranges * 2 * 64 +
		      (cfg->sets[i].n_ranges / FW_ELEMS_PER_MSG + 1) * 256;
	return sz;
}

static void fw_batch_build(struct fw_nl *nl, struct fw_batch *fb,
			   const struct fw_config *cfg, bool commit)
{
	struct nftnl_table *t = fw_table_build();
	struct nlmsghdr *nlh;
	char what[160], text[80];

	if (!t) {
		fb->err = -ENOMEM;
		return;
	}
	fb->begin_seq = nl->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(fb->b), nl->seq++);
	fw_batch_next(fb);

	/* add (so the delete cannot fail), delete, add: one transaction that
	 * replaces our table and nothing else */
	if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWTABLE, NLM_F_CREATE, "table inet jefe (add)"))) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		fw_batch_next(fb);
	}
	if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_DELTABLE, 0, "table inet jefe (delete)"))) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		fw_batch_next(fb);
	}
	if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
				"table inet jefe (create)"))) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		fw_batch_next(fb);
	}
	nftnl_table_free(t);

	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		struct nftnl_chain *ch = fw_chain_build(&cfg->chains[c]);

		if (!ch) {
			fb->err = -ENOMEM;
			return;
		}
		snprintf(what, sizeof(what), "chain %s", cfg->chains[c].name);
		if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, what))) {
			nftnl_chain_nlmsg_build_payload(nlh, ch);
			fw_batch_next(fb);
		}
		nftnl_chain_free(ch);
	}
	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct fw_set *s = &cfg->sets[i];
		struct nftnl_set *ns = fw_set_build(s, (uint32_t)i + 1);

		if (!ns) {
			fb->err = -ENOMEM;
			return;
		}
		snprintf(what, sizeof(what), "set %s", s->name);
		if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, what))) {
			nftnl_set_nlmsg_build_payload(nlh, ns);
			fw_batch_next(fb);
		}
		nftnl_set_free(ns);
		for (size_t from = 0; from < s->n_ranges; from += FW_ELEMS_PER_MSG) {
			size_t to = from + FW_ELEMS_PER_MSG < s->n_ranges ?
				    from + FW_ELEMS_PER_MSG : s->n_ranges;

			ns = fw_set_elems_build(s, from, to, from == 0);
			if (!ns) {
				fb->err = -ENOMEM;
				return;
			}
			fw_range_render(&s->ranges[from], s->family, text, sizeof(text));
			snprintf(what, sizeof(what), "set %s elements %zu-%zu (from %s)",
				 s->name, from + 1, to, text);
			if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWSETELEM, NLM_F_CREATE, what))) {
				nftnl_set_elems_nlmsg_build_payload(nlh, ns);
				fw_batch_next(fb);
			}
			nftnl_set_free(ns);
		}
	}
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		const struct fw_chain *ch = &cfg->chains[c];

		for (size_t i = 0; i < ch->n_rules; i++) {
			struct nftnl_rule *r = fw_rule_build(ch, &ch->rules[i]);
			char rtext[512];

			if (!r) {
				fb->err = -ENOMEM;
				return;
			}
			fw_rule_render(&ch->rules[i], rtext, sizeof(rtext));
			snprintf(what, sizeof(what), "chain %s rule %zu (%.80s)", ch->name,
				 i + 1, rtext);
			if ((nlh = fw_batch_hdr(nl, fb, NFT_MSG_NEWRULE,
						NLM_F_CREATE | NLM_F_APPEND, what))) {
				nftnl_rule_nlmsg_build_payload(nlh, r);
				fw_batch_next(fb);
			}
			nftnl_rule_free(r);
		}
	}
	/* Without the end marker the kernel validates every message, then
	 * aborts the transaction: nft -c does the same. */
	if (commit) {
		nftnl_batch_end(mnl_nlmsg_batch_current(fb->b), nl->seq++);
		fw_batch_next(fb);
	}
}

struct fw_ack {
	int err;
	char msg[256];
	uint32_t offs;
	bool has_offs;
};

static int fw_ack_attr_cb(const struct nlattr *attr, void *data)
{
	struct fw_ack *a = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(a->msg, sizeof(a->msg), "%s", mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			a->offs = mnl_attr_get_u32(attr);
			a->has_offs = true;
		}
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int fw_ack_parse(const struct nlmsghdr *nlh, struct fw_ack *a)
{
	const struct nlmsgerr *e;
	size_t off;

	memset(a, 0, sizeof(*a));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -JEFE_ENETLINK;
	e = mnl_nlmsg_get_payload(nlh);
	a->err = e->error;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += mnl_nlmsg_get_payload_len(&e->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned int)off, fw_ack_attr_cb, a);
	}
	return 0;
}

static const struct fw_msgref *fw_batch_ref(const struct fw_batch *fb, uint32_t seq)
{
	for (size_t i = 0; i < fb->n_refs; i++)
		if (fb->refs[i].seq == seq)
			return &fb->refs[i];
	return NULL;
}

/* Name the attribute the kernel pointed at (NLMSGERR_ATTR_OFFS). */
static void fw_attr_at(const struct fw_batch *fb, const struct fw_msgref *ref,
		       const struct fw_ack *a, char *buf, size_t size)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(fb->buf + ref->off);

	buf[0] = '\0';
	if (!a->has_offs || a->offs < sizeof(*nlh) ||
	    a->offs + sizeof(struct nlattr) > nlh->nlmsg_len)
		return;
	snprintf(buf, size, ", at attribute type %u (offset %u)",
		 ((const struct nlattr *)((const char *)nlh + a->offs))->nla_type & NLA_TYPE_MASK,
		 a->offs);
}

int fw_nl_replace(struct fw_nl *nl, const struct fw_config *cfg, bool commit,
		  char *errmsg, size_t errsize)
{
	struct fw_batch fb = { 0 };
	char *rbuf = NULL;
	size_t acked = 0;
	int ret = 0, sndbuf;
	bool whole = false;

	errmsg[0] = '\0';
	fb.size = fw_batch_estimate(cfg);
	/* mnl wants room for one message past the limit; zeroed because
	 * libmnl 1.0.4 leaves attribute padding as it finds it */
	fb.buf = calloc(2, fb.size);
	rbuf = malloc(FW_NL_RCV_SIZE);
	if (!fb.buf || !rbuf) {
		ret = -ENOMEM;
		goto out;
	}
	fb.b = mnl_nlmsg_batch_start(fb.buf, fb.size);
	if (!fb.b) {
		ret = -ENOMEM;
		goto out;
	}
	fw_batch_build(nl, &fb, cfg, commit);
	if (fb.err) {
		ret = fb.err;
		snprintf(errmsg, errsize, "building the batch: %s", jefe_strerror(ret));
		goto out;
	}
	/* A large set makes a batch larger than the default socket buffer;
	 * nft raises it the same way (SO_SNDBUFFORCE needs CAP_NET_ADMIN,
	 * which a batch needs anyway). */
	sndbuf = (int)mnl_nlmsg_batch_size(fb.b) + 4096;
	if (setsockopt(mnl_socket_get_fd(nl->nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
		       sizeof(sndbuf)) < 0)
		setsockopt(mnl_socket_get_fd(nl->nl), SOL_SOCKET, SO_SNDBUF, &sndbuf,
			   sizeof(sndbuf));
	if (mnl_socket_sendto(nl->nl, mnl_nlmsg_batch_head(fb.b),
			      mnl_nlmsg_batch_size(fb.b)) < 0) {
		ret = -errno;
		snprintf(errmsg, errsize, "sending the batch: %s", jefe_strerror(ret));
		goto out;
	}
	/* One ack (or error) per message; an error on the batch itself
	 * (EPERM, or a failed commit) carries the begin marker's seq. */
	while (acked < fb.n_refs && !whole) {
		int n = fw_nl_recv(nl, rbuf, FW_NL_RCV_SIZE,
				   FW_NL_TIMEOUT_MS);
		const struct nlmsghdr *nlh;

		if (n < 0) {
			if (!ret)
				ret = n;
			if (!errmsg[0])
				snprintf(errmsg, errsize, "reading acks (%zu of %zu): %s",
					 acked, fb.n_refs, jefe_strerror(n));
			break;
		}
		for (nlh = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct fw_msgref *ref;
			struct fw_ack a;
			char at[64];

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != nl->portid)
				continue;
			if (fw_ack_parse(nlh, &a) < 0) {
				ret = -JEFE_ENETLINK;
				snprintf(errmsg, errsize, "malformed netlink ack");
				goto out;
			}
			if (nlh->nlmsg_seq == fb.begin_seq) {
				whole = true;
				if (a.err && !ret) {
					ret = a.err;
					snprintf(errmsg, errsize, "the batch: %s%s%s",
						 jefe_strerror(a.err), a.msg[0] ? ": " : "", a.msg);
				}
				continue;
			}
			ref = fw_batch_ref(&fb, nlh->nlmsg_seq);
			if (!ref)
				continue;	/* not from this batch */
			acked++;
			if (a.err && !ret) {
				fw_attr_at(&fb, ref, &a, at, sizeof(at));
				ret = a.err;
				snprintf(errmsg, errsize, "%s: %s%s%s%s", ref->what,
					 jefe_strerror(a.err), a.msg[0] ? ": " : "", a.msg, at);
			}
		}
	}
out:
	if (fb.b)
		mnl_nlmsg_batch_stop(fb.b);
	free(fb.refs);
	free(fb.buf);
	free(rbuf);
	return ret;
}

/* ---- events ---- */

int fw_nl_events_open(struct fw_nl *ev)
{
	int grp = NFNLGRP_NFTABLES, ret;

	/* A burst of events (nft -f of a big ruleset) must not overflow
	 * before we drain; if it does anyway, ENOBUFS means "recheck". */
	ret = fw_nl_socket(ev, 4u << 20);
	if (ret < 0)
		return ret;
	if (mnl_socket_setsockopt(ev->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0 ||
	    fcntl(mnl_socket_get_fd(ev->nl), F_SETFL,
		  fcntl(mnl_socket_get_fd(ev->nl), F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		fw_nl_close(ev);
		return ret;
	}
	return 0;
}

static int fw_event_attr_cb(const struct nlattr *attr, void *data)
{
	const char **table = data;

	/* attribute 1 is the table name in every nf_tables object message */
	if (mnl_attr_get_type(attr) == NFTA_TABLE_NAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*table = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

int fw_nl_events_drain(struct fw_nl *ev, uint32_t own_portid, bool any_table,
		       bool *relevant)
{
	char buf[FW_NL_RCV_SIZE];

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(ev->nl), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* events were lost: resync with a full check */
				*relevant = true;
				continue;
			}
			return -errno;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nfgenmsg *g;
			const char *table = NULL;

			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
			    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWGEN)
				continue;
			/* our own transactions carry our socket's port id */
			if (own_portid && nlh->nlmsg_pid == own_portid)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
				continue;
			g = mnl_nlmsg_get_payload(nlh);
			/* foreign = report: a base chain in any table of any
			 * family matters (a dnat in ip nat, a netdev ingress) */
			if (any_table) {
				*relevant = true;
				continue;
			}
			if (g->nfgen_family != NFPROTO_INET)
				continue;
			mnl_attr_parse(nlh, sizeof(*g), fw_event_attr_cb, &table);
			if (table && strcmp(table, FW_TABLE) == 0)
				*relevant = true;
		}
	}
}
