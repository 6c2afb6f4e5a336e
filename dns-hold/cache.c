/*
 * cache: dns-hold's packet cache. See cache.h. Every read of a message is
 * bounded by its length (lib/dns); an answer is checked whole before it is
 * kept, so serving it again only rewrites what was found then.
 */
#include "cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "packet.h"
#include "wire.h"

#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_MX 15
#define T_SRV 33
#define T_DNAME 39
#define T_OPT 41
#define F_QR 0x8000
#define F_OPCODE 0x7800
#define F_TC 0x0200
#define RCODE_NXDOMAIN 3
#define OPT_LEN 11 /* root owner, type, class, TTL, RDLENGTH 0 */

int
pcache_init(struct pcache *c, uint32_t entries, uint32_t max_ttl, uint64_t seed)
{
	uint32_t sets = 1;

	memset(c, 0, sizeof *c);
	if (!entries)
		return 0;
	while (sets * PCACHE_WAYS < entries)
		sets <<= 1;
	if (!(c->e = calloc((size_t)sets * PCACHE_WAYS, sizeof *c->e))) {
		errno = ENOMEM;
		return -1;
	}
	c->nsets = sets;
	c->max_ttl = max_ttl ? max_ttl : 1;
	c->seed = seed;
	return 0;
}

void
pcache_free(struct pcache *c)
{
	size_t i;

	for (i = 0; c->e && i < (size_t)c->nsets * PCACHE_WAYS; i++)
		free(c->e[i].buf);
	free(c->e);
	memset(c, 0, sizeof *c);
}

/*
 * The length of q when it may be answered from the cache: one question,
 * opcode QUERY, nothing after the question but an OPT record without
 * options. Else 0.
 */
static size_t
query_ok(const uint8_t *q, size_t qlen)
{
	struct dns_name n;
	size_t off = PKT_HDR;
	unsigned ar;

	if (qlen < PKT_HDR || qlen > PCACHE_KEY_MAX ||
	    wire_get16(q + 2) & (F_QR | F_OPCODE) || wire_get16(q + 4) != 1 ||
	    wire_get16(q + 6) || wire_get16(q + 8))
		return 0;
	if (dns_name_read(q, qlen, &off, &n) != DNS_OK || qlen - off < 4)
		return 0;
	off += 4;
	ar = wire_get16(q + 10);
	if (ar == 0)
		return off == qlen ? qlen : 0;
	if (ar != 1 || qlen - off != OPT_LEN || q[off] != 0 ||
	    wire_get16(q + off + 1) != T_OPT || wire_get16(q + off + 9) != 0)
		return 0;
	return qlen;
}

/*
 * The offsets of the names in rr's data that readers decompress (RFC 1035
 * 3.3, RFC 2782) into names: how many.
 */
static unsigned
rdata_names(const uint8_t *r, size_t rlen, const struct dns_rr *rr,
	    size_t *names)
{
	struct dns_name n;
	size_t o = rr->rdata;

	switch (rr->type) {
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
		names[0] = o;
		return 1;
	case T_MX:
		names[0] = o + 2;
		return rr->rdlen > 2;
	case T_SRV:
		names[0] = o + 6;
		return rr->rdlen > 6;
	case T_SOA:
		names[0] = o;
		if (dns_name_read(r, rlen, &o, &n) != DNS_OK)
			return 1; /* refused when the first is checked */
		names[1] = o;
		return 2;
	default:
		return 0;
	}
}

static int
is_ttl(const uint8_t *map, size_t o)
{
	return map[o >> 3] >> (o & 7) & 1;
}

/*
 * Does the name at off, read as any reader reads it (labels, pointers to
 * anywhere), read a byte of a TTL (map) or leave the message? Aging a
 * TTL such a name reads would change the name. At most 256 steps, so a
 * loop of pointers ends (refused).
 */
