/*
 * Unit test of lib/dlist.c: lookups (plain and through dlist_probe_*, which
 * must agree), with and without the optional filter and label-count keys,
 * damaged values, the layout check, dlist_changed; a list file truncated
 * or written over in place under the reader (copied, and read with pread)
 * never faults a lookup, and dlist_reload says each change once.
 */
#include <cdb.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/t.h"
#include "dlist.h"

static const char *const entries[][2] = {
    {"example.com", "+t1"},
    {"mail.example.com", "!"},
    {"deep.mail.example.com", "+t2"},
    {"a", "+one"},
    {"j.i.h.g.f.e.d.c.b.a.example", "+ten"},
    {"bad.example", "+Bad"}, /* a damaged value */
    {"x\\046y.example", "+esc"},
    /* Longer than any valid value: read in part only with pread. */
    {"long.example", "+abcdefghijklmnopqrstuvwxyzabcdefghijklmnop"},
    /* Longer than a key the pread cache keeps. */
    {"a123456789.b123456789.c123456789.d123456789.e123456789.f123456789."
     "long",
     "+kept"},
    /* Exact entries: the name only; below them the walk goes on up. */
    {"full.example.com", "=ex"},
    {"exact.example", "=only"},
    {"y.mail.example.com", "=back"},
    {"badexact.example", "="},
};
#define NENT (sizeof entries / sizeof entries[0])

static const char *const cases[][2] = {
    /* name, expected: tag, "!" excluded, "" none */
    {"example.com", "t1"},
    {"www.example.com", "t1"},
    {"aexample.com", ""},
    {"example.community", ""},
    {"com", ""},
    {"mail.example.com", "!"},
    {"x.mail.example.com", "!"},
    {"deep.mail.example.com", "t2"},
    {"z.deep.mail.example.com", "t2"},
    {"a", "one"},
    {"b.a", "one"},
    {"z.j.i.h.g.f.e.d.c.b.a.example", "ten"},
    {"i.h.g.f.e.d.c.b.a.example", ""},
    {"bad.example", ""},
    {"x\\046y.example", "esc"},
    {"y.example", ""},
    {"long.example", ""},
    {"x.long.example", ""},
    {"x.a123456789.b123456789.c123456789.d123456789.e123456789."
     "f123456789.long",
     "kept"},
    {"full.example.com", "=ex"},
    {"a.full.example.com", "t1"},
    {"exact.example", "=only"},
    {"www.exact.example", ""},
    {"y.mail.example.com", "=back"},
    {"z.y.mail.example.com", "!"},
    {"badexact.example", ""},
    {".", ""},
    {"", ""},
};

/* Writes a list cdb to path: header, entries, optionally filter/depths. */
static void
make(const char *path, int extras, const char *hdr)
{
	struct cdb_make cm;
	unsigned char *bloom, depths[16] = {0};
	size_t i, bs = dlist_bloom_size(NENT), labels;
	const char *p;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	bloom = calloc(1, bs);
	cdb_make_start(&cm, fd);
	cdb_make_add(&cm, "", 0, hdr, (unsigned)strlen(hdr));
	for (i = 0; i < NENT; i++) {
		cdb_make_add(&cm, entries[i][0],
			     (unsigned)strlen(entries[i][0]), entries[i][1],
			     (unsigned)strlen(entries[i][1]));
		dlist_bloom_add(bloom, bs, entries[i][0],
				strlen(entries[i][0]));
		for (labels = 1, p = entries[i][0]; (p = strchr(p, '.')); p++)
			labels++;
		depths[labels / 8] |= (unsigned char)(1u << (labels % 8));
	}
	if (extras) {
		cdb_make_add(&cm, DLIST_BLOOM_KEY, sizeof DLIST_BLOOM_KEY - 1,
			     bloom, (unsigned)bs);
		cdb_make_add(&cm, DLIST_DEPTHS_KEY, sizeof DLIST_DEPTHS_KEY - 1,
			     depths, sizeof depths);
	}
	cdb_make_finish(&cm);
	close(fd);
	free(bloom);
}

static void
result(char *out, int hit, const struct dlist_match *m)
{
	if (!hit)
		strcpy(out, "");
	else if (m->excluded)
		strcpy(out, "!");
	else
		snprintf(out, 64, "%s%.*s", m->exact ? "=" : "",
			 (int)m->tag_len, m->tag);
}

