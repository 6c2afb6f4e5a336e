/*
 * lineio: buffered newline-record I/O for pipes, without stdio.
 *
 * A reader (lr_) hands out whole lines from a fixed buffer; a line longer
 * than the buffer is skipped up to its newline and reported once, so a huge
 * line costs a counter, never memory. A writer (lw_) batches lines and is
 * flushed by the program before it blocks, so no line waits while idle.
 */
#ifndef LINEIO_H
#define LINEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lr {
	int fd;
	char *buf;
	size_t cap, start, end;
	int eof;
	int skipping; /* inside an overlong line, dropping bytes */
};

enum lr_result {
	LR_NONE = 0,	/* no complete line buffered: call lr_fill() */
	LR_LINE = 1,	/* *line (NUL-terminated, no '\n') of *len bytes */
	LR_LONG = 2,	/* an overlong line was dropped */
};

int lr_init(struct lr *r, int fd, size_t cap);
void lr_destroy(struct lr *r);
/* The next line, valid until the next lr_next()/lr_fill(). */
enum lr_result lr_next(struct lr *r, char **line, size_t *len);
/* One read(2): bytes read, 0 at end of input, -1 with errno (EAGAIN too). */
ssize_t lr_fill(struct lr *r);
/* Bytes buffered but not yet returned as lines. */
size_t lr_pending(const struct lr *r);

struct lw {
	int fd;
	char *buf;
	size_t cap, len;
};

int lw_init(struct lw *w, int fd, size_t cap);
void lw_destroy(struct lw *w);
/* Appends n bytes, flushing when full. 0, or -1 with errno (EPIPE...). */
int lw_put(struct lw *w, const char *s, size_t n);
/* Writes everything buffered, waiting on a non-blocking fd. 0 or -1. */
int lw_flush(struct lw *w);

#endif
