/*
 * nl_test: lib/nl's reading of an NLMSG_ERROR message: an acknowledgement,
 * an errno, and what no kernel sends (a short message, a positive error,
 * INT_MIN, whose negation overflowed before; the rt-dump fuzzer found it).
 * And nl_run's check of a buffer: a message whose length is not a multiple
 * of 4 must have its padding in the buffer, or libmnl reads attributes
 * past the end (the rt-dump fuzzer's second find, a 65-byte route).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"
#include "t.h"

/* nl_error of an NLMSG_ERROR message carrying error, len bytes long. */
static int
err_of(int error, size_t len)
{
	static union {
		char b[256];
		struct nlmsghdr h;
	} m;
	struct nlmsgerr *e;

	memset(&m, 0, sizeof m);
	m.h.nlmsg_len = (uint32_t)len;
	m.h.nlmsg_type = NLMSG_ERROR;
	e = mnl_nlmsg_get_payload(&m.h);
	e->error = error;
	return nl_error(&m.h);
}

static int
count_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	++*(int *)arg;
	return MNL_CB_OK;
}

/* nl_run over a one-message buffer of len bytes, message length mlen. */
static int
run(uint32_t mlen, size_t len, int *calls)
{
	unsigned char *b = calloc(1, len);
	struct nlmsghdr h = {0};
	int r;

	if (!b)
		return -2;
	h.nlmsg_len = mlen;
	h.nlmsg_type = NLMSG_MIN_TYPE;
	memcpy(b, &h, sizeof h);
	*calls = 0;
	r = nl_run(b, len, 0, 0, count_cb, calls, NULL);
	free(b); /* exactly len bytes: ASan sees a read past them */
	return r;
}

int
main(void)
{
	int calls;

	size_t full = mnl_nlmsg_size(sizeof(struct nlmsgerr));

	T_CHECK(err_of(0, full) == 0, "an acknowledgement: 0");
	T_CHECK(err_of(-17, full) == 17, "EEXIST: 17");
	T_CHECK(err_of(-4095, full) == 4095, "the last errno: 4095");
	T_CHECK(err_of(-17, full - 1) == -1, "too short to say: -1");
	T_CHECK(err_of(5, full) == -1, "a positive error: -1");
	T_CHECK(err_of(-4096, full) == -1, "below -4095: -1");
	T_CHECK(err_of(INT_MIN, full) == -1, "INT_MIN: -1, no overflow");
	T_CHECK(run(65, 68, &calls) >= 0 && calls == 1,
		"65-byte message with its padding: read");
	T_CHECK(run(65, 65, &calls) == MNL_CB_ERROR && errno == EPROTO &&
		    calls == 0,
		"65-byte message without its padding: refused, EPROTO");
	T_CHECK(run(64, 64, &calls) >= 0 && calls == 1, "64 bytes: read");
	T_CHECK(run(0xfffffffd, 68, &calls) == MNL_CB_ERROR && calls == 0,
		"a length near 2^32 (aligned, it wraps to 0): refused");
	T_DONE();
}
