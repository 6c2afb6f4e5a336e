/*
 * engine: the cache and its rules (see engine.h). Slot 0 of every index
 * array means "none", so entries are numbered from 1 and name offsets start
 * past a reserved first byte.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_HDR 6 /* refs u32, len u16 */

static uint32_t
exp_s(int64_t us)
{
	int64_t s = (us + 999999) / 1000000;

	if (s < 0)
		return 0;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static uint32_t
ehash(const uint8_t *a, uint8_t fam, uint8_t tag)
{
	uint64_t x, y, h;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	h = x * 0x9E3779B97F4A7C15ULL ^
	    (y + fam * 31ULL + ((uint64_t)tag << 8)) * 0xC2B2AE3D27D4EB4FULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint32_t
nhash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return (uint32_t)(h ^ h >> 32);
}

/* Grows *p (of *cap elements of size sz) to hold at least need. */
static int
grow(void *p, size_t sz, size_t *cap, size_t need, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*(void **)p, n * sz)))
		return -1;
	*(void **)p = q;
	*cap = n;
	return 0;
}

static int
grow32(void *p, size_t sz, uint32_t *cap, size_t need, size_t first)
{
	size_t c = *cap;

	if (need > UINT32_MAX / 2 || grow(p, sz, &c, need, first) == -1)
		return -1;
	*cap = (uint32_t)c;
	return 0;
}

int
prefixes_add(struct prefixes *l, const struct rec_addr *p)
{
	if (grow(&l->p, sizeof *l->p, &l->cap, l->n + 1, 16) == -1)
		return -1;
	l->p[l->n++] = *p;
	return 0;
}

/* The index of the first prefix of l that holds a, or -1. */
static long
in_prefixes(const struct prefixes *l, const struct rec_addr *a)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (rec_addr_contains(&l->p[i], a))
			return (long)i;
	return -1;
}

/* DENY_OWN, -1 when a passes, else the index of the deny prefix. */
#define DENY_OWN -2
static long
deny_which(const struct ic *ic, const struct rec_addr *a)
{
	if (in_prefixes(&ic->own, a) != -1)
		return DENY_OWN;
	if (in_prefixes(&ic->allow, a) != -1)
		return -1;
	return in_prefixes(&ic->deny, a);
}

int
ic_denied(const struct ic *ic, const struct rec_addr *a)
{
	return deny_which(ic, a) != -1;
}

int
ic_init(struct ic *ic, struct lw *out)
{
	const struct ratelimit rl = RATELIMIT_INIT;

	memset(ic, 0, sizeof *ic);
	ic->out = out;
	ic->lifetime_us = 86400LL * 1000000;
	ic->gran_s = 60;
	ic->eused = 1;
	ic->alen = 8;
	ic->ntags = 1; /* tag 0 is "" */
	ic->rl_bad = ic->rl_limit = ic->rl_filter = rl;
	if (grow32(&ic->e, sizeof *ic->e, &ic->ecap, 2, 1024) == -1 ||
	    !(ic->bucket = calloc(1024, sizeof *ic->bucket)) ||
	    !(ic->nset = calloc(1024, sizeof *ic->nset)) ||
	    grow(&ic->arena, 1, &ic->acap, 8, 65536) == -1) {
		ic_free(ic);
		return -1;
	}
	ic->nbucket = ic->nsetcap = 1024;
	memset(ic->arena, 0, 8);
	return 0;
}

void
ic_free(struct ic *ic)
{
	free(ic->e);
	free(ic->bucket);
	free(ic->heap);
	free(ic->arena);
	free(ic->nset);
	free(ic->dirty);
	free(ic->dels);
	free(ic->deny.p);
	free(ic->allow.p);
	free(ic->own.p);
	memset(ic, 0, sizeof *ic);
}

/* Names. */

static const char *
name_str(const struct ic *ic, uint32_t o, size_t *len)
{
	uint16_t l;

	memcpy(&l, ic->arena + o + 4, 2);
	*len = l;
	return ic->arena + o + NAME_HDR;
}

static uint32_t
name_refs(const struct ic *ic, uint32_t o)
{
	uint32_t r;

	memcpy(&r, ic->arena + o, 4);
	return r;
}

static void
name_setrefs(struct ic *ic, uint32_t o, uint32_t r)
{
	memcpy(ic->arena + o, &r, 4);
}

