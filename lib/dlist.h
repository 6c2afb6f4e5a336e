/*
 * dlist: the compiled domain list, a cdb mapped read-only (tinycdb).
 *
 * The cdb holds one key per list entry, the entry's name in the canonical
 * record form (docs/records.md: lowercase, no trailing dot, \DDD escapes),
 * and a value:
 *
 *   "+TAG"     the name and every name below it match, with TAG
 *   "!"        an exclusion: the name and every name below it do not match
 *
 * plus a header under the empty key: "dnstap-bgp-domains 1 COUNT". A file
 * without that header, or whose hash tables do not end exactly at the end of
 * the file (cut short, or written over in place), is not a domain list.
 * domain-compile (domain-match/) writes these files. Matching walks from the full name
 * up, label by label, and the first key found decides: the most specific
 * entry wins. Nothing is loaded into the heap: memory does not grow with
 * the list.
 */
#ifndef DLIST_H
#define DLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DLIST_HEADER "dnstap-bgp-domains 1 "

struct dlist;

struct dlist_match {
	const char *entry; /* the matching list entry (points into name) */
	size_t entry_len;
	const char *tag;   /* its tag, not NUL-terminated */
	size_t tag_len;
	int excluded;	   /* the entry is an exclusion: no match */
};

/*
 * Opens and maps path. NULL with errno set and a reason in err (for the
 * "unable to open X: reason" line) when it is missing or not a valid list.
 */
struct dlist *dlist_open(const char *path, char *err, size_t errlen);
void dlist_close(struct dlist **dl);
/* The entry count from the header. */
uint64_t dlist_count(const struct dlist *dl);

/*
 * Looks name (canonical form, name_len bytes) up. Returns 1 and fills m when
 * an entry (or exclusion) covers it, 0 when none does. A name matches only
 * on label boundaries: "example.com" covers "a.example.com", never
 * "aexample.com". A damaged value (not "!" or "+" and a valid tag) counts
 * as no entry: a corrupt file never yields a tag that no list gave.
 */
int dlist_lookup(const struct dlist *dl, const char *name, size_t name_len,
    struct dlist_match *m);

/*
 * Has the file at path been replaced since dl was opened (another inode,
 * size or mtime)? For polling at most about once a second.
 */
int dlist_changed(const struct dlist *dl, const char *path);

#endif
