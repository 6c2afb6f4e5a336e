/*
 * session.c: one BGP session per peer (RFC 4271 section 8), non-blocking.
 *
 * Each peer has a connection c (outgoing, or accepted for a passive peer)
 * and possibly a second, incoming one racing it: the collision is settled
 * on the OPEN by router id (section 6.8). Sockets are never waited on: the
 * poll loop hands us readiness, we read everything the peer has sent (it
 * may be a whole table) and write what fits. A peer that misbehaves gets
 * the NOTIFICATION that msg.c chose, a log line, and a reconnect after an
 * exponential backoff; the others are not affected.
 */
#include "clock.h"
#include "bgpa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"

#define CONNECT_MS (30 * 1000)
#define READ_BUDGET (1024 * 1024)
#define BACKOFF_MAX 60
/*
 * A peer may ask for the table again at any rate (RFC 2918 sets none):
 * the first request is served at once, later ones within this interval
 * are merged into one resend at its end.
 */
#define RR_MIN_MS (5 * 1000)

/* Connections refused: anyone can make them, so a few lines then one a minute.
 */
static struct ratelimit refused_rl = {0, 5, 5, 60, 0};
/* Malformed UPDATEs that cost no reset: a few lines, then one a minute. */
static struct ratelimit update_rl = {0, 5, 5, 60, 0};

enum peer_state
peer_state(const struct bgpa *g, const struct peer *p)
{
	if (p->c.fd >= 0)
		return p->c.state;
	if (p->in.fd >= 0)
		return p->in.state;
	return g->cfg->nlisten ? ST_ACTIVE : ST_IDLE;
}

const char *
state_name(enum peer_state s)
{
	static const char *n[] = {"idle",     "connect",     "active",
				  "opensent", "openconfirm", "established"};
	return n[s];
}

static socklen_t
sockaddr_of(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, a->a, 4);
		return sizeof *s;
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	memcpy(&s->sin6_addr, a->a, 16);
	return sizeof *s;
}

static void
addr_of(struct addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof *a);
	if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *x =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(x)) {
			a->family = AF_INET;
			memcpy(a->a, x->s6_addr + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->a, x, 16);
		}
	}
}

static int
set_md5(int fd, const struct peer_conf *pc)
{
	struct tcp_md5sig md;

	if (!pc->password[0])
		return 0;
	memset(&md, 0, sizeof md);
	sockaddr_of(&pc->addr, 0, &md.tcpm_addr);
	md.tcpm_keylen = (uint16_t)strlen(pc->password);
	memcpy(md.tcpm_key, pc->password, md.tcpm_keylen);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md, sizeof md);
}

/* GTSM (RFC 5082): send with TTL 255, accept only from within n hops. */
static int
set_gtsm(int fd, const struct peer_conf *pc)
{
	int ttl = 255, min = 256 - pc->ttl_security;

	if (!pc->ttl_security)
		return 0;
	if (pc->addr.family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) ||
		       setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min, sizeof min);
	return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
			  sizeof ttl) ||
	       setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min, sizeof min);
}

static void
count_out(struct bgpa *g, struct peer *p, size_t len)
{
	p->msgs_out++;
	g->n.msgs_out++;
	g->n.bytes_out += len;
}

static void
send_keepalive(struct bgpa *g, struct peer *p, struct conn *c)
{
	uint8_t m[BGP_HDR_LEN];

	bgp_put_header(m, sizeof m, BGP_KEEPALIVE);
	buf_add(&c->out, m, sizeof m);
	count_out(g, p, sizeof m);
	c->t_keepalive = c->hold ? g->now + c->hold * 1000 / 3 : 0;
}

static void
send_notification(struct bgpa *g, struct peer *p, struct conn *c, uint8_t code,
		  uint8_t sub, const uint8_t *data, size_t n)
{
	uint8_t m[BGP_HDR_LEN + 2 + sizeof((struct bgp_err *)0)->data];

	if (n > sizeof m - BGP_HDR_LEN - 2)
		n = sizeof m - BGP_HDR_LEN - 2;
	bgp_put_header(m, BGP_HDR_LEN + 2 + n, BGP_NOTIFICATION);
	m[BGP_HDR_LEN] = code;
	m[BGP_HDR_LEN + 1] = sub;
	if (n)
		memcpy(m + BGP_HDR_LEN + 2, data, n);
	buf_add(&c->out, m, BGP_HDR_LEN + 2 + n);
	count_out(g, p, BGP_HDR_LEN + 2 + n);
	p->notif_out++;
	g->n.notif_out++;
}

