/*
 * nl: a netlink socket through libmnl, as nft-set (NETLINK_NETFILTER) and
 * route-sync (NETLINK_ROUTE) use it. Their messages go in one sendmsg and
 * the kernel handles them inside it, so the answers are queued when it
 * returns: reading them never waits, and a read that would block means
 * they were lost. Every buffer read is checked to be whole messages before
 * libmnl walks it (libmnl trusts the lengths it reads).
 *
 * The one file of lib/ that needs libmnl: it is built into a library of its
 * own (Makefile: LIB_NL), linked only by the programs that use netlink.
 */
#ifndef NL_H
#define NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq; /* the next sequence number */
	char *rbuf;
	size_t rlen;
};

/*
 * Opens and binds a socket of bus (NETLINK_ROUTE, ...) that answers errors
 * with the failed message's header only (NETLINK_CAP_ACK), and a read
 * buffer of rlen bytes. 0, or -1 with errno.
 */
int nl_open(struct nl *nl, int bus, size_t rlen);
/* Closes what nl_open opened (errno is kept). */
void nl_close(struct nl *nl);
int nl_fd(const struct nl *nl);
/* Sends len bytes as one message: 0, or -1 with errno. */
int nl_send(struct nl *nl, const void *buf, size_t len);

/*
 * Runs a buffer of messages through libmnl: data() for each message of a
 * type from NLMSG_MIN_TYPE on, ctl[type] for the others (NULL: skipped),
 * with arg; seq and portid 0 take any. What mnl_cb_run2 returns (MNL_CB_OK,
 * MNL_CB_STOP, MNL_CB_ERROR), MNL_CB_ERROR with errno EPROTO when the
 * buffer is not whole messages.
 */
int nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
	   mnl_cb_t data, void *arg, mnl_cb_t *ctl);
/*
 * Reads what the kernel has queued (never waits) and runs it (nl_run, our
 * port id): what that returns, or -1 with errno when nothing was queued
 * (EAGAIN: the answers were lost) or the read failed.
 */
int nl_recv(struct nl *nl, uint32_t seq, mnl_cb_t data, void *arg,
	    mnl_cb_t *ctl);
/* Drops every answer still queued. */
void nl_drain(struct nl *nl);

/*
 * The error an NLMSG_ERROR message carries: 0 for an acknowledgement, a
 * positive errno, or -1 when the message is too short to say or its error
 * is no errno (positive, or below -4095).
 */
int nl_error(const struct nlmsghdr *nlh);
/* For ctl[]: go on; stop (NLMSG_DONE ends a dump). */
int nl_cb_ok(const struct nlmsghdr *nlh, void *arg);
int nl_cb_stop(const struct nlmsghdr *nlh, void *arg);

#endif
