/*
 * barrier.c: the marks of docs/records.md. "mark N" on stdin is answered
 * with "ack N" on the acknowledgement channel (-A, a FIFO that dns-hold
 * reads) once every UPDATE that the records before the mark caused has
 * been handed to each peer that was Established at the mark, and that
 * peer's TCP has acknowledged it; at once when no peer was Established.
 *
 * Per peer a mark becomes a checkpoint: first the peer's queue must have
 * been taken past the entries queued before the mark (and a table walk
 * then in progress finished); at that moment the byte count written into
 * the peer's output so far is the mark's position in its stream. Then the
 * socket's send queue (SIOCOUTQ) tells when the peer's TCP has acked past
 * it. While a position waits for its ack the loop looks again on a short
 * timer that lengthens as the wait does (step_us), never in a busy loop; a
 * peer that stops reading holds its marks back, never the input or the
 * other peers.
 *
 * Acks are cumulative, so both rings are bounded: past their size the
 * newest mark is merged into the last one, which then waits for both.
 * The channel is opened O_RDWR|O_NONBLOCK and never waited on: an ack that
 * does not fit is dropped and counted (the next one covers it).
 */
#include "bgpa.h"

#include <errno.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack.h"
#include "clock.h"
#include "log.h"

#define CK_MAX 1024   /* checkpoints per peer */
#define MARK_MAX 4096 /* marks waiting */
#define UNKNOWN UINT64_MAX
/*
 * While an ack is awaited from a TCP: look every 100 us for the first 10 ms
 * (a router on the LAN acks within that), every ms up to 100 ms, then every
 * 10 ms (a router's delayed ACK, or one that stopped reading).
 */
static int64_t
step_us(int64_t waited)
{
	return waited < 10000 ? 100 : waited < 100000 ? 1000 : 10000;
}

static int64_t waiting_since; /* mono us: some ack is awaited from a TCP */
static struct ratelimit ack_rl = RATELIMIT_INIT;