static void
send_open(struct bgpa *g, struct peer *p, struct conn *c)
{
	const struct peer_conf *pc = p->pc;
	uint8_t m[128], *o = m + BGP_HDR_LEN, *cap;
	size_t n;
	uint16_t as2 = pc->local_as > 65535 ? AS_TRANS : (uint16_t)pc->local_as;

	o[0] = 4;
	o[1] = (uint8_t)(as2 >> 8), o[2] = (uint8_t)as2;
	o[3] = (uint8_t)(pc->hold >> 8), o[4] = (uint8_t)pc->hold;
	wire_put32(o + 5, pc->router_id);
	cap = o + 12; /* after the parameter length, type and length */
	n = 0;
	/* multiprotocol IPv4 and IPv6 unicast */
	memcpy(cap + n, "\x01\x04\x00\x01\x00\x01", 6), n += 6;
	memcpy(cap + n, "\x01\x04\x00\x02\x00\x01", 6), n += 6;
	/* route refresh */
	memcpy(cap + n, "\x02\x00", 2), n += 2;
	/* 4-octet AS */
	cap[n++] = 65, cap[n++] = 4;
	wire_put32(cap + n, pc->local_as), n += 4;
	if (pc->gr_time) {
		/*
		 * Graceful restart: both families with "forwarding state
		 * preserved", so a router keeps our routes while the
		 * pipeline restarts and drops the stale ones after our
		 * End-of-RIB.
		 */
		cap[n++] = 64, cap[n++] = 10;
		cap[n++] = (uint8_t)((p->restart_bit ? 0x80 : 0) |
				     (pc->gr_time >> 8 & 0x0f));
		cap[n++] = (uint8_t)pc->gr_time;
		memcpy(cap + n, "\x00\x01\x01\x80\x00\x02\x01\x80", 8), n += 8;
	}
	o[9] = (uint8_t)(n + 2);
	o[10] = 2;
	o[11] = (uint8_t)n;
	n += BGP_HDR_LEN + 12;
	bgp_put_header(m, n, BGP_OPEN);
	buf_add(&c->out, m, n);
	count_out(g, p, n);
}

static void
conn_reset(struct conn *c)
{
	buf_free(&c->in);
	buf_free(&c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->state = ST_IDLE;
}

/* Writes what is queued on c; -1 when the connection broke. */
static int
conn_flush(struct conn *c)
{
	ssize_t k;

	while (buf_pending(&c->out)) {
		k = write(c->fd, c->out.p + c->out.off, buf_pending(&c->out));
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		buf_consume(&c->out, (size_t)k);
	}
	return 0;
}

static void
schedule_retry(struct bgpa *g, struct peer *p)
{
	if (p->pc->passive || g->shutting) {
		p->retry_at = INT64_MAX;
		return;
	}
	p->retry_at = g->now + p->backoff * 1000;
	if (p->backoff < BACKOFF_MAX)
		p->backoff *= 2;
	if (p->backoff > BACKOFF_MAX)
		p->backoff = BACKOFF_MAX;
}

/*
 * Closes c (after a NOTIFICATION when code is set). The peer's session
 * state goes with it when c was the session. Returns -1, for callers that
 * report "c is gone".
 */
static int
conn_close(struct bgpa *g, struct peer *p, struct conn *c, uint8_t code,
	   uint8_t sub, const uint8_t *data, size_t n, const char *why)
{
	int was_up = c->state == ST_ESTABLISHED;

	if (c->fd < 0)
		return -1;
	if (code) {
		send_notification(g, p, c, code, sub, data, n);
		conn_flush(c);
	}
	/* Repeated connect failures are logged once. */
	if ((c == &p->c || was_up) && strcmp(p->last_error, why) != 0) {
		snprintf(p->last_error, sizeof p->last_error, "%s", why);
		log_info("peer %s: %s -> idle: %s", p->pc->name,
			 state_name(c->state), why);
	}
	close(c->fd);
	if (was_up) {
		update_stop(g, p);
		g->n.peers_up--;
		p->since = clock_wall_us() / 1000000;
		/* A session that lasted resets the backoff. */
		if (g->now - p->up_since > 60 * 1000)
			p->backoff = 1;
	}
	conn_reset(c);
	if (c == &p->c)
		schedule_retry(g, p);
	return -1;
}

static void
peer_connect(struct bgpa *g, struct peer *p)
{
	const struct peer_conf *pc = p->pc;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	p->retry_at = INT64_MAX;
	fd = socket(pc->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1) {
		log_warn_sys("peer %s: unable to create socket", pc->name);
		schedule_retry(g, p);
		return;
	}
	if (set_md5(fd, pc) == -1)
		log_warn_sys("peer %s: unable to set TCP MD5 key", pc->name);
	if (set_gtsm(fd, pc) == -1)
		log_warn_sys("peer %s: unable to set TTL security", pc->name);
	if (pc->source.family) {
		len = sockaddr_of(&pc->source, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
			log_warn_sys("peer %s: unable to bind to source",
				     pc->name);
			close(fd);
			schedule_retry(g, p);
			return;
		}
	}
	len = sockaddr_of(&pc->addr, pc->port, &ss);
	p->c.fd = fd;
	p->c.inbound = 0;
	p->c.state = ST_CONNECT;
	p->c.t_connect = g->now + CONNECT_MS;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		char why[96];
		snprintf(why, sizeof why, "unable to connect: %s",
			 strerror(errno));
		conn_close(g, p, &p->c, 0, 0, NULL, 0, why);
	}
}