static int
name_reads_ttl(const uint8_t *m, size_t len, size_t off, const uint8_t *map)
{
	unsigned steps, k;

	for (steps = 0; steps < 256; steps++) {
		if (off >= len || is_ttl(map, off))
			return 1;
		if ((m[off] & 0xc0) == 0xc0) {
			if (off + 1 >= len || is_ttl(map, off + 1))
				return 1;
			off = (size_t)(m[off] & 0x3f) << 8 | m[off + 1];
			continue;
		}
		if (m[off] & 0xc0)
			return 1;
		if (!m[off])
			return 0;
		for (k = 1; k <= m[off]; k++)
			if (off + k >= len || is_ttl(map, off + k))
				return 1;
		off += 1 + (size_t)m[off];
	}
	return 1;
}

/*
 * Checks the answer r whole: NOERROR or NXDOMAIN (no extended RCODE), not
 * truncated, one question, every record readable to the last byte, no
 * name that reads a TTL's bytes through a pointer (a legitimate answer
 * never has one; aging would change it). The offsets of the TTLs of its
 * records but the OPT into ttl, their number into *nttl, the smallest
 * into *min. 0, or -1: not to be kept.
 */
static int
answer_ok(const uint8_t *r, size_t rlen, uint16_t *ttl, unsigned *nttl,
	  uint32_t *min)
{
	static size_t names[1 + 3 * (PCACHE_TTLS_MAX + 1)];
	static uint8_t map[PCACHE_RESP_MAX / 8 + 1];
	unsigned flags, i, total, nn = 0;
	struct dns_name n;
	struct dns_rr rr;
	size_t off = PKT_HDR;

	if (rlen < PKT_HDR || rlen > PCACHE_RESP_MAX)
		return -1;
	flags = wire_get16(r + 2);
	if (!(flags & F_QR) || flags & F_TC ||
	    ((flags & 0xf) != 0 && (flags & 0xf) != RCODE_NXDOMAIN) ||
	    wire_get16(r + 4) != 1)
		return -1;
	if (dns_name_read(r, rlen, &off, &n) != DNS_OK || rlen - off < 4)
		return -1;
	names[nn++] = PKT_HDR;
	off += 4;
	total = (unsigned)wire_get16(r + 6) + wire_get16(r + 8) +
		wire_get16(r + 10);
	if (total > PCACHE_TTLS_MAX + 1)
		return -1;
	*nttl = 0;
	*min = UINT32_MAX;
	for (i = 0; i < total; i++) {
		if (dns_rr_read(r, rlen, &off, &rr) != DNS_OK)
			return -1;
		names[nn++] = rr.owner;
		if (rr.type == T_OPT) {
			if (rr.ttl >> 24) /* an extended RCODE */
				return -1;
			continue;
		}
		/* RFC 2181 8: a TTL with the top bit set means 0. */
		if (*nttl == PCACHE_TTLS_MAX || rr.ttl > INT32_MAX)
			return -1;
		ttl[(*nttl)++] = (uint16_t)(rr.rdata - 6);
		if (rr.ttl < *min)
			*min = rr.ttl;
		nn += rdata_names(r, rlen, &rr, names + nn);
	}
	if (off != rlen || !*nttl || !*min)
		return -1;
	memset(map, 0, (rlen >> 3) + 1);
	for (i = 0; i < *nttl; i++)
		for (off = ttl[i]; off < (size_t)ttl[i] + 4; off++)
			map[off >> 3] |= (uint8_t)(1u << (off & 7));
	for (i = 0; i < nn; i++)
		if (name_reads_ttl(r, rlen, names[i], map))
			return -1;
	return 0;
}

