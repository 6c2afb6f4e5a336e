/*
 * domain-match: keeps the answer records whose names are on the domain
 * list, with the list's tag set (docs/records.md, lib/dlist.h).
 *
 * Reads answer records on stdin, writes the matching ones on stdout with
 * TAG set, drops the rest (-v: the other way round). The list is a cdb
 * mapped read-only, so memory does not grow with it (and one over -m MB is
 * read with pread past its filter, so its pages do not count in our RSS
 * either: dlist_limit); it is reopened on
 * SIGHUP and when the file is replaced (checked once a second), between
 * two batches of records, so each record is matched against one version.
 * A new file that does not open as a list is refused and the old one stays.
 * With -q it answers for names given as arguments instead.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dlist.h"
#include "lineio.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "rec.h"
#include "sig.h"

#define CHECK_MS 1000	 /* how often the list file is looked at */
#define METRICS_MS 10000 /* how often the metrics file is written */
#define BATCH 32	 /* records parsed, then matched together */

static struct dlist *dl;
static const char *path;
static int chain_mode, invert;
/* Lists larger than this are not read through the mapping (dlist_limit). */
static uint64_t map_max = 4 << 20;
static struct ratelimit bad_rl = RATELIMIT_INIT;
/* The replacement last refused, so a bad file is reported once. */
static struct stat refused;
static int have_refused;

static uint64_t n_in, n_matched, n_dropped, n_malformed, n_reloads,
    n_reload_failures, n_entries;

