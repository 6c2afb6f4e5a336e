#include "dlist.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "rec.h"

/*
 * cdb.cdb_mem is our own copy: of the whole file, or with cold set (the
 * file is larger than the limit) of its first 2048 bytes only, the hash
 * table pointers that cold_read starts from; then bloom and depths point to
 * copies too and everything else is read from fd with pread. Nothing ever
 * reads the file through a mapping of it: a file truncated or written over
 * in place cannot fault a lookup (SIGBUS), and a copy keeps the list as it
 * was opened whatever happens to the file.
 */
struct dlist {
	struct cdb cdb;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t count;
	const unsigned char *bloom; /* NULL: no filter in the file */
	uint64_t bloom_blocks;
	const unsigned char *depths; /* NULL: no label count mask */
	struct cold *cold;	     /* NULL: everything read from the copy */
	unsigned char *mem;	     /* the copy (an anonymous mapping) */
	size_t memlen;
	uint64_t max; /* the limit it was opened with, for reloads */
	/* dlist_reload: what was said already, to say it once */
	struct stat refused;
	int have_refused, gone;
};

/*
 * dlist_limit: the hash tables and records are read with pread, never
 * through the mapping, so they never count in the process's RSS; the keys
 * looked up last are remembered here, 2-way set-associative, so a hot set
 * of names costs no system call. A value kept is at most "+" and a tag.
 */
#define COLD_SETS 8192
#define COLD_KEY 62
#define COLD_VAL (1 + 32)
#define COLD_REC (8 + 1024 + COLD_VAL) /* record: lengths, key, value */
struct cold_slot {
	uint64_t h;
	uint8_t state; /* 0 empty, 1 no such key, 2 found */
	uint8_t klen, vlen;
	char v[COLD_VAL];
	char key[COLD_KEY];
};
struct cold {
	struct cold_slot slot[COLD_SETS][2];
	char v[COLD_VAL]; /* the value of a key too long to keep */
};

/*
 * A 64-bit hash of a name, the same on every host (bytes are read one by
 * one, not as host-order words): the filter is part of the file format.
 */