/* FNV-1a from a per-run seed, then a 64-bit finaliser to spread it. */
static uint64_t
key_hash(uint64_t seed, const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct pcache_entry *
set_of(const struct pcache *c, uint64_t h)
{
	return &c->e[(size_t)(h & (c->nsets - 1)) * PCACHE_WAYS];
}

static const uint8_t *
key_of(const struct pcache_entry *e)
{
	return e->buf + (size_t)e->nttl * 2;
}

static struct pcache_entry *
find(const struct pcache *c, uint64_t h, const uint8_t *k, size_t klen)
{
	struct pcache_entry *s = set_of(c, h);
	unsigned w;

	for (w = 0; w < PCACHE_WAYS; w++)
		if (s[w].until && s[w].hash == h && s[w].klen == klen &&
		    !memcmp(key_of(&s[w]), k, klen))
			return &s[w];
	return NULL;
}

size_t
pcache_get(struct pcache *c, const uint8_t *q, size_t qlen, uint8_t *out,
	   size_t cap, int64_t now)
{
	struct pcache_entry *e;
	const uint8_t *k = q + 2;
	uint16_t o;
	uint32_t age;
	size_t klen;
	unsigned i;

	if (!c->nsets)
		return 0;
	if (!query_ok(q, qlen)) {
		c->uncacheable++;
		return 0;
	}
	klen = qlen - 2;
	e = find(c, key_hash(c->seed, k, klen), k, klen);
	if (e && e->until <= now)
		e->until = 0; /* expired: the way is free */
	if (!e || !e->until || e->rlen > cap) {
		c->misses++;
		return 0;
	}
	memcpy(out, key_of(e) + e->klen, e->rlen);
	out[0] = q[0];
	out[1] = q[1];
	/* now < until <= born + the smallest TTL: every TTL stays >= 1. */
	age = (uint32_t)((now - e->born) / 1000000);
	for (i = 0; i < e->nttl; i++) {
		memcpy(&o, e->buf + 2 * (size_t)i, 2);
		wire_put32(out + o, wire_get32(out + o) - age);
	}
	c->hits++;
	return e->rlen;
}

/* The way of h's set a new answer takes: its own, empty, expired, or the
 * one that expires first. */
static struct pcache_entry *
way_for(struct pcache *c, uint64_t h, const uint8_t *k, size_t klen,
	int64_t now)
{
	struct pcache_entry *s = set_of(c, h), *e;
	unsigned w;

	if ((e = find(c, h, k, klen)))
		return e;
	e = &s[0];
	for (w = 0; w < PCACHE_WAYS; w++) {
		if (s[w].until <= now)
			return &s[w];
		if (s[w].until < e->until)
			e = &s[w];
	}
	c->replaced++;
	return e;
}

int
pcache_put(struct pcache *c, const uint8_t *q, size_t qlen, const uint8_t *r,
	   size_t rlen, int64_t now)
{
	uint16_t ttl[PCACHE_TTLS_MAX];
	struct pcache_entry *e;
	const uint8_t *k = q + 2;
	unsigned nttl;
	uint32_t min;
	uint64_t h;
	size_t klen, need;
	uint8_t *b;

	if (!c->nsets)
		return 0;
	if (!query_ok(q, qlen)) /* counted when it was asked */
		return 0;
	if (answer_ok(r, rlen, ttl, &nttl, &min) == -1) {
		c->uncacheable++;
		return 0;
	}
	klen = qlen - 2;
	h = key_hash(c->seed, k, klen);
	e = way_for(c, h, k, klen, now);
	need = (size_t)nttl * 2 + klen + rlen;
	if (e->cap < need) {
		if (!(b = realloc(e->buf, need))) {
			e->until = 0;
			return 0;
		}
		e->buf = b;
		e->cap = (uint32_t)need;
	}
	e->hash = h;
	e->nttl = (uint16_t)nttl;
	e->klen = (uint16_t)klen;
	e->rlen = (uint16_t)rlen;
	memcpy(e->buf, ttl, (size_t)nttl * 2);
	memcpy(e->buf + (size_t)nttl * 2, k, klen);
	memcpy(e->buf + (size_t)nttl * 2 + klen, r, rlen);
	e->born = now;
	e->until =
	    now + (int64_t)(min < c->max_ttl ? min : c->max_ttl) * 1000000;
	c->stored++;
	return 1;
}

void
pcache_clear(struct pcache *c)
{
	size_t i;

	for (i = 0; c->e && i < (size_t)c->nsets * PCACHE_WAYS; i++)
		c->e[i].until = 0;
}

uint32_t
pcache_live(const struct pcache *c, int64_t now)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; c->e && i < (size_t)c->nsets * PCACHE_WAYS; i++)
		if (c->e[i].until > now)
			n++;
	return n;
}
