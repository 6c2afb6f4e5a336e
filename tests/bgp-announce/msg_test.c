/*
 * msg_test: bgp-announce's message parsers (msg.c) against RFC 4271
 * section 6: each malformed OPEN or UPDATE must yield the NOTIFICATION
 * code/subcode (and data) the RFC prescribes, and well-formed ones parse.
 */
#include <string.h>

#include "../../bgp-announce/bgpa.h"
#include "../unit/t.h"

/* OPEN body: version 4, AS 65000, hold, id, then the optional parameters. */
static size_t
open_body(uint8_t *b, uint16_t hold, uint32_t id, const uint8_t *opt,
	  size_t optlen)
{
	b[0] = 4;
	b[1] = 0xfd, b[2] = 0xe8;
	b[3] = (uint8_t)(hold >> 8), b[4] = (uint8_t)hold;
	b[5] = (uint8_t)(id >> 24), b[6] = (uint8_t)(id >> 16);
	b[7] = (uint8_t)(id >> 8), b[8] = (uint8_t)id;
	b[9] = (uint8_t)optlen;
	memcpy(b + 10, opt, optlen);
	return 10 + optlen;
}

static void
open_case(const char *name, uint16_t hold, uint32_t id, const uint8_t *opt,
	  size_t optlen, int code, int sub)
{
	uint8_t b[300];
	struct bgp_open o;
	struct bgp_err e = {0};
	size_t n = open_body(b, hold, id, opt, optlen);
	int r = bgp_parse_open(b, n, &o, &e);

	if (code == 0)
		T_CHECK(r == 0, "open %s: parses (got %d/%d)", name, e.code,
			e.subcode);
	else
		T_CHECK(r == -1 && e.code == code && e.subcode == sub,
			"open %s: %d/%d (got %d: %d/%d)", name, code, sub, r,
			e.code, e.subcode);
}

/* An UPDATE body: no withdrawals, the attributes, one IPv4 /32 or none. */
static size_t
update_body(uint8_t *b, const uint8_t *attrs, size_t alen, int nlri)
{
	size_t n = 0;

	b[n++] = 0, b[n++] = 0;
	b[n++] = (uint8_t)(alen >> 8), b[n++] = (uint8_t)alen;
	memcpy(b + n, attrs, alen), n += alen;
	if (nlri)
		memcpy(b + n, "\x20\x0a\x00\x00\x01", 5), n += 5;
	return n;
}

/*
 * The body of update_body() parsed. code and
 * sub: the session reset expected (0: none); act: RFC 7606's handling
 * expected, with wsub its error's subcode.
 */
static void
update_case(const char *name, const uint8_t *attrs, size_t alen, int nlri,
	    int code, int sub, const uint8_t *data, size_t datalen)
{
	uint8_t b[600];
	size_t n = update_body(b, attrs, alen, nlri);
	struct bgp_err e = {0};
	struct bgp_update u;
	int r = bgp_parse_update(b, n, 0, &u, &e);
	if (code == 0) {
		T_CHECK(r == 0 && u.action == UPD_OK &&
			    u.nannounce >= (unsigned)nlri,
			"update %s: parses (got %d: %d/%d, action %d)", name, r,
			e.code, e.subcode, u.action);
		return;
	}
	T_CHECK(r == -1 && e.code == code && e.subcode == sub,
		"update %s: %d/%d (got %d: %d/%d)", name, code, sub, r, e.code,
		e.subcode);
	if (data)
		T_CHECK(e.datalen == datalen &&
			    memcmp(e.data, data, datalen) == 0,
			"update %s: data is the attribute (%u bytes)", name,
			e.datalen);
}

/* RFC 7606: no reset, but the routes withdrawn or attributes dropped. */
static void
soft_case(const char *name, const uint8_t *attrs, size_t alen, int nlri,
	  enum upd_action act, int sub, unsigned ndiscard)
{
	uint8_t b[600];
	size_t n = update_body(b, attrs, alen, nlri);
	struct bgp_err e = {0};
	struct bgp_update u;
	int r = bgp_parse_update(b, n, 0, &u, &e);
	T_CHECK(r == 0 && u.action == act && u.err.code == 3 &&
		    u.err.subcode == sub && u.ndiscard == ndiscard &&
		    u.nannounce >= (unsigned)nlri,
		"update %s: %s 3/%d, %u discarded (got %d: action %d %d/%d, "
		"%u)",
		name, act == UPD_WITHDRAW ? "treat-as-withdraw" : "discard",
		sub, ndiscard, r, u.action, u.err.code, u.err.subcode,
		u.ndiscard);
}

