/*
 * relay: dns-hold's DNS relay: clients over UDP and TCP on the listening
 * addresses, queries in flight to the upstream servers over a pool of
 * connected UDP sockets (or TCP connections for TCP clients), and the
 * answers back. See dns-hold.8.
 *
 * Nothing is allocated per query: the queries in flight live in a fixed
 * table (a list by time sent, the oldest dropped when it is full), the UDP
 * datagrams come and go in batches (recvmmsg, sendmmsg) through fixed
 * buffers, and a TCP connection's buffers are allocated once per slot.
 *
 * Off-path answers: each upstream UDP socket is connected (the kernel
 * drops datagrams from any other address and port) and has its own table
 * of IDs in use, chosen at random (getrandom); an answer is taken only
 * for an ID in flight on that socket, from the upstream's address, with
 * the question that was asked. Anything else is counted and ignored, and
 * the genuine answer is still awaited.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"

#define NIL UINT32_MAX
#define TX_ARENA (256 * 1024)
#define RX_UP 65536
#define TCP_WCAP (256 * 1024)
#define TCP_PIPELINE 64	  /* queries in flight per client connection */
#define UC_PIPELINE 256	  /* queries in flight per upstream connection */
#define UC_IDLE 10000000  /* us: an unused upstream connection is closed */
#define DOWN_MAX 16000000 /* us: longest an upstream is avoided */
#define SOCKBUF (4 << 20)

struct counters st;
struct relay_conf conf = {
    .up_timeout = 2000000,
    .tcp_idle = 10000000,
    .max_flights = 4096,
    .up_socks = 8,
    .max_tcp = 128,
    .cache_max_ttl = 3600,
};
int64_t now_us;

