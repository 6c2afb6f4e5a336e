#include "lineio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
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
	w->fd = fd;
	w->cap = cap;
	w->len = 0;
	w->buf = malloc(cap);
	return w->buf ? 0 : -1;
}

void
lw_destroy(struct lw *w)
{
	free(w->buf);
	w->buf = NULL;
}

static int
lw_write_all(int fd, const char *s, size_t n)
{
	ssize_t k;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (n) {
		k = write(fd, s, n);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int
lw_flush(struct lw *w)
{
	if (w->len == 0)
		return 0;
	if (lw_write_all(w->fd, w->buf, w->len) == -1)
		return -1;
	w->len = 0;
	return 0;
}

int
lw_put(struct lw *w, const char *s, size_t n)
{
	if (w->len + n > w->cap && lw_flush(w) == -1)
		return -1;
	if (n > w->cap)
		return lw_write_all(w->fd, s, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}
