/*
 * bgp-announce: keeps every configured BGP peer's table equal to the set of
 * prefixes on stdin.
 *
 * Reads ipcache's records (docs/records.md): "announce PREFIX TAG NAME",
 * "withdraw PREFIX TAG NAME", and "replay" ... "eor" around a full-state
 * replay, after which prefixes not re-announced are withdrawn and peers get
 * End-of-RIB. Writes nothing on stdout; diagnostics and state changes on
 * stderr. Configuration: the environment (config.c, bgp-announce.8).
 *
 * One poll loop serves stdin, signals and every peer socket. Input is taken
 * in bounded chunks and turned into table changes; each peer's output is
 * refilled from the table only while its buffer is short, so keepalives and
 * the peers' own messages are never stuck behind bulk work.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bgpa.h"
#include "clock.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "rec.h"
#include "sig.h"

#define RECORD_BUDGET 20000 /* records per loop turn before output */
/*
 * After a peer's TCP acked the UPDATEs before a mark, BIRD imported 6% of
 * the routes up to 0.2 ms later; none of 900 with this (bench/bgp-announce-
 * ack, BENCHMARKS.md).
 */
#define SETTLE_US 250
#define DRAIN_MS 10000 /* how long exit waits for peers to take output */

static struct bgpa G;
static struct config CFG;
static struct ratelimit bad_rl = RATELIMIT_INIT;
static struct ratelimit refused_rl = RATELIMIT_INIT;

