#include "dlist.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec.h"

struct dlist {
	struct cdb cdb;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t count;
};

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

struct dlist *
dlist_open(const char *path, char *err, size_t errlen)
{
	struct dlist *dl;
	struct stat st;
	char hdr[64];
	unsigned n;
	const char *p;
	char *end;
	int e;

	dl = calloc(1, sizeof *dl);
	if (!dl) {
		dlist_err(err, errlen, strerror(errno));
		return NULL;
	}
	dl->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (dl->fd == -1 || fstat(dl->fd, &st) == -1) {
		e = errno;
		dlist_err(err, errlen, strerror(e));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 2048) {
		e = EPROTO;
		dlist_err(err, errlen, "not a domain list cdb (too short)");
		goto fail;
	}
	if (cdb_init(&dl->cdb, dl->fd) == -1) {
		e = errno;
		dlist_err(err, errlen, strerror(e));
		goto fail;
	}
	if (dlist_layout_ok(&dl->cdb, (uint64_t)st.st_size) == -1) {
		cdb_free(&dl->cdb);
		e = EPROTO;
		dlist_err(err, errlen,
		    "not a domain list cdb (truncated or corrupt)");
		goto fail;
	}
	if (cdb_find(&dl->cdb, "", 0) <= 0 ||
	    (n = cdb_datalen(&dl->cdb)) >= sizeof hdr ||
	    !(p = cdb_getdata(&dl->cdb))) {
		cdb_free(&dl->cdb);
		e = EPROTO;
		dlist_err(err, errlen, "not a domain list cdb (no header)");
		goto fail;
	}
	memcpy(hdr, p, n);
	hdr[n] = '\0';
	if (strncmp(hdr, DLIST_HEADER, sizeof DLIST_HEADER - 1) != 0 ||
	    (errno = 0, dl->count = strtoull(hdr + sizeof DLIST_HEADER - 1,
			     &end, 10), errno != 0 || *end != '\0')) {
		cdb_free(&dl->cdb);
		e = EPROTO;
		dlist_err(err, errlen, "not a domain list cdb (bad header)");
		goto fail;
	}
	dl->dev = st.st_dev;
	dl->ino = st.st_ino;
	dl->size = st.st_size;
	dl->mtime = st.st_mtim;
	return dl;
fail:
	if (dl->fd != -1)
		close(dl->fd);
	free(dl);
	errno = e;
	return NULL;
}

void
dlist_close(struct dlist **dlp)
{
	struct dlist *dl = *dlp;

	if (!dl)
		return;
	cdb_free(&dl->cdb);
	close(dl->fd);
	free(dl);
	*dlp = NULL;
}

uint64_t
dlist_count(const struct dlist *dl)
{
	return dl->count;
}

int
dlist_lookup(const struct dlist *dl, const char *name, size_t len,
    struct dlist_match *m)
{
	/* cdb_find keeps its cursor in struct cdb; work on a copy. */
	struct cdb c = dl->cdb;
	const char *p = name, *end = name + len, *v;
	unsigned vlen;

	if (len == 0 || (len == 1 && name[0] == '.'))
		return 0; /* the root is never an entry; "" is the header */

	for (;;) {
		if (cdb_find(&c, p, (unsigned)(end - p)) > 0) {
			vlen = cdb_datalen(&c);
			v = cdb_getdata(&c);
			/* A damaged value is no entry, never a wild tag. */
			if (!v || vlen == 0 ||
			    (v[0] == '!' ? vlen != 1 :
				v[0] != '+' || vlen < 2 ||
				rec_tag_check(v + 1, vlen - 1) == -1 ||
				v[1] == '-'))
				return 0;
			m->entry = p;
			m->entry_len = (size_t)(end - p);
			m->excluded = v[0] == '!';
			m->tag = v + 1;
			m->tag_len = vlen - 1;
			return 1;
		}
		/*
		 * Up one label. Canonical names escape every '.' inside a label
		 * as \046, so each raw '.' is a boundary.
		 */
		p = memchr(p, '.', (size_t)(end - p));
		if (!p)
			return 0;
		p++;
	}
}

int
dlist_changed(const struct dlist *dl, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return 0; /* gone: keep the one we have */
	return st.st_ino != dl->ino || st.st_dev != dl->dev ||
	    st.st_size != dl->size || st.st_mtim.tv_sec != dl->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != dl->mtime.tv_nsec;
}
