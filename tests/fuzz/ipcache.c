/*
 * fuzz-ipcache: the record input path of ipcache (ipcache/engine.c): each
 * input line goes through ic_line as an answer or a peer record, with the
 * record clock so that expiry, refresh, limits and the name arena run too.
 * The first byte picks the configuration; with a domain list (a small one,
 * written once), a line "r" switches the list off or on (ic_relist), and
 * names under it are kept, moved and withdrawn by the list's rules.
 */
#include <cdb.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ipcache/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The list: example (no tag), a.example (video), b.example excluded. */
static struct dlist *
fuzz_list(void)
{
	static const char *kv[] = {"",		"dnstap-bgp-domains 1 3",
				   "example",	"+",
				   "a.example", "+video",
				   "b.example", "!"};
	char path[] = "/tmp/fuzz-ipcache.XXXXXX", err[128];
	struct cdb_make cm;
	struct dlist *dl = NULL;
	size_t i;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		abort();
	if (cdb_make_start(&cm, fd) == -1)
		abort();
	for (i = 0; i < sizeof kv / sizeof kv[0]; i += 2)
		if (cdb_make_add(&cm, kv[i], (unsigned)strlen(kv[i]), kv[i + 1],
				 (unsigned)strlen(kv[i + 1])) == -1)
			abort();
	if (cdb_make_finish(&cm) == -1 ||
	    !(dl = dlist_open(path, err, sizeof err)))
		abort();
	close(fd);
	unlink(path);
	return dl;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null = -1;
	static struct dlist *list;
	/* Shared across inputs, so warnings cost a line a second, not a run. */
	static struct ratelimit rl[3] = {RATELIMIT_INIT, RATELIMIT_INIT,
					 RATELIMIT_INIT};
	struct rec_addr all4, all6;
	struct lw out;
	struct ic ic;
	char *buf, *p, *nl, *end;
	uint8_t cfg;

	if (size < 1)
		return 0;
	if (null == -1)
		null = open("/dev/null", O_WRONLY);
	if (!list)
		list = fuzz_list();
	cfg = data[0];
	if (lw_init(&out, null, 4096) == -1)
		return 0;
	if (ic_init(&ic, &out) == -1) {
		lw_destroy(&out);
		return 0;
	}
	ic.rl_bad = rl[0];
	ic.rl_limit = rl[1];
	ic.rl_filter = rl[2];
	ic.record_clock = 1;
	ic.lifetime_us = (int64_t)(1 + (cfg & 3)) * 10 * 1000000;
	if (cfg & 4)
		ic.dl = list;
	ic.gran_s = cfg & 8 ? 0 : 5;
	if (cfg & 16) {
		ic.ttl_mode = 1;
		ic.ttl_floor_us = 5 * 1000000;
		ic.ttl_ceil_us = 100 * 1000000;
	}
	ic.max_per_name = cfg & 32 ? 3 : 0;
	ic.max_total = cfg & 64 ? 20 : 0;
	if (cfg & 128) {
		rec_addr_parse(&all4, "0.0.0.0/0", 9, 1);
		rec_addr_parse(&all6, "::/0", 4, 1);
		prefixes_add(&ic.allow, &all4);
		prefixes_add(&ic.allow, &all6);
	}
	if (!(buf = malloc(size))) {
		ic_free(&ic);
		lw_destroy(&out);
		return 0;
	}
	memcpy(buf, data + 1, size - 1);
	end = buf + size - 1;
	for (p = buf; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		*nl = '\0';
		if (p[0] == 'r' && (cfg & 4))
			ic_relist(&ic, ic.dl ? NULL : list, 1);
		else
			ic_line(&ic, p, (size_t)(nl - p), p[0] == 'p');
		/* The store's side: pretend each batch was committed. */
		if (ic.ndirty > 8)
			ic_stored(&ic);
	}
	ic_replay(&ic);
	while (ic_replay_step(&ic))
		lw_flush(&out);
	ic.now_us += 86400LL * 1000000;
	ic_expire(&ic);
	ic_compact(&ic);
	free(buf);
	rl[0] = ic.rl_bad;
	rl[1] = ic.rl_limit;
	rl[2] = ic.rl_filter;
	ic_free(&ic);
	lw_destroy(&out);
	return 0;
}