static const struct metric metrics[] = {
    {"peers_up", NULL, METRIC_GAUGE, "Peers in state Established",
     &G.n.peers_up},
    {"sessions_total", NULL, METRIC_COUNTER, "Sessions established",
     &G.n.sessions},
    {"records_total", NULL, METRIC_COUNTER, "Records read", &G.n.records},
    {"bad_records_total", NULL, METRIC_COUNTER, "Records that did not parse",
     &G.n.bad_records},
    {"updates_sent_total", NULL, METRIC_COUNTER, "UPDATE messages sent",
     &G.n.updates},
    {"prefixes_announced_total", NULL, METRIC_COUNTER,
     "Prefixes announced, summed over peers", &G.n.announced},
    {"prefixes_withdrawn_total", NULL, METRIC_COUNTER,
     "Prefixes withdrawn, summed over peers", &G.n.withdrawn},
    {"messages_received_total", NULL, METRIC_COUNTER, "BGP messages received",
     &G.n.msgs_in},
    {"messages_sent_total", NULL, METRIC_COUNTER, "BGP messages sent",
     &G.n.msgs_out},
    {"bytes_sent_total", NULL, METRIC_COUNTER, "BGP bytes queued to peers",
     &G.n.bytes_out},
    {"notifications_sent_total", NULL, METRIC_COUNTER,
     "NOTIFICATION messages sent", &G.n.notif_out},
    {"notifications_received_total", NULL, METRIC_COUNTER,
     "NOTIFICATION messages received", &G.n.notif_in},
    {"errors_total", NULL, METRIC_COUNTER,
     "Malformed messages received from peers", &G.n.errors},
    {"table_prefixes", NULL, METRIC_GAUGE, "Prefixes in the table", &G.n.table},
    {"connections_refused_total", NULL, METRIC_COUNTER,
     "Incoming connections closed: not from a peer, or no place for them",
     &G.n.refused},
    {"refused_records_total", NULL, METRIC_COUNTER,
     "Records refused: a prefix shorter than -L allows", &G.n.refused_records},
    {"marks_total", NULL, METRIC_COUNTER, "Marks read", &G.n.marks},
    {"acks_total", NULL, METRIC_COUNTER,
     "Acknowledgements written on the -A channel", &G.n.acks},
    {"acks_dropped_total", NULL, METRIC_COUNTER,
     "Acknowledgements dropped: the -A channel was full", &G.n.acks_dropped},
    {"updates_treated_as_withdraw_total", NULL, METRIC_COUNTER,
     "Malformed UPDATEs from peers that RFC 7606 treats as withdraw",
     &G.n.upd_withdrawn},
    {"attributes_discarded_total", NULL, METRIC_COUNTER,
     "Malformed or repeated attributes from peers that RFC 7606 discards",
     &G.n.attr_discarded},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* metrics[] and, per peer, state, established-since and prefixes sent. */
static struct metric *all_metrics;
static size_t nall_metrics;

static const char usage[] =
    "usage: bgp-announce [-hnVw] [-A ack-fifo [-D settle-us]] "
    "[-L len4,len6]\n"
    "                    [-M metrics-file] [-R restart-file] "
    "[-S control-socket]\n"
    "  -n    check the configuration (the environment), print it "
    "normalized\n"
    "  -w    at exit withdraw every route and send Cease\n"
    "  -A    answer each mark with an ack on this FIFO once the peers' "
    "TCP has it\n"
    "  -D    then wait this many microseconds more, the router's own "
    "time (250)\n"
    "  -L    shortest prefixes to announce (32,128: host routes only)\n"
    "  -M    write metrics to this file (default $METRICS_FILE)\n"
    "  -R    restart state file: set the Restart State bit to peers that "
    "may\n        still hold our routes after a restart\n"
    "  -S    answer status and routes requests on this UNIX socket\n";

struct opts {
	int check, withdraw;
	const char *metrics, *ctl, *ack, *restart;
	int64_t settle_us;
	uint8_t minlen[NFAM];
};

static void
set_absent(struct bgpa *g, uint32_t i)
{
	struct rib_entry *e = &g->rib.e[i];

	if (!e->present)
		return;
	e->present = 0;
	g->rib.present--;
	g->rib.npresent[e->fam]--;
	update_changed(g, i);
	rib_maybe_free(&g->rib, i);
}

static void
record(struct bgpa *g, char *line, size_t len)
{
	struct rec r;
	enum rec_err err;
	struct rib_entry *e;
	uint32_t i;
	uint16_t tag;
	int fam;

	g->n.records++;
	if ((err = rec_parse(&r, line, len)) != REC_OK ||
	    r.type == REC_ANSWER || r.type == REC_PEER || r.type == REC_ACK) {
		g->n.bad_records++;
		log_warn_limited(&bad_rl, "stdin: record %llu: %s",
				 (unsigned long long)g->n.records,
				 err != REC_OK ? rec_strerror(err)
					       : "unexpected type");
		return;
	}
	fam = r.addr.family == 6 ? FAM6 : FAM4;
	if ((r.type == REC_ANNOUNCE || r.type == REC_WITHDRAW) &&
	    r.addr.plen < g->minlen[fam]) {
		char pfx[64];

		g->n.refused_records++;
		rec_addr_format(pfx, sizeof pfx, &r.addr, 1);
		log_warn_limited(&refused_rl,
				 "stdin: record %llu: %s is shorter than /%u "
				 "(see -L), refused",
				 (unsigned long long)g->n.records, pfx,
				 g->minlen[fam]);
		return;
	}
	switch (r.type) {
	case REC_ANNOUNCE:
		tag = config_tag(g->cfg, r.tag);
		if ((i = rib_get(&g->rib, fam, r.addr.a, r.addr.plen)) ==
		    UINT32_MAX)
			log_fatal(EXIT_TEMP, "unable to grow the table: out of "
					     "memory");
		e = &g->rib.e[i];
		e->gen = g->rib.gen;
		if (rib_label(&g->rib, i, r.tag, r.tag_len, r.name,
			      r.name_len) == -1)
			log_fatal(EXIT_TEMP, "unable to grow the table: out of "
					     "memory");
		if (e->present && e->tag == tag)
			return;
		if (!e->present) {
			g->rib.present++;
			g->rib.npresent[fam]++;
		}
		e->present = 1;
		e->tag = tag;
		update_changed(g, i);
		return;
	case REC_WITHDRAW:
		if ((i = rib_find(&g->rib, fam, r.addr.a, r.addr.plen)) !=
		    UINT32_MAX)
			set_absent(g, i);
		return;
	case REC_MARK:
		barrier_mark(g, r.mark);
		return;
	case REC_REPLAY:
		/* Everything not announced again before eor goes. */
		g->replaying = 1;
		g->rib.gen++;
		return;
	case REC_EOR:
		if (g->replaying)
			for (i = 0; i < g->rib.n; i++)
				if (g->rib.e[i].used && g->rib.e[i].present &&
				    g->rib.e[i].gen != g->rib.gen)
					set_absent(g, i);
		g->replaying = 0;
		if (!g->eor_seen)
			log_info("input: full table complete (%u prefixes)",
				 g->rib.present);
		g->eor_seen = 1;
		return;
	default:
		return;
	}
}

/* Reads one chunk of stdin and applies up to a budget of records. */
static int
input(struct bgpa *g, struct lr *in, int readable, int *more)
{
	char *line;
	size_t len;
	int n = 0;
	enum lr_result res;
	ssize_t k;

	if (readable) {
		k = lr_fill(in);
		if (k == -1 && errno != EINTR && errno != EAGAIN)
			log_fatal_sys(EXIT_TEMP, "unable to read stdin");
	}
	*more = 0;
	while ((res = lr_next(in, &line, &len)) != LR_NONE) {
		if (res == LR_LONG) {
			g->n.bad_records++;
			log_warn_limited(&bad_rl, "stdin: line too long");
			continue;
		}
		record(g, line, len);
		if (++n == RECORD_BUDGET) {
			*more = 1;
			break;
		}
	}
	return n;
}

/* Builds all_metrics: the fixed table, then four lines per peer. */
static void
metrics_init(struct bgpa *g)
{
	static const struct {
		const char *name, *help, *family;
		enum metric_type type;
	} per[] = {
	    {"peer_state",
	     "BGP4-MIB state: 1 idle 2 connect 3 active "
	     "4 opensent 5 openconfirm 6 established",
	     NULL, METRIC_GAUGE},
	    {"peer_established_since_seconds",
	     "When the session was "
	     "established (Unix time), 0 when it is not",
	     NULL, METRIC_GAUGE},
	    {"peer_prefixes_sent", "Prefixes announced to the peer now", "ipv4",
	     METRIC_GAUGE},
	    {"peer_prefixes_sent", "Prefixes announced to the peer now", "ipv6",
	     METRIC_GAUGE},
	};
	size_t i, k, n = NMETRICS;
	char l[128];

	nall_metrics = NMETRICS + 4 * g->npeers;
	if (!(all_metrics = calloc(nall_metrics, sizeof *all_metrics)))
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
	memcpy(all_metrics, metrics, sizeof metrics);
	/* grouped by name: HELP and TYPE once per name */
	for (k = 0; k < 4; k++)
		for (i = 0; i < g->npeers; i++, n++) {
			struct peer *p = &g->peers[i];
			struct metric *m = &all_metrics[n];

			if (per[k].family)
				snprintf(l, sizeof l,
					 "peer=\"%s\",family=\"%s\"",
					 p->pc->name, per[k].family);
			else
				snprintf(l, sizeof l, "peer=\"%s\"",
					 p->pc->name);
			if (!(m->labels = strdup(l)))
				log_fatal(EXIT_TEMP,
					  "unable to allocate: out of memory");
			m->name = per[k].name;
			m->help = per[k].help;
			m->type = per[k].type;
			m->value = k == 0   ? &p->m_state
				   : k == 1 ? &p->m_since
					    : &p->nsent[k == 2 ? FAM4 : FAM6];
		}
}

static void
metrics_destroy(void)
{
	size_t i;

	for (i = NMETRICS; i < nall_metrics; i++)
		free((char *)(uintptr_t)all_metrics[i].labels);
	free(all_metrics);
}

static struct metrics_file mfile;

/* The metrics file, every METRICS_EVERY_S seconds or at once with force. */
static void
write_metrics(struct bgpa *g, int force)
{
	size_t i;

	g->n.table = g->rib.present;
	for (i = 0; i < g->npeers; i++) {
		struct peer *p = &g->peers[i];
		enum peer_state st = peer_state(g, p);

		p->m_state = (uint64_t)st + 1;
		p->m_since = st == ST_ESTABLISHED ? (uint64_t)p->since : 0;
	}
	mfile.m = all_metrics;
	mfile.n = nall_metrics;
	if (metrics_file_tick(&mfile, force) == -1)
		log_warn_sys("unable to write %s", mfile.path);
}

/* Gives established peers up to DRAIN_MS to take what is queued. */
static void
drain(struct bgpa *g, int sigfd)
{
	struct pollfd pfd[2 * BGPA_MAX_PEERS + BGPA_MAX_LISTEN + 1];
	int64_t end = clock_mono_ms() + DRAIN_MS, t;
	size_t n;

	for (;;) {
		session_output(g);
		if (session_unsent(g) == 0)
			return;
		g->now = clock_mono_ms();
		if (g->now >= end) {
			log_warn("exit: peers did not take all output in %d s",
				 DRAIN_MS / 1000);
			return;
		}
		t = session_timers(g);
		n = session_pollfds(g, pfd,
				    2 * BGPA_MAX_PEERS + BGPA_MAX_LISTEN);
		pfd[n].fd = sigfd;
		pfd[n++].events = POLLIN;
		if (t < 0 || t > end - g->now)
			t = end - g->now;
		if (session_busy(g))
			t = 0;
		if (poll(pfd, (nfds_t)n, (int)t) == -1 && errno != EINTR)
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		/* Signals during the drain: it ends on its own soon. */
		if (pfd[n - 1].revents)
			while (sig_next(sigfd) > 0)
				;
		session_events(g, pfd, n - 1);
	}
}

/* -L LEN4,LEN6: the shortest prefixes to announce. */
static void
prefix_lengths(char *s, uint8_t minlen[NFAM])
{
	char *comma = strchr(s, ',');

	if (!comma)
		opt_usage("-L %s: want LEN4,LEN6 (32,128: host routes only)",
			  s);
	*comma = '\0';
	minlen[FAM4] = (uint8_t)opt_number(s, 0, 32, "-L IPv4 length");
	minlen[FAM6] = (uint8_t)opt_number(comma + 1, 0, 128, "-L IPv6 length");
}

static void
options(int argc, char **argv, struct opts *o)
{
	int c;

	opt_init("bgp-announce", usage);
	opterr = 0;
	memset(o, 0, sizeof *o);
	o->metrics = getenv("METRICS_FILE");
	o->settle_us = SETTLE_US;
	o->minlen[FAM4] = 32;
	o->minlen[FAM6] = 128;
	while ((c = getopt(argc, argv, ":hnwVA:D:L:M:R:S:")) != -1) {
		switch (c) {
		case 'h':
			opt_help();
		case 'V':
			opt_version();
		case 'n':
			o->check = 1;
			break;
		case 'w':
			o->withdraw = 1;
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 'S':
			o->ctl = optarg;
			break;
		case 'L':
			prefix_lengths(optarg, o->minlen);
			break;
		case 'A':
			o->ack = optarg;
			break;
		case 'R':
			o->restart = optarg;
			break;
		case 'D':
			o->settle_us = opt_number(optarg, 0, 1000000,
						  "-D settle time (us)");
			break;
		default:
			opt_bad(c);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (o->metrics && !*o->metrics)
		o->metrics = NULL;
	if (o->ctl && !*o->ctl)
		opt_usage("-S needs a path");
	if (o->ack && !*o->ack)
		opt_usage("-A needs a path");
	if (o->restart && !*o->restart)
		opt_usage("-R needs a path");
}

/*
 * The configuration from the environment, or exit 100: one line per
 * problem, the last one fatal. A variable that configures nothing is a
 * problem (a misspelt PASSWORD must not leave a session unsigned); at start
 * the settings of a peer or tag taken out of PEERS or TAGS are only a
 * warning, since that is how one is set aside.
 */
static void
config(const struct opts *o)
{
	static struct config_problem pb[64];
	char err[256];
	size_t n, i, last = 0, nbad = 0;

	if (config_load(&CFG, err, sizeof err) == -1)
		log_fatal(EXIT_PERM, "bad configuration: %s", err);
	n = config_unknown(&CFG, pb, 64);
	for (i = 0; i < n; i++)
		if (o->check || !pb[i].unlisted)
			nbad++, last = i;
	for (i = 0; i < n; i++) {
		if (nbad && i == last)
			continue;
		if (o->check || !pb[i].unlisted)
			log_warn("bad configuration: %s", pb[i].msg);
		else
			log_warn("configuration: %s: ignored", pb[i].msg);
	}
	if (nbad)
		log_fatal(EXIT_PERM, "bad configuration: %s", pb[last].msg);
}

/* The one loop's state. */
struct loop {
	struct opts o;
	struct lr in;
	int sigfd, more, stop;
	const char *why; /* why it stops */
	int64_t next_metrics, barrier_us;
};

/* How long poll may wait: NULL for ever. */
static struct timespec *
timeout(struct loop *l, struct timespec *ts)
{
	int64_t t = session_timers(&G), x, us;

	if (G.now >= l->next_metrics) {
		write_metrics(&G, 0);
		l->next_metrics = G.now + METRICS_EVERY_S * 1000;
	}
	if (l->o.metrics && (t < 0 || t > l->next_metrics - G.now))
		t = l->next_metrics - G.now;
	if ((x = ctl_timers(&G)) >= 0 && (t < 0 || t > x))
		t = x;
	if ((x = restart_timer(&G)) >= 0 && (t < 0 || t > x))
		t = x;
	if (l->more || session_busy(&G))
		t = 0;
	us = t < 0 ? -1 : t * 1000;
	/* the barrier's timer is finer than a millisecond */
	if ((x = l->barrier_us) >= 0 && (us < 0 || us > x))
		us = x;
	if (us < 0)
		return NULL;
	ts->tv_sec = us / 1000000;
	ts->tv_nsec = us % 1000000 * 1000;
	return ts;
}

static void
signals(struct loop *l)
{
	int s;

	while ((s = sig_next(l->sigfd)) > 0) {
		if (s == SIGUSR1) {
			G.n.table = G.rib.present;
			metrics_log(metrics, NMETRICS);
			session_stats(&G);
		} else if (s == SIGHUP)
			log_info("SIGHUP: configuration is read at start; "
				 "restart to change it");
		else {
			l->stop = 1;
			l->why = s == SIGTERM ? "SIGTERM" : "SIGINT";
		}
	}
}

/* One turn of the loop: wait, then serve what is ready. */
static void
turn(struct loop *l)
{
	struct pollfd pfd[2 * BGPA_MAX_PEERS + BGPA_MAX_LISTEN + CTL_MAX + 3];
	size_t n = 0, base, cbase;
	struct timespec ts, *t = timeout(l, &ts);

	pfd[n].fd = l->sigfd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = l->in.eof ? -1 : 0;
	pfd[n++].events = POLLIN;
	cbase = n;
	n += ctl_pollfds(&G, pfd + n, CTL_MAX + 1);
	base = n;
	n += session_pollfds(&G, pfd + n, 2 * BGPA_MAX_PEERS + BGPA_MAX_LISTEN);
	if (ppoll(pfd, (nfds_t)n, t, NULL) == -1) {
		if (errno == EINTR)
			return;
		log_fatal_sys(EXIT_TEMP, "unable to poll");
	}
	if (pfd[0].revents)
		signals(l);
	session_events(&G, pfd + base, n - base);
	if (pfd[1].revents || l->more)
		input(&G, &l->in, pfd[1].revents != 0, &l->more);
	if (l->in.eof && !l->more && !l->stop) {
		l->stop = 1;
		l->why = "end of input";
	}
	session_output(&G);
	ctl_events(&G, pfd + cbase, base - cbase);
	l->barrier_us = barrier_check(&G);
}

static void
log_start(const struct loop *l)
{
	char peers[BGPA_MAX_PEERS * 50], lis[BGPA_MAX_LISTEN * 64], b[64];
	size_t i, o = 0, k = 0;

	peers[0] = lis[0] = '\0';
	for (i = 0; i < CFG.npeers && o < sizeof peers; i++)
		o += (size_t)snprintf(peers + o, sizeof peers - o, "%s%s",
				      i ? " " : "", CFG.peers[i].name);
	for (i = 0; i < CFG.nlisten && k < sizeof lis; i++)
		k += (size_t)snprintf(
		    lis + k, sizeof lis - k, "%s%s port %u", i ? ", " : "",
		    addr_str(&CFG.listen[i], b, sizeof b), CFG.listen_port[i]);
	log_info(
	    "start: %zu peers (%s), %s%s, reading records on stdin%s%s%s%s",
	    CFG.npeers, peers, CFG.nlisten ? "listening on " : "not listening",
	    lis, l->o.ctl ? ", control socket " : "", l->o.ctl ? l->o.ctl : "",
	    l->o.ack ? ", acks to " : "", l->o.ack ? l->o.ack : "");
}

int
main(int argc, char **argv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	static struct loop l;
	uint32_t i;

	options(argc, argv, &l.o);
	config(&l.o);
	if (l.o.check) {
		config_print(&CFG);
		if (fflush(stdout) == EOF)
			log_fatal_sys(EXIT_TEMP, "unable to write stdout");
		return 0;
	}

	if ((l.sigfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (lr_init(&l.in, 0, REC_LINE_MAX * 16) == -1 ||
	    rib_init(&G.rib) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
	G.cfg = &CFG;
	G.minlen[FAM4] = l.o.minlen[FAM4];
	G.minlen[FAM6] = l.o.minlen[FAM6];
	G.started = clock_wall_us() / 1000000;
	G.ack_fd = -1;
	ctl_init(&G);
	if (l.o.ack)
		barrier_open(&G, l.o.ack, l.o.settle_us);
	if (l.o.ctl)
		ctl_open(&G, l.o.ctl);
	session_init(&G);
	if (l.o.restart)
		restart_open(&G, l.o.restart);
	metrics_init(&G);
	l.next_metrics = clock_mono_ms();
	mfile.path = l.o.metrics;
	mfile.prog = "bgp-announce";
	l.barrier_us = -1;
	log_start(&l);

	while (!l.stop)
		turn(&l);

	log_info("exit: %s: %s", l.why,
		 l.o.withdraw ? "withdrawing everything"
			      : "leaving routes to graceful restart");
	G.shutting = 1;
	if (l.o.withdraw)
		for (i = 0; i < G.rib.n; i++)
			if (G.rib.e[i].used)
				set_absent(&G, i);
	drain(&G, l.sigfd);
	restart_exit(&G, l.o.withdraw);
	session_close_all(&G, l.o.withdraw);
	ctl_close(&G);
	barrier_close(&G);
	write_metrics(&G, 1);
	log_info("exit: %llu records, %llu bad, %llu refused, %llu UPDATEs "
		 "sent, %llu sessions, %llu marks, %llu acks (%llu dropped)",
		 (unsigned long long)G.n.records,
		 (unsigned long long)G.n.bad_records,
		 (unsigned long long)G.n.refused_records,
		 (unsigned long long)G.n.updates,
		 (unsigned long long)G.n.sessions,
		 (unsigned long long)G.n.marks, (unsigned long long)G.n.acks,
		 (unsigned long long)G.n.acks_dropped);
	metrics_destroy();
	rib_destroy(&G.rib);
	lr_destroy(&l.in);
	close(l.sigfd);
	return 0;
}
