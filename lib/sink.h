/*
 * sink: ipcache's set kept equal in a kernel object, the part that knows no
 * kernel. Shared by nft-set (elements of nftables sets) and route-sync
 * (routes in routing tables).
 *
 * Two maps. The cache mirrors ipcache: one entry per (tag, prefix), from
 * the announce, withdraw, replay and eor records. The destination map has
 * one entry per (destination, prefix), where a destination is what the
 * program makes of a tag and an address family (a set, a table; several
 * tags may share one): how many cache entries want it there, and what the
 * kernel holds there: nothing, an object of ours, an object of ours with
 * other attributes (stale), or someone else's (foreign, never touched).
 *
 * A change of either side puts the entry on a dirty list; the program takes
 * the changes with sink_next(), applies them in batches and confirms each
 * with sink_done(). After a replay's eor the program reads the kernel back
 * (sink_view_begin/add/end) and the difference is all that is changed: a
 * restart or a replay neither flushes nor flaps anything. Until the first
 * replay has ended, objects of ours that no record named are left as they
 * are: the cache is not whole yet.
 */
#ifndef SINK_H
#define SINK_H

#include <poll.h>
#include <stdint.h>

#include "pmap.h"
#include "rec.h"
#include "recin.h"

#define SINK_NO_DEST UINT32_MAX
#define SINK_MAX_TAGS 4096

/* What the kernel holds for a destination entry. */
enum sink_have {
	SINK_NONE = 0,
	SINK_OURS = 1,
	SINK_STALE = 2,	  /* ours, attributes differ from what we want */
	SINK_FOREIGN = 3, /* added by someone else: left alone */
};

enum sink_op { SINK_ADD = 1, SINK_DEL, SINK_REPLACE };

/* The program's mapping: the destination of a tag's addresses of a family. */
typedef uint32_t (*sink_dest_fn)(void *arg, const char *tag, int family);

struct sink_tag {
	char name[REC_TAG_MAX + 1];
	uint32_t dest[2]; /* IPv4, IPv6 */
};

struct sink {
	struct pmap cache;
	struct pmap dest;
	struct sink_tag *tags;
	uint32_t ntags;
	uint16_t *tagidx; /* hash: tag index + 1 */
	uint32_t *dirty;
	uint32_t ndirty, dirtycap;
	uint32_t gen;	   /* replay generation */
	uint32_t view_gen; /* kernel read-back generation */
	int replaying;
	int synced; /* a replay has ended: the cache is whole */
	sink_dest_fn dest_of;
	void *arg;
	uint64_t
	    no_dest; /* announces whose tag and family have no destination */
};

int sink_init(struct sink *s, sink_dest_fn dest_of, void *arg);
void sink_destroy(struct sink *s);

enum sink_event {
	SINK_OK = 0,
	SINK_EOR = 1, /* a replay ended: read the kernel back, then apply */
	SINK_ENOMEM = -1,
	SINK_ETAGS = -2, /* more than SINK_MAX_TAGS distinct tags */
};
/* Applies one parsed announce, withdraw, replay or eor record. */
enum sink_event sink_record(struct sink *s, const struct rec *r);

/* The next change to make: an index into s->dest and *op, or PMAP_NONE. */
uint32_t sink_next(struct sink *s, enum sink_op *op);
/* The kernel confirmed change op on entry i. */
void sink_done(struct sink *s, uint32_t i, enum sink_op op);

/* Reading the kernel back: every object found, then end. */
void sink_view_begin(struct sink *s);
/* -1 when memory runs out. */
int sink_view_add(struct sink *s, uint32_t dest, const struct rec_addr *p,
		  enum sink_have have);
void sink_view_end(struct sink *s);
/* Puts every entry that needs a change on the dirty list (after an eor
 * applied without a read-back). */
void sink_recheck(struct sink *s);

