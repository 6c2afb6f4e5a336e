/*
 * nft.c: nftables sets through libnftnl and libmnl.
 *
 * Changes go in batches (NFNL_MSG_BATCH_BEGIN ... END), each one kernel
 * transaction, of messages of up to MSG_ELEMS elements of one set; every
 * message asks for an acknowledgement, so the batch is known applied when
 * every message has its reply with error 0. The kernel handles a batch
 * inside sendmsg(): the replies are queued when it returns, and reading
 * them never waits. An element we add carries the comment NFT_COMMENT
 * (nft list set shows it); a dump tells ours from the others' by it.
 *
 * A second socket, in the group NFNLGRP_NFTABLES, hears what the others
 * change (nftev_*).
 */
#include "nft.h"

#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH_BYTES (1u << 20) /* send when a batch passes this */
#define BUF_BYTES (BATCH_BYTES + (256u << 10))
#define MSG_ELEMS 256 /* elements per message */
#define RECV_BYTES (128u << 10)
#define EV_RECV_BYTES (64u << 10) /* a datagram of notifications: 8 KiB */
#define EV_RCVBUF (4 << 20)	  /* queued notifications, before ENOBUFS */
#define EV_MAX_READS 4096	  /* datagrams read per call */
#define TYPE_IPADDR 7		  /* nftables' datatype numbers */
#define TYPE_IP6ADDR 8

struct nftk {
	struct nl nl;
	char *buf; /* the batch being built */
	size_t len;
	size_t count;	       /* changes in it */
	uint32_t first_seq;    /* of its first acknowledged message */
	uint32_t nacks;	       /* messages that will be acknowledged */
	struct nftnl_set *cur; /* the message being filled */
	const struct nft_dest *cur_d;
	enum sink_op cur_op;
	unsigned cur_n;
	struct nftnl_udata_buf *udata;
};

struct nftk *
nftk_open(void)
{
	struct nftk *k = calloc(1, sizeof *k);
	int size = (int)(BUF_BYTES * 2);

	if (!k)
		return NULL;
	/* Errors carry the failed message's header only, not the batch. */
	if (nl_open(&k->nl, NETLINK_NETFILTER, RECV_BYTES) == -1 ||
	    !(k->buf = malloc(BUF_BYTES)) ||
	    !(k->udata = nftnl_udata_buf_alloc(64)) ||
	    !nftnl_udata_put_strz(k->udata, NFTNL_UDATA_SET_ELEM_COMMENT,
				  NFT_COMMENT))
		goto fail;
	/* A whole batch in one sendmsg: raise the buffer (CAP_NET_ADMIN). */
	if (setsockopt(nl_fd(&k->nl), SOL_SOCKET, SO_SNDBUFFORCE, &size,
		       sizeof size) == -1)
		goto fail;
	(void)setsockopt(nl_fd(&k->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
			 sizeof size);
	return k;
fail:
	nftk_close(&k);
	return NULL;
}

void
nftk_close(struct nftk **kp)
{
	struct nftk *k = *kp;
	int e = errno;

	if (!k)
		return;
	nl_close(&k->nl);
	if (k->cur)
		nftnl_set_free(k->cur);
	if (k->udata)
		nftnl_udata_buf_free(k->udata);
	free(k->buf);
	free(k);
	*kp = NULL;
	errno = e;
}

struct reply {
	uint32_t first, last; /* the sequence numbers we wait for */
	uint32_t got;
	int err;
	int (*data)(const struct nlmsghdr *, void *);
	void *arg;
};

static int
reply_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct reply *r = arg;

	return r->data ? r->data(nlh, r->arg) : MNL_CB_OK;
}

static int
err_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct reply *r = arg;
	int err = nl_error(nlh);

	if (err == -1) {
		r->err = EPROTO;
		return MNL_CB_ERROR;
	}
	if (err && !r->err)
		r->err = err;
	if (nlh->nlmsg_seq - r->first <= r->last - r->first)
		r->got++;
	return err ? MNL_CB_ERROR : MNL_CB_OK;
}

