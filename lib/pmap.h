/*
 * pmap: a map from (id, prefix) to a few words, for the programs that keep
 * kernel objects equal to ipcache's set (nft-set, route-sync) and for
 * fan-out's copy of that set.
 *
 * Entries live in a slab and never move: an index stays valid until the
 * entry is deleted, and a walk by index (a replay in progress) sees every
 * entry that existed when it started and was not deleted since. The hash
 * index beside the slab is open addressing, grown at half full.
 */
#ifndef PMAP_H
#define PMAP_H

#include <stddef.h>
#include <stdint.h>

#include "rec.h"

#define PMAP_NONE UINT32_MAX

struct pmap_ent {
	struct rec_addr p; /* the key: prefix ... */
	uint8_t used;
	uint8_t flags; /* the user's */
	uint32_t id;   /* ... and id (a tag, a set, a table) */
	uint32_t gen;  /* the user's: a replay or dump generation */
	uint32_t val;  /* the user's */
};

struct pmap {
	struct pmap_ent *e;
	uint32_t n;	/* slab slots in use or on the free list */
	uint32_t cap;	/* slab slots allocated */
	uint32_t count; /* live entries */
	uint32_t free;	/* head of the free list (through val), or NONE */
	uint32_t *idx;	/* hash index: slab index + 1, 0 empty */
	uint32_t mask;	/* index size - 1 */
};

int pmap_init(struct pmap *m);
void pmap_destroy(struct pmap *m);
/* The entry's index, or PMAP_NONE. */
uint32_t pmap_find(const struct pmap *m, uint32_t id, const struct rec_addr *p);
/*
 * Finds or adds (zeroed user fields, *created set). PMAP_NONE when memory
 * runs out. Indices of other entries stay valid; pointers may not.
 */
uint32_t pmap_get(struct pmap *m, uint32_t id, const struct rec_addr *p,
		  int *created);
void pmap_del(struct pmap *m, uint32_t i);

#endif
