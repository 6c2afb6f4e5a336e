#include "nl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * 1 when buf[0..len) is whole messages, each of at least a header and with
 * its padding to NLMSG_ALIGN (the kernel always sends it): libmnl trusts
 * the lengths it reads, a length near 2^32 would make it step outside the
 * buffer, and it reads attributes up to the aligned end of a message.
 */
static int
frames_ok(const void *buf, size_t len)
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
		/* not NLMSG_ALIGN: its mask is 32 bits wide */
		step = ((size_t)h.nlmsg_len + 3) & ~(size_t)3;
		if (step > len)
			return 0;
		p += step;
		len -= step;
	}
	return 1;
}

int
nl_open(struct nl *nl, int bus, size_t rlen)
{
	int one = 1;

	memset(nl, 0, sizeof *nl);
	if (!(nl->rbuf = malloc(rlen)) ||
	    !(nl->sock = mnl_socket_open2(bus, SOCK_CLOEXEC)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		nl_close(nl);
		return -1;
	}
	nl->rlen = rlen;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one,
				    sizeof one);
	return 0;
}

void
nl_close(struct nl *nl)
{
	int e = errno;

	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->rbuf);
	memset(nl, 0, sizeof *nl);
	errno = e;
}

int
nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

int
nl_send(struct nl *nl, const void *buf, size_t len)
{
	ssize_t n = mnl_socket_sendto(nl->sock, buf, len);

	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
       mnl_cb_t data, void *arg, mnl_cb_t *ctl)
{
	if (!frames_ok(buf, len)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	return mnl_cb_run2(buf, len, seq, portid, data, arg, ctl,
			   NLMSG_MIN_TYPE);
}

int
nl_recv(struct nl *nl, uint32_t seq, mnl_cb_t data, void *arg, mnl_cb_t *ctl)
{
	ssize_t n;

	do
		n = recv(nl_fd(nl), nl->rbuf, nl->rlen, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = EPROTO;
		return -1;
	}
	return nl_run(nl->rbuf, (size_t)n, seq, nl->portid, data, arg, ctl);
}

void
nl_drain(struct nl *nl)
{
	while (recv(nl_fd(nl), nl->rbuf, nl->rlen, MSG_DONTWAIT) > 0)
		;
}

int
nl_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	/* The kernel's errors are -1 to -4095 (MAX_ERRNO); INT_MIN has no
	 * positive errno at all. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *e) || e->error > 0 ||
	    e->error < -4095)
		return -1;
	return -e->error;
}

int
nl_cb_ok(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

int
nl_cb_stop(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_STOP;
}