/*
 * The set slot holding name s, or the empty slot where it would go. A slot
 * is the name's hash (high half) and offset (low half): most mismatches are
 * told apart without touching the arena.
 */
static uint32_t
name_slot(const struct ic *ic, const char *s, size_t n, uint32_t *hash)
{
	uint32_t h = nhash(s, n), mask = ic->nsetcap - 1, i = h & mask;
	const char *t;
	size_t l;
	uint64_t v;

	if (hash)
		*hash = h;
	for (;; i = (i + 1) & mask) {
		if (!(v = ic->nset[i]))
			return i;
		if ((uint32_t)(v >> 32) != h)
			continue;
		t = name_str(ic, (uint32_t)v, &l);
		if (l == n && memcmp(t, s, n) == 0)
			return i;
	}
}

static int
nset_grow(struct ic *ic)
{
	uint64_t *old = ic->nset;
	uint32_t oldcap = ic->nsetcap, i, j, mask;

	if (!(ic->nset = calloc((size_t)oldcap * 2, sizeof *ic->nset))) {
		ic->nset = old;
		return -1;
	}
	ic->nsetcap = oldcap * 2;
	mask = ic->nsetcap - 1;
	for (i = 0; i < oldcap; i++) {
		if (!old[i])
			continue;
		for (j = (uint32_t)(old[i] >> 32) & mask; ic->nset[j];
		     j = (j + 1) & mask)
			;
		ic->nset[j] = old[i];
	}
	free(old);
	return 0;
}

/* The interned name s with one more reference; 0 when out of memory. */
static uint32_t
name_ref(struct ic *ic, const char *s, size_t n)
{
	uint32_t i, o, h;
	uint16_t l = (uint16_t)n;

	if (n >= REC_NAME_MAX)
		return 0;
	i = name_slot(ic, s, n, &h);
	if ((o = (uint32_t)ic->nset[i])) {
		name_setrefs(ic, o, name_refs(ic, o) + 1);
		return o;
	}
	if ((ic->nnames + 1) * 2 > ic->nsetcap) {
		if (nset_grow(ic) == -1)
			return 0;
		i = name_slot(ic, s, n, NULL);
	}
	if (ic->alen + NAME_HDR + n + 1 > UINT32_MAX ||
	    grow(&ic->arena, 1, &ic->acap, ic->alen + NAME_HDR + n + 1, 65536))
		return 0;
	o = (uint32_t)ic->alen;
	name_setrefs(ic, o, 1);
	memcpy(ic->arena + o + 4, &l, 2);
	memcpy(ic->arena + o + NAME_HDR, s, n);
	ic->arena[o + NAME_HDR + n] = '\0';
	ic->alen += NAME_HDR + n + 1;
	ic->nset[i] = (uint64_t)h << 32 | o;
	ic->nnames++;
	return o;
}

static void
name_unref(struct ic *ic, uint32_t o)
{
	uint32_t r = name_refs(ic, o), mask = ic->nsetcap - 1, i, j, k;
	const char *s;
	size_t n;

	if (r > 1) {
		name_setrefs(ic, o, r - 1);
		return;
	}
	s = name_str(ic, o, &n);
	i = name_slot(ic, s, n, NULL);
	ic->adead += NAME_HDR + n + 1;
	ic->nnames--;
	/* Backward-shift deletion keeps linear probing without tombstones. */
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!ic->nset[j])
			break;
		k = (uint32_t)(ic->nset[j] >> 32) & mask;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			ic->nset[i] = ic->nset[j];
			i = j;
		}
	}
	ic->nset[i] = 0;
}

int
ic_compact(struct ic *ic)
{
	char *na;
	size_t nlen = 8, n;
	uint32_t i, o, no;

	if (ic->adead < 65536 || ic->adead * 2 < ic->alen)
		return 0;
	if (!(na = malloc(ic->alen - ic->adead + 8)))
		return -1;
	memset(na, 0, 8);
	for (i = 0; i < ic->nsetcap; i++) {
		if (!(o = (uint32_t)ic->nset[i]))
			continue;
		name_str(ic, o, &n);
		memcpy(na + nlen, ic->arena + o, NAME_HDR + n + 1);
		no = (uint32_t)nlen;
		nlen += NAME_HDR + n + 1;
		/* Leave the new offset where the old record's refs were. */
		memcpy(ic->arena + o, &no, 4);
		ic->nset[i] = (ic->nset[i] & 0xffffffff00000000ULL) | no;
	}
	for (i = 1; i < ic->eused; i++)
		if (ic->e[i].family)
			memcpy(&ic->e[i].name, ic->arena + ic->e[i].name, 4);
	free(ic->arena);
	ic->arena = na;
	ic->acap = ic->alen - ic->adead + 8;
	ic->alen = nlen;
	ic->adead = 0;
	return 0;
}

