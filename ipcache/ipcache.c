/*
 * ipcache: the address cache between domain-match and bgp-announce.
 *
 * Reads answer records on stdin and peer records on a FIFO (-p), keeps one
 * entry per (address, tag) with its name, first and last seen, expiry and
 * origin, and writes on stdout: replay, one announce per entry and eor at
 * start (and on SIGUSR2), then announce for each new entry and withdraw for
 * each expired or delisted one. The cache lives in an LMDB store (-s DIR),
 * written in one batch every half second; `ipcache -l -s DIR` lists it while
 * ipcache runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "list.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "rec.h"
#include "sig.h"
#include "store.h"

#define FLUSH_MS 500 /* store batch period: well inside the 1 s promise */
#define TICK_MS 1000 /* list file check, name arena compaction */

static const char usage_text[] =
    "usage: ipcache -s DIR [-c] [-d CDB] [-p FIFO] [-G GROUP] [-L SECS]\n"
    "               [-t FLOOR:CEIL] [-g SECS] [-x PREFIX]... [-a PREFIX]...\n"
    "               [-m PER_NAME] [-N TOTAL] [-M FILE]\n"
    "       ipcache -l -s DIR [-r | -C] [-q NAME] [-u SUFFIX] [-T TAG]\n"
    "               [-P PREFIX]... [-o local|peer]\n"
    "       ipcache -h | -V\n";

/* Never routed from here: an answer in these must not hijack traffic. */
/* clang-format off */
static const char *default_deny[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
	"192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
	"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
	"64:ff9b:1::/48", "100::/64", "2001:db8::/32", "3fff::/20", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8",
};
/* clang-format on */

/* What the options say (options() fills it, nothing changes it later). */
static struct {
	const char *store_dir, *list_path, *peer_path, *mfile;
	gid_t group;	       /* -G: readers' group, or (gid_t)-1 */
	int listmode, listopt; /* -l; the last option only -l takes */
	struct list_query q;   /* -l */
} cf = {.group = (gid_t)-1, .q.origin = -1};

static struct ic ic;
static struct store *store;
static struct dlist *dl;
static struct lr in, pin;
static struct lw out;
static int sfd = -1;

/* A counter's increase over the last 60 ticks (one a second). */
struct window {
	const uint64_t *counter;
	uint64_t prev, sum;
	uint64_t sec[60];
	unsigned i;
};
static struct window minute[2] = {{.counter = &ic.cnt.announces},
				  {.counter = &ic.cnt.withdraws}};

static void
window_tick(struct window *w)
{
	uint64_t d = *w->counter - w->prev;

	w->prev = *w->counter;
	w->sum = w->sum - w->sec[w->i] + d;
	w->sec[w->i] = d;
	w->i = (w->i + 1) % 60;
}

