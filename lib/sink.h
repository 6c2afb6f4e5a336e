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

#include <stdint.h>

#include "pmap.h"
#include "rec.h"

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
/* Changes waiting (an upper bound: some may need nothing after all). */
uint32_t sink_pending(const struct sink *s);

/* Reading the kernel back: every object found, then end. */
void sink_view_begin(struct sink *s);
/* -1 when memory runs out. */
int sink_view_add(struct sink *s, uint32_t dest, const struct rec_addr *p,
		  enum sink_have have);
void sink_view_end(struct sink *s);
/* Puts every entry that needs a change on the dirty list (after an eor
 * applied without a read-back). */
void sink_recheck(struct sink *s);
/* Forgets what the kernel holds for dest (it was removed): all re-added. */
void sink_view_forget(struct sink *s, uint32_t dest);

/*
 * The record side of a sink program, the same for nft-set and route-sync:
 * records into the maps, marks answered once the program's apply() has put
 * every change in the kernel, eor followed by a read-back (readback()),
 * except the first after the start, which compares with the start's.
 */
struct sink_io {
	int (*apply)(void *arg);    /* 0 when every pending change is in */
	int (*readback)(void *arg); /* the kernel read back into the maps */
	void *arg;
	int ackfd;	/* -1: no acknowledgement channel */
	int fresh_view; /* the start's read-back is current */
	int have_mark;
	uint64_t mark; /* the last mark not yet acknowledged */
	uint64_t records, bad, acks, acks_dropped;
};

enum sink_line {
	SINK_LINE_OK = 0,
	SINK_LINE_BAD,	    /* not a record for a sink: *err says why */
	SINK_LINE_TAGS,	    /* more than SINK_MAX_TAGS tags */
	SINK_LINE_REPLAYED, /* a replay ended and was applied */
	SINK_LINE_NOMEM,
	SINK_LINE_ACKERR, /* the ack channel failed (errno) */
};
/* One input line. *err is REC_OK unless the line did not parse. */
enum sink_line sink_line(struct sink *s, struct sink_io *io, char *line,
			 size_t len, enum rec_err *err);
/*
 * After a chunk of input, or when the kernel may have moved: applies what
 * is pending (unless inside a replay) and acknowledges the last mark when
 * all of it is in. 0, or -1 when the ack channel failed (errno).
 */
int sink_settle(struct sink *s, struct sink_io *io);

static inline enum sink_have
sink_have(const struct pmap_ent *e)
{
	return (enum sink_have)(e->flags & 3);
}

#endif
