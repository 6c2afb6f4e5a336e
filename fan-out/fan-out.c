/*
 * fan-out: copies ipcache's stream to any number of sinks (bgp-announce,
 * nft-set, route-sync), so that none of them can hold up the others.
 *
 * Reads ipcache's records on stdin (docs/records.md) and keeps the set they
 * describe. Each sink reads its own FIFO, opened here write-only and
 * non-blocking: a sink that is not running has no reader (the open fails,
 * and is tried again every RETRY_MS), a sink that dies drops the reader
 * (poll says POLLERR at once), a sink that stalls fills its buffer. A sink
 * that stalls for longer than -t seconds, or lets more than -b bytes pile
 * up, is cut off; when it reads again, or a new one opens the FIFO, it gets
 * the whole set from here (replay, one announce per entry, eor) without
 * ipcache or the other sinks seeing anything. ipcache's own replays go to
 * every sink.
 *
 * Marks: "mark N" goes to every sink in step. A sink given an ack FIFO
 * (OUT:ACK) answers "ack N" there; fan-out writes "ack N" on its own -A
 * FIFO once every sink that is in step and answering has acknowledged N.
 * A sink that is down, being replayed to or has not answered for -t
 * seconds is not waited for until it acknowledges again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack.h"
#include "clock.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "pmap.h"
#include "rec.h"
#include "recin.h"
#include "sig.h"

#define MAX_OUTS 32
#define MAX_TAGS 4096
#define RETRY_MS 200 /* a sink without a reader: open again */
#define METRICS_MS 10000
#define RECORD_BUDGET 20000
#define REFILL_BYTES (64u << 10) /* a replay is generated this far ahead */
#define PENDING_MAX 65536	 /* marks waiting for acks (then merged) */

static const char usage_text[] =
    "usage: fan-out [-A ack-fifo] [-b bytes] [-t seconds] [-M metrics-file] "
    "OUT[:ACK]...\n"
    "  OUT  a sink's input FIFO; ACK the FIFO it writes its acks to\n"
    "  -A   write 'ack N' here once every sink in step has acknowledged N\n"
    "  -b   most bytes kept for a sink that does not read (default 33554432)\n"
    "  -t   seconds a sink may stall before it is cut off (default 10)\n";

enum out_state {
	DOWN,	 /* no reader */
	WAIT,	 /* a reader, waiting for the set to be whole */
	REPLAY,	 /* being sent the set from here */
	SYNC,	 /* in step with the input */
	DROPPED, /* cut off: the set again once it reads */
};
static const char *state_names[] = {"down", "waiting", "replaying", "in step",
				    "cut off"};

struct out {
	char *path, *ackpath;
	int fd, ackfd;
	enum out_state st;
	char *buf;
	size_t len, cap;
	uint32_t cursor;     /* REPLAY: next entry */
	int64_t stuck_since; /* ms since bytes wait without progress */
	int64_t next_open;
	struct lr ackr;
	int required;	/* its acks are waited for */
	int need_probe; /* becomes required once it acks the next mark */
	uint64_t probe;
	uint64_t acked;
	uint64_t replays, cuts, bytes;
	struct ratelimit rl;
};

static struct out outs[MAX_OUTS];
static unsigned nouts;
static size_t limit = 32u << 20;
static size_t refill_bytes = REFILL_BYTES;
static int64_t stall_ms = 10000;

/* The set: (tag, prefix) -> name. */
static struct pmap set;
static char **names;
static size_t names_cap;
static char *tags[MAX_TAGS];
static uint32_t ntags;
static uint32_t gen;
static int replaying, whole;
static uint64_t last_mark;
static int have_mark;

/* Marks waiting for acks. */
static struct pending {
	uint64_t mark;
	uint32_t mask;
	int64_t since;
} * pend;
static size_t phead, pcount;
static int upfd = -1;

static struct recin in; /* stdin */
static struct ratelimit bad_rl = RATELIMIT_INIT;
static struct {
	uint64_t entries, replays, cuts, acks, acks_dropped;
	uint64_t bad_acks, sinks_up;
} n;

