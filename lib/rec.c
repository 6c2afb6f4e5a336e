#include "rec.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const rec_types[] = {
    [REC_ANSWER] = "answer",	 [REC_PEER] = "peer",
    [REC_ANNOUNCE] = "announce", [REC_WITHDRAW] = "withdraw",
    [REC_REPLAY] = "replay",	 [REC_EOR] = "eor",
    [REC_MARK] = "mark",	 [REC_ACK] = "ack",
};

static const char *const rec_errs[] = {
    [REC_OK] = "ok",
    [REC_E_TYPE] = "unknown record type",
    [REC_E_FIELDS] = "wrong number of fields",
    [REC_E_TIME] = "bad time",
    [REC_E_NAME] = "bad name",
    [REC_E_ADDR] = "bad address",
    [REC_E_TTL] = "bad ttl",
    [REC_E_TAG] = "bad tag",
    [REC_E_CHAIN] = "bad chain",
    [REC_E_NUL] = "NUL byte in line",
    [REC_E_MARK] = "bad mark number",
};

const char *
rec_strerror(enum rec_err e)
{
	if ((unsigned)e >= REC_E_COUNT_)
		return "?";
	return rec_errs[e];
}

/* Bytes written raw in a canonical name; everything else is \DDD. */
static int
name_raw(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '*';
}

int
rec_name_check(char *s, size_t *lenp)
{
	size_t len = *lenp, i, label = 0, wire = 1;
	unsigned char c;

	if (len == 1 && s[0] == '.')
		return 0;
	if (len > 1 && s[len - 1] == '.' && s[len - 2] != '\\') {
		len--;
		s[len] = '\0';
	}
	if (len == 0 || len >= REC_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			wire += label + 1;
			label = 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z') {
			s[i] = (char)(c + 32);
		} else if (c == '\\') {
			unsigned v;

			if (len - i < 4)
				return -1;
			if (s[i + 1] < '0' || s[i + 1] > '2' ||
			    s[i + 2] < '0' || s[i + 2] > '9' ||
			    s[i + 3] < '0' || s[i + 3] > '9')
				return -1;
			v = (unsigned)(s[i + 1] - '0') * 100 +
			    (unsigned)(s[i + 2] - '0') * 10 +
			    (unsigned)(s[i + 3] - '0');
			/* Only the canonical spelling: one name, one key. */
			if (v > 255 || name_raw((unsigned char)v) ||
			    (v >= 'A' && v <= 'Z'))
				return -1;
			i += 3;
		} else if (!name_raw(c))
			return -1;
		if (++label > 63)
			return -1;
	}
	if (label == 0)
		return -1;
	wire += label + 1;
	if (wire > 255)
		return -1;
	*lenp = len;
	return 0;
}

size_t
rec_name_from_wire(char *out, size_t cap, const uint8_t *wire, size_t wirelen)
{
	size_t i = 0, o = 0, n;
	unsigned char c;

	if (wirelen == 0 || wirelen > 255)
		return 0;
	if (wire[0] == 0) {
		if (cap < 2)
			return 0;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (i < wirelen && wire[i] != 0) {
		n = wire[i++];
		if (n > 63 || i + n >= wirelen)
			return 0;
		if (o && o + 1 < cap)
			out[o++] = '.';
		for (; n; n--, i++) {
			c = wire[i];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			if (name_raw(c)) {
				if (o + 1 >= cap)
					return 0;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= cap)
					return 0;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
	}
	if (i >= wirelen || o + 1 > cap)
		return 0;
	out[o] = '\0';
	return o;
}

int
rec_tag_check(const char *s, size_t len)
{
	size_t i;

	if (len == 1 && s[0] == '-')
		return 0;
	if (len == 0 || len > REC_TAG_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '-' || c == '_'))
			continue;
		return -1;
	}
	return 0;
}

void
rec_addr_set(struct rec_addr *a, const void *bytes, size_t n)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	memset(a, 0, sizeof *a);
	if (n == 16 && memcmp(bytes, mapped, 12) == 0) {
		bytes = (const uint8_t *)bytes + 12;
		n = 4;
	}
	if (n == 4) {
		a->family = 4;
		a->plen = 32;
		memcpy(a->a, bytes, 4);
	} else {
		a->family = 6;
		a->plen = 128;
		memcpy(a->a, bytes, 16);
	}
}

