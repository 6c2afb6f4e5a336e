/*
 * recin: the input of a stage that reads ipcache's stream on stdin
 * (announce, withdraw, replay, eor, mark: docs/records.md), as fan-out and
 * the sinks (bgp-announce, nft-set, route-sync) do.
 *
 * The event loop polls the fd and starts a turn with what poll said; the
 * turn hands out parsed records until no whole line is left or a budget of
 * lines is spent (then the loop polls again without waiting, so signals
 * and timers are served between chunks of a long burst). Every line counts
 * as a record; a line that is too long, does not parse or is of a kind no
 * such stage reads (answer, peer, ack) also counts as bad and comes with
 * one line for the log ("stdin: record 12: ...").
 */
#ifndef RECIN_H
#define RECIN_H

#include <stddef.h>
#include <stdint.h>

#include "lineio.h"
#include "rec.h"

struct recin {
	struct lr lr;
	unsigned budget; /* lines per turn */
	unsigned taken;	 /* lines taken in this turn */
	int more;	 /* the last turn ended at its budget: lines wait */
	uint64_t records, bad;
};

/* Reads fd (line buffer of cap bytes). 0, or -1 with errno (ENOMEM). */
int recin_init(struct recin *in, int fd, size_t cap, unsigned budget);
void recin_destroy(struct recin *in);

/* The fd to poll for POLLIN: -1 once the end of the input is read. */
int recin_fd(const struct recin *in);
/* Lines wait from the last turn: poll without waiting. */
int recin_more(const struct recin *in);
/*
 * Starts a turn: reads the fd once when revents (poll's, for recin_fd)
 * says so. 1 when lines may be there to take (it was readable, or lines
 * wait from the last turn), 0 when not, -1 with errno when the read failed.
 */
int recin_turn(struct recin *in, short revents);

enum recin_res {
	RECIN_NONE = 0, /* the turn is over */
	RECIN_REC,	/* *r: a record (valid until the next call) */
	RECIN_BAD,	/* a bad line, counted: msg says what */
};
/* The next line of the turn. */
enum recin_res recin_next(struct recin *in, struct rec *r, char *msg,
			  size_t msglen);

/* The end of the input is read and every line of it taken. */
int recin_done(const struct recin *in);

#endif