/*
 * Tags: the id of tag t, added when new; -1 when the table is full. A tag
 * that only peer records name (peer) takes one of IC_PEER_TAGS slots at
 * most: -2 when those are taken, so that whatever a peer sends, the local
 * list's tags always find a slot. A peer tag that local input uses becomes
 * local.
 */
static int
tag_id(struct ic *ic, const char *t, size_t n, int peer)
{
	unsigned i;

	if (n == 0)
		return 0;
	for (i = 1; i < ic->ntags; i++)
		if (strncmp(ic->tags[i], t, n) == 0 && ic->tags[i][n] == '\0')
			break;
	if (i < ic->ntags) {
		if (!peer && ic->tag_peer[i]) {
			ic->tag_peer[i] = 0;
			ic->npeer_tags--;
		}
		return (int)i;
	}
	if (ic->ntags == IC_TAGS_MAX || n > REC_TAG_MAX)
		return -1;
	if (peer && ic->npeer_tags == IC_PEER_TAGS)
		return -2;
	memcpy(ic->tags[i], t, n);
	ic->tags[i][n] = '\0';
	ic->tag_peer[i] = (uint8_t)peer;
	ic->npeer_tags += (unsigned)peer;
	ic->ntags++;
	return (int)i;
}

/* The expiry heap. */

static void
hset(struct ic *ic, uint32_t pos, struct hnode n)
{
	ic->heap[pos] = n;
	ic->e[n.idx].hpos = pos;
}

static void
sift_up(struct ic *ic, uint32_t pos)
{
	struct hnode n = ic->heap[pos];
	uint32_t p;

	while (pos > 0) {
		p = (pos - 1) / 2;
		if (ic->heap[p].key_s <= n.key_s)
			break;
		hset(ic, pos, ic->heap[p]);
		pos = p;
	}
	hset(ic, pos, n);
}

static void
sift_down(struct ic *ic, uint32_t pos)
{
	struct hnode n = ic->heap[pos];
	uint32_t c;

	for (;;) {
		c = 2 * pos + 1;
		if (c >= ic->hn)
			break;
		if (c + 1 < ic->hn && ic->heap[c + 1].key_s < ic->heap[c].key_s)
			c++;
		if (ic->heap[c].key_s >= n.key_s)
			break;
		hset(ic, pos, ic->heap[c]);
		pos = c;
	}
	hset(ic, pos, n);
}

static int
heap_push(struct ic *ic, uint32_t idx)
{
	if (grow32(&ic->heap, sizeof *ic->heap, &ic->hcap, (size_t)ic->hn + 1,
		   1024) == -1)
		return -1;
	ic->heap[ic->hn] = (struct hnode){exp_s(ic->e[idx].expires_us), idx};
	ic->e[idx].hpos = ic->hn;
	ic->hn++;
	sift_up(ic, ic->hn - 1);
	return 0;
}

static void
heap_remove(struct ic *ic, uint32_t pos)
{
	uint32_t moved;

	ic->hn--;
	if (pos == ic->hn)
		return;
	moved = ic->heap[ic->hn].idx;
	hset(ic, pos, ic->heap[ic->hn]);
	sift_up(ic, pos);
	sift_down(ic, ic->e[moved].hpos);
}

/* Entries. */

static uint32_t
find(const struct ic *ic, const struct rec_addr *a, unsigned tag)
{
	uint32_t i = ic->bucket[ehash(a->a, a->family, (uint8_t)tag) &
				(ic->nbucket - 1)];

	for (; i; i = ic->e[i].hnext)
		if (ic->e[i].tag == tag && ic->e[i].family == a->family &&
		    memcmp(ic->e[i].a, a->a, 16) == 0)
			return i;
	return 0;
}

