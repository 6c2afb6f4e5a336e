/*
 * fuzz-nft-event: nft-set's reading of the ruleset's notifications
 * (nft-set/nft.c, nftev_parse: libmnl's walk, libnftnl's parsers): any
 * bytes as one datagram from the NFNLGRP_NFTABLES group. Nothing may crash
 * or read out of bounds; what it reports is one of the types it promises,
 * with NUL-terminated names.
 */
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../nft-set/nft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
seen(void *arg, const struct nftev_msg *m)
{
	(void)arg;
	if (m->type != NFT_MSG_NEWTABLE && m->type != NFT_MSG_DELTABLE &&
	    m->type != NFT_MSG_NEWSET && m->type != NFT_MSG_DELSET &&
	    m->type != NFT_MSG_DELSETELEM)
		abort();
	if (!m->table || !m->set || strlen(m->table) > 65536 ||
	    strlen(m->set) > 65536)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];

	if (size > sizeof buf)
		return 0;
	/* A copy aligned as recv's buffer is, exactly size long for ASan. */
	memcpy(buf, data, size);
	(void)nftev_parse(buf, size, 4242, seen, NULL);
	return 0;
}
