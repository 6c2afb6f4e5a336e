/*
 * domain-match: keeps the answer records whose names are on the domain
 * list, with the list's tag set (docs/records.md, lib/dlist.h).
 *
 * Reads answer records on stdin, writes the matching ones on stdout with
 * TAG set, drops the rest (-v: the other way round). The list is a cdb
 * mapped read-only, so memory does not grow with it; it is reopened on
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

#include "dlist.h"
#include "lineio.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "rec.h"
#include "sig.h"

#define CHECK_MS 1000	 /* how often the list file is looked at */
#define METRICS_MS 10000 /* how often the metrics file is written */

static struct dlist *dl;
static const char *path;
static int chain_mode, invert;
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
	log_fatal(EXIT_PERM, "usage: domain-match [-cnv] [-M METRICS_FILE] "
			     "-d LIST.cdb | domain-match -d LIST.cdb -q NAME...");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
reload(const char *why)
{
	char err[256];
	struct dlist *n;

	n = dlist_open(path, err, sizeof err);
	if (!n) {
		n_reload_failures++;
		have_refused = stat(path, &refused) == 0;
		log_warn("unable to reload %s (%s): %s; keeping the list in "
			 "use (%llu entries)",
		    path, why, err, (unsigned long long)n_entries);
		return;
	}
	dlist_close(&dl);
	dl = n;
	have_refused = 0;
	n_reloads++;
	n_entries = dlist_count(dl);
	log_info("reloaded %s (%s): %llu entries", path, why,
	    (unsigned long long)n_entries);
}

/* Replaced since the last load, and not by the file refused last time? */
static int
list_replaced(void)
{
	struct stat st;

	if (!dlist_changed(dl, path))
		return 0;
	if (have_refused && stat(path, &st) == 0 && st.st_ino == refused.st_ino &&
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

/* The first of the record's names that the list matches decides. */
static int
match(const struct rec *r, struct dlist_match *m)
{
	const char *p, *end, *comma;

	if (dlist_lookup(dl, r->name, r->name_len, m) && !m->excluded)
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
handle(struct lw *w, char *line, size_t len)
{
	struct rec r;
	struct dlist_match m;
	enum rec_err e;
	char out[REC_LINE_MAX + 64];
	size_t n;
	int hit;

	n_in++;
	if (len >= REC_LINE_MAX) {
		n_malformed++;
		log_warn_limited(&bad_rl, "input line %llu: line too long",
		    (unsigned long long)n_in);
		return;
	}
	e = rec_parse(&r, line, len);
	if (e == REC_OK && r.type != REC_ANSWER)
		e = REC_E_TYPE;
	if (e != REC_OK) {
		n_malformed++;
		log_warn_limited(&bad_rl, "input line %llu: %s%s",
		    (unsigned long long)n_in, rec_strerror(e),
		    e == REC_E_TYPE ? " (want answer)" : "");
		return;
	}
	hit = match(&r, &m);
	if (hit) {
		n_matched++;
		r.tag = m.tag;
		r.tag_len = m.tag_len;
	}
	if (hit == invert) {
		n_dropped++;
		return;
	}
	n = rec_format(out, sizeof out, &r);
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
			rc = rc ? rc : 1;
			continue;
		}
		if (!dlist_lookup(dl, name, len, &m)) {
			printf("%s: no entry\n", name);
			rc = 1;
		} else if (m.excluded)
			printf("%s: excluded by !%.*s\n", name,
			    (int)m.entry_len, m.entry);
		else
			printf("%s: matched by %.*s, tag %.*s\n", name,
			    (int)m.entry_len, m.entry, (int)m.tag_len, m.tag);
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
	struct lr r;
	struct lw w;
	struct pollfd pfd[2];
	enum lr_result res;
	int64_t now, next_check, next_metrics;
	int c, check = 0, qmode = 0, sfd, sig, done = 0, tmo;
	size_t len;
	ssize_t n;

	log_init(argv[0]);
	path = getenv("DOMAIN_LIST");
	if (mfile && *mfile == '\0')
		mfile = NULL;
	while ((c = getopt(argc, argv, "cd:M:nqv")) != -1) {
		switch (c) {
		case 'c':
			chain_mode = 1;
			break;
		case 'd':
			path = optarg;
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

	next_check = now_ms() + CHECK_MS;
	next_metrics = now_ms() + METRICS_MS;
	while (!done) {
		/* One batch: everything buffered, against one list. */
		while ((res = lr_next(&r, &line, &len)) != LR_NONE) {
			if (res == LR_LONG) {
				n_in++;
				n_malformed++;
				log_warn_limited(&bad_rl,
				    "input line %llu: line too long",
				    (unsigned long long)n_in);
				continue;
			}
			handle(&w, line, len);
		}
		if (r.eof)
			break;
		if (lw_flush(&w) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
		now = now_ms();
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
