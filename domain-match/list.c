/*
 * list: parsing of domain list lines, shared by domain-compile, the query
 * mode of domain-match and the list fuzzer.
 */
#include "list.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

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

enum list_result
list_parse(char *line, size_t len, struct list_entry *e, const char **why)
{
	char *f[3], *p = line, *end, *hash;
	size_t fl[3], n = 0;

	hash = memchr(line, '#', len);
	end = hash ? hash : line + len;
	e->name[0] = '\0';
	e->name_len = 0;
	e->tag[0] = '\0';
	e->tag_len = 0;
	e->excluded = 0;
	while (p < end) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		if (n == 2) {
			*why = "more than a name and a tag on the line";
			return LIST_BAD;
		}
		f[n] = p;
		while (p < end && !is_space(*p))
			p++;
		fl[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n == 0)
		return LIST_EMPTY;
	if (memchr(f[0], '\0', fl[0])) {
		*why = "NUL byte in the line";
		return LIST_BAD;
	}
	if (f[0][0] == '!') {
		e->excluded = 1;
		f[0]++;
		fl[0]--;
		if (fl[0] == 0) {
			*why = "'!' without a name";
			return LIST_BAD;
		}
		if (n == 2) {
			*why = "an exclusion takes no tag";
			return LIST_BAD;
		}
	}
	if (list_name(f[0], fl[0], e->name, &e->name_len, why) == -1)
		return LIST_BAD;
	if (n == 2) {
		struct rec_addr a;

		if (!e->excluded && rec_addr_parse(&a, f[0], fl[0], 0) == 0) {
			*why = "an address and a name (hosts file format?): "
			       "write the name alone";
			return LIST_BAD;
		}
		if (rec_tag_check(f[1], fl[1]) == -1 ||
		    (fl[1] == 1 && f[1][0] == '-')) {
			*why = "bad tag (1 to 32 of a-z 0-9 - _, "
			       "starting with a letter or digit)";
			return LIST_BAD;
		}
		memcpy(e->tag, f[1], fl[1]);
		e->tag[fl[1]] = '\0';
		e->tag_len = fl[1];
	}
	return LIST_ENTRY;
}
