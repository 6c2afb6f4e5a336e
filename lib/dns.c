/*
 * dns: A/AAAA answers of a DNS response, with the CNAME chain from the
 * question name. Two passes over the answer section: the first checks every
 * record's bounds and collects the CNAMEs, the chain is then followed, and
 * the second pass attributes the addresses. See dns.h.
 */
#include "dns.h"
#include "wire.h"

#include <string.h>

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define C_IN 1

static const char *const dns_errs[DNS_E_COUNT_] = {
    [DNS_OK] = "ok",
    [DNS_E_SHORT] = "truncated message",
    [DNS_E_NAME] = "bad name",
    [DNS_E_QUESTION] = "not one question",
    [DNS_E_RDATA] = "bad record data",
    [DNS_E_NOTRESPONSE] = "not a response",
};

const char *
dns_strerror(enum dns_err e)
{
	return (unsigned)e < DNS_E_COUNT_ ? dns_errs[e] : "?";
}

/*
 * Expands the name at *off into out, lowercased, and moves *off past the
 * name's bytes at that place (a pointer ends them). A pointer must point
 * before itself (RFC 1035 4.1.4: "a prior occurrence") and past the header,
 * and what it leads to must end before it: each jump lowers the end of
 * what may be read, so no loop can last and no name can reach past the
 * place it was written (a pointer into its own labels cannot make the
 * name go on into the bytes that follow).
 */
enum dns_err
dns_name_read(const uint8_t *m, size_t len, size_t *off, struct dns_name *out)
{
	size_t p = *off, o = 0, target, end = len;
	int jumped = 0;
	unsigned c, i;

	for (;;) {
		if (p >= end)
			return jumped ? DNS_E_NAME : DNS_E_SHORT;
		c = m[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= end)
				return jumped ? DNS_E_NAME : DNS_E_SHORT;
			target = (size_t)(c & 0x3f) << 8 | m[p + 1];
			if (target >= p || target < 12)
				return DNS_E_NAME;
			if (!jumped)
				*off = p + 2;
			jumped = 1;
			end = p;
			p = target;
			continue;
		}
		if (c & 0xc0)
			return DNS_E_NAME; /* extended label types: obsolete */
		if (c == 0)
			break;
		if (p + 1 + c > end)
			return jumped ? DNS_E_NAME : DNS_E_SHORT;
		if (o + 1 + c + 1 > DNS_NAME_MAX)
			return DNS_E_NAME;
		out->wire[o++] = (uint8_t)c;
		for (i = 1; i <= c; i++) {
			uint8_t b = m[p + i];

			out->wire[o++] = b >= 'A' && b <= 'Z' ? b + 32 : b;
		}
		p += 1 + c;
	}
	out->wire[o++] = 0;
	out->len = (uint8_t)o;
	if (!jumped)
		*off = p + 1;
	return DNS_OK;
}

/* Moves *off past a name without expanding it (bounds checked). */
static enum dns_err
name_skip(const uint8_t *m, size_t len, size_t *off)
{
	size_t p = *off;
	unsigned c;

	for (;;) {
		if (p >= len)
			return DNS_E_SHORT;
		c = m[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return DNS_E_SHORT;
			*off = p + 2;
			return DNS_OK;
		}
		if (c & 0xc0)
			return DNS_E_NAME;
		if (c == 0) {
			*off = p + 1;
			return DNS_OK;
		}
		if (p - *off + 1 + c + 1 > DNS_NAME_MAX)
			return DNS_E_NAME;
		p += 1 + c;
	}
}

int
dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
	return a->len == b->len && memcmp(a->wire, b->wire, a->len) == 0;
}

enum dns_err
dns_rr_read(const uint8_t *m, size_t len, size_t *off, struct dns_rr *rr)
{
	enum dns_err e;
	size_t p = *off;

	rr->owner = p;
	if ((e = name_skip(m, len, &p)) != DNS_OK)
		return e;
	if (len - p < 10)
		return DNS_E_SHORT;
	rr->type = wire_get16(m + p);
	rr->class = wire_get16(m + p + 2);
	rr->ttl = wire_get32(m + p + 4);
	rr->rdlen = wire_get16(m + p + 8);
	rr->rdata = p + 10;
	if (len - rr->rdata < rr->rdlen)
		return DNS_E_SHORT;
	*off = rr->rdata + rr->rdlen;
	return DNS_OK;
}

/*
 * Which name of the chain owns the name at off: 0 qname, k chain[k-1], -1
 * none, -2 a bad name.
 */
