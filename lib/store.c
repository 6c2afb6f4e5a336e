/*
 * store: ipcache's address cache in LMDB (see store.h).
 *
 * Three named databases in one environment (the directory holds data.mdb and
 * lock.mdb):
 *
 *   meta     "format" -> "dnstap-bgp-ipcache 1"; a store without it is
 *            refused rather than read as an empty cache
 *   entries  FAMILY(1) ADDR(4|16) TAG(0..32)  ->  FIRST LAST EXPIRES
 *            CHANGED (int64 us, host order, 8 bytes each) ORIGIN(1) NAME
 *   changed  CHANGED(8, big-endian) KEY-OF-ENTRY  ->  ""; the index that makes
 *            "changed since T" a range scan
 *
 * The writer uses MDB_NOMETASYNC: every commit reaches the page cache before
 * it returns (so kill -9 loses nothing committed) and the data pages are
 * fdatasync'ed, but the meta page is not, so a power loss can at worst undo
 * the last batch, never corrupt the store. The writer also holds an flock on
 * the directory so a second ipcache cannot write the same store.
 *
 * The entries say which listed names this host resolved: the writer creates
 * the files itself (never through a symlink) with the modes of store.h and
 * takes every right of others from existing files of its own at every
 * start, so a store made world-readable by an older version is closed on
 * upgrade.
 */
#include "clock.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define STORE_FORMAT "dnstap-bgp-ipcache 1"
/*
 * The map is address space only: the file grows as pages are written. An
 * entry takes 100 to 600 bytes in the two databases (the longest names,
 * IPv6, a tag); a KiB each leaves room for the copies a reader's snapshot
 * keeps. Past that the writer doubles the map whenever it is full.
 */
#define STORE_MAP_MIN ((size_t)1 << 20)
#define STORE_MAP_PER_ENTRY 1024
#define STORE_MAP_UNLIMITED ((size_t)8 << 30)
#define STORE_MAP_MAX ((size_t)1 << 42)
#define KEY_MAX (1 + 16 + REC_TAG_MAX)
#define VAL_FIXED (4 * 8 + 1)

struct store {
	MDB_env *env;
	MDB_dbi meta, entries, changed;
	MDB_txn *txn; /* the write batch in progress */
	int dirfd;
	int mode;
	int full;
	int map_full; /* the last batch ran out of map: grow before the next */
	int64_t last_changed; /* of the last committed batch */
	int64_t batch_changed;
	char datapath[4096];
};

static void
serr(char *err, size_t errlen, const char *what, const char *why)
{
	if (errlen)
		snprintf(err, errlen, "%s%s%s", what, *what ? ": " : "", why);
}

static int
mdb_permanent(int rc)
{
	switch (rc) {
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOTDIR:
		return 1;
	}
	return 0;
}

static size_t
key_make(uint8_t *k, const struct rec_addr *a, const char *tag)
{
	size_t n = a->family == 4 ? 4 : 16, t = strlen(tag);

	if (t > REC_TAG_MAX)
		t = REC_TAG_MAX;
	k[0] = a->family;
	memcpy(k + 1, a->a, n);
	memcpy(k + 1 + n, tag, t);
	return 1 + n + t;
}

