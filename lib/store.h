/*
 * store: ipcache's persistent address cache (LMDB), shared with readers.
 *
 * ipcache is the only writer. Other processes (ipcache -l, the sync server)
 * open the same store read-only while ipcache runs and see a consistent
 * snapshot per read transaction. One entry per (address, tag): an address is
 * one key whatever its spelling (IPv4-mapped IPv6 is IPv4, see rec_addr_set).
 *
 * Times are microseconds since the epoch. last_us is persisted at a coarse
 * granularity (ipcache decides; at most a second behind), expires_us is
 * when the entry is withdrawn unless refreshed.
 *
 * An entry's "changed" time is when it was last written to the store; the
 * store keeps an index on it so that "every entry changed since T" costs in
 * proportion to the answer, not to the cache (incremental peer sync).
 * Deletions are not in that answer: a peer that pulled an entry keeps it
 * until its own copy expires (or its own list drops the name), as with the
 * Go daemon, which has no deletions on the wire at all.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rec.h"

enum store_origin { STORE_LOCAL = 0, STORE_PEER = 1 };

struct store_entry {
	struct rec_addr addr;
	char tag[REC_TAG_MAX + 1]; /* "" for none */
	char name[REC_NAME_MAX];   /* canonical record form */
	int64_t first_us;
	int64_t last_us;
	int64_t expires_us;
	int64_t changed_us;
	enum store_origin origin;
};

struct store;

enum store_mode { STORE_READ, STORE_WRITE };

/*
 * Opens the store in directory dir. STORE_WRITE creates it when missing.
 * NULL with a reason in err when it cannot be opened or is corrupt: the
 * caller exits 100 (corrupt, wrong format) or 111 (I/O) as *permanent says.
 *
 * The writer keeps the store private: the directory it creates is 0700,
 * data.mdb and lock.mdb it creates are 0600; at every open it takes every
 * right of others from the files when they are its own, and keeps group
 * read (data.mdb) and read-write (lock.mdb) only when someone gave them.
 * A symlink in their place is refused. A reader needs no more than read
 * access to data.mdb: it stats it first and so never creates files.
 */
struct store *store_open(const char *dir, enum store_mode mode, char *err,
			 size_t errlen, int *permanent);
/*
 * The same, sharing the store with the readers of a group (group, not
 * (gid_t)-1; the writer must be a member, or root): the directory gets that
 * group and g+rx (0750 when created), data.mdb 0640 and lock.mdb 0660 with
 * that group. An LMDB reader writes its slot in lock.mdb, so a member of the
 * group can also hold old pages (the store then grows): give it only to
 * the readers (ipcache -l, the sync server).
 */
struct store *store_open_group(const char *dir, enum store_mode mode,
			       gid_t group, char *err, size_t errlen,
			       int *permanent);
void store_close(struct store **s);

/*
 * Calls cb for every entry (since_us == 0) or for every entry changed after
 * since_us, in one read transaction; cb returns non-zero to stop early.
 * Returns 0, or -1 with a reason in err and errno EBADMSG when the store's
 * data is corrupt (permanent), EIO otherwise (temporary).
 */
int store_each(struct store *s, int64_t since_us,
	       int (*cb)(const struct store_entry *e, void *arg), void *arg,
	       char *err, size_t errlen);

/*
 * Writer side (ipcache only). Changes are batched: store_begin() opens one
 * write transaction, store_put()/store_del() add to it, store_commit() makes
 * them visible to readers at once. Every entry put in one batch gets the same
 * changed_us, strictly greater than any earlier batch's (the entry's own
 * changed_us is ignored). When store_put/store_del fail, the caller calls
 * store_abort; when store_commit fails the batch is gone. Nothing of a failed
 * batch is visible; *full is set as store_full() says when the reason is
 * a full disk or map (retrying may work). 0, or -1 with a reason in err.
 */
int store_begin(struct store *s, char *err, size_t errlen);
int store_put(struct store *s, const struct store_entry *e, char *err,
	      size_t errlen);
int store_del(struct store *s, const struct rec_addr *addr, const char *tag,
	      char *err, size_t errlen);
int store_commit(struct store *s, int *full, char *err, size_t errlen);
void store_abort(struct store *s);
/*
 * Was the last write error a full disk (STORE_FULL_DISK: retry later) or
 * map (STORE_FULL_MAP: the next store_begin grows it, retry at once)? 0
 * for any other error.
 */
enum { STORE_FULL_DISK = 1, STORE_FULL_MAP = 2 };
int store_full(const struct store *s);
/*
 * The map (LMDB's address space for the file, not its size on disk). The
 * writer opens with room for tens of millions of entries and sizes it for
 * entries (0: no limit) with store_reserve, outside a batch (never below
 * what the store holds). When a batch fails because the map is full
 * (a reader's old snapshot keeps pages from being reused, so churn needs
 * room beyond the entries), the next store_begin doubles it: the batch can
 * be retried at once. Readers follow the writer's size by themselves.
 */
int store_reserve(struct store *s, uint64_t entries, char *err, size_t errlen);
size_t store_mapsize(const struct store *s);
/* The changed_us of the batch in progress (or of the last committed one). */
int64_t store_changed(const struct store *s);
/*
 * Drops the pages of the map from this process's resident set (they stay in
 * the page cache): after a full read at start-up, so that RSS is the cache.
 */
void store_forget_pages(struct store *s);

#endif
