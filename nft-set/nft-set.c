/*
 * nft-set: keeps nftables sets equal to ipcache's set of addresses.
 *
 * Reads ipcache's records on stdin (docs/records.md): "announce PREFIX TAG
 * NAME" adds the address to its tag's set, "withdraw" deletes it, "replay"
 * ... "eor" is the whole set: at eor the sets are read back from the kernel
 * and only the difference is changed, so a restart neither flushes a set
 * nor flaps an element. "mark N" is answered with "ack N" on the -A FIFO
 * once the kernel has confirmed every change caused by earlier records.
 * Writes nothing on stdout. Configuration: the environment (nft-set(8)).
 *
 * Elements it adds carry the comment "dnstap-bgp"; elements without it are
 * someone else's and are never deleted. Needs CAP_NET_ADMIN, nothing more.
 *
 * It follows the ruleset: when someone else deletes or creates one of its
 * tables or sets (a firewall reload's "flush ruleset") or deletes elements
 * from its sets, the kernel's notification asks for a read-back, and what
 * is missing is put back (with -c the table and sets too) at once rather
 * than at the next replay.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "cap.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "nft.h"
#include "opt.h"
#include "rec.h"
#include "sink.h"
#include "tagenv.h"

#define MAX_CLASSES 65 /* TAGS entries, plus the default */
#define MAX_DESTS (2 * MAX_CLASSES)
#define METRICS_MS 10000
/* From a notification to the read-back: long enough for the notifications
 * of a ruleset reload to cost one, short enough to go unnoticed. */
#define FOLLOW_MS 200
#define FOLLOW_LINE_MS 1000 /* at most a line a second about them */

static const char usage_text[] =
    "usage: nft-set [-c] [-A ack-fifo] [-M metrics-file]\n"
    "       nft-set -n\n"
    "  -c  create the table and sets when missing\n"
    "  -A  write 'ack N' for each 'mark N' to this FIFO\n"
    "  -n  check the configuration (environment), print it, exit\n";

struct class
{
	char tag[REC_TAG_MAX + 1]; /* "" for the default */
	uint32_t dest[2];
};

static struct nft_dest dests[MAX_DESTS];
static int missing[MAX_DESTS];
static uint32_t ndests;
static struct class classes[MAX_CLASSES];
static uint32_t nclasses;

static int resync(void *arg);
static int apply(void *arg);

static struct sink S;
static struct sink_io IO = {.apply = apply,
			    .readback = resync,
			    .noun = "elements",
			    .others = "",
			    .what = "the sets",
			    .ackfd = -1,
			    .sigfd = -1};
static struct nftk *K;
static struct nftev *E;
static int create_sets;
static struct ratelimit bad_rl = RATELIMIT_INIT, kern_rl = RATELIMIT_INIT;

static struct {
	uint64_t added, deleted, batches, refused, resyncs;
	uint64_t refreshed, ours, foreign, no_dest;
	uint64_t events, events_lost;
} n;

