/*
 * store_test: lib/store.c, the writer batches and the readers' views (full
 * and "changed since"), reopening, and refusal of what is not a store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/t.h"
#include "store.h"

struct seen {
	int n;
	char last[64];
	int64_t max_changed;
};

static int
count_cb(const struct store_entry *e, void *arg)
{
	struct seen *s = arg;

	s->n++;
	rec_addr_format(s->last, sizeof s->last, &e->addr, 0);
	if (e->changed_us > s->max_changed)
		s->max_changed = e->changed_us;
	return 0;
}

static void
mk(struct store_entry *e, const char *addr, const char *tag, const char *name,
    int64_t t)
{
	memset(e, 0, sizeof *e);
	rec_addr_parse(&e->addr, addr, strlen(addr), 0);
	snprintf(e->tag, sizeof e->tag, "%s", tag);
	snprintf(e->name, sizeof e->name, "%s", name);
	e->first_us = e->last_us = t;
	e->expires_us = t + 86400000000LL;
}

int
main(void)
{
	char dir[] = "/tmp/store-test.XXXXXX", err[256], path[300];
	struct store *w, *r;
	struct store_entry e;
	struct seen s;
	int perm, full, fd;
	int64_t t1;

	if (!mkdtemp(dir))
		return 111;
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w != NULL, "store: open for writing creates the store");
	if (!w)
		T_DONE();
	r = store_open(dir, STORE_READ, err, sizeof err, &perm);
	T_CHECK(r != NULL, "store: a reader opens it while the writer has it");
	T_CHECK(store_open(dir, STORE_WRITE, err, sizeof err, &perm) == NULL &&
		strstr(err, "in use"), "store: a second writer is refused");

	T_CHECK(store_begin(w, err, sizeof err) == 0, "store: begin");
	mk(&e, "192.0.2.1", "", "a.example", 1000);
	T_CHECK(store_put(w, &e, err, sizeof err) == 0, "store: put v4");
	mk(&e, "::ffff:192.0.2.1", "video", "a.example", 1000);
	store_put(w, &e, err, sizeof err);
	mk(&e, "2001:db8::1", "video", "b.example", 1000);
	store_put(w, &e, err, sizeof err);
	memset(&s, 0, sizeof s);
	store_each(r, 0, count_cb, &s, err, sizeof err);
	T_CHECK(s.n == 0, "store: nothing visible before commit");
	T_CHECK(store_commit(w, &full, err, sizeof err) == 0, "store: commit");
	t1 = store_changed(w);
	memset(&s, 0, sizeof s);
	T_CHECK(store_each(r, 0, count_cb, &s, err, sizeof err) == 0 && s.n == 3,
	    "store: three entries after commit (got %d)", s.n);
	T_CHECK(s.max_changed == t1, "store: changed time is the batch's");

	store_begin(w, err, sizeof err);
	mk(&e, "192.0.2.1", "", "a.example", 2000);
	store_put(w, &e, err, sizeof err);
	store_del(w, &e.addr, "video", err, sizeof err);
	store_commit(w, &full, err, sizeof err);
	T_CHECK(store_changed(w) > t1, "store: batch times increase");
	memset(&s, 0, sizeof s);
	store_each(r, t1, count_cb, &s, err, sizeof err);
	T_CHECK(s.n == 1 && strcmp(s.last, "192.0.2.1") == 0,
	    "store: since-T sees only the changed entry (got %d %s)", s.n,
	    s.last);
	memset(&s, 0, sizeof s);
	store_each(r, 0, count_cb, &s, err, sizeof err);
	T_CHECK(s.n == 2, "store: deleted entry gone (got %d)", s.n);
	memset(&s, 0, sizeof s);
	store_each(r, store_changed(w), count_cb, &s, err, sizeof err);
	T_CHECK(s.n == 0, "store: nothing since the last batch");
	store_close(&r);
	store_close(&w);
	T_CHECK(w == NULL, "store: close clears the pointer");

	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	memset(&s, 0, sizeof s);
	T_CHECK(w && store_each(w, 0, count_cb, &s, err, sizeof err) == 0 &&
		s.n == 2, "store: reopened with its entries");
	store_close(&w);

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd != -1) {
		(void)!write(fd, "garbage, not a database\n", 24);
		close(fd);
	}
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w == NULL && perm, "store: garbage is refused as permanent (%s)",
	    err);
	r = store_open(dir, STORE_READ, err, sizeof err, &perm);
	T_CHECK(r == NULL && perm, "store: reader refuses garbage too (%s)", err);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	(void)!system(path);
	T_DONE();
}
