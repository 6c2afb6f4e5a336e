/*
 * route-sync: keeps kernel routes for ipcache's set of addresses, one
 * routing table per tag.
 *
 * Reads ipcache's records on stdin (docs/records.md): "announce PREFIX TAG
 * NAME" adds a route for the prefix in its tag's table (via a gateway, a
 * device, or a blackhole), "withdraw" deletes it, "replay" ... "eor" is the
 * whole set: at eor the tables are read back from the kernel and only the
 * difference is changed, so a restart never deletes a route only to add it
 * again. "mark N" is answered with "ack N" on the -A FIFO once the kernel
 * has confirmed every change caused by earlier records. Writes nothing on
 * stdout. Configuration: the environment (route-sync(8)).
 *
 * Its routes carry its protocol number (PROTOCOL) and the class's metric:
 * a route of another protocol is never changed or deleted. Needs
 * CAP_NET_ADMIN, nothing more.
 *
 * The kernel removes routes by itself, most without a word (IPv4 routes
 * through a link that goes down, routes via a gateway whose address goes),
 * and others may delete ours: route-sync follows the kernel's link, address
 * and route notifications and reads the tables back shortly after one that
 * may have removed routes of ours or let refused ones in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "cap.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "rec.h"
#include "rt.h"
#include "sink.h"
#include "tagenv.h"

#define MAX_CLASSES 65
#define METRICS_MS 10000
#define DEFAULT_PROTOCOL 247
#define DEFAULT_METRIC 100
/* After a notification: a burst (a link down then up, a flush of 100,000
 * routes) costs one or two read-backs. */
#define FOLLOW_DELAY_MS 200

static const char usage_text[] =
    "usage: route-sync [-A ack-fifo] [-M metrics-file]\n"
    "       route-sync -n\n"
    "  -A  write 'ack N' for each 'mark N' to this FIFO\n"
    "  -n  check the configuration (environment), print it, exit\n";

struct class
{
	char tag[REC_TAG_MAX + 1];
	uint32_t dest; /* index into dests, or SINK_NO_DEST */
};

static struct rt_dest dests[MAX_CLASSES];
static uint32_t ndests;
static struct class classes[MAX_CLASSES];
static uint32_t nclasses;
static uint8_t protocol = DEFAULT_PROTOCOL;

static int resync(void *arg);
static int apply(void *arg);

static struct sink S;
static struct sink_io IO = {.apply = apply,
			    .readback = resync,
			    .noun = "routes",
			    .others = " in their place",
			    .what = "the tables",
			    .ackfd = -1,
			    .sigfd = -1};
static struct rtk *K;
static struct ratelimit bad_rl = RATELIMIT_INIT, kern_rl = RATELIMIT_INIT;
static struct rt_changes changed; /* since the last line about them */

static struct {
	uint64_t added, deleted, replaced, refused, resyncs;
	uint64_t kernel_events, kernel_lost;
	uint64_t ours, foreign, no_dest;
} n;

