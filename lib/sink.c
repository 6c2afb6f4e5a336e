#include "sink.h"

#include "ack.h"
#include "sig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIRTY 4
#define KNOWN 8		  /* the cache has named it: a delete is its wish */
#define TAG_SLOTS 8192	  /* twice SINK_MAX_TAGS */
#define LINE_BUDGET 50000 /* lines per turn of the event loop */

int
sink_init(struct sink *s, sink_dest_fn dest_of, void *arg)
{
	memset(s, 0, sizeof *s);
	s->dest_of = dest_of;
	s->arg = arg;
	if (pmap_init(&s->cache) == -1 || pmap_init(&s->dest) == -1 ||
	    !(s->tagidx = calloc(TAG_SLOTS, sizeof *s->tagidx)) ||
	    !(s->tags = calloc(SINK_MAX_TAGS, sizeof *s->tags))) {
		sink_destroy(s);
		return -1;
	}
	return 0;
}

void
sink_destroy(struct sink *s)
{
	pmap_destroy(&s->cache);
	pmap_destroy(&s->dest);
	free(s->tags);
	free(s->tagidx);
	free(s->dirty);
	memset(s, 0, sizeof *s);
}

/* The tag's index, interned on first sight; -1 when the table is full. */
static int32_t
tag_id(struct sink *s, const char *tag, size_t len)
{
	uint32_t h = 2166136261u, i;
	struct sink_tag *t;
	size_t k;

	for (k = 0; k < len; k++)
		h = (h ^ (uint8_t)tag[k]) * 16777619u;
	for (h &= TAG_SLOTS - 1; s->tagidx[h]; h = (h + 1) & (TAG_SLOTS - 1)) {
		t = &s->tags[s->tagidx[h] - 1];
		if (strlen(t->name) == len && !memcmp(t->name, tag, len))
			return s->tagidx[h] - 1;
	}
	if (s->ntags == SINK_MAX_TAGS || len > REC_TAG_MAX)
		return -1;
	i = s->ntags++;
	t = &s->tags[i];
	memcpy(t->name, tag, len);
	t->name[len] = 0;
	t->dest[0] = s->dest_of(s->arg, t->name, 4);
	t->dest[1] = s->dest_of(s->arg, t->name, 6);
	s->tagidx[h] = (uint16_t)(i + 1);
	return (int32_t)i;
}

static int
wanted(const struct pmap_ent *e)
{
	return e->val > 0;
}

/* Does entry i need a change (or, idle and unwanted, can it go)? */
static int
touch(struct sink *s, uint32_t i)
{
	struct pmap_ent *e = &s->dest.e[i];
	enum sink_have h = sink_have(e);
	uint32_t *nd, ncap;

	if (e->flags & DIRTY)
		return 0;
	/* Before the first replay ends, only what records name changes. */
	if ((wanted(e) && (h == SINK_NONE || h == SINK_STALE)) ||
	    (!wanted(e) && (h == SINK_OURS || h == SINK_STALE) &&
	     (s->synced || (e->flags & KNOWN)))) {
		if (s->ndirty == s->dirtycap) {
			ncap = s->dirtycap ? s->dirtycap * 2 : 1024;
			if (!(nd =
				  realloc(s->dirty, (size_t)ncap * sizeof *nd)))
				return -1;
			s->dirty = nd;
			s->dirtycap = ncap;
		}
		e->flags |= DIRTY;
		s->dirty[s->ndirty++] = i;
	} else if (!wanted(e) && h == SINK_NONE)
		pmap_del(&s->dest, i);
	return 0;
}

static int
dest_ref(struct sink *s, uint32_t dest, const struct rec_addr *p, int delta)
{
	uint32_t i;
	int created;

	if (dest == SINK_NO_DEST)
		return 0;
	if (delta > 0) {
		if ((i = pmap_get(&s->dest, dest, p, &created)) == PMAP_NONE)
			return -1;
		s->dest.e[i].val++;
		s->dest.e[i].flags |= KNOWN;
	} else {
		if ((i = pmap_find(&s->dest, dest, p)) == PMAP_NONE)
			return 0;
		if (s->dest.e[i].val)
			s->dest.e[i].val--;
		s->dest.e[i].flags |= KNOWN;
	}
	return touch(s, i);
}

