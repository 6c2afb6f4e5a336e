/*
 * packet: checks and rewrites of the DNS messages dns-hold relays. See
 * packet.h. Every read is bounded by the message length (lib/dns).
 */
#include "packet.h"

#include <string.h>

#include "wire.h"

#define T_OPT 41
#define F_QR 0x8000
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080
#define F_OPCODE 0x7800

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Walks the records after the question (at off) and finds the OPT record
 * of the additional section: *opt its offset (0 when none), *optlen its
 * size. 0, or -1 when a record is cut short or there are two OPTs.
 */
static int
find_opt(const uint8_t *m, size_t len, size_t off, size_t *opt, size_t *optlen)
{
	unsigned an = wire_get16(m + 6), ns = wire_get16(m + 8),
		 ar = wire_get16(m + 10), i;
	struct dns_rr rr;
	size_t start;

	*opt = *optlen = 0;
	for (i = 0; i < an + ns + ar; i++) {
		start = off;
		if (dns_rr_read(m, len, &off, &rr) != DNS_OK)
			return -1;
		if (rr.type != T_OPT)
			continue;
		/* RFC 6891 6.1.1: in the additional section, owner the root,
		 * one only. */
		if (i < an + ns || m[start] != 0 || *opt)
			return -1;
		*opt = start;
		*optlen = off - start;
	}
	return 0;
}

/* The question at offset 12 into n, type and class; *off past it. */
static int
question_read(const uint8_t *m, size_t len, size_t *off, struct dns_name *n,
	      uint16_t *type, uint16_t *class)
{
	*off = PKT_HDR;
	if (dns_name_read(m, len, off, n) != DNS_OK || len - *off < 4)
		return -1;
	*type = wire_get16(m + *off);
	*class = wire_get16(m + *off + 2);
	*off += 4;
	return 0;
}

enum pkt_verdict
pkt_query_parse(struct pkt_query *q, const uint8_t *m, size_t len)
{
	size_t off = PKT_HDR, opt, optlen;

	memset(q, 0, sizeof *q);
	q->udp_size = 512;
	q->qend = PKT_HDR;
	if (len < PKT_HDR)
		return PKT_DROP;
	q->id = wire_get16(m);
	q->flags = wire_get16(m + 2);
	if (q->flags & F_QR)
		return PKT_DROP; /* never answer a response: no loops */
	if (len > PKT_QUERY_MAX)
		return PKT_FORMERR;
	switch (wire_get16(m + 4)) {
	case 0:
		break;
	case 1:
		if (question_read(m, len, &off, &q->qname, &q->qtype,
				  &q->qclass) == -1) {
			q->qname.len = 0;
			return PKT_FORMERR;
		}
		q->qdcount = 1;
		q->qend = (uint16_t)off;
		break;
	default:
		return PKT_FORMERR;
	}
	if (find_opt(m, len, off, &opt, &optlen) == -1)
		return PKT_FORMERR;
	if (opt) {
		q->edns = 1;
		q->udp_size = wire_get16(m + opt + 3);
		if (q->udp_size < 512)
			q->udp_size = 512;
	}
	return PKT_RELAY;
}

int
pkt_response_matches(const uint8_t *m, size_t len, const struct pkt_query *q)
{
	struct dns_name n;
	uint16_t type, class;
	size_t off;

	if (len < PKT_HDR || !(wire_get16(m + 2) & F_QR))
		return 0;
	switch (wire_get16(m + 4)) {
	case 0:
		/* Some servers leave the question out of an error. */
		return q->qdcount == 0 || (m[3] & 0x0f) != 0;
	case 1:
		if (q->qdcount != 1 ||
		    question_read(m, len, &off, &n, &type, &class) == -1)
			return 0;
		return type == q->qtype && class == q->qclass &&
		       dns_name_eq(&n, &q->qname);
	default:
		return 0;
	}
}

size_t
pkt_error(uint8_t *out, size_t cap, const struct pkt_query *q,
	  const uint8_t *query, unsigned rcode)
{
	static const uint8_t opt[11] = {
	    0, 0, T_OPT, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0};
	size_t n = q->qend;

	if (cap < (size_t)q->qend + sizeof opt)
		return 0;
	put16(out, q->id);
	put16(out + 2,
	      F_QR | (q->flags & (F_OPCODE | F_RD)) | F_RA | (rcode & 0x0f));
	put16(out + 4, q->qdcount);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, q->edns);
	if (q->qend > PKT_HDR)
		memcpy(out + PKT_HDR, query + PKT_HDR, q->qend - PKT_HDR);
	if (q->edns) {
		memcpy(out + n, opt, sizeof opt);
		n += sizeof opt;
	}
	return n;
}

size_t
pkt_fit(uint8_t *m, size_t len, size_t max)
{
	struct dns_name n;
	uint16_t type, class;
	size_t off = PKT_HDR, opt = 0, optlen = 0;
	unsigned qd;

	if (len <= max || len < PKT_HDR)
		return len;
	qd = wire_get16(m + 4);
	if (qd > 1 ||
	    (qd == 1 && question_read(m, len, &off, &n, &type, &class) == -1) ||
	    find_opt(m, len, off, &opt, &optlen) == -1) {
		/* Unreadable: the header alone says "truncated". */
		qd = 0;
		off = PKT_HDR;
		opt = optlen = 0;
	}
	if (off + optlen > max)
		optlen = 0;
	put16(m + 2, wire_get16(m + 2) | F_TC);
	put16(m + 4, qd);
	put16(m + 6, 0);
	put16(m + 8, 0);
	put16(m + 10, optlen ? 1 : 0);
	if (optlen)
		memmove(m + off, m + opt, optlen);
	return off + optlen;
}