/* clang-format off */
static struct metric metrics[] = {
	{ "entries", NULL, METRIC_GAUGE, "Entries in the cache.",
	    &ic.cnt.entries },
	{ "entries", "origin=\"local\"", METRIC_GAUGE, "Entries in the cache.",
	    &ic.cnt.by_origin[STORE_LOCAL] },
	{ "entries", "origin=\"peer\"", METRIC_GAUGE, "Entries in the cache.",
	    &ic.cnt.by_origin[STORE_PEER] },
	{ "announces_last_minute", NULL, METRIC_GAUGE,
	    "Announce records for new entries in the last 60 seconds.",
	    &minute[0].sum },
	{ "withdraws_last_minute", NULL, METRIC_GAUGE,
	    "Withdraw records in the last 60 seconds.", &minute[1].sum },
	{ "records_total", "input=\"answer\"", METRIC_COUNTER,
	    "Records read, by input.", &ic.cnt.answers },
	{ "records_total", "input=\"peer\"", METRIC_COUNTER,
	    "Records read, by input.", &ic.cnt.peers },
	{ "announces_total", NULL, METRIC_COUNTER,
	    "Announce records written for new entries.", &ic.cnt.announces },
	{ "withdraws_total", NULL, METRIC_COUNTER,
	    "Withdraw records written (expired or delisted).",
	    &ic.cnt.withdraws },
	{ "refreshes_total", NULL, METRIC_COUNTER,
	    "Records that refreshed an existing entry.", &ic.cnt.refreshes },
	{ "filtered_total", NULL, METRIC_COUNTER,
	    "Records refused by the prefix filters or the list.",
	    &ic.cnt.filtered },
	{ "denied_total", "input=\"answer\"", METRIC_COUNTER,
	    "Records refused by the prefix filters (deny list, own "
	    "addresses), by input.", &ic.cnt.denied[0] },
	{ "denied_total", "input=\"peer\"", METRIC_COUNTER,
	    "Records refused by the prefix filters (deny list, own "
	    "addresses), by input.", &ic.cnt.denied[1] },
	{ "limited_total", NULL, METRIC_COUNTER,
	    "New entries refused by the per-name or total limit.",
	    &ic.cnt.limited },
	{ "malformed_total", NULL, METRIC_COUNTER,
	    "Input lines that were not valid records.", &ic.cnt.malformed },
	{ "store_writes_total", NULL, METRIC_COUNTER,
	    "Batches committed to the store.", &ic.cnt.store_writes },
	{ "store_errors_total", NULL, METRIC_COUNTER,
	    "Batches the store refused (kept in memory, retried).",
	    &ic.cnt.store_errors },
	{ "marks_total", NULL, METRIC_COUNTER,
	    "Mark records passed on, in order.", &ic.cnt.marks },
	{ "store_map_bytes", NULL, METRIC_GAUGE,
	    "The store's map (address space; it grows when full).",
	    &ic.cnt.store_map_bytes },
};
/* clang-format on */
#define NMETRICS (sizeof metrics / sizeof metrics[0])
static struct metrics_file mf = {
    .prog = "ipcache", .m = metrics, .n = NMETRICS};

/*
 * "P1 P2,P3": adds each prefix to l. A bare address is its /32 or /128
 * (a router's own address, as an operator writes it).
 */
static void
prefix_list(struct prefixes *l, const char *s)
{
	struct rec_addr a;
	size_t n;
	int bare;

	while (*s) {
		n = strcspn(s, " ,\t\n");
		bare = !memchr(s, '/', n);
		if (n && (rec_addr_parse(&a, s, n, !bare) == -1 ||
			  prefixes_add(l, &a) == -1)) {
			opt_usage("bad prefix %.*s", (int)n, s);
		}
		s += n;
		s += strspn(s, " ,\t\n");
	}
}

/* This host's own addresses are never announced from an answer. */
static void
own_addresses(void)
{
	struct ifaddrs *ifa, *p;
	struct rec_addr a;

	ic.own.n = 0;
	if (getifaddrs(&ifa) == -1) {
		log_warn_sys("unable to list local addresses");
		return;
	}
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr)
			continue;
		if (p->ifa_addr->sa_family == AF_INET)
			rec_addr_set(
			    &a,
			    &((struct sockaddr_in *)(void *)p->ifa_addr)
				 ->sin_addr,
			    4);
		else if (p->ifa_addr->sa_family == AF_INET6)
			rec_addr_set(
			    &a,
			    &((struct sockaddr_in6 *)(void *)p->ifa_addr)
				 ->sin6_addr,
			    16);
		else
			continue;
		prefixes_add(&ic.own, &a);
	}
	freeifaddrs(ifa);
}

static struct store *
open_store(enum store_mode mode)
{
	char err[512];
	int perm;
	struct store *s = store_open_group(cf.store_dir, mode, cf.group, err,
					   sizeof err, &perm);

	if (!s)
		log_fatal(perm ? EXIT_PERM : EXIT_TEMP,
			  "unable to open store %s: %s", cf.store_dir, err);
	return s;
}