static void
be64_put(uint8_t *p, int64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static int64_t
be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* Decodes one entry; -1 when the bytes are not an entry (corrupt store). */
static int
entry_decode(struct store_entry *e, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kp = k->mv_data, *vp = v->mv_data;
	size_t n, t, nl, i;

	if (k->mv_size < 5 || (kp[0] != 4 && kp[0] != 6))
		return -1;
	n = kp[0] == 4 ? 4 : 16;
	if (k->mv_size < 1 + n || (t = k->mv_size - 1 - n) > REC_TAG_MAX)
		return -1;
	memset(&e->addr, 0, sizeof e->addr);
	rec_addr_set(&e->addr, kp + 1, n);
	if (e->addr.family != kp[0])
		return -1;
	memcpy(e->tag, kp + 1 + n, t);
	e->tag[t] = '\0';
	if (t && rec_tag_check(e->tag, t) != 0)
		return -1;
	if (v->mv_size <= VAL_FIXED ||
	    (nl = v->mv_size - VAL_FIXED) >= REC_NAME_MAX)
		return -1;
	memcpy(&e->first_us, vp, 8);
	memcpy(&e->last_us, vp + 8, 8);
	memcpy(&e->expires_us, vp + 16, 8);
	memcpy(&e->changed_us, vp + 24, 8);
	if (vp[32] > STORE_PEER)
		return -1;
	e->origin = vp[32];
	memcpy(e->name, vp + VAL_FIXED, nl);
	e->name[nl] = '\0';
	for (i = 0; i < nl; i++)
		if (e->name[i] <= ' ' || e->name[i] > '~')
			return -1;
	return 0;
}

static int
open_dbs(struct store *s, char *err, size_t errlen, int *permanent)
{
	MDB_txn *txn;
	MDB_val k = {6, (void *)"format"}, v;
	MDB_stat st;
	MDB_cursor *c;
	MDB_dbi main;
	unsigned fl = s->mode == STORE_WRITE ? MDB_CREATE : 0;
	int rc;

	rc = mdb_txn_begin(s->env, NULL,
			   s->mode == STORE_WRITE ? 0 : MDB_RDONLY, &txn);
	if (rc) {
		*permanent = mdb_permanent(rc);
		serr(err, errlen, "", mdb_strerror(rc));
		return -1;
	}
	/* Only a brand-new environment (an empty main DB) is made ours. */
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) ||
	    (rc = mdb_stat(txn, main, &st))) {
		*permanent = mdb_permanent(rc);
		serr(err, errlen, "", mdb_strerror(rc));
		goto fail;
	}
	if (st.ms_entries != 0)
		fl = 0;
	if ((rc = mdb_dbi_open(txn, "meta", fl, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "entries", fl, &s->entries)) ||
	    (rc = mdb_dbi_open(txn, "changed", fl, &s->changed))) {
		/*
		 * An empty environment without our databases is one that the
		 * writer is making right now (a reader started with ipcache):
		 * try again. One that holds anything else is not ours.
		 */
		*permanent = (rc == MDB_NOTFOUND && st.ms_entries != 0) ||
			     (rc != MDB_NOTFOUND && mdb_permanent(rc));
		serr(err, errlen, "not an ipcache store",
		     rc == MDB_NOTFOUND ? "no meta data" : mdb_strerror(rc));
		goto fail;
	}
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && s->mode == STORE_WRITE &&
	    mdb_stat(txn, s->entries, &st) == 0 && st.ms_entries == 0) {
		v.mv_data = (void *)STORE_FORMAT;
		v.mv_size = strlen(STORE_FORMAT);
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if (rc) {
			*permanent = mdb_permanent(rc);
			serr(err, errlen, "", mdb_strerror(rc));
			goto fail;
		}
	} else if (rc) {
		*permanent = rc == MDB_NOTFOUND || mdb_permanent(rc);
		serr(err, errlen, "not an ipcache store",
		     rc == MDB_NOTFOUND ? "no format mark" : mdb_strerror(rc));
		goto fail;
	} else if (v.mv_size != strlen(STORE_FORMAT) ||
		   memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0) {
		*permanent = 1;
		serr(err, errlen, "not an ipcache store", "unknown format");
		goto fail;
	}
	if ((rc = mdb_cursor_open(txn, s->changed, &c)) == 0) {
		if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size >= 8)
			s->last_changed = be64_get(k.mv_data);
		mdb_cursor_close(c);
	}
	if ((rc = mdb_txn_commit(txn))) {
		*permanent = mdb_permanent(rc);
		serr(err, errlen, "", mdb_strerror(rc));
		return -1;
	}
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

