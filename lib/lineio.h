/*
 * lineio: buffered newline-record I/O for pipes, without stdio.
 *
 * A reader (lr_) hands out whole lines from a fixed buffer; a line longer
 * than the buffer is skipped up to its newline and reported once, so a huge
 * line costs a counter, never memory. A writer (lw_) batches lines and is
 * flushed by the program before it waits, so no line waits while idle.
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
	LR_NONE = 0, /* no complete line buffered: call lr_fill() */
	LR_LINE = 1, /* *line (NUL-terminated, no '\n') of *len bytes */
	LR_LONG = 2, /* an overlong line was dropped */
};

int lr_init(struct lr *r, int fd, size_t cap);
void lr_destroy(struct lr *r);
/* The next line, valid until the next lr_next()/lr_fill(). */
enum lr_result lr_next(struct lr *r, char **line, size_t *len);
/* One read(2): bytes read, 0 at end of input, -1 with errno (EAGAIN too). */
ssize_t lr_fill(struct lr *r);
/* Bytes buffered but not yet returned as lines. */
size_t lr_pending(const struct lr *r);

/*
 * The writer never waits: all waiting belongs to the program's event loop.
 * On a blocking fd a write(2) waits as it always does (a program that
 * writes and has nothing else to do); on a non-blocking one (lw_nonblock)
 * lw_flush writes what the fd takes now and keeps the rest, and lw_put
 * grows the buffer past cap rather than wait: the program stops reading its
 * input while lw_pending() is high and calls lw_flush again on POLLOUT. On
 * a pipe or socket the bytes go out in whole lines of at most PIPE_BUF
 * bytes per write(2) (atomic on a pipe), so a reader never gets half a line
 * from a writer that is stopped or killed while its output is blocked; only
 * a line longer than PIPE_BUF may be cut.
 */
struct lw {
	int fd;
	char *buf;
	size_t cap;  /* lw_put writes the buffer out past this */
	size_t len;  /* bytes buffered */
	size_t size; /* bytes allocated (cap, or more while blocked) */
	int pieces;  /* a pipe or socket: whole-line pieces */
	int oflags;  /* the fd's flags before lw_nonblock, or -1 */
};

/* 0, or -1 with errno (ENOMEM). fd must be open: its type is looked at. */
int lw_init(struct lw *w, int fd, size_t cap);
/* Frees the buffer (what is still in it is dropped); undoes lw_nonblock. */
void lw_destroy(struct lw *w);
/*
 * Makes a pipe or socket fd non-blocking (other kinds never block for
 * long and are left alone), for a program whose loop polls it. 0 or -1.
 */
int lw_nonblock(struct lw *w);
/*
 * Appends n bytes, writing the buffer out first when they do not fit in
 * cap; what a non-blocking fd does not take stays, and the buffer grows.
 * 0, or -1 with errno (EPIPE, ENOMEM...), never EAGAIN.
 */
int lw_put(struct lw *w, const char *s, size_t n);
/*
 * Writes what is buffered: 0 when all of it is written; -1 with errno
 * EAGAIN when a non-blocking fd took only part (the rest stays, in order),
 * or with the error (EPIPE...).
 */
int lw_flush(struct lw *w);
/* Bytes buffered, not yet written. */
size_t lw_pending(const struct lw *w);

#endif
