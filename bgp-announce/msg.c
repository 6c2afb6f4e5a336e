/*
 * msg.c: the BGP-4 wire format (RFC 4271 section 4), byte buffers.
 *
 * Every message starts with a 16-byte marker of all ones, a 2-byte length
 * (19..4096, header included) and a type byte. The parsers here only read
 * what the peer sends and never trust a length field: each failure fills a
 * struct bgp_err with the NOTIFICATION code/subcode RFC 4271 section 6
 * prescribes. We take no routes from peers, so an UPDATE is only checked for
 * structure (a peer that sends its whole table is read and counted), and
 * what RFC 7606 handles without a reset is only reported.
 */
#include "bgpa.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

int
buf_reserve(struct buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n <= b->cap)
		return 0;
	if (b->off > 0 && b->len - b->off + n <= b->cap) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		return 0;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len - b->off + n)
		cap *= 2;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (cap == b->cap)
		return 0;
	if (!(p = realloc(b->p, cap)))
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, data, n);
	buf_commit(b, n);
	return 0;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->added += n;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	b->taken += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

size_t
buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static int
fail(struct bgp_err *e, uint8_t code, uint8_t sub, const char *why)
{
	e->code = code;
	e->subcode = sub;
	e->datalen = 0;
	e->why = why;
	return -1;
}

void
bgp_put_header(uint8_t *p, size_t len, uint8_t type)
{
	memset(p, 0xff, 16);
	p[16] = (uint8_t)(len >> 8);
	p[17] = (uint8_t)len;
	p[18] = type;
}

int
bgp_prefix_bytes(uint8_t plen)
{
	return (plen + 7) / 8;
}

int
bgp_frame(const uint8_t *b, size_t n, struct bgp_err *e)
{
	static const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff};
	uint16_t len;
	uint8_t type;
	size_t min, max;

	if (n < 16) {
		if (memcmp(b, ones, n) != 0)
			return fail(e, 1, 1, "bad marker");
		return 0;
	}
	if (memcmp(b, ones, 16) != 0)
		return fail(e, 1, 1, "bad marker");
	if (n < BGP_HDR_LEN)
		return 0;
	len = wire_get16(b + 16);
	type = b[18];
	switch (type) {
	case BGP_OPEN:
		min = 29, max = BGP_MAX_LEN;
		break;
	case BGP_UPDATE:
		min = 23, max = BGP_MAX_LEN;
		break;
	case BGP_NOTIFICATION:
		min = 21, max = BGP_MAX_LEN;
		break;
	case BGP_KEEPALIVE:
		min = max = 19;
		break;
	case BGP_ROUTE_REFRESH:
		min = max = 23;
		break;
	default:
		fail(e, 1, 3, "bad message type");
		e->data[0] = type;
		e->datalen = 1;
		return -1;
	}
	if (len < min || len > max) {
		fail(e, 1, 2, "bad message length");
		e->data[0] = b[16];
		e->data[1] = b[17];
		e->datalen = 2;
		return -1;
	}
	return n >= len ? len : 0;
}

static int
parse_caps(const uint8_t *p, size_t n, struct bgp_open *o, struct bgp_err *e)
{
	uint8_t code, len;
	uint16_t afi;

	while (n > 0) {
		if (n < 2)
			return fail(e, 2, 0, "truncated capability");
		code = p[0];
		len = p[1];
		p += 2, n -= 2;
		if (len > n)
			return fail(e, 2, 0, "capability overruns parameter");
		switch (code) {
		case 1: /* multiprotocol */
			if (len != 4)
				return fail(e, 2, 0,
					    "bad multiprotocol capability");
			o->has_mp = 1;
			afi = wire_get16(p);
			if (p[3] == 1 && afi == 1)
				o->fam[FAM4] = 1;
			if (p[3] == 1 && afi == 2)
				o->fam[FAM6] = 1;
			break;
		case 2:
		case 128:
			o->route_refresh = 1;
			break;
		case 64:
			o->gr = 1;
			break;
		case 65:
			if (len != 4)
				return fail(e, 2, 0,
					    "bad 4-octet AS capability");
			o->has_as4 = 1;
			o->as4 = wire_get32(p);
			break;
		default:
			o->unknown_caps++; /* RFC 5492: ignore */
		}
		p += len, n -= len;
	}
	return 0;
}

int
bgp_parse_open(const uint8_t *p, size_t n, struct bgp_open *o,
	       struct bgp_err *e)
{
	size_t optlen;
	uint8_t type, len;

