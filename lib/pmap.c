#include "pmap.h"

#include <stdlib.h>
#include <string.h>

static uint32_t
hash(uint32_t id, const struct rec_addr *p)
{
	/* FNV-1a over the key, then a final mix: keys differ in few bits. */
	uint32_t h = 2166136261u ^ id;
	size_t i, n = p->family == 4 ? 4 : 16;

	h = (h ^ p->plen) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ p->a[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x7feb352d;
	h ^= h >> 15;
	return h;
}

static int
same(const struct pmap_ent *e, uint32_t id, const struct rec_addr *p)
{
	return e->id == id && e->p.family == p->family &&
	       e->p.plen == p->plen && !memcmp(e->p.a, p->a, sizeof p->a);
}

int
pmap_init(struct pmap *m)
{
	memset(m, 0, sizeof *m);
	m->free = PMAP_NONE;
	m->mask = 1023;
	if (!(m->idx = calloc(m->mask + 1, sizeof *m->idx)))
		return -1;
	return 0;
}

void
pmap_destroy(struct pmap *m)
{
	free(m->e);
	free(m->idx);
	memset(m, 0, sizeof *m);
}

uint32_t
pmap_find(const struct pmap *m, uint32_t id, const struct rec_addr *p)
{
	uint32_t h = hash(id, p) & m->mask, x;

	while ((x = m->idx[h])) {
		if (same(&m->e[x - 1], id, p))
			return x - 1;
		h = (h + 1) & m->mask;
	}
	return PMAP_NONE;
}

static int
grow_index(struct pmap *m)
{
	uint32_t nmask = m->mask * 2 + 1, i, h;
	uint32_t *n = calloc((size_t)nmask + 1, sizeof *n);

	if (!n)
		return -1;
	for (i = 0; i < m->n; i++)
		if (m->e[i].used) {
			h = hash(m->e[i].id, &m->e[i].p) & nmask;
			while (n[h])
				h = (h + 1) & nmask;
			n[h] = i + 1;
		}
	free(m->idx);
	m->idx = n;
	m->mask = nmask;
	return 0;
}

uint32_t
pmap_get(struct pmap *m, uint32_t id, const struct rec_addr *p, int *created)
{
	uint32_t i, h, ncap;
	struct pmap_ent *ne;

	*created = 0;
	if ((i = pmap_find(m, id, p)) != PMAP_NONE)
		return i;
	if ((m->count + 1) * 2 > m->mask + 1 && grow_index(m) == -1)
		return PMAP_NONE;
	if (m->free != PMAP_NONE) {
		i = m->free;
		m->free = m->e[i].val;
	} else {
		if (m->n == m->cap) {
			ncap = m->cap ? m->cap * 2 : 1024;
			if (ncap <= m->cap ||
			    !(ne = realloc(m->e, (size_t)ncap * sizeof *ne)))
				return PMAP_NONE;
			m->e = ne;
			m->cap = ncap;
		}
		i = m->n++;
	}
	memset(&m->e[i], 0, sizeof m->e[i]);
	m->e[i].p = *p;
	m->e[i].id = id;
	m->e[i].used = 1;
	h = hash(id, p) & m->mask;
	while (m->idx[h])
		h = (h + 1) & m->mask;
	m->idx[h] = i + 1;
	m->count++;
	*created = 1;
	return i;
}

void
pmap_del(struct pmap *m, uint32_t i)
{
	uint32_t h, j, k, x;

	if (i >= m->n || !m->e[i].used)
		return;
	h = hash(m->e[i].id, &m->e[i].p) & m->mask;
	while (m->idx[h] != i + 1)
		h = (h + 1) & m->mask;
	/* Backward-shift deletion: no tombstones, probes stay short. */
	m->idx[h] = 0;
	j = h;
	for (;;) {
		j = (j + 1) & m->mask;
		if (!(x = m->idx[j]))
			break;
		k = hash(m->e[x - 1].id, &m->e[x - 1].p) & m->mask;
		/* Move x back to h when its home k is not in (h, j]. */
		if ((j > h && (k <= h || k > j)) ||
		    (j < h && k <= h && k > j)) {
			m->idx[h] = x;
			m->idx[j] = 0;
			h = j;
		}
	}
	m->e[i].used = 0;
	m->e[i].val = m->free;
	m->free = i;
	m->count--;
}
