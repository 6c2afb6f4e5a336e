/*
 * fuzz-domain-list: the domain list line parser (domain-match/list.c), as
 * domain-compile feeds it: any bytes, one line. An entry it accepts must be
 * a canonical record name (rec_name_check leaves it unchanged) and its tag
 * a valid tag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../domain-match/list.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list_entry e;
	const char *why;
	char *line, again[REC_NAME_MAX];
	size_t n;

	if (size > 70000)
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (list_parse(line, size, &e, &why) == LIST_ENTRY) {
		if (e.name_len == 0 || e.name_len >= REC_NAME_MAX ||
		    strlen(e.name) != e.name_len)
			abort();
		memcpy(again, e.name, e.name_len + 1);
		n = e.name_len;
		if (rec_name_check(again, &n) == -1 || n != e.name_len ||
		    memcmp(again, e.name, n) != 0)
			abort();
		if (e.tag_len && rec_tag_check(e.tag, e.tag_len) == -1)
			abort();
		if (e.excluded && e.tag_len)
			abort();
	}
	free(line);
	return 0;
}