static void
lookups(const char *what, const struct dlist *dl)
{
	struct dlist_match m;
	struct dlist_probe pr;
	char got[64], name[300];
	size_t i;
	int hit;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *n = cases[i][0];

		hit = dlist_lookup(dl, n, strlen(n), &m);
		result(got, hit, &m);
		T_CHECK(strcmp(got, cases[i][1]) == 0, "%s: lookup %s -> '%s'",
			what, n, got);
		dlist_probe_start(dl, &pr, n, strlen(n));
		dlist_probe_fetch(dl, &pr);
		dlist_probe_fetch(dl, &pr);
		hit = dlist_probe_lookup(dl, &pr, &m);
		result(got, hit, &m);
		T_CHECK(strcmp(got, cases[i][1]) == 0, "%s: probe %s -> '%s'",
			what, n, got);
		dlist_probe_start(dl, &pr, n, strlen(n));
		hit = dlist_probe_lookup(dl, &pr, &m);
		result(got, hit, &m);
		T_CHECK(strcmp(got, cases[i][1]) == 0,
			"%s: probe without fetch %s -> '%s'", what, n, got);
	}
	/* 127 labels: more suffixes than a probe holds without the mask. */
	for (i = 0; i < 126; i++)
		memcpy(name + 2 * i, "b.", 2);
	name[252] = 'a';
	dlist_probe_start(dl, &pr, name, 253);
	dlist_probe_fetch(dl, &pr);
	hit = dlist_probe_lookup(dl, &pr, &m);
	T_CHECK(hit && !m.excluded && m.entry_len == 1, "%s: 127 labels, probe",
		what);
	T_CHECK(dlist_lookup(dl, name, 253, &m) && m.entry_len == 1,
		"%s: 127 labels, lookup", what);
}

/* Runs every lookup without checking results: only that none faults. */
static void
survive(const struct dlist *dl)
{
	struct dlist_match m;
	struct dlist_probe pr;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *n = cases[i][0];

		(void)dlist_lookup(dl, n, strlen(n), &m);
		dlist_probe_start(dl, &pr, n, strlen(n));
		dlist_probe_fetch(dl, &pr);
		dlist_probe_fetch(dl, &pr);
		(void)dlist_probe_lookup(dl, &pr, &m);
	}
}

/* Writes n bytes of s over path in place (same inode), truncating it. */
static void
overwrite(const char *path, const void *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd == -1 || write(fd, s, n) != (ssize_t)n)
		exit(1);
	close(fd);
}

/* The message of the last reload has all of want. */
static int
says(const char *msg, const char *want)
{
	return strstr(msg, want) != NULL;
}

/*
 * max SIZE_MAX: the list is copied; 0: read with pread. The file is
 * truncated in place, written over in place with garbage, then with a good
 * list, replaced by rename, removed and put back.
 */
static void
in_place(const char *a, const char *b, uint64_t max, const char *what)
{
	struct dlist *dl;
	struct dlist_match m;
	char err[128], msg[1024], junk[8192];
	enum dlist_event ev;
	size_t i;

	make(a, 1, "dnstap-bgp-domains 1 13");
	dl = dlist_open_limit(a, max, err, sizeof err);
	T_CHECK(dl != NULL, "%s: open: %s", what, dl ? "ok" : err);
	if (!dl)
		return;
	lookups(what, dl);
	overwrite(a, "", 0);
	survive(dl);
	if (max)
		lookups("truncated in place, the copy", dl);
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_REFUSED &&
		    says(msg,
			 "(file changed in place): not a domain list cdb "
			 "(too short); keeping the list in use (13 entries"),
		"%s: truncated in place: refused (%s)", what, msg);
	T_CHECK(max || says(msg, "which changed"),
		"%s: says the list in use reads the changed file (%s)", what,
		msg);
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_SAME, "%s: said once", what);
	for (i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7919 >> 3);
	overwrite(a, junk, sizeof junk);
	survive(dl);
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_REFUSED && says(msg, "not a domain list cdb"),
		"%s: garbage in place: refused (%s)", what, msg);
	T_CHECK(dlist_reload(&dl, a, NULL, msg, sizeof msg) == DLIST_SAME,
		"%s: garbage said once", what);
	ev = dlist_reload(&dl, a, "SIGHUP", msg, sizeof msg);
	T_CHECK(ev == DLIST_REFUSED && says(msg, "(SIGHUP)"),
		"%s: asked: refused again (%s)", what, msg);
	if (max)
		lookups("garbage in place, the copy", dl);
	make(a, 1, "dnstap-bgp-domains 1 13");
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_LOADED &&
		    says(msg, "(file changed in place): 13 entries in "),
		"%s: good list in place: loaded (%s)", what, msg);
	lookups("written over in place", dl);
	T_CHECK(dlist_reload(&dl, a, NULL, msg, sizeof msg) == DLIST_SAME,
		"%s: unchanged: nothing to say", what);
	make(b, 0, "dnstap-bgp-domains 1 13");
	rename(b, a);
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_LOADED && says(msg, "(file replaced)"),
		"%s: replaced: loaded (%s)", what, msg);
	T_CHECK(dlist_lookup(dl, "example.com", 11, &m) && m.tag_len == 2,
		"%s: the new list answers", what);
	unlink(a);
	ev = dlist_reload(&dl, a, NULL, msg, sizeof msg);
	T_CHECK(ev == DLIST_GONE && says(msg, "gone; keeping the list in use"),
		"%s: removed: gone (%s)", what, msg);
	T_CHECK(dlist_reload(&dl, a, NULL, msg, sizeof msg) == DLIST_SAME,
		"%s: gone said once", what);
	ev = dlist_reload(&dl, a, "SIGHUP", msg, sizeof msg);
	T_CHECK(ev == DLIST_REFUSED && says(msg, "No such file"),
		"%s: removed, asked: refused (%s)", what, msg);
	lookups("removed", dl);
	make(a, 1, "dnstap-bgp-domains 1 13");
	T_CHECK(dlist_reload(&dl, a, NULL, msg, sizeof msg) == DLIST_LOADED,
		"%s: back: loaded (%s)", what, msg);
	dlist_close(&dl);
}

