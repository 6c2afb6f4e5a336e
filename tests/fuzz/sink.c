/*
 * fuzz-sink: lib/sink against a simulated kernel. Input: lines, each a
 * record (announce, withdraw, replay, eor), or "F ADDR" (someone else adds
 * ADDR to destination 0), or "V" (the kernel is read back). After every
 * line the pending changes are applied to the simulated kernel.
 * Properties: a change never touches an object of someone else's, and at
 * the end every cached entry's address is in its destination, and after a
 * replay has ended nothing of ours is there that no entry wants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmap.h"
#include "rec.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pmap kern; /* flags: SINK_OURS or SINK_FOREIGN */

static void view(struct sink *s);

static uint32_t
dest_of(void *arg, const char *tag, int family)
{
	(void)arg;
	if (!*tag)
		return 0;
	if (family == 6 && (tag[0] & 1))
		return SINK_NO_DEST;
	return (uint32_t)(tag[0] % 3);
}

static void
view(struct sink *s)
{
	uint32_t i;

	sink_view_begin(s);
	for (i = 0; i < kern.n; i++)
		if (kern.e[i].used &&
		    sink_view_add(s, kern.e[i].id, &kern.e[i].p,
				  (enum sink_have)kern.e[i].flags) == -1)
			abort();
	sink_view_end(s);
}

/*
 * The kernel refuses an add of what is there (NLM_F_EXCL): the program
 * reads the kernel back, as nft-set and route-sync do.
 */
static void
apply(struct sink *s)
{
	enum sink_op op;
	uint32_t i, k;
	int created, refused;

	do {
		refused = 0;
		while ((i = sink_next(s, &op)) != PMAP_NONE) {
			k = pmap_find(&kern, s->dest.e[i].id, &s->dest.e[i].p);
			if (op == SINK_ADD && k != PMAP_NONE) {
				refused = 1;
				continue;
			}
			if (k != PMAP_NONE && kern.e[k].flags == SINK_FOREIGN)
				abort(); /* never over someone else's */
			if (op == SINK_DEL) {
				if (k == PMAP_NONE)
					abort(); /* deleting what is not there
						  */
				pmap_del(&kern, k);
			} else {
				k = pmap_get(&kern, s->dest.e[i].id,
					     &s->dest.e[i].p, &created);
				if (k == PMAP_NONE)
					abort();
				kern.e[k].flags = SINK_OURS;
			}
			sink_done(s, i, op);
		}
		if (refused)
			view(s);
	} while (refused);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink s;
	struct rec r;
	struct rec_addr a;
	char *buf, *line, *nl;
	uint32_t i, k, d;
	int created, tags_full = 0;

	if (size > 1 << 16 || !(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	if (pmap_init(&kern) == -1 || sink_init(&s, dest_of, NULL) == -1)
		abort();
	for (line = buf; line < buf + size; line = nl + 1) {
		if (!(nl = memchr(line, '\n', (size_t)(buf + size - line))))
			nl = buf + size;
		*nl = 0;
		if (line[0] == 'V' && !line[1])
			view(&s);
		else if (line[0] == 'F' && line[1] == ' ') {
			if (rec_addr_parse(&a, line + 2, strlen(line + 2), 0) ==
				0 &&
			    pmap_find(&kern, 0, &a) == PMAP_NONE) {
				k = pmap_get(&kern, 0, &a, &created);
				kern.e[k].flags = SINK_FOREIGN;
			}
		} else if (rec_parse(&r, line, (size_t)(nl - line)) == REC_OK) {
			switch (sink_record(&s, &r)) {
			case SINK_EOR:
				view(&s);
				break;
			case SINK_ETAGS:
				tags_full = 1;
				break;
			case SINK_ENOMEM:
				abort();
			default:
				break;
			}
		}
		apply(&s);
	}
	/* Every cached entry is in its destination. */
	for (i = 0; i < s.cache.n; i++) {
		if (!s.cache.e[i].used)
			continue;
		d = s.tags[s.cache.e[i].id]
			.dest[s.cache.e[i].p.family == 4 ? 0 : 1];
		if (d != SINK_NO_DEST &&
		    pmap_find(&kern, d, &s.cache.e[i].p) == PMAP_NONE)
			abort();
	}
	/* After a replay, nothing of ours that nothing wants. */
	if (s.synced && !tags_full)
		for (i = 0; i < kern.n; i++) {
			if (!kern.e[i].used || kern.e[i].flags != SINK_OURS)
				continue;
			k = pmap_find(&s.dest, kern.e[i].id, &kern.e[i].p);
			if (k == PMAP_NONE || !s.dest.e[k].val)
				abort();
		}
	sink_destroy(&s);
	pmap_destroy(&kern);
	free(buf);
	return 0;
}
