/*
 * dns-hold: a DNS relay in front of a recursive resolver that writes the
 * `answer` records of every response on stdout (docs/records.md, the same
 * records as dnstap-read), and holds a response whose names are on the
 * domain list until the pipeline acknowledges that their routes are out:
 * after each batch of records that holds something it writes `mark N`, and
 * releases the response once every live sink has written `ack M` (M >= N)
 * on its acknowledgement FIFO (-a). It fails open: a response is held for
 * at most -t ms, a sink that stops acknowledging is not waited for after
 * -F ms (until it acknowledges again), and a stdout that does not take the
 * records costs records, never DNS.
 *
 * relay.c is the relay (clients, upstreams, queries in flight), packet.c
 * the checks of the messages, hold.c the held responses and the marks;
 * this file is the program: options, records, acknowledgements, the list,
 * signals and the loop. See dns-hold.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answer.h"
#include "clock.h"
#include "dlist.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "relay.h"
#include "sig.h"

#define OUT_CAP (1 << 20)    /* stdout buffer */
#define OUT_HIGH (256 << 10) /* above this stdout is "blocked" */
#define OUT_BATCH (64 << 10) /* written when this much waits */
#define OUT_DELAY_US 10000   /* or once the oldest line waited this long */
#define HEARTBEAT_US 1000000 /* a mark at least this often */
#define METRICS_US 10000000  /* the -M file */
#define EXIT_FLUSH_MS 1000   /* how long TERM waits for stdout */

static const char usage_text[] =
    "usage: dns-hold -l ADDR:PORT ... -s ADDR[:PORT] ...\n"
    "                [-d CDB [-c] [-E] [-m MB]] [-a FIFO ...] [-t MS] [-F MS]\n"
    "                [-A PREFIX ...] [-U USER[:GROUP]] [-w MS]\n"
    "                [-q MAXQUERIES] [-P SOCKETS] [-C MAXTCP] [-T SECONDS]\n"
    "                [-k ENTRIES [-x SECONDS]] [-H KB] [-M FILE]\n";

static uint64_t cache_live; /* counted when the metrics are written */