int
main(void)
{
	char dir[] = "/tmp/dlist-test.XXXXXX", a[256], b[256], c[256], err[128],
	     cmd[1200];
	struct dlist *dl;
	FILE *f;
	long size;

	if (!mkdtemp(dir))
		return 1;
	snprintf(a, sizeof a, "%s/a.cdb", dir);
	snprintf(b, sizeof b, "%s/b.cdb", dir);
	snprintf(c, sizeof c, "%s/c.cdb", dir);

	make(a, 1, "dnstap-bgp-domains 1 13");
	dl = dlist_open(a, err, sizeof err);
	T_CHECK(dl != NULL, "open with filter: %s", dl ? "ok" : err);
	if (dl) {
		T_CHECK(dlist_count(dl) == 13, "count");
		lookups("with filter", dl);
		T_CHECK(dlist_limit(dl, 1 << 20) == 0, "limit above the size");
		lookups("with filter, a limit above the size", dl);
		T_CHECK(dlist_limit(dl, 0) == 0, "limit 0");
		/* Twice: from the file, then from the key cache. */
		lookups("with filter, pread", dl);
		lookups("with filter, pread again", dl);
		T_CHECK(!dlist_changed(dl, a), "not changed");
		make(b, 0, "dnstap-bgp-domains 1 13");
		rename(b, a);
		T_CHECK(dlist_changed(dl, a), "changed after a rename");
		T_CHECK(dlist_lookup(dl, "example.com", 11,
				     &(struct dlist_match){0}),
			"the old mapping still answers after the rename");
		dlist_close(&dl);
		T_CHECK(dl == NULL, "close NULLs the pointer");
	}
	dl = dlist_open(a, err, sizeof err);
	T_CHECK(dl != NULL, "open without filter: %s", dl ? "ok" : err);
	if (dl) {
		lookups("without filter", dl);
		T_CHECK(dlist_limit(dl, 0) == 0, "limit 0");
		lookups("without filter, pread", dl);
		lookups("without filter, pread again", dl);
		dlist_close(&dl);
	}

	/* Cut short and appended to: refused, EPROTO. */
	f = fopen(a, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	snprintf(cmd, sizeof cmd,
		 "head -c %ld %s > %s && { cat %s; echo x; } > %s", size - 1, a,
		 b, a, c);
	T_CHECK(system(cmd) == 0, "make damaged copies");
	errno = 0;
	dl = dlist_open(b, err, sizeof err);
	T_CHECK(!dl && errno == EPROTO && strstr(err, "truncated"),
		"truncated refused: %s", err);
	dlist_close(&dl);
	errno = 0;
	dl = dlist_open(c, err, sizeof err);
	T_CHECK(!dl && errno == EPROTO, "appended refused: %s", err);
	dlist_close(&dl);
	make(b, 1, "dnstap-bgp-domains 2 7");
	dl = dlist_open(b, err, sizeof err);
	T_CHECK(!dl && strstr(err, "bad header"), "other version refused: %s",
		err);
	dlist_close(&dl);
	snprintf(b, sizeof b, "%s/none.cdb", dir);
	dl = dlist_open(b, err, sizeof err);
	T_CHECK(!dl && errno == ENOENT, "missing: ENOENT (%s)", err);

	snprintf(a, sizeof a, "%s/p.cdb", dir);
	snprintf(b, sizeof b, "%s/q.cdb", dir);
	in_place(a, b, UINT64_MAX, "copied");
	in_place(a, b, 0, "pread");

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
