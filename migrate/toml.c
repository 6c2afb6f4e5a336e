/*
 * toml: the strict TOML subset of toml.h, by recursive descent over the
 * text, one line counter for the messages.
 */
#include "toml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ps {
	const char *p, *end;
	int line;
	const char *table;
	struct toml *t;
	char *err;
	size_t errlen;
	int nomem;
};

static int
fail(struct ps *s, const char *fmt, ...)
{
	va_list ap;

	if (s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
nomem(struct ps *s)
{
	s->nomem = 1;
	return fail(s, "out of memory");
}

/* The length of the UTF-8 sequence at p (strict), or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
is_ctrl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void
skip_ws(struct ps *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
}

/* A newline (LF or CRLF) at p? Its length, else 0. */
static size_t
newline(const struct ps *s)
{
	if (s->p < s->end && *s->p == '\n')
		return 1;
	if (s->end - s->p >= 2 && s->p[0] == '\r' && s->p[1] == '\n')
		return 2;
	return 0;
}

/* Blanks, an optional comment, then a newline or the end. */
static int
end_of_line(struct ps *s)
{
	size_t n;

	skip_ws(s);
	if (s->p < s->end && *s->p == '#')
		while (s->p < s->end && !newline(s)) {
			if (*s->p != '\r' && is_ctrl((unsigned char)*s->p))
				return fail(s, "control character in a "
					       "comment");
			s->p++;
		}
	if (s->p == s->end)
		return 0;
	if (!(n = newline(s)))
		return fail(s, "expected the end of the line");
	s->p += n;
	s->line++;
	return 0;
}

/* Blanks, comments and newlines, as arrays allow between values. */
static int
skip_array_space(struct ps *s)
{
	for (;;) {
		skip_ws(s);
		if (s->p < s->end && (*s->p == '#' || newline(s))) {
			if (end_of_line(s) == -1)
				return -1;
			continue;
		}
		return 0;
	}
}

/* Appends the UTF-8 encoding of cp to b (room for 4 bytes). */
static size_t
put_utf8(char *b, unsigned long cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* "..." or '...' on one line into *out (malloc'd). */
static int
string(struct ps *s, char **out)
{
	char q = *s->p, *b, *w;
	const char *start;
	unsigned long cp;
	size_t n, k;

	if (s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q)
		return fail(s, "multi-line strings are not supported");
	start = ++s->p;
	while (s->p < s->end && *s->p != q && !newline(s) && *s->p != '\r')
		s->p += q == '"' && *s->p == '\\' && s->p + 1 < s->end &&
				s->p[1] != '\n' && s->p[1] != '\r'
			    ? 2
			    : 1;
	if (s->p >= s->end || *s->p != q)
		return fail(s, "a string without its closing %c", q);
	/* The result is never longer than the source. */
	if (!(b = w = malloc((size_t)(s->p - start) + 1)))
		return nomem(s);
	for (const char *c = start; c < s->p;) {
		if (is_ctrl((unsigned char)*c)) {
			free(b);
			return fail(s, "control character in a string");
		}
		if (q == '\'' || *c != '\\') {
			*w++ = *c++;
			continue;
		}
		c++;
		switch (*c++) {
		case 'b':
			*w++ = '\b';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case '"':
			*w++ = '"';
			break;
		case '\\':
			*w++ = '\\';
			break;
		case 'u':
		case 'U':
			n = c[-1] == 'u' ? 4 : 8;
			if ((size_t)(s->p - c) < n)
				goto bad_escape;
			for (cp = 0, k = 0; k < n; k++, c++) {
				int h = *c >= '0' && *c <= '9'	 ? *c - '0'
					: *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
					: *c >= 'A' && *c <= 'F' ? *c - 'A' + 10
								 : -1;
				if (h < 0)
					goto bad_escape;
				cp = cp << 4 | (unsigned)h;
			}
			if (cp == 0 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff)) {
				free(b);
				return fail(s, "\\u escape of a NUL, a "
					       "surrogate or past U+10FFFF");
			}
			/* 4 bytes from 6 or 10 of source: it fits. */
			w += put_utf8(w, cp);
			break;
		default:
			goto bad_escape;
		}
	}
	*w = '\0';
	s->p++;
	*out = b;
	return 0;
bad_escape:
	free(b);
	return fail(s, "bad escape in a string");
}

static int
delimiter(const struct ps *s)
{
	return s->p == s->end || *s->p == ' ' || *s->p == '\t' ||
	       *s->p == ',' || *s->p == ']' || *s->p == '#' || *s->p == '\r' ||
	       *s->p == '\n';
}

static int
integer(struct ps *s, long long *out)
{
	int neg = 0, digits = 0;
	unsigned long long v = 0, lim;

	if (*s->p == '+' || *s->p == '-')
		neg = *s->p++ == '-';
	if (s->end - s->p >= 2 && s->p[0] == '0' &&
	    (s->p[1] == 'x' || s->p[1] == 'o' || s->p[1] == 'b'))
		return fail(s, "hexadecimal, octal and binary integers are "
			       "not supported");
	if (s->p < s->end && *s->p == '0' && s->end - s->p >= 2 &&
	    s->p[1] >= '0' && s->p[1] <= '9')
		return fail(s, "an integer with a leading zero");
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	while (s->p < s->end) {
		if (*s->p == '_') {
			if (!digits || s->p + 1 == s->end || s->p[1] < '0' ||
			    s->p[1] > '9')
				return fail(s, "'_' not between two digits");
			s->p++;
			continue;
		}
		if (*s->p < '0' || *s->p > '9')
			break;
		if (v > (lim - (unsigned)(*s->p - '0')) / 10)
			return fail(s, "an integer out of range");
		v = v * 10 + (unsigned)(*s->p++ - '0');
		digits++;
	}
	if (!digits)
		return fail(s, "expected a value");
	if (!delimiter(s)) {
		if (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
		    *s->p == '-' || *s->p == ':')
			return fail(s, "floats, dates and times are not "
				       "supported");
		return fail(s, "unexpected characters after a number");
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

static int value(struct ps *s, struct toml_val *v, int in_array);

static void
val_free(struct toml_val *v)
{
	size_t i;

	free(v->s);
	for (i = 0; i < v->n; i++)
		val_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof *v);
}

static int
array(struct ps *s, struct toml_val *v)
{
	struct toml_val *n;

	s->p++;
	v->type = TOML_ARRAY;
	for (;;) {
		if (skip_array_space(s) == -1)
			return -1;
		if (s->p < s->end && *s->p == ']')
			break;
		n = realloc(v->items, (v->n + 1) * sizeof *n);
		if (!n)
			return nomem(s);
		v->items = n;
		memset(&v->items[v->n], 0, sizeof *n);
		if (value(s, &v->items[v->n++], 1) == -1)
			return -1;
		if (skip_array_space(s) == -1)
			return -1;
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']')
			break;
		return fail(s, "expected , or ] in an array");
	}
	s->p++;
	return 0;
}

static int
word(struct ps *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return 0;
	s->p += n;
	if (!delimiter(s)) {
		s->p -= n;
		return 0;
	}
	return 1;
}

static int
value(struct ps *s, struct toml_val *v, int in_array)
{
	if (s->p == s->end || newline(s) || *s->p == '#')
		return fail(s, "expected a value");
	switch (*s->p) {
	case '"':
	case '\'':
		v->type = TOML_STRING;
		return string(s, &v->s);
	case '[':
		if (in_array)
			return fail(s, "nested arrays are not supported");
		return array(s, v);
	case '{':
		return fail(s, "inline tables are not supported");
	}
	if (word(s, "true") || word(s, "false")) {
		v->type = TOML_BOOL;
		v->b = s->p[-1] == 'e' && s->p[-2] == 'u';
		return 0;
	}
	if (word(s, "inf") || word(s, "nan") || word(s, "+inf") ||
	    word(s, "-inf") || word(s, "+nan") || word(s, "-nan"))
		return fail(s, "floats are not supported");
	if ((*s->p >= '0' && *s->p <= '9') || *s->p == '+' || *s->p == '-') {
		v->type = TOML_INT;
		return integer(s, &v->i);
	}
	return fail(s, "expected a value (a string, an integer, true, "
		       "false or an array)");
}

static int
bare_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
key(struct ps *s, char **out)
{
	const char *start = s->p;

	if (s->p < s->end && (*s->p == '"' || *s->p == '\'')) {
		if (string(s, out) == -1)
			return -1;
	} else {
		while (s->p < s->end && bare_char(*s->p))
			s->p++;
		if (s->p == start)
			return fail(s, "expected a key");
		if (!(*out = strndup(start, (size_t)(s->p - start))))
			return nomem(s);
	}
	skip_ws(s);
	if (s->p < s->end && *s->p == '.') {
		free(*out);
		*out = NULL;
		return fail(s, "dotted keys are not supported");
	}
	return 0;
}

static int
add_table(struct ps *s, char *name)
{
	struct toml *t = s->t;
	char **n;
	size_t i;

	for (i = 0; i < t->ntables; i++)
		if (strcmp(t->tables[i], name) == 0) {
			free(name);
			return fail(s, "table [%s] given twice", t->tables[i]);
		}
	for (i = 0; i < t->n; i++)
		if (t->kv[i].table[0] == '\0' &&
		    strcmp(t->kv[i].key, name) == 0) {
			free(name);
			return fail(s, "%s is a key already, not a table",
				    t->kv[i].key);
		}
	if (!(n = realloc(t->tables, (t->ntables + 1) * sizeof *n))) {
		free(name);
		return nomem(s);
	}
	t->tables = n;
	t->tables[t->ntables++] = name;
	s->table = name;
	return 0;
}

static int
keyval(struct ps *s)
{
	struct toml *t = s->t;
	struct toml_kv kv = {0}, *n;
	size_t i;

	kv.line = s->line;
	if (key(s, &kv.key) == -1)
		return -1;
	if (s->p == s->end || *s->p != '=') {
		free(kv.key);
		return fail(s, "expected = after the key");
	}
	s->p++;
	skip_ws(s);
	if (value(s, &kv.v, 0) == -1)
		goto fail;
	if (end_of_line(s) == -1)
		goto fail;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->kv[i].table, s->table) == 0 &&
		    strcmp(t->kv[i].key, kv.key) == 0) {
			s->line = kv.line;
			fail(s, "%s given twice", kv.key);
			goto fail;
		}
	if (s->table[0] == '\0')
		for (i = 0; i < t->ntables; i++)
			if (strcmp(t->tables[i], kv.key) == 0) {
				s->line = kv.line;
				fail(s, "%s is a table already, not a key",
				     kv.key);
				goto fail;
			}
	if (!(kv.table = strdup(s->table)) ||
	    !(n = realloc(t->kv, (t->n + 1) * sizeof *n))) {
		nomem(s);
		goto fail;
	}
	t->kv = n;
	t->kv[t->n++] = kv;
	return 0;
fail:
	free(kv.key);
	free(kv.table);
	val_free(&kv.v);
	return -1;
}

static int
header(struct ps *s)
{
	char *name;

	if (s->end - s->p >= 2 && s->p[1] == '[')
		return fail(s, "arrays of tables ([[...]]) are not supported");
	s->p++;
	skip_ws(s);
	if (key(s, &name) == -1)
		return -1;
	if (s->p == s->end || *s->p != ']') {
		free(name);
		return fail(s, "expected ] after the table name");
	}
	s->p++;
	if (add_table(s, name) == -1)
		return -1;
	return end_of_line(s);
}

int
toml_parse(const char *text, size_t len, struct toml *t, char *err,
	   size_t errlen, int *line)
{
	struct ps s = {.p = text,
		       .end = text + len,
		       .line = 1,
		       .table = "",
		       .t = t,
		       .err = err,
		       .errlen = errlen};
	const char *c;
	size_t n;

	memset(t, 0, sizeof *t);
	for (c = text; c < s.end; c += n) {
		if (!(n = utf8_len((const unsigned char *)c,
				   (const unsigned char *)s.end))) {
			for (const char *l = text; l < c; l++)
				s.line += *l == '\n';
			fail(&s, "not UTF-8");
			goto fail;
		}
	}
	while (s.p < s.end) {
		skip_ws(&s);
		if (s.p == s.end)
			break;
		if (*s.p == '#' || newline(&s)) {
			if (end_of_line(&s) == -1)
				goto fail;
			continue;
		}
		if ((*s.p == '[' ? header(&s) : keyval(&s)) == -1)
			goto fail;
	}
	return 0;
fail:
	toml_free(t);
	*line = s.line;
	if (s.nomem)
		errno = ENOMEM;
	else
		errno = EINVAL;
	return -1;
}

void
toml_free(struct toml *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->kv[i].table);
		free(t->kv[i].key);
		val_free(&t->kv[i].v);
	}
	free(t->kv);
	for (i = 0; i < t->ntables; i++)
		free(t->tables[i]);
	free(t->tables);
	memset(t, 0, sizeof *t);
}