static const struct metric metrics[] = {
    {"queries_total", "transport=\"udp\"", METRIC_COUNTER,
     "Queries from clients", &st.q_udp},
    {"queries_total", "transport=\"tcp\"", METRIC_COUNTER,
     "Queries from clients", &st.q_tcp},
    {"answers_total", NULL, METRIC_COUNTER, "Answers from upstream relayed",
     &st.answers},
    {"refused_total", NULL, METRIC_COUNTER, "Queries refused: client not in -A",
     &st.refused},
    {"formerr_total", NULL, METRIC_COUNTER,
     "Malformed queries answered FORMERR", &st.formerr},
    {"queries_dropped_total", NULL, METRIC_COUNTER,
     "Datagrams that were not queries, dropped", &st.dropped_q},
    {"servfail_total", NULL, METRIC_COUNTER,
     "Queries answered SERVFAIL: no upstream answered", &st.servfail},
    {"truncated_total", NULL, METRIC_COUNTER,
     "Answers larger than the client's UDP size, sent truncated",
     &st.truncated},
    {"answers_ignored_total", "why=\"spoofed\"", METRIC_COUNTER,
     "Upstream datagrams ignored", &st.spoofed},
    {"answers_ignored_total", "why=\"unknown_id\"", METRIC_COUNTER,
     "Upstream datagrams ignored", &st.late},
    {"answers_malformed_total", NULL, METRIC_COUNTER,
     "Answers relayed without records: not parseable", &st.malformed},
    {"upstream_timeouts_total", NULL, METRIC_COUNTER,
     "Queries not answered in -w", &st.up_timeouts},
    {"upstream_errors_total", NULL, METRIC_COUNTER,
     "Upstream refusals and connection failures", &st.up_errors},
    {"upstream_retries_total", NULL, METRIC_COUNTER,
     "Queries asked again (failover)", &st.up_retries},
    {"inflight_dropped_total", NULL, METRIC_COUNTER,
     "Queries dropped: over -q in flight", &st.inflight_dropped},
    {"inflight", NULL, METRIC_GAUGE, "Queries in flight", &st.inflight},
    {"records_total", NULL, METRIC_COUNTER, "Answer records written",
     &st.records},
    {"records_dropped_total", "why=\"bounds\"", METRIC_COUNTER,
     "Records not written", &st.records_dropped},
    {"records_dropped_total", "why=\"stdout\"", METRIC_COUNTER,
     "Records not written", &st.out_dropped},
    {"records_skipped_total", NULL, METRIC_COUNTER,
     "Records not written: no name of the answer on the list (-E writes them)",
     &st.records_skipped},
    {"answers_cut_total", NULL, METRIC_COUNTER,
     "Answers cut short: CNAME loop, long chain, record bounds", &st.cut},
    {"held_total", NULL, METRIC_COUNTER, "Answers held until acknowledged",
     &st.held},
    {"held", NULL, METRIC_GAUGE, "Answers held now", &st.held_now},
    {"released_total", "why=\"ack\"", METRIC_COUNTER, "Held answers sent",
     &st.released_ack},
    {"released_total", "why=\"timeout\"", METRIC_COUNTER, "Held answers sent",
     &st.released_timeout},
    {"released_total", "why=\"fail_open\"", METRIC_COUNTER, "Held answers sent",
     &st.released_open},
    {"not_held_total", "why=\"no_live_sink\"", METRIC_COUNTER,
     "Listed answers sent at once", &st.not_held_silent},
    {"not_held_total", "why=\"buffer_full\"", METRIC_COUNTER,
     "Listed answers sent at once", &st.hold_full},
    {"not_held_total", "why=\"stdout\"", METRIC_COUNTER,
     "Listed answers sent at once", &st.not_held_out},
    {"marks_total", NULL, METRIC_COUNTER, "Marks written", &st.marks},
    {"acks_total", NULL, METRIC_COUNTER, "Acknowledgements read", &st.acks},
    {"acks_ignored_total", "why=\"stale\"", METRIC_COUNTER,
     "Acknowledgements ignored", &st.acks_stale},
    {"acks_ignored_total", "why=\"bad\"", METRIC_COUNTER,
     "Acknowledgements ignored", &st.acks_bad},
    {"sinks_live", NULL, METRIC_GAUGE, "Acknowledgement channels waited for",
     &st.sinks_live},
    {"tcp_connections_total", NULL, METRIC_COUNTER,
     "TCP client connections accepted", &st.tcp_conns},
    {"tcp_connections", NULL, METRIC_GAUGE, "TCP client connections open",
     &st.tcp_open},
    {"tcp_closed_total", "why=\"refused\"", METRIC_COUNTER,
     "TCP client connections closed", &st.tcp_refused},
    {"tcp_closed_total", "why=\"full\"", METRIC_COUNTER,
     "TCP client connections closed", &st.tcp_full},
    {"tcp_closed_total", "why=\"idle\"", METRIC_COUNTER,
     "TCP client connections closed", &st.tcp_closed_idle},
    {"tcp_closed_total", "why=\"bad\"", METRIC_COUNTER,
     "TCP client connections closed", &st.tcp_closed_bad},
    {"tcp_closed_total", "why=\"unread\"", METRIC_COUNTER,
     "TCP client connections closed", &st.tcp_unread},
    {"answers_lost_total", "why=\"send\"", METRIC_COUNTER, "Answers not sent",
     &st.tx_dropped},
    {"answers_lost_total", "why=\"client_gone\"", METRIC_COUNTER,
     "Answers not sent", &st.client_gone},
    {"list_reloads_total", NULL, METRIC_COUNTER, "Domain lists loaded",
     &st.list_reloads},
    {"cache_hits_total", NULL, METRIC_COUNTER,
     "UDP queries answered from the packet cache (-k)", &pc.hits},
    {"cache_misses_total", NULL, METRIC_COUNTER,
     "Cacheable UDP queries asked upstream", &pc.misses},
    {"cache_stored_total", NULL, METRIC_COUNTER, "Answers kept in the cache",
     &pc.stored},
    {"cache_replaced_total", NULL, METRIC_COUNTER,
     "Unexpired answers replaced: the cache is full", &pc.replaced},
    {"cache_uncacheable_total", NULL, METRIC_COUNTER,
     "Queries and answers that may not be kept", &pc.uncacheable},
    {"cache_entries", NULL, METRIC_GAUGE, "Unexpired answers in the cache",
     &cache_live},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

struct sink {
	const char *path;
	int fd;
	struct lr r;
};

static struct hold hold;
static struct sink sinks[HOLD_SINKS_MAX];
static struct dlist *dl;
static const char *list_path, *metrics_file;
static int chain_mode, every_answer;
static uint64_t map_max = 4 << 20;
static int64_t wall_us;
static uint64_t batch_mark;
static int ep;

/* What options() reads for setup(), the loop's timers, the exit's why. */
static struct {
	/* -l, -a, the -l, -a and -s counts, -H, -U, -t, -F */
	const char *listen[LISTEN_MAX], *sink_path[HOLD_SINKS_MAX];
	size_t nl, nsinks, nups, hold_kb;
	char *user;
	int64_t bound_ms, silent_ms;
	/* setup(): the signals; stdout's flags, put back at exit */
	int sigfd, flags;
	/* the loop: when its timers are due (monotonic us), why it ended */
	int64_t next_second, next_metrics, relay_next;
	const char *why;
} run = {.hold_kb = 4096, .bound_ms = 50, .silent_ms = 500};

static struct {
	char *buf;
	size_t len;
	int polled;
	int broken;  /* the last write failed: records dropped until retried */
	int lost;    /* that was logged: logged again once written */
	int urgent;  /* a mark or a listed name's records wait */
	int64_t due; /* when what waits is written at the latest */
} out;

static struct dns_answers dns;
static struct answer_fmt fmt;
static char recs[ANSWER_BYTES_MAX];
static struct ratelimit rl_resp = RATELIMIT_INIT, rl_hold = RATELIMIT_INIT,
			rl_ack = RATELIMIT_INIT;

/* ---- stdout ---- */

static size_t
count_lines(const char *p, size_t n)
{
	size_t k = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p)))) {
		k++;
		p++;
	}
	return k;
}

