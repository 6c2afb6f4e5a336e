/*
 * nl_test: lib/nl's reading of an NLMSG_ERROR message: an acknowledgement,
 * an errno, and what no kernel sends (a short message, a positive error,
 * INT_MIN, whose negation overflowed before; the rt-dump fuzzer found it).
 */
#include <limits.h>
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

int
main(void)
{
	size_t full = mnl_nlmsg_size(sizeof(struct nlmsgerr));

	T_CHECK(err_of(0, full) == 0, "an acknowledgement: 0");
	T_CHECK(err_of(-17, full) == 17, "EEXIST: 17");
	T_CHECK(err_of(-4095, full) == 4095, "the last errno: 4095");
	T_CHECK(err_of(-17, full - 1) == -1, "too short to say: -1");
	T_CHECK(err_of(5, full) == -1, "a positive error: -1");
	T_CHECK(err_of(-4096, full) == -1, "below -4095: -1");
	T_CHECK(err_of(INT_MIN, full) == -1, "INT_MIN: -1, no overflow");
	T_DONE();
}