static int
load_cb(const struct store_entry *e, void *arg)
{
	(void)arg;
	if (ic_load(&ic, e) == -1)
		log_fatal(EXIT_TEMP, "unable to load the store: out of memory");
	return 0;
}

/*
 * One transaction: the deletions, then (unless dels_only) the dirty
 * entries. 0, or -1 with the reason in err.
 */
static int
write_batch(int dels_only, char *err, size_t errlen)
{
	struct store_entry se;
	struct rec_addr a;
	size_t k;
	int full;

	if (store_begin(store, err, errlen) == -1)
		return -1;
	for (k = 0; k < ic.ndels; k++) {
		memset(&a, 0, sizeof a);
		a.family = ic.dels[k].family;
		a.plen = a.family == 4 ? 32 : 128;
		memcpy(a.a, ic.dels[k].a, 16);
		if (store_del(store, &a, ic.tags[ic.dels[k].tag], err,
			      errlen) == -1)
			goto fail;
	}
	for (k = 0; !dels_only && k < ic.ndirty; k++) {
		if (!ic.e[ic.dirty[k]].family)
			continue;
		ic_entry(&ic, ic.dirty[k], &se);
		if (store_put(store, &se, err, errlen) == -1)
			goto fail;
	}
	return store_commit(store, &full, err, errlen);
fail:
	store_abort(store);
	return -1;
}

/*
 * Writes the dirty entries and the deletions in one transaction. A full
 * map is grown and the batch retried at once; when the store stays full (a
 * full disk), the deletions go alone, so that what was withdrawn leaves the
 * store (and the peers' view) even while new entries cannot be written.
 */
static void
flush_store(void)
{
	static struct ratelimit rl = RATELIMIT_INIT;

	char err[512];
	int tries, ok = 0, full;

	if (!ic.ndirty && !ic.ndels)
		return;
	for (tries = 0; tries < 8 && !ok; tries++) {
		if ((ok = write_batch(0, err, sizeof err) == 0)) {
			ic_stored(&ic);
			ic.cnt.store_writes++;
		} else if (store_full(store) != STORE_FULL_MAP)
			break;
	}
	if (store_mapsize(store) != ic.cnt.store_map_bytes) {
		ic.cnt.store_map_bytes = store_mapsize(store);
		log_info("store %s: map grown to %llu MiB", cf.store_dir,
			 (unsigned long long)ic.cnt.store_map_bytes >> 20);
	}
	if (ok)
		return;
	full = store_full(store);
	if (full && ic.ndels && write_batch(1, err, sizeof err) == 0)
		ic.ndels = 0;
	ic.cnt.store_errors++;
	log_warn_limited(&rl, "unable to write store %s: %s%s", cf.store_dir,
			 err, full ? " (kept in memory, retrying)" : "");
}

/* The metrics file every few seconds (force: now); a failure said once. */
static void
write_metrics(int force)
{
	if (metrics_file_tick(&mf, force) == -1)
		log_warn_sys("unable to write %s", mf.path);
}

/* The exit line: why, and the main counters. */
static void
log_counters(const char *why)
{
	log_info("exiting (%s): entries=%llu announces=%llu withdraws=%llu "
		 "answers=%llu peer_records=%llu filtered=%llu limited=%llu "
		 "malformed=%llu store_errors=%llu",
		 why, (unsigned long long)ic.cnt.entries,
		 (unsigned long long)ic.cnt.announces,
		 (unsigned long long)ic.cnt.withdraws,
		 (unsigned long long)ic.cnt.answers,
		 (unsigned long long)ic.cnt.peers,
		 (unsigned long long)ic.cnt.filtered,
		 (unsigned long long)ic.cnt.limited,
		 (unsigned long long)ic.cnt.malformed,
		 (unsigned long long)ic.cnt.store_errors);
}

