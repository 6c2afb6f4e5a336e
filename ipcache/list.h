/*
 * list: `ipcache -l`, the store as people read it. It opens the store as a
 * reader (one snapshot, never a write) while ipcache runs and prints one
 * line per entry that every given filter lets through:
 *
 *   ADDRESS NAME TAG ORIGIN first=AGE last=AGE expires=DURATION
 *
 * with AGE how long ago the entry was first and last seen and DURATION how
 * long until it expires ("2d3h", "5m12s"; negative once past); raw, the
 * times as seconds since the epoch instead; or only the count.
 */
#ifndef IPCACHE_LIST_H
#define IPCACHE_LIST_H

#include "engine.h"

struct list_query {
	const char *name;	  /* exactly this name (canonical), or NULL */
	const char *suffix;	  /* this name or a name below it, or NULL */
	const char *tag;	  /* this tag ("" for none), or NULL */
	struct prefixes prefixes; /* an address in one of these (none: any) */
	int origin;		  /* STORE_LOCAL, STORE_PEER, or -1 for any */
	int raw;		  /* times as seconds since the epoch */
	int count;		  /* only the number of entries */
};

/* Lists the store in dir; returns 0 or exits as the program does. */
int list_store(const char *dir, const struct list_query *q);

#endif
