/*
 * sync-pull: pulls the address caches of peer instances over HTTP and writes
 * what they know as `peer TIME NAME ADDR TAG` records (docs/records.md) to
 * stdout or into ipcache's peer input.
 *
 * Each peer is pulled once at start and then every interval, all in
 * parallel (one libcurl multi handle, one poll loop with the signals), each
 * with its own timeout: one failing peer never delays the others. A body
 * is parsed as it arrives (lib/sync.c, the Go daemon's JSON) and its records
 * are spooled to an unlinked temporary file; only a response that completes
 * (status 200, the whole JSON value, within the size limit) is copied to the
 * output, so nothing is merged from a broken one, and memory stays the same
 * whatever the size of the peer's cache.
 *
 * Incremental: a peer that answers with an X-Dnstap-Bgp-Cursor header (our
 * sync-serve) is asked next time for `/fetch?since=CURSOR` only; a Go peer
 * sends no such header and is always pulled whole.
 *
 * Push (-p STORE): the local store is read every second for entries that
 * ipcache learned locally and that are new (not refreshes); each is sent to
 * every peer with PUT /put, as the Go daemon does, from a bounded queue per
 * peer (overflow is dropped and counted: the peers' next pull has them).
 * Each entry is pushed once: refreshes are not pushed (the Go daemon pushes
 * every answer).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dlist.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "rec.h"
#include "secret.h"
#include "sig.h"
#include "store.h"
#include "sync.h"

#define CURSOR_HEADER "X-Dnstap-Bgp-Cursor"
#define PUSH_QUEUE 512			   /* entries waiting per peer */
#define PUSH_JSON (REC_NAME_MAX * 2 + 200) /* one entry's JSON, at most */

struct peer {
	char *base; /* "http://host:port", no trailing slash */
	CURL *easy;
	int busy;
	int64_t next_us; /* when the next pull starts */
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers, *push_headers;
	/* the response in progress */
	int spool;
	struct lw sw;
	struct sync_parser *parser;
	uint64_t body_bytes, n_ok, n_bad;
	char why[320]; /* why the response is refused, "" while fine */
	char cursor_next[SYNC_TIME_MAX];
	char cursor[SYNC_TIME_MAX]; /* since= for the next pull, "" for full */
	/* for the metrics: the last merged pull (unix seconds), failures */
	uint64_t last_ok_s, errors;
	char *label; /* peer="BASE" */
	/* push */
	CURL *push_easy;
	int push_busy;
	char (*queue)[PUSH_JSON];
	unsigned qhead, qlen;
};

static struct {
	uint64_t pulls, pull_errors, pulls_full, pulls_incremental;
	uint64_t entries, rejected, records, bytes;
	uint64_t pushes, push_errors, push_dropped;
} st;

static const struct metric base_metrics[] = {
    {"pulls_total", NULL, METRIC_COUNTER,
     "Pulls that completed and were merged", &st.pulls},
    {"pulls_full_total", NULL, METRIC_COUNTER, "Merged pulls of a whole cache",
     &st.pulls_full},
    {"pulls_incremental_total", NULL, METRIC_COUNTER,
     "Merged incremental pulls", &st.pulls_incremental},
    {"pull_errors_total", NULL, METRIC_COUNTER,
     "Pulls that failed: nothing merged", &st.pull_errors},
    {"entries_total", NULL, METRIC_COUNTER, "Entries received in merged pulls",
     &st.entries},
    {"entries_rejected_total", NULL, METRIC_COUNTER,
     "Entries refused by validation", &st.rejected},
    {"records_total", NULL, METRIC_COUNTER, "peer records written",
     &st.records},
    {"body_bytes_total", NULL, METRIC_COUNTER, "Response body bytes received",
     &st.bytes},
    {"pushes_total", NULL, METRIC_COUNTER, "New entries pushed (PUT /put, 200)",
     &st.pushes},
    {"push_errors_total", NULL, METRIC_COUNTER, "Pushes that failed",
     &st.push_errors},
    {"push_dropped_total", NULL, METRIC_COUNTER, "Pushes dropped: queue full",
     &st.push_dropped},
};
#define NBASE (sizeof base_metrics / sizeof base_metrics[0])
/* base_metrics, then two per peer (metrics_init) */
static struct metric *metrics;
static size_t nmetrics;

static struct {
	int64_t interval_us, timeout_ms, stall_s;
	uint64_t max_body;
	const char *out_path, *state_dir, *spool_dir, *dlist_path;
	const char *ca, *cert, *key, *push_store, *token_from;
	char *token;
	int once;
	int64_t push_every_us;
} cf;