static int
cache_del(struct sink *s, uint32_t ci)
{
	struct pmap_ent e = s->cache.e[ci];
	const struct sink_tag *t = &s->tags[e.id];

	pmap_del(&s->cache, ci);
	return dest_ref(s, t->dest[e.p.family == 4 ? 0 : 1], &e.p, -1);
}

enum sink_event
sink_record(struct sink *s, const struct rec *r)
{
	uint32_t ci, i, d;
	int32_t tid;
	int created;

	switch (r->type) {
	case REC_ANNOUNCE:
	case REC_WITHDRAW:
		if ((tid = tag_id(s, r->tag, r->tag_len)) < 0)
			return SINK_ETAGS;
		if (r->type == REC_WITHDRAW) {
			ci = pmap_find(&s->cache, (uint32_t)tid, &r->addr);
			if (ci != PMAP_NONE)
				return cache_del(s, ci) == -1 ? SINK_ENOMEM
							      : SINK_OK;
			/* Not cached (no replay yet): still, it names it. */
			d = s->tags[tid].dest[r->addr.family == 4 ? 0 : 1];
			if (d != SINK_NO_DEST &&
			    (i = pmap_find(&s->dest, d, &r->addr)) !=
				PMAP_NONE) {
				s->dest.e[i].flags |= KNOWN;
				if (touch(s, i) == -1)
					return SINK_ENOMEM;
			}
			return SINK_OK;
		}
		ci = pmap_get(&s->cache, (uint32_t)tid, &r->addr, &created);
		if (ci == PMAP_NONE)
			return SINK_ENOMEM;
		s->cache.e[ci].gen = s->gen;
		if (!created)
			return SINK_OK;
		d = s->tags[tid].dest[r->addr.family == 4 ? 0 : 1];
		if (d == SINK_NO_DEST)
			s->no_dest++;
		if (dest_ref(s, d, &r->addr, 1) == -1)
			return SINK_ENOMEM;
		return SINK_OK;
	case REC_REPLAY:
		/*
		 * A replay inside a replay starts it over: what the cut one
		 * announced is as old as the rest, kept only if announced
		 * again.
		 */
		s->gen++;
		s->replaying = 1;
		return SINK_OK;
	case REC_EOR:
		if (!s->replaying)
			return SINK_OK;
		s->replaying = 0;
		s->synced = 1;
		for (i = 0; i < s->cache.n; i++)
			if (s->cache.e[i].used && s->cache.e[i].gen != s->gen &&
			    cache_del(s, i) == -1)
				return SINK_ENOMEM;
		return SINK_EOR;
	default:
		return SINK_OK;
	}
}

uint32_t
sink_next(struct sink *s, enum sink_op *op)
{
	struct pmap_ent *e;
	enum sink_have h;
	uint32_t i;

	while (s->ndirty) {
		i = s->dirty[--s->ndirty];
		e = &s->dest.e[i];
		e->flags &= (uint8_t)~DIRTY;
		h = sink_have(e);
		if (wanted(e) && h == SINK_NONE)
			*op = SINK_ADD;
		else if (wanted(e) && h == SINK_STALE)
			*op = SINK_REPLACE;
		else if (!wanted(e) && (h == SINK_OURS || h == SINK_STALE) &&
			 (s->synced || (e->flags & KNOWN)))
			*op = SINK_DEL;
		else {
			if (!wanted(e) && h == SINK_NONE)
				pmap_del(&s->dest, i);
			continue;
		}
		return i;
	}
	return PMAP_NONE;
}

void
sink_done(struct sink *s, uint32_t i, enum sink_op op)
{
	struct pmap_ent *e = &s->dest.e[i];

	e->flags = (uint8_t)((e->flags & ~3) |
			     (op == SINK_DEL ? SINK_NONE : SINK_OURS));
	(void)touch(s, i);
}

void
sink_view_begin(struct sink *s)
{
	s->view_gen++;
}

int
sink_view_add(struct sink *s, uint32_t dest, const struct rec_addr *p,
	      enum sink_have have)
{
	uint32_t i;
	int created;

	if ((i = pmap_get(&s->dest, dest, p, &created)) == PMAP_NONE)
		return -1;
	s->dest.e[i].flags =
	    (uint8_t)((s->dest.e[i].flags & ~3) | (uint8_t)have);
	s->dest.e[i].gen = s->view_gen;
	return 0;
}

