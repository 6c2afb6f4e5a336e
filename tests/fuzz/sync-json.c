/*
 * fuzz-sync-json: the peer-sync JSON stream parser (lib/sync.c). The first
 * byte picks the mode and the chunk size, the rest is the body. Every entry
 * that validates must carry a canonical name (Go's escapes decoded) and
 * format back to JSON that parses to the same entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
copy_raw(const struct sync_raw *raw, void *arg)
{
	memcpy(arg, raw, sizeof *raw);
	return 0;
}

static int
check(const struct sync_raw *raw, void *arg)
{
	struct sync_entry e, e2;
	struct sync_raw r2;
	struct sync_parser *p;
	char buf[2 * REC_NAME_MAX + 256], nm[REC_NAME_MAX];
	size_t n, k;

	(void)arg;
	if (sync_entry_from_raw(&e, raw, INT64_MAX / 2) != SYNC_OK)
		return 0;
	/* whatever spelling came in, the name is canonical: the record
	 * parser takes it as it is */
	memcpy(nm, e.name, e.name_len + 1);
	k = e.name_len;
	if (rec_name_check(nm, &k) || k != e.name_len || strcmp(nm, e.name))
		abort();
	n = sync_entry_json(buf, sizeof buf, &e.addr, e.name, e.name_len,
			    e.time_us, e.tag);
	if (n == 0)
		abort();
	memset(&r2, 0, sizeof r2);
	p = sync_parser_new(SYNC_OBJECT, copy_raw, &r2);
	if (!p)
		abort();
	if (sync_parser_feed(p, buf, n) || sync_parser_finish(p))
		abort();
	sync_parser_free(&p);
	if (sync_entry_from_raw(&e2, &r2, INT64_MAX / 2) != SYNC_OK ||
	    memcmp(&e.addr, &e2.addr, sizeof e.addr) ||
	    strcmp(e.name, e2.name) || strcmp(e.tag, e2.tag) ||
	    e.time_us != e2.time_us)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_parser *p;
	size_t step, i;

	if (size < 1)
		return 0;
	step = (data[0] & 0x7f) + 1;
	p = sync_parser_new(data[0] & 0x80 ? SYNC_OBJECT : SYNC_ARRAY, check,
			    NULL);
	if (!p)
		return 0;
	for (i = 1; i < size; i += step)
		if (sync_parser_feed(p, data + i,
				     size - i < step ? size - i : step) == -1)
			break;
	if (i >= size)
		(void)sync_parser_finish(p);
	sync_parser_free(&p);
	return 0;
}
