/*
 * nft.h: nft-set's side of the kernel: nftables sets through libnftnl
 * (messages) and libmnl (the netlink socket).
 */
#ifndef NFT_SET_NFT_H
#define NFT_SET_NFT_H

#include <stddef.h>
#include <stdint.h>

#include "rec.h"
#include "sink.h"

#define NFT_COMMENT "dnstap-bgp" /* the comment on every element we add */

struct nft_dest {
	uint8_t family; /* NFPROTO_INET, _IPV4, _IPV6 */
	uint8_t af;	/* 4 or 6: what the set holds */
	char table[256];
	char set[256];
	uint64_t timeout_ms; /* 0: elements do not expire */
};

struct nftk;

/* Opens the netlink socket. NULL with errno. */
struct nftk *nftk_open(void);
void nftk_close(struct nftk **k);

enum nftk_check {
	NFTK_OK = 0,
	NFTK_MISSING = -1, /* no such table or set (errno set) */
	NFTK_WRONG = -2,   /* the set cannot hold our elements */
	NFTK_ERROR = -3,   /* netlink failed (errno set) */
};
/* Checks (and with create, first creates) the set. why: what is wrong. */
enum nftk_check nftk_check(struct nftk *k, const struct nft_dest *d, int create,
			   char *why, size_t whylen);
/* Reads the set's elements into s as destination id. 0 or -1 with errno. */
int nftk_dump(struct nftk *k, const struct nft_dest *d, uint32_t id,
	      struct sink *s);

/*
 * A batch is one nftables transaction: all of it or nothing. Add changes,
 * then send: 0 when the kernel applied the whole batch, -1 with errno when
 * it refused it (nothing was changed) or the answer was lost.
 * nftk_batch_full() says when to send before adding more.
 */
void nftk_batch_begin(struct nftk *k);
int nftk_batch_add(struct nftk *k, const struct nft_dest *d, enum sink_op op,
		   const struct rec_addr *p);
int nftk_batch_full(const struct nftk *k);
size_t nftk_batch_count(const struct nftk *k);
int nftk_batch_send(struct nftk *k);

/*
 * The ruleset's notifications (the group NFNLGRP_NFTABLES), to follow
 * changes others make: a table or a set created or deleted, elements
 * deleted. The kernel sends them after each transaction, to every member
 * of the group, with the port id of the socket that made the change in
 * nlmsg_pid (0 for the kernel's own); those of k's socket (nft-set's own
 * changes) are left out, by a socket filter before they take room in the
 * receive buffer and again when read.
 */
struct nftev;

#define NFTEV_LOST (-1) /* NFT_MSG_NEWTABLE is 0 */

struct nftev_msg {
	int type;	   /* NFT_MSG_NEWTABLE, _DELTABLE, _NEWSET, _DELSET,
			      _DELSETELEM, or NFTEV_LOST */
	uint8_t family;	   /* NFPROTO_* */
	const char *table; /* "" when lost */
	const char *set;   /* "" for a table, or when lost */
};

/* A non-blocking socket in the group, leaving out k's. NULL with errno. */
struct nftev *nftev_open(const struct nftk *k);
void nftev_close(struct nftev **e);
int nftev_fd(const struct nftev *e);
/*
 * Reads every notification queued (never waits) and calls fn for each of
 * the types above made by someone else, and once with NFTEV_LOST when some
 * were lost (the receive buffer overflowed: ENOBUFS) or could not be read.
 * 0, or -1 with errno when the socket failed.
 */
int nftev_read(struct nftev *e, void (*fn)(void *, const struct nftev_msg *),
	       void *arg);
/* The notifications of one datagram buf[0..len) (without a socket, for
 * the fuzz target): fn for each as above; -1 when some could not be read
 * (the caller counts them lost). */
int nftev_parse(const uint8_t *buf, size_t len, uint32_t own,
		void (*fn)(void *, const struct nftev_msg *), void *arg);

#endif