static const struct metric metrics[] = {
    {"records_total", NULL, METRIC_COUNTER, "Records read", &IO.in.records},
    {"bad_records_total", NULL, METRIC_COUNTER,
     "Records that did not parse or were of an unexpected type", &IO.in.bad},
    {"elements_added_total", NULL, METRIC_COUNTER, "Elements added to the sets",
     &n.added},
    {"elements_deleted_total", NULL, METRIC_COUNTER,
     "Elements deleted from the sets", &n.deleted},
    {"elements_refreshed_total", NULL, METRIC_COUNTER,
     "Element timeouts renewed", &n.refreshed},
    {"batches_total", NULL, METRIC_COUNTER, "Transactions the kernel applied",
     &n.batches},
    {"batches_refused_total", NULL, METRIC_COUNTER,
     "Transactions the kernel refused (followed by a read-back)", &n.refused},
    {"resyncs_total", NULL, METRIC_COUNTER,
     "Read-backs of the sets from the kernel", &n.resyncs},
    {"event_resyncs_total", NULL, METRIC_COUNTER,
     "Read-backs caused by the ruleset's notifications", &IO.resyncs},
    {"ruleset_events_total", NULL, METRIC_COUNTER,
     "Notifications of others' changes to the tables and sets", &n.events},
    {"ruleset_events_lost_total", NULL, METRIC_COUNTER,
     "Times notifications were lost (followed by a read-back)", &n.events_lost},
    {"acks_total", NULL, METRIC_COUNTER, "Acks written", &IO.acks},
    {"acks_dropped_total", NULL, METRIC_COUNTER,
     "Acks dropped: the channel was full", &IO.acks_dropped},
    {"no_set_total", NULL, METRIC_COUNTER,
     "Announces whose tag has no set for their address family", &n.no_dest},
    {"elements", NULL, METRIC_GAUGE, "Elements of ours in the sets", &n.ours},
    {"foreign_elements", NULL, METRIC_GAUGE,
     "Elements of others in the sets (left alone)", &n.foreign},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* --- configuration ------------------------------------------------------ */

static int
name_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len > 255)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static uint32_t
dest_add(uint8_t family, uint8_t af, const char *table, const char *set,
	 uint64_t timeout_ms)
{
	uint32_t i;

	for (i = 0; i < ndests; i++)
		if (dests[i].family == family && dests[i].af == af &&
		    !strcmp(dests[i].table, table) &&
		    !strcmp(dests[i].set, set)) {
			if (dests[i].timeout_ms != timeout_ms)
				log_fatal(EXIT_PERM,
					  "bad configuration: set "
					  "%s %s used with two TIMEOUTs",
					  table, set);
			return i;
		}
	dests[i].family = family;
	dests[i].af = af;
	snprintf(dests[i].table, sizeof dests[i].table, "%s", table);
	snprintf(dests[i].set, sizeof dests[i].set, "%s", set);
	dests[i].timeout_ms = timeout_ms;
	return ndests++;
}

static void
load_class(struct class *c, const char *tag)
{
	char var[128];
	const char *fam, *table, *set, *to, *e;
	uint8_t family;
	uint64_t timeout_ms = 0;
	int af;

	snprintf(c->tag, sizeof c->tag, "%s", tag);
	fam = tagenv(tag, "FAMILY", var, sizeof var);
	if (!fam || !strcmp(fam, "inet"))
		family = NFPROTO_INET;
	else if (!strcmp(fam, "ip"))
		family = NFPROTO_IPV4;
	else if (!strcmp(fam, "ip6"))
		family = NFPROTO_IPV6;
	else
		log_fatal(EXIT_PERM,
			  "bad configuration: %s: %s: not inet, ip "
			  "or ip6",
			  var, fam);
	if (!(table = tagenv(tag, "TABLE", var, sizeof var)))
		table = "dnstap_bgp";
	if (!name_ok(table))
		log_fatal(EXIT_PERM, "bad configuration: %s: bad table name",
			  var);
	if ((to = tagenv(tag, "TIMEOUT", var, sizeof var))) {
		timeout_ms = (uint64_t)strtonum(to, 0, 100000000, &e) * 1000;
		if (e)
			log_fatal(EXIT_PERM,
				  "bad configuration: %s: %s: %s "
				  "(seconds, 0 to 100000000)",
				  var, to, e);
	}
	for (af = 4; af <= 6; af += 2) {
		set = tagenv(tag, af == 4 ? "SET4" : "SET6", var, sizeof var);
		if (!set)
			set = af == 4 ? "addr4" : "addr6";
		c->dest[af == 6] = SINK_NO_DEST;
		if (!strcmp(set, "-") || (family == NFPROTO_IPV4 && af == 6) ||
		    (family == NFPROTO_IPV6 && af == 4))
			continue;
		if (!name_ok(set))
			log_fatal(EXIT_PERM,
				  "bad configuration: %s: bad set "
				  "name",
				  var);
		c->dest[af == 6] =
		    dest_add(family, (uint8_t)af, table, set, timeout_ms);
	}
}

static void
config_load(void)
{
	const char *p = getenv("TAGS");
	char tag[REC_TAG_MAX + 1], err[128];
	unsigned ntags = 0;
	int r;

	load_class(&classes[nclasses++], "");
	while ((r = tagenv_next(&p, tag, &ntags, MAX_CLASSES - 1, err,
				sizeof err)) == 1)
		load_class(&classes[nclasses++], tag);
	if (r == -1)
		log_fatal(EXIT_PERM, "bad configuration: %s", err);
}