static int
owner_depth(const struct dns_answers *a, const uint8_t *m, size_t len,
	    size_t off)
{
	struct dns_name n;
	unsigned k;

	if (dns_name_read(m, len, &off, &n) != DNS_OK)
		return -2;
	if (dns_name_eq(&n, &a->qname))
		return 0;
	for (k = 0; k < a->nchain; k++)
		if (dns_name_eq(&n, &a->chain[k]))
			return (int)k + 1;
	return -1;
}

static void
chain_follow(struct dns_answers *a)
{
	const struct dns_name *cur = &a->qname, *next;
	unsigned i, k;

	for (;;) {
		next = NULL;
		for (i = 0; i < a->ncname && !next; i++)
			if (dns_name_eq(&a->cname_owner[i], cur))
				next = &a->cname_target[i];
		/* A CNAME to the root leads nowhere (and "." cannot be a
		 * chain name in a record). */
		if (!next || next->len == 1)
			return;
		if (dns_name_eq(next, &a->qname)) {
			a->chain_loop = 1;
			return;
		}
		for (k = 0; k < a->nchain; k++)
			if (dns_name_eq(next, &a->chain[k])) {
				a->chain_loop = 1;
				return;
			}
		if (a->nchain == DNS_CHAIN_MAX) {
			a->chain_cut = 1;
			return;
		}
		a->chain[a->nchain++] = *next;
		cur = &a->chain[a->nchain - 1];
	}
}

enum dns_err
dns_answers(struct dns_answers *a, const uint8_t *m, size_t len)
{
	enum dns_err e;
	size_t off, start, p;
	unsigned ancount, i;
	struct dns_rr rr;
	struct dns_addr *ad;
	size_t cache_key = 0; /* pointer target of the last owner looked up */
	int cache_depth = -1, d;

	a->nchain = a->naddr = a->ncname = 0;
	a->chain_cut = a->chain_loop = a->addr_cut = 0;
	if (len < 12)
		return DNS_E_SHORT;
	if (!(m[2] & 0x80))
		return DNS_E_NOTRESPONSE;
	if (wire_get16(m + 4) != 1)
		return DNS_E_QUESTION;
	ancount = wire_get16(m + 6);
	off = 12;
	if ((e = dns_name_read(m, len, &off, &a->qname)) != DNS_OK)
		return e;
	if (len - off < 4)
		return DNS_E_SHORT;
	a->qtype = wire_get16(m + off);
	off += 4;
	start = off;

	for (i = 0; i < ancount; i++) {
		if ((e = dns_rr_read(m, len, &off, &rr)) != DNS_OK)
			return e;
		if (rr.class != C_IN)
			continue;
		if ((rr.type == T_A && rr.rdlen != 4) ||
		    (rr.type == T_AAAA && rr.rdlen != 16))
			return DNS_E_RDATA;
		if (rr.type != T_CNAME)
			continue;
		if (a->ncname == DNS_CNAME_MAX) {
			a->chain_cut = 1;
			continue;
		}
		p = rr.owner;
		if ((e = dns_name_read(m, len, &p,
				       &a->cname_owner[a->ncname])) != DNS_OK)
			return e;
		p = rr.rdata;
		e = dns_name_read(m, len, &p, &a->cname_target[a->ncname]);
		if (e != DNS_OK)
			return e;
		if (p > rr.rdata + rr.rdlen)
			return DNS_E_RDATA;
		a->ncname++;
	}
	chain_follow(a);

	off = start;
	for (i = 0; i < ancount; i++) {
		(void)dns_rr_read(m, len, &off, &rr); /* checked above */
		if (rr.class != C_IN || (rr.type != T_A && rr.type != T_AAAA))
			continue;
		/* Most owners are the same pointer (to the question, or to
		 * the last CNAME target): look each one up once. */
		if ((m[rr.owner] & 0xc0) == 0xc0 &&
		    wire_get16(m + rr.owner) == cache_key) {
			d = cache_depth;
		} else {
			d = owner_depth(a, m, len, rr.owner);
			if ((m[rr.owner] & 0xc0) == 0xc0) {
				cache_key = wire_get16(m + rr.owner);
				cache_depth = d;
			}
		}
		if (d == -2)
			return DNS_E_NAME;
		if (d < 0)
			continue;
		if (a->naddr == DNS_ADDR_MAX) {
			a->addr_cut = 1;
			break;
		}
		ad = &a->addr[a->naddr++];
		memset(ad, 0, sizeof *ad);
		ad->family = rr.type == T_A ? 4 : 6;
		ad->depth = (uint8_t)d;
		memcpy(ad->a, m + rr.rdata, rr.rdlen);
		ad->ttl = rr.ttl > 0x7fffffffu ? 0 : rr.ttl;
	}
	return DNS_OK;
}
