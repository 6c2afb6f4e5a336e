/*
 * store_test: lib/store.c, the writer batches and the readers' views (full
 * and "changed since"), reopening, and refusal of what is not a store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

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

static unsigned
mode_of(const char *dir, const char *name, gid_t *gid)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof path, "%s%s%s", dir, *name ? "/" : "", name);
	if (lstat(path, &st) == -1)
		return 0;
	if (gid)
		*gid = st.st_gid;
	return st.st_mode & 07777;
}

/*
 * File modes: the store says which listed names were resolved here, so it
 * is private (0600) unless shared with a group of readers (0640, and 0660
 * for the lock file a reader writes its slot into).
 */
static void
perms(const char *top)
{
	char dir[300], path[400], link[400], err[256];
	struct store *w;
	gid_t g, want;
	int perm, fd;

	umask(022);
	snprintf(dir, sizeof dir, "%s/private", top);
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w != NULL, "perms: a new store (%s)", w ? "" : err);
	store_close(&w);
	T_CHECK(mode_of(dir, "", NULL) == 0700,
		"perms: directory created 0700 (%o)", mode_of(dir, "", NULL));
	T_CHECK(mode_of(dir, "data.mdb", NULL) == 0600,
		"perms: data.mdb 0600 (%o)", mode_of(dir, "data.mdb", NULL));
	T_CHECK(mode_of(dir, "lock.mdb", NULL) == 0600,
		"perms: lock.mdb 0600 (%o)", mode_of(dir, "lock.mdb", NULL));

	/* A store left world-readable by an older version is closed. */
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	chmod(path, 0644);
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	chmod(path, 0666);
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	store_close(&w);
	T_CHECK(
	    mode_of(dir, "data.mdb", NULL) == 0640 &&
		mode_of(dir, "lock.mdb", NULL) == 0660,
	    "perms: an old world-readable store loses every right of others "
	    "(%o %o)",
	    mode_of(dir, "data.mdb", NULL), mode_of(dir, "lock.mdb", NULL));
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	chmod(path, 0777);
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	store_close(&w);
	T_CHECK(mode_of(dir, "data.mdb", NULL) == 0640,
		"perms: never more than group read on data.mdb (%o)",
		mode_of(dir, "data.mdb", NULL));
	chmod(path, 0600);

	/* Shared with a group of readers (as root any group will do). */
	want = geteuid() == 0 ? 4242 : getegid();
	snprintf(dir, sizeof dir, "%s/shared", top);
	w = store_open_group(dir, STORE_WRITE, want, err, sizeof err, &perm);
	T_CHECK(w != NULL, "perms: a store shared with group %u (%s)",
		(unsigned)want, w ? "" : err);
	store_close(&w);
	T_CHECK(mode_of(dir, "", &g) == 0750 && g == want,
		"perms: shared directory 0750 (%o) of the group (%u)",
		mode_of(dir, "", NULL), (unsigned)g);
	T_CHECK(mode_of(dir, "data.mdb", &g) == 0640 && g == want,
		"perms: shared data.mdb 0640 (%o) of the group (%u)",
		mode_of(dir, "data.mdb", NULL), (unsigned)g);
	T_CHECK(mode_of(dir, "lock.mdb", &g) == 0660 && g == want,
		"perms: shared lock.mdb 0660 (%o) of the group (%u)",
		mode_of(dir, "lock.mdb", NULL), (unsigned)g);
	/* Without the group given, a share made by someone else stays. */
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	store_close(&w);
	T_CHECK(mode_of(dir, "data.mdb", NULL) == 0640 &&
		    mode_of(dir, "lock.mdb", NULL) == 0660,
		"perms: a group share is left as it is (%o %o)",
		mode_of(dir, "data.mdb", NULL), mode_of(dir, "lock.mdb", NULL));

	/* A symlink at data.mdb is refused, its target left alone. */
	snprintf(dir, sizeof dir, "%s/link", top);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/victim", top);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
	snprintf(link, sizeof link, "%s/data.mdb", dir);
	(void)!symlink(path, link);
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w == NULL && perm && strstr(err, "symbolic link"),
		"perms: a symlink at data.mdb is refused (%s)",
		w ? "opened" : err);
	store_close(&w);
	T_CHECK(mode_of(top, "victim", NULL) == 0644,
		"perms: the symlink's target is untouched (%o)",
		mode_of(top, "victim", NULL));

	/* A reader of a directory without a store creates nothing. */
	snprintf(dir, sizeof dir, "%s/empty", top);
	mkdir(dir, 0700);
	w = store_open(dir, STORE_READ, err, sizeof err, &perm);
	T_CHECK(w == NULL && !perm && mode_of(dir, "lock.mdb", NULL) == 0,
		"perms: a reader of no store creates no lock file (%s)", err);
	store_close(&w);
}

static int
last_cb(const struct store_entry *e, void *arg)
{
	struct seen *s = arg;

	s->n += e->last_us == 2000 + 59;
	return 0;
}

static int
hold_cb(const struct store_entry *e, void *arg)
{
	int *fds = arg;
	char c;

	(void)e;
	/* Inside the read transaction: say so, then wait to be told to end. */
	(void)!write(fds[1], "x", 1);
	(void)!read(fds[0], &c, 1);
	return 1;
}

