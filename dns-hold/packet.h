/*
 * packet: the DNS messages dns-hold relays (RFC 1035 section 4), checked
 * and rewritten in place, without sockets (so the fuzz target drives them).
 *
 * A query is relayed as it came, options and all; only its ID is replaced
 * by one unique on the upstream socket. What identifies it is kept: the
 * client's ID, the question (name lowercased, type, class) and the
 * client's EDNS UDP payload size (RFC 6891 6.2.5: 512 without OPT or
 * below 512). An answer is taken only when it is a response to exactly
 * that question; it gets the client's ID back and, for a UDP client, is
 * cut to header, question and OPT with TC set when larger than the
 * client's size (RFC 1035 4.2.1, RFC 6891 7), so the client asks again
 * over TCP.
 */
#ifndef PACKET_H
#define PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define PKT_QUERY_MAX 4096 /* largest query relayed, in bytes */
#define PKT_HDR 12

#define PKT_RCODE_FORMERR 1
#define PKT_RCODE_SERVFAIL 2
#define PKT_RCODE_REFUSED 5

struct pkt_query {
	uint16_t id;
	uint16_t flags;	  /* the header's second 16 bits */
	uint16_t qdcount; /* 0 (a cookie-only query) or 1 */
	uint16_t qtype, qclass;
	struct dns_name qname; /* lowercased; len 0 when qdcount is 0 */
	uint16_t qend;	       /* offset just past the question */
	uint16_t udp_size;     /* what the client takes over UDP */
	uint8_t edns;	       /* the query had an OPT record */
};

enum pkt_verdict {
	PKT_RELAY = 0, /* a query to pass on */
	PKT_FORMERR,   /* answer FORMERR (q holds what could be read) */
	PKT_DROP,      /* no answer: shorter than a header, or a response */
};

/* Reads the query msg[0..len). */
enum pkt_verdict pkt_query_parse(struct pkt_query *q, const uint8_t *msg,
				 size_t len);

/*
 * Is msg[0..len) a response to q (QR set, the same question; a response
 * without a question only to a query without one, or with an error code)?
 * The ID is the caller's to check.
 */
int pkt_response_matches(const uint8_t *msg, size_t len,
			 const struct pkt_query *q);

/* Writes an error response (REFUSED, SERVFAIL, FORMERR) to q into out. */
size_t pkt_error(uint8_t *out, size_t cap, const struct pkt_query *q,
		 const uint8_t *query, unsigned rcode);

/*
 * Cuts the response msg[0..len) to max bytes when it is larger: header,
 * question and the OPT record (when they fit), TC set, the other sections
 * empty. Returns the new length (len when it fits).
 */
size_t pkt_fit(uint8_t *msg, size_t len, size_t max);

static inline void
pkt_set_id(uint8_t *msg, uint16_t id)
{
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
}

static inline uint16_t
pkt_id(const uint8_t *msg)
{
	return (uint16_t)(msg[0] << 8 | msg[1]);
}

#endif