static int
overrun_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct reply *r = arg;

	(void)nlh;
	r->err = ENOSPC;
	return MNL_CB_ERROR;
}

/*
 * Reads replies until want acknowledgements (or, for a dump, DONE) came.
 * The kernel has queued them all before sendmsg returned: a read that
 * would block means they were lost (EAGAIN, ENOBUFS).
 */
static int
replies(struct nftk *k, struct reply *r, uint32_t want, int dump)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_ERROR] = err_cb,
	    [NLMSG_DONE] = nl_cb_stop,
	    [NLMSG_OVERRUN] = overrun_cb,
	};
	int ret;

	while (r->got < want) {
		ret = nl_recv(&k->nl, 0, reply_cb, r, ctl);
		if (r->err) {
			/* The other replies of a refused batch: drop them. */
			nl_drain(&k->nl);
			errno = r->err;
			return -1;
		}
		if (ret == -1) {
			if (!errno)
				errno = EPROTO;
			return -1;
		}
		if (dump && ret == MNL_CB_STOP)
			return 0;
	}
	return 0;
}

static struct nftnl_set *
set_alloc(const struct nft_dest *d)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, d->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, d->family);
	return s;
}

static const char *
fam_name(uint8_t f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

/* A batch of create messages: the table, then the set (both may exist). */
static int
create(struct nftk *k, const struct nft_dest *d)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_set *s = set_alloc(d);
	struct nlmsghdr *nlh;
	struct reply r = {0};
	size_t len = 0;
	int ret = -1;

	if (!t || !s) {
		errno = ENOMEM;
		goto out;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, d->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, d->family);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  d->af == 4 ? TYPE_IPADDR : TYPE_IP6ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->af == 4 ? 4 : 16);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	if (d->timeout_ms)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_batch_begin(k->buf, k->nl.seq++);
	len += NLMSG_ALIGN(((struct nlmsghdr *)k->buf)->nlmsg_len);
	r.first = k->nl.seq;
	nlh = nftnl_nlmsg_build_hdr(k->buf + len, NFT_MSG_NEWTABLE, d->family,
				    NLM_F_CREATE | NLM_F_ACK, k->nl.seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = nftnl_nlmsg_build_hdr(k->buf + len, NFT_MSG_NEWSET, d->family,
				    NLM_F_CREATE | NLM_F_ACK, k->nl.seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	r.last = k->nl.seq - 1;
	nlh = nftnl_batch_end(k->buf + len, k->nl.seq++);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (nl_send(&k->nl, k->buf, len) == 0 && replies(k, &r, 2, 0) == 0)
		ret = 0;
out:
	if (t)
		nftnl_table_free(t);
	if (s)
		nftnl_set_free(s);
	return ret;
}

static int
getset_cb(const struct nlmsghdr *nlh, void *arg)
{
	return nftnl_set_nlmsg_parse(nlh, arg) == -1 ? MNL_CB_ERROR : MNL_CB_OK;
}

enum nftk_check
nftk_check(struct nftk *k, const struct nft_dest *d, int create_it, char *why,
	   size_t whylen)
{
	struct nftnl_set *q = set_alloc(d), *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	struct reply r = {0};
	enum nftk_check ret = NFTK_ERROR;
	uint32_t flags, klen, ktype;

	snprintf(why, whylen, "set %s %s %s", fam_name(d->family), d->table,
		 d->set);
	if (!q || !s) {
		errno = ENOMEM;
		goto out;
	}
	for (;;) {
		nlh = nftnl_nlmsg_build_hdr(k->buf, NFT_MSG_GETSET, d->family,
					    NLM_F_ACK, k->nl.seq);
		nftnl_set_nlmsg_build_payload(nlh, q);
		memset(&r, 0, sizeof r);
		r.first = r.last = k->nl.seq++;
		r.data = getset_cb;
		r.arg = s;
		if (nl_send(&k->nl, k->buf, nlh->nlmsg_len) == -1)
			goto out;
		/* The set, then the acknowledgement. */
		if (replies(k, &r, 1, 0) == 0)
			break;
		if (errno != ENOENT)
			goto out;
		/* Missing: created (once) when asked to, else said. */
		if (!create_it) {
			ret = NFTK_MISSING;
			goto out;
		}
		if (create(k, d) == -1)
			goto out;
		create_it = 0;
	}
	flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS)
		    ? nftnl_set_get_u32(s, NFTNL_SET_FLAGS)
		    : 0;
	klen = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	ktype = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	ret = NFTK_WRONG;
	if (flags &
	    (NFT_SET_INTERVAL | NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT))
		snprintf(why, whylen,
			 "set %s %s %s: an interval set, a map or "
			 "a concatenation (want a plain set of %s)",
			 fam_name(d->family), d->table, d->set,
			 d->af == 4 ? "ipv4_addr" : "ipv6_addr");
	else if (klen != (d->af == 4 ? 4u : 16u) ||
		 ktype != (d->af == 4 ? TYPE_IPADDR : TYPE_IP6ADDR))
		snprintf(why, whylen, "set %s %s %s: not of type %s",
			 fam_name(d->family), d->table, d->set,
			 d->af == 4 ? "ipv4_addr" : "ipv6_addr");
	else if (d->timeout_ms && !(flags & NFT_SET_TIMEOUT))
		snprintf(why, whylen,
			 "set %s %s %s: TIMEOUT is set but the set "
			 "has no 'flags timeout'",
			 fam_name(d->family), d->table, d->set);
	else
		ret = NFTK_OK;
out:
	if (q)
		nftnl_set_free(q);
	if (s)
		nftnl_set_free(s);
	return ret;
}

