/*
 * list: names as people write them, the plain list format, and the format
 * dispatch; the published formats are in formats.c. Shared by
 * domain-compile, the query mode of domain-match and the list fuzzers.
 */
#include "list.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "listfmt.h"

/* A reason more useful than "bad name" for the common mistakes. */
static const char *
name_problem(const char *s, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
			continue;
		}
		if (c == '*')
			return "wildcard: list the parent name, it covers "
			       "every name below it";
		if (c == '/' || c == ':')
			return "a URL or address, not a name";
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '\\'))
			return "character not allowed in a name";
		if (++label > 63)
			return "label longer than 63 bytes";
	}
	if (len > 253)
		return "name longer than 253 bytes";
	return "bad name";
}

int
list_name(const char *in, size_t len, char *out, size_t *outlen,
	  const char **why)
{
	char tmp[REC_NAME_MAX];
	size_t i, n;
	int rc;

	if (len == 0 || (len == 1 && in[0] == '.')) {
		*why = "the root is not a list entry";
		return -1;
	}
	if (len >= REC_NAME_MAX) {
		*why = "name longer than 253 bytes";
		return -1;
	}
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)tmp[i] >= 0x80)
			break;
	if (i < len) {
		uint8_t *a = NULL;

		if (len > 1 && tmp[len - 1] == '.')
			tmp[--len] = '\0';
		/* UTS #46 non-transitional, as browsers resolve today. */
		rc = idn2_lookup_u8((const uint8_t *)tmp, &a,
				    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			*why = idn2_strerror(rc);
			return -1;
		}
		n = strlen((char *)a);
		if (n >= sizeof tmp) {
			idn2_free(a);
			*why = "name longer than 253 bytes";
			return -1;
		}
		memcpy(tmp, a, n + 1);
		idn2_free(a);
		len = n;
	}
	n = len;
	if (memchr(tmp, '*', len) || rec_name_check(tmp, &n) == -1) {
		*why = name_problem(tmp, len);
		return -1;
	}
	if (n == 1 && tmp[0] == '.') {
		*why = "the root is not a list entry";
		return -1;
	}
	memcpy(out, tmp, n + 1);
	*outlen = n;
	return 0;
}

static const char *const format_names[] = {
    [LIST_AUTO] = "auto",	[LIST_PLAIN] = "plain",
    [LIST_HOSTS] = "hosts",	[LIST_DNSMASQ] = "dnsmasq",
    [LIST_ADBLOCK] = "adblock", [LIST_V2FLY] = "v2fly",
};

const char *
list_format_name(enum list_format f)
{
	return (unsigned)f < sizeof format_names / sizeof format_names[0]
		   ? format_names[f]
		   : "?";
}

int
list_format_parse(const char *s, enum list_format *f)
{
	size_t i;

	for (i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*f = (enum list_format)i;
			return 0;
		}
	return -1;
}

const char *
list_skip_name(enum list_skip s)
{
	static const char *const names[SKIP_N] = {
	    [SKIP_LOCALHOST] = "localhost",
	    [SKIP_WILDCARD] = "wildcard",
	    [SKIP_PATH] = "with a path",
	    [SKIP_MODIFIER] = "with modifiers",
	    [SKIP_RULE] = "not a domain rule",
	    [SKIP_KEYWORD] = "keyword",
	    [SKIP_REGEXP] = "regexp",
	    [SKIP_OPTION] = "other option",
	    [SKIP_ATTRIBUTE] = "by attribute",
	};

	return (unsigned)s < SKIP_N ? names[s] : "?";
}

char *
lf_trim(char *p, char **end)
{
	while (p < *end && lf_space(*p))
		p++;
	while (*end > p && lf_space((*end)[-1]))
		(*end)--;
	**end = '\0';
	return p;
}

char *
lf_token(char **p, char *end, size_t *len)
{
	char *t;

	while (*p < end && lf_space(**p))
		(*p)++;
	if (*p == end)
		return NULL;
	t = *p;
	while (*p < end && !lf_space(**p))
		(*p)++;
	*len = (size_t)(*p - t);
	return t;
}

void
lf_put(struct list_line *l, char **w, const char *s, size_t n)
{
	memmove(*w, s, n);
	(*w)[n] = '\0';
	*w += n + 1;
	l->n++;
}

/* [!|=]NAME [TAG] */
static enum list_result
plain(char *line, char *end, struct list_line *l)
{
	char *f[2], *p = line, *t;
	size_t fl[2], n = 0, len;

	while ((t = lf_token(&p, end, &len))) {
		if (n == 2)
			return lf_bad(l,
				      "more than a name and a tag on the line");
		f[n] = t;
		fl[n++] = len;
	}
	if (n == 0)
		return LIST_EMPTY;
	if (f[0][0] == '!' || f[0][0] == '=') {
		l->excluded = f[0][0] == '!';
		l->exact = f[0][0] == '=';
		f[0]++;
		fl[0]--;
		if (fl[0] == 0)
			return lf_bad(l, l->excluded ? "'!' without a name"
						     : "'=' without a name");
		if (n == 2 && l->excluded)
			return lf_bad(l, "an exclusion takes no tag");
	}
	if (n == 2) {
		struct rec_addr a;

		if (!l->excluded && !l->exact &&
		    rec_addr_parse(&a, f[0], fl[0], 0) == 0)
			return lf_bad(l, "an address and a name (hosts file "
					 "format?): write the name alone, or "
					 "name the format (-f hosts)");
		if (rec_tag_check(f[1], fl[1]) == -1 ||
		    (fl[1] == 1 && f[1][0] == '-'))
			return lf_bad(l, "bad tag (1 to 32 of a-z 0-9 - _, "
					 "starting with a letter or digit)");
		f[1][fl[1]] = '\0';
		l->tag = f[1];
		l->tag_len = fl[1];
	}
	f[0][fl[0]] = '\0';
	l->names = f[0];
	l->n = 1;
	return LIST_ENTRY;
}

enum list_result
list_line(enum list_format f, char *line, size_t len, struct list_line *l)
{
	char *end = line + len, *hash;

	memset(l, 0, sizeof *l);
	if (memchr(line, '\0', len))
		return l->res = lf_bad(l, "NUL byte in the line");
	switch (f) {
	case LIST_HOSTS:
		hash = memchr(line, '#', len);
		return l->res = lf_hosts(line, hash ? hash : end, l);
	case LIST_DNSMASQ:
		return l->res = lf_dnsmasq(line, end, l);
	case LIST_ADBLOCK:
		return l->res = lf_adblock(line, end, l);
	case LIST_V2FLY:
		hash = memchr(line, '#', len);
		return l->res = lf_v2fly(line, hash ? hash : end, l);
	case LIST_AUTO:
	case LIST_PLAIN:
	default:
		hash = memchr(line, '#', len);
		return l->res = plain(line, hash ? hash : end, l);
	}
}
