/*
 * cache: dns-hold's packet cache (-k), the answers of UDP queries kept by
 * the query's exact bytes after its ID (flags, the question as written,
 * the OPT record), so the same query is answered again without asking the
 * resolver: what the relay costs on a busy machine is four datagrams per
 * query through the kernel; a hit costs two, and nothing upstream.
 *
 * Only what is the same for every client is kept: a query of opcode QUERY
 * with one question and nothing else but an OPT record without options (a
 * COOKIE, a client subnet or padding make a query uncacheable: their
 * answers are the client's own), and its answer when it is NOERROR or
 * NXDOMAIN, not truncated, every record readable, and at least one record
 * (not the OPT) carries a TTL. An answer is kept for its smallest TTL (at
 * most the -x cap) and served with the client's ID and every TTL lowered
 * by the whole seconds it was kept (RFC 1035 3.2.1, RFC 2308 5), as a
 * resolver's cache does; at its smallest TTL it is gone.
 *
 * A fixed number of entries in sets of 4 ways, found by a keyed hash of
 * the key (random per run); a new answer takes an empty, expired, or the
 * soonest-expiring way of its set. Each entry's buffer is allocated once
 * and grows only when a larger answer replaces it. No sockets: the fuzz
 * target and the unit test drive it.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>

#define PCACHE_WAYS 4
#define PCACHE_KEY_MAX 300   /* a query: header, a name of 255, OPT */
#define PCACHE_RESP_MAX 4096 /* larger answers are not kept */
#define PCACHE_TTLS_MAX 128  /* records per kept answer */
#define PCACHE_ENTRIES_MAX (1u << 24)

struct pcache_entry {
	uint64_t hash;
	int64_t born, until; /* monotonic microseconds */
	uint16_t klen, rlen, nttl;
	uint32_t cap;
	uint8_t *buf; /* TTL offsets (uint16_t), key, response */
};

struct pcache {
	struct pcache_entry *e;
	uint32_t nsets; /* a power of 2; 0: the cache is off */
	uint32_t max_ttl;
	uint64_t seed;
	uint64_t hits, misses, stored, replaced, uncacheable;
};

/*
 * Room for entries (rounded up to a power of 2 of sets of PCACHE_WAYS;
 * 0: off), answers kept at most max_ttl seconds, seed for the hash. 0, or
 * -1 (ENOMEM).
 */
int pcache_init(struct pcache *c, uint32_t entries, uint32_t max_ttl,
		uint64_t seed);

/*
 * The kept answer to the query q[0..qlen) at now (us), with q's ID and the
 * TTLs aged, into out: its length, or 0 (not kept, expired, uncacheable,
 * larger than cap).
 */
size_t pcache_get(struct pcache *c, const uint8_t *q, size_t qlen, uint8_t *out,
		  size_t cap, int64_t now);

/* Keeps r[0..rlen), the answer to q[0..qlen), when both may be kept: 1 if
 * kept, else 0. */
int pcache_put(struct pcache *c, const uint8_t *q, size_t qlen,
	       const uint8_t *r, size_t rlen, int64_t now);

/* Entries holding an answer not yet expired at now. */
uint32_t pcache_live(const struct pcache *c, int64_t now);

/* Forgets every answer (SIGHUP); the counters stay. */
void pcache_clear(struct pcache *c);

void pcache_free(struct pcache *c);

#endif