static struct dlist *dl;
static struct ratelimit rl = RATELIMIT_INIT;
static int out_fd = -1;
static struct lw out;
static struct store *pst;   /* the local store, with -p */
static int64_t push_cursor; /* newest change seen there */
static struct peer *peers;
static int npeers;
static struct metrics_file mfile = {NULL, "sync-pull", NULL, 0, 0, 0};
static int sfd = -1;
static CURLM *curlm; /* every transfer */
static int failures; /* pulls that failed, for -1's exit code */

static const char usage_text[] =
    "usage: sync-pull [-1] [-i SECONDS] [-t SECONDS] [-S SECONDS] [-b BYTES]\n"
    "                 [-o OUTPUT] [-s STATEDIR] [-w SPOOLDIR] [-d "
    "DOMAINS.cdb]\n"
    "                 [-T TOKENFILE] [-C CAFILE] [-c CERT -k KEY]\n"
    "                 [-p STORE [-P SECONDS]] [-M METRICS] PEER...\n"
    "       sync-pull -h | -V\n";

/* The state file of a peer: its base URL with unsafe bytes as '_'. */
static void
state_path(char *buf, size_t cap, const struct peer *p)
{
	size_t o;
	const char *s;

	o = (size_t)snprintf(buf, cap, "%s/", cf.state_dir);
	for (s = p->base; *s && o + 1 < cap; s++)
		buf[o++] = (strchr("/:?&%\\ ", *s) || *s < 0x21) ? '_' : *s;
	buf[o] = '\0';
}

static void
state_load(struct peer *p)
{
	char path[PATH_MAX], buf[SYNC_TIME_MAX];
	struct stat sb;
	int64_t us;
	ssize_t n;
	int fd;

	if (!cf.state_dir)
		return;
	state_path(path, sizeof path, p);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	/* written after each merged pull: its time survives a restart */
	if (fstat(fd, &sb) == 0)
		p->last_ok_s = (uint64_t)sb.st_mtime;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (sync_time_parse(buf, strlen(buf), &us) == 0)
		memcpy(p->cursor, buf, strlen(buf) + 1);
}

/* Written atomically: a crash leaves the old cursor, never half of one. */
static void
state_save(const struct peer *p)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, ok;
	size_t n = strlen(p->cursor);

	if (!cf.state_dir)
		return;
	state_path(path, sizeof path, p);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	if ((fd =
		 open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600)) == -1) {
		log_warn_sys("unable to create %s", tmp);
		return;
	}
	ok = write(fd, p->cursor, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
	     fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) == -1) {
		log_warn_sys("unable to write %s", path);
		unlink(tmp);
	}
}

static int
spool_open(void)
{
	const char *dir = cf.spool_dir;
	char path[PATH_MAX];
	int fd;

	if (!dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	snprintf(path, sizeof path, "%s/sync-pull.XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
		unlink(path);
	return fd;
}

/* Remembers the first reason a response is refused. */
static void __attribute__((format(printf, 2, 3)))
refuse(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
}

static int
on_entry(const struct sync_raw *raw, void *arg)
{
	struct peer *p = arg;
	struct sync_entry e;
	struct dlist_match m;
	enum sync_err err;
	char line[REC_LINE_MAX];
	size_t n;

	err = sync_entry_from_raw(&e, raw, clock_wall_us());
	if (err == SYNC_OK && dl &&
	    (!dlist_lookup(dl, e.name, e.name_len, &m) || m.excluded)) {
		p->n_bad++;
		log_warn_limited(&rl, "%s: entry %s %s: not in the domain list",
				 p->base, e.name, raw->ip);
		return 0;
	}
	if (err != SYNC_OK) {
		p->n_bad++;
		log_warn_limited(&rl, "%s: entry refused: %s", p->base,
				 sync_strerror(err));
		return 0;
	}
	n = sync_entry_record(line, sizeof line, &e);
	if (n == 0 || lw_put(&p->sw, line, n) == -1) {
		refuse(p, "unable to write the spool file: %s",
		       n ? strerror(errno) : "record too long");
		return 1;
	}
	p->n_ok++;
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct peer *p = arg;
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		refuse(p, "HTTP status %ld", code);
		return 0;
	}
	p->body_bytes += n;
	st.bytes += n;
	if (p->body_bytes > cf.max_body) {
		refuse(p, "body larger than %llu bytes",
		       (unsigned long long)cf.max_body);
		return 0;
	}
	if (sync_parser_feed(p->parser, data, n) == -1) {
		refuse(p, "%s", sync_parser_error(p->parser));
		return 0;
	}
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct peer *p = arg;
	size_t n = size * nmemb, k = sizeof CURSOR_HEADER - 1, vl;
	const char *v;
	int64_t us;

	if (n > k + 1 && strncasecmp(data, CURSOR_HEADER ":", k + 1) == 0) {
		v = data + k + 1;
		vl = n - k - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
			      v[vl - 1] == ' '))
			vl--;
		if (vl < sizeof p->cursor_next &&
		    sync_time_parse(v, vl, &us) == 0) {
			memcpy(p->cursor_next, v, vl);
			p->cursor_next[vl] = '\0';
		}
	}
	return n;
}