static const struct metric metrics[] = {
    {"records_total", NULL, METRIC_COUNTER, "Records read", &IO.in.records},
    {"bad_records_total", NULL, METRIC_COUNTER,
     "Records that did not parse or were of an unexpected type", &IO.in.bad},
    {"routes_added_total", NULL, METRIC_COUNTER, "Routes added", &n.added},
    {"routes_deleted_total", NULL, METRIC_COUNTER, "Routes deleted",
     &n.deleted},
    {"routes_replaced_total", NULL, METRIC_COUNTER,
     "Routes of ours changed to the configured attributes", &n.replaced},
    {"routes_refused_total", NULL, METRIC_COUNTER,
     "Route changes the kernel refused", &n.refused},
    {"resyncs_total", NULL, METRIC_COUNTER,
     "Read-backs of the tables from the kernel", &n.resyncs},
    {"kernel_resyncs_total", NULL, METRIC_COUNTER,
     "Read-backs caused by the kernel's notifications", &IO.resyncs},
    {"kernel_events_total", NULL, METRIC_COUNTER,
     "Notifications that may have removed routes of ours or let refused "
     "ones in: a link came, went, went up or down, an address was added or "
     "removed, a route of ours deleted by others, notifications lost",
     &n.kernel_events},
    {"kernel_events_lost_total", NULL, METRIC_COUNTER,
     "Times the kernel's notifications overflowed route-sync's socket",
     &n.kernel_lost},
    {"acks_total", NULL, METRIC_COUNTER, "Acks written", &IO.acks},
    {"acks_dropped_total", NULL, METRIC_COUNTER,
     "Acks dropped: the channel was full", &IO.acks_dropped},
    {"no_route_total", NULL, METRIC_COUNTER,
     "Announces whose tag has no route for their address family", &n.no_dest},
    {"routes", NULL, METRIC_GAUGE, "Routes of ours in the tables", &n.ours},
    {"foreign_routes", NULL, METRIC_GAUGE,
     "Routes of others where ours would go (left alone)", &n.foreign},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* --- configuration ------------------------------------------------------ */

static void
bad(const char *var, const char *v, const char *why)
{
	log_fatal(EXIT_PERM, "bad configuration: %s: %s: %s", var, v, why);
}

/* VIA4, VIA6, DEV: only unicast routes have them. */
static const char *
gw_var(const char *tag, const char *key, uint8_t type, char *var, size_t varlen)
{
	const char *v = tagenv(tag, key, var, varlen);

	if (!v || type == RTN_UNICAST)
		return v;
	if (!strncmp(var, "TAG_", 4))
		bad(var, v,
		    "a gateway or device for a route that is not "
		    "unicast");
	return NULL;
}

static void
load_class(struct class *c, const char *tag)
{
	char var[128];
	const char *v, *e;
	struct rt_dest d = {0};
	uint32_t i;

	snprintf(c->tag, sizeof c->tag, "%s", tag);
	c->dest = SINK_NO_DEST;
	if (!(v = tagenv(tag, "TABLE", var, sizeof var)) || !strcmp(v, "-"))
		return;
	if (!strcmp(v, "main"))
		d.table = RT_TABLE_MAIN;
	else {
		d.table = (uint32_t)strtonum(v, 1, 4294967295LL, &e);
		if (e || d.table == RT_TABLE_LOCAL)
			bad(var, v, "a table number, 1 to 4294967295, not 255");
	}
	d.metric = DEFAULT_METRIC;
	if ((v = tagenv(tag, "METRIC", var, sizeof var))) {
		d.metric = (uint32_t)strtonum(v, 0, 4294967295LL, &e);
		if (e)
			bad(var, v, e);
	}
	d.type = RTN_UNICAST;
	if ((v = tagenv(tag, "TYPE", var, sizeof var))) {
		if (!strcmp(v, "unicast"))
			d.type = RTN_UNICAST;
		else if (!strcmp(v, "blackhole"))
			d.type = RTN_BLACKHOLE;
		else if (!strcmp(v, "unreachable"))
			d.type = RTN_UNREACHABLE;
		else if (!strcmp(v, "prohibit"))
			d.type = RTN_PROHIBIT;
		else
			bad(var, v,
			    "not unicast, blackhole, unreachable or "
			    "prohibit");
	}
	/* A blackhole tag ignores the default's gateway and device. */
	if ((v = gw_var(tag, "VIA4", d.type, var, sizeof var))) {
		if (inet_pton(AF_INET, v, d.gw[0]) != 1)
			bad(var, v, "not an IPv4 address");
		d.has_gw[0] = 1;
	}
	if ((v = gw_var(tag, "VIA6", d.type, var, sizeof var))) {
		if (inet_pton(AF_INET6, v, d.gw[1]) != 1)
			bad(var, v, "not an IPv6 address");
		d.has_gw[1] = 1;
	}
	if ((v = gw_var(tag, "DEV", d.type, var, sizeof var))) {
		if (strlen(v) >= IFNAMSIZ || strchr(v, '/') || strchr(v, ' '))
			bad(var, v, "not an interface name");
		snprintf(d.dev, sizeof d.dev, "%s", v);
	}
	if (d.type == RTN_UNICAST && !d.has_gw[0] && !d.has_gw[1] && !d.dev[0])
		log_fatal(EXIT_PERM,
			  "bad configuration: %s: a unicast route "
			  "needs VIA4, VIA6 or DEV",
			  tag[0] ? tag : "default");
	for (i = 0; i < ndests; i++) {
		if (dests[i].table != d.table || dests[i].metric != d.metric)
			continue;
		if (memcmp(&dests[i], &d, sizeof d))
			log_fatal(
			    EXIT_PERM,
			    "bad configuration: %s: table %u "
			    "metric %u is already used by another tag with "
			    "other routes (give it another METRIC)",
			    tag[0] ? tag : "default", d.table, d.metric);
		c->dest = i;
		return;
	}
	dests[ndests] = d;
	c->dest = ndests++;
}

static void
config_load(void)
{
	const char *p = getenv("TAGS"), *v, *e;
	char tag[REC_TAG_MAX + 1], err[128];
	unsigned ntags = 0;
	int r;

	if ((v = getenv("PROTOCOL")) && *v) {
		protocol = (uint8_t)strtonum(v, 1, 255, &e);
		if (e || protocol <= 4)
			bad("PROTOCOL", v,
			    "a number, 5 to 255 (see "
			    "/etc/iproute2/rt_protos)");
	}
	load_class(&classes[nclasses++], "");
	while ((r = tagenv_next(&p, tag, &ntags, MAX_CLASSES - 1, err,
				sizeof err)) == 1)
		load_class(&classes[nclasses++], tag);
	if (r == -1)
		log_fatal(EXIT_PERM, "bad configuration: %s", err);
	if (!ndests)
		log_fatal(EXIT_PERM, "bad configuration: no TABLE set: no "
				     "route would be made");
}

static const char *
type_name(uint8_t t)
{
	return t == RTN_BLACKHOLE     ? "blackhole"
	       : t == RTN_UNREACHABLE ? "unreachable"
	       : t == RTN_PROHIBIT    ? "prohibit"
				      : "unicast";
}

static void
config_print(void)
{
	char a[INET6_ADDRSTRLEN];
	const struct rt_dest *d;
	uint32_t i;

	printf("protocol %u\n", protocol);
	for (i = 0; i < nclasses; i++) {
		printf("%s ", i ? classes[i].tag : "-");
		if (classes[i].dest == SINK_NO_DEST) {
			printf("-\n");
			continue;
		}
		d = &dests[classes[i].dest];
		printf("table %u metric %u %s", d->table, d->metric,
		       type_name(d->type));
		if (d->has_gw[0])
			printf(" via %s",
			       inet_ntop(AF_INET, d->gw[0], a, sizeof a));
		if (d->has_gw[1])
			printf(" via %s",
			       inet_ntop(AF_INET6, d->gw[1], a, sizeof a));
		if (d->dev[0])
			printf(" dev %s", d->dev);
		printf("\n");
	}
}

static uint32_t
dest_of(void *arg, const char *tag, int family)
{
	const struct rt_dest *d;
	uint32_t i, c = 0;

	(void)arg;
	for (i = 1; i < nclasses; i++)
		if (!strcmp(classes[i].tag, tag))
			c = i;
	if (classes[c].dest == SINK_NO_DEST)
		return SINK_NO_DEST;
	d = &dests[classes[c].dest];
	/* A unicast route of this family needs a gateway of it or a device. */
	if (d->type == RTN_UNICAST && !d->dev[0] && !d->has_gw[family == 6])
		return SINK_NO_DEST;
	return classes[c].dest;
}

/* --- the kernel --------------------------------------------------------- */

/* The gauges, from the maps. */
static void
counts(void)
{
	n.no_dest = S.no_dest;
	sink_count(&S, &n.ours, &n.foreign);
}

/* The devices' indices now (a device may come and go, e.g. a tunnel). */
static int
devices(void)
{
	uint32_t i, idx;
	int ret = 0;

	for (i = 0; i < ndests; i++) {
		if (!dests[i].dev[0])
			continue;
		idx = if_nametoindex(dests[i].dev);
		if (!idx && dests[i].oif != UINT32_MAX)
			log_warn("device %s: %s (its routes wait for it)",
				 dests[i].dev, strerror(errno));
		else if (idx && dests[i].oif == UINT32_MAX)
			log_info("device %s: found", dests[i].dev);
		dests[i].oif = idx ? idx : UINT32_MAX;
		if (!idx)
			ret = -1;
	}
	return ret;
}

/* Appends ", " and a piece to what. */
static void __attribute__((format(printf, 3, 4)))
piece(char *what, size_t size, const char *fmt, ...)
{
	size_t len = strlen(what);
	va_list ap;

	if (len && len + 2 < size) {
		memcpy(what + len, ", ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(what + len, size - len, fmt, ap);
	va_end(ap);
}

/*
 * A line for a read-back the kernel's notifications caused, at most 5 in
 * 10 s (a flapping link), each saying all that changed since the last.
 */
static void
changes_line(void)
{
	static int64_t last;
	static int tokens = 5;
	static uint64_t readbacks;
	int64_t now = clock_mono_ms();
	char what[256] = "", more[64] = "";

	readbacks++;
	if (now - last >= 10000) {
		tokens = 5;
		last = now;
	}
	if (!tokens)
		return;
	tokens--;
	if (changed.links == 1)
		piece(what, sizeof what, "link %s %s", changed.link,
		      changed.state);
	else if (changed.links)
		piece(what, sizeof what,
		      "%llu link changes, the last link %s %s",
		      (unsigned long long)changed.links, changed.link,
		      changed.state);
	if (changed.addrs)
		piece(what, sizeof what, "%llu address%s added or removed",
		      (unsigned long long)changed.addrs,
		      changed.addrs == 1 ? "" : "es");
	if (changed.deleted)
		piece(what, sizeof what,
		      "%llu route%s of ours deleted by others",
		      (unsigned long long)changed.deleted,
		      changed.deleted == 1 ? "" : "s");
	if (changed.lost)
		piece(what, sizeof what, "notifications lost");
	if (readbacks > 1)
		snprintf(more, sizeof more,
			 " (%llu read-backs since the last such line)",
			 (unsigned long long)readbacks);
	log_info("kernel changed (%s): reading the tables back%s", what, more);
	memset(&changed, 0, sizeof changed);
	readbacks = 0;
}

static int
resync(void *arg)
{
	static uint64_t kernel_resyncs;

	(void)arg;
	n.resyncs++;
	if (IO.resyncs != kernel_resyncs) {
		kernel_resyncs = IO.resyncs;
		changes_line();
	}
	IO.missing = devices() == -1;
	sink_view_begin(&S);
	if (rtk_dump(K, dests, ndests, &S) == -1) {
		if (errno == ENOMEM)
			log_fatal(EXIT_TEMP, "out of memory");
		log_fatal_sys(EXIT_TEMP, "unable to read the routing tables");
	}
	sink_view_end(&S);
	return IO.missing ? -1 : 0;
}

/* Refusals of a route whose link or gateway is not there (yet). */
static int
link_refusal(int e)
{
	return e == ENETDOWN || e == ENETUNREACH || e == EHOSTUNREACH ||
	       e == ENODEV;
}

/*
 * Sends every pending change. Changes the kernel refused stay undone and
 * are tried again at the next read-back (a replay, SIGHUP, a link or an
 * address that changed, or after an add met a route already there). 0
 * when everything is applied.
 */
static int
apply(void *arg)
{
	static uint32_t idx[512];
	static enum sink_op ops[512];
	static uint8_t ok[512];
	enum sink_op op;
	uint32_t i, k, cnt;
	int failed, exists, firsterr, ret = 0, again = 0;
	char a[INET6_ADDRSTRLEN + 4];

	(void)arg;
	for (;;) {
		cnt = 0;
		rtk_batch_begin(K);
		while ((i = sink_next(&S, &op)) != PMAP_NONE) {
			if (dests[S.dest.e[i].id].oif == UINT32_MAX) {
				ret = -1; /* its device is missing */
				continue;
			}
			rtk_batch_add(K, &dests[S.dest.e[i].id], op,
				      &S.dest.e[i].p);
			idx[cnt] = i;
			ops[cnt++] = op;
			if (rtk_batch_full(K))
				break;
		}
		if (!cnt)
			break;
		if ((failed = rtk_batch_send(K, ok, &exists, &firsterr)) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to read the kernel's "
						 "answers");
		for (k = 0; k < cnt; k++) {
			if (!ok[k]) {
				n.refused++;
				continue;
			}
			if (ops[k] == SINK_DEL)
				n.deleted++;
			else if (ops[k] == SINK_REPLACE)
				n.replaced++;
			else
				n.added++;
			sink_done(&S, idx[k], ops[k]);
		}
		if (failed) {
			ret = -1;
			again |= exists;
			if (firsterr) {
				for (k = 0; k < cnt && ok[k]; k++)
					;
				rec_addr_format(
				    a, sizeof a,
				    &S.dest.e[idx[k < cnt ? k : 0]].p, 1);
				log_warn_limited(
				    &kern_rl,
				    "the kernel refused "
				    "%d route changes (first: %s): %s%s",
				    failed, a, strerror(firsterr),
				    link_refusal(firsterr)
					? " (tried again when a link or an "
					  "address changes)"
					: "");
			}
		}
	}
	/* Someone else's route was there: read back, leave it alone. */
	if (again) {
		(void)resync(NULL);
		ret = apply(NULL);
	}
	return ret;
}

/* --- the loop ----------------------------------------------------------- */

static const char *metrics_path, *ack_path;
static int check, stop;
static int64_t next_metrics;

static void
write_metrics(void)
{
	counts();
	if (metrics_path &&
	    metrics_write(metrics_path, "route-sync", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", metrics_path);
}

static void
options(int argc, char **argv)
{
	int opt;

	opt_init("route-sync", usage_text);
	opterr = 0;
	metrics_path = getenv("METRICS_FILE");
	while ((opt = getopt(argc, argv, "nA:M:hV")) != -1) {
		switch (opt) {
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

	if (cap_effective(CAP_NET_ADMIN) == 0)
		log_fatal(EXIT_PERM, "unable to change the kernel's tables: "
				     "needs CAP_NET_ADMIN");
	if (sink_io_open(&IO, ack_path, msg, sizeof msg) == -1)
		log_fatal(errno == ENOTSUP ? EXIT_PERM : EXIT_TEMP, "%s", msg);
	if (sink_init(&S, dest_of, NULL) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	if (!(K = rtk_open(protocol)))
		log_fatal_sys(errno == EPERM ? EXIT_PERM : EXIT_TEMP,
			      "unable to open a routing netlink socket%s",
			      errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	if (rtk_follow(K) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to follow the kernel's "
					 "link, address and route changes");
	IO.fresh_view = resync(NULL) == 0;
	counts();
	log_info("started: protocol %u, %u route classes, %llu routes of ours "
		 "in the tables; acks to %s",
		 protocol, ndests, (unsigned long long)n.ours,
		 ack_path ? ack_path : "nowhere");
	next_metrics = clock_mono_ms();
}

/* The metrics file; how long poll may wait for it. */
static int
timers(int64_t now)
{
	if (now >= next_metrics) {
		write_metrics();
		next_metrics = now + METRICS_MS;
	}
	return next_metrics - now < 0 ? 0 : (int)(next_metrics - now);
}

/* The kernel's notifications: a read-back soon when one may have removed
 * routes of ours or let refused ones in. */
static void
follow(short revents)
{
	uint64_t events = changed.events, lost = changed.lost;
	int r;

	if (!revents)
		return;
	if ((r = rtk_changes(K, dests, ndests, &changed)) == -1) {
		if (errno == ENOMEM)
			log_fatal(EXIT_TEMP, "out of memory");
		log_fatal_sys(EXIT_TEMP,
			      "unable to read the kernel's notifications");
	}
	n.kernel_events += changed.events - events;
	n.kernel_lost += changed.lost - lost;
	if (r) {
		IO.fresh_view = 0; /* the first eor reads back too */
		sink_resync(&IO, clock_mono_ms(), FOLLOW_DELAY_MS);
	}
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
		pfd[2] = (struct pollfd){rtk_follow_fd(K), POLLIN, 0};
		if (poll(pfd, 3, t) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}
		follow(pfd[2].revents);
		events(pfd);
	}
	write_metrics();
	log_info("exiting: %llu records, %llu routes added, %llu deleted, "
		 "%llu routes of ours in the tables",
		 (unsigned long long)IO.in.records, (unsigned long long)n.added,
		 (unsigned long long)n.deleted, (unsigned long long)n.ours);
	rtk_close(&K);
	sink_destroy(&S);
	sink_io_close(&IO);
	return 0;
}