	memset(o, 0, sizeof *o);
	if (n < 10)
		return fail(e, 1, 2, "short OPEN");
	o->version = p[0];
	o->my_as = wire_get16(p + 1);
	o->hold = wire_get16(p + 3);
	o->id = wire_get32(p + 5);
	optlen = p[9];
	if (o->version != 4) {
		fail(e, 2, 1, "unsupported version");
		e->data[0] = 0;
		e->data[1] = 4;
		e->datalen = 2;
		return -1;
	}
	if (o->hold == 1 || o->hold == 2)
		return fail(e, 2, 6, "unacceptable hold time");
	if (o->id == 0)
		return fail(e, 2, 3, "bad BGP identifier");
	p += 10, n -= 10;
	if (optlen != n)
		return fail(e, 2, 0, "optional parameters length mismatch");
	while (n > 0) {
		if (n < 2)
			return fail(e, 2, 0, "truncated optional parameter");
		type = p[0];
		len = p[1];
		p += 2, n -= 2;
		if (len > n)
			return fail(e, 2, 0,
				    "optional parameter overruns OPEN");
		if (type != 2)
			return fail(e, 2, 4, "unsupported optional parameter");
		if (parse_caps(p, len, o, e) == -1)
			return -1;
		p += len, n -= len;
	}
	if (!o->has_mp)
		o->fam[FAM4] = 1; /* RFC 4760: IPv4 unicast is implied */
	if (!o->has_as4)
		o->as4 = o->my_as;
	return 0;
}

/* Checks a run of prefixes (NLRI or withdrawn routes) of IPv4 length. */
static int
count_prefixes(const uint8_t *p, size_t n, unsigned maxlen, unsigned *count)
{
	while (n > 0) {
		if (p[0] > maxlen)
			return -1;
		if ((size_t)bgp_prefix_bytes(p[0]) + 1 > n)
			return -1;
		n -= (size_t)bgp_prefix_bytes(p[0]) + 1;
		p += bgp_prefix_bytes(p[0]) + 1;
		(*count)++;
	}
	return 0;
}

static unsigned
mp_maxlen(const uint8_t *p)
{
	return wire_get16(p) == 2 ? 128 : 32;
}

/*
 * RFC 7606: an error that costs less than the session. The strongest
 * handling asked for wins, and the first error of that strength is kept,
 * with the attribute as its data.
 */
static void
soft(struct bgp_update *u, enum upd_action a, uint8_t sub, const char *why,
     const uint8_t *attr, size_t alen)
{
	size_t n = alen < sizeof u->err.data ? alen : sizeof u->err.data;

	if (a == UPD_DISCARD)
		u->ndiscard++;
	if (a <= u->action)
		return;
	u->action = a;
	u->err.code = 3;
	u->err.subcode = sub;
	u->err.why = why;
	if (attr)
		memcpy(u->err.data, attr, n);
	u->err.datalen = attr ? (uint8_t)n : 0;
}

/* AS_PATH (and AS4_PATH) segments: type 1-4, at least one AS, no rest. */
static int
path_ok(const uint8_t *v, size_t n, size_t aslen)
{
	while (n > 0) {
		if (n < 2 || v[0] < 1 || v[0] > 4 || v[1] == 0 ||
		    2 + v[1] * aslen > n)
			return 0;
		n -= 2 + v[1] * aslen;
		v += 2 + v[1] * aslen;
	}
	return 1;
}

/*
 * One path attribute a (header hl bytes, value len bytes), as RFC 4271 6.3
 * and RFC 7606 (sections 3 and 7) say: flags that conflict with the type
 * and bad lengths or values withdraw the UPDATE's routes ("treat-as-
 * withdraw") or drop the attribute ("attribute discard"); only a well-known
 * attribute that is not known still resets the session (RFC 7606 leaves
 * RFC 4271 as it is there). MP_REACH_NLRI and MP_UNREACH_NLRI are checked
 * by the caller. -1: reset, with e filled.
 */
static int
check_attr(const uint8_t *a, size_t hl, size_t len, int as4,
	   struct bgp_update *u, struct bgp_err *e)
{
	/* flags: optional, transitive (partial is the sender's business) */
	static const uint8_t known[33] = {
	    [1] = 0x40,	 [2] = 0x40,  [3] = 0x40,  [4] = 0x80,
	    [5] = 0x40,	 [6] = 0x40,  [7] = 0xc0,  [8] = 0xc0,
	    [9] = 0x80,	 [10] = 0x80, [14] = 0x80, [15] = 0x80,
	    [16] = 0xc0, [17] = 0xc0, [18] = 0xc0, [32] = 0xc0,
	};
	uint8_t flags = a[0], type = a[1], want = type <= 32 ? known[type] : 0;
	const uint8_t *v = a + hl;
	size_t n, aggr = as4 ? 8 : 6;