static void __attribute__((noreturn)) finish(int code, const char *why)
{
	flush_store();
	if (ic.ndirty || ic.ndels) {
		log_warn("store %s: the last batch could not be written",
			 cf.store_dir);
		code = EXIT_TEMP;
	}
	write_metrics(1);
	store_close(&store);
	lw_destroy(&out); /* the rest is dropped; stdout blocks again */
	log_counters(why);
	exit(code);
}

static void handle_signals(int blocked);

/*
 * Writes what is buffered for stdout. While the next stage does not read,
 * the store batches go on every FLUSH_MS (what was read is persisted even
 * though it cannot be passed on) and TERM/INT still end ipcache: a restarted
 * next stage gets the whole set from the replay. stdout is non-blocking
 * (lw_nonblock): the writer never waits, this poll does; on a pipe it
 * writes whole lines of at most PIPE_BUF bytes at a time.
 */
static void
out_check(void)
{
	struct pollfd p[2];
	int r;

	while (!ic.out_err && lw_pending(&out)) {
		if (lw_flush(&out) == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			ic.out_err = errno;
			break;
		}
		p[0] = (struct pollfd){out.fd, POLLOUT, 0};
		p[1] = (struct pollfd){sfd, POLLIN, 0};
		if ((r = poll(p, sfd == -1 ? 1 : 2, FLUSH_MS)) == -1) {
			if (errno != EINTR)
				ic.out_err = errno;
		} else if (r == 0)
			flush_store();
		else if (sfd != -1 && p[1].revents)
			handle_signals(
			    1); /* TERM ends here, dropping the rest */
	}
	if (ic.out_err) {
		flush_store();
		write_metrics(1);
		log_counters("standard output failed");
		errno = ic.out_err;
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	}
}

static struct dlist *
open_list(const char *path)
{
	char err[256];
	struct dlist *l = dlist_open(path, err, sizeof err);

	if (!l)
		log_fatal(errno == ENOENT ? EXIT_TEMP : EXIT_PERM,
			  "unable to open %s: %s", path, err);
	return l;
}

/*
 * The domain list, looked at once a second (asked NULL) and reopened on
 * SIGHUP: lib/dlist's one policy and messages; a new list relists.
 */
static void
reload_list(const char *asked)
{
	char msg[1024];
	enum dlist_event ev;

	if (!dl || (ev = dlist_reload(&dl, cf.list_path, asked, msg,
				      sizeof msg)) == DLIST_SAME)
		return;
	(ev == DLIST_LOADED ? log_info : log_warn)("%s", msg);
	if (ev == DLIST_LOADED)
		ic_relist(&ic, dl, 1);
}

/* Reads what is buffered on one input into the cache. */
static void
drain(struct lr *r, int peer)
{
	char *line;
	size_t len;
	enum lr_result res;

	while ((res = lr_next(r, &line, &len)) != LR_NONE) {
		if (res == LR_LONG) {
			ic.cnt.malformed++;
			log_warn_limited(&ic.rl_bad,
					 "%s: line too long: dropped",
					 peer ? "peer input" : "stdin");
			continue;
		}
		if (ic_line(&ic, line, len, peer) == -1)
			log_fatal(EXIT_TEMP, "out of memory");
	}
}

/*
 * The signals' events. blocked: called from out_check while stdout does
 * not drain: TERM/INT end without writing the rest.
 */
static void
handle_signals(int blocked)
{
	int sig;

	while ((sig = sig_next(sfd)) > 0) {
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (blocked && lw_pending(&out))
				log_warn("standard output blocked: %zu bytes "
					 "not written",
					 lw_pending(&out));
			else
				out_check();
			finish(0, sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		case SIGHUP:
			own_addresses();
			reload_list("SIGHUP");
			break;
		case SIGUSR1:
			metrics_log(metrics, NMETRICS);
			break;
		case SIGUSR2:
			ic_replay(&ic);
			break;
		}
	}
}