struct dump {
	const struct nft_dest *d;
	uint32_t id;
	struct sink *s;
	int err;
};

static int
comment_cb(const struct nftnl_udata *a, void *arg)
{
	int *ours = arg;
	const char *v = nftnl_udata_get(a);
	uint8_t len = nftnl_udata_len(a);

	if (nftnl_udata_type(a) == NFTNL_UDATA_SET_ELEM_COMMENT &&
	    len == sizeof NFT_COMMENT && !memcmp(v, NFT_COMMENT, len))
		*ours = 1;
	return MNL_CB_OK;
}

static int
elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct dump *dp = arg;
	struct rec_addr a;
	const void *key, *ud;
	uint32_t klen, ulen;
	int ours = 0;

	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	if (!key || klen != (dp->d->af == 4 ? 4u : 16u))
		return 0;
	rec_addr_set(&a, key, klen);
	if ((ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen)))
		nftnl_udata_parse(ud, ulen, comment_cb, &ours);
	if (sink_view_add(dp->s, dp->id, &a, ours ? SINK_OURS : SINK_FOREIGN)) {
		dp->err = ENOMEM;
		return -1;
	}
	return 0;
}

static int
dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *dp = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s) {
		dp->err = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == -1 ||
	    nftnl_set_elem_foreach(s, elem_cb, dp) == -1) {
		if (!dp->err)
			dp->err = EPROTO;
		ret = MNL_CB_ERROR;
	}
	nftnl_set_free(s);
	return ret;
}