void
sink_view_end(struct sink *s)
{
	struct pmap_ent *e;
	uint32_t i;

	for (i = 0; i < s->dest.n; i++) {
		e = &s->dest.e[i];
		if (!e->used)
			continue;
		if (e->gen != s->view_gen)
			e->flags &= (uint8_t)~3;
		(void)touch(s, i);
	}
}

void
sink_recheck(struct sink *s)
{
	uint32_t i;

	for (i = 0; i < s->dest.n; i++)
		if (s->dest.e[i].used)
			(void)touch(s, i);
}

void
sink_count(const struct sink *s, uint64_t *ours, uint64_t *foreign)
{
	uint32_t i;

	*ours = *foreign = 0;
	for (i = 0; i < s->dest.n; i++)
		if (s->dest.e[i].used) {
			if (sink_have(&s->dest.e[i]) == SINK_OURS)
				(*ours)++;
			else if (sink_have(&s->dest.e[i]) == SINK_FOREIGN)
				(*foreign)++;
		}
}

int
sink_io_open(struct sink_io *io, const char *ack_path, char *msg, size_t msglen)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	int e;

	io->ackfd = io->sigfd = -1;
	if (ack_path && (io->ackfd = ack_open(ack_path)) == -1) {
		e = errno;
		snprintf(msg, msglen, "unable to open the ack channel %s%s: %s",
			 ack_path, e == ENOTSUP ? " (not a FIFO)" : "",
			 strerror(e));
		errno = e;
		return -1;
	}
	if ((io->sigfd = sig_open(sigs)) == -1) {
		e = errno;
		snprintf(msg, msglen, "unable to set up signals: %s",
			 strerror(e));
		sink_io_close(io);
		errno = e;
		return -1;
	}
	if (recin_init(&io->in, 0, REC_LINE_MAX * 4, LINE_BUDGET) == -1) {
		snprintf(msg, msglen, "out of memory");
		sink_io_close(io);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
sink_io_close(struct sink_io *io)
{
	if (io->ackfd != -1)
		close(io->ackfd);
	if (io->sigfd != -1)
		close(io->sigfd);
	io->ackfd = io->sigfd = -1;
	recin_destroy(&io->in);
}

/* Writes the owed ack. 0, or -1 when the channel failed. */
static int
ack_owed(struct sink_io *io)
{
	int r;

	if (!io->have_mark)
		return 0;
	io->have_mark = 0;
	if (io->ackfd == -1)
		return 0;
	if ((r = ack_write(io->ackfd, io->mark)) == -1)
		return -1;
	if (r)
		io->acks++;
	else
		io->acks_dropped++;
	return 0;
}

/*
 * When the kernel may have moved: applies what is pending (unless inside a
 * replay) and acknowledges the last mark when all of it is in. 0, or -1
 * when the ack channel failed (errno).
 */
static int
settle(struct sink *s, struct sink_io *io)
{
	if (s->replaying || io->apply(io->arg) != 0)
		return 0;
	return ack_owed(io);
}

/* A read-back, then what it allows. 0, or -1: the ack channel failed. */
static int
reread(struct sink *s, struct sink_io *io)
{
	return io->readback(io->arg) == 0 ? settle(s, io) : 0;
}

static enum sink_io_ev
ack_failed(char *msg, size_t msglen)
{
	snprintf(msg, msglen, "unable to write to the ack channel: %s",
		 strerror(errno));
	return SINK_EV_FATAL;
}

/* One record. SINK_EV_NONE when there is nothing to say. */
static enum sink_io_ev
record(struct sink *s, struct sink_io *io, const struct rec *r, char *msg,
       size_t msglen)
{
	uint64_t ours, foreign;

	if (r->type == REC_MARK) {
		/* Acks are cumulative: the last mark is all that is owed. */
		io->mark = r->mark;
		io->have_mark = 1;
		return settle(s, io) == -1 ? ack_failed(msg, msglen)
					   : SINK_EV_NONE;
	}
	switch (sink_record(s, r)) {
	case SINK_ENOMEM:
		snprintf(msg, msglen, "out of memory");
		return SINK_EV_FATAL;
	case SINK_ETAGS:
		io->in.bad++;
		snprintf(msg, msglen, "stdin: record %llu: more than %d tags",
			 (unsigned long long)io->in.records, SINK_MAX_TAGS);
		return SINK_EV_WARN;
	case SINK_EOR:
		if (io->fresh_view)
			sink_recheck(s);
		else
			(void)io->readback(io->arg);
		io->fresh_view = 0;
		if (settle(s, io) == -1)
			return ack_failed(msg, msglen);
		sink_count(s, &ours, &foreign);
		snprintf(msg, msglen,
			 "replay complete: %llu %s of ours, %llu of others%s",
			 (unsigned long long)ours, io->noun,
			 (unsigned long long)foreign, io->others);
		return SINK_EV_INFO;
	default:
		return SINK_EV_NONE;
	}
}

/* The next signal, after the read-back the last SIGHUP asked for. */
static enum sink_io_ev
signals(struct sink *s, struct sink_io *io, short revents, char *msg,
	size_t msglen)
{
	int sig;

	if (io->hup) {
		io->hup = 0;
		if (reread(s, io) == -1)
			return ack_failed(msg, msglen);
	}
	if (!revents || (sig = sig_next(io->sigfd)) <= 0)
		return SINK_EV_NONE;
	if (sig == SIGUSR1)
		return SINK_EV_STATS;
	if (sig != SIGHUP)
		return SINK_EV_STOP;
	io->hup = 1;
	snprintf(msg, msglen, "SIGHUP: reading %s back", io->what);
	return SINK_EV_INFO;
}

void
sink_resync(struct sink_io *io, int64_t now, int delay_ms)
{
	if (!io->resync_at || now + delay_ms < io->resync_at)
		io->resync_at = now + delay_ms;
	if (!io->resync_at) /* now + delay 0 at the clock's start */
		io->resync_at = 1;
}

int
sink_poll(const struct sink_io *io, struct pollfd pfd[2], int64_t now, int max)
{
	int64_t t = max;

	pfd[0] = (struct pollfd){io->sigfd, POLLIN, 0};
	pfd[1] = (struct pollfd){recin_fd(&io->in), POLLIN, 0};
	if (io->missing && io->next_retry - now < t)
		t = io->next_retry - now;
	if (io->resync_at && io->resync_at - now < t)
		t = io->resync_at - now;
	if (recin_more(&io->in))
		t = 0;
	return t < 0 ? 0 : (int)t;
}

/* The steps of a turn of sink_events. */
enum { RETRY, SIGNALS, INPUT, END };

enum sink_io_ev
sink_events(struct sink *s, struct sink_io *io, const struct pollfd pfd[2],
	    int64_t now, char *msg, size_t msglen)
{
	enum sink_io_ev ev;
	enum recin_res res;
	struct rec r;
	int k;

	*msg = 0;
	switch (io->step) {
	case RETRY:
		io->step = SIGNALS;
		if (io->resync_at && now >= io->resync_at) {
			io->resync_at = 0;
			io->resyncs++;
			if (reread(s, io) == -1)
				return ack_failed(msg, msglen);
		} else if (io->missing && now >= io->next_retry) {
			io->next_retry = now + SINK_RETRY_MS;
			if (reread(s, io) == -1)
				return ack_failed(msg, msglen);
		}
		/* FALLTHROUGH */
	case SIGNALS:
		if ((ev = signals(s, io, pfd[0].revents, msg, msglen)))
			return ev;
		io->step = INPUT;
		if ((k = recin_turn(&io->in, pfd[1].revents)) == -1) {
			snprintf(msg, msglen, "unable to read stdin: %s",
				 strerror(errno));
			return SINK_EV_FATAL;
		}
		if (!k) {
			io->step = END;
			break;
		}
		/* FALLTHROUGH */
	case INPUT:
		while ((res = recin_next(&io->in, &r, msg, msglen)) !=
		       RECIN_NONE) {
			if (res == RECIN_BAD)
				return SINK_EV_WARN;
			if ((ev = record(s, io, &r, msg, msglen)))
				return ev;
		}
		io->step = END;
		if (settle(s, io) == -1)
			return ack_failed(msg, msglen);
		break;
	default:
		io->step = RETRY;
		return SINK_EV_NONE;
	}
	/* The turn's input is taken: the end of it all, or of the turn. */
	if (recin_done(&io->in)) {
		snprintf(msg, msglen, "end of input");
		return SINK_EV_STOP;
	}
	io->step = RETRY;
	return SINK_EV_NONE;
}
