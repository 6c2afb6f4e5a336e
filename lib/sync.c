/*
 * sync: the Go dnstap-bgp's JSON entries, streamed through yajl (see sync.h).
 */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

static const char *const sync_errs[SYNC_E_COUNT_] = {
    [SYNC_OK] = "ok",	      [SYNC_E_NULL] = "null entry",
    [SYNC_E_IP] = "bad IP",   [SYNC_E_DOMAIN] = "bad Domain",
    [SYNC_E_TIME] = "bad TS", [SYNC_E_TAG] = "bad Tag",
};

const char *
sync_strerror(enum sync_err e)
{
	return (unsigned)e < SYNC_E_COUNT_ ? sync_errs[e] : "?";
}

enum key { K_NONE, K_IP, K_DOMAIN, K_TS, K_TAG, K_OTHER };

struct sync_parser {
	yajl_handle y;
	enum sync_mode mode;
	sync_entry_cb cb;
	void *arg;
	unsigned depth;	      /* open containers */
	unsigned entry_depth; /* depth inside an entry object */
	enum key key;	      /* the key whose value comes next */
	int done;	      /* the top-level value is complete */
	int seen;	      /* a byte other than white space came */
	int failed;
	uint64_t count;
	struct sync_raw raw;
	/* token scanner state, ahead of yajl */
	int in_str, esc;
	size_t run;
	char err[160];
};

static int
fail(struct sync_parser *p, const char *why)
{
	if (!p->failed)
		snprintf(p->err, sizeof p->err, "%s", why);
	p->failed = 1;
	return 0; /* yajl: cancel */
}

/* A scalar or container where an entry or a known field's string belongs. */
static int
wrong_type(struct sync_parser *p, const char *what)
{
	char buf[96];

	if (p->depth == 0) {
		snprintf(buf, sizeof buf, "wrong type: %s at the top level",
			 what);
		return fail(p, buf);
	}
	if (p->depth == p->entry_depth && p->key != K_OTHER) {
		snprintf(buf, sizeof buf, "wrong type: %s for a string field",
			 what);
		return fail(p, buf);
	}
	if (p->depth == p->entry_depth - 1) {
		snprintf(buf, sizeof buf, "wrong type: %s for an entry", what);
		return fail(p, buf);
	}
	return 1; /* inside an unknown field: ignored, as Go does */
}

static int
y_null(void *ctx)
{
	struct sync_parser *p = ctx;

	if (p->depth == 0 && p->mode == SYNC_ARRAY) {
		p->done = 1; /* an empty cache */
		return 1;
	}
	if (p->depth == p->entry_depth) {
		/* a null field leaves it unset, as in Go */
		p->key = K_NONE;
		return 1;
	}
	if (p->depth == p->entry_depth - 1) {
		memset(&p->raw, 0, sizeof p->raw);
		p->raw.null = 1;
		p->count++;
		if (p->depth == 0)
			p->done = 1;
		return p->cb(&p->raw, p->arg) ? fail(p, "stopped") : 1;
	}
	return 1;
}

static int
y_bool(void *ctx, int v)
{
	(void)v;
	return wrong_type(ctx, "boolean");
}

static int
y_number(void *ctx, const char *s, size_t n)
{
	(void)s;
	(void)n;
	return wrong_type(ctx, "number");
}