/* Resends family fam's table to p from the start. */
static void
refresh(struct bgpa *g, struct peer *p, int fam)
{
	update_refresh(g, p, fam);
	p->rr_pending[fam] = 0;
	p->rr_next[fam] = g->now + RR_MIN_MS;
	log_info("peer %s: route refresh for %s", p->pc->name,
		 fam == FAM4 ? "ipv4" : "ipv6");
}

static void
log_peer_notification(struct peer *p, const uint8_t *m, size_t len)
{
	uint8_t code = m[BGP_HDR_LEN], sub = m[BGP_HDR_LEN + 1];

	log_warn("peer %s: received NOTIFICATION %u/%u (%s)%s", p->pc->name,
		 code, sub, bgp_err_name(code, sub),
		 len > BGP_HDR_LEN + 2 ? " with data" : "");
}

/* ---- the state machine ---- */

/*
 * Events of RFC 4271 section 8 that reach a connection. Every input a
 * connection gets (socket readiness, a message, a timer) becomes one of
 * these and goes through fsm(), so what each state does with each event is
 * written down in one place.
 */
enum event {
	EV_CONNECTED,	 /* TCP is up: our connect completed, or accepted */
	EV_CONNECT_FAIL, /* our connect failed (d->why), or took too long */
	EV_CLOSED,	 /* the peer closed, a read or write failed (d->why) */
	EV_OPEN_TIMER,	 /* OpenSent or OpenConfirm lasted too long */
	EV_HOLD_TIMER,	 /* nothing from the peer for the hold time */
	EV_KEEPALIVE_TIMER,
	EV_OPEN, /* a message arrived (d->m, d->len) */
	EV_KEEPALIVE,
	EV_UPDATE,
	EV_NOTIFICATION,
	EV_REFRESH,
	EV_BAD_MESSAGE, /* a header that does not frame (d->e) */
	EV_STOP,	/* exit: d->cease asks for a Cease */
};

struct ev_data {
	const uint8_t *m; /* the message, header included */
	size_t len;
	const struct bgp_err *e;
	const char *why;
	int cease;
};

/* The NOTIFICATION that e describes, a warning, and the end of c. */
static int
bad_message(struct bgpa *g, struct peer *p, struct conn *c,
	    const struct bgp_err *e)
{
	char why[160];

	snprintf(why, sizeof why, "bad message from peer: %s (sent %u/%u)",
		 e->why ? e->why : bgp_err_name(e->code, e->subcode), e->code,
		 e->subcode);
	log_warn("peer %s: %s", p->pc->name, why);
	g->n.errors++;
	return conn_close(g, p, c, e->code, e->subcode, e->data, e->datalen,
			  why);
}

/* The TCP connection is up: send OPEN (RFC 4271 8.2.2, Connect/Active). */
static int
conn_up(struct bgpa *g, struct peer *p, struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_of(&c->local, &ss);
	send_open(g, p, c);
	c->state = ST_OPENSENT;
	c->t_connect = 0;
	c->t_open = g->now + p->pc->open_timeout * 1000;
	if (c == &p->c)
		log_info("peer %s: connected (%s)", p->pc->name,
			 c->inbound ? "incoming" : "outgoing");
	if (conn_flush(c) == -1)
		return conn_close(g, p, c, 0, 0, NULL, 0, "write failed");
	return 0;
}

/*
 * OpenConfirm: the peer's KEEPALIVE. The session always lives in p->c: an
 * incoming connection that gets here takes its place, and the other one,
 * still in OpenSent, goes (RFC 4271 6.8: an Established session wins).
 */
static int
established(struct bgpa *g, struct peer *p, struct conn **cp)
{
	struct conn *c = *cp;
	const struct bgp_open *o = &c->open;

	if (c == &p->in) {
		if (p->c.fd >= 0)
			conn_close(g, p, &p->c, 6, 7, NULL, 0,
				   "connection collision: the other one is up");
		p->c = p->in;
		memset(&p->in, 0, sizeof p->in);
		p->in.fd = -1;
		p->retry_at = INT64_MAX;
		*cp = c = &p->c;
	}
	p->as4 = o->has_as4;
	p->fam[FAM4] = o->fam[FAM4];
	p->fam[FAM6] = o->fam[FAM6];
	p->rr = o->route_refresh;
	p->rr_pending[FAM4] = p->rr_pending[FAM6] = 0;
	p->rr_next[FAM4] = p->rr_next[FAM6] = 0;
	c->state = ST_ESTABLISHED;
	c->t_open = 0;
	c->t_hold = c->hold ? g->now + c->hold * 1000 : 0;
	p->up_since = g->now;
	p->since = clock_wall_us() / 1000000;
	g->n.peers_up++;
	g->n.sessions++;
	p->last_error[0] = '\0';
	restart_established(g, p, o->gr);
	if (update_start(g, p) == -1)
		return conn_close(g, p, c, 6, 8, NULL, 0, "out of memory");
	log_info("peer %s: established: hold %u s,%s%s%s%s%s", p->pc->name,
		 c->hold, p->fam[FAM4] ? " ipv4" : "",
		 p->fam[FAM6] ? " ipv6" : "", p->as4 ? ", 4-octet AS" : "",
		 p->rr ? ", route refresh" : "",
		 o->gr ? ", graceful restart" : "");
	return 0;
}

