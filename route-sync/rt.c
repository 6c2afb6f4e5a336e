/*
 * rt.c: routes through rtnetlink with libmnl.
 *
 * Up to BATCH_MSGS route messages go in one sendmsg, each asking for an
 * acknowledgement; the kernel handles them all inside sendmsg, so the
 * answers are queued when it returns and reading them never waits. A route
 * of ours carries our protocol number (rtm_protocol), which is also how a
 * delete names it: the kernel deletes only a route of that protocol.
 */
#include "rt.h"

#include "nlcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH_MSGS 512
#define MSG_BYTES 128
#define RECV_BYTES (64u << 10)

struct rtk {
	struct mnl_socket *nl;
	uint32_t portid, seq, first;
	uint8_t proto;
	char *buf;
	size_t len;
	uint32_t nmsg;
	char *rbuf;
	/* routes of ours to delete that belong to no class (found by dump) */
	struct stale {
		uint8_t family, plen, type;
		uint8_t a[16];
		uint32_t table, metric;
	} * stale;
	uint32_t nstale, stalecap;
};

struct rtk *
rtk_open(uint8_t protocol)
{
	struct rtk *k = calloc(1, sizeof *k);
	int one = 1, size = 8 << 20;

	if (!k)
		return NULL;
	k->proto = protocol;
	if (!(k->buf = malloc(BATCH_MSGS * MSG_BYTES)) ||
	    !(k->rbuf = malloc(RECV_BYTES)) ||
	    !(k->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) ||
	    mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	k->portid = mnl_socket_get_portid(k->nl);
	k->seq = (uint32_t)time(NULL);
	(void)mnl_socket_setsockopt(k->nl, NETLINK_CAP_ACK, &one, sizeof one);
	/* Room for a whole batch's answers (beyond rmem_max: CAP_NET_ADMIN;
	 * without it a lost answer means a read-back, nothing worse). */
	if (setsockopt(mnl_socket_get_fd(k->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof size) == -1)
		(void)setsockopt(mnl_socket_get_fd(k->nl), SOL_SOCKET,
				 SO_RCVBUF, &size, sizeof size);
	return k;
fail:
	rtk_close(&k);
	return NULL;
}

void
rtk_close(struct rtk **kp)
{
	struct rtk *k = *kp;
	int e = errno;

	if (!k)
		return;
	if (k->nl)
		mnl_socket_close(k->nl);
	free(k->buf);
	free(k->rbuf);
	free(k->stale);
	free(k);
	*kp = NULL;
	errno = e;
}

static struct nlmsghdr *
route_msg(struct rtk *k, char *buf, uint16_t type, uint16_t flags,
	  uint8_t family, uint8_t plen, const void *dst, uint32_t table,
	  uint32_t metric, uint8_t rtype)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = k->seq++;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	rtm->rtm_family = family;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = k->proto;
	rtm->rtm_type = rtype;
	rtm->rtm_scope =
	    type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return nlh;
}

void
rtk_batch_begin(struct rtk *k)
{
	k->len = 0;
	k->nmsg = 0;
	k->first = k->seq;
}

int
rtk_batch_add(struct rtk *k, const struct rt_dest *d, enum sink_op op,
	      const struct rec_addr *p)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int f = p->family == 4 ? 0 : 1;

	nlh = route_msg(
	    k, k->buf + k->len, op == SINK_DEL ? RTM_DELROUTE : RTM_NEWROUTE,
	    op == SINK_ADD	 ? NLM_F_CREATE | NLM_F_EXCL
	    : op == SINK_REPLACE ? NLM_F_CREATE | NLM_F_REPLACE
				 : 0,
	    p->family == 4 ? AF_INET : AF_INET6, p->plen, p->a, d->table,
	    d->metric, op == SINK_DEL ? RTN_UNSPEC : d->type);
	if (op != SINK_DEL && d->type == RTN_UNICAST) {
		if (d->has_gw[f])
			mnl_attr_put(nlh, RTA_GATEWAY, f ? 16 : 4, d->gw[f]);
		else {
			rtm = mnl_nlmsg_get_payload(nlh);
			rtm->rtm_scope = RT_SCOPE_LINK;
		}
		if (d->oif)
			mnl_attr_put_u32(nlh, RTA_OIF, d->oif);
	}
	k->len += NLMSG_ALIGN(nlh->nlmsg_len);
	k->nmsg++;
	return 0;
}

