/*
 * The body of the list line fuzzers (tests/fuzz/list-*.c, domain-list.c):
 * any bytes as one line of a list in format FUZZ_FORMAT, as domain-compile
 * feeds them to list_line. Whatever the line, the result is one of the
 * kinds, the names, attributes and include name it points to lie inside
 * the line, and every name list_name accepts is a canonical record name.
 * list_sniff reads the same bytes without writing them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../domain-match/list.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const char *p, size_t n, const char *line, size_t size)
{
	if (p < line || p + n > line + size || p[n] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list_line l;
	char *line, *copy, name[REC_NAME_MAX], again[REC_NAME_MAX];
	const char *why, *p;
	size_t i, n, len, total = 0;
	enum list_format f;

	if (size > 70000)
		return 0;
	line = malloc(size + 1);
	copy = malloc(size + 1);
	if (!line || !copy)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	memcpy(copy, line, size + 1);
	f = list_sniff(line, size);
	if (f > LIST_V2FLY || memcmp(line, copy, size + 1) != 0)
		abort();
	switch (list_line(FUZZ_FORMAT, line, size, &l)) {
	case LIST_EMPTY:
		break;
	case LIST_BAD:
		if (!l.why || !*l.why)
			abort();
		break;
	case LIST_SKIP:
		if (l.skip >= SKIP_N || !*list_skip_name(l.skip))
			abort();
		break;
	case LIST_INCLUDE:
		if (!l.include || !*l.include || strchr(l.include, '/'))
			abort();
		inside(l.include, strlen(l.include), line, size);
		break;
	case LIST_ENTRY:
		if (l.n == 0 || (l.excluded && l.exact))
			abort();
		for (i = 0, p = l.names; i < l.n; i++, p += n + 1) {
			n = strlen(p);
			inside(p, n, line, size);
			total += n + 1;
			if (list_name(p, n, name, &len, &why) == -1)
				continue;
			memcpy(again, name, len + 1);
			n = len;
			if (rec_name_check(again, &n) == -1 || n != len ||
			    memcmp(again, name, n) != 0)
				abort();
			n = strlen(p);
		}
		if (total > size + 1)
			abort();
		if (l.tag &&
		    (rec_tag_check(l.tag, l.tag_len) == -1 || l.excluded))
			abort();
		break;
	default:
		abort();
	}
	for (i = 0, p = l.attrs; i < l.nattrs; i++, p += strlen(p) + 1)
		inside(p, strlen(p), line, size);
	free(line);
	free(copy);
	return 0;
}