static const struct metric metrics[] = {
	{ "records_total", NULL, METRIC_COUNTER, "Input lines read.", &n_in },
	{ "matched_total", NULL, METRIC_COUNTER,
	    "Records whose names matched the list.", &n_matched },
	{ "dropped_total", NULL, METRIC_COUNTER,
	    "Well-formed records not written (no match, or a match with -v).",
	    &n_dropped },
	{ "malformed_total", NULL, METRIC_COUNTER,
	    "Input lines that are not answer records.", &n_malformed },
	{ "reloads_total", NULL, METRIC_COUNTER,
	    "Lists loaded after the first.", &n_reloads },
	{ "reload_failures_total", NULL, METRIC_COUNTER,
	    "Replacement lists refused (the old one stayed in use).",
	    &n_reload_failures },
	{ "list_entries", NULL, METRIC_GAUGE,
	    "Entries of the list in use.", &n_entries },
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static void
usage(void)
{
	log_fatal(EXIT_PERM, "usage: domain-match [-cnv] [-m MAP_MB] "
			     "[-M METRICS_FILE] -d LIST.cdb | "
			     "domain-match -d LIST.cdb -q NAME...");
}


static void
reload(const char *why)
{
	char err[256];
	struct dlist *n;
	struct timespec t0, t1;
	struct stat st;
	int have_st;

	/*
	 * The file as it was before the open: if it is replaced while we
	 * look, the next check sees another file and tries again.
	 */
	have_st = stat(path, &st) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = dlist_open(path, err, sizeof err);
	if (n && dlist_limit(n, map_max) == -1) {
		snprintf(err, sizeof err, "%s", strerror(errno));
		dlist_close(&n);
	}
	if (!n) {
		n_reload_failures++;
		have_refused = have_st;
		refused = st;
		log_warn("unable to reload %s (%s): %s; keeping the list in "
			 "use (%llu entries)",
		    path, why, err, (unsigned long long)n_entries);
		return;
	}
	dlist_close(&dl);
	dl = n;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	have_refused = 0;
	n_reloads++;
	n_entries = dlist_count(dl);
	log_info("reloaded %s (%s): %llu entries in %.3f ms", path, why,
	    (unsigned long long)n_entries,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* Replaced since the last load, and not by the file refused last time? */
static int
list_replaced(void)
{
	static int gone;
	struct stat st;

	/* A removed file is no new list, but worth one line. */
	if (stat(path, &st) == -1) {
		if (!gone)
			log_warn_sys("list %s gone; keeping the list in use "
				     "(%llu entries)",
			    path, (unsigned long long)n_entries);
		gone = 1;
		return 0;
	}
	gone = 0;
	if (!dlist_changed(dl, path))
		return 0;
	if (have_refused && st.st_ino == refused.st_ino &&
	    st.st_dev == refused.st_dev && st.st_size == refused.st_size &&
	    st.st_mtim.tv_sec == refused.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == refused.st_mtim.tv_nsec)
		return 0;
	return 1;
}

static void
write_metrics(const char *mfile)
{
	if (mfile && metrics_write(mfile, "domain-match", metrics, NMETRICS) ==
		-1)
		log_warn_sys("unable to write %s", mfile);
}

/* A line read, parsed; matched once the whole batch is parsed. */
struct item {
	struct rec r;
	enum rec_err e; /* REC_OK, or why the line is skipped */
	int too_long;
	int probed; /* probe holds the query name's lookup */
	struct dlist_probe probe;
};

/* The first of the record's names that the list matches decides. */
static int
match(struct item *it, struct dlist_match *m)
{
	const struct rec *r = &it->r;
	const char *p, *end, *comma;

	if ((it->probed ? dlist_probe_lookup(dl, &it->probe, m) :
			  dlist_lookup(dl, r->name, r->name_len, m)) &&
	    !m->excluded)
		return 1;
	if (!chain_mode || r->chain_len == 0)
		return 0;
	/* Canonical names write ',' as \044: each raw ',' separates. */
	for (p = r->chain, end = r->chain + r->chain_len; p < end;
	     p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		if (dlist_lookup(dl, p, (size_t)(comma - p), m) &&
		    !m->excluded)
			return 1;
	}
	return 0;
}

static void
parse(struct item *it, char *line, size_t len)
{
	it->probed = 0;
	it->too_long = len >= REC_LINE_MAX;
	if (it->too_long) {
		it->e = REC_E_FIELDS;
		return;
	}
	it->e = rec_parse(&it->r, line, len);
	if (it->e == REC_OK && it->r.type != REC_ANSWER)
		it->e = REC_E_TYPE;
}

/*
 * Lookups miss the CPU cache on a big list; taking the query names of the
 * whole batch through the lookup step by step lets those misses overlap
 * (dlist_probe_*). Chain names (-c) are looked up plainly.
 */
static void
prefetch(struct item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (it[i].e == REC_OK)
			dlist_probe_start(dl, &it[i].probe, it[i].r.name,
			    it[i].r.name_len);
	for (i = 0; i < n; i++)
		if (it[i].e == REC_OK)
			dlist_probe_fetch(dl, &it[i].probe);
	for (i = 0; i < n; i++)
		if (it[i].e == REC_OK) {
			dlist_probe_fetch(dl, &it[i].probe);
			it[i].probed = 1;
		}
}

static void
finish(struct lw *w, struct item *it)
{
	struct dlist_match m;
	char out[REC_LINE_MAX + 64];
	size_t n;
	int hit;

	n_in++;
	if (it->e != REC_OK) {
		n_malformed++;
		log_warn_limited(&bad_rl, "input line %llu: %s%s",
		    (unsigned long long)n_in,
		    it->too_long ? "line too long" : rec_strerror(it->e),
		    it->e == REC_E_TYPE ? " (want answer)" : "");
		return;
	}
	hit = match(it, &m);
	if (hit) {
		n_matched++;
		it->r.tag = m.tag;
		it->r.tag_len = m.tag_len;
	}
	if (hit == invert) {
		n_dropped++;
		return;
	}
	n = rec_format(out, sizeof out, &it->r);
	if (n == 0) {
		/* Cannot happen for a record that parsed; never write half. */
		n_malformed++;
		return;
	}
	if (lw_put(w, out, n) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
}

static int
query(int argc, char **argv)
{
	struct dlist_match m;
	char name[REC_NAME_MAX];
	const char *why;
	size_t len;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		if (list_name(argv[i], strlen(argv[i]), name, &len, &why) ==
		    -1) {
			printf("%s: bad name: %s\n", argv[i], why);
			rc = 1;
			continue;
		}
		if (!dlist_lookup(dl, name, len, &m)) {
			printf("%s: no entry\n", name);
			rc = 1;
		} else if (m.excluded)
			printf("%s: excluded by !%.*s\n", name,
			    (int)m.entry_len, m.entry);
		else
			printf("%s: matched by %s%.*s, tag %.*s\n", name,
			    m.exact ? "=" : "", (int)m.entry_len, m.entry,
			    (int)m.tag_len, m.tag);
		if (m.excluded)
			rc = 1;
	}
	if (fflush(stdout) == EOF)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	return rc;
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0 };
	const char *mfile = getenv("METRICS_FILE");
	char err[256], *line;
	const char *e;
	struct lr r;
	struct lw w;
	struct pollfd pfd[2];
	enum lr_result res;
	int64_t now, next_check, next_metrics;
	static struct item batch[BATCH];
	int c, check = 0, qmode = 0, sfd, sig, done = 0, tmo;
	size_t len, nb, i;
	ssize_t n;

	log_init(argv[0]);
	path = getenv("DOMAIN_LIST");
	if (mfile && *mfile == '\0')
		mfile = NULL;
	while ((c = getopt(argc, argv, "cd:m:M:nqv")) != -1) {
		switch (c) {
		case 'c':
			chain_mode = 1;
			break;
		case 'd':
			path = optarg;
			break;
		case 'm':
			map_max = (uint64_t)strtonum(optarg, 0, 1 << 20, &e)
			    << 20;
			if (e)
				usage();
			break;
		case 'M':
			mfile = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'q':
			qmode = 1;
			break;
		case 'v':
			invert = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!path || *path == '\0' || (qmode ? argc < 1 : argc > 0) ||
	    (check && qmode))
		usage();
	if (mfile && *mfile == '\0')
		usage();

	dl = dlist_open(path, err, sizeof err);
	if (!dl)
		log_fatal(errno == EPROTO ? EXIT_PERM : EXIT_TEMP,
		    "unable to open %s: %s", path, err);
	if (dlist_limit(dl, map_max) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate the key cache");
	n_entries = dlist_count(dl);
	if (qmode)
		return query(argc, argv);
	if (check) {
		printf("%s: %llu entries\n", path,
		    (unsigned long long)n_entries);
		return fflush(stdout) == EOF ? EXIT_TEMP : 0;
	}
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (lr_init(&r, 0, 256 * 1024) == -1 || lw_init(&w, 1, 256 * 1024) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate buffers");

	next_check = clock_mono_ms() + CHECK_MS;
	next_metrics = clock_mono_ms() + METRICS_MS;
	while (!done) {
		/*
		 * Everything buffered, against one list, in batches of BATCH
		 * (lines stay valid until the next lr_fill).
		 */
		do {
			nb = 0;
			while (nb < BATCH &&
			    (res = lr_next(&r, &line, &len)) != LR_NONE) {
				if (res == LR_LONG) {
					batch[nb].probed = 0;
					batch[nb].too_long = 1;
					batch[nb++].e = REC_E_FIELDS;
					continue;
				}
				parse(&batch[nb++], line, len);
			}
			if (nb > 1)
				prefetch(batch, nb);
			for (i = 0; i < nb; i++)
				finish(&w, &batch[i]);
		} while (nb == BATCH);
		if (r.eof)
			break;
		if (lw_flush(&w) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
		now = clock_mono_ms();
		if (now >= next_check) {
			if (list_replaced())
				reload("file replaced");
			next_check = now + CHECK_MS;
		}
		if (now >= next_metrics) {
			write_metrics(mfile);
			next_metrics = now + METRICS_MS;
		}
		tmo = (int)((next_check < next_metrics ? next_check :
							  next_metrics) -
		    now);
		pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(pfd, 2, tmo < 0 ? 0 : tmo) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}
		if (pfd[1].revents & POLLIN) {
			while ((sig = sig_next(sfd)) > 0) {
				switch (sig) {
				case SIGTERM:
				case SIGINT:
					done = 1;
					break;
				case SIGHUP:
					reload("SIGHUP");
					break;
				case SIGUSR1:
					metrics_log(metrics, NMETRICS);
					break;
				}
			}
		}
		if (!done && pfd[0].revents) {
			n = lr_fill(&r);
			if (n == -1 && errno != EAGAIN)
				log_fatal_sys(EXIT_TEMP, "unable to read stdin");
		}
	}
	if (lw_flush(&w) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	write_metrics(mfile);
	lr_destroy(&r);
	lw_destroy(&w);
	dlist_close(&dl);
	return 0;
}
