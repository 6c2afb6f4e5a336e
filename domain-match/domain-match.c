/*
 * domain-match: keeps the answer records whose names are on the domain
 * list, with the list's tag set (docs/records.md, lib/dlist.h).
 *
 * Reads answer records on stdin, writes the matching ones on stdout with
 * TAG set, drops the rest (-v: the other way round), and passes every
 * `mark N` on in its place among them. The list is copied into memory
 * when opened (one over -m MB keeps only its filter there and is read
 * with pread: dlist_open_limit), so nothing done to the file can reach a
 * lookup; it is reopened on SIGHUP and when the file is replaced or
 * changed (checked once a second), between two batches of records, so
 * each record is matched against one version; a file refused stays
 * unused, said once (dlist_reload). Everything waits in the loop's poll:
 * while stdout is blocked, stdin is not read and signals still work. With
 * -q it answers for names given as arguments instead.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dlist.h"
#include "lineio.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "rec.h"
#include "sig.h"

#define CHECK_MS 1000	   /* how often the list file is looked at */
#define METRICS_MS 10000   /* how often the metrics file is written */
#define BATCH 32	   /* records parsed, then matched together */
#define BUF (256 * 1024)   /* stdin and stdout buffers */
#define EXIT_FLUSH_MS 1000 /* how long TERM waits for a stuck stdout */

static const char usage_text[] =
    "usage: domain-match [-cv] [-m MB] [-M METRICS_FILE] -d LIST.cdb\n"
    "       domain-match -d LIST.cdb -q NAME...\n"
    "       domain-match -n -d LIST.cdb\n"
    "       domain-match -h | -V\n";

/* The command line. */
static struct {
	const char *path, *mfile;
	int chain, invert, check, query;
	uint64_t map_max; /* lists larger than this: dlist_open_limit */
	char **names;
	int nnames;
} cf = {.map_max = 4 << 20};

static struct dlist *dl;
static struct lr in;
static struct lw out;
static struct ratelimit bad_rl = RATELIMIT_INIT;

static uint64_t n_in, n_matched, n_dropped, n_malformed, n_marks, n_reloads,
    n_reload_failures, n_entries, n_mtime;