int
nftk_dump(struct nftk *k, const struct nft_dest *d, uint32_t id, struct sink *s)
{
	struct nftnl_set *q = set_alloc(d);
	struct nlmsghdr *nlh;
	struct dump dp = {d, id, s, 0};
	struct reply r = {0};

	if (!q) {
		errno = ENOMEM;
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr(k->buf, NFT_MSG_GETSETELEM, d->family,
				    NLM_F_DUMP | NLM_F_ACK, k->nl.seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, q);
	nftnl_set_free(q);
	r.first = r.last = k->nl.seq++;
	r.data = dump_cb;
	r.arg = &dp;
	if (nl_send(&k->nl, k->buf, nlh->nlmsg_len) == -1)
		return -1;
	if (replies(k, &r, 1, 1) == -1) {
		if (dp.err)
			errno = dp.err;
		return -1;
	}
	return 0;
}

void
nftk_batch_begin(struct nftk *k)
{
	struct nlmsghdr *nlh = nftnl_batch_begin(k->buf, k->nl.seq++);

	k->len = NLMSG_ALIGN(nlh->nlmsg_len);
	k->count = 0;
	k->nacks = 0;
	k->first_seq = k->nl.seq;
}

/* Closes the message being filled into the batch. */
static void
flush_msg(struct nftk *k)
{
	struct nlmsghdr *nlh;

	if (!k->cur)
		return;
	nlh = nftnl_nlmsg_build_hdr(
	    k->buf + k->len,
	    k->cur_op == SINK_DEL ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
	    k->cur_d->family,
	    (k->cur_op == SINK_DEL ? 0 : NLM_F_CREATE | NLM_F_EXCL) | NLM_F_ACK,
	    k->nl.seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, k->cur);
	k->len += NLMSG_ALIGN(nlh->nlmsg_len);
	k->nacks++;
	nftnl_set_free(k->cur);
	k->cur = NULL;
}

int
nftk_batch_add(struct nftk *k, const struct nft_dest *d, enum sink_op op,
	       const struct rec_addr *p)
{
	struct nftnl_set_elem *e;

	if (k->cur &&
	    (k->cur_d != d || k->cur_op != op || k->cur_n == MSG_ELEMS))
		flush_msg(k);
	if (!k->cur) {
		if (!(k->cur = set_alloc(d)))
			return -1;
		k->cur_d = d;
		k->cur_op = op;
		k->cur_n = 0;
	}
	if (!(e = nftnl_set_elem_alloc()))
		return -1;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, p->a, d->af == 4 ? 4 : 16);
	if (op != SINK_DEL) {
		if (d->timeout_ms)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT,
					       d->timeout_ms);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(k->udata),
				   nftnl_udata_buf_len(k->udata));
	}
	nftnl_set_elem_add(k->cur, e);
	k->cur_n++;
	k->count++;
	return 0;
}

int
nftk_batch_full(const struct nftk *k)
{
	/* An element is under 100 bytes: the open message always fits. */
	return k->len + (size_t)k->cur_n * 100 >= BATCH_BYTES;
}

size_t
nftk_batch_count(const struct nftk *k)
{
	return k->count;
}

int
nftk_batch_send(struct nftk *k)
{
	struct nlmsghdr *nlh;
	struct reply r = {0};

	flush_msg(k);
	if (!k->nacks)
		return 0;
	r.first = k->first_seq;
	r.last = k->nl.seq - 1;
	nlh = nftnl_batch_end(k->buf + k->len, k->nl.seq++);
	k->len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (nl_send(&k->nl, k->buf, k->len) == -1)
		return -1;
	return replies(k, &r, k->nacks, 0);
}

/* --- the ruleset's notifications ---------------------------------------- */

struct nftev {
	struct nl nl;
	uint32_t own; /* the port id of nft-set's changes */
};

struct nftev *
nftev_open(const struct nftk *k)
{
	struct nftev *e = calloc(1, sizeof *e);
	unsigned grp = NFNLGRP_NFTABLES;
	int size = EV_RCVBUF, fl;
	/*
	 * Drops the datagrams of nft-set's own transactions before they are
	 * queued, so that a replay of a million elements does not overflow
	 * the buffer with its own notifications. The kernel puts only the
	 * notifications of one transaction in a datagram (one port id): the
	 * first header says it for all. A classic BPF load is big-endian.
	 */
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct nlmsghdr, nlmsg_pid)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(k->nl.portid), 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};

	if (!e)
		return NULL;
	e->own = k->nl.portid;
	/* The filter before the group: nothing of ours slips in. */
	if (nl_open(&e->nl, NETLINK_NETFILTER, EV_RECV_BYTES) == -1 ||
	    setsockopt(nl_fd(&e->nl), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		       sizeof prog) == -1 ||
	    (fl = fcntl(nl_fd(&e->nl), F_GETFL)) == -1 ||
	    fcntl(nl_fd(&e->nl), F_SETFL, fl | O_NONBLOCK) == -1 ||
	    mnl_socket_setsockopt(e->nl.sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof grp) == -1) {
		nftev_close(&e);
		return NULL;
	}
	(void)setsockopt(nl_fd(&e->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
			 sizeof size);
	return e;
}