#define ORIGIN "\x40\x01\x01\x00"
#define ASPATH "\x40\x02\x00"
#define NEXTHOP "\x40\x03\x04\x7f\x00\x00\x01"
#define A(s) (const uint8_t *)(s), sizeof(s) - 1

int
main(void)
{
	static const uint8_t caps[] = {2, 6, 1, 4, 0, 1, 0, 1};
	static const uint8_t authp[] = {1, 2, 0, 0};	/* type 1: auth */
	static const uint8_t trunc[] = {2, 9, 1, 4, 0}; /* overruns */

	open_case("ok", 90, 0x0a000001, caps, sizeof caps, 0, 0);
	open_case("hold 0", 0, 0x0a000001, caps, sizeof caps, 0, 0);
	open_case("hold 3", 3, 0x0a000001, caps, sizeof caps, 0, 0);
	open_case("hold 1", 1, 0x0a000001, caps, sizeof caps, 2, 6);
	open_case("hold 2", 2, 0x0a000001, caps, sizeof caps, 2, 6);
	open_case("id 0", 90, 0, caps, sizeof caps, 2, 3);
	open_case("unsupported optional parameter", 90, 0x0a000001, authp,
		  sizeof authp, 2, 4);
	open_case("parameter overruns", 90, 0x0a000001, trunc, sizeof trunc, 2,
		  0);

	update_case("ok", A(ORIGIN ASPATH NEXTHOP), 1, 0, 0, NULL, 0);
	update_case("ok with MED and communities",
		    A(ORIGIN ASPATH NEXTHOP "\x80\x04\x04\0\0\0\x05"
					    "\xc0\x08\x04\xfd\xe8\0\x01"),
		    1, 0, 0, NULL, 0);
	update_case("extended length bit", A(ORIGIN "\x50\x02\x00\x00" NEXTHOP),
		    1, 0, 0, NULL, 0);
	update_case("attributes without NLRI", A(ORIGIN), 0, 0, 0, NULL, 0);
	/* RFC 7606: what used to reset the session now only withdraws */
	soft_case("ORIGIN flagged optional",
		  A("\xc0\x01\x01\x00" ASPATH NEXTHOP), 1, UPD_WITHDRAW, 4, 0);
	soft_case("NEXT_HOP flagged partial",
		  A(ORIGIN ASPATH "\x60\x03\x04\x7f\x00\x00\x01"), 1,
		  UPD_WITHDRAW, 4, 0);
	soft_case("MED flagged transitive",
		  A(ORIGIN ASPATH NEXTHOP "\xc0\x04\x04\0\0\0\x05"), 1,
		  UPD_WITHDRAW, 4, 0);
	soft_case("COMMUNITIES flagged well-known",
		  A(ORIGIN ASPATH NEXTHOP "\x40\x08\x04\xfd\xe8\0\x01"), 1,
		  UPD_WITHDRAW, 4, 0);
	soft_case("ORIGIN length 2", A("\x40\x01\x02\x00\x00" ASPATH NEXTHOP),
		  1, UPD_WITHDRAW, 5, 0);
	soft_case("NEXT_HOP length 3",
		  A(ORIGIN ASPATH "\x40\x03\x03\x7f\x00\x00"), 1, UPD_WITHDRAW,
		  5, 0);
	soft_case("LOCAL_PREF length 2",
		  A(ORIGIN ASPATH NEXTHOP "\x40\x05\x02\x00\x64"), 1,
		  UPD_WITHDRAW, 5, 0);
	soft_case("ORIGIN 3", A("\x40\x01\x01\x03" ASPATH NEXTHOP), 1,
		  UPD_WITHDRAW, 6, 0);
	soft_case("AS_PATH segment overruns",
		  A(ORIGIN "\x40\x02\x04\x02\x02\xfd\xe8" NEXTHOP), 1,
		  UPD_WITHDRAW, 11, 0);
	soft_case("AS_PATH empty segment",
		  A(ORIGIN "\x40\x02\x02\x02\x00" NEXTHOP), 1, UPD_WITHDRAW, 11,
		  0);
	soft_case("COMMUNITIES length 3",
		  A(ORIGIN ASPATH NEXTHOP "\xc0\x08\x03\xfd\xe8\0"), 1,
		  UPD_WITHDRAW, 9, 0);
	soft_case("LARGE_COMMUNITY length 8",
		  A(ORIGIN ASPATH NEXTHOP "\xc0\x20\x08\0\0\0\1\0\0\0\2"), 1,
		  UPD_WITHDRAW, 9, 0);
	soft_case("ATOMIC_AGGREGATE length 1",
		  A(ORIGIN ASPATH NEXTHOP "\x40\x06\x01\x00"), 1, UPD_DISCARD,
		  5, 1);
	soft_case("AGGREGATOR length 5",
		  A(ORIGIN ASPATH NEXTHOP "\xc0\x07\x05\xfd\xe8\x7f\0\0"), 1,
		  UPD_DISCARD, 9, 1);
	soft_case("duplicate attribute", A(ORIGIN ORIGIN ASPATH NEXTHOP), 1,
		  UPD_DISCARD, 1, 1);
	soft_case("discard and withdraw: withdraw wins",
		  A(ORIGIN ORIGIN ASPATH "\x40\x03\x03\x7f\x00\x00"), 1,
		  UPD_WITHDRAW, 5, 1);
	soft_case("attribute overruns the list",
		  A(ORIGIN ASPATH "\x40\x03\x09\x7f"), 0, UPD_WITHDRAW, 1, 0);
	soft_case("two bytes left in the list",
		  A(ORIGIN ASPATH NEXTHOP "\x40\x01"), 1, UPD_WITHDRAW, 1, 0);
	soft_case("missing ORIGIN", A(ASPATH NEXTHOP), 1, UPD_WITHDRAW, 3, 0);
	soft_case("missing AS_PATH", A(ORIGIN NEXTHOP), 1, UPD_WITHDRAW, 3, 0);
	soft_case("missing NEXT_HOP", A(ORIGIN ASPATH), 1, UPD_WITHDRAW, 3, 0);
	soft_case("MP_REACH without AS_PATH",
		  A(ORIGIN
		    "\x90\x0e\x00\x26\x00\x02\x01\x10"
		    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
		    "\x00\x80\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"),
		  0, UPD_WITHDRAW, 3, 0);
	/* and what still resets it */
	update_case("unknown well-known",
		    A(ORIGIN ASPATH NEXTHOP "\x40\x63\x00"), 1, 3, 2,
		    (const uint8_t *)"\x40\x63\x00", 3);
	update_case("unknown optional ignored",
		    A(ORIGIN ASPATH NEXTHOP "\xc0\x63\x01\x07"), 1, 0, 0, NULL,
		    0);
	update_case("MP_REACH without NEXT_HOP",
		    A(ORIGIN ASPATH
		      "\x90\x0e\x00\x26\x00\x02\x01\x10"
		      "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
		      "\x00\x80\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"),
		    0, 0, 0, NULL, 0);
	update_case("MP_REACH twice",
		    A(ORIGIN ASPATH "\x80\x0e\x05\x00\x02\x01\x00\x00"
				    "\x80\x0e\x05\x00\x02\x01\x00\x00"),
		    0, 3, 1, NULL, 0);
	update_case("MP_UNREACH too short", A("\x80\x0f\x02\x00\x02"), 0, 3, 9,
		    (const uint8_t *)"\x80\x0f\x02\x00\x02", 5);
	update_case("MP_REACH overruns the list",
		    A(ORIGIN ASPATH "\x80\x0e\x09\x00\x02\x01"), 0, 3, 9, NULL,
		    0);
	update_case("MP_REACH prefix too long",
		    A(ORIGIN ASPATH "\x80\x0e\x06\x00\x02\x01\x00\x00\x81"), 0,
		    3, 9, NULL, 0);
	T_DONE();
}
