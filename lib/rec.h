/*
 * rec: the record format between all programs, parsed and formatted only here.
 * The specification is docs/records.md; its examples are this file's tests.
 *
 * One line per record, fields separated by single spaces, the first field a
 * type token:
 *
 *   answer TIME QNAME ADDR TTL TAG CHAIN   dnstap-read -> domain-match ->
 * ipcache peer TIME NAME ADDR TAG                sync-pull / sync server ->
 * ipcache announce PREFIX TAG NAME               ipcache -> bgp-announce
 *   withdraw PREFIX TAG NAME               ipcache -> bgp-announce
 *   replay                                 ipcache: a full-state replay begins
 *   eor                                    ipcache: end of the full-state
 * replay mark N                                 dns-hold -> ... -> sinks: a
 * barrier ack N                                  a sink -> dns-hold: marks up
 * to N done
 *
 * Parsing is in place and zero-copy: the name, tag and chain fields point into
 * the caller's line (spaces are overwritten with NULs, uppercase ASCII letters
 * in names are lowercased).
 */
#ifndef REC_H
#define REC_H

#include <stddef.h>
#include <stdint.h>

#define REC_LINE_MAX 65536 /* longest record line, newline included */
/* longest name field: 255 wire bytes escaped, + NUL */
#define REC_NAME_MAX 1024
/* most names in a CNAME chain field */
#define REC_CHAIN_MAX 16
/* longest tag */
#define REC_TAG_MAX 32

enum rec_type {
	REC_ANSWER = 1,
	REC_PEER,
	REC_ANNOUNCE,
	REC_WITHDRAW,
	REC_REPLAY,
	REC_EOR,
	REC_MARK,
	REC_ACK,
};

enum rec_err {
	REC_OK = 0,
	REC_E_TYPE,   /* unknown type token */
	REC_E_FIELDS, /* wrong number of fields, or an empty one */
	REC_E_TIME,
	REC_E_NAME,
	REC_E_ADDR,
	REC_E_TTL,
	REC_E_TAG,
	REC_E_CHAIN,
	REC_E_NUL, /* a NUL byte inside the line */
	REC_E_MARK,
	REC_E_COUNT_
};

/* An address (plen 32 or 128) or a prefix. IPv4-mapped IPv6 becomes IPv4. */
struct rec_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t plen;
	uint8_t a[16]; /* IPv4 in a[0..3], the rest zero */
};

struct rec {
	enum rec_type type;
	int64_t time_us;  /* answer, peer: microseconds since the epoch */
	const char *name; /* answer: query name; peer, announce, withdraw */
	size_t name_len;
	struct rec_addr
	    addr;	 /* answer, peer: address; announce, withdraw: prefix */
	uint32_t ttl;	 /* answer */
	const char *tag; /* "" when the field is "-" */
	size_t tag_len;
	const char *chain; /* answer: names joined by ',', "" when "-" */
	size_t chain_len;
	uint64_t mark; /* mark, ack: the barrier's number */
};

/* Parses line[0..len) (NUL at line[len]) into r; a NUL before len is refused.
 */
enum rec_err rec_parse(struct rec *r, char *line, size_t len);
/* A short name for an error, for messages and counter labels. */
const char *rec_strerror(enum rec_err e);

/*
 * Formats r with a trailing newline into buf. Returns the length, or 0 when
 * cap is too small. The fields are written as given: callers pass names,
 * tags and chains that came from rec_parse() or the builders below.
 */
size_t rec_format(char *buf, size_t cap, const struct rec *r);

/* "192.0.2.1", "2001:db8::1", and with plen < 32/128 or want_len, "/LEN". */
size_t rec_addr_format(char *buf, size_t cap, const struct rec_addr *a,
		       int want_len);
/* Parses an address, or with prefix set an ADDR/LEN prefix (no NUL in
 * s[0..len)). 0 or -1. */
int rec_addr_parse(struct rec_addr *a, const char *s, size_t len, int prefix);
/* Fills a from raw network-order bytes (4 or 16); maps ::ffff:0:0/96. */
void rec_addr_set(struct rec_addr *a, const void *bytes, size_t n);
/* Does prefix p contain address or prefix a? */
int rec_addr_contains(const struct rec_addr *p, const struct rec_addr *a);

/*
 * Writes the canonical presentation form of an uncompressed wire name
 * (labels with length bytes, ending with the root label) into out:
 * lowercase, no trailing dot ("." for the root), bytes outside
 * [a-z0-9-_*] as \DDD. Returns the length, or 0 when the wire name is bad
 * or cap too small. cap of REC_NAME_MAX is always enough.
 */
size_t rec_name_from_wire(char *out, size_t cap, const uint8_t *wire,
			  size_t wirelen);
/* Validates (and lowercases in place) a name field; strips a trailing dot. */
int rec_name_check(char *s, size_t *len);

/* Validates a tag field ("-" means none). */
int rec_tag_check(const char *s, size_t len);

#endif
