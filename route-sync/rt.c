/*
 * rt.c: routes through rtnetlink with libmnl.
 *
 * Up to BATCH_MSGS route messages go in one sendmsg, each asking for an
 * acknowledgement; the kernel handles them all inside sendmsg, so the
 * answers are queued when it returns and reading them never waits. A route
 * of ours carries our protocol number (rtm_protocol), which is also how a
 * delete names it: the kernel deletes only a route of that protocol.
 *
 * A second socket follows the kernel's link, address and route
 * notifications (rtk_follow): the kernel removes routes without a word
 * (IPv4 routes through a link that goes down, routes via a gateway whose
 * address is removed), and refuses ours while a link is down; the program
 * reads the tables back when one of those changes.
 */
#include "rt.h"

#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH_MSGS 512
#define MSG_BYTES 128
#define RECV_BYTES (64u << 10)
#define EV_BYTES (32u << 10) /* one notification is at most a page */
#define EV_RCVBUF (1 << 20)
/* The link states that decide whether routes through a link can be. */
#define LINK_FLAGS (IFF_UP | IFF_RUNNING | IFF_LOWER_UP)

struct rtk {
	struct nl nl;
	uint32_t first;
	uint8_t proto;
	char *buf;
	size_t len;
	uint32_t nmsg;
	/* routes of ours to delete that belong to no class (found by dump) */
	struct stale {
		uint8_t family, plen, type;
		uint8_t a[16];
		uint32_t table, metric;
	} * stale;
	uint32_t nstale, stalecap;
	/* notifications (rtk_follow) */
	struct nl ev;
	struct link {
		uint32_t idx, flags;
	} * links; /* by index: each link's last LINK_FLAGS */
	uint32_t nlinks, linkcap;
};

struct rtk *
rtk_open(uint8_t protocol)
{
	struct rtk *k = calloc(1, sizeof *k);
	int size = 8 << 20;

	if (!k)
		return NULL;
	k->proto = protocol;
	if (nl_open(&k->nl, NETLINK_ROUTE, RECV_BYTES) == -1 ||
	    !(k->buf = malloc(BATCH_MSGS * MSG_BYTES)))
		goto fail;
	/* Room for a whole batch's answers (beyond rmem_max: CAP_NET_ADMIN;
	 * without it a lost answer means a read-back, nothing worse). */
	if (setsockopt(nl_fd(&k->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof size) == -1)
		(void)setsockopt(nl_fd(&k->nl), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof size);
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
	nl_close(&k->nl);
	nl_close(&k->ev);
	free(k->links);
	free(k->buf);
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
	nlh->nlmsg_seq = k->nl.seq++;
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
	k->first = k->nl.seq;
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
	int err = nl_error(nlh);
	uint32_t i;

	if (err == -1)
		return MNL_CB_ERROR;
	i = e->msg.nlmsg_seq - a->k->first;
	if (i >= a->k->nmsg)
		return MNL_CB_OK; /* a late answer to something else */
	a->got++;
	if (err) {
		/* A delete of a route already gone is done. */
		if (err == ESRCH || err == ENOENT)
			return MNL_CB_OK;
		a->ok[i] = 0;
		a->failed++;
		if (err == EEXIST)
			a->exists = 1;
		else if (!a->firsterr)
			a->firsterr = err;
	}
	return MNL_CB_OK;
}

int
rtk_batch_send(struct rtk *k, uint8_t *ok, int *exists, int *firsterr)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_ERROR] = ack_cb,
	    [NLMSG_NOOP] = nl_cb_ok,
	    [NLMSG_DONE] = nl_cb_ok,
	};
	struct acks a = {k, ok, 0, 0, 0, 0};

	*exists = *firsterr = 0;
	if (!k->nmsg)
		return 0;
	memset(ok, 1, k->nmsg);
	if (nl_send(&k->nl, k->buf, k->len) == -1)
		return -1;
	while (a.got < k->nmsg)
		if (nl_recv(&k->nl, 0, NULL, &a, ctl) == -1)
			return -1;
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
	struct rt_changes *c; /* notifications: what they said (else NULL) */
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

/*
 * A route message's attributes into r and its table into *table: 1 when it
 * is a host route (/32, /128) of a table in use by d, else 0.
 */
static int
host_route(const struct nlmsghdr *nlh, const struct rt_dest *d, uint32_t nd,
	   struct rattr *r, uint32_t *table)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t i;
	int f;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *rtm))
		return 0;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	if (mnl_attr_parse(nlh, sizeof *rtm, attr_cb, r) != MNL_CB_OK)
		return 0;
	f = rtm->rtm_family == AF_INET ? 0 : 1;
	*table = attr_u32(r->tb[RTA_TABLE], rtm->rtm_table);
	if (rtm->rtm_dst_len != (f ? 128 : 32) || !r->tb[RTA_DST] ||
	    mnl_attr_get_payload_len(r->tb[RTA_DST]) != (f ? 16 : 4))
		return 0;
	for (i = 0; i < nd; i++)
		if (d[i].table == *table)
			return 1;
	return 0;
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
	    !host_route(nlh, dp->d, dp->nd, &r, &table))
		return MNL_CB_OK;
	f = rtm->rtm_family == AF_INET ? 0 : 1;
	alen = f ? 16 : 4;
	metric = attr_u32(r.tb[RTA_PRIORITY], 0);
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
dump_err_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *dp = arg;
	int err = nl_error(nlh);

	dp->err = err > 0 ? err : EPROTO;
	return MNL_CB_ERROR;
}