/*
 * Connection collision (RFC 4271 6.8, RFC 6286): c has just received an
 * OPEN. Only the peer's other connection in OpenConfirm or Established
 * counts (in OpenSent its BGP identifier is not known yet: both go on, and
 * the later OPEN settles it). Of two in OpenConfirm the one opened by the
 * dominant speaker (higher identifier, then higher AS) survives; an
 * Established session always does. 0, or -1 when c lost.
 */
static int
collision(struct bgpa *g, struct peer *p, struct conn *c)
{
	const struct peer_conf *pc = p->pc;
	struct conn *other = c == &p->c ? &p->in : &p->c;
	int peer_dominant, keep_c;

	if (other->fd < 0)
		return 0;
	if (other->state == ST_ESTABLISHED)
		return conn_close(g, p, c, 6, 7, NULL, 0,
				  "collision with session");
	if (other->state == ST_CONNECT) {
		/* An outgoing attempt still connecting: this one won. */
		conn_close(g, p, other, 0, 0, NULL, 0,
			   "incoming connection won");
		return 0;
	}
	if (other->state != ST_OPENCONFIRM)
		return 0;
	peer_dominant =
	    pc->router_id < c->open.id ||
	    (pc->router_id == c->open.id && pc->local_as < pc->peer_as);
	/* keep the connection the dominant side opened */
	keep_c = peer_dominant == c->inbound;
	log_info("peer %s: connection collision: keeping the %s connection",
		 pc->name, keep_c == c->inbound ? "incoming" : "outgoing");
	if (!keep_c)
		return conn_close(g, p, c, 6, 7, NULL, 0,
				  "connection collision");
	conn_close(g, p, other, 6, 7, NULL, 0, "connection collision");
	return 0;
}

/* OpenSent: the peer's OPEN arrived. */
static int
rcvd_open(struct bgpa *g, struct peer *p, struct conn *c,
	  const struct ev_data *d)
{
	const uint8_t *body = d->m + BGP_HDR_LEN;
	struct bgp_err e = {0};

	if (bgp_parse_open(body, d->len - BGP_HDR_LEN, &c->open, &e) == -1)
		return bad_message(g, p, c, &e);
	if (c->open.as4 != p->pc->peer_as) {
		e.code = 2, e.subcode = 2, e.why = "bad peer AS";
		e.datalen = 2;
		e.data[0] = body[1], e.data[1] = body[2];
		return bad_message(g, p, c, &e);
	}
	if (c->open.id == p->pc->router_id &&
	    p->pc->peer_as == p->pc->local_as) {
		e.code = 2, e.subcode = 3, e.why = "peer has our router id";
		return bad_message(g, p, c, &e);
	}
	c->hold = p->pc->hold < c->open.hold ? p->pc->hold : c->open.hold;
	if (collision(g, p, c) == -1)
		return -1;
	send_keepalive(g, p, c);
	c->state = ST_OPENCONFIRM;
	/*
	 * RFC 4271 runs only the hold timer here, and not at all with a hold
	 * time of 0: a connection that never sends KEEPALIVE would then sit
	 * in OpenConfirm for ever and win every collision against the real
	 * router. The OPEN bound keeps running instead.
	 */
	c->t_hold = c->hold ? g->now + c->hold * 1000 : 0;
	return conn_flush(c) == -1
		   ? conn_close(g, p, c, 0, 0, NULL, 0, "write failed")
		   : 0;
}

/* Established: a ROUTE-REFRESH (RFC 2918), served or merged. */
static int
rcvd_refresh(struct bgpa *g, struct peer *p, struct conn *c,
	     const struct ev_data *d)
{
	struct bgp_err e = {0};
	int fam;

	if (bgp_parse_refresh(d->m + BGP_HDR_LEN, d->len - BGP_HDR_LEN, &fam,
			      &e) == -1)
		return bad_message(g, p, c, &e);
	if (fam < 0 || !p->fam[fam])
		return 0;
	if (g->now >= p->rr_next[fam])
		refresh(g, p, fam);
	else if (!p->rr_pending[fam]) {
		p->rr_pending[fam] = 1;
		log_info(
		    "peer %s: route refresh for %s deferred (one per %d s)",
		    p->pc->name, fam == FAM4 ? "ipv4" : "ipv6",
		    RR_MIN_MS / 1000);
	}
	return 0;
}

/*
 * Established: an UPDATE, read for its structure and dropped. Nothing is
 * installed from it, so the errors RFC 7606 handles short of a reset
 * (treat-as-withdraw, attribute discard) are only reported and counted.
 */