int
rtk_batch_full(const struct rtk *k)
{
	return k->nmsg == BATCH_MSGS;
}

struct acks {
	struct rtk *k;
	uint8_t *ok;
	uint32_t got;
	int failed, exists, firsterr;
};

static int
ack_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct acks *a = arg;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *e))
		return MNL_CB_ERROR;
	i = e->msg.nlmsg_seq - a->k->first;
	if (i >= a->k->nmsg)
		return MNL_CB_OK; /* a late answer to something else */
	a->got++;
	if (e->error) {
		/* A delete of a route already gone is done. */
		if (-e->error == ESRCH || -e->error == ENOENT)
			return MNL_CB_OK;
		a->ok[i] = 0;
		a->failed++;
		if (-e->error == EEXIST)
			a->exists = 1;
		else if (!a->firsterr)
			a->firsterr = -e->error;
	}
	return MNL_CB_OK;
}

static int
noop_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

int
rtk_batch_send(struct rtk *k, uint8_t *ok, int *exists, int *firsterr)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_ERROR] = ack_cb,
	    [NLMSG_NOOP] = noop_cb,
	    [NLMSG_DONE] = noop_cb,
	};
	struct acks a = {k, ok, 0, 0, 0, 0};
	ssize_t n;

	*exists = *firsterr = 0;
	if (!k->nmsg)
		return 0;
	memset(ok, 1, k->nmsg);
	if (mnl_socket_sendto(k->nl, k->buf, k->len) == -1)
		return -1;
	while (a.got < k->nmsg) {
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
		if (mnl_cb_run2(k->rbuf, (size_t)n, 0, k->portid, NULL, &a, ctl,
				NLMSG_MIN_TYPE) == -1)
			return -1;
	}
	*exists = a.exists;
	*firsterr = a.firsterr;
	return a.failed;
}

struct dump {
	struct rtk *k;
	const struct rt_dest *d;
	uint32_t nd;
	struct sink *s;
	int err;
};

struct rattr {
	const struct nlattr *tb[RTA_MAX + 1];
};

static int
attr_cb(const struct nlattr *a, void *arg)
{
	struct rattr *r = arg;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= RTA_MAX)
		r->tb[t] = a;
	return MNL_CB_OK;
}

static uint32_t
attr_u32(const struct nlattr *a, uint32_t def)
{
	return a && mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a)
						     : def;
}

static int
route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *dp = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct rattr r = {{0}};
	struct rec_addr p;
	uint32_t table, metric, oif, i;
	const struct rt_dest *d;
	const void *gw;
	int f, alen, match;
	struct stale *st;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof *rtm))
		return MNL_CB_OK;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof *rtm, attr_cb, &r) != MNL_CB_OK)
		return MNL_CB_OK;
	f = rtm->rtm_family == AF_INET ? 0 : 1;
	alen = f ? 16 : 4;
	table = attr_u32(r.tb[RTA_TABLE], rtm->rtm_table);
	metric = attr_u32(r.tb[RTA_PRIORITY], 0);
	/* Only host routes, of a table we use. */
	if (rtm->rtm_dst_len != (f ? 128 : 32) || !r.tb[RTA_DST] ||
	    mnl_attr_get_payload_len(r.tb[RTA_DST]) != (uint16_t)alen)
		return MNL_CB_OK;
	for (i = 0; i < dp->nd; i++)
		if (dp->d[i].table == table)
			break;
	if (i == dp->nd)
		return MNL_CB_OK;
	rec_addr_set(&p, mnl_attr_get_payload(r.tb[RTA_DST]), (size_t)alen);
	oif = attr_u32(r.tb[RTA_OIF], 0);
	gw = r.tb[RTA_GATEWAY] &&
		     mnl_attr_get_payload_len(r.tb[RTA_GATEWAY]) == alen
		 ? mnl_attr_get_payload(r.tb[RTA_GATEWAY])
		 : NULL;
	for (i = 0; i < dp->nd; i++) {
		d = &dp->d[i];
		if (d->table != table || d->metric != metric)
			continue;
		if (rtm->rtm_protocol != dp->k->proto) {
			if (sink_view_add(dp->s, i, &p, SINK_FOREIGN) == -1)
				goto nomem;
			return MNL_CB_OK;
		}
		match = rtm->rtm_type == d->type;
		if (match && d->type == RTN_UNICAST)
			match = (d->has_gw[f]
				     ? gw && !memcmp(gw, d->gw[f], (size_t)alen)
				     : !gw) &&
				(!d->dev[0] || oif == d->oif);
		if (sink_view_add(dp->s, i, &p,
				  match ? SINK_OURS : SINK_STALE) == -1)
			goto nomem;
		return MNL_CB_OK;
	}
	if (rtm->rtm_protocol != dp->k->proto)
		return MNL_CB_OK;
	/* Ours, in a table we use, with a metric no class has: it goes. */
	if (dp->k->nstale == dp->k->stalecap) {
		i = dp->k->stalecap ? dp->k->stalecap * 2 : 64;
		if (!(st = realloc(dp->k->stale, i * sizeof *st)))
			goto nomem;
		dp->k->stale = st;
		dp->k->stalecap = i;
	}
	st = &dp->k->stale[dp->k->nstale++];
	st->family = rtm->rtm_family;
	st->plen = rtm->rtm_dst_len;
	st->type = rtm->rtm_type;
	memcpy(st->a, mnl_attr_get_payload(r.tb[RTA_DST]), (size_t)alen);
	st->table = table;
	st->metric = metric;
	return MNL_CB_OK;