/* A dump's control messages. */
static mnl_cb_t dump_ctl[NLMSG_MIN_TYPE] = {
    [NLMSG_NOOP] = nl_cb_ok,
    [NLMSG_DONE] = nl_cb_stop,
    [NLMSG_ERROR] = dump_err_cb,
};

int
rtk_parse(struct rtk *k, const struct rt_dest *d, uint32_t nd, struct sink *s,
	  const void *buf, size_t len)
{
	struct dump dp = {k, d, nd, s, 0, NULL};

	return nl_run(buf, len, 0, 0, route_cb, &dp, dump_ctl);
}

/* Sends a dump request of type for family (the first byte of a family
 * header of hdrlen bytes) and runs every answer through cb. */
static int
dump(struct rtk *k, struct dump *dp, uint16_t type, uint8_t family,
     size_t hdrlen, mnl_cb_t cb)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(k->buf);
	uint8_t *fam;
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = k->nl.seq++;
	fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*fam = family;
	if (nl_send(&k->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	/* A dump goes on as it is read: each read queues the next part. */
	for (;;) {
		ret = nl_recv(&k->nl, nlh->nlmsg_seq, cb, dp, dump_ctl);
		if (ret == MNL_CB_ERROR) {
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
	struct dump dp = {k, d, nd, s, 0, NULL};
	uint8_t ok[BATCH_MSGS];
	uint32_t i;
	int exists, firsterr;

	k->nstale = 0;
	if (dump(k, &dp, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg),
		 route_cb) == -1 ||
	    dump(k, &dp, RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg),
		 route_cb) == -1)
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

/* --- following the kernel ----------------------------------------------- */

/* The slot of link idx in k->links, or where it would go (*found 0). */
static uint32_t
link_find(const struct rtk *k, uint32_t idx, int *found)
{
	uint32_t lo = 0, hi = k->nlinks, m;

	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (k->links[m].idx < idx)
			lo = m + 1;
		else
			hi = m;
	}
	*found = lo < k->nlinks && k->links[lo].idx == idx;
	return lo;
}

/*
 * Records link idx's state: 1 when it changed (or the link was not known),
 * 0 when it did not, -1 when memory ran out. A deleted link is forgotten.
 */
static int
link_set(struct rtk *k, uint32_t idx, uint32_t flags, int gone)
{
	struct link *l;
	uint32_t i, cap;
	int found;

	i = link_find(k, idx, &found);
	if (gone) {
		if (found) {
			memmove(&k->links[i], &k->links[i + 1],
				(k->nlinks - i - 1) * sizeof *l);
			k->nlinks--;
		}
		return 1;
	}
	if (found) {
		if (k->links[i].flags == flags)
			return 0;
		k->links[i].flags = flags;
		return 1;
	}
	if (k->nlinks == k->linkcap) {
		cap = k->linkcap ? k->linkcap * 2 : 16;
		if (!(l = realloc(k->links, cap * sizeof *l)))
			return -1;
		k->links = l;
		k->linkcap = cap;
	}
	memmove(&k->links[i + 1], &k->links[i],
		(k->nlinks - i) * sizeof *k->links);
	k->links[i] = (struct link){idx, flags};
	k->nlinks++;
	return 1;
}

/* Notifications were lost, or came garbled: what they said is unknown.
 * The next notification of every link counts as a change (one may have
 * come up unseen), and the tables are read back. */
static void
lost(struct rtk *k, struct rt_changes *c)
{
	k->nlinks = 0;
	c->lost++;
	c->events++;
}

static int
name_cb(const struct nlattr *a, void *arg)
{
	const struct nlattr **name = arg;

	if (mnl_attr_get_type(a) == IFLA_IFNAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*name = a;
	return MNL_CB_OK;
}

/* A link's notification (or its entry in a dump): counted when the link
 * came, went, or went up or down. */
static int
link_msg(struct dump *dp, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *name = NULL;
	struct rt_changes *c = dp->c;
	uint32_t flags;
	int gone = nlh->nlmsg_type == RTM_DELLINK, r;

	/* Not AF_BRIDGE and others: news of a bridge port, not of a link. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *ifi) ||
	    ifi->ifi_family != AF_UNSPEC)
		return MNL_CB_OK;
	flags = ifi->ifi_flags & LINK_FLAGS;
	if ((r = link_set(dp->k, (uint32_t)ifi->ifi_index, flags, gone)) ==
	    -1) {
		dp->err = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (!r)
		return MNL_CB_OK;
	c->links++;
	c->events++;
	(void)mnl_attr_parse(nlh, sizeof *ifi, name_cb, &name);
	snprintf(c->link, sizeof c->link, "%s",
		 name ? mnl_attr_get_str(name) : "?");
	c->state = gone			     ? "removed"
		   : !(flags & IFF_UP)	     ? "down"
		   : !(flags & IFF_LOWER_UP) ? "up without carrier"
					     : "up";
	return MNL_CB_OK;
}

static int
event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *dp = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct rattr r = {{0}};
	uint32_t table;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return link_msg(dp, nlh);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		/* A gateway became reachable, or not. */
		if (nlh->nlmsg_len >=
		    mnl_nlmsg_size(sizeof(struct ifaddrmsg))) {
			dp->c->addrs++;
			dp->c->events++;
		}
		return MNL_CB_OK;
	case RTM_DELROUTE:
		/* Ours, deleted by someone else: the port id of the socket
		 * that asked for it, 0 when the kernel did it alone. */
		if (nlh->nlmsg_pid != dp->k->nl.portid &&
		    host_route(nlh, dp->d, dp->nd, &r, &table) &&
		    rtm->rtm_protocol == dp->k->proto) {
			dp->c->deleted++;
			dp->c->events++;
		}
		return MNL_CB_OK;
	default:
		return MNL_CB_OK;
	}
}

/*
 * News of our own changes is dropped before it is queued, and so is every
 * new route (not news that matters here): a replay of 100,000 routes
 * would otherwise overflow the socket and cost a read-back. event_cb makes
 * the same test: without the filter only the work is more.
 */
static void
own_filter(struct rtk *k)
{
	/* BPF loads are big-endian; netlink's header is in host order. */
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
		     offsetof(struct nlmsghdr, nlmsg_type)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs(RTM_NEWROUTE), 2, 0),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct nlmsghdr, nlmsg_pid)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(k->nl.portid), 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, UINT32_MAX),
	};
	struct sock_fprog prog = {sizeof f / sizeof f[0], f};

	(void)setsockopt(nl_fd(&k->ev), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			 sizeof prog);
}

