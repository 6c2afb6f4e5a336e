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
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "rec.h"
#include "sig.h"
#include "store.h"

#define FLUSH_MS 500	/* store batch period: well inside the 1 s promise */
#define TICK_MS 1000	/* list file check, name arena compaction */
#define METRICS_MS 10000

/* Never routed from here: an answer in these must not hijack traffic. */
static const char *default_deny[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
	"192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
	"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
	"64:ff9b:1::/48", "100::/64", "2001:db8::/32", "3fff::/20", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8",
};

static struct ic ic;
static struct store *store;
static const char *store_dir;
static const char *list_path, *mfile;
static struct dlist *dl;
static int sfd = -1;
static int out_pipe; /* stdout is a pipe or socket: write in PIPE_BUF pieces */

static struct metric metrics[] = {
	{ "entries", NULL, METRIC_GAUGE, "Entries in the cache.",
	    &ic.cnt.entries },
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
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ipcache -s DIR [-c] [-d CDB] [-p FIFO] [-L SECS] "
	    "[-t FLOOR:CEIL] [-g SECS]\n"
	    "               [-x PREFIX]... [-a PREFIX]... [-m PER_NAME] "
	    "[-N TOTAL] [-M FILE]\n"
	    "       ipcache -l -s DIR\n");
	exit(EXIT_PERM);
}



static long long
number(const char *s, long long min, long long max, const char *what)
{
	const char *e;
	long long v = strtonum(s, min, max, &e);

	if (e) {
		log_warn("%s %s: %s", what, s, e);
		usage();
	}
	return v;
}

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
			log_warn("bad prefix: %.*s", (int)n, s);
			usage();
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
			rec_addr_set(&a,
			    &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr,
			    4);
		else if (p->ifa_addr->sa_family == AF_INET6)
			rec_addr_set(&a,
			    &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr,
			    16);
		else
			continue;
		prefixes_add(&ic.own, &a);
	}
	freeifaddrs(ifa);
}

static void
put_time(char *buf, size_t cap, int64_t us)
{
	snprintf(buf, cap, "%lld.%06lld", (long long)(us / 1000000),
	    (long long)(us % 1000000));
}