int
rec_addr_parse(struct rec_addr *a, const char *s, size_t len, int prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t raw[16];
	const char *slash;
	size_t alen;
	unsigned plen = 0;
	int had_len = 0, wasv6;

	if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
		return -1;
	slash = memchr(s, '/', len);
	alen = slash ? (size_t)(slash - s) : len;
	if (!slash != !prefix)
		return -1;
	if (slash) {
		const char *p = slash + 1, *end = s + len;

		if (p == end || end - p > 3)
			return -1;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			plen = plen * 10 + (unsigned)(*p - '0');
		}
		if (slash[1] == '0' && len - alen > 2)
			return -1;
		had_len = 1;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, raw) == 1) {
		rec_addr_set(a, raw, 4);
		wasv6 = 0;
	} else if (inet_pton(AF_INET6, buf, raw) == 1) {
		rec_addr_set(a, raw, 16);
		wasv6 = 1;
	} else
		return -1;
	if (had_len) {
		if (wasv6 && a->family == 4) {
			if (plen < 96)
				return -1;
			plen -= 96;
		}
		if (plen > (a->family == 4 ? 32u : 128u))
			return -1;
		a->plen = (uint8_t)plen;
		/* Host bits must be zero: one prefix, one spelling. */
		for (unsigned bit = plen; bit < (a->family == 4 ? 32u : 128u);
		     bit++)
			if (a->a[bit / 8] & (0x80 >> (bit % 8)))
				return -1;
	}
	return 0;
}

int
rec_addr_contains(const struct rec_addr *p, const struct rec_addr *a)
{
	unsigned full, rest;

	if (p->family != a->family || a->plen < p->plen)
		return 0;
	full = p->plen / 8;
	rest = p->plen % 8;
	if (memcmp(p->a, a->a, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((p->a[full] & mask) != (a->a[full] & mask))
			return 0;
	}
	return 1;
}

/* An IPv4 address as a dotted quad into p; the length. */
static size_t
ntop4(char *p, const uint8_t *a)
{
	size_t o = 0;
	unsigned i, v;

	for (i = 0; i < 4; i++) {
		v = a[i];
		if (i)
			p[o++] = '.';
		if (v >= 100)
			p[o++] = (char)('0' + v / 100);
		if (v >= 10)
			p[o++] = (char)('0' + v / 10 % 10);
		p[o++] = (char)('0' + v % 10);
	}
	return o;
}

/*
 * An IPv6 address as glibc's inet_ntop writes it (RFC 5952: lowercase, no
 * leading zeros, the first longest run of two or more zero groups as "::"),
 * including its dotted tail for ::a.b.c.d and ::ffff:a.b.c.d; without
 * stdio, which inet_ntop uses for every group.
 */
static size_t
ntop6(char *p, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8], i, best = 8, blen = 0, cur = 8, clen = 0, v;
	size_t o = 0;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur == 8)
				cur = i, clen = 0;
			if (++clen > blen)
				best = cur, blen = clen;
		} else {
			cur = 8;
		}
	}
	if (blen < 2)
		best = 8;
	for (i = 0; i < 8; i++) {
		if (best != 8 && i >= best && i < best + blen) {
			if (i == best)
				p[o++] = ':';
			continue;
		}
		if (i)
			p[o++] = ':';
		if (i == 6 && best == 0 &&
		    (blen == 6 || (blen == 5 && w[5] == 0xffff))) {
			o += ntop4(p + o, a + 12);
			return o;
		}
		v = w[i];
		if (v >= 0x1000)
			p[o++] = hex[v >> 12];
		if (v >= 0x100)
			p[o++] = hex[v >> 8 & 15];
		if (v >= 0x10)
			p[o++] = hex[v >> 4 & 15];
		p[o++] = hex[v & 15];
	}
	if (best != 8 && best + blen == 8)
		p[o++] = ':';
	return o;
}

