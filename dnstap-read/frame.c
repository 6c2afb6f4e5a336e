/*
 * frame: a dnstap frame to answer records. See frame.h.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "dns.h"
#include "dnstap.pb-c.h"

/*
 * protobuf-c copies every bytes field; a bump allocator reset per frame
 * makes that cost a pointer increment. Its size bounds what one frame may
 * unpack to: a frame that needs more (only thousands of tiny unknown fields
 * do) fails to unpack and counts as a protobuf error.
 */
struct arena {
	uint8_t *base;
	size_t cap, used;
};

struct frame_ctx {
	unsigned types;
	struct arena arena;
	ProtobufCAllocator alloc;
	const char *detail;
	int cut;
	struct dns_answers dns;
	struct answer_fmt fmt;
	char out[ANSWER_BYTES_MAX];
};

static void *
arena_alloc(void *data, size_t n)
{
	struct arena *a = data;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > a->cap - a->used)
		return NULL;
	p = a->base + a->used;
	a->used += n;
	return p;
}

static void
arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

struct frame_ctx *
frame_ctx_init(unsigned types, size_t max_frame)
{
	struct frame_ctx *c;

	if (!(c = calloc(1, sizeof *c)))
		return NULL;
	c->types = types;
	c->arena.cap = 2 * max_frame + 65536;
	if (!(c->arena.base = malloc(c->arena.cap))) {
		free(c);
		return NULL;
	}
	c->alloc.alloc = arena_alloc;
	c->alloc.free = arena_free;
	c->alloc.allocator_data = &c->arena;
	c->detail = "";
	return c;
}

void
frame_ctx_destroy(struct frame_ctx **c)
{
	if (!*c)
		return;
	free((*c)->arena.base);
	free(*c);
	*c = NULL;
}

static const char *const frame_errs[FRAME_RES_COUNT_] = {
    [FRAME_OK] = "ok",
    [FRAME_SKIPPED] = "skipped",
    [FRAME_E_PROTO] = "protobuf",
    [FRAME_E_DNSTAP] = "dnstap",
    [FRAME_E_DNS] = "dns",
};

const char *
frame_strerror(enum frame_res r)
{
	return (unsigned)r < FRAME_RES_COUNT_ ? frame_errs[r] : "?";
}

int
frame_cut(const struct frame_ctx *c)
{
	return c->cut;
}

unsigned
frame_dropped(const struct frame_ctx *c)
{
	return c->fmt.dropped;
}

const char *
frame_detail(const struct frame_ctx *c)
{
	return c->detail;
}

/* Microseconds since the epoch, or -1 when the time cannot be one. */
static int64_t
us_of(uint64_t sec, uint32_t nsec)
{
	if (nsec >= 1000000000u || sec > (uint64_t)INT64_MAX / 1000000 - 1)
		return -1;
	return (int64_t)sec * 1000000 + nsec / 1000;
}

enum frame_res
frame_records(struct frame_ctx *c, const uint8_t *buf, size_t len,
	      frame_emit *emit, void *arg, unsigned *nrec)
{
	Dnstap__Dnstap *d;
	Dnstap__Message *m;
	enum dns_err de;
	int64_t time_us;
	struct timespec now;
	size_t n;

	*nrec = 0;
	c->cut = 0;
	c->fmt.dropped = 0;
	c->detail = "";
	c->arena.used = 0;
	d = dnstap__dnstap__unpack(&c->alloc, len, buf);
	if (!d) {
		c->detail = "not a dnstap.Dnstap message";
		return FRAME_E_PROTO;
	}
	m = d->message;
	if (d->type != DNSTAP__DNSTAP__TYPE__MESSAGE || !m) {
		c->detail = "no message";
		return FRAME_E_DNSTAP;
	}
	if ((unsigned)m->type >= 32 || !(c->types & 1u << m->type))
		return FRAME_SKIPPED;
	if (!m->has_response_message) {
		c->detail = "no response message";
		return FRAME_E_DNSTAP;
	}

	if (m->has_response_time_sec)
		time_us = us_of(
		    m->response_time_sec,
		    m->has_response_time_nsec ? m->response_time_nsec : 0);
	else if (m->has_query_time_sec)
		time_us =
		    us_of(m->query_time_sec,
			  m->has_query_time_nsec ? m->query_time_nsec : 0);
	else {
		clock_gettime(CLOCK_REALTIME, &now);
		time_us = us_of((uint64_t)now.tv_sec, (uint32_t)now.tv_nsec);
	}
	if (time_us < 0) {
		c->detail = "bad time";
		return FRAME_E_DNSTAP;
	}

	de = dns_answers(&c->dns, m->response_message.data,
			 m->response_message.len);
	if (de != DNS_OK) {
		c->detail = dns_strerror(de);
		return FRAME_E_DNS;
	}
	if (answer_format(&c->fmt, &c->dns, time_us, c->out, sizeof c->out,
			  &n) == -1) {
		c->detail = "bad name";
		return FRAME_E_DNS;
	}
	c->cut = c->dns.chain_cut || c->dns.chain_loop || c->dns.addr_cut ||
		 c->fmt.dropped;
	if (n)
		emit(arg, c->out, n);
	*nrec = c->fmt.nrec;
	return FRAME_OK;
}
