/*
 * dns: the A and AAAA answers of a DNS response, attributed to its question
 * (shared by dnstap-read and dns-hold).
 *
 * A response (RFC 1035 section 4) is a 12-byte header, the question (one
 * name, type, class), then the answer records: owner name, type, class, TTL,
 * data length and data. Names are labels (length byte, bytes) ending with
 * the empty root label, or cut short by a 2-byte pointer to an earlier
 * occurrence (compression). dns_answers() follows the CNAME chain from the
 * question name through the answer section (records in any order), and
 * returns every A/AAAA record owned by the question name or a name of that
 * chain. Pointer loops, out-of-bounds pointers and truncated records make
 * the whole message malformed; nothing is ever read outside msg[0..len).
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255  /* uncompressed wire name, root label included */
#define DNS_CHAIN_MAX 16  /* CNAME chain names kept (as in the records) */
#define DNS_CNAME_MAX 64  /* CNAME records looked at per message */
#define DNS_ADDR_MAX 1024 /* A/AAAA records returned per message */

enum dns_err {
	DNS_OK = 0,
	DNS_E_SHORT,	/* message ends inside the header or a record */
	DNS_E_NAME,	/* bad label, pointer loop, name too long */
	DNS_E_QUESTION, /* not exactly one question */
	DNS_E_RDATA,	/* A/AAAA data of the wrong length, CNAME data bad */
	DNS_E_NOTRESPONSE,
	DNS_E_COUNT_
};

struct dns_name {
	uint8_t len; /* wire length, root label included */
	uint8_t wire[DNS_NAME_MAX];
};

struct dns_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t depth;	/* owner: 0 the question name, k chain[k - 1] */
	uint8_t a[16];
	uint32_t ttl; /* as sent; 2^31 and above means 0 (RFC 2181) */
};

struct dns_answers {
	struct dns_name qname;
	uint16_t qtype;
	unsigned nchain;
	struct dns_name chain[DNS_CHAIN_MAX];
	unsigned naddr;
	struct dns_addr addr[DNS_ADDR_MAX];
	/* Not errors, for counters: the chain was cut or looped, some
	 * addresses were past DNS_ADDR_MAX. */
	unsigned chain_cut : 1, chain_loop : 1, addr_cut : 1;
	/* Scratch: the CNAME records seen, lowercased. */
	unsigned ncname;
	struct dns_name cname_owner[DNS_CNAME_MAX];
	struct dns_name cname_target[DNS_CNAME_MAX];
};

/*
 * Parses the response msg[0..len) into a (about 100 KiB: reuse one).
 * Names in a are uncompressed wire names with ASCII letters lowercased.
 */
enum dns_err dns_answers(struct dns_answers *a, const uint8_t *msg, size_t len);
const char *dns_strerror(enum dns_err e);

/*
 * The pieces, for other readers of DNS messages (dns-hold's checks of
 * queries and responses). dns_name_read() expands the name at *off into
 * out, lowercased, and moves *off past the name's bytes at that place; a
 * compression pointer must point backwards and past the header, so no loop
 * can last.
 */
enum dns_err dns_name_read(const uint8_t *msg, size_t len, size_t *off,
			   struct dns_name *out);
int dns_name_eq(const struct dns_name *a, const struct dns_name *b);

/* A resource record's fixed part; dns_rr_read() moves *off past it. */
struct dns_rr {
	size_t owner; /* offset of the owner name */
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata, rdlen; /* offset and length of the data */
};
enum dns_err dns_rr_read(const uint8_t *msg, size_t len, size_t *off,
			 struct dns_rr *rr);

#endif