static int
rehash(struct ic *ic)
{
	uint32_t *nb, n = ic->nbucket * 2, i, h;

	if (!(nb = calloc(n, sizeof *nb)))
		return -1;
	for (i = 1; i < ic->eused; i++) {
		if (!ic->e[i].family)
			continue;
		h = ehash(ic->e[i].a, ic->e[i].family, ic->e[i].tag) & (n - 1);
		ic->e[i].hnext = nb[h];
		nb[h] = i;
	}
	free(ic->bucket);
	ic->bucket = nb;
	ic->nbucket = n;
	return 0;
}

static void
mark_dirty(struct ic *ic, uint32_t idx)
{
	if (ic->e[idx].flags & F_DIRTY)
		return;
	if (grow(&ic->dirty, sizeof *ic->dirty, &ic->dcap, ic->ndirty + 1,
		 1024) == -1)
		return; /* written with the next change of this entry */
	ic->dirty[ic->ndirty++] = idx;
	ic->e[idx].flags |= F_DIRTY;
}

static void
emit(struct ic *ic, enum rec_type type, uint32_t idx)
{
	char buf[REC_NAME_MAX + 128];
	const struct ent *e = &ic->e[idx];
	struct rec r;
	size_t n;

	if (!ic->out || ic->out_err)
		return;
	memset(&r, 0, sizeof r);
	r.type = type;
	r.addr.family = e->family;
	r.addr.plen = e->family == 4 ? 32 : 128;
	memcpy(r.addr.a, e->a, 16);
	r.tag = ic->tags[e->tag];
	r.tag_len = strlen(r.tag);
	r.name = name_str(ic, e->name, &r.name_len);
	if ((n = rec_format(buf, sizeof buf, &r)) &&
	    lw_put(ic->out, buf, n) == -1)
		ic->out_err = errno ? errno : EIO;
}

static void
emit_plain(struct ic *ic, enum rec_type type)
{
	const char *s = type == REC_REPLAY ? "replay\n" : "eor\n";

	if (ic->out && !ic->out_err && lw_put(ic->out, s, strlen(s)) == -1)
		ic->out_err = errno ? errno : EIO;
}

static void
emit_mark(struct ic *ic, const struct rec *r)
{
	char buf[64];
	size_t n;

	if (ic->out && !ic->out_err && (n = rec_format(buf, sizeof buf, r)) &&
	    lw_put(ic->out, buf, n) == -1)
		ic->out_err = errno ? errno : EIO;
}

static uint32_t
new_entry(struct ic *ic, const struct rec_addr *a, unsigned tag,
	  const char *name, size_t nlen, uint8_t origin, int64_t first,
	  int64_t last, int64_t expires)
{
	uint32_t idx, nm, h;
	struct ent *e;

	if (!(nm = name_ref(ic, name, nlen)))
		return 0;
	if (ic->freelist) {
		idx = ic->freelist;
		ic->freelist = ic->e[idx].hnext;
	} else {
		if (grow32(&ic->e, sizeof *ic->e, &ic->ecap,
			   (size_t)ic->eused + 1, 1024) == -1) {
			name_unref(ic, nm);
			return 0;
		}
		idx = ic->eused++;
		ic->e[idx].flags = 0;
	}
	e = &ic->e[idx];
	memcpy(e->a, a->a, 16);
	e->family = a->family;
	e->tag = (uint8_t)tag;
	e->origin = origin;
	e->flags &= F_DIRTY; /* still listed from the slot's last life */
	e->name = nm;
	e->first_us = first;
	e->last_us = last;
	e->expires_us = expires;
	e->stored_s = 0;
	if (heap_push(ic, idx) == -1) {
		e->family = 0;
		e->hnext = ic->freelist;
		ic->freelist = idx;
		name_unref(ic, nm);
		return 0;
	}
	h = ehash(e->a, e->family, e->tag) & (ic->nbucket - 1);
	e->hnext = ic->bucket[h];
	ic->bucket[h] = idx;
	ic->cnt.entries++;
	ic->cnt.by_origin[origin == STORE_PEER]++;
	if (ic->cnt.entries > ic->nbucket)
		rehash(ic); /* on failure, longer chains: still correct */
	return idx;
}