union sa {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

struct listener {
	int udp, tcp;
	char name[72];
};

/* UDP answers to clients, copied, sent per listening socket in batches. */
struct txq {
	unsigned n;
	size_t used;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	union sa to[BATCH];
	uint8_t arena[TX_ARENA];
};

struct upstream {
	union sa addr;
	socklen_t alen;
	char name[72];
	unsigned sock0, rr;
	unsigned fails;
	int64_t down_until;
	int down;
};

struct usock {
	int fd, dirty;
	unsigned up;
	uint16_t *idmap; /* ID -> flight + 1 */
	uint32_t pend[BATCH];
	unsigned npend;
};

enum { UC_FREE, UC_CONNECTING, UC_OPEN };

struct uconn {
	int fd, state;
	unsigned up;
	uint16_t *idmap;
	uint8_t *rbuf, *wbuf;
	size_t rlen, wlen;
	unsigned outstanding;
	int64_t last;
	uint32_t ev;
	int dirty;
};

struct tconn {
	int fd, used, eof, resume;
	uint32_t gen, ev;
	char name[72];
	uint8_t *rbuf, *wbuf;
	size_t rlen, wlen;
	unsigned outstanding;
	int64_t last;
};

enum { F_FREE, F_NEW, F_UDP, F_TCP };

struct flight {
	uint32_t prev, next;   /* the list by time sent, or the free list */
	uint32_t rprev, rnext; /* the list to ask again */
	int64_t sent;
	uint16_t up_id, qlen;
	uint8_t up, tries, state, pending, retry;
	uint32_t sock, pend_sock;
	struct hold_dest dest;
	struct pkt_query q;
	uint8_t query[PKT_QUERY_MAX];
};

static int ep = -1;
static struct listener lis[LISTEN_MAX];
static struct txq *tx[LISTEN_MAX];
static unsigned nlis;
static struct upstream ups[UP_MAX];
static unsigned nup;
static struct usock *us;
static unsigned nus;
static unsigned *dirty_us, ndirty_us;
static struct uconn uc[UP_MAX * UP_TCP_MAX];
static unsigned dirty_uc[UP_MAX * UP_TCP_MAX], ndirty_uc;
static struct tconn *tc;
static uint32_t *resume_list, nresume;
static struct flight *fl;
static uint32_t free_head = NIL, live_head = NIL, live_tail = NIL;
static uint32_t retry_head = NIL;

/* Receive buffers. */
static struct mmsghdr rx_m[BATCH];
static struct iovec rx_iov[BATCH];
static union sa rx_from[BATCH];
static uint8_t (*rx_q)[PKT_QUERY_MAX + 1];
static uint8_t (*rx_r)[RX_UP];

/* The packet cache (-k) and where a hit is put together. */
struct pcache pc;
static uint8_t hit_buf[PCACHE_RESP_MAX];

static struct ratelimit rl_client = RATELIMIT_INIT, rl_up = RATELIMIT_INIT,
			rl_spoof = RATELIMIT_INIT;

static char *listening_text, *upstream_text;

static void flight_retry(uint32_t fi, int hard);

/* ---- addresses ---- */

/* "ADDR:PORT", "[ADDR]:PORT" or, with defport, "ADDR" into a. */
static int
addr_parse(const char *spec, int defport, union sa *a, socklen_t *alen)
{
	char host[64], port[8];
	const char *colon = strrchr(spec, ':'), *end;
	struct addrinfo hints, *ai;
	size_t hl;

	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		hl = (size_t)(end - spec - 1);
		spec++;
		colon = end[1] ? end + 1 : NULL;
	} else if (colon && strchr(spec, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
		hl = strlen(spec);
	} else {
		hl = colon ? (size_t)(colon - spec) : strlen(spec);
	}
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (colon) {
		const char *err;

		(void)strtonum(colon + 1, 1, 65535, &err);
		if (err || strlen(colon + 1) >= sizeof port)
			return -1;
		strcpy(port, colon + 1);
	} else if (defport) {
		snprintf(port, sizeof port, "%d", defport);
	} else {
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memset(a, 0, sizeof *a);
	memcpy(a, ai->ai_addr, ai->ai_addrlen);
	*alen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void
addr_name(const union sa *a, char *buf, size_t cap)
{
	char h[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, h, sizeof h);
		snprintf(buf, cap, "[%s]:%u", h, ntohs(a->sin6.sin6_port));
	} else {
		inet_ntop(AF_INET, &a->sin.sin_addr, h, sizeof h);
		snprintf(buf, cap, "%s:%u", h, ntohs(a->sin.sin_port));
	}
}

static int
addr_same(const union sa *a, const union sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_port == b->sin.sin_port &&
		       a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	return a->sin6.sin6_port == b->sin6.sin6_port &&
	       memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
}

static int
allowed(const struct hold_dest *d)
{
	struct rec_addr a;
	size_t i;

	if (d->addr.sa.sa_family == AF_INET)
		rec_addr_set(&a, &d->addr.sin.sin_addr, 4);
	else if (d->addr.sa.sa_family == AF_INET6)
		rec_addr_set(&a, &d->addr.sin6.sin6_addr, 16);
	else
		return 0;
	for (i = 0; i < conf.nallow; i++)
		if (rec_addr_contains(&conf.allow[i], &a))
			return 1;
	return 0;
}

static const char *
client_name(const struct hold_dest *d)
{
	static char buf[72];

	addr_name((const union sa *)&d->addr, buf, sizeof buf);
	return buf;
}

/* ---- epoll ---- */

static void
ep_set(int fd, uint64_t tag, uint32_t ev, int op)
{
	struct epoll_event e = {.events = ev, .data.u64 = tag};

	if (epoll_ctl(ep, op, fd, &e) == -1 && op != EPOLL_CTL_DEL)
		log_warn_sys("unable to watch a socket");
}

/* ---- flights ---- */

static void
live_unlink(uint32_t i)
{
	struct flight *f = &fl[i];

	if (f->prev != NIL)
		fl[f->prev].next = f->next;
	else
		live_head = f->next;
	if (f->next != NIL)
		fl[f->next].prev = f->prev;
	else
		live_tail = f->prev;
	f->prev = f->next = NIL;
}

static void
live_append(uint32_t i)
{
	struct flight *f = &fl[i];

	f->prev = live_tail;
	f->next = NIL;
	if (live_tail != NIL)
		fl[live_tail].next = i;
	else
		live_head = i;
	live_tail = i;
}

/*
 * Flights to ask again (their socket or connection failed) wait in a list
 * until relay_flush(), so that no failure is handled inside another.
 */
static void
retry_later(uint32_t fi)
{
	struct flight *f = &fl[fi];

	if (f->retry)
		return;
	f->retry = 1;
	f->rprev = NIL;
	f->rnext = retry_head;
	if (retry_head != NIL)
		fl[retry_head].rprev = fi;
	retry_head = fi;
}

static void
retry_unlink(uint32_t fi)
{
	struct flight *f = &fl[fi];

	if (!f->retry)
		return;
	if (f->rprev != NIL)
		fl[f->rprev].rnext = f->rnext;
	else
		retry_head = f->rnext;
	if (f->rnext != NIL)
		fl[f->rnext].rprev = f->rprev;
	f->retry = 0;
}

/* Frees the ID a flight holds on its upstream socket or connection. */
static void
id_release(uint32_t fi)
{
	struct flight *f = &fl[fi];

	if (f->state == F_UDP) {
		if (us[f->sock].idmap[f->up_id] == fi + 1)
			us[f->sock].idmap[f->up_id] = 0;
	} else if (f->state == F_TCP) {
		struct uconn *c = &uc[f->sock];

		if (c->idmap && c->idmap[f->up_id] == fi + 1) {
			c->idmap[f->up_id] = 0;
			c->outstanding--;
		}
	}
	f->state = F_NEW;
}

static void
client_done(const struct hold_dest *d)
{
	struct tconn *c;

	if (!d->tcp)
		return;
	c = &tc[d->conn];
	if (!c->used || c->gen != d->gen || !c->outstanding)
		return;
	if (c->outstanding-- == TCP_PIPELINE || (c->eof && !c->outstanding)) {
		if (!c->resume) {
			c->resume = 1;
			resume_list[nresume++] = d->conn;
		}
	}
}

static void
flight_free(uint32_t fi)
{
	struct flight *f = &fl[fi];

	id_release(fi);
	retry_unlink(fi);
	client_done(&f->dest);
	live_unlink(fi);
	f->state = F_FREE;
	f->next = free_head;
	free_head = fi;
	st.inflight--;
}

/* A flight slot; the oldest in flight is dropped when none is free. */
static uint32_t
flight_new(void)
{
	uint32_t fi = free_head;

	if (fi == NIL) {
		fi = live_head;
		st.inflight_dropped++;
		log_warn_limited(
		    &rl_up, "%u queries in flight: dropping the oldest (-q)",
		    conf.max_flights);
		flight_free(fi);
		fi = free_head;
	}
	free_head = fl[fi].next;
	memset(&fl[fi], 0, offsetof(struct flight, q));
	fl[fi].prev = fl[fi].next = NIL;
	fl[fi].state = F_NEW;
	live_append(fi);
	st.inflight++;
	return fi;
}

/*
 * Random IDs from the kernel's generator, fetched 2048 at a time
 * (arc4random would check getpid(2) on every call).
 */
static uint16_t
id_random(void)
{
	static uint16_t pool[2048];
	static size_t left;
	ssize_t n;

	if (!left) {
		n = getrandom(pool, sizeof pool, 0);
		if (n < (ssize_t)sizeof pool) {
			/* Never short for this size once the pool is ready;
			 * fall back to libbsd's generator if it were. */
			for (left = 0; left < 2048; left++)
				pool[left] = (uint16_t)arc4random();
		}
		left = 2048;
	}
	return pool[--left];
}

/* A random ID free in map for flight fi; -1 when 16 draws all collide. */
static int
id_take(uint16_t *map, uint32_t fi, uint16_t *id)
{
	unsigned i;
	uint16_t v;

	for (i = 0; i < 16; i++) {
		v = id_random();
		if (!map[v]) {
			map[v] = (uint16_t)(fi + 1);
			*id = v;
			return 0;
		}
	}
	return -1;
}

/* ---- upstreams ---- */

static void
upstream_ok(unsigned u)
{
	struct upstream *p = &ups[u];

	if (p->down)
		log_info("upstream %s: answering again", p->name);
	p->fails = 0;
	p->down_until = 0;
	p->down = 0;
}

/* A timeout (hard 0; three in a row count) or a refusal (hard 1). */
static void
upstream_fail(unsigned u, int hard, const char *why)
{
	struct upstream *p = &ups[u];
	int64_t period;

	p->fails++;
	if (!hard && p->fails < 3)
		return;
	if (p->down_until > now_us)
		return;
	period = 1000000LL << (p->fails > 5 ? 4 : p->fails - 1);
	if (period > DOWN_MAX)
		period = DOWN_MAX;
	p->down_until = now_us + period;
	if (!p->down)
		log_warn("upstream %s: %s: %s for %lld ms", p->name, why,
			 nup > 1 ? "asking the others" : "still asking it",
			 (long long)(period / 1000));
	p->down = 1;
}

/* The first upstream not avoided (-1: none) that is not down. */
static unsigned
upstream_pick(int avoid)
{
	unsigned i, best = 0;

	for (i = 0; i < nup; i++)
		if ((int)i != avoid && ups[i].down_until <= now_us)
			return i;
	if (avoid >= 0 && ups[avoid].down_until <= now_us)
		return (unsigned)avoid;
	for (i = 1; i < nup; i++)
		if (ups[i].down_until < ups[best].down_until)
			best = i;
	return best;
}

static void usock_refused(unsigned s);

static void
usock_flush(unsigned s)
{
	struct usock *u = &us[s];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned n = 0, i, k = 0;
	int r, refused = 0;

	for (i = 0; i < u->npend; i++) {
		struct flight *f = &fl[u->pend[i]];

		if (!f->pending || f->pend_sock != s || f->state != F_UDP ||
		    f->sock != s)
			continue;
		f->pending = 0;
		iov[n].iov_base = f->query;
		iov[n].iov_len = f->qlen;
		memset(&m[n], 0, sizeof m[n]);
		m[n].msg_hdr.msg_iov = &iov[n];
		m[n].msg_hdr.msg_iovlen = 1;
		n++;
	}
	u->npend = 0;
	while (k < n) {
		r = sendmmsg(u->fd, m + k, n - k, MSG_DONTWAIT);
		if (r > 0) {
			k += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break; /* these time out and are asked again */
		if (errno == ECONNREFUSED) {
			/* For an earlier datagram; once, then it is down. */
			if (refused++)
				break;
			continue;
		}
		st.up_errors++;
		log_warn_limited(&rl_up, "upstream %s: unable to send: %s",
				 ups[u->up].name, strerror(errno));
		k++;
	}
	if (refused)
		usock_refused(s);
}

static int
flight_send_udp(uint32_t fi, unsigned up)
{
	struct flight *f = &fl[fi];
	struct upstream *p = &ups[up];
	unsigned s = p->sock0 + p->rr % conf.up_socks, i;

	for (i = 0; i < conf.up_socks; i++) {
		if (id_take(us[s].idmap, fi, &f->up_id) == 0)
			break;
		s = p->sock0 + (s - p->sock0 + 1) % conf.up_socks;
	}
	if (i == conf.up_socks)
		return -1;
	pkt_set_id(f->query, f->up_id);
	f->state = F_UDP;
	f->sock = s;
	if (f->pending && f->pend_sock == s)
		return 0;
	f->pending = 1;
	f->pend_sock = s;
	us[s].pend[us[s].npend++] = fi;
	if (!us[s].dirty) {
		us[s].dirty = 1;
		dirty_us[ndirty_us++] = s;
	}
	if (us[s].npend == BATCH)
		usock_flush(s); /* stays listed: flushed again, empty */
	return 0;
}

/* ---- upstream TCP connections ---- */

static void
uconn_close(unsigned c)
{
	struct uconn *u = &uc[c];

	ep_set(u->fd, 0, 0, EPOLL_CTL_DEL);
	close(u->fd);
	u->fd = -1;
	u->state = UC_FREE;
	u->rlen = u->wlen = 0;
	u->outstanding = 0;
	memset(u->idmap, 0, 65536 * sizeof *u->idmap);
}

/* The connection failed: its queries are asked again, or SERVFAIL. */
static void
uconn_fail(unsigned c, const char *why, int hard)
{
	struct uconn *u = &uc[c];
	uint32_t fi;

	st.up_errors++;
	log_warn_limited(&rl_up, "upstream %s: TCP: %s", ups[u->up].name, why);
	if (hard)
		upstream_fail(u->up, 1, why);
	for (fi = live_head; fi != NIL; fi = fl[fi].next)
		if (fl[fi].state == F_TCP && fl[fi].sock == c) {
			fl[fi].state = F_NEW; /* its ID goes with the map */
			retry_later(fi);
		}
	uconn_close(c);
}

static int
uconn_open(unsigned c, unsigned up)
{
	struct uconn *u = &uc[c];
	struct upstream *p = &ups[up];

	if (!u->idmap &&
	    (!(u->idmap = calloc(65536, sizeof *u->idmap)) ||
	     !(u->rbuf = malloc(2 + 65535)) || !(u->wbuf = malloc(TCP_WCAP))))
		return -1;
	u->fd = socket(p->addr.sa.sa_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd == -1)
		return -1;
	u->up = up;
	u->rlen = u->wlen = 0;
	u->outstanding = 0;
	u->last = now_us;
	if (connect(u->fd, &p->addr.sa, p->alen) == -1 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(u->fd);
		u->fd = -1;
		errno = e;
		return -1;
	}
	u->state = UC_CONNECTING;
	u->ev = EPOLLIN | EPOLLOUT;
	ep_set(u->fd, TAG(EV_UTCP, c), u->ev, EPOLL_CTL_ADD);
	return 0;
}

/* A connection to up with room for one more query, opened if need be. */
static int
uconn_for(unsigned up)
{
	int best = -1, spare = -1;
	unsigned k, c;

	for (k = 0; k < UP_TCP_MAX; k++) {
		c = up * UP_TCP_MAX + k;
		if (uc[c].state == UC_FREE) {
			if (spare < 0)
				spare = (int)c;
			continue;
		}
		if (uc[c].outstanding < UC_PIPELINE &&
		    uc[c].wlen + 2 + PKT_QUERY_MAX <= TCP_WCAP &&
		    (best < 0 || uc[c].outstanding < uc[best].outstanding))
			best = (int)c;
	}
	if ((best < 0 || uc[best].outstanding >= 16) && spare >= 0) {
		if (uconn_open((unsigned)spare, up) == 0)
			return spare;
		log_warn_limited(&rl_up,
				 "upstream %s: TCP: unable to connect: %s",
				 ups[up].name, strerror(errno));
		upstream_fail(up, 1, "TCP connection refused");
	}
	return best;
}

static int
flight_send_tcp(uint32_t fi, unsigned up)
{
	struct flight *f = &fl[fi];
	struct uconn *u;
	int c = uconn_for(up);

	if (c < 0)
		return -1;
	u = &uc[c];
	if (id_take(u->idmap, fi, &f->up_id) == -1)
		return -1;
	pkt_set_id(f->query, f->up_id);
	u->wbuf[u->wlen] = (uint8_t)(f->qlen >> 8);
	u->wbuf[u->wlen + 1] = (uint8_t)f->qlen;
	memcpy(u->wbuf + u->wlen + 2, f->query, f->qlen);
	u->wlen += 2 + (size_t)f->qlen;
	u->outstanding++;
	f->state = F_TCP;
	f->sock = (uint32_t)c;
	if (u->state == UC_OPEN && !u->dirty) {
		u->dirty = 1;
		dirty_uc[ndirty_uc++] = (unsigned)c;
	}
	return 0;
}

static void
uconn_flush(unsigned c)
{
	struct uconn *u = &uc[c];
	ssize_t k;
	uint32_t ev;

	if (u->state != UC_OPEN)
		return;
	while (u->wlen) {
		k = write(u->fd, u->wbuf, u->wlen);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				uconn_fail(c, strerror(errno), 0);
				return;
			}
			break;
		}
		memmove(u->wbuf, u->wbuf + k, u->wlen - (size_t)k);
		u->wlen -= (size_t)k;
		u->last = now_us;
	}
	ev = EPOLLIN | (u->wlen ? EPOLLOUT : 0);
	if (ev != u->ev) {
		u->ev = ev;
		ep_set(u->fd, TAG(EV_UTCP, c), ev, EPOLL_CTL_MOD);
	}
}

/* ---- answers ---- */

static void
reply_error(const struct hold_dest *to, const struct pkt_query *q,
	    const uint8_t *query, unsigned rcode)
{
	uint8_t buf[PKT_HDR + DNS_NAME_MAX + 4 + 16];
	size_t n = pkt_error(buf, sizeof buf, q, query, rcode);

	if (n)
		relay_deliver(to, buf, n);
}

static void
servfail(uint32_t fi)
{
	struct flight *f = &fl[fi];

	st.servfail++;
	reply_error(&f->dest, &f->q, f->query, PKT_RCODE_SERVFAIL);
	flight_free(fi);
}

/* The genuine answer to flight fi: records, then held or sent. */
static void
answer(uint32_t fi, uint8_t *msg, size_t len)
{
	struct flight *f = &fl[fi];
	size_t n;

	upstream_ok(f->up);
	pkt_set_id(msg, f->q.id);
	if (!f->dest.tcp) {
		n = pkt_fit(msg, len, f->q.udp_size);
		if (n != len)
			st.truncated++;
		len = n;
	}
	st.answers++;
	if (!f->dest.tcp)
		(void)pcache_put(&pc, f->query, f->qlen, msg, len, now_us);
	if (!relay_response(&f->dest, msg, len, ups[f->up].name))
		relay_deliver(&f->dest, msg, len);
	else
		f->dest.tcp = 0; /* counted until relay_release() */
	flight_free(fi);
}

/* An answer on upstream socket or connection sock (tcp): checked first. */
static void
answer_in(int tcp, unsigned sock, const union sa *from, uint8_t *msg,
	  size_t len)
{
	uint16_t *map = tcp ? uc[sock].idmap : us[sock].idmap;
	unsigned up = tcp ? uc[sock].up : us[sock].up;
	uint32_t fi;

	if (len < PKT_HDR || !map[pkt_id(msg)]) {
		st.late++; /* no such query: late (already answered or
			      timed out) or forged */
		return;
	}
	fi = map[pkt_id(msg)] - 1u;
	if ((from && !addr_same(from, &ups[up].addr)) ||
	    !pkt_response_matches(msg, len, &fl[fi].q)) {
		st.spoofed++;
		log_warn_limited(
		    &rl_spoof, "upstream %s: answer ignored: %s", ups[up].name,
		    from && !addr_same(from, &ups[up].addr)
			? "from another address"
			: "not an answer to the question asked with that ID");
		return;
	}
	answer(fi, msg, len);
}

static void
flight_retry(uint32_t fi, int hard)
{
	struct flight *f = &fl[fi];
	unsigned up;
	int r;

	id_release(fi);
	if (f->tries >= nup + (unsigned)hard || (!hard && nup == 1)) {
		servfail(fi);
		return;
	}
	up = upstream_pick(nup > 1 ? f->up : -1);
	if (!hard && up == f->up) {
		servfail(fi);
		return;
	}
	st.up_retries++;
	f->up = (uint8_t)up;
	f->tries++;
	f->sent = now_us;
	live_unlink(fi);
	live_append(fi);
	r = f->dest.tcp ? flight_send_tcp(fi, up) : flight_send_udp(fi, up);
	if (r == -1)
		servfail(fi);
}

/* ---- queries ---- */

static void
query_in(const struct hold_dest *from, const uint8_t *msg, size_t len)
{
	struct pkt_query q;
	enum pkt_verdict v;
	struct flight *f;
	uint32_t fi;
	unsigned up;
	size_t n;
	int r;

	if (from->tcp)
		st.q_tcp++;
	else
		st.q_udp++;
	v = pkt_query_parse(&q, msg, len);
	if (v == PKT_DROP) {
		st.dropped_q++;
		log_warn_limited(&rl_client, "client %s: not a query: dropped",
				 client_name(from));
		return;
	}
	if (!from->tcp && !allowed(from)) { /* TCP: checked at accept */
		st.refused++;
		log_warn_limited(
		    &rl_client,
		    "client %s: refused: not in the allowed prefixes (-A)",
		    client_name(from));
		reply_error(from, &q, msg, PKT_RCODE_REFUSED);
		return;
	}
	if (v == PKT_FORMERR) {
		st.formerr++;
		log_warn_limited(
		    &rl_client,
		    "client %s: malformed query (%zu bytes): FORMERR",
		    client_name(from), len);
		reply_error(from, &q, msg, PKT_RCODE_FORMERR);
		return;
	}
	/* A kept answer: records and the hold as for one from upstream. */
	if (!from->tcp && pc.nsets &&
	    (n = pcache_get(&pc, msg, len, hit_buf, sizeof hit_buf, now_us))) {
		if (!relay_response(from, hit_buf, n, "cache"))
			relay_deliver(from, hit_buf, n);
		return;
	}
	fi = flight_new();
	f = &fl[fi];
	f->dest = *from;
	f->q = q;
	f->qlen = (uint16_t)len;
	memcpy(f->query, msg, len);
	f->sent = now_us;
	f->tries = 1;
	up = upstream_pick(-1);
	f->up = (uint8_t)up;
	if (from->tcp) {
		tc[from->conn].outstanding++;
		r = flight_send_tcp(fi, up);
	} else {
		r = flight_send_udp(fi, up);
	}
	if (r == -1)
		flight_retry(fi, 1);
}

/* ---- UDP clients ---- */

static void
txq_flush(unsigned l)
{
	struct txq *t = tx[l];
	unsigned k = 0;
	int r;

	while (k < t->n) {
		r = sendmmsg(lis[l].udp, t->m + k, t->n - k, MSG_DONTWAIT);
		if (r > 0) {
			k += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			st.tx_dropped += t->n - k;
			break;
		}
		st.tx_dropped++;
		k++;
	}
	t->n = 0;
	t->used = 0;
}

static void
txq_add(const struct hold_dest *to, const uint8_t *msg, size_t len)
{
	struct txq *t = tx[to->lsock];
	unsigned i;

	if (t->n == BATCH || TX_ARENA - t->used < len)
		txq_flush(to->lsock);
	i = t->n++;
	memcpy(t->arena + t->used, msg, len);
	t->iov[i].iov_base = t->arena + t->used;
	t->iov[i].iov_len = len;
	t->used += len;
	memcpy(&t->to[i], &to->addr, to->alen);
	memset(&t->m[i], 0, sizeof t->m[i]);
	t->m[i].msg_hdr.msg_name = &t->to[i];
	t->m[i].msg_hdr.msg_namelen = to->alen;
	t->m[i].msg_hdr.msg_iov = &t->iov[i];
	t->m[i].msg_hdr.msg_iovlen = 1;
}

static void
rx_setup(uint8_t *bufs, size_t size)
{
	unsigned i;

	for (i = 0; i < BATCH; i++) {
		rx_iov[i].iov_base = bufs + i * size;
		rx_iov[i].iov_len = size;
		memset(&rx_m[i], 0, sizeof rx_m[i]);
		rx_m[i].msg_hdr.msg_iov = &rx_iov[i];
		rx_m[i].msg_hdr.msg_iovlen = 1;
		rx_m[i].msg_hdr.msg_name = &rx_from[i];
		rx_m[i].msg_hdr.msg_namelen = sizeof rx_from[i];
	}
}

static void
udp_clients(unsigned l)
{
	struct hold_dest d;
	unsigned i, round;
	int n;

	memset(&d, 0, sizeof d);
	d.lsock = (uint8_t)l;
	for (round = 0; round < 8; round++) {
		rx_setup(&rx_q[0][0], sizeof rx_q[0]);
		n = recvmmsg(lis[l].udp, rx_m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				log_warn_limited(&rl_client,
						 "%s: unable to receive: %s",
						 lis[l].name, strerror(errno));
			return;
		}
		for (i = 0; i < (unsigned)n; i++) {
			size_t len = rx_m[i].msg_len;

			d.alen = rx_m[i].msg_hdr.msg_namelen;
			if (d.alen > sizeof d.addr)
				continue;
			memcpy(&d.addr, &rx_from[i], d.alen);
			if (rx_m[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    len > PKT_QUERY_MAX)
				len = PKT_QUERY_MAX + 1;
			query_in(&d, rx_q[i], len);
		}
		if (n < BATCH)
			return;
	}
}

/* ---- upstream UDP ---- */

/* The upstream refused (ICMP port unreachable): ask again elsewhere. */
static void
usock_refused(unsigned s)
{
	uint32_t fi;

	st.up_errors++;
	upstream_fail(us[s].up, 1, "port unreachable");
	for (fi = live_head; fi != NIL; fi = fl[fi].next)
		if (fl[fi].state == F_UDP && fl[fi].sock == s)
			retry_later(fi);
}

static void
udp_upstream(unsigned s)
{
	unsigned i, round;
	int n;

	for (round = 0; round < 8; round++) {
		rx_setup(&rx_r[0][0], sizeof rx_r[0]);
		n = recvmmsg(us[s].fd, rx_m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n == -1 && errno == ECONNREFUSED)
				usock_refused(s);
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				log_warn_limited(
				    &rl_up,
				    "upstream %s: unable to receive: %s",
				    ups[us[s].up].name, strerror(errno));
			relay_flush();
			return;
		}
		for (i = 0; i < (unsigned)n; i++) {
			if (rx_m[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			answer_in(0, s, &rx_from[i], rx_r[i], rx_m[i].msg_len);
		}
		if (n < BATCH)
			return;
	}
}

static void
uconn_read(unsigned c)
{
	struct uconn *u = &uc[c];
	size_t l;
	ssize_t k;

	for (;;) {
		k = read(u->fd, u->rbuf + u->rlen, 2 + 65535 - u->rlen);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				uconn_fail(c, strerror(errno), 0);
			return;
		}
		if (k == 0) {
			if (u->outstanding)
				uconn_fail(c,
					   "closed by the server with queries "
					   "in flight",
					   0);
			else
				uconn_close(c);
			return;
		}
		u->rlen += (size_t)k;
		u->last = now_us;
		while (u->rlen >= 2 &&
		       u->rlen >= 2 + (l = wire_get16(u->rbuf))) {
			if (l < PKT_HDR) {
				uconn_fail(c, "a message shorter than a header",
					   0);
				return;
			}
			answer_in(1, c, NULL, u->rbuf + 2, l);
			if (u->state == UC_FREE)
				return;
			memmove(u->rbuf, u->rbuf + 2 + l, u->rlen - 2 - l);
			u->rlen -= 2 + l;
		}
	}
}

static void
uconn_event(unsigned c, uint32_t events)
{
	struct uconn *u = &uc[c];
	int err = 0;
	socklen_t el = sizeof err;

	if (u->state == UC_FREE)
		return;
	if (u->state == UC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err) {
			uconn_fail(c, strerror(err), 1);
			return;
		}
		u->state = UC_OPEN;
		u->last = now_us;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		uconn_read(c);
	if (u->state == UC_OPEN)
		uconn_flush(c);
}

/* ---- TCP clients ---- */

static void
tconn_close(unsigned c)
{
	struct tconn *t = &tc[c];

	ep_set(t->fd, 0, 0, EPOLL_CTL_DEL);
	close(t->fd);
	t->fd = -1;
	t->used = 0;
	st.tcp_open--;
}

static void
tconn_events(unsigned c)
{
	struct tconn *t = &tc[c];
	uint32_t ev = (t->eof || t->outstanding >= TCP_PIPELINE ? 0 : EPOLLIN) |
		      (t->wlen ? EPOLLOUT : 0);

	if (ev != t->ev) {
		t->ev = ev;
		ep_set(t->fd, TAG(EV_CLIENT, c), ev, EPOLL_CTL_MOD);
	}
}

/* Writes what the client takes; 0, or -1 when it was closed. */
static int
tconn_write(unsigned c)
{
	struct tconn *t = &tc[c];
	ssize_t k;

	while (t->wlen) {
		k = write(t->fd, t->wbuf, t->wlen);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			tconn_close(c);
			return -1;
		}
		memmove(t->wbuf, t->wbuf + k, t->wlen - (size_t)k);
		t->wlen -= (size_t)k;
		t->last = now_us;
	}
	if (t->eof && !t->outstanding && !t->wlen) {
		tconn_close(c);
		return -1;
	}
	return 0;
}

/* The complete queries buffered, while the pipeline has room. */
static int
tconn_frames(unsigned c)
{
	struct tconn *t = &tc[c];
	struct hold_dest d;
	size_t l;

	memset(&d, 0, sizeof d);
	d.tcp = 1;
	d.conn = c;
	d.gen = t->gen;
	while (t->used && t->outstanding < TCP_PIPELINE && t->rlen >= 2) {
		l = wire_get16(t->rbuf);
		if (l < PKT_HDR || l > PKT_QUERY_MAX) {
			st.tcp_closed_bad++;
			log_warn_limited(
			    &rl_client,
			    "client %s: TCP: a message of %zu bytes: closing",
			    t->name, l);
			tconn_close(c);
			return -1;
		}
		if (t->rlen < 2 + l)
			break;
		d.alen = 0;
		query_in(&d, t->rbuf + 2, l);
		if (!t->used || t->gen != d.gen)
			return -1;
		memmove(t->rbuf, t->rbuf + 2 + l, t->rlen - 2 - l);
		t->rlen -= 2 + l;
	}
	return 0;
}

static void
tconn_read(unsigned c)
{
	struct tconn *t = &tc[c];
	ssize_t k;

	while (t->used && !t->eof && t->outstanding < TCP_PIPELINE) {
		k = read(t->fd, t->rbuf + t->rlen, 2 + PKT_QUERY_MAX - t->rlen);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				tconn_close(c);
			return;
		}
		if (k == 0) {
			t->eof = 1;
			break;
		}
		t->rlen += (size_t)k;
		t->last = now_us;
		if (tconn_frames(c) == -1)
			return;
	}
}

