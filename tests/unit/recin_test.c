/*
 * recin_test: ipcache's stream as fan-out and the sinks read it: records
 * handed out, bad lines counted and described, a turn ended by its budget
 * (more lines wait) or by the lines running out, and a line still being
 * written (no newline yet) never counted as lines waiting: the loop would
 * poll without waiting until the rest came.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recin.h"
#include "t.h"

static int p[2];

static void
put(const char *s)
{
	if (write(p[1], s, strlen(s)) != (ssize_t)strlen(s))
		exit(1);
}

/* One turn: each result as a letter (R record, B bad), msgs kept. */
static void
turn(struct recin *in, short revents, char *got, size_t cap, char *msgs,
     size_t mcap)
{
	struct rec r;
	char msg[256];
	size_t n = 0;
	enum recin_res res;

	*msgs = 0;
	if (recin_turn(in, revents) == 1)
		while ((res = recin_next(in, &r, msg, sizeof msg)) !=
			   RECIN_NONE &&
		       n + 1 < cap) {
			got[n++] = res == RECIN_REC ? 'R' : 'B';
			if (res == RECIN_BAD)
				snprintf(msgs + strlen(msgs),
					 mcap - strlen(msgs), "%s|", msg);
		}
	got[n] = 0;
}

int
main(void)
{
	struct recin in;
	char got[64], msgs[1024], longline[200];

	if (pipe(p) == -1 || recin_init(&in, p[0], 128, 3) == -1)
		return 1;

	put("announce 192.0.2.1/32 - a.example\n"
	    "garbage\n"
	    "answer 1.000000 a.example 192.0.2.1 5 - -\n"
	    "mark 7\n");
	turn(&in, POLLIN, got, sizeof got, msgs, sizeof msgs);
	T_CHECK(!strcmp(got, "RBB"), "a turn ends at its budget (got %s)", got);
	T_CHECK(!strcmp(msgs, "stdin: record 2: unknown record type|stdin: "
			      "record 3: unexpected type|"),
		"bad lines are described by their record number (%s)", msgs);
	T_CHECK(recin_more(&in), "lines wait after a turn cut by its budget");
	turn(&in, 0, got, sizeof got, msgs, sizeof msgs);
	T_CHECK(!strcmp(got, "R"), "the next turn takes them without a read");
	T_CHECK(!recin_more(&in), "no line waits once they ran out");

	/* A line still being written: nothing to take, nothing waiting. */
	put("withdraw 192.0.2.1/32 - a.ex");
	turn(&in, POLLIN, got, sizeof got, msgs, sizeof msgs);
	T_CHECK(!strcmp(got, "") && !recin_more(&in),
		"half a line is not a line waiting (got %s)", got);
	put("ample\n");
	turn(&in, POLLIN, got, sizeof got, msgs, sizeof msgs);
	T_CHECK(!strcmp(got, "R"), "the line once its end came");

	/* Longer than the buffer: one bad line, the next one intact. */
	memset(longline, 'x', sizeof longline - 2);
	longline[sizeof longline - 2] = '\n';
	longline[sizeof longline - 1] = 0;
	put(longline);
	put("eor\n");
	turn(&in, POLLIN, got, sizeof got, msgs, sizeof msgs);
	turn(&in, POLLIN, got + strlen(got), sizeof got - strlen(got), msgs,
	     sizeof msgs);
	T_CHECK(!strcmp(got, "BR"), "a line too long is one bad line (got %s)",
		got);
	T_CHECK(!strcmp(msgs, "stdin: line too long|"),
		"and is said to be (%s)", msgs);
	T_CHECK(in.records == 7 && in.bad == 3,
		"every line is a record, 3 bad (%llu, %llu)",
		(unsigned long long)in.records, (unsigned long long)in.bad);

	/* The end: a last line without a newline is still a line. */
	put("replay");
	close(p[1]);
	T_CHECK(!recin_done(&in) && recin_fd(&in) == p[0],
		"not done before the end is read");
	turn(&in, POLLIN, got, sizeof got, msgs, sizeof msgs);
	if (!recin_done(&in))
		turn(&in, POLLIN, got + strlen(got), sizeof got - strlen(got),
		     msgs, sizeof msgs);
	T_CHECK(!strcmp(got, "R"), "the last line without a newline (got %s)",
		got);
	T_CHECK(recin_done(&in) && recin_fd(&in) == -1,
		"done at the end, nothing more to poll");
	recin_destroy(&in);
	close(p[0]);
	T_DONE();
}
