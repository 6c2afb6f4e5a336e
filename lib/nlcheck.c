#include "nlcheck.h"

#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>

int
nl_frames_ok(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct nlmsghdr h;
	size_t step;

	while (len) {
		if (len < sizeof h)
			return 0;
		memcpy(&h, p, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len)
			return 0;
		step = NLMSG_ALIGN((size_t)h.nlmsg_len);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return 1;
}
