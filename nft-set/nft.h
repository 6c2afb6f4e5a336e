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

#endif