static int
rcvd_update(struct bgpa *g, struct peer *p, struct conn *c,
	    const struct ev_data *d)
{
	struct bgp_err e = {0};
	struct bgp_update u;

	if (bgp_parse_update(d->m + BGP_HDR_LEN, d->len - BGP_HDR_LEN, p->as4,
			     &u, &e) == -1)
		return bad_message(g, p, c, &e);
	g->n.attr_discarded += u.ndiscard;
	if (u.action == UPD_WITHDRAW)
		g->n.upd_withdrawn++;
	if (u.action != UPD_OK)
		log_warn_limited(
		    &update_rl,
		    "peer %s: UPDATE with %s (%u/%u, attribute "
		    "type %u): %s (RFC 7606; routes from peers "
		    "are not used)",
		    p->pc->name, u.err.why, u.err.code, u.err.subcode,
		    u.err.datalen > 1 ? u.err.data[1]
		    : u.err.datalen   ? u.err.data[0]
				      : 0,
		    u.action == UPD_WITHDRAW ? "treated as withdraw"
					     : "attribute discarded");
	if (u.eor)
		log_info("peer %s: End-of-RIB received", p->pc->name);
	return 0;
}

static int
keepalive_due(struct bgpa *g, struct peer *p, struct conn *c)
{
	send_keepalive(g, p, c);
	if (conn_flush(c) == -1)
		return conn_close(g, p, c, 0, 0, NULL, 0, "write failed");
	return 0;
}

/* An event that this state does not expect: RFC 6608's subcodes. */
static int
unexpected(struct bgpa *g, struct peer *p, struct conn *c, enum event ev)
{
	static const char *name[] = {[EV_OPEN] = "OPEN",
				     [EV_KEEPALIVE] = "KEEPALIVE",
				     [EV_UPDATE] = "UPDATE",
				     [EV_REFRESH] = "ROUTE-REFRESH"};
	char why[96];
	uint8_t sub = c->state == ST_OPENSENT	   ? 1
		      : c->state == ST_OPENCONFIRM ? 2
						   : 3;

	snprintf(why, sizeof why, "FSM error: unexpected %s in %s",
		 name[ev] ? name[ev] : "event", state_name(c->state));
	return conn_close(g, p, c, 5, sub, NULL, 0, why);
}

/*
 * The state machine: what event ev does to connection *cp of peer p.
 * Returns 0, or -1 when the connection is closed. Establishing moves an
 * incoming connection from p->in to p->c: *cp follows it.
 */
static int
fsm(struct bgpa *g, struct peer *p, struct conn **cp, enum event ev,
    const struct ev_data *d)
{
	struct conn *c = *cp;
	char why[160];

	/* What every state does alike. */
	switch (ev) {
	case EV_STOP:
		if (d->cease && c->state >= ST_OPENSENT)
			return conn_close(g, p, c, 6, 2, NULL, 0,
					  "administrative shutdown");
		return conn_close(g, p, c, 0, 0, NULL, 0, "exiting");
	case EV_CONNECT_FAIL:
	case EV_CLOSED:
		return conn_close(g, p, c, 0, 0, NULL, 0, d->why);
	case EV_BAD_MESSAGE:
		return bad_message(g, p, c, d->e);
	case EV_NOTIFICATION:
		p->notif_in++;
		g->n.notif_in++;
		log_peer_notification(p, d->m, d->len);
		snprintf(
		    why, sizeof why, "NOTIFICATION from peer: %s",
		    bgp_err_name(d->m[BGP_HDR_LEN], d->m[BGP_HDR_LEN + 1]));
		return conn_close(g, p, c, 0, 0, NULL, 0, why);
	case EV_OPEN_TIMER:
	case EV_HOLD_TIMER:
		return conn_close(g, p, c, 4, 0, NULL, 0, "hold timer expired");
	default:
		break;
	}

	switch (c->state) {
	case ST_CONNECT:
		if (ev == EV_CONNECTED)
			return conn_up(g, p, c);
		return 0;
	case ST_OPENSENT:
		if (ev == EV_OPEN)
			return rcvd_open(g, p, c, d);
		if (ev == EV_KEEPALIVE_TIMER)
			return 0;
		return unexpected(g, p, c, ev);
	case ST_OPENCONFIRM:
		if (ev == EV_KEEPALIVE)
			return established(g, p, cp);
		if (ev == EV_KEEPALIVE_TIMER)
			return keepalive_due(g, p, c);
		return unexpected(g, p, c, ev);
	case ST_ESTABLISHED:
		switch (ev) {
		case EV_KEEPALIVE:
			return 0;
		case EV_UPDATE:
			return rcvd_update(g, p, c, d);
		case EV_REFRESH:
			return rcvd_refresh(g, p, c, d);
		case EV_KEEPALIVE_TIMER:
			return keepalive_due(g, p, c);
		default:
			return unexpected(g, p, c, ev);
		}
	default:
		return 0;
	}
}