/* -q, -u: a name as the records write it (lowercase, no final dot). */
static const char *
name_option(char *s, const char *what)
{
	size_t n = strlen(s);

	if (rec_name_check(s, &n) == -1)
		opt_usage("%s %s: not a domain name", what, s);
	return s;
}

/* The options of the list command: usage errors without -l. */
static void
list_option(int c, char *arg)
{
	switch (c) {
	case 'C':
		cf.q.count = 1;
		break;
	case 'o':
		if (strcmp(arg, "local") == 0)
			cf.q.origin = STORE_LOCAL;
		else if (strcmp(arg, "peer") == 0)
			cf.q.origin = STORE_PEER;
		else
			opt_usage("origin %s: not local or peer", arg);
		break;
	case 'P':
		prefix_list(&cf.q.prefixes, arg);
		break;
	case 'q':
		cf.q.name = name_option(arg, "name");
		break;
	case 'r':
		cf.q.raw = 1;
		break;
	case 'T':
		if (rec_tag_check(arg, strlen(arg)) == -1)
			opt_usage("tag %s: not a tag", arg);
		cf.q.tag = strcmp(arg, "-") == 0 ? "" : arg;
		break;
	case 'u':
		cf.q.suffix = name_option(arg, "suffix");
		break;
	}
	cf.listopt = c;
}

/* -G: a group name or number. */
static gid_t
group_id(const char *s)
{
	struct group *g;

	if ((g = getgrnam(s)))
		return g->gr_gid;
	if (strspn(s, "0123456789") == strlen(s))
		return (gid_t)opt_number(s, 0, INT32_MAX, "group");
	opt_usage("unknown group %s", s);
}

/* The environment (an envdir) first: the options override it. */
static const char *
environment(void)
{
	const char *v;

	cf.store_dir = getenv("IPCACHE_STORE");
	cf.list_path = getenv("IPCACHE_DOMAINS");
	cf.peer_path = getenv("IPCACHE_PEER");
	cf.mfile = getenv("METRICS_FILE");
	if ((v = getenv("IPCACHE_LIFETIME")))
		ic.lifetime_us =
		    opt_number(v, 1, 315360000, "lifetime") * 1000000;
	if ((v = getenv("IPCACHE_GRANULARITY")))
		ic.gran_s = opt_number(v, 0, 86400, "granularity");
	if ((v = getenv("IPCACHE_DENY")))
		prefix_list(&ic.deny, v);
	if ((v = getenv("IPCACHE_ALLOW")))
		prefix_list(&ic.allow, v);
	if ((v = getenv("IPCACHE_MAX_PER_NAME")))
		ic.max_per_name =
		    (uint32_t)opt_number(v, 0, UINT32_MAX, "limit");
	if ((v = getenv("IPCACHE_MAX")))
		ic.max_total = (uint32_t)opt_number(v, 0, UINT32_MAX, "limit");
	if ((v = getenv("IPCACHE_GROUP")) && *v)
		cf.group = group_id(v);
	return getenv("IPCACHE_TTL");
}