static void
tconn_event(unsigned c, uint32_t events)
{
	struct tconn *t = &tc[c];

	if (!t->used)
		return;
	if (events & EPOLLOUT && tconn_write(c) == -1)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		tconn_read(c);
	if (!t->used)
		return;
	if (t->eof && !t->outstanding && !t->wlen) {
		tconn_close(c);
		return;
	}
	tconn_events(c);
}

static void
tcp_accept(unsigned l)
{
	struct hold_dest d;
	struct tconn *t;
	unsigned i, c;
	int fd;

	for (i = 0; i < 16; i++) {
		memset(&d, 0, sizeof d);
		d.alen = sizeof d.addr;
		fd = accept4(lis[l].tcp, &d.addr.sa, &d.alen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn_limited(&rl_client,
						 "%s: unable to accept: %s",
						 lis[l].name, strerror(errno));
			return;
		}
		st.tcp_conns++;
		if (!allowed(&d)) {
			st.tcp_refused++;
			log_warn_limited(
			    &rl_client,
			    "client %s: TCP: refused: not in the allowed "
			    "prefixes (-A)",
			    client_name(&d));
			close(fd);
			continue;
		}
		for (c = 0; c < conf.max_tcp && tc[c].used; c++)
			;
		if (c == conf.max_tcp) {
			st.tcp_full++;
			log_warn_limited(
			    &rl_client,
			    "client %s: TCP: %u connections open: closing "
			    "(-C)",
			    client_name(&d), conf.max_tcp);
			close(fd);
			continue;
		}
		t = &tc[c];
		if (!t->rbuf && (!(t->rbuf = malloc(2 + PKT_QUERY_MAX)) ||
				 !(t->wbuf = malloc(TCP_WCAP)))) {
			log_warn("client %s: TCP: out of memory: closing",
				 client_name(&d));
			close(fd);
			continue;
		}
		t->fd = fd;
		t->used = 1;
		t->gen++;
		t->eof = t->resume = 0;
		t->rlen = t->wlen = 0;
		t->outstanding = 0;
		t->last = now_us;
		snprintf(t->name, sizeof t->name, "%s", client_name(&d));
		t->ev = EPOLLIN;
		ep_set(fd, TAG(EV_CLIENT, c), t->ev, EPOLL_CTL_ADD);
		st.tcp_open++;
	}
}