void
barrier_open(struct bgpa *g, const char *path, int64_t settle_us)
{
	int fd;

	g->settle_us = settle_us;
	/* read-write: the open never waits for a reader (lib/ack) */
	if ((fd = ack_open(path)) == -1 && errno == ENOENT) {
		if (mkfifo(path, 0600) == -1 && errno != EEXIST)
			log_fatal_sys(EXIT_TEMP, "unable to create %s", path);
		fd = ack_open(path);
	}
	if (fd == -1 && errno == ENOTSUP)
		log_fatal(EXIT_PERM, "%s: not a FIFO", path);
	if (fd == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", path);
	g->ack_fd = fd;
}

void
barrier_close(struct bgpa *g)
{
	if (g->ack_fd >= 0)
		close(g->ack_fd);
	g->ack_fd = -1;
	free(g->marks);
	g->marks = NULL;
	g->mhead = g->mlen = g->mcap = 0;
}

/*
 * Doubles a ring of len elements of size esz at *ring (head at *head,
 * capacity *cap), laid out from index 0 again. 0, or -1 out of memory.
 */
static int
ring_grow(void **ring, size_t esz, size_t *head, size_t len, size_t *cap,
	  size_t first)
{
	size_t n = *cap ? *cap * 2 : first, i;
	char *a = malloc(n * esz);
	const char *old = *ring;

	if (!a)
		return -1;
	for (i = 0; i < len; i++)
		memcpy(a + i * esz, old + (*head + i) % *cap * esz, esz);
	free(*ring);
	*ring = a;
	*cap = n;
	*head = 0;
	return 0;
}

static struct ckpt *
ck_at(struct peer *p, size_t i)
{
	return &p->ck[(p->ckhead + i) % p->ckcap];
}

/* Adds p's checkpoint for mark seq; 0, or -1 out of memory. */
static int
ck_push(struct peer *p, uint64_t seq, uint64_t qpos, uint64_t walk)
{
	struct ckpt *c;

	if (p->cklen == CK_MAX) {
		/* the last one waits for this mark's entries as well */
		c = ck_at(p, p->cklen - 1);
		c->qpos = qpos;
		c->walk = walk;
		c->bytes = UNKNOWN;
		return 0;
	}
	if (p->cklen == p->ckcap &&
	    ring_grow((void **)&p->ck, sizeof *p->ck, &p->ckhead, p->cklen,
		      &p->ckcap, 16) == -1)
		return -1;
	c = ck_at(p, p->cklen++);
	c->seq = seq;
	c->qpos = qpos;
	c->walk = walk;
	c->bytes = UNKNOWN;
	return 0;
}

static struct mark *
mark_at(struct bgpa *g, size_t i)
{
	return &g->marks[(g->mhead + i) % g->mcap];
}

static int
mark_push(struct bgpa *g, uint64_t seq, uint64_t n, int had_peers)
{
	struct mark *m;

	if (g->mlen == MARK_MAX) {
		/* acked when the last one is: acks are cumulative */
		m = mark_at(g, g->mlen - 1);
		m->seq = seq;
		m->n = n;
		m->had_peers |= had_peers;
		return 0;
	}
	if (g->mlen == g->mcap &&
	    ring_grow((void **)&g->marks, sizeof *g->marks, &g->mhead, g->mlen,
		      &g->mcap, 64) == -1)
		return -1;
	m = mark_at(g, g->mlen++);
	m->seq = seq;
	m->n = n;
	m->had_peers = had_peers;
	m->ready = 0;
	return 0;
}

void
barrier_progress(struct bgpa *g, struct peer *p)
{
	size_t i;

	(void)g;
	for (i = 0; i < p->cklen; i++) {
		struct ckpt *c = ck_at(p, i);

		if (c->bytes != UNKNOWN)
			continue;
		if (p->q_popped < c->qpos || p->walks < c->walk)
			break;
		c->bytes = p->c.out.added;
	}
}

void
barrier_peer_down(struct bgpa *g, struct peer *p)
{
	(void)g;
	free(p->ck);
	p->ck = NULL;
	p->ckhead = p->cklen = p->ckcap = 0;
}

void
barrier_mark(struct bgpa *g, uint64_t n)
{
	uint64_t seq = ++g->mark_seq;
	int had = 0;
	size_t i;

	g->n.marks++;
	g->last_mark = n;
	if (g->ack_fd < 0)
		return;
	for (i = 0; i < g->npeers; i++) {
		struct peer *p = &g->peers[i];

		if (p->c.state != ST_ESTABLISHED)
			continue;
		had = 1;
		if (ck_push(p, seq, p->q_pushed,
			    p->walks + (p->cursor != UINT32_MAX)) == -1)
			log_fatal(EXIT_TEMP,
				  "unable to allocate: out of memory");
		barrier_progress(g, p);
	}
	if (mark_push(g, seq, n, had) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
}

/* Bytes of p's stream its TCP has acknowledged. */
static uint64_t
acked(const struct peer *p)
{
	int outq = 0;

	if (ioctl(p->c.fd, SIOCOUTQ, &outq) == -1 || outq < 0 ||
	    (uint64_t)outq > p->c.out.taken)
		return 0;
	return p->c.out.taken - (uint64_t)outq;
}

static void
write_ack(struct bgpa *g, uint64_t n)
{
	int r = ack_write(g->ack_fd, n);

	if (r == 1) {
		g->n.acks++;
		g->last_ack = n;
		return;
	}
	g->n.acks_dropped++;
	if (r == -1)
		log_warn_limited(&ack_rl, "unable to write an ack: %s",
				 strerror(errno));
}

int64_t
barrier_check(struct bgpa *g)
{
	uint64_t min = UINT64_MAX, last = 0;
	int64_t now = clock_mono_us(), next = -1;
	int waiting = 0, any = 0;
	size_t i;

	if (g->ack_fd < 0)
		return -1;
	for (i = 0; i < g->npeers; i++) {
		struct peer *p = &g->peers[i];
		uint64_t a = UNKNOWN;

		while (p->cklen && ck_at(p, 0)->bytes != UNKNOWN) {
			if (a == UNKNOWN)
				a = acked(p);
			if (a < ck_at(p, 0)->bytes)
				break;
			p->ckhead = (p->ckhead + 1) % p->ckcap;
			p->cklen--;
		}
		if (!p->cklen)
			continue;
		if (ck_at(p, 0)->seq < min)
			min = ck_at(p, 0)->seq;
		if (ck_at(p, 0)->bytes != UNKNOWN)
			waiting = 1;
	}
	while (g->mlen && mark_at(g, 0)->seq < min) {
		struct mark *m = mark_at(g, 0);

		/* the router's own time to take in what its TCP acked */
		if (g->settle_us && m->had_peers) {
			if (!m->ready)
				m->ready = now + g->settle_us;
			if (now < m->ready) {
				next = m->ready - now;
				break;
			}
		}
		last = m->n;
		any = 1;
		g->mhead = (g->mhead + 1) % g->mcap;
		g->mlen--;
	}
	if (any)
		write_ack(g, last);
	if (!waiting) {
		waiting_since = 0;
		return next;
	}
	if (!waiting_since)
		waiting_since = now;
	if (next < 0 || step_us(now - waiting_since) < next)
		next = step_us(now - waiting_since);
	return next;
}