static int
list_cb(const struct store_entry *e, void *arg)
{
	struct lw *w = arg;
	char line[REC_NAME_MAX + 256], as[64], t1[32], t2[32], t3[32];
	int n;

	rec_addr_format(as, sizeof as, &e->addr, 0);
	put_time(t1, sizeof t1, e->last_us);
	put_time(t2, sizeof t2, e->expires_us);
	put_time(t3, sizeof t3, e->first_us);
	n = snprintf(line, sizeof line, "%s %s %s %s %s %s %s\n", as, e->name,
	    e->tag[0] ? e->tag : "-", e->origin == STORE_PEER ? "peer" : "local",
	    t1, t2, t3);
	if (n > 0 && (size_t)n < sizeof line &&
	    lw_put(w, line, (size_t)n) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	return 0;
}

static struct store *
open_store(enum store_mode mode)
{
	char err[512];
	int perm;
	struct store *s = store_open(store_dir, mode, err, sizeof err, &perm);

	if (!s)
		log_fatal(perm ? EXIT_PERM : EXIT_TEMP,
		    "unable to open store %s: %s", store_dir, err);
	return s;
}

static int
list(void)
{
	char err[512];
	struct lw w;

	store = open_store(STORE_READ);
	if (lw_init(&w, 1, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	if (store_each(store, 0, list_cb, &w, err, sizeof err) == -1)
		log_fatal(errno == EBADMSG ? EXIT_PERM : EXIT_TEMP,
		    "unable to read store %s: %s", store_dir, err);
	if (lw_flush(&w) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	lw_destroy(&w);
	store_close(&store);
	return 0;
}

static int
load_cb(const struct store_entry *e, void *arg)
{
	(void)arg;
	if (ic_load(&ic, e) == -1)
		log_fatal(EXIT_TEMP, "unable to load the store: out of memory");
	return 0;
}

/* Writes the dirty entries and the deletions in one transaction. */
static void
flush_store(void)
{
	static struct ratelimit rl = RATELIMIT_INIT;
	char err[512];
	struct store_entry se;
	struct rec_addr a;
	size_t k;
	int full = 0;

	if (!ic.ndirty && !ic.ndels)
		return;
	if (store_begin(store, err, sizeof err) == -1)
		goto fail;
	for (k = 0; k < ic.ndels; k++) {
		memset(&a, 0, sizeof a);
		a.family = ic.dels[k].family;
		a.plen = a.family == 4 ? 32 : 128;
		memcpy(a.a, ic.dels[k].a, 16);
		if (store_del(store, &a, ic.tags[ic.dels[k].tag], err,
			sizeof err) == -1)
			goto fail;
	}
	for (k = 0; k < ic.ndirty; k++) {
		if (!ic.e[ic.dirty[k]].family)
			continue;
		ic_entry(&ic, ic.dirty[k], &se);
		if (store_put(store, &se, err, sizeof err) == -1)
			goto fail;
	}
	if (store_commit(store, &full, err, sizeof err) == -1)
		goto fail2;
	ic_stored(&ic);
	ic.cnt.store_writes++;
	return;
fail:
	full = store_full(store);
	store_abort(store);
fail2:
	ic.cnt.store_errors++;
	log_warn_limited(&rl, "unable to write store %s: %s%s", store_dir, err,
	    full ? " (kept in memory, retrying)" : "");
}

static void
write_metrics(const char *path)
{
	static struct ratelimit rl = RATELIMIT_INIT;

	if (path && metrics_write(path, "ipcache", metrics, NMETRICS) == -1)
		log_warn_limited(&rl, "unable to write %s: %s", path,
		    strerror(errno));
}

static void
finish(int code)
{
	flush_store();
	if (ic.ndirty || ic.ndels)
		code = EXIT_TEMP;
	write_metrics(mfile);
	store_close(&store);
	exit(code);
}

static void handle_signals(struct lw *out, int blocked);

/*
 * Writes what is buffered for stdout. While the next stage does not read,
 * the store batches go on every FLUSH_MS (what was read is persisted even
 * though it cannot be passed on) and TERM/INT still end ipcache: a restarted
 * next stage gets the whole set from the replay. On a pipe a write of at
 * most PIPE_BUF bytes after POLLOUT never blocks (records are shorter).
 */
static void
out_check(struct lw *out)
{
	struct pollfd p[2];
	size_t off = 0, chunk;
	ssize_t n;
	int r;

	while (!ic.out_err && off < out->len) {
		p[0] = (struct pollfd){ out->fd, POLLOUT, 0 };
		p[1] = (struct pollfd){ sfd, POLLIN, 0 };
		if ((r = poll(p, sfd == -1 ? 1 : 2, FLUSH_MS)) == -1) {
			if (errno != EINTR)
				ic.out_err = errno;
			continue;
		}
		if (r == 0) {
			flush_store();
			continue;
		}
		if (sfd != -1 && p[1].revents) {
			/* TERM ends here: drop what was not written. */
			out->len -= off;
			memmove(out->buf, out->buf + off, out->len);
			off = 0;
			handle_signals(out, 1);
			continue;
		}
		chunk = out->len - off;
		/* Whole lines: a reader never gets half of one from us. */
		if (out_pipe && chunk > PIPE_BUF)
			chunk = (size_t)((char *)memrchr(out->buf + off, '\n',
					     PIPE_BUF) + 1 - (out->buf + off));
		if ((n = write(out->fd, out->buf + off, chunk)) == -1) {
			if (errno != EINTR && errno != EAGAIN)
				ic.out_err = errno;
			continue;
		}
		off += (size_t)n;
	}
	out->len -= off;
	memmove(out->buf, out->buf + off, out->len);
	if (ic.out_err) {
		flush_store();
		write_metrics(mfile);
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

	if (!dl || (ev = dlist_reload(&dl, list_path, asked, msg,
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
			log_warn_limited(&ic.rl_bad, "%s: line too long: dropped",
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
handle_signals(struct lw *out, int blocked)
{
	int sig;

	while ((sig = sig_next(sfd)) > 0) {
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (blocked && out->len)
				log_warn("standard output blocked: %zu bytes "
					 "not written",
				    out->len);
			else
				out_check(out);
			finish(0);
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

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, 0 };
	const char *peer_path, *v, *ttl = NULL;
	struct lr in, pin;
	struct lw out;
	struct pollfd pfd[3];
	struct stat st;
	int64_t now, next_flush, next_tick, next_metrics;
	long long floor_s = 0, ceil_s = 0;
	unsigned ticks = 0;
	int c, listmode = 0, pfdn, timeout;
	size_t i;
	ssize_t n;
	char err[512];
	char *colon;

	log_init("ipcache");
	if (ic_init(&ic, &out) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	store_dir = getenv("IPCACHE_STORE");
	list_path = getenv("IPCACHE_DOMAINS");
	peer_path = getenv("IPCACHE_PEER");
	mfile = getenv("METRICS_FILE");
	if ((v = getenv("IPCACHE_LIFETIME")))
		ic.lifetime_us = number(v, 1, 315360000, "lifetime") * 1000000;
	ttl = getenv("IPCACHE_TTL");
	if ((v = getenv("IPCACHE_GRANULARITY")))
		ic.gran_s = number(v, 0, 86400, "granularity");
	if ((v = getenv("IPCACHE_DENY")))
		prefix_list(&ic.deny, v);
	if ((v = getenv("IPCACHE_ALLOW")))
		prefix_list(&ic.allow, v);
	ic.max_per_name = 1000;
	ic.max_total = 4000000;
	if ((v = getenv("IPCACHE_MAX_PER_NAME")))
		ic.max_per_name = (uint32_t)number(v, 0, UINT32_MAX, "limit");
	if ((v = getenv("IPCACHE_MAX")))
		ic.max_total = (uint32_t)number(v, 0, UINT32_MAX, "limit");
	while ((c = getopt(argc, argv, "a:cd:g:lL:m:M:N:p:s:t:x:")) != -1) {
		switch (c) {
		case 'a':
			prefix_list(&ic.allow, optarg);
			break;
		case 'c':
			ic.record_clock = 1;
			break;
		case 'd':
			list_path = optarg;
			break;
		case 'g':
			ic.gran_s = number(optarg, 0, 86400, "granularity");
			break;
		case 'l':
			listmode = 1;
			break;
		case 'L':
			ic.lifetime_us =
			    number(optarg, 1, 315360000, "lifetime") * 1000000;
			break;
		case 'm':
			ic.max_per_name =
			    (uint32_t)number(optarg, 0, UINT32_MAX, "limit");
			break;
		case 'M':
			mfile = optarg;
			break;
		case 'N':
			ic.max_total =
			    (uint32_t)number(optarg, 0, UINT32_MAX, "limit");
			break;
		case 'p':
			peer_path = optarg;
			break;
		case 's':
			store_dir = optarg;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'x':
			prefix_list(&ic.deny, optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !store_dir || !*store_dir)
		usage();
	if (ttl && *ttl) {
		if (!(colon = strchr(ttl, ':')))
			usage();
		*colon = '\0';
		floor_s = number(ttl, 0, 315360000, "TTL floor");
		ceil_s = number(colon + 1, 1, 315360000, "TTL ceiling");
		if (floor_s > ceil_s)
			usage();
		ic.ttl_mode = 1;
		ic.ttl_floor_us = floor_s * 1000000;
		ic.ttl_ceil_us = ceil_s * 1000000;
	}
	if (listmode)
		return list();
	for (i = 0; i < sizeof default_deny / sizeof default_deny[0]; i++)
		prefix_list(&ic.deny, default_deny[i]);
	/* A refresh must be persisted well before the entry could expire. */
	if (ic.gran_s > (ic.ttl_mode ? floor_s : ic.lifetime_us / 1000000) / 8)
		ic.gran_s = (ic.ttl_mode ? floor_s : ic.lifetime_us / 1000000) / 8;

	own_addresses();
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	out_pipe = fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	if (lr_init(&in, 0, REC_LINE_MAX) == -1 ||
	    lr_init(&pin, -1, REC_LINE_MAX) == -1 ||
	    lw_init(&out, 1, 65536) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	if (peer_path && *peer_path) {
		if (mkfifo(peer_path, 0600) == -1 && errno != EEXIST)
			log_fatal_sys(EXIT_TEMP, "unable to create %s", peer_path);
		/* Read-write: writers come and go without an end of file. */
		pin.fd = open(peer_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (pin.fd == -1)
			log_fatal_sys(EXIT_TEMP, "unable to open %s", peer_path);
		if (fstat(pin.fd, &st) == -1 || !S_ISFIFO(st.st_mode))
			log_fatal(EXIT_PERM, "unable to open %s: not a FIFO",
			    peer_path);
	}
	if (list_path && *list_path)
		dl = open_list(list_path);
	store = open_store(STORE_WRITE);
	/* With the record clock, time starts at the first record. */
	ic.now_us = ic.record_clock ? 0 : clock_wall_us();
	if (store_each(store, 0, load_cb, NULL, err, sizeof err) == -1)
		log_fatal(errno == EBADMSG ? EXIT_PERM : EXIT_TEMP,
		    "unable to read store %s: %s", store_dir, err);
	store_forget_pages(store);
	ic_relist(&ic, dl, 0);
	ic_replay(&ic);
	log_info("%llu entries loaded from %s",
	    (unsigned long long)ic.cnt.entries, store_dir);

	now = clock_mono_ms();
	next_flush = now;
	next_tick = now + TICK_MS;
	next_metrics = now;
	for (;;) {
		out_check(&out);
		now = clock_mono_ms();
		if (now >= next_flush) {
			flush_store();
			next_flush = now + FLUSH_MS;
		}
		if (now >= next_tick) {
			reload_list(NULL);
			if (ic_compact(&ic) == -1)
				log_warn("unable to compact names: out of memory");
			/* Writes fault store pages in: keep RSS the cache's. */
			if (++ticks % 60 == 0)
				store_forget_pages(store);
			next_tick = now + TICK_MS;
			continue;
		}
		if (now >= next_metrics) {
			write_metrics(mfile);
			next_metrics = now + METRICS_MS;
		}
		out_check(&out);
		pfd[0] = (struct pollfd){ sfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ in.fd, POLLIN, 0 };
		pfdn = 2;
		if (pin.fd != -1)
			pfd[pfdn++] = (struct pollfd){ pin.fd, POLLIN, 0 };
		timeout = (int)((next_flush < next_tick ? next_flush : next_tick) -
		    now);
		if (timeout < 0)
			timeout = 0;
		if (poll(pfd, (nfds_t)pfdn, timeout) == -1 && errno != EINTR)
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		if (!ic.record_clock)
			ic.now_us = clock_wall_us();
		if (pfd[0].revents)
			handle_signals(&out, 0);
		if (pfd[1].revents) {
			n = lr_fill(&in);
			if (n == -1 && errno != EAGAIN)
				log_fatal_sys(EXIT_TEMP, "unable to read stdin");
			drain(&in, 0);
			if (n == 0) {
				out_check(&out);
				finish(0);
			}
		}
		if (pfdn == 3 && pfd[2].revents) {
			n = lr_fill(&pin);
			if (n == -1 && errno != EAGAIN)
				log_fatal_sys(EXIT_TEMP, "unable to read %s",
				    peer_path);
			drain(&pin, 1);
		}
		ic_expire(&ic);
	}
}