uint64_t
dlist_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, v;
	size_t i;

	while (n) {
		v = 0;
		for (i = 0; i < 8 && i < n; i++)
			v |= (uint64_t)(unsigned char)s[i] << (8 * i);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		s += i;
		n -= i;
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

/* The offset of the block for h (high bits); the 3 bits are low bits. */
static size_t
bloom_off(uint64_t blocks, uint64_t h)
{
	return (size_t)(((h >> 32) * blocks) >> 32) * 64;
}

size_t
dlist_bloom_size(uint64_t n)
{
	/* 16 bits per entry: about 1% false positives with 3 bits. */
	uint64_t blocks = (n * 16 + 511) / 512;

	if (blocks == 0)
		blocks = 1;
	if (blocks > 0xffffffffu)
		blocks = 0xffffffffu;
	return (size_t)blocks * 64;
}

void
dlist_bloom_add(unsigned char *bloom, size_t size, const char *name, size_t len)
{
	uint64_t h = dlist_hash(name, len);
	unsigned char *b = bloom + bloom_off(size / 64, h);
	unsigned i, bit;

	for (i = 0; i < 3; i++) {
		bit = (unsigned)(h >> (9 * i)) & 511;
		b[bit / 8] |= (unsigned char)(1u << (bit % 8));
	}
}

static int
bloom_has(const struct dlist *dl, uint64_t h)
{
	const unsigned char *b = dl->bloom + bloom_off(dl->bloom_blocks, h);
	unsigned i, bit;

	for (i = 0; i < 3; i++) {
		bit = (unsigned)(h >> (9 * i)) & 511;
		if (!(b[bit / 8] & (1u << (bit % 8))))
			return 0;
	}
	return 1;
}

static void
dlist_err(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
}

/*
 * A cdb is 256 (position, slots) pairs, the records, then the 256 hash
 * tables back to back up to the end of the file. Checking that chain costs
 * 256 steps and no page of the records, so it stays within the reload
 * budget, and it refuses a file cut short or with bytes appended (the usual
 * results of copying over a list in place). A byte flipped inside a record
 * is only seen when a lookup reads it (see dlist_lookup).
 */
static int
dlist_layout_ok(const struct cdb *c, uint64_t fsize)
{
	const unsigned char *mem = c->cdb_mem;
	uint64_t pos, next;
	unsigned i;

	if (fsize > 0xffffffffu)
		return -1;
	next = cdb_unpack(mem);
	if (next < 2048 || next > fsize)
		return -1;
	for (i = 0; i < 256; i++) {
		pos = cdb_unpack(mem + i * 8);
		if (pos != next)
			return -1;
		next = pos + (uint64_t)cdb_unpack(mem + i * 8 + 4) * 8;
		if (next > fsize)
			return -1;
	}
	return next == fsize ? 0 : -1;
}

/* Reads n bytes at off; -1 with errno EPROTO when the file is shorter. */
static int
read_at(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r;

	while (n) {
		r = pread(fd, buf, n, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPROTO;
			return -1;
		}
		buf = (char *)buf + r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/*
 * An anonymous private mapping of n bytes (zero), or NULL; populate: its
 * pages allocated at once (a copy is written whole: one call instead of a
 * page fault per page).
 */
static unsigned char *
mem_new(size_t n, int populate)
{
	void *p = mmap(
	    NULL, n, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* What cdb_init sets, on our copy instead of a mapping of the file. */
static void
cdb_on(struct cdb *c, const unsigned char *mem, unsigned fsize)
{
	unsigned dend = cdb_unpack(mem);

	memset(c, 0, sizeof *c);
	c->cdb_fd = -1;
	c->cdb_fsize = fsize;
	c->cdb_mem = mem;
	c->cdb_dend = dend < 2048 ? 2048 : dend >= fsize ? fsize : dend;
}

/*
 * The value of key in the file (read with cdb_seek, never mapped) into a
 * new piece of dl->mem at *at: its length, 0 when absent or unusable.
 */
static unsigned
copy_key(struct dlist *dl, const char *key, unsigned min, unsigned max,
	 size_t *at)
{
	unsigned n;

	if (cdb_seek(dl->fd, key, (unsigned)strlen(key), &n) <= 0 || n < min ||
	    n > max || *at + n > dl->memlen ||
	    cdb_bread(dl->fd, dl->mem + *at, (int)n) == -1)
		return 0;
	*at += n;
	return n;
}

/*
 * Reads the list into memory: all of it when it is at most max bytes,
 * else only its first 2048 bytes (the rest is read with pread at each
 * lookup, see cold_read). -1 with errno (EPROTO: shorter than it was).
 */
static int
load(struct dlist *dl, uint64_t max)
{
	unsigned size = (unsigned)dl->size;

	dl->memlen = size <= max ? size : 2048 + 16 + size / 2;
	if (!(dl->mem = mem_new(dl->memlen, size <= max)) ||
	    read_at(dl->fd, dl->mem, size <= max ? size : 2048, 0) == -1)
		return -1;
	if (size > max &&
	    !(dl->cold = (struct cold *)mem_new(sizeof *dl->cold, 0)))
		return -1;
	cdb_on(&dl->cdb, dl->mem, size);
	return 0;
}

/*
 * The optional filter and label-count keys, from the copy, or with cold
 * copied from the file (the filter is at most 2 bytes per byte of keys).
 */
static void
extras(struct dlist *dl)
{
	size_t at = 2048;
	unsigned n;
	const char *p;

	if (dl->cold) {
		if ((n = copy_key(dl, DLIST_BLOOM_KEY, 64, (unsigned)dl->size,
				  &at)) &&
		    n % 64 == 0) {
			dl->bloom = dl->mem + at - n;
			dl->bloom_blocks = n / 64;
		}
		if (copy_key(dl, DLIST_DEPTHS_KEY, 16, 16, &at))
			dl->depths = dl->mem + at - 16;
		return;
	}
	if (cdb_find(&dl->cdb, DLIST_BLOOM_KEY, sizeof DLIST_BLOOM_KEY - 1) >
		0 &&
	    (n = cdb_datalen(&dl->cdb)) >= 64 && n % 64 == 0 &&
	    (p = cdb_getdata(&dl->cdb))) {
		dl->bloom = (const unsigned char *)p;
		dl->bloom_blocks = n / 64;
	}
	if (cdb_find(&dl->cdb, DLIST_DEPTHS_KEY, sizeof DLIST_DEPTHS_KEY - 1) >
		0 &&
	    cdb_datalen(&dl->cdb) == 16 && (p = cdb_getdata(&dl->cdb)))
		dl->depths = (const unsigned char *)p;
}

/* The header's entry count: 0, or -1 when the file is not a list. */
static int
header(struct dlist *dl, const char **why)
{
	char hdr[64], *end;
	unsigned n;
	int r;

	/* With cold set the header is read from the file like any key. */
	if (dl->cold) {
		if ((r = cdb_seek(dl->fd, "", 0, &n)) == -1 && errno != EPROTO)
			return -1;
		if (r <= 0 || n >= sizeof hdr ||
		    cdb_bread(dl->fd, hdr, (int)n) == -1)
			goto bad;
	} else {
		if (cdb_find(&dl->cdb, "", 0) <= 0 ||
		    (n = cdb_datalen(&dl->cdb)) >= sizeof hdr)
			goto bad;
		memcpy(hdr, cdb_getdata(&dl->cdb), n);
	}
	hdr[n] = '\0';
	if (strncmp(hdr, DLIST_HEADER, sizeof DLIST_HEADER - 1) != 0 ||
	    (errno = 0,
	     dl->count = strtoull(hdr + sizeof DLIST_HEADER - 1, &end, 10),
	     errno != 0 || *end != '\0')) {
		*why = "not a domain list cdb (bad header)";
		errno = EPROTO;
		return -1;
	}
	return 0;
bad:
	*why = "not a domain list cdb (no header)";
	errno = EPROTO;
	return -1;
}

static void
dlist_free(struct dlist *dl)
{
	if (dl->fd != -1)
		close(dl->fd);
	if (dl->mem)
		munmap(dl->mem, dl->memlen);
	if (dl->cold)
		munmap(dl->cold, sizeof *dl->cold);
	free(dl);
}

struct dlist *
dlist_open_limit(const char *path, uint64_t max, char *err, size_t errlen)
{
	struct dlist *dl;
	struct stat st, st2;
	const char *why = NULL;
	int e;

	if (!(dl = calloc(1, sizeof *dl))) {
		dlist_err(err, errlen, strerror(errno));
		return NULL;
	}
	dl->max = max;
	dl->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (dl->fd == -1 || fstat(dl->fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size < 2048) {
		why = "not a domain list cdb (too short)";
		errno = EPROTO;
		goto fail;
	}
	if (st.st_size > 0xffffffff) {
		why = "not a domain list cdb (over 4 GB)";
		errno = EPROTO;
		goto fail;
	}
	dl->size = st.st_size;
	if (load(dl, max) == -1) {
		if (errno == EPROTO) /* shorter than it said */
			goto changed;
		goto fail;
	}
	if (dlist_layout_ok(&dl->cdb, (uint64_t)st.st_size) == -1) {
		why = "not a domain list cdb (truncated or corrupt)";
		errno = EPROTO;
		goto fail;
	}
	if (header(dl, &why) == -1)
		goto fail;
	extras(dl);
	/* Written to while we read: whatever we read is no one list. */
	if (fstat(dl->fd, &st2) == -1)
		goto fail;
	if (st2.st_size != st.st_size ||
	    st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
		goto changed;
	if (!dl->cold)
		(void)mprotect(dl->mem, dl->memlen, PROT_READ);
	dl->dev = st.st_dev;
	dl->ino = st.st_ino;
	dl->mtime = st.st_mtim;
	return dl;
changed:
	why = "the file changed while it was read";
	errno = EAGAIN;
fail:
	e = errno;
	dlist_err(err, errlen, why ? why : strerror(e));
	dlist_free(dl);
	errno = e;
	return NULL;
}

struct dlist *
dlist_open(const char *path, char *err, size_t errlen)
{
	return dlist_open_limit(path, DLIST_COPY_MAX, err, errlen);
}

void
dlist_close(struct dlist **dlp)
{
	if (!*dlp)
		return;
	dlist_free(*dlp);
	*dlp = NULL;
}

int
dlist_limit(struct dlist *dl, uint64_t max)
{
	unsigned char *small;
	size_t n;

	dl->max = max;
	if ((uint64_t)dl->size <= max || dl->cold)
		return 0;
	/* A copy made before the limit was known: keep what cold needs. */
	n = 2048 + (dl->bloom ? dl->bloom_blocks * 64 : 0) + 16;
	if (!(small = mem_new(n, 1)))
		return -1;
	if (!(dl->cold = (struct cold *)mem_new(sizeof *dl->cold, 0))) {
		munmap(small, n);
		return -1;
	}
	memcpy(small, dl->mem, 2048);
	if (dl->bloom) {
		memcpy(small + 2048, dl->bloom, dl->bloom_blocks * 64);
		dl->bloom = small + 2048;
	}
	if (dl->depths) {
		memcpy(small + n - 16, dl->depths, 16);
		dl->depths = small + n - 16;
	}
	munmap(dl->mem, dl->memlen);
	dl->mem = small;
	dl->memlen = n;
	cdb_on(&dl->cdb, small, (unsigned)dl->size);
	return 0;
}

uint64_t
dlist_count(const struct dlist *dl)
{
	return dl->count;
}

int64_t
dlist_mtime(const struct dlist *dl)
{
	return (int64_t)dl->mtime.tv_sec;
}

/*
 * The suffixes of name that can be entries, most specific first: those
 * with as many labels as some entry has. Canonical names escape every '.'
 * inside a label as \046, so each raw '.' is a boundary. Returns the count
 * (0 for the root and for names with more labels than DNS allows), or
 * max + 1 when there are more than max.
 */
static size_t
suffixes(const struct dlist *dl, const char *name, size_t len,
	 const char **start, size_t max)
{
	const char *all[128];
	size_t n = 0, i, k = 0, labels;

	if (len == 0 || (len == 1 && name[0] == '.'))
		return 0; /* the root is never an entry; "" is the header */
	all[n++] = name;
	for (i = 0; i < len; i++)
		if (name[i] == '.') {
			if (n == 128)
				return 0;
			all[n++] = name + i + 1;
		}
	for (i = 0; i < n; i++) {
		labels = n - i;
		if (dl->depths &&
		    !(dl->depths[labels / 8] & (1u << (labels % 8))))
			continue;
		if (k == max)
			return max + 1;
		start[k++] = all[i];
	}
	return k;
}

/*
 * Fills m from the value v found for the suffix p..end. A damaged value
 * is no entry, never a wild tag: 0.
 */
static int
entry(const char *v, unsigned vlen, const char *p, const char *end,
      struct dlist_match *m)
{
	if (!v || vlen == 0 ||
	    (v[0] == '!'
		 ? vlen != 1
		 : (v[0] != '+' && v[0] != '=') || vlen < 2 ||
		       rec_tag_check(v + 1, vlen - 1) == -1 || v[1] == '-'))
		return 0;
	m->entry = p;
	m->entry_len = (size_t)(end - p);
	m->excluded = v[0] == '!';
	m->exact = v[0] == '=';
	m->tag = v + 1;
	m->tag_len = vlen - 1;
	return 1;
}

/*
 * An exact entry ("=TAG") found for a suffix that is not the whole name:
 * it does not cover this name, and the walk goes on to the next suffix.
 */
static int
exact_above(const char *v, unsigned vlen, const char *p, const char *name)
{
	return vlen > 0 && v[0] == '=' && p != name;
}

static int
get(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r;

	do
		r = pread(fd, buf, n, (off_t)off);
	while (r == -1 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -1;
}

/*
 * cdb_find (tinycdb's, step for step, with the same checks) on the file
 * through pread: 1 and the value (*vlen 0 for one longer than any valid
 * value: no entry either way), 0 none, -1 a damaged file.
 */
static int
cold_read(const struct dlist *dl, const char *key, unsigned klen, char *v,
	  unsigned *vlen)
{
	const unsigned char *mem = dl->cdb.cdb_mem;
	unsigned char slots[128], rec[COLD_REC];
	unsigned hv, n, pos, dend = dl->cdb.cdb_dend, fsize = dl->cdb.cdb_fsize;
	uint64_t htab, htend, at, todo;
	size_t k, chunk;

	if (klen >= dend || klen > 1024)
		return 0;
	hv = cdb_hash(key, klen);
	n = cdb_unpack(mem + ((hv << 3) & 2047) + 4);
	if (!n)
		return 0;
	pos = cdb_unpack(mem + ((hv << 3) & 2047));
	todo = (uint64_t)n << 3;
	if (n > (fsize >> 3) || pos < dend || pos > fsize || todo > fsize - pos)
		return -1;
	htab = pos;
	htend = htab + todo;
	at = htab + (uint64_t)((hv >> 8) % n) * 8;
	for (;;) {
		chunk = htend - at < sizeof slots ? (size_t)(htend - at)
						  : sizeof slots;
		if (chunk > todo)
			chunk = (size_t)todo;
		if (get(dl->fd, slots, chunk, at) == -1)
			return -1;
		for (k = 0; k < chunk; k += 8) {
			pos = cdb_unpack(slots + k + 4);
			if (!pos)
				return 0;
			if (cdb_unpack(slots + k) == hv) {
				if (pos > dend - 8)
					return -1;
				/* Lengths, key and the longest valid value. */
				n = 8 + klen + COLD_VAL;
				if (n > fsize - pos)
					n = fsize - pos;
				if (n < 8 || get(dl->fd, rec, n, pos) == -1)
					return -1;
				if (cdb_unpack(rec) == klen) {
					if (dend - klen < pos + 8)
						return -1;
					if (memcmp(key, rec + 8, klen) == 0) {
						n = cdb_unpack(rec + 4);
						if (dend < n ||
						    dend - n < pos + 8 + klen)
							return -1;
						*vlen = n <= COLD_VAL ? n : 0;
						memcpy(v, rec + 8 + klen,
						       *vlen);
						return 1;
					}
				}
			}
			todo -= 8;
			if (!todo)
				return 0;
		}
		at += chunk;
		if (at >= htend)
			at = htab;
	}
}

/*
 * Looks key up in the cdb: 1 and its value, 0 none (or a damaged file:
 * the suffix is skipped, as cdb_find's -1 is). c is the cursor of a
 * mapped lookup.
 */
static int
find(const struct dlist *dl, struct cdb *c, const char *key, unsigned klen,
     const char **v, unsigned *vlen)
{
	struct cold_slot *set, *s;
	uint64_t h;
	int r;

	if (!dl->cold) {
		if (cdb_find(c, key, klen) <= 0)
			return 0;
		*v = cdb_getdata(c);
		*vlen = cdb_datalen(c);
		return 1;
	}
	if (klen > COLD_KEY) {
		r = cold_read(dl, key, klen, dl->cold->v, vlen);
		*v = dl->cold->v;
		return r == 1;
	}
	h = dlist_hash(key, klen);
	set = dl->cold->slot[h % COLD_SETS];
	for (s = set; s < set + 2; s++)
		if (s->state && s->h == h && s->klen == klen &&
		    memcmp(s->key, key, klen) == 0)
			goto out;
	/* Replace the way not used last: set[1] is always the older one. */
	set[1] = set[0];
	s = set;
	r = cold_read(dl, key, klen, s->v, vlen);
	s->h = h;
	s->klen = (uint8_t)klen;
	memcpy(s->key, key, klen);
	s->state = r == 1 ? 2 : 1;
	s->vlen = r == 1 ? (uint8_t)*vlen : 0;
	return r == 1 ? (*v = s->v, 1) : 0;
out:
	if (s != set) {
		struct cold_slot t = set[0];

		set[0] = *s;
		*s = t;
		s = set;
	}
	*v = s->v;
	*vlen = s->vlen;
	return s->state == 2;
}

/* Where find will look in the memory of dl->cold for key, to prefetch. */
static const void *
cold_set(const struct dlist *dl, uint64_t h)
{
	return dl->cold->slot[h % COLD_SETS];
}

int
dlist_lookup(const struct dlist *dl, const char *name, size_t len,
	     struct dlist_match *m)
{
	/* cdb_find keeps its cursor in struct cdb; work on a copy. */
	struct cdb c = dl->cdb;
	const char *start[128], *end = name + len, *v;
	unsigned vlen;
	size_t n, i;

	n = suffixes(dl, name, len, start, 128);
	for (i = 0; i < n; i++) {
		if (dl->bloom &&
		    !bloom_has(dl,
			       dlist_hash(start[i], (size_t)(end - start[i]))))
			continue;
		if (!find(dl, &c, start[i], (unsigned)(end - start[i]), &v,
			  &vlen) ||
		    exact_above(v, vlen, start[i], name))
			continue;
		return entry(v, vlen, start[i], end, m);
	}
	return 0;
}

void
dlist_probe_start(const struct dlist *dl, struct dlist_probe *pr,
		  const char *name, size_t len)
{
	size_t i;

	pr->name = name;
	pr->len = len;
	pr->n = suffixes(dl, name, len, pr->start, DLIST_PROBE_MAX);
	if (pr->n > DLIST_PROBE_MAX)
		return;
	for (i = 0; i < pr->n; i++) {
		pr->pass[i] = 1;
		pr->slot[i] = NULL;
		if (!dl->bloom)
			continue;
		pr->h[i] = dlist_hash(pr->start[i],
				      (size_t)(name + len - pr->start[i]));
		__builtin_prefetch(dl->bloom +
				   bloom_off(dl->bloom_blocks, pr->h[i]));
	}
	pr->filtered = !dl->bloom;
}

void
dlist_probe_fetch(const struct dlist *dl, struct dlist_probe *pr)
{
	const unsigned char *mem = dl->cdb.cdb_mem, *slot;
	unsigned hv, tpos, tlen, rpos, fsize = dl->cdb.cdb_fsize;
	size_t i, klen;

	if (pr->n > DLIST_PROBE_MAX)
		return;
	for (i = 0; i < pr->n; i++) {
		if (!pr->filtered)
			pr->pass[i] = (uint8_t)bloom_has(dl, pr->h[i]);
		if (!pr->pass[i])
			continue;
		if (dl->cold) {
			/* Where find looks first; the file is read later. */
			if (!pr->filtered)
				__builtin_prefetch(cold_set(dl, pr->h[i]));
			continue;
		}
		if (pr->slot[i]) {
			/* Second call: the record the slot points to. */
			rpos = cdb_unpack(pr->slot[i] + 4);
			if (rpos < fsize)
				__builtin_prefetch(mem + rpos);
			continue;
		}
		/* Where cdb_find will look: the cdb format's hash slot. */
		klen = (size_t)(pr->name + pr->len - pr->start[i]);
		hv = cdb_hash(pr->start[i], (unsigned)klen);
		tpos = cdb_unpack(mem + ((hv << 3) & 2047));
		tlen = cdb_unpack(mem + ((hv << 3) & 2047) + 4);
		if (tlen == 0 || (uint64_t)tpos + (uint64_t)tlen * 8 > fsize)
			continue;
		slot = mem + tpos + (size_t)((hv >> 8) % tlen) * 8;
		__builtin_prefetch(slot);
		pr->slot[i] = slot;
	}
	pr->filtered = 1;
}

int
dlist_probe_lookup(const struct dlist *dl, struct dlist_probe *pr,
		   struct dlist_match *m)
{
	struct cdb c = dl->cdb;
	const char *end = pr->name + pr->len, *v;
	unsigned vlen;
	size_t i;

	if (pr->n > DLIST_PROBE_MAX)
		return dlist_lookup(dl, pr->name, pr->len, m);
	for (i = 0; i < pr->n; i++) {
		if (!pr->filtered && !bloom_has(dl, pr->h[i]))
			continue;
		if (pr->filtered && !pr->pass[i])
			continue;
		if (!find(dl, &c, pr->start[i], (unsigned)(end - pr->start[i]),
			  &v, &vlen) ||
		    exact_above(v, vlen, pr->start[i], pr->name))
			continue;
		return entry(v, vlen, pr->start[i], end, m);
	}
	return 0;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Is st another file, or the same one changed, than dl was read from? */
static int
differs(const struct dlist *dl, const struct stat *st)
{
	return st->st_ino != dl->ino || st->st_dev != dl->dev ||
	       st->st_size != dl->size ||
	       st->st_mtim.tv_sec != dl->mtime.tv_sec ||
	       st->st_mtim.tv_nsec != dl->mtime.tv_nsec;
}

/*
 * Does the list in use read a file that changed under it? Only with cold
 * (a copy never changes).
 */
static int
file_changed(const struct dlist *dl)
{
	struct stat st;

	return dl->cold && fstat(dl->fd, &st) == 0 && differs(dl, &st);
}

enum dlist_event
dlist_reload(struct dlist **dlp, const char *path, const char *asked, char *msg,
	     size_t msglen)
{
	struct dlist *dl = *dlp, *n;
	struct stat st;
	const char *why = asked;
	char err[256];
	int64_t t0;
	int e;

	if (stat(path, &st) == -1) {
		e = errno;
		if (!asked) {
			if (dl->gone)
				return DLIST_SAME;
			dl->gone = 1;
			snprintf(msg, msglen,
				 "list %s gone; keeping the list in use (%llu "
				 "entries): %s",
				 path, (unsigned long long)dl->count,
				 strerror(e));
			return DLIST_GONE;
		}
		snprintf(err, sizeof err, "%s", strerror(e));
		goto refused;
	}
	dl->gone = 0;
	if (!asked) {
		if (!differs(dl, &st) ||
		    (dl->have_refused && same_file(&st, &dl->refused)))
			return DLIST_SAME;
		why = st.st_ino == dl->ino && st.st_dev == dl->dev
			  ? "file changed in place"
			  : "file replaced";
	}
	t0 = clock_mono_us();
	if (!(n = dlist_open_limit(path, dl->max, err, sizeof err))) {
		/* A file being written is tried again at the next look. */
		dl->have_refused = errno != EAGAIN;
		dl->refused = st;
		goto refused;
	}
	snprintf(msg, msglen, "reloaded %s (%s): %llu entries in %.3f ms", path,
		 why, (unsigned long long)n->count,
		 (double)(clock_mono_us() - t0) / 1e3);
	dlist_close(dlp);
	*dlp = n;
	return DLIST_LOADED;
refused:
	snprintf(msg, msglen,
		 "unable to reload %s (%s): %s; keeping the list in use (%llu "
		 "entries%s)",
		 path, why, err, (unsigned long long)dl->count,
		 file_changed(dl)
		     ? ", read from its file, which changed: where "
		       "it changed, nothing matches"
		     : "");
	return DLIST_REFUSED;
}

int
dlist_changed(const struct dlist *dl, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return 0; /* gone: keep the one we have */
	return differs(dl, &st);
}