/*
 * The map grows: a reader in another process holds its snapshot while the
 * writer rewrites every entry in batch after batch (churn, as refreshes
 * are), so no freed page can be reused. Sized for 2000 entries, the map
 * fills after a few batches; every batch must still get in.
 */
static void
growth(const char *top)
{
	char dir[300], err[256], c;
	struct store *w, *r;
	struct store_entry e;
	struct seen s;
	int perm, full, tell[2], told[2], b, i, failed = 0, fds[2];
	size_t size0;
	pid_t pid;

	snprintf(dir, sizeof dir, "%s/growth", top);
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w && store_reserve(w, 2000, err, sizeof err) == 0,
		"growth: a store sized for 2000 entries");
	if (!w)
		return;
	size0 = store_mapsize(w);
	T_CHECK(size0 >= 2000 * 1024 && size0 < 4000 * 1024,
		"growth: the map is sized from the entry limit (%zu)", size0);
	store_begin(w, err, sizeof err);
	for (i = 0; i < 2000; i++) {
		snprintf(err, sizeof err, "11.0.%d.%d", i / 250, i % 250);
		mk(&e, err, "", "growth-with-a-longer-name.example", 1000);
		store_put(w, &e, err, sizeof err);
	}
	T_CHECK(store_commit(w, &full, err, sizeof err) == 0,
		"growth: 2000 entries in");
	if (pipe(tell) == -1 || pipe(told) == -1)
		return;
	if ((pid = fork()) == 0) {
		r = store_open(dir, STORE_READ, err, sizeof err, &perm);
		fds[0] = tell[0];
		fds[1] = told[1];
		if (r)
			store_each(r, 0, hold_cb, fds, err, sizeof err);
		_exit(0);
	}
	T_CHECK(read(told[0], &c, 1) == 1,
		"growth: a reader holds a snapshot in another process");
	for (b = 0; b < 60; b++) {
		if (store_begin(w, err, sizeof err) == -1) {
			failed++;
			continue;
		}
		for (i = 0; i < 2000; i++) {
			snprintf(err, sizeof err, "11.0.%d.%d", i / 250,
				 i % 250);
			mk(&e, err, "", "growth-with-a-longer-name.example",
			   2000 + b);
			if (store_put(w, &e, err, sizeof err) == -1)
				break;
		}
		if (i < 2000) {
			store_abort(w);
			failed++;
		} else if (store_commit(w, &full, err, sizeof err) == -1)
			failed++;
	}
	T_CHECK(store_mapsize(w) > size0, "growth: the map grew (%zu to %zu)",
		size0, store_mapsize(w));
	/* A failed batch is retried at once by the caller: at most one
	 * failure per growth, never a run of them. */
	T_CHECK(failed <= 8, "growth: %d of 60 batches failed before a growth",
		failed);
	memset(&s, 0, sizeof s);
	T_CHECK(store_each(w, 0, last_cb, &s, err, sizeof err) == 0 &&
		    s.n == 2000,
		"growth: all 2000 entries from the last batch (%d)", s.n);
	(void)!write(tell[1], "x", 1);
	waitpid(pid, NULL, 0);
	store_close(&w);
}

/*
 * A reader that comes while the writer is making the store (the environment
 * exists, nothing is committed yet) is told to try again, not that the store
 * is not one; an environment holding someone else's databases stays refused
 * for good.
 */
static void
in_the_making(void)
{
	char dir[] = "/tmp/store-test.XXXXXX", err[256], cmd[300];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {3, (void *)"key"}, v = {3, (void *)"val"};
	int perm = -1;

	if (!mkdtemp(dir) || mdb_env_create(&env))
		return;
	mdb_env_set_maxdbs(env, 4);
	if (mdb_env_open(env, dir, 0, 0600) == 0) {
		T_CHECK(
		    store_open(dir, STORE_READ, err, sizeof err, &perm) ==
			    NULL &&
			perm == 0,
		    "store: a reader of a store being made is told to retry "
		    "(%s)",
		    err);
		if (mdb_txn_begin(env, NULL, 0, &txn) == 0 &&
		    mdb_dbi_open(txn, "theirs", MDB_CREATE, &dbi) == 0 &&
		    mdb_put(txn, dbi, &k, &v, 0) == 0 &&
		    mdb_txn_commit(txn) == 0)
			T_CHECK(
			    store_open(dir, STORE_READ, err, sizeof err,
				       &perm) == NULL &&
				perm == 1,
			    "store: another program's LMDB is refused for good "
			    "(%s)",
			    err);
	}
	mdb_env_close(env);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	(void)!system(cmd);
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
		    strstr(err, "in use"),
		"store: a second writer is refused");

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
	T_CHECK(store_each(r, 0, count_cb, &s, err, sizeof err) == 0 &&
		    s.n == 3,
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
		    s.n == 2,
		"store: reopened with its entries");
	store_close(&w);

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd != -1) {
		(void)!write(fd, "garbage, not a database\n", 24);
		close(fd);
	}
	w = store_open(dir, STORE_WRITE, err, sizeof err, &perm);
	T_CHECK(w == NULL && perm,
		"store: garbage is refused as permanent (%s)", err);
	r = store_open(dir, STORE_READ, err, sizeof err, &perm);
	T_CHECK(r == NULL && perm, "store: reader refuses garbage too (%s)",
		err);
	perms(dir);
	growth(dir);
	in_the_making();
	snprintf(path, sizeof path, "rm -rf %s", dir);
	(void)!system(path);
	T_DONE();
}
