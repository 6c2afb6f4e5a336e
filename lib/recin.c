#include "recin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
recin_init(struct recin *in, int fd, size_t cap, unsigned budget)
{
	memset(in, 0, sizeof *in);
	in->budget = budget ? budget : 1;
	return lr_init(&in->lr, fd, cap);
}

void
recin_destroy(struct recin *in)
{
	lr_destroy(&in->lr);
}

int
recin_fd(const struct recin *in)
{
	return in->lr.eof ? -1 : in->lr.fd;
}

int
recin_more(const struct recin *in)
{
	return in->more;
}

int
recin_turn(struct recin *in, short revents)
{
	in->taken = 0;
	if (!revents)
		return in->more;
	if (lr_fill(&in->lr) == -1 && errno != EINTR && errno != EAGAIN)
		return -1;
	return 1;
}

enum recin_res
recin_next(struct recin *in, struct rec *r, char *msg, size_t msglen)
{
	enum lr_result res;
	enum rec_err err;
	char *line;
	size_t len;

	if (in->taken == in->budget) {
		in->more = 1;
		return RECIN_NONE;
	}
	if ((res = lr_next(&in->lr, &line, &len)) == LR_NONE) {
		in->more = 0;
		return RECIN_NONE;
	}
	in->taken++;
	in->records++;
	if (res == LR_LONG) {
		in->bad++;
		snprintf(msg, msglen, "stdin: line too long");
		return RECIN_BAD;
	}
	if ((err = rec_parse(r, line, len)) != REC_OK ||
	    r->type == REC_ANSWER || r->type == REC_PEER ||
	    r->type == REC_ACK) {
		in->bad++;
		snprintf(msg, msglen, "stdin: record %llu: %s",
			 (unsigned long long)in->records,
			 err != REC_OK ? rec_strerror(err) : "unexpected type");
		return RECIN_BAD;
	}
	return RECIN_REC;
}

int
recin_done(const struct recin *in)
{
	return in->lr.eof && !lr_pending(&in->lr);
}