/* One framed message on c: its event. -1 when c was closed. */
static int
message(struct bgpa *g, struct peer *p, struct conn **cp, const uint8_t *m,
	size_t len)
{
	static const enum event ev[] = {[BGP_OPEN] = EV_OPEN,
					[BGP_UPDATE] = EV_UPDATE,
					[BGP_NOTIFICATION] = EV_NOTIFICATION,
					[BGP_KEEPALIVE] = EV_KEEPALIVE,
					[BGP_ROUTE_REFRESH] = EV_REFRESH};
	struct ev_data d = {.m = m, .len = len};
	struct conn *c = *cp;

	p->msgs_in++;
	g->n.msgs_in++;
	/* Any message restarts the hold timer (RFC 4271 8.2.2). */
	if (c->t_hold)
		c->t_hold = g->now + c->hold * 1000;
	/* bgp_frame() let only the five types through */
	return fsm(g, p, cp, ev[m[18]], &d);
}

/* Reads and handles everything the peer has sent, up to a budget. */
static void
conn_read(struct bgpa *g, struct peer *p, struct conn *c)
{
	struct bgp_err e = {0};
	struct ev_data d = {0};
	size_t got = 0;
	ssize_t k;
	int len;
	char why[160];

	while (got < READ_BUDGET) {
		if (buf_reserve(&c->in, 65536) == -1) {
			conn_close(g, p, c, 6, 8, NULL, 0, "out of memory");
			return;
		}
		k = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1 && errno == EAGAIN)
			break;
		if (k <= 0) {
			snprintf(why, sizeof why, "connection %s",
				 k == 0 ? "closed by peer" : strerror(errno));
			d.why = why;
			fsm(g, p, &c, EV_CLOSED, &d);
			return;
		}
		c->in.len += (size_t)k;
		got += (size_t)k;
		while ((len = bgp_frame(c->in.p + c->in.off,
					buf_pending(&c->in), &e)) > 0) {
			const uint8_t *m = c->in.p + c->in.off;
			buf_consume(&c->in, (size_t)len);
			if (message(g, p, &c, m, (size_t)len) == -1)
				return;
		}
		if (len == -1) {
			d.e = &e;
			fsm(g, p, &c, EV_BAD_MESSAGE, &d);
			return;
		}
	}
}