/* A data file shorter than its meta page says would SIGBUS on access. */
static int
check_size(struct store *s, char *err, size_t errlen)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;

	if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st) ||
	    stat(s->datapath, &fst) == -1) {
		serr(err, errlen, "", strerror(errno ? errno : EIO));
		return -1;
	}
	if ((uint64_t)fst.st_size <
	    ((uint64_t)info.me_last_pgno + 1) * st.ms_psize) {
		serr(err, errlen, "corrupt store", "data.mdb is truncated");
		return -1;
	}
	return 0;
}

/*
 * Creates (or opens) dir/name without following a symlink. With a group
 * (not (gid_t)-1) the file gets that group and the mode shared; without,
 * a new file is 0600 and one of ours keeps at most the group bits of shared
 * that the operator gave it (a supervisor's script may share the store
 * itself), never any for others.
 */
static int
own_file(int dirfd, const char *name, mode_t shared, gid_t group)
{
	struct stat st;
	mode_t want;
	int fd, e;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    group != (gid_t)-1 ? shared : 0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (st.st_uid == geteuid()) {
		want =
		    group != (gid_t)-1 ? shared : (st.st_mode & shared) | 0600;
		if (group != (gid_t)-1 && st.st_gid != group &&
		    fchown(fd, (uid_t)-1, group) == -1)
			goto fail;
		if ((st.st_mode & 07777) != want && fchmod(fd, want) == -1)
			goto fail;
	}
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The writer's directory and files, before LMDB opens them. */
static int
own_files(struct store *s, const char *dir, gid_t group, char *err,
	  size_t errlen, int *permanent)
{
	const char *what = "";
	struct stat st;

	if (group != (gid_t)-1 && fstat(s->dirfd, &st) == 0 &&
	    st.st_uid == geteuid()) {
		what = dir;
		if ((st.st_gid != group &&
		     fchown(s->dirfd, (uid_t)-1, group)) ||
		    ((st.st_mode & 0050) != 0050 &&
		     fchmod(s->dirfd, (st.st_mode & 07777) | 0050)))
			goto fail;
	}
	what = "data.mdb";
	if (own_file(s->dirfd, what, 0640, group) == -1)
		goto fail;
	/* An LMDB reader writes its slot into the lock file. */
	what = "lock.mdb";
	if (own_file(s->dirfd, what, 0660, group) == -1)
		goto fail;
	return 0;
fail:
	*permanent = mdb_permanent(errno) || errno == ELOOP || errno == EINVAL;
	serr(err, errlen, what,
	     errno == ELOOP    ? "a symbolic link, refused"
	     : errno == EINVAL ? "not a regular file"
	     : errno == EPERM && group != (gid_t)-1
		 ? "unable to give it the readers' "
		   "group (the writer must be "
		   "a member)"
		 : strerror(errno));
	return -1;
}

struct store *
store_open_group(const char *dir, enum store_mode mode, gid_t group, char *err,
		 size_t errlen, int *permanent)
{
	struct store *s;
	struct stat st;
	unsigned flags;
	int rc;

	*permanent = 0;
	if (!(s = calloc(1, sizeof *s))) {
		serr(err, errlen, "", strerror(errno));
		return NULL;
	}
	s->mode = mode;
	s->dirfd = -1;
	if ((size_t)snprintf(s->datapath, sizeof s->datapath, "%s/data.mdb",
			     dir) >= sizeof s->datapath) {
		*permanent = 1;
		serr(err, errlen, "", strerror(ENAMETOOLONG));
		goto fail;
	}
	if (mode == STORE_WRITE &&
	    mkdir(dir, group != (gid_t)-1 ? 0750 : 0700) == -1 &&
	    errno != EEXIST) {
		*permanent = mdb_permanent(errno);
		serr(err, errlen, "", strerror(errno));
		goto fail;
	}
	if (mode == STORE_WRITE) {
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd == -1) {
			*permanent = mdb_permanent(errno);
			serr(err, errlen, "", strerror(errno));
			goto fail;
		}
		if (flock(s->dirfd, LOCK_EX | LOCK_NB) == -1) {
			serr(err, errlen, "",
			     errno == EWOULDBLOCK ? "in use by another ipcache"
						  : strerror(errno));
			goto fail;
		}
		if (own_files(s, dir, group, err, errlen, permanent) == -1)
			goto fail;
	} else if (stat(s->datapath, &st) == -1) {
		/* Not even a lock file is left behind by a reader. */
		*permanent = mdb_permanent(errno);
		serr(err, errlen, "", strerror(errno));
		goto fail;
	}
	/*
	 * A reader takes the map size the writer last committed; a writer
	 * starts with room for tens of millions of entries, which
	 * store_reserve sets to the entry limit.
	 */
	if ((rc = mdb_env_create(&s->env)) ||
	    (rc = mdb_env_set_maxdbs(s->env, 4)) ||
	    (mode == STORE_WRITE &&
	     (rc = mdb_env_set_mapsize(s->env, STORE_MAP_UNLIMITED)))) {
		serr(err, errlen, "", mdb_strerror(rc));
		goto fail;
	}
	flags = MDB_NOTLS | (mode == STORE_WRITE ? MDB_NOMETASYNC : MDB_RDONLY);
	if ((rc = mdb_env_open(s->env, dir, flags, 0600))) {
		*permanent = mdb_permanent(rc);
		serr(err, errlen,
		     *permanent && rc != EACCES && rc != EROFS && rc != EPERM
			 ? "corrupt store"
			 : "",
		     mdb_strerror(rc));
		goto fail;
	}
	if (check_size(s, err, errlen) == -1) {
		*permanent = 1;
		goto fail;
	}
	if (open_dbs(s, err, errlen, permanent) == -1)
		goto fail;
	return s;
fail:
	store_close(&s);
	return NULL;
}