static void
tconn_send(const struct hold_dest *to, const uint8_t *msg, size_t len)
{
	struct tconn *t = &tc[to->conn];

	if (!t->used || t->gen != to->gen) {
		st.client_gone++;
		return;
	}
	if (TCP_WCAP - t->wlen < 2 + len) {
		st.tcp_unread++;
		log_warn_limited(
		    &rl_client,
		    "client %s: TCP: not reading its answers: closing",
		    t->name);
		tconn_close(to->conn);
		return;
	}
	t->wbuf[t->wlen] = (uint8_t)(len >> 8);
	t->wbuf[t->wlen + 1] = (uint8_t)len;
	memcpy(t->wbuf + t->wlen + 2, msg, len);
	t->wlen += 2 + len;
	if (tconn_write(to->conn) == 0)
		tconn_events(to->conn);
}

/* ---- the program's interface ---- */

void
relay_deliver(const struct hold_dest *to, const uint8_t *msg, size_t len)
{
	if (to->tcp)
		tconn_send(to, msg, len);
	else
		txq_add(to, msg, len);
}

void
relay_release(const struct hold_dest *to, const uint8_t *msg, size_t len)
{
	relay_deliver(to, msg, len);
	client_done(to);
}

void
relay_flush(void)
{
	unsigned i, c;
	uint32_t fi;

	/* Client connections whose pipeline has room again. */
	while (nresume) {
		c = resume_list[--nresume];
		tc[c].resume = 0;
		if (tc[c].used && tconn_frames(c) == 0 && tconn_write(c) == 0)
			tconn_events(c);
	}
	/* Queries out, failures asked again, until all is settled: each
	 * round adds a try to what it asks again, so this ends. */
	for (;;) {
		while ((fi = retry_head) != NIL) {
			retry_unlink(fi);
			flight_retry(fi, 1);
		}
		if (ndirty_us) {
			i = dirty_us[--ndirty_us];
			us[i].dirty = 0;
			usock_flush(i);
			continue;
		}
		if (ndirty_uc) {
			i = dirty_uc[--ndirty_uc];
			uc[i].dirty = 0;
			uconn_flush(i);
			continue;
		}
		if (retry_head == NIL)
			break;
	}
	for (i = 0; i < nlis; i++)
		if (tx[i]->n)
			txq_flush(i);
	/* The next batch of queries leaves from the next socket of the
	 * pool: one sendmmsg per batch, not one per socket. */
	for (i = 0; i < nup; i++)
		ups[i].rr++;
}

