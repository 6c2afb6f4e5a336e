/*
 * rib.c: the table of prefixes, the one source of truth for every peer.
 *
 * Entries live in one array (stable indexes, so peers queue 4-byte indexes
 * and walk the array for a full table); an open-addressing hash with linear
 * probing finds them by prefix. Each entry carries, per peer, a bit for
 * "announced to it" and one for "on its queue"; an entry that is withdrawn,
 * sent to no one and queued nowhere is freed and its slot reused.
 */
#include "bgpa.h"

#include <stdlib.h>
#include <string.h>

static uint32_t
hash(int fam, const uint8_t *a, uint8_t plen)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(fam * 131 + plen);
	int i, n = fam == FAM4 ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 1099511628211ULL;
	h ^= h >> 29;
	return (uint32_t)h;
}

int
rib_init(struct rib *r)
{
	memset(r, 0, sizeof *r);
	r->nslot = 1024;
	r->slot = calloc(r->nslot, sizeof *r->slot);
	return r->slot ? 0 : -1;
}

void
rib_destroy(struct rib *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		free(r->e[i].label);
	free(r->e);
	free(r->free);
	free(r->slot);
	memset(r, 0, sizeof *r);
}

static int
same(const struct rib_entry *e, int fam, const uint8_t *a, uint8_t plen)
{
	return e->fam == fam && e->plen == plen &&
	       !memcmp(e->a, a, fam == FAM4 ? 4 : 16);
}

uint32_t
rib_find(const struct rib *r, int fam, const uint8_t *a, uint8_t plen)
{
	uint32_t m = r->nslot - 1, s = hash(fam, a, plen) & m, i;

	for (;; s = (s + 1) & m) {
		if (!(i = r->slot[s]))
			return UINT32_MAX;
		if (same(&r->e[i - 1], fam, a, plen))
			return i - 1;
	}
}

static int
grow(struct rib *r)
{
	uint32_t *old = r->slot, n = r->nslot, i, s, m;

	r->slot = calloc((size_t)n * 2, sizeof *r->slot);
	if (!r->slot) {
		r->slot = old;
		return -1;
	}
	r->nslot = n * 2;
	m = r->nslot - 1;
	for (i = 0; i < n; i++) {
		if (!old[i])
			continue;
		const struct rib_entry *e = &r->e[old[i] - 1];
		for (s = hash(e->fam, e->a, e->plen) & m; r->slot[s];
		     s = (s + 1) & m)
			;
		r->slot[s] = old[i];
	}
	free(old);
	return 0;
}

uint32_t
rib_get(struct rib *r, int fam, const uint8_t *a, uint8_t plen)
{
	uint32_t i, s, m;
	struct rib_entry *e;

	if ((i = rib_find(r, fam, a, plen)) != UINT32_MAX)
		return i;
	if ((r->nused + 1) * 4 > r->nslot * 3 && grow(r) == -1)
		return UINT32_MAX;
	if (r->nfree)
		i = r->free[--r->nfree];
	else {
		if (r->n == r->cap) {
			uint32_t cap = r->cap ? r->cap * 2 : 1024;
			e = realloc(r->e, (size_t)cap * sizeof *e);
			if (!e)
				return UINT32_MAX;
			r->e = e;
			r->cap = cap;
		}
		i = r->n++;
	}
	e = &r->e[i];
	memset(e, 0, sizeof *e);
	memcpy(e->a, a, fam == FAM4 ? 4 : 16);
	e->fam = (uint8_t)fam;
	e->plen = plen;
	e->used = 1;
	m = r->nslot - 1;
	for (s = hash(fam, a, plen) & m; r->slot[s]; s = (s + 1) & m)
		;
	r->slot[s] = i + 1;
	r->nused++;
	return i;
}

void
rib_maybe_free(struct rib *r, uint32_t i)
{
	struct rib_entry *e = &r->e[i];
	uint32_t m = r->nslot - 1, s, j, k, h;

	if (!e->used || e->present || e->sent || e->queued)
		return;
	if (r->nfree == r->freecap) {
		uint32_t cap = r->freecap ? r->freecap * 2 : 1024;
		uint32_t *f = realloc(r->free, (size_t)cap * sizeof *f);
		if (!f)
			return; /* keep it: harmless */
		r->free = f;
		r->freecap = cap;
	}
	for (s = hash(e->fam, e->a, e->plen) & m; r->slot[s] != i + 1;
	     s = (s + 1) & m)
		;
	/* Backward-shift deletion keeps probe chains intact without tombstones.
	 */
	r->slot[s] = 0;
	for (j = (s + 1) & m; r->slot[j]; j = (j + 1) & m) {
		k = r->slot[j] - 1;
		h = hash(r->e[k].fam, r->e[k].a, r->e[k].plen) & m;
		/* Move it back when its home is not within (s, j]. */
		if ((j > s && (h <= s || h > j)) ||
		    (j < s && h <= s && h > j)) {
			r->slot[s] = r->slot[j];
			r->slot[j] = 0;
			s = j;
		}
	}
	e->used = 0;
	free(e->label);
	e->label = NULL;
	r->nused--;
	r->free[r->nfree++] = i;
}

int
rib_label(struct rib *r, uint32_t i, const char *tag, size_t taglen,
	  const char *name, size_t namelen)
{
	struct rib_entry *e = &r->e[i];
	size_t n;
	char *l;

	if (!taglen)
		tag = "-", taglen = 1;
	n = taglen + 1 + namelen;
	/* The same name again (the usual case): nothing to do. */
	if (e->label && strlen(e->label) == n &&
	    !memcmp(e->label, tag, taglen) && e->label[taglen] == ' ' &&
	    !memcmp(e->label + taglen + 1, name, namelen))
		return 0;
	if (!(l = malloc(n + 1)))
		return -1;
	memcpy(l, tag, taglen);
	l[taglen] = ' ';
	memcpy(l + taglen + 1, name, namelen);
	l[n] = '\0';
	free(e->label);
	e->label = l;
	return 0;
}