/* Options shared by the pull and the push handle of a peer. */
static CURL *
easy_new(struct peer *p)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(cf.timeout_ms < 10000 ? cf.timeout_ms : 10000));
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dnstap-bgp sync-pull");
	if (p->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	if (cf.ca) {
		/* pinned: this CA only, not the system's */
		curl_easy_setopt(e, CURLOPT_CAINFO, cf.ca);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (cf.cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, cf.cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, cf.key);
	}
	return e;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

static int
setup_peer(struct peer *p)
{
	char hdr[1100];

	if (cf.token) {
		snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", cf.token);
		p->headers = curl_slist_append(NULL, hdr);
		if (!p->headers)
			return -1;
	}
	if (!(p->easy = easy_new(p)))
		return -1;
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	/* a peer that stalls mid-body is given up after stall_s */
	curl_easy_setopt(p->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(p->easy, CURLOPT_LOW_SPEED_TIME, (long)cf.stall_s);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, p);
	if (cf.push_store) {
		struct curl_slist *h;

		if (!(p->push_easy = easy_new(p)) ||
		    !(p->queue = calloc(PUSH_QUEUE, sizeof *p->queue)))
			return -1;
		/* Go's client sends the JSON with no content type; curl would
		 * say form data */
		h = curl_slist_append(NULL, "Content-Type: application/json");
		if (h && cf.token) {
			snprintf(hdr, sizeof hdr, "Authorization: Bearer %s",
				 cf.token);
			h = curl_slist_append(h, hdr);
		}
		if (!h)
			return -1;
		p->push_headers = h;
		curl_easy_setopt(p->push_easy, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(p->push_easy, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(p->push_easy, CURLOPT_WRITEFUNCTION, discard);
		snprintf(hdr, sizeof hdr, "%s/put", p->base);
		curl_easy_setopt(p->push_easy, CURLOPT_URL, hdr);
	}
	return 0;
}

/* Queues one entry's JSON for a peer; a full queue drops it. */
static void
push_queue(struct peer *p, const char *json, size_t n)
{
	if (p->qlen == PUSH_QUEUE || n >= PUSH_JSON) {
		st.push_dropped++;
		return;
	}
	memcpy(p->queue[(p->qhead + p->qlen) % PUSH_QUEUE], json, n);
	p->queue[(p->qhead + p->qlen) % PUSH_QUEUE][n] = '\0';
	p->qlen++;
}

static void
push_next(CURLM *multi, struct peer *p)
{
	if (p->push_busy || p->qlen == 0)
		return;
	curl_easy_setopt(p->push_easy, CURLOPT_COPYPOSTFIELDS,
			 p->queue[p->qhead]);
	p->qhead = (p->qhead + 1) % PUSH_QUEUE;
	p->qlen--;
	if (curl_multi_add_handle(multi, p->push_easy) == CURLM_OK)
		p->push_busy = 1;
}

static void
push_done(CURLM *multi, struct peer *p, CURLcode res)
{
	long code = 0;

	curl_multi_remove_handle(multi, p->push_easy);
	p->push_busy = 0;
	curl_easy_getinfo(p->push_easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code == 200) {
		st.pushes++;
	} else {
		st.push_errors++;
		log_warn_limited(&rl, "%s: push failed: %s", p->base,
				 res != CURLE_OK ? curl_easy_strerror(res)
						 : "HTTP status");
	}
	push_next(multi, p);
}

struct scan {
	int64_t floor, newest;
};

/*
 * Entries pushed whose first sighting is still inside the scan's slack: a
 * refresh of one of them comes back as changed and must not be pushed
 * again. Open addressing on a hash of (address, tag, first sighting),
 * rebuilt at each scan without the entries that left the slack; when full,
 * a refresh may be pushed twice (harmless: the peer keeps the later time).
 */
#define PUSHED_MAX (1u << 18)
static struct pushed {
	uint64_t key; /* 0: free */
	int64_t first_us;
} * ptab;
static size_t pcap, pn;

static uint64_t
pushed_key(const struct store_entry *e)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *t = (const unsigned char *)e->tag;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ e->addr.a[i]) * 1099511628211ULL;
	h = (h ^ e->addr.family) * 1099511628211ULL;
	for (; *t; t++)
		h = (h ^ *t) * 1099511628211ULL;
	for (i = 0; i < 8; i++)
		h = (h ^ (uint8_t)((uint64_t)e->first_us >> (8 * i))) *
		    1099511628211ULL;
	return h ? h : 1;
}

static struct pushed *
pushed_slot(struct pushed *tab, size_t cap, uint64_t key)
{
	size_t i = (size_t)(key ^ key >> 29) & (cap - 1);

	while (tab[i].key && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Rebuilds the table with the entries first seen after floor. */
static void
pushed_prune(int64_t floor, size_t want)
{
	struct pushed *n, *o;
	size_t cap = 64, i, k = 0;

	while (cap < 2 * want && cap < PUSHED_MAX)
		cap *= 2;
	if (!(n = calloc(cap, sizeof *n)))
		return; /* keep the old table */
	for (i = 0; i < pcap; i++) {
		o = &ptab[i];
		if (o->key && o->first_us > floor && 2 * (k + 1) <= cap) {
			*pushed_slot(n, cap, o->key) = *o;
			k++;
		}
	}
	free(ptab);
	ptab = n;
	pcap = cap;
	pn = k;
}

/* 1 when e was pushed already; else remembers it and returns 0. */
static int
pushed_before(const struct store_entry *e, int64_t floor)
{
	uint64_t key = pushed_key(e);
	struct pushed *p;

	if (!ptab || (2 * (pn + 1) > pcap && pcap < PUSHED_MAX))
		pushed_prune(floor, pn + 1);
	if (!ptab)
		return 0;
	p = pushed_slot(ptab, pcap, key);
	if (p->key)
		return 1;
	if (2 * (pn + 1) <= pcap) {
		p->key = key;
		p->first_us = e->first_us;
		pn++;
	}
	return 0;
}

static int
scan_entry(const struct store_entry *e, void *arg)
{
	struct scan *sc = arg;
	char json[PUSH_JSON];
	size_t n;
	int i;

	if (e->changed_us > sc->newest)
		sc->newest = e->changed_us;
	/* new and learned here: refreshes and peers' entries are not pushed */
	if (e->origin != STORE_LOCAL || e->first_us <= sc->floor ||
	    pushed_before(e, sc->floor))
		return 0;
	n = sync_entry_json(json, sizeof json, &e->addr, e->name,
			    strlen(e->name), e->last_us, e->tag);
	for (i = 0; n && i < npeers; i++)
		push_queue(&peers[i], json, n);
	return 0;
}

/* Queues the entries that appeared in the local store since the last scan. */
static void
push_scan(CURLM *multi)
{
	struct scan sc;
	char err[256];
	int i;

	/* first_us is ipcache's clock, as changed_us is: a little slack for
	 * the batch that was open during the last scan */
	sc.floor = push_cursor - 5000000;
	sc.newest = push_cursor;
	pushed_prune(sc.floor, pn);
	if (store_each(pst, push_cursor, scan_entry, &sc, err, sizeof err) ==
	    -1)
		log_warn_limited(&rl, "unable to read %s: %s", cf.push_store,
				 err);
	push_cursor = sc.newest;
	for (i = 0; i < npeers; i++)
		push_next(multi, &peers[i]);
}

static void
end_response(struct peer *p)
{
	sync_parser_free(&p->parser);
	if (p->spool != -1) {
		lw_destroy(&p->sw);
		close(p->spool);
		p->spool = -1;
	}
	p->busy = 0;
}

static int
start_pull(CURLM *multi, struct peer *p)
{
	char url[1200];

	p->why[0] = '\0';
	p->body_bytes = p->n_ok = p->n_bad = 0;
	p->cursor_next[0] = '\0';
	p->errbuf[0] = '\0';
	p->spool = spool_open();
	if (p->spool == -1) {
		log_warn_sys("%s: unable to create a spool file", p->base);
		return -1;
	}
	if (lw_init(&p->sw, p->spool, 65536) == -1 ||
	    !(p->parser = sync_parser_new(SYNC_ARRAY, on_entry, p))) {
		log_warn_sys("%s: unable to allocate", p->base);
		end_response(p);
		return -1;
	}
	/* the cursor is our own RFC 3339 text: nothing to escape but '+' */
	if (p->cursor[0]) {
		char *s, *plus;

		snprintf(url, sizeof url, "%s/fetch?since=%s", p->base,
			 p->cursor);
		s = strchr(url, '?');
		while ((plus = strchr(s, '+')) != NULL) {
			size_t rest = strlen(plus + 1);

			if ((size_t)(plus - url) + 3 + rest >= sizeof url)
				break;
			memmove(plus + 3, plus + 1, rest + 1);
			memcpy(plus, "%2B", 3);
		}
	} else {
		snprintf(url, sizeof url, "%s/fetch", p->base);
	}
	curl_easy_setopt(p->easy, CURLOPT_URL, url);
	if (curl_multi_add_handle(multi, p->easy) != CURLM_OK) {
		end_response(p);
		return -1;
	}
	p->busy = 1;
	return 0;
}

static int
out_open(void)
{
	int fd;

	if (out_fd != -1)
		return 0;
	if (!cf.out_path) {
		out_fd = 1;
	} else {
		/* a FIFO without a reader fails now (ENXIO), never hangs */
		fd = open(cf.out_path,
			  O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1) {
			log_warn_sys("unable to open %s", cf.out_path);
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		out_fd = fd;
	}
	/* PIPE_BUF: whole lines per write, so writers sharing a FIFO never
	 * interleave inside a record */
	if (lw_init(&out, out_fd, PIPE_BUF) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	return 0;
}

static void
out_close(void)
{
	if (out_fd == -1)
		return;
	lw_destroy(&out);
	if (out_fd != 1)
		close(out_fd);
	out_fd = -1;
}

/* Copies the spooled records of a complete response to the output. */
static int
deliver(struct peer *p)
{
	struct lr r;
	char *line;
	size_t len;
	enum lr_result res;
	ssize_t got;
	int rc = 0;

	if (lw_flush(&p->sw) == -1 || lseek(p->spool, 0, SEEK_SET) == -1) {
		refuse(p, "unable to write the spool file: %s",
		       strerror(errno));
		return -1;
	}
	if (out_open() == -1) {
		refuse(p, "unable to open the output: %s", strerror(errno));
		return -1;
	}
	if (lr_init(&r, p->spool, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	for (;;) {
		res = lr_next(&r, &line, &len);
		if (res == LR_LINE) {
			line[len] = '\n';
			if (lw_put(&out, line, len + 1) == -1) {
				rc = -1;
				break;
			}
			st.records++;
			continue;
		}
		if ((got = lr_fill(&r)) <= 0)
			break;
	}
	lr_destroy(&r);
	if (rc == 0)
		rc = lw_flush(&out);
	if (rc == -1) {
		if (out_fd == 1 && errno == EPIPE)
			log_fatal(EXIT_TEMP, "unable to write to stdout: %s",
				  strerror(errno));
		refuse(p, "unable to write the output: %s", strerror(errno));
		out_close();
	}
	return rc;
}

static void
finish_pull(CURLM *multi, struct peer *p, CURLcode res)
{
	int incremental = p->cursor[0] && p->cursor_next[0];
	long code = 0;

	curl_multi_remove_handle(multi, p->easy);
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (!p->why[0] && res != CURLE_OK)
		refuse(p, "%s",
		       p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
	if (!p->why[0] && code != 200)
		refuse(p, "HTTP status %ld", code);
	if (!p->why[0] && sync_parser_finish(p->parser) == -1)
		refuse(p, "%s", sync_parser_error(p->parser));
	if (!p->why[0])
		deliver(p);
	if (p->why[0]) {
		st.pull_errors++;
		p->errors++;
		log_warn("%s: pull failed, nothing merged: %s", p->base,
			 p->why);
	} else {
		st.pulls++;
		p->last_ok_s = (uint64_t)(clock_wall_us() / 1000000);
		if (incremental)
			st.pulls_incremental++;
		else
			st.pulls_full++;
		st.entries += p->n_ok + p->n_bad;
		st.rejected += p->n_bad;
		log_info("%s: %s pull: %llu entries, %llu refused, %llu bytes",
			 p->base, incremental ? "incremental" : "full",
			 (unsigned long long)(p->n_ok + p->n_bad),
			 (unsigned long long)p->n_bad,
			 (unsigned long long)p->body_bytes);
		/* a peer without the header (Go) is pulled whole next time */
		memcpy(p->cursor, p->cursor_next, sizeof p->cursor);
		state_save(p);
	}
	end_response(p);
}

static void
write_metrics(int force)
{
	if (metrics_file_tick(&mfile, force) == -1)
		log_warn_sys("unable to write %s", mfile.path);
}

/*
 * The domain list, looked at once a second (asked NULL) and reopened on
 * SIGHUP: lib/dlist's one policy and messages.
 */
static void
reload_list(const char *asked)
{
	char msg[1024];
	enum dlist_event ev;

	if (dl && (ev = dlist_reload(&dl, cf.dlist_path, asked, msg,
				     sizeof msg)) != DLIST_SAME)
		(ev == DLIST_LOADED ? log_info : log_warn)("%s", msg);
}

/*
 * The counters, then per peer the time of its last merged pull and its
 * failures, labelled peer="BASE" (for dnstap-bgp status and alerts).
 */
static void
metrics_init(void)
{
	size_t i, o;
	const char *c;
	struct metric *m;

	nmetrics = NBASE + 2 * (size_t)npeers;
	if (!(metrics = calloc(nmetrics, sizeof *metrics)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	memcpy(metrics, base_metrics, sizeof base_metrics);
	for (i = 0; i < (size_t)npeers; i++) {
		struct peer *p = &peers[i];

		/* a label value escapes \ " and newline (Prometheus) */
		if (!(p->label = malloc(2 * strlen(p->base) + 8)))
			log_fatal_sys(EXIT_TEMP, "unable to allocate");
		o = (size_t)sprintf(p->label, "peer=\"");
		for (c = p->base; *c; c++) {
			if (*c == '\\' || *c == '"' || *c == '\n')
				p->label[o++] = '\\';
			p->label[o++] = *c == '\n' ? 'n' : *c;
		}
		memcpy(p->label + o, "\"", 2);
		m = &metrics[NBASE + i];
		m->name = "peer_last_pull_timestamp_seconds";
		m->labels = p->label;
		m->type = METRIC_GAUGE;
		m->help =
		    "Unix time of the peer's last merged pull, 0 for never";
		m->value = &p->last_ok_s;
		m = &metrics[NBASE + (size_t)npeers + i];
		m->name = "peer_pull_errors_total";
		m->labels = p->label;
		m->type = METRIC_COUNTER;
		m->help = "Pulls of the peer that failed: nothing merged";
		m->value = &p->errors;
	}
	mfile.m = metrics;
	mfile.n = nmetrics;
}

/* "host:port" as the Go daemon's config has it means http. */
static void
add_peer(struct peer *p, const char *s)
{
	size_t n;

	if (strstr(s, "://")) {
		if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
			opt_usage("peer %.80s: only http:// and https://", s);
		p->base = strdup(s);
	} else if (asprintf(&p->base, "http://%s", s) == -1) {
		p->base = NULL;
	}
	if (!p->base)
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	n = strlen(p->base);
	while (n && p->base[n - 1] == '/')
		p->base[--n] = '\0';
	if (n > 1000)
		opt_usage("peer %.40s...: longer than 1000 bytes", s);
	p->spool = -1;
}

static void
options(int argc, char **argv)
{
	int c, i;

	cf.interval_us = 600 * 1000000LL; /* the Go daemon's default */
	cf.timeout_ms = 60000;
	cf.stall_s = 10;
	cf.max_body = 1ULL << 30;
	cf.push_every_us = 1000000;
	mfile.path = getenv("METRICS_FILE");
	opterr = 0;
	while ((c = getopt(argc, argv, ":1b:c:C:d:hi:k:M:o:p:P:s:S:t:T:Vw:")) !=
	       -1) {
		switch (c) {
		case '1':
			cf.once = 1;
			break;
		case 'b':
			cf.max_body =
			    (uint64_t)opt_number(optarg, 2, LLONG_MAX, "-b");
			break;
		case 'c':
			cf.cert = optarg;
			break;
		case 'C':
			cf.ca = optarg;
			break;
		case 'd':
			cf.dlist_path = optarg;
			break;
		case 'h':
			opt_help();
		case 'i':
			cf.interval_us =
			    opt_number(optarg, 1, 86400 * 7, "-i") * 1000000LL;
			break;
		case 'k':
			cf.key = optarg;
			break;
		case 'M':
			mfile.path = optarg;
			break;
		case 'o':
			cf.out_path = optarg;
			break;
		case 'p':
			cf.push_store = optarg;
			break;
		case 'P':
			cf.push_every_us =
			    opt_number(optarg, 1, 3600, "-P") * 1000000LL;
			break;
		case 's':
			cf.state_dir = optarg;
			break;
		case 'S':
			cf.stall_s = opt_number(optarg, 1, 3600, "-S");
			break;
		case 't':
			cf.timeout_ms =
			    opt_number(optarg, 1, 86400, "-t") * 1000;
			break;
		case 'T':
			cf.token_from = optarg;
			break;
		case 'V':
			opt_version();
		case 'w':
			cf.spool_dir = optarg;
			break;
		default:
			opt_bad(c);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		opt_usage("no PEER to pull");
	if (!cf.cert != !cf.key)
		opt_usage("-c and -k go together");
	npeers = argc;
	if (!(peers = calloc((size_t)npeers, sizeof *peers)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	for (i = 0; i < npeers; i++)
		add_peer(&peers[i], argv[i]);
}

/* The token, from -T or $SYNC_TOKEN, by lib/secret's rules. */
static void
read_token(void)
{
	char err[256];
	int permanent;

	cf.token = secret_token(cf.token_from, "SYNC_TOKEN", &cf.token_from,
				err, sizeof err, &permanent);
	if (!cf.token && *err)
		log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
			  "unable to use the token of %s: %s", cf.token_from,
			  err);
}

/*
 * -s names where the cursors go: a directory that is not there or not
 * writable is a configuration error (exit 100), found at start rather than
 * by a warning after each pull, with every restart a full pull.
 */
static void
check_state_dir(void)
{
	struct stat sb;

	if (!cf.state_dir)
		return;
	if (stat(cf.state_dir, &sb) == -1)
		log_fatal_sys(EXIT_PERM, "unable to use the state directory %s",
			      cf.state_dir);
	if (!S_ISDIR(sb.st_mode))
		log_fatal(EXIT_PERM,
			  "unable to use the state directory %s: "
			  "not a directory",
			  cf.state_dir);
	if (access(cf.state_dir, W_OK | X_OK) == -1)
		log_fatal_sys(EXIT_PERM,
			      "unable to write in the state "
			      "directory %s",
			      cf.state_dir);
}

static void
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	char err[256];
	int i, permanent;

	read_token();
	check_state_dir();
	if (cf.dlist_path && !(dl = dlist_open(cf.dlist_path, err, sizeof err)))
		log_fatal(errno == ENOENT ? EXIT_TEMP : EXIT_PERM,
			  "unable to open %s: %s", cf.dlist_path, err);
	if (cf.push_store) {
		pst = store_open(cf.push_store, STORE_READ, err, sizeof err,
				 &permanent);
		if (!pst)
			log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
				  "unable to open %s: %s", cf.push_store, err);
		/* what is there already is not new */
		push_cursor = store_changed(pst);
	}
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(curlm = curl_multi_init()))
		log_fatal(EXIT_TEMP, "unable to initialise libcurl");
	for (i = 0; i < npeers; i++) {
		if (setup_peer(&peers[i]) == -1)
			log_fatal(EXIT_TEMP, "unable to initialise libcurl");
		state_load(&peers[i]);
		peers[i].next_us = clock_mono_us();
	}
	metrics_init();
	log_info(
	    "pulling %d peer%s (%s%s) %s%lld s into %s; cursors %s%s; "
	    "token %s%s%s",
	    npeers, npeers == 1 ? "" : "s", peers[0].base,
	    npeers > 1 ? " ..." : "", cf.once ? "once, timeout " : "every ",
	    (long long)(cf.once ? cf.timeout_ms / 1000
				: cf.interval_us / 1000000),
	    cf.out_path ? cf.out_path : "stdout",
	    cf.state_dir ? "in " : "not kept", cf.state_dir ? cf.state_dir : "",
	    cf.token_from ? "from " : "none",
	    cf.token_from ? cf.token_from : "",
	    cf.push_store ? "; pushing new entries of the store" : "");
	if (cf.out_path)
		out_open(); /* early, to warn at start; retried per delivery */
}

/* Starts the pulls that are due; the microseconds until the next one. */
static int64_t
start_due(int64_t t, int *running)
{
	int64_t wait_us = cf.once ? 1000000 : cf.interval_us;
	int i;

	*running = 0;
	for (i = 0; i < npeers; i++) {
		struct peer *p = &peers[i];

		if (!p->busy && p->next_us <= t &&
		    (!cf.once || p->next_us != INT64_MAX)) {
			p->next_us = cf.once ? INT64_MAX : t + cf.interval_us;
			if (start_pull(curlm, p) == -1)
				st.pull_errors++, p->errors++, failures++;
		}
		*running += p->busy;
		if (!p->busy && p->next_us - t < wait_us)
			wait_us = p->next_us - t;
	}
	return wait_us;
}

/* The transfers that ended: pulls merged or refused, pushes answered. */
static void
finish_done(void)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(curlm, &left)) != NULL) {
		struct peer *p;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&p);
		if (msg->easy_handle == p->push_easy) {
			push_done(curlm, p, msg->data.result);
			continue;
		}
		finish_pull(curlm, p, msg->data.result);
		if (p->why[0])
			failures++;
	}
}

/* Until TERM or INT (its name), or with -1 until every peer is pulled. */
static const char *
loop(void)
{
	struct curl_waitfd wfd;
	int64_t t, wait_us, next_scan = 0, last_reload = 0;
	int running, sig;

	for (;;) {
		t = clock_mono_us();
		wait_us = start_due(t, &running);
		if (cf.once && running == 0)
			return "all peers pulled once (-1)";
		if (pst && !cf.once) {
			if (t >= next_scan) {
				push_scan(curlm);
				next_scan = t + cf.push_every_us;
			}
			if (next_scan - t < wait_us)
				wait_us = next_scan - t;
		}
		if (t - last_reload >= 1000000) {
			reload_list(NULL);
			last_reload = t;
		}
		write_metrics(0);
		wfd.fd = sfd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		if (wait_us > 1000000)
			wait_us = 1000000;
		if (curl_multi_poll(curlm, &wfd, 1, (int)(wait_us / 1000) + 1,
				    NULL) != CURLM_OK)
			log_fatal(EXIT_TEMP, "unable to poll");
		while ((sig = sig_next(sfd)) > 0) {
			if (sig == SIGUSR1) {
				metrics_log(metrics, nmetrics);
			} else if (sig == SIGHUP) {
				reload_list("SIGHUP");
				out_close();
			} else {
				return sig == SIGTERM ? "SIGTERM" : "SIGINT";
			}
		}
		curl_multi_perform(curlm, &running);
		finish_done();
	}
}

/* Transfers in flight are dropped unmerged; the output is flushed. */
static void
finish(void)
{
	int i;

	for (i = 0; i < npeers; i++) {
		if (peers[i].busy) {
			curl_multi_remove_handle(curlm, peers[i].easy);
			end_response(&peers[i]);
		}
		if (peers[i].push_busy)
			curl_multi_remove_handle(curlm, peers[i].push_easy);
		curl_easy_cleanup(peers[i].push_easy);
		free(peers[i].queue);
		curl_slist_free_all(peers[i].headers);
		curl_slist_free_all(peers[i].push_headers);
		curl_easy_cleanup(peers[i].easy);
	}
	curl_multi_cleanup(curlm);
	curl_global_cleanup();
	if (out_fd != -1 && lw_flush(&out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write the output");
	out_close();
	write_metrics(1);
}

int
main(int argc, char **argv)
{
	const char *why;
	int i;

	opt_init(argv[0], usage_text);
	options(argc, argv);
	setup();
	why = loop();
	finish();
	log_info(
	    "exiting: %s: %llu pulls merged (%llu full, %llu "
	    "incremental), %llu failed, %llu records written, %llu entries "
	    "refused, %llu pushed, %llu push errors, %llu pushes dropped",
	    why, (unsigned long long)st.pulls,
	    (unsigned long long)st.pulls_full,
	    (unsigned long long)st.pulls_incremental,
	    (unsigned long long)st.pull_errors, (unsigned long long)st.records,
	    (unsigned long long)st.rejected, (unsigned long long)st.pushes,
	    (unsigned long long)st.push_errors,
	    (unsigned long long)st.push_dropped);
	for (i = 0; i < npeers; i++) {
		free(peers[i].base);
		free(peers[i].label);
	}
	dlist_close(&dl);
	store_close(&pst);
	free(ptab);
	free(peers);
	free(metrics);
	if (cf.token)
		explicit_bzero(cf.token, strlen(cf.token));
	free(cf.token);
	close(sfd);
	return cf.once && failures ? EXIT_TEMP : 0;
}