void
relay_event(uint64_t tag, uint32_t events)
{
	unsigned i = (unsigned)(tag & 0xffffffffu);

	switch (TAG_KIND(tag)) {
	case EV_LUDP:
		udp_clients(i);
		break;
	case EV_LTCP:
		tcp_accept(i);
		break;
	case EV_CLIENT:
		tconn_event(i, events);
		break;
	case EV_UUDP:
		udp_upstream(i);
		break;
	case EV_UTCP:
		uconn_event(i, events);
		break;
	}
}

int64_t
relay_tick(void)
{
	int64_t next = INT64_MAX;
	unsigned c;
	uint32_t fi;

	while ((fi = live_head) != NIL &&
	       fl[fi].sent + conf.up_timeout <= now_us) {
		st.up_timeouts++;
		upstream_fail(fl[fi].up, 0, "not answering");
		log_warn_limited(&rl_up, "upstream %s: no answer in %lld ms",
				 ups[fl[fi].up].name,
				 (long long)(conf.up_timeout / 1000));
		flight_retry(fi, 0);
	}
	if (live_head != NIL)
		next = fl[live_head].sent + conf.up_timeout;
	for (c = 0; c < conf.max_tcp; c++) {
		struct tconn *t = &tc[c];

		if (!t->used || now_us - t->last < conf.tcp_idle)
			continue;
		if (!t->outstanding || t->wlen) {
			st.tcp_closed_idle++;
			tconn_close(c);
		}
	}
	for (c = 0; c < nup * UP_TCP_MAX; c++)
		if (uc[c].state == UC_OPEN && !uc[c].outstanding &&
		    !uc[c].wlen && now_us - uc[c].last >= UC_IDLE)
			uconn_close(c);
	relay_flush();
	return next;
}