nomem:
	dp->err = ENOMEM;
	return MNL_CB_ERROR;
}

static int
done_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_STOP;
}

static int
dump_err_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct dump *dp = arg;

	dp->err = nlh->nlmsg_len < mnl_nlmsg_size(sizeof *e) ? EPROTO
		  : e->error				     ? -e->error
							     : EPROTO;
	return MNL_CB_ERROR;
}

int
rtk_parse(struct rtk *k, const struct rt_dest *d, uint32_t nd, struct sink *s,
	  const void *buf, size_t len)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_NOOP] = noop_cb,
	    [NLMSG_DONE] = done_cb,
	    [NLMSG_ERROR] = dump_err_cb,
	};
	struct dump dp = {k, d, nd, s, 0};

	if (!nl_frames_ok(buf, len))
		return MNL_CB_ERROR;
	return mnl_cb_run2(buf, len, 0, 0, route_cb, &dp, ctl, NLMSG_MIN_TYPE);
}

static int
dump_family(struct rtk *k, struct dump *dp, uint8_t family)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_NOOP] = noop_cb,
	    [NLMSG_DONE] = done_cb,
	    [NLMSG_ERROR] = dump_err_cb,
	};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(k->buf);
	struct rtmsg *rtm;
	ssize_t n;
	int ret;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = k->seq++;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	rtm->rtm_family = family;
	if (mnl_socket_sendto(k->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	/* A dump goes on as it is read: each read queues the next part. */
	for (;;) {
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
		ret = mnl_cb_run2(k->rbuf, (size_t)n, nlh->nlmsg_seq, k->portid,
				  route_cb, dp, ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR || ret == -1) {
			if (dp->err)
				errno = dp->err;
			return -1;
		}
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int
rtk_dump(struct rtk *k, const struct rt_dest *d, uint32_t nd, struct sink *s)
{
	struct dump dp = {k, d, nd, s, 0};
	uint8_t ok[BATCH_MSGS];
	uint32_t i;
	int exists, firsterr;

	k->nstale = 0;
	if (dump_family(k, &dp, AF_INET) == -1 ||
	    dump_family(k, &dp, AF_INET6) == -1)
		return -1;
	for (i = 0; i < k->nstale; i++) {
		if (i % BATCH_MSGS == 0)
			rtk_batch_begin(k);
		route_msg(k, k->buf + k->len, RTM_DELROUTE, 0,
			  k->stale[i].family, k->stale[i].plen, k->stale[i].a,
			  k->stale[i].table, k->stale[i].metric, RTN_UNSPEC);
		k->len += NLMSG_ALIGN(
		    ((struct nlmsghdr *)(k->buf + k->len))->nlmsg_len);
		k->nmsg++;
		if ((i + 1) % BATCH_MSGS == 0 || i + 1 == k->nstale)
			if (rtk_batch_send(k, ok, &exists, &firsterr) == -1)
				return -1;
	}
	return 0;
}