	if (!want && !(flags & 0x80)) {
		fail(e, 3, 2, "unrecognized well-known attribute");
		n = hl + len < sizeof e->data ? hl + len : sizeof e->data;
		memcpy(e->data, a, n);
		e->datalen = (uint8_t)n;
		return -1;
	}
	if (!want)
		return 0; /* an optional attribute we do not know: ignored */
	/* the partial bit only on an optional transitive attribute */
	if ((flags & 0xc0) != want || ((flags & 0x20) && want != 0xc0)) {
		soft(u, UPD_WITHDRAW, 4, "attribute flags error", a, hl + len);
		return 0;
	}
	switch (type) {
	case 1: /* ORIGIN */
		if (len != 1)
			soft(u, UPD_WITHDRAW, 5, "attribute length error", a,
			     hl + len);
		else if (v[0] > 2)
			soft(u, UPD_WITHDRAW, 6, "invalid ORIGIN attribute", a,
			     hl + len);
		break;
	case 2: /* AS_PATH */
		if (!path_ok(v, len, as4 ? 4 : 2))
			soft(u, UPD_WITHDRAW, 11, "malformed AS_PATH", a,
			     hl + len);
		break;
	case 3: /* NEXT_HOP */
	case 4: /* MULTI_EXIT_DISC */
	case 5: /* LOCAL_PREF */
		if (len != 4)
			soft(u, UPD_WITHDRAW, 5, "attribute length error", a,
			     hl + len);
		break;
	case 6: /* ATOMIC_AGGREGATE */
		if (len != 0)
			soft(u, UPD_DISCARD, 5, "attribute length error", a,
			     hl + len);
		break;
	case 7:	 /* AGGREGATOR */
	case 18: /* AS4_AGGREGATOR */
		if (len != (type == 7 ? aggr : 8))
			soft(u, UPD_DISCARD, 9, "optional attribute error", a,
			     hl + len);
		break;
	case 17: /* AS4_PATH (RFC 6793: discarded when malformed) */
		if (!path_ok(v, len, 4))
			soft(u, UPD_DISCARD, 9, "optional attribute error", a,
			     hl + len);
		break;
	case 9: /* ORIGINATOR_ID */
		if (len != 4)
			soft(u, UPD_WITHDRAW, 9, "optional attribute error", a,
			     hl + len);
		break;
	case 8:	 /* COMMUNITIES */
	case 10: /* CLUSTER_LIST */
	case 16: /* EXTENDED COMMUNITIES */
	case 32: /* LARGE_COMMUNITY (RFC 8092) */
		n = type == 16 ? 8 : type == 32 ? 12 : 4;
		if (len == 0 || len % n)
			soft(u, UPD_WITHDRAW, 9, "optional attribute error", a,
			     hl + len);
		break;
	}
	return 0;
}

/* Fills e for a reset over attribute a: code 3, sub, the attribute. */
static int
reset_attr(struct bgp_err *e, uint8_t sub, const char *why, const uint8_t *a,
	   size_t n)
{
	fail(e, 3, sub, why);
	if (n > sizeof e->data)
		n = sizeof e->data;
	memcpy(e->data, a, n);
	e->datalen = (uint8_t)n;
	return -1;
}

int
bgp_parse_update(const uint8_t *p, size_t n, int as4, struct bgp_update *u,
		 struct bgp_err *e)
{
	size_t wlen, alen, l, hl, nhl;
	uint8_t flags, type;
	const uint8_t *a, *v;
	uint32_t seen[8] = {0};
	int mp_unreach_empty = 0, nattr = 0, reach, k;