static int
y_string(void *ctx, const unsigned char *s, size_t n)
{
	struct sync_parser *p = ctx;
	char *dst;
	size_t cap, *len;
	unsigned bit;

	if (p->depth != p->entry_depth)
		return wrong_type(p, "string");
	switch (p->key) {
	case K_IP:
		dst = p->raw.ip, cap = sizeof p->raw.ip, len = &p->raw.ip_len;
		bit = SYNC_F_IP;
		break;
	case K_DOMAIN:
		dst = p->raw.domain, cap = sizeof p->raw.domain;
		len = &p->raw.domain_len, bit = SYNC_F_DOMAIN;
		break;
	case K_TS:
		dst = p->raw.ts, cap = sizeof p->raw.ts, len = &p->raw.ts_len;
		bit = SYNC_F_TS;
		break;
	case K_TAG:
		dst = p->raw.tag, cap = sizeof p->raw.tag,
		len = &p->raw.tag_len;
		bit = SYNC_F_TAG;
		break;
	default:
		p->key = K_NONE;
		return 1;
	}
	p->key = K_NONE;
	p->raw.have |= bit;
	if (n >= cap) {
		p->raw.toolong |= bit;
		n = 0;
	} else {
		p->raw.toolong &= ~bit;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	*len = n;
	return 1;
}

static int
open_container(struct sync_parser *p, int is_map)
{
	if (p->depth >= SYNC_DEPTH_MAX)
		return fail(p, "nested too deeply");
	if (p->depth == 0 && p->mode == SYNC_ARRAY && !is_map) {
		p->depth++;
		return 1;
	}
	if (is_map && p->depth == p->entry_depth - 1) {
		memset(&p->raw, 0, sizeof p->raw);
		p->key = K_NONE;
		p->depth++;
		return 1;
	}
	if (!wrong_type(p, is_map ? "object" : "array"))
		return 0;
	p->key = K_NONE;
	p->depth++;
	return 1;
}

static int
y_start_map(void *ctx)
{
	return open_container(ctx, 1);
}

static int
y_start_array(void *ctx)
{
	return open_container(ctx, 0);
}

static int
y_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct sync_parser *p = ctx;

	if (p->depth != p->entry_depth)
		return 1;
	/* encoding/json matches field names case-insensitively */
	if (n == 2 && strncasecmp((const char *)s, "ip", 2) == 0)
		p->key = K_IP;
	else if (n == 6 && strncasecmp((const char *)s, "domain", 6) == 0)
		p->key = K_DOMAIN;
	else if (n == 2 && strncasecmp((const char *)s, "ts", 2) == 0)
		p->key = K_TS;
	else if (n == 3 && strncasecmp((const char *)s, "tag", 3) == 0)
		p->key = K_TAG;
	else
		p->key = K_OTHER;
	return 1;
}

static int
y_end_map(void *ctx)
{
	struct sync_parser *p = ctx;

	p->depth--;
	p->key = K_NONE;
	if (p->depth == p->entry_depth - 1) {
		p->count++;
		if (p->depth == 0)
			p->done = 1;
		if (p->cb(&p->raw, p->arg))
			return fail(p, "stopped");
	}
	return 1;
}

static int
y_end_array(void *ctx)
{
	struct sync_parser *p = ctx;

	p->depth--;
	p->key = K_NONE;
	if (p->depth == 0)
		p->done = 1;
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = y_null,
    .yajl_boolean = y_bool,
    .yajl_number = y_number,
    .yajl_string = y_string,
    .yajl_start_map = y_start_map,
    .yajl_map_key = y_map_key,
    .yajl_end_map = y_end_map,
    .yajl_start_array = y_start_array,
    .yajl_end_array = y_end_array,
};

struct sync_parser *
sync_parser_new(enum sync_mode mode, sync_entry_cb cb, void *arg)
{
	struct sync_parser *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->mode = mode;
	p->cb = cb;
	p->arg = arg;
	p->entry_depth = mode == SYNC_ARRAY ? 2 : 1;
	p->y = yajl_alloc(&callbacks, NULL, p);
	if (!p->y) {
		free(p);
		return NULL;
	}
	/* names are checked byte by byte later; Go does not refuse bad UTF-8 */
	yajl_config(p->y, yajl_dont_validate_strings, 1);
	return p;
}

void
sync_parser_free(struct sync_parser **pp)
{
	if (!*pp)
		return;
	yajl_free((*pp)->y);
	free(*pp);
	*pp = NULL;
}

/*
 * yajl copies a token that spans two chunks into a buffer that grows without
 * bound; this scan refuses any token longer than SYNC_TOKEN_MAX first.
 */
static int
scan(struct sync_parser *p, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = b[i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			p->seen = 1;

		if (p->in_str) {
			p->run++;
			if (p->esc)
				p->esc = 0;
			else if (c == '\\')
				p->esc = 1;
			else if (c == '"')
				p->in_str = 0, p->run = 0;
		} else if (c == '"') {
			p->in_str = 1, p->run = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
			   c == '{' || c == '}' || c == '[' || c == ']' ||
			   c == ',' || c == ':') {
			p->run = 0;
		} else {
			p->run++;
		}
		if (p->run > SYNC_TOKEN_MAX)
			return -1;
	}
	return 0;
}

static int
yajl_failed(struct sync_parser *p, const unsigned char *b, size_t n)
{
	unsigned char *msg;

	if (!p->failed) {
		msg = yajl_get_error(p->y, 0, b, n);
		snprintf(p->err, sizeof p->err, "parse error: %s",
			 msg ? (const char *)msg : "?");
		if (msg)
			yajl_free_error(p->y, msg);
		/* yajl's message ends with a newline */
		p->err[strcspn(p->err, "\n")] = '\0';
		p->failed = 1;
	}
	return -1;
}

int
sync_parser_feed(struct sync_parser *p, const void *buf, size_t n)
{
	if (p->failed)
		return -1;
	if (scan(p, buf, n) == -1) {
		fail(p, "token too long");
		return -1;
	}
	if (yajl_parse(p->y, buf, n) != yajl_status_ok)
		return yajl_failed(p, buf, n);
	return 0;
}