static const struct metric metrics[] = {
    {"records_total", NULL, METRIC_COUNTER, "Records read", &in.records},
    {"bad_records_total", NULL, METRIC_COUNTER,
     "Records refused (not passed on)", &in.bad},
    {"entries", NULL, METRIC_GAUGE, "Entries in the set", &n.entries},
    {"sinks_in_step", NULL, METRIC_GAUGE, "Sinks in step with the input",
     &n.sinks_up},
    {"replays_total", NULL, METRIC_COUNTER,
     "Replays of the set sent to one sink", &n.replays},
    {"cutoffs_total", NULL, METRIC_COUNTER, "Sinks cut off for stalling",
     &n.cuts},
    {"acks_total", NULL, METRIC_COUNTER, "Acks written", &n.acks},
    {"acks_dropped_total", NULL, METRIC_COUNTER,
     "Acks dropped: the channel was full", &n.acks_dropped},
    {"bad_acks_total", NULL, METRIC_COUNTER,
     "Lines on the sinks' ack FIFOs that were not acks", &n.bad_acks},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* --- the set ------------------------------------------------------------ */

static int32_t
tag_id(const char *t, size_t len)
{
	uint32_t i;

	for (i = 0; i < ntags; i++)
		if (strlen(tags[i]) == len && !memcmp(tags[i], t, len))
			return (int32_t)i;
	if (ntags == MAX_TAGS || !(tags[ntags] = strndup(t, len)))
		return -1;
	return (int32_t)ntags++;
}

static void
set_del(uint32_t i)
{
	free(names[i]);
	names[i] = NULL;
	pmap_del(&set, i);
}

/* Applies a record to the set. 0, or -1 when it cannot be kept. */
static int
set_apply(const struct rec *r)
{
	uint32_t i;
	int32_t t;
	int created;
	char **nn, *name;
	size_t ncap;

	switch (r->type) {
	case REC_ANNOUNCE:
	case REC_WITHDRAW:
		if ((t = tag_id(r->tag, r->tag_len)) < 0)
			return -1;
		if (r->type == REC_WITHDRAW) {
			if ((i = pmap_find(&set, (uint32_t)t, &r->addr)) !=
			    PMAP_NONE)
				set_del(i);
			return 0;
		}
		if ((i = pmap_get(&set, (uint32_t)t, &r->addr, &created)) ==
		    PMAP_NONE)
			log_fatal(EXIT_TEMP, "out of memory");
		if (set.cap > names_cap) {
			ncap = set.cap;
			if (!(nn = realloc(names, ncap * sizeof *nn)))
				log_fatal(EXIT_TEMP, "out of memory");
			memset(nn + names_cap, 0,
			       (ncap - names_cap) * sizeof *nn);
			names = nn;
			names_cap = ncap;
		}
		set.e[i].gen = gen;
		if (!names[i] || strcmp(names[i], r->name)) {
			if (!(name = strdup(r->name)))
				log_fatal(EXIT_TEMP, "out of memory");
			free(names[i]);
			names[i] = name;
		}
		return 0;
	case REC_REPLAY:
		gen++;
		replaying = 1;
		return 0;
	case REC_EOR:
		if (replaying)
			for (i = 0; i < set.n; i++)
				if (set.e[i].used && set.e[i].gen != gen)
					set_del(i);
		replaying = 0;
		whole = 1;
		return 0;
	default:
		return 0;
	}
}

/* --- marks and acks ------------------------------------------------------ */

static void
ack_up(uint64_t m)
{
	int r;

	if (upfd == -1)
		return;
	if ((r = ack_write(upfd, m)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to the ack channel");
	if (r)
		n.acks++;
	else
		n.acks_dropped++;
}

/* Acks every mark at the front that nobody is waited for on. */
static void
release(void)
{
	uint64_t m = 0;
	int any = 0;

	while (pcount && !pend[phead].mask) {
		m = pend[phead].mark;
		any = 1;
		phead = (phead + 1) % PENDING_MAX;
		pcount--;
	}
	if (any)
		ack_up(m);
}

static void
unrequire(unsigned o)
{
	size_t i;

	outs[o].required = 0;
	outs[o].need_probe = 1;
	for (i = 0; i < pcount; i++)
		pend[(phead + i) % PENDING_MAX].mask &= ~(1u << o);
	release();
}

static void
mark_in(uint64_t m, int64_t now)
{
	struct pending *p;
	uint32_t mask = 0;
	unsigned o;

	for (o = 0; o < nouts; o++)
		if (outs[o].st == SYNC && outs[o].ackfd != -1) {
			if (outs[o].need_probe) {
				outs[o].probe = m;
				outs[o].need_probe = 0;
			}
			if (outs[o].required)
				mask |= 1u << o;
		}
	if (pcount == PENDING_MAX) {
		/* Acks are cumulative: the newest covers the one before. */
		p = &pend[(phead + pcount - 1) % PENDING_MAX];
		p->mark = m;
		p->mask |= mask;
	} else {
		p = &pend[(phead + pcount++) % PENDING_MAX];
		p->mark = m;
		p->mask = mask;
		p->since = now;
	}
	release();
}

static void
ack_in(unsigned o, uint64_t a)
{
	struct out *s = &outs[o];
	size_t i;

	if (a > s->acked)
		s->acked = a;
	if (!s->required && !s->need_probe && s->st == SYNC && a >= s->probe) {
		s->required = 1;
		log_info("%s: acknowledging: waited for again", s->path);
	}
	for (i = 0; i < pcount; i++)
		if (pend[(phead + i) % PENDING_MAX].mark <= a)
			pend[(phead + i) % PENDING_MAX].mask &= ~(1u << o);
	release();
}

static void
read_acks(unsigned o)
{
	struct out *s = &outs[o];
	enum lr_result res;
	struct rec r;
	char *line;
	size_t len;
	ssize_t k;

	k = lr_fill(&s->ackr);
	if (k == -1 && errno != EAGAIN && errno != EINTR)
		log_fatal_sys(EXIT_TEMP, "unable to read %s", s->ackpath);
	while ((res = lr_next(&s->ackr, &line, &len)) != LR_NONE) {
		if (res == LR_LONG || rec_parse(&r, line, len) != REC_OK ||
		    r.type != REC_ACK) {
			n.bad_acks++;
			log_warn_limited(&bad_rl, "%s: not an ack", s->ackpath);
			continue;
		}
		ack_in(o, r.mark);
	}
}

/* --- sinks -------------------------------------------------------------- */

static void put_rec(unsigned o, const struct rec *r, int live);

static void
out_state(unsigned o, enum out_state st)
{
	struct out *s = &outs[o];

	if (s->st == SYNC && st != SYNC)
		unrequire(o);
	if (st == REPLAY) {
		s->cursor = 0;
		s->replays++;
		n.replays++;
	}
	if (st == DOWN || st == DROPPED || st == WAIT || st == REPLAY)
		s->len = 0;
	if (st == SYNC && s->st != SYNC) {
		/* Before any mark, nobody waits: in step is enough. Later,
		 * its first ack shows it is through what it was sent. */
		s->required = !have_mark;
		s->need_probe = have_mark;
	}
	s->stuck_since = 0;
	s->st = st;
	if (st == REPLAY) {
		struct rec r = {.type = REC_REPLAY};

		put_rec(o, &r, 1);
	}
}

/*
 * Appends a line; a sink past its limit with live records is cut off (the
 * replay's own lines are made only while the buffer is short).
 */
static void
out_put(unsigned o, const char *line, size_t len, int live)
{
	struct out *s = &outs[o];
	char *nb;
	size_t ncap;

	if (live && s->len + len > limit) {
		log_warn("%s: more than %zu bytes waiting: cut off, the set "
			 "again once it reads",
			 s->path, limit);
		s->cuts++;
		n.cuts++;
		out_state(o, DROPPED);
		return;
	}
	if (s->len + len > s->cap) {
		ncap = s->cap ? s->cap : 65536;
		while (ncap < s->len + len)
			ncap *= 2;
		if (!(nb = realloc(s->buf, ncap)))
			log_fatal(EXIT_TEMP, "out of memory");
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, line, len);
	s->len += len;
}

static void
put_rec(unsigned o, const struct rec *r, int live)
{
	char line[REC_LINE_MAX];
	size_t len = rec_format(line, sizeof line, r);

	if (len)
		out_put(o, line, len, live);
}

/* More of a replay, while the buffer is short. */
static void
refill(unsigned o)
{
	struct out *s = &outs[o];
	struct rec r = {0};
	struct pmap_ent *e;

	while (s->st == REPLAY && s->len < refill_bytes && s->cursor < set.n) {
		e = &set.e[s->cursor++];
		if (!e->used)
			continue;
		r.type = REC_ANNOUNCE;
		r.addr = e->p;
		r.tag = tags[e->id];
		r.tag_len = strlen(r.tag);
		r.name = names[e - set.e];
		r.name_len = strlen(r.name);
		put_rec(o, &r, 0);
	}
	if (s->st == REPLAY && s->cursor >= set.n) {
		memset(&r, 0, sizeof r);
		r.type = REC_EOR;
		put_rec(o, &r, 0);
		out_state(o, SYNC);
		if (s->st == SYNC && have_mark && s->ackfd != -1) {
			/* Acked once the whole replay is in. */
			r.type = REC_MARK;
			r.mark = last_mark;
			put_rec(o, &r, 0);
			s->probe = last_mark;
			s->need_probe = 0;
		}
		log_info("%s: sent the set (%u entries): in step", s->path,
			 set.count);
	}
}

static void
out_open(unsigned o, int64_t now)
{
	struct out *s = &outs[o];
	struct stat st;

	s->next_open = now + RETRY_MS;
	if ((s->fd = open(s->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENXIO && errno != ENOENT)
			log_warn_sys("unable to open %s", s->path);
		return;
	}
	if (fstat(s->fd, &st) == -1 || !S_ISFIFO(st.st_mode))
		log_fatal(EXIT_PERM, "%s: not a FIFO", s->path);
	/* More room in the pipe: fewer wake-ups in bulk (best effort). */
	(void)fcntl(s->fd, F_SETPIPE_SZ, 1 << 20);
	log_info("%s: a reader is there: %s", s->path,
		 whole ? "sending the set" : "waiting for the set to be whole");
	out_state(o, whole && !replaying ? REPLAY : WAIT);
}

static void
out_down(unsigned o)
{
	struct out *s = &outs[o];

	log_info("%s: the reader is gone (was %s)", s->path,
		 state_names[s->st]);
	close(s->fd);
	s->fd = -1;
	out_state(o, DOWN);
}

/* Writes what the sink takes, whole lines in PIPE_BUF pieces. */
static void
out_write(unsigned o, int64_t now)
{
	struct out *s = &outs[o];
	size_t off = 0, chunk;
	ssize_t k;
	char *nl;

	while (off < s->len) {
		chunk = s->len - off;
		if (chunk > PIPE_BUF) {
			nl = memrchr(s->buf + off, '\n', PIPE_BUF);
			chunk = (size_t)(nl + 1 - (s->buf + off));
		}
		if ((k = write(s->fd, s->buf + off, chunk)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == EPIPE) {
				out_down(o);
				return;
			}
			log_fatal_sys(EXIT_TEMP, "unable to write to %s",
				      s->path);
		}
		off += (size_t)k;
		s->bytes += (uint64_t)k;
	}
	if (off) {
		s->len -= off;
		memmove(s->buf, s->buf + off, s->len);
		s->stuck_since = 0;
	}
	if (s->len && !s->stuck_since)
		s->stuck_since = now;
}

/* --- input -------------------------------------------------------------- */

static void
record(const struct rec *r, int64_t now)
{
	unsigned o;

	if (set_apply(r) == -1) {
		in.bad++;
		log_warn_limited(&bad_rl,
				 "stdin: record %llu: more than %d "
				 "tags",
				 (unsigned long long)in.records, MAX_TAGS);
		return;
	}
	if (r->type == REC_MARK) {
		last_mark = r->mark;
		have_mark = 1;
		for (o = 0; o < nouts; o++)
			if (outs[o].st == SYNC)
				put_rec(o, r, 1);
		mark_in(r->mark, now);
		return;
	}
	for (o = 0; o < nouts; o++) {
		/* ipcache's replay is everybody's, whatever they had. */
		if (r->type == REC_REPLAY &&
		    (outs[o].st == WAIT || outs[o].st == REPLAY)) {
			if (outs[o].st == REPLAY)
				outs[o].len = 0; /* whole lines only */
			out_state(o, SYNC);
		}
		if (outs[o].st == SYNC || outs[o].st == REPLAY)
			put_rec(o, r, 1);
	}
	if (r->type == REC_EOR)
		for (o = 0; o < nouts; o++)
			if (outs[o].st == WAIT)
				out_state(o, REPLAY);
}

/* This turn's records (lib/recin). */
static void
input(int64_t now)
{
	enum recin_res res;
	struct rec r;
	char msg[256];

	while ((res = recin_next(&in, &r, msg, sizeof msg)) != RECIN_NONE)
		if (res == RECIN_BAD)
			log_warn_limited(&bad_rl, "%s", msg);
		else
			record(&r, now);
}

/* Cut-offs: a sink stuck too long, a sink whose acks stopped. */
static void
timers(int64_t now)
{
	unsigned o;
	uint32_t mask;

	for (o = 0; o < nouts; o++) {
		if (outs[o].fd == -1 && now >= outs[o].next_open)
			out_open(o, now);
		if (outs[o].fd != -1 && outs[o].len && outs[o].stuck_since &&
		    now - outs[o].stuck_since >= stall_ms) {
			log_warn("%s: read nothing for %lld s: cut off, the "
				 "set again once it reads",
				 outs[o].path, (long long)(stall_ms / 1000));
			outs[o].cuts++;
			n.cuts++;
			out_state(o, DROPPED);
		}
	}
	if (pcount && now - pend[phead].since >= stall_ms) {
		mask = pend[phead].mask;
		for (o = 0; o < nouts; o++)
			if (mask & (1u << o)) {
				log_warn("%s: no ack for %lld s: not waited "
					 "for until it acknowledges again",
					 outs[o].ackpath,
					 (long long)(stall_ms / 1000));
				unrequire(o);
			}
	}
}

static void
write_metrics(const char *path)
{
	unsigned o;

	n.entries = set.count;
	n.sinks_up = 0;
	for (o = 0; o < nouts; o++)
		n.sinks_up += outs[o].st == SYNC;
	if (path && metrics_write(path, "fan-out", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", path);
}

static void
stats(void)
{
	unsigned o;

	write_metrics(NULL);
	metrics_log(metrics, NMETRICS);
	for (o = 0; o < nouts; o++)
		log_info("stats: %s: %s, %zu bytes waiting, %llu replays, "
			 "%llu cut-offs, %llu bytes written%s",
			 outs[o].path, state_names[outs[o].st], outs[o].len,
			 (unsigned long long)outs[o].replays,
			 (unsigned long long)outs[o].cuts,
			 (unsigned long long)outs[o].bytes,
			 outs[o].ackfd == -1 ? ""
			 : outs[o].required  ? ", acks waited for"
					     : ", acks not waited for");
}

/* What options() and setup() leave for the loop and the exit. */
static struct {
	const char *metrics_path; /* -M, or $METRICS_FILE */
	const char *up;		  /* -A */
	int sigfd, stop;
	int64_t next_metrics;
} run;

/* Options and the sinks (OUT[:ACK]) into outs; anything bad: usage. */
static void
options(int argc, char **argv)
{
	char *c;
	int opt;

	run.metrics_path = getenv("METRICS_FILE");
	opt_init("fan-out", usage_text);
	opterr = 0;
	while ((opt = getopt(argc, argv, "A:b:t:M:hV")) != -1) {
		switch (opt) {
		case 'A':
			run.up = optarg;
			break;
		case 'b':
			limit = (size_t)opt_number(optarg, 65536, 1LL << 34,
						   "buffer limit");
			break;
		case 't':
			stall_ms =
			    opt_number(optarg, 1, 3600, "stall time") * 1000;
			break;
		case 'M':
			run.metrics_path = optarg;
			break;
		case 'h':
			opt_help();
		case 'V':
			opt_version();
		default:
			opt_bad(opt);
		}
	}
	if (optind == argc)
		opt_usage("no sink FIFO given");
	if (refill_bytes > limit / 4)
		refill_bytes = limit / 4;
	if (argc - optind > MAX_OUTS)
		opt_usage("more than %d sinks", MAX_OUTS);
	if (run.metrics_path && !*run.metrics_path)
		run.metrics_path = NULL;
	for (; optind < argc; optind++) {
		struct out *x = &outs[nouts++];

		x->path = argv[optind];
		x->fd = x->ackfd = -1;
		x->rl = (struct ratelimit)RATELIMIT_INIT;
		if ((c = strchr(x->path, ':'))) {
			*c = 0;
			x->ackpath = c + 1;
		}
		if (!*x->path || (x->ackpath && !*x->ackpath))
			opt_usage("bad sink %s (want OUT or OUT:ACK)",
				  argv[optind]);
	}
}

/* Opens the ack channels, the signals and stdin; says what it does. */
static void
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	unsigned o;

	if (run.up && (upfd = ack_open(run.up)) == -1)
		log_fatal_sys(errno == ENOTSUP ? EXIT_PERM : EXIT_TEMP,
			      "unable to open the ack channel %s", run.up);
	for (o = 0; o < nouts; o++)
		if (outs[o].ackpath) {
			if ((outs[o].ackfd = ack_open(outs[o].ackpath)) == -1)
				log_fatal_sys(
				    errno == ENOTSUP ? EXIT_PERM : EXIT_TEMP,
				    "unable to open %s", outs[o].ackpath);
			if (lr_init(&outs[o].ackr, outs[o].ackfd, 4096) == -1)
				log_fatal(EXIT_TEMP, "out of memory");
		}
	if ((run.sigfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (recin_init(&in, 0, REC_LINE_MAX * 4, RECORD_BUDGET) == -1 ||
	    pmap_init(&set) == -1 ||
	    !(pend = calloc(PENDING_MAX, sizeof *pend)))
		log_fatal(EXIT_TEMP, "out of memory");
	log_info("started: %u sinks, acks to %s, cut-off after %lld s or %zu "
		 "bytes",
		 nouts, run.up ? run.up : "nowhere",
		 (long long)(stall_ms / 1000), limit);
	run.next_metrics = clock_mono_ms();
}

/* The signals' events: USR1 stats, HUP nothing, TERM and INT stop. */
static void
signals(void)
{
	int s;

	while ((s = sig_next(run.sigfd)) > 0) {
		if (s == SIGUSR1)
			stats();
		else if (s == SIGHUP)
			log_info("SIGHUP: nothing to reload");
		else
			run.stop = 1;
	}
}

/*
 * Each sink's side of the poll (p: its pair of pollfds): gone, reading
 * again after a cut-off, or taking what waits.
 */
static void
sinks_ready(const struct pollfd *p, int64_t now)
{
	unsigned o;

	for (o = 0; o < nouts; o++) {
		short rv = p[2 * o].revents;

		if (outs[o].fd == -1)
			continue;
		if (rv & (POLLERR | POLLHUP)) {
			out_down(o);
			continue;
		}
		if (outs[o].st == DROPPED && (rv & POLLOUT))
			out_state(o, whole && !replaying ? REPLAY : WAIT);
		if (outs[o].st == REPLAY && outs[o].len < refill_bytes)
			refill(o);
		if (outs[o].len)
			out_write(o, now);
	}
}

/* One turn of the loop: timers, one poll, then what is ready. */
static void
turn(void)
{
	struct pollfd pfd[2 + 2 * MAX_OUTS];
	int64_t now, t;
	unsigned o, base;
	size_t np;
	int k;

	now = clock_mono_ms();
	timers(now);
	if (now >= run.next_metrics) {
		write_metrics(run.metrics_path);
		run.next_metrics = now + METRICS_MS;
	}
	t = run.next_metrics - now;
	if (t > RETRY_MS)
		t = RETRY_MS;
	if (recin_more(&in))
		t = 0;
	np = 0;
	pfd[np++] = (struct pollfd){run.sigfd, POLLIN, 0};
	pfd[np++] = (struct pollfd){recin_fd(&in), POLLIN, 0};
	base = (unsigned)np;
	for (o = 0; o < nouts; o++) {
		if (outs[o].st == REPLAY && outs[o].len < refill_bytes)
			refill(o);
		pfd[np++] = (struct pollfd){
		    outs[o].fd,
		    (short)(outs[o].len || outs[o].st == DROPPED ? POLLOUT : 0),
		    0};
		pfd[np++] = (struct pollfd){outs[o].ackfd, POLLIN, 0};
	}
	if (poll(pfd, (nfds_t)np, (int)(t < 0 ? 0 : t)) == -1) {
		if (errno == EINTR)
			return;
		log_fatal_sys(EXIT_TEMP, "unable to poll");
	}
	now = clock_mono_ms();
	if (pfd[0].revents)
		signals();
	for (o = 0; o < nouts; o++)
		if (pfd[base + 2 * o + 1].revents)
			read_acks(o);
	if ((k = recin_turn(&in, pfd[1].revents)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to read stdin");
	if (k)
		input(now);
	sinks_ready(pfd + base, now);
	if (recin_done(&in)) {
		log_info("end of input");
		run.stop = 1;
	}
}

/* The exit: what is buffered goes out, for a while; the exit line. */
static void
finish(void)
{
	int64_t end = clock_mono_ms() + 2000;
	unsigned o;

	for (o = 0; o < nouts; o++)
		while (outs[o].fd != -1 && outs[o].len &&
		       (outs[o].st == SYNC || outs[o].st == REPLAY) &&
		       clock_mono_ms() < end) {
			struct pollfd p = {outs[o].fd, POLLOUT, 0};

			if (poll(&p, 1, 100) > 0)
				out_write(o, clock_mono_ms());
		}
	write_metrics(run.metrics_path);
	log_info("exiting: %llu records, %u entries, %llu replays to sinks, "
		 "%llu cut-offs",
		 (unsigned long long)in.records, set.count,
		 (unsigned long long)n.replays, (unsigned long long)n.cuts);
	recin_destroy(&in);
}

int
main(int argc, char **argv)
{
	options(argc, argv);
	setup();
	while (!run.stop)
		turn();
	finish();
	return 0;
}
