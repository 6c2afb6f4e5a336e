/*
 * list: `ipcache -l` (see list.h). Every entry is read and filtered here:
 * a full scan of a few million entries takes a second, and the filters
 * combine freely.
 */
#include "list.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

struct lister {
	const struct list_query *q;
	struct lw w;
	int64_t now_us;
	uint64_t n;
};

/* "3d2h", "23h59m", "5m12s", "12s": the two largest units. */
static void
duration(char *buf, size_t cap, int64_t us)
{
	static const struct {
		int64_t s;
		char u;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	const char *sign = us < 0 ? "-" : "";
	int64_t s = (us < 0 ? -us : us) / 1000000;
	size_t i;

	for (i = 0; i < 3 && s < units[i].s; i++)
		;
	if (i < 3 && s % units[i].s / units[i + 1].s)
		snprintf(buf, cap, "%s%lld%c%lld%c", sign,
			 (long long)(s / units[i].s), units[i].u,
			 (long long)(s % units[i].s / units[i + 1].s),
			 units[i + 1].u);
	else
		snprintf(buf, cap, "%s%lld%c", sign,
			 (long long)(s / units[i].s), units[i].u);
}

static void
epoch(char *buf, size_t cap, int64_t us)
{
	snprintf(buf, cap, "%lld.%06lld", (long long)(us / 1000000),
		 (long long)(us % 1000000));
}

static int
wanted(const struct list_query *q, const struct store_entry *e)
{
	size_t n, k;
	int in = 0;

	if (q->origin != -1 && (int)e->origin != q->origin)
		return 0;
	if (q->tag && strcmp(q->tag, e->tag) != 0)
		return 0;
	if (q->name && strcmp(q->name, e->name) != 0)
		return 0;
	if (q->suffix) {
		n = strlen(e->name);
		k = strlen(q->suffix);
		if (strcmp(q->suffix, ".") != 0 &&
		    (n < k || strcmp(e->name + n - k, q->suffix) != 0 ||
		     (n > k && e->name[n - k - 1] != '.')))
			return 0;
	}
	for (k = 0; k < q->prefixes.n && !in; k++)
		in = rec_addr_contains(&q->prefixes.p[k], &e->addr);
	return in || q->prefixes.n == 0;
}

static int
entry_cb(const struct store_entry *e, void *arg)
{
	struct lister *l = arg;
	char line[REC_NAME_MAX + 256], as[64], t1[32], t2[32], t3[32];
	int n;

	if (!wanted(l->q, e))
		return 0;
	l->n++;
	if (l->q->count)
		return 0;
	rec_addr_format(as, sizeof as, &e->addr, 0);
	if (l->q->raw) {
		epoch(t1, sizeof t1, e->last_us);
		epoch(t2, sizeof t2, e->expires_us);
		epoch(t3, sizeof t3, e->first_us);
		n = snprintf(line, sizeof line, "%s %s %s %s %s %s %s\n", as,
			     e->name, e->tag[0] ? e->tag : "-",
			     e->origin == STORE_PEER ? "peer" : "local", t1, t2,
			     t3);
	} else {
		duration(t1, sizeof t1, l->now_us - e->first_us);
		duration(t2, sizeof t2, l->now_us - e->last_us);
		duration(t3, sizeof t3, e->expires_us - l->now_us);
		n = snprintf(line, sizeof line,
			     "%s %s %s %s first=%s last=%s expires=%s\n", as,
			     e->name, e->tag[0] ? e->tag : "-",
			     e->origin == STORE_PEER ? "peer" : "local", t1, t2,
			     t3);
	}
	if (n > 0 && (size_t)n < sizeof line &&
	    lw_put(&l->w, line, (size_t)n) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	return 0;
}

int
list_store(const char *dir, const struct list_query *q)
{
	struct lister l = {.q = q, .now_us = clock_wall_us()};
	struct store *s;
	char err[512], buf[32];
	int perm;

	if (!(s = store_open(dir, STORE_READ, err, sizeof err, &perm)))
		log_fatal(perm ? EXIT_PERM : EXIT_TEMP,
			  "unable to open store %s: %s", dir, err);
	if (lw_init(&l.w, 1, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	if (store_each(s, 0, entry_cb, &l, err, sizeof err) == -1)
		log_fatal(errno == EBADMSG ? EXIT_PERM : EXIT_TEMP,
			  "unable to read store %s: %s", dir, err);
	store_close(&s);
	if (q->count) {
		snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)l.n);
		if (lw_put(&l.w, buf, strlen(buf)) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	}
	if (lw_flush(&l.w) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	lw_destroy(&l.w);
	return 0;
}