static void
remove_entry(struct ic *ic, uint32_t idx, int withdraw)
{
	struct ent *e = &ic->e[idx];
	uint32_t *pp;
	struct delkey *d;

	if (withdraw) {
		emit(ic, REC_WITHDRAW, idx);
		ic->cnt.withdraws++;
	}
	if ((e->flags & F_STORED) &&
	    grow(&ic->dels, sizeof *ic->dels, &ic->delcap, ic->ndels + 1,
		 256) == 0) {
		d = &ic->dels[ic->ndels++];
		memcpy(d->a, e->a, 16);
		d->family = e->family;
		d->tag = e->tag;
	}
	heap_remove(ic, e->hpos);
	pp = &ic->bucket[ehash(e->a, e->family, e->tag) & (ic->nbucket - 1)];
	while (*pp != idx)
		pp = &ic->e[*pp].hnext;
	*pp = e->hnext;
	name_unref(ic, e->name);
	e->family = 0;
	e->flags &= F_DIRTY;
	e->hnext = ic->freelist;
	ic->freelist = idx;
	ic->cnt.entries--;
	ic->cnt.by_origin[e->origin == STORE_PEER]--;
}

static void
refresh(struct ic *ic, uint32_t idx, int64_t last, int64_t expires,
	uint8_t origin)
{
	struct ent *e = &ic->e[idx];
	int changed = 0;

	ic->cnt.refreshes++;
	if (last > e->last_us) {
		e->last_us = last;
		changed = 1;
	}
	if (expires > e->expires_us) {
		e->expires_us = expires;
		changed = 1;
	}
	if (origin == STORE_LOCAL && e->origin != STORE_LOCAL) {
		e->origin = STORE_LOCAL;
		ic->cnt.by_origin[STORE_PEER]--;
		ic->cnt.by_origin[STORE_LOCAL]++;
		mark_dirty(ic, idx);
	}
	/* Coarse persistence: only when the expiry moved by gran_s. */
	if (changed && (e->flags & F_STORED) &&
	    (ic->gran_s == 0 ||
	     (int64_t)exp_s(e->expires_us) - e->stored_s >= ic->gran_s))
		mark_dirty(ic, idx);
}

static int
listed(const struct ic *ic, const char *name, size_t n, struct dlist_match *m)
{
	return dlist_lookup(ic->dl, name, n, m) && !m->excluded;
}

/* The name an entry is kept under: the first of QNAME and CHAIN listed;
 * NULL when none is (see ic_line). */
static const char *
pick_name(const struct ic *ic, const struct rec *r, size_t *n)
{
	struct dlist_match m;
	const char *p, *end, *c;

	*n = r->name_len;
	if (!ic->dl || listed(ic, r->name, r->name_len, &m))
		return r->name;
	for (p = r->chain, end = r->chain + r->chain_len; p < end; p = c + 1) {
		if (!(c = memchr(p, ',', (size_t)(end - p))))
			c = end;
		if (listed(ic, p, (size_t)(c - p), &m)) {
			*n = (size_t)(c - p);
			return p;
		}
	}
	return NULL;
}

/* Has name as many entries as the per-name limit allows? */
static int
name_full(const struct ic *ic, const char *name, size_t n)
{
	uint32_t o;

	return ic->max_per_name &&
	       (o = (uint32_t)ic->nset[name_slot(ic, name, n, NULL)]) &&
	       name_refs(ic, o) >= ic->max_per_name;
}