int
rtk_follow(struct rtk *k)
{
	static const int groups[] = {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				     RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
				     RTNLGRP_IPV6_ROUTE};
	struct rt_changes c = {0};
	struct dump dp = {k, NULL, 0, NULL, 0, &c};
	int size = EV_RCVBUF;
	size_t i;
	int g;

	if (nl_open(&k->ev, NETLINK_ROUTE, EV_BYTES) == -1)
		return -1;
	for (i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		g = groups[i];
		if (mnl_socket_setsockopt(k->ev.sock, NETLINK_ADD_MEMBERSHIP,
					  &g, sizeof g) == -1)
			goto fail;
	}
	own_filter(k);
	/* A burst beyond it is lost (ENOBUFS), which costs a read-back. */
	if (setsockopt(nl_fd(&k->ev), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof size) == -1)
		(void)setsockopt(nl_fd(&k->ev), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof size);
	/* The links' states now, after subscribing: a change in between is
	 * seen twice, never missed. */
	k->nlinks = 0;
	if (dump(k, &dp, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg),
		 event_cb) == -1) {
		if (errno != EINTR)
			goto fail;
		/* The links changed during the dump (NLM_F_DUMP_INTR): a link
		 * not seen counts as changed at its next notification. */
		nl_drain(&k->nl);
	}
	return 0;
fail:
	nl_close(&k->ev);
	return -1;
}

int
rtk_follow_fd(const struct rtk *k)
{
	return nl_fd(&k->ev);
}

int
rtk_parse_changes(struct rtk *k, const struct rt_dest *d, uint32_t nd,
		  struct rt_changes *c, const void *buf, size_t len)
{
	struct dump dp = {k, d, nd, NULL, 0, c};

	if (nl_run(buf, len, 0, 0, event_cb, &dp, NULL) != MNL_CB_ERROR)
		return 0;
	if (dp.err == ENOMEM) {
		errno = ENOMEM;
		return -1;
	}
	lost(k, c); /* not whole messages (EPROTO) */
	return 0;
}

int
rtk_changes(struct rtk *k, const struct rt_dest *d, uint32_t nd,
	    struct rt_changes *c)
{
	uint64_t before = c->events;
	ssize_t n;

	for (;;) {
		n = recv(nl_fd(&k->ev), k->ev.rbuf, k->ev.rlen, MSG_DONTWAIT);
		if (n > 0) {
			if (rtk_parse_changes(k, d, nd, c, k->ev.rbuf,
					      (size_t)n) == -1)
				return -1;
		} else if (n == -1 && errno == ENOBUFS)
			lost(k, c);
		else if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else if (errno != EINTR)
			return -1;
	}
	return c->events != before;
}