static void
out_poll(int want)
{
	struct epoll_event e = {.events = EPOLLOUT, .data.u64 = TAG(EV_OUT, 0)};

	if (want == out.polled)
		return;
	/* Files and /dev/null cannot be polled: their writes never wait. */
	if (epoll_ctl(ep, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, 1, &e) == 0 ||
	    !want)
		out.polled = want;
}

/* Writes what stdout takes now; a next stage gone costs the records. */
static void
out_flush(void)
{
	ssize_t k;
	size_t o = 0;

	while (o < out.len) {
		k = write(1, out.buf + o, out.len - o);
		if (k > 0) {
			o += (size_t)k;
			out.broken = 0;
			if (out.lost) {
				out.lost = 0;
				log_info("stdout: written again");
			}
			continue;
		}
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1 && errno == EAGAIN)
			break;
		st.out_dropped += count_lines(out.buf + o, out.len - o);
		if (!out.broken)
			log_warn("unable to write to stdout: %s: records "
				 "dropped and nothing held until it takes "
				 "them again",
				 k == -1 ? strerror(errno) : "no progress");
		out.broken = 1;
		o = out.len;
	}
	memmove(out.buf, out.buf + o, out.len - o);
	out.len -= o;
	out.urgent = 0;
	out_poll(out.len > 0);
}

/*
 * What waits on stdout goes now when it matters (a mark, a listed name),
 * when there is much of it, or once it waited OUT_DELAY_US: the records of
 * names on no list may wait that long, so that a busy relay writes them in
 * batches instead of once per answer.
 */
static void
out_maybe(void)
{
	if (!out.len)
		return;
	if (out.urgent || out.len >= OUT_BATCH || now_us >= out.due)
		out_flush();
}

static void
out_added(size_t before)
{
	if (!before)
		out.due = now_us + OUT_DELAY_US;
}

static int
out_blocked(void)
{
	return out.broken || out.len > OUT_HIGH;
}

static void
out_mark(uint64_t n)
{
	struct rec r;
	size_t k;

	memset(&r, 0, sizeof r);
	r.type = REC_MARK;
	r.mark = n;
	k = rec_format(out.buf + out.len, OUT_CAP - out.len, &r);
	out_added(out.len);
	out.len += k;
	out.urgent = 1;
	st.marks++;
}

/* ---- the domain list ---- */

static struct dlist *
list_open(char *err, size_t errlen)
{
	return dlist_open_limit(list_path, map_max, err, errlen);
}