struct store *
store_open(const char *dir, enum store_mode mode, char *err, size_t errlen,
	   int *permanent)
{
	return store_open_group(dir, mode, (gid_t)-1, err, errlen, permanent);
}

void
store_close(struct store **sp)
{
	struct store *s = *sp;

	if (!s)
		return;
	if (s->txn)
		mdb_txn_abort(s->txn);
	if (s->env)
		mdb_env_close(s->env);
	if (s->dirfd != -1)
		close(s->dirfd);
	free(s);
	*sp = NULL;
}

static int
read_begin(struct store *s, MDB_txn **txn, char *err, size_t errlen)
{
	int rc, tries;

	for (tries = 0; tries < 2; tries++) {
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* The writer grew the map: adopt its size. */
		mdb_env_set_mapsize(s->env, 0);
	}
	if (rc) {
		serr(err, errlen, "", mdb_strerror(rc));
		errno = mdb_permanent(rc) ? EBADMSG : EIO;
		return -1;
	}
	return 0;
}

int
store_each(struct store *s, int64_t since_us,
	   int (*cb)(const struct store_entry *e, void *arg), void *arg,
	   char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	MDB_val k, v, ek;
	struct store_entry e;
	uint8_t from[8];
	MDB_cursor_op op;
	int rc, ret = -1;

	if (read_begin(s, &txn, err, errlen) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, since_us ? s->changed : s->entries, &c)))
		goto mdb_fail;
	if (since_us) {
		be64_put(from, since_us + 1);
		k.mv_data = from;
		k.mv_size = 8;
		op = MDB_SET_RANGE;
	} else
		op = MDB_FIRST;
	for (;; op = MDB_NEXT) {
		rc = mdb_cursor_get(c, &k, &v, op);
		if (rc == MDB_NOTFOUND)
			break;
		if (rc)
			goto mdb_fail;
		if (since_us) {
			if (k.mv_size < 8 + 5) {
				rc = MDB_CORRUPTED;
				goto mdb_fail;
			}
			ek.mv_data = (uint8_t *)k.mv_data + 8;
			ek.mv_size = k.mv_size - 8;
			if ((rc = mdb_get(txn, s->entries, &ek, &v))) {
				if (rc == MDB_NOTFOUND)
					rc = MDB_CORRUPTED;
				goto mdb_fail;
			}
			k = ek;
		}
		if (entry_decode(&e, &k, &v) == -1) {
			rc = MDB_CORRUPTED;
			goto mdb_fail;
		}
		if (cb(&e, arg))
			break;
	}
	ret = 0;
	goto out;
