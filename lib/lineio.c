#include "lineio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
lr_init(struct lr *r, int fd, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->cap = cap;
	r->buf = malloc(cap + 1);
	return r->buf ? 0 : -1;
}

void
lr_destroy(struct lr *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t
lr_pending(const struct lr *r)
{
	return r->end - r->start;
}

enum lr_result
lr_next(struct lr *r, char **line, size_t *len)
{
	char *p, *nl;
	size_t avail;

	for (;;) {
		p = r->buf + r->start;
		avail = r->end - r->start;
		nl = avail ? memchr(p, '\n', avail) : NULL;
		if (r->skipping) {
			if (!nl) {
				r->start = r->end = 0;
				return LR_NONE;
			}
			r->start += (size_t)(nl - p) + 1;
			r->skipping = 0;
			return LR_LONG;
		}
		if (nl) {
			*nl = '\0';
			*line = p;
			*len = (size_t)(nl - p);
			r->start += *len + 1;
			return LR_LINE;
		}
		if (r->eof && avail) {
			/* A last line without newline is still a line. */
			p[avail] = '\0';
			*line = p;
			*len = avail;
			r->start = r->end;
			return LR_LINE;
		}
		if (avail == r->cap) {
			/* Full buffer and no newline: drop to the next one. */
			r->skipping = 1;
			r->start = r->end = 0;
			continue;
		}
		return LR_NONE;
	}
}

ssize_t
lr_fill(struct lr *r)
{
	ssize_t n;

	if (r->start == r->end)
		r->start = r->end = 0;
	else if (r->start > 0 && r->end == r->cap) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		r->eof = 1;
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

int
lw_init(struct lw *w, int fd, size_t cap)
{
	struct stat st;

	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->cap = cap;
	w->size = cap;
	w->oflags = -1;
	w->pieces = fstat(fd, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	w->buf = malloc(cap ? cap : 1);
	return w->buf ? 0 : -1;
}

void
lw_destroy(struct lw *w)
{
	if (w->oflags != -1)
		(void)fcntl(w->fd, F_SETFL, w->oflags);
	w->oflags = -1;
	free(w->buf);
	w->buf = NULL;
}

int
lw_nonblock(struct lw *w)
{
	struct stat st;
	int fl;

	if (fstat(w->fd, &st) == -1)
		return -1;
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return 0; /* a file, a terminal: leave its flags alone */
	if ((fl = fcntl(w->fd, F_GETFL)) == -1)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	if (fcntl(w->fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	w->oflags = fl;
	return 0;
}

size_t
lw_pending(const struct lw *w)
{
	return w->len;
}

/*
 * How much of buf[0..n) the next write(2) takes: all of it on a file; on
 * a pipe or socket whole lines up to PIPE_BUF bytes (or one longer line).
 */
static size_t
piece(const struct lw *w, const char *buf, size_t n)
{
	const char *nl;

	if (!w->pieces || n <= PIPE_BUF)
		return n;
	if ((nl = memrchr(buf, '\n', PIPE_BUF)) ||
	    (nl = memchr(buf + PIPE_BUF, '\n', n - PIPE_BUF)))
		return (size_t)(nl + 1 - buf);
	return n;
}

int
lw_flush(struct lw *w)
{
	size_t off = 0;
	ssize_t k;
	int e = 0;

	while (off < w->len) {
		k = write(w->fd, w->buf + off,
			  piece(w, w->buf + off, w->len - off));
		if (k == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		off += (size_t)k;
	}
	if (off) {
		memmove(w->buf, w->buf + off, w->len - off);
		w->len -= off;
	}
	if (w->len) {
		errno = e ? e : EAGAIN;
		return -1;
	}
	return 0;
}

static int
lw_grow(struct lw *w, size_t need)
{
	size_t size = w->size ? w->size : 1;
	char *nb;

	while (size < need) {
		if (size > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		size *= 2;
	}
	if (!(nb = realloc(w->buf, size)))
		return -1;
	w->buf = nb;
	w->size = size;
	return 0;
}

int
lw_put(struct lw *w, const char *s, size_t n)
{
	if (w->len && w->len + n > w->cap && lw_flush(w) == -1 &&
	    errno != EAGAIN)
		return -1;
	if (w->len + n > w->size && lw_grow(w, w->len + n) == -1)
		return -1;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}