	memset(u, 0, sizeof *u);
	/* The lengths that locate the fields: without them, nothing goes. */
	if (n < 4)
		return fail(e, 3, 1, "short UPDATE");
	wlen = wire_get16(p);
	if (wlen + 4 > n)
		return fail(e, 3, 1, "withdrawn routes overrun UPDATE");
	if (count_prefixes(p + 2, wlen, 32, &u->nwithdraw) == -1)
		return fail(e, 3, 10, "bad withdrawn route");
	alen = wire_get16(p + 2 + wlen);
	if (wlen + 4 + alen > n)
		return fail(e, 3, 1, "attributes overrun UPDATE");
	a = p + 4 + wlen;
	l = alen;
	while (l > 0) {
		/*
		 * RFC 7606 section 4: an attribute list that does not add up
		 * withdraws; the total length still locates the NLRI. Unless
		 * it is a multiprotocol attribute that cannot be read.
		 */
		hl = l >= 1 && (a[0] & 0x10) ? 4 : 3;
		if (l < hl ||
		    hl + ((a[0] & 0x10) ? wire_get16(a + 2) : a[2]) > l) {
			if (l >= 2 && (a[1] == 14 || a[1] == 15))
				return reset_attr(e, 9,
						  "multiprotocol attribute "
						  "overruns the list",
						  a, l);
			soft(u, UPD_WITHDRAW, 1, "malformed attribute list", a,
			     l);
			break;
		}
		flags = a[0];
		type = a[1];
		nhl = (flags & 0x10) ? wire_get16(a + 2) : a[2];
		v = a + hl;
		nattr++;
		if (seen[type / 32] & (1u << (type % 32))) {
			/* RFC 7606 3(g): the first one stands */
			if (type == 14 || type == 15)
				return reset_attr(e, 1,
						  "multiprotocol attribute "
						  "twice",
						  a, hl + nhl);
			soft(u, UPD_DISCARD, 1, "duplicate attribute", a,
			     hl + nhl);
			goto next;
		}
		seen[type / 32] |= 1u << (type % 32);
		if (check_attr(a, hl, nhl, as4, u, e) == -1)
			return -1;
		if (type == 14) { /* MP_REACH_NLRI: AFI SAFI NHLEN NH 0 NLRI */
			if (nhl < 5 || (size_t)v[3] + 5 > nhl)
				return reset_attr(e, 9, "bad MP_REACH_NLRI", a,
						  hl + nhl);
			if (count_prefixes(v + 5 + v[3], nhl - 5 - v[3],
					   mp_maxlen(v), &u->nannounce) == -1)
				return reset_attr(e, 9,
						  "bad MP_REACH_NLRI prefix", a,
						  hl + nhl);
		}
		if (type == 15) { /* MP_UNREACH_NLRI: AFI SAFI NLRI */
			if (nhl < 3)
				return reset_attr(e, 9, "bad MP_UNREACH_NLRI",
						  a, hl + nhl);
			if (count_prefixes(v + 3, nhl - 3, mp_maxlen(v),
					   &u->nwithdraw) == -1)
				return reset_attr(e, 9,
						  "bad MP_UNREACH_NLRI prefix",
						  a, hl + nhl);
			if (nhl == 3)
				mp_unreach_empty = 1;
		}
	next:
		a += hl + nhl;
		l -= hl + nhl;
	}
	a = p + 4 + wlen + alen;
	l = n - 4 - wlen - alen;
	if (count_prefixes(a, l, 32, &u->nannounce) == -1)
		return fail(e, 3, 10, "bad NLRI");
	/*
	 * RFC 4271 5.1 / RFC 4760 3: what every route must carry; missing,
	 * it withdraws (RFC 7606 3(d)).
	 */
	reach = l > 0 || (seen[0] & (1u << 14));
	for (k = 1; k <= 3 && reach; k++) {
		uint8_t t = (uint8_t)k;

		if (k == 3 && l == 0)
			break; /* NEXT_HOP: MP_REACH_NLRI has its own */
		if (!(seen[0] & (1u << k)))
			soft(u, UPD_WITHDRAW, 3, "missing well-known attribute",
			     &t, 1);
	}
	if ((n == 4) || (mp_unreach_empty && nattr == 1 && wlen == 0 && l == 0))
		u->eor = 1;
	return 0;
}

int
bgp_parse_refresh(const uint8_t *p, size_t n, int *fam, struct bgp_err *e)
{
	if (n != 4)
		return fail(e, 1, 2, "bad ROUTE-REFRESH length");
	*fam = -1;
	if (p[3] == 1 && wire_get16(p) == 1)
		*fam = FAM4;
	if (p[3] == 1 && wire_get16(p) == 2)
		*fam = FAM6;
	return 0;
}

const char *
bgp_err_name(uint8_t code, uint8_t sub)
{
	static const char *hdr[] = {"message header error",
				    "connection not synchronized",
				    "bad message length", "bad message type"};
	static const char *open[] = {"OPEN message error",
				     "unsupported version number",
				     "bad peer AS",
				     "bad BGP identifier",
				     "unsupported optional parameter",
				     "?",
				     "unacceptable hold time",
				     "unsupported capability"};
	static const char *upd[] = {"UPDATE message error",
				    "malformed attribute list",
				    "unrecognized well-known attribute",
				    "missing well-known attribute",
				    "attribute flags error",
				    "attribute length error",
				    "invalid ORIGIN attribute",
				    "?",
				    "invalid NEXT_HOP attribute",
				    "optional attribute error",
				    "invalid network field",
				    "malformed AS_PATH"};
	static const char *cease[] = {"cease",
				      "maximum prefixes reached",
				      "administrative shutdown",
				      "peer de-configured",
				      "administrative reset",
				      "connection rejected",
				      "other configuration change",
				      "connection collision resolution",
				      "out of resources",
				      "hard reset"};

	switch (code) {
	case 1:
		return sub < 4 ? hdr[sub] : hdr[0];
	case 2:
		return sub < 8 ? open[sub] : open[0];
	case 3:
		return sub < 12 ? upd[sub] : upd[0];
	case 4:
		return "hold timer expired";
	case 5:
		return "finite state machine error";
	case 6:
		return sub < 10 ? cease[sub] : cease[0];
	}
	return "unknown error code";
}