/* Options and environment into cf and ic; anything bad is a usage error. */
static void
options(int argc, char **argv)
{
	const char *ttl;
	long long floor_s = 0, ceil_s = 0, life_s;
	char *colon;
	size_t i;
	int c;

	opt_init("ipcache", usage_text);
	opterr = 0;
	if (ic_init(&ic, &out) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	ic.max_per_name = 1000;
	ic.max_total = 4000000;
	ttl = environment();
	while ((c = getopt(argc, argv,
			   "a:cCd:g:G:hlL:m:M:N:o:p:P:q:rs:t:T:u:Vx:")) != -1) {
		switch (c) {
		case 'C':
		case 'o':
		case 'P':
		case 'q':
		case 'r':
		case 'T':
		case 'u':
			list_option(c, optarg);
			break;
		case 'a':
			prefix_list(&ic.allow, optarg);
			break;
		case 'c':
			ic.record_clock = 1;
			break;
		case 'd':
			cf.list_path = optarg;
			break;
		case 'g':
			ic.gran_s = opt_number(optarg, 0, 86400, "granularity");
			break;
		case 'G':
			cf.group = group_id(optarg);
			break;
		case 'h':
			opt_help();
		case 'l':
			cf.listmode = 1;
			break;
		case 'L':
			ic.lifetime_us =
			    opt_number(optarg, 1, 315360000, "lifetime") *
			    1000000;
			break;
		case 'm':
			ic.max_per_name = (uint32_t)opt_number(
			    optarg, 0, UINT32_MAX, "limit");
			break;
		case 'M':
			cf.mfile = optarg;
			break;
		case 'N':
			ic.max_total = (uint32_t)opt_number(
			    optarg, 0, UINT32_MAX, "limit");
			break;
		case 'p':
			cf.peer_path = optarg;
			break;
		case 's':
			cf.store_dir = optarg;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'V':
			opt_version();
		case 'x':
			prefix_list(&ic.deny, optarg);
			break;
		default:
			opt_bad(c);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (!cf.store_dir || !*cf.store_dir)
		opt_usage("no store: -s DIR or $IPCACHE_STORE");
	mf.path = cf.mfile && *cf.mfile ? cf.mfile : NULL;
	if (cf.listopt && !cf.listmode)
		opt_usage("-%c is an option of the list command (-l)",
			  cf.listopt);
	if (cf.q.raw && cf.q.count)
		opt_usage("-r and -C: one or the other");
	if (ttl && *ttl) {
		if (!(colon = strchr(ttl, ':')))
			opt_usage("TTL mode %s: not FLOOR:CEIL", ttl);
		*colon = '\0';
		floor_s = opt_number(ttl, 0, 315360000, "TTL floor");
		ceil_s = opt_number(colon + 1, 1, 315360000, "TTL ceiling");
		if (floor_s > ceil_s)
			opt_usage("TTL floor %lld above the ceiling %lld",
				  floor_s, ceil_s);
		ic.ttl_mode = 1;
		ic.ttl_floor_us = floor_s * 1000000;
		ic.ttl_ceil_us = ceil_s * 1000000;
	}
	ic.ndeny_own = ic.deny.n;
	for (i = 0; i < sizeof default_deny / sizeof default_deny[0]; i++)
		prefix_list(&ic.deny, default_deny[i]);
	/* A refresh must be persisted well before the entry could expire. */
	life_s = ic.ttl_mode ? floor_s : ic.lifetime_us / 1000000;
	if (ic.gran_s > life_s / 8)
		ic.gran_s = life_s / 8;
}

/* Opens the inputs, the store and the list; loads and replays the cache. */
static void
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT,  SIGHUP,
				   SIGUSR1, SIGUSR2, 0};
	struct stat st;
	char err[512];

	own_addresses();
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (lr_init(&in, 0, REC_LINE_MAX) == -1 ||
	    lr_init(&pin, -1, REC_LINE_MAX) == -1 ||
	    lw_init(&out, 1, 65536) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	if (lw_nonblock(&out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up stdout");
	if (cf.peer_path && *cf.peer_path) {
		if (mkfifo(cf.peer_path, 0600) == -1 && errno != EEXIST)
			log_fatal_sys(EXIT_TEMP, "unable to create %s",
				      cf.peer_path);
		/* Read-write: writers come and go without an end of file. */
		pin.fd = open(cf.peer_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (pin.fd == -1)
			log_fatal_sys(EXIT_TEMP, "unable to open %s",
				      cf.peer_path);
		if (fstat(pin.fd, &st) == -1 || !S_ISFIFO(st.st_mode))
			log_fatal(EXIT_PERM, "unable to open %s: not a FIFO",
				  cf.peer_path);
	}
	if (cf.list_path && *cf.list_path)
		dl = open_list(cf.list_path);
	store = open_store(STORE_WRITE);
	if (store_reserve(store, ic.max_total, err, sizeof err) == -1)
		log_fatal(EXIT_TEMP, "unable to size store %s: %s",
			  cf.store_dir, err);
	ic.cnt.store_map_bytes = store_mapsize(store);
	/* With the record clock, time starts at the first record. */
	ic.now_us = ic.record_clock ? 0 : clock_wall_us();
	if (store_each(store, 0, load_cb, NULL, err, sizeof err) == -1)
		log_fatal(errno == EBADMSG ? EXIT_PERM : EXIT_TEMP,
			  "unable to read store %s: %s", cf.store_dir, err);
	store_forget_pages(store);
	ic_relist(&ic, dl, 0);
	ic_replay(&ic);
	log_info(
	    "store %s: %llu entries loaded; reading answers on stdin%s%s%s%s"
	    "; writing announces and withdraws on stdout",
	    cf.store_dir, (unsigned long long)ic.cnt.entries,
	    pin.fd != -1 ? ", peer records on " : "",
	    pin.fd != -1 ? cf.peer_path : "", dl ? ", the list " : "",
	    dl ? cf.list_path : "");
}

/* Once a second: the list file, the name arena, the store's pages. */
static void
tick(void)
{
	static unsigned ticks;

	reload_list(NULL);
	window_tick(&minute[0]);
	window_tick(&minute[1]);
	if (ic_compact(&ic) == -1)
		log_warn("unable to compact names: out of memory");
	/* Writes fault store pages in: keep RSS the cache's. */
	if (++ticks % 60 == 0)
		store_forget_pages(store);
}

/* Reads one input that poll found ready; the end of stdin ends ipcache. */
static void
read_input(struct lr *r, int peer)
{
	ssize_t n = lr_fill(r);

	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_fatal_sys(EXIT_TEMP, "unable to read %s",
			      peer ? cf.peer_path : "stdin");
	drain(r, peer);
	if (n == 0 && !peer) {
		/* A replay begun is written whole: a file gets all of it. */
		do
			out_check();
		while (ic_replay_step(&ic));
		out_check();
		finish(0, "end of input");
	}
}

/*
 * The event loop: timers, signals and both inputs in one poll, and the
 * output written before every wait.
 */
static void __attribute__((noreturn)) loop(void)
{
	struct pollfd pfd[3];
	int64_t now, next_flush, next_tick, next;
	int pfdn, replaying;

	now = clock_mono_ms();
	next_flush = now;
	next_tick = now + TICK_MS;
	for (;;) {
		/* What input caused (marks too) goes before a batch. */
		out_check();
		now = clock_mono_ms();
		if (now >= next_flush) {
			flush_store();
			next_flush = now + FLUSH_MS;
		}
		if (now >= next_tick) {
			tick();
			next_tick = now + TICK_MS;
		}
		write_metrics(0);
		/* A replay goes out a buffer at a time, as output drains. */
		replaying = ic_replay_step(&ic);
		out_check();
		next = next_flush < next_tick ? next_flush : next_tick;
		pfd[0] = (struct pollfd){sfd, POLLIN, 0};
		pfd[1] = (struct pollfd){in.fd, POLLIN, 0};
		pfdn = 2;
		if (pin.fd != -1)
			pfd[pfdn++] = (struct pollfd){pin.fd, POLLIN, 0};
		next -= clock_mono_ms();
		if (poll(pfd, (nfds_t)pfdn,
			 next > 0 && !replaying ? (int)next : 0) == -1 &&
		    errno != EINTR)
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		if (!ic.record_clock)
			ic.now_us = clock_wall_us();
		if (pfd[0].revents)
			handle_signals(0);
		if (pfd[1].revents)
			read_input(&in, 0);
		if (pfdn == 3 && pfd[2].revents)
			read_input(&pin, 1);
		ic_expire(&ic);
	}
}

int
main(int argc, char **argv)
{
	options(argc, argv);
	if (cf.listmode)
		return list_store(cf.store_dir, &cf.q);
	setup();
	loop();
}
