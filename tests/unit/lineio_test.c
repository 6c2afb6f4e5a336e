/*
 * lineio_test: whole lines, overlong lines dropped, last line without \n;
 * a writer on a pipe nobody reads never waits (it keeps the rest, in order)
 * and only ever puts whole lines in the pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "t.h"

/* Reads what the pipe holds now (it is non-blocking) onto got. */
static size_t
drain(int fd, char *got, size_t at, size_t cap)
{
	ssize_t k;

	while (at < cap && (k = read(fd, got + at, cap - at)) > 0)
		at += (size_t)k;
	return at;
}

/*
 * 20000 lines (about 570 kB, far more than a pipe holds) put into a
 * non-blocking pipe that is not read: every lw_put returns at once, the
 * pipe holds only whole lines, and once read everything arrives in order.
 */
static void
blocked(void)
{
	struct lw w;
	char line[64], *want, *got;
	size_t n = 0, at = 0, cap = 20000 * 40;
	int p[2], i, bad = 0, rc, fl;

	want = malloc(cap);
	got = malloc(cap);
	if (!want || !got || pipe(p) == -1)
		exit(1);
	fl = fcntl(p[1], F_GETFL);
	T_CHECK(lw_init(&w, p[1], 4096) == 0 && lw_nonblock(&w) == 0 &&
		    (fcntl(p[1], F_GETFL) & O_NONBLOCK),
		"lw_nonblock makes the pipe non-blocking");
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* Killed by SIGALRM (a failure) if the writer waits. */
	alarm(10);
	for (i = 0; i < 20000; i++) {
		int k = snprintf(line, sizeof line, "line %d of the test\n", i);

		memcpy(want + n, line, (size_t)k);
		n += (size_t)k;
		bad |= lw_put(&w, line, (size_t)k) != 0;
	}
	rc = lw_flush(&w);
	alarm(0);
	T_CHECK(!bad, "lw_put never fails on a full pipe");
	T_CHECK(rc == -1 && errno == EAGAIN && lw_pending(&w) > 0,
		"lw_flush says EAGAIN and keeps the rest (%zu bytes)",
		lw_pending(&w));
	at = drain(p[0], got, 0, cap);
	T_CHECK(at > 0 && got[at - 1] == '\n' && at + lw_pending(&w) == n,
		"the pipe held whole lines only (%zu bytes)", at);
	while (lw_pending(&w) && (lw_flush(&w) == 0 || errno == EAGAIN))
		at = drain(p[0], got, at, cap);
	at = drain(p[0], got, at, cap);
	T_CHECK(at == n && memcmp(got, want, n) == 0,
		"everything arrives, in order (%zu of %zu bytes)", at, n);
	lw_destroy(&w);
	T_CHECK(fcntl(p[1], F_GETFL) == fl, "lw_destroy puts the flags back");
	close(p[0]);
	close(p[1]);
	free(want);
	free(got);
}

int
main(void)
{
	int p[2];
	struct lr r;
	struct lw w;
	char *line;
	size_t len;
	const char *in =
	    "one\ntwo\n0123456789012345678901234567890123\nthree\nlast";
	const char *want[] = {"one", "two", "<long>", "three", "last"};
	int i = 0, bad = 0;
	enum lr_result res;

	if (pipe(p) == -1)
		return 1;
	lw_init(&w, p[1], 8);
	T_CHECK(lw_put(&w, in, strlen(in)) == 0 && lw_flush(&w) == 0,
		"writer puts and flushes");
	close(p[1]);
	lr_init(&r, p[0], 16);
	for (;;) {
		res = lr_next(&r, &line, &len);
		if (res == LR_NONE) {
			if (lr_fill(&r) <= 0 && lr_pending(&r) == 0)
				break;
			continue;
		}
		if (i >= 5) {
			bad = 1;
			break;
		}
		if (res == LR_LONG)
			bad |= strcmp(want[i], "<long>") != 0;
		else
			bad |=
			    strcmp(want[i], line) != 0 || len != strlen(line);
		i++;
	}
	T_CHECK(i == 5 && !bad, "reader yields lines, drops overlong (%d)", i);
	lr_destroy(&r);
	lw_destroy(&w);
	blocked();
	T_DONE();
}
