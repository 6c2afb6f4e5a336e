/*
 * hold: the responses dns-hold holds back, the marks it writes and the
 * acknowledgements of its sinks (docs/records.md, "mark" and "ack").
 *
 * Every held response waits for one mark: the one written after its
 * records. Marks grow (from the wall clock in microseconds, +1 at least)
 * and the hold bound is the same for all, so the held responses are kept
 * in a ring in the order they came, and leave it from the head: when every
 * live sink has acknowledged their mark, when their bound has passed, or
 * at once when no sink is live (fail open).
 *
 * A sink is live once it acknowledges a mark of this run; it is silent
 * (not waited for) when it owes a mark and has not acknowledged anything
 * new for the silence bound; a new acknowledgement makes it live again.
 * Acknowledgements are cumulative and only a larger one counts.
 */
#ifndef HOLD_H
#define HOLD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HOLD_SINKS_MAX 8

/* Where a response goes: a UDP client (listening socket, address) or a
 * TCP client (connection slot and its generation). */
struct hold_dest {
	uint8_t tcp;
	uint8_t lsock;
	uint32_t conn, gen;
	socklen_t alen;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;
};

struct held {
	uint64_t mark;
	int64_t until; /* monotonic microseconds */
	struct hold_dest dest;
	uint32_t len;
	uint32_t size; /* bytes taken in the ring, this header included */
	uint8_t msg[];
};

enum sink_state { SINK_NEW, SINK_LIVE, SINK_SILENT };

struct hold_sink {
	uint64_t acked;	    /* the largest acknowledgement, <= the last mark */
	int64_t owed_since; /* owes a mark since (monotonic us), 0: none */
	enum sink_state state;
};

struct hold {
	int64_t bound;	/* how long a response is held at most (us) */
	int64_t silent; /* how long a sink may owe without progress (us) */
	uint64_t first_mark, mark;
	int64_t mark_at;
	unsigned nsinks;
	struct hold_sink sink[HOLD_SINKS_MAX];
	uint8_t *ring;
	size_t cap, head, tail, wrap_end;
	int wrapped;
	unsigned count;
};

/* 0, or -1 (ENOMEM). cap: bytes for held responses. */
int hold_init(struct hold *h, size_t cap, unsigned nsinks, int64_t bound_us,
	      int64_t silent_us);
void hold_destroy(struct hold *h);

/* The next mark, written by the caller after the records it covers. */
uint64_t hold_mark(struct hold *h, int64_t wall_us, int64_t now);

/*
 * Sink k acknowledged n. Returns 1 when that made it live (it was new or
 * silent), 0 otherwise; an acknowledgement below this run's first mark is
 * stale (a previous run's) and -1.
 */
int hold_ack(struct hold *h, unsigned k, uint64_t n, int64_t now);

/* Sinks that fell silent now: a bit per sink. */
unsigned hold_tick(struct hold *h, int64_t now);

/* Is any sink live (else nothing is held)? */
int hold_on(const struct hold *h);
/* What every live sink has acknowledged; UINT64_MAX when none is live. */
uint64_t hold_acked(const struct hold *h);

/* Keeps msg for dest until mark or now + bound. NULL when full. */
struct held *hold_push(struct hold *h, uint64_t mark, int64_t now,
		       const struct hold_dest *dest, const uint8_t *msg,
		       size_t len);
/* The oldest held response, or NULL. */
struct held *hold_head(const struct hold *h);
void hold_pop(struct hold *h);

#endif