/* ---- set-up ---- */

static void
sockbuf(int fd)
{
	int v = SOCKBUF;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
}

static void
append_text(char **text, const char *name)
{
	size_t o = *text ? strlen(*text) : 0;
	char *n = realloc(*text, o + strlen(name) + 2);

	if (!n)
		return;
	if (o)
		n[o++] = ' ';
	strcpy(n + o, name);
	*text = n;
}

int
relay_upstream_add(const char *spec)
{
	struct upstream *p;

	if (nup == UP_MAX) {
		errno = EINVAL;
		return -1;
	}
	p = &ups[nup];
	if (addr_parse(spec, 53, &p->addr, &p->alen) == -1) {
		errno = EINVAL;
		return -1;
	}
	addr_name(&p->addr, p->name, sizeof p->name);
	append_text(&upstream_text, p->name);
	nup++;
	return 0;
}

int
relay_listen(const char *spec)
{
	struct listener *l;
	union sa a;
	socklen_t alen;
	int one = 1, e;

	if (nlis == LISTEN_MAX || addr_parse(spec, 0, &a, &alen) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((a.sa.sa_family == AF_INET && a.sin.sin_addr.s_addr == 0) ||
	    (a.sa.sa_family == AF_INET6 &&
	     IN6_IS_ADDR_UNSPECIFIED(&a.sin6.sin6_addr))) {
		errno = EDESTADDRREQ; /* answers must leave from the address
					 asked */
		return -1;
	}
	l = &lis[nlis];
	addr_name(&a, l->name, sizeof l->name);
	l->udp = socket(a.sa.sa_family,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	l->tcp = socket(a.sa.sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->udp == -1 || l->tcp == -1)
		goto fail;
	if (a.sa.sa_family == AF_INET6 &&
	    (setsockopt(l->udp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) ==
		 -1 ||
	     setsockopt(l->tcp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) ==
		 -1))
		goto fail;
	if (setsockopt(l->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ==
		-1 ||
	    bind(l->udp, &a.sa, alen) == -1 ||
	    bind(l->tcp, &a.sa, alen) == -1 || listen(l->tcp, 128) == -1)
		goto fail;
	sockbuf(l->udp);
	if (!(tx[nlis] = calloc(1, sizeof *tx[nlis])))
		goto fail;
	append_text(&listening_text, l->name);
	nlis++;
	return 0;
fail:
	e = errno;
	if (l->udp != -1)
		close(l->udp);
	if (l->tcp != -1)
		close(l->tcp);
	errno = e;
	return -1;
}

int
relay_init(void)
{
	unsigned u, k, i;

	if (!(fl = calloc(conf.max_flights, sizeof *fl)) ||
	    !(dirty_us =
		  calloc((size_t)nup * conf.up_socks, sizeof *dirty_us)) ||
	    !(tc = calloc(conf.max_tcp, sizeof *tc)) ||
	    !(resume_list = calloc(conf.max_tcp, sizeof *resume_list)) ||
	    !(rx_q = calloc(BATCH, sizeof *rx_q)) ||
	    !(rx_r = calloc(BATCH, sizeof *rx_r)) ||
	    !(us = calloc((size_t)nup * conf.up_socks, sizeof *us)))
		return -1;
	if (pcache_init(&pc, conf.cache_entries, conf.cache_max_ttl,
			(uint64_t)id_random() << 48 ^
			    (uint64_t)id_random() << 32 ^
			    (uint64_t)id_random() << 16 ^ id_random()) == -1)
		return -1;
	for (i = conf.max_flights; i-- > 0;) {
		fl[i].next = free_head;
		free_head = i;
	}
	for (i = 0; i < UP_MAX * UP_TCP_MAX; i++)
		uc[i].fd = -1;
	for (u = 0; u < nup; u++) {
		ups[u].sock0 = nus;
		for (k = 0; k < conf.up_socks; k++, nus++) {
			struct usock *s = &us[nus];

			s->up = u;
			s->fd = socket(
			    ups[u].addr.sa.sa_family,
			    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (s->fd == -1 ||
			    connect(s->fd, &ups[u].addr.sa, ups[u].alen) ==
				-1 ||
			    !(s->idmap = calloc(65536, sizeof *s->idmap)))
				return -1;
			sockbuf(s->fd);
		}
	}
	return 0;
}

int
relay_epoll(int epfd)
{
	unsigned i;

	ep = epfd;
	for (i = 0; i < nlis; i++) {
		ep_set(lis[i].udp, TAG(EV_LUDP, i), EPOLLIN, EPOLL_CTL_ADD);
		ep_set(lis[i].tcp, TAG(EV_LTCP, i), EPOLLIN, EPOLL_CTL_ADD);
	}
	for (i = 0; i < nus; i++)
		ep_set(us[i].fd, TAG(EV_UUDP, i), EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

const char *
relay_listening(void)
{
	return listening_text ? listening_text : "";
}

const char *
relay_upstreams(void)
{
	return upstream_text ? upstream_text : "";
}

void
relay_destroy(void)
{
	unsigned i;

	relay_flush();
	for (i = 0; i < conf.max_tcp && tc; i++) {
		if (tc[i].used) {
			(void)tconn_write(i);
			if (tc[i].used)
				tconn_close(i);
		}
		free(tc[i].rbuf);
		free(tc[i].wbuf);
	}
	for (i = 0; i < UP_MAX * UP_TCP_MAX; i++) {
		if (uc[i].state != UC_FREE)
			uconn_close(i);
		free(uc[i].idmap);
		free(uc[i].rbuf);
		free(uc[i].wbuf);
	}
	for (i = 0; i < nus; i++) {
		close(us[i].fd);
		free(us[i].idmap);
	}
	for (i = 0; i < nlis; i++) {
		close(lis[i].udp);
		close(lis[i].tcp);
		free(tx[i]);
	}
	free(us);
	free(tc);
	free(resume_list);
	free(fl);
	pcache_free(&pc);
	free(dirty_us);
	free(rx_q);
	free(rx_r);
	free(listening_text);
	free(upstream_text);
}