mdb_fail:
	serr(err, errlen, mdb_permanent(rc) ? "corrupt store" : "",
	     mdb_strerror(rc));
	errno = mdb_permanent(rc) ? EBADMSG : EIO;
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return ret;
}

static int
werr(struct store *s, int rc, char *err, size_t errlen)
{
	struct statvfs fs;

	/* LMDB reports a short write (the disk filled up mid-page) as EIO. */
	if (rc == EIO && statvfs(s->datapath, &fs) == 0 && fs.f_bavail == 0)
		rc = ENOSPC;
	s->full = rc == MDB_MAP_FULL		 ? STORE_FULL_MAP
		  : rc == ENOSPC || rc == EDQUOT ? STORE_FULL_DISK
						 : 0;
	s->map_full = rc == MDB_MAP_FULL;
	serr(err, errlen, "", mdb_strerror(rc));
	return -1;
}

size_t
store_mapsize(const struct store *s)
{
	MDB_envinfo info;

	return mdb_env_info(s->env, &info) ? 0 : info.me_mapsize;
}

/*
 * Only with no transaction open in this process (LMDB's rule). LMDB never
 * makes the map smaller than the pages in use.
 */
static int
set_mapsize(struct store *s, size_t size, char *err, size_t errlen)
{
	int rc;

	if (size > STORE_MAP_MAX)
		size = STORE_MAP_MAX;
	if (size == store_mapsize(s))
		return 0;
	if ((rc = mdb_env_set_mapsize(s->env, size)))
		return werr(s, rc, err, errlen);
	return 0;
}

int
store_reserve(struct store *s, uint64_t entries, char *err, size_t errlen)
{
	size_t size = STORE_MAP_UNLIMITED;

	if (s->txn || s->mode != STORE_WRITE)
		return werr(s, EINVAL, err, errlen);
	if (entries && entries < STORE_MAP_MAX / STORE_MAP_PER_ENTRY)
		size = (size_t)entries * STORE_MAP_PER_ENTRY;
	return set_mapsize(s, size < STORE_MAP_MIN ? STORE_MAP_MIN : size, err,
			   errlen);
}

int
store_begin(struct store *s, char *err, size_t errlen)
{
	int64_t now = clock_wall_us();
	size_t size;
	int rc;

	int dead;

	if (s->txn)
		return 0;
	if (s->map_full) {
		size = store_mapsize(s);
		if (size >= STORE_MAP_MAX)
			return werr(s, MDB_MAP_FULL, err, errlen);
		if (set_mapsize(s, size * 2, err, errlen) == -1)
			return -1;
	}
	s->full = s->map_full = 0;
	/* A reader killed mid-transaction would pin pages: free its slot. */
	mdb_reader_check(s->env, &dead);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &s->txn))) {
		s->txn = NULL;
		return werr(s, rc, err, errlen);
	}
	s->batch_changed = now > s->last_changed ? now : s->last_changed + 1;
	return 0;
}