static const char *
fam_name(uint8_t f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

static void
config_print(void)
{
	uint32_t i, af;
	const struct nft_dest *d;

	for (i = 0; i < nclasses; i++)
		for (af = 0; af < 2; af++) {
			printf("%s %s ", i ? classes[i].tag : "-",
			       af ? "ipv6" : "ipv4");
			if (classes[i].dest[af] == SINK_NO_DEST) {
				printf("-\n");
				continue;
			}
			d = &dests[classes[i].dest[af]];
			printf("set %s %s %s timeout %llu\n",
			       fam_name(d->family), d->table, d->set,
			       (unsigned long long)(d->timeout_ms / 1000));
		}
}

static uint32_t
dest_of(void *arg, const char *tag, int family)
{
	uint32_t i;

	(void)arg;
	for (i = 1; i < nclasses; i++)
		if (!strcmp(classes[i].tag, tag))
			return classes[i].dest[family == 6];
	return classes[0].dest[family == 6];
}

/* --- the kernel --------------------------------------------------------- */

/* The gauges, from the maps. */
static void
counts(void)
{
	n.no_dest = S.no_dest;
	sink_count(&S, &n.ours, &n.foreign);
}

/* Reads every set back: what is there, whose. 0, or -1 if one is missing. */
static int
resync(void *arg)
{
	char why[600];
	enum nftk_check c;
	uint32_t i;
	int ret = 0;

	(void)arg;
	n.resyncs++;
	sink_view_begin(&S);
	for (i = 0; i < ndests; i++) {
		c = nftk_check(K, &dests[i], create_sets, why, sizeof why);
		if (c == NFTK_WRONG)
			log_fatal(EXIT_PERM, "%s", why);
		if (c == NFTK_OK && nftk_dump(K, &dests[i], i, &S) == 0) {
			if (missing[i])
				log_info("%s: found", why);
			missing[i] = 0;
			continue;
		}
		if (errno == ENOMEM)
			log_fatal(EXIT_TEMP, "out of memory");
		if (!missing[i])
			log_warn(
			    "unable to read %s: %s%s", why, strerror(errno),
			    errno == ENOENT ? " (create it, or run with -c)"
					    : "");
		missing[i] = 1;
		ret = -1;
	}
	sink_view_end(&S);
	IO.missing = ret == -1;
	return ret;
}

/*
 * Sends every pending change, in transactions. A refused transaction
 * (someone changed the set under us) is followed by a read-back and one
 * more try. 0 when everything is applied.
 */
static int
apply(void *arg)
{
	static uint32_t *idx;
	static enum sink_op *ops;
	static size_t cap;
	enum sink_op op;
	uint32_t i, k, cnt, tries = 0;
	void *p;

	(void)arg;
	for (;;) {
		cnt = 0;
		nftk_batch_begin(K);
		while ((i = sink_next(&S, &op)) != PMAP_NONE) {
			if (missing[S.dest.e[i].id])
				continue; /* found again by the retry */
			if (cnt == cap) {
				cap = cap ? cap * 2 : 4096;
				if (!(p = realloc(idx, cap * sizeof *idx)))
					log_fatal(EXIT_TEMP, "out of memory");
				idx = p;
				if (!(p = realloc(ops, cap * sizeof *ops)))
					log_fatal(EXIT_TEMP, "out of memory");
				ops = p;
			}
			if (nftk_batch_add(K, &dests[S.dest.e[i].id], op,
					   &S.dest.e[i].p) == -1)
				log_fatal(EXIT_TEMP, "out of memory");
			idx[cnt] = i;
			ops[cnt++] = op;
			if (nftk_batch_full(K))
				break;
		}
		if (!cnt)
			return 0;
		if (nftk_batch_send(K) == 0) {
			n.batches++;
			for (k = 0; k < cnt; k++) {
				if (ops[k] == SINK_DEL)
					n.deleted++;
				else
					n.added++;
				sink_done(&S, idx[k], ops[k]);
			}
			continue;
		}
		n.refused++;
		log_warn_limited(&kern_rl,
				 "the kernel refused a transaction "
				 "of %u changes: %s; reading the sets back",
				 cnt, strerror(errno));
		if (resync(NULL) == -1 || ++tries == 2)
			return -1;
	}
}

/*
 * Renews the timeout of every element of ours in sets with TIMEOUT: a
 * delete and an add of the same elements in one transaction, which the
 * packet path sees as one change (the element never disappears).
 */
static void
refresh(void)
{
	uint32_t i, k, start, end;
	struct pmap_ent *e;

	for (start = 0; start < S.dest.n; start = end) {
		nftk_batch_begin(K);
		k = 0;
		for (end = start; end < S.dest.n && k < 4096; end++) {
			e = &S.dest.e[end];
			if (e->used && sink_have(e) == SINK_OURS &&
			    dests[e->id].timeout_ms && !missing[e->id] &&
			    nftk_batch_add(K, &dests[e->id], SINK_DEL, &e->p) ==
				0)
				k++;
		}
		for (i = start; i < end; i++) {
			e = &S.dest.e[i];
			if (e->used && sink_have(e) == SINK_OURS &&
			    dests[e->id].timeout_ms && !missing[e->id])
				(void)nftk_batch_add(K, &dests[e->id], SINK_ADD,
						     &e->p);
		}
		if (!k)
			continue;
		if (nftk_batch_send(K) == 0) {
			n.refreshed += k;
			n.batches++;
			continue;
		}
		n.refused++;
		log_warn_limited(&kern_rl,
				 "the kernel refused a timeout "
				 "renewal: %s; reading the sets back",
				 strerror(errno));
		(void)resync(NULL);
		(void)apply(NULL);
		return;
	}
}

/* --- following the ruleset --------------------------------------------- */

/* What changed under the sets since the last line about it. */
static struct {
	char what[600]; /* the first change */
	uint64_t events, resyncs;
	int64_t next_line;
} fl;

static const char *
ev_verb(int type)
{
	return type == NFT_MSG_NEWTABLE || type == NFT_MSG_NEWSET ? "created"
								  : "deleted";
}

/* A notification: a read-back soon when it is about a table or set of
 * ours (others are no concern of ours, and cost nothing). */
static void
ruleset_event(void *arg, const struct nftev_msg *m)
{
	uint32_t i;

	(void)arg;
	if (m->type != NFTEV_LOST) {
		for (i = 0; i < ndests; i++)
			if (dests[i].family == m->family &&
			    !strcmp(dests[i].table, m->table) &&
			    (m->type == NFT_MSG_NEWTABLE ||
			     m->type == NFT_MSG_DELTABLE ||
			     !strcmp(dests[i].set, m->set)))
				break;
		if (i == ndests)
			return;
		n.events++;
	} else
		n.events_lost++;
	if (!*fl.what && m->type == NFTEV_LOST)
		snprintf(fl.what, sizeof fl.what, "notifications lost");
	else if (!*fl.what && !*m->set)
		snprintf(fl.what, sizeof fl.what, "table %s %s %s",
			 fam_name(m->family), m->table, ev_verb(m->type));
	else if (!*fl.what)
		snprintf(fl.what, sizeof fl.what, "%sset %s %s %s %s",
			 m->type == NFT_MSG_DELSETELEM ? "elements of " : "",
			 fam_name(m->family), m->table, m->set,
			 ev_verb(m->type));
	sink_resync(&IO, clock_mono_ms(), FOLLOW_MS);
}

/*
 * A line about the read-backs notifications caused, at most one a second:
 * those in between are told in the next (timers() waits for it). 1 when a
 * line waits for its time.
 */
static int
follow_log(int64_t now)
{
	if (IO.resyncs == fl.resyncs)
		return 0;
	if (now < fl.next_line)
		return 1;
	counts();
	/* The names come from the kernel: log_info escapes them. */
	log_info("the ruleset changed: %s; notifications %llu, read-backs "
		 "%llu, elements of ours %llu",
		 *fl.what ? fl.what : "?",
		 (unsigned long long)(n.events - fl.events),
		 (unsigned long long)(IO.resyncs - fl.resyncs),
		 (unsigned long long)n.ours);
	fl.what[0] = 0;
	fl.events = n.events;
	fl.resyncs = IO.resyncs;
	fl.next_line = now + FOLLOW_LINE_MS;
	return 0;
}

/* --- the loop ----------------------------------------------------------- */

static const char *metrics_path, *ack_path;
static int check, stop;
static int64_t refresh_ms; /* a third of the shortest TIMEOUT, or 0 */
static int64_t next_metrics, next_refresh;

static void
write_metrics(void)
{
	counts();
	if (metrics_path &&
	    metrics_write(metrics_path, "nft-set", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", metrics_path);
}

static void
options(int argc, char **argv)
{
	int opt;

	opt_init("nft-set", usage_text);
	opterr = 0;
	metrics_path = getenv("METRICS_FILE");
	while ((opt = getopt(argc, argv, "cnA:M:hV")) != -1) {
		switch (opt) {
		case 'c':
			create_sets = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'A':
			ack_path = optarg;
			break;
		case 'M':
			metrics_path = optarg;
			break;
		case 'h':
			opt_help();
		case 'V':
			opt_version();
		default:
			opt_bad(opt);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (metrics_path && !*metrics_path)
		metrics_path = NULL;
}

static void
setup(void)
{
	char msg[512];
	uint32_t i;

	for (i = 0; i < ndests; i++)
		if (dests[i].timeout_ms &&
		    (!refresh_ms ||
		     (int64_t)dests[i].timeout_ms / 3 < refresh_ms))
			refresh_ms = (int64_t)dests[i].timeout_ms / 3;
	if (cap_effective(CAP_NET_ADMIN) == 0)
		log_fatal(EXIT_PERM, "unable to change the kernel's tables: "
				     "needs CAP_NET_ADMIN");
	if (sink_io_open(&IO, ack_path, msg, sizeof msg) == -1)
		log_fatal(errno == ENOTSUP ? EXIT_PERM : EXIT_TEMP, "%s", msg);
	if (sink_init(&S, dest_of, NULL) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	if (!(K = nftk_open()))
		log_fatal_sys(errno == EPERM ? EXIT_PERM : EXIT_TEMP,
			      "unable to open a netfilter netlink socket%s",
			      errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	/* Before the first read-back: no change after it goes unheard. */
	if (!(E = nftev_open(K)))
		log_fatal_sys(EXIT_TEMP,
			      "unable to follow the ruleset's notifications");
	/* What the sets hold now; nothing is changed before the first eor
	 * but what records ask for. */
	IO.fresh_view = resync(NULL) == 0;
	counts();
	log_info("started: %u sets, %llu elements of ours, %llu of others; "
		 "acks to %s",
		 ndests, (unsigned long long)n.ours,
		 (unsigned long long)n.foreign,
		 ack_path ? ack_path : "nowhere");
	next_metrics = clock_mono_ms();
	if (refresh_ms)
		next_refresh = next_metrics + refresh_ms;
}

/* Renewals, the metrics file, the line about read-backs; how long poll
 * may wait for them. */
static int
timers(int64_t now)
{
	int64_t t;
	int line = follow_log(now);

	if (refresh_ms && now >= next_refresh) {
		refresh();
		next_refresh = now + refresh_ms;
	}
	if (now >= next_metrics) {
		write_metrics();
		next_metrics = now + METRICS_MS;
	}
	t = next_metrics - now;
	if (refresh_ms && next_refresh - now < t)
		t = next_refresh - now;
	if (line && fl.next_line - now < t)
		t = fl.next_line - now;
	return t < 0 ? 0 : (int)t;
}

/* What lib/sink says after poll: lines to log, the stats line, the end. */
static void
events(const struct pollfd *pfd)
{
	enum sink_io_ev ev;
	char msg[256];

	while ((ev = sink_events(&S, &IO, pfd, clock_mono_ms(), msg,
				 sizeof msg)) != SINK_EV_NONE) {
		if (ev == SINK_EV_FATAL)
			log_fatal(EXIT_TEMP, "%s", msg);
		if (ev == SINK_EV_STATS) {
			counts();
			metrics_log(metrics, NMETRICS);
		} else if (ev == SINK_EV_WARN)
			log_warn_limited(&bad_rl, "%s", msg);
		else if (*msg)
			log_info("%s", msg);
		stop |= ev == SINK_EV_STOP;
	}
	(void)follow_log(clock_mono_ms());
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[3];
	int64_t now;
	int t;

	options(argc, argv);
	config_load();
	if (check) {
		config_print();
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	setup();
	while (!stop) {
		now = clock_mono_ms();
		t = sink_poll(&IO, pfd, now, timers(now));
		pfd[2] = (struct pollfd){nftev_fd(E), POLLIN, 0};
		if (poll(pfd, 3, t) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}
		if (pfd[2].revents && nftev_read(E, ruleset_event, NULL) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to read the ruleset's "
						 "notifications");
		events(pfd);
	}
	write_metrics();
	log_info("exiting: %llu records, %llu elements added, %llu deleted, "
		 "%llu elements of ours in the sets",
		 (unsigned long long)IO.in.records, (unsigned long long)n.added,
		 (unsigned long long)n.deleted, (unsigned long long)n.ours);
	nftev_close(&E);
	nftk_close(&K);
	sink_destroy(&S);
	sink_io_close(&IO);
	return 0;
}
