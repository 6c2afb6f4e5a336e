/*
 * dlist: the compiled domain list, a cdb (tinycdb's format).
 * domain-compile (domain-match/) writes these files.
 *
 * The cdb holds one key per list entry, the entry's name in the canonical
 * record form (docs/records.md: lowercase, no trailing dot, \DDD escapes),
 * and a value:
 *
 *   "+TAG"     the name and every name below it match, with TAG
 *   "=TAG"     this name only matches, with TAG: an exact entry (the v2fly
 *              lists' "full:"); names below it are looked up further up,
 *              as if it were not there
 *   "!"        an exclusion: the name and every name below it do not match
 *
 * plus a header under the empty key: "dnstap-bgp-domains 1 COUNT". Two
 * optional keys start with a space, which no name contains:
 *
 *   " bloom"   a Bloom filter of all entry names: blocks of 64 bytes, 3
 *              bits set per name in the block its hash picks
 *              (dlist_bloom_add). Most names looked up are on no list; the
 *              filter (2 bytes per entry, small enough to stay in the CPU
 *              cache) answers those without touching the cdb's pages.
 *   " depths"  16 bytes, bit N (of byte N/8, least significant first) set
 *              when some entry has N labels: suffixes with other label
 *              counts are not looked up at all.
 *
 * A file without the header, or whose hash tables do not end exactly at
 * the end of the file (cut short, or written over in place), is not a
 * domain list. Matching walks from the full name up, label by label, and
 * the first key found that covers the name decides (an exact entry covers
 * only the full name): the most specific entry wins. Readers older than
 * the exact kind take "=TAG" for a damaged value, so no match.
 *
 * The file is never read through a mapping of it: a list file truncated or
 * written over in place would then fault the next lookup (SIGBUS). A list
 * is copied into private memory when opened, so nothing done to the file
 * afterwards reaches a lookup; one larger than a limit is not: its first
 * 2048 bytes and its filter are copied and the rest is read with pread at
 * each lookup, so memory stays bounded whatever the list size, and a file
 * changed under it gives short reads or garbage that lookups refuse (no
 * entry), never a fault.
 */
#ifndef DLIST_H
#define DLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DLIST_HEADER "dnstap-bgp-domains 1 "
#define DLIST_BLOOM_KEY " bloom"
#define DLIST_DEPTHS_KEY " depths"

struct dlist;

struct dlist_match {
	const char *entry; /* the matching list entry (points into name) */
	size_t entry_len;
	const char *tag; /* its tag, not NUL-terminated */
	size_t tag_len;
	int excluded; /* the entry is an exclusion: no match */
	int exact;    /* the entry covers this name only ("=TAG") */
};

/* dlist_open's limit: lists up to this size are copied whole. */
#define DLIST_COPY_MAX ((uint64_t)64 << 20)

/*
 * Opens path and copies it (see above) if it is at most max bytes. A
 * larger one keeps only its first 2048 bytes and the Bloom filter in
 * memory; hash slots and records are read with pread (from the page
 * cache), and the last 16384 keys looked up are remembered in 1.8 MB so a
 * hot set costs no system call: a match's tag then stays valid only until
 * the next lookup in dl, and dl must not be used by two threads at once.
 * NULL with errno set and a reason in err (for the "unable to open X:
 * reason" line): ENOENT and the like, EPROTO when it is not a valid list,
 * EAGAIN when it changed while it was read (a writer at work: try again).
 */
struct dlist *dlist_open_limit(const char *path, uint64_t max, char *err,
			       size_t errlen);
/* dlist_open_limit(path, DLIST_COPY_MAX, ...). */
struct dlist *dlist_open(const char *path, char *err, size_t errlen);
void dlist_close(struct dlist **dl);
/*
 * Sets the limit of an open list (and of its reloads): a copied list
 * larger than max is cut down to what dlist_open_limit keeps. -1 (ENOMEM).
 */
int dlist_limit(struct dlist *dl, uint64_t max);
/* The entry count from the header. */
uint64_t dlist_count(const struct dlist *dl);
/* The file's modification time when it was read, in Unix seconds. */
int64_t dlist_mtime(const struct dlist *dl);

/*
 * Looks name (canonical form, name_len bytes) up. Returns 1 and fills m when
 * an entry (or exclusion) covers it, 0 when none does. A name matches only
 * on label boundaries: "example.com" covers "a.example.com", never
 * "aexample.com"; an exact entry covers its own name only. A damaged
 * value (not "!", or "+" or "=" and a valid tag) counts as no entry: a
 * corrupt file never yields a tag that no list gave.
 */
int dlist_lookup(const struct dlist *dl, const char *name, size_t name_len,
		 struct dlist_match *m);

/*
 * The same lookup in steps, for callers that match records in batches:
 * the lookups of a big list miss the CPU cache, and taking each step for a
 * whole batch before the next lets those misses overlap. start computes the
 * suffixes and fetches their filter blocks; each fetch (call it up to
 * twice) tests the filter and fetches the cdb hash slots, then the records
 * they point to; lookup gives what dlist_lookup gives. The name must stay
 * in place, and the dlist open, from start to lookup.
 */
#define DLIST_PROBE_MAX 8
struct dlist_probe {
	const char *name;
	size_t len;
	size_t n; /* suffixes to try; > DLIST_PROBE_MAX: plain lookup */
	int filtered;
	const char *start[DLIST_PROBE_MAX];
	uint64_t h[DLIST_PROBE_MAX];
	const unsigned char *slot[DLIST_PROBE_MAX];
	uint8_t pass[DLIST_PROBE_MAX];
};
void dlist_probe_start(const struct dlist *dl, struct dlist_probe *pr,
		       const char *name, size_t len);
void dlist_probe_fetch(const struct dlist *dl, struct dlist_probe *pr);
int dlist_probe_lookup(const struct dlist *dl, struct dlist_probe *pr,
		       struct dlist_match *m);

/*
 * Has the file at path been replaced or changed since dl was opened
 * (another inode, size or mtime)? 0 when it is gone.
 */
int dlist_changed(const struct dlist *dl, const char *path);

/*
 * The one list-reload policy of every program that reads a list: called
 * about once a second with asked NULL, it looks at path and reopens it
 * when it was replaced or changed in place (inode, size, mtime); with
 * asked set (the reason, "SIGHUP") it reopens it whatever it looks like.
 * The new list gets the old one's limit. What happened, and in msg one
 * line to log as it is (info for DLIST_LOADED, warning for the others):
 */
enum dlist_event {
	DLIST_SAME = 0, /* nothing new (a refused or gone file said once) */
	DLIST_LOADED,	/* "reloaded PATH (WHY): N entries in T ms"; *dl new */
	DLIST_REFUSED,	/* "unable to reload PATH (WHY): REASON; keeping the
			   list in use (N entries)"; *dl stays */
	DLIST_GONE,	/* "list PATH gone; keeping the list in use..." */
};
enum dlist_event dlist_reload(struct dlist **dl, const char *path,
			      const char *asked, char *msg, size_t msglen);

/* The 64-bit hash of a name that the filter uses (part of the format). */
uint64_t dlist_hash(const char *name, size_t len);
/* The size in bytes of the Bloom filter for n entries (a multiple of 64). */
size_t dlist_bloom_size(uint64_t n);
/* Adds a name (canonical form) to the filter bloom of size bytes. */
void dlist_bloom_add(unsigned char *bloom, size_t size, const char *name,
		     size_t len);

#endif