static int
listen_open(struct bgpa *g, size_t k)
{
	const struct config *cfg = g->cfg;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;
	int fd, one = 1;

	fd = socket(cfg->listen[k].family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	for (i = 0; i < cfg->npeers; i++)
		if (cfg->peers[i].addr.family == cfg->listen[k].family &&
		    set_md5(fd, &cfg->peers[i]) == -1)
			log_warn_sys("peer %s: unable to set TCP MD5 key",
				     cfg->peers[i].name);
	len = sockaddr_of(&cfg->listen[k], cfg->listen_port[k], &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 16) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
accept_one(struct bgpa *g, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct addr a, local = {0};
	struct peer *p = NULL;
	struct conn *c;
	struct ev_data d = {0};
	size_t i, alen;
	int fd, pass;
	char b[64];

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	addr_of(&a, &ss);
	alen = a.family == AF_INET ? 4 : 16;
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_of(&local, &ss);
	/*
	 * Peers are told apart by their address; of several at one address
	 * those whose SOURCE is the local address the connection came in on
	 * are asked first (pass 0), then any (pass 1: a router may reach us
	 * at another of our addresses). Of the candidates the first that can
	 * take a connection gets it.
	 */
	for (pass = 0; pass < 2 && !p; pass++)
		for (i = 0; i < g->npeers; i++) {
			struct peer *q = &g->peers[i];
			if (q->pc->addr.family != a.family ||
			    memcmp(q->pc->addr.a, a.a, alen))
				continue;
			if (pass == 0 && q->pc->source.family &&
			    (local.family != a.family ||
			     memcmp(q->pc->source.a, local.a, alen)))
				continue;
			if (!p)
				p = q;
			if (q->c.fd < 0 || q->c.state == ST_CONNECT ||
			    (q->in.fd < 0 && q->c.state != ST_ESTABLISHED)) {
				p = q;
				break;
			}
		}
	if (!p || g->shutting) {
		g->n.refused++;
		log_warn_limited(&refused_rl,
				 "connection from %s: %s, closed (%llu refused "
				 "so far)",
				 addr_str(&a, b, sizeof b),
				 p ? "exiting" : "not a peer",
				 (unsigned long long)g->n.refused);
		close(fd);
		return;
	}
	set_gtsm(fd, p->pc);
	if (p->c.fd < 0 || p->c.state == ST_CONNECT) {
		if (p->c.fd >= 0)
			conn_close(g, p, &p->c, 0, 0, NULL, 0,
				   "incoming connection replaces attempt");
		c = &p->c;
		p->retry_at = INT64_MAX;
	} else if (p->in.fd < 0 && p->c.state != ST_ESTABLISHED) {
		c = &p->in;
	} else {
		/* Already established (or a third connection): refuse. */
		uint8_t m[BGP_HDR_LEN + 2];
		bgp_put_header(m, sizeof m, BGP_NOTIFICATION);
		m[BGP_HDR_LEN] = 6, m[BGP_HDR_LEN + 1] = 5;
		if (write(fd, m, sizeof m) < 0) {
			/* nothing to do: we close anyway */
		}
		close(fd);
		g->n.refused++;
		log_warn_limited(&refused_rl,
				 "peer %s: incoming connection rejected (%s; "
				 "%llu refused so far)",
				 p->pc->name, state_name(p->c.state),
				 (unsigned long long)g->n.refused);
		return;
	}
	conn_reset(c);
	c->fd = fd;
	c->inbound = 1;
	c->state = ST_CONNECT;
	fsm(g, p, &c, EV_CONNECTED, &d);
}

void
session_init(struct bgpa *g)
{
	size_t i;

	g->now = clock_mono_ms();
	g->npeers = g->cfg->npeers;
	for (i = 0; i < g->npeers; i++) {
		struct peer *p = &g->peers[i];
		memset(p, 0, sizeof *p);
		p->pc = &g->cfg->peers[i];
		p->idx = (int)i;
		conn_reset(&p->c);
		conn_reset(&p->in);
		p->backoff = 1;
		p->cursor = UINT32_MAX;
		p->retry_at = p->pc->passive ? INT64_MAX : g->now;
		p->since = g->started;
	}
	for (i = 0; i < BGPA_MAX_LISTEN; i++)
		g->listen_fd[i] = -1;
	for (i = 0; i < g->cfg->nlisten; i++)
		if ((g->listen_fd[i] = listen_open(g, i)) == -1) {
			char b[64];

			if (errno == EACCES && g->cfg->listen_port[i] < 1024)
				log_fatal(
				    EXIT_TEMP,
				    "unable to listen on %s port %u: %s "
				    "(a port below 1024 needs "
				    "CAP_NET_BIND_SERVICE: see "
				    "bgp-announce(8), PRIVILEGES)",
				    addr_str(&g->cfg->listen[i], b, sizeof b),
				    g->cfg->listen_port[i], strerror(errno));
			log_fatal_sys(EXIT_TEMP,
				      "unable to listen on %s port %u",
				      addr_str(&g->cfg->listen[i], b, sizeof b),
				      g->cfg->listen_port[i]);
		}
}

size_t
session_pollfds(struct bgpa *g, struct pollfd *pfd, size_t max)
{
	size_t n = 0, i;
	struct conn *cs[2];
	int k;

	for (i = 0; i < g->cfg->nlisten && n < max; i++) {
		pfd[n].fd = g->listen_fd[i];
		pfd[n].revents = 0;
		pfd[n++].events = POLLIN;
	}
	for (i = 0; i < g->npeers && n + 2 <= max; i++) {
		cs[0] = &g->peers[i].c;
		cs[1] = &g->peers[i].in;
		for (k = 0; k < 2; k++) {
			if (cs[k]->fd < 0)
				continue;
			pfd[n].fd = cs[k]->fd;
			pfd[n].events =
			    (short)(cs[k]->state == ST_CONNECT
					? POLLOUT
					: POLLIN | (buf_pending(&cs[k]->out)
							? POLLOUT
							: 0));
			pfd[n++].revents = 0;
		}
	}
	return n;
}

static int
is_listener(const struct bgpa *g, int fd)
{
	size_t i;

	for (i = 0; i < g->cfg->nlisten; i++)
		if (g->listen_fd[i] == fd)
			return 1;
	return 0;
}

static struct conn *
conn_of_fd(struct bgpa *g, int fd, struct peer **pp)
{
	size_t i;

	for (i = 0; i < g->npeers; i++) {
		*pp = &g->peers[i];
		if (g->peers[i].c.fd == fd)
			return &g->peers[i].c;
		if (g->peers[i].in.fd == fd)
			return &g->peers[i].in;
	}
	return NULL;
}

void
session_events(struct bgpa *g, struct pollfd *pfd, size_t n)
{
	struct ev_data d = {0};
	struct peer *p;
	struct conn *c;
	socklen_t len;
	size_t i;
	int err;
	char why[128];

	g->now = clock_mono_ms();
	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (is_listener(g, pfd[i].fd)) {
			accept_one(g, pfd[i].fd);
			continue;
		}
		if (!(c = conn_of_fd(g, pfd[i].fd, &p)))
			continue;
		if (c->state == ST_CONNECT) {
			err = 0;
			len = sizeof err;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			snprintf(why, sizeof why, "unable to connect: %s",
				 strerror(err));
			d.why = why;
			fsm(g, p, &c, err ? EV_CONNECT_FAIL : EV_CONNECTED, &d);
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(g, p, c);
		if (c->fd >= 0 && (pfd[i].revents & POLLOUT) &&
		    conn_flush(c) == -1) {
			snprintf(why, sizeof why, "write failed: %s",
				 strerror(errno));
			d.why = why;
			fsm(g, p, &c, EV_CLOSED, &d);
		}
	}
}

/* Fires c's timers that are due; returns when the next one is. */
static int64_t
conn_timers(struct bgpa *g, struct peer *p, struct conn *c)
{
	struct ev_data d = {.why = "connect timeout"};
	int64_t next = INT64_MAX,
		*t[] = {&c->t_connect, &c->t_open, &c->t_hold, &c->t_keepalive};
	static const enum event ev[] = {EV_CONNECT_FAIL, EV_OPEN_TIMER,
					EV_HOLD_TIMER, EV_KEEPALIVE_TIMER};
	size_t k;

	for (k = 0; k < 4 && c->fd >= 0; k++) {
		if (!*t[k])
			continue;
		/*
		 * A loop turn that took long (a loaded machine) must not
		 * expire a peer whose messages wait in the socket: read
		 * them first.
		 */
		if (g->now >= *t[k] && k > 0 && k < 3) {
			conn_read(g, p, c);
			if (c->fd < 0 || !*t[k])
				continue;
		}
		if (g->now >= *t[k]) {
			*t[k] = 0;
			if (fsm(g, p, &c, ev[k], &d) == -1)
				return INT64_MAX;
		}
		if (*t[k] && *t[k] < next)
			next = *t[k];
	}
	return next;
}

int64_t
session_timers(struct bgpa *g)
{
	int64_t next = INT64_MAX, t;
	size_t i;
	struct peer *p;
	int f;

	g->now = clock_mono_ms();
	for (i = 0; i < g->npeers; i++) {
		p = &g->peers[i];
		if (p->c.fd < 0 && g->now >= p->retry_at && !g->shutting)
			peer_connect(g, p);
		if (p->c.fd < 0 && p->retry_at < next)
			next = p->retry_at;
		if ((t = conn_timers(g, p, &p->c)) < next)
			next = t;
		if ((t = conn_timers(g, p, &p->in)) < next)
			next = t;
		for (f = 0; f < NFAM && p->c.state == ST_ESTABLISHED; f++) {
			if (!p->rr_pending[f])
				continue;
			if (g->now >= p->rr_next[f])
				refresh(g, p, f);
			else if (p->rr_next[f] < next)
				next = p->rr_next[f];
		}
	}
	return next == INT64_MAX ? -1 : next - g->now;
}

void
session_output(struct bgpa *g)
{
	size_t i;
	struct peer *p;
	int round;

	for (i = 0; i < g->npeers; i++) {
		p = &g->peers[i];
		if (p->c.fd < 0)
			continue;
		/* Fill, write, and refill while the socket takes it all. */
		for (round = 0; round < 8; round++) {
			if (p->c.state == ST_ESTABLISHED)
				update_drain(g, p);
			if (!buf_pending(&p->c.out))
				break;
			if (conn_flush(&p->c) == -1) {
				char why[128];
				snprintf(why, sizeof why, "write failed: %s",
					 strerror(errno));
				conn_close(g, p, &p->c, 0, 0, NULL, 0, why);
				break;
			}
			if (buf_pending(&p->c.out) || !update_pending(g, p))
				break;
		}
		if (p->in.fd >= 0 && buf_pending(&p->in.out) &&
		    conn_flush(&p->in) == -1)
			conn_close(g, p, &p->in, 0, 0, NULL, 0, "write failed");
	}
}

int
session_busy(const struct bgpa *g)
{
	size_t i;

	for (i = 0; i < g->npeers; i++)
		if (update_pending(g, &g->peers[i]) &&
		    buf_pending(&g->peers[i].c.out) == 0)
			return 1;
	return 0;
}

size_t
session_unsent(const struct bgpa *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->npeers; i++) {
		const struct peer *p = &g->peers[i];
		if (p->c.state != ST_ESTABLISHED)
			continue;
		n += buf_pending(&p->c.out) + (size_t)update_pending(g, p);
	}
	return n;
}

void
session_close_all(struct bgpa *g, int cease)
{
	struct ev_data d = {.cease = cease};
	struct conn *c;
	struct peer *p;
	size_t i;

	g->now = clock_mono_ms();
	for (i = 0; i < g->npeers; i++) {
		p = &g->peers[i];
		c = &p->c;
		if (c->fd >= 0)
			fsm(g, p, &c, EV_STOP, &d);
		c = &p->in;
		d.cease = 0;
		if (c->fd >= 0)
			fsm(g, p, &c, EV_STOP, &d);
		d.cease = cease;
		update_stop(g, p);
	}
	for (i = 0; i < g->cfg->nlisten; i++) {
		if (g->listen_fd[i] >= 0)
			close(g->listen_fd[i]);
		g->listen_fd[i] = -1;
	}
}

void
session_stats(const struct bgpa *g)
{
	size_t i;
	const struct peer *p;

	for (i = 0; i < g->npeers; i++) {
		p = &g->peers[i];
		log_info("peer %s: %s uptime %llds prefixes %llu announced "
			 "%llu withdrawn msgs in %llu out %llu "
			 "notifications in %llu out %llu%s%s",
			 p->pc->name, state_name(peer_state(g, p)),
			 p->c.state == ST_ESTABLISHED
			     ? (long long)((g->now - p->up_since) / 1000)
			     : 0LL,
			 (unsigned long long)p->pfx_announced,
			 (unsigned long long)p->pfx_withdrawn,
			 (unsigned long long)p->msgs_in,
			 (unsigned long long)p->msgs_out,
			 (unsigned long long)p->notif_in,
			 (unsigned long long)p->notif_out,
			 p->last_error[0] ? " last error: " : "",
			 p->last_error);
	}
}
