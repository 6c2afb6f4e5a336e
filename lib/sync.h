/*
 * sync: the peer-sync wire format, as the Go dnstap-bgp speaks it.
 *
 * The Go daemon syncs over HTTP with JSON made by encoding/json:
 *
 *   GET /fetch   200, a JSON array of entries, or "null" for an empty cache,
 *                followed by "\n"
 *   PUT /put     one entry as a JSON object
 *
 * An entry is {"IP":"192.0.2.1","Domain":"www.example.com","TS":TIME} where
 * TIME is Go's RFC 3339 with nanoseconds and a zone offset
 * ("2026-11-26T09:40:00.123456789+01:00", trailing fraction zeros dropped,
 * "Z" for UTC). Go matches keys case-insensitively and ignores unknown ones,
 * so our extension "Tag" (the list tag) costs a Go peer nothing.
 *
 * The parser is a stream: bytes go in as they arrive, each complete entry
 * comes out through a callback, and memory stays bounded whatever the input
 * (nesting depth and token length are capped before yajl sees the bytes,
 * since yajl would buffer a token or a nesting stack of any size).
 */
#ifndef SYNC_H
#define SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "rec.h"

#define SYNC_TOKEN_MAX 4096 /* longest JSON token (string, number) accepted */
#define SYNC_DEPTH_MAX 32   /* deepest nesting accepted (unknown fields) */
#define SYNC_TIME_MAX 40    /* longest Go time text, NUL included */

/* One entry as received: the raw field texts, not yet validated. */
struct sync_raw {
	char ip[64];
	char domain[REC_NAME_MAX];
	char ts[64];
	char tag[REC_TAG_MAX + 1];
	size_t ip_len, domain_len, ts_len, tag_len;
	unsigned have;	  /* SYNC_F_* bits: fields present and not null */
	unsigned toolong; /* SYNC_F_* bits: fields longer than their buffer */
	int null;	  /* the element was JSON null, not an object */
};
#define SYNC_F_IP 1u
#define SYNC_F_DOMAIN 2u
#define SYNC_F_TS 4u
#define SYNC_F_TAG 8u

/* An entry after validation. */
struct sync_entry {
	struct rec_addr addr;
	char name[REC_NAME_MAX];
	size_t name_len;
	int64_t time_us;
	char tag[REC_TAG_MAX + 1]; /* "" when the peer sent none */
	size_t tag_len;
};

enum sync_err {
	SYNC_OK = 0,
	SYNC_E_NULL,   /* a null element instead of an object */
	SYNC_E_IP,     /* missing or bad address */
	SYNC_E_DOMAIN, /* missing or bad name */
	SYNC_E_TIME,   /* missing or bad time, before 1970 or in the future */
	SYNC_E_TAG,    /* bad tag */
	SYNC_E_COUNT_
};
const char *sync_strerror(enum sync_err e);

/* SYNC_ARRAY: a /fetch body (array or null). SYNC_OBJECT: a /put body. */
enum sync_mode { SYNC_ARRAY, SYNC_OBJECT };

struct sync_parser;

/* cb gets each entry; a non-zero return stops the parse with an error. */
typedef int (*sync_entry_cb)(const struct sync_raw *raw, void *arg);

struct sync_parser *sync_parser_new(enum sync_mode mode, sync_entry_cb cb,
				    void *arg);
void sync_parser_free(struct sync_parser **p);
/* Feeds n bytes. 0, or -1 once the input is known to be bad. */
int sync_parser_feed(struct sync_parser *p, const void *buf, size_t n);
/* At the end of input: 0 when exactly one complete value was read. */
int sync_parser_finish(struct sync_parser *p);
/*
 * The reason of the last failure: "parse error: ..." (yajl's, with where),
 * "wrong type: ...", "token too long", "empty body" (nothing but white
 * space), "truncated JSON: ..." (the input ended inside a value).
 */
const char *sync_parser_error(const struct sync_parser *p);
/* Entries handed to the callback so far. */
uint64_t sync_parser_count(const struct sync_parser *p);

/*
 * Validates raw into e: the address (IPv4-mapped IPv6 becomes IPv4), the
 * name (sync_name_canon: Go's escapes decoded, canonical form), the time (not
 * before the epoch, not more than five minutes after now_us), the tag when one
 * was sent.
 */
enum sync_err sync_entry_from_raw(struct sync_entry *e,
				  const struct sync_raw *r, int64_t now_us);

/*
 * A name as a peer sends it to the canonical form of docs/records.md. The
 * Go daemon sends what miekg/dns made of the DNS message: presentation
 * format with `\X` escapes for `. '@;()"\` and space, `\DDD` for bytes
 * outside printable ASCII, the case as received, its trailing dot cut off
 * (one trailing dot is accepted too). Any escape is decoded, letters are
 * lowercased and the result written canonically ("A\.B.Example" becomes
 * "a\046b.example"). Refused (0): empty labels, a label over 63 bytes or a
 * name over 255 in wire form, a dangling or bad escape (`\25`, `\256`), raw
 * bytes outside printable ASCII, the empty name. Returns the length.
 * cap of REC_NAME_MAX is always enough.
 */
size_t sync_name_canon(char *out, size_t cap, const char *in, size_t len);

/*
 * The `peer TIME NAME ADDR -` record of e, newline included (rec_format).
 * The tag is always "-": the receiving ipcache takes it from its own list,
 * so a peer's Tag can neither pick BGP attributes here nor let a name past
 * the list. Returns the length, or 0 when cap is too small.
 */
size_t sync_entry_record(char *buf, size_t cap, const struct sync_entry *e);

/*
 * Go's time.Time JSON text in UTC ("2026-11-26T08:40:00.123456Z") without
 * the quotes. Returns the length, or 0 when cap is too small.
 */
size_t sync_time_format(char *buf, size_t cap, int64_t us);
/* Parses RFC 3339 with an optional fraction and a Z or +hh:mm offset. */
int sync_time_parse(const char *s, size_t len, int64_t *us);

/*
 * One entry as Go's encoding/json writes it (keys IP, Domain, TS in that
 * order, HTML-safe escaping), then ,"Tag":"..." when tag is not empty.
 * Returns the length, or 0 when cap is too small (2 * REC_NAME_MAX is
 * always enough).
 */
size_t sync_entry_json(char *buf, size_t cap, const struct rec_addr *addr,
		       const char *name, size_t name_len, int64_t time_us,
		       const char *tag);

#endif
