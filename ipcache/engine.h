/*
 * engine: ipcache's in-memory cache and its rules, without any I/O but the
 * output writer: records in, announce/withdraw out, entries marked for the
 * store. ipcache.c owns the poll loop, the store and the domain list file;
 * the fuzz target drives this directly.
 *
 * Memory is the point (a million entries in well under 150 bytes each):
 * entries are 64-byte slots in one array, found through a chained hash on
 * (address, tag); names are interned, reference-counted, in one arena;
 * tags are a small table indexed by a byte; expiry is a binary heap of
 * (second, slot) pairs that is corrected lazily, so a refresh is a hash
 * lookup and two stores, never a heap operation.
 */
#ifndef IPCACHE_ENGINE_H
#define IPCACHE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "dlist.h"
#include "lineio.h"
#include "log.h"
#include "rec.h"
#include "store.h"

#define IC_TAGS_MAX 256
#define IC_PEER_TAGS 16 /* slots for tags that only peer records name */

enum { F_DIRTY = 1, F_STORED = 2 };

struct ent {
	uint8_t a[16];
	uint8_t family; /* 0: free slot */
	uint8_t tag;
	uint8_t origin;
	uint8_t flags;
	uint32_t name; /* offset of the interned name */
	int64_t first_us, last_us, expires_us;
	uint32_t stored_s; /* expiry (seconds) as last written to the store */
	uint32_t hpos;	   /* position in the expiry heap */
	uint32_t hnext;	   /* hash chain */
	uint32_t pad;
};

struct hnode {
	uint32_t key_s; /* expiry second, possibly stale (too early) */
	uint32_t idx;
};

struct delkey {
	uint8_t a[16];
	uint8_t family, tag;
};

struct prefixes {
	struct rec_addr *p;
	size_t n, cap;
};

struct ic_counters {
	uint64_t entries, announces, withdraws, refreshes, filtered, limited,
	    malformed, store_writes, store_errors, answers, peers;
	uint64_t store_map_bytes, marks;
	uint64_t denied[2]; /* by the prefix filters: [0] answers, [1] peers */
	uint64_t by_origin[2]; /* entries: [STORE_LOCAL], [STORE_PEER] */
};

struct ic {
	/* configuration */
	int64_t lifetime_us;
	int ttl_mode;
	int64_t ttl_floor_us, ttl_ceil_us;
	int64_t gran_s;	  /* refresh persisted when expiry moved this far */
	int record_clock; /* time comes from the records (tests) */
	uint32_t max_per_name; /* 0: no limit */
	uint32_t max_total;
	struct prefixes deny, allow, own;
	size_t ndeny_own;   /* deny[0..ndeny_own) are the operator's (-x), the
			       rest the default list */
	uint64_t deny_said; /* default ranges a peer's entry fell in, said */
	const struct dlist *dl; /* may be NULL */

	int64_t now_us;
	struct lw *out;
	int out_err;	    /* errno of a failed write to out */
	uint32_t replay_at; /* the next slot of the replay in progress, or 0 */
	int replay_wanted;
	struct ic_counters cnt;

	/* entries */
	struct ent *e;
	uint32_t ecap, eused, freelist;
	uint32_t *bucket;
	uint32_t nbucket; /* power of two */
	/* expiry heap */
	struct hnode *heap;
	uint32_t hn, hcap;
	/* names: [refs u32][len u16][bytes][NUL] records in one arena */
	char *arena;
	size_t alen, acap, adead;
	uint64_t *nset; /* hash << 32 | offset */
	uint32_t nsetcap, nnames;
	/* tags */
	char tags[IC_TAGS_MAX][REC_TAG_MAX + 1];
	uint8_t tag_peer[IC_TAGS_MAX]; /* only peer records named it so far */
	unsigned ntags, npeer_tags;
	/* for the store */
	uint32_t *dirty;
	size_t ndirty, dcap;
	struct delkey *dels;
	size_t ndels, delcap;

	struct ratelimit rl_bad, rl_limit, rl_filter;
};

/* 0, or -1 when out of memory. */
int ic_init(struct ic *ic, struct lw *out);
void ic_free(struct ic *ic);

/*
 * One input line, from stdin (peer = 0: answer and mark records) or the
 * peer input (peer = 1: peer records). A mark is written on at once: every
 * announce and withdraw that earlier lines caused is written before it.
 * Bad lines are counted and warned about. Returns -1 only when out of
 * memory.
 */
int ic_line(struct ic *ic, char *line, size_t len, int peer);
/* Withdraws every entry expired at ic->now_us. */
void ic_expire(struct ic *ic);
/*
 * Asks for a replay: replay, one announce per entry, eor. ic_replay_step
 * writes it as the output has room, so that a replay of millions of
 * entries never holds up the input, the store or the signals: a caller
 * calls it whenever its output has drained, until it returns 0. Records
 * that input causes meanwhile go out between (an entry changed after the
 * replay passed it is announced or withdrawn again, one not yet reached is
 * replayed as it is then): a reader that applies everything up to eor
 * holds the cache. One replay at a time: a request during one makes
 * another follow it.
 */
void ic_replay(struct ic *ic);
int ic_replay_step(struct ic *ic);
/*
 * Applies the domain list dl to every entry: drops those whose name is no
 * longer listed, re-tags those listed with another tag; with emit, writes
 * the withdraws and announces. Sets ic->dl = dl.
 */
int ic_relist(struct ic *ic, const struct dlist *dl, int emit);
/* Adds an entry read from the store at start-up (filters apply, silently). */
int ic_load(struct ic *ic, const struct store_entry *se);
/* Fills se from slot i. */
void ic_entry(const struct ic *ic, uint32_t i, struct store_entry *se);
/* After a successful store commit of ic->dirty and ic->dels. */
void ic_stored(struct ic *ic);
/* Is a in a deny prefix (or one of this host's addresses) and no allow one? */
int ic_denied(const struct ic *ic, const struct rec_addr *a);
/* Adds a prefix; -1 when out of memory. */
int prefixes_add(struct prefixes *l, const struct rec_addr *p);
/* Shrinks the name arena when more than half of it is dead. */
int ic_compact(struct ic *ic);

#endif