/* Is name (n bytes) the QNAME or one of the CHAIN of r? */
static int
in_answer(const struct rec *r, const char *name, size_t n)
{
	const char *p, *end, *c;

	if (r->name_len == n && memcmp(r->name, name, n) == 0)
		return 1;
	for (p = r->chain, end = r->chain + r->chain_len; p < end; p = c + 1) {
		if (!(c = memchr(p, ',', (size_t)(end - p))))
			c = end;
		if ((size_t)(c - p) == n && memcmp(p, name, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * An answer refreshed entry idx under names that do not include the one it
 * is kept under: it takes the answer's listed name, so that it is withdrawn
 * when the last name that confirmed it leaves the list, not the first one.
 * Addresses shared by several listed names move between them; that costs a
 * store write per move at most once a batch. Kept as it is when the answer
 * has no listed name or the new name is at its per-name limit.
 */
static void
rename_entry(struct ic *ic, uint32_t idx, const struct rec *r)
{
	const char *cur, *name;
	size_t clen, nlen;
	uint32_t nm;

	cur = name_str(ic, ic->e[idx].name, &clen);
	if (!ic->dl || in_answer(r, cur, clen))
		return;
	if (!(name = pick_name(ic, r, &nlen)) || name_full(ic, name, nlen))
		return;
	if (!(nm = name_ref(ic, name, nlen)))
		return; /* out of memory: keeping the old name is still correct
			 */
	name_unref(ic, ic->e[idx].name);
	ic->e[idx].name = nm;
	mark_dirty(ic, idx);
}

/*
 * A peer's entry in a range of the default deny list: the Go daemon
 * announces what peers send whatever the address, so a fleet moving from
 * it would lose these routes without a word. Said once per range.
 */
static void
said_denied(struct ic *ic, size_t d, const char *as, const char *name,
	    size_t nlen)
{
	char ps[64];

	ic->deny_said |= 1ULL << (d - ic->ndeny_own);
	rec_addr_format(ps, sizeof ps, &ic->deny.p[d], 1);
	log_warn("peer input: entries in %s (the first: %s of %.*s) are "
		 "dropped by the default deny list, never announced; if peers "
		 "mean them to be routed, allow them with -a %s (said once per "
		 "range, counted in denied_total{input=\"peer\"})",
		 ps, as, (int)nlen, name, ps);
}

static int
add(struct ic *ic, const struct rec *r, const char *name, size_t nlen,
    unsigned tag, uint8_t origin, int64_t last, int64_t expires)
{
	char as[64];
	uint32_t i;
	long d;

	if ((d = deny_which(ic, &r->addr)) != -1) {
		ic->cnt.filtered++;
		ic->cnt.denied[origin == STORE_PEER]++;
		rec_addr_format(as, sizeof as, &r->addr, 0);
		log_warn_limited(
		    &ic->rl_filter,
		    "%s of %.*s: denied by the prefix filters, not announced",
		    as, (int)nlen, name);
		if (origin == STORE_PEER && d >= (long)ic->ndeny_own &&
		    d - (long)ic->ndeny_own < 64 &&
		    !(ic->deny_said & 1ULL << (d - (long)ic->ndeny_own)))
			said_denied(ic, (size_t)d, as, name, nlen);
		return 0;
	}
	if (ic->max_total && ic->cnt.entries >= ic->max_total) {
		ic->cnt.limited++;
		rec_addr_format(as, sizeof as, &r->addr, 0);
		log_warn_limited(
		    &ic->rl_limit,
		    "limit of %u entries reached: %s of %.*s not added",
		    ic->max_total, as, (int)nlen, name);
		return 0;
	}
	if (name_full(ic, name, nlen)) {
		ic->cnt.limited++;
		rec_addr_format(as, sizeof as, &r->addr, 0);
		log_warn_limited(&ic->rl_limit,
				 "limit of %u entries per name reached for "
				 "%.*s: %s not added",
				 ic->max_per_name, (int)nlen, name, as);
		return 0;
	}
	if (!(i = new_entry(ic, &r->addr, tag, name, nlen, origin, last, last,
			    expires)))
		return -1;
	emit(ic, REC_ANNOUNCE, i);
	ic->cnt.announces++;
	mark_dirty(ic, i);
	return 0;
}

static void
bad(struct ic *ic, const char *why, int peer)
{
	ic->cnt.malformed++;
	log_warn_limited(&ic->rl_bad, "%s: bad record: %s",
			 peer ? "peer input" : "stdin", why);
}

int
ic_line(struct ic *ic, char *line, size_t len, int peer)
{
	struct dlist_match m;
	enum rec_err err;
	struct rec r;
	int64_t last, life, exp;
	const char *name;
	size_t nlen;
	uint32_t i;
	int tag;

	if ((err = rec_parse(&r, line, len)) != REC_OK) {
		bad(ic, rec_strerror(err), peer);
		return 0;
	}
	if (r.type == REC_MARK && !peer) {
		/* Everything earlier input caused is in ic->out already. */
		ic->cnt.marks++;
		emit_mark(ic, &r);
		return 0;
	}
	if (r.type != (peer ? REC_PEER : REC_ANSWER)) {
		bad(ic, peer ? "not a peer record" : "not an answer record",
		    peer);
		return 0;
	}
	if (ic->record_clock && r.time_us > ic->now_us) {
		ic->now_us = r.time_us;
		ic_expire(ic);
	}
	if (!peer) {
		ic->cnt.answers++;
		if ((tag = tag_id(ic, r.tag, r.tag_len, 0)) < 0) {
			bad(ic, "too many distinct tags", peer);
			return 0;
		}
		last = ic->record_clock ? r.time_us : ic->now_us;
		life = ic->lifetime_us;
		if (ic->ttl_mode) {
			life = (int64_t)r.ttl * 1000000;
			if (life < ic->ttl_floor_us)
				life = ic->ttl_floor_us;
			if (life > ic->ttl_ceil_us)
				life = ic->ttl_ceil_us;
		}
		exp = last + life;
		if ((i = find(ic, &r.addr, (unsigned)tag))) {
			refresh(ic, i, last, exp, STORE_LOCAL);
			rename_entry(ic, i, &r);
			return 0;
		}
		/* domain-match tagged this answer by the list it had; when
		 * ours no longer lists the name (a removal that domain-match
		 * had not seen yet), adding it would bring back a route the
		 * list change just withdrew, until it expires. */
		if (!(name = pick_name(ic, &r, &nlen))) {
			ic->cnt.filtered++;
			log_warn_limited(
			    &ic->rl_filter,
			    "answer for %.*s: not on the domain list: ignored",
			    (int)r.name_len, r.name);
			return 0;
		}
		return add(ic, &r, name, nlen, (unsigned)tag, STORE_LOCAL, last,
			   exp);
	}
	ic->cnt.peers++;
	/* with a list, a peer's name must be on it, tagged or not: a tag
	 * picks BGP attributes, it never lets a name past the list */
	if (ic->dl && !listed(ic, r.name, r.name_len, &m)) {
		ic->cnt.filtered++;
		log_warn_limited(
		    &ic->rl_filter,
		    "peer entry %s is not on the domain list: ignored", r.name);
		return 0;
	}
	if (r.tag_len)
		tag = tag_id(ic, r.tag, r.tag_len, 1);
	else if (!ic->dl)
		tag = 0;
	else
		tag = tag_id(ic, m.tag, m.tag_len, 0);
	if (tag == -2) {
		ic->cnt.limited++;
		log_warn_limited(
		    &ic->rl_limit,
		    "peer input: tag %.*s of %s refused: %d tags that only "
		    "peers use are in the table already",
		    (int)r.tag_len, r.tag, r.name, IC_PEER_TAGS);
		return 0;
	}
	if (tag < 0) {
		bad(ic, "too many distinct tags", peer);
		return 0;
	}
	last = r.time_us < ic->now_us ? r.time_us : ic->now_us;
	exp = last + ic->lifetime_us;
	if (exp <= ic->now_us)
		return 0; /* already expired: nothing to merge */
	if ((i = find(ic, &r.addr, (unsigned)tag))) {
		refresh(ic, i, last, exp, STORE_PEER);
		return 0;
	}
	return add(ic, &r, r.name, r.name_len, (unsigned)tag, STORE_PEER, last,
		   exp);
}

void
ic_expire(struct ic *ic)
{
	struct ent *e;
	uint32_t idx;
	/*
	 * Heap keys are 32-bit seconds (exp_s saturates in 2106). Past that a
	 * re-keyed entry would come back to the top for ever: look no further
	 * than the keys can say.
	 */
	int64_t horizon = ic->now_us;

	if (horizon >= (int64_t)UINT32_MAX * 1000000)
		horizon = ((int64_t)UINT32_MAX - 1) * 1000000;
	while (ic->hn && (int64_t)ic->heap[0].key_s * 1000000 <= horizon) {
		idx = ic->heap[0].idx;
		e = &ic->e[idx];
		if (e->expires_us <= ic->now_us) {
			remove_entry(ic, idx, 1);
			continue;
		}
		/* Refreshed since it was keyed: move it to its real second. */
		ic->heap[0].key_s = exp_s(e->expires_us);
		sift_down(ic, 0);
	}
}

void
ic_replay(struct ic *ic)
{
	ic->replay_wanted = 1;
}

/* Is there room in the output for one more record without a flush? */
static int
out_room(const struct ic *ic)
{
	return !ic->out || ic->out->len + REC_NAME_MAX + 128 <= ic->out->cap;
}

int
ic_replay_step(struct ic *ic)
{
	if (!ic->replay_at) {
		if (!ic->replay_wanted)
			return 0;
		if (!out_room(ic))
			return 1;
		ic->replay_wanted = 0;
		emit_plain(ic, REC_REPLAY);
		ic->replay_at = 1;
	}
	for (; ic->replay_at < ic->eused; ic->replay_at++) {
		if (!out_room(ic))
			return 1;
		if (ic->e[ic->replay_at].family)
			emit(ic, REC_ANNOUNCE, ic->replay_at);
	}
	if (!out_room(ic))
		return 1;
	emit_plain(ic, REC_EOR);
	ic->replay_at = 0;
	return ic->replay_wanted;
}

int
ic_relist(struct ic *ic, const struct dlist *dl, int emit_changes)
{
	char name[REC_NAME_MAX];
	struct dlist_match m;
	struct rec_addr a;
	struct ent old;
	const char *s;
	size_t n;
	uint32_t i, end = ic->eused, j;
	int tag, ret = 0;

	ic->dl = dl;
	if (!dl)
		return 0;
	for (i = 1; i < end; i++) {
		if (!ic->e[i].family)
			continue;
		s = name_str(ic, ic->e[i].name, &n);
		if (!listed(ic, s, n, &m)) {
			remove_entry(ic, i, emit_changes);
			continue;
		}
		if ((tag = tag_id(ic, m.tag, m.tag_len, 0)) < 0 ||
		    (unsigned)tag == ic->e[i].tag)
			continue;
		old = ic->e[i];
		memcpy(name, s, n);
		remove_entry(ic, i, emit_changes);
		memset(&a, 0, sizeof a);
		a.family = old.family;
		a.plen = old.family == 4 ? 32 : 128;
		memcpy(a.a, old.a, 16);
		if ((j = find(ic, &a, (unsigned)tag))) {
			refresh(ic, j, old.last_us, old.expires_us, old.origin);
			continue;
		}
		if (!(j = new_entry(ic, &a, (unsigned)tag, name, n, old.origin,
				    old.first_us, old.last_us,
				    old.expires_us))) {
			ret = -1;
			continue;
		}
		mark_dirty(ic, j);
		if (emit_changes) {
			emit(ic, REC_ANNOUNCE, j);
			ic->cnt.announces++;
		}
	}
	return ret;
}

int
ic_load(struct ic *ic, const struct store_entry *se)
{
	struct delkey *d;
	uint32_t i;
	int tag;

	/* Stored entries passed these limits when they came. */
	if ((tag = tag_id(ic, se->tag, strlen(se->tag), 0)) < 0)
		return 0;
	/* No duplicate check: the store's keys are (address, tag) already. */
	if (ic_denied(ic, &se->addr) || se->expires_us <= ic->now_us) {
		/* Gone for good: drop it from the store too. */
		if (grow(&ic->dels, sizeof *ic->dels, &ic->delcap,
			 ic->ndels + 1, 256) == -1)
			return -1;
		d = &ic->dels[ic->ndels++];
		memcpy(d->a, se->addr.a, 16);
		d->family = se->addr.family;
		d->tag = (uint8_t)tag;
		return 0;
	}
	if (!(i = new_entry(ic, &se->addr, (unsigned)tag, se->name,
			    strlen(se->name), (uint8_t)se->origin, se->first_us,
			    se->last_us, se->expires_us)))
		return -1;
	ic->e[i].flags |= F_STORED;
	ic->e[i].stored_s = exp_s(se->expires_us);
	return 0;
}

void
ic_entry(const struct ic *ic, uint32_t i, struct store_entry *se)
{
	const struct ent *e = &ic->e[i];
	const char *s;
	size_t n;

	memset(&se->addr, 0, sizeof se->addr);
	se->addr.family = e->family;
	se->addr.plen = e->family == 4 ? 32 : 128;
	memcpy(se->addr.a, e->a, 16);
	memcpy(se->tag, ic->tags[e->tag], sizeof se->tag);
	s = name_str(ic, e->name, &n);
	memcpy(se->name, s, n + 1);
	se->first_us = e->first_us;
	se->last_us = e->last_us;
	se->expires_us = e->expires_us;
	se->changed_us = 0;
	se->origin = e->origin;
}

void
ic_stored(struct ic *ic)
{
	struct ent *e;
	size_t k;

	for (k = 0; k < ic->ndirty; k++) {
		e = &ic->e[ic->dirty[k]];
		e->flags &= (uint8_t)~F_DIRTY;
		if (e->family) {
			e->flags |= F_STORED;
			e->stored_s = exp_s(e->expires_us);
		}
	}
	ic->ndirty = 0;
	ic->ndels = 0;
}