static const struct metric metrics[] = {
    {"records_total", NULL, METRIC_COUNTER, "Input lines read.", &n_in},
    {"matched_total", NULL, METRIC_COUNTER,
     "Records whose names matched the list.", &n_matched},
    {"dropped_total", NULL, METRIC_COUNTER,
     "Well-formed records not written (no match, or a match with -v).",
     &n_dropped},
    {"malformed_total", NULL, METRIC_COUNTER,
     "Input lines that are not answer or mark records.", &n_malformed},
    {"marks_total", NULL, METRIC_COUNTER, "Mark records passed on.", &n_marks},
    {"reloads_total", NULL, METRIC_COUNTER, "Lists loaded after the first.",
     &n_reloads},
    {"reload_failures_total", NULL, METRIC_COUNTER,
     "Replacement lists refused (the old one stayed in use).",
     &n_reload_failures},
    {"list_entries", NULL, METRIC_GAUGE, "Entries of the list in use.",
     &n_entries},
    {"list_mtime_seconds", NULL, METRIC_GAUGE,
     "Modification time of the list file in use (Unix seconds).", &n_mtime},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* The list in use changed: its gauges. */
static void
list_in_use(void)
{
	n_entries = dlist_count(dl);
	n_mtime = (uint64_t)dlist_mtime(dl);
}

/*
 * Looks at the list file (asked NULL) or reopens it (asked: why): lib/dlist's
 * one policy and messages.
 */
static void
reload(const char *asked)
{
	char msg[1024];
	enum dlist_event ev =
	    dlist_reload(&dl, cf.path, asked, msg, sizeof msg);

	if (ev == DLIST_SAME)
		return;
	(ev == DLIST_LOADED ? log_info : log_warn)("%s", msg);
	if (ev == DLIST_LOADED) {
		n_reloads++;
		list_in_use();
	} else if (ev == DLIST_REFUSED) {
		n_reload_failures++;
	}
}

static void
write_metrics(void)
{
	if (cf.mfile &&
	    metrics_write(cf.mfile, "domain-match", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", cf.mfile);
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

	if (r->type == REC_MARK)
		return 0;
	if ((it->probed ? dlist_probe_lookup(dl, &it->probe, m)
			: dlist_lookup(dl, r->name, r->name_len, m)) &&
	    !m->excluded)
		return 1;
	if (!cf.chain || r->chain_len == 0)
		return 0;
	/* Canonical names write ',' as \044: each raw ',' separates. */
	for (p = r->chain, end = r->chain + r->chain_len; p < end;
	     p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		if (dlist_lookup(dl, p, (size_t)(comma - p), m) && !m->excluded)
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
	if (it->e == REC_OK && it->r.type != REC_ANSWER &&
	    it->r.type != REC_MARK)
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
		if (it[i].e == REC_OK && it[i].r.type == REC_ANSWER)
			dlist_probe_start(dl, &it[i].probe, it[i].r.name,
					  it[i].r.name_len);
	for (i = 0; i < n; i++)
		if (it[i].e == REC_OK && it[i].r.type == REC_ANSWER)
			dlist_probe_fetch(dl, &it[i].probe);
	for (i = 0; i < n; i++)
		if (it[i].e == REC_OK && it[i].r.type == REC_ANSWER) {
			dlist_probe_fetch(dl, &it[i].probe);
			it[i].probed = 1;
		}
}

/*
 * One record out, in input order: a match (a non-match with -v) with its
 * tag, a mark as it came (everything before it is already in the buffer).
 */
static void
finish(struct item *it)
{
	struct dlist_match m;
	char line[REC_LINE_MAX + 64];
	size_t n;
	int hit;

	n_in++;
	if (it->e != REC_OK) {
		n_malformed++;
		log_warn_limited(
		    &bad_rl, "input line %llu: %s%s", (unsigned long long)n_in,
		    it->too_long ? "line too long" : rec_strerror(it->e),
		    it->e == REC_E_TYPE ? " (want answer or mark)" : "");
		return;
	}
	if (it->r.type == REC_MARK) {
		n_marks++;
	} else {
		hit = match(it, &m);
		if (hit) {
			n_matched++;
			it->r.tag = m.tag;
			it->r.tag_len = m.tag_len;
		}
		if (hit == cf.invert) {
			n_dropped++;
			return;
		}
	}
	n = rec_format(line, sizeof line, &it->r);
	if (n == 0) {
		/* Cannot happen for a record that parsed; never write half. */
		n_malformed++;
		return;
	}
	if (lw_put(&out, line, n) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
}

/*
 * The lines buffered, against one list, in batches of BATCH (lines stay
 * valid until the next lr_fill), while stdout holds less than BUF: 1 when
 * it stopped there with lines left, 0 when all are done.
 */
static int
match_buffered(void)
{
	static struct item batch[BATCH];
	enum lr_result res;
	char *line;
	size_t len, nb, i;

	for (;;) {
		if (lw_pending(&out) >= BUF)
			return 1;
		nb = 0;
		while (nb < BATCH &&
		       (res = lr_next(&in, &line, &len)) != LR_NONE) {
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
			finish(&batch[i]);
		if (nb < BATCH)
			return 0;
	}
}

static int
query(void)
{
	struct dlist_match m;
	char name[REC_NAME_MAX];
	const char *why;
	size_t len;
	int i, rc = 0;

	for (i = 0; i < cf.nnames; i++) {
		if (list_name(cf.names[i], strlen(cf.names[i]), name, &len,
			      &why) == -1) {
			printf("%s: bad name: %s\n", cf.names[i], why);
			rc = 1;
			continue;
		}
		/* m is filled only when an entry covers the name. */
		if (!dlist_lookup(dl, name, len, &m)) {
			printf("%s: no entry\n", name);
			rc = 1;
		} else if (m.excluded) {
			printf("%s: excluded by !%.*s\n", name,
			       (int)m.entry_len, m.entry);
			rc = 1;
		} else {
			printf("%s: matched by %s%.*s, tag %.*s\n", name,
			       m.exact ? "=" : "", (int)m.entry_len, m.entry,
			       (int)m.tag_len, m.tag);
		}
	}
	if (fflush(stdout) == EOF)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	return rc;
}

static void
options(int argc, char **argv)
{
	int c;

	opt_init("domain-match", usage_text);
	opterr = 0;
	cf.path = getenv("DOMAIN_LIST");
	cf.mfile = getenv("METRICS_FILE");
	if (cf.mfile && *cf.mfile == '\0')
		cf.mfile = NULL;
	while ((c = getopt(argc, argv, ":cd:hm:M:nqvV")) != -1) {
		switch (c) {
		case 'c':
			cf.chain = 1;
			break;
		case 'd':
			cf.path = optarg;
			break;
		case 'h':
			opt_help();
		case 'm':
			cf.map_max =
			    (uint64_t)opt_number(optarg, 0, 1 << 20, "-m")
			    << 20;
			break;
		case 'M':
			if (!*optarg)
				opt_usage("-M: an empty file name");
			cf.mfile = optarg;
			break;
		case 'n':
			cf.check = 1;
			break;
		case 'q':
			cf.query = 1;
			break;
		case 'v':
			cf.invert = 1;
			break;
		case 'V':
			opt_version();
		default:
			opt_bad(c);
		}
	}
	cf.names = argv + optind;
	cf.nnames = argc - optind;
	if (!cf.path || *cf.path == '\0')
		opt_usage("no list: give -d LIST.cdb or set DOMAIN_LIST");
	if (cf.check && cf.query)
		opt_usage("-n and -q do not go together");
	if (cf.query && cf.nnames < 1)
		opt_usage("-q wants at least one NAME");
	if (!cf.query && cf.nnames > 0)
		opt_usage("unexpected argument %s (names go with -q)",
			  cf.names[0]);
}

/* The list, the signals and the buffers; stdout made non-blocking. */
static int
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	char err[256];
	int sfd;

	dl = dlist_open_limit(cf.path, cf.map_max, err, sizeof err);
	if (!dl)
		log_fatal(errno == EPROTO ? EXIT_PERM : EXIT_TEMP,
			  "unable to open %s: %s", cf.path, err);
	list_in_use();
	if (cf.query || cf.check)
		return -1;
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (lr_init(&in, 0, BUF) == -1 || lw_init(&out, 1, BUF) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate buffers");
	if (lw_nonblock(&out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set stdout non-blocking");
	log_info("matching stdin against %s (%llu entries%s%s), to stdout",
		 cf.path, (unsigned long long)n_entries,
		 cf.chain ? ", CNAME chains too" : "",
		 cf.invert ? ", inverted" : "");
	return sfd;
}

/*
 * Records from stdin to stdout until the end of input or TERM/INT: the
 * reason. All waiting is in the one poll: stdin is read only while stdout
 * takes what was matched; at TERM what is buffered is matched and written
 * within EXIT_FLUSH_MS, the rest dropped with a warning.
 */
static const char *
loop(int sfd)
{
	struct pollfd pfd[3];
	const char *why = NULL;
	int64_t now, next_check, next_metrics, deadline = 0, t;
	int sig, more;
	ssize_t n;

	next_check = clock_mono_ms() + CHECK_MS;
	next_metrics = clock_mono_ms() + METRICS_MS;
	for (;;) {
		more = match_buffered();
		if (lw_flush(&out) == -1 && errno != EAGAIN)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
		/* At TERM, lines read whole are still matched and written. */
		if ((why || in.eof) && !more && !lw_pending(&out))
			break;
		now = clock_mono_ms();
		if (why && now >= deadline) {
			log_warn("standard output blocked: %zu bytes not "
				 "written, %zu bytes of input not matched",
				 lw_pending(&out), lr_pending(&in));
			break;
		}
		if (now >= next_check) {
			reload(NULL);
			next_check = now + CHECK_MS;
		}
		if (now >= next_metrics) {
			write_metrics();
			next_metrics = now + METRICS_MS;
		}
		t = next_check < next_metrics ? next_check : next_metrics;
		if (why && deadline < t)
			t = deadline;
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){
		    .fd =
			!why && !in.eof && lw_pending(&out) < BUF ? in.fd : -1,
		    .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = lw_pending(&out) ? out.fd : -1,
					 .events = POLLOUT};
		if (poll(pfd, 3, t > now ? (int)(t - now) : 0) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}
		while (pfd[0].revents && (sig = sig_next(sfd)) > 0) {
			switch (sig) {
			case SIGTERM:
			case SIGINT:
				if (!why) {
					why = sig == SIGTERM ? "SIGTERM"
							     : "SIGINT";
					deadline =
					    clock_mono_ms() + EXIT_FLUSH_MS;
				}
				break;
			case SIGHUP:
				reload("SIGHUP");
				break;
			case SIGUSR1:
				metrics_log(metrics, NMETRICS);
				break;
			}
		}
		if (pfd[1].revents && !why) {
			n = lr_fill(&in);
			if (n == -1 && errno != EAGAIN)
				log_fatal_sys(EXIT_TEMP,
					      "unable to read stdin");
		}
	}
	return why ? why : "end of input";
}

int
main(int argc, char **argv)
{
	const char *why;
	int sfd;

	options(argc, argv);
	sfd = setup();
	if (cf.query)
		return query();
	if (cf.check) {
		printf("%s: %llu entries\n", cf.path,
		       (unsigned long long)n_entries);
		return fflush(stdout) == EOF ? EXIT_TEMP : 0;
	}
	why = loop(sfd);
	write_metrics();
	log_info("exiting (%s): %llu records, %llu matched, %llu dropped, "
		 "%llu malformed, %llu marks, %llu reloads",
		 why, (unsigned long long)n_in, (unsigned long long)n_matched,
		 (unsigned long long)n_dropped, (unsigned long long)n_malformed,
		 (unsigned long long)n_marks, (unsigned long long)n_reloads);
	lr_destroy(&in);
	lw_destroy(&out);
	dlist_close(&dl);
	return 0;
}
