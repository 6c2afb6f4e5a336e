/*
 * hold: held responses in a ring, marks and sink acknowledgements. See
 * hold.h.
 */
#include "hold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
hold_init(struct hold *h, size_t cap, unsigned nsinks, int64_t bound_us,
	  int64_t silent_us)
{
	memset(h, 0, sizeof *h);
	if (nsinks > HOLD_SINKS_MAX) {
		errno = EINVAL;
		return -1;
	}
	h->cap = cap & ~(size_t)15;
	if (h->cap && !(h->ring = malloc(h->cap)))
		return -1;
	h->nsinks = nsinks;
	h->bound = bound_us;
	h->silent = silent_us;
	return 0;
}

void
hold_destroy(struct hold *h)
{
	free(h->ring);
	h->ring = NULL;
	h->cap = 0;
}

uint64_t
hold_mark(struct hold *h, int64_t wall_us, int64_t now)
{
	uint64_t n = wall_us > 0 ? (uint64_t)wall_us : 0;
	unsigned k;

	if (n <= h->mark)
		n = h->mark + 1;
	if (!h->first_mark)
		h->first_mark = n;
	h->mark = n;
	h->mark_at = now;
	for (k = 0; k < h->nsinks; k++)
		if (!h->sink[k].owed_since)
			h->sink[k].owed_since = now;
	return n;
}

int
hold_ack(struct hold *h, unsigned k, uint64_t n, int64_t now)
{
	struct hold_sink *s = &h->sink[k];
	int woke = 0;

	if (!h->first_mark || n < h->first_mark)
		return -1;
	if (n > h->mark)
		n = h->mark; /* never for a mark not yet written */
	if (n <= s->acked && s->state != SINK_NEW)
		return 0;
	s->acked = n;
	s->owed_since = n >= h->mark ? 0 : now;
	if (s->state != SINK_LIVE) {
		s->state = SINK_LIVE;
		woke = 1;
	}
	return woke;
}

unsigned
hold_tick(struct hold *h, int64_t now)
{
	unsigned k, fell = 0;

	for (k = 0; k < h->nsinks; k++) {
		struct hold_sink *s = &h->sink[k];

		if (s->state == SINK_LIVE && s->owed_since &&
		    now - s->owed_since >= h->silent) {
			s->state = SINK_SILENT;
			fell |= 1u << k;
		}
	}
	return fell;
}

int
hold_on(const struct hold *h)
{
	unsigned k;

	for (k = 0; k < h->nsinks; k++)
		if (h->sink[k].state == SINK_LIVE)
			return 1;
	return 0;
}

uint64_t
hold_acked(const struct hold *h)
{
	uint64_t a = UINT64_MAX;
	unsigned k;

	for (k = 0; k < h->nsinks; k++)
		if (h->sink[k].state == SINK_LIVE && h->sink[k].acked < a)
			a = h->sink[k].acked;
	return a;
}

/*
 * The ring: entries from head to tail; once the upper part is full the
 * next entry goes to offset 0 ("wrapped"), and the upper part then ends at
 * wrap_end.
 */
struct held *
hold_push(struct hold *h, uint64_t mark, int64_t now,
	  const struct hold_dest *dest, const uint8_t *msg, size_t len)
{
	size_t size = (sizeof(struct held) + len + 15) & ~(size_t)15, at;
	struct held *e;

	if (h->count == 0) {
		h->head = h->tail = 0;
		h->wrapped = 0;
	}
	if (!h->wrapped) {
		if (h->cap - h->tail >= size) {
			at = h->tail;
		} else if (h->head >= size) {
			h->wrap_end = h->tail;
			h->wrapped = 1;
			at = 0;
		} else {
			return NULL;
		}
	} else if (h->head - h->tail >= size) {
		at = h->tail;
	} else {
		return NULL;
	}
	e = (struct held *)(void *)(h->ring + at);
	e->mark = mark;
	e->until = now + h->bound;
	e->dest = *dest;
	e->len = (uint32_t)len;
	e->size = (uint32_t)size;
	memcpy(e->msg, msg, len);
	h->tail = at + size;
	h->count++;
	return e;
}

struct held *
hold_head(const struct hold *h)
{
	if (!h->count)
		return NULL;
	return (struct held *)(void *)(h->ring + h->head);
}

void
hold_pop(struct hold *h)
{
	struct held *e = hold_head(h);

	if (!e)
		return;
	h->head += e->size;
	h->count--;
	if (h->wrapped && h->head == h->wrap_end) {
		h->head = 0;
		h->wrapped = 0;
	}
	if (h->count == 0) {
		h->head = h->tail = 0;
		h->wrapped = 0;
	}
}