/*
 * Follows the list file as cron replaces it (asked NULL) and reopens it on
 * SIGHUP: lib/dlist's one policy and messages once the list is open.
 */
static void
list_check(const char *asked)
{
	static int missing_said;
	char err[256], msg[1024];
	enum dlist_event r;

	if (!list_path)
		return;
	if (!dl) {
		if (!(dl = list_open(err, sizeof err))) {
			if (!missing_said++)
				log_warn("unable to open %s: %s: nothing is "
					 "held until it can be read",
					 list_path, err);
			return;
		}
		missing_said = 0;
		st.list_reloads++;
		log_info("%s: %llu entries", list_path,
			 (unsigned long long)dlist_count(dl));
		return;
	}
	if ((r = dlist_reload(&dl, list_path, asked, msg, sizeof msg)) ==
	    DLIST_SAME)
		return;
	(r == DLIST_LOADED ? log_info : log_warn)("%s", msg);
	if (r == DLIST_LOADED)
		st.list_reloads++;
}

static int
listed_name(const char *name, size_t len)
{
	struct dlist_match m;

	return dlist_lookup(dl, name, len, &m) && !m.excluded;
}

/*
 * The rules of domain-match (the question name, with -c the chain too):
 * whether to hold. With any set, whether domain-match could keep a record
 * of the answer, with or without its -c: a name of the question or the
 * chain has an entry, an exclusion too.
 */
static int
listed(int any)
{
	struct dlist_match m;
	unsigned k;
	size_t s;

	if (!dl)
		return 0;
	if (any ? dlist_lookup(dl, fmt.qname, fmt.qname_len, &m)
		: listed_name(fmt.qname, fmt.qname_len))
		return 1;
	for (k = 0; (chain_mode || any) && k < fmt.nchain; k++) {
		s = fmt.ends[k] + (k ? 1 : 0);
		if (any ? dlist_lookup(dl, fmt.chain + s, fmt.ends[k + 1] - s,
				       &m)
			: listed_name(fmt.chain + s, fmt.ends[k + 1] - s))
			return 1;
	}
	return 0;
}

/* ---- responses ---- */

int
relay_response(const struct hold_dest *to, const uint8_t *msg, size_t len,
	       const char *from)
{
	enum dns_err e;
	size_t n;

	if ((e = dns_answers(&dns, msg, len)) != DNS_OK) {
		if (e != DNS_E_QUESTION || len < PKT_HDR) {
			st.malformed++;
			log_warn_limited(
			    &rl_resp,
			    "upstream %s: no records from a malformed "
			    "answer: %s",
			    from, dns_strerror(e));
		}
		return 0;
	}
	if (!dns.naddr)
		return 0;
	if (answer_format(&fmt, &dns, wall_us, recs, sizeof recs, &n) == -1) {
		st.malformed++;
		return 0;
	}
	if (fmt.dropped || dns.chain_cut || dns.chain_loop || dns.addr_cut) {
		st.cut++;
		st.records_dropped += fmt.dropped;
		log_warn_limited(
		    &rl_resp,
		    "upstream %s: answer for %s cut short: CNAME loop, "
		    "chain over 16, over 1024 addresses, or %u records over "
		    "the bounds",
		    from, fmt.qname, fmt.dropped);
	}
	if (!n)
		return 0;
	/* Records domain-match would drop are not written (unless -E). */
	if (dl && !every_answer && !listed(1)) {
		st.records_skipped += fmt.nrec;
		return 0;
	}
	if (out.broken || OUT_CAP - out.len < n + 32) {
		st.out_dropped += fmt.nrec;
		if (hold.nsinks && listed(0))
			st.not_held_out++;
		return 0;
	}
	memcpy(out.buf + out.len, recs, n);
	out_added(out.len);
	out.len += n;
	st.records += fmt.nrec;
	if (!listed(0))
		return 0;
	out.urgent = 1;
	if (!hold.nsinks)
		return 0;
	if (!hold_on(&hold)) {
		st.not_held_silent++;
		return 0;
	}
	if (out_blocked()) {
		st.not_held_out++;
		return 0;
	}
	if (!batch_mark)
		batch_mark = hold_mark(&hold, wall_us, now_us);
	if (!hold_push(&hold, batch_mark, now_us, to, msg, len)) {
		st.hold_full++;
		log_warn_limited(
		    &rl_hold,
		    "hold buffer full (-H): answer for %s sent at once",
		    fmt.qname);
		return 0;
	}
	st.held++;
	st.held_now = hold.count;
	return 1;
}

