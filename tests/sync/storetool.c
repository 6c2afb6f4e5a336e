/*
 * storetool: writes ipcache stores for sync-serve's tests and benchmark,
 * through lib/store.c as ipcache does (the test stands in for ipcache where
 * a test needs a store of a given shape, e.g. a million entries).
 *
 *   unit-sync-storetool DIR < records   `peer TIME NAME ADDR TAG` lines
 *                                       become local entries, one batch
 *   unit-sync-storetool -g N DIR        N generated entries (10.x.y.z,
 *                                       hN.example), batches of 10000
 *   unit-sync-storetool                 (no arguments) a self-test
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../unit/t.h"
#include "clock.h"
#include "store.h"

static int
put(struct store *s, const struct rec *r)
{
	struct store_entry e;
	char err[256];

	memset(&e, 0, sizeof e);
	e.addr = r->addr;
	snprintf(e.tag, sizeof e.tag, "%.*s", (int)r->tag_len, r->tag);
	snprintf(e.name, sizeof e.name, "%.*s", (int)r->name_len, r->name);
	e.first_us = e.last_us = r->time_us;
	/* fixtures carry fixed times: keep them alive a day from now */
	e.expires_us = clock_wall_us() + 86400000000LL;
	if (store_put(s, &e, err, sizeof err) == -1) {
		fprintf(stderr, "storetool: %s\n", err);
		return -1;
	}
	return 0;
}

static int
commit(struct store *s)
{
	char err[256];
	int full;

	if (store_commit(s, &full, err, sizeof err) == -1) {
		fprintf(stderr, "storetool: %s\n", err);
		return -1;
	}
	return 0;
}

static int
count(const struct store_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *s;
	struct rec r;
	char err[256], line[REC_LINE_MAX], name[64];
	int perm, gen = -1, i, n = 0;
	int64_t t = clock_wall_us();

	if (argc == 3 && strcmp(argv[1], "-g") != 0)
		return 100;
	if (argc == 4 && strcmp(argv[1], "-g") == 0)
		gen = atoi(argv[2]);
	if (argc == 1) {
		char dir[] = "/tmp/storetool.XXXXXX";

		if (!mkdtemp(dir))
			return 111;
		s = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
		T_CHECK(s && store_begin(s, err, sizeof err) == 0,
			"storetool: open and begin");
		if (!s)
			T_DONE();
		snprintf(line, sizeof line,
			 "peer 1764150000.5 a.example 192.0.2.1 -");
		T_CHECK(rec_parse(&r, line, strlen(line)) == REC_OK &&
			    put(s, &r) == 0 && commit(s) == 0,
			"storetool: put");
		T_CHECK(store_each(s, 0, count, &n, err, sizeof err) == 0 &&
			    n == 1,
			"storetool: one entry back");
		store_close(&s);
		snprintf(line, sizeof line, "rm -rf %s", dir);
		if (system(line) != 0)
			return 111;
		T_DONE();
	}
	s = store_open(argv[argc - 1], STORE_WRITE, err, sizeof err, &perm);
	if (!s || store_begin(s, err, sizeof err) == -1) {
		fprintf(stderr, "storetool: %s: %s\n", argv[argc - 1], err);
		return 111;
	}
	if (gen >= 0) {
		for (i = 0; i < gen; i++) {
			snprintf(name, sizeof name, "h%d.example", i);
			memset(&r, 0, sizeof r);
			r.type = REC_PEER;
			r.time_us = t - 1000000;
			r.name = name;
			r.name_len = strlen(name);
			r.tag = "";
			r.addr.family = 4;
			r.addr.plen = 32;
			r.addr.a[0] = 10;
			r.addr.a[1] = (uint8_t)(i >> 16);
			r.addr.a[2] = (uint8_t)(i >> 8);
			r.addr.a[3] = (uint8_t)i;
			if (put(s, &r) == -1)
				return 111;
			if (i % 10000 == 9999 &&
			    (commit(s) == -1 ||
			     store_begin(s, err, sizeof err) == -1))
				return 111;
		}
	} else {
		while (fgets(line, sizeof line, stdin)) {
			size_t len = strcspn(line, "\n");

			line[len] = '\0';
			if (rec_parse(&r, line, len) != REC_OK ||
			    r.type != REC_PEER) {
				fprintf(stderr, "storetool: bad record %s\n",
					line);
				return 100;
			}
			if (put(s, &r) == -1)
				return 111;
		}
	}
	if (commit(s) == -1)
		return 111;
	store_close(&s);
	return 0;
}
