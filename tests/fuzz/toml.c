/*
 * fuzz-toml: the TOML subset parser of dnstap-bgp-migrate (migrate/toml.c)
 * on any bytes. Whatever the file, it is refused with a line number or
 * parsed into keys and values whose strings are UTF-8, with no nested
 * array and no two keys of one table alike.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../migrate/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strings come out as UTF-8 (escapes encoded, the input checked). */
static void
check_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;

	while (*p) {
		n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (*p >= 0x80 && *p < 0xc2)
			abort();
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				abort();
		p += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml t;
	char err[256];
	size_t i, j, k;
	int line;

	if (size > 100000)
		return 0;
	if (toml_parse((const char *)data, size, &t, err, sizeof err, &line) ==
	    -1) {
		if (!*err || line < 1)
			abort();
		return 0;
	}
	for (i = 0; i < t.n; i++) {
		const struct toml_kv *kv = &t.kv[i];

		if (!kv->key || !kv->table || kv->line < 1)
			abort();
		if (kv->v.type == TOML_STRING)
			check_string(kv->v.s);
		if (kv->v.type == TOML_ARRAY)
			for (j = 0; j < kv->v.n; j++) {
				if (kv->v.items[j].type == TOML_ARRAY)
					abort();
				if (kv->v.items[j].type == TOML_STRING)
					check_string(kv->v.items[j].s);
			}
		for (k = 0; k < i; k++)
			if (strcmp(t.kv[k].table, kv->table) == 0 &&
			    strcmp(t.kv[k].key, kv->key) == 0)
				abort();
	}
	toml_free(&t);
	return 0;
}