/* Sends the held responses that may go: acknowledged, expired, or all. */
static void
release(int all)
{
	uint64_t acked = hold_acked(&hold);
	struct held *e;

	while ((e = hold_head(&hold))) {
		if (acked == UINT64_MAX || all) {
			st.released_open++;
		} else if (e->mark <= acked) {
			st.released_ack++;
		} else if (e->until <= now_us) {
			st.released_timeout++;
			log_warn_limited(
			    &rl_hold,
			    "held answer sent unacknowledged after %lld ms "
			    "(-t): mark %llu",
			    (long long)(hold.bound / 1000),
			    (unsigned long long)e->mark);
		} else {
			break;
		}
		relay_release(&e->dest, e->msg, e->len);
		hold_pop(&hold);
	}
	st.held_now = hold.count;
}

/* ---- acknowledgement channels ---- */

static void
sinks_gauge(void)
{
	unsigned k;

	st.sinks_live = 0;
	for (k = 0; k < hold.nsinks; k++)
		st.sinks_live += hold.sink[k].state == SINK_LIVE;
}

static void
sink_open(unsigned k, const char *path)
{
	struct sink *s = &sinks[k];
	struct stat sb;

	s->path = path;
	s->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->fd == -1 && errno == ENOENT) {
		if (mkfifo(path, 0600) == -1 && errno != EEXIST)
			log_fatal_sys(EXIT_TEMP, "unable to create %s", path);
		s->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (s->fd == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", path);
	if (fstat(s->fd, &sb) == -1 || !S_ISFIFO(sb.st_mode))
		log_fatal(EXIT_PERM, "unable to use %s: not a FIFO", path);
	if (lr_init(&s->r, s->fd, 4096) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
}

static void
sink_read(unsigned k)
{
	struct sink *s = &sinks[k];
	enum lr_result lr;
	struct rec r;
	char *line;
	size_t len;
	ssize_t n;
	int w;

	do {
		n = lr_fill(&s->r);
		while ((lr = lr_next(&s->r, &line, &len)) != LR_NONE) {
			if (lr == LR_LINE &&
			    rec_parse(&r, line, len) == REC_OK &&
			    r.type == REC_ACK) {
				st.acks++;
				w = hold_ack(&hold, k, r.mark, now_us);
				if (w == -1)
					st.acks_stale++;
				else if (w == 1)
					log_info("%s: acknowledging: holding "
						 "listed answers for it",
						 s->path);
				continue;
			}
			st.acks_bad++;
			log_warn_limited(
			    &rl_ack, "%s: not an ack line: ignored", s->path);
		}
	} while (n > 0);
	sinks_gauge();
	release(0);
}

/* Sinks that fell silent are no longer waited for. */
static void
sinks_check(void)
{
	unsigned fell = hold_tick(&hold, now_us), k;

	if (!fell)
		return;
	for (k = 0; k < hold.nsinks; k++)
		if (fell & 1u << k)
			log_warn("%s: no acknowledgement for %lld ms: not "
				 "waited for until it acknowledges again",
				 sinks[k].path,
				 (long long)(hold.silent / 1000));
	sinks_gauge();
	release(0);
}

/* ---- the loop ---- */

static void
metrics_flush(void)
{
	cache_live = pcache_live(&pc, now_us);
	if (metrics_file &&
	    metrics_write(metrics_file, "dns-hold", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", metrics_file);
}

/* The next deadline of the hold (head's bound, a sink's silence). */
static int64_t
hold_next(void)
{
	int64_t t = INT64_MAX;
	struct held *e = hold_head(&hold);
	unsigned k;

	if (e)
		t = e->until;
	for (k = 0; k < hold.nsinks; k++)
		if (hold.sink[k].state == SINK_LIVE &&
		    hold.sink[k].owed_since &&
		    hold.sink[k].owed_since + hold.silent < t)
			t = hold.sink[k].owed_since + hold.silent;
	return t;
}

/*
 * The timers' work before the wait: upstream timeouts, the hold's bounds,
 * once a second the list, stdout and the heartbeat mark, the metrics file,
 * then what waits to be sent. How long the wait may be (ms).
 */
static int
timers(void)
{
	int64_t t;

	now_us = clock_mono_us();
	wall_us = clock_wall_us();
	if (now_us >= run.relay_next || now_us >= run.next_second)
		run.relay_next = relay_tick();
	sinks_check();
	release(0);
	if (now_us >= run.next_second) {
		run.next_second = now_us + 1000000;
		list_check(NULL);
		if (out.broken && !out.len)
			out.broken = 0; /* try the next records */
		if (hold.nsinks && !batch_mark &&
		    now_us - hold.mark_at >= HEARTBEAT_US)
			out_mark(hold_mark(&hold, wall_us, now_us));
	}
	if (metrics_file && now_us >= run.next_metrics) {
		run.next_metrics = now_us + METRICS_US;
		metrics_flush();
	}
	relay_flush();
	out_maybe();

	t = run.next_second;
	if (out.len && !out.polled && out.due < t)
		t = out.due;
	if (run.relay_next < t)
		t = run.relay_next;
	if (hold_next() < t)
		t = hold_next();
	t -= now_us;
	return t <= 0 ? 0 : (int)((t + 999) / 1000);
}

/* The signals' events: why the loop ends (TERM, INT), or NULL. */
static const char *
signals(void)
{
	int s;

	while ((s = sig_next(run.sigfd)) > 0) {
		if (s == SIGTERM)
			return "SIGTERM";
		if (s == SIGINT)
			return "SIGINT";
		if (s == SIGHUP) {
			list_check("SIGHUP");
			pcache_clear(&pc);
		}
		if (s == SIGUSR1) {
			metrics_flush();
			metrics_log(metrics, NMETRICS);
		}
	}
	return NULL;
}

/* One event, by its tag's kind: why the loop ends, or NULL. */
static const char *
event(const struct epoll_event *e)
{
	uint64_t tag = e->data.u64;

	switch (TAG_KIND(tag)) {
	case EV_SIG:
		return signals();
	case EV_OUT:
		out_flush();
		break;
	case EV_SINK:
		sink_read((unsigned)(tag & 0xffffffffu));
		break;
	default:
		relay_event(tag, e->events);
		break;
	}
	return NULL;
}

/* One turn of the loop: the timers, one wait, the events (run.why: stop). */
static void
turn(void)
{
	struct epoll_event ev[64];
	int n, i;

	n = epoll_wait(ep, ev, 64, timers());
	if (n == -1) {
		if (errno == EINTR)
			return;
		log_fatal_sys(EXIT_TEMP, "unable to wait for events");
	}
	now_us = clock_mono_us();
	wall_us = clock_wall_us();
	for (i = 0; i < n; i++) {
		if ((run.why = event(&ev[i])))
			return;
		/* The records of this batch, then its mark. */
		if (batch_mark) {
			out_mark(batch_mark);
			batch_mark = 0;
		}
	}
	/* What these events send goes at the start of the next turn. */
}

/* At exit: what stdout takes within EXIT_FLUSH_MS. */
static void
out_drain(void)
{
	struct pollfd pfd = {.fd = 1, .events = POLLOUT};
	int waited = 0;

	for (;;) {
		out_flush();
		if (!out.len || out.broken || waited >= EXIT_FLUSH_MS)
			break;
		(void)poll(&pfd, 1, 50);
		waited += 50;
	}
	if (out.len) {
		st.out_dropped += count_lines(out.buf, out.len);
		log_warn("unable to write to stdout: %zu bytes left", out.len);
	}
}

/* ---- set-up ---- */

static void
privileges_drop(char *spec)
{
	char *g = strchr(spec, ':');
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;

	if (g)
		*g++ = '\0';
	if (!(pw = getpwnam(spec)))
		log_fatal(EXIT_PERM, "-U %s: no such user", spec);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (g && *g) {
		if (!(gr = getgrnam(g)))
			log_fatal(EXIT_PERM, "-U: no such group: %s", g);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
		log_fatal_sys(EXIT_PERM, "unable to drop privileges to %s",
			      spec);
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		log_fatal(EXIT_PERM,
			  "unable to drop privileges to %s: root "
			  "regained",
			  spec);
}

static void
allow_defaults(void)
{
	static const char *const def[] = {
	    "127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	    "169.254.0.0/16", "::1/128",    "fc00::/7",	     "fe80::/10"};
	size_t i;

	for (i = 0; i < sizeof def / sizeof def[0]; i++)
		(void)rec_addr_parse(&conf.allow[conf.nallow++], def[i],
				     strlen(def[i]), 1);
}

static const char *
allow_text(void)
{
	static char buf[1024];
	size_t i, o = 0, n;

	for (i = 0; i < conf.nallow && o + 60 < sizeof buf; i++) {
		if (i)
			buf[o++] = ' ';
		n = rec_addr_format(buf + o, sizeof buf - o, &conf.allow[i], 1);
		o += n;
	}
	buf[o] = '\0';
	return buf;
}

/* Options into conf, run and the settings above; anything bad: usage. */
static void
options(int argc, char **argv)
{
	int c;

	opt_init(argv[0], usage_text);
	opterr = 0;
	metrics_file = getenv("METRICS_FILE");
	if (metrics_file && !*metrics_file)
		metrics_file = NULL;
	while ((c = getopt(argc, argv,
			   "A:a:C:cd:EF:H:hk:l:M:m:P:q:s:T:t:U:Vw:x:")) != -1) {
		switch (c) {
		case 'A':
			if (conf.nallow == ALLOW_MAX)
				opt_usage("at most %d -A", ALLOW_MAX);
			if (rec_addr_parse(&conf.allow[conf.nallow], optarg,
					   strlen(optarg),
					   !!strchr(optarg, '/')) == -1)
				opt_usage("-A %s: not an address or a prefix "
					  "(host bits zero)",
					  optarg);
			conf.nallow++;
			break;
		case 'a':
			if (run.nsinks == HOLD_SINKS_MAX)
				opt_usage("at most %d -a", HOLD_SINKS_MAX);
			run.sink_path[run.nsinks++] = optarg;
			break;
		case 'C':
			conf.max_tcp =
			    (unsigned)opt_number(optarg, 1, 65536, "-C");
			break;
		case 'c':
			chain_mode = 1;
			break;
		case 'd':
			list_path = optarg;
			break;
		case 'E':
			every_answer = 1;
			break;
		case 'F':
			run.silent_ms = opt_number(optarg, 10, 600000, "-F");
			break;
		case 'H':
			run.hold_kb =
			    (size_t)opt_number(optarg, 64, 1048576, "-H");
			break;
		case 'h':
			opt_help();
		case 'k':
			conf.cache_entries = (uint32_t)opt_number(
			    optarg, 0, PCACHE_ENTRIES_MAX, "-k");
			break;
		case 'l':
			if (run.nl == LISTEN_MAX)
				opt_usage("at most %d -l", LISTEN_MAX);
			run.listen[run.nl++] = optarg;
			break;
		case 'M':
			metrics_file = *optarg ? optarg : NULL;
			break;
		case 'm':
			map_max = (uint64_t)opt_number(optarg, 0, 1 << 20, "-m")
				  << 20;
			break;
		case 'P':
			conf.up_socks =
			    (unsigned)opt_number(optarg, 1, UP_SOCKS_MAX, "-P");
			break;
		case 'q':
			conf.max_flights =
			    (unsigned)opt_number(optarg, 16, 65535, "-q");
			break;
		case 's':
			if (run.nups == UP_MAX)
				opt_usage("at most %d -s", UP_MAX);
			if (relay_upstream_add(optarg) == -1)
				opt_usage("-s %s: not ADDR or ADDR:PORT",
					  optarg);
			run.nups++;
			break;
		case 'T':
			conf.tcp_idle =
			    opt_number(optarg, 1, 3600, "-T") * 1000000;
			break;
		case 't':
			run.bound_ms = opt_number(optarg, 1, 60000, "-t");
			break;
		case 'U':
			run.user = optarg;
			break;
		case 'V':
			opt_version();
		case 'w':
			conf.up_timeout =
			    opt_number(optarg, 10, 60000, "-w") * 1000;
			break;
		case 'x':
			conf.cache_max_ttl =
			    (uint32_t)opt_number(optarg, 1, 604800, "-x");
			break;
		default:
			opt_bad(c);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (!run.nl)
		opt_usage("no -l: where to listen");
	if (!run.nups)
		opt_usage("no -s: where to forward");
	if (!conf.nallow)
		allow_defaults();
}

static const char *
cache_text(void)
{
	static char buf[64];

	if (!pc.nsets)
		return "off";
	(void)snprintf(buf, sizeof buf, "of %lu answers for at most %lu s",
		       (unsigned long)pc.nsets * PCACHE_WAYS,
		       (unsigned long)conf.cache_max_ttl);
	return buf;
}

/* The start line: where it listens and forwards, what it holds. */
static void
log_start(void)
{
	log_info("listening on %s (UDP and TCP), forwarding to %s; list %s%s; "
		 "records of %s; %zu acknowledgement channel%s, holding at "
		 "most %lld ms; packet cache %s; allowed: %s",
		 relay_listening(), relay_upstreams(),
		 list_path ? list_path : "none",
		 chain_mode ? " (chains too)" : "",
		 list_path && !every_answer ? "listed answers" : "every answer",
		 run.nsinks, run.nsinks == 1 ? "" : "s",
		 (long long)run.bound_ms, cache_text(), allow_text());
}

/*
 * Binds and opens everything while privileged, drops the privileges, then
 * watches it all in one epoll; the first mark when acks are waited for.
 */
static void
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	struct epoll_event e;
	size_t i;

	/* Resources, bound and opened while privileged. */
	if (!(out.buf = malloc(OUT_CAP)) ||
	    hold_init(&hold, run.hold_kb * 1024, (unsigned)run.nsinks,
		      run.bound_ms * 1000, run.silent_ms * 1000) == -1 ||
	    relay_init() == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up");
	for (i = 0; i < run.nl; i++)
		if (relay_listen(run.listen[i]) == -1)
			log_fatal_sys(errno == EINVAL || errno == EDESTADDRREQ
					  ? EXIT_PERM
					  : EXIT_TEMP,
				      "unable to listen on %s%s", run.listen[i],
				      errno == EDESTADDRREQ
					  ? ": give the address, not a wildcard"
					  : "");
	for (i = 0; i < run.nsinks; i++)
		sink_open((unsigned)i, run.sink_path[i]);
	if ((run.sigfd = sig_open(sigs)) == -1 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up events");
	run.flags = fcntl(1, F_GETFL);
	if (run.flags == -1 || fcntl(1, F_SETFL, run.flags | O_NONBLOCK) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set stdout non-blocking");
	list_check(NULL);
	if (run.user)
		privileges_drop(run.user);

	e.events = EPOLLIN;
	e.data.u64 = TAG(EV_SIG, 0);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, run.sigfd, &e) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up events");
	for (i = 0; i < run.nsinks; i++) {
		e.data.u64 = TAG(EV_SINK, i);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sinks[i].fd, &e) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to watch %s",
				      sinks[i].path);
	}
	relay_epoll(ep);
	log_start();
	if (run.nsinks) {
		now_us = clock_mono_us();
		out_mark(hold_mark(&hold, clock_wall_us(), now_us));
	}
}

/*
 * The exit: fail open (everything held goes now), stdout for a while, the
 * exit line with the counters, then stdout's flags back and the clean-up.
 */
static void
finish(void)
{
	size_t i;

	now_us = clock_mono_us();
	release(1);
	relay_flush();
	out_drain();
	metrics_flush();
	log_info(
	    "exiting on %s: queries %llu, answers %llu, records %llu "
	    "(skipped %llu), held %llu (acknowledged %llu, timed out %llu, "
	    "failed open "
	    "%llu), SERVFAIL %llu, refused %llu",
	    run.why, (unsigned long long)(st.q_udp + st.q_tcp),
	    (unsigned long long)st.answers, (unsigned long long)st.records,
	    (unsigned long long)st.records_skipped, (unsigned long long)st.held,
	    (unsigned long long)st.released_ack,
	    (unsigned long long)st.released_timeout,
	    (unsigned long long)st.released_open,
	    (unsigned long long)st.servfail, (unsigned long long)st.refused);
	fcntl(1, F_SETFL, run.flags);
	relay_destroy();
	hold_destroy(&hold);
	for (i = 0; i < run.nsinks; i++) {
		lr_destroy(&sinks[i].r);
		close(sinks[i].fd);
	}
	dlist_close(&dl);
	free(out.buf);
	close(ep);
	close(run.sigfd);
}

int
main(int argc, char **argv)
{
	options(argc, argv);
	setup();
	while (!run.why)
		turn();
	finish();
	return 0;
}