/* Objects of ours and of others in the kernel, as last read back. */
void sink_count(const struct sink *s, uint64_t *ours, uint64_t *foreign);

/*
 * The event side of a sink program, the same for nft-set and route-sync:
 * signals (SIGUSR1 stats, SIGHUP a read-back, SIGTERM and SIGINT the end),
 * records from stdin into the maps, marks answered once the program's
 * apply() has put every change in the kernel, an eor followed by a
 * read-back (readback()) except the first after the start, which compares
 * with the start's, and a destination that was missing read back again
 * every SINK_RETRY_MS. The program's loop polls what sink_poll sets up and
 * hands the result to sink_events, which says what to log: lib/sink never
 * waits and never prints.
 */
#define SINK_RETRY_MS 5000

struct sink_io {
	/* The program's, set before sink_io_open. */
	int (*apply)(void *arg);    /* 0 when every pending change is in */
	int (*readback)(void *arg); /* the kernel read back into the maps:
				       0, or -1 when a destination is
				       missing (it sets missing) */
	void *arg;
	const char *noun;   /* its objects, for messages: "elements" */
	const char *others; /* after "N of others": "" */
	const char *what;   /* what a read-back reads: "the sets" */
	int missing;	    /* readback() found a destination missing */
	int fresh_view;	    /* the start's read-back is current */
	/* lib/sink's. */
	struct recin in; /* stdin, and its counters */
	int sigfd, ackfd;
	int64_t next_retry;
	int have_mark;
	uint64_t mark; /* the last mark not yet acknowledged */
	uint64_t acks, acks_dropped;
	int step, hup;	   /* where sink_events is in a turn */
	int64_t resync_at; /* a read-back sink_resync asked for (ms), or 0 */
	uint64_t resyncs;  /* read-backs sink_resync caused */
};

/*
 * Opens the ack channel (ack_path NULL: none), the signals and stdin's
 * reader. 0, or -1 with errno (ENOTSUP: the path is not a FIFO) and msg.
 */
int sink_io_open(struct sink_io *io, const char *ack_path, char *msg,
		 size_t msglen);
void sink_io_close(struct sink_io *io);

/*
 * The program saw the kernel change under it (a notification: a link went
 * down, someone else deleted an object of ours, the ruleset was loaded
 * again): the kernel is read back and converged at now + delay_ms, or
 * sooner when a read-back is already due; events in between cost one.
 */
void sink_resync(struct sink_io *io, int64_t now, int delay_ms);

/*
 * Before poll: pfd[0] the signals, pfd[1] stdin. How long poll may wait,
 * at most max ms: 0 when lines wait, no later than the next retry when a
 * destination is missing.
 */
int sink_poll(const struct sink_io *io, struct pollfd pfd[2], int64_t now,
	      int max);

enum sink_io_ev {
	SINK_EV_NONE = 0, /* nothing more until the next poll */
	SINK_EV_INFO,	  /* msg: a line to log */
	SINK_EV_WARN,	  /* msg: a bad line, counted (rate-limit it) */
	SINK_EV_FATAL,	  /* msg: memory, stdin or the ack channel failed */
	SINK_EV_STATS,	  /* SIGUSR1: the program's stats line */
	SINK_EV_STOP,	  /* SIGTERM, SIGINT, or the end of the input (msg
			     "end of input"): the loop ends after this turn */
};
/*
 * After poll (pfd as it left them, now its monotonic ms), called until it
 * returns SINK_EV_NONE: what the turn brings, one event at a time; when
 * it is over, the records are applied and the last mark acknowledged if
 * everything is in. msg is "" when an event has no line.
 */
enum sink_io_ev sink_events(struct sink *s, struct sink_io *io,
			    const struct pollfd pfd[2], int64_t now, char *msg,
			    size_t msglen);
static inline enum sink_have
sink_have(const struct pmap_ent *e)
{
	return (enum sink_have)(e->flags & 3);
}

#endif