int
sync_parser_finish(struct sync_parser *p)
{
	if (p->failed)
		return -1;
	/*
	 * Every byte parsed (a bad one fails at feed): what yajl finds wrong
	 * now is a value cut short.
	 */
	if (!p->seen) {
		fail(p, "empty body");
		return -1;
	}
	if (yajl_complete_parse(p->y) != yajl_status_ok || !p->done) {
		fail(p, "truncated JSON: the body ends inside a value");
		return -1;
	}
	return 0;
}

const char *
sync_parser_error(const struct sync_parser *p)
{
	return p->failed ? p->err : "";
}

uint64_t
sync_parser_count(const struct sync_parser *p)
{
	return p->count;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t
sync_time_format(char *buf, size_t cap, int64_t us)
{
	int64_t days, y, secs;
	unsigned mo, d, frac;
	char tmp[SYNC_TIME_MAX];
	int n, k;

	if (us < 0)
		us = 0;
	days = us / 86400000000LL;
	secs = (us / 1000000) % 86400;
	frac = (unsigned)(us % 1000000);
	civil_from_days(days, &y, &mo, &d);
	n = snprintf(tmp, sizeof tmp, "%04lld-%02u-%02uT%02u:%02u:%02u",
		     (long long)y, mo, d, (unsigned)(secs / 3600),
		     (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	if (n < 0 || (size_t)n >= sizeof tmp - 10)
		return 0;
	if (frac) {
		/* Go's .999999999: the fraction without trailing zeros */
		k = snprintf(tmp + n, sizeof tmp - (size_t)n, ".%06u", frac);
		n += k;
		while (tmp[n - 1] == '0')
			n--;
	}
	tmp[n++] = 'Z';
	if ((size_t)n > cap)
		return 0;
	memcpy(buf, tmp, (size_t)n);
	return (size_t)n;
}

static int
digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int
sync_time_parse(const char *s, size_t len, int64_t *us)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, oh, om, frac = 0, fd = 0, dim;
	size_t i = 19;
	int64_t t, off = 0;

	/* 2006-01-02T15:04:05 */
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -1;
	dim = mdays[mo - 1] +
	      (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > dim)
		return -1;
	/* Go accepts a fraction of any length; we keep microseconds */
	if (s[i] == '.' || s[i] == ',') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return -1;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (fd < 6)
				frac = frac * 10 + (unsigned)(s[i] - '0');
			fd++;
		}
		for (; fd < 6; fd++)
			frac *= 10;
	}
	if (i + 1 == len && s[i] == 'Z') {
		off = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':' && digits(s + i + 1, 2, &oh) == 0 &&
		   digits(s + i + 4, 2, &om) == 0 && oh <= 23 && om <= 59) {
		off = ((int64_t)oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
	} else {
		return -1;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*us = t * 1000000 + frac;
	return 0;
}

size_t
sync_name_canon(char *out, size_t cap, const char *s, size_t len)
{
	uint8_t wire[256];
	size_t i = 0, w = 1, lab = 0, n = 0;
	unsigned v;
	unsigned char c;

	if (len == 1 && s[0] == '.')
		return rec_name_from_wire(out, cap, (const uint8_t *)"", 1);
	while (i < len) {
		c = (unsigned char)s[i];
		if (c == '.') {
			/* the end of a label; an empty one is no name */
			if (n == 0)
				return 0;
			wire[lab] = (uint8_t)n;
			lab = w++;
			n = 0;
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				return 0;
			c = (unsigned char)s[i + 1];
			if (c >= '0' && c <= '9') {
				/* \DDD: exactly three digits, at most 255 */
				if (i + 3 >= len || digits(s + i + 1, 3, &v) ||
				    v > 255)
					return 0;
				i += 4;
			} else if (c >= 0x20 && c <= 0x7e) {
				v = c;
				i += 2;
			} else {
				return 0;
			}
		} else if (c > 0x20 && c < 0x7f) {
			v = c;
			i++;
		} else {
			return 0; /* miekg/dns escapes these; raw, they are
				     noise */
		}
		if (n == 63 || w >= 255)
			return 0;
		wire[w++] = (uint8_t)v;
		n++;
	}
	if (n) {
		wire[lab] = (uint8_t)n;
		lab = w++;
	} else if (w == 1) {
		return 0; /* "" */
	}
	if (w > 255)
		return 0;
	wire[lab] = 0;
	return rec_name_from_wire(out, cap, wire, w);
}

enum sync_err
sync_entry_from_raw(struct sync_entry *e, const struct sync_raw *r,
		    int64_t now_us)
{
	size_t n;

	if (r->null)
		return SYNC_E_NULL;
	if (!(r->have & SYNC_F_IP) || (r->toolong & SYNC_F_IP) ||
	    memchr(r->ip, '/', r->ip_len) ||
	    rec_addr_parse(&e->addr, r->ip, r->ip_len, 0) == -1)
		return SYNC_E_IP;
	if (!(r->have & SYNC_F_DOMAIN) || (r->toolong & SYNC_F_DOMAIN) ||
	    r->domain_len == 0 || memchr(r->domain, '\0', r->domain_len))
		return SYNC_E_DOMAIN;
	n = sync_name_canon(e->name, sizeof e->name, r->domain, r->domain_len);
	if (n == 0)
		return SYNC_E_DOMAIN;
	e->name_len = n;
	if (!(r->have & SYNC_F_TS) || (r->toolong & SYNC_F_TS) ||
	    sync_time_parse(r->ts, r->ts_len, &e->time_us) == -1 ||
	    e->time_us < 0 || e->time_us > now_us + 300 * 1000000LL)
		return SYNC_E_TIME;
	e->tag[0] = '\0';
	e->tag_len = 0;
	if (r->have & SYNC_F_TAG) {
		if ((r->toolong & SYNC_F_TAG) || r->tag_len == 0 ||
		    memchr(r->tag, '\0', r->tag_len) ||
		    (rec_tag_check(r->tag, r->tag_len) == -1))
			return SYNC_E_TAG;
		/* "-" is how a record says "none" */
		if (!(r->tag_len == 1 && r->tag[0] == '-')) {
			memcpy(e->tag, r->tag, r->tag_len + 1);
			e->tag_len = r->tag_len;
		}
	}
	return SYNC_OK;
}

size_t
sync_entry_record(char *buf, size_t cap, const struct sync_entry *e)
{
	struct rec r;

	memset(&r, 0, sizeof r);
	r.type = REC_PEER;
	r.time_us = e->time_us;
	r.name = e->name;
	r.name_len = e->name_len;
	r.addr = e->addr;
	r.tag = "-";
	r.tag_len = 1;
	return rec_format(buf, cap, &r);
}

/* A JSON string, escaped the way encoding/json does (HTML-safe). */
static size_t
put_str(char *buf, size_t cap, size_t o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (o < cap)
		buf[o] = '"';
	o++;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t k = 0;

		if (c == '"' || c == '\\') {
			esc[k++] = '\\', esc[k++] = (char)c;
		} else if (c == '\n') {
			esc[k++] = '\\', esc[k++] = 'n';
		} else if (c == '\r') {
			esc[k++] = '\\', esc[k++] = 'r';
		} else if (c == '\t') {
			esc[k++] = '\\', esc[k++] = 't';
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			memcpy(esc, "\\u00", 4), k = 4;
			esc[k++] = hex[c >> 4], esc[k++] = hex[c & 15];
		} else if (c >= 0x80) {
			/* names are ASCII; anything else Go would make U+FFFD
			 */
			memcpy(esc, "\\ufffd", 6), k = 6;
		} else {
			esc[k++] = (char)c;
		}
		if (o + k <= cap)
			memcpy(buf + o, esc, k);
		o += k;
	}
	if (o < cap)
		buf[o] = '"';
	return o + 1;
}

static size_t
put_raw(char *buf, size_t cap, size_t o, const char *s)
{
	size_t n = strlen(s);

	if (o + n <= cap)
		memcpy(buf + o, s, n);
	return o + n;
}

size_t
sync_entry_json(char *buf, size_t cap, const struct rec_addr *addr,
		const char *name, size_t name_len, int64_t time_us,
		const char *tag)
{
	char a[64], t[SYNC_TIME_MAX];
	size_t an, tn, o = 0;

	an = rec_addr_format(a, sizeof a, addr, 0);
	tn = sync_time_format(t, sizeof t, time_us);
	if (an == 0 || tn == 0)
		return 0;
	o = put_raw(buf, cap, o, "{\"IP\":");
	o = put_str(buf, cap, o, a, an);
	o = put_raw(buf, cap, o, ",\"Domain\":");
	o = put_str(buf, cap, o, name, name_len);
	o = put_raw(buf, cap, o, ",\"TS\":");
	o = put_str(buf, cap, o, t, tn);
	if (tag && *tag) {
		o = put_raw(buf, cap, o, ",\"Tag\":");
		o = put_str(buf, cap, o, tag, strlen(tag));
	}
	o = put_raw(buf, cap, o, "}");
	return o <= cap ? o : 0;
}