void
nftev_close(struct nftev **ep)
{
	struct nftev *e = *ep;
	int err = errno;

	if (!e)
		return;
	if (e->nl.sock)
		nl_close(&e->nl);
	free(e);
	*ep = NULL;
	errno = err;
}

int
nftev_fd(const struct nftev *e)
{
	return nl_fd(&e->nl);
}

struct evread {
	void (*fn)(void *, const struct nftev_msg *);
	void *arg;
	uint32_t own;
	int lost;
};

/*
 * A notification's names: attribute 1 is the table's name in a table
 * message (NFTA_TABLE_NAME) and the table in a set or element message
 * (NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE); attribute 2 the set
 * (NFTA_SET_NAME, NFTA_SET_ELEM_LIST_SET). Only those two are read, with
 * libmnl's checks: libnftnl's parsers would read every element of a flush
 * and exit(3) on an attribute they do not expect.
 */
static int
ev_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;
	uint16_t t = mnl_attr_get_type(a);

	if ((t == 1 || t == 2) &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		name[t] = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* One notification: its family, table and set. */
static int
ev_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct evread *r = arg;
	struct nftev_msg m = {NFNL_MSG_TYPE(nlh->nlmsg_type), 0, "", ""};
	const char *name[3] = {NULL, NULL, NULL};
	const struct nfgenmsg *g;

	/* Our own changes (the filter left them out: this is the check). */
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_pid == r->own)
		return MNL_CB_OK;
	switch (m.type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case NFT_MSG_DELSETELEM:
		break;
	default:
		return MNL_CB_OK; /* rules, chains, elements added, ... */
	}
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *g ||
	    mnl_attr_parse(nlh, sizeof *g, ev_attr_cb, name) != MNL_CB_OK ||
	    !name[1] ||
	    (m.type != NFT_MSG_NEWTABLE && m.type != NFT_MSG_DELTABLE &&
	     !name[2])) {
		r->lost = 1; /* unreadable: as if lost */
		return MNL_CB_OK;
	}
	g = mnl_nlmsg_get_payload(nlh);
	m.family = g->nfgen_family;
	m.table = name[1];
	if (m.type != NFT_MSG_NEWTABLE && m.type != NFT_MSG_DELTABLE)
		m.set = name[2];
	r->fn(r->arg, &m);
	return MNL_CB_OK;
}

int
nftev_parse(const uint8_t *buf, size_t len, uint32_t own,
	    void (*fn)(void *, const struct nftev_msg *), void *arg)
{
	struct evread r = {fn, arg, own, 0};

	if (nl_run(buf, len, 0, 0, ev_cb, &r, NULL) == MNL_CB_ERROR)
		r.lost = 1;
	return r.lost ? -1 : 0;
}

int
nftev_read(struct nftev *e, void (*fn)(void *, const struct nftev_msg *),
	   void *arg)
{
	static const struct nftev_msg lost = {NFTEV_LOST, 0, "", ""};
	struct evread r = {fn, arg, e->own, 0};
	ssize_t n;
	int i;

	/* Bounded: what a flood leaves waits for the next turn. */
	for (i = 0; i < EV_MAX_READS; i++) {
		n = recv(nl_fd(&e->nl), e->nl.rbuf, e->nl.rlen,
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOBUFS) {
			r.lost = 1;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1)
			return -1;
		/* MSG_TRUNC: n is the datagram's length, whole or not. */
		if ((size_t)n > e->nl.rlen ||
		    nftev_parse((const uint8_t *)e->nl.rbuf, (size_t)n, e->own,
				fn, arg) == -1)
			r.lost = 1;
	}
	if (r.lost)
		fn(arg, &lost);
	return 0;
}