/* Removes the index key of the entry stored under k, if there is one. */
static int
unindex(struct store *s, MDB_val *k, int64_t keep)
{
	MDB_val v, ik;
	uint8_t ib[8 + KEY_MAX];
	int64_t ch;
	int rc;

	rc = mdb_get(s->txn, s->entries, k, &v);
	if (rc == MDB_NOTFOUND)
		return MDB_NOTFOUND;
	if (rc)
		return rc;
	if (v.mv_size <= VAL_FIXED)
		return MDB_CORRUPTED;
	memcpy(&ch, (uint8_t *)v.mv_data + 24, 8);
	if (ch == keep)
		return 0;
	be64_put(ib, ch);
	memcpy(ib + 8, k->mv_data, k->mv_size);
	ik.mv_data = ib;
	ik.mv_size = 8 + k->mv_size;
	rc = mdb_del(s->txn, s->changed, &ik, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_put(struct store *s, const struct store_entry *e, char *err,
	  size_t errlen)
{
	uint8_t kb[KEY_MAX], vb[VAL_FIXED + REC_NAME_MAX], ib[8 + KEY_MAX];
	MDB_val k, v, ik, iv = {0, ib};
	size_t nl = strlen(e->name);
	int rc;

	if (!s->txn)
		return werr(s, EINVAL, err, errlen);
	if (nl >= REC_NAME_MAX)
		nl = REC_NAME_MAX - 1;
	k.mv_data = kb;
	k.mv_size = key_make(kb, &e->addr, e->tag);
	rc = unindex(s, &k, s->batch_changed);
	if (rc && rc != MDB_NOTFOUND)
		return werr(s, rc, err, errlen);
	memcpy(vb, &e->first_us, 8);
	memcpy(vb + 8, &e->last_us, 8);
	memcpy(vb + 16, &e->expires_us, 8);
	memcpy(vb + 24, &s->batch_changed, 8);
	vb[32] = (uint8_t)e->origin;
	memcpy(vb + VAL_FIXED, e->name, nl);
	v.mv_data = vb;
	v.mv_size = VAL_FIXED + nl;
	if ((rc = mdb_put(s->txn, s->entries, &k, &v, 0)))
		return werr(s, rc, err, errlen);
	be64_put(ib, s->batch_changed);
	memcpy(ib + 8, kb, k.mv_size);
	ik.mv_data = ib;
	ik.mv_size = 8 + k.mv_size;
	if ((rc = mdb_put(s->txn, s->changed, &ik, &iv, 0)))
		return werr(s, rc, err, errlen);
	return 0;
}

int
store_del(struct store *s, const struct rec_addr *addr, const char *tag,
	  char *err, size_t errlen)
{
	uint8_t kb[KEY_MAX];
	MDB_val k;
	int rc;

	if (!s->txn)
		return werr(s, EINVAL, err, errlen);
	k.mv_data = kb;
	k.mv_size = key_make(kb, addr, tag);
	/* keep = 0: no batch has changed time 0, so the index key goes. */
	rc = unindex(s, &k, 0);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc || (rc = mdb_del(s->txn, s->entries, &k, NULL)))
		return werr(s, rc, err, errlen);
	return 0;
}

int
store_commit(struct store *s, int *full, char *err, size_t errlen)
{
	int rc;

	*full = 0;
	if (!s->txn)
		return 0;
	rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	if (rc) {
		werr(s, rc, err, errlen);
		*full = s->full;
		return -1;
	}
	s->last_changed = s->batch_changed;
	return 0;
}

void
store_abort(struct store *s)
{
	if (s->txn)
		mdb_txn_abort(s->txn);
	s->txn = NULL;
}

int64_t
store_changed(const struct store *s)
{
	return s->txn ? s->batch_changed : s->last_changed;
}

int
store_full(const struct store *s)
{
	return s->full;
}

void
store_forget_pages(struct store *s)
{
	MDB_txn *txn;
	MDB_val k = {6, (void *)"format"}, v;
	unsigned long lo, hi, p;
	char line[512];
	FILE *f;

	/*
	 * LMDB does not tell where its map is (me_mapaddr is only set with
	 * MDB_FIXEDMAP): take a value's address and find its mapping.
	 */
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn))
		return;
	if (mdb_get(txn, s->meta, &k, &v) == 0 &&
	    (f = fopen("/proc/self/maps", "re"))) {
		p = (unsigned long)v.mv_data;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && p >= lo &&
			    p < hi) {
				madvise((void *)lo, hi - lo, MADV_DONTNEED);
				break;
			}
		fclose(f);
	}
	mdb_txn_abort(txn);
}