size_t
rec_addr_format(char *buf, size_t cap, const struct rec_addr *a, int want_len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t n;
	unsigned full = a->family == 4 ? 32 : 128;

	n = a->family == 4 ? ntop4(tmp, a->a) : ntop6(tmp, a->a);
	if (want_len || a->plen != full) {
		unsigned p = a->plen;

		tmp[n++] = '/';
		if (p >= 100)
			tmp[n++] = (char)('0' + p / 100);
		if (p >= 10)
			tmp[n++] = (char)('0' + p / 10 % 10);
		tmp[n++] = (char)('0' + p % 10);
	}
	if (n + 1 > cap)
		return 0;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* Splits line at single spaces into at most max fields; returns the count. */
static size_t
split(char *line, size_t len, char **f, size_t *fl, size_t max)
{
	size_t n = 0;
	char *p = line, *end = line + len, *sp;

	while (n < max) {
		sp = memchr(p, ' ', (size_t)(end - p));
		f[n] = p;
		fl[n] = sp ? (size_t)(sp - p) : (size_t)(end - p);
		n++;
		if (!sp)
			return n;
		*sp = '\0';
		p = sp + 1;
	}
	return max + 1; /* more fields than any type has */
}

static int
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* SECONDS[.FRACTION], fraction of 1 to 9 digits, kept to microseconds. */
static int
parse_time(const char *s, size_t len, int64_t *out)
{
	const char *dot = memchr(s, '.', len);
	uint64_t sec, us = 0;
	size_t i, ilen = dot ? (size_t)(dot - s) : len, flen;

	if (parse_u64(s, ilen, (uint64_t)INT64_MAX / 1000000 - 1, &sec) == -1)
		return -1;
	if (dot) {
		flen = len - ilen - 1;
		if (flen == 0 || flen > 9)
			return -1;
		for (i = 0; i < flen; i++) {
			if (dot[1 + i] < '0' || dot[1 + i] > '9')
				return -1;
			if (i < 6)
				us = us * 10 + (uint64_t)(dot[1 + i] - '0');
		}
		for (; i < 6; i++)
			us *= 10;
	}
	*out = (int64_t)(sec * 1000000 + us);
	return 0;
}

static int
parse_chain(char *s, size_t len)
{
	size_t n = 0, nl;
	char *p = s, *end = s + len, *comma;

	if (len == 1 && s[0] == '-')
		return 0;
	while (p <= end) {
		comma = memchr(p, ',', (size_t)(end - p));
		nl = comma ? (size_t)(comma - p) : (size_t)(end - p);
		if (++n > REC_CHAIN_MAX)
			return -1;
		if (nl == 0 || (nl == 1 && p[0] == '.'))
			return -1;
		{
			/* Check in a copy: a trailing dot must not shift. */
			char tmp[REC_NAME_MAX];
			size_t tl = nl;

			if (nl >= sizeof tmp)
				return -1;
			memcpy(tmp, p, nl);
			tmp[nl] = '\0';
			if (rec_name_check(tmp, &tl) == -1 || tl != nl)
				return -1;
			memcpy(p, tmp, nl); /* lowercased */
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* A TAG field: "-" is no tag. */
static int
parse_tag(struct rec *r, const char *s, size_t len)
{
	if (rec_tag_check(s, len) == -1)
		return -1;
	r->tag = s[0] == '-' ? "" : s;
	r->tag_len = s[0] == '-' ? 0 : len;
	return 0;
}

enum rec_err
rec_parse(struct rec *r, char *line, size_t len)
{
	char *f[8];
	size_t fl[8], n;
	uint64_t v;

	memset(r, 0, sizeof *r);
	/* inet_pton and the callers' C strings would stop at a NUL. */
	if (memchr(line, '\0', len))
		return REC_E_NUL;
	n = split(line, len, f, fl, 7);
	switch (fl[0]) {
	case 6:
		if (memcmp(f[0], "answer", 6) == 0)
			r->type = REC_ANSWER;
		else if (memcmp(f[0], "replay", 6) == 0)
			r->type = REC_REPLAY;
		break;
	case 4:
		if (memcmp(f[0], "peer", 4) == 0)
			r->type = REC_PEER;
		else if (memcmp(f[0], "mark", 4) == 0)
			r->type = REC_MARK;
		break;
	case 8:
		if (memcmp(f[0], "announce", 8) == 0)
			r->type = REC_ANNOUNCE;
		else if (memcmp(f[0], "withdraw", 8) == 0)
			r->type = REC_WITHDRAW;
		break;
	case 3:
		if (memcmp(f[0], "eor", 3) == 0)
			r->type = REC_EOR;
		else if (memcmp(f[0], "ack", 3) == 0)
			r->type = REC_ACK;
		break;
	}
	if (r->type == 0)
		return REC_E_TYPE;

	switch (r->type) {
	case REC_ANSWER: /* answer TIME QNAME ADDR TTL TAG CHAIN */
		if (n != 7)
			return REC_E_FIELDS;
		if (parse_time(f[1], fl[1], &r->time_us) == -1)
			return REC_E_TIME;
		if (rec_name_check(f[2], &fl[2]) == -1)
			return REC_E_NAME;
		r->name = f[2];
		r->name_len = fl[2];
		if (rec_addr_parse(&r->addr, f[3], fl[3], 0) == -1)
			return REC_E_ADDR;
		if (parse_u64(f[4], fl[4], INT32_MAX, &v) == -1)
			return REC_E_TTL;
		r->ttl = (uint32_t)v;
		if (parse_tag(r, f[5], fl[5]) == -1)
			return REC_E_TAG;
		if (parse_chain(f[6], fl[6]) == -1)
			return REC_E_CHAIN;
		r->chain = f[6][0] == '-' ? "" : f[6];
		r->chain_len = f[6][0] == '-' ? 0 : fl[6];
		return REC_OK;
	case REC_PEER: /* peer TIME NAME ADDR TAG */
		if (n != 5)
			return REC_E_FIELDS;
		if (parse_time(f[1], fl[1], &r->time_us) == -1)
			return REC_E_TIME;
		if (rec_name_check(f[2], &fl[2]) == -1)
			return REC_E_NAME;
		r->name = f[2];
		r->name_len = fl[2];
		if (rec_addr_parse(&r->addr, f[3], fl[3], 0) == -1)
			return REC_E_ADDR;
		if (parse_tag(r, f[4], fl[4]) == -1)
			return REC_E_TAG;
		return REC_OK;
	case REC_ANNOUNCE: /* announce PREFIX TAG NAME */
	case REC_WITHDRAW:
		if (n != 4)
			return REC_E_FIELDS;
		if (rec_addr_parse(&r->addr, f[1], fl[1], 1) == -1)
			return REC_E_ADDR;
		if (parse_tag(r, f[2], fl[2]) == -1)
			return REC_E_TAG;
		if (rec_name_check(f[3], &fl[3]) == -1)
			return REC_E_NAME;
		r->name = f[3];
		r->name_len = fl[3];
		return REC_OK;
	case REC_REPLAY:
	case REC_EOR:
		return n == 1 ? REC_OK : REC_E_FIELDS;
	case REC_MARK: /* mark N */
	case REC_ACK:  /* ack N */
		if (n != 2)
			return REC_E_FIELDS;
		if (parse_u64(f[1], fl[1], UINT64_MAX, &r->mark) == -1)
			return REC_E_MARK;
		return REC_OK;
	}
	return REC_E_TYPE;
}

/* Appends; returns the new offset, or cap+1 once it no longer fits. */
static size_t
put(char *buf, size_t cap, size_t o, const char *s, size_t n)
{
	if (o > cap || n > cap - o)
		return cap + 1;
	memcpy(buf + o, s, n);
	return o + n;
}

static size_t
put_field(char *buf, size_t cap, size_t o, const char *s, size_t n)
{
	o = put(buf, cap, o, " ", 1);
	if (n == 0)
		return put(buf, cap, o, "-", 1);
	return put(buf, cap, o, s, n);
}

static size_t
put_u64(char *buf, size_t cap, size_t o, uint64_t v, int minwidth)
{
	char tmp[24];
	int i = 24;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v || 24 - i < minwidth);
	return put(buf, cap, o, tmp + i, (size_t)(24 - i));
}

static size_t
put_time(char *buf, size_t cap, size_t o, int64_t us)
{
	if (us < 0)
		us = 0;
	o = put(buf, cap, o, " ", 1);
	o = put_u64(buf, cap, o, (uint64_t)us / 1000000, 1);
	o = put(buf, cap, o, ".", 1);
	return put_u64(buf, cap, o, (uint64_t)us % 1000000, 6);
}

static size_t
put_addr(char *buf, size_t cap, size_t o, const struct rec_addr *a,
	 int want_len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t n = rec_addr_format(tmp, sizeof tmp, a, want_len);

	if (n == 0)
		return cap + 1;
	o = put(buf, cap, o, " ", 1);
	return put(buf, cap, o, tmp, n);
}

size_t
rec_format(char *buf, size_t cap, const struct rec *r)
{
	size_t o;
	const char *t;

	if ((unsigned)r->type > REC_ACK || r->type == 0)
		return 0;
	t = rec_types[r->type];
	o = put(buf, cap, 0, t, strlen(t));
	switch (r->type) {
	case REC_ANSWER:
		o = put_time(buf, cap, o, r->time_us);
		o = put_field(buf, cap, o, r->name, r->name_len);
		o = put_addr(buf, cap, o, &r->addr, 0);
		o = put(buf, cap, o, " ", 1);
		o = put_u64(buf, cap, o, r->ttl, 1);
		o = put_field(buf, cap, o, r->tag, r->tag_len);
		o = put_field(buf, cap, o, r->chain, r->chain_len);
		break;
	case REC_PEER:
		o = put_time(buf, cap, o, r->time_us);
		o = put_field(buf, cap, o, r->name, r->name_len);
		o = put_addr(buf, cap, o, &r->addr, 0);
		o = put_field(buf, cap, o, r->tag, r->tag_len);
		break;
	case REC_ANNOUNCE:
	case REC_WITHDRAW:
		o = put_addr(buf, cap, o, &r->addr, 1);
		o = put_field(buf, cap, o, r->tag, r->tag_len);
		o = put_field(buf, cap, o, r->name, r->name_len);
		break;
	case REC_REPLAY:
	case REC_EOR:
		break;
	case REC_MARK:
	case REC_ACK:
		o = put(buf, cap, o, " ", 1);
		o = put_u64(buf, cap, o, r->mark, 1);
		break;
	}
	o = put(buf, cap, o, "\n", 1);
	return o > cap ? 0 : o;
}
