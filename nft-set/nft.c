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
 */
#include "nft.h"

#include "nlcheck.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH_BYTES (1u << 20) /* send when a batch passes this */
#define BUF_BYTES (BATCH_BYTES + (256u << 10))
#define MSG_ELEMS 256 /* elements per message */
#define RECV_BYTES (128u << 10)
#define TYPE_IPADDR 7 /* nftables' datatype numbers */
#define TYPE_IP6ADDR 8

struct nftk {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
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
	char *rbuf;
};

struct nftk *
nftk_open(void)
{
	struct nftk *k = calloc(1, sizeof *k);
	int one = 1, size = (int)(BUF_BYTES * 2);

	if (!k)
		return NULL;
	if (!(k->buf = malloc(BUF_BYTES)) || !(k->rbuf = malloc(RECV_BYTES)) ||
	    !(k->udata = nftnl_udata_buf_alloc(64)) ||
	    !nftnl_udata_put_strz(k->udata, NFTNL_UDATA_SET_ELEM_COMMENT,
				  NFT_COMMENT) ||
	    !(k->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ||
	    mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	k->portid = mnl_socket_get_portid(k->nl);
	k->seq = (uint32_t)time(NULL);
	/* Errors carry the failed message's header only, not the batch. */
	(void)mnl_socket_setsockopt(k->nl, NETLINK_CAP_ACK, &one, sizeof one);
	/* A whole batch in one sendmsg: raise the buffer (CAP_NET_ADMIN). */
	if (setsockopt(mnl_socket_get_fd(k->nl), SOL_SOCKET, SO_SNDBUFFORCE,
		       &size, sizeof size) == -1)
		goto fail;
	(void)setsockopt(mnl_socket_get_fd(k->nl), SOL_SOCKET, SO_RCVBUFFORCE,
			 &size, sizeof size);
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
	if (k->nl)
		mnl_socket_close(k->nl);
	if (k->cur)
		nftnl_set_free(k->cur);
	if (k->udata)
		nftnl_udata_buf_free(k->udata);
	free(k->buf);
	free(k->rbuf);
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
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *e)) {
		r->err = EPROTO;
		return MNL_CB_ERROR;
	}
	if (e->error && !r->err)
		r->err = -e->error;
	if (nlh->nlmsg_seq - r->first <= r->last - r->first)
		r->got++;
	return e->error ? MNL_CB_ERROR : MNL_CB_OK;
}

static int
done_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_STOP;
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
	    [NLMSG_DONE] = done_cb,
	    [NLMSG_OVERRUN] = overrun_cb,
	};
	ssize_t n;
	int ret;

	while (r->got < want) {
		n = recv(mnl_socket_get_fd(k->nl), k->rbuf, RECV_BYTES,
			 MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPROTO;
			return -1;
		}
		if (!nl_frames_ok(k->rbuf, (size_t)n)) {
			errno = EPROTO;
			return -1;
		}
		ret = mnl_cb_run2(k->rbuf, (size_t)n, 0, k->portid, reply_cb, r,
				  ctl, NLMSG_MIN_TYPE);
		if (r->err) {
			/* The other replies of a refused batch: drop them. */
			while (recv(mnl_socket_get_fd(k->nl), k->rbuf,
				    RECV_BYTES, MSG_DONTWAIT) > 0)
				;
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

static int
send_buf(struct nftk *k, const void *buf, size_t len)
{
	ssize_t n = mnl_socket_sendto(k->nl, buf, len);

	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
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
	nftnl_batch_begin(k->buf, k->seq++);
	len += NLMSG_ALIGN(((struct nlmsghdr *)k->buf)->nlmsg_len);
	r.first = k->seq;
	nlh = nftnl_nlmsg_build_hdr(k->buf + len, NFT_MSG_NEWTABLE, d->family,
				    NLM_F_CREATE | NLM_F_ACK, k->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = nftnl_nlmsg_build_hdr(k->buf + len, NFT_MSG_NEWSET, d->family,
				    NLM_F_CREATE | NLM_F_ACK, k->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	r.last = k->seq - 1;
	nlh = nftnl_batch_end(k->buf + len, k->seq++);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (send_buf(k, k->buf, len) == 0 && replies(k, &r, 2, 0) == 0)
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
					    NLM_F_ACK, k->seq);
		nftnl_set_nlmsg_build_payload(nlh, q);
		memset(&r, 0, sizeof r);
		r.first = r.last = k->seq++;
		r.data = getset_cb;
		r.arg = s;
		if (send_buf(k, k->buf, nlh->nlmsg_len) == -1)
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
				    NLM_F_DUMP | NLM_F_ACK, k->seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, q);
	nftnl_set_free(q);
	r.first = r.last = k->seq++;
	r.data = dump_cb;
	r.arg = &dp;
	if (send_buf(k, k->buf, nlh->nlmsg_len) == -1)
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
	struct nlmsghdr *nlh = nftnl_batch_begin(k->buf, k->seq++);

	k->len = NLMSG_ALIGN(nlh->nlmsg_len);
	k->count = 0;
	k->nacks = 0;
	k->first_seq = k->seq;
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
	    k->seq++);
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
	r.last = k->seq - 1;
	nlh = nftnl_batch_end(k->buf + k->len, k->seq++);
	k->len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (send_buf(k, k->buf, k->len) == -1)
		return -1;
	return replies(k, &r, k->nacks, 0);
}
